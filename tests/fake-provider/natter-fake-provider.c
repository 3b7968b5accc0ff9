/* natter-fake-provider.c — a scriptable OpenAI-compatible server on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "natter-fake-provider.h"

#include <errno.h>
#include <gio/gnetworking.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define CHAT_PATH "/v1/chat/completions"
#define MODELS_PATH "/v1/models"

/* --- Scripts -------------------------------------------------------------- */

/* A piece is either bytes to write (in writes of at most @split bytes) or,
 * when @bytes is NULL, a pause of @pause_ms. */
typedef struct {
  GBytes *bytes;
  gsize   split;
  guint   pause_ms;
} Piece;

struct _NatterFakeScript {
  guint               status;
  SoupMessageHeaders *headers;
  char               *body;
  gsize               split;
  guint               interval;
  NatterFakeEnding    ending;
  GArray             *pieces;
};

G_DEFINE_BOXED_TYPE (NatterFakeScript, natter_fake_script,
                     natter_fake_script_ref, natter_fake_script_unref)

static void
piece_clear (gpointer data)
{
  Piece *piece = data;

  g_clear_pointer (&piece->bytes, g_bytes_unref);
}

NatterFakeScript *
natter_fake_script_new (guint status)
{
  NatterFakeScript *script = g_atomic_rc_box_new0 (NatterFakeScript);

  script->status = status;
  script->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
  script->ending = NATTER_FAKE_ENDING_COMPLETE;
  script->pieces = g_array_new (FALSE, TRUE, sizeof (Piece));
  g_array_set_clear_func (script->pieces, piece_clear);

  return script;
}

NatterFakeScript *
natter_fake_script_new_completion (guint n_tokens)
{
  NatterFakeScript *script = natter_fake_script_new (SOUP_STATUS_OK);

  for (guint i = 0; i < n_tokens; i++)
    {
      g_autofree char *token = g_strdup_printf ("tok%u ", i);

      natter_fake_script_add_content (script, token);
    }
  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_usage (script, 10, n_tokens);
  natter_fake_script_add_done (script);

  return script;
}

NatterFakeScript *
natter_fake_script_ref (NatterFakeScript *script)
{
  g_return_val_if_fail (script != NULL, NULL);

  return g_atomic_rc_box_acquire (script);
}

static void
natter_fake_script_clear (gpointer data)
{
  NatterFakeScript *script = data;

  g_clear_pointer (&script->headers, soup_message_headers_unref);
  g_clear_pointer (&script->body, g_free);
  g_clear_pointer (&script->pieces, g_array_unref);
}

void
natter_fake_script_unref (NatterFakeScript *script)
{
  g_return_if_fail (script != NULL);

  g_atomic_rc_box_release_full (script, natter_fake_script_clear);
}

void
natter_fake_script_set_header (NatterFakeScript *script,
                               const char       *name,
                               const char       *value)
{
  g_return_if_fail (script != NULL);
  g_return_if_fail (name != NULL);

  if (value != NULL)
    soup_message_headers_replace (script->headers, name, value);
  else
    soup_message_headers_remove (script->headers, name);
}

void
natter_fake_script_set_body (NatterFakeScript *script,
                             const char       *body)
{
  g_return_if_fail (script != NULL);

  g_free (script->body);
  script->body = g_strdup (body);
}

void
natter_fake_script_set_split (NatterFakeScript *script,
                              gsize             bytes)
{
  g_return_if_fail (script != NULL);

  script->split = bytes;
}

void
natter_fake_script_set_interval (NatterFakeScript *script,
                                 guint             ms)
{
  g_return_if_fail (script != NULL);

  script->interval = ms;
}

void
natter_fake_script_set_ending (NatterFakeScript *script,
                               NatterFakeEnding  ending)
{
  g_return_if_fail (script != NULL);

  script->ending = ending;
}

static void
script_add_bytes (NatterFakeScript *script,
                  GBytes           *bytes)
{
  Piece piece = { NULL, script->split, 0 };

  /* An empty chunk would end a chunked body early, so it is not a piece. */
  if (g_bytes_get_size (bytes) == 0)
    return;

  piece.bytes = g_bytes_ref (bytes);
  g_array_append_val (script->pieces, piece);
}

static void
script_add_string (NatterFakeScript *script,
                   char             *text)
{
  g_autoptr(GBytes) bytes = g_bytes_new_take (text, strlen (text));

  script_add_bytes (script, bytes);
}

void
natter_fake_script_add_raw (NatterFakeScript *script,
                            const char       *bytes,
                            gssize            len)
{
  g_autoptr(GBytes) piece = NULL;

  g_return_if_fail (script != NULL);
  g_return_if_fail (bytes != NULL || len == 0);

  if (len < 0)
    len = strlen (bytes);
  piece = g_bytes_new (bytes, len);
  script_add_bytes (script, piece);
}

void
natter_fake_script_add_pause (NatterFakeScript *script,
                              guint             ms)
{
  Piece piece = { NULL, 0, ms };

  g_return_if_fail (script != NULL);

  g_array_append_val (script->pieces, piece);
}

void
natter_fake_script_add_comment (NatterFakeScript *script,
                                const char       *text)
{
  g_return_if_fail (script != NULL);
  g_return_if_fail (text != NULL);

  script_add_string (script, g_strdup_printf (": %s\n\n", text));
}

void
natter_fake_script_add_done (NatterFakeScript *script)
{
  g_return_if_fail (script != NULL);

  script_add_string (script, g_strdup ("data: [DONE]\n\n"));
}

/* Takes the builder's root as the data of one event. */
static void
script_add_event (NatterFakeScript *script,
                  JsonBuilder      *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *json = json_to_string (root, FALSE);

  script_add_string (script, g_strdup_printf ("data: %s\n\n", json));
}

/* Opens the object every chunk shares; the caller adds "choices" and
 * closes it. */
static JsonBuilder *
begin_chunk (void)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, "chatcmpl-fake");
  json_builder_set_member_name (builder, "object");
  json_builder_add_string_value (builder, "chat.completion.chunk");
  json_builder_set_member_name (builder, "created");
  json_builder_add_int_value (builder, 1700000000);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, "natter-fake-1");

  return builder;
}

/* One chunk with a single choice; @delta is consumed. */
static void
script_add_choice (NatterFakeScript *script,
                   JsonNode         *delta,
                   const char       *finish_reason)
{
  g_autoptr(JsonBuilder) builder = begin_chunk ();

  json_builder_set_member_name (builder, "choices");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, 0);
  json_builder_set_member_name (builder, "delta");
  json_builder_add_value (builder, delta);
  json_builder_set_member_name (builder, "finish_reason");
  if (finish_reason != NULL)
    json_builder_add_string_value (builder, finish_reason);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  script_add_event (script, builder);
}

static void
script_add_text_delta (NatterFakeScript *script,
                       const char       *member,
                       const char       *text)
{
  g_autoptr(JsonBuilder) delta = json_builder_new ();

  json_builder_begin_object (delta);
  json_builder_set_member_name (delta, member);
  json_builder_add_string_value (delta, text);
  json_builder_end_object (delta);

  script_add_choice (script, json_builder_get_root (delta), NULL);
}

void
natter_fake_script_add_content (NatterFakeScript *script,
                                const char       *text)
{
  g_return_if_fail (script != NULL);
  g_return_if_fail (text != NULL);

  script_add_text_delta (script, "content", text);
}

void
natter_fake_script_add_reasoning (NatterFakeScript *script,
                                  const char       *text)
{
  g_return_if_fail (script != NULL);
  g_return_if_fail (text != NULL);

  script_add_text_delta (script, "reasoning", text);
}

static void
add_function (JsonBuilder *builder,
              const char  *name,
              const char  *arguments)
{
  json_builder_set_member_name (builder, "function");
  json_builder_begin_object (builder);
  if (name != NULL)
    {
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, name);
    }
  json_builder_set_member_name (builder, "arguments");
  json_builder_add_string_value (builder, arguments != NULL ? arguments : "");
  json_builder_end_object (builder);
}

void
natter_fake_script_add_tool_call (NatterFakeScript *script,
                                  guint             index,
                                  const char       *id,
                                  const char       *name,
                                  const char       *arguments)
{
  g_autoptr(JsonBuilder) delta = json_builder_new ();

  g_return_if_fail (script != NULL);

  json_builder_begin_object (delta);
  json_builder_set_member_name (delta, "tool_calls");
  json_builder_begin_array (delta);
  json_builder_begin_object (delta);
  json_builder_set_member_name (delta, "index");
  json_builder_add_int_value (delta, index);
  /* Later fragments of a call carry neither id nor type nor name. */
  if (id != NULL)
    {
      json_builder_set_member_name (delta, "id");
      json_builder_add_string_value (delta, id);
      json_builder_set_member_name (delta, "type");
      json_builder_add_string_value (delta, "function");
    }
  add_function (delta, name, arguments);
  json_builder_end_object (delta);
  json_builder_end_array (delta);
  json_builder_end_object (delta);

  script_add_choice (script, json_builder_get_root (delta), NULL);
}

void
natter_fake_script_add_finish (NatterFakeScript *script,
                               const char       *reason)
{
  g_autoptr(JsonBuilder) delta = json_builder_new ();

  g_return_if_fail (script != NULL);

  json_builder_begin_object (delta);
  json_builder_end_object (delta);

  script_add_choice (script, json_builder_get_root (delta), reason);
}

void
natter_fake_script_add_usage (NatterFakeScript *script,
                              guint             prompt_tokens,
                              guint             completion_tokens)
{
  g_autoptr(JsonBuilder) builder = begin_chunk ();

  g_return_if_fail (script != NULL);

  json_builder_set_member_name (builder, "choices");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "usage");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prompt_tokens");
  json_builder_add_int_value (builder, prompt_tokens);
  json_builder_set_member_name (builder, "completion_tokens");
  json_builder_add_int_value (builder, completion_tokens);
  json_builder_set_member_name (builder, "total_tokens");
  json_builder_add_int_value (builder, (gint64) prompt_tokens + completion_tokens);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  script_add_event (script, builder);
}

void
natter_fake_script_add_error_chunk (NatterFakeScript *script,
                                    const char       *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_if_fail (script != NULL);
  g_return_if_fail (message != NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "code");
  json_builder_add_int_value (builder, 502);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  script_add_event (script, builder);
}

/* --- The server ----------------------------------------------------------- */

/* One response being played. The provider owns it; it ends when the
 * message finishes, the server hangs up or the client does. */
typedef struct {
  NatterFakeProvider *provider;
  SoupServerMessage  *msg;
  NatterFakeScript   *script;
  guint               piece;
  gsize               offset;
  guint               unwritten;  /* chunks appended but not yet written */
  GSource            *timer;
  GSource            *watch;
  gboolean            ended;      /* the server completed or hung up */
} Play;

struct _NatterFakeProvider {
  GObject           parent_instance;

  SoupServer       *server;
  GMainContext     *context;
  guint             port;

  GQueue            scripts;
  GQueue            model_scripts;
  NatterFakeScript *default_script;
  char             *required_key;
  GStrv             model_ids;

  GPtrArray        *requests;
  GPtrArray        *plays;
  guint             n_hangups;
};

G_DEFINE_FINAL_TYPE (NatterFakeProvider, natter_fake_provider, G_TYPE_OBJECT)

enum {
  REQUEST_RECEIVED,
  CLIENT_HUNG_UP,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char * const default_model_ids[] = {
  "natter-fake-1", "natter-fake-reasoner", NULL
};

static void play_step (Play *play);

static void
source_destroy_and_unref (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static void
play_free (Play *play)
{
  g_clear_pointer (&play->timer, source_destroy_and_unref);
  g_clear_pointer (&play->watch, source_destroy_and_unref);
  g_signal_handlers_disconnect_by_data (play->msg, play);
  g_clear_object (&play->msg);
  g_clear_pointer (&play->script, natter_fake_script_unref);
  g_free (play);
}

static void
play_forget (Play *play)
{
  g_ptr_array_remove_fast (play->provider->plays, play);
}

/* Takes the connection of a paused message away from libsoup, which
 * forgets the message, and closes it. */
static void
play_close_connection (Play *play)
{
  g_autoptr(GIOStream) stream = NULL;

  g_signal_handlers_disconnect_by_data (play->msg, play);
  stream = soup_server_message_steal_connection (play->msg);
  if (stream != NULL)
    g_io_stream_close (stream, NULL, NULL);
}

/* A connection cut between two chunks looks like a clean end of the body to
 * libsoup 3.2 clients; cut it inside one, after a chunk size that promises
 * data, so the client sees the body end too early, as when a network drops. */
static void
play_hang_up (Play *play)
{
  static const char dangling_chunk_size[] = "10\r\n";
  GSocket *socket = soup_server_message_get_socket (play->msg);

  /* Taking the connection away from libsoup closes its chunked body
   * stream, which writes the last chunk: shut the socket first so that
   * write fails. */
  if (socket != NULL)
    {
      /* No chunk before the headers, which were never sent. */
      if (play->script->ending != NATTER_FAKE_ENDING_HANG_UP_BEFORE_HEADERS)
        g_socket_send (socket, dangling_chunk_size, strlen (dangling_chunk_size), NULL, NULL);
      g_socket_shutdown (socket, TRUE, TRUE, NULL);
    }

  play_close_connection (play);
  play_forget (play);
}

static void
provider_count_hang_up (NatterFakeProvider *self)
{
  self->n_hangups++;
  g_signal_emit (self, signals[CLIENT_HUNG_UP], 0);
}

static void
play_client_hung_up (Play     *play,
                     gboolean  close_connection)
{
  g_autoptr(NatterFakeProvider) self = g_object_ref (play->provider);

  if (close_connection)
    play_close_connection (play);
  play_forget (play);
  provider_count_hang_up (self);
}

static gboolean
play_timer_cb (gpointer data)
{
  Play *play = data;

  g_clear_pointer (&play->timer, g_source_unref);
  play_step (play);

  return G_SOURCE_REMOVE;
}

static void
play_schedule (Play  *play,
               guint  ms)
{
  g_assert (play->timer == NULL);

  play->timer = g_timeout_source_new (ms);
  g_source_set_callback (play->timer, play_timer_cb, play, NULL);
  g_source_attach (play->timer, play->provider->context);
}

static void
play_end (Play *play)
{
  /* A stalled play keeps its watch: a client giving up on it hangs up. */
  if (play->script->ending == NATTER_FAKE_ENDING_STALL)
    return;

  play->ended = TRUE;
  g_clear_pointer (&play->watch, source_destroy_and_unref);

  if (play->script->ending == NATTER_FAKE_ENDING_HANG_UP_BEFORE_HEADERS)
    {
      play_close_connection (play);
      play_forget (play);
      return;
    }

  if (play->script->ending == NATTER_FAKE_ENDING_HANG_UP)
    {
      play_hang_up (play);
      return;
    }

  soup_message_body_complete (soup_server_message_get_response_body (play->msg));
  soup_server_message_unpause (play->msg);
}

static void
play_write (Play  *play,
            Piece *piece)
{
  gsize size = g_bytes_get_size (piece->bytes);
  gsize len = size - play->offset;
  g_autoptr(GBytes) chunk = NULL;

  if (piece->split > 0)
    len = MIN (len, piece->split);

  chunk = g_bytes_new_from_bytes (piece->bytes, play->offset, len);
  play->offset += len;
  if (play->offset == size)
    {
      play->piece++;
      play->offset = 0;
    }

  /* The next step waits for "wrote-chunk", so each write leaves on its own. */
  play->unwritten++;
  soup_message_body_append_bytes (soup_server_message_get_response_body (play->msg), chunk);
  soup_server_message_unpause (play->msg);
}

static void
play_step (Play *play)
{
  GArray *pieces = play->script->pieces;
  Piece *piece;

  if (play->piece >= pieces->len ||
      play->script->ending == NATTER_FAKE_ENDING_HANG_UP_BEFORE_HEADERS)
    {
      play_end (play);
      return;
    }

  piece = &g_array_index (pieces, Piece, play->piece);
  if (piece->bytes == NULL)
    {
      play->piece++;
      play_schedule (play, piece->pause_ms);
      return;
    }

  play_write (play, piece);
}

static void
play_wrote_chunk_cb (SoupServerMessage *msg,
                     Play              *play)
{
  if (play->unwritten > 0)
    play->unwritten--;

  if (play->unwritten == 0 && play->timer == NULL)
    play_schedule (play, play->script->interval);
}

static void
play_finished_cb (SoupServerMessage *msg,
                  Play              *play)
{
  /* libsoup gave up on the message before the body was complete: its
   * write failed because the client went away. */
  if (!play->ended)
    play_client_hung_up (play, FALSE);
  else
    play_forget (play);
}

/* While a stream is paused or stalled libsoup does not look at the socket,
 * so the end of the client's side is noticed here: nothing may arrive on a
 * connection while its response is still being written, except its end. */
static gboolean
play_socket_cb (GSocket      *socket,
                GIOCondition  condition,
                gpointer      data)
{
  Play *play = data;
  char byte;
  gssize n;

  /* GSocket has no non-blocking peek, and a peek must not block here. */
  n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&play->watch, g_source_unref);
  /* Unexpected bytes are left to libsoup; only an end or an error counts. */
  if (n <= 0)
    play_client_hung_up (play, TRUE);

  return G_SOURCE_REMOVE;
}

static void
play_watch_socket (Play *play)
{
  GSocket *socket = soup_server_message_get_socket (play->msg);

  if (socket == NULL)
    return;

  /* Small writes must leave at once, not wait for an acknowledgement. */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);

  play->watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (play->watch, G_SOURCE_FUNC (play_socket_cb), play, NULL);
  g_source_attach (play->watch, play->provider->context);
}

static void
copy_headers (SoupMessageHeaders *from,
              SoupMessageHeaders *to,
              gboolean            with_content_type)
{
  SoupMessageHeadersIter iter;
  const char *name, *value;

  soup_message_headers_iter_init (&iter, from);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    {
      if (with_content_type || g_ascii_strcasecmp (name, "Content-Type") != 0)
        soup_message_headers_append (to, name, value);
    }
}

static void
respond_plain (SoupServerMessage *msg,
               NatterFakeScript  *script)
{
  const char *content_type;
  const char *body = script->body != NULL ? script->body : "";

  content_type = soup_message_headers_get_content_type (script->headers, NULL);
  soup_server_message_set_status (msg, script->status, NULL);
  copy_headers (script->headers, soup_server_message_get_response_headers (msg), FALSE);
  soup_server_message_set_response (msg,
                                    content_type != NULL ? content_type : "application/json",
                                    SOUP_MEMORY_COPY, body, strlen (body));
}

static void
respond_stream (NatterFakeProvider *self,
                SoupServerMessage  *msg,
                NatterFakeScript   *script)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  Play *play = g_new0 (Play, 1);

  soup_server_message_set_status (msg, script->status, NULL);
  copy_headers (script->headers, headers, TRUE);
  if (soup_message_headers_get_content_type (headers, NULL) == NULL)
    soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  /* libsoup looks each chunk to write up from the start of what it kept,
   * which made long streams quadratic: keep nothing once written. */
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);

  /* Stealing the connection looks up the peer's address, which fails with
   * a warning once the socket is shut down: have it looked up now. */
  soup_server_message_get_remote_address (msg);

  play->provider = self;
  play->msg = g_object_ref (msg);
  play->script = natter_fake_script_ref (script);
  g_ptr_array_add (self->plays, play);

  /* A body set on a streamed script goes first, as one piece. */
  if (script->body != NULL && script->body[0] != '\0')
    {
      play->unwritten++;
      soup_message_body_append (soup_server_message_get_response_body (msg),
                                SOUP_MEMORY_COPY, script->body, strlen (script->body));
    }

  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (play_wrote_chunk_cb), play);
  g_signal_connect (msg, "finished", G_CALLBACK (play_finished_cb), play);
  play_watch_socket (play);

  /* Nothing is appended yet, so libsoup sends the headers and then pauses
   * by itself; the first piece follows from the main loop. */
  if (play->unwritten == 0)
    play_schedule (play, 0);
}

/* Pauses @msg before anything is appended, so that not even its status
 * line goes out, and closes its connection from the main loop. */
static void
respond_hang_up_before_headers (NatterFakeProvider *self,
                                SoupServerMessage  *msg,
                                NatterFakeScript   *script)
{
  Play *play = g_new0 (Play, 1);

  /* As in respond_stream(): looked up while the socket is still open. */
  soup_server_message_get_remote_address (msg);

  play->provider = self;
  play->msg = g_object_ref (msg);
  play->script = natter_fake_script_ref (script);
  g_ptr_array_add (self->plays, play);

  soup_server_message_pause (msg);
  play_schedule (play, 0);
}

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              const char        *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
                                    SOUP_MEMORY_COPY, json, strlen (json));
}

static void
respond_unauthorized (SoupServerMessage *msg)
{
  respond_json (msg, SOUP_STATUS_UNAUTHORIZED,
                "{\"error\":{\"message\":\"Incorrect API key provided.\","
                "\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}");
}

static char *
models_to_json (const char * const *ids)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "object");
  json_builder_add_string_value (builder, "list");
  json_builder_set_member_name (builder, "data");
  json_builder_begin_array (builder);
  for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, ids[i]);
      json_builder_set_member_name (builder, "object");
      json_builder_add_string_value (builder, "model");
      json_builder_set_member_name (builder, "owned_by");
      json_builder_add_string_value (builder, "natter-fake");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static void
respond_models (NatterFakeProvider *self,
                SoupServerMessage  *msg)
{
  g_autoptr(NatterFakeScript) script = g_queue_pop_head (&self->model_scripts);
  g_autofree char *json = NULL;

  if (script != NULL && script->status == SOUP_STATUS_OK && script->pieces->len > 0)
    respond_stream (self, msg, script);
  else if (script != NULL)
    respond_plain (msg, script);
  else
    {
      json = models_to_json ((const char * const *) self->model_ids);
      respond_json (msg, SOUP_STATUS_OK, json);
    }
}

static void
respond_chat (NatterFakeProvider *self,
              SoupServerMessage  *msg)
{
  g_autoptr(NatterFakeScript) script = g_queue_pop_head (&self->scripts);

  if (script == NULL)
    script = natter_fake_script_ref (self->default_script);

  if (script->ending == NATTER_FAKE_ENDING_HANG_UP_BEFORE_HEADERS)
    respond_hang_up_before_headers (self, msg, script);
  else if (script->status == SOUP_STATUS_OK)
    respond_stream (self, msg, script);
  else
    respond_plain (msg, script);
}

static void
natter_fake_request_free (NatterFakeRequest *request)
{
  g_free (request->method);
  g_free (request->path);
  g_clear_pointer (&request->headers, soup_message_headers_unref);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_free (request);
}

static guint
provider_record (NatterFakeProvider *self,
                 SoupServerMessage  *msg,
                 const char         *path)
{
  NatterFakeRequest *request = g_new0 (NatterFakeRequest, 1);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  request->method = g_strdup (soup_server_message_get_method (msg));
  request->path = g_strdup (path);
  request->headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_REQUEST);
  copy_headers (soup_server_message_get_request_headers (msg), request->headers, TRUE);
  request->body = soup_message_body_flatten (body);
  g_ptr_array_add (self->requests, request);

  return self->requests->len - 1;
}

static gboolean
provider_is_authorized (NatterFakeProvider *self,
                        SoupServerMessage  *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autofree char *expected = NULL;

  if (self->required_key == NULL)
    return TRUE;

  expected = g_strconcat ("Bearer ", self->required_key, NULL);
  return g_strcmp0 (soup_message_headers_get_one (headers, "Authorization"), expected) == 0;
}

static void
provider_handle (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  NatterFakeProvider *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  gboolean is_chat = g_str_equal (path, CHAT_PATH);
  gboolean is_models = g_str_equal (path, MODELS_PATH);
  guint index = provider_record (self, msg, path);

  g_signal_emit (self, signals[REQUEST_RECEIVED], 0, index);

  if (!is_chat && !is_models)
    respond_json (msg, SOUP_STATUS_NOT_FOUND, "{\"error\":{\"message\":\"Not found\"}}");
  else if (g_strcmp0 (method, is_chat ? SOUP_METHOD_POST : SOUP_METHOD_GET) != 0)
    respond_json (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
                  "{\"error\":{\"message\":\"Method not allowed\"}}");
  else if (!provider_is_authorized (self, msg))
    respond_unauthorized (msg);
  else if (is_chat)
    respond_chat (self, msg);
  else
    respond_models (self, msg);
}

static void
natter_fake_provider_dispose (GObject *object)
{
  NatterFakeProvider *self = NATTER_FAKE_PROVIDER (object);

  /* Plays first: their timers and signal handlers must not outlive us while
   * the server tears down the messages still in flight. Unfinished bodies
   * are cut so their clients see the server go away, not a clean end. */
  while (self->plays->len > 0)
    {
      Play *play = g_ptr_array_index (self->plays, self->plays->len - 1);

      if (play->ended)
        play_forget (play);
      else
        play_hang_up (play);
    }
  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->server);

  g_queue_clear_full (&self->scripts, (GDestroyNotify) natter_fake_script_unref);
  g_queue_clear_full (&self->model_scripts, (GDestroyNotify) natter_fake_script_unref);
  g_clear_pointer (&self->default_script, natter_fake_script_unref);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (natter_fake_provider_parent_class)->dispose (object);
}

static void
natter_fake_provider_finalize (GObject *object)
{
  NatterFakeProvider *self = NATTER_FAKE_PROVIDER (object);

  g_free (self->required_key);
  g_strfreev (self->model_ids);
  g_ptr_array_unref (self->requests);
  g_ptr_array_unref (self->plays);

  G_OBJECT_CLASS (natter_fake_provider_parent_class)->finalize (object);
}

static void
natter_fake_provider_class_init (NatterFakeProviderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = natter_fake_provider_dispose;
  object_class->finalize = natter_fake_provider_finalize;

  /* Emitted once the request is recorded, before it is answered, so a
   * handler may still queue the script that answers it. */
  signals[REQUEST_RECEIVED] =
    g_signal_new ("request-received",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_UINT);

  signals[CLIENT_HUNG_UP] =
    g_signal_new ("client-hung-up",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
natter_fake_provider_init (NatterFakeProvider *self)
{
  self->server = soup_server_new ("server-header", "natter-fake-provider ", NULL);
  soup_server_add_handler (self->server, NULL, provider_handle, self, NULL);

  self->context = g_main_context_ref_thread_default ();
  g_queue_init (&self->scripts);
  g_queue_init (&self->model_scripts);
  self->default_script = natter_fake_script_new_completion (8);
  self->model_ids = g_strdupv ((GStrv) default_model_ids);
  self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) natter_fake_request_free);
  self->plays = g_ptr_array_new_with_free_func ((GDestroyNotify) play_free);
}

NatterFakeProvider *
natter_fake_provider_new (void)
{
  return g_object_new (NATTER_TYPE_FAKE_PROVIDER, NULL);
}

gboolean
natter_fake_provider_listen (NatterFakeProvider  *self,
                             guint                port,
                             GError             **error)
{
  g_autoslist(GUri) uris = NULL;

  g_return_val_if_fail (NATTER_IS_FAKE_PROVIDER (self), FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!soup_server_listen_local (self->server, port, SOUP_SERVER_LISTEN_IPV4_ONLY, error))
    return FALSE;

  /* libsoup runs the connections on the context current at listen time;
   * timers and watches must run there too. */
  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();

  uris = soup_server_get_uris (self->server);
  self->port = uris != NULL ? g_uri_get_port (uris->data) : 0;

  return TRUE;
}

guint
natter_fake_provider_get_port (NatterFakeProvider *self)
{
  g_return_val_if_fail (NATTER_IS_FAKE_PROVIDER (self), 0);

  return self->port;
}

char *
natter_fake_provider_dup_base_url (NatterFakeProvider *self)
{
  g_return_val_if_fail (NATTER_IS_FAKE_PROVIDER (self), NULL);

  return g_strdup_printf ("http://127.0.0.1:%u/v1", self->port);
}

void
natter_fake_provider_queue (NatterFakeProvider *self,
                            NatterFakeScript   *script)
{
  g_return_if_fail (NATTER_IS_FAKE_PROVIDER (self));
  g_return_if_fail (script != NULL);

  g_queue_push_tail (&self->scripts, natter_fake_script_ref (script));
}

void
natter_fake_provider_set_default (NatterFakeProvider *self,
                                  NatterFakeScript   *script)
{
  g_return_if_fail (NATTER_IS_FAKE_PROVIDER (self));

  g_clear_pointer (&self->default_script, natter_fake_script_unref);
  if (script != NULL)
    self->default_script = natter_fake_script_ref (script);
  else
    self->default_script = natter_fake_script_new_completion (8);
}

void
natter_fake_provider_set_required_key (NatterFakeProvider *self,
                                       const char         *key)
{
  g_return_if_fail (NATTER_IS_FAKE_PROVIDER (self));

  g_free (self->required_key);
  self->required_key = g_strdup (key);
}

void
natter_fake_provider_set_models (NatterFakeProvider *self,
                                 const char * const *ids)
{
  g_return_if_fail (NATTER_IS_FAKE_PROVIDER (self));

  g_strfreev (self->model_ids);
  self->model_ids = g_strdupv ((GStrv) ids);
}

void
natter_fake_provider_queue_models (NatterFakeProvider *self,
                                   NatterFakeScript   *script)
{
  g_return_if_fail (NATTER_IS_FAKE_PROVIDER (self));
  g_return_if_fail (script != NULL);

  g_queue_push_tail (&self->model_scripts, natter_fake_script_ref (script));
}

guint
natter_fake_provider_get_n_requests (NatterFakeProvider *self)
{
  g_return_val_if_fail (NATTER_IS_FAKE_PROVIDER (self), 0);

  return self->requests->len;
}

const NatterFakeRequest *
natter_fake_provider_get_request (NatterFakeProvider *self,
                                  guint               i)
{
  g_return_val_if_fail (NATTER_IS_FAKE_PROVIDER (self), NULL);
  g_return_val_if_fail (i < self->requests->len, NULL);

  return g_ptr_array_index (self->requests, i);
}

guint
natter_fake_provider_get_n_hangups (NatterFakeProvider *self)
{
  g_return_val_if_fail (NATTER_IS_FAKE_PROVIDER (self), 0);

  return self->n_hangups;
}
