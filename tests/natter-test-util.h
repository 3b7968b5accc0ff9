/* natter-test-util.h — small helpers the test programs share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void natter_test_remove_tree (const char *path);
void natter_test_iterate_for (guint       ms);

G_END_DECLS
