/* natter-provider-list.h — the providers the user keeps, in GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "natter-provider.h"

G_BEGIN_DECLS

#define NATTER_TYPE_PROVIDER_LIST (natter_provider_list_get_type ())
G_DECLARE_FINAL_TYPE (NatterProviderList, natter_provider_list, NATTER, PROVIDER_LIST, GObject)

GSettings          *natter_settings_new_if_installed   (void);

NatterProviderList *natter_provider_list_new           (GSettings          *settings);
GSettings          *natter_provider_list_get_settings  (NatterProviderList *self);
void                natter_provider_list_add           (NatterProviderList *self,
                                                        NatterProvider     *provider);
void                natter_provider_list_remove        (NatterProviderList *self,
                                                        NatterProvider     *provider);
NatterProvider     *natter_provider_list_find          (NatterProviderList *self,
                                                        const char         *id_or_name);
NatterProvider     *natter_provider_list_get_current   (NatterProviderList *self);
void                natter_provider_list_set_current   (NatterProviderList *self,
                                                        NatterProvider     *provider);
void                natter_provider_list_remember_model (NatterProviderList *self,
                                                         const char         *provider_id,
                                                         const char         *model);
char               *natter_provider_list_dup_last_model (NatterProviderList *self,
                                                         const char         *provider_id);

G_END_DECLS
