/* test-api-error.c — errors a UI can act on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>

#include "natter-api-error.h"

#define ELLIPSIS "…"

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  g_assert_nonnull (haystack);
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” does not contain “%s”", haystack, needle);
}

static char *
parse_body (const char *body,
            const char *content_type)
{
  return natter_api_error_parse_body (body, strlen (body), content_type);
}

/* --- natter_api_error_new_for_status ------------------------------------- */

typedef struct
{
  guint       status;
  int         code;
  const char *path;
} StatusCase;

static const StatusCase status_cases[] = {
  { 400, NATTER_API_ERROR_BAD_REQUEST, "/natter/api-error/status/400" },
  { 401, NATTER_API_ERROR_UNAUTHORIZED, "/natter/api-error/status/401" },
  { 402, NATTER_API_ERROR_PAYMENT_REQUIRED, "/natter/api-error/status/402" },
  { 403, NATTER_API_ERROR_FORBIDDEN, "/natter/api-error/status/403" },
  { 404, NATTER_API_ERROR_NOT_FOUND, "/natter/api-error/status/404" },
  { 408, NATTER_API_ERROR_SERVER, "/natter/api-error/status/408" },
  { 422, NATTER_API_ERROR_BAD_REQUEST, "/natter/api-error/status/422" },
  { 429, NATTER_API_ERROR_RATE_LIMITED, "/natter/api-error/status/429" },
  { 500, NATTER_API_ERROR_SERVER, "/natter/api-error/status/500" },
  { 502, NATTER_API_ERROR_SERVER, "/natter/api-error/status/502" },
  { 503, NATTER_API_ERROR_SERVER, "/natter/api-error/status/503" },
  { 301, NATTER_API_ERROR_NOT_FOUND, "/natter/api-error/status/301" },
};

static void
test_status (gconstpointer data)
{
  const StatusCase *c = data;
  g_autofree char *http = g_strdup_printf ("HTTP %u", c->status);
  g_autoptr(GError) bare = natter_api_error_new_for_status (c->status, NULL);
  g_autoptr(GError) empty = natter_api_error_new_for_status (c->status, "");
  g_autoptr(GError) quoted = natter_api_error_new_for_status (c->status, "Invalid model “gpt-9”");

  g_assert_error (bare, NATTER_API_ERROR, c->code);
  assert_contains (bare->message, http);

  g_assert_error (empty, NATTER_API_ERROR, c->code);
  g_assert_cmpstr (empty->message, ==, bare->message);

  g_assert_error (quoted, NATTER_API_ERROR, c->code);
  assert_contains (quoted->message, http);
  assert_contains (quoted->message, "Invalid model “gpt-9”");
  g_assert_null (strstr (bare->message, "gpt-9"));
}

/* The user must be able to tell a timeout from a crash and a redirect from a
 * wrong address, though their codes are the same. */
static void
test_status_sentences (void)
{
  g_autoptr(GError) timeout = natter_api_error_new_for_status (408, NULL);
  g_autoptr(GError) server = natter_api_error_new_for_status (500, NULL);
  g_autoptr(GError) redirect = natter_api_error_new_for_status (301, NULL);
  g_autoptr(GError) missing = natter_api_error_new_for_status (404, NULL);

  g_assert_cmpstr (timeout->message, !=, server->message);
  g_assert_cmpstr (redirect->message, !=, missing->message);
}

/* --- natter_api_error_code_to_string --------------------------------- */

static void
assert_code_string (GQuark      domain,
                    int         code,
                    const char *expected)
{
  g_autoptr(GError) error = g_error_new_literal (domain, code, "x");

  g_assert_cmpstr (natter_api_error_code_to_string (error), ==, expected);
}

static void
test_code_to_string (void)
{
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED, "unauthorized");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_PAYMENT_REQUIRED, "payment_required");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_FORBIDDEN, "forbidden");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_NOT_FOUND, "not_found");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_BAD_REQUEST, "bad_request");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_RATE_LIMITED, "rate_limited");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_SERVER, "server");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER, "provider");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL, "protocol");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_TRUNCATED, "truncated");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_STALLED, "stalled");
  assert_code_string (NATTER_API_ERROR, NATTER_API_ERROR_NETWORK, "network");
}

static void
test_code_to_string_cancelled (void)
{
  assert_code_string (G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
}

static void
test_code_to_string_foreign (void)
{
  assert_code_string (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "network");
  assert_code_string (G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, "network");
  assert_code_string (NATTER_API_ERROR, 999, "network");
  assert_code_string (NATTER_API_ERROR, -1, "network");
}

/* --- natter_api_error_is_retryable ----------------------------------- */

static gboolean
status_is_retryable (guint status)
{
  g_autoptr(GError) error = natter_api_error_new_for_status (status, NULL);

  return natter_api_error_is_retryable (error);
}

static void
test_is_retryable (void)
{
  g_autoptr(GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "x");
  g_autoptr(GError) provider = g_error_new_literal (NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER, "x");
  g_autoptr(GError) protocol = g_error_new_literal (NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL, "x");

  g_assert_true (status_is_retryable (429));
  g_assert_true (status_is_retryable (408));
  g_assert_true (status_is_retryable (500));
  g_assert_true (status_is_retryable (502));
  g_assert_true (status_is_retryable (503));

  g_assert_false (status_is_retryable (400));
  g_assert_false (status_is_retryable (401));
  g_assert_false (status_is_retryable (402));
  g_assert_false (status_is_retryable (403));
  g_assert_false (status_is_retryable (404));
  g_assert_false (status_is_retryable (301));

  g_assert_false (natter_api_error_is_retryable (cancelled));
  g_assert_false (natter_api_error_is_retryable (provider));
  g_assert_false (natter_api_error_is_retryable (protocol));
}

/* --- natter_api_error_new_for_network -------------------------------- */

static void
assert_network_error (GQuark      domain,
                      int         code,
                      const char *sentence)
{
  g_autoptr(GError) io_error = g_error_new_literal (domain, code, "the underlying reason");
  g_autoptr(GError) error = natter_api_error_new_for_network (io_error);

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_NETWORK);
  assert_contains (error->message, sentence);
  assert_contains (error->message, "the underlying reason");
}

static void
test_new_for_network (void)
{
  assert_network_error (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "Could not reach the provider");
  assert_network_error (G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "address could not be found");
  assert_network_error (G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE, "secure connection");
  /* Reached, then hung up on before any answer. */
  assert_network_error (G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "closed the connection before answering");
  assert_network_error (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "closed the connection before answering");
  assert_network_error (G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "closed the connection before answering");
}

/* --- natter_api_error_parse_body ------------------------------------- */

static void
assert_body_message (const char *body,
                     const char *content_type,
                     const char *expected)
{
  g_autofree char *message = parse_body (body, content_type);

  g_assert_cmpstr (message, ==, expected);
}

static void
test_body_error_object (void)
{
  assert_body_message ("{\"error\":{\"message\":\"Incorrect API key provided: sk-abc.\","
                       "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}",
                       "application/json", "Incorrect API key provided: sk-abc.");
}

static void
test_body_error_string (void)
{
  assert_body_message ("{\"error\":\"model 'llama9' not found, try pulling it first\"}",
                       "application/json; charset=utf-8", "model 'llama9' not found, try pulling it first");
}

static void
test_body_message (void)
{
  assert_body_message ("{\"object\":\"error\",\"message\":\"Unauthorized\",\"type\":\"invalid_request_error\"}",
                       NULL, "Unauthorized");
}

static void
test_body_detail (void)
{
  assert_body_message ("{\"detail\":\"Not Found\"}", "application/json", "Not Found");
}

/* An error object without a message falls back to the top-level one. */
static void
test_body_error_object_without_message (void)
{
  assert_body_message ("{\"error\":{\"code\":42},\"message\":\"Top level\"}", NULL, "Top level");
}

static void
test_body_json_whitespace (void)
{
  assert_body_message ("{\"error\":{\"message\":\"  Line one.\\n\\n  Line\\ttwo.  \"}}", NULL,
                       "Line one. Line two.");
}

static void
test_body_json_without_message (void)
{
  assert_body_message ("{\"error\":{\"code\":500},\"status\":\"failed\"}", "application/json", NULL);
  assert_body_message ("{\"message\":42}", NULL, NULL);
  assert_body_message ("[\"x\"]", NULL, NULL);
}

static void
test_body_html_nginx (void)
{
  const char *page =
    "<html>\r\n"
    "<head><title>502 Bad Gateway</title></head>\r\n"
    "<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx/1.18.0 (Ubuntu)</center>\r\n"
    "</body>\r\n"
    "</html>\r\n";

  assert_body_message (page, "text/html", "502 Bad Gateway");
  assert_body_message (page, NULL, "502 Bad Gateway");
}

static void
test_body_html_title_whitespace (void)
{
  assert_body_message ("<!DOCTYPE html>\n<HTML><HEAD><TITLE>\n  Service\n  Unavailable\n</TITLE></HEAD></HTML>",
                       NULL, "Service Unavailable");
}

static void
test_body_html_without_title (void)
{
  g_autofree char *message = parse_body ("<html><body><h1>Oops</h1><p>Something broke.</p></body></html>",
                                         "text/html; charset=utf-8");

  g_assert_nonnull (message);
  g_assert_cmpstr (message, !=, "");
  g_assert_null (strchr (message, '<'));
  g_assert_null (strstr (message, "Something broke"));
}

static void
test_body_plain_text (void)
{
  assert_body_message ("upstream connect error or disconnect/reset before headers\n", "text/plain",
                       "upstream connect error or disconnect/reset before headers");
}

/* A stack trace or a long page of text, 1500 characters of it. */
static char *
long_plain_text (void)
{
  GString *body = g_string_new (NULL);

  for (guint i = 0; i < 100; i++)
    g_string_append (body, "word  \n\t word\r\n");
  return g_string_free (body, FALSE);
}

static void
test_body_plain_text_long (void)
{
  g_autofree char *body = long_plain_text ();
  g_autofree char *message = parse_body (body, "text/plain");

  g_assert_nonnull (message);
  g_assert_true (g_str_has_prefix (message, "word word word word"));
  g_assert_true (g_str_has_suffix (message, "word" ELLIPSIS));
  g_assert_null (strstr (message, "  "));
  g_assert_null (strpbrk (message, "\n\r\t"));
  g_assert_cmpint (g_utf8_strlen (message, -1), <, 1000);
}

/* The summary is 200 characters of the collapsed text, spaces included. */
static void
test_body_plain_text_long_length (void)
{
  g_autofree char *body = long_plain_text ();
  g_autofree char *message = parse_body (body, "text/plain");

  g_assert_cmpint (g_utf8_strlen (message, -1), <=, 200 + 1);
  g_assert_true (g_str_has_suffix (message, ELLIPSIS));
}

/* The body is capped by the caller: only @length bytes may be read. */
static void
test_body_length (void)
{
  const char *body = "{\"message\":\"hi\"}trailing bytes";
  g_autofree char *message = natter_api_error_parse_body (body, strlen ("{\"message\":\"hi\"}"), NULL);

  g_assert_cmpstr (message, ==, "hi");
}

static void
test_body_invalid_utf8 (void)
{
  g_autofree char *text = parse_body ("Bad \xff\xfe gateway \xc3", "text/plain");
  g_autofree char *json = parse_body ("{\"error\":{\"message\":\"caf\xe9 closed\"}}", NULL);

  g_assert_nonnull (text);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_true (g_str_has_prefix (text, "Bad "));
  assert_contains (text, " gateway");

  g_assert_nonnull (json);
  g_assert_true (g_utf8_validate (json, -1, NULL));
  assert_contains (json, "closed");
}

static void
test_body_empty (void)
{
  g_assert_null (natter_api_error_parse_body ("", 0, NULL));
  g_assert_null (natter_api_error_parse_body (NULL, 0, "application/json"));
  assert_body_message (" \r\n\t ", "text/plain", NULL);
}

/* A message of exactly the maximum length was not cut, so it must not get an
 * ellipsis. */
static void
test_body_plain_text_exact_length (void)
{
  g_autofree char *body = g_strnfill (200, 'x');
  g_autofree char *message = parse_body (body, "text/plain");

  g_assert_cmpstr (message, ==, body);
}

/* --- natter_api_parse_retry_after ------------------------------------ */

static void
test_retry_after_seconds (void)
{
  g_assert_cmpint (natter_api_parse_retry_after ("5", NULL), ==, 5);
  g_assert_cmpint (natter_api_parse_retry_after (" 7 ", NULL), ==, 7);
  g_assert_cmpint (natter_api_parse_retry_after ("0", NULL), ==, 0);
  g_assert_cmpint (natter_api_parse_retry_after ("120", NULL), ==, 120);
}

static void
test_retry_after_invalid (void)
{
  g_assert_cmpint (natter_api_parse_retry_after (NULL, NULL), ==, -1);
  g_assert_cmpint (natter_api_parse_retry_after ("", NULL), ==, -1);
  g_assert_cmpint (natter_api_parse_retry_after ("abc", NULL), ==, -1);
  g_assert_cmpint (natter_api_parse_retry_after ("-5", NULL), ==, -1);
  g_assert_cmpint (natter_api_parse_retry_after ("1.5", NULL), ==, -1);
}

static void
test_retry_after_date (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2024, 6, 1, 12, 0, 0);

  g_assert_cmpint (natter_api_parse_retry_after ("Sat, 01 Jun 2024 12:00:30 GMT", now), ==, 30);
  g_assert_cmpint (natter_api_parse_retry_after ("Sat, 01 Jun 2024 13:00:00 GMT", now), ==, 3600);
}

/* A fraction of a second still to wait is a whole second. */
static void
test_retry_after_date_rounds_up (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2024, 6, 1, 12, 0, 29.5);

  g_assert_cmpint (natter_api_parse_retry_after ("Sat, 01 Jun 2024 12:00:30 GMT", now), ==, 1);
}

static void
test_retry_after_date_past (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2024, 6, 1, 12, 0, 0);

  g_assert_cmpint (natter_api_parse_retry_after ("Sat, 01 Jun 2024 11:59:00 GMT", now), ==, 0);
  g_assert_cmpint (natter_api_parse_retry_after ("Sat, 01 Jun 2024 12:00:00 GMT", now), ==, 0);
}

/* Without @now the clock is used: a date a minute ahead is about a minute. */
static void
test_retry_after_date_clock (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) later = g_date_time_add_seconds (now, 60);
  g_autofree char *value = soup_date_time_to_string (later, SOUP_DATE_HTTP);
  gint64 delay = natter_api_parse_retry_after (value, NULL);

  g_assert_cmpint (delay, >=, 55);
  g_assert_cmpint (delay, <=, 60);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (status_cases); i++)
    g_test_add_data_func (status_cases[i].path, &status_cases[i], test_status);
  g_test_add_func ("/natter/api-error/status-sentences", test_status_sentences);

  g_test_add_func ("/natter/api-error/code-to-string", test_code_to_string);
  g_test_add_func ("/natter/api-error/code-to-string/cancelled", test_code_to_string_cancelled);
  g_test_add_func ("/natter/api-error/code-to-string/foreign", test_code_to_string_foreign);
  g_test_add_func ("/natter/api-error/is-retryable", test_is_retryable);
  g_test_add_func ("/natter/api-error/new-for-network", test_new_for_network);

  g_test_add_func ("/natter/api-error/body/error-object", test_body_error_object);
  g_test_add_func ("/natter/api-error/body/error-string", test_body_error_string);
  g_test_add_func ("/natter/api-error/body/message", test_body_message);
  g_test_add_func ("/natter/api-error/body/detail", test_body_detail);
  g_test_add_func ("/natter/api-error/body/error-object-without-message", test_body_error_object_without_message);
  g_test_add_func ("/natter/api-error/body/json-whitespace", test_body_json_whitespace);
  g_test_add_func ("/natter/api-error/body/json-without-message", test_body_json_without_message);
  g_test_add_func ("/natter/api-error/body/html-nginx", test_body_html_nginx);
  g_test_add_func ("/natter/api-error/body/html-title-whitespace", test_body_html_title_whitespace);
  g_test_add_func ("/natter/api-error/body/html-without-title", test_body_html_without_title);
  g_test_add_func ("/natter/api-error/body/plain-text", test_body_plain_text);
  g_test_add_func ("/natter/api-error/body/plain-text-long", test_body_plain_text_long);
  g_test_add_func ("/natter/api-error/body/plain-text-long-length", test_body_plain_text_long_length);
  g_test_add_func ("/natter/api-error/body/plain-text-exact-length", test_body_plain_text_exact_length);
  g_test_add_func ("/natter/api-error/body/length", test_body_length);
  g_test_add_func ("/natter/api-error/body/invalid-utf8", test_body_invalid_utf8);
  g_test_add_func ("/natter/api-error/body/empty", test_body_empty);

  g_test_add_func ("/natter/api-error/retry-after/seconds", test_retry_after_seconds);
  g_test_add_func ("/natter/api-error/retry-after/invalid", test_retry_after_invalid);
  g_test_add_func ("/natter/api-error/retry-after/date", test_retry_after_date);
  g_test_add_func ("/natter/api-error/retry-after/date-rounds-up", test_retry_after_date_rounds_up);
  g_test_add_func ("/natter/api-error/retry-after/date-past", test_retry_after_date_past);
  g_test_add_func ("/natter/api-error/retry-after/date-clock", test_retry_after_date_clock);

  return g_test_run ();
}
