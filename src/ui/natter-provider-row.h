/* natter-provider-row.h — edits one provider in Preferences
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "natter-key-store.h"
#include "natter-provider.h"

G_BEGIN_DECLS

#define NATTER_TYPE_PROVIDER_ROW (natter_provider_row_get_type ())
G_DECLARE_FINAL_TYPE (NatterProviderRow, natter_provider_row, NATTER, PROVIDER_ROW, AdwExpanderRow)

GtkWidget      *natter_provider_row_new          (NatterProvider    *provider,
                                                  NatterKeyStore    *keys);
NatterProvider *natter_provider_row_get_provider (NatterProviderRow *self);
gboolean        natter_provider_row_has_key      (NatterProviderRow *self);

G_END_DECLS
