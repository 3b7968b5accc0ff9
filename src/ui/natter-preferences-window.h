/* natter-preferences-window.h — providers, conversation defaults, network, appearance
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "natter-key-store.h"
#include "natter-provider-list.h"

G_BEGIN_DECLS

#define NATTER_TYPE_PREFERENCES_WINDOW (natter_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (NatterPreferencesWindow, natter_preferences_window, NATTER, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

GtkWidget *natter_preferences_window_new                (GSettings          *settings,
                                                         NatterProviderList *providers,
                                                         NatterKeyStore     *keys);
void       natter_preferences_window_apply_color_scheme (GSettings          *settings);

G_END_DECLS
