/* bench-startup.c — from exec to Natter's first frame
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Budgets (issue 7), on Xvfb, warm cache:
 *
 *  - start to first frame < 200 ms, with an empty history;
 *  - window open < 300 ms with a history of 10,000 conversations and
 *    1,000,000 messages (when its file is given; bench-history breaks that
 *    time down).
 *
 * The real natter binary is started with NATTER_BENCH_FIRST_FRAME set: its
 * window prints g_get_monotonic_time() when it has painted its first frame,
 * and Natter quits (src/ui/natter-window.c).  The time is taken from just
 * before posix_spawn(), on the same clock (CLOCK_MONOTONIC).  The provider
 * comes from the environment (NATTER_BASE_URL, the fake provider in its own
 * process), as for a user who has one set up; the first start is not
 * counted (cold caches, and it creates the history file).
 *
 * Usage: bench-startup [RUNS [DATABASE]]
 * (DATABASE is made first if there is no such file.)
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "bench-common.h"
#include "bench-history-data.h"

extern char **environ;

/* Starts natter with @data_home as XDG_DATA_HOME; returns the time from
 * exec to its first frame, in ms, or -1, and its CPU time (to its exit,
 * just after) in @cpu_ms. */
static double
start_once (const char *data_home,
            const char *url,
            double     *cpu_ms)
{
  struct rusage usage;
  g_auto(GStrv) envp = g_get_environ ();
  const char *argv[] = { BENCH_NATTER_APP_PATH, NULL };
  posix_spawn_file_actions_t actions;
  char buffer[256] = "";
  gsize length = 0;
  int pipe_fds[2];
  gint64 start, frame = 0;
  pid_t pid;
  int status;

  envp = g_environ_setenv (envp, "NATTER_BENCH_FIRST_FRAME", "1", TRUE);
  envp = g_environ_setenv (envp, "XDG_DATA_HOME", data_home, TRUE);
  envp = g_environ_setenv (envp, "NATTER_BASE_URL", url, TRUE);
  envp = g_environ_setenv (envp, "NATTER_API_KEY", "bench", TRUE);
  envp = g_environ_setenv (envp, "NATTER_MODEL", "natter-fake-1", TRUE);

  if (pipe (pipe_fds) != 0)
    return -1;
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose (&actions, pipe_fds[0]);
  start = g_get_monotonic_time ();
  if (posix_spawn (&pid, argv[0], &actions, NULL, (char * const *) argv, envp) != 0)
    g_error ("Cannot start %s", argv[0]);
  posix_spawn_file_actions_destroy (&actions);
  close (pipe_fds[1]);

  for (;;)
    {
      ssize_t n = read (pipe_fds[0], buffer + length, sizeof buffer - 1 - length);

      if (n <= 0)
        break;
      length += n;
      buffer[length] = '\0';
    }
  close (pipe_fds[0]);
  wait4 (pid, &status, 0, &usage);
  *cpu_ms = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
            (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;

  if (sscanf (buffer, "natter-first-frame %" G_GINT64_FORMAT, &frame) != 1 || frame < start)
    {
      g_printerr ("natter printed no first frame (status %d): %s\n", status, buffer);
      return -1;
    }
  return (frame - start) / 1e3;
}

static gboolean
measure (const char *label,
         const char *budget_text,
         double      budget,
         const char *data_home,
         const char *url,
         guint       runs)
{
  g_autofree double *times = g_new (double, runs);
  g_autofree double *cpu = g_new (double, runs);
  g_autofree char *figure = NULL;
  double median;

  if (start_once (data_home, url, &cpu[0]) < 0)    /* warms the caches up */
    return FALSE;
  for (guint r = 0; r < runs; r++)
    if ((times[r] = start_once (data_home, url, &cpu[r])) < 0)
      return FALSE;
  median = bench_median (times, runs);
  printf ("# %s: %u starts, median %.0f ms, fastest %.0f ms, slowest %.0f ms; natter's CPU to its exit:"
          " median %.0f ms\n", label, runs, median, times[0], times[runs - 1], bench_median (cpu, runs));
  figure = g_strdup_printf ("%.0f ms (fastest %.0f, CPU %.0f)", median, times[0], bench_median (cpu, runs));
  bench_result (label, figure, budget_text, median < budget);
  return median < budget;
}

int
main (int   argc,
      char *argv[])
{
  guint runs = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 11;
  const char *database = argc > 2 ? argv[2] : NULL;
  const char * const provider_args[] = { "--tokens", "10", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-bench-startup-XXXXXX", &error);
  g_autofree char *url = NULL;
  gboolean pass = TRUE;
  GPid provider;

  g_assert_no_error (error);
  url = bench_spawn_provider (provider_args, &provider);

  pass &= measure ("start to first frame", "< 200 ms", 200, dir, url, runs);

  if (database != NULL && !bench_history_ensure (database, &error))
    g_error ("%s: %s", database, error->message);
  if (database != NULL)
    {
      g_autofree char *data_home = g_build_filename (dir, "big", NULL);
      g_autofree char *natter_dir = g_build_filename (data_home, "natter", NULL);
      g_autofree char *link = g_build_filename (natter_dir, "history.db", NULL);
      g_autofree char *target = g_canonicalize_filename (database, NULL);

      g_mkdir_with_parents (natter_dir, 0700);
      if (symlink (target, link) != 0)
        g_error ("Cannot link %s", target);
      pass &= measure ("history 1M, start to first frame", "< 300 ms", 300, data_home, url, runs);
      g_unlink (link);
      g_rmdir (natter_dir);
      g_rmdir (data_home);
    }

  bench_stop_provider (provider);
  /* The small history the runs made. */
  {
    g_autofree char *natter_dir = g_build_filename (dir, "natter", NULL);
    const char *files[] = { "history.db", "history.db-wal", "history.db-shm" };

    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *file = g_build_filename (natter_dir, files[i], NULL);
        g_unlink (file);
      }
    g_rmdir (natter_dir);
    g_rmdir (dir);
  }
  return pass ? 0 : 1;
}
