/* test-markdown.c — NatterMarkdownRenderer: text, tags, links, streaming
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs a display (run under Xvfb): GtkTextBuffer and its tags need GTK.
 */
#include <gtk/gtk.h>
#include <string.h>

#include "natter-markdown-renderer.h"

#define RULE "────────────────────────"

typedef struct
{
  GtkTextBuffer          *buffer;
  NatterMarkdownRenderer *renderer;
  GPtrArray              *code_blocks;   /* "language|code" */
  GPtrArray              *anchors;
} Fixture;

static void
code_block_added_cb (NatterMarkdownRenderer *renderer,
                     GtkTextChildAnchor     *anchor,
                     const char             *language,
                     const char             *code,
                     Fixture                *fixture)
{
  g_assert_nonnull (language);
  g_ptr_array_add (fixture->code_blocks, g_strdup_printf ("%s|%s", language, code));
  g_ptr_array_add (fixture->anchors, g_object_ref (anchor));
}

static void
fixture_init (Fixture *fixture)
{
  fixture->buffer = gtk_text_buffer_new (NULL);
  fixture->renderer = natter_markdown_renderer_new (fixture->buffer);
  fixture->code_blocks = g_ptr_array_new_with_free_func (g_free);
  fixture->anchors = g_ptr_array_new_with_free_func (g_object_unref);
  g_signal_connect (fixture->renderer, "code-block-added", G_CALLBACK (code_block_added_cb), fixture);
}

static void
fixture_clear (Fixture *fixture)
{
  g_assert_finalize_object (fixture->renderer);
  g_ptr_array_unref (fixture->anchors);
  g_assert_finalize_object (fixture->buffer);
  g_ptr_array_unref (fixture->code_blocks);
}

static char *
buffer_text (GtkTextBuffer *buffer)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
}

/* Like buffer_text, but child anchors show as U+FFFC. */
static char *
buffer_slice (GtkTextBuffer *buffer)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_slice (buffer, &start, &end, TRUE);
}

static char *
render (Fixture    *fixture,
        const char *markdown)
{
  natter_markdown_renderer_set_text (fixture->renderer, markdown);
  return buffer_text (fixture->buffer);
}

static GtkTextTag *
tag (GtkTextBuffer *buffer,
     const char    *name)
{
  GtkTextTag *found = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), name);

  g_assert_nonnull (found);
  return found;
}

static void
find_text (GtkTextBuffer *buffer,
           const char    *needle,
           GtkTextIter   *start,
           GtkTextIter   *end)
{
  GtkTextIter iter;

  gtk_text_buffer_get_start_iter (buffer, &iter);
  if (!gtk_text_iter_forward_search (&iter, needle, GTK_TEXT_SEARCH_TEXT_ONLY, start, end, NULL))
    g_error ("“%s” is not in the buffer", needle);
}

static gboolean
range_has_tag (GtkTextBuffer *buffer,
               GtkTextIter   *start,
               GtkTextIter   *end,
               const char    *name)
{
  GtkTextTag *wanted = tag (buffer, name);

  for (GtkTextIter iter = *start; gtk_text_iter_compare (&iter, end) < 0; gtk_text_iter_forward_char (&iter))
    {
      if (!gtk_text_iter_has_tag (&iter, wanted))
        return FALSE;
    }
  return TRUE;
}

/* Every character of the first “needle” has the tag. */
static void
assert_has_tag (GtkTextBuffer *buffer,
                const char    *needle,
                const char    *name)
{
  GtkTextIter start, end;

  find_text (buffer, needle, &start, &end);
  if (!range_has_tag (buffer, &start, &end, name))
    g_error ("“%s” does not have tag %s", needle, name);
}

/* The tag covers the first “needle” and nothing next to it. */
static void
assert_tag_exactly (GtkTextBuffer *buffer,
                    const char    *needle,
                    const char    *name)
{
  GtkTextIter start, end;

  assert_has_tag (buffer, needle, name);
  find_text (buffer, needle, &start, &end);
  if (!gtk_text_iter_starts_tag (&start, tag (buffer, name)) ||
      !gtk_text_iter_ends_tag (&end, tag (buffer, name)))
    g_error ("tag %s extends beyond “%s”", name, needle);
}

static void
assert_no_tag (GtkTextBuffer *buffer,
               const char    *needle,
               const char    *name)
{
  GtkTextIter start, end;

  find_text (buffer, needle, &start, &end);
  for (GtkTextIter iter = start; gtk_text_iter_compare (&iter, &end) < 0; gtk_text_iter_forward_char (&iter))
    {
      if (gtk_text_iter_has_tag (&iter, tag (buffer, name)))
        g_error ("“%s” has tag %s", needle, name);
    }
}

static void
collect_tag_name (GtkTextTag *text_tag,
                  gpointer    user_data)
{
  g_autofree char *name = NULL;

  g_object_get (text_tag, "name", &name, NULL);
  if (name != NULL)
    g_ptr_array_add (user_data, g_steal_pointer (&name));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* "bold:3-7,10-12;italic:…": every named tag with every range it covers. */
static char *
tag_signature (GtkTextBuffer *buffer)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GString *signature = g_string_new (NULL);

  gtk_text_tag_table_foreach (gtk_text_buffer_get_tag_table (buffer), collect_tag_name, names);
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      GtkTextTag *text_tag = tag (buffer, g_ptr_array_index (names, i));
      GtkTextIter iter;

      gtk_text_buffer_get_start_iter (buffer, &iter);
      if (!gtk_text_iter_starts_tag (&iter, text_tag) && !gtk_text_iter_forward_to_tag_toggle (&iter, text_tag))
        continue;
      g_string_append_printf (signature, "%s:", (char *) g_ptr_array_index (names, i));
      do
        {
          g_string_append_printf (signature, "%d%s", gtk_text_iter_get_offset (&iter),
                                  gtk_text_iter_starts_tag (&iter, text_tag) ? "-" : ",");
        }
      while (gtk_text_iter_forward_to_tag_toggle (&iter, text_tag));
      g_string_append (signature, ";");
    }
  return g_string_free (signature, FALSE);
}

/* Where each link starts and ends, and its target. */
static char *
link_signature (Fixture *fixture)
{
  GString *signature = g_string_new (NULL);
  const char *previous = NULL;
  GtkTextIter iter;

  gtk_text_buffer_get_start_iter (fixture->buffer, &iter);
  do
    {
      const char *href = natter_markdown_renderer_get_link_at_iter (fixture->renderer, &iter);

      if (g_strcmp0 (href, previous) != 0)
        g_string_append_printf (signature, "%d:%s ", gtk_text_iter_get_offset (&iter), href ? href : "-");
      previous = href;
    }
  while (gtk_text_iter_forward_char (&iter));
  return g_string_free (signature, FALSE);
}

static char *
code_block_signature (Fixture *fixture)
{
  GString *signature = g_string_new (NULL);

  for (guint i = 0; i < fixture->code_blocks->len; i++)
    g_string_append_printf (signature, "[%s]", (char *) g_ptr_array_index (fixture->code_blocks, i));
  return g_string_free (signature, FALSE);
}

static const char *
link_at_text (Fixture    *fixture,
              const char *needle,
              int         delta)
{
  GtkTextIter start, end;

  find_text (fixture->buffer, needle, &start, &end);
  gtk_text_iter_forward_chars (&start, delta);
  return natter_markdown_renderer_get_link_at_iter (fixture->renderer, &start);
}

static void
stream (Fixture    *fixture,
        const char *markdown,
        gsize       chunk)
{
  gsize len = strlen (markdown);

  for (gsize i = 0; i < len; i += chunk)
    {
      g_autofree char *piece = g_strndup (markdown + i, MIN (chunk, len - i));

      natter_markdown_renderer_append (fixture->renderer, piece);
    }
  natter_markdown_renderer_finish (fixture->renderer);
}

/* --- Constructs ------------------------------------------------------------ */

static void
test_paragraphs (void)
{
  Fixture f;
  g_autofree char *text = NULL;

  fixture_init (&f);
  text = render (&f, "Hello\nworld\n\n\n\nSecond  \nline\\\nthird");
  g_assert_cmpstr (text, ==, "Hello world\n\nSecond\nline\nthird");
  g_assert_cmpstr (natter_markdown_renderer_get_source (f.renderer), ==,
                   "Hello\nworld\n\n\n\nSecond  \nline\\\nthird");
  fixture_clear (&f);
}

static void
test_emphasis (void)
{
  Fixture f;
  g_autofree char *text = NULL;

  fixture_init (&f);
  text = render (&f, "Some **bold**, *italic*, ~~gone~~ and `co*de*` and ***both*** _under_.");
  g_assert_cmpstr (text, ==, "Some bold, italic, gone and co*de* and both under.");
  assert_tag_exactly (f.buffer, "bold", "bold");
  assert_tag_exactly (f.buffer, "italic", "italic");
  assert_tag_exactly (f.buffer, "gone", "strikethrough");
  assert_tag_exactly (f.buffer, "co*de*", "code");
  assert_no_tag (f.buffer, "co*de*", "italic");
  assert_tag_exactly (f.buffer, "both", "bold");
  assert_tag_exactly (f.buffer, "both", "italic");
  assert_tag_exactly (f.buffer, "under", "italic");
  assert_no_tag (f.buffer, "Some ", "bold");
  fixture_clear (&f);
}

static void
test_headings (void)
{
  Fixture f;
  g_autofree char *text = NULL;

  fixture_init (&f);
  text = render (&f, "# One\n## Two *em*\n### Three\n#### Four\nText\n\nSetext\n===");
  g_assert_cmpstr (text, ==, "One\n\nTwo em\n\nThree\n\nFour\n\nText\n\nSetext");
  assert_tag_exactly (f.buffer, "One", "h1");
  assert_tag_exactly (f.buffer, "Two em", "h2");
  assert_tag_exactly (f.buffer, "em", "italic");
  assert_tag_exactly (f.buffer, "Three", "h3");
  assert_tag_exactly (f.buffer, "Four", "h3");
  assert_tag_exactly (f.buffer, "Setext", "h1");
  assert_no_tag (f.buffer, "Text", "h3");
  fixture_clear (&f);
}

static void
test_lists (void)
{
  Fixture f;
  g_autofree char *text = NULL;
  g_autofree char *loose = NULL;

  fixture_init (&f);
  text = render (&f, "- a\n- b\n  - c\n  - d\n    1. e\n- f\n\n3. x\n4. y\n\nafter");
  g_assert_cmpstr (text, ==, "• a\n• b\n• c\n• d\n1. e\n• f\n\n3. x\n4. y\n\nafter");
  /* Each item is tagged from its marker to its end; nested items also
   * carry their parents' tags, and the deepest margin wins. */
  assert_tag_exactly (f.buffer, "• a", "list-1");
  assert_tag_exactly (f.buffer, "• b\n• c\n• d\n1. e", "list-1");
  assert_tag_exactly (f.buffer, "• c", "list-2");
  assert_tag_exactly (f.buffer, "• d\n1. e", "list-2");
  assert_tag_exactly (f.buffer, "1. e", "list-3");
  assert_tag_exactly (f.buffer, "• f", "list-1");
  assert_no_tag (f.buffer, "• a", "list-2");
  assert_tag_exactly (f.buffer, "3. x", "list-1");
  assert_tag_exactly (f.buffer, "4. y", "list-1");
  assert_no_tag (f.buffer, "after", "list-1");

  loose = render (&f, "- one\n\n  more\n- two\n\n* other");
  g_assert_cmpstr (loose, ==, "• one\n\nmore\n\n• two\n\n• other");
  fixture_clear (&f);
}

static void
test_quote (void)
{
  Fixture f;
  g_autofree char *text = NULL;

  fixture_init (&f);
  text = render (&f, "> quoted *text*\n> more\n>\n> # head\n\nafter");
  g_assert_cmpstr (text, ==, "quoted text more\n\nhead\n\nafter");
  assert_tag_exactly (f.buffer, "quoted text more\n\nhead", "quote");
  assert_tag_exactly (f.buffer, "text", "italic");
  assert_tag_exactly (f.buffer, "head", "h1");
  assert_no_tag (f.buffer, "after", "quote");
  fixture_clear (&f);
}

static void
test_code_block (void)
{
  Fixture f;
  g_autofree char *text = NULL;
  g_autofree char *slice = NULL;
  GtkTextIter anchor_iter, start, end;

  fixture_init (&f);
  text = render (&f, "Intro\n\n```python extra\nprint(1)\n\n  print(2)\n```\nOutro");
  g_assert_cmpstr (text, ==, "Intro\n\nprint(1)\n\n  print(2)\n\n\nOutro");
  slice = buffer_slice (f.buffer);
  g_assert_cmpstr (slice, ==, "Intro\n\nprint(1)\n\n  print(2)\n\xEF\xBF\xBC\n\nOutro");
  assert_has_tag (f.buffer, "print(1)\n\n  print(2)\n", "code-block");
  assert_no_tag (f.buffer, "Outro", "code-block");
  assert_no_tag (f.buffer, "Intro", "code-block");

  g_assert_cmpuint (f.code_blocks->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f.code_blocks, 0), ==, "python|print(1)\n\n  print(2)");
  /* The anchor is on its own line just below the code. */
  gtk_text_buffer_get_iter_at_child_anchor (f.buffer, &anchor_iter, g_ptr_array_index (f.anchors, 0));
  find_text (f.buffer, "  print(2)\n", &start, &end);
  g_assert_true (gtk_text_iter_equal (&anchor_iter, &end));
  g_assert_true (gtk_text_iter_has_tag (&anchor_iter, tag (f.buffer, "code-block")));
  fixture_clear (&f);
}

static void
test_code_block_kinds (void)
{
  Fixture f;
  g_autofree char *text = NULL;

  fixture_init (&f);
  text = render (&f, "    indented **x**\n\n~~~\ntilde\n~~~\n\n```\n```\n\n- item\n\n  ```sh\n  ls\n  ```");
  g_assert_cmpstr (text, ==, "indented **x**\n\n\ntilde\n\n\n\n\n\n• item\n\nls\n");
  assert_has_tag (f.buffer, "indented **x**", "code-block");
  assert_no_tag (f.buffer, "indented **x**", "bold");
  assert_has_tag (f.buffer, "ls", "list-1");
  g_assert_cmpuint (f.code_blocks->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (f.code_blocks, 0), ==, "|indented **x**");
  g_assert_cmpstr (g_ptr_array_index (f.code_blocks, 1), ==, "|tilde");
  g_assert_cmpstr (g_ptr_array_index (f.code_blocks, 2), ==, "|");
  g_assert_cmpstr (g_ptr_array_index (f.code_blocks, 3), ==, "sh|ls");
  fixture_clear (&f);
}

static void
test_table (void)
{
  Fixture f;
  g_autofree char *text = NULL;

  fixture_init (&f);
  text = render (&f, "| Name | Qty | Note |\n|:-----|----:|:---:|\n| apple | 3 | **ripe** |\n"
                     "| kiwi | 12 | [site](https://kiwi.example) |\n| fig |\n\nafter");
  g_assert_cmpstr (text, ==,
                   "Name  │ Qty │ Note\n"
                   "──────┼─────┼─────\n"
                   "apple │   3 │ ripe\n"
                   "kiwi  │  12 │ site\n"
                   "fig   │     │\n"
                   "\n"
                   "after");
  assert_tag_exactly (f.buffer, "Name  │ Qty │ Note", "bold");
  assert_tag_exactly (f.buffer, "ripe", "bold");
  assert_tag_exactly (f.buffer, "site", "link");
  assert_tag_exactly (f.buffer, "Name  │ Qty │ Note\n──────┼─────┼─────\napple │   3 │ ripe\n"
                                "kiwi  │  12 │ site\nfig   │     │", "table");
  assert_no_tag (f.buffer, "after", "table");
  assert_no_tag (f.buffer, "apple", "bold");
  g_assert_cmpstr (link_at_text (&f, "site", 0), ==, "https://kiwi.example");
  g_assert_cmpstr (link_at_text (&f, "site", 3), ==, "https://kiwi.example");
  g_assert_null (link_at_text (&f, "site", 4));
  g_assert_null (link_at_text (&f, "ripe", 0));
  fixture_clear (&f);
}

static void
test_links (void)
{
  Fixture f;
  g_autofree char *text = NULL;

  fixture_init (&f);
  text = render (&f, "See [the **docs**](https://example.org/docs \"Title\") or <https://a.example> "
                     "or www.example.com, mail@example.com, [q](https://q.example/?a=1&amp;b=2).");
  g_assert_cmpstr (text, ==, "See the docs or https://a.example or www.example.com, mail@example.com, q.");
  assert_tag_exactly (f.buffer, "the docs", "link");
  assert_tag_exactly (f.buffer, "docs", "bold");
  assert_tag_exactly (f.buffer, "www.example.com", "link");
  g_assert_cmpstr (link_at_text (&f, "the docs", 0), ==, "https://example.org/docs");
  g_assert_cmpstr (link_at_text (&f, "the docs", 7), ==, "https://example.org/docs");
  g_assert_null (link_at_text (&f, "the docs", 8));
  g_assert_null (link_at_text (&f, "See", 0));
  g_assert_null (link_at_text (&f, "the docs", -1));
  g_assert_cmpstr (link_at_text (&f, "https://a", 0), ==, "https://a.example");
  g_assert_cmpstr (link_at_text (&f, "www.", 0), ==, "http://www.example.com");
  g_assert_cmpstr (link_at_text (&f, "mail@", 0), ==, "mailto:mail@example.com");
  g_assert_cmpstr (link_at_text (&f, "q.", 0), ==, "https://q.example/?a=1&b=2");

  /* A new text drops the old links. */
  g_clear_pointer (&text, g_free);
  text = render (&f, "plain text here, long enough to cover old offsets");
  g_assert_null (link_at_text (&f, "plain", 5));
  g_assert_null (link_at_text (&f, "offsets", 0));
  fixture_clear (&f);
}

static void
test_raw_html (void)
{
  Fixture f;
  g_autofree char *text = NULL;
  g_autofree char *tags = NULL;

  fixture_init (&f);
  text = render (&f, "<b>x</b> and <script>alert(1)</script> <a href=\"https://evil\">y</a>\n\n<div>\nblock\n</div>");
  g_assert_cmpstr (text, ==, "<b>x</b> and <script>alert(1)</script> <a href=\"https://evil\">y</a>\n\n<div> block </div>");
  tags = tag_signature (f.buffer);
  g_assert_cmpstr (tags, ==, "");
  g_assert_null (link_at_text (&f, "y</a>", 0));
  fixture_clear (&f);
}

static void
test_entities (void)
{
  Fixture f;
  g_autofree char *text = NULL;

  fixture_init (&f);
  text = render (&f, "&amp; &lt;a&gt; &quot;q&quot; &#65;&#x42;&#X43; &copy; &bogus; &#0; `&amp;`");
  g_assert_cmpstr (text, ==, "& <a> \"q\" ABC © &bogus; \xEF\xBF\xBD &amp;");
  fixture_clear (&f);
}

static void
test_image_and_rule (void)
{
  Fixture f;
  g_autofree char *text = NULL;

  fixture_init (&f);
  text = render (&f, "![a *cat*](https://x.example/cat.png \"t\") ok\n\n---\n\nb");
  g_assert_cmpstr (text, ==, "a cat ok\n\n" RULE "\n\nb");
  g_assert_null (link_at_text (&f, "a cat", 0));
  assert_tag_exactly (f.buffer, RULE, "hr");
  fixture_clear (&f);
}

static void
test_finish_idempotent (void)
{
  Fixture f;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  fixture_init (&f);
  natter_markdown_renderer_set_text (f.renderer, "```\ncode\n```\ntext");
  before = buffer_slice (f.buffer);
  natter_markdown_renderer_finish (f.renderer);
  natter_markdown_renderer_finish (f.renderer);
  after = buffer_slice (f.buffer);
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpuint (f.code_blocks->len, ==, 1);
  g_assert_cmpint (natter_markdown_renderer_get_stable_offset (f.renderer), ==,
                   gtk_text_buffer_get_char_count (f.buffer));
  fixture_clear (&f);
}

/* The view can put a widget at each anchor, as the message row does. */
static void
add_button_cb (NatterMarkdownRenderer *renderer,
               GtkTextChildAnchor     *anchor,
               const char             *language,
               const char             *code,
               GtkTextView            *view)
{
  gtk_text_view_add_child_at_anchor (view, gtk_button_new_with_label ("Copy"), anchor);
}

static void
test_view_anchor (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = gtk_text_view_new ();
  g_autoptr(NatterMarkdownRenderer) renderer =
    natter_markdown_renderer_new (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)));

  gtk_window_set_child (GTK_WINDOW (window), view);
  g_signal_connect (renderer, "code-block-added", G_CALLBACK (add_button_cb), view);
  natter_markdown_renderer_set_text (renderer, "```c\nint x;\n```\n\n```\ny\n```");
  gtk_window_present (GTK_WINDOW (window));
  natter_markdown_renderer_append (renderer, "\n\nmore");
  natter_markdown_renderer_finish (renderer);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  gtk_window_destroy (GTK_WINDOW (window));
}

/* --- Streaming ----------------------------------------------------------- */

static const char * const corpus[] = {
  "# Title\n\nSome *emphasis that spans* several **appends and\nlines** here, `code` too.\n\n"
  "## Sub\nText right after the heading.\n",

  "- one\n- two\n  - two.a\n  - two.b\n    1. deep\n- three\n\n1. first\n2. second\n\n"
  "para\n\n5. five\n6. six\n",

  "- item one\n\n  continued paragraph\n\n- item two\n\n      indented code in item\n\n"
  "After the list.\n\n* star\n\n+ plus\n",

  "Before\n\n```c\nint main (void)\n{\n\n  return 0;\n}\n```\n\nAfter\n\n~~~\nplain\n\n\n"
  "text\n~~~\n    indented code\n\n    more indented\n\nend\n````md\n```\nnested\n```\n````\n",

  "| a | b |\n|---|:-:|\n| 1 | **two** |\n| [l](https://l.example) | `c` |\n\n"
  "Text after table.\n\n| x |\n|---|\n| y |\n",

  "> quote line\n> second *line*\n\n> another quote\n>\n> - with list\n> ```\n> q code\n> ```\n\n"
  "Not quoted.\n>lazy\ncontinuation\n",

  "Visit [GNOME](https://gnome.org) and <https://example.com/a?b=c&d=e>.\n"
  "Also www.example.org and mail@example.com.\n\n[ref]: https://ref.example\n\nSee [ref].\n",

  "Use <b>bold</b> &amp; &copy; &#x1F600; here.\n\n***\n\n![alt *text*](img.png)\n\n"
  "Line with hard  \nbreak and \\*escaped\\*.\n",

  "Intro\n\n```python\ndef f():\n\n    return 1\n",

  "Ünïcödé **ставка** 😀\r\n\r\n- ü\r\n- 日本語\r\n\r\nend ✓",

  "# H1\nPara\n## H2\n```\ncode\n```\nafter fence\n#### h4\n\n\n\n1) paren\n2) list\n",
};

typedef struct
{
  char *text;
  char *slice;
  char *tags;
  char *links;
  char *code_blocks;
} Snapshot;

static void
snapshot_take (Snapshot *snapshot,
               Fixture  *fixture)
{
  snapshot->text = buffer_text (fixture->buffer);
  snapshot->slice = buffer_slice (fixture->buffer);
  snapshot->tags = tag_signature (fixture->buffer);
  snapshot->links = link_signature (fixture);
  snapshot->code_blocks = code_block_signature (fixture);
}

static void
snapshot_clear (Snapshot *snapshot)
{
  g_free (snapshot->text);
  g_free (snapshot->slice);
  g_free (snapshot->tags);
  g_free (snapshot->links);
  g_free (snapshot->code_blocks);
}

static void
snapshot_assert_equal (Snapshot *a,
                       Snapshot *b)
{
  g_assert_cmpstr (a->text, ==, b->text);
  g_assert_cmpstr (a->slice, ==, b->slice);
  g_assert_cmpstr (a->tags, ==, b->tags);
  g_assert_cmpstr (a->links, ==, b->links);
  g_assert_cmpstr (a->code_blocks, ==, b->code_blocks);
}

static void
assert_anchors_alive (Fixture *fixture)
{
  for (guint i = 0; i < fixture->anchors->len; i++)
    g_assert_false (gtk_text_child_anchor_get_deleted (g_ptr_array_index (fixture->anchors, i)));
}

static void
test_streaming_equivalence (void)
{
  static const gsize chunks[] = { 1, 2, 3, 7, 64, 100000 };

  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      Fixture whole;
      Snapshot expected;

      fixture_init (&whole);
      natter_markdown_renderer_set_text (whole.renderer, corpus[i]);
      snapshot_take (&expected, &whole);

      for (guint c = 0; c < G_N_ELEMENTS (chunks); c++)
        {
          Fixture streamed;
          Snapshot got;

          fixture_init (&streamed);
          stream (&streamed, corpus[i], chunks[c]);
          snapshot_take (&got, &streamed);
          snapshot_assert_equal (&got, &expected);
          /* Each block was announced once, and never for a provisional render. */
          assert_anchors_alive (&streamed);
          snapshot_clear (&got);
          fixture_clear (&streamed);
        }
      snapshot_clear (&expected);
      fixture_clear (&whole);
    }
}

static void
test_streaming_code_blocks (void)
{
  const char *markdown = "a\n\n```js\nlet x;\n\nlet y;\n```\n\nb\n\n```\nz\n```\nc";
  Fixture f;
  g_autofree char *text = NULL;
  gsize len = strlen (markdown);

  fixture_init (&f);
  for (gsize i = 0; i < len; i++)
    {
      char piece[2] = { markdown[i], '\0' };

      natter_markdown_renderer_append (f.renderer, piece);
      /* The first block is announced once "b" starts, not before. */
      if (i + 1 < (gsize) (strstr (markdown, "b\n") - markdown))
        g_assert_cmpuint (f.code_blocks->len, ==, 0);
    }
  /* The second block waits for its "c" line to end, or for finish(). */
  g_assert_cmpuint (f.code_blocks->len, ==, 1);
  natter_markdown_renderer_finish (f.renderer);
  g_assert_cmpuint (f.code_blocks->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (f.code_blocks, 0), ==, "js|let x;\n\nlet y;");
  g_assert_cmpstr (g_ptr_array_index (f.code_blocks, 1), ==, "|z");
  assert_anchors_alive (&f);
  text = buffer_text (f.buffer);
  g_assert_cmpstr (text, ==, "a\n\nlet x;\n\nlet y;\n\n\nb\n\nz\n\n\nc");
  fixture_clear (&f);
}

static void
test_unclosed_fence (void)
{
  const char *markdown = "Text\n\n```sh\necho hi\n\necho there";
  Fixture f;
  g_autofree char *text = NULL;
  gsize len = strlen (markdown);
  gsize code_at = strstr (markdown, "echo hi") - markdown;

  fixture_init (&f);
  for (gsize i = 0; i < len; i += 3)
    {
      g_autofree char *piece = g_strndup (markdown + i, MIN (3, len - i));

      natter_markdown_renderer_append (f.renderer, piece);
      if (i + 3 >= code_at + strlen ("echo hi"))
        assert_has_tag (f.buffer, "echo hi", "code-block");
    }
  assert_has_tag (f.buffer, "echo hi\n\necho there\n", "code-block");
  g_assert_cmpuint (f.code_blocks->len, ==, 0);
  text = buffer_text (f.buffer);
  g_assert_cmpstr (text, ==, "Text\n\necho hi\n\necho there\n");
  g_clear_pointer (&text, g_free);

  natter_markdown_renderer_finish (f.renderer);
  text = buffer_text (f.buffer);
  g_assert_cmpstr (text, ==, "Text\n\necho hi\n\necho there\n");
  assert_has_tag (f.buffer, "echo hi\n\necho there", "code-block");
  g_assert_cmpuint (f.code_blocks->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f.code_blocks, 0), ==, "sh|echo hi\n\necho there");
  fixture_clear (&f);
}

static void
test_utf8_split (void)
{
  const char *markdown = "héllo → **wörld** 😀\n\n日本";
  Fixture f, whole;
  g_autofree char *expected = NULL;
  gsize len = strlen (markdown);

  fixture_init (&whole);
  expected = render (&whole, markdown);
  fixture_init (&f);
  for (gsize i = 0; i < len; i++)
    {
      char piece[2] = { markdown[i], '\0' };
      g_autofree char *text = NULL;

      natter_markdown_renderer_append (f.renderer, piece);
      text = buffer_text (f.buffer);
      /* Half a character is held back, never shown as U+FFFD. */
      g_assert_null (strstr (text, "\xEF\xBF\xBD"));
    }
  natter_markdown_renderer_finish (f.renderer);
  {
    g_autofree char *text = buffer_text (f.buffer);

    g_assert_cmpstr (text, ==, expected);
  }
  fixture_clear (&f);
  fixture_clear (&whole);
}

static char *
without_code_anchors (const char *slice)
{
  g_auto(GStrv) parts = g_strsplit (slice, "\xEF\xBF\xBC", -1);

  return g_strjoinv ("", parts);
}

/* What is shown mid-stream is what the text so far would show if it were
 * complete, apart from the Copy anchors, which only finished blocks get. */
static void
test_provisional (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      gsize len = strlen (corpus[i]);
      gboolean has_code = strstr (corpus[i], "```") || strstr (corpus[i], "~~~") || strstr (corpus[i], "\n    ");
      Fixture streamed;

      /* A reference definition in the open chunk still resolves there. */
      if (strstr (corpus[i], "]: ") != NULL)
        continue;
      fixture_init (&streamed);
      for (gsize end = 1; end <= len; end++)
        {
          char piece[2] = { corpus[i][end - 1], '\0' };
          g_autofree char *prefix = g_strndup (corpus[i], end);
          g_autofree char *got = NULL;
          g_autofree char *streamed_slice = NULL;
          g_autofree char *whole_slice = NULL;
          g_autofree char *expected = NULL;
          Fixture whole;

          natter_markdown_renderer_append (streamed.renderer, piece);
          if (end < len && (corpus[i][end] & 0xC0) == 0x80)
            continue;
          fixture_init (&whole);
          natter_markdown_renderer_set_text (whole.renderer, prefix);
          streamed_slice = buffer_slice (streamed.buffer);
          got = without_code_anchors (streamed_slice);
          whole_slice = buffer_slice (whole.buffer);
          expected = without_code_anchors (whole_slice);
          g_assert_cmpstr (got, ==, expected);
          if (!has_code)
            {
              g_autofree char *got_tags = tag_signature (streamed.buffer);
              g_autofree char *expected_tags = tag_signature (whole.buffer);
              g_autofree char *got_links = link_signature (&streamed);
              g_autofree char *expected_links = link_signature (&whole);

              g_assert_cmpstr (got_tags, ==, expected_tags);
              g_assert_cmpstr (got_links, ==, expected_links);
            }
          fixture_clear (&whole);
        }
      fixture_clear (&streamed);
    }
}

/* The code blocks whose anchors are still in the buffer. */
static char *
live_code_block_signature (Fixture *fixture)
{
  GString *signature = g_string_new (NULL);

  for (guint i = 0; i < fixture->code_blocks->len; i++)
    {
      if (!gtk_text_child_anchor_get_deleted (g_ptr_array_index (fixture->anchors, i)))
        g_string_append_printf (signature, "[%s]", (char *) g_ptr_array_index (fixture->code_blocks, i));
    }
  return g_string_free (signature, FALSE);
}

/* A message row shows a streaming message whole (set_text), then appends
 * the rest as it comes: the result is as if it had been shown whole at the
 * end, with one live anchor per code block. */
static void
test_resume_after_set_text (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      gsize len = strlen (corpus[i]);
      Fixture whole;
      Snapshot expected;

      fixture_init (&whole);
      natter_markdown_renderer_set_text (whole.renderer, corpus[i]);
      snapshot_take (&expected, &whole);

      for (gsize split = 0; split <= len; split += 5)
        {
          g_autofree char *prefix = g_strndup (corpus[i], split);
          g_autofree char *live = NULL;
          Fixture resumed;
          Snapshot got;

          fixture_init (&resumed);
          natter_markdown_renderer_set_text (resumed.renderer, prefix);
          stream (&resumed, corpus[i] + split, 3);
          snapshot_take (&got, &resumed);
          live = live_code_block_signature (&resumed);
          g_assert_cmpstr (got.text, ==, expected.text);
          g_assert_cmpstr (got.slice, ==, expected.slice);
          g_assert_cmpstr (got.tags, ==, expected.tags);
          g_assert_cmpstr (got.links, ==, expected.links);
          g_assert_cmpstr (live, ==, expected.code_blocks);
          g_assert_cmpstr (natter_markdown_renderer_get_source (resumed.renderer), ==, corpus[i]);
          snapshot_clear (&got);
          fixture_clear (&resumed);
        }
      snapshot_clear (&expected);
      fixture_clear (&whole);
    }
}

typedef struct
{
  NatterMarkdownRenderer *renderer;
  int                     stable_before;
  guint                   deletions;
} Watch;

static void
delete_range_cb (GtkTextBuffer *buffer,
                 GtkTextIter   *start,
                 GtkTextIter   *end,
                 Watch         *watch)
{
  g_assert_cmpint (gtk_text_iter_get_offset (start), >=, watch->stable_before);
  watch->deletions++;
}

static void
insert_text_cb (GtkTextBuffer *buffer,
                GtkTextIter   *location,
                const char    *text,
                int            len,
                Watch         *watch)
{
  g_assert_cmpint (gtk_text_iter_get_offset (location), >=, watch->stable_before);
}

static char *
text_before (GtkTextBuffer *buffer,
             int            offset)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_get_iter_at_offset (buffer, &end, offset);
  return gtk_text_buffer_get_slice (buffer, &start, &end, TRUE);
}

/* After each append, nothing before the stable point has been touched. */
static void
stream_watched (Fixture    *f,
                const char *markdown,
                gsize       chunk,
                int        *max_stable_mid_stream)
{
  Watch watch = { f->renderer, 0, 0 };
  gsize len = strlen (markdown);

  g_signal_connect (f->buffer, "delete-range", G_CALLBACK (delete_range_cb), &watch);
  g_signal_connect (f->buffer, "insert-text", G_CALLBACK (insert_text_cb), &watch);
  for (gsize i = 0; i < len; i += chunk)
    {
      g_autofree char *piece = g_strndup (markdown + i, MIN (chunk, len - i));
      g_autofree char *final_before = NULL;
      g_autofree char *final_after = NULL;
      int stable_after;

      watch.stable_before = natter_markdown_renderer_get_stable_offset (f->renderer);
      final_before = text_before (f->buffer, watch.stable_before);
      natter_markdown_renderer_append (f->renderer, piece);
      final_after = text_before (f->buffer, watch.stable_before);
      g_assert_cmpstr (final_before, ==, final_after);
      stable_after = natter_markdown_renderer_get_stable_offset (f->renderer);
      g_assert_cmpint (stable_after, >=, watch.stable_before);
      *max_stable_mid_stream = MAX (*max_stable_mid_stream, stable_after);
    }
  watch.stable_before = natter_markdown_renderer_get_stable_offset (f->renderer);
  natter_markdown_renderer_finish (f->renderer);
  g_signal_handlers_disconnect_by_data (f->buffer, &watch);
  g_assert_cmpuint (watch.deletions, >, 0);
}

static void
test_incremental (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (corpus); i++)
    {
      Fixture f;
      int max_stable = 0;

      fixture_init (&f);
      stream_watched (&f, corpus[i], 5, &max_stable);
      fixture_clear (&f);
    }
}

static void
test_stable_advances (void)
{
  Fixture f;
  int max_stable = 0;
  int stable;

  fixture_init (&f);
  stream_watched (&f, "First paragraph.\n\n```\ncode\n\nmore\n```\n\nSecond *one*.\n\n- a\n\n- b\n\nThird", 2, &max_stable);
  g_assert_cmpint (max_stable, >, 0);

  /* A list item may continue the block above, so nothing is final until
   * "Third" ends the loose list. */
  natter_markdown_renderer_set_text (f.renderer, "");
  natter_markdown_renderer_append (f.renderer, "Para\n\n- a\n\n- b\n\n");
  stable = natter_markdown_renderer_get_stable_offset (f.renderer);
  g_assert_cmpint (stable, ==, 0);
  natter_markdown_renderer_append (f.renderer, "Third\n");
  g_assert_cmpint (natter_markdown_renderer_get_stable_offset (f.renderer), ==,
                   g_utf8_strlen ("Para\n\n• a\n\n• b", -1));
  fixture_clear (&f);
}

/* --- Size ---------------------------------------------------------------- */

static char *
large_document (gsize size)
{
  GString *markdown = g_string_new (NULL);
  guint n = 0;

  while (markdown->len < size)
    {
      g_string_append_printf (markdown,
                              "Paragraph %u has *some emphasis*, **strong words**, `inline code` and "
                              "a [link](https://example.org/%u) to keep the parser busy; it goes on "
                              "for a while so that it is about as long as a real one.\n\n", n, n);
      n++;
    }
  return g_string_free (markdown, FALSE);
}

static double
stream_timed (Fixture    *f,
              const char *markdown,
              gsize       chunk)
{
  gint64 start = g_get_monotonic_time ();

  stream (f, markdown, chunk);
  return (g_get_monotonic_time () - start) / 1e6;
}

/* Times the first and the last 1000 appends apart: if an append cost
 * anything like the length of the message, the last ones would be slower. */
static void
stream_timed_ends (Fixture    *f,
                   const char *markdown,
                   gsize       chunk,
                   double     *first_us,
                   double     *last_us)
{
  gsize len = strlen (markdown);
  gsize n_appends = (len + chunk - 1) / chunk;
  gint64 first_end = 0, last_start = 0;
  gint64 start = g_get_monotonic_time ();

  for (gsize i = 0; i < n_appends; i++)
    {
      g_autofree char *piece = g_strndup (markdown + i * chunk, MIN (chunk, len - i * chunk));

      if (i == n_appends - 1000)
        last_start = g_get_monotonic_time ();
      natter_markdown_renderer_append (f->renderer, piece);
      if (i == 999)
        first_end = g_get_monotonic_time ();
    }
  *first_us = (first_end - start) / 1000.0;
  *last_us = (g_get_monotonic_time () - last_start) / 1000.0;
  natter_markdown_renderer_finish (f->renderer);
}

static void
test_large (void)
{
  g_autofree char *markdown = large_document (1024 * 1024);
  g_autofree char *streamed_text = NULL;
  g_autofree char *whole_text = NULL;
  Fixture streamed, whole;
  double first_us, last_us, whole_s;
  gint64 start;

  fixture_init (&streamed);
  start = g_get_monotonic_time ();
  stream_timed_ends (&streamed, markdown, 100, &first_us, &last_us);
  g_test_message ("1 MiB of paragraphs streamed in 100-byte appends: %.2f s in all; "
                  "%.1f µs per append over the first 1000, %.1f µs over the last 1000",
                  (g_get_monotonic_time () - start) / 1e6, first_us, last_us);

  fixture_init (&whole);
  start = g_get_monotonic_time ();
  natter_markdown_renderer_set_text (whole.renderer, markdown);
  whole_s = (g_get_monotonic_time () - start) / 1e6;
  g_test_message ("1 MiB of paragraphs with set_text: %.2f s", whole_s);

  streamed_text = buffer_text (streamed.buffer);
  whole_text = buffer_text (whole.buffer);
  g_assert_cmpstr (streamed_text, ==, whole_text);
  fixture_clear (&whole);
  fixture_clear (&streamed);
}

/* The worst case by design: one block that never ends is re-rendered whole
 * on every append. */
static void
test_large_code_block (void)
{
  GString *markdown = g_string_new ("```\n");
  Fixture f;
  double seconds;

  while (markdown->len < 64 * 1024)
    g_string_append (markdown, "for (int i = 0; i < n; i++) total += values[i];\n\n");
  fixture_init (&f);
  seconds = stream_timed (&f, markdown->str, 100);
  g_test_message ("one open 64 KiB code block streamed in 100-byte appends: %.2f s", seconds);
  g_assert_cmpuint (f.code_blocks->len, ==, 1);
  fixture_clear (&f);
  g_string_free (markdown, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  gtk_init ();

  g_test_add_func ("/natter/markdown/paragraphs", test_paragraphs);
  g_test_add_func ("/natter/markdown/emphasis", test_emphasis);
  g_test_add_func ("/natter/markdown/headings", test_headings);
  g_test_add_func ("/natter/markdown/lists", test_lists);
  g_test_add_func ("/natter/markdown/quote", test_quote);
  g_test_add_func ("/natter/markdown/code-block", test_code_block);
  g_test_add_func ("/natter/markdown/code-block-kinds", test_code_block_kinds);
  g_test_add_func ("/natter/markdown/table", test_table);
  g_test_add_func ("/natter/markdown/links", test_links);
  g_test_add_func ("/natter/markdown/raw-html", test_raw_html);
  g_test_add_func ("/natter/markdown/entities", test_entities);
  g_test_add_func ("/natter/markdown/image-and-rule", test_image_and_rule);
  g_test_add_func ("/natter/markdown/finish-idempotent", test_finish_idempotent);
  g_test_add_func ("/natter/markdown/view-anchor", test_view_anchor);
  g_test_add_func ("/natter/markdown/streaming/equivalence", test_streaming_equivalence);
  g_test_add_func ("/natter/markdown/streaming/provisional", test_provisional);
  g_test_add_func ("/natter/markdown/streaming/resume", test_resume_after_set_text);
  g_test_add_func ("/natter/markdown/streaming/code-blocks", test_streaming_code_blocks);
  g_test_add_func ("/natter/markdown/streaming/unclosed-fence", test_unclosed_fence);
  g_test_add_func ("/natter/markdown/streaming/utf8-split", test_utf8_split);
  g_test_add_func ("/natter/markdown/streaming/incremental", test_incremental);
  g_test_add_func ("/natter/markdown/streaming/stable-advances", test_stable_advances);
  g_test_add_func ("/natter/markdown/large/paragraphs", test_large);
  g_test_add_func ("/natter/markdown/large/code-block", test_large_code_block);

  return g_test_run ();
}
