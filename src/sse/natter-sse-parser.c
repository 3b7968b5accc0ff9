/* natter-sse-parser.c — push parser for text/event-stream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Follows the WHATWG HTML rules to "parse an event stream" and "interpret an
 * event stream".  The network cuts the body anywhere, so everything that can
 * straddle a cut (a line, a BOM, the LF of a CRLF, a UTF-8 character) is kept
 * as state between feeds, and every byte is looked at once: feeding a byte at
 * a time costs the same as feeding the whole body.
 */
#include <glib-object.h>
#include <glib/gi18n.h>
#include <string.h>

#include "natter-sse-parser.h"

static const guchar bom[] = { 0xEF, 0xBB, 0xBF };

typedef enum {
  FIELD_UNKNOWN,
  FIELD_COMMENT,
  FIELD_DATA,
  FIELD_EVENT,
  FIELD_ID,
  FIELD_RETRY,
} Field;

static const char * const field_names[] = {
  [FIELD_DATA] = "data",
  [FIELD_EVENT] = "event",
  [FIELD_ID] = "id",
  [FIELD_RETRY] = "retry",
};

struct _NatterSseParser
{
  GObject   parent_instance;

  gsize     max_size;
  GString  *line;
  GString  *data;
  GString  *event_type;
  GString  *id_buffer;
  GString  *last_event_id;
  gint64    retry;
  GError   *error;

  guint     bom_bytes;
  guint     started : 1;
  guint     skip_lf : 1;
  guint     recognised : 1;
  guint     ended : 1;
  guint     busy : 1;
};

G_DEFINE_QUARK (natter-sse-error-quark, natter_sse_error)

G_DEFINE_FINAL_TYPE (NatterSseParser, natter_sse_parser, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MAX_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  EVENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- Errors ------------------------------------------------------------- */

/* Parsing on after a failure would start from an arbitrary point of the
 * stream, so the parser keeps the error and reports it from then on. */
static gboolean
fail (NatterSseParser *self,
      GError          *failure,
      GError         **error)
{
  self->error = failure;
  g_propagate_error (error, g_error_copy (failure));
  return FALSE;
}

static gboolean
fail_not_event_stream (NatterSseParser  *self,
                       GError          **error)
{
  return fail (self,
               g_error_new_literal (NATTER_SSE_ERROR,
                                    NATTER_SSE_ERROR_NOT_EVENT_STREAM,
                                    _("The server did not send an event stream")),
               error);
}

static gboolean
fail_line_too_long (NatterSseParser  *self,
                    GError          **error)
{
  g_autofree char *limit = g_format_size (self->max_size);

  return fail (self,
               g_error_new (NATTER_SSE_ERROR, NATTER_SSE_ERROR_TOO_LARGE,
                            _("The server sent a line longer than %s"), limit),
               error);
}

static gboolean
fail_event_too_large (NatterSseParser  *self,
                      GError          **error)
{
  g_autofree char *limit = g_format_size (self->max_size);

  return fail (self,
               g_error_new (NATTER_SSE_ERROR, NATTER_SSE_ERROR_TOO_LARGE,
                            _("The server sent an event larger than %s"), limit),
               error);
}

/* Written so that it cannot overflow, even when the limit was lowered
 * below what is already buffered. */
static gboolean
fits (gsize used,
      gsize more,
      gsize max_size)
{
  return more <= max_size && used <= max_size - more;
}

/* --- Interpreting lines ------------------------------------------------- */

static gboolean
is_blank (const char *line,
          gsize       len)
{
  gsize i;

  for (i = 0; i < len; i++)
    if (line[i] != ' ' && line[i] != '\t')
      return FALSE;
  return TRUE;
}

/* Lengths are compared, not strings: a name may contain U+0000. */
static Field
lookup_field (const char *name,
              gsize       len)
{
  guint i;

  for (i = FIELD_DATA; i < G_N_ELEMENTS (field_names); i++)
    if (strlen (field_names[i]) == len && memcmp (field_names[i], name, len) == 0)
      return i;
  return FIELD_UNKNOWN;
}

static void
dispatch (NatterSseParser *self)
{
  g_string_assign (self->last_event_id, self->id_buffer->str);
  if (self->data->len == 0)
    {
      g_string_truncate (self->event_type, 0);
      return;
    }

  /* Each data line added an LF; only the ones between lines are data.
   * Handlers get C strings, so a type that starts with U+0000 would reach
   * them empty: it counts as no type. */
  g_string_truncate (self->data, self->data->len - 1);
  g_signal_emit (self, signals[EVENT], 0,
                 self->event_type->str[0] != '\0' ? self->event_type->str : "message",
                 self->data->str,
                 self->last_event_id->str);
  g_string_truncate (self->data, 0);
  g_string_truncate (self->event_type, 0);
}

static gboolean
append_data (NatterSseParser  *self,
             const char       *value,
             gsize             len,
             GError          **error)
{
  /* The LF added here is not counted: it goes away if this line is the
   * event's last. */
  if (!fits (self->data->len, len, self->max_size))
    return fail_event_too_large (self, error);

  g_string_append_len (self->data, value, len);
  g_string_append_c (self->data, '\n');
  return TRUE;
}

static void
set_id (NatterSseParser *self,
        const char      *value,
        gsize            len)
{
  /* An ID with U+0000 could not be sent back in a Last-Event-ID header. */
  if (memchr (value, '\0', len) != NULL)
    return;

  g_string_truncate (self->id_buffer, 0);
  g_string_append_len (self->id_buffer, value, len);
}

/* "retry: 5s", "retry: -1" and "retry:" leave the reconnection time alone,
 * and so does a number of milliseconds that does not fit a gint64. */
static void
set_retry (NatterSseParser *self,
           const char      *value,
           gsize            len)
{
  gint64 retry = 0;
  gsize i;

  if (len == 0)
    return;

  for (i = 0; i < len; i++)
    {
      int digit = value[i] - '0';

      if (!g_ascii_isdigit (value[i]) || retry > (G_MAXINT64 - digit) / 10)
        return;
      retry = retry * 10 + digit;
    }
  self->retry = retry;
}

static gboolean
apply_field (NatterSseParser  *self,
             Field             field,
             const char       *value,
             gsize             len,
             GError          **error)
{
  switch (field)
    {
    case FIELD_DATA:
      return append_data (self, value, len, error);
    case FIELD_EVENT:
      g_string_truncate (self->event_type, 0);
      g_string_append_len (self->event_type, value, len);
      return TRUE;
    case FIELD_ID:
      set_id (self, value, len);
      return TRUE;
    case FIELD_RETRY:
      set_retry (self, value, len);
      return TRUE;
    case FIELD_COMMENT:
    case FIELD_UNKNOWN:
    default:
      return TRUE;
    }
}

/* @line must not be empty. */
static Field
parse_field (const char  *line,
             gsize        len,
             const char **value,
             gsize       *value_len)
{
  const char *colon = memchr (line, ':', len);

  if (colon == line)
    return FIELD_COMMENT;

  *value = colon != NULL ? colon + 1 : line + len;
  *value_len = len - (gsize) (*value - line);
  if (*value_len > 0 && **value == ' ')
    {
      (*value)++;
      (*value_len)--;
    }
  return lookup_field (line, colon != NULL ? (gsize) (colon - line) : len);
}

static gboolean
interpret_line (NatterSseParser  *self,
                const char       *line,
                gsize             len,
                GError          **error)
{
  const char *value = NULL;
  gsize value_len = 0;
  Field field = parse_field (line, len, &value, &value_len);

  /* A captive portal's page or a JSON error body is not an event stream,
   * and saying so beats waiting for events that never come.  Once the
   * stream has proven itself, unknown fields are ignored as WHATWG says. */
  if (field == FIELD_UNKNOWN && !self->recognised && !is_blank (line, len))
    return fail_not_event_stream (self, error);

  if (field != FIELD_UNKNOWN)
    self->recognised = TRUE;
  return apply_field (self, field, value, value_len, error);
}

/* g_utf8_make_valid() would turn U+0000 into U+FFFD as well, and WHATWG
 * keeps it (an ID containing it is then ignored), so the line is repaired
 * piece by piece between its NUL bytes. */
static char *
make_valid (const char *bytes,
            gsize       len,
            gsize      *out_len)
{
  GString *out = g_string_sized_new (len + 3);
  const char *p = bytes;
  const char *end = bytes + len;

  for (;;)
    {
      const char *nul = memchr (p, '\0', end - p);
      g_autofree char *valid = g_utf8_make_valid (p, (nul != NULL ? nul : end) - p);

      g_string_append (out, valid);
      if (nul == NULL)
        break;
      g_string_append_c (out, '\0');
      p = nul + 1;
    }

  *out_len = out->len;
  return g_string_free (out, FALSE);
}

/* Nearly every line is ASCII, which needs no repair; g_utf8_validate_len()
 * would look at it a byte at a time. */
static gboolean
is_ascii (const char *bytes,
          gsize       len)
{
  guint64 bits = 0;
  gsize i = 0;

  for (; i + sizeof bits <= len; i += sizeof bits)
    {
      guint64 word;

      memcpy (&word, bytes + i, sizeof word);
      bits |= word;
    }
  for (; i < len; i++)
    bits |= (guchar) bytes[i];
  return (bits & G_GUINT64_CONSTANT (0x8080808080808080)) == 0;
}

/* Lines are decoded whole, so a character cut between two feeds is joined
 * again before anything looks at it. */
static gboolean
process_line (NatterSseParser  *self,
              GError          **error)
{
  g_autofree char *repaired = NULL;
  const char *line = self->line->str;
  gsize len = self->line->len;
  gboolean ok;

  if (len == 0)
    {
      dispatch (self);
      return TRUE;
    }

  if (!is_ascii (line, len) && !g_utf8_validate_len (line, len, NULL))
    line = repaired = make_valid (line, len, &len);

  ok = interpret_line (self, line, len, error);
  g_string_truncate (self->line, 0);
  return ok;
}

/* --- Splitting lines ---------------------------------------------------- */

static gboolean
append_to_line (NatterSseParser  *self,
                const char       *bytes,
                gsize             len,
                GError          **error)
{
  /* Checked before buffering, so a server that never sends a newline
   * cannot make us hold more than the limit. */
  if (!fits (self->line->len, len, self->max_size))
    return fail_line_too_long (self, error);

  g_string_append_len (self->line, bytes, len);
  return TRUE;
}

static const char *
find_line_end (const char *p,
               const char *end)
{
  for (; p < end; p++)
    if (*p == '\n' || *p == '\r')
      return p;
  return NULL;
}

static gboolean
parse_lines (NatterSseParser  *self,
             const char       *p,
             const char       *end,
             GError          **error)
{
  while (p < end)
    {
      const char *eol;

      /* A CR ends its line at once, so a CR that is the last byte of the
       * stream is not left waiting; the LF of a CRLF is dropped when it
       * comes, in this feed or the next. */
      if (self->skip_lf)
        {
          self->skip_lf = FALSE;
          if (*p == '\n')
            {
              p++;
              continue;
            }
        }

      eol = find_line_end (p, end);
      if (eol == NULL)
        return append_to_line (self, p, end - p, error);

      if (!append_to_line (self, p, eol - p, error))
        return FALSE;
      self->skip_lf = *eol == '\r';
      p = eol + 1;
      if (!process_line (self, error))
        return FALSE;
    }

  return TRUE;
}

/* One BOM may open the stream, possibly a byte per feed, so its bytes are
 * held back until it is complete or disproved.  Returns whether there is a
 * byte past it to look at. */
static gboolean
skip_bom (NatterSseParser  *self,
          const char      **p,
          const char       *end)
{
  while (*p < end &&
         self->bom_bytes < sizeof bom &&
         (guchar) **p == bom[self->bom_bytes])
    {
      self->bom_bytes++;
      (*p)++;
    }

  return *p < end;
}

static gboolean
start_stream (NatterSseParser  *self,
              char              first,
              GError          **error)
{
  self->started = TRUE;

  /* What held back was not a BOM but the start of the first line. */
  if (self->bom_bytes > 0 && self->bom_bytes < sizeof bom)
    return append_to_line (self, (const char *) bom, self->bom_bytes, error);

  /* An HTML page or a JSON body can be told from its first byte; failing
   * now spares buffering a whole page that has no newline to end a line. */
  if (first == '<' || first == '{' || first == '[')
    return fail_not_event_stream (self, error);

  return TRUE;
}

static gboolean
feed_bytes (NatterSseParser  *self,
            const char       *data,
            gsize             len,
            GError          **error)
{
  const char *p = data;
  const char *end = data + len;

  if (!self->started)
    {
      if (!skip_bom (self, &p, end))
        return TRUE;
      if (!start_stream (self, *p, error))
        return FALSE;
    }

  return parse_lines (self, p, end, error);
}

/* --- Public API --------------------------------------------------------- */

static gboolean
report_failure (NatterSseParser  *self,
                GError          **error)
{
  g_propagate_error (error, g_error_copy (self->error));
  return FALSE;
}

/**
 * natter_sse_parser_new:
 *
 * Creates a parser for one event stream.  Connect to
 * #NatterSseParser::event, then hand it the body with
 * natter_sse_parser_feed() as it arrives and natter_sse_parser_end() when
 * it is over.
 *
 * Returns: (transfer full): a new parser
 */
NatterSseParser *
natter_sse_parser_new (void)
{
  return g_object_new (NATTER_TYPE_SSE_PARSER, NULL);
}

/**
 * natter_sse_parser_feed:
 * @self: a #NatterSseParser
 * @data: (array length=len): the next bytes of the body
 * @len: the length of @data
 * @error: return location for a #NatterSseError
 *
 * Parses the next bytes of the stream, emitting #NatterSseParser::event for
 * each event they complete.  The events do not depend on how the body is
 * split between calls.
 *
 * Fails with %NATTER_SSE_ERROR_NOT_EVENT_STREAM when the body turns out to
 * be something else, such as an HTML page or JSON, and with
 * %NATTER_SSE_ERROR_TOO_LARGE when a line or an event's data grows past
 * #NatterSseParser:max-size.  After a failure the parser is dead: every
 * later call to natter_sse_parser_feed() or natter_sse_parser_end() fails
 * with the same error and emits nothing.
 *
 * Must not be called after natter_sse_parser_end() has succeeded, nor from
 * an #NatterSseParser::event handler.
 *
 * Returns: %TRUE on success, %FALSE if @error is set
 */
gboolean
natter_sse_parser_feed (NatterSseParser  *self,
                        const char       *data,
                        gsize             len,
                        GError          **error)
{
  gboolean ok;

  g_return_val_if_fail (NATTER_IS_SSE_PARSER (self), FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (!self->busy, FALSE);

  if (self->error != NULL)
    return report_failure (self, error);
  g_return_val_if_fail (!self->ended, FALSE);

  /* A handler may drop the last reference while we are still parsing. */
  g_object_ref (self);
  self->busy = TRUE;
  ok = feed_bytes (self, data, len, error);
  self->busy = FALSE;
  g_object_unref (self);

  return ok;
}

/* A stream cut in the middle of "data: ..." is still an event stream.
 * Invalid UTF-8 cannot turn into a field name or a colon, so the raw bytes
 * are classified as their decoded form would be. */
static gboolean
ends_in_foreign_line (NatterSseParser *self)
{
  const char *value;
  gsize value_len;

  if (!self->started)
    return self->bom_bytes > 0 && self->bom_bytes < sizeof bom;

  return !is_blank (self->line->str, self->line->len) &&
         parse_field (self->line->str, self->line->len,
                      &value, &value_len) == FIELD_UNKNOWN;
}

/**
 * natter_sse_parser_end:
 * @self: a #NatterSseParser
 * @error: return location for a #NatterSseError
 *
 * Tells the parser that the stream is over.  As WHATWG says, an event that
 * no empty line ended is dropped, and so is a last line without a line
 * ending (a CR at the very end did end its line).
 *
 * Fails with %NATTER_SSE_ERROR_NOT_EVENT_STREAM when nothing in the body
 * looked like an event stream (no comment, no data, event, id or retry
 * field, not even in the unterminated last line) yet it had more than white
 * space, and with the earlier error if natter_sse_parser_feed() failed.
 * Must be called once.
 *
 * Returns: %TRUE on success, %FALSE if @error is set
 */
gboolean
natter_sse_parser_end (NatterSseParser  *self,
                       GError          **error)
{
  g_return_val_if_fail (NATTER_IS_SSE_PARSER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (!self->busy, FALSE);

  if (self->error != NULL)
    return report_failure (self, error);
  g_return_val_if_fail (!self->ended, FALSE);

  self->ended = TRUE;
  if (!self->recognised && ends_in_foreign_line (self))
    return fail_not_event_stream (self, error);

  g_string_truncate (self->line, 0);
  g_string_truncate (self->data, 0);
  g_string_truncate (self->event_type, 0);
  return TRUE;
}

/**
 * natter_sse_parser_get_max_size:
 * @self: a #NatterSseParser
 *
 * Returns: the largest line or event data, in bytes, that the parser takes
 */
gsize
natter_sse_parser_get_max_size (NatterSseParser *self)
{
  g_return_val_if_fail (NATTER_IS_SSE_PARSER (self), 0);

  return self->max_size;
}

/**
 * natter_sse_parser_set_max_size:
 * @self: a #NatterSseParser
 * @max_size: a size in bytes, at least 1
 *
 * Sets the largest line, and the largest data of one event, that the
 * parser accepts before failing with %NATTER_SSE_ERROR_TOO_LARGE.  The
 * default is %NATTER_SSE_PARSER_DEFAULT_MAX_SIZE.
 */
void
natter_sse_parser_set_max_size (NatterSseParser *self,
                                gsize            max_size)
{
  g_return_if_fail (NATTER_IS_SSE_PARSER (self));
  g_return_if_fail (max_size > 0);

  if (self->max_size == max_size)
    return;

  self->max_size = max_size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_SIZE]);
}

/**
 * natter_sse_parser_get_last_event_id:
 * @self: a #NatterSseParser
 *
 * Gets the ID to send as Last-Event-ID when reconnecting.  As WHATWG says,
 * an `id` field takes effect at the next empty line, and lasts until another
 * one replaces it.
 *
 * Returns: (transfer none): the last event ID, "" when there is none
 */
const char *
natter_sse_parser_get_last_event_id (NatterSseParser *self)
{
  g_return_val_if_fail (NATTER_IS_SSE_PARSER (self), NULL);

  return self->last_event_id->str;
}

/**
 * natter_sse_parser_get_retry:
 * @self: a #NatterSseParser
 *
 * Returns: the reconnection time the server asked for, in milliseconds, or
 *   -1 if it did not
 */
gint64
natter_sse_parser_get_retry (NatterSseParser *self)
{
  g_return_val_if_fail (NATTER_IS_SSE_PARSER (self), -1);

  return self->retry;
}

/* --- GObject ------------------------------------------------------------ */

typedef void (*EventFunc) (gpointer    instance,
                           const char *type,
                           const char *data,
                           const char *last_event_id,
                           gpointer    user_data);

static void
call_event_handler (GClosure   *closure,
                    gpointer    instance,
                    const char *type,
                    const char *data,
                    const char *last_event_id,
                    gpointer    marshal_data)
{
  EventFunc callback = (EventFunc) (marshal_data != NULL ? marshal_data
                                                         : ((GCClosure *) closure)->callback);

  if (G_CCLOSURE_SWAP_DATA (closure))
    callback (closure->data, type, data, last_event_id, instance);
  else
    callback (instance, type, data, last_event_id, closure->data);
}

/* The generic marshaller would pass every event through libffi.  The
 * strings are of static scope, so they are handed on uncopied. */
static void
marshal_event (GClosure     *closure,
               GValue       *return_value,
               guint         n_param_values,
               const GValue *param_values,
               gpointer      invocation_hint,
               gpointer      marshal_data)
{
  g_return_if_fail (n_param_values == 4);

  call_event_handler (closure, g_value_peek_pointer (&param_values[0]),
                      g_value_get_string (&param_values[1]), g_value_get_string (&param_values[2]),
                      g_value_get_string (&param_values[3]), marshal_data);
}

static void
marshal_event_va (GClosure *closure,
                  GValue   *return_value,
                  gpointer  instance,
                  va_list   args,
                  gpointer  marshal_data,
                  int       n_params,
                  GType    *param_types)
{
  const char *type, *data, *last_event_id;
  va_list args_copy;

  G_VA_COPY (args_copy, args);
  type = va_arg (args_copy, const char *);
  data = va_arg (args_copy, const char *);
  last_event_id = va_arg (args_copy, const char *);
  va_end (args_copy);

  call_event_handler (closure, instance, type, data, last_event_id, marshal_data);
}

static void
natter_sse_parser_finalize (GObject *object)
{
  NatterSseParser *self = NATTER_SSE_PARSER (object);

  g_string_free (self->line, TRUE);
  g_string_free (self->data, TRUE);
  g_string_free (self->event_type, TRUE);
  g_string_free (self->id_buffer, TRUE);
  g_string_free (self->last_event_id, TRUE);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (natter_sse_parser_parent_class)->finalize (object);
}

static void
natter_sse_parser_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  NatterSseParser *self = NATTER_SSE_PARSER (object);

  switch (prop_id)
    {
    case PROP_MAX_SIZE:
      g_value_set_uint64 (value, self->max_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_sse_parser_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  NatterSseParser *self = NATTER_SSE_PARSER (object);

  switch (prop_id)
    {
    case PROP_MAX_SIZE:
      natter_sse_parser_set_max_size (self, g_value_get_uint64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_sse_parser_class_init (NatterSseParserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natter_sse_parser_finalize;
  object_class->get_property = natter_sse_parser_get_property;
  object_class->set_property = natter_sse_parser_set_property;

  /**
   * NatterSseParser:max-size:
   *
   * The largest line, and the largest data of one event, in bytes.  It
   * bounds the memory a misbehaving server can make the parser hold.
   */
  properties[PROP_MAX_SIZE] =
    g_param_spec_uint64 ("max-size", NULL, NULL,
                         1, G_MAXSIZE, NATTER_SSE_PARSER_DEFAULT_MAX_SIZE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NatterSseParser::event:
   * @self: the parser
   * @type: the event type, "message" unless the server named one
   * @data: the event's data lines, joined with LF
   * @last_event_id: the last event ID, "" when there is none
   *
   * Emitted for each event the stream completes.  The strings are only
   * valid during the emission.
   */
  signals[EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, marshal_event, G_TYPE_NONE, 3,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  g_signal_set_va_marshaller (signals[EVENT], G_TYPE_FROM_CLASS (klass), marshal_event_va);
}

static void
natter_sse_parser_init (NatterSseParser *self)
{
  self->max_size = NATTER_SSE_PARSER_DEFAULT_MAX_SIZE;
  self->line = g_string_new (NULL);
  self->data = g_string_new (NULL);
  self->event_type = g_string_new (NULL);
  self->id_buffer = g_string_new (NULL);
  self->last_event_id = g_string_new (NULL);
  self->retry = -1;
}
