/* natter-chat-stream.c — one streamed /chat/completions call
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The call goes: send the request → headers → read the body in pieces as
 * they arrive → feed the SSE parser → decode each event's chunk → signal
 * deltas. All of it is async I/O on the caller's main context.
 *
 * One internal cancellable covers every step, from connecting to the last
 * read and any retry wait between attempts. The caller's cancellable cancels
 * it; so does the stall timer. That way Stop and a stall both end the very
 * operation that is pending, wherever the call is.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "natter-api-error.h"
#include "natter-chat-stream.h"
#include "natter-chunk-decoder.h"
#include "natter-sse-parser.h"

#define READ_SIZE           16384
#define ERROR_BODY_MAX_SIZE 65536

struct _NatterChatStream
{
  GObject             parent_instance;

  NatterClient       *client;
  NatterChatRequest  *request;

  /* While running */
  GTask              *task;
  GCancellable       *io_cancellable;
  gulong              user_cancelled_id;
  GBytes             *body;
  SoupMessage        *message;
  GInputStream       *input;
  gboolean            pollable;
  gboolean            keep_watch;
  guint8             *read_buffer;
  GSource            *read_source;
  guint8             *error_body;
  NatterSseParser    *parser;
  NatterChunkDecoder *decoder;
  GError             *decode_error;
  GSource            *stall_source;
  gint64              last_read_us;
  GSource            *wait_source;
  GSource            *wait_cancel_source;
  gboolean            stalled;
  gboolean            got_delta;

  /* Statistics of the last run */
  gint64              start_us;
  gint64              ttft_us;
  gint64              end_us;
  guint64             n_bytes;
  guint               n_attempts;
  guint               http_status;
  gint64              retry_after;
};

G_DEFINE_FINAL_TYPE (NatterChatStream, natter_chat_stream, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_REQUEST,
  N_PROPS
};

enum {
  DELTA,
  REASONING_DELTA,
  USAGE,
  RETRYING,
  FINISHED,
  FAILED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void start_attempt (NatterChatStream *self);
static void read_next     (NatterChatStream *self);

/* --- Ending ------------------------------------------------------------- */

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Closing the body before its end makes libsoup drop the connection, which
 * is how the server learns that the user pressed Stop. */
static void
close_response (NatterChatStream *self)
{
  clear_source (&self->read_source);
  if (self->input != NULL)
    g_input_stream_close (self->input, NULL, NULL);
  g_clear_object (&self->input);
  g_clear_object (&self->message);
  g_clear_pointer (&self->error_body, g_free);
}

/* --- Draining ------------------------------------------------------------ */

/* After [DONE] the answer is complete, but the body has not quite ended:
 * the last chunk of a chunked body comes a moment later.  Closing the body
 * before it would make libsoup drop the connection, and the server see the
 * client hang up, so the end is read in the background, for a short while
 * and a few bytes at most; then the connection can serve the next request. */

#define DRAIN_TIMEOUT_MS 1000
#define DRAIN_MAX_SIZE   65536

typedef struct {
  GInputStream *input;
  GCancellable *cancellable;
  GMainContext *context;
  GSource      *timeout;
  gsize         n_bytes;
} Drain;

static void
drain_free (Drain *drain)
{
  clear_source (&drain->timeout);
  g_input_stream_close (drain->input, NULL, NULL);
  g_object_unref (drain->input);
  g_object_unref (drain->cancellable);
  g_main_context_unref (drain->context);
  g_free (drain);
}

static gboolean
drain_timeout_cb (gpointer user_data)
{
  Drain *drain = user_data;

  g_cancellable_cancel (drain->cancellable);
  return G_SOURCE_CONTINUE;
}

static gboolean drain_readable_cb (GObject  *stream,
                                   gpointer  user_data);

/* Reads what has come; frees @drain at the end of the body, or on an
 * error, a timeout or too much data. */
static void
drain_step (Drain *drain)
{
  GPollableInputStream *input = G_POLLABLE_INPUT_STREAM (drain->input);
  char buffer[4096];
  GSource *source;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (input, buffer, sizeof buffer,
                                                           drain->cancellable, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (n <= 0 || (drain->n_bytes += n) > DRAIN_MAX_SIZE)
        {
          drain_free (drain);
          return;
        }
    }

  source = g_pollable_input_stream_create_source (input, drain->cancellable);
  g_source_set_callback (source, G_SOURCE_FUNC (drain_readable_cb), drain, NULL);
  g_source_attach (source, drain->context);
  g_source_unref (source);
}

static gboolean
drain_readable_cb (GObject  *stream,
                   gpointer  user_data)
{
  drain_step (user_data);
  return G_SOURCE_REMOVE;
}

/* Takes the body from @self, which may then finish at once. */
static void
drain_response (NatterChatStream *self)
{
  Drain *drain;

  if (!self->pollable)
    return;

  clear_source (&self->read_source);
  drain = g_new0 (Drain, 1);
  drain->input = g_steal_pointer (&self->input);
  drain->cancellable = g_cancellable_new ();
  drain->context = g_main_context_ref (g_task_get_context (self->task));
  drain->timeout = g_timeout_source_new (DRAIN_TIMEOUT_MS);
  g_source_set_callback (drain->timeout, drain_timeout_cb, drain, NULL);
  g_source_attach (drain->timeout, drain->context);
  drain_step (drain);
}

/* Drops everything a run holds but what its getters report afterwards. */
static void
clear_run_state (NatterChatStream *self,
                 GTask            *task)
{
  GCancellable *user_cancellable = g_task_get_cancellable (task);

  close_response (self);
  clear_source (&self->stall_source);
  clear_source (&self->wait_source);
  clear_source (&self->wait_cancel_source);
  g_clear_pointer (&self->read_buffer, g_free);
  if (user_cancellable != NULL)
    g_cancellable_disconnect (user_cancellable, self->user_cancelled_id);
  self->user_cancelled_id = 0;
  g_clear_object (&self->io_cancellable);
  g_clear_object (&self->parser);
  g_clear_pointer (&self->body, g_bytes_unref);
  g_clear_error (&self->decode_error);
  self->end_us = g_get_monotonic_time ();
}

static void
finish_ok (NatterChatStream *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  clear_run_state (self, task);
  g_signal_emit (self, signals[FINISHED], 0);
  g_task_return_boolean (task, TRUE);
}

static void
finish_error (NatterChatStream *self,
              GError           *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  clear_run_state (self, task);
  natter_client_redact_error (self->client, error);
  g_signal_emit (self, signals[FAILED], 0, error);
  g_task_return_error (task, error);
}

static GError *
cancelled_error (NatterChatStream *self)
{
  guint seconds = (natter_client_get_stall_timeout_ms (self->client) + 999) / 1000;

  if (self->stalled)
    return g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_STALLED,
                        g_dngettext (GETTEXT_PACKAGE, "The provider sent nothing for %u second.",
                                     "The provider sent nothing for %u seconds.", seconds),
                        seconds);
  /* Translators: an answer the user stopped before it ended */
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Stopped"));
}

/* --- Retrying ------------------------------------------------------------ */

static gboolean
is_transient_io_error (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
         g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE);
}

/* Exponential backoff with jitter, so that many clients hitting the same
 * rate limit do not come back in step; Retry-After wins when given. */
static gint64
next_delay_ms (NatterChatStream *self)
{
  guint retry = self->n_attempts;
  gint64 base = natter_client_get_retry_base_ms (self->client);
  gint64 delay = MIN (base << MIN (retry - 1, 16), NATTER_CLIENT_RETRY_CAP_MS);

  if (self->retry_after >= 0)
    return self->retry_after * 1000;
  return delay / 2 + g_random_int_range (0, (gint32) (delay / 2) + 1);
}

static gboolean
retry_wait_cancelled_cb (GCancellable *cancellable,
                         gpointer      user_data)
{
  NatterChatStream *self = user_data;

  finish_error (self, cancelled_error (self));
  return G_SOURCE_REMOVE;
}

static gboolean
retry_wait_over_cb (gpointer user_data)
{
  NatterChatStream *self = user_data;

  clear_source (&self->wait_source);
  clear_source (&self->wait_cancel_source);
  start_attempt (self);
  return G_SOURCE_REMOVE;
}

/* Timers run on the caller's context, like the I/O callbacks do. */
static GSource *
attach_source (NatterChatStream *self,
               GSource          *source,
               GSourceFunc       callback)
{
  g_source_set_callback (source, callback, self, NULL);
  g_source_attach (source, g_task_get_context (self->task));
  return source;
}

/* Returns TRUE if another attempt was scheduled; otherwise the caller fails
 * with @error. Nothing is retried once the user has seen a delta. */
static gboolean
maybe_retry (NatterChatStream *self,
             const GError     *error,
             gboolean          transient)
{
  gint64 delay_ms;

  if (self->got_delta || self->n_attempts > natter_client_get_max_retries (self->client) ||
      !(transient || natter_api_error_is_retryable (error)))
    return FALSE;

  delay_ms = next_delay_ms (self);
  if (delay_ms > NATTER_CLIENT_RETRY_CAP_MS)
    return FALSE;

  close_response (self);
  clear_source (&self->stall_source);
  g_signal_emit (self, signals[RETRYING], 0, self->n_attempts, (guint) delay_ms);
  self->wait_source = attach_source (self, g_timeout_source_new ((guint) delay_ms),
                                     retry_wait_over_cb);
  self->wait_cancel_source = attach_source (self, g_cancellable_source_new (self->io_cancellable),
                                            G_SOURCE_FUNC (retry_wait_cancelled_cb));
  return TRUE;
}

static void
fail_or_retry (NatterChatStream *self,
               GError           *error,
               gboolean          transient)
{
  if (maybe_retry (self, error, transient))
    g_error_free (error);
  else
    finish_error (self, error);
}

/* --- Stall timer ------------------------------------------------------- */

static gboolean
stall_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs stall_source_funcs = { NULL, NULL, stall_dispatch, NULL, NULL, NULL };

static gint64
stall_timeout_us (NatterChatStream *self)
{
  return (gint64) natter_client_get_stall_timeout_ms (self->client) * 1000;
}

static gboolean
stalled_cb (gpointer user_data)
{
  NatterChatStream *self = user_data;
  gint64 deadline = self->last_read_us + stall_timeout_us (self);

  if (deadline > g_get_monotonic_time ())
    {
      g_source_set_ready_time (self->stall_source, deadline);
      return G_SOURCE_CONTINUE;
    }

  self->stalled = TRUE;
  g_cancellable_cancel (self->io_cancellable);
  g_source_set_ready_time (self->stall_source, -1);
  return G_SOURCE_CONTINUE;
}

/* Called on every read.  Moving the deadline each time would cost a
 * wake-up of the main context (g_source_set_ready_time() writes to its
 * eventfd, and the next poll returns at once): the deadline stays, and when
 * it is reached the timer moves it past the last read instead. */
static void
touch_stall_timer (NatterChatStream *self)
{
  if (self->stall_source != NULL)
    {
      /* The main loop's time of this iteration: no clock read per read. */
      self->last_read_us = g_source_get_time (self->stall_source);
      return;
    }

  self->stall_source = attach_source (self, g_source_new (&stall_source_funcs, sizeof (GSource)),
                                      stalled_cb);
  self->last_read_us = g_get_monotonic_time ();
  g_source_set_ready_time (self->stall_source, self->last_read_us + stall_timeout_us (self));
}

/* --- Events -------------------------------------------------------------- */

static void
first_delta (NatterChatStream *self)
{
  if (self->got_delta)
    return;
  self->got_delta = TRUE;
  self->ttft_us = g_get_monotonic_time () - self->start_us;
}

static void
content_delta_cb (NatterChatStream *self,
                  const char       *text)
{
  first_delta (self);
  g_signal_emit (self, signals[DELTA], 0, text);
}

static void
reasoning_delta_cb (NatterChatStream *self,
                    const char       *text)
{
  first_delta (self);
  g_signal_emit (self, signals[REASONING_DELTA], 0, text);
}

static void
usage_cb (NatterChatStream *self,
          JsonObject       *usage)
{
  g_signal_emit (self, signals[USAGE], 0, usage);
}

/* One read can hold many events; after Stop, none of the rest is shown. */
static void
sse_event_cb (NatterChatStream *self,
              const char       *type,
              const char       *data,
              const char       *id)
{
  if (self->decode_error == NULL && !g_cancellable_is_cancelled (self->io_cancellable))
    natter_chunk_decoder_feed (self->decoder, type, data, &self->decode_error);
}

static void
new_decoding_pipeline (NatterChatStream *self)
{
  g_clear_object (&self->parser);
  g_clear_object (&self->decoder);
  self->parser = natter_sse_parser_new ();
  self->decoder = natter_chunk_decoder_new ();

  g_signal_connect_swapped (self->parser, "event", G_CALLBACK (sse_event_cb), self);
  g_signal_connect_swapped (self->decoder, "content-delta", G_CALLBACK (content_delta_cb), self);
  g_signal_connect_swapped (self->decoder, "reasoning-delta", G_CALLBACK (reasoning_delta_cb), self);
  g_signal_connect_swapped (self->decoder, "usage", G_CALLBACK (usage_cb), self);
}

/* --- Reading the body -------------------------------------------------- */

static GError *
protocol_error (const GError *sse_error)
{
  return g_error_new_literal (NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL, sse_error->message);
}

static gboolean
is_complete (NatterChatStream *self)
{
  return natter_chunk_decoder_is_done (self->decoder) ||
         natter_chunk_decoder_get_finish_reason (self->decoder) != NULL;
}

static void
end_of_body (NatterChatStream *self)
{
  g_autoptr(GError) error = NULL;

  if (!natter_sse_parser_end (self->parser, &error))
    finish_error (self, protocol_error (error));
  else if (is_complete (self))
    finish_ok (self);
  else
    finish_error (self, g_error_new_literal (NATTER_API_ERROR, NATTER_API_ERROR_TRUNCATED,
                                             _("The answer was cut off: the connection ended before the provider finished.")));
}

/* Returns whether to read on. */
static gboolean
consume (NatterChatStream *self,
         const char       *data,
         gsize             size)
{
  g_autoptr(GError) error = NULL;

  self->n_bytes += size;
  if (!natter_sse_parser_feed (self->parser, data, size, &error))
    finish_error (self, protocol_error (error));
  else if (g_cancellable_is_cancelled (self->io_cancellable))
    finish_error (self, cancelled_error (self));
  else if (self->decode_error != NULL)
    finish_error (self, g_steal_pointer (&self->decode_error));
  else if (natter_chunk_decoder_is_done (self->decoder))
    {
      drain_response (self);
      finish_ok (self);
    }
  else
    return TRUE;
  return FALSE;
}

/* Takes what one read gave: @n bytes in the read buffer, or @error.
 * Returns whether to read on. */
static gboolean
take_read (NatterChatStream *self,
           gssize            n,
           const GError     *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    finish_error (self, cancelled_error (self));
  else if (error != NULL)
    fail_or_retry (self,
                   g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_TRUNCATED,
                                _("The answer was cut off: %s"), error->message),
                   TRUE);
  else if (n == 0)
    end_of_body (self);
  else
    {
      touch_stall_timer (self);
      return consume (self, (const char *) self->read_buffer, n);
    }
  return FALSE;
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(NatterChatStream) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);

  if (take_read (self, n, error))
    read_next (self);
}

typedef enum {
  READ_OVER,                /* the run finished or is retrying */
  READ_WOULD_BLOCK,
  READ_WOULD_BLOCK_AT_ONCE, /* not a byte this time */
  READ_BUDGET_SPENT,
} ReadResult;

/* An async read per read would cost a GTask and a main loop iteration each,
 * and libsoup hands each chunk of a chunked body over in two or three
 * reads: what has arrived is read at once, up to READ_SIZE bytes per main
 * loop iteration so that a fast server cannot hold the loop. */
static ReadResult
read_available (NatterChatStream *self)
{
  GPollableInputStream *input = G_POLLABLE_INPUT_STREAM (self->input);
  gsize budget = READ_SIZE;

  while (budget > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize n = -1;

      /* Checked here rather than passed to the read, which would make it
       * the thread's current cancellable around every read. */
      if (!g_cancellable_set_error_if_cancelled (self->io_cancellable, &error))
        n = g_pollable_input_stream_read_nonblocking (input, self->read_buffer, READ_SIZE,
                                                      NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return budget == READ_SIZE ? READ_WOULD_BLOCK_AT_ONCE : READ_WOULD_BLOCK;
      if (!take_read (self, n, error))
        return READ_OVER;
      budget -= MIN (budget, (gsize) n);
    }
  return READ_BUDGET_SPENT;
}

static gboolean readable_cb (GObject  *stream,
                             gpointer  user_data);

static void
watch_input (NatterChatStream *self)
{
  self->read_source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->input),
                                                             self->io_cancellable);
  g_source_set_callback (self->read_source, G_SOURCE_FUNC (readable_cb), g_object_ref (self),
                         g_object_unref);
  g_source_attach (self->read_source, g_task_get_context (self->task));
}

/* A watch made when nothing was buffered waits on the socket, and can go on
 * waiting on it: GLib 2.74 wakes its own loop up for every source added or
 * removed, so a new watch per token cost a few system calls more.  A watch
 * made with data in libsoup's buffers fires at once, and so does one that
 * cannot be kept (HTTP/2's waits on a cancellable used once): those are
 * replaced, as is any watch that fires with nothing to read. */
static gboolean
readable_cb (GObject  *stream,
             gpointer  user_data)
{
  NatterChatStream *self = user_data;
  ReadResult result = read_available (self);

  if (result == READ_OVER)
    return G_SOURCE_REMOVE;
  if (result == READ_WOULD_BLOCK && self->keep_watch)
    return G_SOURCE_CONTINUE;

  clear_source (&self->read_source);
  watch_input (self);
  return G_SOURCE_REMOVE;
}

static void
read_next (NatterChatStream *self)
{
  if (!self->pollable)
    g_input_stream_read_async (self->input, self->read_buffer, READ_SIZE, G_PRIORITY_DEFAULT,
                               self->io_cancellable, read_cb, g_object_ref (self));
  else if (read_available (self) != READ_OVER)
    watch_input (self);
}

/* --- Responses that are not an event stream ---------------------------- */

static GError *
error_for_body (NatterChatStream *self,
                GBytes           *body)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (self->message);
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  gsize length;
  const char *data = g_bytes_get_data (body, &length);
  g_autofree char *said = NULL;

  if (!SOUP_STATUS_IS_SUCCESSFUL (self->http_status))
    return natter_api_error_new_for_response (self->message, body);

  said = natter_api_error_parse_body (data, length, content_type);
  /* Nothing to quote is not an empty body: a JSON answer without an error
   * is a whole completion from a server that does not stream. */
  if (said == NULL && length > 0)
    return g_error_new_literal (NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL,
                                _("The server did not send an event stream"));
  if (said != NULL && g_strcmp0 (content_type, "application/json") == 0)
    return g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER,
                        _("The provider reported an error: “%s”"), said);
  return g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL,
                      _("The provider answered with “%s” instead of an event stream: %s"),
                      content_type != NULL ? content_type : _("no content type"),
                      said != NULL ? said : _("an empty body"));
}

static void
error_body_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(NatterChatStream) self = user_data;
  g_autoptr(GError) io_error = NULL;
  g_autoptr(GBytes) body = NULL;
  gsize length = 0;
  GError *error;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (source), result, &length, &io_error) &&
      g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      finish_error (self, cancelled_error (self));
      return;
    }

  /* A broken error body still tells the status: use what arrived. */
  body = g_bytes_new (self->error_body, length);
  error = error_for_body (self, body);
  fail_or_retry (self, error, FALSE);
}

/* Error bodies are read whole but capped, in case a proxy sends a novel. */
static void
read_error_body (NatterChatStream *self)
{
  self->error_body = g_malloc (ERROR_BODY_MAX_SIZE);
  g_input_stream_read_all_async (self->input, self->error_body, ERROR_BODY_MAX_SIZE,
                                 G_PRIORITY_DEFAULT, self->io_cancellable,
                                 error_body_cb, g_object_ref (self));
}

/* --- Sending ------------------------------------------------------------- */

static gboolean
is_event_stream (SoupMessage *message)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);

  /* No content type at all is left to the parser to judge. */
  return content_type == NULL || g_ascii_strcasecmp (content_type, "text/event-stream") == 0;
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(NatterChatStream) self = user_data;
  g_autoptr(GError) error = NULL;

  self->input = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (self->input == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        finish_error (self, cancelled_error (self));
      else
        fail_or_retry (self, natter_api_error_new_for_network (error),
                       is_transient_io_error (error));
      return;
    }

  touch_stall_timer (self);
  self->http_status = soup_message_get_status (self->message);
  self->retry_after = natter_api_parse_retry_after (
      soup_message_headers_get_one (soup_message_get_response_headers (self->message), "Retry-After"),
      NULL);

  if (SOUP_STATUS_IS_SUCCESSFUL (self->http_status) && is_event_stream (self->message))
    {
      self->pollable = G_IS_POLLABLE_INPUT_STREAM (self->input) &&
                       g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (self->input));
      self->keep_watch = soup_message_get_http_version (self->message) != SOUP_HTTP_2_0;
      if (self->read_buffer == NULL)
        self->read_buffer = g_malloc (READ_SIZE);
      read_next (self);
    }
  else
    read_error_body (self);
}

static void
start_attempt (NatterChatStream *self)
{
  GError *error = NULL;
  SoupMessageHeaders *headers;

  self->n_attempts++;
  self->http_status = 0;
  self->retry_after = -1;
  new_decoding_pipeline (self);

  self->message = natter_client_new_message (self->client, "POST", "/chat/completions", &error);
  if (self->message == NULL)
    {
      finish_error (self, error);
      return;
    }

  headers = soup_message_get_request_headers (self->message);
  soup_message_headers_replace (headers, "Accept", "text/event-stream");
  soup_message_set_request_body_from_bytes (self->message, "application/json", self->body);
  /* Otherwise libsoup gives every POST a new connection, and a new TLS
   * handshake, rather than the one the last (drained) answer left open.
   * The flag only picks the connection: libsoup still never sends a POST
   * twice itself; a reused connection found closed fails before the first
   * delta, and maybe_retry() retries that. */
  soup_message_add_flags (self->message, SOUP_MESSAGE_IDEMPOTENT);

  touch_stall_timer (self);
  soup_session_send_async (natter_client_get_session (self->client), self->message,
                           G_PRIORITY_DEFAULT, self->io_cancellable,
                           sent_cb, g_object_ref (self));
}

static void
user_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  GCancellable *io_cancellable = user_data;

  g_cancellable_cancel (io_cancellable);
}

/**
 * natter_chat_stream_run_async:
 * @self: a #NatterChatStream
 * @cancellable: (nullable): cancels the whole call, in any phase
 *
 * Sends the request and streams the answer, signalling each delta. Network
 * failures, 408, 429 and 5xx are retried before the first delta only.
 * Cancelling keeps what was received and reports %G_IO_ERROR_CANCELLED.
 */
void
natter_chat_stream_run_async (NatterChatStream    *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (NATTER_IS_CHAT_STREAM (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_chat_stream_run_async);
  /* The stream decides what a cancellation means: an answer that completed
   * just before Stop was pressed is still complete. */
  g_task_set_check_cancellable (task, FALSE);
  if (self->task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("This answer is already being streamed."));
      return;
    }

  self->task = g_steal_pointer (&task);
  self->io_cancellable = g_cancellable_new ();
  self->body = natter_chat_request_to_json (self->request);
  self->start_us = g_get_monotonic_time ();
  self->ttft_us = -1;
  self->end_us = 0;
  self->n_bytes = 0;
  self->n_attempts = 0;
  self->stalled = FALSE;
  self->got_delta = FALSE;

  if (cancellable != NULL)
    self->user_cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (user_cancelled_cb),
                                                     g_object_ref (self->io_cancellable),
                                                     g_object_unref);
  start_attempt (self);
}

gboolean
natter_chat_stream_run_finish (NatterChatStream  *self,
                               GAsyncResult      *result,
                               GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- GObject ------------------------------------------------------------- */

static void
natter_chat_stream_dispose (GObject *object)
{
  NatterChatStream *self = NATTER_CHAT_STREAM (object);

  g_clear_object (&self->decoder);
  g_clear_object (&self->request);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (natter_chat_stream_parent_class)->dispose (object);
}

static void
natter_chat_stream_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  NatterChatStream *self = NATTER_CHAT_STREAM (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_REQUEST:
      g_value_set_object (value, self->request);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_chat_stream_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  NatterChatStream *self = NATTER_CHAT_STREAM (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;
    case PROP_REQUEST:
      self->request = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_chat_stream_class_init (NatterChatStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GType type = G_TYPE_FROM_CLASS (klass);

  object_class->dispose = natter_chat_stream_dispose;
  object_class->get_property = natter_chat_stream_get_property;
  object_class->set_property = natter_chat_stream_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, NATTER_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REQUEST] =
    g_param_spec_object ("request", NULL, NULL, NATTER_TYPE_CHAT_REQUEST,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NatterChatStream::delta:
   * @text: the next piece of the answer
   */
  signals[DELTA] =
    g_signal_new ("delta", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * NatterChatStream::reasoning-delta:
   * @text: the next piece of the model's reasoning, shown apart
   */
  signals[REASONING_DELTA] =
    g_signal_new ("reasoning-delta", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * NatterChatStream::usage:
   * @usage: the provider's token counts, as sent
   */
  signals[USAGE] =
    g_signal_new ("usage", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, JSON_TYPE_OBJECT | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * NatterChatStream::retrying:
   * @retry: the number of the retry about to be waited for, from 1
   * @delay_ms: how long the wait is, for a countdown
   */
  signals[RETRYING] =
    g_signal_new ("retrying", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);

  /**
   * NatterChatStream::finished:
   *
   * The answer is complete.
   */
  signals[FINISHED] =
    g_signal_new ("finished", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * NatterChatStream::failed:
   * @error: why; %G_IO_ERROR_CANCELLED when stopped
   */
  signals[FAILED] =
    g_signal_new ("failed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
natter_chat_stream_init (NatterChatStream *self)
{
  self->ttft_us = -1;
  self->retry_after = -1;
}

NatterChatStream *
natter_chat_stream_new (NatterClient      *client,
                        NatterChatRequest *request)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (client), NULL);
  g_return_val_if_fail (NATTER_IS_CHAT_REQUEST (request), NULL);

  return g_object_new (NATTER_TYPE_CHAT_STREAM, "client", client, "request", request, NULL);
}

/**
 * natter_chat_stream_get_client:
 *
 * Returns: (transfer none): the client the call goes through
 */
NatterClient *
natter_chat_stream_get_client (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), NULL);
  return self->client;
}

/**
 * natter_chat_stream_get_request:
 *
 * Returns: (transfer none): what is sent
 */
NatterChatRequest *
natter_chat_stream_get_request (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), NULL);
  return self->request;
}

const char *
natter_chat_stream_get_finish_reason (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), NULL);
  return self->decoder != NULL ? natter_chunk_decoder_get_finish_reason (self->decoder) : NULL;
}

const char *
natter_chat_stream_get_response_id (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), NULL);
  return self->decoder != NULL ? natter_chunk_decoder_get_id (self->decoder) : NULL;
}

/* The model that answered, which a router may have picked. */
const char *
natter_chat_stream_get_model (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), NULL);
  return self->decoder != NULL ? natter_chunk_decoder_get_model (self->decoder) : NULL;
}

/**
 * natter_chat_stream_get_usage:
 *
 * Returns: (transfer none) (nullable): the provider's usage object
 */
JsonObject *
natter_chat_stream_get_usage (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), NULL);
  return self->decoder != NULL ? natter_chunk_decoder_get_usage (self->decoder) : NULL;
}

/**
 * natter_chat_stream_get_tool_calls:
 *
 * Returns: (transfer none) (nullable) (element-type NatterToolCall): the calls
 */
GPtrArray *
natter_chat_stream_get_tool_calls (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), NULL);
  return self->decoder != NULL ? natter_chunk_decoder_get_tool_calls (self->decoder) : NULL;
}

/* Time to first token, from the start of the call; -1 before any. */
gint64
natter_chat_stream_get_ttft_us (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), -1);
  return self->ttft_us;
}

gint64
natter_chat_stream_get_duration_us (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), 0);

  if (self->start_us == 0)
    return 0;
  return (self->end_us != 0 ? self->end_us : g_get_monotonic_time ()) - self->start_us;
}

guint
natter_chat_stream_get_n_chunks (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), 0);
  return self->decoder != NULL ? natter_chunk_decoder_get_n_chunks (self->decoder) : 0;
}

guint64
natter_chat_stream_get_n_bytes (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), 0);
  return self->n_bytes;
}

guint
natter_chat_stream_get_n_attempts (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), 0);
  return self->n_attempts;
}

/* The status of the last response; 0 when none came. */
guint
natter_chat_stream_get_http_status (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), 0);
  return self->http_status;
}

/* The last Retry-After, in seconds; -1 when none was sent. */
gint64
natter_chat_stream_get_retry_after (NatterChatStream *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_STREAM (self), -1);
  return self->retry_after;
}
