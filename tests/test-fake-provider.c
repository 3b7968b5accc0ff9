/* test-fake-provider.c — the fake provider as a plain SoupSession sees it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "natter-fake-provider.h"

#include <string.h>

#define WAIT_MS 5000

#define CHUNK_HEAD "{\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\"," \
                   "\"created\":1700000000,\"model\":\"natter-fake-1\","
#define DELTA(delta) "data: " CHUNK_HEAD "\"choices\":[{\"index\":0,\"delta\":" delta \
                     ",\"finish_reason\":null}]}\n\n"

/* Each test runs on a private main context, so anything the provider
 * schedules on the wrong one makes the test time out. */
typedef struct {
  GMainContext       *context;
  NatterFakeProvider *provider;
  SoupSession        *session;
  char               *base_url;
} Fixture;

/* One request, read the way NatterChatStream reads: send_async, then a
 * read_bytes_async loop, every read kept apart. */
typedef struct {
  SoupMessage  *msg;
  GCancellable *cancellable;
  GInputStream *stream;
  GPtrArray    *reads;        /* GBytes */
  GError       *error;
  guint         cancel_after; /* cancel once this many reads arrived; 0 = never */
  gint64        start_time;
  gint64        headers_time;
  gint64        first_read_time;
  gboolean      got_headers;
  gboolean      done;
} Fetch;

static gboolean
set_flag_cb (gpointer data)
{
  gboolean *flag = data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the thread-default main context until *@flag is set or @ms
 * pass. */
static gboolean
wait_for_flag (gboolean *flag,
               guint     ms)
{
  GMainContext *context = g_main_context_get_thread_default ();
  g_autoptr(GSource) timeout = g_timeout_source_new (ms);
  gboolean timed_out = FALSE;

  g_source_set_callback (timeout, set_flag_cb, &timed_out, NULL);
  g_source_attach (timeout, context);
  while (!*flag && !timed_out)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);

  return *flag;
}

static void
iterate_for (guint ms)
{
  gboolean never = FALSE;

  wait_for_flag (&never, ms);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  f->provider = natter_fake_provider_new ();
  natter_fake_provider_listen (f->provider, 0, &error);
  g_assert_no_error (error);
  f->base_url = natter_fake_provider_dup_base_url (f->provider);
  f->session = soup_session_new ();
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->session);
  if (f->provider != NULL)
    g_assert_finalize_object (f->provider);
  g_free (f->base_url);
  /* Let closed connections be torn down before the context goes. */
  iterate_for (10);
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
}

static Fetch *
fetch_new (Fixture    *f,
           const char *method,
           const char *path,
           const char *body)
{
  Fetch *fetch = g_new0 (Fetch, 1);
  g_autofree char *url = g_strconcat (f->base_url, path, NULL);

  fetch->msg = soup_message_new (method, url);
  g_assert_nonnull (fetch->msg);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (fetch->msg, "application/json", bytes);
    }
  fetch->cancellable = g_cancellable_new ();
  fetch->reads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  return fetch;
}

static void
fetch_free (Fetch *fetch)
{
  g_clear_object (&fetch->stream);
  g_clear_object (&fetch->msg);
  g_clear_object (&fetch->cancellable);
  g_ptr_array_unref (fetch->reads);
  g_clear_error (&fetch->error);
  g_free (fetch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fetch, fetch_free)

static void fetch_read_next (Fetch *fetch);

static void
fetch_end (Fetch  *fetch,
           GError *error)
{
  fetch->error = error;
  fetch->done = TRUE;
  /* Dropping the stream of an unfinished body closes the connection. */
  g_clear_object (&fetch->stream);
}

static void
fetch_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  Fetch *fetch = data;
  GError *error = NULL;
  g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source),
                                                              result, &error);

  if (bytes == NULL || g_bytes_get_size (bytes) == 0)
    {
      fetch_end (fetch, error);
      return;
    }

  if (fetch->reads->len == 0)
    fetch->first_read_time = g_get_monotonic_time ();
  g_ptr_array_add (fetch->reads, g_steal_pointer (&bytes));
  if (fetch->reads->len == fetch->cancel_after)
    g_cancellable_cancel (fetch->cancellable);

  fetch_read_next (fetch);
}

static void
fetch_read_next (Fetch *fetch)
{
  g_input_stream_read_bytes_async (fetch->stream, 4096, G_PRIORITY_DEFAULT,
                                   fetch->cancellable, fetch_read_cb, fetch);
}

static void
fetch_sent_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  Fetch *fetch = data;
  GError *error = NULL;

  fetch->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (fetch->stream == NULL)
    {
      fetch_end (fetch, error);
      return;
    }

  fetch->got_headers = TRUE;
  fetch->headers_time = g_get_monotonic_time ();
  fetch_read_next (fetch);
}

static void
fetch_start (Fixture *f,
             Fetch   *fetch)
{
  fetch->start_time = g_get_monotonic_time ();
  soup_session_send_async (f->session, fetch->msg, G_PRIORITY_DEFAULT,
                           fetch->cancellable, fetch_sent_cb, fetch);
}

static void
fetch_run (Fixture *f,
           Fetch   *fetch)
{
  fetch_start (f, fetch);
  g_assert_true (wait_for_flag (&fetch->done, WAIT_MS));
}

static char *
fetch_dup_body (Fetch *fetch)
{
  GString *body = g_string_new (NULL);

  for (guint i = 0; i < fetch->reads->len; i++)
    {
      gsize size;
      const char *data = g_bytes_get_data (g_ptr_array_index (fetch->reads, i), &size);

      g_string_append_len (body, data, size);
    }

  return g_string_free (body, FALSE);
}

static void
assert_read (Fetch      *fetch,
             guint       i,
             const char *expected)
{
  gsize size;
  const char *data = g_bytes_get_data (g_ptr_array_index (fetch->reads, i), &size);
  g_autofree char *text = g_strndup (data, size);

  g_assert_cmpstr (text, ==, expected);
}

static const char *
response_header (Fetch      *fetch,
                 const char *name)
{
  return soup_message_headers_get_one (soup_message_get_response_headers (fetch->msg), name);
}

static Fetch *
fetch_chat (Fixture *f)
{
  return fetch_new (f, "POST", "/chat/completions", "{\"stream\":true}");
}


static void
request_count_cb (NatterFakeProvider *provider,
                  guint               index,
                  guint              *count)
{
  (*count)++;
}

static void
hung_up_cb (NatterFakeProvider *provider,
            gboolean           *flag)
{
  *flag = TRUE;
}

/* --- What is sent ---------------------------------------------------------- */

static void
test_events (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  g_autofree char *body = NULL;

  natter_fake_script_add_comment (script, "OPENROUTER PROCESSING");
  natter_fake_script_add_reasoning (script, "Hmm…");
  natter_fake_script_add_content (script, "Say \"hi\"\n\\");
  natter_fake_script_add_tool_call (script, 0, "call_1", "get_weather", "{\"ci");
  natter_fake_script_add_tool_call (script, 0, NULL, NULL, "ty\":\"Oslo\"}");
  natter_fake_script_add_finish (script, "tool_calls");
  natter_fake_script_add_usage (script, 12, 34);
  natter_fake_script_add_error_chunk (script, "Upstream \"busy\"");
  natter_fake_script_add_raw (script, "event: x\n", -1);
  natter_fake_script_add_raw (script, "", 0);
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);

  fetch_run (f, fetch);

  g_assert_no_error (fetch->error);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 200);
  g_assert_cmpstr (response_header (fetch, "Content-Type"), ==, "text/event-stream");
  g_assert_cmpint (soup_message_headers_get_encoding (soup_message_get_response_headers (fetch->msg)),
                   ==, SOUP_ENCODING_CHUNKED);
  body = fetch_dup_body (fetch);
  g_assert_cmpstr (body, ==,
                   ": OPENROUTER PROCESSING\n\n"
                   DELTA ("{\"reasoning\":\"Hmm…\"}")
                   DELTA ("{\"content\":\"Say \\\"hi\\\"\\n\\\\\"}")
                   DELTA ("{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
                          "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"ci\"}}]}")
                   DELTA ("{\"tool_calls\":[{\"index\":0,"
                          "\"function\":{\"arguments\":\"ty\\\":\\\"Oslo\\\"}\"}}]}")
                   "data: " CHUNK_HEAD "\"choices\":[{\"index\":0,\"delta\":{},"
                   "\"finish_reason\":\"tool_calls\"}]}\n\n"
                   "data: " CHUNK_HEAD "\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
                   "\"completion_tokens\":34,\"total_tokens\":46}}\n\n"
                   "data: {\"error\":{\"message\":\"Upstream \\\"busy\\\"\",\"code\":502}}\n\n"
                   "event: x\n"
                   "data: [DONE]\n\n");
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 0);
}

static char *
expected_completion (guint n_tokens)
{
  GString *expected = g_string_new (NULL);

  for (guint i = 0; i < n_tokens; i++)
    g_string_append_printf (expected, DELTA ("{\"content\":\"tok%u \"}"), i);
  g_string_append (expected,
                   "data: " CHUNK_HEAD "\"choices\":[{\"index\":0,\"delta\":{},"
                   "\"finish_reason\":\"stop\"}]}\n\n");
  g_string_append_printf (expected,
                          "data: " CHUNK_HEAD "\"choices\":[],\"usage\":{\"prompt_tokens\":10,"
                          "\"completion_tokens\":%u,\"total_tokens\":%u}}\n\n"
                          "data: [DONE]\n\n",
                          n_tokens, 10 + n_tokens);

  return g_string_free (expected, FALSE);
}

static void
run_and_assert_body (Fixture    *f,
                     const char *expected)
{
  g_autoptr(Fetch) fetch = fetch_chat (f);
  g_autofree char *body = NULL;

  fetch_run (f, fetch);
  g_assert_no_error (fetch->error);
  body = fetch_dup_body (fetch);
  g_assert_cmpstr (body, ==, expected);
}

/* Queued scripts answer in order, then the default one; the connection is
 * reused between them and nobody counts as hung up. */
static void
test_queue_and_default (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NatterFakeScript) first = natter_fake_script_new_completion (1);
  g_autoptr(NatterFakeScript) second = natter_fake_script_new_completion (2);
  g_autoptr(NatterFakeScript) other_default = natter_fake_script_new_completion (3);
  g_autofree char *one = expected_completion (1);
  g_autofree char *two = expected_completion (2);
  g_autofree char *three = expected_completion (3);
  g_autofree char *eight = expected_completion (8);

  natter_fake_provider_queue (f->provider, first);
  natter_fake_provider_queue (f->provider, second);

  run_and_assert_body (f, one);
  run_and_assert_body (f, two);
  run_and_assert_body (f, eight);
  natter_fake_provider_set_default (f->provider, other_default);
  run_and_assert_body (f, three);
  natter_fake_provider_set_default (f->provider, NULL);
  run_and_assert_body (f, eight);

  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 5);
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 0);
}

/* Each write of at most @split bytes arrives as a read of its own. */
static void
test_split_reads (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  const char *expected[] = { "data", ": ab", "c\n\n", "xyz", "data", ": [D", "ONE]", "\n\n" };

  natter_fake_script_set_interval (script, 15);
  natter_fake_script_set_split (script, 4);
  natter_fake_script_add_raw (script, "data: abc\n\n", -1);
  natter_fake_script_set_split (script, 0);
  natter_fake_script_add_raw (script, "xyz", -1);
  natter_fake_script_set_split (script, 4);
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);

  fetch_run (f, fetch);

  g_assert_no_error (fetch->error);
  g_assert_cmpuint (fetch->reads->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    assert_read (fetch, i, expected[i]);
}

/* A script that starts with a pause still sends its headers at once. */
static void
test_headers_before_body (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);

  natter_fake_script_add_pause (script, 400);
  natter_fake_script_add_raw (script, "data: x\n\n", -1);
  natter_fake_provider_queue (f->provider, script);

  fetch_run (f, fetch);

  g_assert_no_error (fetch->error);
  g_assert_true (fetch->got_headers);
  g_assert_cmpuint (fetch->reads->len, ==, 1);
  g_assert_cmpint (fetch->first_read_time - fetch->headers_time, >=, 250 * G_TIME_SPAN_MILLISECOND);
}

/* --- Errors ----------------------------------------------------------------- */

static void
test_error_status (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(NatterFakeScript) limited = natter_fake_script_new (429);
  g_autoptr(NatterFakeScript) gateway = natter_fake_script_new (502);
  g_autoptr(Fetch) first = fetch_chat (f);
  g_autoptr(Fetch) second = fetch_chat (f);
  g_autofree char *first_body = NULL;
  g_autofree char *second_body = NULL;
  const char *json = "{\"error\":{\"message\":\"Rate limit exceeded\",\"code\":429}}";

  natter_fake_script_set_header (limited, "Retry-After", "7");
  natter_fake_script_set_body (limited, json);
  natter_fake_provider_queue (f->provider, limited);
  natter_fake_script_set_header (gateway, "Content-Type", "text/html");
  natter_fake_script_set_body (gateway, "<html><body>Bad gateway</body></html>");
  natter_fake_provider_queue (f->provider, gateway);

  fetch_run (f, first);
  g_assert_no_error (first->error);
  g_assert_cmpuint (soup_message_get_status (first->msg), ==, 429);
  g_assert_cmpstr (response_header (first, "Retry-After"), ==, "7");
  g_assert_cmpstr (response_header (first, "Content-Type"), ==, "application/json");
  first_body = fetch_dup_body (first);
  g_assert_cmpstr (first_body, ==, json);

  fetch_run (f, second);
  g_assert_no_error (second->error);
  g_assert_cmpuint (soup_message_get_status (second->msg), ==, 502);
  g_assert_cmpstr (response_header (second, "Content-Type"), ==, "text/html");
  second_body = fetch_dup_body (second);
  g_assert_cmpstr (second_body, ==, "<html><body>Bad gateway</body></html>");
}

/* Status 200 with another content type, as a captive portal would send. */
static void
test_content_type_override (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  g_autofree char *body = NULL;

  natter_fake_script_set_header (script, "Content-Type", "text/html; charset=utf-8");
  natter_fake_script_set_body (script, "<html>Log in ");
  natter_fake_script_add_raw (script, "to the Wi-Fi</html>", -1);
  natter_fake_provider_queue (f->provider, script);

  fetch_run (f, fetch);

  g_assert_no_error (fetch->error);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 200);
  g_assert_cmpstr (response_header (fetch, "Content-Type"), ==, "text/html; charset=utf-8");
  body = fetch_dup_body (fetch);
  g_assert_cmpstr (body, ==, "<html>Log in to the Wi-Fi</html>");
}

/* A stream that ends before anything was sent, as a truncated answer. */
static void
test_empty_stream (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);

  natter_fake_provider_queue (f->provider, script);

  fetch_run (f, fetch);

  g_assert_no_error (fetch->error);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 200);
  g_assert_cmpstr (response_header (fetch, "Content-Type"), ==, "text/event-stream");
  g_assert_cmpuint (fetch->reads->len, ==, 0);
}

static void
test_not_found (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(Fetch) fetch = fetch_new (f, "GET", "/nothing/here", NULL);
  g_autofree char *body = NULL;

  fetch_run (f, fetch);

  g_assert_no_error (fetch->error);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 404);
  body = fetch_dup_body (fetch);
  g_assert_cmpstr (body, ==, "{\"error\":{\"message\":\"Not found\"}}");
}

/* --- Endings ---------------------------------------------------------------- */

/* The server drops the connection mid-body: the client sees what was sent,
 * then an error rather than a clean end. */
static void
test_server_hang_up (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  g_autofree char *body = NULL;

  natter_fake_script_add_content (script, "Hel");
  natter_fake_script_add_content (script, "lo");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_HANG_UP);
  natter_fake_provider_queue (f->provider, script);

  fetch_run (f, fetch);

  g_assert_nonnull (fetch->error);
  g_assert_false (g_error_matches (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  body = fetch_dup_body (fetch);
  g_assert_cmpstr (body, ==, DELTA ("{\"content\":\"Hel\"}") DELTA ("{\"content\":\"lo\"}"));
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 0);
}

/* The request is read, then the connection closes without a status line:
 * the client gets an error, no response, and the next script is used up. */
static void
test_hang_up_before_headers (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  g_autoptr(Fetch) next = fetch_chat (f);

  natter_fake_script_add_content (script, "never sent");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_HANG_UP_BEFORE_HEADERS);
  natter_fake_provider_queue (f->provider, script);

  fetch_run (f, fetch);

  g_assert_nonnull (fetch->error);
  g_assert_false (g_error_matches (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_assert_false (fetch->got_headers);
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 0);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
  g_assert_cmpstr (natter_fake_provider_get_request (f->provider, 0)->path, ==, "/v1/chat/completions");

  /* The default script answers the next request as usual. */
  fetch_run (f, next);
  g_assert_no_error (next->error);
  g_assert_cmpuint (soup_message_get_status (next->msg), ==, SOUP_STATUS_OK);
}

/* A stalled stream sends nothing more but stays open; when the client gives
 * up, the server counts a hang-up. */
static void
test_stall (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  gboolean hung_up = FALSE;

  natter_fake_script_add_raw (script, "data: Hel\n\n", -1);
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  g_signal_connect (f->provider, "client-hung-up", G_CALLBACK (hung_up_cb), &hung_up);

  fetch_start (f, fetch);
  while (fetch->reads->len == 0 && !fetch->done)
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpuint (fetch->reads->len, ==, 1);

  iterate_for (300);
  g_assert_false (fetch->done);
  g_assert_cmpuint (fetch->reads->len, ==, 1);
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 0);

  g_cancellable_cancel (fetch->cancellable);
  g_assert_true (wait_for_flag (&fetch->done, WAIT_MS));
  g_assert_error (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (wait_for_flag (&hung_up, WAIT_MS));
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 1);
}

/* A stall with no body at all still lets the headers through. */
static void
test_stall_before_body (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  gboolean hung_up = FALSE;

  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  g_signal_connect (f->provider, "client-hung-up", G_CALLBACK (hung_up_cb), &hung_up);

  fetch_start (f, fetch);
  g_assert_true (wait_for_flag (&fetch->got_headers, WAIT_MS));
  g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, 200);
  g_assert_cmpstr (response_header (fetch, "Content-Type"), ==, "text/event-stream");

  iterate_for (100);
  g_assert_false (fetch->done);
  g_cancellable_cancel (fetch->cancellable);
  g_assert_true (wait_for_flag (&fetch->done, WAIT_MS));
  g_assert_true (wait_for_flag (&hung_up, WAIT_MS));
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 1);
}

/* The user presses Stop while tokens are flowing. */
static void
test_client_hang_up_streaming (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  gboolean hung_up = FALSE;

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_queue (f->provider, script);
  g_signal_connect (f->provider, "client-hung-up", G_CALLBACK (hung_up_cb), &hung_up);
  fetch->cancel_after = 2;

  fetch_run (f, fetch);

  g_assert_error (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (fetch->reads->len, ==, 2);
  g_assert_true (wait_for_flag (&hung_up, 1000));
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 1);
}

/* The user presses Stop while the server is in a long pause. */
static void
test_client_hang_up_in_pause (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  gboolean hung_up = FALSE;
  gint64 cancelled_at;

  natter_fake_script_add_raw (script, "data: Hel\n\n", -1);
  natter_fake_script_add_pause (script, 10000);
  natter_fake_script_add_content (script, "lo");
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);
  g_signal_connect (f->provider, "client-hung-up", G_CALLBACK (hung_up_cb), &hung_up);
  fetch->cancel_after = 1;

  fetch_run (f, fetch);
  cancelled_at = g_get_monotonic_time ();

  g_assert_error (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (wait_for_flag (&hung_up, 1000));
  g_assert_cmpint (g_get_monotonic_time () - cancelled_at, <, 500 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 1);
}

/* The user presses Stop while the server is blocked writing a large body:
 * however libsoup and the server notice, the hang-up counts once. */
static void
test_client_hang_up_while_writing (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);
  g_autofree char *big = g_malloc (8 * 1024 * 1024);
  gboolean hung_up = FALSE;

  memset (big, 'x', 8 * 1024 * 1024);
  natter_fake_script_add_raw (script, big, 8 * 1024 * 1024);
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);
  g_signal_connect (f->provider, "client-hung-up", G_CALLBACK (hung_up_cb), &hung_up);
  fetch->cancel_after = 2;

  fetch_run (f, fetch);

  g_assert_error (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (wait_for_flag (&hung_up, 1000));
  iterate_for (100);
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 1);
}

/* Disposing the server with a stalled message in flight cuts the client off
 * and leaves nothing behind. */
static void
test_dispose_in_flight (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(Fetch) fetch = fetch_chat (f);

  natter_fake_script_add_raw (script, "data: Hel\n\n", -1);
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);

  fetch_start (f, fetch);
  while (fetch->reads->len == 0 && !fetch->done)
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpuint (fetch->reads->len, ==, 1);

  g_assert_finalize_object (g_steal_pointer (&f->provider));

  g_assert_true (wait_for_flag (&fetch->done, WAIT_MS));
  g_assert_nonnull (fetch->error);
  g_assert_false (g_error_matches (fetch->error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
}

/* --- What was received ------------------------------------------------------ */

static void
test_records_request (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(Fetch) fetch = fetch_chat (f);
  const NatterFakeRequest *request;
  guint received = 0;
  gsize size;
  const char *body;

  g_signal_connect (f->provider, "request-received", G_CALLBACK (request_count_cb), &received);
  soup_message_headers_append (soup_message_get_request_headers (fetch->msg),
                               "Authorization", "Bearer sk-test");
  soup_message_headers_append (soup_message_get_request_headers (fetch->msg),
                               "X-Title", "Natter");

  fetch_run (f, fetch);

  g_assert_no_error (fetch->error);
  g_assert_cmpuint (received, ==, 1);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
  request = natter_fake_provider_get_request (f->provider, 0);
  g_assert_cmpstr (request->method, ==, "POST");
  g_assert_cmpstr (request->path, ==, "/v1/chat/completions");
  g_assert_cmpstr (soup_message_headers_get_one (request->headers, "Authorization"), ==,
                   "Bearer sk-test");
  g_assert_cmpstr (soup_message_headers_get_one (request->headers, "X-Title"), ==, "Natter");
  g_assert_cmpstr (soup_message_headers_get_content_type (request->headers, NULL), ==,
                   "application/json");
  body = g_bytes_get_data (request->body, &size);
  g_assert_cmpmem (body, size, "{\"stream\":true}", strlen ("{\"stream\":true}"));
}

static void
request_index_cb (NatterFakeProvider *provider,
                  guint               index,
                  guint              *last)
{
  *last = index;
}

static void
test_required_key (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Fetch) anonymous = fetch_chat (f);
  g_autoptr(Fetch) wrong = fetch_new (f, "GET", "/models", NULL);
  g_autoptr(Fetch) right = fetch_chat (f);
  g_autofree char *body = NULL;
  guint last = G_MAXUINT;

  natter_fake_provider_set_required_key (f->provider, "sk-good");
  g_signal_connect (f->provider, "request-received", G_CALLBACK (request_index_cb), &last);
  soup_message_headers_append (soup_message_get_request_headers (wrong->msg),
                               "Authorization", "Bearer sk-bad");
  soup_message_headers_append (soup_message_get_request_headers (right->msg),
                               "Authorization", "Bearer sk-good");

  fetch_run (f, anonymous);
  g_assert_cmpuint (soup_message_get_status (anonymous->msg), ==, 401);
  g_assert_cmpstr (response_header (anonymous, "Content-Type"), ==, "application/json");
  body = fetch_dup_body (anonymous);
  g_assert_cmpstr (body, ==,
                   "{\"error\":{\"message\":\"Incorrect API key provided.\","
                   "\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}");
  g_assert_cmpuint (last, ==, 0);

  fetch_run (f, wrong);
  g_assert_cmpuint (soup_message_get_status (wrong->msg), ==, 401);
  g_assert_cmpuint (last, ==, 1);

  fetch_run (f, right);
  g_assert_no_error (right->error);
  g_assert_cmpuint (soup_message_get_status (right->msg), ==, 200);
  g_assert_cmpuint (last, ==, 2);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 3);
}

static void
test_models (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(NatterFakeScript) failure = natter_fake_script_new (500);
  const char * const ids[] = { "alpha", NULL };
  struct {
    const char *expected_body;
    guint       expected_status;
  } steps[] = {
    { "{\"object\":\"list\",\"data\":["
      "{\"id\":\"natter-fake-1\",\"object\":\"model\",\"owned_by\":\"natter-fake\"},"
      "{\"id\":\"natter-fake-reasoner\",\"object\":\"model\",\"owned_by\":\"natter-fake\"}]}", 200 },
    { "{\"error\":{\"message\":\"Boom\"}}", 500 },
    { "{\"object\":\"list\",\"data\":["
      "{\"id\":\"alpha\",\"object\":\"model\",\"owned_by\":\"natter-fake\"}]}", 200 },
  };

  natter_fake_script_set_body (failure, "{\"error\":{\"message\":\"Boom\"}}");

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autoptr(Fetch) fetch = fetch_new (f, "GET", "/models", NULL);
      g_autofree char *body = NULL;

      if (i == 1)
        {
          natter_fake_provider_queue_models (f->provider, failure);
          natter_fake_provider_set_models (f->provider, ids);
        }

      fetch_run (f, fetch);
      g_assert_no_error (fetch->error);
      g_assert_cmpuint (soup_message_get_status (fetch->msg), ==, steps[i].expected_status);
      g_assert_cmpstr (response_header (fetch, "Content-Type"), ==, "application/json");
      body = fetch_dup_body (fetch);
      g_assert_cmpstr (body, ==, steps[i].expected_body);
    }
}

static void
test_base_url (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *expected = g_strdup_printf ("http://127.0.0.1:%u/v1",
                                               natter_fake_provider_get_port (f->provider));

  g_assert_cmpuint (natter_fake_provider_get_port (f->provider), >, 0);
  g_assert_cmpstr (f->base_url, ==, expected);
}

#define ADD_TEST(path, func) \
  g_test_add ("/natter/fake-provider/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  ADD_TEST ("base-url", test_base_url);
  ADD_TEST ("events", test_events);
  ADD_TEST ("queue-and-default", test_queue_and_default);
  ADD_TEST ("split-reads", test_split_reads);
  ADD_TEST ("headers-before-body", test_headers_before_body);
  ADD_TEST ("error-status", test_error_status);
  ADD_TEST ("content-type-override", test_content_type_override);
  ADD_TEST ("empty-stream", test_empty_stream);
  ADD_TEST ("not-found", test_not_found);
  ADD_TEST ("server-hang-up", test_server_hang_up);
  ADD_TEST ("hang-up-before-headers", test_hang_up_before_headers);
  ADD_TEST ("stall", test_stall);
  ADD_TEST ("stall-before-body", test_stall_before_body);
  ADD_TEST ("client-hang-up-streaming", test_client_hang_up_streaming);
  ADD_TEST ("client-hang-up-in-pause", test_client_hang_up_in_pause);
  ADD_TEST ("client-hang-up-while-writing", test_client_hang_up_while_writing);
  ADD_TEST ("dispose-in-flight", test_dispose_in_flight);
  ADD_TEST ("records-request", test_records_request);
  ADD_TEST ("required-key", test_required_key);
  ADD_TEST ("models", test_models);

  return g_test_run ();
}
