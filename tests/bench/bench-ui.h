/* bench-ui.h — what the window benchmarks share: the main loop, frames, memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* --- How long the main loop goes without polling ---------------------------
 *
 * The default main context's poll function is wrapped: the time from one
 * poll's return to the next poll's start is what one iteration spent
 * dispatching (input, I/O, timers, a frame's layout and paint), during
 * which no event could be looked at.  Its maximum is the longest the loop
 * was blocked. */
typedef struct {
  double wall_ms;
  double cpu_ms;   /* this thread's CPU time: what the stretch cost us, not
                    * how long other processes kept the core */
  guint  preempted; /* involuntary context switches during the stretch */
} BenchBusy;

void    bench_loop_meter_install (void);
void    bench_loop_meter_start   (void);
/* Calls @func (NULL, @data) once each iteration has dispatched, before it
 * polls again (outside the measured stretch); NULL removes it. */
void    bench_loop_meter_set_before_poll (GFunc    func,
                                          gpointer data);
/* Returns: (transfer full) (element-type BenchBusy): the busy stretches
 *   since start */
GArray *bench_loop_meter_stop    (void);
/* The wall or CPU times of @busy, in a new array of doubles. */
double *bench_busy_wall          (GArray *busy);
double *bench_busy_cpu           (GArray *busy);

/* --- Frames ---------------------------------------------------------------- */

/* Counts the frames @widget's frame clock paints ("after-paint"). */
guint   bench_frames_painted     (GtkWidget *widget);
/* Runs the main loop until @widget's frame clock has painted @n more
 * frames; returns g_get_monotonic_time() at the end of the last one. */
gint64  bench_wait_frames        (GtkWidget *widget,
                                  guint      n);

/* Runs the main loop until @done (a gboolean) holds, or fails after
 * @timeout_ms. */
void    bench_run_until          (const gboolean *done,
                                  guint           timeout_ms);
void    bench_run_for            (guint           ms);

/* --- Memory ---------------------------------------------------------------- */

/* VmRSS of @pid (0: this process), in kB, from /proc/PID/status. */
gsize   bench_vm_rss_kb          (GPid pid);

/* --- Widgets --------------------------------------------------------------- */

/* Every widget of @type under @root, depth first. */
GPtrArray *bench_find_widgets    (GtkWidget *root,
                                  GType      type);

G_END_DECLS
