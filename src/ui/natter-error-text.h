/* natter-error-text.h — what a failed answer tells the user to do
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *natter_error_text_hint (const GError *error,
                              const char   *base_url);

G_END_DECLS
