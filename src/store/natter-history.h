/* natter-history.h — the saved conversations, most recent first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "natter-conversation.h"
#include "natter-store.h"

G_BEGIN_DECLS

/* --- A search result ------------------------------------------------------- */

#define NATTER_TYPE_SEARCH_RESULT (natter_search_result_get_type ())
G_DECLARE_FINAL_TYPE (NatterSearchResult, natter_search_result, NATTER, SEARCH_RESULT, GObject)

NatterConversation *natter_search_result_get_conversation (NatterSearchResult *self);
guint               natter_search_result_get_position     (NatterSearchResult *self);
const char         *natter_search_result_get_snippet      (NatterSearchResult *self);

/* --- The history ------------------------------------------------------------- */

#define NATTER_TYPE_HISTORY (natter_history_get_type ())
G_DECLARE_FINAL_TYPE (NatterHistory, natter_history, NATTER, HISTORY, GObject)

NatterHistory      *natter_history_new             (NatterStore         *store,
                                                    GError             **error);
NatterStore        *natter_history_get_store       (NatterHistory       *self);

NatterConversation *natter_history_create          (NatterHistory       *self);
gboolean            natter_history_open            (NatterHistory       *self,
                                                    NatterConversation  *conversation,
                                                    GError             **error);
NatterConversation *natter_history_lookup          (NatterHistory       *self,
                                                    gint64               id);
NatterConversation *natter_history_add             (NatterHistory       *self,
                                                    NatterConversation  *conversation,
                                                    GError             **error);

void                natter_history_remove          (NatterHistory       *self,
                                                    NatterConversation  *conversation);
void                natter_history_undo_remove     (NatterHistory       *self,
                                                    NatterConversation  *conversation);
void                natter_history_commit_removal  (NatterHistory       *self,
                                                    NatterConversation  *conversation);
void                natter_history_commit_removals (NatterHistory       *self);

GListModel         *natter_history_search          (NatterHistory       *self,
                                                    const char          *text,
                                                    GError             **error);
void                natter_history_flush           (NatterHistory       *self);

G_END_DECLS
