/* test-history.c — NatterHistory and NatterAutosave: nothing is ever lost
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conversations are sent through the fake provider while the history keeps
 * them saved. Every test checks the file the way the next start of Natter
 * (or a crash) would see it: with a separate SQLite connection, or a second
 * store and history opened on the same file. Waits are for conditions, with
 * generous limits, so that a loaded machine only makes the tests slower.
 */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

#include "natter-autosave.h"
#include "natter-fake-provider.h"
#include "natter-history.h"
#include "natter-store.h"
#include "natter-test-util.h"

#define KEY   "sk-test-0123456789"
#define MODEL "natter-fake-1"

/* What a busy machine may add to the checkpoint interval. */
#define SLACK_MS 250
#define WAIT_MS  20000

typedef struct {
  char               *dir;
  char               *path;
  NatterFakeProvider *provider;
  NatterClient       *client;
  NatterStore        *store;
  NatterHistory      *history;

  GString            *changes;        /* the history's items-changed */
  guint               n_save_failed;
  GError             *save_error;
} Fixture;

static void
history_changed_cb (GListModel *model,
                    guint       position,
                    guint       removed,
                    guint       added,
                    GString    *log)
{
  g_string_append_printf (log, "%u-%u+%u ", position, removed, added);
  /* Views read the list from the handler: it must be up to date. */
  g_assert_cmpuint (g_list_model_get_n_items (model), >=, position + added);
}

static void
save_failed_cb (NatterHistory *history,
                GError        *error,
                Fixture       *f)
{
  f->n_save_failed++;
  g_clear_error (&f->save_error);
  f->save_error = g_error_copy (error);
}

static NatterStore *
open_store (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  NatterStore *store = natter_store_open (f->path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static NatterHistory *
new_history (NatterStore *store)
{
  g_autoptr(GError) error = NULL;
  NatterHistory *history = natter_history_new (store, &error);

  g_assert_no_error (error);
  g_assert_nonnull (history);
  return history;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *base_url = NULL;

  f->dir = g_dir_make_tmp ("natter-history-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "natter", "natter.db", NULL);

  f->provider = natter_fake_provider_new ();
  g_assert_true (natter_fake_provider_listen (f->provider, 0, &error));
  g_assert_no_error (error);
  base_url = natter_fake_provider_dup_base_url (f->provider);
  f->client = natter_client_new (base_url, KEY);
  /* A failure is saved as it is, not retried away. */
  natter_client_set_max_retries (f->client, 0);

  f->store = open_store (f);
  f->history = new_history (f->store);
  f->changes = g_string_new (NULL);
  g_signal_connect (f->history, "items-changed", G_CALLBACK (history_changed_cb), f->changes);
  g_signal_connect (f->history, "save-failed", G_CALLBACK (save_failed_cb), f);
}

/* The tests hold no conversation past their end: the history going takes
 * every autosave, and with them every reference to the store; no stream
 * outlives its answer, so the client goes too. */
static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->history != NULL)
    g_assert_finalize_object (f->history);
  g_assert_finalize_object (f->store);
  g_assert_finalize_object (f->client);
  g_assert_finalize_object (f->provider);
  g_string_free (f->changes, TRUE);
  g_clear_error (&f->save_error);
  natter_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* --- Waiting ------------------------------------------------------------- */

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the default main context until @flag is set, or fails the test. */
static void
iterate_until (gboolean *flag,
               guint     timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add (timeout_ms, set_flag_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (*flag);
  if (!timed_out)
    g_source_remove (timeout_id);
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

typedef char *(*Describe) (gpointer data);

/* Runs the main context until @describe gives @expected (or fails the test
 * with the last description). A tick keeps the loop turning, as the file
 * changes without any source of this process firing. */
static void
wait_for_description (Describe     describe,
                      gpointer     data,
                      const char  *expected,
                      guint        timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint tick = g_timeout_add (10, tick_cb, NULL);
  g_autofree char *description = describe (data);

  while (g_strcmp0 (description, expected) != 0 && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, TRUE);
      g_free (description);
      description = describe (data);
    }
  g_source_remove (tick);
  g_assert_cmpstr (description, ==, expected);
}

/* --- Reading the file from the outside ------------------------------------ */

static sqlite3 *
open_raw (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static void
exec_raw (sqlite3    *db,
          const char *sql)
{
  char *message = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &message);

  if (rc != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

/* The first column of the first row, or NULL without a row (or for NULL). */
static char *
db_text (Fixture    *f,
         const char *format,
         ...) G_GNUC_PRINTF (2, 3);

static char *
db_text (Fixture    *f,
         const char *format,
         ...)
{
  g_autofree char *sql = NULL;
  sqlite3 *db = open_raw (f->path);
  sqlite3_stmt *stmt = NULL;
  char *result = NULL;
  va_list args;

  va_start (args, format);
  sql = g_strdup_vprintf (format, args);
  va_end (args);

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return result;
}

#define db_int(f, ...) db_int_for_text (db_text ((f), __VA_ARGS__))

static gint64
db_int_for_text (char *text)
{
  gint64 value;

  g_assert_nonnull (text);
  value = g_ascii_strtoll (text, NULL, 10);
  g_free (text);
  return value;
}

static const char *
nick (GType type,
      int   value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);

  return g_enum_get_value (klass, value)->value_nick;
}

typedef struct {
  Fixture    *f;
  const char *sql;
} Query;

static char *
describe_query (gpointer data)
{
  Query *query = data;

  return db_text (query->f, "%s", query->sql);
}

/* Waits until @sql reads @expected from the file. */
static void
wait_for_db (Fixture    *f,
             const char *sql,
             const char *expected)
{
  Query query = { f, sql };

  wait_for_description (describe_query, &query, expected, WAIT_MS);
}

/* One line per message: role, state, finish reason, content, error. */
static void
describe_row (GString    *description,
              const char *role,
              const char *state,
              const char *finish_reason,
              const char *content,
              const char *error)
{
  g_string_append_printf (description, "%s %s [%s] %s {%s}\n", role, state,
                          finish_reason != NULL ? finish_reason : "",
                          content != NULL ? content : "", error != NULL ? error : "");
}

typedef struct {
  Fixture *f;
  gint64   id;
} SavedConversation;

/* The messages of conversation @id as the file has them, in order. */
static char *
describe_saved (gpointer data)
{
  SavedConversation *saved = data;
  g_autofree char *sql = NULL;
  GString *description = g_string_new (NULL);
  sqlite3 *db = open_raw (saved->f->path);
  sqlite3_stmt *stmt = NULL;
  gint64 expected_position = 0;

  sql = g_strdup_printf ("SELECT role, state, finish_reason, content, error, position FROM messages"
                         " WHERE conversation_id = %" G_GINT64_FORMAT " ORDER BY position",
                         saved->id);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      describe_row (description, (const char *) sqlite3_column_text (stmt, 0),
                    (const char *) sqlite3_column_text (stmt, 1),
                    (const char *) sqlite3_column_text (stmt, 2),
                    (const char *) sqlite3_column_text (stmt, 3),
                    (const char *) sqlite3_column_text (stmt, 4));
      /* A message's position is its index in the conversation. */
      if (sqlite3_column_int64 (stmt, 5) != expected_position)
        g_string_append (description, "(position out of order)\n");
      expected_position++;
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return g_string_free (description, FALSE);
}

/* The same, for the messages in memory. */
static char *
describe_conversation (NatterConversation *conversation)
{
  GString *description = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (conversation)); i++)
    {
      NatterMessage *message = natter_conversation_get_message (conversation, i);
      const GError *error = natter_message_get_error (message);

      describe_row (description, nick (NATTER_TYPE_ROLE, natter_message_get_role (message)),
                    nick (NATTER_TYPE_MESSAGE_STATE, natter_message_get_state (message)),
                    natter_message_get_finish_reason (message),
                    natter_message_get_content (message),
                    error != NULL ? error->message : NULL);
    }
  return g_string_free (description, FALSE);
}

/* Waits until the file holds @conversation exactly as memory has it. */
static void
wait_saved (Fixture            *f,
            NatterConversation *conversation)
{
  SavedConversation saved = { f, natter_conversation_get_id (conversation) };
  g_autofree char *expected = describe_conversation (conversation);

  g_assert_cmpint (saved.id, >, 0);
  wait_for_description (describe_saved, &saved, expected, WAIT_MS);
}

static char *
saved_now (Fixture            *f,
           NatterConversation *conversation)
{
  SavedConversation saved = { f, natter_conversation_get_id (conversation) };

  return describe_saved (&saved);
}

/* Titles, in the order of the list. */
static char *
describe_history (GListModel *history)
{
  GString *description = g_string_new (NULL);

  for (guint i = 0; i < g_list_model_get_n_items (history); i++)
    {
      g_autoptr(NatterConversation) conversation = g_list_model_get_item (history, i);

      g_string_append_printf (description, "%s%s", i > 0 ? "|" : "",
                              natter_conversation_get_title (conversation));
    }
  return g_string_free (description, FALSE);
}

static void
assert_history (NatterHistory *history,
                const char    *expected)
{
  g_autofree char *description = describe_history (G_LIST_MODEL (history));

  g_assert_cmpstr (description, ==, expected);
}

static NatterConversation *
item (NatterHistory *history,
      guint          position)
{
  NatterConversation *conversation = g_list_model_get_item (G_LIST_MODEL (history), position);

  /* The history keeps it: a borrowed pointer is enough for a test. */
  g_object_unref (conversation);
  return conversation;
}

/* --- Sending ------------------------------------------------------------- */

typedef struct {
  gboolean       done;
  NatterMessage *result;
  GError        *error;
} Call;

static void
call_clear (Call *call)
{
  call->done = FALSE;
  g_clear_object (&call->result);
  g_clear_error (&call->error);
}

static void
call_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Call *call = user_data;

  g_assert_false (natter_conversation_is_streaming (NATTER_CONVERSATION (source)));
  call->result = natter_conversation_send_finish (NATTER_CONVERSATION (source), result, &call->error);
  g_assert_true ((call->result == NULL) != (call->error == NULL));
  call->done = TRUE;
}

static void
start_send (Fixture            *f,
            NatterConversation *conversation,
            const char         *text,
            Call               *call)
{
  call_clear (call);
  natter_conversation_send_async (conversation, f->client, MODEL, text, NULL, call_done_cb, call);
}

/* Sends @text and waits for the answer to end, and for the file to hold
 * the conversation as it is in memory. */
static void
send (Fixture            *f,
      NatterConversation *conversation,
      const char         *text,
      Call               *call)
{
  start_send (f, conversation, text, call);
  iterate_until (&call->done, WAIT_MS);
  wait_saved (f, conversation);
}

static void
send_ok (Fixture            *f,
         NatterConversation *conversation,
         const char         *text)
{
  Call call = { 0, };

  send (f, conversation, text, &call);
  g_assert_no_error (call.error);
  call_clear (&call);
}

/* A one-piece answer. */
static void
queue_reply (Fixture    *f,
             const char *text)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);

  natter_fake_script_add_content (script, text);
  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_usage (script, 7, 3);
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);
}

/* A conversation of the history with one question, @title, answered. */
static NatterConversation *
new_conversation (Fixture    *f,
                  const char *title)
{
  NatterConversation *conversation = natter_history_create (f->history);

  send_ok (f, conversation, title);
  g_assert_cmpstr (natter_conversation_get_title (conversation), ==, title);
  return conversation;
}

/* "role: content" per line, from a request body. */
static char *
describe_request (Fixture *f,
                  guint    i)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  GString *description = g_string_new (NULL);
  const NatterFakeRequest *request;
  JsonArray *messages;

  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), >, i);
  request = natter_fake_provider_get_request (f->provider, i);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (request->body, NULL),
                                             g_bytes_get_size (request->body), NULL));
  messages = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                           "messages");
  for (guint m = 0; m < json_array_get_length (messages); m++)
    {
      JsonObject *message = json_array_get_object_element (messages, m);

      g_string_append_printf (description, "%s: %s\n",
                              json_object_get_string_member (message, "role"),
                              json_object_get_string_member (message, "content"));
    }
  return g_string_free (description, FALSE);
}

static GListModel *
search (NatterHistory *history,
        const char    *text)
{
  g_autoptr(GError) error = NULL;
  GListModel *results = natter_history_search (history, text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (results);
  g_assert_true (g_list_model_get_item_type (results) == NATTER_TYPE_SEARCH_RESULT);
  return results;
}

static guint
count_found (NatterHistory *history,
             const char    *text)
{
  g_autoptr(GListModel) results = search (history, text);

  return g_list_model_get_n_items (results);
}

/* --- Titles ----------------------------------------------------------------- */

static void
assert_title (const char *text,
              const char *expected)
{
  g_autofree char *title = natter_conversation_title_for_text (text);

  g_assert_cmpstr (title, ==, expected);
}

/* A title cut short: it ends with an ellipsis, fits in 48 characters with
 * it, and what comes before is the start of @collapsed. */
static char *
assert_cut_title (const char *text,
                  const char *collapsed)
{
  char *title = natter_conversation_title_for_text (text);
  g_autofree char *kept = NULL;

  g_assert_nonnull (title);
  g_assert_true (g_utf8_validate (title, -1, NULL));
  g_assert_true (g_str_has_suffix (title, "…"));
  g_assert_cmpint (g_utf8_strlen (title, -1), <=, 48);
  kept = g_strndup (title, strlen (title) - strlen ("…"));
  g_assert_true (g_str_has_prefix (collapsed, kept));
  g_assert_cmpuint (strlen (kept), <, strlen (collapsed));
  return title;
}

static void
test_title_for_text (void)
{
  /* Forty-eight characters exactly: no cut. */
  const char *fits = "Twelve chars Twelve chars Twelve chars Twelve ch";
  const char *words = "The quick brown fox jumps over the lazy dog and keeps running far away";
  g_autofree char *long_word = g_strnfill (100, 'a');
  g_autofree char *expected_word = NULL;
  g_autoptr(GString) accents = g_string_new (NULL);
  g_autofree char *title = NULL;
  g_autofree char *full_line = NULL;
  const char *exact;

  /* Blank text makes no title. */
  assert_title ("", NULL);
  assert_title ("   ", NULL);
  assert_title (" \n\t\n \r\n  ", NULL);

  assert_title ("Hello", "Hello");
  /* The first line with something on it, its spaces collapsed. */
  assert_title ("\n\n   How   do I\tboil  an egg?  \nSecond line", "How do I boil an egg?");
  assert_title ("Hello\r\nworld", "Hello");
  assert_title ("  \n  Plan a   trip\n\nto Rome", "Plan a trip");

  g_assert_cmpint (g_utf8_strlen (fits, -1), ==, 48);
  assert_title (fits, fits);

  /* Longer: cut at a word, with an ellipsis. */
  title = assert_cut_title (words, words);
  g_assert_cmpstr (title, ==, "The quick brown fox jumps over the lazy dog and…");
  g_clear_pointer (&title, g_free);

  /* Words that fill the 48 characters exactly, then more: the ellipsis
   * still has to fit. */
  exact = "Twelve chars Twelve chars Twelve chars Twelve ch and more";
  title = assert_cut_title (exact, exact);
  g_assert_cmpstr (title, ==, "Twelve chars Twelve chars Twelve chars Twelve…");
  g_clear_pointer (&title, g_free);

  /* A single long word is cut inside. */
  expected_word = g_strconcat ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "…", NULL);
  title = assert_cut_title (long_word, long_word);
  g_assert_cmpstr (title, ==, expected_word);
  g_clear_pointer (&title, g_free);

  /* Characters, not bytes, are counted, and never cut in half. */
  for (guint i = 0; i < 60; i++)
    g_string_append (accents, "é");
  title = assert_cut_title (accents->str, accents->str);
  g_assert_cmpint (g_utf8_strlen (title, -1), ==, 48);
  g_clear_pointer (&title, g_free);

  /* Invalid UTF-8 gives a valid title that keeps the good parts. */
  title = natter_conversation_title_for_text ("Caf\xff\xfe bar \xc3");
  g_assert_nonnull (title);
  g_assert_true (g_utf8_validate (title, -1, NULL));
  g_assert_true (g_str_has_prefix (title, "Caf"));
  g_assert_nonnull (strstr (title, " bar"));
  g_clear_pointer (&title, g_free);

  /* Only the first line counts, however long the rest. */
  full_line = g_strconcat ("Short\n", words, NULL);
  assert_title (full_line, "Short");
}

/* --- The user's message comes first ------------------------------------- */

typedef struct {
  Fixture     *f;
  NatterStore *second_store;
  gint64       conversation_id;
  guint        n_requests;
  GString     *seen;        /* by a second connection, at each request */
} RequestWatch;

static void
request_received_cb (NatterFakeProvider *provider,
                     guint               index,
                     RequestWatch       *watch)
{
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *question = NULL;

  watch->n_requests++;
  /* The id is known from the first message on, before any request. */
  g_assert_cmpint (watch->conversation_id, >, 0);

  /* Through a raw connection… */
  question = db_text (watch->f,
                      "SELECT content FROM messages WHERE conversation_id = %" G_GINT64_FORMAT
                      " AND role = 'user' ORDER BY position DESC LIMIT 1",
                      watch->conversation_id);
  g_string_append_printf (watch->seen, "raw: %s\n", question);

  /* … and the way the next start of Natter would read it. */
  messages = natter_store_load_messages (watch->second_store, watch->conversation_id, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < messages->len; i++)
    {
      NatterMessage *message = g_ptr_array_index (messages, i);

      g_string_append_printf (watch->seen, "%u %s %s: %s\n", i,
                              nick (NATTER_TYPE_ROLE, natter_message_get_role (message)),
                              nick (NATTER_TYPE_MESSAGE_STATE, natter_message_get_state (message)),
                              natter_message_get_content (message));
    }
}

static void
conversation_id_cb (NatterConversation *conversation,
                    GParamSpec         *pspec,
                    RequestWatch       *watch)
{
  watch->conversation_id = natter_conversation_get_id (conversation);
}


static void
test_user_message_saved_first (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(NatterStore) second_store = open_store (f);
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  RequestWatch watch = { f, second_store, 0, 0, g_string_new (NULL) };
  gulong handler;

  g_signal_connect (conversation, "notify::id", G_CALLBACK (conversation_id_cb), &watch);
  handler = g_signal_connect (f->provider, "request-received", G_CALLBACK (request_received_cb),
                              &watch);
  send_ok (f, conversation, "Is this saved?");
  send_ok (f, conversation, "And this one?");
  g_signal_handler_disconnect (f->provider, handler);
  g_signal_handlers_disconnect_by_data (conversation, &watch);

  /* Had Natter crashed as the request left, the question would be there,
   * with an answer to come marked as interrupted. */
  g_assert_cmpuint (watch.n_requests, ==, 2);
  g_assert_cmpstr (watch.seen->str, ==,
                   "raw: Is this saved?\n"
                   "0 user complete: Is this saved?\n"
                   "1 assistant interrupted: \n"
                   "raw: And this one?\n"
                   "0 user complete: Is this saved?\n"
                   "1 assistant complete: tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 \n"
                   "2 user complete: And this one?\n"
                   "3 assistant interrupted: \n");
  g_string_free (watch.seen, TRUE);
  g_assert_cmpuint (f->n_save_failed, ==, 0);
}

/* --- Checkpoints ------------------------------------------------------------- */

typedef struct {
  gint64 time_us;
  gsize  length;
} Point;

typedef struct {
  Fixture       *f;
  NatterMessage *answer;
  gint64         conversation_id;
  guint          position;
  GArray        *timeline;          /* of Point: the answer's length over time */
  guint          n_samples;
  guint          n_growths;         /* new lengths seen in the file while streaming */
  gsize          saved_length;
  gint64         worst_lag_us;
} CheckpointWatch;

static void
answer_appended_cb (NatterMessage   *message,
                    guint            offset,
                    const char      *text,
                    CheckpointWatch *watch)
{
  Point point = { g_get_monotonic_time (), offset + strlen (text) };

  g_array_append_val (watch->timeline, point);
}

/* What the file has of the answer is what the answer had a moment ago: a
 * prefix of its text now, and at least all it had one checkpoint interval
 * (and some slack) ago. */
static gboolean
sample_cb (gpointer user_data)
{
  CheckpointWatch *watch = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 limit = now - (NATTER_AUTOSAVE_CHECKPOINT_MS + SLACK_MS) * G_TIME_SPAN_MILLISECOND;
  g_autofree char *saved = NULL;
  g_autofree char *state = NULL;
  const char *content = natter_message_get_content (watch->answer);
  gsize required = 0;

  saved = db_text (watch->f, "SELECT content FROM messages WHERE conversation_id = %" G_GINT64_FORMAT
                   " AND position = %u", watch->conversation_id, watch->position);
  state = db_text (watch->f, "SELECT state FROM messages WHERE conversation_id = %" G_GINT64_FORMAT
                   " AND position = %u", watch->conversation_id, watch->position);
  g_assert_nonnull (saved);
  g_assert_nonnull (state);
  g_assert_true (g_str_has_prefix (content, saved));

  for (guint i = 0; i < watch->timeline->len; i++)
    {
      Point *point = &g_array_index (watch->timeline, Point, i);

      if (point->time_us > limit)
        break;
      required = point->length;
    }
  g_assert_cmpuint (strlen (saved), >=, required);

  /* For the log: how far behind the file was. */
  for (guint i = 0; i < watch->timeline->len; i++)
    {
      Point *point = &g_array_index (watch->timeline, Point, i);

      if (point->length > strlen (saved))
        {
          watch->worst_lag_us = MAX (watch->worst_lag_us, now - point->time_us);
          break;
        }
    }

  if (g_str_equal (state, "streaming") && strlen (saved) > watch->saved_length)
    watch->n_growths++;
  watch->saved_length = strlen (saved);
  watch->n_samples++;
  return G_SOURCE_CONTINUE;
}

static void
test_checkpoints (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autofree char *state = NULL;
  CheckpointWatch watch = { f, };
  NatterMessage *answer;
  Call call = { 0, };
  guint sampler;

  natter_fake_script_set_interval (script, 20);
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *piece = g_strdup_printf ("piece%u ", i);

      natter_fake_script_add_content (script, piece);
      g_string_append (expected, piece);
    }
  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_usage (script, 12, 100);
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);

  start_send (f, conversation, "Count slowly", &call);
  /* The answer is there, and in the file, before any text arrives. */
  answer = natter_conversation_get_message (conversation, 1);
  g_assert_nonnull (answer);
  watch.answer = answer;
  watch.conversation_id = natter_conversation_get_id (conversation);
  watch.position = 1;
  watch.timeline = g_array_new (FALSE, FALSE, sizeof (Point));
  g_signal_connect (answer, "content-appended", G_CALLBACK (answer_appended_cb), &watch);
  /* Below the checkpoints' priority: a checkpoint that is due is written
   * before the file is looked at, however late the loop runs. */
  sampler = g_timeout_add_full (G_PRIORITY_LOW, 100, sample_cb, &watch, NULL);

  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  g_assert_true (call.result == answer);
  g_source_remove (sampler);
  g_signal_handlers_disconnect_by_data (answer, &watch);
  g_test_message ("%u samples, %u checkpoints seen, worst lag %" G_GINT64_FORMAT " ms",
                  watch.n_samples, watch.n_growths, watch.worst_lag_us / 1000);

  /* 100 pieces 20 ms apart take two seconds at least: the file followed. */
  g_assert_cmpuint (watch.n_samples, >=, 10);
  g_assert_cmpuint (watch.n_growths, >=, 2);

  /* And at the end, everything: the text, the state, the stats. */
  wait_saved (f, conversation);
  g_assert_cmpstr (natter_message_get_content (answer), ==, expected->str);
  state = saved_now (f, conversation);
  g_assert_cmpstr (state, ==, "user complete [] Count slowly {}\n"
                              "assistant complete [stop] piece0 piece1 piece2 piece3 piece4 piece5 "
                              "piece6 piece7 piece8 piece9 piece10 piece11 piece12 piece13 piece14 "
                              "piece15 piece16 piece17 piece18 piece19 piece20 piece21 piece22 "
                              "piece23 piece24 piece25 piece26 piece27 piece28 piece29 piece30 "
                              "piece31 piece32 piece33 piece34 piece35 piece36 piece37 piece38 "
                              "piece39 piece40 piece41 piece42 piece43 piece44 piece45 piece46 "
                              "piece47 piece48 piece49 piece50 piece51 piece52 piece53 piece54 "
                              "piece55 piece56 piece57 piece58 piece59 piece60 piece61 piece62 "
                              "piece63 piece64 piece65 piece66 piece67 piece68 piece69 piece70 "
                              "piece71 piece72 piece73 piece74 piece75 piece76 piece77 piece78 "
                              "piece79 piece80 piece81 piece82 piece83 piece84 piece85 piece86 "
                              "piece87 piece88 piece89 piece90 piece91 piece92 piece93 piece94 "
                              "piece95 piece96 piece97 piece98 piece99  {}\n");
  g_assert_cmpint (db_int (f, "SELECT prompt_tokens FROM messages WHERE id = (SELECT max(id) FROM messages)"),
                   ==, 12);
  g_assert_cmpint (db_int (f, "SELECT completion_tokens FROM messages WHERE position = 1"), ==, 100);
  g_assert_cmpint (db_int (f, "SELECT ttft_us FROM messages WHERE position = 1"), ==,
                   natter_message_get_ttft_us (answer));
  g_assert_cmpint (db_int (f, "SELECT duration_us FROM messages WHERE position = 1"), ==,
                   natter_message_get_duration_us (answer));
  g_assert_cmpint (natter_message_get_ttft_us (answer), >=, 0);
  g_assert_cmpint (natter_message_get_duration_us (answer), >, natter_message_get_ttft_us (answer));
  g_free (state);
  state = db_text (f, "SELECT model FROM messages WHERE position = 1");
  g_assert_cmpstr (state, ==, MODEL);

  g_array_unref (watch.timeline);
  call_clear (&call);
}

/* Reasoning is checkpointed like the text, while the answer still streams:
 * the stream here never ends by itself. */
static void
test_reasoning_checkpointed (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  Call call = { 0, };

  natter_fake_script_add_reasoning (script, "Thinking ");
  natter_fake_script_add_reasoning (script, "about it.");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  start_send (f, conversation, "Think first", &call);
  wait_for_db (f, "SELECT state || '|' || reasoning FROM messages WHERE position = 1",
               "streaming|Thinking about it.");

  natter_conversation_stop (conversation);
  iterate_until (&call.done, WAIT_MS);
  g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  wait_for_db (f, "SELECT state || '|' || reasoning FROM messages WHERE position = 1",
               "stopped|Thinking about it.");
  call_clear (&call);
}

/* natter_history_flush() writes what waits for its checkpoint, now. */
static void
test_flush (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autofree char *saved = NULL;
  NatterMessage *answer;
  Call call = { 0, };

  natter_fake_script_add_content (script, "alpha ");
  natter_fake_script_add_content (script, "beta ");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  start_send (f, conversation, "Say two words", &call);
  answer = natter_conversation_get_message (conversation, 1);
  while (!g_str_equal (natter_message_get_content (answer), "alpha beta "))
    g_main_context_iteration (NULL, TRUE);

  natter_history_flush (f->history);
  saved = db_text (f, "SELECT content || '|' || state FROM messages WHERE position = 1");
  g_assert_cmpstr (saved, ==, "alpha beta |streaming");

  natter_conversation_stop (conversation);
  iterate_until (&call.done, WAIT_MS);
  g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  wait_saved (f, conversation);
  call_clear (&call);
}

/* --- How answers end --------------------------------------------------------- */

static void
test_stop_saves_stopped (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autofree char *saved = NULL;
  NatterMessage *answer;
  Call call = { 0, };

  natter_fake_script_add_content (script, "Once upon ");
  natter_fake_script_add_content (script, "a time ");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  start_send (f, conversation, "Tell me a story", &call);
  answer = natter_conversation_get_message (conversation, 1);
  while (!g_str_equal (natter_message_get_content (answer), "Once upon a time "))
    g_main_context_iteration (NULL, TRUE);

  /* Stop from anywhere: no cancellable was given. */
  natter_conversation_stop (conversation);
  iterate_until (&call.done, WAIT_MS);
  g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_STOPPED);

  wait_saved (f, conversation);
  saved = saved_now (f, conversation);
  g_assert_cmpstr (saved, ==,
                   "user complete [] Tell me a story {}\n"
                   "assistant stopped [] Once upon a time  {}\n");
  /* Stopping when nothing streams does nothing. */
  natter_conversation_stop (conversation);
  g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_STOPPED);
  call_clear (&call);
}

static void
test_failure_saves_failed (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(NatterFakeScript) server_error = natter_fake_script_new (500);
  g_autoptr(NatterFakeScript) hang_up = natter_fake_script_new (200);
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterConversation) reloaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *first_error = NULL;
  NatterMessage *answer;
  Call call = { 0, };

  natter_fake_script_set_body (server_error, "{\"error\":{\"message\":\"Internal trouble\"}}");
  natter_fake_provider_queue (f->provider, server_error);
  send (f, conversation, "Hello?", &call);
  g_assert_nonnull (call.error);
  answer = natter_conversation_get_message (conversation, 1);
  g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_FAILED);
  first_error = db_text (f, "SELECT error FROM messages WHERE position = 1");
  g_assert_cmpstr (first_error, ==, call.error->message);
  g_assert_cmpstr (first_error, !=, "");

  /* Cut off in the middle of an answer: what came is kept, with the error. */
  natter_fake_script_add_content (hang_up, "partial ");
  natter_fake_script_add_content (hang_up, "answer ");
  natter_fake_script_set_ending (hang_up, NATTER_FAKE_ENDING_HANG_UP);
  natter_fake_provider_queue (f->provider, hang_up);
  send (f, conversation, "Try again", &call);
  g_assert_nonnull (call.error);
  answer = natter_conversation_get_message (conversation, 3);
  g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_FAILED);
  g_assert_cmpstr (natter_message_get_content (answer), ==, "partial answer ");
  saved = db_text (f, "SELECT state || '|' || content || '|' || error FROM messages WHERE position = 3");
  g_assert_nonnull (saved);
  g_assert_true (g_str_has_prefix (saved, "failed|partial answer |"));
  g_assert_cmpstr (strrchr (saved, '|') + 1, ==, call.error->message);

  /* The next start shows both failures as they were. */
  store = open_store (f);
  reloaded = natter_store_load_conversation (store, natter_conversation_get_id (conversation), &error);
  g_assert_no_error (error);
  g_assert_cmpint (natter_message_get_state (natter_conversation_get_message (reloaded, 1)), ==,
                   NATTER_MESSAGE_STATE_FAILED);
  g_assert_cmpstr (natter_message_get_error (natter_conversation_get_message (reloaded, 1))->message,
                   ==, first_error);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (reloaded, 3)), ==,
                   "partial answer ");
  call_clear (&call);
}

static void
test_retry_after_failure (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(NatterFakeScript) server_error = natter_fake_script_new (500);
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autofree char *saved = NULL;
  Call call = { 0, };

  natter_fake_script_set_body (server_error, "{\"error\":{\"message\":\"Internal trouble\"}}");
  natter_fake_provider_queue (f->provider, server_error);
  send (f, conversation, "Hello?", &call);
  g_assert_nonnull (call.error);

  queue_reply (f, "Hello there.");
  call_clear (&call);
  natter_conversation_retry_async (conversation, f->client, MODEL, NULL, call_done_cb, &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  wait_saved (f, conversation);
  saved = saved_now (f, conversation);
  g_assert_cmpstr (saved, ==,
                   "user complete [] Hello? {}\n"
                   "assistant complete [stop] Hello there. {}\n");
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages"), ==, 2);
  call_clear (&call);
}

/* --- The list ----------------------------------------------------------------- */

static void
test_create_joins_list (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NatterConversation) first = NULL;
  g_autoptr(NatterConversation) second = NULL;
  g_autoptr(NatterConversation) item0 = NULL;
  g_autofree char *title = NULL;

  first = natter_history_create (f->history);
  g_assert_nonnull (first);
  g_assert_cmpint (natter_conversation_get_id (first), ==, 0);
  /* An empty conversation is neither listed nor saved. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->history)), ==, 0);
  natter_conversation_set_system_prompt (first, "Be brief.");
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM conversations"), ==, 0);
  g_assert_cmpstr (f->changes->str, ==, "");

  send_ok (f, first, "\n  Plan a   trip\nto Rome, please");
  /* One change, when the first message came. */
  g_assert_cmpstr (f->changes->str, ==, "0-0+1 ");
  item0 = g_list_model_get_item (G_LIST_MODEL (f->history), 0);
  g_assert_true (item0 == first);
  g_assert_cmpstr (natter_conversation_get_title (first), ==, "Plan a trip");
  g_assert_cmpint (natter_conversation_get_id (first), >, 0);
  title = db_text (f, "SELECT title || '|' || system_prompt FROM conversations WHERE id = %"
                   G_GINT64_FORMAT, natter_conversation_get_id (first));
  g_assert_cmpstr (title, ==, "Plan a trip|Be brief.");
  g_assert_true (natter_history_lookup (f->history, natter_conversation_get_id (first)) == first);
  g_assert_null (natter_history_lookup (f->history, 12345));

  /* A second one goes on top. */
  g_string_truncate (f->changes, 0);
  second = natter_history_create (f->history);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->history)), ==, 1);
  send_ok (f, second, "What is a leaflet?");
  g_assert_cmpstr (f->changes->str, ==, "0-0+1 ");
  assert_history (f->history, "What is a leaflet?|Plan a trip");
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM conversations"), ==, 2);

  /* A conversation the user named keeps its name. */
  g_clear_object (&second);
  second = natter_history_create (f->history);
  natter_conversation_set_title (second, "Named");
  send_ok (f, second, "Hello");
  assert_history (f->history, "Named|What is a leaflet?|Plan a trip");
  g_assert_cmpuint (f->n_save_failed, ==, 0);
}

static void
test_order_moves_to_top (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(NatterConversation) a = new_conversation (f, "A");
  g_autoptr(NatterConversation) b = new_conversation (f, "B");
  g_autoptr(NatterConversation) c = new_conversation (f, "C");
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterHistory) history = NULL;

  assert_history (f->history, "C|B|A");
  g_string_truncate (f->changes, 0);

  /* One change per move, so that a selection can follow it; none for the
   * answer that follows the question. */
  send_ok (f, a, "More about A");
  g_assert_cmpstr (f->changes->str, ==, "0-3+3 ");
  assert_history (f->history, "A|C|B");
  g_string_truncate (f->changes, 0);
  send_ok (f, c, "More about C");
  g_assert_cmpstr (f->changes->str, ==, "0-2+2 ");
  assert_history (f->history, "C|A|B");
  g_string_truncate (f->changes, 0);
  send_ok (f, c, "Still C");
  g_assert_cmpstr (f->changes->str, ==, "");

  /* Renaming is not using: the order stays. */
  natter_conversation_set_title (b, "B renamed");
  assert_history (f->history, "C|A|B renamed");

  /* The next start lists them the same way. */
  store = open_store (f);
  history = new_history (store);
  assert_history (history, "C|A|B renamed");
}

static void
test_reopen (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(NatterConversation) a = natter_history_create (f->history);
  g_autoptr(NatterConversation) b = natter_history_create (f->history);
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterHistory) history = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *saved = NULL;
  NatterConversation *reopened;
  Call call = { 0, };

  natter_conversation_set_system_prompt (a, "Answer in French.");
  natter_conversation_set_temperature (a, 0.5);
  natter_conversation_set_max_tokens (a, 200);
  send_ok (f, a, "First conversation");
  send_ok (f, a, "Second question");
  send_ok (f, b, "Other conversation");
  before = describe_conversation (a);

  store = open_store (f);
  history = new_history (store);
  assert_history (history, "Other conversation|First conversation");
  reopened = item (history, 1);
  g_assert_true (reopened != a);
  g_assert_cmpint (natter_conversation_get_id (reopened), ==, natter_conversation_get_id (a));
  g_assert_cmpstr (natter_conversation_get_system_prompt (reopened), ==, "Answer in French.");
  g_assert_cmpfloat (natter_conversation_get_temperature (reopened), ==, 0.5);
  g_assert_cmpuint (natter_conversation_get_max_tokens (reopened), ==, 200);
  g_assert_cmpfloat (natter_conversation_get_temperature (item (history, 0)), <, 0);
  g_assert_null (natter_conversation_get_system_prompt (item (history, 0)));

  /* Listed without their messages; opening reads them, in one change. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reopened)), ==, 0);
  g_signal_connect (reopened, "items-changed", G_CALLBACK (history_changed_cb), log);
  g_assert_true (natter_history_open (history, reopened, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==, "0-0+4 ");
  after = describe_conversation (reopened);
  g_assert_cmpstr (after, ==, before);
  /* Opening again reads nothing. */
  g_assert_true (natter_history_open (history, reopened, &error));
  g_assert_cmpstr (log->str, ==, "0-0+4 ");
  g_signal_handlers_disconnect_by_data (reopened, log);
  /* Opening does not count as using. */
  assert_history (history, "Other conversation|First conversation");

  /* The reopened conversation goes on being saved, after what it had. */
  send_ok (f, reopened, "Third question");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reopened)), ==, 6);
  saved = saved_now (f, reopened);
  g_assert_true (g_str_has_prefix (saved, before));
  assert_history (history, "First conversation|Other conversation");

  /* Cutting a reopened conversation cuts the right rows. */
  call_clear (&call);
  queue_reply (f, "Réponse.");
  natter_conversation_edit_async (reopened, f->client, MODEL, 2, "Second question, edited", NULL,
                                  call_done_cb, &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  wait_saved (f, reopened);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages WHERE conversation_id = %" G_GINT64_FORMAT,
                          natter_conversation_get_id (reopened)), ==, 4);
  call_clear (&call);
}

static void
test_rename_and_settings (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(NatterConversation) a = new_conversation (f, "Original");
  g_autoptr(NatterConversation) b = new_conversation (f, "Newer");
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterHistory) history = NULL;
  g_autofree char *saved = NULL;
  gint64 id = natter_conversation_get_id (a);

  g_string_truncate (f->changes, 0);
  natter_conversation_set_title (a, "Renamed by the user");
  saved = db_text (f, "SELECT title FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
  g_assert_cmpstr (saved, ==, "Renamed by the user");
  g_clear_pointer (&saved, g_free);

  natter_conversation_set_system_prompt (a, "Be terse.");
  natter_conversation_set_temperature (a, 1.25);
  natter_conversation_set_max_tokens (a, 64);
  saved = db_text (f, "SELECT system_prompt || '|' || temperature || '|' || max_tokens"
                   " FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
  g_assert_cmpstr (saved, ==, "Be terse.|1.25|64");
  g_clear_pointer (&saved, g_free);

  /* Back to the provider's defaults. */
  natter_conversation_set_temperature (a, -1);
  natter_conversation_set_max_tokens (a, 0);
  saved = db_text (f, "SELECT quote (temperature) || '|' || quote (max_tokens)"
                   " FROM conversations WHERE id = %" G_GINT64_FORMAT, id);
  g_assert_cmpstr (saved, ==, "NULL|NULL");

  /* The list did not change. */
  g_assert_cmpstr (f->changes->str, ==, "");
  store = open_store (f);
  history = new_history (store);
  assert_history (history, "Newer|Renamed by the user");
  g_assert_cmpstr (natter_conversation_get_system_prompt (item (history, 1)), ==, "Be terse.");
  g_assert_cmpuint (f->n_save_failed, ==, 0);
}

static void
test_remove_undo_commit (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(NatterConversation) a = new_conversation (f, "Apples");
  g_autoptr(NatterConversation) b = new_conversation (f, "Bananas");
  g_autoptr(NatterConversation) c = new_conversation (f, "Cherries");
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterHistory) history = NULL;
  gint64 id = natter_conversation_get_id (b);

  assert_history (f->history, "Cherries|Bananas|Apples");
  g_assert_cmpuint (count_found (f->history, "bananas"), ==, 1);
  g_string_truncate (f->changes, 0);

  natter_history_remove (f->history, b);
  g_assert_cmpstr (f->changes->str, ==, "1-1+0 ");
  assert_history (f->history, "Cherries|Apples");
  g_assert_null (natter_history_lookup (f->history, id));
  /* Not found while it waits to be deleted, but still in the file. */
  g_assert_cmpuint (count_found (f->history, "bananas"), ==, 0);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages WHERE conversation_id = %"
                          G_GINT64_FORMAT, id), ==, 2);
  /* Removing again, or something never listed, does nothing. */
  natter_history_remove (f->history, b);
  g_assert_cmpstr (f->changes->str, ==, "1-1+0 ");

  /* Undo puts it back where it was. */
  natter_history_undo_remove (f->history, b);
  g_assert_cmpstr (f->changes->str, ==, "1-1+0 1-0+1 ");
  assert_history (f->history, "Cherries|Bananas|Apples");
  g_assert_cmpuint (count_found (f->history, "bananas"), ==, 1);
  /* And is saved as before. */
  send_ok (f, b, "More bananas");
  assert_history (f->history, "Bananas|Cherries|Apples");

  /* Removed for good. */
  g_string_truncate (f->changes, 0);
  natter_history_remove (f->history, b);
  natter_history_remove (f->history, a);
  g_assert_cmpstr (f->changes->str, ==, "0-1+0 1-1+0 ");
  natter_history_commit_removal (f->history, b);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM conversations WHERE id = %" G_GINT64_FORMAT, id),
                   ==, 0);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages WHERE conversation_id = %"
                          G_GINT64_FORMAT, id), ==, 0);
  /* Committed: there is no undo any more. */
  natter_history_undo_remove (f->history, b);
  assert_history (f->history, "Cherries");
  /* a is still only removed. */
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM conversations"), ==, 2);
  natter_history_commit_removals (f->history);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM conversations"), ==, 1);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages"), ==, 2);

  store = open_store (f);
  history = new_history (store);
  assert_history (history, "Cherries");
  g_assert_cmpuint (count_found (history, "bananas"), ==, 0);
  g_assert_cmpuint (count_found (history, "apples"), ==, 0);
  g_assert_cmpuint (count_found (history, "cherries"), ==, 1);
  g_assert_cmpuint (f->n_save_failed, ==, 0);
}

/* A removal not undone when the history goes (the window closes before
 * the Undo toast does) is a deletion. */
static void
test_dispose_commits_removals (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(NatterConversation) a = new_conversation (f, "Kept");
  g_autoptr(NatterConversation) b = new_conversation (f, "Thrown away");
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterHistory) history = NULL;

  natter_history_remove (f->history, b);
  g_clear_object (&a);
  g_clear_object (&b);
  g_assert_finalize_object (g_steal_pointer (&f->history));

  g_assert_cmpint (db_int (f, "SELECT count(*) FROM conversations"), ==, 1);
  store = open_store (f);
  history = new_history (store);
  assert_history (history, "Kept");
}

/* Removing a conversation while it streams stops the answer, and deleting
 * it leaves nothing behind, whatever the answer does afterwards. */
static void
test_remove_while_streaming (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (100);
  g_autoptr(NatterConversation) a = new_conversation (f, "Kept");
  g_autoptr(NatterConversation) b = natter_history_create (f->history);
  Call call = { 0, };

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_queue (f->provider, script);
  start_send (f, b, "Long story", &call);
  while (natter_message_get_content_length (natter_conversation_get_message (b, 1)) == 0)
    g_main_context_iteration (NULL, TRUE);
  natter_history_remove (f->history, b);
  iterate_until (&call.done, WAIT_MS);
  g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  natter_history_commit_removals (f->history);
  natter_test_iterate_for (200);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM conversations"), ==, 1);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages"), ==, 2);
  assert_history (f->history, "Kept");
  g_assert_cmpuint (f->n_save_failed, ==, 0);
  call_clear (&call);
}

/* --- Regenerate, edit, Continue ----------------------------------------------- */

static void
test_regenerate (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autoptr(GListModel) results = NULL;
  g_autoptr(NatterSearchResult) result = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  Call call = { 0, };

  queue_reply (f, "A crimson orchard.");
  send_ok (f, conversation, "Describe a landscape");
  g_assert_cmpuint (count_found (f->history, "crimson"), ==, 1);

  queue_reply (f, "A golden meadow.");
  natter_conversation_regenerate_async (conversation, f->client, MODEL, NULL, call_done_cb, &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  wait_saved (f, conversation);
  saved = saved_now (f, conversation);
  g_assert_cmpstr (saved, ==,
                   "user complete [] Describe a landscape {}\n"
                   "assistant complete [stop] A golden meadow. {}\n");
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages"), ==, 2);

  /* The old answer is gone from the index too; the new one is found. */
  g_assert_cmpuint (count_found (f->history, "crimson"), ==, 0);
  results = search (f->history, "meadow");
  g_assert_cmpuint (g_list_model_get_n_items (results), ==, 1);
  result = g_list_model_get_item (results, 0);
  g_assert_true (natter_search_result_get_conversation (result) == conversation);
  g_assert_cmpuint (natter_search_result_get_position (result), ==, 1);

  /* The same question was asked again. */
  first = describe_request (f, 0);
  second = describe_request (f, 1);
  g_assert_cmpstr (second, ==, first);
  call_clear (&call);
}

static void
test_edit (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autofree char *saved = NULL;
  g_autofree char *received = NULL;
  Call call = { 0, };

  queue_reply (f, "First answer.");
  send_ok (f, conversation, "First question");
  queue_reply (f, "Second answer about walruses.");
  send_ok (f, conversation, "Second question about walruses");
  g_assert_cmpuint (count_found (f->history, "walruses"), ==, 2);

  queue_reply (f, "Answer about otters.");
  natter_conversation_edit_async (conversation, f->client, MODEL, 2, "Second question about otters",
                                  NULL, call_done_cb, &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  wait_saved (f, conversation);
  saved = saved_now (f, conversation);
  g_assert_cmpstr (saved, ==,
                   "user complete [] First question {}\n"
                   "assistant complete [stop] First answer. {}\n"
                   "user complete [] Second question about otters {}\n"
                   "assistant complete [stop] Answer about otters. {}\n");
  g_assert_cmpuint (count_found (f->history, "walruses"), ==, 0);
  g_assert_cmpuint (count_found (f->history, "otters"), ==, 2);
  received = describe_request (f, 2);
  g_assert_cmpstr (received, ==,
                   "user: First question\n"
                   "assistant: First answer.\n"
                   "user: Second question about otters\n");

  /* Editing the first message leaves one exchange. */
  queue_reply (f, "Only answer.");
  call_clear (&call);
  natter_conversation_edit_async (conversation, f->client, MODEL, 0, "Only question", NULL,
                                  call_done_cb, &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  wait_saved (f, conversation);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages"), ==, 2);
  g_assert_cmpuint (count_found (f->history, "otters"), ==, 0);
  /* The title was the first prompt's, and stays. */
  g_assert_cmpstr (natter_conversation_get_title (conversation), ==, "First question");

  /* A refused edit changes nothing in the file. */
  g_free (saved);
  saved = saved_now (f, conversation);
  call_clear (&call);
  natter_conversation_edit_async (conversation, f->client, MODEL, 1, "Not mine", NULL,
                                  call_done_cb, &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_free (received);
  received = saved_now (f, conversation);
  g_assert_cmpstr (received, ==, saved);
  call_clear (&call);
}

/* Text, then nothing: the stream stays open until stopped. */
static void
stop_after (Fixture            *f,
            NatterConversation *conversation,
            const char         *question,
            const char         *first,
            const char         *second,
            Call               *call)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_autofree char *expected = g_strconcat (first, second, NULL);
  NatterMessage *answer;

  natter_fake_script_add_content (script, first);
  natter_fake_script_add_content (script, second);
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  start_send (f, conversation, question, call);
  answer = natter_conversation_get_message (conversation, g_list_model_get_n_items (G_LIST_MODEL (conversation)) - 1);
  while (!g_str_equal (natter_message_get_content (answer), expected))
    g_main_context_iteration (NULL, TRUE);
  natter_conversation_stop (conversation);
  iterate_until (&call->done, WAIT_MS);
  g_assert_error (call->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  wait_saved (f, conversation);
}

static void
log_appended_cb (NatterMessage *message,
                 guint          offset,
                 const char    *text,
                 GString       *log)
{
  g_string_append_printf (log, "%u:%s|", offset, text);
}

static void
test_continue (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(NatterFakeScript) rest = natter_fake_script_new (200);
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autoptr(GString) appended = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *received = NULL;
  g_autofree char *saved = NULL;
  const NatterFakeRequest *request;
  JsonArray *messages;
  JsonObject *last;
  NatterMessage *answer;
  guint n;
  Call call = { 0, };

  natter_conversation_set_system_prompt (conversation, "Be brief.");
  stop_after (f, conversation, "Tell me a story", "Once upon ", "a time ", &call);
  answer = natter_conversation_get_message (conversation, 1);
  g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_STOPPED);
  g_assert_true (natter_conversation_can_continue (conversation));

  natter_fake_script_add_content (rest, "there was ");
  natter_fake_script_add_content (rest, "a fox.");
  natter_fake_script_add_finish (rest, "stop");
  natter_fake_script_add_usage (rest, 30, 4);
  natter_fake_script_add_done (rest);
  natter_fake_provider_queue (f->provider, rest);
  g_signal_connect (answer, "content-appended", G_CALLBACK (log_appended_cb), appended);
  g_string_truncate (f->changes, 0);
  call_clear (&call);
  natter_conversation_continue_async (conversation, f->client, MODEL, NULL, call_done_cb, &call);
  g_assert_true (natter_conversation_is_streaming (conversation));
  g_assert_false (natter_conversation_can_continue (conversation));
  iterate_until (&call.done, WAIT_MS);
  g_signal_handlers_disconnect_by_data (answer, appended);
  g_assert_no_error (call.error);

  /* What the provider was sent: the partial answer, then the request. */
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 2);
  request = natter_fake_provider_get_request (f->provider, 1);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (request->body, NULL),
                                             g_bytes_get_size (request->body), NULL));
  messages = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                           "messages");
  n = json_array_get_length (messages);
  g_assert_cmpuint (n, ==, 4);
  last = json_array_get_object_element (messages, n - 2);
  g_assert_cmpstr (json_object_get_string_member (last, "role"), ==, "assistant");
  g_assert_cmpstr (json_object_get_string_member (last, "content"), ==, "Once upon a time ");
  last = json_array_get_object_element (messages, n - 1);
  g_assert_cmpstr (json_object_get_string_member (last, "role"), ==, "user");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (last, "content"), "Continue"));
  received = describe_request (f, 1);
  g_assert_true (g_str_has_prefix (received, "system: Be brief.\nuser: Tell me a story\n"));

  /* The same message grew: no new message, appended at its end. */
  g_assert_true (call.result == answer);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 2);
  g_assert_true (natter_conversation_get_message (conversation, 1) == answer);
  g_assert_cmpstr (appended->str, ==, "17:there was |27:a fox.|");
  g_assert_cmpstr (natter_message_get_content (answer), ==, "Once upon a time there was a fox.");
  g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_false (natter_conversation_can_continue (conversation));

  /* And it is saved as one message. */
  wait_saved (f, conversation);
  saved = saved_now (f, conversation);
  g_assert_cmpstr (saved, ==,
                   "user complete [] Tell me a story {}\n"
                   "assistant complete [stop] Once upon a time there was a fox. {}\n");
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages"), ==, 2);
  /* Continuing is not a new message: the list did not move. */
  g_assert_cmpstr (f->changes->str, ==, "");
  call_clear (&call);
}

static void
test_can_continue (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(NatterFakeScript) truncated = natter_fake_script_new (200);
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  Call call = { 0, };

  g_assert_false (natter_conversation_can_continue (conversation));
  send_ok (f, conversation, "Hello");
  /* A complete answer that ended on its own has nothing more to say. */
  g_assert_cmpstr (natter_message_get_finish_reason (natter_conversation_get_message (conversation, 1)),
                   ==, "stop");
  g_assert_false (natter_conversation_can_continue (conversation));

  /* One cut by the token limit has. */
  natter_fake_script_add_content (truncated, "The first part");
  natter_fake_script_add_finish (truncated, "length");
  natter_fake_script_add_done (truncated);
  natter_fake_provider_queue (f->provider, truncated);
  send_ok (f, conversation, "Write a lot");
  g_assert_cmpint (natter_message_get_state (natter_conversation_get_message (conversation, 3)), ==,
                   NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_true (natter_conversation_can_continue (conversation));

  queue_reply (f, " and the rest.");
  natter_conversation_continue_async (conversation, f->client, MODEL, NULL, call_done_cb, &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (conversation, 3)), ==,
                   "The first part and the rest.");
  g_assert_cmpstr (natter_message_get_finish_reason (natter_conversation_get_message (conversation, 3)),
                   ==, "stop");
  g_assert_false (natter_conversation_can_continue (conversation));
  wait_saved (f, conversation);
  call_clear (&call);
}

/* An answer cut by a crash comes back interrupted, and Continue finishes
 * it in the same row. */
static void
test_continue_interrupted (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(NatterMessage) question = natter_message_new (NATTER_ROLE_USER, "Tell me a story");
  g_autoptr(NatterMessage) partial = natter_message_new (NATTER_ROLE_ASSISTANT, "Once upon ");
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterHistory) history = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *expected = NULL;
  NatterConversation *conversation;
  gint64 id, answer_id;
  Call call = { 0, };

  id = natter_store_create_conversation (f->store, "Story", &error);
  g_assert_no_error (error);
  natter_store_append_message (f->store, id, question, &error);
  g_assert_no_error (error);
  natter_message_set_state (partial, NATTER_MESSAGE_STATE_STREAMING);
  answer_id = natter_store_append_message (f->store, id, partial, &error);
  g_assert_no_error (error);

  store = open_store (f);
  history = new_history (store);
  conversation = item (history, 0);
  g_assert_true (natter_history_open (history, conversation, &error));
  g_assert_no_error (error);
  g_assert_cmpint (natter_message_get_state (natter_conversation_get_message (conversation, 1)), ==,
                   NATTER_MESSAGE_STATE_INTERRUPTED);
  g_assert_true (natter_conversation_can_continue (conversation));

  queue_reply (f, "a time.");
  natter_conversation_continue_async (conversation, f->client, MODEL, NULL, call_done_cb, &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  wait_saved (f, conversation);
  saved = db_text (f, "SELECT id || '|' || content FROM messages WHERE position = 1");
  expected = g_strdup_printf ("%" G_GINT64_FORMAT "|Once upon a time.", answer_id);
  g_assert_cmpstr (saved, ==, expected);
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages"), ==, 2);
  call_clear (&call);
}

/* --- Two at once ---------------------------------------------------------------- */

static void
test_two_streams (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(NatterConversation) a = natter_history_create (f->history);
  g_autoptr(NatterConversation) b = natter_history_create (f->history);
  g_autofree char *saved_a = NULL;
  g_autofree char *saved_b = NULL;
  const char *answer =
    "assistant complete [stop] tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 tok8 tok9 tok10 tok11 tok12 "
    "tok13 tok14 tok15 tok16 tok17 tok18 tok19 tok20 tok21 tok22 tok23 tok24 tok25 tok26 tok27 "
    "tok28 tok29 tok30 tok31 tok32 tok33 tok34 tok35 tok36 tok37 tok38 tok39 tok40 tok41 tok42 "
    "tok43 tok44 tok45 tok46 tok47 tok48 tok49  {}\n";
  g_autofree char *expected_a = g_strconcat ("user complete [] First stream {}\n", answer, NULL);
  g_autofree char *expected_b = g_strconcat ("user complete [] Second stream {}\n", answer, NULL);
  Call call_a = { 0, };
  Call call_b = { 0, };

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (50);

      natter_fake_script_set_interval (script, 20);
      natter_fake_provider_queue (f->provider, script);
    }
  start_send (f, a, "First stream", &call_a);
  start_send (f, b, "Second stream", &call_b);
  g_assert_true (natter_conversation_is_streaming (a));
  g_assert_true (natter_conversation_is_streaming (b));
  assert_history (f->history, "Second stream|First stream");
  /* Both answers grow at the same time. */
  while (natter_message_get_content_length (natter_conversation_get_message (a, 1)) == 0 ||
         natter_message_get_content_length (natter_conversation_get_message (b, 1)) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (natter_conversation_is_streaming (a));
  g_assert_true (natter_conversation_is_streaming (b));

  iterate_until (&call_a.done, WAIT_MS);
  iterate_until (&call_b.done, WAIT_MS);
  g_assert_no_error (call_a.error);
  g_assert_no_error (call_b.error);
  wait_saved (f, a);
  wait_saved (f, b);
  saved_a = saved_now (f, a);
  saved_b = saved_now (f, b);
  g_assert_cmpstr (saved_a, ==, expected_a);
  g_assert_cmpstr (saved_b, ==, expected_b);
  g_assert_cmpuint (f->n_save_failed, ==, 0);
  call_clear (&call_a);
  call_clear (&call_b);
}

/* --- Import, search ------------------------------------------------------------- */

static void
test_add (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(NatterConversation) existing = new_conversation (f, "Existing");
  g_autoptr(NatterConversation) imported = natter_conversation_new ();
  g_autoptr(NatterMessage) question = natter_message_new (NATTER_ROLE_USER, "What do narwhals eat?");
  g_autoptr(NatterMessage) answer = natter_message_new (NATTER_ROLE_ASSISTANT,
                                                        "Mostly fish, squid and shrimp.");
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterHistory) history = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *saved = NULL;
  NatterConversation *added;
  NatterConversation *reopened;

  natter_conversation_set_title (imported, "Imported");
  natter_conversation_set_system_prompt (imported, "Be a biologist.");
  natter_message_set_finish_reason (answer, "stop");
  natter_conversation_append (imported, question);
  natter_conversation_append (imported, answer);
  g_string_truncate (f->changes, 0);

  added = natter_history_add (f->history, imported, &error);
  g_assert_no_error (error);
  g_assert_true (added == imported);
  g_assert_cmpint (natter_conversation_get_id (imported), >, 0);
  g_assert_cmpstr (f->changes->str, ==, "0-0+1 ");
  assert_history (f->history, "Imported|Existing");
  saved = saved_now (f, imported);
  g_assert_cmpstr (saved, ==,
                   "user complete [] What do narwhals eat? {}\n"
                   "assistant complete [stop] Mostly fish, squid and shrimp. {}\n");
  g_assert_cmpuint (count_found (f->history, "narwhals"), ==, 1);

  /* From then on it is saved like the others. */
  send_ok (f, imported, "And orcas?");
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages WHERE conversation_id = %"
                          G_GINT64_FORMAT, natter_conversation_get_id (imported)), ==, 4);

  store = open_store (f);
  history = new_history (store);
  assert_history (history, "Imported|Existing");
  reopened = item (history, 0);
  g_assert_cmpstr (natter_conversation_get_system_prompt (reopened), ==, "Be a biologist.");
  g_assert_true (natter_history_open (history, reopened, &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reopened)), ==, 4);
}

static void
test_search_results (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterConversation) cooking = NULL;
  g_autoptr(NatterConversation) travel = NULL;
  g_autoptr(GListModel) results = NULL;
  g_autofree char *marked = g_strdup_printf ("%cpasta%c", NATTER_STORE_MATCH_START,
                                             NATTER_STORE_MATCH_END);
  gboolean seen_question = FALSE, seen_answer = FALSE;

  queue_reply (f, "Ten minutes.");
  cooking = new_conversation (f, "How long to boil pasta?");
  travel = natter_history_create (f->history);
  queue_reply (f, "Try the pasta in Bologna.");
  send_ok (f, travel, "What to eat in Italy?");

  results = search (f->history, "PASTA");
  g_assert_cmpuint (g_list_model_get_n_items (results), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(NatterSearchResult) result = g_list_model_get_item (results, i);
      NatterConversation *conversation = natter_search_result_get_conversation (result);
      const char *snippet = natter_search_result_get_snippet (result);

      g_assert_nonnull (strstr (snippet, marked));
      if (conversation == cooking)
        {
          g_assert_cmpuint (natter_search_result_get_position (result), ==, 0);
          seen_question = TRUE;
        }
      else
        {
          g_assert_true (conversation == travel);
          g_assert_cmpuint (natter_search_result_get_position (result), ==, 1);
          seen_answer = TRUE;
        }
    }
  g_assert_true (seen_question && seen_answer);

  g_clear_object (&results);
  results = search (f->history, "bologna");
  g_assert_cmpuint (g_list_model_get_n_items (results), ==, 1);
  g_clear_object (&results);
  results = search (f->history, "");
  g_assert_cmpuint (g_list_model_get_n_items (results), ==, 0);
  g_clear_object (&results);
  results = search (f->history, "\"NEAR( *");
  g_assert_cmpuint (g_list_model_get_n_items (results), ==, 0);
}

/* --- When the file cannot be written ------------------------------------------- */

static void
test_save_failure (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(NatterConversation) conversation = new_conversation (f, "Locked out");
  g_autofree char *before = NULL;
  g_autofree char *memory = NULL;
  g_autofree char *saved = NULL;
  sqlite3 *locker;
  Call call = { 0, };

  before = saved_now (f, conversation);
  /* Another program takes the write lock and keeps it past the busy
   * timeout: every write fails. */
  locker = open_raw (f->path);
  exec_raw (locker, "BEGIN EXCLUSIVE");

  queue_reply (f, "Still answered.");
  start_send (f, conversation, "Are you saving this?", &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  /* The end of the answer is saved from an idle: let it fail too. */
  natter_test_iterate_for (500);
  natter_history_flush (f->history);

  /* Said once, with a reason the user can act on. */
  g_assert_cmpuint (f->n_save_failed, ==, 1);
  g_assert_error (f->save_error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_LOCKED);
  g_test_message ("%s", f->save_error->message);

  /* Nothing on screen was lost. */
  memory = describe_conversation (conversation);
  g_assert_cmpstr (memory, ==,
                   "user complete [] Locked out {}\n"
                   "assistant complete [stop] tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7  {}\n"
                   "user complete [] Are you saving this? {}\n"
                   "assistant complete [stop] Still answered. {}\n");
  saved = saved_now (f, conversation);
  g_assert_cmpstr (saved, ==, before);

  /* Once the file can be written again, what was missed is saved, in
   * order, with the next change. */
  exec_raw (locker, "ROLLBACK");
  sqlite3_close (locker);
  send_ok (f, conversation, "And now?");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 6);
  g_assert_cmpuint (f->n_save_failed, ==, 1);
  call_clear (&call);
}

/* A new conversation whose first save failed joins the list, whole, with
 * the first change that can be saved. */
static void
test_save_failure_new_conversation (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(NatterConversation) existing = new_conversation (f, "Existing");
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autofree char *saved = NULL;
  sqlite3 *locker;
  Call call = { 0, };

  locker = open_raw (f->path);
  exec_raw (locker, "BEGIN EXCLUSIVE");
  queue_reply (f, "Answered anyway.");
  start_send (f, conversation, "Written while locked", &call);
  iterate_until (&call.done, WAIT_MS);
  g_assert_no_error (call.error);
  natter_test_iterate_for (500);
  g_assert_cmpuint (f->n_save_failed, ==, 1);
  g_assert_error (f->save_error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_LOCKED);
  /* Not in the file, so not listed: a restart would not show it. */
  g_assert_cmpint (natter_conversation_get_id (conversation), ==, 0);
  assert_history (f->history, "Existing");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 2);

  exec_raw (locker, "ROLLBACK");
  sqlite3_close (locker);
  send_ok (f, conversation, "And now?");
  assert_history (f->history, "Written while locked|Existing");
  saved = db_text (f, "SELECT title FROM conversations WHERE id = %" G_GINT64_FORMAT,
                   natter_conversation_get_id (conversation));
  g_assert_cmpstr (saved, ==, "Written while locked");
  g_assert_cmpint (db_int (f, "SELECT count(*) FROM messages WHERE conversation_id = %" G_GINT64_FORMAT,
                          natter_conversation_get_id (conversation)), ==, 4);
  g_assert_cmpuint (f->n_save_failed, ==, 1);
  call_clear (&call);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/natter/history/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/natter/history/title-for-text", test_title_for_text);
  ADD ("user-message-saved-first", test_user_message_saved_first);
  ADD ("checkpoints", test_checkpoints);
  ADD ("reasoning-checkpointed", test_reasoning_checkpointed);
  ADD ("flush", test_flush);
  ADD ("stop-saves-stopped", test_stop_saves_stopped);
  ADD ("failure-saves-failed", test_failure_saves_failed);
  ADD ("retry-after-failure", test_retry_after_failure);
  ADD ("create-joins-list", test_create_joins_list);
  ADD ("order-moves-to-top", test_order_moves_to_top);
  ADD ("reopen", test_reopen);
  ADD ("rename-and-settings", test_rename_and_settings);
  ADD ("remove-undo-commit", test_remove_undo_commit);
  ADD ("dispose-commits-removals", test_dispose_commits_removals);
  ADD ("remove-while-streaming", test_remove_while_streaming);
  ADD ("regenerate", test_regenerate);
  ADD ("edit", test_edit);
  ADD ("continue", test_continue);
  ADD ("can-continue", test_can_continue);
  ADD ("continue-interrupted", test_continue_interrupted);
  ADD ("two-streams", test_two_streams);
  ADD ("add", test_add);
  ADD ("search-results", test_search_results);
  ADD ("save-failure", test_save_failure);
  ADD ("save-failure-new-conversation", test_save_failure_new_conversation);
#undef ADD

  return g_test_run ();
}
