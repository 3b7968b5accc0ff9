/* bench-stop-latency.c — from Stop to the server seeing the connection closed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Budget: under 50 ms.  The fake provider runs on a thread of its own, with
 * its own main context, so that it notices the closed connection whatever
 * the client's main loop is doing; the time is taken from just before
 * g_cancellable_cancel() on the client's thread to the provider's
 * "client-hung-up" signal on the server's.
 *
 * Two cases, many times each: Stop while the client waits for a token that
 * does not come (the model is thinking), and Stop while tokens stream in
 * every millisecond.
 *
 * Usage: bench-stop-latency [REPETITIONS]
 */
#include <stdio.h>

#include "bench-common.h"
#include "natter-chat-stream.h"
#include "natter-fake-provider.h"

#define MODEL "natter-fake-1"

/* --- The provider's thread ---------------------------------------------- */

typedef struct {
  NatterFakeScript *script;
  GMainContext     *client_context;
  GMainContext     *context;
  GMainLoop        *loop;
  GThread          *thread;
  char             *url;
  GMutex            mutex;
  GCond             cond;
} Server;

static gboolean
hung_up_in_client_cb (gpointer data);

static void
client_hung_up_cb (NatterFakeProvider *provider,
                   Server             *server)
{
  gint64 now = g_get_monotonic_time ();

  g_main_context_invoke_full (server->client_context, G_PRIORITY_DEFAULT, hung_up_in_client_cb,
                              g_memdup2 (&now, sizeof now), g_free);
}

static gpointer
server_thread (gpointer data)
{
  Server *server = data;
  g_autoptr(NatterFakeProvider) provider = NULL;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (server->context);
  provider = natter_fake_provider_new ();
  natter_fake_provider_set_default (provider, server->script);
  g_signal_connect (provider, "client-hung-up", G_CALLBACK (client_hung_up_cb), server);
  if (!natter_fake_provider_listen (provider, 0, &error))
    g_error ("The fake provider cannot listen: %s", error->message);

  g_mutex_lock (&server->mutex);
  server->url = natter_fake_provider_dup_base_url (provider);
  g_cond_signal (&server->cond);
  g_mutex_unlock (&server->mutex);

  g_main_loop_run (server->loop);
  g_clear_object (&provider);
  g_main_context_pop_thread_default (server->context);
  return NULL;
}

static Server *
server_start (NatterFakeScript *script)
{
  Server *server = g_new0 (Server, 1);

  server->script = natter_fake_script_ref (script);
  server->client_context = g_main_context_ref_thread_default ();
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
  g_main_context_unref (server->client_context);
  natter_fake_script_unref (server->script);
  g_mutex_clear (&server->mutex);
  g_cond_clear (&server->cond);
  g_free (server->url);
  g_free (server);
}

/* --- One Stop ------------------------------------------------------------- */

typedef struct {
  GMainLoop    *loop;
  GCancellable *cancellable;
  guint         stop_after_deltas;
  guint         stop_delay_ms;
  guint         n_deltas;
  gint64        cancel_us;
  gint64        hung_up_us;
  gboolean      finished;
  gboolean      cancelled;
  gboolean      early;       /* a hang-up came before Stop */
} Stop;

/* The one Stop under way, for the provider's signal to find. */
static Stop *current;

static void
maybe_done (Stop *stop)
{
  if (stop->finished && stop->hung_up_us != 0)
    g_main_loop_quit (stop->loop);
}

static gboolean
hung_up_in_client_cb (gpointer data)
{
  if (current != NULL && current->cancel_us == 0)
    current->early = TRUE;
  else if (current != NULL && current->hung_up_us == 0)
    {
      current->hung_up_us = *(gint64 *) data;
      maybe_done (current);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
press_stop_cb (gpointer data)
{
  Stop *stop = data;

  stop->cancel_us = g_get_monotonic_time ();
  g_cancellable_cancel (stop->cancellable);
  return G_SOURCE_REMOVE;
}

static void
delta_cb (NatterChatStream *stream,
          const char       *text,
          Stop             *stop)
{
  if (++stop->n_deltas == stop->stop_after_deltas)
    g_timeout_add (stop->stop_delay_ms, press_stop_cb, stop);
}

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Stop *stop = user_data;
  g_autoptr(GError) error = NULL;

  natter_chat_stream_run_finish (NATTER_CHAT_STREAM (source), result, &error);
  stop->cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  stop->finished = TRUE;
  maybe_done (stop);
}

static gboolean
give_up_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* Returns the milliseconds from Stop to the hang-up, or -1. */
static double
stop_once (NatterClient *client,
           guint         after_deltas,
           guint         delay_ms)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(NatterChatRequest) request = natter_chat_request_new (MODEL);
  g_autoptr(NatterChatStream) stream = NULL;
  Stop stop = { loop, cancellable, after_deltas, delay_ms };
  guint give_up_id;

  natter_chat_request_add_message (request, "user", "hi");
  stream = natter_chat_stream_new (client, request);
  g_signal_connect (stream, "delta", G_CALLBACK (delta_cb), &stop);

  current = &stop;
  give_up_id = g_timeout_add_seconds (5, give_up_cb, loop);
  natter_chat_stream_run_async (stream, cancellable, done_cb, &stop);
  g_main_loop_run (loop);
  g_source_remove (give_up_id);
  current = NULL;

  if (!stop.finished || !stop.cancelled || stop.early || stop.hung_up_us == 0)
    return -1;
  return (stop.hung_up_us - stop.cancel_us) / 1000.0;
}

static gboolean
measure (const char       *name,
         NatterFakeScript *script,
         guint             after_deltas,
         guint             delay_ms,
         guint             reps)
{
  Server *server = server_start (script);
  g_autoptr(NatterClient) client = natter_client_new (server->url, "bench");
  g_autofree double *ms = g_new (double, reps);
  guint n = 0, failures = 0;
  double p50, p99, max;
  gboolean pass;
  g_autofree char *label = NULL;
  g_autofree char *figure = NULL;

  for (guint i = 0; i < reps; i++)
    {
      double latency = stop_once (client, after_deltas, delay_ms);

      if (latency < 0)
        failures++;
      else
        ms[n++] = latency;
    }
  g_clear_object (&client);
  server_stop (server);

  if (n == 0)
    {
      bench_result (name, "the server never saw a Stop", "< 50 ms", FALSE);
      return FALSE;
    }
  max = bench_max (ms, n);
  p99 = bench_percentile (ms, n, 99);
  p50 = bench_percentile (ms, n, 50);
  pass = failures == 0 && p99 < 50;

  label = g_strdup_printf ("stop → server sees close, %s", name);
  figure = g_strdup_printf ("p50 %.2f, p99 %.2f, max %.2f ms (n=%u, %u failed)", p50, p99, max,
                            n, failures);
  bench_result (label, figure, "< 50 ms (p99)", pass);
  return pass;
}

int
main (int   argc,
      char *argv[])
{
  guint reps = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 200;
  g_autoptr(NatterFakeScript) thinking = natter_fake_script_new (SOUP_STATUS_OK);
  g_autoptr(NatterFakeScript) flowing = natter_fake_script_new (SOUP_STATUS_OK);
  gboolean pass = TRUE;

  /* A few tokens, then nothing: the connection stays open, quiet. */
  for (guint i = 0; i < 5; i++)
    natter_fake_script_add_content (thinking, "tok ");
  natter_fake_script_set_ending (thinking, NATTER_FAKE_ENDING_STALL);

  /* A token every millisecond, for longer than any Stop waits. */
  natter_fake_script_set_interval (flowing, 1);
  for (guint i = 0; i < 3000; i++)
    natter_fake_script_add_content (flowing, "tok ");
  natter_fake_script_add_finish (flowing, "stop");
  natter_fake_script_add_done (flowing);

  printf ("# %u Stops each; thread-safe timestamps from g_get_monotonic_time()\n", reps);
  pass &= measure ("while waiting", thinking, 5, 3, reps);
  pass &= measure ("while streaming", flowing, 10, 7, reps);
  return pass ? 0 : 1;
}
