/* natter-application.c — Natter, the application
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One instance per session: starting Natter again presents the window that
 * is already open. The application owns what outlives a window: the
 * settings, the providers the user keeps and the key store, and decides
 * which provider the window talks to. The environment (NATTER_BASE_URL,
 * NATTER_API_KEY, NATTER_MODEL, as natter-cli reads them) wins when set.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "natter-application.h"
#include "natter-environment.h"
#include "natter-key-store.h"
#include "natter-preferences-window.h"
#include "natter-provider-list.h"
#include "natter-provider-preset.h"
#include "natter-window.h"

#define DEFAULT_BASE_URL "https://openrouter.ai/api/v1"

struct _NatterApplication
{
  AdwApplication      parent_instance;

  GSettings          *settings;
  NatterProviderList *providers;
  NatterKeyStore     *keys;
  GCancellable       *connect_cancellable;
  char               *connected_provider_id;
  GMenu              *providers_menu;
  NatterHistory      *history;
  GError             *history_error;  /* why there is no history */
};

G_DEFINE_FINAL_TYPE (NatterApplication, natter_application, ADW_TYPE_APPLICATION)

static NatterWindow *
get_window (NatterApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  return NATTER_IS_WINDOW (window) ? NATTER_WINDOW (window) : NULL;
}

/* --- Which provider ------------------------------------------------------ */

static void
apply_network_settings (NatterApplication *self,
                        NatterClient      *client)
{
  if (self->settings == NULL)
    return;
  natter_client_set_stall_timeout_ms (client, g_settings_get_uint (self->settings, "stall-timeout") * 1000);
  natter_client_set_max_retries (client, g_settings_get_uint (self->settings, "retries"));
}

/* A key alone means OpenRouter, as in natter-cli. */
static NatterClient *
client_from_environment (void)
{
  g_autofree char *base_url = natter_environment_get_base_url ();
  g_autofree char *api_key = natter_environment_get_api_key ();

  if (base_url == NULL && api_key == NULL)
    return NULL;
  if (base_url == NULL)
    base_url = g_strdup (DEFAULT_BASE_URL);
  return natter_client_new (base_url, api_key);
}

static char *
default_model_for (NatterClient *client)
{
  const NatterProviderPreset *preset = natter_provider_preset_find_by_url (natter_client_get_base_url (client));

  return preset != NULL ? g_strdup (preset->default_model) : NULL;
}

static char *
last_model_for (NatterApplication *self,
                NatterProvider    *provider)
{
  char *model = natter_provider_list_dup_last_model (self->providers, natter_provider_get_id (provider));

  return model != NULL ? model : g_strdup (natter_provider_get_model (provider));
}

typedef struct {
  NatterApplication *self;
  NatterProvider    *provider;
} KeyLookup;

static void
key_found_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  KeyLookup *lookup = user_data;
  NatterApplication *self = lookup->self;
  g_autoptr(NatterProvider) provider = lookup->provider;
  g_autoptr(GError) error = NULL;
  g_autofree char *key = natter_key_store_lookup_finish (NATTER_KEY_STORE (source), result, &error);
  g_autoptr(NatterClient) client = NULL;
  g_autofree char *model = NULL;
  NatterWindow *window = get_window (self);

  g_free (lookup);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || window == NULL)
    {
      g_object_unref (self);
      return;
    }

  client = natter_client_new (natter_provider_get_base_url (provider), key);
  apply_network_settings (self, client);
  model = last_model_for (self, provider);
  g_free (self->connected_provider_id);
  self->connected_provider_id = g_strdup (natter_provider_get_id (provider));
  natter_window_set_provider (window, client, model);
  natter_window_set_note (window, error != NULL ? error->message : NULL);
  g_object_unref (self);
}

/* Points the window at the environment's provider, or the current one of
 * the list, whose key is looked up in the keyring first. */
static void
connect_window (NatterApplication *self)
{
  NatterWindow *window = get_window (self);
  g_autoptr(NatterClient) env_client = client_from_environment ();
  NatterProvider *provider = self->providers != NULL ? natter_provider_list_get_current (self->providers) : NULL;
  KeyLookup *lookup;

  if (window == NULL)
    return;
  g_cancellable_cancel (self->connect_cancellable);
  g_clear_object (&self->connect_cancellable);
  g_clear_pointer (&self->connected_provider_id, g_free);

  if (env_client != NULL || provider == NULL)
    {
      g_autofree char *model = natter_environment_get_model ();

      if (env_client != NULL && model == NULL)
        model = default_model_for (env_client);
      if (env_client != NULL)
        apply_network_settings (self, env_client);
      natter_window_set_provider (window, env_client, model);
      natter_window_set_note (window, env_client == NULL ? NULL :
                              _("Natter uses the provider set in the environment (NATTER_BASE_URL, NATTER_API_KEY); the providers in Preferences apply when it is not set."));
      return;
    }

  self->connect_cancellable = g_cancellable_new ();
  lookup = g_new0 (KeyLookup, 1);
  lookup->self = g_object_ref (self);
  lookup->provider = g_object_ref (provider);
  natter_key_store_lookup_async (self->keys, natter_provider_get_id (provider), self->connect_cancellable,
                                 key_found_cb, lookup);
}

/* The model picked last is remembered per provider. */
static void
window_model_cb (NatterApplication *self,
                 GParamSpec        *pspec,
                 NatterWindow      *window)
{
  const char *picked = natter_window_get_model (window);

  if (self->providers == NULL || self->connected_provider_id == NULL || picked == NULL)
    return;
  natter_provider_list_remember_model (self->providers, self->connected_provider_id, picked);
}

/* --- Switching providers --------------------------------------------------- */

/* The main menu lists the providers; the current one is checked. */
static void
rebuild_providers_menu (NatterApplication *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->providers));
  NatterProvider *current = natter_provider_list_get_current (self->providers);
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "provider");

  g_menu_remove_all (self->providers_menu);
  for (guint i = 0; n > 1 && i < n; i++)
    {
      g_autoptr(NatterProvider) provider = g_list_model_get_item (G_LIST_MODEL (self->providers), i);
      g_autoptr(GMenuItem) item = g_menu_item_new (natter_provider_get_name (provider), NULL);

      g_menu_item_set_action_and_target (item, "app.provider", "s", natter_provider_get_id (provider));
      g_menu_append_item (self->providers_menu, item);
    }
  g_simple_action_set_state (G_SIMPLE_ACTION (action),
                             g_variant_new_string (current != NULL ? natter_provider_get_id (current) : ""));
}

static void
provider_action (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  NatterApplication *self = user_data;
  NatterProvider *provider = natter_provider_list_find (self->providers, g_variant_get_string (parameter, NULL));

  if (provider == NULL)
    return;
  natter_provider_list_set_current (self->providers, provider);
  g_simple_action_set_state (action, parameter);
  connect_window (self);
}

/* --- Appearance ------------------------------------------------------------ */

static void
color_scheme_changed_cb (NatterApplication *self)
{
  natter_preferences_window_apply_color_scheme (self->settings);
}

/* --- Actions ------------------------------------------------------------- */

static void
preferences_closed_cb (NatterApplication *self)
{
  connect_window (self);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  NatterApplication *self = user_data;
  GtkWidget *preferences;

  if (self->providers == NULL)
    return;
  preferences = natter_preferences_window_new (self->settings, self->providers, self->keys);
  gtk_window_set_transient_for (GTK_WINDOW (preferences), GTK_WINDOW (get_window (self)));
  g_signal_connect_object (preferences, "destroy", G_CALLBACK (preferences_closed_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (preferences));
}

/* The first-run page offers the common presets in one click; the key, if
 * the provider needs one, is entered in Preferences, which opens at once. */
static void
add_provider_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  NatterApplication *self = user_data;
  g_autoptr(NatterProvider) provider = natter_provider_new_from_preset (g_variant_get_string (parameter, NULL));

  if (provider == NULL || self->providers == NULL)
    return;
  natter_provider_list_add (self->providers, provider);
  natter_provider_list_set_current (self->providers, provider);
  if (natter_provider_needs_key (provider))
    preferences_action (NULL, NULL, self);
  else
    connect_window (self);
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  const char *developers[] = { "The Natter developers", NULL };

  adw_show_about_window (GTK_WINDOW (get_window (user_data)),
                         "application-name", _("Natter"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Chat with large language models"),
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         NULL);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "about", about_action },
  { "quit", quit_action },
  { "preferences", preferences_action },
  { "add-provider", add_provider_action, "s" },
  { "provider", provider_action, "s", "''" },
};

/* --- GApplication ------------------------------------------------------ */

/* New conversations start from the defaults in Preferences; the window's
 * conversation settings then override them for that conversation only. */
static void
bind_conversation_settings (NatterApplication  *self,
                            NatterConversation *conversation)
{
  g_autofree char *prompt = NULL;

  if (self->settings == NULL)
    return;
  prompt = g_settings_get_string (self->settings, "system-prompt");
  natter_conversation_set_system_prompt (conversation, *prompt != '\0' ? prompt : NULL);
  natter_conversation_set_temperature (conversation, g_settings_get_double (self->settings, "temperature"));
  natter_conversation_set_max_tokens (conversation, g_settings_get_uint (self->settings, "max-tokens"));
}

/* The history is opened once, at startup. A file that cannot be opened is
 * left alone, and the window says why nothing will be kept. */
static void
open_history (NatterApplication *self)
{
  g_autofree char *path = natter_store_dup_default_path ();
  g_autoptr(NatterStore) store = natter_store_open (path, &self->history_error);

  if (store != NULL)
    self->history = natter_history_new (store, &self->history_error);
}

static void
history_save_failed_cb (NatterApplication *self,
                        GError            *error)
{
  NatterWindow *window = get_window (self);
  g_autofree char *text = NULL;

  g_warning ("History not saved: %s", error->message);
  if (window == NULL)
    return;
  text = g_strdup_printf (_("Could not save the conversation: %s"), error->message);
  natter_window_show_problem (window, text);
}

static void
natter_application_activate (GApplication *application)
{
  NatterApplication *self = NATTER_APPLICATION (application);
  NatterWindow *window = get_window (self);

  if (window == NULL)
    {
      window = natter_window_new (GTK_APPLICATION (application), NULL, NULL);
      g_signal_connect_object (window, "notify::model", G_CALLBACK (window_model_cb), self,
                               G_CONNECT_SWAPPED);
      bind_conversation_settings (self, natter_window_get_conversation (window));
      g_signal_connect_object (window, "conversation-created", G_CALLBACK (bind_conversation_settings), self,
                               G_CONNECT_SWAPPED);
      if (self->history != NULL)
        natter_window_set_history (window, self->history);
      else if (self->history_error != NULL)
        {
          g_autofree char *text = g_strdup_printf (_("Conversations will not be kept: %s"),
                                                   self->history_error->message);
          natter_window_show_problem (window, text);
        }
      if (self->providers_menu != NULL)
        natter_window_add_menu_section (window, _("Provider"), G_MENU_MODEL (self->providers_menu));
      connect_window (self);
    }
  gtk_window_present (GTK_WINDOW (window));
}

static void
natter_application_startup (GApplication *application)
{
  NatterApplication *self = NATTER_APPLICATION (application);

  G_APPLICATION_CLASS (natter_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (application), app_actions,
                                   G_N_ELEMENTS (app_actions), application);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.quit",
                                         (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.preferences",
                                         (const char *[]) { "<Control>comma", NULL });
  gtk_window_set_default_icon_name (APP_ID);

  self->keys = natter_key_store_new ();
  open_history (self);
  if (self->history != NULL)
    g_signal_connect_object (self->history, "save-failed", G_CALLBACK (history_save_failed_cb), self,
                             G_CONNECT_SWAPPED);
  self->settings = natter_settings_new_if_installed ();
  if (self->settings == NULL)
    {
      g_warning ("The settings schema %s is not installed; providers and preferences are unavailable", APP_ID);
      return;
    }
  self->providers = natter_provider_list_new (self->settings);
  self->providers_menu = g_menu_new ();
  g_signal_connect_object (self->settings, "changed::providers",
                           G_CALLBACK (rebuild_providers_menu), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::current-provider",
                           G_CALLBACK (rebuild_providers_menu), self, G_CONNECT_SWAPPED);
  rebuild_providers_menu (self);
  g_signal_connect_object (self->settings, "changed::color-scheme",
                           G_CALLBACK (color_scheme_changed_cb), self, G_CONNECT_SWAPPED);
  color_scheme_changed_cb (self);
}

static void
natter_application_shutdown (GApplication *application)
{
  NatterApplication *self = NATTER_APPLICATION (application);

  g_cancellable_cancel (self->connect_cancellable);
  /* Answers still streaming are saved as far as they came, and reload as
   * interrupted; Continue can finish them. */
  if (self->history != NULL)
    natter_history_flush (self->history);
  G_APPLICATION_CLASS (natter_application_parent_class)->shutdown (application);
}

static void
natter_application_dispose (GObject *object)
{
  NatterApplication *self = NATTER_APPLICATION (object);

  g_clear_object (&self->connect_cancellable);
  g_clear_object (&self->providers);
  g_clear_object (&self->providers_menu);
  g_clear_object (&self->settings);
  g_clear_object (&self->keys);
  g_clear_object (&self->history);
  g_clear_error (&self->history_error);
  g_clear_pointer (&self->connected_provider_id, g_free);

  G_OBJECT_CLASS (natter_application_parent_class)->dispose (object);
}

static void
natter_application_class_init (NatterApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = natter_application_dispose;
  app_class->activate = natter_application_activate;
  app_class->startup = natter_application_startup;
  app_class->shutdown = natter_application_shutdown;
}

static void
natter_application_init (NatterApplication *self)
{
}

NatterApplication *
natter_application_new (void)
{
  return g_object_new (NATTER_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       "resource-base-path", "/io/github/natter/Natter",
                       NULL);
}
