/* natter-sse-parser.h — push parser for text/event-stream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* The default cap on one line and on one event's accumulated data. */
#define NATTER_SSE_PARSER_DEFAULT_MAX_SIZE ((gsize) 16 * 1024 * 1024)

#define NATTER_SSE_ERROR (natter_sse_error_quark ())

typedef enum {
  NATTER_SSE_ERROR_NOT_EVENT_STREAM,
  NATTER_SSE_ERROR_TOO_LARGE,
} NatterSseError;

GQuark natter_sse_error_quark (void);

#define NATTER_TYPE_SSE_PARSER (natter_sse_parser_get_type ())
G_DECLARE_FINAL_TYPE (NatterSseParser, natter_sse_parser, NATTER, SSE_PARSER, GObject)

NatterSseParser *natter_sse_parser_new               (void);
gboolean         natter_sse_parser_feed              (NatterSseParser  *self,
                                                      const char       *data,
                                                      gsize             len,
                                                      GError          **error);
gboolean         natter_sse_parser_end               (NatterSseParser  *self,
                                                      GError          **error);
gsize            natter_sse_parser_get_max_size      (NatterSseParser  *self);
void             natter_sse_parser_set_max_size      (NatterSseParser  *self,
                                                      gsize             max_size);
const char      *natter_sse_parser_get_last_event_id (NatterSseParser  *self);
gint64           natter_sse_parser_get_retry         (NatterSseParser  *self);

G_END_DECLS
