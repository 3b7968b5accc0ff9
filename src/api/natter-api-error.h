/* natter-api-error.h — errors a UI can act on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define NATTER_API_ERROR (natter_api_error_quark ())

/* Cancellation is reported as G_IO_ERROR_CANCELLED, as everywhere in GIO. */
typedef enum {
  NATTER_API_ERROR_UNAUTHORIZED,     /* 401: check the API key */
  NATTER_API_ERROR_PAYMENT_REQUIRED, /* 402: out of credits */
  NATTER_API_ERROR_FORBIDDEN,        /* 403: key lacks access, region, moderation */
  NATTER_API_ERROR_NOT_FOUND,        /* 404 or a redirect: check base URL and model */
  NATTER_API_ERROR_BAD_REQUEST,      /* 400 and other 4xx */
  NATTER_API_ERROR_RATE_LIMITED,     /* 429 */
  NATTER_API_ERROR_SERVER,           /* 5xx and 408 */
  NATTER_API_ERROR_PROVIDER,         /* an error reported inside the stream */
  NATTER_API_ERROR_PROTOCOL,         /* not an event stream, bad JSON, too large */
  NATTER_API_ERROR_TRUNCATED,        /* the body ended before the answer did */
  NATTER_API_ERROR_STALLED,          /* no byte for the stall timeout */
  NATTER_API_ERROR_NETWORK,          /* refused, DNS, TLS, reset */
} NatterApiError;

GQuark      natter_api_error_quark            (void);
const char *natter_api_error_code_to_string   (const GError *error);
gboolean    natter_api_error_is_retryable     (const GError *error);

GError     *natter_api_error_new_for_status   (guint        status,
                                               const char  *provider_message);
GError     *natter_api_error_new_for_response (SoupMessage *message,
                                               GBytes      *body);
GError     *natter_api_error_new_for_network  (const GError *io_error);
char       *natter_api_error_parse_body       (const char  *body,
                                               gsize        length,
                                               const char  *content_type);
gint64      natter_api_parse_retry_after      (const char  *value,
                                               GDateTime   *now);
gboolean    natter_api_load_json              (JsonParser  *parser,
                                               const char  *text);

G_END_DECLS
