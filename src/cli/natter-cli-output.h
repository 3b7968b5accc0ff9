/* natter-cli-output.h — what natter-cli prints, plain or as JSON lines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "natter-chat-stream.h"
#include "natter-message.h"

G_BEGIN_DECLS

typedef struct _NatterCliOutput NatterCliOutput;

NatterCliOutput *natter_cli_output_new        (gboolean          json);
void             natter_cli_output_free       (NatterCliOutput  *output);
void             natter_cli_output_set_conversation_id
                                              (NatterCliOutput  *output,
                                               gint64            conversation_id);
void             natter_cli_output_delta      (NatterCliOutput  *output,
                                               const char       *text);
void             natter_cli_output_reasoning  (NatterCliOutput  *output,
                                               const char       *text);
void             natter_cli_output_retry      (NatterCliOutput  *output,
                                               guint             retry,
                                               guint             delay_ms);
void             natter_cli_output_done       (NatterCliOutput  *output,
                                               NatterChatStream *stream);
void             natter_cli_output_done_message
                                              (NatterCliOutput  *output,
                                               NatterMessage    *answer);
void             natter_cli_output_error      (NatterCliOutput  *output,
                                               NatterChatStream *stream,
                                               const GError     *error);
void             natter_cli_output_sse_event  (const char       *type,
                                               const char       *data,
                                               const char       *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterCliOutput, natter_cli_output_free)

G_END_DECLS
