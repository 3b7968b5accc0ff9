/* natter-markdown-renderer.h — Markdown into a GtkTextBuffer, as it streams
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define NATTER_TYPE_MARKDOWN_RENDERER (natter_markdown_renderer_get_type ())
G_DECLARE_FINAL_TYPE (NatterMarkdownRenderer, natter_markdown_renderer, NATTER, MARKDOWN_RENDERER, GObject)

NatterMarkdownRenderer *natter_markdown_renderer_new               (GtkTextBuffer          *buffer);
GtkTextBuffer          *natter_markdown_renderer_get_buffer        (NatterMarkdownRenderer *self);
void                    natter_markdown_renderer_set_text          (NatterMarkdownRenderer *self,
                                                                    const char             *markdown);
void                    natter_markdown_renderer_append            (NatterMarkdownRenderer *self,
                                                                    const char             *text);
void                    natter_markdown_renderer_finish            (NatterMarkdownRenderer *self);
const char             *natter_markdown_renderer_get_source        (NatterMarkdownRenderer *self);
const char             *natter_markdown_renderer_get_link_at_iter  (NatterMarkdownRenderer *self,
                                                                    const GtkTextIter      *iter);
int                     natter_markdown_renderer_get_stable_offset (NatterMarkdownRenderer *self);
gsize                   natter_markdown_renderer_get_stable_length (NatterMarkdownRenderer *self);
char                   *natter_markdown_renderer_take_open_chunk   (NatterMarkdownRenderer *self);

G_END_DECLS
