/* natter-client.c — one provider endpoint: base URL, key, HTTP session
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A client is what a window or natter-cli is given to talk to a provider.
 * It owns the SoupSession and builds every request, so headers such as the
 * key are set in one place and never anywhere else.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "natter-api-error.h"
#include "natter-client.h"

#define OPENROUTER_REFERER "https://github.com/natter/natter"

struct _NatterClient
{
  GObject      parent_instance;

  SoupSession *session;
  char        *base_url;
  char        *api_key;
  guint        stall_timeout_ms;
  guint        max_retries;
  guint        retry_base_ms;
};

G_DEFINE_FINAL_TYPE (NatterClient, natter_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BASE_URL,
  PROP_API_KEY,
  PROP_STALL_TIMEOUT_MS,
  PROP_MAX_RETRIES,
  PROP_RETRY_BASE_MS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* "https://host/v1/" and "https://host/v1" name the same endpoint. */
static char *
normalize_base_url (const char *base_url)
{
  g_autofree char *url = g_strstrip (g_strdup (base_url != NULL ? base_url : ""));
  gsize len = strlen (url);

  while (len > 0 && url[len - 1] == '/')
    url[--len] = '\0';
  return g_steal_pointer (&url);
}

static void
natter_client_finalize (GObject *object)
{
  NatterClient *self = NATTER_CLIENT (object);

  g_clear_object (&self->session);
  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->api_key, g_free);

  G_OBJECT_CLASS (natter_client_parent_class)->finalize (object);
}

static void
natter_client_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  NatterClient *self = NATTER_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, self->base_url);
      break;
    case PROP_STALL_TIMEOUT_MS:
      g_value_set_uint (value, self->stall_timeout_ms);
      break;
    case PROP_MAX_RETRIES:
      g_value_set_uint (value, self->max_retries);
      break;
    case PROP_RETRY_BASE_MS:
      g_value_set_uint (value, self->retry_base_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_client_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  NatterClient *self = NATTER_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      self->base_url = normalize_base_url (g_value_get_string (value));
      break;
    case PROP_API_KEY:
      /* An empty key is no key: local servers want no Authorization. */
      if (g_value_get_string (value) != NULL && *g_value_get_string (value) != '\0')
        self->api_key = g_value_dup_string (value);
      break;
    case PROP_STALL_TIMEOUT_MS:
      natter_client_set_stall_timeout_ms (self, g_value_get_uint (value));
      break;
    case PROP_MAX_RETRIES:
      natter_client_set_max_retries (self, g_value_get_uint (value));
      break;
    case PROP_RETRY_BASE_MS:
      natter_client_set_retry_base_ms (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_client_class_init (NatterClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natter_client_finalize;
  object_class->get_property = natter_client_get_property;
  object_class->set_property = natter_client_set_property;

  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* Write-only, so that no property dump or binding can leak the key. */
  properties[PROP_API_KEY] =
    g_param_spec_string ("api-key", NULL, NULL, NULL,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STALL_TIMEOUT_MS] =
    g_param_spec_uint ("stall-timeout-ms", NULL, NULL, 1, G_MAXUINT,
                       NATTER_CLIENT_DEFAULT_STALL_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_MAX_RETRIES] =
    g_param_spec_uint ("max-retries", NULL, NULL, 0, 100, NATTER_CLIENT_DEFAULT_MAX_RETRIES,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_RETRY_BASE_MS] =
    g_param_spec_uint ("retry-base-ms", NULL, NULL, 1, NATTER_CLIENT_RETRY_CAP_MS,
                       NATTER_CLIENT_DEFAULT_RETRY_BASE_MS,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_client_init (NatterClient *self)
{
  g_autofree char *user_agent = g_strdup_printf ("Natter/%s ", PACKAGE_VERSION);

  self->stall_timeout_ms = NATTER_CLIENT_DEFAULT_STALL_TIMEOUT_MS;
  self->max_retries = NATTER_CLIENT_DEFAULT_MAX_RETRIES;
  self->retry_base_ms = NATTER_CLIENT_DEFAULT_RETRY_BASE_MS;
  /* Streams are watched by our own stall timer, which the user can set
   * above libsoup's 60 s I/O timeout. */
  self->session = soup_session_new_with_options ("user-agent", user_agent,
                                                 "timeout", 0,
                                                 NULL);
}

/**
 * natter_client_new:
 * @base_url: the endpoint, such as "https://openrouter.ai/api/v1"
 * @api_key: (nullable): the key; %NULL or "" for local servers
 */
NatterClient *
natter_client_new (const char *base_url,
                   const char *api_key)
{
  return g_object_new (NATTER_TYPE_CLIENT, "base-url", base_url, "api-key", api_key, NULL);
}

const char *
natter_client_get_base_url (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return self->base_url;
}

gboolean
natter_client_has_api_key (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), FALSE);
  return self->api_key != NULL;
}

guint
natter_client_get_stall_timeout_ms (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), 0);
  return self->stall_timeout_ms;
}

void
natter_client_set_stall_timeout_ms (NatterClient *self,
                                    guint         timeout_ms)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));

  timeout_ms = MAX (timeout_ms, 1);
  if (self->stall_timeout_ms == timeout_ms)
    return;
  self->stall_timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STALL_TIMEOUT_MS]);
}

guint
natter_client_get_max_retries (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), 0);
  return self->max_retries;
}

void
natter_client_set_max_retries (NatterClient *self,
                               guint         max_retries)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));

  if (self->max_retries == max_retries)
    return;
  self->max_retries = max_retries;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_RETRIES]);
}

guint
natter_client_get_retry_base_ms (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), 0);
  return self->retry_base_ms;
}

void
natter_client_set_retry_base_ms (NatterClient *self,
                                 guint         base_ms)
{
  g_return_if_fail (NATTER_IS_CLIENT (self));

  base_ms = CLAMP (base_ms, 1, NATTER_CLIENT_RETRY_CAP_MS);
  if (self->retry_base_ms == base_ms)
    return;
  self->retry_base_ms = base_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_BASE_MS]);
}

/**
 * natter_client_get_session:
 *
 * Returns: (transfer none): the session every request of this client uses
 */
SoupSession *
natter_client_get_session (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  return self->session;
}

static gboolean
is_openrouter (GUri *uri)
{
  const char *host = g_uri_get_host (uri);

  return host != NULL &&
         (g_ascii_strcasecmp (host, "openrouter.ai") == 0 ||
          g_str_has_suffix (host, ".openrouter.ai"));
}

static GUri *
parse_http_uri (const char  *url,
                GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;

  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0))
    {
      g_set_error (error, NATTER_API_ERROR, NATTER_API_ERROR_NOT_FOUND,
                   _("“%s” is not a valid base URL. It should look like https://example.com/v1."),
                   url);
      return NULL;
    }
  return g_steal_pointer (&uri);
}

/**
 * natter_client_check_base_url:
 * @base_url: what the user typed
 *
 * Returns: %TRUE if @base_url is an absolute http or https URL
 */
gboolean
natter_client_check_base_url (const char  *base_url,
                              GError     **error)
{
  g_autoptr(GUri) uri = parse_http_uri (base_url, error);

  return uri != NULL;
}

/**
 * natter_client_new_message:
 * @method: "GET" or "POST"
 * @path: the path below the base URL, such as "/chat/completions"
 *
 * Returns: (transfer full) (nullable): a message carrying the key and the
 *   headers the provider expects, or %NULL if the base URL is not valid
 */
SoupMessage *
natter_client_new_message (NatterClient  *self,
                           const char    *method,
                           const char    *path,
                           GError       **error)
{
  g_autofree char *url = NULL;
  g_autoptr(GUri) uri = NULL;
  SoupMessage *message;
  SoupMessageHeaders *headers;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);

  url = g_strconcat (self->base_url, path, NULL);
  if (!(uri = parse_http_uri (url, error)))
    return NULL;

  message = soup_message_new_from_uri (method, uri);
  headers = soup_message_get_request_headers (message);
  /* A redirect would carry the key to another origin and turn a POST into a
   * GET; an endpoint that redirects is reported as a wrong base URL. */
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);

  if (self->api_key != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", self->api_key, NULL);
      soup_message_headers_replace (headers, "Authorization", authorization);
    }
  if (is_openrouter (uri))
    {
      soup_message_headers_replace (headers, "HTTP-Referer", OPENROUTER_REFERER);
      soup_message_headers_replace (headers, "X-Title", "Natter");
    }
  return message;
}

/* Shorter keys (local servers take anything) would mask ordinary words. */
#define REDACT_MIN_KEY_LENGTH 8

/**
 * natter_client_redact_error:
 * @error: (nullable): an error of a call made with this client
 *
 * Some servers quote the key back ("Incorrect API key provided: sk-…"),
 * and error messages are shown, saved with the answer, exported and logged:
 * every occurrence of the key in @error's message is masked.
 */
void
natter_client_redact_error (NatterClient *self,
                            GError       *error)
{
  g_auto(GStrv) parts = NULL;

  g_return_if_fail (NATTER_IS_CLIENT (self));

  if (error == NULL || self->api_key == NULL || strlen (self->api_key) < REDACT_MIN_KEY_LENGTH ||
      strstr (error->message, self->api_key) == NULL)
    return;
  parts = g_strsplit (error->message, self->api_key, -1);
  g_free (error->message);
  error->message = g_strjoinv ("****", parts);
}

/* --- Model list ------------------------------------------------------ */

static int
compare_ids (const void *a,
             const void *b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

static GStrv
parse_model_ids (GBytes  *body,
                 GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();
  gsize length;
  const char *data = g_bytes_get_data (body, &length);
  JsonNode *root;
  JsonArray *models;
  GStrv result;

  if (!json_parser_load_from_data (parser, data, length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (root = json_parser_get_root (parser)) ||
      !json_object_has_member (json_node_get_object (root), "data") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (root), "data")))
    {
      g_set_error_literal (error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL,
                           _("The provider’s model list is not in the expected format."));
      return NULL;
    }

  models = json_object_get_array_member (json_node_get_object (root), "data");
  for (guint i = 0; i < json_array_get_length (models); i++)
    {
      JsonObject *model = json_array_get_object_element (models, i);
      JsonNode *id = model != NULL ? json_object_get_member (model, "id") : NULL;

      if (id != NULL && json_node_get_value_type (id) == G_TYPE_STRING)
        g_strv_builder_add (ids, json_node_get_string (id));
    }

  result = g_strv_builder_end (ids);
  qsort (result, g_strv_length (result), sizeof (char *), compare_ids);
  return result;
}

static void
list_models_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SoupMessage *message = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  GStrv ids;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (body == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, natter_api_error_new_for_network (error));
      return;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    g_task_return_error (task, natter_api_error_new_for_response (message, body));
  else if ((ids = parse_model_ids (body, &error)) != NULL)
    g_task_return_pointer (task, ids, (GDestroyNotify) g_strfreev);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

/**
 * natter_client_list_models_async:
 *
 * Asks GET {base_url}/models for the ids of the models the provider serves.
 */
void
natter_client_list_models_async (NatterClient        *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  SoupMessage *message;

  g_return_if_fail (NATTER_IS_CLIENT (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_client_list_models_async);

  if (!(message = natter_client_new_message (self, "GET", "/models", &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_set_task_data (task, message, g_object_unref);
  soup_session_send_and_read_async (self->session, message, G_PRIORITY_DEFAULT,
                                    cancellable, list_models_cb, g_steal_pointer (&task));
}

/**
 * natter_client_list_models_finish:
 *
 * Returns: (transfer full): the model ids, sorted
 */
GStrv
natter_client_list_models_finish (NatterClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  GError *local_error = NULL;
  GStrv ids;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  ids = g_task_propagate_pointer (G_TASK (result), &local_error);
  natter_client_redact_error (self, local_error);
  if (local_error != NULL)
    g_propagate_error (error, local_error);
  return ids;
}
