/* natter-window.c — the main window: the conversations and a composer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window is given its client (provider endpoint and key) and model by
 * the application; with no client it shows how to connect one. Given a
 * history, it lists the saved conversations in a sidebar and shows one at a
 * time; the others go on streaming and saving in the background, and Stop
 * acts on the one on screen. Without a history (it could not be opened)
 * conversations live as long as the window.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "natter-chat-view.h"
#include "natter-composer.h"
#include "natter-conversation-export.h"
#include "natter-sidebar.h"
#include "natter-window.h"

/* Not editing: the composer writes a new message. */
#define NO_EDIT G_MAXUINT

/* What the composer held for a conversation that is not on screen. */
#define DRAFT_KEY "natter-window-draft"

struct _NatterWindow
{
  AdwApplicationWindow  parent_instance;

  GMenu                *primary_menu;
  GtkWidget            *flap;
  GtkWidget            *flap_button;
  GtkWidget            *sidebar;
  GtkWidget            *answer_actions_revealer;
  GtkWidget            *regenerate_button;
  GtkWidget            *continue_button;
  GtkWidget            *edit_revealer;
  GtkWidget            *conversation_popover;
  GtkWidget            *model_entry;
  GtkWidget            *system_prompt_view;
  GtkWidget            *default_temperature_check;
  GtkWidget            *temperature_spin;
  GtkWidget            *model_dropdown;
  GtkStringList        *model_list;
  GtkWidget            *toast_overlay;
  GtkWidget            *note_revealer;
  GtkWidget            *note_label;
  GtkWidget            *main_stack;
  GtkWidget            *chat_stack;
  GtkWidget            *empty_page;
  GtkWidget            *chat_view;
  GtkWidget            *composer;

  NatterClient         *client;
  NatterHistory        *history;
  NatterConversation   *conversation;
  NatterConversation   *fresh_conversation;  /* the newest, if still empty */
  GBinding             *streaming_binding;
  GCancellable         *models_cancellable;
  guint                 edit_position;
  char                 *draft_before_edit;
  char                 *model;
  gboolean              showing_conversation_settings;
};

G_DEFINE_FINAL_TYPE (NatterWindow, natter_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_MODEL,
  PROP_CONVERSATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CONVERSATION_CREATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- Actions' availability ------------------------------------------------ */

/* The model picked in the header bar; before the list has loaded, the one
 * the window was given. */
static const char *
current_model (NatterWindow *self)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (GTK_DROP_DOWN (self->model_dropdown));

  return item != NULL ? gtk_string_object_get_string (item) : self->model;
}


static gboolean
last_answer_can_retry (NatterWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversation));
  NatterMessage *last = n > 0 ? natter_conversation_get_message (self->conversation, n - 1) : NULL;
  NatterMessageState state = last != NULL ? natter_message_get_state (last) : NATTER_MESSAGE_STATE_COMPLETE;

  return last != NULL &&
         (natter_message_get_role (last) == NATTER_ROLE_USER ||
          state == NATTER_MESSAGE_STATE_FAILED || state == NATTER_MESSAGE_STATE_STOPPED ||
          state == NATTER_MESSAGE_STATE_INTERRUPTED);
}

static NatterMessage *
last_message (NatterWindow *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversation));

  return n > 0 ? natter_conversation_get_message (self->conversation, n - 1) : NULL;
}

static void
update_actions (NatterWindow *self)
{
  gboolean streaming = natter_conversation_is_streaming (self->conversation);
  gboolean connected = self->client != NULL;
  gboolean has_messages = g_list_model_get_n_items (G_LIST_MODEL (self->conversation)) > 0;
  NatterMessage *last = last_message (self);
  gboolean can_regenerate = connected && !streaming && last != NULL &&
                            natter_message_get_role (last) == NATTER_ROLE_ASSISTANT;
  gboolean can_continue = connected && natter_conversation_can_continue (self->conversation);
  GtkWidget *widget = GTK_WIDGET (self);

  gtk_widget_action_set_enabled (widget, "win.send", connected && !streaming &&
                                 current_model (self) != NULL &&
                                 !natter_composer_is_empty (NATTER_COMPOSER (self->composer)));
  gtk_widget_action_set_enabled (widget, "win.stop", streaming);
  gtk_widget_action_set_enabled (widget, "win.retry", connected && !streaming &&
                                 last_answer_can_retry (self));
  gtk_widget_action_set_enabled (widget, "win.regenerate", can_regenerate);
  gtk_widget_action_set_enabled (widget, "win.continue", can_continue);
  gtk_widget_action_set_enabled (widget, "win.rename-conversation", has_messages);
  gtk_widget_action_set_enabled (widget, "win.export-conversation", has_messages);
  gtk_widget_action_set_enabled (widget, "win.delete-conversation",
                                 self->history != NULL && natter_conversation_get_id (self->conversation) != 0);
  gtk_widget_action_set_enabled (widget, "win.import-conversation", self->history != NULL);

  gtk_widget_set_visible (self->regenerate_button, can_regenerate);
  gtk_widget_set_visible (self->continue_button, can_continue);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->answer_actions_revealer),
                                 can_regenerate || can_continue);
}

static void
update_chat_page (NatterWindow *self)
{
  gboolean empty = g_list_model_get_n_items (G_LIST_MODEL (self->conversation)) == 0;

  gtk_stack_set_visible_child_name (GTK_STACK (self->chat_stack), empty ? "empty" : "messages");
}

static void
update_title (NatterWindow *self)
{
  const char *title = natter_conversation_get_title (self->conversation);

  gtk_window_set_title (GTK_WINDOW (self), title != NULL && *title != '\0' ? title : _("Natter"));
}

static void
toast (NatterWindow *self,
       const char   *title)
{
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toast_overlay), adw_toast_new (title));
}

/* --- Editing -------------------------------------------------------------- */

static void
stop_editing (NatterWindow *self,
              gboolean      restore_draft)
{
  if (self->edit_position == NO_EDIT)
    return;
  self->edit_position = NO_EDIT;
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->edit_revealer), FALSE);
  if (restore_draft)
    natter_composer_set_text (NATTER_COMPOSER (self->composer),
                              self->draft_before_edit != NULL ? self->draft_before_edit : "");
  g_clear_pointer (&self->draft_before_edit, g_free);
}

/* The message goes to the composer; what was typed there comes back if the
 * edit is cancelled. */
static void
edit_requested_cb (NatterWindow  *self,
                   NatterMessage *message)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversation));

  for (guint i = 0; i < n; i++)
    if (natter_conversation_get_message (self->conversation, i) == message)
      {
        if (self->edit_position == NO_EDIT)
          self->draft_before_edit = natter_composer_dup_text (NATTER_COMPOSER (self->composer));
        self->edit_position = i;
        natter_composer_set_text (NATTER_COMPOSER (self->composer), natter_message_get_content (message));
        gtk_revealer_set_reveal_child (GTK_REVEALER (self->edit_revealer), TRUE);
        gtk_widget_grab_focus (self->composer);
        return;
      }
}

static void
cancel_edit_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  stop_editing (NATTER_WINDOW (widget), TRUE);
}

/* --- Sending --------------------------------------------------------------- */

/* Failures are shown on the answer itself; nothing more to do here. */
static void
answer_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(NatterWindow) self = user_data;
  g_autoptr(NatterMessage) answer = NULL;

  answer = natter_conversation_send_finish (NATTER_CONVERSATION (source), result, NULL);
  if (NATTER_CONVERSATION (source) == self->conversation)
    update_actions (self);
}

static void
send_edited (NatterWindow *self,
             guint         position,
             const char   *text)
{
  natter_chat_view_scroll_to_bottom (NATTER_CHAT_VIEW (self->chat_view));
  natter_conversation_edit_async (self->conversation, self->client, current_model (self), position, text,
                                  NULL, answer_done_cb, g_object_ref (self));
}

static void
replace_response_cb (AdwMessageDialog *dialog,
                     const char       *response,
                     NatterWindow     *self)
{
  guint position = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "position"));
  const char *text = g_object_get_data (G_OBJECT (dialog), "text");

  if (g_strcmp0 (response, "replace") != 0)
    return;
  /* The user may have switched conversations meanwhile. */
  if (g_object_get_data (G_OBJECT (dialog), "conversation") != self->conversation)
    return;
  /* What was typed before the edit comes back. */
  stop_editing (self, TRUE);
  send_edited (self, position, text);
}

/* Resending an edited message drops what came after it: ask first. */
static void
confirm_edit (NatterWindow *self,
              const char   *text)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversation));
  guint later = n - self->edit_position - 1;
  AdwMessageDialog *dialog;
  g_autofree char *body = NULL;

  body = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "The message after the one you edited will be deleted.",
                                       "The %u messages after the one you edited will be deleted.",
                                       later),
                          later);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("Replace Later Messages?"), body));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "replace", _("_Replace"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "replace", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "replace");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data (G_OBJECT (dialog), "position", GUINT_TO_POINTER (self->edit_position));
  g_object_set_data_full (G_OBJECT (dialog), "text", g_strdup (text), g_free);
  g_object_set_data_full (G_OBJECT (dialog), "conversation", g_object_ref (self->conversation), g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (replace_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);
  NatterComposer *composer = NATTER_COMPOSER (self->composer);
  g_autofree char *text = NULL;

  if (self->client == NULL || natter_composer_is_empty (composer) ||
      natter_conversation_is_streaming (self->conversation))
    return;

  text = natter_composer_dup_text (composer);
  if (self->edit_position != NO_EDIT)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->conversation));

      if (self->edit_position + 1 < n)
        {
          confirm_edit (self, text);
          return;
        }
      send_edited (self, self->edit_position, text);
      stop_editing (self, TRUE);
      return;
    }

  natter_composer_set_text (composer, "");
  natter_chat_view_scroll_to_bottom (NATTER_CHAT_VIEW (self->chat_view));
  natter_conversation_send_async (self->conversation, self->client, current_model (self), text,
                                  NULL, answer_done_cb, g_object_ref (self));
}

static void
retry_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  if (self->client == NULL || natter_conversation_is_streaming (self->conversation))
    return;
  natter_chat_view_scroll_to_bottom (NATTER_CHAT_VIEW (self->chat_view));
  natter_conversation_retry_async (self->conversation, self->client, current_model (self),
                                   NULL, answer_done_cb, g_object_ref (self));
}

static void
regenerate_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  if (self->client == NULL || natter_conversation_is_streaming (self->conversation))
    return;
  natter_chat_view_scroll_to_bottom (NATTER_CHAT_VIEW (self->chat_view));
  natter_conversation_regenerate_async (self->conversation, self->client, current_model (self),
                                        NULL, answer_done_cb, g_object_ref (self));
}

static void
continue_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  if (self->client == NULL || !natter_conversation_can_continue (self->conversation))
    return;
  natter_chat_view_scroll_to_bottom (NATTER_CHAT_VIEW (self->chat_view));
  natter_conversation_continue_async (self->conversation, self->client, current_model (self),
                                      NULL, answer_done_cb, g_object_ref (self));
}

/* Stops the answer on screen; others streaming in the background go on. */
static void
stop_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  natter_conversation_stop (NATTER_WINDOW (widget)->conversation);
}

/* --- Model list ------------------------------------------------------------ */

static void
select_model (NatterWindow *self,
              const char   *model)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model_list));

  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->model_list, i), model) == 0)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->model_dropdown), i);
        return;
      }
}

/* The model asked for in the environment stays available even when the
 * provider's list does not name it: some providers list only a subset. */
static void
fill_model_list (NatterWindow       *self,
                 const char * const *ids)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model_list));

  gtk_string_list_splice (self->model_list, 0, n, ids);
  if (self->model != NULL && (ids == NULL || !g_strv_contains (ids, self->model)))
    gtk_string_list_splice (self->model_list, 0, 0, (const char * const[]) { self->model, NULL });
  if (self->model != NULL)
    select_model (self, self->model);
}

static void
models_listed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(NatterWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = natter_client_list_models_finish (NATTER_CLIENT (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->models_cancellable);
  if (ids == NULL)
    {
      g_autofree char *title = g_strdup_printf (_("Could not load the model list: %s"), error->message);
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toast_overlay), adw_toast_new (title));
      return;
    }
  fill_model_list (self, (const char * const *) ids);
}

static void
load_models (NatterWindow *self)
{
  fill_model_list (self, NULL);
  self->models_cancellable = g_cancellable_new ();
  natter_client_list_models_async (self->client, self->models_cancellable,
                                   models_listed_cb, g_object_ref (self));
}

static void
model_selected_cb (NatterWindow *self)
{
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

/* --- This conversation's settings ---------------------------------------- */

/* The popover shows the conversation's values each time it opens, and every
 * edit goes straight to the conversation: the next message uses it. */
static void
conversation_popover_shown_cb (NatterWindow *self)
{
  const char *prompt = natter_conversation_get_system_prompt (self->conversation);
  double temperature = natter_conversation_get_temperature (self->conversation);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->system_prompt_view));

  self->showing_conversation_settings = TRUE;
  gtk_text_buffer_set_text (buffer, prompt != NULL ? prompt : "", -1);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->default_temperature_check), temperature < 0);
  gtk_widget_set_sensitive (self->temperature_spin, temperature >= 0);
  if (temperature >= 0)
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->temperature_spin), temperature);
  self->showing_conversation_settings = FALSE;
}

/* A model the provider does not list (or lists under another name) can be
 * typed: it joins the picker and is selected. */
static void
model_entered_cb (NatterWindow *self)
{
  g_autofree char *model = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->model_entry))));
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model_list));
  gboolean listed = FALSE;

  if (*model == '\0')
    return;
  for (guint i = 0; i < n && !listed; i++)
    listed = g_strcmp0 (gtk_string_list_get_string (self->model_list, i), model) == 0;
  if (!listed)
    gtk_string_list_append (self->model_list, model);
  select_model (self, model);
  gtk_editable_set_text (GTK_EDITABLE (self->model_entry), "");
  gtk_popover_popdown (GTK_POPOVER (self->conversation_popover));
}

static void
system_prompt_edited_cb (NatterWindow  *self,
                         GtkTextBuffer *buffer)
{
  GtkTextIter start, end;
  g_autofree char *prompt = NULL;

  if (self->showing_conversation_settings)
    return;
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  prompt = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  natter_conversation_set_system_prompt (self->conversation, prompt);
}

static void
temperature_edited_cb (NatterWindow *self)
{
  gboolean use_default = gtk_check_button_get_active (GTK_CHECK_BUTTON (self->default_temperature_check));

  if (self->showing_conversation_settings)
    return;
  gtk_widget_set_sensitive (self->temperature_spin, !use_default);
  natter_conversation_set_temperature (self->conversation, use_default ? -1 :
                                       gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->temperature_spin)));
}

/* --- Switching conversations ---------------------------------------------- */

static void
show_conversation (NatterWindow       *self,
                   NatterConversation *conversation)
{
  const char *draft;

  if (self->conversation == conversation)
    return;
  stop_editing (self, TRUE);
  if (self->conversation != NULL)
    {
      g_object_set_data_full (G_OBJECT (self->conversation), DRAFT_KEY,
                              natter_composer_dup_text (NATTER_COMPOSER (self->composer)), g_free);
      g_signal_handlers_disconnect_by_data (self->conversation, self);
      g_clear_pointer (&self->streaming_binding, g_binding_unbind);
    }

  g_set_object (&self->conversation, conversation);
  natter_chat_view_set_conversation (NATTER_CHAT_VIEW (self->chat_view), conversation);
  self->streaming_binding = g_object_bind_property (conversation, "streaming", self->composer, "streaming",
                                                    G_BINDING_SYNC_CREATE);
  g_signal_connect_swapped (conversation, "notify::streaming", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (conversation, "notify::id", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (conversation, "notify::title", G_CALLBACK (update_title), self);
  g_signal_connect_swapped (conversation, "items-changed", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (conversation, "items-changed", G_CALLBACK (update_chat_page), self);

  draft = g_object_get_data (G_OBJECT (conversation), DRAFT_KEY);
  natter_composer_set_text (NATTER_COMPOSER (self->composer), draft != NULL ? draft : "");
  natter_sidebar_select (NATTER_SIDEBAR (self->sidebar), conversation);
  update_chat_page (self);
  update_actions (self);
  update_title (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONVERSATION]);
}

static gboolean
is_fresh (NatterConversation *conversation)
{
  return conversation != NULL && natter_conversation_get_id (conversation) == 0 &&
         g_list_model_get_n_items (G_LIST_MODEL (conversation)) == 0;
}

/* A new conversation joins the history with its first message; until then
 * the sidebar does not list it. Asking for a new conversation again comes
 * back to it, with what was typed in it, instead of making another one.
 * Every conversation made is announced, so that the application can give
 * it the default settings from Preferences. */
static void
show_new_conversation (NatterWindow *self)
{
  if (!is_fresh (self->fresh_conversation))
    {
      g_autoptr(NatterConversation) conversation = NULL;

      conversation = self->history != NULL ? natter_history_create (self->history) : natter_conversation_new ();
      g_set_object (&self->fresh_conversation, conversation);
      g_signal_emit (self, signals[CONVERSATION_CREATED], 0, conversation);
    }
  show_conversation (self, self->fresh_conversation);
}

static void
conversation_activated_cb (NatterWindow       *self,
                           NatterConversation *conversation,
                           guint               position)
{
  g_autoptr(GError) error = NULL;

  if (!natter_history_open (self->history, conversation, &error))
    {
      g_autofree char *title = g_strdup_printf (_("Could not open the conversation: %s"), error->message);
      toast (self, title);
      natter_sidebar_select (NATTER_SIDEBAR (self->sidebar), self->conversation);
      return;
    }
  show_conversation (self, conversation);
  if (position != NATTER_SIDEBAR_NO_POSITION)
    natter_chat_view_scroll_to_message (NATTER_CHAT_VIEW (self->chat_view), position);
  if (adw_flap_get_folded (ADW_FLAP (self->flap)))
    adw_flap_set_reveal_flap (ADW_FLAP (self->flap), FALSE);
  gtk_widget_grab_focus (self->composer);
}

static void
new_conversation_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  /* An empty conversation is already a new one. */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->conversation)) > 0)
    show_new_conversation (self);
  gtk_widget_grab_focus (self->composer);
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  if (self->history == NULL)
    return;
  adw_flap_set_reveal_flap (ADW_FLAP (self->flap), TRUE);
  natter_sidebar_start_search (NATTER_SIDEBAR (self->sidebar));
}

static void
toggle_sidebar_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  if (self->history != NULL)
    adw_flap_set_reveal_flap (ADW_FLAP (self->flap), !adw_flap_get_reveal_flap (ADW_FLAP (self->flap)));
}

/* --- Renaming and deleting ------------------------------------------------- */

static void
rename_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    GtkEditable      *entry)
{
  NatterConversation *conversation = g_object_get_data (G_OBJECT (dialog), "conversation");
  g_autofree char *title = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  if (g_strcmp0 (response, "rename") == 0 && *title != '\0')
    natter_conversation_set_title (conversation, title);
}

static void
rename_conversation_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);
  const char *title = natter_conversation_get_title (self->conversation);
  AdwMessageDialog *dialog;
  GtkWidget *entry = gtk_entry_new ();

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("Rename Conversation"), NULL));
  gtk_editable_set_text (GTK_EDITABLE (entry), title != NULL ? title : "");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Title"), -1);
  adw_message_dialog_set_extra_child (dialog, entry);
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "rename", _("_Rename"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "rename", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "rename");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "conversation", g_object_ref (self->conversation), g_object_unref);
  g_signal_connect (dialog, "response", G_CALLBACK (rename_response_cb), entry);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
undo_delete_cb (AdwToast     *toast,
                NatterWindow *self)
{
  NatterConversation *conversation = g_object_get_data (G_OBJECT (toast), "conversation");

  natter_history_undo_remove (self->history, conversation);
  natter_history_open (self->history, conversation, NULL);
  show_conversation (self, conversation);
}

/* Once the Undo toast is gone, the deletion is final. */
static void
delete_dismissed_cb (AdwToast     *toast,
                     NatterWindow *self)
{
  NatterConversation *conversation = g_object_get_data (G_OBJECT (toast), "conversation");

  if (self->history != NULL)
    natter_history_commit_removal (self->history, conversation);
}

static void
delete_conversation_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);
  g_autoptr(NatterConversation) conversation = g_object_ref (self->conversation);
  const char *title = natter_conversation_get_title (conversation);
  g_autofree char *text = NULL;
  AdwToast *toast;

  if (self->history == NULL || natter_conversation_get_id (conversation) == 0)
    return;
  natter_history_remove (self->history, conversation);
  show_new_conversation (self);

  /* Translators: the title of the conversation just deleted */
  text = g_strdup_printf (_("“%s” deleted"), title != NULL ? title : _("Untitled Conversation"));
  toast = adw_toast_new (text);
  adw_toast_set_button_label (toast, _("_Undo"));
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  g_object_set_data_full (G_OBJECT (toast), "conversation", g_object_ref (conversation), g_object_unref);
  g_signal_connect_object (toast, "button-clicked", G_CALLBACK (undo_delete_cb), self, 0);
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (delete_dismissed_cb), self, 0);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toast_overlay), toast);
}

/* --- Export and import ------------------------------------------------------ */

static void
file_written_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(NatterWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      g_autofree char *title = g_strdup_printf (_("Could not export the conversation: %s"), error->message);
      toast (self, title);
      return;
    }
  toast (self, _("Conversation exported"));
}

static void
export_response_cb (GtkNativeDialog *chooser,
                    int              response,
                    NatterWindow    *self)
{
  NatterConversation *conversation = g_object_get_data (G_OBJECT (chooser), "conversation");
  gboolean json = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "json"));
  g_autoptr(GFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  char *text;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (file != NULL)
    {
      text = json ? natter_conversation_to_json (conversation) : natter_conversation_to_markdown (conversation);
      bytes = g_bytes_new_take (text, strlen (text));
      g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                           NULL, file_written_cb, g_object_ref (self));
    }
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

/* A file name from the title, without what file systems refuse. */
static char *
file_name_for (NatterConversation *conversation,
               const char         *extension)
{
  const char *title = natter_conversation_get_title (conversation);
  g_autofree char *name = g_strdup (title != NULL && *title != '\0' ? title : _("Conversation"));

  g_strdelimit (name, "/\\:*?\"<>|", '-');
  return g_strconcat (name, extension, NULL);
}

/* The file chooser goes through the portal in a sandbox: Natter itself has
 * no access to the user's files. */
static void
export_conversation_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);
  gboolean json = g_strcmp0 (g_variant_get_string (parameter, NULL), "json") == 0;
  g_autofree char *name = file_name_for (self->conversation, json ? ".json" : ".md");
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (json ? _("Export as JSON") : _("Export as Markdown"),
                                         GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Export"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_object_set_data_full (G_OBJECT (chooser), "conversation", g_object_ref (self->conversation), g_object_unref);
  g_object_set_data (G_OBJECT (chooser), "json", GINT_TO_POINTER (json));
  g_signal_connect_object (chooser, "response", G_CALLBACK (export_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
show_import_error (NatterWindow *self,
                   const GError *error)
{
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("Could Not Import"), error->message));
  adw_message_dialog_add_response (dialog, "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * natter_window_import:
 * @json: what an export as JSON wrote
 *
 * Adds the conversation in @json to the history and shows it; a file that
 * is not such an export is reported, and nothing is added.
 *
 * Returns: %TRUE if imported
 */
gboolean
natter_window_import (NatterWindow *self,
                      const char   *json,
                      gsize         length)
{
  g_autoptr(NatterConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (NATTER_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (self->history != NULL, FALSE);

  conversation = natter_conversation_new_from_json (json, length, &error);
  if (conversation == NULL || natter_history_add (self->history, conversation, &error) == NULL)
    {
      show_import_error (self, error);
      return FALSE;
    }
  show_conversation (self, conversation);
  return TRUE;
}

static void
file_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(NatterWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    show_import_error (self, error);
  else
    natter_window_import (self, contents, length);
}

static void
import_response_cb (GtkNativeDialog *chooser,
                    int              response,
                    NatterWindow    *self)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  if (file != NULL)
    g_file_load_contents_async (file, NULL, file_read_cb, g_object_ref (self));
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

static void
import_conversation_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Import Conversation"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Natter conversations (JSON)"));
  gtk_file_filter_add_mime_type (filter, "application/json");
  gtk_file_filter_add_suffix (filter, "json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_signal_connect_object (chooser, "response", G_CALLBACK (import_response_cb), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* --- GObject ------------------------------------------------------------- */

/* Shows the provider's chat, or how to connect one when there is none. */
static void
apply_provider (NatterWindow *self)
{
  gboolean connected = self->client != NULL;

  gtk_stack_set_visible_child_name (GTK_STACK (self->main_stack), connected ? "chat" : "welcome");
  gtk_widget_set_visible (self->model_dropdown, connected);
  if (self->models_cancellable != NULL)
    g_cancellable_cancel (self->models_cancellable);
  g_clear_object (&self->models_cancellable);
  if (connected)
    {
      g_autofree char *where = g_strdup_printf (_("Messages go to %s"),
                                                natter_client_get_base_url (self->client));

      adw_status_page_set_description (ADW_STATUS_PAGE (self->empty_page), where);
      natter_chat_view_set_base_url (NATTER_CHAT_VIEW (self->chat_view),
                                     natter_client_get_base_url (self->client));
      load_models (self);
      gtk_widget_grab_focus (self->composer);
    }
  update_actions (self);
}

static void
natter_window_constructed (GObject *object)
{
  G_OBJECT_CLASS (natter_window_parent_class)->constructed (object);
  apply_provider (NATTER_WINDOW (object));
}

static void
natter_window_dispose (GObject *object)
{
  NatterWindow *self = NATTER_WINDOW (object);

  if (self->models_cancellable != NULL)
    g_cancellable_cancel (self->models_cancellable);
  /* Without a history nothing would keep the answer: stop it. With one, it
   * streams on, saved, as long as the application runs. */
  if (self->conversation != NULL && self->history == NULL)
    natter_conversation_stop (self->conversation);
  if (self->conversation != NULL)
    g_signal_handlers_disconnect_by_data (self->conversation, self);
  g_clear_pointer (&self->streaming_binding, g_binding_unbind);
  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_WINDOW);
  g_clear_object (&self->models_cancellable);
  g_clear_object (&self->conversation);
  g_clear_object (&self->fresh_conversation);
  g_clear_object (&self->history);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (natter_window_parent_class)->dispose (object);
}

static void
natter_window_finalize (GObject *object)
{
  g_free (NATTER_WINDOW (object)->model);
  g_free (NATTER_WINDOW (object)->draft_before_edit);

  G_OBJECT_CLASS (natter_window_parent_class)->finalize (object);
}

static void
natter_window_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  NatterWindow *self = NATTER_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      g_value_set_object (value, self->client);
      break;
    case PROP_MODEL:
      g_value_set_string (value, current_model (self));
      break;
    case PROP_CONVERSATION:
      g_value_set_object (value, self->conversation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_window_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  NatterWindow *self = NATTER_WINDOW (object);

  switch (prop_id)
    {
    case PROP_CLIENT:
      self->client = g_value_dup_object (value);
      break;
    case PROP_MODEL:
      self->model = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_window_class_init (NatterWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = natter_window_constructed;
  object_class->dispose = natter_window_dispose;
  object_class->finalize = natter_window_finalize;
  object_class->get_property = natter_window_get_property;
  object_class->set_property = natter_window_set_property;

  properties[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, NATTER_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* Notified when the user picks another model, so it can be remembered. */
  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS |
                         G_PARAM_EXPLICIT_NOTIFY);
  /* The conversation on screen. */
  properties[PROP_CONVERSATION] =
    g_param_spec_object ("conversation", NULL, NULL, NATTER_TYPE_CONVERSATION,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NatterWindow::conversation-created:
   * @conversation: a new, empty conversation about to be shown
   */
  signals[CONVERSATION_CREATED] =
    g_signal_new ("conversation-created", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, NATTER_TYPE_CONVERSATION);

  g_type_ensure (NATTER_TYPE_SIDEBAR);
  g_type_ensure (NATTER_TYPE_CHAT_VIEW);
  g_type_ensure (NATTER_TYPE_COMPOSER);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, primary_menu);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, flap_button);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, answer_actions_revealer);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, regenerate_button);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, continue_button);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, edit_revealer);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, conversation_popover);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, model_entry);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, system_prompt_view);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, default_temperature_check);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, temperature_spin);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, model_dropdown);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, model_list);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, note_revealer);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, note_label);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, chat_stack);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, chat_view);
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, composer);

  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "win.retry", NULL, retry_action);
  gtk_widget_class_install_action (widget_class, "win.regenerate", NULL, regenerate_action);
  gtk_widget_class_install_action (widget_class, "win.continue", NULL, continue_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-edit", NULL, cancel_edit_action);
  gtk_widget_class_install_action (widget_class, "win.new-conversation", NULL, new_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.rename-conversation", NULL, rename_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.delete-conversation", NULL, delete_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.export-conversation", "s", export_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.import-conversation", NULL, import_conversation_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.stop", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-conversation", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F9, 0, "win.toggle-sidebar", NULL);
  gtk_widget_class_install_action (widget_class, "win.toggle-sidebar", NULL, toggle_sidebar_action);
}

/* --- Start-up benchmark ------------------------------------------------------ */

/* With NATTER_BENCH_FIRST_FRAME set, tests/bench/bench-startup measures the
 * time from exec to the first frame: the window prints when it drew it
 * (g_get_monotonic_time(), CLOCK_MONOTONIC in µs) and Natter quits. */
static void
first_frame_painted_cb (GdkFrameClock *clock,
                        NatterWindow  *self)
{
  GtkApplication *application = gtk_window_get_application (GTK_WINDOW (self));

  g_signal_handlers_disconnect_by_func (clock, first_frame_painted_cb, self);
  g_print ("natter-first-frame %" G_GINT64_FORMAT "\n", g_get_monotonic_time ());
  if (application != NULL)
    g_application_quit (G_APPLICATION (application));
}

static void
realized_for_bench_cb (NatterWindow *self)
{
  g_signal_connect_object (gtk_widget_get_frame_clock (GTK_WIDGET (self)), "after-paint",
                           G_CALLBACK (first_frame_painted_cb), self, 0);
}

static void
natter_window_init (NatterWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->edit_position = NO_EDIT;
  g_signal_connect_swapped (self->composer, "notify::empty", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (self->model_dropdown, "notify::selected", G_CALLBACK (model_selected_cb), self);
  g_signal_connect_swapped (self->conversation_popover, "show", G_CALLBACK (conversation_popover_shown_cb), self);
  g_signal_connect_swapped (self->model_entry, "activate", G_CALLBACK (model_entered_cb), self);
  g_signal_connect_swapped (gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->system_prompt_view)), "changed",
                            G_CALLBACK (system_prompt_edited_cb), self);
  g_signal_connect_swapped (self->default_temperature_check, "toggled", G_CALLBACK (temperature_edited_cb), self);
  g_signal_connect_swapped (self->temperature_spin, "value-changed", G_CALLBACK (temperature_edited_cb), self);
  g_signal_connect_swapped (self->sidebar, "conversation-activated", G_CALLBACK (conversation_activated_cb), self);
  g_signal_connect_swapped (self->chat_view, "edit-requested", G_CALLBACK (edit_requested_cb), self);

  if (g_getenv ("NATTER_BENCH_FIRST_FRAME") != NULL)
    g_signal_connect (self, "realize", G_CALLBACK (realized_for_bench_cb), NULL);

  /* Without a history there is nothing to list: the sidebar stays hidden. */
  gtk_widget_set_visible (self->flap_button, FALSE);
  adw_flap_set_locked (ADW_FLAP (self->flap), TRUE);
  show_new_conversation (self);
}

/**
 * natter_window_new:
 * @client: (nullable): the provider to talk to; %NULL shows how to set one
 * @model: (nullable): the model to select first
 */
NatterWindow *
natter_window_new (GtkApplication *application,
                   NatterClient   *client,
                   const char     *model)
{
  return g_object_new (NATTER_TYPE_WINDOW, "application", application,
                       "client", client, "model", model, NULL);
}

/* Returns: (transfer none) (nullable): the provider */
NatterClient *
natter_window_get_client (NatterWindow *self)
{
  g_return_val_if_fail (NATTER_IS_WINDOW (self), NULL);
  return self->client;
}

/* Returns: (transfer none): the conversation shown */
NatterConversation *
natter_window_get_conversation (NatterWindow *self)
{
  g_return_val_if_fail (NATTER_IS_WINDOW (self), NULL);
  return self->conversation;
}

/**
 * natter_window_set_history:
 * @history: the saved conversations
 *
 * Lists @history in the sidebar and starts a new conversation in it. An
 * empty conversation shown before is dropped; one with messages is added
 * to @history.
 */
void
natter_window_set_history (NatterWindow  *self,
                           NatterHistory *history)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (NATTER_IS_WINDOW (self));
  g_return_if_fail (NATTER_IS_HISTORY (history));

  if (!g_set_object (&self->history, history))
    return;
  /* The new conversation made without a history would not be saved. */
  g_clear_object (&self->fresh_conversation);
  natter_sidebar_set_history (NATTER_SIDEBAR (self->sidebar), history);
  gtk_widget_set_visible (self->flap_button, TRUE);
  adw_flap_set_locked (ADW_FLAP (self->flap), FALSE);
  adw_flap_set_reveal_flap (ADW_FLAP (self->flap), TRUE);
  /* What was said before is kept: saved and listed, or at least left on
   * screen if it cannot be saved. */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->conversation)) == 0 ||
      natter_conversation_get_id (self->conversation) != 0)
    show_new_conversation (self);
  else if (natter_history_add (history, self->conversation, &error) == NULL)
    g_warning ("History not saved: %s", error->message);
  else
    natter_sidebar_select (NATTER_SIDEBAR (self->sidebar), self->conversation);
  update_actions (self);
}

/* Returns: (transfer none): the sidebar, for tests */
GtkWidget *
natter_window_get_sidebar (NatterWindow *self)
{
  g_return_val_if_fail (NATTER_IS_WINDOW (self), NULL);
  return self->sidebar;
}

const char *
natter_window_get_model (NatterWindow *self)
{
  g_return_val_if_fail (NATTER_IS_WINDOW (self), NULL);
  return current_model (self);
}

/* Returns: (transfer none): the composer, for tests */
GtkWidget *
natter_window_get_composer (NatterWindow *self)
{
  g_return_val_if_fail (NATTER_IS_WINDOW (self), NULL);
  return self->composer;
}

/* Returns: (transfer none): the conversation view, for tests */
GtkWidget *
natter_window_get_chat_view (NatterWindow *self)
{
  g_return_val_if_fail (NATTER_IS_WINDOW (self), NULL);
  return self->chat_view;
}

/**
 * natter_window_set_provider:
 * @client: (nullable): the provider to talk to from now on
 * @model: (nullable): the model to select first
 *
 * An answer that is streaming goes on with the provider it started with.
 */
void
natter_window_set_provider (NatterWindow *self,
                            NatterClient *client,
                            const char   *model)
{
  g_return_if_fail (NATTER_IS_WINDOW (self));

  g_set_object (&self->client, client);
  g_free (self->model);
  self->model = g_strdup (model);
  apply_provider (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLIENT]);
}

/**
 * natter_window_show_problem:
 * @text: what went wrong, as a sentence
 *
 * A problem the user must know about but that does not stop the window,
 * such as a history that cannot be saved: shown until dismissed.
 */
void
natter_window_show_problem (NatterWindow *self,
                            const char   *text)
{
  AdwToast *problem;

  g_return_if_fail (NATTER_IS_WINDOW (self));

  problem = adw_toast_new (text);
  adw_toast_set_timeout (problem, 0);
  adw_toast_set_priority (problem, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toast_overlay), problem);
}

/**
 * natter_window_set_note:
 * @note: (nullable): a sentence shown above the conversation, such as where
 *   the provider comes from; %NULL hides it
 */
void
natter_window_set_note (NatterWindow *self,
                        const char   *note)
{
  g_return_if_fail (NATTER_IS_WINDOW (self));

  gtk_label_set_text (GTK_LABEL (self->note_label), note != NULL ? note : "");
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->note_revealer), note != NULL);
}

/**
 * natter_window_add_menu_section:
 * @label: (nullable): the section's title
 * @section: the items, such as the providers to switch between
 *
 * Adds a section at the top of the main menu.
 */
void
natter_window_add_menu_section (NatterWindow *self,
                                const char   *label,
                                GMenuModel   *section)
{
  g_return_if_fail (NATTER_IS_WINDOW (self));
  g_menu_prepend_section (self->primary_menu, label, section);
}

/* Returns: (transfer none): the popover of this conversation's settings */
GtkWidget *
natter_window_get_conversation_popover (NatterWindow *self)
{
  g_return_val_if_fail (NATTER_IS_WINDOW (self), NULL);
  return self->conversation_popover;
}
