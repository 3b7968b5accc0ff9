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

  return g_error_new (NATTER_API_ERROR, code_for_status (status),
                      /* Translators: the first %s is a sentence naming the HTTP
                       * status, the second what the provider's server said, in
                       * its own language. */
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
  /* The provider was reached, and hung up before its answer began. */
  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) ||
      g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
      g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    return g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_NETWORK,
                        _("The provider closed the connection before answering: %s"),
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

      /* Control characters, as in a binary body, are not shown either. */
      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
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

/* Far deeper than any chunk or error body nests, and far from the depth at
 * which json-glib, recursing once per level, runs out of stack. */
#define JSON_MAX_DEPTH 512

#define JSON_SPACE " \t\r\n"

/* The code unit of the "\uXXXX" escape at @p, or -1 if there is none. */
static int
unicode_escape (const char *p)
{
  int value = 0;

  if (p[0] != '\\' || p[1] != 'u')
    return -1;
  for (int i = 2; i < 6; i++)
    {
      int digit = g_ascii_xdigit_value (p[i]);

      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }
  return value;
}

/* Moves @p from the opening quote of a string to its closing quote.  Only
 * JSON's escapes are let through (json-glib also reads octal ones, which
 * make bytes that are not UTF-8), and only whole surrogate pairs: json-glib
 * takes the escape after a surrogate for its pair without looking, so it
 * swallows the character after a lone one (even the closing quote), decodes
 * it to bytes that are not UTF-8, and leaks the string when the two are no
 * pair. */
static gboolean
skip_string (const char **p)
{
  const char *q;

  for (q = *p + 1; *q != '"'; q++)
    {
      int unit;

      if (*q == '\0')
        return FALSE;
      if (*q != '\\')
        continue;
      if (q[1] != '\0' && strchr ("\"\\/bfnrt", q[1]) != NULL)
        {
          q++;
          continue;
        }
      unit = unicode_escape (q);
      if (unit < 0)
        return FALSE;
      if (unit >= 0xD800 && unit <= 0xDFFF)
        {
          int low = unicode_escape (q + 6);

          if (unit > 0xDBFF || low < 0xDC00 || low > 0xDFFF)
            return FALSE;
          q += 6;
        }
      q += 5;
    }
  *p = q;
  return TRUE;
}

/* Whether @text holds at most one top-level value, nested at most
 * JSON_MAX_DEPTH deep, with no string json-glib mishandles.  Only brackets
 * and strings are followed: outside strings, a bracket may open at the top
 * level only as the first thing, and only white space may follow the value
 * it opens.  Comments and single quotes, which json-glib reads and JSON does
 * not have, are refused rather than followed. */
static gboolean
holds_one_json_value (const char *text)
{
  const char *p = text;
  const char *start;
  guint depth = 0;

  if (g_str_has_prefix (p, "\xEF\xBB\xBF"))
    p += 3;
  p += strspn (p, JSON_SPACE);
  start = p;

  for (; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':
          if (!skip_string (&p))
            return FALSE;
          break;
        case '{':
        case '[':
          if ((depth == 0 && p != start) || depth == JSON_MAX_DEPTH)
            return FALSE;
          depth++;
          break;
        case '}':
        case ']':
          if (depth == 0)
            return FALSE;
          if (--depth == 0)
            return p[1 + strspn (p + 1, JSON_SPACE)] == '\0';
          break;
        case '/':
        case '\'':
          return FALSE;
        default:
          break;
        }
    }
  return TRUE;
}

/**
 * natter_api_load_json:
 * @parser: a parser
 * @text: JSON text from a server, valid UTF-8
 *
 * Loads @text as json_parser_load_from_data() does, unless json-glib 1.6
 * (Debian 12's) would mishandle it: it takes "{…} {…}" for JSON and leaks
 * every top-level value after the first, it leaks or garbles strings with
 * escapes JSON does not have or with lone surrogates, and it overflows the
 * stack on brackets nested some tens of thousands deep.  A server must not
 * be able to grow our memory with each event, nor crash us with one, and
 * the strings of what is loaded are valid UTF-8.
 *
 * Returns: whether @text was loaded
 */
gboolean
natter_api_load_json (JsonParser *parser,
                      const char *text)
{
  g_return_val_if_fail (JSON_IS_PARSER (parser), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  return holds_one_json_value (text) && json_parser_load_from_data (parser, text, -1, NULL);
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
  if (natter_api_load_json (parser, text))
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
