/* natter-message-row.c — one message in the conversation view
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * While an answer streams, each delta only appends to what is shown: the
 * text is collected until the next frame and then handed to the markdown
 * renderer, which re-renders the open block only. Nothing here grows with
 * the length of the message or of the conversation.
 *
 * A long answer is shown in several text views, "pages" of about
 * PAGE_BYTES of Markdown each, cut where the renderer cuts its chunks, so
 * that the text reads as one. GTK 4.8 draws every line of a text view
 * whenever it changes, and keeps the layout of only 250 lines between
 * frames: with one view, each frame of a streaming answer cost as much as
 * the whole answer (44 ms of a 60 Hz frame's 16 at 200 kB). Only the last
 * page changes as the answer grows; the others keep what they drew. And
 * since GTK 4.8's renderer draws every text node of the window each frame,
 * seen or not, pages away from the scrolled view are not drawn at all.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "natter-error-text.h"
#include "natter-markdown-renderer.h"
#include "natter-message-row.h"

/* Small enough that a page's lines fit GTK's layout cache and that
 * starting a page (its text rendered again without the open chunk, a new
 * view laid out) stays well within a frame; large enough that a 1 MB answer
 * takes a few hundred views, not thousands. */
#define PAGE_BYTES 4096

/* Pages after the first go in boxes of PAGES_PER_VOLUME, "volumes": each
 * frame of a streaming answer lays the row out again, and the row's box
 * then goes over its few volumes, not over every page. */
#define PAGES_PER_VOLUME 16

typedef struct {
  NatterMessageRow       *row;
  GtkWidget              *view;
  NatterMarkdownRenderer *markdown;
} Page;

struct _NatterMessageRow
{
  GtkWidget               parent_instance;

  GtkWidget              *bubble;
  GtkWidget              *role_label;
  GtkWidget              *spinner;
  GtkWidget              *edit_button;
  GtkWidget              *reasoning_expander;
  GtkWidget              *reasoning_view;
  GtkWidget              *content_view;
  GtkWidget              *status_label;
  GtkWidget              *error_box;
  GtkWidget              *error_label;
  GtkWidget              *hint_label;
  GtkWidget              *retry_button;
  GtkWidget              *stats_label;

  NatterMessage          *message;
  GPtrArray              *pages;   /* of Page; the first shows content_view */
  GPtrArray              *volumes; /* the boxes of the other pages */
  GtkAdjustment          *vadjustment;  /* of the view scrolling us, with pages */
  guint                   visibility_tick_id;
  char                   *base_url;
  GString                *pending_content;
  GString                *pending_reasoning;
  guint                   flush_tick_id;
  guint                   flush_timeout_id;
  gint64                  frame_flush_us;         /* the last flush at a frame */
  gboolean                flushed_between_frames; /* since that one */
  guint                   countdown_id;
  gint64                  retry_deadline_us;
};

G_DEFINE_FINAL_TYPE (NatterMessageRow, natter_message_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_MESSAGE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  EDIT_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GtkTextBuffer *
content_buffer (NatterMessageRow *self)
{
  return gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->content_view));
}

static GtkTextBuffer *
reasoning_buffer (NatterMessageRow *self)
{
  return gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->reasoning_view));
}

static gboolean
is_assistant (NatterMessageRow *self)
{
  return self->message != NULL && natter_message_get_role (self->message) == NATTER_ROLE_ASSISTANT;
}

static gboolean
is_streaming (NatterMessageRow *self)
{
  return self->message != NULL &&
         natter_message_get_state (self->message) == NATTER_MESSAGE_STATE_STREAMING;
}

/* --- Pages ----------------------------------------------------------------- */

static void code_block_added_cb (NatterMarkdownRenderer *markdown,
                                 GtkTextChildAnchor     *anchor,
                                 const char             *language,
                                 const char             *code,
                                 Page                   *page);
static void link_released_cb    (GtkGestureClick        *gesture,
                                 int                     n_press,
                                 double                  x,
                                 double                  y,
                                 Page                   *page);
static gboolean query_tooltip_cb (GtkWidget             *view,
                                  int                    x,
                                  int                    y,
                                  gboolean               keyboard,
                                  GtkTooltip            *tooltip,
                                  Page                  *page);

static void
page_free (gpointer data)
{
  Page *page = data;

  g_clear_object (&page->markdown);
  g_free (page);
}

static Page *
add_page (NatterMessageRow *self,
          GtkWidget        *view)
{
  Page *page = g_new0 (Page, 1);
  GtkGesture *click = gtk_gesture_click_new ();

  page->row = self;
  page->view = view;
  page->markdown = natter_markdown_renderer_new (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)));
  g_signal_connect (page->markdown, "code-block-added", G_CALLBACK (code_block_added_cb), page);
  g_signal_connect (click, "released", G_CALLBACK (link_released_cb), page);
  gtk_widget_add_controller (view, GTK_EVENT_CONTROLLER (click));
  g_signal_connect (view, "query-tooltip", G_CALLBACK (query_tooltip_cb), page);
  g_ptr_array_add (self->pages, page);
  return page;
}

static Page *
last_page (NatterMessageRow *self)
{
  return g_ptr_array_index (self->pages, self->pages->len - 1);
}

/* --- Drawing only the pages near the view ------------------------------------ */

static gboolean
is_near (GtkWidget             *widget,
         GtkWidget             *bubble,
         const graphene_rect_t *near)
{
  graphene_rect_t bounds;

  return near == NULL || !gtk_widget_compute_bounds (widget, bubble, &bounds) ||
         graphene_rect_intersection (near, &bounds, NULL);
}

/* Pages more than a view's height away from it are not drawn; they keep
 * their place, and are drawn again before they scroll into view. */
static void
update_page_visibility (NatterMessageRow *self)
{
  GtkWidget *scroller = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_SCROLLED_WINDOW);
  graphene_rect_t near;
  gboolean known = scroller != NULL && gtk_widget_compute_bounds (scroller, self->bubble, &near);

  near.origin.y -= near.size.height;
  near.size.height *= 3;
  for (guint i = 0; i < self->volumes->len; i++)
    gtk_widget_set_child_visible (g_ptr_array_index (self->volumes, i), is_near (g_ptr_array_index (self->volumes, i),
                                                                                 self->bubble, known ? &near : NULL));
  for (guint i = 0; i < self->pages->len; i++)
    {
      GtkWidget *view = ((Page *) g_ptr_array_index (self->pages, i))->view;

      if (gtk_widget_get_child_visible (gtk_widget_get_parent (view)))
        gtk_widget_set_child_visible (view, is_near (view, self->bubble, known ? &near : NULL));
    }
}

static gboolean
visibility_tick_cb (GtkWidget     *widget,
                    GdkFrameClock *clock,
                    gpointer       user_data)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);

  self->visibility_tick_id = 0;
  update_page_visibility (self);
  return G_SOURCE_REMOVE;
}

/* The scroll position is set while the view allocates its rows: the
 * pages' places are known at the next frame. */
static void
scrolled_cb (NatterMessageRow *self)
{
  if (self->visibility_tick_id == 0)
    self->visibility_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), visibility_tick_cb, NULL, NULL);
}

static void
watch_scrolling (NatterMessageRow *self)
{
  GtkWidget *scroller = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_SCROLLED_WINDOW);

  if (self->vadjustment != NULL || scroller == NULL)
    return;
  self->vadjustment = g_object_ref (gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller)));
  g_signal_connect_swapped (self->vadjustment, "value-changed", G_CALLBACK (scrolled_cb), self);
  g_signal_connect_swapped (self->vadjustment, "changed", G_CALLBACK (scrolled_cb), self);
}

static void
unwatch_scrolling (NatterMessageRow *self)
{
  if (self->vadjustment != NULL)
    g_signal_handlers_disconnect_by_data (self->vadjustment, self);
  g_clear_object (&self->vadjustment);
  if (self->visibility_tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->visibility_tick_id);
  self->visibility_tick_id = 0;
}

/* The blank line that separates two blocks in a view is left out where a
 * page ends, the next starting with the next block: the space between the
 * views stands for it. */
static int
blank_line_height (NatterMessageRow *self)
{
  PangoContext *context = gtk_widget_get_pango_context (self->content_view);
  PangoFontMetrics *metrics = pango_context_get_metrics (context, NULL, NULL);
  int height = PANGO_PIXELS (pango_font_metrics_get_height (metrics));

  pango_font_metrics_unref (metrics);
  return MAX (height - gtk_box_get_spacing (GTK_BOX (self->bubble)), 0);
}

/* A view like the first one, after the last. */
static Page *
add_page_view (NatterMessageRow *self)
{
  GtkWidget *view = gtk_text_view_new ();

  gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_cursor_visible (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_widget_set_has_tooltip (view, TRUE);
  gtk_widget_add_css_class (view, "content");
  gtk_widget_set_margin_top (view, blank_line_height (self));
  gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Answer"), -1);
  if ((self->pages->len - 1) % PAGES_PER_VOLUME == 0)
    {
      GtkWidget *volume = gtk_box_new (GTK_ORIENTATION_VERTICAL, gtk_box_get_spacing (GTK_BOX (self->bubble)));
      GtkWidget *after = self->volumes->len > 0 ? g_ptr_array_index (self->volumes, self->volumes->len - 1)
                                                : self->content_view;

      gtk_box_insert_child_after (GTK_BOX (self->bubble), volume, after);
      g_ptr_array_add (self->volumes, volume);
    }
  gtk_box_append (GTK_BOX (g_ptr_array_index (self->volumes, self->volumes->len - 1)), view);
  watch_scrolling (self);
  scrolled_cb (self);
  return add_page (self, view);
}

/* Back to the first page alone. */
static void
remove_pages (NatterMessageRow *self)
{
  unwatch_scrolling (self);
  gtk_widget_set_child_visible (self->content_view, TRUE);
  g_ptr_array_set_size (self->pages, 1);
  for (guint i = 0; i < self->volumes->len; i++)
    gtk_box_remove (GTK_BOX (self->bubble), g_ptr_array_index (self->volumes, i));
  g_ptr_array_set_size (self->volumes, 0);
}

/* Once the last page has PAGE_BYTES rendered for good, its open chunk
 * moves to a new page; what the last page shows stays as it is. */
static void
turn_page_if_full (NatterMessageRow *self)
{
  Page *page = last_page (self);
  g_autofree char *open = NULL;

  if (natter_markdown_renderer_get_stable_length (page->markdown) < PAGE_BYTES)
    return;
  open = natter_markdown_renderer_take_open_chunk (page->markdown);
  natter_markdown_renderer_append (add_page_view (self)->markdown, open);
}

static void
append_markdown (NatterMessageRow *self,
                 const char       *text)
{
  natter_markdown_renderer_append (last_page (self)->markdown, text);
  turn_page_if_full (self);
}

/* The whole answer, in pages; fed in pieces, so that each page is cut as
 * it would be while streaming. */
static void
show_markdown (NatterMessageRow *self,
               const char       *markdown)
{
  gsize length = markdown != NULL ? strlen (markdown) : 0;

  remove_pages (self);
  if (length <= PAGE_BYTES)
    {
      natter_markdown_renderer_set_text (last_page (self)->markdown, markdown);
      return;
    }
  natter_markdown_renderer_set_text (last_page (self)->markdown, NULL);
  for (gsize done = 0; done < length; done += PAGE_BYTES / 4)
    {
      g_autofree char *piece = g_strndup (markdown + done, PAGE_BYTES / 4);

      append_markdown (self, piece);
    }
  natter_markdown_renderer_finish (last_page (self)->markdown);
}

/* --- Streaming text, one frame at a time ------------------------------- */

static void
append_reasoning_text (NatterMessageRow *self,
                       const char       *text,
                       gssize            len)
{
  GtkTextIter end;

  gtk_text_buffer_get_end_iter (reasoning_buffer (self), &end);
  gtk_text_buffer_insert (reasoning_buffer (self), &end, text, len);
  gtk_widget_set_visible (self->reasoning_expander, TRUE);
}

/* Text that arrives between two frames is added to the buffer together,
 * at the next frame. So that none of it waits a whole frame, it is also
 * added once half-way between two frames (of a 60 Hz display): the open
 * Markdown block is rendered at most twice a frame, and no text waits much
 * more than 8 ms to be in the buffer. */
#define HALF_FRAME_US 8000

/**
 * natter_message_row_flush:
 *
 * Shows the text received since the last frame now, without waiting.
 */
void
natter_message_row_flush (NatterMessageRow *self)
{
  g_return_if_fail (NATTER_IS_MESSAGE_ROW (self));

  g_clear_handle_id (&self->flush_timeout_id, g_source_remove);
  if (self->pending_reasoning->len > 0)
    append_reasoning_text (self, self->pending_reasoning->str, self->pending_reasoning->len);
  if (self->pending_content->len > 0)
    append_markdown (self, self->pending_content->str);
  g_string_truncate (self->pending_reasoning, 0);
  g_string_truncate (self->pending_content, 0);
}

static gboolean
flush_tick_cb (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       user_data)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (widget);

  natter_message_row_flush (self);
  self->flush_tick_id = 0;
  self->frame_flush_us = g_get_monotonic_time ();
  self->flushed_between_frames = FALSE;
  return G_SOURCE_REMOVE;
}

static gboolean
half_frame_cb (gpointer user_data)
{
  NatterMessageRow *self = user_data;

  self->flush_timeout_id = 0;
  self->flushed_between_frames = TRUE;
  natter_message_row_flush (self);
  return G_SOURCE_REMOVE;
}

/* Many deltas can arrive between two frames; they are shown together. An
 * unmapped row (scrolled away, or in a test without a frame clock) has no
 * ticks, so it is brought up to date at once. */
static void
schedule_flush (NatterMessageRow *self)
{
  gint64 wait_us;

  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      natter_message_row_flush (self);
      return;
    }
  if (self->flush_tick_id == 0)
    self->flush_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), flush_tick_cb, NULL, NULL);
  if (self->flush_timeout_id != 0 || self->flushed_between_frames)
    return;
  wait_us = self->frame_flush_us + HALF_FRAME_US - g_get_monotonic_time ();
  if (wait_us > 0)
    self->flush_timeout_id = g_timeout_add ((wait_us + 999) / 1000, half_frame_cb, self);
  else
    half_frame_cb (self);
}

static void
content_appended_cb (NatterMessageRow *self,
                     guint             offset,
                     const char       *text)
{
  g_string_append (self->pending_content, text);
  schedule_flush (self);
}

static void
reasoning_appended_cb (NatterMessageRow *self,
                       guint             offset,
                       const char       *text)
{
  g_string_append (self->pending_reasoning, text);
  schedule_flush (self);
}

/* --- Status, errors, statistics ----------------------------------------- */

static gboolean
countdown_cb (gpointer user_data);

static void
update_countdown (NatterMessageRow *self)
{
  gint64 left_us = self->retry_deadline_us - g_get_monotonic_time ();
  g_autofree char *text = NULL;

  if (left_us > 0)
    {
      guint seconds = (guint) ((left_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
      text = g_strdup_printf (ngettext ("Retrying in %u second…", "Retrying in %u seconds…", seconds),
                              seconds);
    }
  else
    text = g_strdup (_("Retrying…"));
  gtk_label_set_text (GTK_LABEL (self->status_label), text);
  gtk_widget_set_visible (self->status_label, TRUE);
}

static gboolean
countdown_cb (gpointer user_data)
{
  update_countdown (user_data);
  return G_SOURCE_CONTINUE;
}

static void
retry_delay_changed_cb (NatterMessageRow *self)
{
  guint delay_ms = natter_message_get_retry_delay_ms (self->message);

  g_clear_handle_id (&self->countdown_id, g_source_remove);
  if (delay_ms == 0)
    {
      gtk_widget_set_visible (self->status_label, FALSE);
      return;
    }
  self->retry_deadline_us = g_get_monotonic_time () + (gint64) delay_ms * 1000;
  update_countdown (self);
  self->countdown_id = g_timeout_add (250, countdown_cb, self);
}

/* "model · first token 0.42 s · 35.2 tokens/s · 512 tokens · 12.3 s · stop",
 * leaving out what the provider did not tell. */
static char *
format_stats (NatterMessage *message)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_null_terminated (6, g_free, TRUE);
  gint64 ttft = natter_message_get_ttft_us (message);
  gint64 duration = natter_message_get_duration_us (message);
  gint64 tokens = natter_message_get_completion_tokens (message);

  if (natter_message_get_model (message) != NULL)
    g_ptr_array_add (parts, g_strdup (natter_message_get_model (message)));
  if (ttft >= 0)
    g_ptr_array_add (parts, g_strdup_printf (_("first token %.2f s"), ttft / 1e6));
  if (tokens > 0 && ttft >= 0 && duration > ttft)
    g_ptr_array_add (parts, g_strdup_printf (_("%.1f tokens/s"), tokens / ((duration - ttft) / 1e6)));
  if (tokens >= 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%lld token", "%lld tokens", tokens),
                                             (long long) tokens));
  if (duration >= 0)
    g_ptr_array_add (parts, g_strdup_printf (_("%.1f s"), duration / 1e6));
  if (natter_message_get_finish_reason (message) != NULL)
    g_ptr_array_add (parts, g_strdup (natter_message_get_finish_reason (message)));

  return g_strjoinv (" · ", (char **) parts->pdata);
}

static void
update_stats (NatterMessageRow *self)
{
  g_autofree char *stats = NULL;
  NatterMessageState state = self->message != NULL ? natter_message_get_state (self->message)
                                                   : NATTER_MESSAGE_STATE_STREAMING;
  gboolean show = is_assistant (self) &&
                  (state == NATTER_MESSAGE_STATE_COMPLETE || state == NATTER_MESSAGE_STATE_STOPPED);

  if (show)
    {
      stats = format_stats (self->message);
      show = *stats != '\0';
      gtk_label_set_text (GTK_LABEL (self->stats_label), stats);
    }
  gtk_widget_set_visible (self->stats_label, show);
}

static void
update_error (NatterMessageRow *self)
{
  const GError *error = self->message != NULL ? natter_message_get_error (self->message) : NULL;
  g_autofree char *hint = NULL;

  /* Only rows that show an error observe win.retry: with thousands of rows,
   * every observer would be told each time the action changes. */
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->retry_button), error != NULL ? "win.retry" : NULL);
  gtk_widget_set_visible (self->error_box, error != NULL);
  if (error == NULL)
    return;

  hint = natter_error_text_hint (error, self->base_url);
  gtk_label_set_text (GTK_LABEL (self->error_label), error->message);
  gtk_label_set_text (GTK_LABEL (self->hint_label), hint != NULL ? hint : "");
  gtk_widget_set_visible (self->hint_label, hint != NULL);
}

static const char *
state_text (NatterMessageState state)
{
  switch (state)
    {
    case NATTER_MESSAGE_STATE_STOPPED:
      /* Translators: an answer the user stopped before it ended */
      return _("Stopped");
    case NATTER_MESSAGE_STATE_INTERRUPTED:
      /* Translators: an answer cut off when Natter quit or crashed */
      return _("Interrupted");
    default:
      return NULL;
    }
}

static void
update_state (NatterMessageRow *self)
{
  NatterMessageState state = natter_message_get_state (self->message);
  const char *text = state_text (state);
  gboolean streaming = state == NATTER_MESSAGE_STATE_STREAMING;

  gtk_widget_set_visible (self->spinner, streaming);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), streaming);
  if (!streaming)
    {
      natter_message_row_flush (self);
      if (is_assistant (self))
        natter_markdown_renderer_finish (last_page (self)->markdown);
      g_clear_handle_id (&self->countdown_id, g_source_remove);
    }
  gtk_label_set_text (GTK_LABEL (self->status_label), text != NULL ? text : "");
  gtk_widget_set_visible (self->status_label, text != NULL);
  /* A failed answer with no text shows just its error, no empty line. */
  gtk_widget_set_visible (self->content_view, streaming || natter_message_get_content_length (self->message) > 0);
  update_error (self);
  update_stats (self);
}

/* --- Code blocks and links ------------------------------------------------ */

static void
copy_clicked_cb (GtkButton *button)
{
  const char *code = g_object_get_data (G_OBJECT (button), "natter-code");

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), code);
  gtk_button_set_label (button, _("Copied"));
}

static void
code_block_added_cb (NatterMarkdownRenderer *markdown,
                     GtkTextChildAnchor     *anchor,
                     const char             *language,
                     const char             *code,
                     Page                   *page)
{
  GtkWidget *button = gtk_button_new_with_label (_("Copy"));

  g_object_set_data_full (G_OBJECT (button), "natter-code", g_strdup (code), g_free);
  gtk_widget_set_tooltip_text (button, _("Copy the code"));
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_add_css_class (button, "copy-code");
  g_signal_connect (button, "clicked", G_CALLBACK (copy_clicked_cb), NULL);
  gtk_text_view_add_child_at_anchor (GTK_TEXT_VIEW (page->view), button, anchor);
}

static const char *
link_at (Page   *page,
         double  x,
         double  y)
{
  GtkTextIter iter;
  int bx, by;

  if (!is_assistant (page->row))
    return NULL;
  gtk_text_view_window_to_buffer_coords (GTK_TEXT_VIEW (page->view), GTK_TEXT_WINDOW_WIDGET,
                                         (int) x, (int) y, &bx, &by);
  if (!gtk_text_view_get_iter_at_location (GTK_TEXT_VIEW (page->view), &iter, bx, by))
    return NULL;
  return natter_markdown_renderer_get_link_at_iter (page->markdown, &iter);
}

/* Links open on a click only, and their target is shown before, on hover. */
static void
link_released_cb (GtkGestureClick *gesture,
                  int              n_press,
                  double           x,
                  double           y,
                  Page            *page)
{
  const char *href = link_at (page, x, y);
  GtkRoot *root = gtk_widget_get_root (page->view);

  if (href != NULL && n_press == 1)
    gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, href, GDK_CURRENT_TIME);
}

static gboolean
query_tooltip_cb (GtkWidget  *view,
                  int         x,
                  int         y,
                  gboolean    keyboard,
                  GtkTooltip *tooltip,
                  Page       *page)
{
  const char *href = keyboard ? NULL : link_at (page, x, y);

  if (href == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, href);
  return TRUE;
}

static void
edit_clicked_cb (NatterMessageRow *self)
{
  g_signal_emit (self, signals[EDIT_REQUESTED], 0);
}

/* --- The message ---------------------------------------------------------- */

static void
show_whole_message (NatterMessageRow *self)
{
  const char *reasoning = natter_message_get_reasoning (self->message);
  gboolean assistant = is_assistant (self);

  gtk_label_set_text (GTK_LABEL (self->role_label), assistant ? _("Assistant") : _("You"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->content_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  assistant ? _("Answer") : _("Your message"), -1);
  gtk_widget_set_visible (self->edit_button, !assistant);
  gtk_widget_set_css_classes (self->bubble, (const char *[]) {
                                "message", assistant ? "assistant" : "user", NULL });

  if (assistant)
    show_markdown (self, natter_message_get_content (self->message));
  else
    {
      remove_pages (self);
      gtk_text_buffer_set_text (content_buffer (self), natter_message_get_content (self->message), -1);
    }

  gtk_text_buffer_set_text (reasoning_buffer (self), reasoning != NULL ? reasoning : "", -1);
  gtk_widget_set_visible (self->reasoning_expander, reasoning != NULL && *reasoning != '\0');
  gtk_expander_set_expanded (GTK_EXPANDER (self->reasoning_expander), is_streaming (self));
  retry_delay_changed_cb (self);
  update_state (self);
}

static void
connect_message (NatterMessageRow *self)
{
  g_signal_connect_swapped (self->message, "content-appended", G_CALLBACK (content_appended_cb), self);
  g_signal_connect_swapped (self->message, "reasoning-appended", G_CALLBACK (reasoning_appended_cb), self);
  g_signal_connect_swapped (self->message, "notify::content", G_CALLBACK (show_whole_message), self);
  g_signal_connect_swapped (self->message, "notify::state", G_CALLBACK (update_state), self);
  g_signal_connect_swapped (self->message, "notify::error", G_CALLBACK (update_error), self);
  g_signal_connect_swapped (self->message, "notify::retry-delay-ms", G_CALLBACK (retry_delay_changed_cb), self);
  g_signal_connect_swapped (self->message, "notify::duration-us", G_CALLBACK (update_stats), self);
  g_signal_connect_swapped (self->message, "notify::completion-tokens", G_CALLBACK (update_stats), self);
}

static void
disconnect_message (NatterMessageRow *self)
{
  if (self->message == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->message, self);
  if (self->flush_tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->flush_tick_id);
  self->flush_tick_id = 0;
  g_clear_handle_id (&self->flush_timeout_id, g_source_remove);
  g_clear_handle_id (&self->countdown_id, g_source_remove);
  g_string_truncate (self->pending_content, 0);
  g_string_truncate (self->pending_reasoning, 0);
  g_clear_object (&self->message);
}

/**
 * natter_message_row_set_message:
 * @message: (nullable): the message to show
 */
void
natter_message_row_set_message (NatterMessageRow *self,
                                NatterMessage    *message)
{
  g_return_if_fail (NATTER_IS_MESSAGE_ROW (self));

  if (self->message == message)
    return;
  disconnect_message (self);
  if (message != NULL)
    {
      self->message = g_object_ref (message);
      show_whole_message (self);
      connect_message (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
}

/* --- GObject ------------------------------------------------------------- */

static void
natter_message_row_dispose (GObject *object)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (object);

  disconnect_message (self);
  unwatch_scrolling (self);
  g_clear_pointer (&self->pages, g_ptr_array_unref);
  g_clear_pointer (&self->volumes, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_MESSAGE_ROW);

  G_OBJECT_CLASS (natter_message_row_parent_class)->dispose (object);
}

static void
natter_message_row_finalize (GObject *object)
{
  NatterMessageRow *self = NATTER_MESSAGE_ROW (object);

  g_free (self->base_url);
  g_string_free (self->pending_content, TRUE);
  g_string_free (self->pending_reasoning, TRUE);

  G_OBJECT_CLASS (natter_message_row_parent_class)->finalize (object);
}

static void
natter_message_row_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_MESSAGE:
      g_value_set_object (value, NATTER_MESSAGE_ROW (object)->message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_message_row_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_MESSAGE:
      natter_message_row_set_message (NATTER_MESSAGE_ROW (object), g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_message_row_class_init (NatterMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_message_row_dispose;
  object_class->finalize = natter_message_row_finalize;
  object_class->get_property = natter_message_row_get_property;
  object_class->set_property = natter_message_row_set_property;

  properties[PROP_MESSAGE] =
    g_param_spec_object ("message", NULL, NULL, NATTER_TYPE_MESSAGE,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The user pressed Edit on their message. */
  signals[EDIT_REQUESTED] =
    g_signal_new ("edit-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, bubble);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, role_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, spinner);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, edit_button);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, reasoning_expander);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, reasoning_view);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, content_view);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, status_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, error_box);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, error_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, hint_label);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, retry_button);
  gtk_widget_class_bind_template_child (widget_class, NatterMessageRow, stats_label);
  gtk_widget_class_set_css_name (widget_class, "messagerow");
}

static void
natter_message_row_init (NatterMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->pending_content = g_string_new (NULL);
  self->pending_reasoning = g_string_new (NULL);
  self->pages = g_ptr_array_new_with_free_func (page_free);
  self->volumes = g_ptr_array_new ();
  add_page (self, self->content_view);

  g_signal_connect_swapped (self->edit_button, "clicked", G_CALLBACK (edit_clicked_cb), self);
}

GtkWidget *
natter_message_row_new (void)
{
  return g_object_new (NATTER_TYPE_MESSAGE_ROW, NULL);
}

/**
 * natter_message_row_get_message:
 *
 * Returns: (transfer none) (nullable): the message shown
 */
NatterMessage *
natter_message_row_get_message (NatterMessageRow *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_ROW (self), NULL);
  return self->message;
}

/* The provider's base URL makes some hints more precise. */
void
natter_message_row_set_base_url (NatterMessageRow *self,
                                 const char       *base_url)
{
  g_return_if_fail (NATTER_IS_MESSAGE_ROW (self));

  g_free (self->base_url);
  self->base_url = g_strdup (base_url);
}

/* Returns: (transfer none): what the answer's text view shows; for an
 * answer long enough to take several pages, the first page */
GtkTextBuffer *
natter_message_row_get_content_buffer (NatterMessageRow *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_ROW (self), NULL);
  return content_buffer (self);
}

/* Returns: (transfer none): what the Thinking section shows */
GtkTextBuffer *
natter_message_row_get_reasoning_buffer (NatterMessageRow *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE_ROW (self), NULL);
  return reasoning_buffer (self);
}
