/* fuzz-chunk-decoder.c — NatterChunkDecoder on arbitrary chunks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input holds one event per line, as the SSE parser would hand them
 * over: the line is the event's data (usually a JSON chunk, or [DONE]); a
 * line starting with "error:" is an event of type "error" whose data is the
 * rest.  All lines are fed, even after one fails, as a decoder must stay
 * usable.  What the decoder hands on (deltas, tool calls) must be valid
 * UTF-8 whenever the input was.
 *
 * The decoder reads common chunks in place and leaves the rest to
 * json-glib, promising that both agree.  So every input is decoded twice:
 * as it is, and with a member whose name is escaped ("\u007a") added at the
 * start of each object chunk, which means the same but is always left to
 * json-glib.  Both runs must hand on the same things.
 */
#include <string.h>

#include "fuzz-common.h"
#include "natter-chunk-decoder.h"

typedef struct
{
  gboolean utf8;
  GString *log;
} State;

static void
delta_cb (NatterChunkDecoder *decoder,
          const char         *text,
          gpointer            user_data)
{
  State *state = user_data;

  FUZZ_CHECK (text != NULL && *text != '\0', "empty delta");
  FUZZ_CHECK (!state->utf8 || g_utf8_validate (text, -1, NULL), "delta is not UTF-8");
  g_string_append_printf (state->log, "delta %s\n", text);
}

static void
reasoning_cb (NatterChunkDecoder *decoder,
              const char         *text,
              gpointer            user_data)
{
  State *state = user_data;

  delta_cb (decoder, text, user_data);
  g_string_append (state->log, "(reasoning)\n");
}

static void
usage_cb (NatterChunkDecoder *decoder,
          JsonObject         *usage,
          gpointer            user_data)
{
  State *state = user_data;

  FUZZ_CHECK (usage == natter_chunk_decoder_get_usage (decoder), "usage not kept");
  g_string_append_printf (state->log, "usage of %u members\n", json_object_get_size (usage));
}

static void
log_string (GString    *log,
            const char *name,
            const char *value,
            gboolean    utf8)
{
  FUZZ_CHECK (!utf8 || value == NULL || g_utf8_validate (value, -1, NULL), "%s is not UTF-8", name);
  g_string_append_printf (log, "%s %s\n", name, value != NULL ? value : "(null)");
}

static void
log_result (NatterChunkDecoder *decoder,
            State              *state)
{
  GPtrArray *calls = natter_chunk_decoder_get_tool_calls (decoder);

  for (guint i = 0; i < calls->len; i++)
    {
      g_autoptr(NatterToolCall) copy = natter_tool_call_copy (g_ptr_array_index (calls, i));

      FUZZ_CHECK (natter_tool_call_get_arguments (copy) != NULL, "tool call without arguments string");
      log_string (state->log, "tool call id", natter_tool_call_get_id (copy), state->utf8);
      log_string (state->log, "tool call name", natter_tool_call_get_name (copy), state->utf8);
      log_string (state->log, "tool call arguments", natter_tool_call_get_arguments (copy), state->utf8);
    }
  log_string (state->log, "finish reason", natter_chunk_decoder_get_finish_reason (decoder), state->utf8);
  log_string (state->log, "id", natter_chunk_decoder_get_id (decoder), state->utf8);
  log_string (state->log, "model", natter_chunk_decoder_get_model (decoder), state->utf8);
  g_string_append_printf (state->log, "%u chunks, done %d\n", natter_chunk_decoder_get_n_chunks (decoder),
                          natter_chunk_decoder_is_done (decoder));
}

/* The same chunk, always left to json-glib: the decoder reads in place
 * only objects whose member names are not escaped. */
static char *
escaped_member_first (const char *line)
{
  const char *brace = line + strspn (line, " \t\r");
  const char *after = brace + 1;

  if (*brace != '{')
    return g_strdup (line);
  after += strspn (after, " \t\r");
  return g_strdup_printf ("%.*s{\"\\u007a\":0%s%s", (int) (brace - line), line,
                          *after == '}' ? "" : ",", brace + 1);
}

static void
decode (char  **lines,
        State  *state,
        gboolean escape_first)
{
  g_autoptr(NatterChunkDecoder) decoder = natter_chunk_decoder_new ();

  g_signal_connect (decoder, "content-delta", G_CALLBACK (delta_cb), state);
  g_signal_connect (decoder, "reasoning-delta", G_CALLBACK (reasoning_cb), state);
  g_signal_connect (decoder, "usage", G_CALLBACK (usage_cb), state);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *rewritten = NULL;
      gboolean is_error = g_str_has_prefix (lines[i], "error:");
      const char *payload = is_error ? lines[i] + strlen ("error:") : lines[i];
      gboolean ok;

      if (escape_first && !is_error)
        payload = rewritten = escaped_member_first (payload);
      ok = natter_chunk_decoder_feed (decoder, is_error ? "error" : "message", payload, &error);

      FUZZ_CHECK (ok == (error == NULL), "result and error disagree");
      FUZZ_CHECK (!is_error || natter_chunk_decoder_is_done (decoder) || !ok, "an error event was taken");
      if (error != NULL)
        {
          FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL), "error message is not UTF-8: %s",
                      error->message);
          /* A malformed chunk's message quotes it, so only codes compare. */
          g_string_append_printf (state->log, "line %u: error %s %d\n", i,
                                  g_quark_to_string (error->domain), error->code);
        }
    }
  log_result (decoder, state);
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
  /* Events are C strings: a NUL ends the data, as it does in the app. */
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean utf8 = g_utf8_validate (text, -1, NULL);
  g_autoptr(GString) as_is = g_string_new (NULL);
  g_autoptr(GString) by_json_glib = g_string_new (NULL);
  State first = { utf8, as_is };
  State second = { utf8, by_json_glib };

  decode (lines, &first, FALSE);
  decode (lines, &second, TRUE);
  FUZZ_CHECK (g_string_equal (as_is, by_json_glib), "the decoder's two paths disagree:\n%s\njson-glib:\n%s",
              as_is->str, by_json_glib->str);
  return 0;
}
