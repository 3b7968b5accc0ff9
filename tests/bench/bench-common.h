/* bench-common.h — timing, statistics and the fake provider for benchmarks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <sys/resource.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* CPU time of the calling thread, in seconds: on a shared machine it does
 * not count the time others had the core. */
double bench_thread_cpu (void);
/* CPU time of the whole process, in seconds. */
double bench_process_cpu (void);
double bench_wall (void);

/* Sorts @values in place. */
double bench_median     (double *values, guint n);
double bench_percentile (double *values, guint n, double p);
double bench_max        (const double *values, guint n);

/* The one line per figure that run.sh collects and BENCHMARKS.md quotes. */
void bench_result (const char *name,
                   const char *figure,
                   const char *budget,
                   gboolean    pass);

/* natter-fake-provider in its own process, so that its CPU is not ours.
 * @args end with NULL. Returns the base URL; the pid goes to @pid. */
char *bench_spawn_provider (const char * const *args,
                            GPid               *pid);
void  bench_stop_provider  (GPid pid);

/* Runs @argv with stdout to /dev/null, stdin from /dev/null and @envp,
 * and returns its user + system CPU in seconds, or -1 on failure. */
double bench_run_child (const char * const *argv,
                        const char * const *envp,
                        int                *exit_status);

G_END_DECLS
