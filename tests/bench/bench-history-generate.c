/* bench-history-generate.c — writes a big history for bench-history
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: bench-history-generate [--replace] PATH [CONVERSATIONS [MESSAGES [BIG [BIG_SIZE]]]]
 *
 * By default 10,000 conversations and 1,000,000 messages, ten of the
 * conversations with 2,000 messages each (the ones bench-history switches
 * to): a 650 MB file, in two minutes or so.  PATH must not exist, unless
 * --replace is given (as the build does for its copy): a history is never
 * overwritten by mistake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>

#include "bench-common.h"
#include "bench-history-data.h"

static guint
arg (int argc, char *argv[], int i, guint fallback)
{
  return argc > i ? (guint) g_ascii_strtoull (argv[i], NULL, 10) : fallback;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  gboolean replace = argc > 1 && strcmp (argv[1], "--replace") == 0;
  guint n_conversations;
  guint n_messages, n_big, big_size;
  double start = bench_wall ();

  if (replace)
    {
      argv[1] = argv[0];
      argv++;
      argc--;
    }
  if (argc < 2)
    {
      fprintf (stderr, "Usage: %s [--replace] PATH [CONVERSATIONS [MESSAGES [BIG [BIG_SIZE]]]]\n", argv[0]);
      return 2;
    }
  n_conversations = arg (argc, argv, 2, 10000);
  n_messages = arg (argc, argv, 3, 1000000);
  n_big = arg (argc, argv, 4, 10);
  big_size = arg (argc, argv, 5, 2000);
  if (replace)
    for (guint i = 0; i < 3; i++)
      {
        g_autofree char *file = g_strconcat (argv[1], (const char *[]) { "", "-wal", "-shm" }[i], NULL);
        g_unlink (file);
      }
  if (!bench_history_generate (argv[1], n_conversations, n_messages, n_big, big_size, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  printf ("# %s: %u conversations, %u messages (%u of %u), in %.0f s\n",
          argv[1], n_conversations, n_messages, n_big, big_size, bench_wall () - start);
  return 0;
}
