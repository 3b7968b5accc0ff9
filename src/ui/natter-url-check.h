/* natter-url-check.h — what to tell the user about a base URL they type
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char     *natter_url_check_hint  (const char *base_url);
char     *natter_url_check_fix   (const char *base_url);
gboolean  natter_url_is_insecure (const char *base_url);

G_END_DECLS
