/* natter-chat-view.h — the messages of one conversation, scrolling
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "natter-conversation.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CHAT_VIEW (natter_chat_view_get_type ())
G_DECLARE_FINAL_TYPE (NatterChatView, natter_chat_view, NATTER, CHAT_VIEW, GtkWidget)

GtkWidget          *natter_chat_view_new                (void);
NatterConversation *natter_chat_view_get_conversation   (NatterChatView     *self);
void                natter_chat_view_set_conversation   (NatterChatView     *self,
                                                         NatterConversation *conversation);
void                natter_chat_view_set_base_url       (NatterChatView     *self,
                                                         const char         *base_url);
gboolean            natter_chat_view_get_following      (NatterChatView     *self);
void                natter_chat_view_scroll_to_bottom   (NatterChatView     *self);
void                natter_chat_view_scroll_to_message  (NatterChatView     *self,
                                                         guint               position);
GtkAdjustment      *natter_chat_view_get_vadjustment    (NatterChatView     *self);

G_END_DECLS
