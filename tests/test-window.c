/* test-window.c — the chat window, under Xvfb, against the fake provider
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests act as a user would, through the window's actions (the keyboard and
 * buttons activate the same ones), and assert on what is on screen and on
 * what the server saw.
 */
#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "natter-api-error.h"
#include "natter-chat-view.h"
#include "natter-composer.h"
#include "natter-fake-provider.h"
#include "natter-message-row.h"
#include "natter-window.h"
#include "natter-test-util.h"

typedef struct {
  NatterFakeProvider *provider;
  NatterClient       *client;
  NatterWindow       *window;
} Fixture;

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Condition) (Fixture *f);

static void
iterate_until (Fixture   *f,
               Condition  condition,
               guint      timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, set_flag_cb, &timed_out);

  while (!condition (f) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (condition (f));
  if (!timed_out)
    g_source_remove (id);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *base_url = NULL;

  f->provider = natter_fake_provider_new ();
  g_assert_true (natter_fake_provider_listen (f->provider, 0, NULL));
  base_url = natter_fake_provider_dup_base_url (f->provider);
  f->client = natter_client_new (base_url, "sk-window-test");
  natter_client_set_retry_base_ms (f->client, 20);
  f->window = g_object_ref_sink (natter_window_new (NULL, f->client, "natter-fake-1"));
  gtk_window_present (GTK_WINDOW (f->window));
  natter_test_iterate_for (100);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  /* Let finished operations deliver their results and drop their refs. */
  natter_test_iterate_for (100);
  g_assert_finalize_object (f->window);
  g_clear_object (&f->client);
  g_assert_finalize_object (f->provider);
}

/* --- Looking at the window ----------------------------------------------- */

static NatterConversation *
conversation (Fixture *f)
{
  return natter_window_get_conversation (f->window);
}

static NatterMessage *
last_message (Fixture *f)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (conversation (f)));

  return n > 0 ? natter_conversation_get_message (conversation (f), n - 1) : NULL;
}

static NatterMessageRow *
find_row (GtkWidget     *widget,
          NatterMessage *message)
{
  if (NATTER_IS_MESSAGE_ROW (widget) &&
      natter_message_row_get_message (NATTER_MESSAGE_ROW (widget)) == message)
    return NATTER_MESSAGE_ROW (widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      NatterMessageRow *row = find_row (child, message);
      if (row != NULL)
        return row;
    }
  return NULL;
}

static char *
buffer_text (GtkTextBuffer *buffer)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static char *
shown_answer (Fixture *f)
{
  NatterMessageRow *row = find_row (GTK_WIDGET (f->window), last_message (f));

  g_assert_nonnull (row);
  natter_message_row_flush (row);
  return buffer_text (natter_message_row_get_content_buffer (row));
}

/* Whether some visible label of the last message's row contains @text. */
static gboolean
row_shows (Fixture    *f,
           const char *text)
{
  GtkWidget *row = GTK_WIDGET (find_row (GTK_WIDGET (f->window), last_message (f)));
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();

  g_ptr_array_add (stack, row);
  while (row != NULL && stack->len > 0)
    {
      GtkWidget *widget = g_ptr_array_steal_index (stack, stack->len - 1);

      if (!gtk_widget_get_visible (widget))
        continue;
      if (GTK_IS_LABEL (widget) && strstr (gtk_label_get_text (GTK_LABEL (widget)), text) != NULL)
        return TRUE;
      for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
        g_ptr_array_add (stack, c);
    }
  return FALSE;
}

static GtkWidget *
find_button (GtkWidget  *widget,
             const char *action_name)
{
  if (GTK_IS_BUTTON (widget) &&
      g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action_name) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *button = find_button (child, action_name);
      if (button != NULL)
        return button;
    }
  return NULL;
}

/* What the user sees: a button whose action is disabled is insensitive. */
static gboolean
action_enabled (Fixture    *f,
                const char *action_name)
{
  GtkWidget *button = find_button (GTK_WIDGET (f->window), action_name);

  g_assert_nonnull (button);
  return gtk_widget_is_sensitive (button);
}

static void
type_and_send (Fixture    *f,
               const char *text)
{
  natter_composer_set_text (NATTER_COMPOSER (natter_window_get_composer (f->window)), text);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.send", NULL);
}

static gboolean
is_streaming (Fixture *f)
{
  return natter_conversation_is_streaming (conversation (f));
}

static gboolean
not_streaming (Fixture *f)
{
  return !is_streaming (f);
}

/* Saves what the window shows as a PNG in $NATTER_SCREENSHOT_DIR. */
static void
save_screenshot (Fixture    *f,
                 const char *name)
{
  const char *dir = g_getenv ("NATTER_SCREENSHOT_DIR");
  GtkWidget *window = GTK_WIDGET (f->window);
  GtkWidget *child = gtk_widget_get_first_child (window);
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int width = gtk_widget_get_width (window);
  int height = gtk_widget_get_height (window);

  if (dir == NULL)
    return;
  natter_test_iterate_for (150);
  snapshot = gtk_snapshot_new ();
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 1, 1, 1, 1 }, &GRAPHENE_RECT_INIT (0, 0, width, height));
  for (; child != NULL; child = gtk_widget_get_next_sibling (child))
    gtk_widget_snapshot_child (window, child, snapshot);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

/* The window also asks for the model list; only chat requests count here. */
static guint
count_chat_requests (Fixture *f)
{
  guint n = 0;

  for (guint i = 0; i < natter_fake_provider_get_n_requests (f->provider); i++)
    if (g_str_has_suffix (natter_fake_provider_get_request (f->provider, i)->path, "/chat/completions"))
      n++;
  return n;
}

static const char *
request_body_of_last_chat (Fixture *f)
{
  for (guint i = natter_fake_provider_get_n_requests (f->provider); i > 0; i--)
    {
      const NatterFakeRequest *request = natter_fake_provider_get_request (f->provider, i - 1);

      if (g_str_has_suffix (request->path, "/chat/completions"))
        return g_bytes_get_data (request->body, NULL);
    }
  g_assert_not_reached ();
}

static gboolean
has_hung_up (Fixture *f)
{
  return natter_fake_provider_get_n_hangups (f->provider) >= 1;
}

/* --- Sending and streaming --------------------------------------------- */

static void
content_changed_cb (GtkTextBuffer *buffer,
                    GPtrArray     *states)
{
  g_ptr_array_add (states, buffer_text (buffer));
}

static void
test_send_streams_in_steps (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (12);
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *answer = NULL;
  NatterMessageRow *row;

  g_assert_false (action_enabled (f, "win.send"));
  natter_fake_script_set_interval (script, 40);
  natter_fake_provider_queue (f->provider, script);
  type_and_send (f, "Tell me something");

  g_assert_true (is_streaming (f));
  g_assert_true (action_enabled (f, "win.stop"));
  natter_test_iterate_for (50);
  row = find_row (GTK_WIDGET (f->window), last_message (f));
  g_assert_nonnull (row);
  g_signal_connect (natter_message_row_get_content_buffer (row), "changed",
                    G_CALLBACK (content_changed_cb), states);
  save_screenshot (f, "streaming.png");
  iterate_until (f, not_streaming, 10000);

  answer = shown_answer (f);
  /* Rendered as Markdown: the trailing space of the last token goes. */
  g_assert_cmpstr (answer, ==, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 tok8 tok9 tok10 tok11");
  /* The text grew on screen in several steps, not at once at the end. */
  g_assert_cmpuint (states->len, >=, 4);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (conversation (f), 0)),
                   ==, "Tell me something");
  g_assert_cmpint (natter_message_get_state (last_message (f)), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_true (row_shows (f, "12 tokens"));
  g_assert_true (row_shows (f, "natter-fake-1"));
  /* The composer was emptied and Send came back in Stop's place. */
  g_assert_true (natter_composer_is_empty (NATTER_COMPOSER (natter_window_get_composer (f->window))));
  g_assert_false (natter_composer_get_streaming (NATTER_COMPOSER (natter_window_get_composer (f->window))));
  save_screenshot (f, "idle.png");
}

static void
test_context_sent (Fixture       *f,
                   gconstpointer  data)
{
  const NatterFakeRequest *request;
  const char *body;

  type_and_send (f, "First question");
  iterate_until (f, not_streaming, 5000);
  type_and_send (f, "Second question");
  iterate_until (f, not_streaming, 5000);

  request = natter_fake_provider_get_request (f->provider, natter_fake_provider_get_n_requests (f->provider) - 1);
  body = g_bytes_get_data (request->body, NULL);
  g_assert_nonnull (g_strstr_len (body, g_bytes_get_size (request->body), "First question"));
  g_assert_nonnull (g_strstr_len (body, g_bytes_get_size (request->body), "tok7"));
  g_assert_nonnull (g_strstr_len (body, g_bytes_get_size (request->body), "Second question"));
}

/* --- Stop ------------------------------------------------------------- */

static gboolean
has_three_tokens (Fixture *f)
{
  NatterMessage *last = last_message (f);

  return last != NULL && natter_message_get_role (last) == NATTER_ROLE_ASSISTANT &&
         strstr (natter_message_get_content (last), "tok2 ") != NULL;
}

static void
test_stop_mid_stream (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (100);
  g_autofree char *answer = NULL;

  natter_fake_script_set_interval (script, 30);
  natter_fake_provider_queue (f->provider, script);
  type_and_send (f, "Long answer please");
  iterate_until (f, has_three_tokens, 5000);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.stop", NULL);
  iterate_until (f, not_streaming, 1000);
  iterate_until (f, has_hung_up, 2000);

  g_assert_cmpint (natter_message_get_state (last_message (f)), ==, NATTER_MESSAGE_STATE_STOPPED);
  answer = shown_answer (f);
  g_assert_true (g_str_has_prefix (answer, "tok0 tok1 tok2"));
  g_assert_null (strstr (answer, "tok99"));
  g_assert_true (row_shows (f, "Stopped"));
  g_assert_false (action_enabled (f, "win.stop"));
  natter_composer_set_text (NATTER_COMPOSER (natter_window_get_composer (f->window)), "Next");
  g_assert_true (action_enabled (f, "win.send"));
  save_screenshot (f, "stopped.png");
}

static void
test_stop_before_first_token (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);

  natter_fake_script_add_comment (script, "OPENROUTER PROCESSING");
  natter_fake_script_add_pause (script, 5000);
  natter_fake_script_add_content (script, "too late");
  natter_fake_provider_queue (f->provider, script);
  type_and_send (f, "Hello");
  natter_test_iterate_for (150);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.stop", NULL);
  iterate_until (f, not_streaming, 1000);
  iterate_until (f, has_hung_up, 2000);

  g_assert_cmpint (natter_message_get_state (last_message (f)), ==, NATTER_MESSAGE_STATE_STOPPED);
  g_assert_cmpstr (natter_message_get_content (last_message (f)), ==, "");
}

static gboolean
is_waiting_to_retry (Fixture *f)
{
  NatterMessage *last = last_message (f);

  return last != NULL && natter_message_get_retry_delay_ms (last) > 0;
}

static void
test_stop_during_retry_wait (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(NatterFakeScript) limited = natter_fake_script_new (429);

  natter_fake_script_set_body (limited, "{\"error\":{\"message\":\"Slow down\"}}");
  natter_fake_script_set_header (limited, "Retry-After", "30");
  natter_fake_provider_queue (f->provider, limited);
  type_and_send (f, "Hello");
  iterate_until (f, is_waiting_to_retry, 3000);
  natter_test_iterate_for (50);
  g_assert_true (row_shows (f, "Retrying in 30 seconds"));

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.stop", NULL);
  iterate_until (f, not_streaming, 1000);
  g_assert_cmpint (natter_message_get_state (last_message (f)), ==, NATTER_MESSAGE_STATE_STOPPED);
  g_assert_cmpuint (count_chat_requests (f), ==, 1);
  g_assert_false (row_shows (f, "Retrying"));
}

/* --- Errors -------------------------------------------------------------- */

typedef struct {
  guint       status;
  const char *body;
  const char *sentence;
  const char *hint;
} ErrorCase;

static const ErrorCase error_cases[] = {
  { 401, "{\"error\":{\"message\":\"Invalid key\"}}", "HTTP 401", "Check the API key" },
  { 402, "{\"error\":{\"message\":\"No credits\"}}", "HTTP 402", "Add credits" },
  { 404, "{\"error\":{\"message\":\"No such model\"}}", "HTTP 404", "Check the base URL" },
  { 500, "{\"error\":{\"message\":\"Boom\"}}", "HTTP 500", "provider’s side" },
};

static void
test_errors_explained (Fixture       *f,
                       gconstpointer  data)
{
  natter_client_set_max_retries (f->client, 0);
  for (guint i = 0; i < G_N_ELEMENTS (error_cases); i++)
    {
      g_autoptr(NatterFakeScript) script = natter_fake_script_new (error_cases[i].status);

      natter_fake_script_set_body (script, error_cases[i].body);
      natter_fake_provider_queue (f->provider, script);
      if (i == 0)
        type_and_send (f, "Hello");
      else
        gtk_widget_activate_action (GTK_WIDGET (f->window), "win.retry", NULL);
      iterate_until (f, not_streaming, 3000);
      natter_test_iterate_for (20);

      g_assert_cmpint (natter_message_get_state (last_message (f)), ==, NATTER_MESSAGE_STATE_FAILED);
      g_assert_true (row_shows (f, error_cases[i].sentence));
      g_assert_true (row_shows (f, error_cases[i].hint));
      g_assert_true (action_enabled (f, "win.retry"));
      if (i == 0)
        save_screenshot (f, "error.png");
    }

  /* Retry works, and the user's message was never lost. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.retry", NULL);
  iterate_until (f, not_streaming, 3000);
  g_assert_cmpint (natter_message_get_state (last_message (f)), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation (f))), ==, 2);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (conversation (f), 0)), ==, "Hello");
}

static void
test_stalled_and_truncated (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(NatterFakeScript) stall = natter_fake_script_new (200);
  g_autoptr(NatterFakeScript) cut = natter_fake_script_new (200);

  natter_client_set_stall_timeout_ms (f->client, 300);
  natter_fake_script_add_content (stall, "Waiting");
  natter_fake_script_set_ending (stall, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, stall);
  type_and_send (f, "Hello");
  iterate_until (f, not_streaming, 3000);
  natter_test_iterate_for (20);
  g_assert_true (row_shows (f, "sent nothing"));
  g_assert_true (row_shows (f, "went quiet"));

  natter_fake_script_add_content (cut, "Half");
  natter_fake_provider_queue (f->provider, cut);
  type_and_send (f, "Again");
  iterate_until (f, not_streaming, 3000);
  natter_test_iterate_for (20);
  g_assert_true (row_shows (f, "cut off"));
}

static void
test_network_error (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(NatterFakeProvider) closed = natter_fake_provider_new ();
  g_autofree char *base_url = NULL;
  g_autoptr(NatterClient) client = NULL;

  /* A window whose provider is not listening any more. */
  g_assert_true (natter_fake_provider_listen (closed, 0, NULL));
  base_url = natter_fake_provider_dup_base_url (closed);
  g_clear_object (&closed);
  client = natter_client_new (base_url, NULL);
  natter_client_set_max_retries (client, 0);
  gtk_window_destroy (GTK_WINDOW (f->window));
  natter_test_iterate_for (50);
  g_assert_finalize_object (f->window);
  f->window = g_object_ref_sink (natter_window_new (NULL, client, "natter-fake-1"));
  gtk_window_present (GTK_WINDOW (f->window));

  type_and_send (f, "Anyone there?");
  iterate_until (f, not_streaming, 5000);
  natter_test_iterate_for (20);
  g_assert_true (row_shows (f, "Could not reach the provider"));
  g_assert_true (row_shows (f, "Check the network connection"));
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (conversation (f), 0)),
                   ==, "Anyone there?");
}

/* --- Following the bottom -------------------------------------------- */

/* Rows are measured over several frames, more of them on a slow machine
 * (or under a sanitizer): wait until the height has stopped changing. */
static void
wait_for_layout (GtkAdjustment *adjustment)
{
  double upper = -1;
  guint stable = 0;

  for (guint i = 0; i < 200 && stable < 5; i++)
    {
      natter_test_iterate_for (50);
      stable = gtk_adjustment_get_upper (adjustment) == upper ? stable + 1 : 0;
      upper = gtk_adjustment_get_upper (adjustment);
    }
}

static void
test_follow_bottom (Fixture       *f,
                    gconstpointer  data)
{
  NatterChatView *view = NATTER_CHAT_VIEW (natter_window_get_chat_view (f->window));
  GtkAdjustment *adjustment = natter_chat_view_get_vadjustment (view);
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (40);

  for (guint i = 0; i < 30; i++)
    {
      g_autoptr(NatterMessage) message = natter_message_new (i % 2 ? NATTER_ROLE_ASSISTANT : NATTER_ROLE_USER,
                                                             "A line of an earlier conversation\nand another");
      natter_conversation_append (conversation (f), message);
    }
  wait_for_layout (adjustment);
  g_assert_true (natter_chat_view_get_following (view));
  g_assert_cmpfloat (gtk_adjustment_get_upper (adjustment), >, gtk_adjustment_get_page_size (adjustment));

  /* The user scrolls up to read: the view stays where they are. */
  gtk_adjustment_set_value (adjustment, 0);
  natter_test_iterate_for (50);
  g_assert_false (natter_chat_view_get_following (view));
  natter_fake_script_set_interval (script, 10);
  natter_fake_provider_queue (f->provider, script);
  natter_composer_set_text (NATTER_COMPOSER (natter_window_get_composer (f->window)), "More");
  natter_conversation_send_async (conversation (f), f->client, "m", "More", NULL, NULL, NULL);
  iterate_until (f, not_streaming, 5000);
  natter_test_iterate_for (100);
  /* Still at the top: rows measured late may nudge it by a few pixels,
   * but it did not follow the answer down. */
  g_assert_false (natter_chat_view_get_following (view));
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), <, 64);

  /* Jump to bottom, and follow from then on. */
  natter_chat_view_scroll_to_bottom (view);
  natter_test_iterate_for (100);
  g_assert_true (natter_chat_view_get_following (view));
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment) + gtk_adjustment_get_page_size (adjustment),
                     >=, gtk_adjustment_get_upper (adjustment) - 4);
}

static guint
count_rows (GtkWidget *widget)
{
  guint n = NATTER_IS_MESSAGE_ROW (widget) ? 1 : 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_rows (child);
  return n;
}

/* Only the rows on screen exist, whatever the length of the conversation. */
static void
iterate_until_row (Fixture       *f,
                   NatterMessage *message,
                   guint          timeout_ms)
{
  for (guint waited = 0; waited < timeout_ms && find_row (GTK_WIDGET (f->window), message) == NULL;
       waited += 50)
    natter_test_iterate_for (50);
}

static void
test_long_conversation_is_lazy (Fixture       *f,
                                gconstpointer  data)
{
  for (guint i = 0; i < 2000; i++)
    {
      g_autofree char *text = g_strdup_printf ("Message number %u, with **some** markdown", i);
      g_autoptr(NatterMessage) message = natter_message_new (i % 2 ? NATTER_ROLE_ASSISTANT : NATTER_ROLE_USER,
                                                             text);
      natter_conversation_append (conversation (f), message);
    }
  /* The view follows the end: the last message comes into view. */
  iterate_until_row (f, last_message (f), 10000);

  /* GtkListView keeps about 200 rows around, not 2,000. */
  g_assert_cmpuint (count_rows (GTK_WIDGET (f->window)), <, 300);
  g_assert_nonnull (find_row (GTK_WIDGET (f->window), last_message (f)));
}

/* --- The composer's keys -------------------------------------------------- */

static gboolean
press_key (Fixture         *f,
           guint            keyval,
           GdkModifierType  state)
{
  GtkWidget *text_view = natter_composer_get_text_view (NATTER_COMPOSER (natter_window_get_composer (f->window)));
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (text_view);
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_EVENT_CONTROLLER_KEY (controller) &&
          gtk_event_controller_get_propagation_phase (controller) == GTK_PHASE_CAPTURE)
        g_signal_emit_by_name (controller, "key-pressed", keyval, 0, state, &handled);
    }
  return handled;
}

static void
test_enter_sends_shift_enter_does_not (Fixture       *f,
                                       gconstpointer  data)
{
  NatterComposer *composer = NATTER_COMPOSER (natter_window_get_composer (f->window));

  /* Nothing to send yet: Send is disabled and Enter does nothing. */
  g_assert_false (action_enabled (f, "win.send"));
  press_key (f, GDK_KEY_Return, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation (f))), ==, 0);

  natter_composer_set_text (composer, "   \n ");
  g_assert_false (action_enabled (f, "win.send"));

  natter_composer_set_text (composer, "Line one");
  g_assert_true (action_enabled (f, "win.send"));
  g_assert_false (press_key (f, GDK_KEY_Return, GDK_SHIFT_MASK));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation (f))), ==, 0);

  g_assert_true (press_key (f, GDK_KEY_Return, 0));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation (f))), ==, 2);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (conversation (f), 0)),
                   ==, "Line one");
  iterate_until (f, not_streaming, 5000);
}

/* --- No provider --------------------------------------------------------- */

static void
test_no_provider_shows_how (void)
{
  g_autoptr(NatterWindow) window = g_object_ref_sink (natter_window_new (NULL, NULL, NULL));

  gtk_window_present (GTK_WINDOW (window));
  natter_test_iterate_for (50);
  g_assert_false (gtk_widget_get_visible (natter_window_get_chat_view (window)) &&
                  gtk_widget_get_mapped (natter_window_get_chat_view (window)));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The first-run page gives way to the chat once a provider is set. */
static void
test_provider_set_later (Fixture       *f,
                         gconstpointer  data)
{
  natter_window_set_provider (f->window, NULL, NULL);
  natter_test_iterate_for (20);
  g_assert_false (gtk_widget_get_mapped (natter_window_get_composer (f->window)));

  natter_window_set_provider (f->window, f->client, "natter-fake-1");
  natter_window_set_note (f->window, "Using NATTER_BASE_URL from the environment.");
  natter_test_iterate_for (50);
  g_assert_true (gtk_widget_get_mapped (natter_window_get_composer (f->window)));
  type_and_send (f, "Hello");
  iterate_until (f, not_streaming, 5000);
  g_assert_cmpint (natter_message_get_state (last_message (f)), ==, NATTER_MESSAGE_STATE_COMPLETE);
}

/* This conversation's system prompt and temperature, set in the header. */
static void
test_conversation_settings (Fixture       *f,
                            gconstpointer  data)
{
  GtkWidget *popover = natter_window_get_conversation_popover (f->window);
  GtkWidget *prompt_view = NULL;
  GtkWidget *check = NULL;
  GtkWidget *spin = NULL;
  GtkWidget *model_entry = NULL;
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();
  const char *body;

  gtk_popover_popup (GTK_POPOVER (popover));
  natter_test_iterate_for (50);
  g_ptr_array_add (stack, popover);
  while (stack->len > 0)
    {
      GtkWidget *widget = g_ptr_array_steal_index (stack, stack->len - 1);

      if (GTK_IS_TEXT_VIEW (widget))
        prompt_view = widget;
      else if (GTK_IS_CHECK_BUTTON (widget))
        check = widget;
      else if (GTK_IS_SPIN_BUTTON (widget))
        spin = widget;
      else if (GTK_IS_ENTRY (widget))
        model_entry = widget;
      for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
        g_ptr_array_add (stack, c);
    }
  g_assert_nonnull (prompt_view);
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (check)));

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (prompt_view)), "Answer in French.", -1);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), FALSE);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 0.7);
  /* A model typed by hand, which the provider does not list. */
  gtk_editable_set_text (GTK_EDITABLE (model_entry), "vendor/unlisted-model");
  g_signal_emit_by_name (model_entry, "activate");
  g_assert_cmpstr (natter_window_get_model (f->window), ==, "vendor/unlisted-model");
  gtk_popover_popdown (GTK_POPOVER (popover));

  type_and_send (f, "Hello");
  iterate_until (f, not_streaming, 5000);
  body = request_body_of_last_chat (f);
  g_assert_nonnull (strstr (body, "{\"role\":\"system\",\"content\":\"Answer in French.\"}"));
  g_assert_nonnull (strstr (body, "\"model\":\"vendor/unlisted-model\""));
  {
    g_autoptr(JsonParser) parser = json_parser_new ();

    g_assert_true (json_parser_load_from_data (parser, body, -1, NULL));
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (json_node_get_object (json_parser_get_root (parser)),
                                                                   "temperature"), 0.7, 1e-9);
  }
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

#define ADD(path, func) \
  g_test_add ("/natter/window/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("send-streams-in-steps", test_send_streams_in_steps);
  ADD ("context-sent", test_context_sent);
  ADD ("stop-mid-stream", test_stop_mid_stream);
  ADD ("stop-before-first-token", test_stop_before_first_token);
  ADD ("stop-during-retry-wait", test_stop_during_retry_wait);
  ADD ("errors-explained", test_errors_explained);
  ADD ("stalled-and-truncated", test_stalled_and_truncated);
  ADD ("network-error", test_network_error);
  ADD ("follow-bottom", test_follow_bottom);
  ADD ("long-conversation-is-lazy", test_long_conversation_is_lazy);
  ADD ("enter-sends-shift-enter-does-not", test_enter_sends_shift_enter_does_not);
  ADD ("provider-set-later", test_provider_set_later);
  ADD ("conversation-settings", test_conversation_settings);
  g_test_add_func ("/natter/window/no-provider-shows-how", test_no_provider_shows_how);

  return g_test_run ();
}
