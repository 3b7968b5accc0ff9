/* bench-ui.c — what the window benchmarks share: the main loop, frames, memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
/* RUSAGE_THREAD */
#define _GNU_SOURCE

#include "bench-ui.h"
#include "bench-common.h"

#include <stdlib.h>
#include <sys/resource.h>

/* --- The main loop --------------------------------------------------------- */

static GArray   *busy;
static gint64    poll_returned_us;
static double    poll_returned_cpu;
static long      poll_returned_nivcsw;
static GFunc     before_poll;
static gpointer  before_poll_data;

static long
involuntary_switches (void)
{
  struct rusage usage;

  getrusage (RUSAGE_THREAD, &usage);
  return usage.ru_nivcsw;
}

static gint
metered_poll (GPollFD *fds,
              guint    n_fds,
              gint     timeout)
{
  gint64 now = g_get_monotonic_time ();
  gint result;

  if (busy != NULL && poll_returned_us != 0)
    {
      BenchBusy stretch = {
        (now - poll_returned_us) / 1000.0,
        (bench_thread_cpu () - poll_returned_cpu) * 1000.0,
        involuntary_switches () - poll_returned_nivcsw,
      };

      g_array_append_val (busy, stretch);
    }
  if (before_poll != NULL)
    before_poll (NULL, before_poll_data);
  result = g_poll (fds, n_fds, timeout);
  if (busy != NULL)
    {
      poll_returned_us = g_get_monotonic_time ();
      poll_returned_cpu = bench_thread_cpu ();
      poll_returned_nivcsw = involuntary_switches ();
    }
  return result;
}

void
bench_loop_meter_install (void)
{
  g_main_context_set_poll_func (g_main_context_default (), metered_poll);
}

void
bench_loop_meter_set_before_poll (GFunc    func,
                                  gpointer data)
{
  before_poll = func;
  before_poll_data = data;
}

void
bench_loop_meter_start (void)
{
  g_clear_pointer (&busy, g_array_unref);
  busy = g_array_new (FALSE, FALSE, sizeof (BenchBusy));
  poll_returned_us = 0;
}

GArray *
bench_loop_meter_stop (void)
{
  return g_steal_pointer (&busy);
}

double *
bench_busy_wall (GArray *stretches)
{
  double *values = g_new (double, MAX (stretches->len, 1));

  for (guint i = 0; i < stretches->len; i++)
    values[i] = g_array_index (stretches, BenchBusy, i).wall_ms;
  return values;
}

double *
bench_busy_cpu (GArray *stretches)
{
  double *values = g_new (double, MAX (stretches->len, 1));

  for (guint i = 0; i < stretches->len; i++)
    values[i] = g_array_index (stretches, BenchBusy, i).cpu_ms;
  return values;
}

/* --- Frames ---------------------------------------------------------------- */

#define FRAMES_KEY "bench-frames-painted"

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       user_data)
{
  guint n = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (clock), FRAMES_KEY));

  g_object_set_data (G_OBJECT (clock), FRAMES_KEY, GUINT_TO_POINTER (n + 1));
}

guint
bench_frames_painted (GtkWidget *widget)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);

  g_assert (clock != NULL);
  if (g_object_get_data (G_OBJECT (clock), "bench-counting") == NULL)
    {
      g_object_set_data (G_OBJECT (clock), "bench-counting", GINT_TO_POINTER (1));
      g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), NULL);
    }
  return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (clock), FRAMES_KEY));
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_error ("Gave up waiting after %u ms", GPOINTER_TO_UINT (user_data));
  return G_SOURCE_REMOVE;
}

gint64
bench_wait_frames (GtkWidget *widget,
                   guint      n)
{
  guint target = bench_frames_painted (widget) + n;
  guint timeout = g_timeout_add (30000, timeout_cb, GUINT_TO_POINTER (30000));

  /* Something must change for GTK to draw again. */
  gtk_widget_queue_draw (widget);
  while (bench_frames_painted (widget) < target)
    {
      g_main_context_iteration (NULL, TRUE);
      if (bench_frames_painted (widget) < target)
        gtk_widget_queue_draw (widget);
    }
  g_source_remove (timeout);
  return g_get_monotonic_time ();
}

void
bench_run_until (const gboolean *done,
                 guint           timeout_ms)
{
  guint timeout = g_timeout_add (timeout_ms, timeout_cb, GUINT_TO_POINTER (timeout_ms));

  while (!*done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
bench_run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* --- Memory ---------------------------------------------------------------- */

gsize
bench_vm_rss_kb (GPid pid)
{
  g_autofree char *path = pid == 0 ? g_strdup ("/proc/self/status") : g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents (path, &status, NULL, NULL))
    return 0;
  line = strstr (status, "\nVmRSS:");
  return line != NULL ? strtoul (line + strlen ("\nVmRSS:"), NULL, 10) : 0;
}

/* --- Widgets --------------------------------------------------------------- */

static void
find_widgets (GtkWidget *widget,
              GType      type,
              GPtrArray *found)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (found, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    find_widgets (child, type, found);
}

GPtrArray *
bench_find_widgets (GtkWidget *root,
                    GType      type)
{
  GPtrArray *found = g_ptr_array_new ();

  find_widgets (root, type, found);
  return found;
}
