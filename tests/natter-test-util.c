/* natter-test-util.c — small helpers the test programs share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>

#include "natter-test-util.h"

/* Deletes a test's temporary folder and everything in it. */
void
natter_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        natter_test_remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the default main context for @ms milliseconds. */
void
natter_test_iterate_for (guint ms)
{
  gboolean over = FALSE;

  g_timeout_add (ms, set_flag_cb, &over);
  while (!over)
    g_main_context_iteration (NULL, TRUE);
}
