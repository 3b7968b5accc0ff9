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
#include <string.h>

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
  GString    *scratch;  /* the text of the fast path's last string */
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

  if (!natter_api_load_json (self->parser, data) ||
      (root = json_parser_get_root (self->parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_propagate_error (error, malformed_error (data));
      return NULL;
    }
  return json_node_get_object (root);
}

/* --- Fast path ------------------------------------------------------------ */

/* Nearly every chunk of an answer is one content or reasoning delta.  Having
 * json-glib build nodes and hash tables for each cost more than all the rest
 * of the work per token, and held the decoder to about 40 MB/s.  Such chunks
 * are read in place instead: one pass checks that the whole chunk is JSON and
 * notes where the members we use are.  Whatever it is not sure of goes to
 * json-glib as before: usage, tool calls, errors, a member given twice, an
 * escaped name, a number with an exponent or many digits, \u0000, a lone
 * surrogate, deep nesting, and anything that is not strict JSON.  So the two
 * paths agree wherever the fast one answers. */

#define SCAN_MAX_DEPTH 64

/* A string member's text between its quotes, still escaped; start is NULL
 * when the member is absent or null. */
typedef struct {
  const char *start;
  gsize       len;
  gboolean    escaped;
} Span;

enum {
  SEEN_ID = 1 << 0,
  SEEN_MODEL = 1 << 1,
  SEEN_CHOICES = 1 << 2,
  SEEN_USAGE = 1 << 3,
  SEEN_ERROR = 1 << 4,
  SEEN_INDEX = 1 << 5,
  SEEN_DELTA = 1 << 6,
  SEEN_FINISH_REASON = 1 << 7,
  SEEN_CONTENT = 1 << 8,
  SEEN_REASONING = 1 << 9,
  SEEN_REASONING_CONTENT = 1 << 10,
  SEEN_TOOL_CALLS = 1 << 11,
};

typedef struct {
  guint  seen;
  gint64 index;
  Span   content;
  Span   reasoning;
  Span   reasoning_content;
  Span   finish_reason;
} ScanChoice;

typedef struct {
  const char *p;
  const char *first_high;  /* the first byte beyond ASCII, for the UTF-8 check */
  guint       seen;
  Span        id;
  Span        model;
  gboolean    has_choice;
  ScanChoice  choice;      /* the first with index 0 */
} Scan;

typedef gboolean (*ScanMemberFunc) (Scan       *s,
                                    const Span *name,
                                    gpointer    data,
                                    guint       depth);

/* What ends a run of plain bytes in a string: the quote, the backslash,
 * control characters (and the NUL at the end of the data), and bytes beyond
 * ASCII, which are noted. */
static const guint8 string_special[256] = {
  [0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

#define IS_NAME(span, literal) \
  ((span)->len == sizeof (literal) - 1 && memcmp ((span)->start, literal, sizeof (literal) - 1) == 0)

static gboolean skip_value (Scan *s, guint depth);

static void
skip_space (Scan *s)
{
  while (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')
    s->p++;
}

static gboolean
once (guint *seen,
      guint  member)
{
  if (*seen & member)
    return FALSE;
  *seen |= member;
  return TRUE;
}

static gboolean
read_hex4 (const char *p,
           gunichar   *unit)
{
  *unit = 0;
  for (guint i = 0; i < 4; i++)
    {
      if (!g_ascii_isxdigit (p[i]))
        return FALSE;
      *unit = *unit * 16 + g_ascii_xdigit_value (p[i]);
    }
  return TRUE;
}

/* @p is on a backslash; moves past the escape. */
static gboolean
scan_escape (const char **p)
{
  const char *q = *p;
  gunichar unit, low;

  switch (q[1])
    {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
      *p = q + 2;
      return TRUE;
    case 'u':
      if (!read_hex4 (q + 2, &unit) || unit == 0 || (unit >= 0xDC00 && unit <= 0xDFFF))
        return FALSE;
      if (unit < 0xD800 || unit > 0xDBFF)
        {
          *p = q + 6;
          return TRUE;
        }
      if (q[6] != '\\' || q[7] != 'u' || !read_hex4 (q + 8, &low) || low < 0xDC00 || low > 0xDFFF)
        return FALSE;
      *p = q + 12;
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
scan_string (Scan *s,
             Span *span)
{
  const char *p = s->p;
  const char *start;
  gboolean escaped = FALSE;

  if (*p != '"')
    return FALSE;
  start = ++p;
  for (;;)
    {
      guchar c = *p;

      if (!string_special[c])
        p++;
      else if (c == '"')
        break;
      else if (c == '\\')
        {
          if (!scan_escape (&p))
            return FALSE;
          escaped = TRUE;
        }
      else if (c < 0x20)
        return FALSE;
      else
        {
          if (s->first_high == NULL)
            s->first_high = p;
          p++;
        }
    }

  if (span != NULL)
    *span = (Span) { start, p - start, escaped };
  s->p = p + 1;
  return TRUE;
}

static gboolean
scan_literal (Scan       *s,
              const char *word)
{
  gsize len = strlen (word);

  if (strncmp (s->p, word, len) != 0)
    return FALSE;
  s->p += len;
  return TRUE;
}

static gboolean
scan_string_or_null (Scan *s,
                     Span *span)
{
  return *s->p == 'n' ? scan_literal (s, "null") : scan_string (s, span);
}

/* Numbers json-glib reads exactly as JSON means them; @value, when given,
 * asks for an integer. */
static gboolean
scan_number (Scan   *s,
             gint64 *value)
{
  const char *p = s->p;
  gboolean negative = *p == '-';
  gint64 n = 0;
  guint digits = 0;

  if (negative)
    p++;
  if (*p == '0')
    {
      p++;
      digits = 1;
    }
  else
    for (; g_ascii_isdigit (*p); p++)
      {
        if (++digits > 15)
          return FALSE;
        n = n * 10 + (*p - '0');
      }
  if (digits == 0)
    return FALSE;

  if (*p == '.')
    {
      if (value != NULL || !g_ascii_isdigit (p[1]))
        return FALSE;
      for (p++; g_ascii_isdigit (*p); p++)
        ;
    }
  if (*p == 'e' || *p == 'E')
    return FALSE;

  if (value != NULL)
    *value = negative ? -n : n;
  s->p = p;
  return TRUE;
}

/* Calls @member (or skips) for each member, on its value. */
static gboolean
scan_object (Scan           *s,
             guint           depth,
             ScanMemberFunc  member,
             gpointer        data)
{
  if (*s->p != '{' || depth > SCAN_MAX_DEPTH)
    return FALSE;
  s->p++;
  skip_space (s);
  if (*s->p == '}')
    {
      s->p++;
      return TRUE;
    }

  for (;;)
    {
      Span name;

      /* json-glib would unescape a name before matching it. */
      if (!scan_string (s, &name) || name.escaped)
        return FALSE;
      skip_space (s);
      if (*s->p != ':')
        return FALSE;
      s->p++;
      skip_space (s);
      if (!(member != NULL ? member (s, &name, data, depth) : skip_value (s, depth)))
        return FALSE;
      skip_space (s);
      if (*s->p == '}')
        {
          s->p++;
          return TRUE;
        }
      if (*s->p != ',')
        return FALSE;
      s->p++;
      skip_space (s);
    }
}

static gboolean
skip_array (Scan  *s,
            guint  depth)
{
  if (depth > SCAN_MAX_DEPTH)
    return FALSE;
  s->p++;
  skip_space (s);
  if (*s->p == ']')
    {
      s->p++;
      return TRUE;
    }

  for (;;)
    {
      if (!skip_value (s, depth))
        return FALSE;
      skip_space (s);
      if (*s->p == ']')
        {
          s->p++;
          return TRUE;
        }
      if (*s->p != ',')
        return FALSE;
      s->p++;
      skip_space (s);
    }
}

static gboolean
skip_value (Scan  *s,
            guint  depth)
{
  switch (*s->p)
    {
    case '"':
      return scan_string (s, NULL);
    case '{':
      return scan_object (s, depth + 1, NULL, NULL);
    case '[':
      return skip_array (s, depth + 1);
    case 't':
      return scan_literal (s, "true");
    case 'f':
      return scan_literal (s, "false");
    case 'n':
      return scan_literal (s, "null");
    default:
      return scan_number (s, NULL);
    }
}

static gboolean
delta_member (Scan       *s,
              const Span *name,
              gpointer    data,
              guint       depth)
{
  ScanChoice *choice = data;

  if (IS_NAME (name, "content"))
    return once (&choice->seen, SEEN_CONTENT) && scan_string_or_null (s, &choice->content);
  if (IS_NAME (name, "reasoning"))
    return once (&choice->seen, SEEN_REASONING) && scan_string_or_null (s, &choice->reasoning);
  if (IS_NAME (name, "reasoning_content"))
    return once (&choice->seen, SEEN_REASONING_CONTENT) &&
           scan_string_or_null (s, &choice->reasoning_content);
  if (IS_NAME (name, "tool_calls"))
    return once (&choice->seen, SEEN_TOOL_CALLS) && scan_literal (s, "null");
  return skip_value (s, depth);
}

static gboolean
choice_member (Scan       *s,
               const Span *name,
               gpointer    data,
               guint       depth)
{
  ScanChoice *choice = data;

  if (IS_NAME (name, "index"))
    return once (&choice->seen, SEEN_INDEX) && scan_number (s, &choice->index);
  if (IS_NAME (name, "delta"))
    return once (&choice->seen, SEEN_DELTA) &&
           (*s->p == 'n' ? scan_literal (s, "null") : scan_object (s, depth + 1, delta_member, choice));
  if (IS_NAME (name, "finish_reason"))
    return once (&choice->seen, SEEN_FINISH_REASON) && scan_string_or_null (s, &choice->finish_reason);
  return skip_value (s, depth);
}

static gboolean
scan_choices (Scan  *s,
              guint  depth)
{
  if (*s->p == 'n')
    return scan_literal (s, "null");
  if (*s->p != '[')
    return FALSE;
  s->p++;
  skip_space (s);
  if (*s->p == ']')
    {
      s->p++;
      return TRUE;
    }

  for (;;)
    {
      ScanChoice choice = { 0 };

      if (!scan_object (s, depth + 2, choice_member, &choice))
        return FALSE;
      if (!s->has_choice && choice.index == 0)
        {
          s->choice = choice;
          s->has_choice = TRUE;
        }
      skip_space (s);
      if (*s->p == ']')
        {
          s->p++;
          return TRUE;
        }
      if (*s->p != ',')
        return FALSE;
      s->p++;
      skip_space (s);
    }
}

static gboolean
chunk_member (Scan       *s,
              const Span *name,
              gpointer    data,
              guint       depth)
{
  if (IS_NAME (name, "id"))
    return once (&s->seen, SEEN_ID) && scan_string_or_null (s, &s->id);
  if (IS_NAME (name, "model"))
    return once (&s->seen, SEEN_MODEL) && scan_string_or_null (s, &s->model);
  if (IS_NAME (name, "choices"))
    return once (&s->seen, SEEN_CHOICES) && scan_choices (s, depth);
  if (IS_NAME (name, "usage"))
    return once (&s->seen, SEEN_USAGE) && scan_literal (s, "null");
  if (IS_NAME (name, "error"))
    return once (&s->seen, SEEN_ERROR) && scan_literal (s, "null");
  return skip_value (s, depth);
}

static gboolean
scan_chunk (Scan       *s,
            const char *data)
{
  s->p = data;
  skip_space (s);
  if (!scan_object (s, 0, chunk_member, NULL))
    return FALSE;
  skip_space (s);
  /* Everything before the first byte beyond ASCII is ASCII. */
  return *s->p == '\0' && (s->first_high == NULL || g_utf8_validate (s->first_high, -1, NULL));
}

/* The span's text, unescaped into @out, which it returns. */
static const char *
span_text (GString    *out,
           const Span *span)
{
  const char *p = span->start;
  const char *end = p + span->len;

  g_string_truncate (out, 0);
  while (p < end)
    {
      const char *backslash = span->escaped ? memchr (p, '\\', end - p) : NULL;
      gunichar c, low;

      if (backslash == NULL)
        {
          g_string_append_len (out, p, end - p);
          break;
        }
      g_string_append_len (out, p, backslash - p);
      p = backslash + 2;
      switch (backslash[1])
        {
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'u':
          /* scan_escape() has checked the digits and the pairs. */
          read_hex4 (p, &c);
          p += 4;
          if (c >= 0xD800 && c <= 0xDBFF)
            {
              read_hex4 (p + 2, &low);
              p += 6;
              c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
            }
          g_string_append_unichar (out, c);
          break;
        default:
          g_string_append_c (out, backslash[1]);
          break;
        }
    }
  return out->str;
}

static void
replace_from_span (NatterChunkDecoder  *self,
                   char               **field,
                   const Span          *span)
{
  if (span->start != NULL)
    replace_string (field, span_text (self->scratch, span));
}

static void
emit_span (NatterChunkDecoder *self,
           guint               signal_id,
           const Span         *span)
{
  if (span->len > 0)
    g_signal_emit (self, signals[signal_id], 0, span_text (self->scratch, span));
}

/* Returns FALSE, having done nothing, when json-glib must decode @data. */
static gboolean
decode_fast (NatterChunkDecoder *self,
             const char         *data)
{
  Scan s = { 0 };
  const ScanChoice *choice = &s.choice;

  if (!scan_chunk (&s, data))
    return FALSE;

  self->n_chunks++;
  replace_from_span (self, &self->id, &s.id);
  replace_from_span (self, &self->model, &s.model);
  if (s.has_choice)
    {
      /* As decode_choice(): an escape never decodes to nothing, so an empty
       * span is an empty string. */
      emit_span (self, REASONING_DELTA,
                 choice->reasoning.len > 0 ? &choice->reasoning : &choice->reasoning_content);
      emit_span (self, CONTENT_DELTA, &choice->content);
      replace_from_span (self, &self->finish_reason, &choice->finish_reason);
    }
  return TRUE;
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

  if (decode_fast (self, data))
    return TRUE;

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
  g_string_free (self->scratch, TRUE);

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
  self->scratch = g_string_new (NULL);
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
