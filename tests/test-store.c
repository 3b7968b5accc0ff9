/* test-store.c — NatterStore
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The history must survive restarts and crashes, and a file Natter cannot
 * read must be reported and left alone. Each test works in its own
 * temporary folder and checks the file with a separate SQLite connection.
 */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "natter-store.h"
#include "natter-test-util.h"

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("natter-store-XXXXXX", &error);
  g_assert_no_error (error);
  /* A folder that does not exist yet, as on first run. */
  f->path = g_build_filename (f->dir, "natter", "natter.db", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  natter_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* --- Helpers ------------------------------------------------------------- */

static NatterStore *
open_store (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  NatterStore *store = natter_store_open (f->path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static sqlite3 *
open_raw (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  return db;
}

static char *
query_text (const char *path,
            const char *sql)
{
  sqlite3 *db = open_raw (path);
  sqlite3_stmt *stmt = NULL;
  char *result;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return result;
}

static gint64
query_int (const char *path,
           const char *sql)
{
  g_autofree char *text = query_text (path, sql);

  return g_ascii_strtoll (text, NULL, 10);
}

static void
exec_raw (const char *path,
          const char *sql)
{
  sqlite3 *db = open_raw (path);

  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static void
assert_integrity (const char *path)
{
  g_autofree char *result = query_text (path, "PRAGMA integrity_check");

  g_assert_cmpstr (result, ==, "ok");
  /* The search index agrees with the messages it indexes. */
  exec_raw (path, "INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)");
}

static gint64
append (NatterStore        *store,
        gint64              conversation_id,
        NatterRole          role,
        const char         *content,
        NatterMessageState  state)
{
  g_autoptr(NatterMessage) message = natter_message_new (role, content);
  g_autoptr(GError) error = NULL;
  gint64 id;

  natter_message_set_state (message, state);
  id = natter_store_append_message (store, conversation_id, message, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static gint64
create (NatterStore *store,
        const char  *title)
{
  g_autoptr(GError) error = NULL;
  gint64 id = natter_store_create_conversation (store, title, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static NatterConversation *
load (NatterStore *store,
      gint64       conversation_id)
{
  g_autoptr(GError) error = NULL;
  NatterConversation *conversation;

  conversation = natter_store_load_conversation (store, conversation_id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (conversation);
  return conversation;
}

static GArray *
search (NatterStore *store,
        const char  *query)
{
  g_autoptr(GError) error = NULL;
  GArray *matches = natter_store_search (store, query, &error);

  g_assert_no_error (error);
  g_assert_nonnull (matches);
  return matches;
}

static guint
count_matches (NatterStore *store,
               const char  *query)
{
  g_autoptr(GArray) matches = search (store, query);

  return matches->len;
}

static GBytes *
read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

static void
write_file (const char   *path,
            const guint8 *data,
            gsize         length)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, (const char *) data, length, &error);
  g_assert_no_error (error);
}

/* Opening fails with @code, and the file is byte for byte what it was. */
static void
assert_open_fails_untouched (const char *path,
                             int         code)
{
  g_autoptr(GBytes) before = read_bytes (path);
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterStore) store = natter_store_open (path, &error);

  g_assert_null (store);
  g_assert_error (error, NATTER_STORE_ERROR, code);
  g_assert_nonnull (strstr (error->message, "natter.db"));
  g_test_message ("%s", error->message);
  after = read_bytes (path);
  g_assert_true (g_bytes_equal (before, after));
}

/* --- Opening ------------------------------------------------------------- */

static void
test_schema_version (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autofree char *journal = query_text (f->path, "PRAGMA journal_mode");

  g_assert_cmpint (query_int (f->path, "PRAGMA user_version"), ==, NATTER_STORE_SCHEMA_VERSION);
  g_assert_cmpstr (journal, ==, "wal");
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM sqlite_schema"
                                       " WHERE name IN ('conversations', 'messages',"
                                       " 'messages_fts', 'messages_by_position')"), ==, 4);
  assert_integrity (f->path);
}

static void
test_migrate_empty_file (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(NatterStore) store = NULL;

  /* An empty file is a database at version 0. */
  write_file (f->path, (const guint8 *) "", 0);
  store = open_store (f);
  g_assert_cmpint (query_int (f->path, "PRAGMA user_version"), ==, NATTER_STORE_SCHEMA_VERSION);
  create (store, "After migration");
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM conversations"), ==, 1);
  assert_integrity (f->path);
}

static void
test_reopen_keeps_data (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autoptr(NatterConversation) conversation = NULL;
  g_autoptr(NatterMessage) answer = natter_message_new (NATTER_ROLE_ASSISTANT, "Paris.");
  NatterMessage *loaded;
  gint64 id;

  id = create (store, "Capitals");
  append (store, id, NATTER_ROLE_USER, "Capital of France?", NATTER_MESSAGE_STATE_COMPLETE);
  natter_message_set_reasoning (answer, "Well known.");
  natter_message_set_model (answer, "test/model");
  natter_message_set_finish_reason (answer, "stop");
  natter_message_set_ttft_us (answer, 1200);
  natter_message_set_duration_us (answer, 3400);
  natter_message_set_prompt_tokens (answer, 12);
  natter_message_set_completion_tokens (answer, 3);
  g_assert_cmpint (natter_store_append_message (store, id, answer, NULL), >, 0);
  g_clear_object (&store);

  store = open_store (f);
  conversation = load (store, id);
  g_assert_cmpstr (natter_conversation_get_title (conversation), ==, "Capitals");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 2);
  loaded = natter_conversation_get_message (conversation, 0);
  g_assert_cmpint (natter_message_get_role (loaded), ==, NATTER_ROLE_USER);
  g_assert_cmpstr (natter_message_get_content (loaded), ==, "Capital of France?");
  loaded = natter_conversation_get_message (conversation, 1);
  g_assert_cmpint (natter_message_get_role (loaded), ==, NATTER_ROLE_ASSISTANT);
  g_assert_cmpint (natter_message_get_state (loaded), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpstr (natter_message_get_content (loaded), ==, "Paris.");
  g_assert_cmpstr (natter_message_get_reasoning (loaded), ==, "Well known.");
  g_assert_cmpstr (natter_message_get_model (loaded), ==, "test/model");
  g_assert_cmpstr (natter_message_get_finish_reason (loaded), ==, "stop");
  g_assert_cmpint (natter_message_get_ttft_us (loaded), ==, 1200);
  g_assert_cmpint (natter_message_get_duration_us (loaded), ==, 3400);
  g_assert_cmpint (natter_message_get_prompt_tokens (loaded), ==, 12);
  g_assert_cmpint (natter_message_get_completion_tokens (loaded), ==, 3);
  g_assert_null (natter_message_get_error (loaded));
  assert_integrity (f->path);
}

static void
test_missing_rows (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autoptr(NatterMessage) message = natter_message_new (NATTER_ROLE_USER, "Hello");
  g_autoptr(NatterConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (natter_store_append_message (store, 42, message, &error), ==, 0);
  g_assert_error (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (natter_store_update_message (store, 42, message, &error));
  g_assert_error (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  conversation = natter_store_load_conversation (store, 42, &error);
  g_assert_null (conversation);
  g_assert_error (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_NOT_FOUND);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM messages"), ==, 0);
}

/* --- Streaming ----------------------------------------------------------- */

static void
test_streaming_reloads_interrupted (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autoptr(NatterMessage) answer = natter_message_new (NATTER_ROLE_ASSISTANT, "");
  g_autoptr(NatterConversation) conversation = NULL;
  g_autofree char *saved_state = NULL;
  NatterMessage *loaded;
  gint64 id, answer_id;

  id = create (store, "Crash");
  append (store, id, NATTER_ROLE_USER, "Tell me a story", NATTER_MESSAGE_STATE_COMPLETE);
  natter_message_set_state (answer, NATTER_MESSAGE_STATE_STREAMING);
  answer_id = natter_store_append_message (store, id, answer, NULL);
  natter_message_append_content (answer, "Once upon");
  g_assert_true (natter_store_update_message (store, answer_id, answer, NULL));
  /* Natter dies here: the answer never reaches a final state. */
  g_clear_object (&store);

  saved_state = query_text (f->path, "SELECT state FROM messages WHERE position = 1");
  g_assert_cmpstr (saved_state, ==, "streaming");
  store = open_store (f);
  conversation = load (store, id);
  loaded = natter_conversation_get_message (conversation, 1);
  g_assert_cmpint (natter_message_get_state (loaded), ==, NATTER_MESSAGE_STATE_INTERRUPTED);
  g_assert_cmpstr (natter_message_get_content (loaded), ==, "Once upon");
  g_assert_false (natter_conversation_is_streaming (conversation));
  assert_integrity (f->path);

  /* Reopening marked it interrupted in the file, and made it searchable. */
  g_clear_pointer (&saved_state, g_free);
  saved_state = query_text (f->path, "SELECT state FROM messages WHERE position = 1");
  g_assert_cmpstr (saved_state, ==, "interrupted");
  g_assert_cmpuint (count_matches (store, "upon"), ==, 1);
}

/* Checkpoints of a streaming answer leave the search index alone (it would
 * re-index the whole answer twice a second); the answer is indexed once it
 * ends, leaves the index while it is continued, and comes back longer. */
static void
test_indexed_when_ended (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autoptr(NatterMessage) answer = natter_message_new (NATTER_ROLE_ASSISTANT, "");
  gint64 id, answer_id;

  id = create (store, "Index");
  natter_message_set_state (answer, NATTER_MESSAGE_STATE_STREAMING);
  answer_id = natter_store_append_message (store, id, answer, NULL);
  for (guint i = 0; i < 3; i++)
    {
      natter_message_append_content (answer, "zebra ");
      g_assert_true (natter_store_update_message (store, answer_id, answer, NULL));
      g_assert_cmpuint (count_matches (store, "zebra"), ==, 0);
    }
  assert_integrity (f->path);

  natter_message_set_state (answer, NATTER_MESSAGE_STATE_STOPPED);
  g_assert_true (natter_store_update_message (store, answer_id, answer, NULL));
  g_assert_cmpuint (count_matches (store, "zebra"), ==, 1);
  assert_integrity (f->path);

  /* Continue. */
  natter_message_set_state (answer, NATTER_MESSAGE_STATE_STREAMING);
  natter_message_append_content (answer, "giraffe");
  g_assert_true (natter_store_update_message (store, answer_id, answer, NULL));
  g_assert_cmpuint (count_matches (store, "zebra"), ==, 0);
  assert_integrity (f->path);
  natter_message_set_state (answer, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_true (natter_store_update_message (store, answer_id, answer, NULL));
  g_assert_cmpuint (count_matches (store, "zebra"), ==, 1);
  g_assert_cmpuint (count_matches (store, "giraffe"), ==, 1);
  assert_integrity (f->path);

  /* Only the state changes: nothing to index. A user's edit: the new text. */
  natter_message_set_completion_tokens (answer, 4);
  g_assert_true (natter_store_update_message (store, answer_id, answer, NULL));
  assert_integrity (f->path);
  g_assert_true (natter_store_delete_messages_from (store, id, 0, NULL));
  g_assert_cmpuint (count_matches (store, "zebra"), ==, 0);
  assert_integrity (f->path);
}

/* Another instance opening the file while an answer streams marks it
 * interrupted; the writer's next checkpoint makes it streaming again, and
 * the index follows both. */
static void
test_other_instance_opens_while_streaming (Fixture       *f,
                                           gconstpointer  data)
{
  g_autoptr(NatterStore) writer = open_store (f);
  g_autoptr(NatterStore) reader = NULL;
  g_autoptr(NatterMessage) answer = natter_message_new (NATTER_ROLE_ASSISTANT, "");
  g_autofree char *state = NULL;
  gint64 id, answer_id;

  id = create (writer, "Shared");
  natter_message_set_state (answer, NATTER_MESSAGE_STATE_STREAMING);
  answer_id = natter_store_append_message (writer, id, answer, NULL);
  natter_message_append_content (answer, "okapi ");
  g_assert_true (natter_store_update_message (writer, answer_id, answer, NULL));

  reader = open_store (f);
  g_assert_cmpuint (count_matches (reader, "okapi"), ==, 1);
  assert_integrity (f->path);

  natter_message_append_content (answer, "tapir");
  g_assert_true (natter_store_update_message (writer, answer_id, answer, NULL));
  state = query_text (f->path, "SELECT state FROM messages");
  g_assert_cmpstr (state, ==, "streaming");
  g_assert_cmpuint (count_matches (reader, "okapi"), ==, 0);
  assert_integrity (f->path);

  natter_message_set_state (answer, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_true (natter_store_update_message (writer, answer_id, answer, NULL));
  g_assert_cmpuint (count_matches (reader, "tapir"), ==, 1);
  assert_integrity (f->path);
}

static void
test_update_checkpoints (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autoptr(NatterMessage) answer = natter_message_new (NATTER_ROLE_ASSISTANT, "");
  g_autoptr(NatterConversation) conversation = NULL;
  g_autoptr(GError) failure = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED,
                                                   "The provider is overloaded.");
  g_autoptr(GArray) matches = NULL;
  NatterMessage *loaded;
  gint64 id, answer_id;

  id = create (store, "Checkpoints");
  natter_message_set_state (answer, NATTER_MESSAGE_STATE_STREAMING);
  answer_id = append (store, id, NATTER_ROLE_ASSISTANT, "", NATTER_MESSAGE_STATE_STREAMING);
  for (guint i = 0; i < 3; i++)
    {
      natter_message_append_content (answer, "chunk ");
      g_assert_true (natter_store_update_message (store, answer_id, answer, NULL));
    }
  natter_message_append_reasoning (answer, "thinking");
  natter_message_set_state (answer, NATTER_MESSAGE_STATE_FAILED);
  natter_message_set_error (answer, failure);
  natter_message_set_completion_tokens (answer, 3);
  g_assert_true (natter_store_update_message (store, answer_id, answer, NULL));

  conversation = load (store, id);
  loaded = natter_conversation_get_message (conversation, 0);
  g_assert_cmpstr (natter_message_get_content (loaded), ==, "chunk chunk chunk ");
  g_assert_cmpstr (natter_message_get_reasoning (loaded), ==, "thinking");
  g_assert_cmpint (natter_message_get_state (loaded), ==, NATTER_MESSAGE_STATE_FAILED);
  g_assert_nonnull (natter_message_get_error (loaded));
  g_assert_cmpstr (natter_message_get_error (loaded)->message, ==, "The provider is overloaded.");
  g_assert_cmpint (natter_message_get_completion_tokens (loaded), ==, 3);

  /* The index follows the checkpoints: the old text is forgotten. */
  matches = search (store, "chunk");
  g_assert_cmpuint (matches->len, ==, 1);
  g_assert_cmpint (g_array_index (matches, NatterStoreMatch, 0).message_id, ==, answer_id);
  assert_integrity (f->path);
}

/* --- Search -------------------------------------------------------------- */

static void
test_search (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  const char *tricky[] = {
    "\"", "\"\"", "*", "AND", "NEAR(", "NEAR(a b", "OR NOT", "a*", "-", "^", ":",
    "content:", "\"unbalanced", "(", ")", "{content}", "   ", "", "rust\"", "'",
  };
  g_autoptr(GArray) matches = NULL;
  gint64 first, second, pasta, rust;

  first = create (store, "Cooking");
  second = create (store, "Code");
  pasta = append (store, first, NATTER_ROLE_USER, "How long to boil pasta?",
                  NATTER_MESSAGE_STATE_COMPLETE);
  append (store, first, NATTER_ROLE_ASSISTANT, "About ten minutes AND some salt.",
          NATTER_MESSAGE_STATE_COMPLETE);
  rust = append (store, second, NATTER_ROLE_USER, "Is Rust faster than C?",
                 NATTER_MESSAGE_STATE_COMPLETE);

  matches = search (store, "PASTA boil");
  g_assert_cmpuint (matches->len, ==, 1);
  g_assert_cmpint (g_array_index (matches, NatterStoreMatch, 0).conversation_id, ==, first);
  g_assert_cmpint (g_array_index (matches, NatterStoreMatch, 0).message_id, ==, pasta);
  g_clear_pointer (&matches, g_array_unref);

  matches = search (store, "rust\"");
  g_assert_cmpuint (matches->len, ==, 1);
  g_assert_cmpint (g_array_index (matches, NatterStoreMatch, 0).conversation_id, ==, second);
  g_assert_cmpint (g_array_index (matches, NatterStoreMatch, 0).message_id, ==, rust);
  g_clear_pointer (&matches, g_array_unref);

  /* Operators are words: AND only finds the message that says "and". */
  matches = search (store, "AND");
  g_assert_cmpuint (matches->len, ==, 1);
  g_clear_pointer (&matches, g_array_unref);

  matches = search (store, "pasta quantum");
  g_assert_cmpuint (matches->len, ==, 0);
  g_clear_pointer (&matches, g_array_unref);

  for (guint i = 0; i < G_N_ELEMENTS (tricky); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) result = natter_store_search (store, tricky[i], &error);

      g_assert_no_error (error);
      g_assert_nonnull (result);
    }
  matches = search (store, "");
  g_assert_cmpuint (matches->len, ==, 0);
  assert_integrity (f->path);
}

/* --- Deleting ------------------------------------------------------------ */

static void
test_delete_cascades (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autoptr(NatterConversation) conversation = NULL;
  g_autoptr(GArray) matches = NULL;
  g_autoptr(GError) error = NULL;
  gint64 doomed, kept;

  doomed = create (store, "Doomed");
  kept = create (store, "Kept");
  append (store, doomed, NATTER_ROLE_USER, "zebra stripes", NATTER_MESSAGE_STATE_COMPLETE);
  append (store, doomed, NATTER_ROLE_ASSISTANT, "zebra answer", NATTER_MESSAGE_STATE_COMPLETE);
  append (store, kept, NATTER_ROLE_USER, "zebra crossing", NATTER_MESSAGE_STATE_COMPLETE);

  g_assert_true (natter_store_delete_conversation (store, doomed, &error));
  g_assert_no_error (error);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM messages"), ==, 1);
  g_assert_cmpint (query_int (f->path, "SELECT count(*) FROM messages_fts"
                                       " WHERE messages_fts MATCH 'stripes'"), ==, 0);
  matches = search (store, "zebra");
  g_assert_cmpuint (matches->len, ==, 1);
  g_assert_cmpint (g_array_index (matches, NatterStoreMatch, 0).conversation_id, ==, kept);

  conversation = natter_store_load_conversation (store, doomed, &error);
  g_assert_null (conversation);
  g_assert_error (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (natter_store_delete_conversation (store, doomed, &error));
  g_assert_error (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_NOT_FOUND);
  assert_integrity (f->path);
}

/* --- Files Natter must not touch ----------------------------------------- */

static void
test_garbage_is_corrupt (Fixture       *f,
                         gconstpointer  data)
{
  guint8 garbage[8192];

  for (gsize i = 0; i < sizeof garbage; i++)
    garbage[i] = (guint8) g_test_rand_int_range (0, 256);
  write_file (f->path, garbage, sizeof garbage);
  assert_open_fails_untouched (f->path, NATTER_STORE_ERROR_CORRUPT);
}

static void
test_damaged_is_corrupt (Fixture       *f,
                         gconstpointer  data)
{
  guint8 damaged[8192];

  /* Right magic, nonsense after it. */
  memset (damaged, 0xa5, sizeof damaged);
  memcpy (damaged, "SQLite format 3", 16);
  write_file (f->path, damaged, sizeof damaged);
  assert_open_fails_untouched (f->path, NATTER_STORE_ERROR_CORRUPT);
}

static void
test_newer_schema (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *dir = g_path_get_dirname (f->path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  exec_raw (f->path, "CREATE TABLE future (x); INSERT INTO future VALUES (1);"
                     " PRAGMA user_version = 999");
  assert_open_fails_untouched (f->path, NATTER_STORE_ERROR_NEWER_SCHEMA);
  g_assert_cmpint (query_int (f->path, "PRAGMA user_version"), ==, 999);
}

static void
test_locked (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *dir = g_path_get_dirname (f->path);
  sqlite3 *holder;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  exec_raw (f->path, "CREATE TABLE other (x)");
  holder = open_raw (f->path);
  g_assert_cmpint (sqlite3_exec (holder, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);
  assert_open_fails_untouched (f->path, NATTER_STORE_ERROR_LOCKED);
  sqlite3_exec (holder, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close (holder);
  g_assert_cmpint (query_int (f->path, "PRAGMA user_version"), ==, 0);
}

/* --- Migrations ---------------------------------------------------------- */

/* The first released schema, exactly as version 1 of Natter created it. */
static const char first_schema[] =
  "CREATE TABLE conversations ("
  "  id INTEGER PRIMARY KEY, title TEXT, system_prompt TEXT,"
  "  created_us INTEGER, updated_us INTEGER);"
  "CREATE TABLE messages ("
  "  id INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,"
  "  position INTEGER, role TEXT, content TEXT, reasoning TEXT, state TEXT,"
  "  error TEXT, model TEXT, finish_reason TEXT, ttft_us INTEGER,"
  "  duration_us INTEGER, prompt_tokens INTEGER, completion_tokens INTEGER,"
  "  updated_us INTEGER);"
  "CREATE INDEX messages_by_position ON messages(conversation_id, position);"
  "CREATE VIRTUAL TABLE messages_fts USING fts5("
  "  content, content='messages', content_rowid='id');"
  "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
  "  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);"
  "END;"
  "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
  "  INSERT INTO messages_fts(messages_fts, rowid, content)"
  "    VALUES ('delete', old.id, old.content);"
  "END;"
  "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages"
  "  WHEN old.content IS NOT new.content BEGIN"
  "  INSERT INTO messages_fts(messages_fts, rowid, content)"
  "    VALUES ('delete', old.id, old.content);"
  "  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);"
  "END;"
  "PRAGMA user_version = 1;";

static void
test_migrate_from_first_schema (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterConversation) conversation = NULL;
  g_autoptr(GArray) matches = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (f->path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  exec_raw (f->path, first_schema);
  exec_raw (f->path,
            "INSERT INTO conversations VALUES (7, 'Old chat', 'Be brief.', 1, 2);"
            "INSERT INTO messages (conversation_id, position, role, content, state)"
            "  VALUES (7, 0, 'user', 'What is a migration?', 'complete'),"
            "         (7, 1, 'assistant', 'A careful schema change.', 'streaming');");

  store = open_store (f);
  g_assert_cmpint (query_int (f->path, "PRAGMA user_version"), ==, NATTER_STORE_SCHEMA_VERSION);
  assert_integrity (f->path);

  /* Everything written by version 1 is still there, and searchable. */
  conversation = load (store, 7);
  g_assert_cmpstr (natter_conversation_get_title (conversation), ==, "Old chat");
  g_assert_cmpstr (natter_conversation_get_system_prompt (conversation), ==, "Be brief.");
  g_assert_cmpfloat (natter_conversation_get_temperature (conversation), <, 0);
  g_assert_cmpuint (natter_conversation_get_max_tokens (conversation), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 2);
  g_assert_cmpint (natter_message_get_state (natter_conversation_get_message (conversation, 1)), ==,
                   NATTER_MESSAGE_STATE_INTERRUPTED);
  matches = search (store, "careful");
  g_assert_cmpuint (matches->len, ==, 1);

  /* And the new columns take the new settings. */
  natter_conversation_set_temperature (conversation, 0.25);
  natter_conversation_set_max_tokens (conversation, 300);
  g_assert_true (natter_store_save_conversation (store, conversation, &error));
  g_assert_no_error (error);
  g_clear_object (&conversation);
  conversation = load (store, 7);
  g_assert_cmpfloat (natter_conversation_get_temperature (conversation), ==, 0.25);
  g_assert_cmpuint (natter_conversation_get_max_tokens (conversation), ==, 300);
}

/* --- Conversations ------------------------------------------------------- */

static void
test_save_and_list (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autoptr(NatterConversation) fresh = natter_conversation_new ();
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  gint64 older, newer;

  older = create (store, "Older");
  newer = create (store, "Newer");

  /* Saving a conversation never saved gives it an id. */
  natter_conversation_set_title (fresh, "Fresh");
  natter_conversation_set_system_prompt (fresh, "You are terse.");
  natter_conversation_set_temperature (fresh, 1.5);
  g_assert_true (natter_store_save_conversation (store, fresh, &error));
  g_assert_no_error (error);
  g_assert_cmpint (natter_conversation_get_id (fresh), >, newer);

  /* A message makes a conversation the most recent. */
  g_usleep (2000);
  append (store, older, NATTER_ROLE_USER, "bump", NATTER_MESSAGE_STATE_COMPLETE);

  list = natter_store_list_conversations (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpint (natter_conversation_get_id (g_ptr_array_index (list, 0)), ==, older);
  g_assert_cmpint (natter_conversation_get_id (g_ptr_array_index (list, 1)), ==,
                   natter_conversation_get_id (fresh));
  g_assert_cmpstr (natter_conversation_get_title (g_ptr_array_index (list, 1)), ==, "Fresh");
  g_assert_cmpstr (natter_conversation_get_system_prompt (g_ptr_array_index (list, 1)), ==,
                   "You are terse.");
  g_assert_cmpfloat (natter_conversation_get_temperature (g_ptr_array_index (list, 1)), ==, 1.5);
  g_assert_cmpint (natter_conversation_get_id (g_ptr_array_index (list, 2)), ==, newer);
  /* Headers only: the messages are loaded when the conversation is opened. */
  g_assert_cmpuint (g_list_model_get_n_items (g_ptr_array_index (list, 0)), ==, 0);

  /* Renaming an entry that was deleted meanwhile is reported. */
  g_assert_true (natter_store_delete_conversation (store, natter_conversation_get_id (fresh), NULL));
  natter_conversation_set_title (fresh, "Gone");
  g_assert_false (natter_store_save_conversation (store, fresh, &error));
  g_assert_error (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_NOT_FOUND);
}

static void
test_delete_messages_from (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autoptr(NatterMessage) edited = natter_message_new (NATTER_ROLE_USER, "second, edited");
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GArray) matches = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id = create (store, "Edited");
  gint64 first;

  first = append (store, id, NATTER_ROLE_USER, "first", NATTER_MESSAGE_STATE_COMPLETE);
  append (store, id, NATTER_ROLE_ASSISTANT, "first answer", NATTER_MESSAGE_STATE_COMPLETE);
  append (store, id, NATTER_ROLE_USER, "second", NATTER_MESSAGE_STATE_COMPLETE);
  append (store, id, NATTER_ROLE_ASSISTANT, "second answer", NATTER_MESSAGE_STATE_COMPLETE);

  /* Edit and resend the second question: it and what follows go. */
  g_assert_true (natter_store_delete_messages_from (store, id, 2, &error));
  g_assert_no_error (error);
  g_assert_cmpint (natter_store_append_message (store, id, edited, &error), >, 0);

  messages = natter_store_load_messages (store, id, &ids, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 3);
  g_assert_cmpuint (ids->len, ==, 3);
  g_assert_cmpint (g_array_index (ids, gint64, 0), ==, first);
  g_assert_cmpstr (natter_message_get_content (g_ptr_array_index (messages, 2)), ==, "second, edited");

  /* The positions stay contiguous, so a match's position is its index. */
  matches = search (store, "edited");
  g_assert_cmpuint (matches->len, ==, 1);
  g_assert_cmpuint (g_array_index (matches, NatterStoreMatch, 0).position, ==, 2);
  g_clear_pointer (&matches, g_array_unref);
  matches = search (store, "answer");
  g_assert_cmpuint (matches->len, ==, 1);
  assert_integrity (f->path);
}

static void
test_search_snippet (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterStore) store = open_store (f);
  g_autoptr(GArray) matches = NULL;
  gint64 id = create (store, "Recipes");
  const NatterStoreMatch *match;
  g_autofree char *expected = NULL;

  append (store, id, NATTER_ROLE_USER, "Hello", NATTER_MESSAGE_STATE_COMPLETE);
  append (store, id, NATTER_ROLE_ASSISTANT, "Boil the pasta for ten minutes.",
          NATTER_MESSAGE_STATE_COMPLETE);

  matches = search (store, "pasta");
  g_assert_cmpuint (matches->len, ==, 1);
  match = &g_array_index (matches, NatterStoreMatch, 0);
  g_assert_cmpstr (match->title, ==, "Recipes");
  g_assert_cmpuint (match->position, ==, 1);
  expected = g_strdup_printf ("Boil the %cpasta%c for ten minutes.",
                              NATTER_STORE_MATCH_START, NATTER_STORE_MATCH_END);
  g_assert_cmpstr (match->snippet, ==, expected);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/natter/store/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("schema-version", test_schema_version);
  ADD ("migrate-empty-file", test_migrate_empty_file);
  ADD ("reopen-keeps-data", test_reopen_keeps_data);
  ADD ("missing-rows", test_missing_rows);
  ADD ("streaming-reloads-interrupted", test_streaming_reloads_interrupted);
  ADD ("indexed-when-ended", test_indexed_when_ended);
  ADD ("other-instance-opens-while-streaming", test_other_instance_opens_while_streaming);
  ADD ("update-checkpoints", test_update_checkpoints);
  ADD ("search", test_search);
  ADD ("delete-cascades", test_delete_cascades);
  ADD ("garbage-is-corrupt", test_garbage_is_corrupt);
  ADD ("damaged-is-corrupt", test_damaged_is_corrupt);
  ADD ("newer-schema", test_newer_schema);
  ADD ("locked", test_locked);
  ADD ("migrate-from-first-schema", test_migrate_from_first_schema);
  ADD ("save-and-list", test_save_and_list);
  ADD ("delete-messages-from", test_delete_messages_from);
  ADD ("search-snippet", test_search_snippet);
#undef ADD

  return g_test_run ();
}
