/* bench-window.c — the window while an answer streams in fast
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Budgets (issue 7), on Xvfb with the real NatterWindow, saving to a real
 * NatterHistory as the app does, talking to the fake provider:
 *
 *  - at 2,000 tokens/s for 30 s, the main loop is never blocked more than
 *    16 ms, and a delta's text is in the message's GtkTextBuffer less than
 *    16 ms after it arrived (p99); the frames drawn are reported;
 *  - over a 1 MB answer, the CPU spent on the last 10 % is at most 1.2 times
 *    that spent on the first 10 %.
 *
 * Blocked: the default main context's poll function is wrapped, and every
 * stretch between a poll's return and the next poll is one iteration's
 * work (bench-ui.h).  Arrival: NatterMessage "content-appended", which
 * NatterChatStream's "delta" emits synchronously.  In the buffer: the last
 * "changed" of the answer row's content buffers in the main loop iteration
 * that changed them (the row coalesces deltas and renders them at the next
 * frame, or sooner when they have waited a few milliseconds).
 * CPU: this thread's (GTK draws on it; the provider has its own thread).
 *
 * The answer is Markdown as models write it: paragraphs, lists, code
 * blocks, bold and inline code.  The provider sends 4 events per write,
 * a millisecond after the last write went out: 2,000 to 3,000 tokens/s on
 * the reference machine, depending on its load (the rate reached is
 * printed); Stop is pressed after SECONDS.
 *
 * Usage: bench-window [SECONDS [GROWTH_RUNS [GROWTH_TOKENS_PER_WRITE]]]
 *
 * With BENCH_WINDOW_NO_HISTORY set, the window has no history: nothing is
 * saved, which shows what saving costs.
 */
#include <glib/gstdio.h>
#include <stdio.h>

#include "bench-common.h"
#include "bench-ui.h"
#include "natter-composer.h"
#include "natter-fake-provider.h"
#include "natter-history.h"
#include "natter-software-gl.h"
#include "natter-message-row.h"
#include "natter-window.h"

#define MODEL "natter-fake-1"
#define RATE 2000
#define TOKENS_PER_WRITE 4
#define GROWTH_BYTES 1000000

/* --- The answer --------------------------------------------------------- */

static const char * const words[] = {
  "the", "to", "and", "a", "of", "is", "in", "it", "you", "that", "for", "this",
  "with", "on", "can", "be", "as", "are", "if", "your", "not", "or", "have",
  "from", "value", "function", "buffer", "returns", "each", "when", "list",
  "example", "instead", "because", "memory", "string", "thread", "request",
};

static void
append_words (GString *text,
              GRand   *rand,
              guint    n)
{
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (text, ' ');
      g_string_append (text, words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
    }
}

/* Markdown of at least @n_bytes. */
static char *
answer_text (gsize n_bytes)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  GString *text = g_string_new (NULL);

  for (guint block = 0; text->len < n_bytes; block++)
    {
      if (block > 0)
        g_string_append (text, "\n\n");
      switch (block % 9)
        {
        case 3:
          for (guint i = 0; i < 4; i++)
            {
              g_string_append (text, i > 0 ? "\n- " : "- ");
              append_words (text, rand, g_rand_int_range (rand, 4, 14));
            }
          break;
        case 6:
          g_string_append (text, "```c\n");
          for (guint i = 0; i < 6; i++)
            g_string_append_printf (text, "%s = %s (%s, %u);\n", words[i + 20], words[i + 24],
                                    words[i], i);
          g_string_append (text, "```");
          break;
        case 8:
          g_string_append (text, "## ");
          append_words (text, rand, 4);
          break;
        default:
          append_words (text, rand, g_rand_int_range (rand, 10, 30));
          g_string_append (text, block % 2 ? " **memory** " : " `buffer` ");
          append_words (text, rand, g_rand_int_range (rand, 10, 40));
          g_string_append_c (text, '.');
          break;
        }
    }
  return g_string_free (text, FALSE);
}

/* Tokens as models cut them: a word with the white space after it. */
static GPtrArray *
tokens_of (const char *text,
           guint       max_tokens,
           gsize       max_bytes)
{
  GPtrArray *tokens = g_ptr_array_new_with_free_func (g_free);
  const char *p = text;
  gsize bytes = 0;

  while (*p != '\0' && tokens->len < max_tokens && bytes < max_bytes)
    {
      const char *end = p + strcspn (p, " \n");

      end += strspn (end, " \n");
      g_ptr_array_add (tokens, g_strndup (p, end - p));
      bytes += end - p;
      p = end;
    }
  return tokens;
}

static void
append_event (GString    *out,
              const char *token)
{
  g_string_append (out, "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
                        "\"created\":1700000000,\"model\":\"" MODEL "\",\"choices\":[{\"index\":0,"
                        "\"delta\":{\"content\":\"");
  for (const char *p = token; *p != '\0'; p++)
    {
      if (*p == '\n')
        g_string_append (out, "\\n");
      else if (*p == '"' || *p == '\\')
        g_string_append_printf (out, "\\%c", *p);
      else
        g_string_append_c (out, *p);
    }
  g_string_append (out, "\"},\"finish_reason\":null}]}\n\n");
}

/* @per_write events in each write, a write every millisecond. */
static NatterFakeScript *
script_for (GPtrArray *tokens,
            guint      per_write)
{
  NatterFakeScript *script = natter_fake_script_new (SOUP_STATUS_OK);
  GString *piece = g_string_new (NULL);

  natter_fake_script_set_interval (script, 1);
  for (guint i = 0; i < tokens->len; i += per_write)
    {
      g_string_truncate (piece, 0);
      for (guint j = i; j < MIN (i + per_write, tokens->len); j++)
        append_event (piece, g_ptr_array_index (tokens, j));
      natter_fake_script_add_raw (script, piece->str, piece->len);
    }
  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_usage (script, 10, tokens->len);
  natter_fake_script_add_done (script);
  g_string_free (piece, TRUE);
  return script;
}

/* --- The provider, on its own thread ------------------------------------ */

typedef struct {
  NatterFakeProvider *provider;
  GMainContext       *context;
  GMainLoop          *loop;
  GThread            *thread;
  char               *url;
  NatterFakeScript   *script;
  GMutex              mutex;
  GCond               cond;
} Server;

static gpointer
server_thread (gpointer data)
{
  Server *server = data;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (server->context);
  server->provider = natter_fake_provider_new ();
  if (!natter_fake_provider_listen (server->provider, 0, &error))
    g_error ("The fake provider cannot listen: %s", error->message);
  g_mutex_lock (&server->mutex);
  server->url = natter_fake_provider_dup_base_url (server->provider);
  g_cond_signal (&server->cond);
  g_mutex_unlock (&server->mutex);

  g_main_loop_run (server->loop);
  g_clear_object (&server->provider);
  g_main_context_pop_thread_default (server->context);
  return NULL;
}

static Server *
server_start (void)
{
  Server *server = g_new0 (Server, 1);

  server->context = g_main_context_new ();
  server->loop = g_main_loop_new (server->context, FALSE);
  g_mutex_init (&server->mutex);
  g_cond_init (&server->cond);
  server->thread = g_thread_new ("fake-provider", server_thread, server);
  g_mutex_lock (&server->mutex);
  while (server->url == NULL)
    g_cond_wait (&server->cond, &server->mutex);
  g_mutex_unlock (&server->mutex);
  return server;
}

static gboolean
set_script_cb (gpointer data)
{
  Server *server = data;

  g_mutex_lock (&server->mutex);
  natter_fake_provider_set_default (server->provider, server->script);
  g_clear_pointer (&server->script, natter_fake_script_unref);
  g_cond_signal (&server->cond);
  g_mutex_unlock (&server->mutex);
  return G_SOURCE_REMOVE;
}

/* Every answer from now on plays @script. */
static void
server_set_script (Server           *server,
                   NatterFakeScript *script)
{
  g_mutex_lock (&server->mutex);
  server->script = script;
  g_main_context_invoke (server->context, set_script_cb, server);
  while (server->script != NULL)
    g_cond_wait (&server->cond, &server->mutex);
  g_mutex_unlock (&server->mutex);
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
server_stop (Server *server)
{
  g_main_context_invoke (server->context, quit_cb, server->loop);
  g_thread_join (server->thread);
  g_main_loop_unref (server->loop);
  g_main_context_unref (server->context);
  g_mutex_clear (&server->mutex);
  g_cond_clear (&server->cond);
  g_free (server->url);
  g_free (server);
}

/* --- One answer in the window ------------------------------------------- */

typedef struct {
  gint64 us;
  guint  frame;   /* frames painted before it arrived */
} Arrival;

/* A frame's CPU time in each phase, in ms: the update phase runs the tick
 * callbacks (the rows' flushes, so the Markdown), layout measures and
 * allocates, paint snapshots and renders. */
typedef struct {
  double update;
  double layout;
  double paint;
} Phases;

typedef struct {
  NatterWindow     *window;
  NatterMessage    *answer;
  NatterMessageRow *row;
  GPtrArray        *buffers;       /* the row's content buffers: one per page */
  GArray           *arrivals;      /* of Arrival: deltas not yet in the buffer */
  guint             later_frame;   /* deltas that missed the next frame */
  GArray           *latencies;     /* ms */
  gint64            last_change_us;
  gboolean          changed;
  gsize             received;
  guint             n_deltas;
  guint             stop_after_ms; /* Stop pressed so long after the first delta */
  gsize             total;         /* for tenths; 0: not counted */
  guint             next_tenth;
  double            cpu[11];
  gint64            first_us;
  gint64            end_us;
  guint             first_frame;
  guint             frames;
  GArray           *busy;
  GArray           *phases;        /* of Phases, one per frame */
  double            phase_cpu;
  Phases            phase;
  gboolean          done;
} Run;

static void
resolve (Run    *run,
         gint64  until_us)
{
  guint n = 0;

  guint painted = bench_frames_painted (GTK_WIDGET (run->window));

  while (n < run->arrivals->len && g_array_index (run->arrivals, Arrival, n).us <= until_us)
    {
      const Arrival *arrival = &g_array_index (run->arrivals, Arrival, n);
      double ms = (until_us - arrival->us) / 1000.0;

      g_array_append_val (run->latencies, ms);
      /* Resolved before this frame's paint: painted is still the count at
       * arrival if it made the next frame. */
      run->later_frame += painted > arrival->frame;
      n++;
    }
  g_array_remove_range (run->arrivals, 0, n);
}

static void
buffer_changed_cb (GtkTextBuffer *buffer,
                   Run           *run)
{
  run->last_change_us = g_get_monotonic_time ();
  run->changed = TRUE;
}

static void
forget_buffers (Run *run)
{
  for (guint i = 0; i < run->buffers->len; i++)
    g_signal_handlers_disconnect_by_func (g_ptr_array_index (run->buffers, i), buffer_changed_cb, run);
  g_ptr_array_set_size (run->buffers, 0);
}

/* The row may be created, or recycled, at any layout: follow the one that
 * shows the answer, and each of its pages.  A row just bound, or a page
 * just added, shows all the text so far. */
static void
follow_row (Run *run)
{
  g_autoptr(GPtrArray) views = NULL;

  if (run->row == NULL || natter_message_row_get_message (run->row) != run->answer)
    {
      g_autoptr(GPtrArray) rows = NULL;

      forget_buffers (run);
      run->row = NULL;
      rows = bench_find_widgets (natter_window_get_chat_view (run->window), NATTER_TYPE_MESSAGE_ROW);
      for (guint i = 0; i < rows->len && run->row == NULL; i++)
        if (natter_message_row_get_message (g_ptr_array_index (rows, i)) == run->answer)
          run->row = g_ptr_array_index (rows, i);
      if (run->row == NULL)
        return;
    }

  views = bench_find_widgets (GTK_WIDGET (run->row), GTK_TYPE_TEXT_VIEW);
  for (guint i = 0; i < views->len; i++)
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (g_ptr_array_index (views, i));

      if (buffer == natter_message_row_get_reasoning_buffer (run->row) ||
          g_ptr_array_find (run->buffers, buffer, NULL))
        continue;
      g_ptr_array_add (run->buffers, g_object_ref (buffer));
      g_signal_connect_after (buffer, "changed", G_CALLBACK (buffer_changed_cb), run);
      resolve (run, g_get_monotonic_time ());
    }
}

static void
frame_started_cb (GdkFrameClock *clock,
                  Run           *run)
{
  run->phase_cpu = bench_thread_cpu ();
}

static void
frame_updated_cb (GdkFrameClock *clock,
                  Run           *run)
{
  double now = bench_thread_cpu ();

  run->phase.update = (now - run->phase_cpu) * 1e3;
  run->phase_cpu = now;
}

static void
frame_painted_cb (GdkFrameClock *clock,
                  Run           *run)
{
  double now = bench_thread_cpu ();

  run->phase.paint = (now - run->phase_cpu) * 1e3;
  if (run->received > 0 && !run->done)
    g_array_append_val (run->phases, run->phase);
  memset (&run->phase, 0, sizeof run->phase);
  run->phase_cpu = now;
}

/* Every delta that arrived before the buffers' last change is in them. */
static void
resolve_changes (Run *run)
{
  if (run->changed)
    resolve (run, run->last_change_us);
  run->changed = FALSE;
}

/* Runs after the frame's update phase, where rows flush their text. */
static void
frame_layout_cb (GdkFrameClock *clock,
                 Run           *run)
{
  double now = bench_thread_cpu ();

  run->phase.layout = (now - run->phase_cpu) * 1e3;
  run->phase_cpu = now;
  if (run->answer == NULL || run->done)
    return;
  follow_row (run);
  resolve_changes (run);
}

/* The row may also add text between frames, when some has waited long
 * enough: what changed in an iteration is resolved once it is over. */
static void
iteration_done_cb (gpointer unused,
                   gpointer data)
{
  Run *run = data;

  if (run->answer != NULL && !run->done)
    resolve_changes (run);
}

static gboolean
stop_cb (gpointer data)
{
  Run *run = data;

  gtk_widget_activate_action (GTK_WIDGET (run->window), "win.stop", NULL);
  return G_SOURCE_REMOVE;
}

static void
content_appended_cb (NatterMessage *message,
                     guint          offset,
                     const char    *text,
                     Run           *run)
{
  gint64 now = g_get_monotonic_time ();
  double cpu = bench_thread_cpu ();

  if (run->received == 0)
    {
      run->first_us = now;
      run->first_frame = bench_frames_painted (GTK_WIDGET (run->window));
      run->cpu[0] = cpu;
      bench_loop_meter_start ();
      if (run->stop_after_ms > 0)
        g_timeout_add (run->stop_after_ms, stop_cb, run);
    }
  run->n_deltas++;
  g_array_append_val (run->arrivals, ((Arrival) { now, bench_frames_painted (GTK_WIDGET (run->window)) }));
  run->received += strlen (text);
  while (run->total > 0 && run->next_tenth <= 10 &&
         run->received * 10 >= run->total * run->next_tenth)
    run->cpu[run->next_tenth++] = cpu;
}

static void
state_changed_cb (NatterMessage *message,
                  GParamSpec    *pspec,
                  Run           *run)
{
  if (natter_message_get_state (message) == NATTER_MESSAGE_STATE_STREAMING || run->done)
    return;
  run->end_us = g_get_monotonic_time ();
  run->frames = bench_frames_painted (GTK_WIDGET (run->window)) - run->first_frame;
  run->busy = bench_loop_meter_stop ();
  run->done = TRUE;
}

static void
items_changed_cb (GListModel *list,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Run        *run)
{
  NatterMessage *last;

  if (added == 0 || run->answer != NULL)
    return;
  last = natter_conversation_get_message (NATTER_CONVERSATION (list), position + added - 1);
  if (natter_message_get_role (last) != NATTER_ROLE_ASSISTANT)
    return;
  run->answer = g_object_ref (last);
  g_signal_connect (last, "content-appended", G_CALLBACK (content_appended_cb), run);
  g_signal_connect (last, "notify::state", G_CALLBACK (state_changed_cb), run);
}

/* Sends a message in a new conversation and runs until the answer ends. */
static void
run_answer (NatterWindow *window,
            Run          *run)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  NatterConversation *conversation;
  gulong handlers[4];

  gtk_widget_activate_action (GTK_WIDGET (window), "win.new-conversation", NULL);
  conversation = natter_window_get_conversation (window);
  run->window = window;
  run->arrivals = g_array_new (FALSE, FALSE, sizeof (Arrival));
  run->latencies = g_array_new (FALSE, FALSE, sizeof (double));
  run->buffers = g_ptr_array_new_with_free_func (g_object_unref);
  run->next_tenth = 1;
  g_signal_connect (conversation, "items-changed", G_CALLBACK (items_changed_cb), run);
  run->phases = g_array_new (FALSE, FALSE, sizeof (Phases));
  handlers[0] = g_signal_connect (clock, "before-paint", G_CALLBACK (frame_started_cb), run);
  handlers[1] = g_signal_connect (clock, "update", G_CALLBACK (frame_updated_cb), run);
  handlers[2] = g_signal_connect (clock, "layout", G_CALLBACK (frame_layout_cb), run);
  handlers[3] = g_signal_connect (clock, "paint", G_CALLBACK (frame_painted_cb), run);

  natter_composer_set_text (NATTER_COMPOSER (natter_window_get_composer (window)),
                            "Explain memory management in C, at length.");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.send", NULL);
  bench_loop_meter_set_before_poll (iteration_done_cb, run);
  bench_run_until (&run->done, 600000);
  bench_loop_meter_set_before_poll (NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (handlers); i++)
    g_signal_handler_disconnect (clock, handlers[i]);
  g_signal_handlers_disconnect_by_data (conversation, run);
  g_signal_handlers_disconnect_by_data (run->answer, run);
  forget_buffers (run);
  if (natter_message_get_state (run->answer) !=
      (run->stop_after_ms > 0 ? NATTER_MESSAGE_STATE_STOPPED : NATTER_MESSAGE_STATE_COMPLETE))
    g_error ("The answer did not end as it should");
}

static void
run_clear (Run *run)
{
  g_clear_object (&run->answer);
  g_clear_pointer (&run->arrivals, g_array_unref);
  g_clear_pointer (&run->latencies, g_array_unref);
  g_clear_pointer (&run->busy, g_array_unref);
  g_clear_pointer (&run->phases, g_array_unref);
  g_clear_pointer (&run->buffers, g_ptr_array_unref);
}

/* A frame's cost (update, layout and paint) at the end of the answer over
 * that at its start, each the mean of a quarter of the frames. */
static double
frame_cost_growth (GArray *phases)
{
  double first = 0, last = 0;
  guint quarter = phases->len / 4;

  for (guint i = 0; i < quarter; i++)
    {
      const Phases *a = &g_array_index (phases, Phases, i);
      const Phases *b = &g_array_index (phases, Phases, phases->len - 1 - i);

      first += a->update + a->layout + a->paint;
      last += b->update + b->layout + b->paint;
    }
  return first > 0 ? last / first : 0;
}

/* The CPU of each phase of the frames, in quarters of the answer: where the
 * time goes, and whether it grows. */
static void
report_phases (GArray *phases)
{
  for (guint q = 0; q < 4; q++)
    {
      guint from = phases->len * q / 4, to = phases->len * (q + 1) / 4;
      double sum[3] = { 0 }, max[3] = { 0 };

      for (guint i = from; i < to; i++)
        {
          const Phases *p = &g_array_index (phases, Phases, i);
          double v[3] = { p->update, p->layout, p->paint };

          for (guint k = 0; k < 3; k++)
            {
              sum[k] += v[k];
              max[k] = MAX (max[k], v[k]);
            }
        }
      printf ("# frames, quarter %u: CPU per frame, mean (max) ms: update %.2f (%.1f), layout %.2f (%.1f),"
              " paint %.2f (%.1f)\n", q + 1,
              sum[0] / MAX (to - from, 1), max[0], sum[1] / MAX (to - from, 1), max[1],
              sum[2] / MAX (to - from, 1), max[2]);
    }
}

static guint
count_over (const double *values,
            guint         n,
            double        limit)
{
  guint count = 0;

  for (guint i = 0; i < n; i++)
    count += values[i] > limit;
  return count;
}

/* Prints the main loop's busy stretches; returns the longest in CPU time. */
static double
report_busy (GArray *busy)
{
  g_autofree double *wall = bench_busy_wall (busy);
  g_autofree double *cpu = bench_busy_cpu (busy);
  guint n = busy->len, long_wall = 0, long_preempted = 0;
  double max_wall = bench_max (wall, n), max_cpu = bench_max (cpu, n);

  for (guint i = 0; i < n; i++)
    {
      const BenchBusy *stretch = &g_array_index (busy, BenchBusy, i);

      if (stretch->wall_ms > 16)
        {
          long_wall++;
          long_preempted += stretch->preempted > 0;
        }
    }
  printf ("# main loop, %u iterations: CPU p99 %.2f ms, max %.2f ms, %u over 16 ms, %u over 8 ms\n",
          n, bench_percentile (cpu, n, 99), max_cpu, count_over (cpu, n, 16), count_over (cpu, n, 8));
  printf ("# main loop, wall time: p99 %.2f ms, max %.2f ms, %u over 16 ms (%u of them preempted)\n",
          bench_percentile (wall, n, 99), max_wall, long_wall, long_preempted);
  return max_cpu;
}

/* --- The budgets ---------------------------------------------------------- */

static gboolean
measure_stream (Server       *server,
                NatterWindow *window,
                guint         seconds)
{
  /* More than enough: Stop is pressed after @seconds. */
  g_autofree char *text = answer_text ((gsize) RATE * seconds * 20);
  g_autoptr(GPtrArray) tokens = tokens_of (text, RATE * seconds * 2, G_MAXSIZE);
  Run run = { .stop_after_ms = seconds * 1000 };
  double duration, max_busy, p99, p50, max_latency;
  g_autofree char *figure = NULL;
  gboolean pass_blocked, pass_latency;

  server_set_script (server, script_for (tokens, TOKENS_PER_WRITE));
  run_answer (window, &run);

  duration = (run.end_us - run.first_us) / 1e6;
  max_latency = bench_max ((double *) run.latencies->data, run.latencies->len);
  p50 = bench_percentile ((double *) run.latencies->data, run.latencies->len, 50);
  p99 = bench_percentile ((double *) run.latencies->data, run.latencies->len, 99);

  printf ("# %u tokens (%.0f kB) in %.1f s: %.0f tokens/s, %u per write\n",
          run.n_deltas, run.received / 1e3, duration, run.n_deltas / duration, TOKENS_PER_WRITE);
  max_busy = report_busy (run.busy);
  report_phases (run.phases);
  printf ("# delta → buffer: %u deltas, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms;"
          " %.2f %% in the buffer for the next frame painted\n",
          run.latencies->len, p50, bench_percentile ((double *) run.latencies->data, run.latencies->len, 90),
          p99, max_latency, 100.0 * (run.latencies->len - run.later_frame) / run.latencies->len);
  printf ("# frames: %u painted, %.1f per second\n", run.frames, run.frames / duration);

  pass_blocked = max_busy <= 16;
  figure = g_strdup_printf ("longest iteration %.1f ms CPU", max_busy);
  bench_result ("window 2k tok/s, main loop blocked", figure, "never > 16 ms", pass_blocked);
  g_free (figure);
  pass_latency = p99 < 16;
  figure = g_strdup_printf ("p99 %.1f ms (p50 %.1f, max %.1f)", p99, p50, max_latency);
  bench_result ("window 2k tok/s, delta → buffer", figure, "p99 < 16 ms", pass_latency);
  g_free (figure);
  figure = g_strdup_printf ("%u frames, %.1f fps", run.frames, run.frames / duration);
  bench_result ("window 2k tok/s, frames drawn", figure, "reported", TRUE);

  run_clear (&run);
  return pass_blocked && pass_latency;
}

static gboolean
measure_growth (Server       *server,
                NatterWindow *window,
                guint         runs,
                guint         per_write)
{
  g_autofree char *text = answer_text (GROWTH_BYTES + 100);
  g_autoptr(GPtrArray) tokens = tokens_of (text, G_MAXUINT, GROWTH_BYTES);
  g_autofree double *ratios = g_new (double, runs);
  g_autofree double *frame_ratios = g_new (double, runs);
  double tenths[10] = { 0 };
  gsize total = 0;
  GString *line = g_string_new (NULL);
  g_autofree char *figure = NULL;
  double ratio, frame_ratio;

  for (guint i = 0; i < tokens->len; i++)
    total += strlen (g_ptr_array_index (tokens, i));
  server_set_script (server, script_for (tokens, per_write));

  for (guint r = 0; r < runs; r++)
    {
      Run run = { .total = total };
      double duration;

      run_answer (window, &run);
      if (run.next_tenth != 11)
        g_error ("The answer was %" G_GSIZE_FORMAT " bytes, not %" G_GSIZE_FORMAT, run.received, total);
      ratios[r] = (run.cpu[10] - run.cpu[9]) / (run.cpu[1] - run.cpu[0]);
      frame_ratios[r] = frame_cost_growth (run.phases);
      for (guint i = 0; i < 10; i++)
        tenths[i] += (run.cpu[i + 1] - run.cpu[i]) / runs;
      duration = (run.end_us - run.first_us) / 1e6;
      printf ("# run %u: %.1f s, %.0f tokens/s, %.1f fps, last/first tenth %.2f, a frame's cost last/first quarter %.2f\n",
              r + 1, duration, tokens->len / duration, run.frames / duration, ratios[r], frame_ratios[r]);
      report_busy (run.busy);
      report_phases (run.phases);
      run_clear (&run);
    }
  ratio = bench_median (ratios, runs);
  frame_ratio = bench_median (frame_ratios, runs);

  for (guint i = 0; i < 10; i++)
    g_string_append_printf (line, " %.0f", tenths[i] * 1e3);
  printf ("# window: %.2f MB answer, CPU per tenth, ms (mean of %u runs):%s\n", total / 1e6, runs, line->str);
  g_string_free (line, TRUE);

  /* Frames are drawn as often as the thread can: a window whose frames grow
   * costlier draws fewer of them, and the CPU per tenth can stay flat while
   * the frame rate falls. Both must stay flat. */
  figure = g_strdup_printf ("last/first tenth %.2f× (%.0f vs %.0f ms); per frame %.2f×", ratio,
                            tenths[9] * 1e3, tenths[0] * 1e3, frame_ratio);
  bench_result ("cost growth, window", figure, "≤ 1.2×", ratio <= 1.2 && frame_ratio <= 1.2);
  return ratio <= 1.2 && frame_ratio <= 1.2;
}

int
main (int   argc,
      char *argv[])
{
  guint seconds = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 30;
  guint growth_runs = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 3;
  guint per_write = argc > 3 ? (guint) g_ascii_strtoull (argv[3], NULL, 10) : 8;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterHistory) history = NULL;
  g_autoptr(NatterClient) client = NULL;
  NatterWindow *window;
  Server *server;
  gboolean pass = TRUE;

  /* As main.c does: the window is drawn as it would be for a user. */
  natter_software_gl_avoid ();
  gtk_init ();
  adw_init ();
  bench_loop_meter_install ();

  server = server_start ();
  client = natter_client_new (server->url, "bench");

  /* A history in a file, as the app has: answers are checkpointed while
   * they stream. */
  dir = g_dir_make_tmp ("natter-bench-window-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "history.db", NULL);
  store = natter_store_open (path, &error);
  g_assert_no_error (error);
  history = natter_history_new (store, &error);
  g_assert_no_error (error);

  window = natter_window_new (NULL, client, MODEL);
  /* Without the history, to see what saving costs. */
  if (g_getenv ("BENCH_WINDOW_NO_HISTORY") == NULL)
    natter_window_set_history (window, history);
  gtk_window_present (GTK_WINDOW (window));
  bench_wait_frames (GTK_WIDGET (window), 5);
  bench_run_for (200);

  if (seconds > 0)
    pass &= measure_stream (server, window, seconds);
  if (growth_runs > 0)
    pass &= measure_growth (server, window, growth_runs, per_write);

  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&history);
  g_clear_object (&store);
  g_clear_object (&client);
  server_stop (server);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *file = g_strconcat (path, (const char *[]) { "", "-wal", "-shm" }[i], NULL);
      g_unlink (file);
    }
  g_rmdir (dir);
  return pass ? 0 : 1;
}
