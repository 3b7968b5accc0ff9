/* natter-cli-output.c — what natter-cli prints, plain or as JSON lines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Plain output is for people: the answer on stdout as it arrives, reasoning
 * dimmed on stderr. JSON output is for scripts: one object per line, and
 * exactly one closing line, "done" or "error".
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "natter-api-error.h"
#include "natter-cli-output.h"

#define DIM   "\033[2m"
#define RESET "\033[0m"

struct _NatterCliOutput
{
  gboolean json;
  gboolean stdout_is_tty;
  gboolean stderr_is_tty;
  gboolean wrote_content;
  gboolean in_reasoning;
  char     last_content_char;
  gint64   conversation_id;  /* 0 when the answer is not kept */
  gboolean unflushed;
  GSource *flush_source;
};

/* --- Flushing ------------------------------------------------------------ */

/* One read can bring many deltas, and flushing stdout after each cost a
 * write(2) per token.  The answer is flushed instead when the main loop is
 * about to look for more: a source whose prepare does it, and that is never
 * dispatched.  Anything written to stderr flushes it first, to keep the
 * order. */
typedef struct {
  GSource          source;
  NatterCliOutput *output;
} FlushSource;

static void
flush_stdout (NatterCliOutput *output)
{
  if (!output->unflushed)
    return;
  fflush (stdout);
  output->unflushed = FALSE;
}

static gboolean
flush_prepare (GSource *source,
               int     *timeout)
{
  flush_stdout (((FlushSource *) source)->output);
  *timeout = -1;
  return FALSE;
}

static gboolean
flush_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_source_funcs = { flush_prepare, NULL, flush_dispatch, NULL, NULL, NULL };

NatterCliOutput *
natter_cli_output_new (gboolean json)
{
  NatterCliOutput *output = g_new0 (NatterCliOutput, 1);

  output->json = json;
  output->stdout_is_tty = isatty (STDOUT_FILENO);
  output->stderr_is_tty = isatty (STDERR_FILENO);

  /* Prepared before the sources of any other priority. */
  output->flush_source = g_source_new (&flush_source_funcs, sizeof (FlushSource));
  ((FlushSource *) output->flush_source)->output = output;
  g_source_set_priority (output->flush_source, G_PRIORITY_HIGH);
  g_source_attach (output->flush_source, NULL);
  return output;
}

void
natter_cli_output_free (NatterCliOutput *output)
{
  flush_stdout (output);
  g_source_destroy (output->flush_source);
  g_source_unref (output->flush_source);
  g_free (output);
}

/* With --save or --conversation, the closing line names the conversation,
 * so that a script can continue it. */
void
natter_cli_output_set_conversation_id (NatterCliOutput *output,
                                       gint64           conversation_id)
{
  output->conversation_id = conversation_id;
}

static void
print_json_line (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *line = json_to_string (root, FALSE);

  fputs (line, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

static void
print_text_line (const char *type,
                 const char *text)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, text);
  json_builder_end_object (builder);
  print_json_line (builder);
}

void
natter_cli_output_delta (NatterCliOutput *output,
                         const char      *text)
{
  gsize len = strlen (text);

  if (output->json)
    {
      print_text_line ("delta", text);
      return;
    }

  /* On a terminal, the answer starts on its own line after the reasoning. */
  if (output->in_reasoning)
    {
      fputc ('\n', stderr);
      output->in_reasoning = FALSE;
    }
  fwrite (text, 1, len, stdout);
  output->unflushed = TRUE;
  output->wrote_content = TRUE;
  output->last_content_char = text[len - 1];
}

void
natter_cli_output_reasoning (NatterCliOutput *output,
                             const char      *text)
{
  if (output->json)
    {
      print_text_line ("reasoning", text);
      return;
    }

  flush_stdout (output);
  fprintf (stderr, "%s%s%s", output->stderr_is_tty ? DIM : "", text,
           output->stderr_is_tty ? RESET : "");
  fflush (stderr);
  output->in_reasoning = output->stderr_is_tty;
}

void
natter_cli_output_retry (NatterCliOutput *output,
                         guint            retry,
                         guint            delay_ms)
{
  g_autoptr(JsonBuilder) builder = NULL;

  if (!output->json)
    {
      flush_stdout (output);
      fprintf (stderr, _("natter-cli: retrying in %.1f s (retry %u)…\n"), delay_ms / 1000.0, retry);
      return;
    }

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "retry");
  json_builder_set_member_name (builder, "attempt");
  json_builder_add_int_value (builder, retry);
  json_builder_set_member_name (builder, "delay_ms");
  json_builder_add_int_value (builder, delay_ms);
  json_builder_end_object (builder);
  print_json_line (builder);
}

/* On a terminal the prompt should not start after the answer's last word. */
static void
end_plain_content (NatterCliOutput *output)
{
  flush_stdout (output);
  if (output->stdout_is_tty && output->wrote_content && output->last_content_char != '\n')
    {
      fputc ('\n', stdout);
      fflush (stdout);
    }
}

static void
add_nullable_string (JsonBuilder *builder,
                     const char  *name,
                     const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_tool_calls (JsonBuilder *builder,
                GPtrArray   *calls)
{
  json_builder_set_member_name (builder, "tool_calls");
  if (calls == NULL || calls->len == 0)
    {
      json_builder_add_null_value (builder);
      return;
    }

  json_builder_begin_array (builder);
  for (guint i = 0; i < calls->len; i++)
    {
      const NatterToolCall *call = g_ptr_array_index (calls, i);

      json_builder_begin_object (builder);
      add_nullable_string (builder, "id", natter_tool_call_get_id (call));
      add_nullable_string (builder, "name", natter_tool_call_get_name (call));
      add_nullable_string (builder, "arguments", natter_tool_call_get_arguments (call));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
add_usage (JsonBuilder *builder,
           JsonObject  *usage)
{
  json_builder_set_member_name (builder, "usage");
  if (usage == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }

  {
    g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), usage);
    json_builder_add_value (builder, g_steal_pointer (&node));
  }
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_conversation_id (NatterCliOutput *output,
                     JsonBuilder     *builder)
{
  if (output->conversation_id > 0)
    add_int (builder, "conversation_id", output->conversation_id);
}

static void
add_nullable_int (JsonBuilder *builder,
                  const char  *name,
                  gint64       value,
                  gboolean     is_set)
{
  json_builder_set_member_name (builder, name);
  if (is_set)
    json_builder_add_int_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
natter_cli_output_done (NatterCliOutput  *output,
                        NatterChatStream *stream)
{
  g_autoptr(JsonBuilder) builder = NULL;
  gint64 ttft_us = natter_chat_stream_get_ttft_us (stream);

  if (!output->json)
    {
      end_plain_content (output);
      return;
    }

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  add_nullable_string (builder, "type", "done");
  add_nullable_string (builder, "finish_reason", natter_chat_stream_get_finish_reason (stream));
  add_usage (builder, natter_chat_stream_get_usage (stream));
  add_tool_calls (builder, natter_chat_stream_get_tool_calls (stream));
  add_nullable_string (builder, "id", natter_chat_stream_get_response_id (stream));
  add_nullable_string (builder, "model", natter_chat_stream_get_model (stream));
  json_builder_set_member_name (builder, "ttft_ms");
  if (ttft_us >= 0)
    json_builder_add_int_value (builder, ttft_us / 1000);
  else
    json_builder_add_null_value (builder);
  add_int (builder, "duration_ms", natter_chat_stream_get_duration_us (stream) / 1000);
  add_int (builder, "chunks", natter_chat_stream_get_n_chunks (stream));
  add_conversation_id (output, builder);
  json_builder_end_object (builder);
  print_json_line (builder);
}

/* The answer of a kept conversation ends as the app records it: the same
 * keys as natter_cli_output_done(), with null for what a message does not
 * keep (the response id, the chunk count, tool calls). */
void
natter_cli_output_done_message (NatterCliOutput *output,
                                NatterMessage   *answer)
{
  g_autoptr(JsonBuilder) builder = NULL;
  gint64 prompt_tokens = natter_message_get_prompt_tokens (answer);
  gint64 completion_tokens = natter_message_get_completion_tokens (answer);
  gint64 ttft_us = natter_message_get_ttft_us (answer);
  gint64 duration_us = natter_message_get_duration_us (answer);

  if (!output->json)
    {
      end_plain_content (output);
      return;
    }

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  add_nullable_string (builder, "type", "done");
  add_nullable_string (builder, "finish_reason", natter_message_get_finish_reason (answer));
  json_builder_set_member_name (builder, "usage");
  if (prompt_tokens >= 0 || completion_tokens >= 0)
    {
      json_builder_begin_object (builder);
      add_nullable_int (builder, "prompt_tokens", prompt_tokens, prompt_tokens >= 0);
      add_nullable_int (builder, "completion_tokens", completion_tokens, completion_tokens >= 0);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);
  add_nullable_string (builder, "tool_calls", NULL);
  add_nullable_string (builder, "id", NULL);
  add_nullable_string (builder, "model", natter_message_get_model (answer));
  add_nullable_int (builder, "ttft_ms", ttft_us / 1000, ttft_us >= 0);
  add_nullable_int (builder, "duration_ms", duration_us / 1000, duration_us >= 0);
  add_nullable_int (builder, "chunks", 0, FALSE);
  add_conversation_id (output, builder);
  json_builder_end_object (builder);
  print_json_line (builder);
}

void
natter_cli_output_error (NatterCliOutput  *output,
                         NatterChatStream *stream,
                         const GError     *error)
{
  g_autoptr(JsonBuilder) builder = NULL;
  guint status = stream != NULL ? natter_chat_stream_get_http_status (stream) : 0;
  gint64 retry_after = stream != NULL ? natter_chat_stream_get_retry_after (stream) : -1;

  if (!output->json)
    end_plain_content (output);
  fprintf (stderr, "natter-cli: %s\n", error->message);
  if (!output->json)
    return;

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  add_nullable_string (builder, "type", "error");
  add_nullable_string (builder, "code", natter_api_error_code_to_string (error));
  add_nullable_int (builder, "status", status, status != 0);
  add_nullable_string (builder, "message", error->message);
  add_nullable_int (builder, "retry_after", retry_after, retry_after >= 0);
  add_conversation_id (output, builder);
  json_builder_end_object (builder);
  print_json_line (builder);
}

/* One line per event for `natter-cli sse-decode`. */
void
natter_cli_output_sse_event (const char *type,
                             const char *data,
                             const char *id)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  add_nullable_string (builder, "event", type);
  add_nullable_string (builder, "data", data);
  add_nullable_string (builder, "id", id);
  json_builder_end_object (builder);
  print_json_line (builder);
}
