/* fuzz-api-error.c — error bodies and Retry-After headers from any server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is the body of a failed response, parsed as it would be with
 * several Content-Types; what comes out is shown to the user, so it must be
 * valid UTF-8 and short.  The input, up to its first line end, is also a
 * Retry-After header.
 */
#include <string.h>

#include "fuzz-common.h"
#include "natter-api-error.h"

/* SUMMARY_MAX_CHARS * 5 for a JSON message, and an ellipsis. */
#define MAX_MESSAGE_CHARS 1001

static const char * const content_types[] = {
  NULL,
  "application/json",
  "text/html; charset=utf-8",
  "text/plain",
};

static void
check_body (const char *body,
            gsize       size,
            guint       status)
{
  for (guint i = 0; i < G_N_ELEMENTS (content_types); i++)
    {
      g_autofree char *message = natter_api_error_parse_body (body, size, content_types[i]);
      g_autoptr(GError) error = NULL;

      if (message != NULL)
        {
          FUZZ_CHECK (g_utf8_validate (message, -1, NULL), "message is not UTF-8");
          FUZZ_CHECK (g_utf8_strlen (message, -1) <= MAX_MESSAGE_CHARS, "message too long: %ld chars",
                      g_utf8_strlen (message, -1));
          FUZZ_CHECK (*message != '\0', "empty message");
        }

      error = natter_api_error_new_for_status (status, message);
      FUZZ_CHECK (error->domain == NATTER_API_ERROR, "error from another domain");
      FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL), "error message is not UTF-8");
      FUZZ_CHECK (natter_api_error_code_to_string (error) != NULL, "error without a code name");
      (void) natter_api_error_is_retryable (error);
    }
}

static void
check_retry_after (const char *body,
                   gsize       size)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2026, 11, 21, 12, 0, 0);
  const char *eol = memchr (body, '\n', size);
  g_autofree char *value = g_strndup (body, eol != NULL ? (gsize) (eol - body) : size);
  gint64 seconds = natter_api_parse_retry_after (value, now);

  FUZZ_CHECK (seconds >= -1, "Retry-After gave %" G_GINT64_FORMAT, seconds);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* The statuses a chat request meets, chosen by the input. */
  static const guint statuses[] = { 400, 401, 402, 403, 404, 408, 413, 429, 500, 502, 503, 504, 302 };
  const char *body = (const char *) data;

  check_body (body, size, statuses[fuzz_hash (data, size) % G_N_ELEMENTS (statuses)]);
  check_retry_after (body, size);
  return 0;
}
