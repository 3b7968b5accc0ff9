/* natter-preferences-window.c — providers, conversation defaults, network, appearance
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything here is saved as soon as it changes: the settings through
 * GSettings bindings, the providers in their list (itself in GSettings),
 * their keys in the key store. The window is given all three, so that tests
 * can hand it a memory backend and a key store without a keyring.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "natter-preferences-window.h"
#include "natter-provider-preset.h"
#include "natter-provider-row.h"

struct _NatterPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GtkWidget            *providers_page;
  GtkWidget            *keyring_group;
  GtkWidget            *keyring_row;
  GtkWidget            *providers_group;
  GtkWidget            *add_provider_button;
  GtkWidget            *provider_list_box;
  GtkWidget            *conversation_page;
  GtkWidget            *system_prompt_view;
  GtkWidget            *provider_temperature_switch;
  GtkWidget            *temperature_row;
  GtkWidget            *temperature_spin;
  GtkWidget            *max_tokens_spin;
  GtkWidget            *network_page;
  GtkWidget            *stall_timeout_spin;
  GtkWidget            *retries_spin;
  GtkWidget            *appearance_page;
  GtkWidget            *color_scheme_row;

  GSettings            *settings;
  NatterProviderList   *providers;
  NatterKeyStore       *keys;
  NatterProvider       *removing;
};

G_DEFINE_FINAL_TYPE (NatterPreferencesWindow, natter_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  PROP_PROVIDERS,
  PROP_KEY_STORE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* In the order of the "color-scheme" enum and of the Style row's items. */
static const struct {
  const char     *nick;
  AdwColorScheme  scheme;
} color_schemes[] = {
  { "default", ADW_COLOR_SCHEME_DEFAULT },
  { "light", ADW_COLOR_SCHEME_FORCE_LIGHT },
  { "dark", ADW_COLOR_SCHEME_FORCE_DARK },
};

/* --- Removing a provider ------------------------------------------------- */

typedef struct {
  NatterPreferencesWindow *self;
  char                    *name;
} Removal;

static void
removal_free (Removal *removal)
{
  g_object_unref (removal->self);
  g_free (removal->name);
  g_free (removal);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Removal, removal_free)

static const char *
provider_name (NatterProvider *provider)
{
  const char *name = natter_provider_get_name (provider);

  return name != NULL ? name : "";
}

static void
key_cleared_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(Removal) removal = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  AdwToast *toast;

  if (natter_key_store_clear_finish (NATTER_KEY_STORE (source), result, &error))
    /* Translators: a notification; %s is the name of the provider removed */
    text = g_strdup_printf (_("“%s” removed"), removal->name);
  else
    text = g_strdup_printf (_("“%s” removed, but its API key could not be deleted: %s"),
                            removal->name, error->message);
  /* The window may have been closed meanwhile; there is nobody to tell. */
  if (removal->self->providers == NULL)
    return;
  /* Shown at once, not after a "key saved" toast still on screen. */
  toast = adw_toast_new (text);
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (removal->self), toast);
}

/* The key is cleared without a cancellable: closing the window right after
 * removing a provider must not leave its key behind. */
static void
remove_provider (NatterPreferencesWindow *self,
                 NatterProvider          *provider)
{
  Removal *removal = g_new0 (Removal, 1);

  removal->self = g_object_ref (self);
  removal->name = g_strdup (provider_name (provider));
  natter_key_store_clear_async (self->keys, natter_provider_get_id (provider), NULL,
                                key_cleared_cb, removal);
  natter_provider_list_remove (self->providers, provider);
}

static void
remove_response_cb (NatterPreferencesWindow *self,
                    const char              *response)
{
  g_autoptr(NatterProvider) provider = g_steal_pointer (&self->removing);

  if (provider != NULL && g_strcmp0 (response, "remove") == 0)
    remove_provider (self, provider);
}

/* Deleting a key from the keyring cannot be undone, so it is confirmed. */
static void
remove_requested_cb (NatterPreferencesWindow *self,
                     NatterProviderRow       *row)
{
  NatterProvider *provider = natter_provider_row_get_provider (row);
  AdwMessageDialog *dialog;

  g_set_object (&self->removing, provider);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL));
  adw_message_dialog_format_heading (dialog, _("Remove “%s”?"), provider_name (provider));
  adw_message_dialog_set_body (dialog, _("Its API key is deleted too."));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "remove", _("_Remove"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "remove", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- The provider list --------------------------------------------------- */

static GtkWidget *
create_provider_row (gpointer item,
                     gpointer user_data)
{
  NatterPreferencesWindow *self = user_data;
  GtkWidget *row = natter_provider_row_new (NATTER_PROVIDER (item), self->keys);

  g_signal_connect_object (row, "remove-requested", G_CALLBACK (remove_requested_cb), self,
                           G_CONNECT_SWAPPED);
  return row;
}

static void
expand_row_of (NatterPreferencesWindow *self,
               NatterProvider          *provider)
{
  GtkListBoxRow *row;

  for (int i = 0; (row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (self->provider_list_box), i)); i++)
    if (natter_provider_row_get_provider (NATTER_PROVIDER_ROW (row)) == provider)
      {
        adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), TRUE);
        gtk_widget_grab_focus (GTK_WIDGET (row));
        return;
      }
}

static void
add_provider_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  NatterPreferencesWindow *self = NATTER_PREFERENCES_WINDOW (widget);
  g_autoptr(NatterProvider) provider = natter_provider_new_from_preset (g_variant_get_string (parameter, NULL));

  if (provider == NULL)
    return;
  natter_provider_list_add (self->providers, provider);
  expand_row_of (self, provider);
}

/* Built from the preset table, so that a new preset shows up here by itself. */
static GMenuModel *
new_presets_menu (void)
{
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenu) presets_section = g_menu_new ();
  g_autoptr(GMenu) custom_section = g_menu_new ();
  guint n;
  const NatterProviderPreset *presets = natter_provider_preset_get_all (&n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (gettext (presets[i].name), NULL);

      g_menu_item_set_action_and_target (item, "prefs.add-provider", "s", presets[i].id);
      g_menu_append_item (presets_section, item);
    }
  g_menu_append (custom_section, _("Custom Provider"), "prefs.add-provider::custom");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (presets_section));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (custom_section));
  return G_MENU_MODEL (g_steal_pointer (&menu));
}

static void
update_keyring_warning (NatterPreferencesWindow *self)
{
  gtk_widget_set_visible (self->keyring_group, !natter_key_store_is_persistent (self->keys));
}

static void
setup_providers (NatterPreferencesWindow *self)
{
  g_autoptr(GMenuModel) menu = new_presets_menu ();
  GtkWidget *placeholder = gtk_label_new (_("No providers yet. Add one to start chatting."));

  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  g_object_set (placeholder, "margin-top", 18, "margin-bottom", 18, "margin-start", 12, "margin-end", 12, NULL);
  gtk_list_box_set_placeholder (GTK_LIST_BOX (self->provider_list_box), placeholder);
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (self->add_provider_button), menu);
  gtk_list_box_bind_model (GTK_LIST_BOX (self->provider_list_box), G_LIST_MODEL (self->providers),
                           create_provider_row, self, NULL);

  g_signal_connect_object (self->keys, "notify::persistent", G_CALLBACK (update_keyring_warning), self,
                           G_CONNECT_SWAPPED);
  update_keyring_warning (self);
}

/* --- Settings bindings ----------------------------------------------------- */

/* The switch is on when the temperature is left to the provider (-1). */
static gboolean
temperature_to_switch (GValue   *value,
                       GVariant *variant,
                       gpointer  user_data)
{
  g_value_set_boolean (value, g_variant_get_double (variant) < 0);
  return TRUE;
}

static GVariant *
switch_to_temperature (const GValue       *value,
                       const GVariantType *expected_type,
                       gpointer            user_data)
{
  NatterPreferencesWindow *self = user_data;

  if (g_value_get_boolean (value))
    return g_variant_new_double (-1);
  return g_variant_new_double (gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->temperature_spin)));
}

/* While the provider decides, the spin button keeps the last value shown,
 * so that turning the switch off again restores it. */
static gboolean
temperature_to_spin (GValue   *value,
                     GVariant *variant,
                     gpointer  user_data)
{
  NatterPreferencesWindow *self = user_data;
  double temperature = g_variant_get_double (variant);

  if (temperature < 0)
    temperature = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->temperature_spin));
  g_value_set_double (value, temperature);
  return TRUE;
}

/* Steps of 0.1 add up to 0.30000000000000004; the setting gets 0.3. */
static GVariant *
spin_to_temperature (const GValue       *value,
                     const GVariantType *expected_type,
                     gpointer            user_data)
{
  double tenths = (double) (gint64) (CLAMP (g_value_get_double (value), 0, 2) * 10 + 0.5);

  return g_variant_new_double (tenths / 10);
}

static gboolean
color_scheme_to_index (GValue   *value,
                       GVariant *variant,
                       gpointer  user_data)
{
  const char *nick = g_variant_get_string (variant, NULL);

  g_value_set_uint (value, 0);
  for (guint i = 0; i < G_N_ELEMENTS (color_schemes); i++)
    if (g_str_equal (nick, color_schemes[i].nick))
      g_value_set_uint (value, i);
  return TRUE;
}

static GVariant *
index_to_color_scheme (const GValue       *value,
                       const GVariantType *expected_type,
                       gpointer            user_data)
{
  guint i = g_value_get_uint (value);

  return i < G_N_ELEMENTS (color_schemes) ? g_variant_new_string (color_schemes[i].nick) : NULL;
}

static void
bind_settings (NatterPreferencesWindow *self)
{
  GtkTextBuffer *prompt = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->system_prompt_view));

  g_settings_bind (self->settings, "system-prompt", prompt, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "temperature", self->temperature_spin, "value",
                                G_SETTINGS_BIND_DEFAULT, temperature_to_spin, spin_to_temperature, self, NULL);
  g_settings_bind_with_mapping (self->settings, "temperature", self->provider_temperature_switch, "active",
                                G_SETTINGS_BIND_DEFAULT, temperature_to_switch, switch_to_temperature, self, NULL);
  g_object_bind_property (self->provider_temperature_switch, "active", self->temperature_row, "sensitive",
                          G_BINDING_SYNC_CREATE | G_BINDING_INVERT_BOOLEAN);
  g_settings_bind (self->settings, "max-tokens", self->max_tokens_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "stall-timeout", self->stall_timeout_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "retries", self->retries_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "color-scheme", self->color_scheme_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, color_scheme_to_index, index_to_color_scheme, NULL, NULL);
}

/* --- GObject ------------------------------------------------------------- */

static void
natter_preferences_window_constructed (GObject *object)
{
  NatterPreferencesWindow *self = NATTER_PREFERENCES_WINDOW (object);

  G_OBJECT_CLASS (natter_preferences_window_parent_class)->constructed (object);

  setup_providers (self);
  bind_settings (self);
}

static void
natter_preferences_window_dispose (GObject *object)
{
  NatterPreferencesWindow *self = NATTER_PREFERENCES_WINDOW (object);

  /* The bindings hold the widgets; drop them before the widgets go. */
  if (self->settings != NULL)
    {
      g_settings_unbind (gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->system_prompt_view)), "text");
      g_settings_unbind (self->temperature_spin, "value");
      g_settings_unbind (self->provider_temperature_switch, "active");
      g_settings_unbind (self->max_tokens_spin, "value");
      g_settings_unbind (self->stall_timeout_spin, "value");
      g_settings_unbind (self->retries_spin, "value");
      g_settings_unbind (self->color_scheme_row, "selected");
    }
  /* The list box keeps its model until it is finalized, which may come
   * after the list: let go of it now. */
  if (self->provider_list_box != NULL)
    gtk_list_box_bind_model (GTK_LIST_BOX (self->provider_list_box), NULL, NULL, NULL, NULL);
  if (self->keys != NULL)
    g_signal_handlers_disconnect_by_data (self->keys, self);
  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->removing);
  g_clear_object (&self->settings);
  g_clear_object (&self->providers);
  g_clear_object (&self->keys);

  G_OBJECT_CLASS (natter_preferences_window_parent_class)->dispose (object);
}

static void
natter_preferences_window_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  NatterPreferencesWindow *self = NATTER_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_PROVIDERS:
      g_value_set_object (value, self->providers);
      break;
    case PROP_KEY_STORE:
      g_value_set_object (value, self->keys);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_preferences_window_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  NatterPreferencesWindow *self = NATTER_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    case PROP_PROVIDERS:
      self->providers = g_value_dup_object (value);
      break;
    case PROP_KEY_STORE:
      self->keys = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
object_property (const char *name,
                 GType       type)
{
  return g_param_spec_object (name, NULL, NULL, type,
                              G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
}

static void
natter_preferences_window_class_init (NatterPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = natter_preferences_window_constructed;
  object_class->dispose = natter_preferences_window_dispose;
  object_class->get_property = natter_preferences_window_get_property;
  object_class->set_property = natter_preferences_window_set_property;

  properties[PROP_SETTINGS] = object_property ("settings", G_TYPE_SETTINGS);
  properties[PROP_PROVIDERS] = object_property ("providers", NATTER_TYPE_PROVIDER_LIST);
  properties[PROP_KEY_STORE] = object_property ("key-store", NATTER_TYPE_KEY_STORE);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/natter/Natter/natter-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, providers_page);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, keyring_group);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, keyring_row);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, providers_group);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, add_provider_button);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, provider_list_box);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, conversation_page);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, system_prompt_view);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, provider_temperature_switch);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, temperature_row);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, temperature_spin);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, max_tokens_spin);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, network_page);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, stall_timeout_spin);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, retries_spin);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, appearance_page);
  gtk_widget_class_bind_template_child (widget_class, NatterPreferencesWindow, color_scheme_row);

  gtk_widget_class_install_action (widget_class, "prefs.add-provider", "s", add_provider_action);
}

static void
natter_preferences_window_init (NatterPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * natter_preferences_window_new:
 * @settings: the app's settings
 * @providers: the providers the user keeps, saved in @settings
 * @keys: where the providers' API keys are kept
 */
GtkWidget *
natter_preferences_window_new (GSettings          *settings,
                               NatterProviderList *providers,
                               NatterKeyStore     *keys)
{
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (NATTER_IS_PROVIDER_LIST (providers), NULL);
  g_return_val_if_fail (NATTER_IS_KEY_STORE (keys), NULL);

  return g_object_new (NATTER_TYPE_PREFERENCES_WINDOW,
                       "settings", settings, "providers", providers, "key-store", keys, NULL);
}

/**
 * natter_preferences_window_apply_color_scheme:
 * @settings: the app's settings, with the "color-scheme" key
 *
 * Makes the whole app follow the "color-scheme" setting. The application
 * calls it at startup and whenever the setting changes.
 */
void
natter_preferences_window_apply_color_scheme (GSettings *settings)
{
  guint i;

  g_return_if_fail (G_IS_SETTINGS (settings));

  i = (guint) g_settings_get_enum (settings, "color-scheme");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      color_schemes[MIN (i, G_N_ELEMENTS (color_schemes) - 1)].scheme);
}
