/* natter-key-store.c — API keys in the Secret Service, or in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Keys go to the Secret Service (GNOME Keyring, KWallet, or libsecret's own
 * encrypted file inside a Flatpak sandbox) through libsecret's asynchronous
 * calls, so the main loop never waits on D-Bus or on an unlock prompt.
 *
 * Where there is no Secret Service at all, Natter still has to work: the
 * first failure switches the store to a table in memory for the rest of the
 * process, and "persistent" turns FALSE so that the UI can say keys will be
 * forgotten on quit. Keys are never written anywhere else, nor logged, nor
 * put in an error message.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "natter-key-store.h"

struct _NatterKeyStore
{
  GObject          parent_instance;

  /* Held so that it is set up only once, see run_operation() */
  GDBusConnection *bus;
  /* provider id → key, once the Secret Service has failed us */
  GHashTable      *memory;
  gboolean         persistent;
};

G_DEFINE_FINAL_TYPE (NatterKeyStore, natter_key_store, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PERSISTENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Named by the app ID, as the GSettings schema is, so that a development
 * build keeps its keys apart. SECRET_SCHEMA_NONE, not DONT_MATCH_NAME:
 * lookups and clears then also match xdg:schema, so that another program's
 * item with a "provider" attribute is never returned or deleted. */
static const SecretSchema key_schema = {
  .name = APP_ID ".ApiKey",
  .flags = SECRET_SCHEMA_NONE,
  .attributes = {
    { "provider", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "base-url", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
};

typedef struct {
  char *provider_id;
  char *base_url;
  char *label;
  char *key;
} StoreData;

static void
store_data_free (StoreData *data)
{
  g_free (data->provider_id);
  g_free (data->base_url);
  g_free (data->label);
  natter_key_store_free_key (data->key);
  g_free (data);
}

/**
 * natter_key_store_free_key:
 *
 * Overwrites a key with zeros before freeing it, so that it does not linger
 * in freed heap memory (core dumps, later allocations).
 */
void
natter_key_store_free_key (char *key)
{
  /* Through a volatile pointer: a memset right before free may be optimised
   * away as a dead store. */
  volatile char *p = key;

  if (key == NULL)
    return;
  while (*p != '\0')
    *p++ = '\0';
  g_free (key);
}

static void
natter_key_store_dispose (GObject *object)
{
  NatterKeyStore *self = NATTER_KEY_STORE (object);

  g_clear_object (&self->bus);

  G_OBJECT_CLASS (natter_key_store_parent_class)->dispose (object);
}

static void
natter_key_store_finalize (GObject *object)
{
  NatterKeyStore *self = NATTER_KEY_STORE (object);

  g_hash_table_destroy (self->memory);

  G_OBJECT_CLASS (natter_key_store_parent_class)->finalize (object);
}

static void
natter_key_store_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  NatterKeyStore *self = NATTER_KEY_STORE (object);

  switch (prop_id)
    {
    case PROP_PERSISTENT:
      g_value_set_boolean (value, self->persistent);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_key_store_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  NatterKeyStore *self = NATTER_KEY_STORE (object);

  switch (prop_id)
    {
    case PROP_PERSISTENT:
      self->persistent = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_key_store_class_init (NatterKeyStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = natter_key_store_dispose;
  object_class->finalize = natter_key_store_finalize;
  object_class->get_property = natter_key_store_get_property;
  object_class->set_property = natter_key_store_set_property;

  /**
   * NatterKeyStore:persistent:
   *
   * Whether keys outlive the process. Set to FALSE at construction for a
   * memory-only store; turns FALSE by itself when the Secret Service fails.
   */
  properties[PROP_PERSISTENT] =
    g_param_spec_boolean ("persistent", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_key_store_init (NatterKeyStore *self)
{
  self->persistent = TRUE;
  self->memory = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) natter_key_store_free_key);
}

NatterKeyStore *
natter_key_store_new (void)
{
  return g_object_new (NATTER_TYPE_KEY_STORE, NULL);
}

/**
 * natter_key_store_new_in_memory:
 *
 * A store that never touches the Secret Service, for tests.
 */
NatterKeyStore *
natter_key_store_new_in_memory (void)
{
  return g_object_new (NATTER_TYPE_KEY_STORE, "persistent", FALSE, NULL);
}

gboolean
natter_key_store_is_persistent (NatterKeyStore *self)
{
  g_return_val_if_fail (NATTER_IS_KEY_STORE (self), FALSE);
  return self->persistent;
}

static GHashTable *
provider_attributes (const char *provider_id)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, (gpointer) "provider", (gpointer) provider_id);
  return attributes;
}

/* Returns whether the operation should go on in memory. Anything but the
 * caller's own cancellation means there is no usable Secret Service, and
 * asking again would only fail again (or block on a D-Bus timeout each
 * time); libsecret itself can report G_IO_ERROR_CANCELLED when the service
 * goes away under load. The message comes from libsecret or D-Bus, never
 * with the key in it. */
static gboolean
keyring_failed (GTask   *task,
                GError **error)
{
  NatterKeyStore *self = g_task_get_source_object (task);

  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      g_task_return_error (task, g_steal_pointer (error));
      return FALSE;
    }

  g_debug ("No usable Secret Service, API keys are kept in memory: %s", (*error)->message);
  if (self->persistent)
    {
      self->persistent = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PERSISTENT]);
    }
  return TRUE;
}

typedef void (*Step) (GTask *task);

typedef struct {
  GTask *task;
  Step   in_keyring;
  Step   in_memory;
} Operation;

static void
bus_ready_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree Operation *operation = user_data;
  g_autoptr(GTask) task = operation->task;
  NatterKeyStore *self = g_task_get_source_object (task);
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;

  bus = g_bus_get_finish (result, &error);
  if (bus == NULL)
    {
      if (keyring_failed (task, &error))
        operation->in_memory (task);
      return;
    }

  if (self->bus == NULL)
    self->bus = g_steal_pointer (&bus);
  if (g_task_return_error_if_cancelled (task))
    return;
  /* Another operation may have found the keyring gone meanwhile. */
  if (self->persistent)
    operation->in_keyring (task);
  else
    operation->in_memory (task);
}

/* Runs @in_keyring, or @in_memory when there is no Secret Service. Both get
 * a borrowed task. The session bus is connected first, without the caller's
 * cancellable, and held: GDBus shares one connection in the process, and
 * when its set-up is cancelled, calls made meanwhile share that set-up and
 * fail with "Operation was cancelled" though nobody cancelled them. */
static void
run_operation (GTask *task,
               Step   in_keyring,
               Step   in_memory)
{
  NatterKeyStore *self = g_task_get_source_object (task);
  Operation *operation;

  if (g_task_return_error_if_cancelled (task))
    return;
  if (!self->persistent)
    {
      in_memory (task);
      return;
    }
  if (self->bus != NULL)
    {
      in_keyring (task);
      return;
    }

  operation = g_new (Operation, 1);
  operation->task = g_object_ref (task);
  operation->in_keyring = in_keyring;
  operation->in_memory = in_memory;
  g_bus_get (G_BUS_TYPE_SESSION, NULL, bus_ready_cb, operation);
}

static void
store_in_memory (GTask *task)
{
  NatterKeyStore *self = g_task_get_source_object (task);
  StoreData *data = g_task_get_task_data (task);

  g_hash_table_replace (self->memory, g_strdup (data->provider_id), g_strdup (data->key));
  g_task_return_boolean (task, TRUE);
}

static void
stored_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (secret_password_store_finish (result, &error))
    g_task_return_boolean (task, TRUE);
  else if (keyring_failed (task, &error))
    store_in_memory (task);
}

static void
store_cleared_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StoreData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) attributes = NULL;

  secret_password_clear_finish (result, &error);
  if (error != NULL)
    {
      if (keyring_failed (task, &error))
        store_in_memory (task);
      return;
    }

  attributes = provider_attributes (data->provider_id);
  if (data->base_url != NULL)
    g_hash_table_insert (attributes, (gpointer) "base-url", data->base_url);
  /* Not cancellable: the old key is gone now, and a Cancel must not leave
   * the provider with no key at all. */
  secret_password_storev (&key_schema, attributes, SECRET_COLLECTION_DEFAULT,
                          data->label, data->key, NULL,
                          stored_cb, g_steal_pointer (&task));
}

/* Lookups go by provider only: clear every key of the provider first, so
 * that one stored under an older base URL does not linger. */
static void
store_in_keyring (GTask *task)
{
  StoreData *data = g_task_get_task_data (task);
  g_autoptr(GHashTable) attributes = provider_attributes (data->provider_id);

  secret_password_clearv (&key_schema, attributes, g_task_get_cancellable (task),
                          store_cleared_cb, g_object_ref (task));
}

/**
 * natter_key_store_store_async:
 * @base_url: (nullable): only shown in Seahorse next to the key
 * @label: (nullable): how Seahorse names the key, such as "Natter API key
 *   for OpenRouter"
 *
 * Keeps @key for the provider, replacing the one it had, whatever base URL
 * that one was stored with.
 */
void
natter_key_store_store_async (NatterKeyStore      *self,
                              const char          *provider_id,
                              const char          *base_url,
                              const char          *label,
                              const char          *key,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  StoreData *data;

  g_return_if_fail (NATTER_IS_KEY_STORE (self));
  g_return_if_fail (provider_id != NULL);
  g_return_if_fail (key != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_key_store_store_async);
  /* Once the key is stored, say so even if Cancel came too late. */
  g_task_set_check_cancellable (task, FALSE);

  data = g_new0 (StoreData, 1);
  data->provider_id = g_strdup (provider_id);
  data->base_url = g_strdup (base_url);
  /* Translators: how the keyring (Seahorse) names an API key */
  data->label = g_strdup (label != NULL ? label : _("Natter API key"));
  data->key = g_strdup (key);
  g_task_set_task_data (task, data, (GDestroyNotify) store_data_free);

  run_operation (task, store_in_keyring, store_in_memory);
}

gboolean
natter_key_store_store_finish (NatterKeyStore  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == natter_key_store_store_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
lookup_in_memory (GTask *task)
{
  NatterKeyStore *self = g_task_get_source_object (task);
  const char *provider_id = g_task_get_task_data (task);
  const char *key = g_hash_table_lookup (self->memory, provider_id);

  g_task_return_pointer (task, g_strdup (key), (GDestroyNotify) natter_key_store_free_key);
}

/* Out of libsecret's locked, wiped-on-free memory into an ordinary string:
 * callers free it with natter_key_store_free_key(). */
static char *
copy_secret (char *secret)
{
  char *key;

  if (secret == NULL)
    return NULL;
  key = g_strdup (secret);
  secret_password_free (secret);
  return key;
}

static void
looked_up_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char *secret;

  secret = secret_password_lookup_finish (result, &error);
  if (error == NULL)
    g_task_return_pointer (task, copy_secret (secret), (GDestroyNotify) natter_key_store_free_key);
  else if (keyring_failed (task, &error))
    lookup_in_memory (task);
}

static void
lookup_in_keyring (GTask *task)
{
  g_autoptr(GHashTable) attributes = provider_attributes (g_task_get_task_data (task));

  secret_password_lookupv (&key_schema, attributes, g_task_get_cancellable (task),
                           looked_up_cb, g_object_ref (task));
}

void
natter_key_store_lookup_async (NatterKeyStore      *self,
                               const char          *provider_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (NATTER_IS_KEY_STORE (self));
  g_return_if_fail (provider_id != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_key_store_lookup_async);
  g_task_set_task_data (task, g_strdup (provider_id), g_free);

  run_operation (task, lookup_in_keyring, lookup_in_memory);
}

/**
 * natter_key_store_lookup_finish:
 *
 * Returns: (transfer full) (nullable): the key, or %NULL without an error
 *   when the provider has none; free it with natter_key_store_free_key()
 */
char *
natter_key_store_lookup_finish (NatterKeyStore  *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == natter_key_store_lookup_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
clear_in_memory (GTask *task)
{
  NatterKeyStore *self = g_task_get_source_object (task);
  const char *provider_id = g_task_get_task_data (task);

  g_hash_table_remove (self->memory, provider_id);
  g_task_return_boolean (task, TRUE);
}

static void
cleared_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* FALSE without an error only means there was no key to remove. */
  secret_password_clear_finish (result, &error);
  if (error == NULL)
    g_task_return_boolean (task, TRUE);
  else if (keyring_failed (task, &error))
    clear_in_memory (task);
}

static void
clear_in_keyring (GTask *task)
{
  g_autoptr(GHashTable) attributes = provider_attributes (g_task_get_task_data (task));

  secret_password_clearv (&key_schema, attributes, g_task_get_cancellable (task),
                          cleared_cb, g_object_ref (task));
}

/**
 * natter_key_store_clear_async:
 *
 * Forgets the provider's key. Succeeds when there was none.
 */
void
natter_key_store_clear_async (NatterKeyStore      *self,
                              const char          *provider_id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (NATTER_IS_KEY_STORE (self));
  g_return_if_fail (provider_id != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_key_store_clear_async);
  g_task_set_task_data (task, g_strdup (provider_id), g_free);

  run_operation (task, clear_in_keyring, clear_in_memory);
}

gboolean
natter_key_store_clear_finish (NatterKeyStore  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == natter_key_store_clear_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
