/* natter-window.h — the main window: one conversation and its composer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "natter-client.h"
#include "natter-conversation.h"
#include "natter-history.h"

G_BEGIN_DECLS

#define NATTER_TYPE_WINDOW (natter_window_get_type ())
G_DECLARE_FINAL_TYPE (NatterWindow, natter_window, NATTER, WINDOW, AdwApplicationWindow)

NatterWindow       *natter_window_new              (GtkApplication *application,
                                                    NatterClient   *client,
                                                    const char     *model);
NatterClient       *natter_window_get_client       (NatterWindow   *self);
void                natter_window_set_provider     (NatterWindow   *self,
                                                    NatterClient   *client,
                                                    const char     *model);
void                natter_window_set_note         (NatterWindow   *self,
                                                    const char     *note);
void                natter_window_show_problem     (NatterWindow   *self,
                                                    const char     *text);
void                natter_window_add_menu_section (NatterWindow   *self,
                                                    const char     *label,
                                                    GMenuModel     *section);
NatterConversation *natter_window_get_conversation (NatterWindow   *self);
void                natter_window_set_history      (NatterWindow   *self,
                                                    NatterHistory  *history);
gboolean            natter_window_import           (NatterWindow   *self,
                                                    const char     *json,
                                                    gsize           length);
GtkWidget          *natter_window_get_sidebar      (NatterWindow   *self);
const char         *natter_window_get_model        (NatterWindow   *self);
GtkWidget          *natter_window_get_composer     (NatterWindow   *self);
GtkWidget          *natter_window_get_chat_view    (NatterWindow   *self);
GtkWidget          *natter_window_get_conversation_popover (NatterWindow *self);

G_END_DECLS
