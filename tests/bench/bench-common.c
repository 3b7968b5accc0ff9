/* bench-common.c — timing, statistics and the fake provider for benchmarks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "bench-common.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
clock_seconds (clockid_t clock)
{
  struct timespec ts;

  clock_gettime (clock, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
bench_thread_cpu (void)
{
  return clock_seconds (CLOCK_THREAD_CPUTIME_ID);
}

double
bench_process_cpu (void)
{
  return clock_seconds (CLOCK_PROCESS_CPUTIME_ID);
}

double
bench_wall (void)
{
  return clock_seconds (CLOCK_MONOTONIC);
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

double
bench_percentile (double *values,
                  guint   n,
                  double  p)
{
  guint rank;

  g_return_val_if_fail (n > 0, 0);

  qsort (values, n, sizeof *values, compare_doubles);
  /* Nearest rank: p99 of 100 values is the 99th, not an interpolation. */
  rank = (guint) (p / 100.0 * n + 0.999999);
  return values[CLAMP (rank, 1, n) - 1];
}

double
bench_median (double *values,
              guint   n)
{
  g_return_val_if_fail (n > 0, 0);

  qsort (values, n, sizeof *values, compare_doubles);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double
bench_max (const double *values,
           guint         n)
{
  double max = values[0];

  for (guint i = 1; i < n; i++)
    max = MAX (max, values[i]);
  return max;
}

void
bench_result (const char *name,
              const char *figure,
              const char *budget,
              gboolean    pass)
{
  printf ("RESULT %-34s %-44s budget %-26s %s\n", name, figure, budget, pass ? "PASS" : "MISS");
  fflush (stdout);
}

char *
bench_spawn_provider (const char * const *args,
                      GPid               *pid)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOChannel) channel = NULL;
  char *line = NULL;
  int out_fd;

  g_ptr_array_add (argv, (gpointer) BENCH_FAKE_PROVIDER_PATH);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  /* Its log of requests goes to /dev/null: only the URL line is read. */
  if (!g_spawn_async_with_pipes (NULL, (char **) argv->pdata, NULL,
                                 G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                                 pid, NULL, &out_fd, NULL, &error))
    g_error ("Cannot start %s: %s", BENCH_FAKE_PROVIDER_PATH, error->message);

  channel = g_io_channel_unix_new (out_fd);
  g_io_channel_set_close_on_unref (channel, TRUE);
  if (g_io_channel_read_line (channel, &line, NULL, NULL, &error) != G_IO_STATUS_NORMAL)
    g_error ("The fake provider printed no URL");
  return g_strstrip (line);
}

void
bench_stop_provider (GPid pid)
{
  kill (pid, SIGTERM);
  waitpid (pid, NULL, 0);
}

double
bench_run_child (const char * const *argv,
                 const char * const *envp,
                 int                *exit_status)
{
  posix_spawn_file_actions_t actions;
  struct rusage usage;
  pid_t pid;
  int status;
  int err;

  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen (&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  err = posix_spawn (&pid, argv[0], &actions, NULL, (char * const *) argv, (char * const *) envp);
  posix_spawn_file_actions_destroy (&actions);
  if (err != 0)
    {
      g_printerr ("Cannot run %s: %s\n", argv[0], g_strerror (err));
      return -1;
    }

  if (wait4 (pid, &status, 0, &usage) < 0)
    return -1;
  *exit_status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}
