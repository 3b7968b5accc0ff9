/* natter-provider.h — one provider the user keeps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define NATTER_TYPE_PROVIDER (natter_provider_get_type ())
G_DECLARE_FINAL_TYPE (NatterProvider, natter_provider, NATTER, PROVIDER, GObject)

NatterProvider *natter_provider_new             (const char     *id,
                                                 const char     *name,
                                                 const char     *base_url,
                                                 const char     *preset,
                                                 const char     *model);
NatterProvider *natter_provider_new_from_preset (const char     *preset_id);
const char     *natter_provider_get_id          (NatterProvider *self);
const char     *natter_provider_get_name        (NatterProvider *self);
void            natter_provider_set_name        (NatterProvider *self,
                                                 const char     *name);
const char     *natter_provider_get_base_url    (NatterProvider *self);
void            natter_provider_set_base_url    (NatterProvider *self,
                                                 const char     *base_url);
const char     *natter_provider_get_preset      (NatterProvider *self);
const char     *natter_provider_get_model       (NatterProvider *self);
void            natter_provider_set_model       (NatterProvider *self,
                                                 const char     *model);
gboolean        natter_provider_needs_key       (NatterProvider *self);
GVariant       *natter_provider_to_variant      (NatterProvider *self);
NatterProvider *natter_provider_new_from_variant (GVariant      *dict);

G_END_DECLS
