/* natter-chunk-decoder.c — OpenAI-style streaming chunks to deltas
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each server-sent event of a chat completion stream carries one JSON chunk.
 * The decoder turns them into content and reasoning deltas, signalled as they
 * come, and keeps what the whole answer adds up to: finish reason, usage,
 * tool calls, id and model.
 */
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "natter-api-error.h"
#include "natter-chunk-decoder.h"

/* How much of a malformed payload an error message quotes. */
#define QUOTE_MAX_CHARS 80

struct _NatterToolCall
{
  guint    index;
  char    *id;
  char    *name;
  GString *arguments;
};

struct _NatterChunkDecoder
{
  GObject     parent_instance;

  JsonParser *parser;
  char       *finish_reason;
  char       *id;
  char       *model;
  JsonObject *usage;
  GPtrArray  *tool_calls;
  guint       n_chunks;
  gboolean    done;
};

G_DEFINE_FINAL_TYPE (NatterChunkDecoder, natter_chunk_decoder, G_TYPE_OBJECT)

enum {
  CONTENT_DELTA,
  REASONING_DELTA,
  USAGE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- NatterToolCall ---------------------------------------------------- */

static NatterToolCall *
natter_tool_call_new (guint index)
{
  NatterToolCall *call = g_new0 (NatterToolCall, 1);

  call->index = index;
  call->arguments = g_string_new (NULL);
  return call;
}

NatterToolCall *
natter_tool_call_copy (const NatterToolCall *call)
{
  NatterToolCall *copy = natter_tool_call_new (call->index);

  copy->id = g_strdup (call->id);
  copy->name = g_strdup (call->name);
  g_string_append_len (copy->arguments, call->arguments->str, call->arguments->len);
  return copy;
}

void
natter_tool_call_free (NatterToolCall *call)
{
  g_free (call->id);
  g_free (call->name);
  g_string_free (call->arguments, TRUE);
  g_free (call);
}

G_DEFINE_BOXED_TYPE (NatterToolCall, natter_tool_call, natter_tool_call_copy, natter_tool_call_free)

const char *
natter_tool_call_get_id (const NatterToolCall *call)
{
  return call->id;
}

const char *
natter_tool_call_get_name (const NatterToolCall *call)
{
  return call->name;
}

const char *
natter_tool_call_get_arguments (const NatterToolCall *call)
{
  return call->arguments->str;
}

/* --- JSON helpers -------------------------------------------------------- */

static const char *
get_string (JsonObject *object,
            const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);
  return NULL;
}

static JsonObject *
get_object (JsonObject *object,
            const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
get_array (JsonObject *object,
           const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* Providers' arrays are not trusted to hold only objects. */
static JsonObject *
get_element_object (JsonArray *array,
                    guint      index)
{
  JsonNode *node = json_array_get_element (array, index);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* A missing index counts as 0: some local servers leave it out. */
static gint64
get_index (JsonObject *object)
{
  JsonNode *node = json_object_get_member (object, "index");

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  return json_node_get_int (node);
}

static void
replace_string (char       **field,
                const char  *value)
{
  if (value == NULL || g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
}

/* --- Decoding ------------------------------------------------------------ */

static NatterToolCall *
find_tool_call (NatterChunkDecoder *self,
                guint               index)
{
  NatterToolCall *call;

  for (guint i = 0; i < self->tool_calls->len; i++)
    {
      call = g_ptr_array_index (self->tool_calls, i);
      if (call->index == index)
        return call;
    }

  call = natter_tool_call_new (index);
  g_ptr_array_add (self->tool_calls, call);
  return call;
}

/* Tool calls arrive in fragments: the first names the call, the following
 * ones carry more of its arguments. */
static void
merge_tool_calls (NatterChunkDecoder *self,
                  JsonArray          *fragments)
{
  for (guint i = 0; i < json_array_get_length (fragments); i++)
    {
      JsonObject *fragment = get_element_object (fragments, i);
      JsonObject *function = get_object (fragment, "function");
      NatterToolCall *call;
      const char *arguments;

      if (fragment == NULL)
        continue;

      call = find_tool_call (self, get_index (fragment));
      if (call->id == NULL)
        call->id = g_strdup (get_string (fragment, "id"));
      if (call->name == NULL)
        call->name = g_strdup (get_string (function, "name"));
      arguments = get_string (function, "arguments");
      if (arguments != NULL)
        g_string_append (call->arguments, arguments);
    }
}

static void
emit_if_text (NatterChunkDecoder *self,
              guint               signal_id,
              const char         *text)
{
  if (text != NULL && *text != '\0')
    g_signal_emit (self, signals[signal_id], 0, text);
}

static void
decode_choice (NatterChunkDecoder *self,
               JsonObject         *choice)
{
  JsonObject *delta = get_object (choice, "delta");
  JsonArray *tool_calls = get_array (delta, "tool_calls");
  const char *reasoning = get_string (delta, "reasoning");

  /* Providers name reasoning either way; none sends the same text twice. */
  if (reasoning == NULL || *reasoning == '\0')
    reasoning = get_string (delta, "reasoning_content");

  emit_if_text (self, REASONING_DELTA, reasoning);
  emit_if_text (self, CONTENT_DELTA, get_string (delta, "content"));
  if (tool_calls != NULL)
    merge_tool_calls (self, tool_calls);

  /* A later null finish_reason never clears an earlier one. */
  replace_string (&self->finish_reason, get_string (choice, "finish_reason"));
}

static JsonObject *
first_choice (JsonObject *chunk)
{
  JsonArray *choices = get_array (chunk, "choices");

  for (guint i = 0; choices != NULL && i < json_array_get_length (choices); i++)
    {
      JsonObject *choice = get_element_object (choices, i);

      if (choice != NULL && get_index (choice) == 0)
        return choice;
    }
  return NULL;
}

static void
decode_usage (NatterChunkDecoder *self,
              JsonObject         *chunk)
{
  JsonObject *usage = get_object (chunk, "usage");

  if (usage == NULL)
    return;

  g_clear_pointer (&self->usage, json_object_unref);
  self->usage = json_object_ref (usage);
  g_signal_emit (self, signals[USAGE], 0, usage);
}

static GError *
provider_error (const char *data)
{
  g_autofree char *message = natter_api_error_parse_body (data, strlen (data), NULL);

  if (message == NULL)
    return g_error_new_literal (NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER,
                                _("The provider reported an error without saying what it was."));
  return g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER,
                      _("The provider reported an error: “%s”"), message);
}

static GError *
malformed_error (const char *data)
{
  g_autofree char *valid = g_utf8_make_valid (data, -1);
  glong length = g_utf8_strlen (valid, -1);
  /* g_utf8_substring () must not be asked for more than the string has. */
  g_autofree char *quote = g_utf8_substring (valid, 0, MIN (length, QUOTE_MAX_CHARS));

  return g_error_new (NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL,
                      _("The provider sent a chunk that is not valid JSON: “%s%s”"),
                      quote, length > QUOTE_MAX_CHARS ? "…" : "");
}

static JsonObject *
parse_chunk (NatterChunkDecoder  *self,
             const char          *data,
             GError             **error)
{
  JsonNode *root;

  if (!json_parser_load_from_data (self->parser, data, -1, NULL) ||
      (root = json_parser_get_root (self->parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_propagate_error (error, malformed_error (data));
      return NULL;
    }
  return json_node_get_object (root);
}

/**
 * natter_chunk_decoder_feed:
 * @self: a #NatterChunkDecoder
 * @event_type: the server-sent event's type
 * @data: the event's data
 * @error: a #GError
 *
 * Decodes one event. Events after `[DONE]` are ignored.
 *
 * Returns: %FALSE with @error set for a provider error or a malformed chunk
 */
gboolean
natter_chunk_decoder_feed (NatterChunkDecoder  *self,
                           const char          *event_type,
                           const char          *data,
                           GError             **error)
{
  JsonObject *chunk;
  JsonObject *choice;

  g_return_val_if_fail (NATTER_IS_CHUNK_DECODER (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);

  if (self->done)
    return TRUE;

  if (g_strcmp0 (event_type, "error") == 0)
    {
      g_propagate_error (error, provider_error (data));
      return FALSE;
    }

  if (strcmp (data, "[DONE]") == 0)
    {
      self->done = TRUE;
      return TRUE;
    }

  if (!(chunk = parse_chunk (self, data, error)))
    return FALSE;

  self->n_chunks++;
  if (json_object_has_member (chunk, "error") && !json_object_get_null_member (chunk, "error"))
    {
      g_propagate_error (error, provider_error (data));
      return FALSE;
    }

  replace_string (&self->id, get_string (chunk, "id"));
  replace_string (&self->model, get_string (chunk, "model"));
  if ((choice = first_choice (chunk)) != NULL)
    decode_choice (self, choice);
  decode_usage (self, chunk);

  return TRUE;
}

/* --- GObject --------------------------------------------------------- */

static void
natter_chunk_decoder_finalize (GObject *object)
{
  NatterChunkDecoder *self = NATTER_CHUNK_DECODER (object);

  g_clear_object (&self->parser);
  g_clear_pointer (&self->finish_reason, g_free);
  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->usage, json_object_unref);
  g_clear_pointer (&self->tool_calls, g_ptr_array_unref);

  G_OBJECT_CLASS (natter_chunk_decoder_parent_class)->finalize (object);
}

static void
natter_chunk_decoder_class_init (NatterChunkDecoderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natter_chunk_decoder_finalize;

  /**
   * NatterChunkDecoder::content-delta:
   * @text: the next piece of the answer
   */
  signals[CONTENT_DELTA] =
    g_signal_new ("content-delta", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * NatterChunkDecoder::reasoning-delta:
   * @text: the next piece of the model's reasoning
   */
  signals[REASONING_DELTA] =
    g_signal_new ("reasoning-delta", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * NatterChunkDecoder::usage:
   * @usage: the provider's usage object, as sent
   */
  signals[USAGE] =
    g_signal_new ("usage", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  JSON_TYPE_OBJECT | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
natter_chunk_decoder_init (NatterChunkDecoder *self)
{
  self->parser = json_parser_new_immutable ();
  self->tool_calls = g_ptr_array_new_with_free_func ((GDestroyNotify) natter_tool_call_free);
}

NatterChunkDecoder *
natter_chunk_decoder_new (void)
{
  return g_object_new (NATTER_TYPE_CHUNK_DECODER, NULL);
}

gboolean
natter_chunk_decoder_is_done (NatterChunkDecoder *self)
{
  g_return_val_if_fail (NATTER_IS_CHUNK_DECODER (self), FALSE);
  return self->done;
}

guint
natter_chunk_decoder_get_n_chunks (NatterChunkDecoder *self)
{
  g_return_val_if_fail (NATTER_IS_CHUNK_DECODER (self), 0);
  return self->n_chunks;
}

const char *
natter_chunk_decoder_get_finish_reason (NatterChunkDecoder *self)
{
  g_return_val_if_fail (NATTER_IS_CHUNK_DECODER (self), NULL);
  return self->finish_reason;
}

const char *
natter_chunk_decoder_get_id (NatterChunkDecoder *self)
{
  g_return_val_if_fail (NATTER_IS_CHUNK_DECODER (self), NULL);
  return self->id;
}

const char *
natter_chunk_decoder_get_model (NatterChunkDecoder *self)
{
  g_return_val_if_fail (NATTER_IS_CHUNK_DECODER (self), NULL);
  return self->model;
}

/**
 * natter_chunk_decoder_get_usage:
 *
 * Returns: (transfer none) (nullable): the last usage object received
 */
JsonObject *
natter_chunk_decoder_get_usage (NatterChunkDecoder *self)
{
  g_return_val_if_fail (NATTER_IS_CHUNK_DECODER (self), NULL);
  return self->usage;
}

/**
 * natter_chunk_decoder_get_tool_calls:
 *
 * Returns: (transfer none) (element-type NatterToolCall): the merged calls
 */
GPtrArray *
natter_chunk_decoder_get_tool_calls (NatterChunkDecoder *self)
{
  g_return_val_if_fail (NATTER_IS_CHUNK_DECODER (self), NULL);
  return self->tool_calls;
}
