/* natter-provider-preset.h — the providers Natter knows out of the box
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char *id;
  const char *name;          /* untranslated; show it with gettext () */
  const char *base_url;
  const char *default_model;
  gboolean    needs_key;
} NatterProviderPreset;

const NatterProviderPreset *natter_provider_preset_get_all     (guint      *n_presets);
const NatterProviderPreset *natter_provider_preset_find_by_url (const char *base_url);

G_END_DECLS
