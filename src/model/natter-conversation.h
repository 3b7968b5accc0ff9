/* natter-conversation.h — a list of messages, and sending the next one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "natter-chat-request.h"
#include "natter-client.h"
#include "natter-message.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CONVERSATION (natter_conversation_get_type ())
G_DECLARE_FINAL_TYPE (NatterConversation, natter_conversation, NATTER, CONVERSATION, GObject)

NatterConversation *natter_conversation_new               (void);

gint64              natter_conversation_get_id            (NatterConversation   *self);
void                natter_conversation_set_id            (NatterConversation   *self,
                                                           gint64                id);
const char         *natter_conversation_get_title         (NatterConversation   *self);
void                natter_conversation_set_title         (NatterConversation   *self,
                                                           const char           *title);
const char         *natter_conversation_get_system_prompt (NatterConversation   *self);
void                natter_conversation_set_system_prompt (NatterConversation   *self,
                                                           const char           *system_prompt);
double              natter_conversation_get_temperature   (NatterConversation   *self);
void                natter_conversation_set_temperature   (NatterConversation   *self,
                                                           double                temperature);
guint               natter_conversation_get_max_tokens    (NatterConversation   *self);
void                natter_conversation_set_max_tokens    (NatterConversation   *self,
                                                           guint                 max_tokens);
gboolean            natter_conversation_is_streaming      (NatterConversation   *self);

void                natter_conversation_append            (NatterConversation   *self,
                                                           NatterMessage        *message);
void                natter_conversation_append_all        (NatterConversation   *self,
                                                           GPtrArray            *messages);
NatterMessage      *natter_conversation_get_message       (NatterConversation   *self,
                                                           guint                 position);
void                natter_conversation_truncate          (NatterConversation   *self,
                                                           guint                 n_items_to_keep);
NatterChatRequest  *natter_conversation_build_request     (NatterConversation   *self,
                                                           const char           *model);

void                natter_conversation_send_async        (NatterConversation   *self,
                                                           NatterClient         *client,
                                                           const char           *model,
                                                           const char           *text,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
NatterMessage      *natter_conversation_send_finish       (NatterConversation   *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);
void                natter_conversation_retry_async       (NatterConversation   *self,
                                                           NatterClient         *client,
                                                           const char           *model,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
NatterMessage      *natter_conversation_retry_finish      (NatterConversation   *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

void                natter_conversation_regenerate_async  (NatterConversation   *self,
                                                           NatterClient         *client,
                                                           const char           *model,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
void                natter_conversation_edit_async        (NatterConversation   *self,
                                                           NatterClient         *client,
                                                           const char           *model,
                                                           guint                 position,
                                                           const char           *text,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean            natter_conversation_can_continue      (NatterConversation   *self);
void                natter_conversation_continue_async    (NatterConversation   *self,
                                                           NatterClient         *client,
                                                           const char           *model,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
void                natter_conversation_stop              (NatterConversation   *self);

char               *natter_conversation_title_for_text    (const char           *text);

G_END_DECLS
