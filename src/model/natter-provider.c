/* natter-provider.c — one provider the user keeps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A provider is an endpoint with a name and a default model. Its key is not
 * here: it lives in the keyring, under the provider's id.
 */
#include <glib/gi18n.h>

#include "natter-provider.h"
#include "natter-provider-preset.h"

struct _NatterProvider
{
  GObject  parent_instance;

  char    *id;
  char    *name;
  char    *base_url;
  char    *preset;
  char    *model;
};

G_DEFINE_FINAL_TYPE (NatterProvider, natter_provider, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_BASE_URL,
  PROP_PRESET,
  PROP_MODEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
replace (char       **field,
         const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static void
natter_provider_finalize (GObject *object)
{
  NatterProvider *self = NATTER_PROVIDER (object);

  g_free (self->id);
  g_free (self->name);
  g_free (self->base_url);
  g_free (self->preset);
  g_free (self->model);

  G_OBJECT_CLASS (natter_provider_parent_class)->finalize (object);
}

static void
natter_provider_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  NatterProvider *self = NATTER_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_ID: g_value_set_string (value, self->id); break;
    case PROP_NAME: g_value_set_string (value, self->name); break;
    case PROP_BASE_URL: g_value_set_string (value, self->base_url); break;
    case PROP_PRESET: g_value_set_string (value, self->preset); break;
    case PROP_MODEL: g_value_set_string (value, self->model); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_provider_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  NatterProvider *self = NATTER_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_ID: replace (&self->id, g_value_get_string (value)); break;
    case PROP_NAME: natter_provider_set_name (self, g_value_get_string (value)); break;
    case PROP_BASE_URL: natter_provider_set_base_url (self, g_value_get_string (value)); break;
    case PROP_PRESET: replace (&self->preset, g_value_get_string (value)); break;
    case PROP_MODEL: natter_provider_set_model (self, g_value_get_string (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
string_property (const char  *name,
                 GParamFlags  flags)
{
  return g_param_spec_string (name, NULL, NULL, NULL,
                              G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | flags);
}

static void
natter_provider_class_init (NatterProviderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natter_provider_finalize;
  object_class->get_property = natter_provider_get_property;
  object_class->set_property = natter_provider_set_property;

  properties[PROP_ID] = string_property ("id", G_PARAM_CONSTRUCT_ONLY);
  properties[PROP_NAME] = string_property ("name", G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_BASE_URL] = string_property ("base-url", G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PRESET] = string_property ("preset", G_PARAM_CONSTRUCT_ONLY);
  properties[PROP_MODEL] = string_property ("model", G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_provider_init (NatterProvider *self)
{
}

/**
 * natter_provider_new:
 * @id: (nullable): a stable id; %NULL makes a new unique one
 * @preset: (nullable): the preset it was made from, such as "openrouter"
 * @model: (nullable): the default model
 */
NatterProvider *
natter_provider_new (const char *id,
                     const char *name,
                     const char *base_url,
                     const char *preset,
                     const char *model)
{
  g_autofree char *uuid = id == NULL ? g_uuid_string_random () : NULL;

  return g_object_new (NATTER_TYPE_PROVIDER,
                       "id", id != NULL ? id : uuid,
                       "name", name, "base-url", base_url, "preset", preset, "model", model,
                       NULL);
}

/**
 * natter_provider_new_from_preset:
 * @preset_id: a preset's id, or "custom"
 *
 * Returns: (transfer full) (nullable): a new provider filled from the
 *   preset, or %NULL for an unknown preset id
 */
NatterProvider *
natter_provider_new_from_preset (const char *preset_id)
{
  guint n;
  const NatterProviderPreset *presets = natter_provider_preset_get_all (&n);

  if (g_strcmp0 (preset_id, "custom") == 0)
    /* Translators: a provider set up by hand, at any OpenAI-compatible address */
    return natter_provider_new (NULL, _("Custom"), "", "custom", NULL);

  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (presets[i].id, preset_id) == 0)
      return natter_provider_new (NULL, gettext (presets[i].name), presets[i].base_url,
                                  presets[i].id, presets[i].default_model);
  return NULL;
}

const char *
natter_provider_get_id (NatterProvider *self)
{
  g_return_val_if_fail (NATTER_IS_PROVIDER (self), NULL);
  return self->id;
}

const char *
natter_provider_get_name (NatterProvider *self)
{
  g_return_val_if_fail (NATTER_IS_PROVIDER (self), NULL);
  return self->name;
}

void
natter_provider_set_name (NatterProvider *self,
                          const char     *name)
{
  g_return_if_fail (NATTER_IS_PROVIDER (self));
  if (replace (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

const char *
natter_provider_get_base_url (NatterProvider *self)
{
  g_return_val_if_fail (NATTER_IS_PROVIDER (self), NULL);
  return self->base_url;
}

void
natter_provider_set_base_url (NatterProvider *self,
                              const char     *base_url)
{
  g_return_if_fail (NATTER_IS_PROVIDER (self));
  if (replace (&self->base_url, base_url))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
}

const char *
natter_provider_get_preset (NatterProvider *self)
{
  g_return_val_if_fail (NATTER_IS_PROVIDER (self), NULL);
  return self->preset;
}

const char *
natter_provider_get_model (NatterProvider *self)
{
  g_return_val_if_fail (NATTER_IS_PROVIDER (self), NULL);
  return self->model;
}

void
natter_provider_set_model (NatterProvider *self,
                           const char     *model)
{
  g_return_if_fail (NATTER_IS_PROVIDER (self));
  if (replace (&self->model, model))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

/* Local servers take no key; a custom endpoint may or may not. */
gboolean
natter_provider_needs_key (NatterProvider *self)
{
  const NatterProviderPreset *preset;

  g_return_val_if_fail (NATTER_IS_PROVIDER (self), FALSE);

  preset = natter_provider_preset_find_by_url (self->base_url != NULL ? self->base_url : "");
  return preset == NULL || preset->needs_key;
}

/**
 * natter_provider_to_variant:
 *
 * Returns: (transfer floating): an a{ss} for the "providers" setting
 */
GVariant *
natter_provider_to_variant (NatterProvider *self)
{
  GVariantBuilder builder;

  g_return_val_if_fail (NATTER_IS_PROVIDER (self), NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&builder, "{ss}", "id", self->id);
  g_variant_builder_add (&builder, "{ss}", "name", self->name != NULL ? self->name : "");
  g_variant_builder_add (&builder, "{ss}", "base-url", self->base_url != NULL ? self->base_url : "");
  g_variant_builder_add (&builder, "{ss}", "preset", self->preset != NULL ? self->preset : "custom");
  g_variant_builder_add (&builder, "{ss}", "model", self->model != NULL ? self->model : "");
  return g_variant_builder_end (&builder);
}

static const char *
lookup (GVariant   *dict,
        const char *key)
{
  const char *value = NULL;

  g_variant_lookup (dict, key, "&s", &value);
  return value != NULL && *value != '\0' ? value : NULL;
}

/**
 * natter_provider_new_from_variant:
 * @dict: an a{ss} as stored in the "providers" setting
 *
 * Returns: (transfer full) (nullable): the provider, or %NULL if @dict has
 *   no id or base URL
 */
NatterProvider *
natter_provider_new_from_variant (GVariant *dict)
{
  g_return_val_if_fail (g_variant_is_of_type (dict, G_VARIANT_TYPE ("a{ss}")), NULL);

  if (lookup (dict, "id") == NULL || lookup (dict, "base-url") == NULL)
    return NULL;
  return natter_provider_new (lookup (dict, "id"), lookup (dict, "name"), lookup (dict, "base-url"),
                              lookup (dict, "preset"), lookup (dict, "model"));
}
