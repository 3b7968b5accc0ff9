/* test-history-window.c — the window with its history, under Xvfb
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A real window on a real NatterHistory in a temporary SQLite file, talking
 * to the fake provider. Tests act as a user would, through the window's
 * actions, shortcuts, buttons and the sidebar's lists, and assert on what is
 * on screen, on what the server received, and on what another connection
 * reads back from the database file.
 *
 * Everything that takes time is waited for with a condition and a generous
 * deadline, so that a loaded machine only makes the tests slower; a fixed
 * pause is left only where GTK gives nothing to observe (a toast's or a
 * file chooser's own animations and loading).
 */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "natter-chat-view.h"
#include "natter-composer.h"
#include "natter-conversation-export.h"
#include "natter-fake-provider.h"
#include "natter-history.h"
#include "natter-message-row.h"
#include "natter-sidebar.h"
#include "natter-store.h"
#include "natter-window.h"
#include "natter-test-util.h"

/* Deadlines: long, since they only matter when something is wrong. */
#define SHORT_MS  5000
#define STREAM_MS 30000

/* The fixture's data: a window that was never given a history. */
#define NO_HISTORY GINT_TO_POINTER (1)

typedef struct {
  NatterFakeProvider *provider;
  NatterClient       *client;
  char               *dir;
  char               *db_path;
  NatterStore        *store;
  NatterHistory      *history;
  NatterWindow       *window;
} Fixture;

/* --- Waiting ----------------------------------------------------------------- */

static gboolean
wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @expr holds, failing the test at the deadline.
 * A timer wakes the loop up regularly, so that conditions that change
 * without an event (such as a database written by an idle callback) are
 * seen too. */
#define WAIT_UNTIL(expr, ms) G_STMT_START {                                      \
    gint64 deadline_ = g_get_monotonic_time () + (gint64) (ms) * 1000;           \
    guint wake_ = g_timeout_add (20, wake_cb, NULL);                             \
    while (!(expr) && g_get_monotonic_time () < deadline_)                       \
      g_main_context_iteration (NULL, TRUE);                                     \
    g_source_remove (wake_);                                                     \
    if (!(expr))                                                                 \
      g_test_message ("Gave up after %d ms waiting for: %s", (int) (ms), #expr); \
    g_assert_true (expr);                                                        \
  } G_STMT_END

/* --- Fixture ------------------------------------------------------------------- */

static void
open_history (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->store = natter_store_open (f->db_path, &error);
  g_assert_no_error (error);
  f->history = natter_history_new (f->store, &error);
  g_assert_no_error (error);
}

static void
open_window (Fixture  *f,
             gboolean  with_history)
{
  guint n_requests = natter_fake_provider_get_n_requests (f->provider);

  f->window = g_object_ref_sink (natter_window_new (NULL, f->client, "natter-fake-1"));
  if (with_history)
    natter_window_set_history (f->window, f->history);
  gtk_window_present (GTK_WINDOW (f->window));
  WAIT_UNTIL (gtk_widget_get_mapped (natter_window_get_composer (f->window)), SHORT_MS);
  /* The model list is asked for at once; let it arrive. */
  WAIT_UNTIL (natter_fake_provider_get_n_requests (f->provider) > n_requests, SHORT_MS);
  natter_test_iterate_for (50);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *base_url = NULL;
  g_autoptr(GError) error = NULL;

  f->provider = natter_fake_provider_new ();
  g_assert_true (natter_fake_provider_listen (f->provider, 0, NULL));
  base_url = natter_fake_provider_dup_base_url (f->provider);
  f->client = natter_client_new (base_url, "sk-history-window-test");
  natter_client_set_retry_base_ms (f->client, 20);

  f->dir = g_dir_make_tmp ("natter-history-window-XXXXXX", &error);
  g_assert_no_error (error);
  f->db_path = g_build_filename (f->dir, "history.db", NULL);
  if (data != NO_HISTORY)
    open_history (f);
  open_window (f, data != NO_HISTORY);
}

static GList *
dialogs_of (Fixture *f)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();
  GList *dialogs = NULL;

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) &&
        gtk_window_get_transient_for (GTK_WINDOW (l->data)) == GTK_WINDOW (f->window))
      dialogs = g_list_prepend (dialogs, l->data);
  return dialogs;
}

static gboolean
anything_streaming (Fixture *f)
{
  NatterConversation *shown = natter_window_get_conversation (f->window);
  guint n = f->history != NULL ? g_list_model_get_n_items (G_LIST_MODEL (f->history)) : 0;

  if (natter_conversation_is_streaming (shown))
    return TRUE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterConversation) conversation = g_list_model_get_item (G_LIST_MODEL (f->history), i);

      if (natter_conversation_is_streaming (conversation))
        return TRUE;
    }
  return FALSE;
}

/* Stops what still streams, closes dialogs left open, and checks that the
 * window goes away entirely. */
static void
close_window (Fixture *f)
{
  g_autoptr(GList) dialogs = dialogs_of (f);
  guint n = f->history != NULL ? g_list_model_get_n_items (G_LIST_MODEL (f->history)) : 0;

  for (GList *l = dialogs; l != NULL; l = l->next)
    gtk_window_destroy (l->data);
  natter_conversation_stop (natter_window_get_conversation (f->window));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterConversation) conversation = g_list_model_get_item (G_LIST_MODEL (f->history), i);
      natter_conversation_stop (conversation);
    }
  WAIT_UNTIL (!anything_streaming (f), SHORT_MS);

  gtk_window_destroy (GTK_WINDOW (f->window));
  /* Let finished operations deliver their results and drop their refs. */
  natter_test_iterate_for (100);
  WAIT_UNTIL (G_OBJECT (f->window)->ref_count == 1, SHORT_MS);
  g_assert_finalize_object (g_steal_pointer (&f->window));
}

static void
close_history (Fixture *f)
{
  if (f->history != NULL)
    g_assert_finalize_object (g_steal_pointer (&f->history));
  if (f->store != NULL)
    g_assert_finalize_object (g_steal_pointer (&f->store));
}

static void
remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_assert_cmpint (g_remove (child), ==, 0);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->window != NULL)
    close_window (f);
  close_history (f);
  g_clear_object (&f->client);
  g_assert_finalize_object (f->provider);
  remove_dir (f->dir);
  g_free (f->db_path);
  g_free (f->dir);
}

/* Quitting and starting again on the same file: the saved conversations
 * are listed, not yet opened. */
static void
restart (Fixture *f)
{
  close_window (f);
  close_history (f);
  open_history (f);
  open_window (f, TRUE);
}

/* --- The database, as another connection reads it ----------------------------- */

static NatterStore *
reader (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  NatterStore *store = natter_store_open (f->db_path, &error);

  g_assert_no_error (error);
  return store;
}

static NatterConversation *
db_load (Fixture *f,
         gint64   id)
{
  g_autoptr(NatterStore) store = reader (f);

  return natter_store_load_conversation (store, id, NULL);
}

static gboolean
db_has (Fixture *f,
        gint64   id)
{
  g_autoptr(NatterConversation) conversation = db_load (f, id);

  return conversation != NULL;
}

static char *
db_title (Fixture *f,
          gint64   id)
{
  g_autoptr(NatterStore) store = reader (f);
  g_autoptr(GPtrArray) conversations = natter_store_list_conversations (store, NULL);

  g_assert_nonnull (conversations);
  for (guint i = 0; i < conversations->len; i++)
    if (natter_conversation_get_id (g_ptr_array_index (conversations, i)) == id)
      return g_strdup (natter_conversation_get_title (g_ptr_array_index (conversations, i)));
  return NULL;
}

static gboolean
db_title_is (Fixture    *f,
             gint64      id,
             const char *title)
{
  g_autofree char *saved = db_title (f, id);

  return g_strcmp0 (saved, title) == 0;
}

/* Whether the file holds exactly these messages, in this order, all
 * complete. */
static gboolean
db_messages_are (Fixture            *f,
                 gint64              id,
                 const char * const *contents)
{
  g_autoptr(NatterConversation) saved = db_load (f, id);
  guint n = g_strv_length ((char **) contents);

  if (saved == NULL || g_list_model_get_n_items (G_LIST_MODEL (saved)) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      NatterMessage *message = natter_conversation_get_message (saved, i);

      if (g_strcmp0 (natter_message_get_content (message), contents[i]) != 0 ||
          natter_message_get_state (message) != NATTER_MESSAGE_STATE_COMPLETE)
        return FALSE;
    }
  return TRUE;
}

/* --- Looking at the window ------------------------------------------------------ */

static NatterConversation *
conversation (Fixture *f)
{
  return natter_window_get_conversation (f->window);
}

static guint
n_messages (NatterConversation *conversation)
{
  return g_list_model_get_n_items (G_LIST_MODEL (conversation));
}

static NatterMessage *
message_at (NatterConversation *conversation,
            guint               position)
{
  return natter_conversation_get_message (conversation, position);
}

static NatterMessage *
last_message_of (NatterConversation *conversation)
{
  guint n = n_messages (conversation);

  return n > 0 ? message_at (conversation, n - 1) : NULL;
}

static NatterSidebar *
sidebar (Fixture *f)
{
  return NATTER_SIDEBAR (natter_window_get_sidebar (f->window));
}

static GtkSingleSelection *
sidebar_model (Fixture *f)
{
  GtkWidget *list = natter_sidebar_get_conversation_list (sidebar (f));

  return GTK_SINGLE_SELECTION (gtk_list_view_get_model (GTK_LIST_VIEW (list)));
}

static guint
n_listed (Fixture *f)
{
  return g_list_model_get_n_items (G_LIST_MODEL (sidebar_model (f)));
}

/* Returns: (transfer none): the conversation listed at @position */
static NatterConversation *
listed (Fixture *f,
        guint    position)
{
  g_autoptr(NatterConversation) item = g_list_model_get_item (G_LIST_MODEL (sidebar_model (f)), position);

  return item;
}

static void
select_listed (Fixture *f,
               guint    position)
{
  g_assert_true (gtk_selection_model_select_item (GTK_SELECTION_MODEL (sidebar_model (f)), position, TRUE));
}

static GListModel *
results (Fixture *f)
{
  GtkWidget *list = natter_sidebar_get_result_list (sidebar (f));

  return G_LIST_MODEL (gtk_list_view_get_model (GTK_LIST_VIEW (list)));
}

static guint
n_results (Fixture *f)
{
  return results (f) != NULL ? g_list_model_get_n_items (results (f)) : 0;
}

typedef gboolean (*WidgetTest) (GtkWidget *widget, gconstpointer data);

static GtkWidget *
find_widget (GtkWidget     *root,
             WidgetTest     test,
             gconstpointer  data)
{
  if (test (root, data))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, test, data);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_mapped_label_with (GtkWidget     *widget,
                      gconstpointer  text)
{
  return GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget) &&
         strstr (gtk_label_get_text (GTK_LABEL (widget)), text) != NULL;
}

/* Whether a label on screen under @root shows @text. */
static gboolean
shows (GtkWidget  *root,
       const char *text)
{
  return find_widget (root, is_mapped_label_with, text) != NULL;
}

static gboolean
is_jump_button (GtkWidget     *widget,
                gconstpointer  unused)
{
  return GTK_IS_BUTTON (widget) &&
         g_strcmp0 (gtk_widget_get_tooltip_text (widget), "Jump to Bottom") == 0;
}

/* Whether the chat view offers "Jump to Bottom". */
static gboolean
jump_offered (Fixture *f)
{
  GtkWidget *button = find_widget (natter_window_get_chat_view (f->window), is_jump_button, NULL);

  g_assert_nonnull (button);
  return gtk_revealer_get_reveal_child (GTK_REVEALER (gtk_widget_get_parent (button)));
}

static gboolean
is_row_of (GtkWidget     *widget,
           gconstpointer  message)
{
  return NATTER_IS_MESSAGE_ROW (widget) &&
         natter_message_row_get_message (NATTER_MESSAGE_ROW (widget)) == message;
}

static NatterMessageRow *
find_row (Fixture       *f,
          NatterMessage *message)
{
  return (NatterMessageRow *) find_widget (natter_window_get_chat_view (f->window), is_row_of, message);
}

static char *
buffer_text (GtkTextBuffer *buffer)
{
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

/* The text the chat view shows for @message. */
static char *
shown_text (Fixture       *f,
            NatterMessage *message)
{
  NatterMessageRow *row = find_row (f, message);

  g_assert_nonnull (row);
  natter_message_row_flush (row);
  return buffer_text (natter_message_row_get_content_buffer (row));
}

/* Whether the row of @message is (at least partly) inside the visible part
 * of the chat view. Rows the list view keeps around off screen do not
 * count. */
static gboolean
row_on_screen (Fixture       *f,
               NatterMessage *message)
{
  GtkWidget *view = natter_window_get_chat_view (f->window);
  NatterMessageRow *row = find_row (f, message);
  graphene_rect_t bounds;

  if (row == NULL || !gtk_widget_get_mapped (GTK_WIDGET (row)) ||
      !gtk_widget_compute_bounds (GTK_WIDGET (row), view, &bounds))
    return FALSE;
  return bounds.origin.y + bounds.size.height > 1 && bounds.origin.y < gtk_widget_get_height (view) - 1;
}

static gboolean
is_button_for (GtkWidget     *widget,
               gconstpointer  action_name)
{
  return GTK_IS_BUTTON (widget) &&
         g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action_name) == 0;
}

static gboolean
button_shown (Fixture    *f,
              const char *action_name)
{
  GtkWidget *button = find_widget (GTK_WIDGET (f->window), is_button_for, action_name);

  return button != NULL && gtk_widget_get_mapped (button) && gtk_widget_is_sensitive (button);
}

static gboolean
is_button_labelled (GtkWidget     *widget,
                    gconstpointer  label)
{
  return GTK_IS_BUTTON (widget) && gtk_widget_get_mapped (widget) &&
         g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0;
}

static gboolean
has_tooltip (GtkWidget     *widget,
             gconstpointer  tooltip)
{
  return g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0;
}

static NatterComposer *
composer (Fixture *f)
{
  return NATTER_COMPOSER (natter_window_get_composer (f->window));
}

static char *
composer_text (Fixture *f)
{
  return natter_composer_dup_text (composer (f));
}

static void
activate (Fixture    *f,
          const char *action_name)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), action_name, NULL));
}

static void
type_and_send (Fixture    *f,
               const char *text)
{
  natter_composer_set_text (composer (f), text);
  activate (f, "win.send");
  g_assert_true (natter_conversation_is_streaming (conversation (f)));
}

static gboolean
done (NatterConversation *conversation)
{
  return !natter_conversation_is_streaming (conversation);
}

/* Sends @text in the conversation on screen and waits for the answer. */
static void
ask (Fixture    *f,
     const char *text)
{
  NatterConversation *shown = conversation (f);

  type_and_send (f, text);
  WAIT_UNTIL (done (shown), STREAM_MS);
  g_assert_cmpint (natter_message_get_state (last_message_of (shown)), ==, NATTER_MESSAGE_STATE_COMPLETE);
}

static gboolean
content_has (NatterConversation *conversation,
             const char         *text)
{
  NatterMessage *last = last_message_of (conversation);

  return last != NULL && natter_message_get_role (last) == NATTER_ROLE_ASSISTANT &&
         strstr (natter_message_get_content (last), text) != NULL;
}

/* "tok0 tok1 … tok{n-1} ", what natter_fake_script_new_completion() says */
static char *
completion_text (guint n_tokens)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < n_tokens; i++)
    g_string_append_printf (text, "tok%u ", i);
  return g_string_free (text, FALSE);
}

static NatterFakeScript *
answer_script (const char *text)
{
  NatterFakeScript *script = natter_fake_script_new (200);

  natter_fake_script_add_content (script, text);
  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_done (script);
  return script;
}

static const char *
last_chat_body (Fixture *f)
{
  for (guint i = natter_fake_provider_get_n_requests (f->provider); i > 0; i--)
    {
      const NatterFakeRequest *request = natter_fake_provider_get_request (f->provider, i - 1);

      if (g_str_has_suffix (request->path, "/chat/completions"))
        return g_bytes_get_data (request->body, NULL);
    }
  g_assert_not_reached ();
}

static guint
count_chat_requests (Fixture *f)
{
  guint n = 0;

  for (guint i = 0; i < natter_fake_provider_get_n_requests (f->provider); i++)
    if (g_str_has_suffix (natter_fake_provider_get_request (f->provider, i)->path, "/chat/completions"))
      n++;
  return n;
}

/* The message dialog the window shows, if any. */
static AdwMessageDialog *
find_dialog (Fixture *f)
{
  g_autoptr(GList) dialogs = dialogs_of (f);

  return dialogs != NULL ? ADW_MESSAGE_DIALOG (dialogs->data) : NULL;
}

/* As if the user clicked the response's button: the dialog answers, then
 * goes away. */
static void
respond (Fixture          *f,
         AdwMessageDialog *dialog,
         const char       *response)
{
  g_autoptr(AdwMessageDialog) ref = g_object_ref (dialog);
  g_autoptr(GList) dialogs = NULL;

  adw_message_dialog_response (dialog, response);
  dialogs = dialogs_of (f);
  if (g_list_find (dialogs, dialog) != NULL)
    gtk_window_destroy (GTK_WINDOW (dialog));
  natter_test_iterate_for (20);
}

/* Presses a key combination bound on the window, such as "<Control>n",
 * through the window's own shortcuts. */
static void
press_shortcut (Fixture    *f,
                const char *accelerator)
{
  g_autoptr(GtkShortcutTrigger) trigger = gtk_shortcut_trigger_parse_string (accelerator);
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (f->window));

  g_assert_nonnull (trigger);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);

          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), trigger))
            {
              g_assert_true (gtk_shortcut_action_activate (gtk_shortcut_get_action (shortcut), 0,
                                                           GTK_WIDGET (f->window),
                                                           gtk_shortcut_get_arguments (shortcut)));
              return;
            }
        }
    }
  g_error ("No shortcut %s on the window", accelerator);
}

/* Whether the item of the main menu labelled @label can be chosen, as the
 * user sees it with the menu open. */
static gboolean
menu_item_sensitive (Fixture    *f,
                     const char *label)
{
  GtkWidget *button = find_widget (GTK_WIDGET (f->window), has_tooltip, "Main Menu");
  GtkPopover *popover;
  GtkWidget *item;
  gboolean sensitive;

  g_assert_true (GTK_IS_MENU_BUTTON (button));
  gtk_menu_button_popup (GTK_MENU_BUTTON (button));
  popover = gtk_menu_button_get_popover (GTK_MENU_BUTTON (button));
  WAIT_UNTIL (gtk_widget_get_mapped (GTK_WIDGET (popover)) &&
              find_widget (GTK_WIDGET (popover), is_mapped_label_with, label) != NULL, SHORT_MS);
  item = find_widget (GTK_WIDGET (popover), is_mapped_label_with, label);
  sensitive = gtk_widget_is_sensitive (item);
  gtk_menu_button_popdown (GTK_MENU_BUTTON (button));
  WAIT_UNTIL (!gtk_widget_get_mapped (GTK_WIDGET (popover)), SHORT_MS);
  return sensitive;
}

/* Saves what the window shows as a PNG in $NATTER_SCREENSHOT_DIR. */
static void
save_screenshot (Fixture    *f,
                 const char *name)
{
  const char *dir = g_getenv ("NATTER_SCREENSHOT_DIR");
  GtkWidget *window = GTK_WIDGET (f->window);
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int width = gtk_widget_get_width (window);
  int height = gtk_widget_get_height (window);

  if (dir == NULL)
    return;
  natter_test_iterate_for (300);
  snapshot = gtk_snapshot_new ();
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 1, 1, 1, 1 }, &GRAPHENE_RECT_INIT (0, 0, width, height));
  for (GtkWidget *child = gtk_widget_get_first_child (window); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    gtk_widget_snapshot_child (window, child, snapshot);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

/* --- Sending lists the conversation ------------------------------------------- */

typedef struct {
  Fixture    *f;
  const char *prompt;
  gboolean    saved_before_request;
} SavedCheck;

/* As the provider receives the request: the user's message must already
 * be in the file. */
static void
request_received_cb (NatterFakeProvider *provider,
                     guint               index,
                     SavedCheck         *check)
{
  g_autoptr(NatterConversation) saved = NULL;

  if (!g_str_has_suffix (natter_fake_provider_get_request (provider, index)->path, "/chat/completions"))
    return;
  saved = db_load (check->f, natter_conversation_get_id (conversation (check->f)));
  check->saved_before_request = saved != NULL && n_messages (saved) >= 1 &&
                                g_strcmp0 (natter_message_get_content (message_at (saved, 0)), check->prompt) == 0;
}

static void
test_send_lists_conversation (Fixture       *f,
                              gconstpointer  data)
{
  const char *prompt = "Tell me about otters and their habits";
  NatterConversation *shown = conversation (f);
  SavedCheck check = { f, prompt, FALSE };
  gulong handler;

  g_assert_cmpuint (n_listed (f), ==, 0);
  WAIT_UNTIL (shows (GTK_WIDGET (sidebar (f)), "No Conversations"), SHORT_MS);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "Natter");

  handler = g_signal_connect (f->provider, "request-received", G_CALLBACK (request_received_cb), &check);
  type_and_send (f, prompt);
  /* Listed with its first message, before the answer is there. */
  g_assert_cmpuint (n_listed (f), ==, 1);
  g_assert_true (listed (f, 0) == shown);
  g_assert_cmpuint (gtk_single_selection_get_selected (sidebar_model (f)), ==, 0);
  g_assert_cmpint (natter_conversation_get_id (shown), >, 0);
  g_assert_cmpstr (natter_conversation_get_title (shown), ==, prompt);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, prompt);
  WAIT_UNTIL (shows (natter_sidebar_get_conversation_list (sidebar (f)), prompt), SHORT_MS);

  WAIT_UNTIL (done (shown), STREAM_MS);
  g_signal_handler_disconnect (f->provider, handler);
  g_assert_true (check.saved_before_request);
  {
    g_autofree char *answer = completion_text (8);
    const char *expected[] = { prompt, answer, NULL };

    WAIT_UNTIL (db_messages_are (f, natter_conversation_get_id (shown), expected), SHORT_MS);
    g_assert_true (db_title_is (f, natter_conversation_get_id (shown), prompt));
  }
  /* A long first prompt is shortened for the title. */
  activate (f, "win.new-conversation");
  type_and_send (f, "Please explain, in great detail and with many examples, how the tides of the oceans "
                    "are caused by the moon");
  g_assert_cmpuint (g_utf8_strlen (natter_conversation_get_title (conversation (f)), -1), <=, 49);
  g_assert_true (g_str_has_prefix (natter_conversation_get_title (conversation (f)), "Please explain, in great"));
  g_assert_true (g_str_has_suffix (natter_conversation_get_title (conversation (f)), "…"));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==,
                   natter_conversation_get_title (conversation (f)));
  WAIT_UNTIL (done (conversation (f)), STREAM_MS);
}

/* --- New conversation, and switching ---------------------------------------------- */

static void
test_new_and_switch (Fixture       *f,
                     gconstpointer  data)
{
  NatterConversation *first = conversation (f);
  NatterConversation *second;
  NatterMessageRow *row;

  ask (f, "First question");
  /* Ctrl+N: an empty conversation, not listed yet, nothing selected. */
  press_shortcut (f, "<Control>n");
  second = conversation (f);
  g_assert_true (second != first);
  g_assert_cmpuint (n_messages (second), ==, 0);
  g_assert_true (natter_chat_view_get_conversation (NATTER_CHAT_VIEW (natter_window_get_chat_view (f->window))) ==
                 second);
  WAIT_UNTIL (shows (GTK_WIDGET (f->window), "Ask Anything"), SHORT_MS);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "Natter");
  g_assert_cmpuint (n_listed (f), ==, 1);
  g_assert_cmpuint (gtk_single_selection_get_selected (sidebar_model (f)), ==, GTK_INVALID_LIST_POSITION);
  /* Ctrl+N again on an empty conversation keeps it. */
  press_shortcut (f, "<Control>n");
  g_assert_true (conversation (f) == second);

  ask (f, "Second question");
  g_assert_cmpuint (n_listed (f), ==, 2);
  g_assert_true (listed (f, 0) == second);
  g_assert_true (listed (f, 1) == first);
  g_assert_cmpuint (gtk_single_selection_get_selected (sidebar_model (f)), ==, 0);

  /* The user picks the first one in the sidebar. */
  select_listed (f, 1);
  g_assert_true (conversation (f) == first);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "First question");
  WAIT_UNTIL (find_row (f, message_at (first, 0)) != NULL && find_row (f, message_at (first, 1)) != NULL,
              SHORT_MS);
  g_assert_null (find_row (f, message_at (second, 0)));
  row = find_row (f, message_at (first, 0));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (row)));
  {
    g_autofree char *question = shown_text (f, message_at (first, 0));
    g_autofree char *answer = shown_text (f, message_at (first, 1));

    g_assert_cmpstr (question, ==, "First question");
    g_assert_true (g_str_has_prefix (answer, "tok0 tok1"));
  }
  /* Selecting does not reorder; a new message does. */
  g_assert_true (listed (f, 0) == second);
  ask (f, "Follow-up in the first");
  g_assert_true (listed (f, 0) == first);
  g_assert_true (listed (f, 1) == second);
  g_assert_cmpuint (gtk_single_selection_get_selected (sidebar_model (f)), ==, 0);
  g_assert_cmpuint (n_messages (first), ==, 4);
  /* What the second request carried is the first conversation's context. */
  g_assert_nonnull (strstr (last_chat_body (f), "First question"));
  g_assert_null (strstr (last_chat_body (f), "Second question"));
}

/* --- Streaming in the background --------------------------------------------------- */

static gboolean
spinner_shown_for (Fixture    *f,
                   const char *title)
{
  GtkWidget *list = natter_sidebar_get_conversation_list (sidebar (f));
  GtkWidget *label = find_widget (list, is_mapped_label_with, title);
  GtkWidget *spinner = label != NULL ? gtk_widget_get_next_sibling (label) : NULL;

  return GTK_IS_SPINNER (spinner) && gtk_widget_get_mapped (spinner) &&
         gtk_spinner_get_spinning (GTK_SPINNER (spinner));
}

static void
test_stream_in_background (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(NatterFakeScript) slow1 = natter_fake_script_new_completion (50);
  g_autoptr(NatterFakeScript) slow2 = natter_fake_script_new_completion (30);
  g_autofree char *answer1 = completion_text (50);
  g_autofree char *answer2 = completion_text (30);
  NatterConversation *first = conversation (f);
  NatterConversation *second;
  NatterMessage *first_answer;

  natter_fake_script_set_interval (slow1, 80);
  natter_fake_script_set_interval (slow2, 80);
  natter_fake_provider_queue (f->provider, slow1);
  type_and_send (f, "A long story please");
  first_answer = last_message_of (first);
  WAIT_UNTIL (content_has (first, "tok1 "), STREAM_MS);

  /* Switching away leaves the answer streaming. */
  activate (f, "win.new-conversation");
  second = conversation (f);
  g_assert_true (second != first);
  g_assert_true (natter_conversation_is_streaming (first));
  g_assert_false (natter_composer_get_streaming (composer (f)));

  /* Two conversations stream at the same time. */
  natter_fake_provider_queue (f->provider, slow2);
  type_and_send (f, "And a short poem");
  g_assert_true (natter_conversation_is_streaming (first));
  g_assert_true (natter_conversation_is_streaming (second));
  g_assert_true (natter_composer_get_streaming (composer (f)));
  WAIT_UNTIL (spinner_shown_for (f, "A long story please") && spinner_shown_for (f, "And a short poem"),
              STREAM_MS);
  WAIT_UNTIL (content_has (second, "tok2 "), STREAM_MS);
  g_assert_true (natter_conversation_is_streaming (first));

  WAIT_UNTIL (done (first) && done (second), STREAM_MS);
  g_assert_cmpstr (natter_message_get_content (first_answer), ==, answer1);
  g_assert_cmpint (natter_message_get_state (first_answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpstr (natter_message_get_content (last_message_of (second)), ==, answer2);
  WAIT_UNTIL (!spinner_shown_for (f, "A long story please") && !spinner_shown_for (f, "And a short poem"),
              SHORT_MS);

  /* Both were saved, as another connection to the file reads them. */
  {
    const char *expected1[] = { "A long story please", answer1, NULL };
    const char *expected2[] = { "And a short poem", answer2, NULL };

    WAIT_UNTIL (db_messages_are (f, natter_conversation_get_id (first), expected1) &&
                db_messages_are (f, natter_conversation_get_id (second), expected2), SHORT_MS);
  }

  /* Back in the first, the whole answer is on screen. */
  g_assert_true (listed (f, 1) == first);
  select_listed (f, 1);
  g_assert_true (conversation (f) == first);
  WAIT_UNTIL (find_row (f, first_answer) != NULL, SHORT_MS);
  {
    g_autofree char *shown = shown_text (f, first_answer);

    g_assert_true (g_str_has_prefix (shown, "tok0 tok1 tok2"));
    g_assert_true (g_str_has_suffix (shown, "tok49"));
  }
}

/* Stop acts on the conversation on screen only. */
static void
test_stop_only_shown (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterFakeScript) slow1 = natter_fake_script_new_completion (40);
  g_autoptr(NatterFakeScript) slow2 = natter_fake_script_new_completion (40);
  NatterConversation *first = conversation (f);
  NatterConversation *second;

  natter_fake_script_set_interval (slow1, 60);
  natter_fake_script_set_interval (slow2, 60);
  natter_fake_provider_queue (f->provider, slow1);
  type_and_send (f, "Background answer");
  activate (f, "win.new-conversation");
  second = conversation (f);
  natter_fake_provider_queue (f->provider, slow2);
  type_and_send (f, "Foreground answer");
  WAIT_UNTIL (content_has (second, "tok1 "), STREAM_MS);

  press_shortcut (f, "Escape");
  WAIT_UNTIL (done (second), SHORT_MS);
  g_assert_cmpint (natter_message_get_state (last_message_of (second)), ==, NATTER_MESSAGE_STATE_STOPPED);
  g_assert_true (natter_conversation_is_streaming (first));
  WAIT_UNTIL (done (first), STREAM_MS);
  g_assert_cmpint (natter_message_get_state (last_message_of (first)), ==, NATTER_MESSAGE_STATE_COMPLETE);
}

static void
request_edit (Fixture       *f,
              NatterMessage *message)
{
  NatterMessageRow *row;
  GtkWidget *edit;

  /* The row's Edit button, as the user clicks it. */
  WAIT_UNTIL (find_row (f, message) != NULL, SHORT_MS);
  row = find_row (f, message);
  edit = find_widget (GTK_WIDGET (row), has_tooltip, "Edit and Resend");
  g_assert_true (GTK_IS_BUTTON (edit));
  g_assert_true (gtk_widget_get_visible (edit));
  g_signal_emit_by_name (edit, "clicked");
}

/* --- Drafts ------------------------------------------------------------------------- */

static void
assert_composer (Fixture    *f,
                 const char *expected)
{
  g_autofree char *text = composer_text (f);

  g_assert_cmpstr (text, ==, expected);
}

static void
test_draft_per_conversation (Fixture       *f,
                             gconstpointer  data)
{
  NatterConversation *alpha = conversation (f);
  NatterConversation *beta, *fresh;

  ask (f, "Alpha question");
  activate (f, "win.new-conversation");
  beta = conversation (f);
  ask (f, "Beta question");
  g_assert_true (listed (f, 0) == beta);
  g_assert_true (listed (f, 1) == alpha);

  natter_composer_set_text (composer (f), "half-written for beta");
  select_listed (f, 1);
  g_assert_true (conversation (f) == alpha);
  assert_composer (f, "");
  natter_composer_set_text (composer (f), "half-written for alpha");

  select_listed (f, 0);
  g_assert_true (conversation (f) == beta);
  assert_composer (f, "half-written for beta");

  /* Through a new conversation and back. */
  activate (f, "win.new-conversation");
  fresh = conversation (f);
  assert_composer (f, "");
  natter_composer_set_text (composer (f), "typed in the empty one");
  select_listed (f, 1);
  g_assert_true (conversation (f) == alpha);
  assert_composer (f, "half-written for alpha");
  /* The draft is not sent, nor saved as a message. */
  g_assert_cmpuint (n_messages (alpha), ==, 2);
  g_assert_cmpuint (count_chat_requests (f), ==, 2);

  /* The new conversation is not listed before its first message; asking
   * for a new one again brings it back, with what was typed in it, rather
   * than making another. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->history)), ==, 2);
  activate (f, "win.new-conversation");
  g_assert_true (conversation (f) == fresh);
  assert_composer (f, "typed in the empty one");
  natter_composer_set_text (composer (f), "");
  select_listed (f, 1);

  /* Switching away ends an edit; the draft, not the message edited, is
   * what comes back. */
  request_edit (f, message_at (alpha, 0));
  assert_composer (f, "Alpha question");
  WAIT_UNTIL (shows (GTK_WIDGET (f->window), "Editing your message"), SHORT_MS);
  select_listed (f, 0);
  g_assert_true (conversation (f) == beta);
  assert_composer (f, "half-written for beta");
  WAIT_UNTIL (!shows (GTK_WIDGET (f->window), "Editing your message"), SHORT_MS);
  select_listed (f, 1);
  assert_composer (f, "half-written for alpha");
  /* Sending is a new message, not the edit. */
  natter_composer_set_text (composer (f), "Alpha follow-up");
  activate (f, "win.send");
  g_assert_null (find_dialog (f));
  WAIT_UNTIL (done (alpha), STREAM_MS);
  g_assert_cmpuint (n_messages (alpha), ==, 4);
  g_assert_cmpstr (natter_message_get_content (message_at (alpha, 0)), ==, "Alpha question");
}

/* --- Search --------------------------------------------------------------------------- */

static gboolean
is_result_snippet (GtkWidget     *widget,
                   gconstpointer  markup)
{
  return GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget) &&
         gtk_label_get_use_markup (GTK_LABEL (widget)) &&
         strstr (gtk_label_get_label (GTK_LABEL (widget)), markup) != NULL;
}

static void
test_markup_for_snippet (void)
{
  struct {
    const char *snippet;
    const char *markup;
  } cases[] = {
    { "plain text", "plain text" },
    { "", "" },
    { "\002match\003", "<b>match</b>" },
    { "a \002b\003 c \002d\003", "a <b>b</b> c <b>d</b>" },
    { "x < y & z > w \002otters\003 \"q\" 'r'", "x &lt; y &amp; z &gt; w <b>otters</b> &quot;q&quot; &apos;r&apos;" },
    { "<\002b\003>", "&lt;<b>b</b>&gt;" },
    { "\002<tag>\003", "<b>&lt;tag&gt;</b>" },
    { "…cut \002é\003t\303\251…", "…cut <b>é</b>té…" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *markup = natter_sidebar_markup_for_snippet (cases[i].snippet);

      g_assert_cmpstr (markup, ==, cases[i].markup);
      /* What Pango is given must parse. */
      g_assert_true (pango_parse_markup (markup, -1, 0, NULL, NULL, NULL, NULL));
    }
}

static void
test_search (Fixture       *f,
             gconstpointer  data)
{
  GtkWidget *entry;
  GtkWidget *focus;
  NatterConversation *rivers;
  NatterSearchResult *result;
  gint64 rivers_id;

  ask (f, "Where do otters sleep at night?");
  activate (f, "win.new-conversation");
  ask (f, "Tell me about rivers");
  ask (f, "How do <beavers> & badgers build dams?");
  rivers_id = natter_conversation_get_id (conversation (f));

  /* After a restart nothing is opened yet: the result must open it. */
  restart (f);
  g_assert_cmpuint (n_listed (f), ==, 2);
  rivers = listed (f, 0);
  g_assert_cmpint (natter_conversation_get_id (rivers), ==, rivers_id);
  g_assert_cmpuint (n_messages (rivers), ==, 0);
  WAIT_UNTIL (shows (natter_sidebar_get_conversation_list (sidebar (f)), "Tell me about rivers") &&
              shows (natter_sidebar_get_conversation_list (sidebar (f)), "Where do otters sleep"), SHORT_MS);

  /* Ctrl+F: the search bar opens with the focus in its entry. */
  press_shortcut (f, "<Control>f");
  entry = natter_sidebar_get_search_entry (sidebar (f));
  WAIT_UNTIL (gtk_widget_get_mapped (entry), SHORT_MS);
  focus = gtk_window_get_focus (GTK_WINDOW (f->window));
  g_assert_true (focus == entry || (focus != NULL && gtk_widget_is_ancestor (focus, entry)));

  gtk_editable_set_text (GTK_EDITABLE (entry), "beavers");
  WAIT_UNTIL (n_results (f) >= 1 &&
              find_widget (natter_sidebar_get_result_list (sidebar (f)), is_result_snippet, "<b>beavers</b>"),
              SHORT_MS);
  g_assert_cmpuint (n_results (f), ==, 1);
  /* The match in bold, the rest as typed: escaped, not taken as markup. */
  g_assert_true (shows (natter_sidebar_get_result_list (sidebar (f)), "<beavers> & badgers"));
  g_assert_nonnull (find_widget (natter_sidebar_get_result_list (sidebar (f)), is_result_snippet,
                                 "&lt;<b>beavers</b>&gt; &amp; badgers"));
  g_assert_true (shows (natter_sidebar_get_result_list (sidebar (f)), "Tell me about rivers"));
  g_assert_false (gtk_widget_get_mapped (natter_sidebar_get_conversation_list (sidebar (f))));

  /* Words from several conversations. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "tok3");
  WAIT_UNTIL (n_results (f) == 3, SHORT_MS);

  /* A miss says so. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "zebras");
  WAIT_UNTIL (n_results (f) == 0 && shows (GTK_WIDGET (sidebar (f)), "No Results Found"), SHORT_MS);

  /* Picking a result opens its conversation at the message. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "beavers");
  WAIT_UNTIL (n_results (f) == 1, SHORT_MS);
  result = g_list_model_get_item (results (f), 0);
  g_assert_true (natter_search_result_get_conversation (result) == rivers);
  g_assert_cmpuint (natter_search_result_get_position (result), ==, 2);
  g_object_unref (result);
  g_signal_emit_by_name (natter_sidebar_get_result_list (sidebar (f)), "activate", 0);
  g_assert_true (conversation (f) == rivers);
  g_assert_cmpuint (n_messages (rivers), ==, 4);
  g_assert_cmpstr (natter_message_get_content (message_at (rivers, 2)), ==, "How do <beavers> & badgers build dams?");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "Tell me about rivers");
  g_assert_false (natter_chat_view_get_following (NATTER_CHAT_VIEW (natter_window_get_chat_view (f->window))));
  WAIT_UNTIL (row_on_screen (f, message_at (rivers, 2)), SHORT_MS);
  /* The whole conversation fits: nothing below to jump to. */
  natter_test_iterate_for (300);
  g_assert_false (jump_offered (f));
  save_screenshot (f, "sidebar-search.png");

  /* Emptying the search brings the list back, the conversation selected. */
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  WAIT_UNTIL (gtk_widget_get_mapped (natter_sidebar_get_conversation_list (sidebar (f))), SHORT_MS);
  g_assert_true (listed (f, gtk_single_selection_get_selected (sidebar_model (f))) == rivers);
  save_screenshot (f, "sidebar.png");

  /* And the conversation goes on from where it was saved. */
  ask (f, "One more about rivers");
  g_assert_cmpuint (n_messages (rivers), ==, 6);
  g_assert_nonnull (strstr (last_chat_body (f), "How do <beavers> & badgers build dams?"));
}

/* A result far down a long conversation: the view scrolls to it. */
static void
test_search_scrolls_to_message (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(NatterConversation) imported = natter_conversation_new ();
  g_autofree char *json = NULL;
  GtkWidget *entry;
  GtkAdjustment *adjustment;

  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *text = g_strdup_printf (i == 20 ? "Message %u mentions the narwhal" : "Message %u, filler text\nand more",
                                               i);
      g_ptr_array_add (messages, natter_message_new (i % 2 ? NATTER_ROLE_ASSISTANT : NATTER_ROLE_USER, text));
    }
  natter_conversation_set_title (imported, "A long one");
  natter_conversation_append_all (imported, messages);
  json = natter_conversation_to_json (imported);
  g_assert_true (natter_window_import (f->window, json, strlen (json)));
  WAIT_UNTIL (find_row (f, last_message_of (conversation (f))) != NULL, SHORT_MS);
  activate (f, "win.new-conversation");
  ask (f, "Something else");

  activate (f, "win.search");
  entry = natter_sidebar_get_search_entry (sidebar (f));
  gtk_editable_set_text (GTK_EDITABLE (entry), "narwhal");
  WAIT_UNTIL (n_results (f) == 1, SHORT_MS);
  g_signal_emit_by_name (natter_sidebar_get_result_list (sidebar (f)), "activate", 0);
  g_assert_cmpstr (natter_conversation_get_title (conversation (f)), ==, "A long one");
  WAIT_UNTIL (row_on_screen (f, message_at (conversation (f), 20)), SHORT_MS);
  adjustment = natter_chat_view_get_vadjustment (NATTER_CHAT_VIEW (natter_window_get_chat_view (f->window)));
  natter_test_iterate_for (300);
  /* Not at the bottom: the view stays at the message. */
  g_assert_false (natter_chat_view_get_following (NATTER_CHAT_VIEW (natter_window_get_chat_view (f->window))));
  g_assert_true (row_on_screen (f, message_at (conversation (f), 20)));
  g_assert_false (row_on_screen (f, last_message_of (conversation (f))));
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment) + gtk_adjustment_get_page_size (adjustment), <,
                     gtk_adjustment_get_upper (adjustment) - 4);
  g_assert_true (jump_offered (f));
}

/* A result found before its conversation was deleted cannot bring the
 * conversation back: it is on its way out of the file. */
static void
test_search_result_of_deleted (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(NatterConversation) doomed = NULL;
  NatterConversation *other;
  GtkWidget *entry;

  ask (f, "Penguins live in the south");
  doomed = g_object_ref (conversation (f));
  activate (f, "win.new-conversation");
  ask (f, "Something unrelated");
  other = conversation (f);

  activate (f, "win.search");
  entry = natter_sidebar_get_search_entry (sidebar (f));
  gtk_editable_set_text (GTK_EDITABLE (entry), "penguins");
  WAIT_UNTIL (n_results (f) == 1, SHORT_MS);
  g_signal_emit_by_name (natter_sidebar_get_result_list (sidebar (f)), "activate", 0);
  g_assert_true (conversation (f) == doomed);

  activate (f, "win.delete-conversation");
  g_assert_true (conversation (f) != doomed);
  /* The result goes with it; were it still there, picking it must not
   * open the deleted conversation. */
  natter_test_iterate_for (100);
  if (n_results (f) > 0)
    g_signal_emit_by_name (natter_sidebar_get_result_list (sidebar (f)), "activate", 0);
  g_assert_true (conversation (f) != doomed);
  g_assert_cmpuint (n_results (f), ==, 0);
  WAIT_UNTIL (shows (GTK_WIDGET (sidebar (f)), "No Results Found"), SHORT_MS);
  g_assert_cmpuint (n_listed (f), ==, 1);
  g_assert_true (listed (f, 0) == other);
}

/* --- Rename --------------------------------------------------------------------------- */

static void
test_rename (Fixture       *f,
             gconstpointer  data)
{
  AdwMessageDialog *dialog;
  GtkWidget *entry;
  gint64 id;

  g_assert_false (menu_item_sensitive (f, "Rename Conversation"));
  ask (f, "What should this conversation be called?");
  id = natter_conversation_get_id (conversation (f));
  g_assert_true (menu_item_sensitive (f, "Rename Conversation"));

  activate (f, "win.rename-conversation");
  dialog = find_dialog (f);
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Rename Conversation");
  entry = adw_message_dialog_get_extra_child (dialog);
  g_assert_true (GTK_IS_EDITABLE (entry));
  /* The current title, to edit. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "What should this conversation be called?");
  gtk_editable_set_text (GTK_EDITABLE (entry), "  Naming things  ");
  respond (f, dialog, "rename");
  g_assert_null (find_dialog (f));

  g_assert_cmpstr (natter_conversation_get_title (conversation (f)), ==, "Naming things");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "Naming things");
  WAIT_UNTIL (shows (natter_sidebar_get_conversation_list (sidebar (f)), "Naming things"), SHORT_MS);
  g_assert_false (shows (natter_sidebar_get_conversation_list (sidebar (f)), "What should this"));
  WAIT_UNTIL (db_title_is (f, id, "Naming things"), SHORT_MS);

  /* Cancel, or an empty title, changes nothing. */
  activate (f, "win.rename-conversation");
  dialog = find_dialog (f);
  gtk_editable_set_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog)), "Not this");
  respond (f, dialog, "cancel");
  activate (f, "win.rename-conversation");
  dialog = find_dialog (f);
  gtk_editable_set_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog)), "   ");
  respond (f, dialog, "rename");
  g_assert_cmpstr (natter_conversation_get_title (conversation (f)), ==, "Naming things");

  /* A later message does not bring the first prompt's title back. */
  ask (f, "Another message");
  g_assert_cmpstr (natter_conversation_get_title (conversation (f)), ==, "Naming things");
  natter_test_iterate_for (100);
  g_assert_true (db_title_is (f, id, "Naming things"));
}

/* --- Delete and Undo --------------------------------------------------------------------- */

/* The button of the toast on screen labelled @label, once the toast has
 * finished sliding in. libadwaita 1.2.2 frees a toast dismissed while its
 * show animation runs and then touches it when the animation ends (a crash
 * fixed in later versions, see free_toast_info() there), which a user is
 * far too slow to meet but a test is not. */
static GtkWidget *
toast_button (Fixture    *f,
              const char *label)
{
  WAIT_UNTIL (find_widget (GTK_WIDGET (f->window), is_button_labelled, label) != NULL, SHORT_MS);
  natter_test_iterate_for (1000);
  return find_widget (GTK_WIDGET (f->window), is_button_labelled, label);
}

static void
test_delete_and_undo (Fixture       *f,
                      gconstpointer  data)
{
  NatterConversation *keep = conversation (f);
  g_autoptr(NatterConversation) doomed = NULL;
  GtkWidget *undo;
  gint64 doomed_id;

  ask (f, "Keep this one");
  activate (f, "win.new-conversation");
  /* Nothing to delete in an empty conversation. */
  g_assert_false (menu_item_sensitive (f, "Delete Conversation"));
  doomed = g_object_ref (conversation (f));
  ask (f, "Delete this one");
  doomed_id = natter_conversation_get_id (doomed);
  g_assert_true (menu_item_sensitive (f, "Delete Conversation"));
  g_assert_cmpuint (n_listed (f), ==, 2);

  activate (f, "win.delete-conversation");
  /* Gone from the list; a new, empty conversation in its place. */
  g_assert_cmpuint (n_listed (f), ==, 1);
  g_assert_true (listed (f, 0) == keep);
  g_assert_true (conversation (f) != doomed && conversation (f) != keep);
  g_assert_cmpuint (n_messages (conversation (f)), ==, 0);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "Natter");
  WAIT_UNTIL (shows (GTK_WIDGET (f->window), "“Delete this one” deleted"), SHORT_MS);
  /* Not found by search while it can be undone. */
  {
    g_autoptr(GListModel) found = natter_history_search (f->history, "Delete", NULL);
    g_assert_cmpuint (g_list_model_get_n_items (found), ==, 0);
  }
  g_assert_true (db_has (f, doomed_id));

  /* Undo, on the toast: back in its place, and on screen. */
  undo = toast_button (f, "_Undo");
  g_assert_nonnull (undo);
  g_signal_emit_by_name (undo, "clicked");
  g_assert_cmpuint (n_listed (f), ==, 2);
  g_assert_true (listed (f, 0) == doomed);
  g_assert_true (conversation (f) == doomed);
  g_assert_cmpuint (gtk_single_selection_get_selected (sidebar_model (f)), ==, 0);
  natter_test_iterate_for (300);
  g_assert_true (db_has (f, doomed_id));
  g_assert_cmpuint (n_messages (doomed), ==, 2);

  /* Deleted again, and the toast closed: deleted for good. */
  activate (f, "win.delete-conversation");
  g_assert_cmpuint (n_listed (f), ==, 1);
  {
    GtkWidget *toast = gtk_widget_get_parent (toast_button (f, "_Undo"));
    GtkWidget *close = NULL;

    /* The other button of the toast is its close button. */
    for (GtkWidget *child = gtk_widget_get_first_child (toast); child != NULL;
         child = gtk_widget_get_next_sibling (child))
      if (GTK_IS_BUTTON (child) && gtk_button_get_label (GTK_BUTTON (child)) == NULL)
        close = child;
    g_assert_nonnull (close);
    g_signal_emit_by_name (close, "clicked");
  }
  WAIT_UNTIL (!db_has (f, doomed_id), SHORT_MS);
  g_assert_true (db_has (f, natter_conversation_get_id (keep)));

  /* The Undo of a conversation still listed when the window closes is
   * given up: deleted when the history goes. */
  select_listed (f, 0);
  g_assert_true (conversation (f) == keep);
  {
    gint64 keep_id = natter_conversation_get_id (keep);

    activate (f, "win.delete-conversation");
    g_assert_cmpuint (n_listed (f), ==, 0);
    WAIT_UNTIL (shows (GTK_WIDGET (sidebar (f)), "No Conversations"), SHORT_MS);
    g_assert_true (db_has (f, keep_id));
    close_window (f);
    close_history (f);
    g_assert_false (db_has (f, keep_id));
  }
}

/* Deleting a conversation whose answer streams stops it. */
static void
test_delete_while_streaming (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(NatterFakeScript) slow = natter_fake_script_new_completion (200);
  g_autoptr(NatterConversation) doomed = NULL;

  natter_fake_script_set_interval (slow, 50);
  natter_fake_provider_queue (f->provider, slow);
  type_and_send (f, "Never mind");
  doomed = g_object_ref (conversation (f));
  WAIT_UNTIL (content_has (doomed, "tok1 "), STREAM_MS);
  activate (f, "win.delete-conversation");
  WAIT_UNTIL (done (doomed), SHORT_MS);
  g_assert_cmpuint (n_listed (f), ==, 0);
  g_assert_false (natter_conversation_is_streaming (conversation (f)));
  WAIT_UNTIL (natter_fake_provider_get_n_hangups (f->provider) >= 1, SHORT_MS);
}

/* --- Edit and resend ------------------------------------------------------------------------ */

static void
test_edit_and_resend (Fixture       *f,
                      gconstpointer  data)
{
  NatterConversation *shown = conversation (f);
  g_autoptr(NatterFakeScript) edited_answer = answer_script ("An answer to the edited question.");
  AdwMessageDialog *dialog;
  NatterMessage *first;
  g_autoptr(NatterMessage) second_question = NULL;
  gint64 id;

  ask (f, "First question");
  ask (f, "Second question");
  id = natter_conversation_get_id (shown);
  g_assert_cmpuint (n_messages (shown), ==, 4);
  first = message_at (shown, 0);
  second_question = g_object_ref (message_at (shown, 2));

  /* Something typed but not sent yet comes back after a cancelled edit. */
  natter_composer_set_text (composer (f), "a draft");
  request_edit (f, first);
  assert_composer (f, "First question");
  WAIT_UNTIL (shows (GTK_WIDGET (f->window), "Editing your message"), SHORT_MS);
  natter_composer_set_text (composer (f), "First question, changed my mind");
  activate (f, "win.cancel-edit");
  assert_composer (f, "a draft");
  WAIT_UNTIL (!shows (GTK_WIDGET (f->window), "Editing your message"), SHORT_MS);
  /* Sending now sends a new message, not an edit. */
  g_assert_cmpuint (n_messages (shown), ==, 4);

  /* Edit, send: asked first, since later messages go. */
  request_edit (f, first);
  assert_composer (f, "First question");
  natter_composer_set_text (composer (f), "First question, edited");
  activate (f, "win.send");
  dialog = find_dialog (f);
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_body (dialog), ==, "The 3 messages after the one you edited will be deleted.");
  /* Nothing changed while the dialog asks. */
  g_assert_cmpuint (n_messages (shown), ==, 4);
  g_assert_cmpuint (count_chat_requests (f), ==, 2);

  natter_fake_provider_queue (f->provider, edited_answer);
  respond (f, dialog, "replace");
  WAIT_UNTIL (count_chat_requests (f) == 3 && done (shown), STREAM_MS);
  g_assert_cmpuint (n_messages (shown), ==, 2);
  g_assert_cmpstr (natter_message_get_content (message_at (shown, 0)), ==, "First question, edited");
  g_assert_cmpstr (natter_message_get_content (message_at (shown, 1)), ==, "An answer to the edited question.");
  g_assert_nonnull (strstr (last_chat_body (f), "First question, edited"));
  g_assert_null (strstr (last_chat_body (f), "Second question"));
  g_assert_null (strstr (last_chat_body (f), "tok0"));
  g_assert_null (find_row (f, second_question));
  WAIT_UNTIL (!shows (GTK_WIDGET (f->window), "Editing your message"), SHORT_MS);
  {
    const char *expected[] = { "First question, edited", "An answer to the edited question.", NULL };

    WAIT_UNTIL (db_messages_are (f, id, expected), SHORT_MS);
  }

  /* Cancelling the confirmation keeps everything, and the edit goes on. */
  ask (f, "Third question");
  request_edit (f, message_at (shown, 0));
  natter_composer_set_text (composer (f), "Not sent");
  activate (f, "win.send");
  dialog = find_dialog (f);
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_body (dialog), ==, "The 3 messages after the one you edited will be deleted.");
  respond (f, dialog, "cancel");
  g_assert_cmpuint (n_messages (shown), ==, 4);
  g_assert_cmpuint (count_chat_requests (f), ==, 4);
  assert_composer (f, "Not sent");
  activate (f, "win.cancel-edit");
  assert_composer (f, "");
}

/* --- Regenerate and Continue ------------------------------------------------------------------ */

static void
test_regenerate (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(NatterFakeScript) first = answer_script ("Seven.");
  g_autoptr(NatterFakeScript) second = answer_script ("Forty-two.");
  NatterConversation *shown = conversation (f);

  g_assert_false (button_shown (f, "win.regenerate"));
  natter_fake_provider_queue (f->provider, first);
  ask (f, "Pick a number");
  g_assert_cmpstr (natter_message_get_content (last_message_of (shown)), ==, "Seven.");
  WAIT_UNTIL (button_shown (f, "win.regenerate"), SHORT_MS);

  natter_fake_provider_queue (f->provider, second);
  activate (f, "win.regenerate");
  g_assert_true (natter_conversation_is_streaming (shown));
  WAIT_UNTIL (done (shown), STREAM_MS);
  g_assert_cmpuint (n_messages (shown), ==, 2);
  g_assert_cmpstr (natter_message_get_content (message_at (shown, 0)), ==, "Pick a number");
  g_assert_cmpstr (natter_message_get_content (last_message_of (shown)), ==, "Forty-two.");
  /* The old answer is not sent back. */
  g_assert_nonnull (strstr (last_chat_body (f), "Pick a number"));
  g_assert_null (strstr (last_chat_body (f), "Seven."));
  WAIT_UNTIL (find_row (f, last_message_of (shown)) != NULL, SHORT_MS);
  {
    g_autofree char *text = shown_text (f, last_message_of (shown));
    const char *expected[] = { "Pick a number", "Forty-two.", NULL };

    g_assert_cmpstr (text, ==, "Forty-two.");
    WAIT_UNTIL (db_messages_are (f, natter_conversation_get_id (shown), expected), SHORT_MS);
  }
}

static void
test_continue_after_stop (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(NatterFakeScript) stall = natter_fake_script_new (200);
  g_autoptr(NatterFakeScript) rest = answer_script (" and the rest.");
  g_autoptr(JsonParser) parser = json_parser_new ();
  NatterConversation *shown = conversation (f);
  NatterMessage *partial;
  JsonArray *messages;
  JsonObject *message;
  guint n;

  natter_fake_script_add_content (stall, "Partial answer");
  natter_fake_script_set_ending (stall, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, stall);
  type_and_send (f, "Tell me a long story");
  partial = last_message_of (shown);
  WAIT_UNTIL (g_strcmp0 (natter_message_get_content (partial), "Partial answer") == 0, STREAM_MS);
  g_assert_false (button_shown (f, "win.continue"));

  activate (f, "win.stop");
  WAIT_UNTIL (done (shown), SHORT_MS);
  g_assert_cmpint (natter_message_get_state (partial), ==, NATTER_MESSAGE_STATE_STOPPED);
  WAIT_UNTIL (button_shown (f, "win.continue"), SHORT_MS);

  natter_fake_provider_queue (f->provider, rest);
  activate (f, "win.continue");
  g_assert_true (natter_conversation_is_streaming (shown));
  WAIT_UNTIL (done (shown), STREAM_MS);
  /* The same answer grew: no new message. */
  g_assert_cmpuint (n_messages (shown), ==, 2);
  g_assert_true (last_message_of (shown) == partial);
  g_assert_cmpstr (natter_message_get_content (partial), ==, "Partial answer and the rest.");
  g_assert_cmpint (natter_message_get_state (partial), ==, NATTER_MESSAGE_STATE_COMPLETE);
  WAIT_UNTIL (!button_shown (f, "win.continue"), SHORT_MS);
  {
    g_autofree char *text = shown_text (f, partial);
    g_assert_cmpstr (text, ==, "Partial answer and the rest.");
  }

  /* What the provider was sent: the partial answer, then the request to
   * go on. */
  g_assert_true (json_parser_load_from_data (parser, last_chat_body (f), -1, NULL));
  messages = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "messages");
  n = json_array_get_length (messages);
  g_assert_cmpuint (n, >=, 3);
  message = json_array_get_object_element (messages, n - 3);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "user");
  g_assert_cmpstr (json_object_get_string_member (message, "content"), ==, "Tell me a long story");
  message = json_array_get_object_element (messages, n - 2);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "assistant");
  g_assert_cmpstr (json_object_get_string_member (message, "content"), ==, "Partial answer");
  message = json_array_get_object_element (messages, n - 1);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "user");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (message, "content"), "Continue"));
  {
    const char *expected[] = { "Tell me a long story", "Partial answer and the rest.", NULL };

    WAIT_UNTIL (db_messages_are (f, natter_conversation_get_id (shown), expected), SHORT_MS);
  }
}

/* --- Import ----------------------------------------------------------------------------------- */

static void
test_import (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(NatterConversation) source = natter_conversation_new ();
  g_autoptr(NatterMessage) question = natter_message_new (NATTER_ROLE_USER, "How do kites fly?");
  g_autoptr(NatterMessage) answer = natter_message_new (NATTER_ROLE_ASSISTANT, "The wind pushes on them.");
  g_autofree char *json = NULL;
  NatterConversation *before;
  NatterConversation *imported;
  AdwMessageDialog *dialog;
  const char *invalid = "{\"not\": \"a conversation\"";

  ask (f, "Something first");
  before = conversation (f);
  g_assert_true (menu_item_sensitive (f, "Import Conversation"));

  natter_conversation_set_title (source, "Kites");
  natter_conversation_append (source, question);
  natter_conversation_append (source, answer);
  json = natter_conversation_to_json (source);

  g_assert_true (natter_window_import (f->window, json, strlen (json)));
  imported = conversation (f);
  g_assert_true (imported != before);
  g_assert_cmpuint (n_listed (f), ==, 2);
  g_assert_true (listed (f, 0) == imported);
  g_assert_cmpuint (gtk_single_selection_get_selected (sidebar_model (f)), ==, 0);
  g_assert_cmpstr (natter_conversation_get_title (imported), ==, "Kites");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "Kites");
  g_assert_cmpuint (n_messages (imported), ==, 2);
  WAIT_UNTIL (find_row (f, message_at (imported, 1)) != NULL, SHORT_MS);
  {
    g_autofree char *text = shown_text (f, message_at (imported, 1));
    const char *expected[] = { "How do kites fly?", "The wind pushes on them.", NULL };

    g_assert_cmpstr (text, ==, "The wind pushes on them.");
    g_assert_true (db_messages_are (f, natter_conversation_get_id (imported), expected));
    g_assert_true (db_title_is (f, natter_conversation_get_id (imported), "Kites"));
  }
  WAIT_UNTIL (shows (natter_sidebar_get_conversation_list (sidebar (f)), "Kites"), SHORT_MS);

  /* It goes on like any other. */
  ask (f, "And in a storm?");
  g_assert_nonnull (strstr (last_chat_body (f), "The wind pushes on them."));

  /* Not an export: said so, nothing added, nothing else changed. */
  g_assert_false (natter_window_import (f->window, invalid, strlen (invalid)));
  dialog = find_dialog (f);
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Could Not Import");
  g_assert_nonnull (adw_message_dialog_get_body (dialog));
  g_assert_cmpstr (adw_message_dialog_get_body (dialog), !=, "");
  g_assert_true (conversation (f) == imported);
  g_assert_cmpuint (n_listed (f), ==, 2);
  respond (f, dialog, "close");
  g_assert_null (find_dialog (f));
  g_assert_false (natter_window_import (f->window, "", 0));
  dialog = find_dialog (f);
  g_assert_nonnull (dialog);
  respond (f, dialog, "close");
  g_assert_cmpuint (n_listed (f), ==, 2);
  {
    g_autoptr(NatterStore) store = reader (f);
    g_autoptr(GPtrArray) saved = natter_store_list_conversations (store, NULL);

    g_assert_cmpuint (saved->len, ==, 2);
  }
}

/* --- Export and import through the file chooser ------------------------------------------------ */

static gboolean
chooser_has_file (GtkFileChooser *chooser,
                  GFile          *file)
{
  g_autoptr(GFile) chosen = gtk_file_chooser_get_file (chooser);

  return chosen != NULL && g_file_equal (chosen, file);
}

static GtkFileChooser *
find_file_chooser (void)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (GTK_IS_FILE_CHOOSER_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      return GTK_FILE_CHOOSER (l->data);
  return NULL;
}

/* Picks @path in the file chooser the window opened, as a user would, and
 * confirms. (No portal on the test's bus: GTK's own dialog stands in.) */
static void
choose_file (Fixture    *f,
             const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GtkFileChooser *chooser;

  WAIT_UNTIL (find_file_chooser () != NULL, SHORT_MS);
  chooser = find_file_chooser ();
  /* The chooser loads folders asynchronously, and may still switch to the
   * one it started loading: set the file until it sticks. */
  for (guint i = 0, stable = 0; i < 30 && stable < 2; i++)
    {
      if (chooser_has_file (chooser, file))
        stable++;
      else if (gtk_file_chooser_get_action (chooser) == GTK_FILE_CHOOSER_ACTION_SAVE)
        {
          g_autoptr(GFile) folder = g_file_get_parent (file);
          g_autofree char *name = g_file_get_basename (file);

          stable = 0;
          gtk_file_chooser_set_current_folder (chooser, folder, NULL);
          gtk_file_chooser_set_current_name (chooser, name);
        }
      else
        {
          stable = 0;
          gtk_file_chooser_set_file (chooser, file, NULL);
        }
      natter_test_iterate_for (250);
    }
  g_assert_true (chooser_has_file (chooser, file));
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  WAIT_UNTIL (find_file_chooser () == NULL, SHORT_MS);
}

static gboolean
file_has_text (const char *path)
{
  g_autofree char *contents = NULL;

  return g_file_get_contents (path, &contents, NULL, NULL) && *contents != '\0';
}

static void
test_export_and_import_files (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *json_path = g_build_filename (f->dir, "exported.json", NULL);
  g_autofree char *markdown_path = g_build_filename (f->dir, "exported.md", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(NatterConversation) parsed = NULL;
  NatterConversation *original = conversation (f);
  NatterConversation *imported;

  g_assert_false (menu_item_sensitive (f, "Export as JSON"));
  ask (f, "Export me please");
  g_assert_true (menu_item_sensitive (f, "Export as JSON"));
  g_assert_true (menu_item_sensitive (f, "Export as Markdown"));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.export-conversation", "s", "json"));
  choose_file (f, json_path);
  WAIT_UNTIL (file_has_text (json_path) && shows (GTK_WIDGET (f->window), "Conversation exported"), SHORT_MS);
  g_assert_true (g_file_get_contents (json_path, &contents, NULL, NULL));
  parsed = natter_conversation_new_from_json (contents, -1, NULL);
  g_assert_nonnull (parsed);
  g_assert_cmpstr (natter_conversation_get_title (parsed), ==, "Export me please");
  g_assert_cmpuint (n_messages (parsed), ==, 2);
  g_assert_cmpstr (natter_message_get_content (message_at (parsed, 1)), ==,
                   natter_message_get_content (message_at (original, 1)));

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.export-conversation", "s", "markdown"));
  choose_file (f, markdown_path);
  WAIT_UNTIL (file_has_text (markdown_path), SHORT_MS);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (markdown_path, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "Export me please"));
  g_assert_nonnull (strstr (contents, "tok7"));

  /* The JSON comes back in as a new conversation, listed first. */
  activate (f, "win.import-conversation");
  choose_file (f, json_path);
  WAIT_UNTIL (conversation (f) != original, SHORT_MS);
  imported = conversation (f);
  g_assert_cmpuint (n_listed (f), ==, 2);
  g_assert_true (listed (f, 0) == imported);
  g_assert_cmpstr (natter_conversation_get_title (imported), ==, "Export me please");
  g_assert_cmpuint (n_messages (imported), ==, 2);
  g_assert_cmpint (natter_conversation_get_id (imported), !=, natter_conversation_get_id (original));
}

/* --- Without a history ------------------------------------------------------------------------ */

static void
test_without_history (Fixture       *f,
                      gconstpointer  data)
{
  GtkWidget *flap_button = find_widget (GTK_WIDGET (f->window), has_tooltip, "Show Conversations");
  NatterConversation *first = conversation (f);

  g_assert_true (GTK_IS_TOGGLE_BUTTON (flap_button));
  g_assert_false (gtk_widget_get_visible (flap_button));
  g_assert_false (gtk_widget_get_mapped (GTK_WIDGET (sidebar (f))));

  ask (f, "Hello without history");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (f->window)), ==, "Hello without history");
  g_assert_cmpint (natter_conversation_get_id (first), ==, 0);
  g_assert_false (menu_item_sensitive (f, "Delete Conversation"));
  g_assert_false (menu_item_sensitive (f, "Import Conversation"));
  g_assert_true (menu_item_sensitive (f, "Rename Conversation"));

  /* Disabled actions do nothing; search and F9 have no sidebar to show. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.delete-conversation", NULL);
  g_assert_true (conversation (f) == first);
  g_assert_cmpuint (n_messages (first), ==, 2);
  press_shortcut (f, "<Control>f");
  press_shortcut (f, "F9");
  natter_test_iterate_for (100);
  g_assert_false (gtk_widget_get_mapped (GTK_WIDGET (sidebar (f))));
  g_assert_false (gtk_widget_get_visible (flap_button));

  /* Regenerate and a new conversation still work. */
  activate (f, "win.regenerate");
  WAIT_UNTIL (done (first), STREAM_MS);
  g_assert_cmpuint (n_messages (first), ==, 2);
  press_shortcut (f, "<Control>n");
  g_assert_true (conversation (f) != first);
  g_assert_cmpuint (n_messages (conversation (f)), ==, 0);
  ask (f, "Second, still without history");
  g_assert_null (strstr (last_chat_body (f), "Hello without history"));
  g_assert_null (find_dialog (f));
  g_assert_false (g_file_test (f->db_path, G_FILE_TEST_EXISTS));
}

/* A history given to a window that already shows a conversation with
 * messages keeps that conversation: it is saved and listed. */
static void
test_history_set_later (Fixture       *f,
                        gconstpointer  data)
{
  NatterConversation *before = conversation (f);
  gint64 id;

  ask (f, "Said before the history was there");
  open_history (f);
  natter_window_set_history (f->window, f->history);
  g_assert_true (conversation (f) == before);
  id = natter_conversation_get_id (before);
  g_assert_cmpint (id, >, 0);
  g_assert_cmpuint (n_listed (f), ==, 1);
  g_assert_true (listed (f, 0) == before);
  g_assert_cmpuint (gtk_single_selection_get_selected (sidebar_model (f)), ==, 0);
  {
    g_autofree char *answer = completion_text (8);
    const char *expected[] = { "Said before the history was there", answer, NULL };

    g_assert_true (db_messages_are (f, id, expected));
  }
  /* And it goes on being saved. */
  ask (f, "Said after");
  {
    g_autofree char *answer = completion_text (8);
    const char *expected[] = { "Said before the history was there", answer, "Said after", answer, NULL };

    WAIT_UNTIL (db_messages_are (f, id, expected), SHORT_MS);
  }
  /* An empty conversation is simply replaced. */
  activate (f, "win.new-conversation");
  g_assert_cmpuint (n_messages (conversation (f)), ==, 0);
}

/* With a history, the sidebar is there and F9 toggles it. */
static void
test_sidebar_toggle (Fixture       *f,
                     gconstpointer  data)
{
  GtkWidget *flap_button = find_widget (GTK_WIDGET (f->window), has_tooltip, "Show Conversations");
  AdwFlap *flap = ADW_FLAP (gtk_widget_get_ancestor (GTK_WIDGET (sidebar (f)), ADW_TYPE_FLAP));

  g_assert_true (gtk_widget_get_visible (flap_button));
  /* Each change waits for the sidebar's slide to end. Once, under a
   * sanitizer, libadwaita 1.2's flap allocated its content a width of
   * G_MININT in this test (a GTK warning, fatal here), most likely when F9
   * turned the first slide back half-way. */
  WAIT_UNTIL (adw_flap_get_reveal_progress (flap) == 1.0, SHORT_MS);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (sidebar (f))));
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (flap_button)));
  press_shortcut (f, "F9");
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (flap_button)));
  WAIT_UNTIL (adw_flap_get_reveal_progress (flap) == 0.0, SHORT_MS);
  WAIT_UNTIL (!gtk_widget_get_mapped (GTK_WIDGET (sidebar (f))), SHORT_MS);
  /* Ctrl+F brings it back, searching. */
  press_shortcut (f, "<Control>f");
  WAIT_UNTIL (gtk_widget_get_mapped (natter_sidebar_get_search_entry (sidebar (f))), SHORT_MS);
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (flap_button)));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

#define ADD(path, func) \
  g_test_add ("/natter/history-window/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/natter/history-window/markup-for-snippet", test_markup_for_snippet);
  ADD ("send-lists-conversation", test_send_lists_conversation);
  ADD ("new-and-switch", test_new_and_switch);
  ADD ("stream-in-background", test_stream_in_background);
  ADD ("stop-only-shown", test_stop_only_shown);
  ADD ("draft-per-conversation", test_draft_per_conversation);
  ADD ("search", test_search);
  ADD ("search-scrolls-to-message", test_search_scrolls_to_message);
  ADD ("search-result-of-deleted", test_search_result_of_deleted);
  ADD ("rename", test_rename);
  ADD ("delete-and-undo", test_delete_and_undo);
  ADD ("delete-while-streaming", test_delete_while_streaming);
  ADD ("edit-and-resend", test_edit_and_resend);
  ADD ("regenerate", test_regenerate);
  ADD ("continue-after-stop", test_continue_after_stop);
  ADD ("import", test_import);
  ADD ("export-and-import-files", test_export_and_import_files);
  ADD ("sidebar-toggle", test_sidebar_toggle);
  g_test_add ("/natter/history-window/without-history", Fixture, NO_HISTORY,
              fixture_set_up, test_without_history, fixture_tear_down);
  g_test_add ("/natter/history-window/history-set-later", Fixture, NO_HISTORY,
              fixture_set_up, test_history_set_later, fixture_tear_down);

  return g_test_run ();
}
