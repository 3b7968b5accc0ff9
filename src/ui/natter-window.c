/* natter-window.c — the main window: one conversation and its composer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The window is given its client (provider endpoint and key) and model by
 * the application; with no client it shows how to connect one. It owns the
 * cancellable of the answer being streamed: win.stop cancels exactly that.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "natter-chat-view.h"
#include "natter-composer.h"
#include "natter-window.h"

struct _NatterWindow
{
  AdwApplicationWindow  parent_instance;

  GMenu                *primary_menu;
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
  NatterConversation   *conversation;
  GCancellable         *stream_cancellable;
  GCancellable         *models_cancellable;
  char                 *model;
  gboolean              showing_conversation_settings;
};

G_DEFINE_FINAL_TYPE (NatterWindow, natter_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_MODEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

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

static void
update_actions (NatterWindow *self)
{
  gboolean streaming = natter_conversation_is_streaming (self->conversation);
  gboolean connected = self->client != NULL;
  GtkWidget *widget = GTK_WIDGET (self);

  gtk_widget_action_set_enabled (widget, "win.send", connected && !streaming &&
                                 current_model (self) != NULL &&
                                 !natter_composer_is_empty (NATTER_COMPOSER (self->composer)));
  gtk_widget_action_set_enabled (widget, "win.stop", streaming);
  gtk_widget_action_set_enabled (widget, "win.retry", connected && !streaming &&
                                 last_answer_can_retry (self));
}

static void
update_chat_page (NatterWindow *self)
{
  gboolean empty = g_list_model_get_n_items (G_LIST_MODEL (self->conversation)) == 0;

  gtk_stack_set_visible_child_name (GTK_STACK (self->chat_stack), empty ? "empty" : "messages");
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
  g_clear_object (&self->stream_cancellable);
  update_actions (self);
}

static GCancellable *
new_stream_cancellable (NatterWindow *self)
{
  g_clear_object (&self->stream_cancellable);
  self->stream_cancellable = g_cancellable_new ();
  return self->stream_cancellable;
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
  natter_composer_set_text (composer, "");
  natter_chat_view_scroll_to_bottom (NATTER_CHAT_VIEW (self->chat_view));
  natter_conversation_send_async (self->conversation, self->client, current_model (self), text,
                                  new_stream_cancellable (self), answer_done_cb, g_object_ref (self));
}

static void
retry_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(NatterWindow) self = user_data;
  g_autoptr(NatterMessage) answer = NULL;

  answer = natter_conversation_retry_finish (NATTER_CONVERSATION (source), result, NULL);
  g_clear_object (&self->stream_cancellable);
  update_actions (self);
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
                                   new_stream_cancellable (self), retry_done_cb, g_object_ref (self));
}

static void
stop_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  NatterWindow *self = NATTER_WINDOW (widget);

  if (self->stream_cancellable != NULL)
    g_cancellable_cancel (self->stream_cancellable);
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

  if (self->stream_cancellable != NULL)
    g_cancellable_cancel (self->stream_cancellable);
  if (self->models_cancellable != NULL)
    g_cancellable_cancel (self->models_cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_WINDOW);
  g_clear_object (&self->stream_cancellable);
  g_clear_object (&self->models_cancellable);
  g_clear_object (&self->conversation);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (natter_window_parent_class)->dispose (object);
}

static void
natter_window_finalize (GObject *object)
{
  g_free (NATTER_WINDOW (object)->model);

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
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (NATTER_TYPE_CHAT_VIEW);
  g_type_ensure (NATTER_TYPE_COMPOSER);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterWindow, primary_menu);
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
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.stop", NULL);
}

static void
natter_window_init (NatterWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->conversation = natter_conversation_new ();
  natter_chat_view_set_conversation (NATTER_CHAT_VIEW (self->chat_view), self->conversation);
  g_object_bind_property (self->conversation, "streaming", self->composer, "streaming", G_BINDING_SYNC_CREATE);
  g_signal_connect_swapped (self->conversation, "notify::streaming", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (self->conversation, "items-changed", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (self->conversation, "items-changed", G_CALLBACK (update_chat_page), self);
  update_chat_page (self);
  g_signal_connect_swapped (self->composer, "notify::empty", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (self->model_dropdown, "notify::selected", G_CALLBACK (model_selected_cb), self);
  g_signal_connect_swapped (self->conversation_popover, "show", G_CALLBACK (conversation_popover_shown_cb), self);
  g_signal_connect_swapped (self->model_entry, "activate", G_CALLBACK (model_entered_cb), self);
  g_signal_connect_swapped (gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->system_prompt_view)), "changed",
                            G_CALLBACK (system_prompt_edited_cb), self);
  g_signal_connect_swapped (self->default_temperature_check, "toggled", G_CALLBACK (temperature_edited_cb), self);
  g_signal_connect_swapped (self->temperature_spin, "value-changed", G_CALLBACK (temperature_edited_cb), self);
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
