/* natter-chat-stream.h — one streamed /chat/completions call
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "natter-chat-request.h"
#include "natter-chunk-decoder.h"
#include "natter-client.h"

G_BEGIN_DECLS

#define NATTER_TYPE_CHAT_STREAM (natter_chat_stream_get_type ())
G_DECLARE_FINAL_TYPE (NatterChatStream, natter_chat_stream, NATTER, CHAT_STREAM, GObject)

NatterChatStream *natter_chat_stream_new               (NatterClient        *client,
                                                        NatterChatRequest   *request);
void              natter_chat_stream_run_async         (NatterChatStream    *self,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean          natter_chat_stream_run_finish        (NatterChatStream    *self,
                                                        GAsyncResult        *result,
                                                        GError             **error);

NatterClient      *natter_chat_stream_get_client        (NatterChatStream *self);
NatterChatRequest *natter_chat_stream_get_request       (NatterChatStream *self);
const char        *natter_chat_stream_get_finish_reason (NatterChatStream *self);
const char        *natter_chat_stream_get_response_id   (NatterChatStream *self);
const char        *natter_chat_stream_get_model         (NatterChatStream *self);
JsonObject        *natter_chat_stream_get_usage         (NatterChatStream *self);
GPtrArray         *natter_chat_stream_get_tool_calls    (NatterChatStream *self);
gint64             natter_chat_stream_get_ttft_us       (NatterChatStream *self);
gint64             natter_chat_stream_get_duration_us   (NatterChatStream *self);
guint              natter_chat_stream_get_n_chunks      (NatterChatStream *self);
guint64            natter_chat_stream_get_n_bytes       (NatterChatStream *self);
guint              natter_chat_stream_get_n_attempts    (NatterChatStream *self);
guint              natter_chat_stream_get_http_status   (NatterChatStream *self);
gint64             natter_chat_stream_get_retry_after   (NatterChatStream *self);

G_END_DECLS
