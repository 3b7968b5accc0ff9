/* natter-markdown-renderer.c — Markdown into a GtkTextBuffer, as it streams
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * md4c parses; this file turns its callbacks into plain text and tags, so
 * the buffer holds exactly what is seen (no Markdown syntax, and raw HTML
 * shown as the text it is).
 *
 * A streamed answer is cut into top-level chunks where CommonMark promises
 * that nothing before can continue: a blank line outside a fenced code block
 * followed by a line at column 0 that cannot continue a list, or the line
 * after a top-level heading or closed top-level fence.  Each completed chunk
 * is rendered once, by its own md_parse() call, and is final: the buffer
 * before the stable mark never changes again.  Only the open chunk after it
 * is rendered again on each append, so an append costs the length of that
 * chunk plus the new text, never the length of the message.
 *
 * set_text() cuts the same way, so a message shown whole and the same message
 * streamed in any pieces give the same buffer, tags, links and code blocks.
 * The trade-offs: a link reference definition ("[x]: https://…") only
 * applies within its own chunk, so "[text][x]" with the definition after a
 * blank line shows as typed, streamed or not; and a long list with blank
 * lines between its items (or paragraphs starting indented) stays one open
 * chunk, re-rendered on each append, until something ends it.
 */
#include <md4c.h>
#include <string.h>

#include "natter-markdown-renderer.h"

#define PARSER_FLAGS (MD_FLAG_TABLES | MD_FLAG_STRIKETHROUGH | MD_FLAG_PERMISSIVEAUTOLINKS | MD_FLAG_NOHTML)
#define MAX_LIST_DEPTH 6
#define REPLACEMENT_CHARACTER "\xEF\xBF\xBD"
#define HORIZONTAL_RULE "────────────────────────"

typedef struct
{
  int   start;
  int   end;
  char *href;
} LinkRange;

struct _NatterMarkdownRenderer
{
  GObject        parent_instance;

  GtkTextBuffer *buffer;
  GtkTextMark   *stable_mark;
  GString       *source;
  GArray        *links;

  /* Source offset where the open chunk starts; before it all is final. */
  gsize          stable;
  /* Start of the first source line not yet looked at. */
  gsize          scan_pos;
  gsize          fence_len;
  guint          fence_indent;
  char           fence_char;
  guint          block_ended : 1;
  /* finish() made the open chunk final; where it started, to reopen it. */
  guint          finished : 1;
  gsize          reopen_stable;
  int            reopen_offset;
};

G_DEFINE_FINAL_TYPE (NatterMarkdownRenderer, natter_markdown_renderer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BUFFER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CODE_BLOCK_ADDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- Tags ----------------------------------------------------------------- */

static void
ensure_tag (GtkTextBuffer *buffer,
            const char    *name,
            const char    *first_property,
            ...)
{
  GtkTextTagTable *table = gtk_text_buffer_get_tag_table (buffer);
  g_autoptr(GtkTextTag) tag = NULL;
  va_list args;

  /* Another renderer on the same buffer has made them already. */
  if (gtk_text_tag_table_lookup (table, name) != NULL)
    return;

  tag = gtk_text_tag_new (name);
  va_start (args, first_property);
  g_object_set_valist (G_OBJECT (tag), first_property, args);
  va_end (args);
  gtk_text_tag_table_add (table, tag);
}

/* Later tags win where properties clash, so the order here matters: list
 * margins over block margins, the link colour over the quote colour. */
static void
create_tags (GtkTextBuffer *buffer)
{
  ensure_tag (buffer, "h1", "weight", PANGO_WEIGHT_BOLD, "scale", 1.6, "pixels-above-lines", 12, NULL);
  ensure_tag (buffer, "h2", "weight", PANGO_WEIGHT_BOLD, "scale", 1.35, "pixels-above-lines", 10, NULL);
  ensure_tag (buffer, "h3", "weight", PANGO_WEIGHT_BOLD, "scale", 1.15, "pixels-above-lines", 8, NULL);
  ensure_tag (buffer, "bold", "weight", PANGO_WEIGHT_BOLD, NULL);
  ensure_tag (buffer, "italic", "style", PANGO_STYLE_ITALIC, NULL);
  ensure_tag (buffer, "strikethrough", "strikethrough", TRUE, NULL);
  ensure_tag (buffer, "code", "family", "monospace", "background", "rgba(127,127,127,0.16)", NULL);
  ensure_tag (buffer, "code-block", "family", "monospace", "paragraph-background", "rgba(127,127,127,0.12)",
              "left-margin", 12, "right-margin", 12, "wrap-mode", GTK_WRAP_CHAR, NULL);
  ensure_tag (buffer, "table", "family", "monospace", "wrap-mode", GTK_WRAP_CHAR, NULL);
  ensure_tag (buffer, "quote", "left-margin", 16, "style", PANGO_STYLE_ITALIC,
              "foreground", "rgba(127,127,127,1)", NULL);
  ensure_tag (buffer, "hr", "foreground", "rgba(127,127,127,0.6)", NULL);
  for (int depth = 1; depth <= MAX_LIST_DEPTH; depth++)
    {
      g_autofree char *name = g_strdup_printf ("list-%d", depth);

      ensure_tag (buffer, name, "left-margin", 20 * depth, NULL);
    }
  ensure_tag (buffer, "link", "underline", PANGO_UNDERLINE_SINGLE, "foreground", "#3584e4", NULL);
}

static GtkTextTag *
lookup_tag (GtkTextBuffer *buffer,
            const char    *name)
{
  if (name == NULL)
    return NULL;
  return gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), name);
}

static const char *
heading_tag_name (unsigned level)
{
  static const char * const names[] = { "h1", "h2", "h3" };

  return names[CLAMP (level, 1, G_N_ELEMENTS (names)) - 1];
}

/* --- Text that md4c hands over verbatim --------------------------------- */

static const struct {
  const char *name;
  const char *text;
} named_entities[] = {
  { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
  { "nbsp", "\u00a0" }, { "copy", "©" }, { "reg", "®" }, { "trade", "™" },
  { "hellip", "…" }, { "mdash", "—" }, { "ndash", "–" }, { "lsquo", "‘" },
  { "rsquo", "’" }, { "ldquo", "“" }, { "rdquo", "”" }, { "laquo", "«" },
  { "raquo", "»" }, { "middot", "·" }, { "bull", "•" }, { "times", "×" },
  { "divide", "÷" }, { "deg", "°" }, { "plusmn", "±" }, { "larr", "←" },
  { "rarr", "→" }, { "uarr", "↑" }, { "darr", "↓" }, { "harr", "↔" },
  { "le", "≤" }, { "ge", "≥" }, { "ne", "≠" }, { "infin", "∞" }, { "euro", "€" },
  { "pound", "£" }, { "yen", "¥" }, { "cent", "¢" }, { "sect", "§" }, { "para", "¶" },
};

/* CommonMark: code points that cannot be characters become U+FFFD. */
static gunichar
numeric_entity (const char *digits,
                gsize       len)
{
  guint base = 10;
  guint32 value = 0;

  if (len > 0 && (digits[0] == 'x' || digits[0] == 'X'))
    {
      base = 16;
      digits++;
      len--;
    }
  if (len == 0 || len > 7)
    return 0xFFFD;
  for (gsize i = 0; i < len; i++)
    {
      int digit = g_ascii_xdigit_value (digits[i]);

      if (digit < 0 || (guint) digit >= base)
        return 0xFFFD;
      value = value * base + (guint) digit;
    }
  if (value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return 0xFFFD;
  return value;
}

/* md4c passes any "&name;" on; only the common ones are known here, the
 * rest stay as typed. */
static void
append_entity (GString    *out,
               const char *text,
               gsize       len)
{
  if (len >= 4 && text[1] == '#')
    {
      g_string_append_unichar (out, numeric_entity (text + 2, len - 3));
      return;
    }
  for (guint i = 0; len > 2 && i < G_N_ELEMENTS (named_entities); i++)
    {
      if (strlen (named_entities[i].name) == len - 2 &&
          strncmp (named_entities[i].name, text + 1, len - 2) == 0)
        {
          g_string_append (out, named_entities[i].text);
          return;
        }
    }
  g_string_append_len (out, text, len);
}

static char *
valid_utf8_free (GString *string)
{
  char *valid;

  if (g_utf8_validate_len (string->str, string->len, NULL))
    return g_string_free (string, FALSE);
  valid = g_utf8_make_valid (string->str, string->len);
  g_string_free (string, TRUE);
  return valid;
}

static char *
attribute_dup (const MD_ATTRIBUTE *attr)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; attr->size > 0 && attr->substr_offsets[i] < attr->size; i++)
    {
      const char *piece = attr->text + attr->substr_offsets[i];
      gsize len = attr->substr_offsets[i + 1] - attr->substr_offsets[i];

      if (attr->substr_types[i] == MD_TEXT_ENTITY)
        append_entity (out, piece, len);
      else if (attr->substr_types[i] == MD_TEXT_NULLCHAR)
        g_string_append (out, REPLACEMENT_CHARACTER);
      else
        g_string_append_len (out, piece, len);
    }
  return valid_utf8_free (out);
}

/* The stream may have cut a character in two; the open chunk stops before
 * it rather than showing a replacement character for one frame. */
static gsize
complete_utf8_end (const char *str,
                   gsize       start,
                   gsize       end)
{
  gsize lead = end;
  gsize needed;

  while (lead > start && end - lead < 4 && ((guchar) str[lead - 1] & 0xC0) == 0x80)
    lead--;
  if (lead == start)
    return end;
  lead--;
  needed = (guchar) str[lead] >= 0xF0 ? 4 : (guchar) str[lead] >= 0xE0 ? 3 : (guchar) str[lead] >= 0xC0 ? 2 : 1;
  return end - lead < needed ? lead : end;
}

/* --- Where chunks end --------------------------------------------------- */

static gsize
count_run (const char *p,
           gsize       len,
           char        c)
{
  gsize n = 0;

  while (n < len && p[n] == c)
    n++;
  return n;
}

static gboolean
is_blank (const char *p,
          gsize       len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
        return FALSE;
    }
  return TRUE;
}

static gboolean
ends_marker (const char *p,
             gsize       len,
             gsize       i)
{
  return i >= len || p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n';
}

static gboolean
is_list_marker (const char *p,
                gsize       len)
{
  gsize i = 0;

  if (p[0] == '-' || p[0] == '+' || p[0] == '*')
    return ends_marker (p, len, 1);
  while (i < len && i < 10 && g_ascii_isdigit (p[i]))
    i++;
  if (i == 0 || i > 9 || i >= len || (p[i] != '.' && p[i] != ')'))
    return FALSE;
  return ends_marker (p, len, i + 1);
}

/* After a blank line, a non-blank line at column 0 closes every open list,
 * quote, paragraph and table, unless it is itself a list item (which may
 * continue the list above). */
static gboolean
starts_top_level_block (const char *p,
                        gsize       len)
{
  return p[0] != ' ' && p[0] != '\t' && !is_list_marker (p, len);
}

static gboolean
is_top_level_heading (const char *p,
                      gsize       len)
{
  gsize n = count_run (p, len, '#');

  return n >= 1 && n <= 6 && ends_marker (p, len, n);
}

static gboolean
opens_fence (NatterMarkdownRenderer *self,
             const char             *p,
             gsize                   len)
{
  gsize indent = count_run (p, len, ' ');
  gsize run;
  char c;

  if (indent > 3 || indent >= len)
    return FALSE;
  c = p[indent];
  if (c != '`' && c != '~')
    return FALSE;
  run = count_run (p + indent, len - indent, c);
  if (run < 3)
    return FALSE;
  if (c == '`' && memchr (p + indent + run, '`', len - indent - run) != NULL)
    return FALSE;
  self->fence_char = c;
  self->fence_len = run;
  self->fence_indent = indent;
  return TRUE;
}

static gboolean
closes_fence (NatterMarkdownRenderer *self,
              const char             *p,
              gsize                   len)
{
  gsize indent = count_run (p, len, ' ');
  gsize run;

  if (indent > 3)
    return FALSE;
  run = count_run (p + indent, len - indent, self->fence_char);
  return run >= self->fence_len && is_blank (p + indent + run, len - indent - run);
}

/* Looks at one whole line; returns whether a new chunk may start there. */
static gboolean
scan_line (NatterMarkdownRenderer *self,
           gsize                   start,
           gsize                   end)
{
  const char *p = self->source->str + start;
  gsize len = end - start;
  gboolean starts;

  if (self->fence_char != '\0')
    {
      if (closes_fence (self, p, len))
        {
          /* An indented fence may belong to a list item that goes on. */
          self->block_ended = self->fence_indent == 0;
          self->fence_char = '\0';
        }
      return FALSE;
    }
  if (is_blank (p, len))
    {
      self->block_ended = TRUE;
      return FALSE;
    }
  starts = self->block_ended && starts_top_level_block (p, len);
  self->block_ended = is_top_level_heading (p, len);
  opens_fence (self, p, len);
  return starts;
}

/* --- Rendering one chunk ------------------------------------------------- */

typedef struct
{
  GtkTextTag *tag;
  /* Buffer offset (cell offset in a table); -1 until text arrives, so that
   * the newlines separating blocks stay outside the tags. */
  int         start;
  char       *href;
  /* The md4c span it is for, or -1 for a block. */
  int         span;
} Frame;

typedef struct
{
  GtkTextTag *tag;
  int         start;
  int         end;
  char       *href;
} Span;

typedef struct
{
  guint    number;
  gboolean ordered;
  gboolean tight;
} ListLevel;

typedef struct
{
  GString *text;
  int      length;
  GArray  *spans;
} Cell;

typedef struct
{
  GPtrArray *rows;
  MD_ALIGN  *align;
  guint      n_cols;
  guint      n_head_rows;
  gboolean   in_head;
} Table;

typedef struct
{
  GtkTextChildAnchor *anchor;
  char               *language;
  char               *code;
} CodeBlock;

typedef struct
{
  NatterMarkdownRenderer *self;
  gboolean                final;
  int                     end;
  guint                   newlines;
  gboolean                after_marker;
  GArray                 *frames;
  GArray                 *lists;
  GString                *code;
  char                   *code_language;
  Table                  *table;
  GPtrArray              *code_blocks;
} Render;

static void
frame_clear (gpointer data)
{
  g_free (((Frame *) data)->href);
}

static void
span_clear (gpointer data)
{
  g_free (((Span *) data)->href);
}

static void
link_range_clear (gpointer data)
{
  g_free (((LinkRange *) data)->href);
}

static void
cell_free (gpointer data)
{
  Cell *cell = data;

  g_string_free (cell->text, TRUE);
  g_array_unref (cell->spans);
  g_free (cell);
}

static void
table_free (Table *table)
{
  g_ptr_array_unref (table->rows);
  g_free (table->align);
  g_free (table);
}

static void
code_block_free (gpointer data)
{
  CodeBlock *block = data;

  g_object_unref (block->anchor);
  g_free (block->language);
  g_free (block->code);
  g_free (block);
}

static Cell *
current_cell (Render *r)
{
  GPtrArray *row;

  if (r->table->rows->len == 0)
    return NULL;
  row = g_ptr_array_index (r->table->rows, r->table->rows->len - 1);
  return row->len > 0 ? g_ptr_array_index (row, row->len - 1) : NULL;
}

static void
insert_at_end (Render     *r,
               const char *text,
               gsize       len)
{
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (r->self->buffer, &end);
  gtk_text_buffer_insert (r->self->buffer, &end, text, (int) len);
  r->end += (int) g_utf8_strlen (text, len);
}

static void
request_newlines (Render *r,
                  guint   n)
{
  r->newlines = MAX (r->newlines, n);
}

/* Blocks are separated by a blank line, items of a tight list by a line
 * break only. */
static guint
block_gap (Render *r)
{
  if (r->lists->len == 0)
    return 2;
  return g_array_index (r->lists, ListLevel, r->lists->len - 1).tight ? 1 : 2;
}

static void
start_frames (Render *r)
{
  for (guint i = r->frames->len; i > 0; i--)
    {
      Frame *frame = &g_array_index (r->frames, Frame, i - 1);

      if (frame->start >= 0)
        break;
      frame->start = r->end;
    }
}

static void
write_text (Render     *r,
            const char *text,
            gssize      len)
{
  gsize size = len < 0 ? strlen (text) : (gsize) len;

  if (size == 0)
    return;
  if (r->newlines > 0 && r->end > 0)
    insert_at_end (r, "\n\n", MIN (r->newlines, 2));
  r->newlines = 0;
  start_frames (r);
  insert_at_end (r, text, size);
  r->after_marker = FALSE;
}

static void
put_text (Render     *r,
          const char *text,
          gsize       len)
{
  Cell *cell;

  if (r->code != NULL)
    g_string_append_len (r->code, text, len);
  else if (r->table == NULL)
    write_text (r, text, len);
  else if ((cell = current_cell (r)) != NULL)
    {
      g_string_append_len (cell->text, text, len);
      cell->length += (int) g_utf8_strlen (text, len);
    }
}

static void
put_source_text (Render     *r,
                 const char *text,
                 gsize       len)
{
  g_autofree char *valid = NULL;

  if (g_utf8_validate_len (text, len, NULL))
    {
      put_text (r, text, len);
      return;
    }
  valid = g_utf8_make_valid (text, len);
  put_text (r, valid, strlen (valid));
}

static void
put_entity (Render     *r,
            const char *text,
            gsize       len)
{
  g_autoptr(GString) decoded = g_string_new (NULL);
  g_autofree char *valid = NULL;

  append_entity (decoded, text, len);
  valid = valid_utf8_free (g_steal_pointer (&decoded));
  put_text (r, valid, strlen (valid));
}

static void
apply_tag (Render     *r,
           GtkTextTag *tag,
           int         start,
           int         end)
{
  GtkTextIter start_iter, end_iter;

  gtk_text_buffer_get_iter_at_offset (r->self->buffer, &start_iter, start);
  gtk_text_buffer_get_iter_at_offset (r->self->buffer, &end_iter, end);
  gtk_text_buffer_apply_tag (r->self->buffer, tag, &start_iter, &end_iter);
}

/* Links are kept in buffer order, which is the order they are closed in. */
static void
add_link (NatterMarkdownRenderer *self,
          int                     start,
          int                     end,
          char                   *href)
{
  LinkRange link = { start, end, href };

  g_array_append_val (self->links, link);
}

static void
push_frame (Render     *r,
            const char *tag_name,
            char       *href)
{
  Frame frame = { lookup_tag (r->self->buffer, tag_name), -1, href, -1 };
  Cell *cell = r->table != NULL ? current_cell (r) : NULL;

  if (r->table != NULL)
    frame.start = cell != NULL ? cell->length : 0;
  g_array_append_val (r->frames, frame);
}

static void
close_frame_in_cell (Render *r,
                     Frame  *frame)
{
  Cell *cell = current_cell (r);
  Span span = { frame->tag, frame->start, 0, NULL };

  if (cell == NULL || cell->length <= frame->start || (frame->tag == NULL && frame->href == NULL))
    return;
  span.end = cell->length;
  span.href = g_steal_pointer (&frame->href);
  g_array_append_val (cell->spans, span);
}

static void
close_frame (Render *r)
{
  Frame frame = g_array_index (r->frames, Frame, r->frames->len - 1);

  /* The copy now owns href. */
  g_array_index (r->frames, Frame, r->frames->len - 1).href = NULL;
  g_array_set_size (r->frames, r->frames->len - 1);

  if (r->table != NULL)
    close_frame_in_cell (r, &frame);
  else if (frame.start >= 0 && r->end > frame.start)
    {
      if (frame.tag != NULL)
        apply_tag (r, frame.tag, frame.start, r->end);
      if (frame.href != NULL)
        add_link (r->self, frame.start, r->end, g_steal_pointer (&frame.href));
    }
  g_free (frame.href);
}

static void
open_block (Render     *r,
            const char *tag_name)
{
  /* A paragraph or a nested list right after "• " starts on that line. */
  if (!r->after_marker)
    request_newlines (r, 1);
  push_frame (r, tag_name, NULL);
}

static void
close_block (Render *r)
{
  close_frame (r);
  request_newlines (r, block_gap (r));
}

/* --- Lists --- */

static void
open_list (Render   *r,
           gboolean  ordered,
           guint     start,
           gboolean  tight)
{
  ListLevel level = { start, ordered, tight };

  open_block (r, NULL);
  g_array_append_val (r->lists, level);
}

static void
close_list (Render *r)
{
  g_array_set_size (r->lists, r->lists->len - 1);
  close_block (r);
}

static void
open_list_item (Render *r)
{
  ListLevel *level = &g_array_index (r->lists, ListLevel, r->lists->len - 1);
  g_autofree char *tag_name = g_strdup_printf ("list-%u", MIN (r->lists->len, MAX_LIST_DEPTH));
  g_autofree char *marker = NULL;

  open_block (r, tag_name);
  marker = level->ordered ? g_strdup_printf ("%u. ", level->number++) : g_strdup ("• ");
  write_text (r, marker, -1);
  r->after_marker = TRUE;
}

static void
close_list_item (Render *r)
{
  close_frame (r);
  request_newlines (r, block_gap (r));
}

/* --- Code blocks --- */

static void
open_code_block (Render               *r,
                 MD_BLOCK_CODE_DETAIL *detail)
{
  open_block (r, "code-block");
  r->code = g_string_new (NULL);
  r->code_language = attribute_dup (&detail->lang);
}

/* Only final chunks get an anchor, so that a view adds one Copy button per
 * block, not one per append. */
static void
add_code_anchor (Render     *r,
                 const char *language,
                 const char *code)
{
  CodeBlock *block = g_new0 (CodeBlock, 1);
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (r->self->buffer, &end);
  block->anchor = g_object_ref (gtk_text_buffer_create_child_anchor (r->self->buffer, &end));
  block->language = g_strdup (language);
  block->code = g_strdup (code);
  r->end++;
  g_ptr_array_add (r->code_blocks, block);
}

static void
close_code_block (Render *r)
{
  g_autoptr(GString) code = g_steal_pointer (&r->code);
  g_autofree char *language = g_steal_pointer (&r->code_language);

  if (code->len > 0 && code->str[code->len - 1] == '\n')
    g_string_truncate (code, code->len - 1);
  write_text (r, code->str, code->len);
  /* The line below the code is the anchor's; it is there while streaming
   * too, so that nothing moves when the button arrives. */
  write_text (r, "\n", 1);
  if (r->final)
    add_code_anchor (r, language, code->str);
  close_block (r);
}

/* --- Tables: cells are collected, then laid out with padded columns --- */

static void
open_table (Render                *r,
            MD_BLOCK_TABLE_DETAIL *detail)
{
  Table *table = g_new0 (Table, 1);

  open_block (r, "table");
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  table->n_cols = detail->col_count;
  table->align = g_new0 (MD_ALIGN, MAX (table->n_cols, 1));
  r->table = table;
}

static void
open_row (Render *r)
{
  g_ptr_array_add (r->table->rows, g_ptr_array_new_with_free_func (cell_free));
  if (r->table->in_head)
    r->table->n_head_rows++;
  push_frame (r, NULL, NULL);
}

static void
open_cell (Render             *r,
           MD_BLOCK_TD_DETAIL *detail)
{
  GPtrArray *row = g_ptr_array_index (r->table->rows, r->table->rows->len - 1);
  Cell *cell = g_new0 (Cell, 1);

  if (r->table->in_head && row->len < r->table->n_cols)
    r->table->align[row->len] = detail->align;
  cell->text = g_string_new (NULL);
  cell->spans = g_array_new (FALSE, FALSE, sizeof (Span));
  g_array_set_clear_func (cell->spans, span_clear);
  g_ptr_array_add (row, cell);
  push_frame (r, NULL, NULL);
}

static guint *
column_widths (Table *table)
{
  guint *widths = g_new0 (guint, MAX (table->n_cols, 1));

  for (guint i = 0; i < table->rows->len; i++)
    {
      GPtrArray *row = g_ptr_array_index (table->rows, i);

      for (guint col = 0; col < row->len && col < table->n_cols; col++)
        widths[col] = MAX (widths[col], (guint) ((Cell *) g_ptr_array_index (row, col))->length);
    }
  return widths;
}

static guint
padding_before (MD_ALIGN align,
                guint    padding)
{
  if (align == MD_ALIGN_RIGHT)
    return padding;
  if (align == MD_ALIGN_CENTER)
    return padding / 2;
  return 0;
}

static void
append_repeated (GString    *line,
                 const char *text,
                 guint       count)
{
  for (guint i = 0; i < count; i++)
    g_string_append (line, text);
}

static void
apply_cell_spans (Render *r,
                  Cell   *cell,
                  int     start)
{
  for (guint i = 0; i < cell->spans->len; i++)
    {
      Span *span = &g_array_index (cell->spans, Span, i);

      if (span->tag != NULL)
        apply_tag (r, span->tag, start + span->start, start + span->end);
      if (span->href != NULL)
        add_link (r->self, start + span->start, start + span->end, g_steal_pointer (&span->href));
    }
}

/* Builds one row's line; starts[] receives where each cell's text begins. */
static int
format_row (Table       *table,
            GPtrArray   *row,
            const guint *widths,
            GString     *line,
            int         *starts)
{
  int chars = 0;

  for (guint col = 0; col < table->n_cols; col++)
    {
      Cell *cell = col < row->len ? g_ptr_array_index (row, col) : NULL;
      guint length = cell != NULL ? (guint) cell->length : 0;
      guint before = padding_before (table->align[col], widths[col] - length);
      guint after = col + 1 < table->n_cols ? widths[col] - length - before : 0;

      if (col > 0)
        g_string_append (line, " │ ");
      chars += col > 0 ? 3 : 0;
      append_repeated (line, " ", before);
      starts[col] = chars + (int) before;
      if (cell != NULL)
        g_string_append_len (line, cell->text->str, cell->text->len);
      append_repeated (line, " ", after);
      chars += (int) (before + length + after);
    }
  /* Padding after an empty last cell would only trail the line. */
  while (line->len > 0 && line->str[line->len - 1] == ' ')
    {
      g_string_truncate (line, line->len - 1);
      chars--;
    }
  return chars;
}

static void
write_row (Render      *r,
           Table       *table,
           GPtrArray   *row,
           const guint *widths,
           gboolean     head)
{
  g_autoptr(GString) line = g_string_new (NULL);
  g_autofree int *starts = g_new0 (int, MAX (table->n_cols, 1));
  int chars = format_row (table, row, widths, line, starts);
  int line_start;

  write_text (r, line->str, line->len);
  line_start = r->end - chars;
  for (guint col = 0; col < row->len && col < table->n_cols; col++)
    apply_cell_spans (r, g_ptr_array_index (row, col), line_start + starts[col]);
  if (head && chars > 0)
    apply_tag (r, lookup_tag (r->self->buffer, "bold"), line_start, r->end);
}

static void
write_rule (Render      *r,
            Table       *table,
            const guint *widths)
{
  g_autoptr(GString) line = g_string_new (NULL);

  for (guint col = 0; col < table->n_cols; col++)
    {
      if (col > 0)
        g_string_append (line, "─┼─");
      append_repeated (line, "─", widths[col]);
    }
  write_text (r, "\n", 1);
  write_text (r, line->str, line->len);
}

static void
close_table (Render *r)
{
  Table *table = g_steal_pointer (&r->table);
  g_autofree guint *widths = column_widths (table);

  for (guint i = 0; i < table->rows->len; i++)
    {
      if (i > 0)
        write_text (r, "\n", 1);
      write_row (r, table, g_ptr_array_index (table->rows, i), widths, i < table->n_head_rows);
      if (i + 1 == table->n_head_rows)
        write_rule (r, table, widths);
    }
  table_free (table);
  close_block (r);
}

/* --- md4c callbacks --- */

static int
enter_block_cb (MD_BLOCKTYPE  type,
                void         *detail,
                void         *user_data)
{
  Render *r = user_data;

  switch (type)
    {
    case MD_BLOCK_DOC:
      break;
    case MD_BLOCK_UL:
      open_list (r, FALSE, 0, ((MD_BLOCK_UL_DETAIL *) detail)->is_tight);
      break;
    case MD_BLOCK_OL:
      open_list (r, TRUE, ((MD_BLOCK_OL_DETAIL *) detail)->start, ((MD_BLOCK_OL_DETAIL *) detail)->is_tight);
      break;
    case MD_BLOCK_LI:
      open_list_item (r);
      break;
    case MD_BLOCK_QUOTE:
      open_block (r, "quote");
      break;
    case MD_BLOCK_HR:
      open_block (r, "hr");
      write_text (r, HORIZONTAL_RULE, -1);
      break;
    case MD_BLOCK_H:
      open_block (r, heading_tag_name (((MD_BLOCK_H_DETAIL *) detail)->level));
      break;
    case MD_BLOCK_CODE:
      open_code_block (r, detail);
      break;
    case MD_BLOCK_TABLE:
      open_table (r, detail);
      break;
    case MD_BLOCK_THEAD:
    case MD_BLOCK_TBODY:
      r->table->in_head = type == MD_BLOCK_THEAD;
      push_frame (r, NULL, NULL);
      break;
    case MD_BLOCK_TR:
      open_row (r);
      break;
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
      open_cell (r, detail);
      break;
    case MD_BLOCK_P:
    case MD_BLOCK_HTML:
    default:
      open_block (r, NULL);
      break;
    }
  return 0;
}

static int
leave_block_cb (MD_BLOCKTYPE  type,
                void         *detail,
                void         *user_data)
{
  Render *r = user_data;

  switch (type)
    {
    case MD_BLOCK_DOC:
      break;
    case MD_BLOCK_UL:
    case MD_BLOCK_OL:
      close_list (r);
      break;
    case MD_BLOCK_LI:
      close_list_item (r);
      break;
    case MD_BLOCK_CODE:
      close_code_block (r);
      break;
    case MD_BLOCK_TABLE:
      close_table (r);
      break;
    case MD_BLOCK_THEAD:
    case MD_BLOCK_TBODY:
    case MD_BLOCK_TR:
    case MD_BLOCK_TH:
    case MD_BLOCK_TD:
      close_frame (r);
      break;
    default:
      close_block (r);
      break;
    }
  return 0;
}

static int
enter_span_cb (MD_SPANTYPE  type,
               void        *detail,
               void        *user_data)
{
  Render *r = user_data;

  switch (type)
    {
    case MD_SPAN_EM:
      push_frame (r, "italic", NULL);
      break;
    case MD_SPAN_STRONG:
      push_frame (r, "bold", NULL);
      break;
    case MD_SPAN_DEL:
      push_frame (r, "strikethrough", NULL);
      break;
    case MD_SPAN_CODE:
      push_frame (r, "code", NULL);
      break;
    case MD_SPAN_A:
      push_frame (r, "link", attribute_dup (&((MD_SPAN_A_DETAIL *) detail)->href));
      break;
    default:
      /* Images show their alt text, which md4c sends as text: nothing is
       * ever fetched. */
      push_frame (r, NULL, NULL);
      break;
    }
  g_array_index (r->frames, Frame, r->frames->len - 1).span = type;
  return 0;
}

static int
leave_span_cb (MD_SPANTYPE  type,
               void        *detail,
               void        *user_data)
{
  Render *r = user_data;

  /* md4c 0.4.8 may leave a span it never entered ("[](~)~" leaves a
   * strikethrough): closing a frame for it would close the block's. */
  if (r->frames->len > 0 &&
      g_array_index (r->frames, Frame, r->frames->len - 1).span == (int) type)
    close_frame (r);
  return 0;
}

static int
text_cb (MD_TEXTTYPE    type,
         const MD_CHAR *text,
         MD_SIZE        size,
         void          *user_data)
{
  Render *r = user_data;

  switch (type)
    {
    case MD_TEXT_NULLCHAR:
      put_text (r, REPLACEMENT_CHARACTER, strlen (REPLACEMENT_CHARACTER));
      break;
    case MD_TEXT_BR:
      put_text (r, r->table != NULL ? " " : "\n", 1);
      break;
    case MD_TEXT_SOFTBR:
      put_text (r, " ", 1);
      break;
    case MD_TEXT_ENTITY:
      put_entity (r, text, size);
      break;
    default:
      /* With MD_FLAG_NOHTML, raw HTML arrives here as the text it is. */
      put_source_text (r, text, size);
      break;
    }
  return 0;
}

static void
render_init (Render                 *r,
             NatterMarkdownRenderer *self,
             gboolean                final)
{
  memset (r, 0, sizeof *r);
  r->self = self;
  r->final = final;
  r->end = gtk_text_buffer_get_char_count (self->buffer);
  /* A chunk is separated from the one before like any other block. */
  r->newlines = 2;
  r->frames = g_array_new (FALSE, FALSE, sizeof (Frame));
  g_array_set_clear_func (r->frames, frame_clear);
  r->lists = g_array_new (FALSE, FALSE, sizeof (ListLevel));
  r->code_blocks = g_ptr_array_new_with_free_func (code_block_free);
}

static void
render_clear (Render *r)
{
  g_array_unref (r->frames);
  g_array_unref (r->lists);
  if (r->code != NULL)
    g_string_free (r->code, TRUE);
  g_free (r->code_language);
  g_clear_pointer (&r->table, table_free);
  g_clear_pointer (&r->code_blocks, g_ptr_array_unref);
}

/* --- The chunks --------------------------------------------------------- */

static void
discard_open_chunk (NatterMarkdownRenderer *self)
{
  GtkTextIter start, end;
  int offset;

  gtk_text_buffer_get_iter_at_mark (self->buffer, &start, self->stable_mark);
  gtk_text_buffer_get_end_iter (self->buffer, &end);
  if (!gtk_text_iter_equal (&start, &end))
    gtk_text_buffer_delete (self->buffer, &start, &end);
  offset = gtk_text_iter_get_offset (&start);

  while (self->links->len > 0 &&
         g_array_index (self->links, LinkRange, self->links->len - 1).start >= offset)
    g_array_set_size (self->links, self->links->len - 1);
}

static void
announce_code_blocks (NatterMarkdownRenderer *self,
                      GPtrArray              *blocks)
{
  for (guint i = 0; i < blocks->len; i++)
    {
      CodeBlock *block = g_ptr_array_index (blocks, i);

      g_signal_emit (self, signals[CODE_BLOCK_ADDED], 0, block->anchor, block->language, block->code);
    }
}

/* Replaces what follows the stable mark by source[start, end). */
static void
render_source (NatterMarkdownRenderer *self,
               gsize                   start,
               gsize                   end,
               gboolean                final)
{
  const MD_PARSER parser = {
    .flags = PARSER_FLAGS,
    .enter_block = enter_block_cb,
    .leave_block = leave_block_cb,
    .enter_span = enter_span_cb,
    .leave_span = leave_span_cb,
    .text = text_cb,
  };
  g_autoptr(GPtrArray) code_blocks = NULL;
  GtkTextIter buffer_end;
  Render r;

  discard_open_chunk (self);
  render_init (&r, self, final);
  md_parse (self->source->str + start, (MD_SIZE) MIN (end - start, G_MAXUINT), &parser, &r);
  code_blocks = g_steal_pointer (&r.code_blocks);
  render_clear (&r);
  if (!final)
    return;

  gtk_text_buffer_get_end_iter (self->buffer, &buffer_end);
  gtk_text_buffer_move_mark (self->buffer, self->stable_mark, &buffer_end);
  announce_code_blocks (self, code_blocks);
}

static void
finalize_chunk (NatterMarkdownRenderer *self,
                gsize                   end)
{
  gsize start = self->stable;

  self->stable = end;
  render_source (self, start, end, TRUE);
}

/* Only lines not seen before are looked at, and only whole ones. */
static void
scan_new_lines (NatterMarkdownRenderer *self)
{
  const char *newline;

  while ((newline = memchr (self->source->str + self->scan_pos, '\n',
                            self->source->len - self->scan_pos)) != NULL)
    {
      gsize line = self->scan_pos;

      self->scan_pos = (gsize) (newline - self->source->str) + 1;
      if (scan_line (self, line, self->scan_pos) && line > self->stable)
        finalize_chunk (self, line);
    }
}

static void
render_open_chunk (NatterMarkdownRenderer *self)
{
  gsize end = complete_utf8_end (self->source->str, self->stable, self->source->len);

  render_source (self, self->stable, end, FALSE);
}

static void
reset (NatterMarkdownRenderer *self)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (self->buffer, &start, &end);
  gtk_text_buffer_delete (self->buffer, &start, &end);
  gtk_text_buffer_move_mark (self->buffer, self->stable_mark, &start);
  g_array_set_size (self->links, 0);
  g_string_truncate (self->source, 0);
  self->stable = 0;
  self->scan_pos = 0;
  self->fence_char = '\0';
  self->block_ended = FALSE;
  self->finished = FALSE;
}

/* A message shown whole while it still streams goes on where it was: its
 * last chunk becomes the open one again.  finish() does not touch the line
 * scanning, so only the stable point has to go back. */
static void
reopen (NatterMarkdownRenderer *self)
{
  GtkTextIter iter;

  self->finished = FALSE;
  self->stable = self->reopen_stable;
  gtk_text_buffer_get_iter_at_offset (self->buffer, &iter, self->reopen_offset);
  gtk_text_buffer_move_mark (self->buffer, self->stable_mark, &iter);
}

/* --- Public API ------------------------------------------------------------ */

/**
 * natter_markdown_renderer_new:
 * @buffer: the buffer to render into; its text belongs to the renderer
 *
 * Creates the renderer's tags in @buffer's tag table ("h1" … "h3", "bold",
 * "italic", "strikethrough", "code", "code-block", "table", "quote", "hr",
 * "list-1" … "list-6", "link").
 */
NatterMarkdownRenderer *
natter_markdown_renderer_new (GtkTextBuffer *buffer)
{
  g_return_val_if_fail (GTK_IS_TEXT_BUFFER (buffer), NULL);

  return g_object_new (NATTER_TYPE_MARKDOWN_RENDERER, "buffer", buffer, NULL);
}

/**
 * natter_markdown_renderer_get_buffer:
 *
 * Returns: (transfer none): the buffer rendered into
 */
GtkTextBuffer *
natter_markdown_renderer_get_buffer (NatterMarkdownRenderer *self)
{
  g_return_val_if_fail (NATTER_IS_MARKDOWN_RENDERER (self), NULL);

  return self->buffer;
}

/**
 * natter_markdown_renderer_set_text:
 * @markdown: (nullable): the source, usually complete (append() may go on)
 *
 * Replaces everything, as finish() would leave it; "code-block-added" is
 * emitted for each code block.
 */
void
natter_markdown_renderer_set_text (NatterMarkdownRenderer *self,
                                   const char             *markdown)
{
  g_return_if_fail (NATTER_IS_MARKDOWN_RENDERER (self));

  reset (self);
  g_string_append (self->source, markdown != NULL ? markdown : "");
  scan_new_lines (self);
  natter_markdown_renderer_finish (self);
}

/**
 * natter_markdown_renderer_append:
 * @text: more source, cut anywhere (even inside a UTF-8 character)
 *
 * Renders the blocks @text completes for good and the open block after them
 * provisionally.  After finish() or set_text(), the last block is reopened
 * first, so text shown whole while still streaming goes on seamlessly.
 */
void
natter_markdown_renderer_append (NatterMarkdownRenderer *self,
                                 const char             *text)
{
  g_return_if_fail (NATTER_IS_MARKDOWN_RENDERER (self));
  g_return_if_fail (text != NULL);

  if (*text == '\0')
    return;
  if (self->finished)
    reopen (self);
  g_string_append (self->source, text);
  scan_new_lines (self);
  render_open_chunk (self);
}

/**
 * natter_markdown_renderer_finish:
 *
 * The source is complete: renders the open chunk for good, emitting
 * "code-block-added" for its code blocks.  Calling it again does nothing.
 */
void
natter_markdown_renderer_finish (NatterMarkdownRenderer *self)
{
  g_return_if_fail (NATTER_IS_MARKDOWN_RENDERER (self));

  if (self->finished)
    return;
  self->finished = TRUE;
  self->reopen_stable = self->stable;
  self->reopen_offset = natter_markdown_renderer_get_stable_offset (self);

  /* The unterminated last line is not scanned: splitting the open chunk
   * there would render the same. */
  if (self->stable < self->source->len)
    finalize_chunk (self, self->source->len);
}

/**
 * natter_markdown_renderer_get_source:
 *
 * Returns: the Markdown source received so far
 */
const char *
natter_markdown_renderer_get_source (NatterMarkdownRenderer *self)
{
  g_return_val_if_fail (NATTER_IS_MARKDOWN_RENDERER (self), NULL);

  return self->source->str;
}

/**
 * natter_markdown_renderer_get_link_at_iter:
 * @iter: a position in the renderer's buffer
 *
 * Returns: (nullable): the target of the link at @iter, valid until the
 *   next change
 */
const char *
natter_markdown_renderer_get_link_at_iter (NatterMarkdownRenderer *self,
                                           const GtkTextIter      *iter)
{
  int offset;
  guint low = 0;
  guint high;

  g_return_val_if_fail (NATTER_IS_MARKDOWN_RENDERER (self), NULL);
  g_return_val_if_fail (iter != NULL && gtk_text_iter_get_buffer (iter) == self->buffer, NULL);

  offset = gtk_text_iter_get_offset (iter);
  high = self->links->len;
  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      LinkRange *link = &g_array_index (self->links, LinkRange, middle);

      if (offset < link->start)
        high = middle;
      else if (offset >= link->end)
        low = middle + 1;
      else
        return link->href;
    }
  return NULL;
}

/**
 * natter_markdown_renderer_get_stable_offset:
 *
 * Returns: the character offset in the buffer before which the text is
 *   final and will not be touched by further appends (an append after
 *   finish() first moves it back to the start of the last block)
 */
int
natter_markdown_renderer_get_stable_offset (NatterMarkdownRenderer *self)
{
  GtkTextIter iter;

  g_return_val_if_fail (NATTER_IS_MARKDOWN_RENDERER (self), 0);

  gtk_text_buffer_get_iter_at_mark (self->buffer, &iter, self->stable_mark);
  return gtk_text_iter_get_offset (&iter);
}

/**
 * natter_markdown_renderer_get_stable_length:
 *
 * Returns: the length in bytes of the source rendered for good: the open
 *   chunk, which further appends render again, starts there
 */
gsize
natter_markdown_renderer_get_stable_length (NatterMarkdownRenderer *self)
{
  g_return_val_if_fail (NATTER_IS_MARKDOWN_RENDERER (self), 0);

  return self->stable;
}

/**
 * natter_markdown_renderer_take_open_chunk:
 *
 * Ends the source where the open chunk starts: the chunk's text leaves the
 * buffer, and its source is returned, to go on elsewhere (a long answer
 * goes on in a new view). What is left is final, as after finish(), and
 * nothing is rendered again.
 *
 * Returns: (transfer full): the source of the open chunk, maybe empty
 */
char *
natter_markdown_renderer_take_open_chunk (NatterMarkdownRenderer *self)
{
  char *open;

  g_return_val_if_fail (NATTER_IS_MARKDOWN_RENDERER (self), NULL);

  open = g_strdup (self->source->str + self->stable);
  discard_open_chunk (self);
  g_string_truncate (self->source, self->stable);
  /* The open chunk began with a line that starts a top-level block after a
   * blank line, outside any fence: the scan was there before that line. */
  self->scan_pos = self->stable;
  self->fence_char = '\0';
  self->block_ended = self->stable > 0;
  self->finished = TRUE;
  self->reopen_stable = self->stable;
  self->reopen_offset = gtk_text_buffer_get_char_count (self->buffer);
  return open;
}

/* --- GObject ---------------------------------------------------------------- */

static void
natter_markdown_renderer_constructed (GObject *object)
{
  NatterMarkdownRenderer *self = NATTER_MARKDOWN_RENDERER (object);
  GtkTextIter end;

  G_OBJECT_CLASS (natter_markdown_renderer_parent_class)->constructed (object);

  create_tags (self->buffer);
  gtk_text_buffer_get_end_iter (self->buffer, &end);
  self->stable_mark = gtk_text_buffer_create_mark (self->buffer, NULL, &end, TRUE);
}

static void
natter_markdown_renderer_dispose (GObject *object)
{
  NatterMarkdownRenderer *self = NATTER_MARKDOWN_RENDERER (object);

  if (self->stable_mark != NULL && !gtk_text_mark_get_deleted (self->stable_mark))
    gtk_text_buffer_delete_mark (self->buffer, self->stable_mark);
  self->stable_mark = NULL;
  g_clear_object (&self->buffer);

  G_OBJECT_CLASS (natter_markdown_renderer_parent_class)->dispose (object);
}

static void
natter_markdown_renderer_finalize (GObject *object)
{
  NatterMarkdownRenderer *self = NATTER_MARKDOWN_RENDERER (object);

  g_string_free (self->source, TRUE);
  g_array_unref (self->links);

  G_OBJECT_CLASS (natter_markdown_renderer_parent_class)->finalize (object);
}

static void
natter_markdown_renderer_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_BUFFER:
      g_value_set_object (value, NATTER_MARKDOWN_RENDERER (object)->buffer);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_markdown_renderer_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_BUFFER:
      NATTER_MARKDOWN_RENDERER (object)->buffer = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_markdown_renderer_class_init (NatterMarkdownRendererClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = natter_markdown_renderer_constructed;
  object_class->dispose = natter_markdown_renderer_dispose;
  object_class->finalize = natter_markdown_renderer_finalize;
  object_class->get_property = natter_markdown_renderer_get_property;
  object_class->set_property = natter_markdown_renderer_set_property;

  properties[PROP_BUFFER] =
    g_param_spec_object ("buffer", NULL, NULL, GTK_TYPE_TEXT_BUFFER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NatterMarkdownRenderer::code-block-added:
   * @anchor: where a view may put a widget, on its own line below the code
   * @language: the info string's first word, or ""
   * @code: the code as shown
   *
   * Emitted once per code block when it has been rendered for good.
   */
  signals[CODE_BLOCK_ADDED] =
    g_signal_new ("code-block-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3,
                  GTK_TYPE_TEXT_CHILD_ANCHOR, G_TYPE_STRING, G_TYPE_STRING);
}

static void
natter_markdown_renderer_init (NatterMarkdownRenderer *self)
{
  self->source = g_string_new (NULL);
  self->links = g_array_new (FALSE, FALSE, sizeof (LinkRange));
  g_array_set_clear_func (self->links, link_range_clear);
}
