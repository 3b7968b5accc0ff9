/* test-key-store.c — API keys in a real Secret Service, or in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run under tests/with-keyring.sh, which starts a private bus with its own
 * unlocked gnome-keyring-daemon, or with --no-keyring a bus without any
 * Secret Service. It says which in NATTER_TEST_KEYRING; without it, the
 * tests that would write to a keyring are skipped, so that they never touch
 * the developer's own.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <libsecret/secret.h>

#include "natter-key-store.h"

/* Every key a test stores, so that the log writer can look for them all. */
static const char *const test_keys[] = {
  "sk-natter-first-4f1c9a2e7b",
  "sk-natter-second-8d3b6e0a51",
  "sk-natter-other-2a7f5c9d13",
  "sk-natter-file-6e2d8b4a90",
};
#define FIRST  test_keys[0]
#define SECOND test_keys[1]
#define OTHER  test_keys[2]
#define IN_FILE test_keys[3]

static guint keys_logged;

typedef struct {
  NatterKeyStore *store;
  guint           persistent_notifies;
} Fixture;

static gboolean
keyring_is (const char *kind)
{
  return g_strcmp0 (g_getenv ("NATTER_TEST_KEYRING"), kind) == 0;
}

static void
persistent_notify_cb (NatterKeyStore *store,
                      GParamSpec     *pspec,
                      Fixture        *f)
{
  f->persistent_notifies++;
}

static void
set_up (Fixture       *f,
        gconstpointer  in_memory)
{
  f->store = in_memory ? natter_key_store_new_in_memory () : natter_key_store_new ();
  g_signal_connect (f->store, "notify::persistent", G_CALLBACK (persistent_notify_cb), f);
}

static void
drain (void)
{
  while (g_main_context_iteration (g_main_context_get_thread_default (), FALSE))
    ;
}

static void
tear_down (Fixture       *f,
           gconstpointer  in_memory)
{
  g_assert_finalize_object (f->store);
  drain ();
}

static void
result_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
}

static gboolean
store_key (Fixture      *f,
           const char   *provider_id,
           const char   *base_url,
           const char   *key,
           GCancellable *cancellable,
           GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  natter_key_store_store_async (f->store, provider_id, base_url, "Natter API key for a test",
                                key, cancellable, result_cb, &result);
  wait_for (&result);
  return natter_key_store_store_finish (f->store, result, error);
}

static char *
lookup_key (Fixture      *f,
            const char   *provider_id,
            GCancellable *cancellable,
            GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  natter_key_store_lookup_async (f->store, provider_id, cancellable, result_cb, &result);
  wait_for (&result);
  return natter_key_store_lookup_finish (f->store, result, error);
}

static gboolean
clear_key (Fixture      *f,
           const char   *provider_id,
           GCancellable *cancellable,
           GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  natter_key_store_clear_async (f->store, provider_id, cancellable, result_cb, &result);
  wait_for (&result);
  return natter_key_store_clear_finish (f->store, result, error);
}

static void
assert_stores (Fixture    *f,
               const char *provider_id,
               const char *base_url,
               const char *key)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (store_key (f, provider_id, base_url, key, NULL, &error));
  g_assert_no_error (error);
}

static void
assert_key (Fixture    *f,
            const char *provider_id,
            const char *expected)
{
  g_autoptr(GError) error = NULL;
  char *key = lookup_key (f, provider_id, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (key, ==, expected);
  natter_key_store_free_key (key);
}

static void
assert_clears (Fixture    *f,
               const char *provider_id)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (clear_key (f, provider_id, NULL, &error));
  g_assert_no_error (error);
}

/* Store, replace, clear, two providers apart: what every mode must do. */
static void
check_round_trip (Fixture *f)
{
  assert_key (f, "natter-test-a", NULL);
  assert_stores (f, "natter-test-a", "https://a.example.com/v1", FIRST);
  assert_key (f, "natter-test-a", FIRST);
  assert_stores (f, "natter-test-a", "https://a.example.com/v2", SECOND);
  assert_key (f, "natter-test-a", SECOND);

  assert_stores (f, "natter-test-b", NULL, OTHER);
  assert_key (f, "natter-test-b", OTHER);
  assert_clears (f, "natter-test-a");
  assert_key (f, "natter-test-a", NULL);
  assert_key (f, "natter-test-b", OTHER);

  assert_clears (f, "natter-test-b");
  assert_key (f, "natter-test-b", NULL);
  /* Removing a provider that has no key is not an error. */
  assert_clears (f, "natter-test-b");
}

/* What the Secret Service itself holds for a provider, whatever the schema.
 * Asynchronous, on the test's context: libsecret's _sync calls run their own
 * context, and GDBus would leave the item proxies' clean-up pending there. */
static GList *
search_items (const char *provider_id)
{
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GList *items;

  g_hash_table_insert (attributes, (gpointer) "provider", (gpointer) provider_id);
  secret_password_searchv (NULL, attributes, SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK,
                           NULL, result_cb, &result);
  wait_for (&result);
  items = secret_password_search_finish (result, &error);
  g_assert_no_error (error);
  return items;
}

static char *
retrieve_secret (SecretRetrievable *item)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(SecretValue) value = NULL;
  g_autoptr(GError) error = NULL;

  secret_retrievable_retrieve_secret (item, NULL, result_cb, &result);
  wait_for (&result);
  value = secret_retrievable_retrieve_secret_finish (item, result, &error);
  g_assert_no_error (error);
  return g_strdup (secret_value_get_text (value));
}

static void
assert_one_item (const char *provider_id,
                 const char *base_url,
                 const char *key)
{
  GList *items = search_items (provider_id);
  SecretRetrievable *item;
  g_autoptr(GHashTable) attributes = NULL;
  g_autofree char *label = NULL;
  char *secret;

  g_assert_cmpuint (g_list_length (items), ==, 1);
  item = items->data;
  attributes = secret_retrievable_get_attributes (item);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "xdg:schema"), ==, APP_ID ".ApiKey");
  g_assert_cmpstr (g_hash_table_lookup (attributes, "provider"), ==, provider_id);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "base-url"), ==, base_url);
  label = secret_retrievable_get_label (item);
  g_assert_cmpstr (label, ==, "Natter API key for a test");
  secret = retrieve_secret (item);
  g_assert_cmpstr (secret, ==, key);
  natter_key_store_free_key (secret);

  g_list_free_full (items, g_object_unref);
}

static void
assert_no_item (const char *provider_id)
{
  GList *items = search_items (provider_id);

  g_assert_null (items);
}

static gboolean
skip_unless_keyring (const char *kind)
{
  if (keyring_is (kind))
    return FALSE;
  g_test_skip (g_strcmp0 (kind, "none") == 0
               ? "needs tests/with-keyring.sh --no-keyring"
               : "needs tests/with-keyring.sh");
  return TRUE;
}

static void
test_in_memory (Fixture       *f,
                gconstpointer  data)
{
  g_assert_false (natter_key_store_is_persistent (f->store));
  check_round_trip (f);
  assert_stores (f, "natter-test-a", NULL, FIRST);
  g_assert_false (natter_key_store_is_persistent (f->store));
  g_assert_cmpuint (f->persistent_notifies, ==, 0);
}

static void
test_memory_forgets (void)
{
  Fixture f = { NULL, 0 };

  f.store = natter_key_store_new_in_memory ();
  assert_stores (&f, "natter-test-a", NULL, FIRST);
  g_assert_finalize_object (f.store);

  /* Each store has its own memory: nothing is shared through a global. */
  f.store = natter_key_store_new_in_memory ();
  assert_key (&f, "natter-test-a", NULL);
  g_assert_finalize_object (f.store);
}

/* Cancelling is the user's choice, not a sign that the keyring is missing. */
static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *key;

  /* It reaches libsecret: never the developer's own keyring. */
  if (g_getenv ("NATTER_TEST_KEYRING") == NULL)
    {
      g_test_skip ("needs tests/with-keyring.sh");
      return;
    }

  g_cancellable_cancel (cancellable);
  g_assert_false (store_key (f, "natter-test-a", NULL, FIRST, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  key = lookup_key (f, "natter-test-a", cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (key);
  g_clear_error (&error);
  g_assert_false (clear_key (f, "natter-test-a", cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* Cancelled while libsecret is already on its way. */
  g_cancellable_reset (cancellable);
  natter_key_store_lookup_async (f->store, "natter-test-a", cancellable, result_cb, &result);
  g_cancellable_cancel (cancellable);
  wait_for (&result);
  g_assert_null (natter_key_store_lookup_finish (f->store, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_assert_true (natter_key_store_is_persistent (f->store));
  g_assert_cmpuint (f->persistent_notifies, ==, 0);
}

static void
test_keyring_round_trip (Fixture       *f,
                         gconstpointer  data)
{
  if (skip_unless_keyring ("gnome-keyring"))
    return;

  check_round_trip (f);
  g_assert_true (natter_key_store_is_persistent (f->store));
  g_assert_cmpuint (f->persistent_notifies, ==, 0);
}

static void
test_keyring_items (Fixture       *f,
                    gconstpointer  data)
{
  if (skip_unless_keyring ("gnome-keyring"))
    return;

  assert_stores (f, "natter-test-a", "https://a.example.com/v1", FIRST);
  assert_one_item ("natter-test-a", "https://a.example.com/v1", FIRST);
  /* A new base URL replaces the key rather than adding a second one. */
  assert_stores (f, "natter-test-a", "https://a.example.com/v2", SECOND);
  assert_one_item ("natter-test-a", "https://a.example.com/v2", SECOND);
  assert_stores (f, "natter-test-a", "https://a.example.com/v2", FIRST);
  assert_one_item ("natter-test-a", "https://a.example.com/v2", FIRST);

  assert_clears (f, "natter-test-a");
  assert_no_item ("natter-test-a");
  g_assert_true (natter_key_store_is_persistent (f->store));
}

/* Keys outlive the object: another store (a restarted Natter) finds them. */
static void
test_keyring_persists (Fixture       *f,
                       gconstpointer  data)
{
  if (skip_unless_keyring ("gnome-keyring"))
    return;

  assert_stores (f, "natter-test-a", NULL, FIRST);
  g_assert_finalize_object (f->store);
  f->store = natter_key_store_new ();
  assert_key (f, "natter-test-a", FIRST);
  assert_clears (f, "natter-test-a");
}

static gboolean
contains (const char *haystack,
          gsize       length,
          const char *needle)
{
  gsize needle_length = strlen (needle);

  for (gsize i = 0; i + needle_length <= length; i++)
    if (memcmp (haystack + i, needle, needle_length) == 0)
      return TRUE;
  return FALSE;
}

/* Counts the regular files under @path; returns in @found those that hold
 * @key. Sockets and the like are skipped: they cannot be read. */
static guint
scan_for_key (const char *path,
              const char *key,
              GPtrArray  *found)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint scanned = 0;

  if (dir == NULL)
    return 0;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_autofree char *contents = NULL;
      gsize length;
      GStatBuf st;

      if (g_lstat (child, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode))
        scanned += scan_for_key (child, key, found);
      else if (S_ISREG (st.st_mode) && g_file_get_contents (child, &contents, &length, NULL))
        {
          scanned++;
          if (contains (contents, length, key))
            g_ptr_array_add (found, g_steal_pointer (&child));
        }
    }
  return scanned;
}

static guint
scan_all_for_key (const char *key,
                  GPtrArray  *found)
{
  const char *variables[] = {
    "HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR",
  };
  guint scanned = 0;

  for (guint i = 0; i < G_N_ELEMENTS (variables); i++)
    scanned += scan_for_key (g_getenv (variables[i]), key, found);
  return scanned;
}

static void
test_keyring_not_in_files (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *keyring = NULL;
  g_autofree char *canary = NULL;

  if (skip_unless_keyring ("gnome-keyring"))
    return;

  assert_stores (f, "natter-test-file", "https://file.example.com/v1", IN_FILE);
  keyring = g_build_filename (g_get_user_data_dir (), "keyrings", "login.keyring", NULL);
  g_assert_true (g_file_test (keyring, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (scan_all_for_key (IN_FILE, found), >, 0);
  g_assert_cmpuint (found->len, ==, 0);

  /* The scan would see a key written in plain text. */
  canary = g_build_filename (g_get_user_cache_dir (), "canary", NULL);
  g_assert_true (g_file_set_contents (canary, IN_FILE, -1, NULL));
  scan_all_for_key (IN_FILE, found);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (found, 0), ==, canary);
  g_assert_cmpint (g_remove (canary), ==, 0);

  assert_clears (f, "natter-test-file");
}

static void
test_fallback (Fixture       *f,
               gconstpointer  data)
{
  if (skip_unless_keyring ("none"))
    return;

  g_assert_true (natter_key_store_is_persistent (f->store));
  /* The first operation finds no Secret Service, and still succeeds. */
  assert_key (f, "natter-test-a", NULL);
  g_assert_false (natter_key_store_is_persistent (f->store));
  g_assert_cmpuint (f->persistent_notifies, ==, 1);

  check_round_trip (f);
  g_assert_cmpuint (f->persistent_notifies, ==, 1);
}

static void
test_fallback_on_store (Fixture       *f,
                        gconstpointer  data)
{
  if (skip_unless_keyring ("none"))
    return;

  assert_stores (f, "natter-test-a", "https://a.example.com/v1", FIRST);
  g_assert_false (natter_key_store_is_persistent (f->store));
  g_assert_cmpuint (f->persistent_notifies, ==, 1);
  assert_key (f, "natter-test-a", FIRST);
  assert_clears (f, "natter-test-a");
  assert_key (f, "natter-test-a", NULL);
}

static void
test_not_logged (void)
{
  g_assert_cmpuint (keys_logged, ==, 0);
}

/* Sees every message, debug ones included, before deciding what to print. */
static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    for (guint k = 0; k < G_N_ELEMENTS (test_keys); k++)
      if (fields[i].length < 0 && strstr (fields[i].value, test_keys[k]) != NULL)
        keys_logged++;

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  int status;

  g_log_set_writer_func (log_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/natter/key-store/in-memory", Fixture, GINT_TO_POINTER (TRUE),
              set_up, test_in_memory, tear_down);
  g_test_add_func ("/natter/key-store/memory-forgets", test_memory_forgets);
  g_test_add ("/natter/key-store/cancelled", Fixture, NULL, set_up, test_cancelled, tear_down);
  g_test_add ("/natter/key-store/keyring/round-trip", Fixture, NULL,
              set_up, test_keyring_round_trip, tear_down);
  g_test_add ("/natter/key-store/keyring/items", Fixture, NULL,
              set_up, test_keyring_items, tear_down);
  g_test_add ("/natter/key-store/keyring/persists", Fixture, NULL,
              set_up, test_keyring_persists, tear_down);
  g_test_add ("/natter/key-store/keyring/not-in-files", Fixture, NULL,
              set_up, test_keyring_not_in_files, tear_down);
  g_test_add ("/natter/key-store/fallback/first-lookup", Fixture, NULL,
              set_up, test_fallback, tear_down);
  g_test_add ("/natter/key-store/fallback/first-store", Fixture, NULL,
              set_up, test_fallback_on_store, tear_down);
  /* Last: a sub-suite registered after the others runs after them. */
  g_test_add_func ("/natter/key-store/logs/no-key", test_not_logged);

  /* One private context for the whole run, not one per test: libsecret
   * keeps its D-Bus proxies across tests, and GDBus releases their signal
   * subscriptions through the context they were made in. */
  g_main_context_push_thread_default (context);
  status = g_test_run ();
  /* Drops libsecret's cached connection, so that leak checkers see only
   * what is really lost. */
  secret_service_disconnect ();
  drain ();
  g_main_context_pop_thread_default (context);
  return status;
}
