/* natter-autosave.h — keeps one conversation saved while it changes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "natter-conversation.h"
#include "natter-store.h"

G_BEGIN_DECLS

/* At most this long passes between a streaming answer's text arriving and
 * it being in the database. */
#define NATTER_AUTOSAVE_CHECKPOINT_MS 500

#define NATTER_TYPE_AUTOSAVE (natter_autosave_get_type ())
G_DECLARE_FINAL_TYPE (NatterAutosave, natter_autosave, NATTER, AUTOSAVE, GObject)

NatterAutosave     *natter_autosave_new              (NatterStore        *store,
                                                      NatterConversation *conversation,
                                                      GArray             *message_ids);
NatterConversation *natter_autosave_get_conversation (NatterAutosave     *self);
void                natter_autosave_flush            (NatterAutosave     *self);

G_END_DECLS
