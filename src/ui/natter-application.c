/* natter-application.c — Natter, the application
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One instance per session: starting Natter again presents the window that
 * is already open. The provider comes from the environment for now
 * (NATTER_BASE_URL, NATTER_API_KEY, NATTER_MODEL, as natter-cli reads them).
 */
#include "config.h"

#include <glib/gi18n.h>

#include "natter-application.h"
#include "natter-environment.h"
#include "natter-provider-preset.h"
#include "natter-window.h"

#define DEFAULT_BASE_URL "https://openrouter.ai/api/v1"

struct _NatterApplication
{
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (NatterApplication, natter_application, ADW_TYPE_APPLICATION)

/* A key alone means OpenRouter, as in natter-cli; nothing at all means the
 * user has yet to choose a provider, which the window explains. */
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
model_for (NatterClient *client)
{
  char *model = natter_environment_get_model ();
  const NatterProviderPreset *preset;

  if (model != NULL || client == NULL)
    return model;
  preset = natter_provider_preset_find_by_url (natter_client_get_base_url (client));
  return preset != NULL ? g_strdup (preset->default_model) : NULL;
}

static void
natter_application_activate (GApplication *application)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));

  if (window == NULL)
    {
      g_autoptr(NatterClient) client = client_from_environment ();
      g_autofree char *model = model_for (client);

      window = GTK_WINDOW (natter_window_new (GTK_APPLICATION (application), client, model));
    }
  gtk_window_present (window);
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  const char *developers[] = { "The Natter developers", NULL };

  adw_show_about_window (window,
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
};

static void
natter_application_startup (GApplication *application)
{
  G_APPLICATION_CLASS (natter_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (application), app_actions,
                                   G_N_ELEMENTS (app_actions), application);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.quit",
                                         (const char *[]) { "<Control>q", NULL });
  gtk_window_set_default_icon_name (APP_ID);
}

static void
natter_application_class_init (NatterApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = natter_application_activate;
  app_class->startup = natter_application_startup;
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
