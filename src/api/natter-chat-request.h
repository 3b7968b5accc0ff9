/* natter-chat-request.h — the body of one /chat/completions call
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define NATTER_TYPE_CHAT_REQUEST (natter_chat_request_get_type ())
G_DECLARE_FINAL_TYPE (NatterChatRequest, natter_chat_request, NATTER, CHAT_REQUEST, GObject)

NatterChatRequest *natter_chat_request_new             (const char        *model);
const char        *natter_chat_request_get_model       (NatterChatRequest *self);
void               natter_chat_request_set_model       (NatterChatRequest *self,
                                                        const char        *model);
double             natter_chat_request_get_temperature (NatterChatRequest *self);
void               natter_chat_request_set_temperature (NatterChatRequest *self,
                                                        double             temperature);
guint              natter_chat_request_get_max_tokens  (NatterChatRequest *self);
void               natter_chat_request_set_max_tokens  (NatterChatRequest *self,
                                                        guint              max_tokens);
void               natter_chat_request_add_message     (NatterChatRequest *self,
                                                        const char        *role,
                                                        const char        *content);
guint              natter_chat_request_get_n_messages  (NatterChatRequest *self);
GBytes            *natter_chat_request_to_json         (NatterChatRequest *self);

G_END_DECLS
