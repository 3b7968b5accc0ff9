/* natter-sidebar.h — the conversations, and search across them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "natter-history.h"

G_BEGIN_DECLS

/* The position given with a conversation that is opened as a whole. */
#define NATTER_SIDEBAR_NO_POSITION G_MAXUINT

#define NATTER_TYPE_SIDEBAR (natter_sidebar_get_type ())
G_DECLARE_FINAL_TYPE (NatterSidebar, natter_sidebar, NATTER, SIDEBAR, GtkWidget)

void       natter_sidebar_set_history   (NatterSidebar      *self,
                                         NatterHistory      *history);
void       natter_sidebar_select        (NatterSidebar      *self,
                                         NatterConversation *conversation);
void       natter_sidebar_start_search  (NatterSidebar      *self);
char      *natter_sidebar_markup_for_snippet (const char    *snippet);

GtkWidget *natter_sidebar_get_conversation_list (NatterSidebar *self);
GtkWidget *natter_sidebar_get_result_list       (NatterSidebar *self);
GtkWidget *natter_sidebar_get_search_entry      (NatterSidebar *self);

G_END_DECLS
