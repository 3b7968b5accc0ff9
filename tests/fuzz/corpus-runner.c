/* corpus-runner.c — replays a fuzz corpus without libFuzzer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   fuzz-<name> FILE|DIRECTORY…
 *
 * Calls the target's LLVMFuzzerTestOneInput on each file given and on each
 * file of each directory given, in name order, and reports each as a TAP
 * case.  Each input is handed over in a buffer of its exact size, so that a
 * sanitizer build catches a read past its end.  A target that finds a wrong
 * result aborts: the case it was running is named just before.
 */
#include <gio/gio.h>
#include <string.h>

#include "fuzz-common.h"

/* Targets that need no set-up do not define it. */
int LLVMFuzzerInitialize (int *argc, char ***argv) __attribute__ ((weak));

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
add_directory (GPtrArray  *files,
               const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      exit (1);
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (files, g_build_filename (path, g_ptr_array_index (names, i), NULL));
}

static void
run_file (guint       number,
          const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree guint8 *copy = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      printf ("not ok %u - %s\n", number, error->message);
      return;
    }
  /* Flushed before the run, so that a crash names its input. */
  printf ("# %s (%" G_GSIZE_FORMAT " bytes)\n", path, length);
  fflush (stdout);
  copy = g_memdup2 (contents, length);
  LLVMFuzzerTestOneInput (copy, length);
  printf ("ok %u - %s\n", number, path);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE|DIRECTORY…\n", argv[0]);
      return 2;
    }
  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize (&argc, &argv);

  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        add_directory (files, argv[i]);
      else
        g_ptr_array_add (files, g_strdup (argv[i]));
    }
  if (files->len == 0)
    {
      printf ("Bail out! no inputs\n");
      return 1;
    }

  printf ("1..%u\n", files->len);
  for (guint i = 0; i < files->len; i++)
    run_file (i + 1, g_ptr_array_index (files, i));
  return 0;
}
