/* natter-provider-list.c — the providers the user keeps, in GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A GListModel of NatterProvider, saved to the "providers" key whenever one
 * is added, removed or edited. Keys are not part of it: see NatterKeyStore.
 */
#include "config.h"

#include "natter-provider-list.h"

struct _NatterProviderList
{
  GObject    parent_instance;

  GSettings *settings;
  GPtrArray *providers;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NatterProviderList, natter_provider_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * natter_settings_new_if_installed:
 *
 * natter-cli also runs where the app's schema is not installed; asking
 * GSettings for a missing schema would abort.
 *
 * Returns: (transfer full) (nullable): the app's settings, or %NULL
 */
GSettings *
natter_settings_new_if_installed (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  return schema != NULL ? g_settings_new_full (schema, NULL, NULL) : NULL;
}

/* --- GListModel ---------------------------------------------------------- */

static GType
get_item_type (GListModel *model)
{
  return NATTER_TYPE_PROVIDER;
}

static guint
get_n_items (GListModel *model)
{
  return NATTER_PROVIDER_LIST (model)->providers->len;
}

static gpointer
get_item (GListModel *model,
          guint       position)
{
  NatterProviderList *self = NATTER_PROVIDER_LIST (model);

  if (position >= self->providers->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->providers, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

/* --- Saving and loading ------------------------------------------------- */

static void
save (NatterProviderList *self)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{ss}"));
  for (guint i = 0; i < self->providers->len; i++)
    g_variant_builder_add_value (&builder, natter_provider_to_variant (g_ptr_array_index (self->providers, i)));
  g_settings_set_value (self->settings, "providers", g_variant_builder_end (&builder));
}

static void
append (NatterProviderList *self,
        NatterProvider     *provider)
{
  g_ptr_array_add (self->providers, g_object_ref (provider));
  g_signal_connect_swapped (provider, "notify", G_CALLBACK (save), self);
}

static void
load (NatterProviderList *self)
{
  g_autoptr(GVariant) stored = g_settings_get_value (self->settings, "providers");
  GVariantIter iter;
  GVariant *dict;

  g_variant_iter_init (&iter, stored);
  while ((dict = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(NatterProvider) provider = natter_provider_new_from_variant (dict);

      if (provider != NULL)
        append (self, provider);
      g_variant_unref (dict);
    }
}

/* --- GObject ------------------------------------------------------------- */

static void
natter_provider_list_constructed (GObject *object)
{
  G_OBJECT_CLASS (natter_provider_list_parent_class)->constructed (object);
  load (NATTER_PROVIDER_LIST (object));
}

static void
natter_provider_list_dispose (GObject *object)
{
  NatterProviderList *self = NATTER_PROVIDER_LIST (object);

  for (guint i = 0; self->providers != NULL && i < self->providers->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->providers, i), self);
  g_clear_pointer (&self->providers, g_ptr_array_unref);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (natter_provider_list_parent_class)->dispose (object);
}

static void
natter_provider_list_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, NATTER_PROVIDER_LIST (object)->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_provider_list_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_SETTINGS:
      NATTER_PROVIDER_LIST (object)->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_provider_list_class_init (NatterProviderListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = natter_provider_list_constructed;
  object_class->dispose = natter_provider_list_dispose;
  object_class->get_property = natter_provider_list_get_property;
  object_class->set_property = natter_provider_list_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_provider_list_init (NatterProviderList *self)
{
  self->providers = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * natter_provider_list_new:
 * @settings: the app's settings, with the "providers" key
 */
NatterProviderList *
natter_provider_list_new (GSettings *settings)
{
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  return g_object_new (NATTER_TYPE_PROVIDER_LIST, "settings", settings, NULL);
}

/* Returns: (transfer none): the settings the list is kept in */
GSettings *
natter_provider_list_get_settings (NatterProviderList *self)
{
  g_return_val_if_fail (NATTER_IS_PROVIDER_LIST (self), NULL);
  return self->settings;
}

void
natter_provider_list_add (NatterProviderList *self,
                          NatterProvider     *provider)
{
  g_return_if_fail (NATTER_IS_PROVIDER_LIST (self));
  g_return_if_fail (NATTER_IS_PROVIDER (provider));

  append (self, provider);
  save (self);
  g_list_model_items_changed (G_LIST_MODEL (self), self->providers->len - 1, 0, 1);
}

/* The provider's key is the caller's to remove, from the keyring. */
void
natter_provider_list_remove (NatterProviderList *self,
                             NatterProvider     *provider)
{
  guint position;

  g_return_if_fail (NATTER_IS_PROVIDER_LIST (self));

  if (!g_ptr_array_find (self->providers, provider, &position))
    return;
  g_signal_handlers_disconnect_by_data (provider, self);
  g_ptr_array_remove_index (self->providers, position);
  save (self);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

/**
 * natter_provider_list_find:
 * @id_or_name: a provider's id, or its name in any case
 *
 * Returns: (transfer none) (nullable): the provider
 */
NatterProvider *
natter_provider_list_find (NatterProviderList *self,
                           const char         *id_or_name)
{
  g_autofree char *wanted = id_or_name != NULL ? g_utf8_casefold (id_or_name, -1) : NULL;

  g_return_val_if_fail (NATTER_IS_PROVIDER_LIST (self), NULL);

  for (guint i = 0; wanted != NULL && i < self->providers->len; i++)
    {
      NatterProvider *provider = g_ptr_array_index (self->providers, i);
      const char *name = natter_provider_get_name (provider);
      g_autofree char *folded = name != NULL ? g_utf8_casefold (name, -1) : NULL;

      if (g_strcmp0 (natter_provider_get_id (provider), id_or_name) == 0 ||
          g_strcmp0 (folded, wanted) == 0)
        return provider;
    }
  return NULL;
}

/**
 * natter_provider_list_get_current:
 *
 * Returns: (transfer none) (nullable): the provider messages go to: the one
 *   chosen last, else the first one
 */
NatterProvider *
natter_provider_list_get_current (NatterProviderList *self)
{
  g_autofree char *id = NULL;
  NatterProvider *provider;

  g_return_val_if_fail (NATTER_IS_PROVIDER_LIST (self), NULL);

  id = g_settings_get_string (self->settings, "current-provider");
  provider = natter_provider_list_find (self, id);
  if (provider == NULL && self->providers->len > 0)
    provider = g_ptr_array_index (self->providers, 0);
  return provider;
}

void
natter_provider_list_set_current (NatterProviderList *self,
                                  NatterProvider     *provider)
{
  g_return_if_fail (NATTER_IS_PROVIDER_LIST (self));
  g_settings_set_string (self->settings, "current-provider",
                         provider != NULL ? natter_provider_get_id (provider) : "");
}

/**
 * natter_provider_list_remember_model:
 * @provider_id: a provider's id
 * @model: the model the user picked for it
 */
void
natter_provider_list_remember_model (NatterProviderList *self,
                                     const char         *provider_id,
                                     const char         *model)
{
  g_autoptr(GVariant) stored = NULL;
  GVariantBuilder builder;
  GVariantIter iter;
  const char *id, *value;

  g_return_if_fail (NATTER_IS_PROVIDER_LIST (self));
  g_return_if_fail (provider_id != NULL && model != NULL);

  stored = g_settings_get_value (self->settings, "last-models");
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  g_variant_iter_init (&iter, stored);
  while (g_variant_iter_next (&iter, "{&s&s}", &id, &value))
    if (g_strcmp0 (id, provider_id) != 0)
      g_variant_builder_add (&builder, "{ss}", id, value);
  g_variant_builder_add (&builder, "{ss}", provider_id, model);
  g_settings_set_value (self->settings, "last-models", g_variant_builder_end (&builder));
}

/**
 * natter_provider_list_dup_last_model:
 *
 * Returns: (transfer full) (nullable): the model picked last for the
 *   provider, or %NULL
 */
char *
natter_provider_list_dup_last_model (NatterProviderList *self,
                                     const char         *provider_id)
{
  g_autoptr(GVariant) stored = NULL;
  const char *model = NULL;

  g_return_val_if_fail (NATTER_IS_PROVIDER_LIST (self), NULL);

  stored = g_settings_get_value (self->settings, "last-models");
  if (provider_id != NULL && g_variant_lookup (stored, provider_id, "&s", &model) && *model != '\0')
    return g_strdup (model);
  return NULL;
}
