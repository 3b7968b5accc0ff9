/* natter-environment.h — the provider set in the environment
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *natter_environment_get_base_url (void);
char *natter_environment_get_api_key  (void);
char *natter_environment_get_model    (void);

void  natter_environment_init_i18n    (void);

G_END_DECLS
