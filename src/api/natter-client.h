/* natter-client.h — one provider endpoint: base URL, key, HTTP session
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define NATTER_CLIENT_DEFAULT_STALL_TIMEOUT_MS 60000
#define NATTER_CLIENT_DEFAULT_MAX_RETRIES      3
#define NATTER_CLIENT_DEFAULT_RETRY_BASE_MS    1000
#define NATTER_CLIENT_RETRY_CAP_MS             60000

#define NATTER_TYPE_CLIENT (natter_client_get_type ())
G_DECLARE_FINAL_TYPE (NatterClient, natter_client, NATTER, CLIENT, GObject)

gboolean      natter_client_check_base_url        (const char          *base_url,
                                                   GError             **error);
NatterClient *natter_client_new                   (const char          *base_url,
                                                   const char          *api_key);
const char   *natter_client_get_base_url          (NatterClient        *self);
gboolean      natter_client_has_api_key           (NatterClient        *self);
guint         natter_client_get_stall_timeout_ms  (NatterClient        *self);
void          natter_client_set_stall_timeout_ms  (NatterClient        *self,
                                                   guint                timeout_ms);
guint         natter_client_get_max_retries       (NatterClient        *self);
void          natter_client_set_max_retries       (NatterClient        *self,
                                                   guint                max_retries);
guint         natter_client_get_retry_base_ms     (NatterClient        *self);
void          natter_client_set_retry_base_ms     (NatterClient        *self,
                                                   guint                base_ms);
SoupSession  *natter_client_get_session           (NatterClient        *self);
SoupMessage  *natter_client_new_message           (NatterClient        *self,
                                                   const char          *method,
                                                   const char          *path,
                                                   GError             **error);
void          natter_client_redact_error          (NatterClient        *self,
                                                   GError              *error);

void          natter_client_list_models_async     (NatterClient        *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
GStrv         natter_client_list_models_finish    (NatterClient        *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

G_END_DECLS
