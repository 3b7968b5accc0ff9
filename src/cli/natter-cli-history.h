/* natter-cli-history.h — natter-cli history [search TEXT]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "natter-store.h"

G_BEGIN_DECLS

NatterStore *natter_cli_history_open_store    (gboolean      create,
                                               GError      **error);
gboolean     natter_cli_history_print_list    (NatterStore  *store,
                                               gboolean      json,
                                               GError      **error);
gboolean     natter_cli_history_print_matches (NatterStore  *store,
                                               const char   *text,
                                               gboolean      json,
                                               GError      **error);

G_END_DECLS
