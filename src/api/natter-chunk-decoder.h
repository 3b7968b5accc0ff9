/* natter-chunk-decoder.h — OpenAI-style streaming chunks to deltas
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _NatterToolCall NatterToolCall;

#define NATTER_TYPE_TOOL_CALL (natter_tool_call_get_type ())
GType       natter_tool_call_get_type      (void) G_GNUC_CONST;
NatterToolCall *natter_tool_call_copy      (const NatterToolCall *call);
void        natter_tool_call_free          (NatterToolCall *call);
const char *natter_tool_call_get_id        (const NatterToolCall *call);
const char *natter_tool_call_get_name      (const NatterToolCall *call);
const char *natter_tool_call_get_arguments (const NatterToolCall *call);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterToolCall, natter_tool_call_free)

#define NATTER_TYPE_CHUNK_DECODER (natter_chunk_decoder_get_type ())
G_DECLARE_FINAL_TYPE (NatterChunkDecoder, natter_chunk_decoder, NATTER, CHUNK_DECODER, GObject)

NatterChunkDecoder *natter_chunk_decoder_new               (void);
gboolean            natter_chunk_decoder_feed              (NatterChunkDecoder *self,
                                                            const char         *event_type,
                                                            const char         *data,
                                                            GError            **error);
gboolean            natter_chunk_decoder_is_done           (NatterChunkDecoder *self);
guint               natter_chunk_decoder_get_n_chunks      (NatterChunkDecoder *self);
const char         *natter_chunk_decoder_get_finish_reason (NatterChunkDecoder *self);
const char         *natter_chunk_decoder_get_id            (NatterChunkDecoder *self);
const char         *natter_chunk_decoder_get_model         (NatterChunkDecoder *self);
JsonObject         *natter_chunk_decoder_get_usage         (NatterChunkDecoder *self);
GPtrArray          *natter_chunk_decoder_get_tool_calls    (NatterChunkDecoder *self);

G_END_DECLS
