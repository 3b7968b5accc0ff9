/* natter-message-row.h — one message in the conversation view
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "natter-message.h"

G_BEGIN_DECLS

#define NATTER_TYPE_MESSAGE_ROW (natter_message_row_get_type ())
G_DECLARE_FINAL_TYPE (NatterMessageRow, natter_message_row, NATTER, MESSAGE_ROW, GtkWidget)

GtkWidget     *natter_message_row_new              (void);
NatterMessage *natter_message_row_get_message      (NatterMessageRow *self);
void           natter_message_row_set_message      (NatterMessageRow *self,
                                                    NatterMessage    *message);
void           natter_message_row_set_base_url     (NatterMessageRow *self,
                                                    const char       *base_url);
GtkTextBuffer *natter_message_row_get_content_buffer   (NatterMessageRow *self);
GtkTextBuffer *natter_message_row_get_reasoning_buffer (NatterMessageRow *self);
void           natter_message_row_flush            (NatterMessageRow *self);

G_END_DECLS
