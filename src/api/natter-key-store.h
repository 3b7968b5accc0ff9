/* natter-key-store.h — API keys in the Secret Service, or in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define NATTER_TYPE_KEY_STORE (natter_key_store_get_type ())
G_DECLARE_FINAL_TYPE (NatterKeyStore, natter_key_store, NATTER, KEY_STORE, GObject)

NatterKeyStore *natter_key_store_new            (void);
NatterKeyStore *natter_key_store_new_in_memory  (void);
gboolean        natter_key_store_is_persistent  (NatterKeyStore       *self);

void            natter_key_store_store_async    (NatterKeyStore       *self,
                                                 const char           *provider_id,
                                                 const char           *base_url,
                                                 const char           *label,
                                                 const char           *key,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
gboolean        natter_key_store_store_finish   (NatterKeyStore       *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);
void            natter_key_store_lookup_async   (NatterKeyStore       *self,
                                                 const char           *provider_id,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
char           *natter_key_store_lookup_finish  (NatterKeyStore       *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);
void            natter_key_store_clear_async    (NatterKeyStore       *self,
                                                 const char           *provider_id,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
gboolean        natter_key_store_clear_finish   (NatterKeyStore       *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);

void            natter_key_store_free_key       (char                 *key);

G_END_DECLS
