/* test-key-hygiene-ui.c — answers fetch nothing and open links only on a click
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An answer is text from a server we do not control. Showing it must not
 * make a request: an image (Markdown or HTML) would tell its server that,
 * when and from where the answer was read. A link opens only when the user
 * clicks it, and its target is shown first, on hover.
 *
 * The images and links point at a loopback server that counts requests.
 * Opening a link would start a browser, so gtk_show_uri() is replaced by
 * one that only records the call, and gtk_tooltip_set_text() by one that
 * records the text too, then shows it: the message row reaches both through
 * the dynamic linker, which takes these definitions in the test program
 * first.
 */
#define _GNU_SOURCE
#include <dlfcn.h>

#include <adwaita.h>
#include <libsoup/soup.h>
#include <string.h>

#include "natter-message-row.h"
#include "natter-test-util.h"

/* --- Recording GTK calls ------------------------------------------------------ */

static GPtrArray *opened_uris;
static GPtrArray *tooltip_texts;

void
gtk_show_uri (GtkWindow  *parent,
              const char *uri,
              guint32     timestamp)
{
  g_ptr_array_add (opened_uris, g_strdup (uri));
}

void
gtk_tooltip_set_text (GtkTooltip *tooltip,
                      const char *text)
{
  static void (*real_set_text) (GtkTooltip *, const char *);

  if (real_set_text == NULL)
    real_set_text = (void (*) (GtkTooltip *, const char *)) dlsym (RTLD_NEXT, "gtk_tooltip_set_text");
  g_assert_nonnull (real_set_text);
  g_ptr_array_add (tooltip_texts, g_strdup (text));
  real_set_text (tooltip, text);
}

/* --- A server for images and links -------------------------------------------- */

typedef struct {
  SoupServer *server;
  guint       port;
  GPtrArray  *paths;      /* of every request */
} Server;

static void
server_handler (SoupServer        *soup_server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  Server *server = user_data;

  g_ptr_array_add (server->paths, g_strdup (path));
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "image/png", SOUP_MEMORY_STATIC, "", 0);
}

static void
server_start (Server *server)
{
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;

  server->server = soup_server_new (NULL, NULL);
  server->paths = g_ptr_array_new_with_free_func (g_free);
  soup_server_add_handler (server->server, NULL, server_handler, server, NULL);
  g_assert_true (soup_server_listen_local (server->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server->server);
  server->port = g_uri_get_port (uris->data);
}

static void
server_stop (Server *server)
{
  soup_server_disconnect (server->server);
  g_clear_object (&server->server);
  g_ptr_array_unref (server->paths);
}

static void
assert_no_request (Server *server)
{
  for (guint i = 0; i < server->paths->len; i++)
    g_test_message ("request: %s", (char *) g_ptr_array_index (server->paths, i));
  g_assert_cmpuint (server->paths->len, ==, 0);
}

/* --- Helpers -------------------------------------------------------------------- */

static GtkTextView *
find_text_view (GtkWidget     *widget,
                GtkTextBuffer *buffer)
{
  if (GTK_IS_TEXT_VIEW (widget) && gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget)) == buffer)
    return GTK_TEXT_VIEW (widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkTextView *view = find_text_view (child, buffer);

      if (view != NULL)
        return view;
    }
  return NULL;
}

/* Where, in the view's widget coordinates, the @offset-th character of the
 * first @text of the buffer is drawn. */
static void
point_at_text (GtkTextView *view,
               const char  *text,
               int          offset,
               double      *x,
               double      *y)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start, match;
  GdkRectangle location;
  int wx, wy;

  gtk_text_buffer_get_start_iter (buffer, &start);
  g_assert_true (gtk_text_iter_forward_search (&start, text, 0, &match, NULL, NULL));
  gtk_text_iter_forward_chars (&match, offset);
  gtk_text_view_get_iter_location (view, &match, &location);
  gtk_text_view_buffer_to_window_coords (view, GTK_TEXT_WINDOW_WIDGET,
                                         location.x + location.width / 2,
                                         location.y + location.height / 2, &wx, &wy);
  *x = wx;
  *y = wy;
}

/* What a hover at (@x, @y) shows, as GTK asks for it; NULL for nothing. */
static char *
hover (GtkTextView *view,
       double       x,
       double       y)
{
  g_autoptr(GtkTooltip) tooltip = g_object_new (GTK_TYPE_TOOLTIP, NULL);
  gboolean shown = FALSE;

  g_ptr_array_set_size (tooltip_texts, 0);
  g_signal_emit_by_name (view, "query-tooltip", (int) x, (int) y, FALSE, tooltip, &shown);
  if (!shown)
    return NULL;
  g_assert_cmpuint (tooltip_texts->len, ==, 1);
  return g_strdup (g_ptr_array_index (tooltip_texts, 0));
}

/* The click gesture of the row on the view: the one with a "released"
 * handler (the view's own gestures act on "pressed"). */
static GtkGesture *
link_gesture (GtkTextView *view)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (view));
  guint released = g_signal_lookup ("released", GTK_TYPE_GESTURE_CLICK);
  GtkGesture *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_CLICK (controller) &&
          g_signal_has_handler_pending (controller, released, 0, FALSE))
        {
          g_assert_null (found);
          found = GTK_GESTURE (controller);
        }
    }
  g_assert_nonnull (found);
  return found;
}

/* --- The test -------------------------------------------------------------------- */

typedef struct {
  Server            server;
  GtkWindow        *window;
  NatterMessageRow *row;
  NatterMessage    *message;
  GtkTextView      *view;
  char             *origin;     /* http://127.0.0.1:PORT */
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  server_start (&f->server);
  f->origin = g_strdup_printf ("http://127.0.0.1:%u", f->server.port);
  g_ptr_array_set_size (opened_uris, 0);

  f->message = natter_message_new (NATTER_ROLE_ASSISTANT, NULL);
  natter_message_set_state (f->message, NATTER_MESSAGE_STATE_STREAMING);
  f->row = NATTER_MESSAGE_ROW (natter_message_row_new ());
  natter_message_row_set_message (f->row, f->message);

  f->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (f->window, 900, 700);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (f->row));
  gtk_window_set_child (f->window, scrolled);
  gtk_window_present (f->window);
  f->view = find_text_view (GTK_WIDGET (f->row), natter_message_row_get_content_buffer (f->row));
  g_assert_nonnull (f->view);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gtk_window_destroy (f->window);
  natter_test_iterate_for (50);
  g_object_unref (f->message);
  server_stop (&f->server);
  g_free (f->origin);
}

/* Streams @markdown in small pieces, as an answer arrives, then ends it. */
static void
stream_answer (Fixture    *f,
               const char *markdown)
{
  gsize length = strlen (markdown);

  for (gsize i = 0; i < length; )
    {
      gsize n = MIN (7, length - i);
      g_autofree char *piece = NULL;

      /* Never inside a character. */
      while (i + n < length && (markdown[i + n] & 0xC0) == 0x80)
        n++;
      piece = g_strndup (markdown + i, n);
      natter_message_append_content (f->message, piece);
      i += n;
      natter_test_iterate_for (2);
    }
  natter_message_set_state (f->message, NATTER_MESSAGE_STATE_COMPLETE);
  natter_message_row_flush (f->row);
}

static char *
buffer_text (GtkTextBuffer *buffer)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
test_no_fetch_on_render (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *markdown = NULL;
  g_autofree char *text = NULL;

  markdown = g_strdup_printf ("Here is a diagram: ![the diagram](%1$s/img.png \"Diagram\")\n\n"
                              "And one in HTML: <img src=\"%1$s/raw.png\" alt=\"raw\"> inline.\n\n"
                              "<img src=\"%1$s/block.png\">\n\n"
                              "[![a badge](%1$s/badge.png)](%1$s/badge-target)\n\n"
                              "![ref image][logo]\n\n"
                              "[logo]: %1$s/logo.png\n\n"
                              "Read [the docs](%1$s/docs) or %1$s/auto.\n",
                              f->origin);
  stream_answer (f, markdown);
  /* Long enough for any loader to have started. */
  natter_test_iterate_for (1500);

  text = buffer_text (natter_message_row_get_content_buffer (f->row));
  g_test_message ("shown: %s", text);
  /* The image is shown by its alt text. */
  g_assert_nonnull (strstr (text, "the diagram"));
  g_assert_nonnull (strstr (text, "the docs"));
  assert_no_request (&f->server);
  g_assert_cmpuint (opened_uris->len, ==, 0);

  /* Showing the whole message again, as on a restart, fetches nothing
   * either. */
  natter_message_row_set_message (f->row, NULL);
  natter_message_row_set_message (f->row, f->message);
  natter_test_iterate_for (500);
  assert_no_request (&f->server);
  g_assert_cmpuint (opened_uris->len, ==, 0);
}

static void
test_link_shown_then_opened_on_click (Fixture       *f,
                                      gconstpointer  data)
{
  g_autofree char *markdown = g_strdup_printf ("Read [the docs](%1$s/docs) first.\n", f->origin);
  g_autofree char *docs = g_strdup_printf ("%s/docs", f->origin);
  g_autofree char *on_link = NULL;
  g_autofree char *off_link = NULL;
  GtkGesture *gesture;
  double x, y, plain_x, plain_y;

  stream_answer (f, markdown);
  natter_test_iterate_for (200);
  point_at_text (f->view, "the docs", 3, &x, &y);
  point_at_text (f->view, "first", 1, &plain_x, &plain_y);

  /* Hovering shows where the link goes, and opens nothing. */
  on_link = hover (f->view, x, y);
  g_assert_cmpstr (on_link, ==, docs);
  off_link = hover (f->view, plain_x, plain_y);
  g_assert_null (off_link);
  g_assert_cmpuint (opened_uris->len, ==, 0);

  /* Pressing is not clicking, a double click does not open twice, and a
   * click beside the link opens nothing. */
  gesture = link_gesture (f->view);
  g_signal_emit_by_name (gesture, "pressed", 1, x, y);
  g_signal_emit_by_name (gesture, "released", 2, x, y);
  g_signal_emit_by_name (gesture, "released", 1, plain_x, plain_y);
  g_assert_cmpuint (opened_uris->len, ==, 0);

  /* A click opens the link it is on, once. */
  g_signal_emit_by_name (gesture, "released", 1, x, y);
  g_assert_cmpuint (opened_uris->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (opened_uris, 0), ==, docs);

  /* Opening is the browser's job: the app itself fetched nothing. */
  natter_test_iterate_for (200);
  assert_no_request (&f->server);
}

/* A link the user wrote is theirs: only answers make links. */
static void
test_user_message_no_link (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *text = g_strdup_printf ("Is [this](%1$s/mine) safe? ![x](%1$s/mine.png)", f->origin);
  g_autoptr(NatterMessage) question = natter_message_new (NATTER_ROLE_USER, text);
  g_autofree char *shown = NULL;
  GtkTextView *view;
  double x, y;

  natter_message_row_set_message (f->row, question);
  natter_test_iterate_for (300);
  view = find_text_view (GTK_WIDGET (f->row), natter_message_row_get_content_buffer (f->row));
  point_at_text (view, "this", 1, &x, &y);
  shown = hover (view, x, y);
  g_assert_null (shown);
  g_signal_emit_by_name (link_gesture (view), "released", 1, x, y);
  g_assert_cmpuint (opened_uris->len, ==, 0);
  assert_no_request (&f->server);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("no_proxy", "*", TRUE);
  g_test_init (&argc, &argv, NULL);
  adw_init ();

  opened_uris = g_ptr_array_new_with_free_func (g_free);
  tooltip_texts = g_ptr_array_new_with_free_func (g_free);

#define ADD(path, func) \
  g_test_add ("/natter/key-hygiene-ui/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("no-fetch-on-render", test_no_fetch_on_render);
  ADD ("link-shown-then-opened-on-click", test_link_shown_then_opened_on_click);
  ADD ("user-message-no-link", test_user_message_no_link);

  return g_test_run ();
}
