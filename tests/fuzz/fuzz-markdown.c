/* fuzz-markdown.c — NatterMarkdownRenderer on any answer, streamed any way
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is an answer's Markdown (NUL bytes dropped: the app's strings
 * cannot hold them).  It is rendered whole with set_text(), and again
 * streamed with append() in pieces the input decides, cut anywhere, even
 * inside a UTF-8 character, then finish().  Half of the time the stream
 * starts with set_text() of a prefix, as when a message still streaming is
 * shown whole.  The renderer promises that both give the same text, tags and
 * links (and, streamed from the start, the same code blocks), and that the
 * text before the stable mark never changes; this checks all of it.
 *
 * A GtkTextBuffer needs no display, so there is no gtk_init().
 */
#include <string.h>

#include "fuzz-common.h"
#include "natter-markdown-renderer.h"

/* Bigger answers only make each run slower, not the search better. */
#define MAX_INPUT_SIZE 16384

static const char * const tag_names[] = {
  "h1", "h2", "h3", "bold", "italic", "strikethrough", "code", "code-block", "table",
  "quote", "hr", "list-1", "list-2", "list-3", "list-4", "list-5", "list-6", "link",
};

static void
code_block_cb (NatterMarkdownRenderer *renderer,
               GtkTextChildAnchor     *anchor,
               const char             *language,
               const char             *code,
               gpointer                user_data)
{
  GString *log = user_data;

  FUZZ_CHECK (GTK_IS_TEXT_CHILD_ANCHOR (anchor), "no anchor");
  FUZZ_CHECK (g_utf8_validate (language, -1, NULL) && g_utf8_validate (code, -1, NULL),
              "code block is not UTF-8");
  g_string_append_printf (log, "[%s]%s\n", language, code);
}

static char *
buffer_text (GtkTextBuffer *buffer)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_slice (buffer, &start, &end, TRUE);
}

/* Everything a reader sees: the text, where each tag applies, and which
 * link each character belongs to. */
static char *
describe (NatterMarkdownRenderer *renderer)
{
  GtkTextBuffer *buffer = natter_markdown_renderer_get_buffer (renderer);
  GtkTextTagTable *table = gtk_text_buffer_get_tag_table (buffer);
  GString *out = g_string_new (NULL);
  g_autofree char *text = buffer_text (buffer);
  const char *previous_link = NULL;
  GtkTextIter iter;

  g_string_append_printf (out, "text:%s\n", text);
  for (guint i = 0; i < G_N_ELEMENTS (tag_names); i++)
    {
      GtkTextTag *tag = gtk_text_tag_table_lookup (table, tag_names[i]);

      FUZZ_CHECK (tag != NULL, "tag %s missing", tag_names[i]);
      g_string_append_printf (out, "%s:", tag_names[i]);
      gtk_text_buffer_get_start_iter (buffer, &iter);
      if (!gtk_text_iter_starts_tag (&iter, tag))
        gtk_text_iter_forward_to_tag_toggle (&iter, tag);
      while (!gtk_text_iter_is_end (&iter))
        {
          g_string_append_printf (out, " %d", gtk_text_iter_get_offset (&iter));
          if (!gtk_text_iter_forward_to_tag_toggle (&iter, tag))
            break;
        }
      g_string_append_c (out, '\n');
    }

  gtk_text_buffer_get_start_iter (buffer, &iter);
  do
    {
      const char *link = natter_markdown_renderer_get_link_at_iter (renderer, &iter);

      if (g_strcmp0 (link, previous_link) != 0)
        g_string_append_printf (out, "link at %d: %s\n", gtk_text_iter_get_offset (&iter),
                                link != NULL ? link : "(none)");
      previous_link = link;
    }
  while (gtk_text_iter_forward_char (&iter));

  return g_string_free (out, FALSE);
}

static NatterMarkdownRenderer *
renderer_new (GString *code_blocks)
{
  g_autoptr(GtkTextBuffer) buffer = gtk_text_buffer_new (NULL);
  NatterMarkdownRenderer *renderer = natter_markdown_renderer_new (buffer);

  g_signal_connect (renderer, "code-block-added", G_CALLBACK (code_block_cb), code_blocks);
  return renderer;
}

/* Checks the text before the stable mark against what it was before this
 * append, then remembers it. */
static void
check_stable (NatterMarkdownRenderer  *renderer,
              char                   **stable_text)
{
  GtkTextBuffer *buffer = natter_markdown_renderer_get_buffer (renderer);
  int stable = natter_markdown_renderer_get_stable_offset (renderer);
  g_autofree char *text = buffer_text (buffer);
  GtkTextIter start, end;

  FUZZ_CHECK (stable >= 0 && stable <= gtk_text_buffer_get_char_count (buffer), "stable offset out of the buffer");
  if (*stable_text != NULL)
    FUZZ_CHECK (g_str_has_prefix (text, *stable_text), "stable text changed: was\n%s\nnow\n%s",
                *stable_text, text);
  g_free (*stable_text);
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_get_iter_at_offset (buffer, &end, stable);
  *stable_text = gtk_text_buffer_get_slice (buffer, &start, &end, TRUE);
}

static void
stream (NatterMarkdownRenderer *renderer,
        const char             *text,
        gsize                   len,
        guint64                *seed)
{
  g_autofree char *stable_text = NULL;
  gsize pos = 0;

  while (pos < len)
    {
      gsize piece = fuzz_piece_length (seed, len - pos);
      g_autofree char *bytes = g_strndup (text + pos, piece);

      natter_markdown_renderer_append (renderer, bytes);
      pos += piece;
      check_stable (renderer, &stable_text);
    }
  natter_markdown_renderer_finish (renderer);
  check_stable (renderer, &stable_text);
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
  g_autoptr(GString) source = g_string_sized_new (size);
  g_autoptr(GString) whole_blocks = g_string_new (NULL);
  g_autoptr(GString) streamed_blocks = g_string_new (NULL);
  g_autoptr(NatterMarkdownRenderer) whole = NULL;
  g_autoptr(NatterMarkdownRenderer) streamed = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *got = NULL;
  guint64 seed = fuzz_seed (data, size);
  gboolean from_prefix = seed % 2 == 0;
  gsize prefix = 0;

  if (size > MAX_INPUT_SIZE)
    return -1;
  for (gsize i = 0; i < size; i++)
    if (data[i] != '\0')
      g_string_append_c (source, (char) data[i]);

  whole = renderer_new (whole_blocks);
  natter_markdown_renderer_set_text (whole, source->str);
  FUZZ_CHECK (strcmp (natter_markdown_renderer_get_source (whole), source->str) == 0, "source not kept");
  expected = describe (whole);

  streamed = renderer_new (streamed_blocks);
  if (from_prefix)
    {
      g_autofree char *head = NULL;

      prefix = (gsize) (fuzz_next (&seed) % (source->len + 1));
      head = g_strndup (source->str, prefix);
      natter_markdown_renderer_set_text (streamed, head);
    }
  stream (streamed, source->str + prefix, source->len - prefix, &seed);
  FUZZ_CHECK (strcmp (natter_markdown_renderer_get_source (streamed), source->str) == 0, "source not kept");
  got = describe (streamed);

  FUZZ_CHECK (strcmp (expected, got) == 0, "streamed%s differs from whole:\n%s\nwhole:\n%s",
              from_prefix ? " after set_text()" : "", got, expected);
  /* Shown whole in the middle, a block is announced again when reopened. */
  if (!from_prefix)
    FUZZ_CHECK (g_string_equal (whole_blocks, streamed_blocks), "other code blocks:\n%s\nwhole:\n%s",
                streamed_blocks->str, whole_blocks->str);
  return 0;
}
