/* natter-api-error.c — errors a UI can act on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "natter-api-error.h"

/* A provider's message is shown to the user, not dumped: an HTML error page
 * or a stack trace is cut to something that fits in a sentence. */
#define SUMMARY_MAX_CHARS 200

/* libsoup 3.2 has no name for it. */
#define STATUS_TOO_MANY_REQUESTS 429

G_DEFINE_QUARK (natter-api-error-quark, natter_api_error)

static const char * const code_names[] = {
  [NATTER_API_ERROR_UNAUTHORIZED] = "unauthorized",
  [NATTER_API_ERROR_PAYMENT_REQUIRED] = "payment_required",
  [NATTER_API_ERROR_FORBIDDEN] = "forbidden",
  [NATTER_API_ERROR_NOT_FOUND] = "not_found",
  [NATTER_API_ERROR_BAD_REQUEST] = "bad_request",
  [NATTER_API_ERROR_RATE_LIMITED] = "rate_limited",
  [NATTER_API_ERROR_SERVER] = "server",
  [NATTER_API_ERROR_PROVIDER] = "provider",
  [NATTER_API_ERROR_PROTOCOL] = "protocol",
  [NATTER_API_ERROR_TRUNCATED] = "truncated",
  [NATTER_API_ERROR_STALLED] = "stalled",
  [NATTER_API_ERROR_NETWORK] = "network",
};

/* The short machine name of an error, as natter-cli --json prints it. */
const char *
natter_api_error_code_to_string (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "cancelled";
  if (error->domain == NATTER_API_ERROR &&
      error->code >= 0 && error->code < (int) G_N_ELEMENTS (code_names))
    return code_names[error->code];
  return "network";
}

/* Only statuses that a later attempt may not meet again are worth a retry;
 * whether a network failure is transient is decided from the GIO error. */
gboolean
natter_api_error_is_retryable (const GError *error)
{
  return g_error_matches (error, NATTER_API_ERROR, NATTER_API_ERROR_RATE_LIMITED) ||
         g_error_matches (error, NATTER_API_ERROR, NATTER_API_ERROR_SERVER);
}

static NatterApiError
code_for_status (guint status)
{
  switch (status)
    {
    case SOUP_STATUS_UNAUTHORIZED: return NATTER_API_ERROR_UNAUTHORIZED;
    case SOUP_STATUS_PAYMENT_REQUIRED: return NATTER_API_ERROR_PAYMENT_REQUIRED;
    case SOUP_STATUS_FORBIDDEN: return NATTER_API_ERROR_FORBIDDEN;
    case SOUP_STATUS_NOT_FOUND: return NATTER_API_ERROR_NOT_FOUND;
    case SOUP_STATUS_REQUEST_TIMEOUT: return NATTER_API_ERROR_SERVER;
    case STATUS_TOO_MANY_REQUESTS: return NATTER_API_ERROR_RATE_LIMITED;
    default:
      if (SOUP_STATUS_IS_REDIRECTION (status))
        return NATTER_API_ERROR_NOT_FOUND;
      if (SOUP_STATUS_IS_SERVER_ERROR (status))
        return NATTER_API_ERROR_SERVER;
      return NATTER_API_ERROR_BAD_REQUEST;
    }
}

static char *
sentence_for_status (guint status)
{
  switch (code_for_status (status))
    {
    case NATTER_API_ERROR_UNAUTHORIZED:
      return g_strdup_printf (_("The provider rejected the API key (HTTP %u)."), status);
    case NATTER_API_ERROR_PAYMENT_REQUIRED:
      return g_strdup_printf (_("The account has run out of credits (HTTP %u)."), status);
    case NATTER_API_ERROR_FORBIDDEN:
      return g_strdup_printf (_("The provider refused access (HTTP %u)."), status);
    case NATTER_API_ERROR_NOT_FOUND:
      if (SOUP_STATUS_IS_REDIRECTION (status))
        return g_strdup_printf (_("The provider redirected the request elsewhere (HTTP %u)."), status);
      return g_strdup_printf (_("The provider does not know this address or model (HTTP %u)."), status);
    case NATTER_API_ERROR_RATE_LIMITED:
      return g_strdup_printf (_("The provider is limiting requests (HTTP %u)."), status);
    case NATTER_API_ERROR_SERVER:
      if (status == SOUP_STATUS_REQUEST_TIMEOUT)
        return g_strdup_printf (_("The provider timed out (HTTP %u)."), status);
      return g_strdup_printf (_("The provider had a server error (HTTP %u)."), status);
    default:
      return g_strdup_printf (_("The provider rejected the request (HTTP %u)."), status);
    }
}

/**
 * natter_api_error_new_for_status:
 * @status: the HTTP status of a failed response
 * @provider_message: (nullable): what the provider said, from its error body
 *
 * Returns: (transfer full): an error whose message names the status and
 *   quotes the provider
 */
GError *
natter_api_error_new_for_status (guint       status,
                                 const char *provider_message)
{
  g_autofree char *sentence = sentence_for_status (status);

  if (provider_message == NULL || *provider_message == '\0')
    return g_error_new_literal (NATTER_API_ERROR, code_for_status (status), sentence);

  /* Translators: the first %s is a sentence naming the HTTP status, the
   * second what the provider's server said, in its own language. */
  return g_error_new (NATTER_API_ERROR, code_for_status (status),
                      _("%s The provider said: “%s”"), sentence, provider_message);
}

/**
 * natter_api_error_new_for_network:
 * @io_error: a failure to connect, resolve, or negotiate TLS
 *
 * Returns: (transfer full): a %NATTER_API_ERROR_NETWORK error
 */
GError *
natter_api_error_new_for_network (const GError *io_error)
{
  if (io_error->domain == G_TLS_ERROR)
    return g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_NETWORK,
                        _("The secure connection to the provider failed (TLS): %s"),
                        io_error->message);
  if (io_error->domain == G_RESOLVER_ERROR)
    return g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_NETWORK,
                        _("The provider’s address could not be found: %s"),
                        io_error->message);
  return g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_NETWORK,
                      _("Could not reach the provider: %s"), io_error->message);
}

/* Runs of whitespace become one space; the result is cut at @max_chars. */
static char *
collapse_whitespace (const char *text,
                     gsize       max_chars)
{
  g_autoptr(GString) out = g_string_new (NULL);
  gsize n_chars = 0;
  gboolean pending_space = FALSE;
  const char *p;

  for (p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c))
        {
          pending_space = out->len > 0;
          continue;
        }
      if (n_chars + (pending_space ? 1 : 0) >= max_chars)
        break;
      if (pending_space)
        {
          g_string_append_c (out, ' ');
          n_chars++;
        }
      pending_space = FALSE;
      g_string_append_unichar (out, c);
      n_chars++;
    }
  if (*p != '\0')
    g_string_append (out, "…");

  return out->len > 0 ? g_string_free (g_steal_pointer (&out), FALSE) : NULL;
}

static const char *
json_member_string (JsonObject *object,
                    const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return NULL;
}

/* {"error":{"message":…}}, {"error":"…"}, {"message":…} and {"detail":…}
 * are all seen in the wild (OpenAI, Ollama, vLLM and FastAPI servers). */
static const char *
message_from_json (JsonNode *root)
{
  JsonObject *object;
  JsonNode *error;
  const char *message;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  object = json_node_get_object (root);
  error = json_object_get_member (object, "error");
  if (error != NULL && JSON_NODE_HOLDS_OBJECT (error))
    {
      message = json_member_string (json_node_get_object (error), "message");
      if (message != NULL)
        return message;
    }
  else if (error != NULL && JSON_NODE_HOLDS_VALUE (error) &&
           json_node_get_value_type (error) == G_TYPE_STRING)
    return json_node_get_string (error);

  message = json_member_string (object, "message");
  return message != NULL ? message : json_member_string (object, "detail");
}

static char *
html_title (const char *html)
{
  g_autofree char *lower = g_ascii_strdown (html, -1);
  const char *start = strstr (lower, "<title");
  const char *end;

  if (start == NULL || (start = strchr (start, '>')) == NULL)
    return NULL;
  start++;
  end = strstr (start, "</title");
  if (end == NULL)
    return NULL;

  {
    g_autofree char *title = g_strndup (html + (start - lower), end - start);
    return collapse_whitespace (title, SUMMARY_MAX_CHARS);
  }
}

/**
 * natter_api_error_parse_body:
 * @body: (array length=length): an error response body, possibly capped
 * @length: its length in bytes
 * @content_type: (nullable): the response's Content-Type
 *
 * Finds what the provider said in an error body: the message of a JSON error
 * object, the title of an HTML page, or the start of plain text.
 *
 * Returns: (transfer full) (nullable): a short, valid UTF-8 message
 */
char *
natter_api_error_parse_body (const char *body,
                             gsize       length,
                             const char *content_type)
{
  g_autofree char *text = NULL;
  g_autoptr(JsonParser) parser = NULL;
  const char *message;

  if (body == NULL || length == 0)
    return NULL;

  text = g_utf8_make_valid (body, length);
  parser = json_parser_new_immutable ();
  if (json_parser_load_from_data (parser, text, -1, NULL))
    {
      message = message_from_json (json_parser_get_root (parser));
      return message != NULL ? collapse_whitespace (message, SUMMARY_MAX_CHARS * 5) : NULL;
    }

  if ((content_type != NULL && strstr (content_type, "html") != NULL) ||
      g_strstr_len (text, 512, "<html") != NULL || g_strstr_len (text, 512, "<HTML") != NULL)
    {
      char *title = html_title (text);
      return title != NULL ? title : g_strdup (_("an HTML page"));
    }

  return collapse_whitespace (text, SUMMARY_MAX_CHARS);
}

/**
 * natter_api_error_new_for_response:
 * @message: a message that got a response other than 2xx
 * @body: (nullable): its body, possibly capped
 *
 * Returns: (transfer full): the error for the response's status, quoting
 *   what the provider said
 */
GError *
natter_api_error_new_for_response (SoupMessage *message,
                                   GBytes      *body)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (message);
  g_autofree char *provider_message = NULL;
  gsize length = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &length) : NULL;

  provider_message = natter_api_error_parse_body (data, length,
                                                  soup_message_headers_get_content_type (headers, NULL));
  return natter_api_error_new_for_status (soup_message_get_status (message), provider_message);
}

/**
 * natter_api_parse_retry_after:
 * @value: (nullable): a Retry-After header: delay-seconds or an HTTP date
 * @now: (nullable): the current time, for dates; %NULL for the clock
 *
 * Returns: the delay in whole seconds, or -1 when absent or unparsable
 */
gint64
natter_api_parse_retry_after (const char *value,
                              GDateTime  *now)
{
  g_autoptr(GDateTime) date = NULL;
  g_autoptr(GDateTime) clock = NULL;
  guint64 seconds;
  g_autofree char *trimmed = NULL;

  if (value == NULL)
    return -1;

  trimmed = g_strstrip (g_strdup (value));
  if (g_ascii_string_to_unsigned (trimmed, 10, 0, G_MAXINT32, &seconds, NULL))
    return (gint64) seconds;

  date = soup_date_time_new_from_http_string (trimmed);
  if (date == NULL)
    return -1;
  if (now == NULL)
    now = clock = g_date_time_new_now_utc ();

  return MAX (0, (g_date_time_difference (date, now) + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}
