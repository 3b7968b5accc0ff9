/* test-chat-stream.c — NatterChatStream against the fake provider
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every test asserts on what a user would see (deltas, the error) and on
 * what the server saw (requests, hang-ups).
 */
#include "natter-api-error.h"
#include "natter-chat-stream.h"
#include "natter-fake-provider.h"

#define KEY "sk-test-0123456789"

typedef struct {
  NatterFakeProvider *provider;
  NatterClient       *client;
  GCancellable       *cancellable;
  GString            *content;
  GString            *reasoning;
  guint               n_deltas;
  guint               cancel_after_deltas;
  guint               cancel_on_retry_ms;
  GArray             *retry_delays;
  gboolean            done;
  gboolean            finished_signal;
  GError             *error;
  GError             *failed_signal_error;
  gint64              finished_at;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *base_url = NULL;

  f->provider = natter_fake_provider_new ();
  g_assert_true (natter_fake_provider_listen (f->provider, 0, &error));
  g_assert_no_error (error);
  base_url = natter_fake_provider_dup_base_url (f->provider);
  f->client = natter_client_new (base_url, KEY);
  natter_client_set_retry_base_ms (f->client, 10);
  f->cancellable = g_cancellable_new ();
  f->content = g_string_new (NULL);
  f->reasoning = g_string_new (NULL);
  f->retry_delays = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->client);
  g_assert_finalize_object (f->provider);
  g_clear_object (&f->cancellable);
  g_string_free (f->content, TRUE);
  g_string_free (f->reasoning, TRUE);
  g_array_unref (f->retry_delays);
  g_clear_error (&f->error);
  g_clear_error (&f->failed_signal_error);
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the default main context until @flag is set, or fails the test. */
static void
iterate_until (gboolean *flag,
               guint     timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add (timeout_ms, set_flag_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (*flag);
  if (!timed_out)
    g_source_remove (timeout_id);
}

/* --- Running one stream -------------------------------------------------- */

static void
delta_cb (NatterChatStream *stream,
          const char       *text,
          Fixture          *f)
{
  g_assert_false (f->done);
  g_string_append (f->content, text);
  if (++f->n_deltas == f->cancel_after_deltas)
    g_cancellable_cancel (f->cancellable);
}

static void
reasoning_cb (NatterChatStream *stream,
              const char       *text,
              Fixture          *f)
{
  g_string_append (f->reasoning, text);
}

static void
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
retrying_cb (NatterChatStream *stream,
             guint             retry,
             guint             delay_ms,
             Fixture          *f)
{
  g_assert_cmpuint (retry, ==, f->retry_delays->len + 1);
  g_array_append_val (f->retry_delays, delay_ms);
  if (f->cancel_on_retry_ms > 0)
    g_timeout_add_once (f->cancel_on_retry_ms, cancel_cb, f->cancellable);
}

static void
finished_cb (NatterChatStream *stream,
             Fixture          *f)
{
  f->finished_signal = TRUE;
}

static void
failed_cb (NatterChatStream *stream,
           const GError     *error,
           Fixture          *f)
{
  f->failed_signal_error = g_error_copy (error);
}

static void
run_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Fixture *f = user_data;

  natter_chat_stream_run_finish (NATTER_CHAT_STREAM (source), result, &f->error);
  f->finished_at = g_get_monotonic_time ();
  f->done = TRUE;
}

static NatterChatStream *
start_stream (Fixture *f)
{
  g_autoptr(NatterChatRequest) request = natter_chat_request_new ("natter-fake-1");
  NatterChatStream *stream;

  natter_chat_request_add_message (request, "system", "Be brief.");
  natter_chat_request_add_message (request, "user", "Hello");
  stream = natter_chat_stream_new (f->client, request);
  g_signal_connect (stream, "delta", G_CALLBACK (delta_cb), f);
  g_signal_connect (stream, "reasoning-delta", G_CALLBACK (reasoning_cb), f);
  g_signal_connect (stream, "retrying", G_CALLBACK (retrying_cb), f);
  g_signal_connect (stream, "finished", G_CALLBACK (finished_cb), f);
  g_signal_connect (stream, "failed", G_CALLBACK (failed_cb), f);
  natter_chat_stream_run_async (stream, f->cancellable, run_done_cb, f);
  return stream;
}

static NatterChatStream *
run_stream (Fixture *f)
{
  NatterChatStream *stream = start_stream (f);

  iterate_until (&f->done, 20000);
  /* The signals agree with the result. */
  g_assert_true (f->finished_signal == (f->error == NULL));
  if (f->error != NULL)
    g_assert_error (f->failed_signal_error, f->error->domain, f->error->code);
  return stream;
}

static void
wait_for_hangups (Fixture *f,
                  guint    n)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add (5000, set_flag_cb, &timed_out);

  while (natter_fake_provider_get_n_hangups (f->provider) < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, n);
}

static NatterFakeScript *
error_script (guint       status,
              const char *body)
{
  NatterFakeScript *script = natter_fake_script_new (status);

  natter_fake_script_set_body (script, body);
  return script;
}

/* --- Success ------------------------------------------------------------- */

static void
test_success (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (5);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_set_interval (script, 5);
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_no_error (f->error);
  g_assert_cmpstr (f->content->str, ==, "tok0 tok1 tok2 tok3 tok4 ");
  g_assert_cmpuint (f->n_deltas, ==, 5);
  g_assert_cmpstr (natter_chat_stream_get_finish_reason (stream), ==, "stop");
  g_assert_cmpstr (natter_chat_stream_get_model (stream), ==, "natter-fake-1");
  g_assert_cmpstr (natter_chat_stream_get_response_id (stream), ==, "chatcmpl-fake");
  g_assert_nonnull (natter_chat_stream_get_usage (stream));
  g_assert_cmpint (json_object_get_int_member (natter_chat_stream_get_usage (stream),
                                               "completion_tokens"), ==, 5);
  g_assert_cmpint (natter_chat_stream_get_ttft_us (stream), >=, 0);
  g_assert_cmpint (natter_chat_stream_get_duration_us (stream), >=,
                   natter_chat_stream_get_ttft_us (stream));
  g_assert_cmpuint (natter_chat_stream_get_n_chunks (stream), ==, 7);
  g_assert_cmpuint (natter_chat_stream_get_n_bytes (stream), >, 0);
  g_assert_cmpuint (natter_chat_stream_get_n_attempts (stream), ==, 1);
  g_assert_cmpuint (natter_chat_stream_get_http_status (stream), ==, 200);
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 0);
}

static void
test_request_sent (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(NatterChatStream) stream = run_stream (f);
  const NatterFakeRequest *request;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *body;
  JsonArray *messages;

  g_assert_no_error (f->error);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
  request = natter_fake_provider_get_request (f->provider, 0);
  g_assert_cmpstr (request->method, ==, "POST");
  g_assert_cmpstr (request->path, ==, "/v1/chat/completions");
  g_assert_cmpstr (soup_message_headers_get_one (request->headers, "Authorization"), ==, "Bearer " KEY);
  g_assert_cmpstr (soup_message_headers_get_one (request->headers, "Accept"), ==, "text/event-stream");
  g_assert_cmpstr (soup_message_headers_get_content_type (request->headers, NULL), ==, "application/json");
  g_assert_null (soup_message_headers_get_one (request->headers, "X-Title"));

  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (request->body, NULL),
                                             g_bytes_get_size (request->body), NULL));
  body = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "natter-fake-1");
  g_assert_true (json_object_get_boolean_member (body, "stream"));
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (body, "stream_options"),
                                                 "include_usage"));
  g_assert_false (json_object_has_member (body, "temperature"));
  messages = json_object_get_array_member (body, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "role"),
                   ==, "system");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 1), "content"),
                   ==, "Hello");
}

static void
test_no_key_no_authorization (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *base_url = natter_fake_provider_dup_base_url (f->provider);
  g_autoptr(NatterChatStream) stream = NULL;

  g_object_unref (f->client);
  f->client = natter_client_new (base_url, "");
  stream = run_stream (f);

  g_assert_no_error (f->error);
  g_assert_null (soup_message_headers_get_one (natter_fake_provider_get_request (f->provider, 0)->headers,
                                               "Authorization"));
}

static void
test_openrouter_headers (void)
{
  g_autoptr(NatterClient) client = natter_client_new ("https://openrouter.ai/api/v1/", KEY);
  g_autoptr(NatterClient) other = natter_client_new ("https://api.openai.com/v1", KEY);
  g_autoptr(SoupMessage) message = natter_client_new_message (client, "POST", "/chat/completions", NULL);
  g_autoptr(SoupMessage) plain = natter_client_new_message (other, "POST", "/chat/completions", NULL);
  SoupMessageHeaders *headers = soup_message_get_request_headers (message);

  g_assert_cmpstr (g_uri_get_path (soup_message_get_uri (message)), ==, "/api/v1/chat/completions");
  g_assert_cmpstr (soup_message_headers_get_one (headers, "X-Title"), ==, "Natter");
  g_assert_nonnull (soup_message_headers_get_one (headers, "HTTP-Referer"));
  g_assert_null (soup_message_headers_get_one (soup_message_get_request_headers (plain), "X-Title"));
}

static void
test_invalid_base_url (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(NatterChatStream) stream = NULL;

  g_object_unref (f->client);
  f->client = natter_client_new ("localhost:8080", NULL);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (f->error->message, "base URL"));
}

static void
test_split_one_byte (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_set_split (script, 1);
  natter_fake_script_add_comment (script, "OPENROUTER PROCESSING");
  natter_fake_script_add_reasoning (script, "Let me think… ");
  natter_fake_script_add_content (script, "Grüße, ");
  natter_fake_script_add_content (script, "world 🌍");
  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_usage (script, 3, 2);
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_no_error (f->error);
  g_assert_cmpstr (f->reasoning->str, ==, "Let me think… ");
  g_assert_cmpstr (f->content->str, ==, "Grüße, world 🌍");
}

static void
test_tool_calls (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;
  GPtrArray *calls;

  natter_fake_script_add_tool_call (script, 0, "call_1", "get_weather", "{\"ci");
  natter_fake_script_add_tool_call (script, 0, NULL, NULL, "ty\":\"Paris\"}");
  natter_fake_script_add_finish (script, "tool_calls");
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_no_error (f->error);
  calls = natter_chat_stream_get_tool_calls (stream);
  g_assert_cmpuint (calls->len, ==, 1);
  g_assert_cmpstr (natter_tool_call_get_id (calls->pdata[0]), ==, "call_1");
  g_assert_cmpstr (natter_tool_call_get_name (calls->pdata[0]), ==, "get_weather");
  g_assert_cmpstr (natter_tool_call_get_arguments (calls->pdata[0]), ==, "{\"city\":\"Paris\"}");
  g_assert_cmpstr (natter_chat_stream_get_finish_reason (stream), ==, "tool_calls");
}

/* --- HTTP errors before streaming ------------------------------------------ */

typedef struct {
  guint       status;
  const char *body;
  int         code;
  const char *said;
} StatusCase;

static const StatusCase status_cases[] = {
  { 400, "{\"error\":{\"message\":\"max_tokens is too large\"}}", NATTER_API_ERROR_BAD_REQUEST, "max_tokens is too large" },
  { 401, "{\"error\":{\"message\":\"Invalid API key\",\"code\":401}}", NATTER_API_ERROR_UNAUTHORIZED, "Invalid API key" },
  { 402, "{\"error\":\"Insufficient credits\"}", NATTER_API_ERROR_PAYMENT_REQUIRED, "Insufficient credits" },
  { 403, "{\"message\":\"Region not supported\"}", NATTER_API_ERROR_FORBIDDEN, "Region not supported" },
  { 404, "{\"error\":{\"message\":\"model 'x' not found\"}}", NATTER_API_ERROR_NOT_FOUND, "model 'x' not found" },
};

static void
test_status_errors (Fixture       *f,
                    gconstpointer  data)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_cases); i++)
    {
      const StatusCase *c = &status_cases[i];
      g_autoptr(NatterFakeScript) script = error_script (c->status, c->body);
      g_autoptr(NatterChatStream) stream = NULL;
      g_autofree char *status = g_strdup_printf ("HTTP %u", c->status);

      f->done = FALSE;
      g_clear_error (&f->error);
      g_clear_error (&f->failed_signal_error);
      natter_fake_provider_queue (f->provider, script);
      stream = run_stream (f);

      g_assert_error (f->error, NATTER_API_ERROR, c->code);
      g_assert_nonnull (strstr (f->error->message, status));
      g_assert_nonnull (strstr (f->error->message, c->said));
      g_assert_cmpuint (natter_chat_stream_get_http_status (stream), ==, c->status);
      /* Client errors are never retried. */
      g_assert_cmpuint (natter_chat_stream_get_n_attempts (stream), ==, 1);
    }
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, G_N_ELEMENTS (status_cases));
}

static void
test_html_502_summarised (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (502);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_set_header (script, "Content-Type", "text/html");
  natter_fake_script_set_body (script, "<html><head><title>502 Bad Gateway</title></head>"
                                       "<body><center><h1>502 Bad Gateway</h1></center>"
                                       "<hr><center>nginx</center></body></html>");
  natter_client_set_max_retries (f->client, 0);
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_SERVER);
  g_assert_nonnull (strstr (f->error->message, "“502 Bad Gateway”"));
  g_assert_null (strstr (f->error->message, "<"));
}

/* --- Retry ------------------------------------------------------------- */

static void
test_retry_after_honoured (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(NatterFakeScript) limited = error_script (429, "{\"error\":{\"message\":\"Slow down\"}}");
  g_autoptr(NatterChatStream) stream = NULL;
  gint64 start = g_get_monotonic_time ();

  natter_fake_script_set_header (limited, "Retry-After", "1");
  natter_fake_provider_queue (f->provider, limited);
  stream = run_stream (f);

  g_assert_no_error (f->error);
  g_assert_cmpstr (f->content->str, ==, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");
  g_assert_cmpuint (f->retry_delays->len, ==, 1);
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 0), ==, 1000);
  g_assert_cmpint (f->finished_at - start, >=, 1000 * 1000);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 2);
}

static void
test_retry_backoff_then_success (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(NatterChatStream) stream = NULL;

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(NatterFakeScript) script = error_script (503, "{\"error\":{\"message\":\"Overloaded\"}}");
      natter_fake_provider_queue (f->provider, script);
    }
  stream = run_stream (f);

  g_assert_no_error (f->error);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 4);
  g_assert_cmpuint (f->retry_delays->len, ==, 3);
  /* 10 ms base, doubling, with jitter in the upper half. */
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 0), >=, 5);
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 0), <=, 10);
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 2), >=, 20);
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 2), <=, 40);
}

static void
test_retries_exhausted (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NatterChatStream) stream = NULL;

  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(NatterFakeScript) script = error_script (500, "{\"error\":{\"message\":\"Boom\"}}");
      natter_fake_provider_queue (f->provider, script);
    }
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_SERVER);
  g_assert_nonnull (strstr (f->error->message, "Boom"));
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 4);
  g_assert_cmpuint (natter_chat_stream_get_n_attempts (stream), ==, 4);
}

static void
test_retry_after_too_long (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(NatterFakeScript) limited = error_script (429, "{\"error\":{\"message\":\"Daily limit\"}}");
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_set_header (limited, "Retry-After", "3600");
  natter_fake_provider_queue (f->provider, limited);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_RATE_LIMITED);
  g_assert_cmpint (natter_chat_stream_get_retry_after (stream), ==, 3600);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
}

static void
test_connection_refused (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(NatterFakeProvider) closed = natter_fake_provider_new ();
  g_autofree char *base_url = NULL;
  g_autoptr(NatterChatStream) stream = NULL;

  /* A port that was free a moment ago and has nobody listening now. */
  g_assert_true (natter_fake_provider_listen (closed, 0, NULL));
  base_url = natter_fake_provider_dup_base_url (closed);
  g_clear_object (&closed);
  g_object_unref (f->client);
  f->client = natter_client_new (base_url, KEY);
  natter_client_set_retry_base_ms (f->client, 10);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_NETWORK);
  g_assert_cmpuint (natter_chat_stream_get_n_attempts (stream), ==, 4);
  g_assert_cmpuint (natter_chat_stream_get_http_status (stream), ==, 0);
}

/* --- Errors while streaming ------------------------------------------------- */

static void
test_provider_error_mid_stream (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_add_content (script, "Partial ");
  natter_fake_script_add_content (script, "answer");
  natter_fake_script_add_error_chunk (script, "Upstream provider overloaded");
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER);
  g_assert_nonnull (strstr (f->error->message, "Upstream provider overloaded"));
  g_assert_cmpstr (f->content->str, ==, "Partial answer");
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
}

static void
test_captive_portal (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;
  const char *page = "<html><head><title>Hotel Wi-Fi login</title></head><body>Sign in</body></html>\n";

  natter_fake_script_set_header (script, "Content-Type", "text/html");
  natter_fake_script_add_raw (script, page, -1);
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (f->error->message, "Hotel Wi-Fi login"));
}

static void
test_not_event_stream_body (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  /* The right content type, but a page for a body. */
  natter_fake_script_add_raw (script, "<!DOCTYPE html>\n<html><body>Sign in</body></html>\n", -1);
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
  g_assert_cmpstr (f->content->str, ==, "");
}

static void
test_malformed_json (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_add_content (script, "Hi");
  natter_fake_script_add_raw (script, "data: {\"choices\": [oops\n\n", -1);
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (f->error->message, "{\"choices\": [oops"));
  g_assert_cmpstr (f->content->str, ==, "Hi");
}

static void
test_truncated (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_add_content (script, "The answer is");
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_TRUNCATED);
  g_assert_cmpstr (f->content->str, ==, "The answer is");
}

static void
test_finish_without_done_is_complete (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_add_content (script, "Done.");
  natter_fake_script_add_finish (script, "length");
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_no_error (f->error);
  g_assert_cmpstr (natter_chat_stream_get_finish_reason (stream), ==, "length");
}

/* The last chunk of the body comes a moment after [DONE]: the stream reads
 * it rather than closing the body early, so the server sees no client hang
 * up, and libsoup can keep the connection for the next request. */
static void
test_done_ends_body_cleanly (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (3);
  gboolean waited = FALSE;

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_set_default (f->provider, script);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(NatterChatStream) stream = NULL;

      f->done = FALSE;
      stream = run_stream (f);
      g_assert_no_error (f->error);

      waited = FALSE;
      g_timeout_add (100, set_flag_cb, &waited);
      iterate_until (&waited, 1000);
    }

  g_assert_cmpstr (f->content->str, ==, "tok0 tok1 tok2 tok0 tok1 tok2 ");
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 2);
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, 0);
}

static void
test_hang_up_mid_stream (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_add_content (script, "Half an ");
  natter_fake_script_add_raw (script, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ans", -1);
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_HANG_UP);
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_TRUNCATED);
  g_assert_cmpstr (f->content->str, ==, "Half an ");
  /* Never retried once text was shown. */
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
}

static void
test_hang_up_before_delta_retried (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_add_comment (script, "OPENROUTER PROCESSING");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_HANG_UP);
  natter_fake_provider_queue (f->provider, script);
  stream = run_stream (f);

  g_assert_no_error (f->error);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 2);
  g_assert_cmpstr (f->content->str, ==, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");
}

static void
test_stall (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_add_content (script, "Thinking hard");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  natter_client_set_stall_timeout_ms (f->client, 300);
  stream = run_stream (f);

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_STALLED);
  g_assert_cmpstr (f->content->str, ==, "Thinking hard");
  wait_for_hangups (f, 1);
}

/* --- Stop ---------------------------------------------------------------- */

static void
test_cancel_before_headers (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(NatterChatStream) stream = start_stream (f);

  g_cancellable_cancel (f->cancellable);
  iterate_until (&f->done, 1000);

  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (f->content->str, ==, "");
  g_assert_true (f->failed_signal_error != NULL);
}

static void
test_cancel_already_cancelled (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(NatterChatStream) stream = NULL;

  g_cancellable_cancel (f->cancellable);
  stream = run_stream (f);

  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 0);
}

static void
test_cancel_mid_body (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (50);
  g_autoptr(NatterChatStream) stream = NULL;
  gint64 cancelled_at;

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_queue (f->provider, script);
  f->cancel_after_deltas = 3;
  stream = run_stream (f);
  cancelled_at = g_get_monotonic_time ();

  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (f->content->str, ==, "tok0 tok1 tok2 ");
  g_assert_null (natter_chat_stream_get_finish_reason (stream));
  wait_for_hangups (f, 1);
  g_assert_cmpint (g_get_monotonic_time () - cancelled_at, <, G_USEC_PER_SEC);
}

static void
test_cancel_mid_read (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;
  const char *burst =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"one \"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"two \"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"three\"}}]}\n\n";

  /* Three deltas in one write: Stop after the first drops the other two. */
  natter_fake_script_add_raw (script, burst, -1);
  natter_fake_script_add_pause (script, 200);
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);
  f->cancel_after_deltas = 1;
  stream = run_stream (f);

  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (f->content->str, ==, "one ");
  wait_for_hangups (f, 1);
}

static void
test_cancel_during_stall (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_fake_script_add_content (script, "Waiting");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  f->cancel_after_deltas = 1;
  stream = run_stream (f);

  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (f->content->str, ==, "Waiting");
  wait_for_hangups (f, 1);
}

static void
test_cancel_during_retry_wait (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(NatterFakeScript) limited = error_script (429, "{\"error\":{\"message\":\"Slow down\"}}");
  g_autoptr(NatterChatStream) stream = NULL;
  gint64 start = g_get_monotonic_time ();

  natter_fake_script_set_header (limited, "Retry-After", "30");
  natter_fake_provider_queue (f->provider, limited);
  f->cancel_on_retry_ms = 50;
  stream = run_stream (f);

  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (f->finished_at - start, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 0), ==, 30000);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
}

static void
cancel_on_finished_cb (NatterChatStream *stream,
                       Fixture          *f)
{
  g_cancellable_cancel (f->cancellable);
}

static void
test_cancel_after_finish_keeps_answer (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(NatterChatStream) stream = start_stream (f);

  /* Stop pressed just as the answer completed: the answer stands. */
  g_signal_connect (stream, "finished", G_CALLBACK (cancel_on_finished_cb), f);
  iterate_until (&f->done, 5000);

  g_assert_no_error (f->error);
  g_assert_cmpstr (natter_chat_stream_get_finish_reason (stream), ==, "stop");
}

static void
test_stopped_message (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterChatStream) stream = NULL;

  g_cancellable_cancel (f->cancellable);
  stream = run_stream (f);

  g_assert_cmpstr (f->error->message, ==, "Stopped");
}

/* --- Model list -------------------------------------------------------- */

static void
models_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GStrv *ids = user_data;
  g_autoptr(GError) error = NULL;

  *ids = natter_client_list_models_finish (NATTER_CLIENT (source), result, &error);
  if (*ids == NULL)
    *ids = g_strsplit (error->message, "\n", 2);
}

static void
test_list_models (Fixture       *f,
                  gconstpointer  data)
{
  const char *ids[] = { "zeta", "alpha", "mid", NULL };
  g_auto(GStrv) listed = NULL;

  natter_fake_provider_set_models (f->provider, ids);
  natter_client_list_models_async (f->client, NULL, models_cb, &listed);
  while (listed == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpstrv (listed, ((const char *[]) { "alpha", "mid", "zeta", NULL }));
  g_assert_cmpstr (natter_fake_provider_get_request (f->provider, 0)->path, ==, "/v1/models");
}

static void
test_list_models_unauthorized (Fixture       *f,
                               gconstpointer  data)
{
  g_auto(GStrv) listed = NULL;

  natter_fake_provider_set_required_key (f->provider, "another-key");
  natter_client_list_models_async (f->client, NULL, models_cb, &listed);
  while (listed == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_nonnull (strstr (listed[0], "HTTP 401"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/natter/chat-stream/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("success", test_success);
  ADD ("request-sent", test_request_sent);
  ADD ("no-key-no-authorization", test_no_key_no_authorization);
  g_test_add_func ("/natter/chat-stream/openrouter-headers", test_openrouter_headers);
  ADD ("invalid-base-url", test_invalid_base_url);
  ADD ("split-one-byte", test_split_one_byte);
  ADD ("tool-calls", test_tool_calls);
  ADD ("status-errors", test_status_errors);
  ADD ("html-502-summarised", test_html_502_summarised);
  ADD ("retry-after-honoured", test_retry_after_honoured);
  ADD ("retry-backoff-then-success", test_retry_backoff_then_success);
  ADD ("retries-exhausted", test_retries_exhausted);
  ADD ("retry-after-too-long", test_retry_after_too_long);
  ADD ("connection-refused", test_connection_refused);
  ADD ("provider-error-mid-stream", test_provider_error_mid_stream);
  ADD ("captive-portal", test_captive_portal);
  ADD ("not-event-stream-body", test_not_event_stream_body);
  ADD ("malformed-json", test_malformed_json);
  ADD ("truncated", test_truncated);
  ADD ("finish-without-done-is-complete", test_finish_without_done_is_complete);
  ADD ("done-ends-body-cleanly", test_done_ends_body_cleanly);
  ADD ("hang-up-mid-stream", test_hang_up_mid_stream);
  ADD ("hang-up-before-delta-retried", test_hang_up_before_delta_retried);
  ADD ("stall", test_stall);
  ADD ("cancel-before-headers", test_cancel_before_headers);
  ADD ("cancel-already-cancelled", test_cancel_already_cancelled);
  ADD ("cancel-mid-body", test_cancel_mid_body);
  ADD ("cancel-mid-read", test_cancel_mid_read);
  ADD ("cancel-during-stall", test_cancel_during_stall);
  ADD ("cancel-during-retry-wait", test_cancel_during_retry_wait);
  ADD ("cancel-after-finish-keeps-answer", test_cancel_after_finish_keeps_answer);
  ADD ("stopped-message", test_stopped_message);
  ADD ("list-models", test_list_models);
  ADD ("list-models-unauthorized", test_list_models_unauthorized);

  return g_test_run ();
}
