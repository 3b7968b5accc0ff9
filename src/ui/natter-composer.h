/* natter-composer.h — where the user writes the next message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define NATTER_TYPE_COMPOSER (natter_composer_get_type ())
G_DECLARE_FINAL_TYPE (NatterComposer, natter_composer, NATTER, COMPOSER, GtkWidget)

GtkWidget *natter_composer_new           (void);
char      *natter_composer_dup_text      (NatterComposer *self);
void       natter_composer_set_text      (NatterComposer *self,
                                          const char     *text);
gboolean   natter_composer_is_empty      (NatterComposer *self);
gboolean   natter_composer_get_streaming (NatterComposer *self);
void       natter_composer_set_streaming (NatterComposer *self,
                                          gboolean        streaming);
GtkWidget *natter_composer_get_text_view (NatterComposer *self);

G_END_DECLS
