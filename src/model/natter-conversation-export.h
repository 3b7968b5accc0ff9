/* natter-conversation-export.h — a conversation as Markdown or JSON, and back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "natter-conversation.h"

G_BEGIN_DECLS

#define NATTER_CONVERSATION_IMPORT_ERROR (natter_conversation_import_error_quark ())

typedef enum {
  NATTER_CONVERSATION_IMPORT_ERROR_INVALID,       /* not JSON, not ours, or a field of the wrong kind */
  NATTER_CONVERSATION_IMPORT_ERROR_NEWER_VERSION, /* written by a newer Natter */
} NatterConversationImportError;

GQuark              natter_conversation_import_error_quark (void);

char               *natter_conversation_to_markdown        (NatterConversation  *conversation);
char               *natter_conversation_to_json            (NatterConversation  *conversation);
NatterConversation *natter_conversation_new_from_json      (const char          *json,
                                                            gssize               length,
                                                            GError             **error);

G_END_DECLS
