/* test-crash.c — kill -9 natter-cli mid-answer; nothing saved may be lost
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * natter-cli --save / --conversation streams a long answer from the fake
 * provider (in this process), saving it as the app does. The test reads
 * the child's standard output with the time each piece arrived, kills the
 * child with SIGKILL at a chosen moment, reopens the history and checks:
 *
 *  - PRAGMA integrity_check says "ok";
 *  - the user's message is there once its request reached the server;
 *  - the answer is marked interrupted, is a prefix of what the child
 *    printed, and holds at least what the child had printed
 *    NATTER_AUTOSAVE_CHECKPOINT_MS (plus some slack) before it was killed.
 *
 * Times read here are when the test read a piece, which is after the child
 * wrote it: "printed by t" is never overestimated.
 */
#include <signal.h>

#include <glib/gstdio.h>
#include <gio/gio.h>
#include <sqlite3.h>

#include "natter-autosave.h"
#include "natter-fake-provider.h"
#include "natter-store.h"
#include "natter-test-util.h"

/* Scheduling on a loaded machine, and reading the pipe late. */
#define SLACK_MS 300
#define N_TOKENS 2000
#define TOKEN_INTERVAL_MS 5
#define CRASH_LOOP_RUNS 50
#define CRASH_LOOP_MAX_MS 1300
#define CRASH_LOOP_STARTUP_MS 60

typedef struct {
  NatterFakeProvider *provider;
  char               *base_url;
  char               *dir;
  char               *db_path;
} Fixture;

typedef enum {
  AFTER_SPAWN,       /* delay_ms after the child started */
  AFTER_REQUEST,     /* delay_ms after its request reached the server */
  AFTER_FIRST_TOKEN, /* delay_ms after the first text was read */
  AFTER_CHECKPOINT,  /* as soon as the answer's text is seen in the file */
} Moment;

typedef struct {
  gint64 at;
  gsize  length;  /* read so far */
} Mark;

typedef struct {
  Fixture      *fixture;
  GSubprocess  *process;
  Moment        moment;
  guint         delay_ms;

  GString      *out;
  GArray       *marks;
  guint         n_requests_before;
  gint64        requested_at;
  gint64        first_token_at;
  gint64        killed_at;
  gsize         seen_in_file;   /* AFTER_CHECKPOINT: the text seen saved */
  guint         kill_id;
  guint         poll_id;
  gulong        request_handler;
  sqlite3      *poll_db;
  gboolean      eof;
  char          buffer[4096];
} Child;

/* --- Fixture ------------------------------------------------------------- */

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (N_TOKENS);

  f->provider = natter_fake_provider_new ();
  g_assert_true (natter_fake_provider_listen (f->provider, 0, NULL));
  f->base_url = natter_fake_provider_dup_base_url (f->provider);
  natter_fake_script_set_interval (script, TOKEN_INTERVAL_MS);
  natter_fake_provider_set_default (f->provider, script);

  f->dir = g_dir_make_tmp ("natter-crash-XXXXXX", NULL);
  f->db_path = g_build_filename (f->dir, "data", "natter", "history.db", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->provider);
  g_free (f->base_url);
  natter_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->db_path);
}

/* --- The child ------------------------------------------------------------- */

static GSubprocess *
spawn_cli (Fixture    *f,
           const char *prompt,
           gint64      conversation_id)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autofree char *data_dir = g_build_filename (f->dir, "data", NULL);
  g_autofree char *config_dir = g_build_filename (f->dir, "config", NULL);
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, conversation_id);
  g_autoptr(GError) error = NULL;
  const char *env[] = {
    "LC_ALL=C.UTF-8", "G_DEBUG=fatal-warnings", "GSETTINGS_BACKEND=memory",
    /* The key and endpoint the way a script passes them: no keyring. */
    "NATTER_API_KEY=sk-crash-test", "NATTER_MODEL=natter-fake-1", NULL, NULL, NULL, NULL, NULL,
  };
  g_autofree char *base_url = g_strconcat ("NATTER_BASE_URL=", f->base_url, NULL);
  g_autofree char *data_home = g_strconcat ("XDG_DATA_HOME=", data_dir, NULL);
  g_autofree char *config_home = g_strconcat ("XDG_CONFIG_HOME=", config_dir, NULL);
  g_autofree char *path = g_strconcat ("PATH=", g_getenv ("PATH"), NULL);
  GSubprocess *process;

  env[5] = base_url;
  env[6] = data_home;
  env[7] = config_home;
  env[8] = path;
  g_subprocess_launcher_set_environ (launcher, (char **) env);
  if (conversation_id > 0)
    process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("NATTER_CLI"),
                                           "--conversation", id, prompt, NULL);
  else
    process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("NATTER_CLI"),
                                           "--save", prompt, NULL);
  g_assert_no_error (error);
  return process;
}

static void
kill_child (Child *child)
{
  if (child->killed_at != 0)
    return;
  child->killed_at = g_get_monotonic_time ();
  g_subprocess_force_exit (child->process);
  g_clear_handle_id (&child->kill_id, g_source_remove);
}

static gboolean
kill_cb (gpointer data)
{
  Child *child = data;

  child->kill_id = 0;
  kill_child (child);
  return G_SOURCE_REMOVE;
}

static void
kill_later (Child *child)
{
  if (child->delay_ms == 0)
    kill_child (child);
  else
    child->kill_id = g_timeout_add (child->delay_ms, kill_cb, child);
}

/* AFTER_CHECKPOINT: the first time the answer's text is in the file, the
 * child has just written a checkpoint. */
static gboolean
poll_file_cb (gpointer data)
{
  Child *child = data;
  sqlite3_stmt *stmt = NULL;

  if (child->killed_at != 0)
    {
      child->poll_id = 0;
      return G_SOURCE_REMOVE;
    }
  if (child->poll_db == NULL &&
      sqlite3_open_v2 (child->fixture->db_path, &child->poll_db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    {
      g_clear_pointer (&child->poll_db, sqlite3_close);
      return G_SOURCE_CONTINUE;
    }
  if (sqlite3_prepare_v2 (child->poll_db,
                          "SELECT length(CAST(content AS BLOB)) FROM messages"
                          " WHERE role = 'assistant' ORDER BY id DESC LIMIT 1",
                          -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) > 0)
    {
      child->seen_in_file = sqlite3_column_int64 (stmt, 0);
      kill_child (child);
    }
  sqlite3_finalize (stmt);
  if (child->killed_at == 0)
    return G_SOURCE_CONTINUE;
  child->poll_id = 0;
  return G_SOURCE_REMOVE;
}

static void
request_received_cb (NatterFakeProvider *provider,
                     guint               index,
                     Child              *child)
{
  if (index < child->n_requests_before || child->requested_at != 0)
    return;
  child->requested_at = g_get_monotonic_time ();
  if (child->moment == AFTER_REQUEST)
    kill_later (child);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Child *child = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);
  Mark mark;

  if (n <= 0)
    {
      child->eof = TRUE;
      return;
    }
  g_string_append_len (child->out, child->buffer, n);
  mark = (Mark) { g_get_monotonic_time (), child->out->len };
  g_array_append_val (child->marks, mark);
  if (child->first_token_at == 0)
    {
      child->first_token_at = mark.at;
      if (child->moment == AFTER_FIRST_TOKEN)
        kill_later (child);
    }
  g_input_stream_read_async (G_INPUT_STREAM (source), child->buffer, sizeof child->buffer,
                             G_PRIORITY_DEFAULT, NULL, read_cb, child);
}

/* Runs natter-cli until the moment comes, kills it, and reads what it
 * printed to the end. */
static void
run_and_kill (Fixture    *f,
              Child      *child,
              const char *prompt,
              gint64      conversation_id)
{
  gint64 deadline;

  child->fixture = f;
  child->out = g_string_new (NULL);
  child->marks = g_array_new (FALSE, FALSE, sizeof (Mark));
  child->n_requests_before = natter_fake_provider_get_n_requests (f->provider);
  child->request_handler = g_signal_connect (f->provider, "request-received",
                                             G_CALLBACK (request_received_cb), child);
  child->process = spawn_cli (f, prompt, conversation_id);
  if (child->moment == AFTER_SPAWN)
    kill_later (child);
  if (child->moment == AFTER_CHECKPOINT)
    child->poll_id = g_timeout_add (2, poll_file_cb, child);
  g_input_stream_read_async (g_subprocess_get_stdout_pipe (child->process), child->buffer,
                             sizeof child->buffer, G_PRIORITY_DEFAULT, NULL, read_cb, child);

  /* The whole answer takes N_TOKENS * TOKEN_INTERVAL_MS: every moment
   * comes well before it ends. */
  while (!child->eof)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (g_subprocess_wait (child->process, NULL, NULL));
  g_assert_cmpint (child->killed_at, !=, 0);
  g_assert_true (g_subprocess_get_if_signaled (child->process));
  g_assert_cmpint (g_subprocess_get_term_sig (child->process), ==, SIGKILL);

  g_clear_handle_id (&child->poll_id, g_source_remove);
  g_clear_pointer (&child->poll_db, sqlite3_close);
  g_signal_handler_disconnect (f->provider, child->request_handler);

  /* The server notices the dead client when it next writes. */
  deadline = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (child->requested_at != 0 &&
         natter_fake_provider_get_n_hangups (f->provider) < natter_fake_provider_get_n_requests (f->provider) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
}

static void
child_clear (Child *child)
{
  g_clear_object (&child->process);
  if (child->out != NULL)
    g_string_free (child->out, TRUE);
  g_clear_pointer (&child->marks, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Child, child_clear)

/* How much the test had read by @time. */
static gsize
printed_by (Child  *child,
            gint64  time)
{
  gsize length = 0;

  for (guint i = 0; i < child->marks->len; i++)
    {
      Mark *mark = &g_array_index (child->marks, Mark, i);

      if (mark->at > time)
        break;
      length = mark->length;
    }
  return length;
}

/* --- Checks ------------------------------------------------------------- */

static void
check_integrity (const char *path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* The answer after the user's message at @position, if the child saved
 * one: interrupted, a prefix of what was printed, and no older than the
 * last checkpoint before the kill. */
static void
check_answer (Child              *child,
              NatterConversation *conversation,
              guint               position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (conversation));
  NatterMessage *answer = natter_conversation_get_message (conversation, position + 1);
  gint64 due_by = child->killed_at - (NATTER_AUTOSAVE_CHECKPOINT_MS + SLACK_MS) * 1000;
  const char *saved = answer != NULL ? natter_message_get_content (answer) : "";
  gsize saved_length = strlen (saved);

  g_assert_cmpuint (n, <=, position + 2);
  if (answer != NULL)
    {
      g_assert_cmpint (natter_message_get_role (answer), ==, NATTER_ROLE_ASSISTANT);
      g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_INTERRUPTED);
    }
  g_assert_cmpuint (saved_length, <=, child->out->len);
  g_assert_true (strncmp (saved, child->out->str, saved_length) == 0);
  g_assert_cmpuint (saved_length, >=, printed_by (child, due_by));
  g_assert_cmpuint (saved_length, >=, child->seen_in_file);
}

/* Reopens the history after a kill. Returns the position of the user's
 * @prompt in the conversation, or -1 if it was not saved (allowed only
 * when its request never reached the server). */
static int
check_database (Fixture    *f,
                Child      *child,
                gint64      conversation_id,
                const char *prompt)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterConversation) conversation = NULL;
  int position = -1;
  guint n;

  if (!g_file_test (f->db_path, G_FILE_TEST_EXISTS))
    {
      g_assert_cmpint (child->requested_at, ==, 0);
      return -1;
    }

  store = natter_store_open (f->db_path, &error);
  g_assert_no_error (error);
  check_integrity (f->db_path);

  if (conversation_id == 0)
    {
      g_autoptr(GPtrArray) listed = natter_store_list_conversations (store, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (listed->len, <=, 1);
      if (listed->len == 0)
        {
          g_assert_cmpint (child->requested_at, ==, 0);
          return -1;
        }
      conversation_id = natter_conversation_get_id (g_ptr_array_index (listed, 0));
    }
  conversation = natter_store_load_conversation (store, conversation_id, &error);
  g_assert_no_error (error);

  n = g_list_model_get_n_items (G_LIST_MODEL (conversation));
  for (guint i = 0; i < n; i++)
    {
      NatterMessage *message = natter_conversation_get_message (conversation, i);

      if (natter_message_get_role (message) == NATTER_ROLE_USER &&
          g_strcmp0 (natter_message_get_content (message), prompt) == 0)
        position = i;
    }
  if (position < 0)
    {
      g_assert_cmpint (child->requested_at, ==, 0);
      return -1;
    }
  check_answer (child, conversation, position);
  return position;
}

/* --- Moments ------------------------------------------------------------- */

typedef struct {
  const char *name;
  Moment      moment;
  guint       delay_ms;
} MomentCase;

static const MomentCase moments[] = {
  /* The user's message is saved before the request goes. */
  { "request-received", AFTER_REQUEST, 0 },
  { "first-token", AFTER_FIRST_TOKEN, 0 },
  { "early", AFTER_FIRST_TOKEN, 250 },
  /* Checkpoints fall about every NATTER_AUTOSAVE_CHECKPOINT_MS from the
   * answer's start, which is when the request goes. */
  { "just-after-first-checkpoint", AFTER_REQUEST, NATTER_AUTOSAVE_CHECKPOINT_MS + 20 },
  { "just-before-second-checkpoint", AFTER_REQUEST, 2 * NATTER_AUTOSAVE_CHECKPOINT_MS - 10 },
  { "just-after-second-checkpoint", AFTER_REQUEST, 2 * NATTER_AUTOSAVE_CHECKPOINT_MS + 30 },
  { "checkpoint-seen-in-file", AFTER_CHECKPOINT, 0 },
  { "mid-answer", AFTER_FIRST_TOKEN, 2500 },
};

static void
test_moment (Fixture       *f,
             gconstpointer  data)
{
  const MomentCase *moment = data;
  g_auto(Child) child = { .moment = moment->moment, .delay_ms = moment->delay_ms };
  const char *prompt = "Tell me a very long story";

  run_and_kill (f, &child, prompt, 0);

  /* Every moment here comes after the request went. */
  g_assert_cmpint (child.requested_at, !=, 0);
  g_assert_cmpint (check_database (f, &child, 0, prompt), ==, 0);
  if (moment->moment == AFTER_CHECKPOINT)
    g_assert_cmpuint (child.seen_in_file, >, 0);
  g_test_message ("%s: killed %" G_GINT64_FORMAT " ms after the request, %" G_GSIZE_FORMAT
                  " bytes printed", moment->name, (child.killed_at - child.requested_at) / 1000,
                  child.out->len);
}

/* Issue 8: SIGKILLs at random moments, all into the same conversation.
 * Every reopen passes the integrity check and holds every user message
 * whose request was sent, in order. */
static void
test_crash_loop (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) saved = g_ptr_array_new_with_free_func (g_free);
  gint64 conversation_id;
  guint n_answers = 0;

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(NatterStore) store = natter_store_open (f->db_path, &error);

    g_assert_no_error (error);
    conversation_id = natter_store_create_conversation (store, "Crash loop", &error);
    g_assert_no_error (error);
  }

  for (guint run = 0; run < CRASH_LOOP_RUNS; run++)
    {
      /* One run in five dies while starting: loading the conversation,
       * saving the user's message, sending. */
      guint max_ms = run % 5 == 0 ? CRASH_LOOP_STARTUP_MS : CRASH_LOOP_MAX_MS;
      g_auto(Child) child = { .moment = AFTER_SPAWN,
                              .delay_ms = g_test_rand_int_range (0, max_ms + 1) };
      g_autofree char *prompt = g_strdup_printf ("Crash loop question %u", run);
      int position;

      run_and_kill (f, &child, prompt, conversation_id);
      position = check_database (f, &child, conversation_id, prompt);
      if (child.requested_at != 0)
        g_ptr_array_add (sent, g_strdup (prompt));
      if (position >= 0)
        g_ptr_array_add (saved, g_strdup (prompt));
      n_answers += child.first_token_at != 0;
    }

  /* Everything sent is there, in the order it was sent, and nothing else. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(NatterStore) store = natter_store_open (f->db_path, &error);
    g_autoptr(NatterConversation) conversation = NULL;
    guint n, next_saved = 0, next_sent = 0;

    g_assert_no_error (error);
    check_integrity (f->db_path);
    conversation = natter_store_load_conversation (store, conversation_id, &error);
    g_assert_no_error (error);
    n = g_list_model_get_n_items (G_LIST_MODEL (conversation));
    for (guint i = 0; i < n; i++)
      {
        NatterMessage *message = natter_conversation_get_message (conversation, i);
        const char *content = natter_message_get_content (message);

        if (natter_message_get_role (message) != NATTER_ROLE_USER)
          {
            g_assert_cmpint (natter_message_get_state (message), ==, NATTER_MESSAGE_STATE_INTERRUPTED);
            continue;
          }
        g_assert_cmpuint (next_saved, <, saved->len);
        g_assert_cmpstr (content, ==, g_ptr_array_index (saved, next_saved));
        next_saved++;
        if (next_sent < sent->len && g_strcmp0 (content, g_ptr_array_index (sent, next_sent)) == 0)
          next_sent++;
      }
    g_assert_cmpuint (next_saved, ==, saved->len);
    g_assert_cmpuint (next_sent, ==, sent->len);
  }
  g_test_message ("%u runs: %u requests sent, %u user messages saved, %u answers started",
                  CRASH_LOOP_RUNS, sent->len, saved->len, n_answers);
  /* The random moments must not all fall before the request. */
  g_assert_cmpuint (sent->len, >=, CRASH_LOOP_RUNS / 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("NATTER_CLI") == NULL)
    {
      g_test_skip ("NATTER_CLI is not set; run through meson test");
      return g_test_run ();
    }

  for (guint i = 0; i < G_N_ELEMENTS (moments); i++)
    {
      g_autofree char *path = g_strconcat ("/natter/crash/kill-9/", moments[i].name, NULL);

      g_test_add (path, Fixture, &moments[i], fixture_set_up, test_moment, fixture_tear_down);
    }
  g_test_add ("/natter/crash/kill-9/crash-loop", Fixture, NULL, fixture_set_up, test_crash_loop,
              fixture_tear_down);

  return g_test_run ();
}
