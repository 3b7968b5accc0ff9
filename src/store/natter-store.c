/* natter-store.c — conversations kept in SQLite, across restarts and crashes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The database is the user's history: nothing here may lose it. Opening
 * only reads until the file is known to be a database this code
 * understands; a damaged, foreign, locked or newer file is reported and left
 * exactly as it was. Answers are checkpointed while they stream, so a crash
 * leaves a message in state "streaming": it is loaded as interrupted, and
 * marked so the next time the file is opened. Only messages that are not
 * streaming are in the search index.
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <sqlite3.h>

#include "natter-store.h"

/* Long enough to wait out another connection's short write, short enough
 * that a second instance holding the file is reported rather than hung on. */
#define BUSY_TIMEOUT_MS 1000

/* More results than anyone reads; the rest would only cost time. */
#define SEARCH_LIMIT 500

/* Ranking reads every match: a word in one message of ten is 100,000
 * matches in a history of a million, 150 ms, and "the" 1.4 s. Only the
 * most recent matches are ranked, so a search costs the same however long
 * the history grows. */
#define SEARCH_WINDOW 5000

struct _NatterStore
{
  GObject        parent_instance;

  char          *path;
  sqlite3       *db;
  sqlite3_stmt **statements;
};

G_DEFINE_FINAL_TYPE (NatterStore, natter_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (natter-store-error-quark, natter_store_error)

/* --- Schema -------------------------------------------------------------- */

/* migrations[i] takes the schema from version i to i + 1. Append only:
 * a released migration is never edited. */
static const char * const migrations[] = {
  "CREATE TABLE conversations ("
  "  id INTEGER PRIMARY KEY,"
  "  title TEXT,"
  "  system_prompt TEXT,"
  "  created_us INTEGER,"
  "  updated_us INTEGER);"
  "CREATE TABLE messages ("
  "  id INTEGER PRIMARY KEY,"
  "  conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,"
  "  position INTEGER,"
  "  role TEXT,"
  "  content TEXT,"
  "  reasoning TEXT,"
  "  state TEXT,"
  "  error TEXT,"
  "  model TEXT,"
  "  finish_reason TEXT,"
  "  ttft_us INTEGER,"
  "  duration_us INTEGER,"
  "  prompt_tokens INTEGER,"
  "  completion_tokens INTEGER,"
  "  updated_us INTEGER);"
  "CREATE INDEX messages_by_position ON messages(conversation_id, position);"
  "CREATE VIRTUAL TABLE messages_fts USING fts5("
  "  content, content='messages', content_rowid='id');"
  /* An external-content index must be told the old text to forget it. */
  "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
  "  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);"
  "END;"
  "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
  "  INSERT INTO messages_fts(messages_fts, rowid, content)"
  "    VALUES ('delete', old.id, old.content);"
  "END;"
  /* Checkpoints that only change the state or the stats skip the index. */
  "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages"
  "  WHEN old.content IS NOT new.content BEGIN"
  "  INSERT INTO messages_fts(messages_fts, rowid, content)"
  "    VALUES ('delete', old.id, old.content);"
  "  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);"
  "END;",

  /* 1 → 2: per-conversation sampling settings, and the index the history
   * list is read in (most recently used first). */
  "ALTER TABLE conversations ADD COLUMN temperature REAL;"
  "ALTER TABLE conversations ADD COLUMN max_tokens INTEGER;"
  "CREATE INDEX conversations_by_use ON conversations(updated_us DESC, id DESC);",

  /* 2 → 3: an answer is indexed for search once it has ended, not at each
   * checkpoint while it streams, where re-indexing the whole answer twice a
   * second cost 14 ms at 1 MB. The index reads its text through a view of
   * the messages that are not streaming, so that it and its content agree
   * (FTS5's integrity check and 'rebuild' see the same rows); an answer a
   * crash left streaming is indexed when it is marked interrupted, as the
   * file is next opened. Rebuilding takes about 10 s for a million
   * messages, once. */
  "DROP TRIGGER messages_fts_insert;"
  "DROP TRIGGER messages_fts_delete;"
  "DROP TRIGGER messages_fts_update;"
  "DROP TABLE messages_fts;"
  "CREATE VIEW searchable_messages AS"
  "  SELECT id, content FROM messages WHERE state IS NOT 'streaming';"
  "CREATE VIRTUAL TABLE messages_fts USING fts5("
  "  content, content='searchable_messages', content_rowid='id');"
  "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');"
  "CREATE INDEX messages_streaming ON messages(state) WHERE state = 'streaming';"
  "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages"
  "  WHEN new.state IS NOT 'streaming' BEGIN"
  "  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);"
  "END;"
  "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages"
  "  WHEN old.state IS NOT 'streaming' BEGIN"
  "  INSERT INTO messages_fts(messages_fts, rowid, content)"
  "    VALUES ('delete', old.id, old.content);"
  "END;"
  /* Leaves the index when its text changes or it starts streaming again
   * (Continue); enters it when its text changes or it stops streaming.
   * Checkpoints of a streaming answer do neither. */
  "CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, state ON messages BEGIN"
  "  INSERT INTO messages_fts(messages_fts, rowid, content)"
  "    SELECT 'delete', old.id, old.content"
  "    WHERE old.state IS NOT 'streaming'"
  "      AND (new.state IS 'streaming' OR old.content IS NOT new.content);"
  "  INSERT INTO messages_fts(rowid, content)"
  "    SELECT new.id, new.content"
  "    WHERE new.state IS NOT 'streaming'"
  "      AND (old.state IS 'streaming' OR old.content IS NOT new.content);"
  "END;",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == NATTER_STORE_SCHEMA_VERSION);

/* --- Statements ---------------------------------------------------------- */

typedef enum {
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_CREATE_CONVERSATION,
  STMT_TOUCH_CONVERSATION,
  STMT_APPEND_MESSAGE,
  STMT_UPDATE_MESSAGE,
  STMT_UPDATE_CONVERSATION,
  STMT_LIST_CONVERSATIONS,
  STMT_LOAD_CONVERSATION,
  STMT_LOAD_MESSAGES,
  STMT_SEARCH,
  STMT_DELETE_CONVERSATION,
  STMT_DELETE_MESSAGES_FROM,
  N_STATEMENTS
} StatementId;

static const char * const statement_sql[N_STATEMENTS] = {
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  [STMT_CREATE_CONVERSATION] =
    "INSERT INTO conversations (title, created_us, updated_us)"
    " VALUES (:title, :now, :now)",
  [STMT_TOUCH_CONVERSATION] =
    "UPDATE conversations SET updated_us = :now WHERE id = :conversation_id",
  /* Selecting from conversations inserts nothing for a conversation that
   * does not exist, which reads better than a foreign key failure. */
  [STMT_APPEND_MESSAGE] =
    "INSERT INTO messages (conversation_id, position, role, content,"
    " reasoning, state, error, model, finish_reason, ttft_us, duration_us,"
    " prompt_tokens, completion_tokens, updated_us)"
    " SELECT id,"
    "  (SELECT COALESCE (MAX (position) + 1, 0) FROM messages"
    "   WHERE conversation_id = :conversation_id),"
    "  :role, :content, :reasoning, :state, :error, :model, :finish_reason,"
    "  :ttft_us, :duration_us, :prompt_tokens, :completion_tokens, :now"
    " FROM conversations WHERE id = :conversation_id",
  [STMT_UPDATE_MESSAGE] =
    "UPDATE messages SET content = :content, reasoning = :reasoning,"
    " state = :state, error = :error, model = :model,"
    " finish_reason = :finish_reason, ttft_us = :ttft_us,"
    " duration_us = :duration_us, prompt_tokens = :prompt_tokens,"
    " completion_tokens = :completion_tokens, updated_us = :now"
    " WHERE id = :message_id",
  [STMT_UPDATE_CONVERSATION] =
    "UPDATE conversations SET title = :title, system_prompt = :system_prompt,"
    " temperature = :temperature, max_tokens = :max_tokens"
    " WHERE id = :conversation_id",
  [STMT_LIST_CONVERSATIONS] =
    "SELECT id, title, system_prompt, temperature, max_tokens FROM conversations"
    " ORDER BY updated_us DESC, id DESC",
  [STMT_LOAD_CONVERSATION] =
    "SELECT id, title, system_prompt, temperature, max_tokens FROM conversations"
    " WHERE id = :conversation_id",
  [STMT_LOAD_MESSAGES] =
    "SELECT role, content, reasoning, state, error, model, finish_reason,"
    " ttft_us, duration_us, prompt_tokens, completion_tokens, id"
    " FROM messages WHERE conversation_id = :conversation_id"
    " ORDER BY position",
  /* Positions are kept contiguous from 0 (messages are only ever appended
   * or cut from the end), so a message's position is its index in the
   * conversation. \x02 and \x03 mark the matched words in the snippet.
   * Message ids grow with time: the most recent :window matches are the
   * ones from the :window-th newest on, found without ranking anything. */
  [STMT_SEARCH] =
    "SELECT m.conversation_id, m.id, m.position, c.title,"
    " snippet(messages_fts, 0, char(2), char(3), '…', 12)"
    " FROM messages_fts"
    " JOIN messages AS m ON m.id = messages_fts.rowid"
    " JOIN conversations AS c ON c.id = m.conversation_id"
    " WHERE messages_fts MATCH :query"
    " AND messages_fts.rowid >= COALESCE ((SELECT rowid FROM messages_fts"
    "   WHERE messages_fts MATCH :query ORDER BY rowid DESC LIMIT 1 OFFSET :window - 1), 0)"
    " ORDER BY rank LIMIT :limit",
  [STMT_DELETE_CONVERSATION] =
    "DELETE FROM conversations WHERE id = :conversation_id",
  [STMT_DELETE_MESSAGES_FROM] =
    "DELETE FROM messages WHERE conversation_id = :conversation_id"
    " AND position >= :position",
};

/* A cached statement, reset and unbound when it goes out of scope so that
 * the next user finds it clean and no row stays locked. */
typedef sqlite3_stmt CachedStatement;

static void
cached_statement_release (CachedStatement *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CachedStatement, cached_statement_release)

/* --- Errors -------------------------------------------------------------- */

static NatterStoreError
error_code_for_result (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FORMAT:
      return NATTER_STORE_ERROR_CORRUPT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return NATTER_STORE_ERROR_LOCKED;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_FULL:
    case SQLITE_AUTH:
      return NATTER_STORE_ERROR_IO;
    default:
      return NATTER_STORE_ERROR_FAILED;
    }
}

static void
set_sqlite_error (GError     **error,
                  sqlite3     *db,
                  int          rc,
                  const char  *path)
{
  NatterStoreError code = error_code_for_result (rc);
  g_autofree char *name = g_filename_display_name (path);
  const char *detail = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);

  switch (code)
    {
    case NATTER_STORE_ERROR_CORRUPT:
      g_set_error (error, NATTER_STORE_ERROR, code,
                   _("The history file “%s” is damaged or is not a Natter history. "
                     "It was left untouched; move it away to start a new history."),
                   name);
      break;
    case NATTER_STORE_ERROR_LOCKED:
      g_set_error (error, NATTER_STORE_ERROR, code,
                   _("The history file “%s” is in use by another program. "
                     "Close other copies of Natter and try again."),
                   name);
      break;
    default:
      g_set_error (error, NATTER_STORE_ERROR, code,
                   _("The history file “%s” could not be read or saved: %s."),
                   name, detail);
      break;
    }
}

static void
set_not_found (GError **error)
{
  g_set_error_literal (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_NOT_FOUND,
                       _("This conversation or message is no longer in the history."));
}

/* --- Helpers ------------------------------------------------------------- */

static sqlite3_stmt *
get_statement (NatterStore  *self,
               StatementId   id,
               GError      **error)
{
  int rc;

  if (self->statements[id] != NULL)
    return self->statements[id];

  rc = sqlite3_prepare_v3 (self->db, statement_sql[id], -1,
                           SQLITE_PREPARE_PERSISTENT, &self->statements[id], NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, self->db, rc, self->path);
      return NULL;
    }
  return self->statements[id];
}

static void
bind_int64 (sqlite3_stmt *stmt,
            const char   *name,
            gint64        value)
{
  int index = sqlite3_bind_parameter_index (stmt, name);

  if (index > 0)
    sqlite3_bind_int64 (stmt, index, value);
}

static void
bind_text (sqlite3_stmt *stmt,
           const char   *name,
           const char   *value)
{
  int index = sqlite3_bind_parameter_index (stmt, name);

  if (index <= 0)
    return;
  if (value == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, value, -1, SQLITE_TRANSIENT);
}

static void
bind_double (sqlite3_stmt *stmt,
             const char   *name,
             double        value)
{
  int index = sqlite3_bind_parameter_index (stmt, name);

  if (index > 0)
    sqlite3_bind_double (stmt, index, value);
}

static void
bind_null (sqlite3_stmt *stmt,
           const char   *name)
{
  int index = sqlite3_bind_parameter_index (stmt, name);

  if (index > 0)
    sqlite3_bind_null (stmt, index);
}

static gboolean
step_done (NatterStore   *self,
           sqlite3_stmt  *stmt,
           GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_DONE)
    return TRUE;
  set_sqlite_error (error, self->db, rc, self->path);
  return FALSE;
}

static gboolean
run_statement (NatterStore  *self,
               StatementId   id,
               GError      **error)
{
  g_autoptr(CachedStatement) stmt = get_statement (self, id, error);

  return stmt != NULL && step_done (self, stmt, error);
}

static void
rollback (NatterStore *self)
{
  g_autoptr(GError) error = NULL;

  if (!run_statement (self, STMT_ROLLBACK, &error))
    g_debug ("Could not roll back: %s", error->message);
}

static const char *
enum_to_nick (GType type,
              int   value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *enum_value = g_enum_get_value (klass, value);

  /* Nicks are static strings of the registered type, valid after unref. */
  return enum_value != NULL ? enum_value->value_nick : NULL;
}

static gboolean
enum_from_nick (GType       type,
                const char *nick,
                int        *value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *enum_value = nick != NULL ? g_enum_get_value_by_nick (klass, nick) : NULL;

  if (enum_value == NULL)
    return FALSE;
  *value = enum_value->value;
  return TRUE;
}

/* --- Opening ------------------------------------------------------------- */

static gboolean
exec_sql (sqlite3     *db,
          const char  *sql,
          const char  *path,
          GError     **error)
{
  int rc = sqlite3_exec (db, sql, NULL, NULL, NULL);

  if (rc == SQLITE_OK)
    return TRUE;
  set_sqlite_error (error, db, rc, path);
  return FALSE;
}

/* Reading the version makes SQLite read the header and the schema, which is
 * where a foreign or damaged file shows itself. Nothing is written. */
static gboolean
read_schema_version (sqlite3     *db,
                     const char  *path,
                     int         *version,
                     GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_prepare_v2 (db, "SELECT (SELECT user_version FROM pragma_user_version),"
                               " (SELECT count(*) FROM sqlite_schema)", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *version = sqlite3_column_int (stmt, 0);
  else
    set_sqlite_error (error, db, rc, path);
  sqlite3_finalize (stmt);
  return rc == SQLITE_ROW;
}

static gboolean
check_not_newer (int          version,
                 const char  *path,
                 GError     **error)
{
  g_autofree char *name = NULL;

  if (version <= NATTER_STORE_SCHEMA_VERSION)
    return TRUE;
  name = g_filename_display_name (path);
  g_set_error (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_NEWER_SCHEMA,
               _("The history file “%s” was saved by a newer version of Natter. "
                 "Update Natter to open it; it was left untouched."),
               name);
  return FALSE;
}

static gboolean
apply_migrations (sqlite3     *db,
                  const char  *path,
                  GError     **error)
{
  g_autofree char *set_version = NULL;
  int version = 0;

  if (!exec_sql (db, "BEGIN IMMEDIATE", path, error))
    return FALSE;
  /* Read again under the write lock: another instance may have migrated. */
  if (!read_schema_version (db, path, &version, error) ||
      !check_not_newer (version, path, error))
    goto fail;
  for (; version < NATTER_STORE_SCHEMA_VERSION; version++)
    if (!exec_sql (db, migrations[version], path, error))
      goto fail;
  set_version = g_strdup_printf ("PRAGMA user_version = %d", NATTER_STORE_SCHEMA_VERSION);
  if (exec_sql (db, set_version, path, error) && exec_sql (db, "COMMIT", path, error))
    return TRUE;

fail:
  sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

static gboolean
prepare_database (sqlite3     *db,
                  const char  *path,
                  GError     **error)
{
  int version = 0;

  sqlite3_extended_result_codes (db, TRUE);
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);

  if (!read_schema_version (db, path, &version, error) ||
      !check_not_newer (version, path, error))
    return FALSE;

  /* Only now that the file is known to be ours may it be written to:
   * switching to WAL rewrites the header. */
  if (!exec_sql (db, "PRAGMA foreign_keys = ON", path, error) ||
      !exec_sql (db, "PRAGMA journal_mode = WAL", path, error) ||
      !exec_sql (db, "PRAGMA synchronous = NORMAL", path, error))
    return FALSE;

  if (version < NATTER_STORE_SCHEMA_VERSION)
    return apply_migrations (db, path, error);
  return TRUE;
}

/* An answer still "streaming" in the file was cut off by a crash, or is
 * being written by another instance this very moment (whose next
 * checkpoint writes its state again). Marking it interrupted is what
 * loading would show anyway, and puts its text in the search index. It is
 * not worth waiting for: with the file busy or read-only, it is done at a
 * later opening. */
static void
mark_interrupted_answers (sqlite3 *db)
{
  int rc;

  sqlite3_busy_timeout (db, 0);
  rc = sqlite3_exec (db, "UPDATE messages SET state = 'interrupted'"
                         " WHERE state = 'streaming'", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    g_debug ("Interrupted answers not marked yet: %s", sqlite3_errmsg (db));
  sqlite3_busy_timeout (db, BUSY_TIMEOUT_MS);
}

static gboolean
make_parent_directory (const char  *path,
                       GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *name = NULL;
  int saved_errno;

  if (g_mkdir_with_parents (dir, 0700) == 0)
    return TRUE;
  saved_errno = errno;
  name = g_filename_display_name (dir);
  g_set_error (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_IO,
               _("The folder “%s” for the history could not be created: %s."),
               name, g_strerror (saved_errno));
  return FALSE;
}

/* --- GObject ------------------------------------------------------------- */

static void
natter_store_finalize (GObject *object)
{
  NatterStore *self = NATTER_STORE (object);

  for (guint i = 0; i < N_STATEMENTS; i++)
    sqlite3_finalize (self->statements[i]);
  g_free (self->statements);
  sqlite3_close (self->db);
  g_free (self->path);

  G_OBJECT_CLASS (natter_store_parent_class)->finalize (object);
}

static void
natter_store_class_init (NatterStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natter_store_finalize;
}

static void
natter_store_init (NatterStore *self)
{
  self->statements = g_new0 (sqlite3_stmt *, N_STATEMENTS);
}

/**
 * natter_store_dup_default_path:
 *
 * Where the app and natter-cli keep the history: history.db in the
 * "natter" folder of the user's data directory (~/.local/share by default).
 *
 * Returns: (transfer full): the path
 */
char *
natter_store_dup_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "natter", "history.db", NULL);
}

/**
 * natter_store_open:
 * @path: the database file; it and its folder are created if missing
 *
 * Opens the history, bringing its schema up to date. Fails with
 * %NATTER_STORE_ERROR_NEWER_SCHEMA, %NATTER_STORE_ERROR_CORRUPT,
 * %NATTER_STORE_ERROR_LOCKED or %NATTER_STORE_ERROR_IO, leaving the file
 * unchanged.
 *
 * Returns: (transfer full) (nullable): the store, or %NULL on error
 */
NatterStore *
natter_store_open (const char  *path,
                   GError     **error)
{
  NatterStore *self;
  sqlite3 *db = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!make_parent_directory (path, error))
    return NULL;

  rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK)
    set_sqlite_error (error, db, rc, path);
  if (rc != SQLITE_OK || !prepare_database (db, path, error))
    {
      sqlite3_close (db);
      return NULL;
    }
  mark_interrupted_answers (db);

  self = g_object_new (NATTER_TYPE_STORE, NULL);
  self->db = db;
  self->path = g_strdup (path);
  return self;
}

/* --- Writing ------------------------------------------------------------- */

/**
 * natter_store_create_conversation:
 * @title: (nullable): what the history list shows
 *
 * Returns: the new conversation's id, or 0 on error
 */
gint64
natter_store_create_conversation (NatterStore  *self,
                                  const char   *title,
                                  GError      **error)
{
  g_autoptr(CachedStatement) stmt = NULL;

  g_return_val_if_fail (NATTER_IS_STORE (self), 0);

  stmt = get_statement (self, STMT_CREATE_CONVERSATION, error);
  if (stmt == NULL)
    return 0;
  bind_text (stmt, ":title", title);
  bind_int64 (stmt, ":now", g_get_real_time ());
  if (!step_done (self, stmt, error))
    return 0;
  return sqlite3_last_insert_rowid (self->db);
}

/* The provider's defaults are stored as NULL, not as their markers. */
static void
bind_settings (sqlite3_stmt       *stmt,
               NatterConversation *conversation)
{
  double temperature = natter_conversation_get_temperature (conversation);
  guint max_tokens = natter_conversation_get_max_tokens (conversation);

  bind_text (stmt, ":title", natter_conversation_get_title (conversation));
  bind_text (stmt, ":system_prompt", natter_conversation_get_system_prompt (conversation));
  if (temperature >= 0)
    bind_double (stmt, ":temperature", temperature);
  else
    bind_null (stmt, ":temperature");
  if (max_tokens > 0)
    bind_int64 (stmt, ":max_tokens", max_tokens);
  else
    bind_null (stmt, ":max_tokens");
}

/**
 * natter_store_save_conversation:
 *
 * Saves the title and settings of @conversation (not its messages). One
 * that was never saved is created first, and gets its id.
 *
 * Returns: %TRUE if saved
 */
gboolean
natter_store_save_conversation (NatterStore         *self,
                                NatterConversation  *conversation,
                                GError             **error)
{
  g_autoptr(CachedStatement) stmt = NULL;
  gint64 id;

  g_return_val_if_fail (NATTER_IS_STORE (self), FALSE);
  g_return_val_if_fail (NATTER_IS_CONVERSATION (conversation), FALSE);

  id = natter_conversation_get_id (conversation);
  if (id == 0)
    {
      id = natter_store_create_conversation (self, NULL, error);
      if (id == 0)
        return FALSE;
      natter_conversation_set_id (conversation, id);
    }

  stmt = get_statement (self, STMT_UPDATE_CONVERSATION, error);
  if (stmt == NULL)
    return FALSE;
  bind_settings (stmt, conversation);
  bind_int64 (stmt, ":conversation_id", id);
  if (!step_done (self, stmt, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    {
      set_not_found (error);
      return FALSE;
    }
  return TRUE;
}

static void
bind_message (sqlite3_stmt  *stmt,
              NatterMessage *message)
{
  const GError *message_error = natter_message_get_error (message);

  bind_text (stmt, ":content", natter_message_get_content (message));
  bind_text (stmt, ":reasoning", natter_message_get_reasoning (message));
  bind_text (stmt, ":state", enum_to_nick (NATTER_TYPE_MESSAGE_STATE,
                                           natter_message_get_state (message)));
  bind_text (stmt, ":error", message_error != NULL ? message_error->message : NULL);
  bind_text (stmt, ":model", natter_message_get_model (message));
  bind_text (stmt, ":finish_reason", natter_message_get_finish_reason (message));
  bind_int64 (stmt, ":ttft_us", natter_message_get_ttft_us (message));
  bind_int64 (stmt, ":duration_us", natter_message_get_duration_us (message));
  bind_int64 (stmt, ":prompt_tokens", natter_message_get_prompt_tokens (message));
  bind_int64 (stmt, ":completion_tokens", natter_message_get_completion_tokens (message));
  bind_int64 (stmt, ":now", g_get_real_time ());
}

static gint64
insert_message (NatterStore    *self,
                gint64          conversation_id,
                NatterMessage  *message,
                GError        **error)
{
  g_autoptr(CachedStatement) stmt = get_statement (self, STMT_APPEND_MESSAGE, error);

  if (stmt == NULL)
    return 0;
  bind_message (stmt, message);
  bind_int64 (stmt, ":conversation_id", conversation_id);
  bind_text (stmt, ":role", natter_role_to_string (natter_message_get_role (message)));
  if (!step_done (self, stmt, error))
    return 0;
  if (sqlite3_changes (self->db) == 0)
    {
      set_not_found (error);
      return 0;
    }
  return sqlite3_last_insert_rowid (self->db);
}

static gboolean
touch_conversation (NatterStore  *self,
                    gint64        conversation_id,
                    GError      **error)
{
  g_autoptr(CachedStatement) stmt = get_statement (self, STMT_TOUCH_CONVERSATION, error);

  if (stmt == NULL)
    return FALSE;
  bind_int64 (stmt, ":conversation_id", conversation_id);
  bind_int64 (stmt, ":now", g_get_real_time ());
  return step_done (self, stmt, error);
}

/**
 * natter_store_append_message:
 *
 * Saves @message after the last message of the conversation, and marks
 * the conversation as just used.
 *
 * Returns: the message's id, for natter_store_update_message(), or 0 on error
 */
gint64
natter_store_append_message (NatterStore    *self,
                             gint64          conversation_id,
                             NatterMessage  *message,
                             GError        **error)
{
  gint64 id;

  g_return_val_if_fail (NATTER_IS_STORE (self), 0);
  g_return_val_if_fail (NATTER_IS_MESSAGE (message), 0);

  if (!run_statement (self, STMT_BEGIN, error))
    return 0;
  id = insert_message (self, conversation_id, message, error);
  if (id != 0 &&
      touch_conversation (self, conversation_id, error) &&
      run_statement (self, STMT_COMMIT, error))
    return id;
  rollback (self);
  return 0;
}

/**
 * natter_store_update_message:
 * @message_id: as returned by natter_store_append_message()
 *
 * The checkpoint of a streaming answer, and its final save: writes the
 * text, reasoning, state, error and stats of @message.
 *
 * Returns: %TRUE if saved
 */
gboolean
natter_store_update_message (NatterStore    *self,
                             gint64          message_id,
                             NatterMessage  *message,
                             GError        **error)
{
  g_autoptr(CachedStatement) stmt = NULL;

  g_return_val_if_fail (NATTER_IS_STORE (self), FALSE);
  g_return_val_if_fail (NATTER_IS_MESSAGE (message), FALSE);

  stmt = get_statement (self, STMT_UPDATE_MESSAGE, error);
  if (stmt == NULL)
    return FALSE;
  bind_message (stmt, message);
  bind_int64 (stmt, ":message_id", message_id);
  if (!step_done (self, stmt, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    {
      set_not_found (error);
      return FALSE;
    }
  return TRUE;
}

/**
 * natter_store_delete_conversation:
 *
 * Deletes the conversation with its messages and their search index entries.
 *
 * Returns: %TRUE if deleted
 */
gboolean
natter_store_delete_conversation (NatterStore  *self,
                                  gint64        conversation_id,
                                  GError      **error)
{
  g_autoptr(CachedStatement) stmt = NULL;

  g_return_val_if_fail (NATTER_IS_STORE (self), FALSE);

  stmt = get_statement (self, STMT_DELETE_CONVERSATION, error);
  if (stmt == NULL)
    return FALSE;
  bind_int64 (stmt, ":conversation_id", conversation_id);
  if (!step_done (self, stmt, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    {
      set_not_found (error);
      return FALSE;
    }
  return TRUE;
}

/**
 * natter_store_delete_messages_from:
 * @position: the first message to delete; the ones after it go too
 *
 * Cuts a conversation short, to regenerate an answer or resend an edited
 * message. Deleting nothing is not an error.
 *
 * Returns: %TRUE on success
 */
gboolean
natter_store_delete_messages_from (NatterStore  *self,
                                   gint64        conversation_id,
                                   guint         position,
                                   GError      **error)
{
  g_autoptr(CachedStatement) stmt = NULL;

  g_return_val_if_fail (NATTER_IS_STORE (self), FALSE);

  stmt = get_statement (self, STMT_DELETE_MESSAGES_FROM, error);
  if (stmt == NULL)
    return FALSE;
  bind_int64 (stmt, ":conversation_id", conversation_id);
  bind_int64 (stmt, ":position", position);
  return step_done (self, stmt, error);
}

/* --- Reading ------------------------------------------------------------- */

static const char *
column_text (sqlite3_stmt *stmt,
             int           column)
{
  return (const char *) sqlite3_column_text (stmt, column);
}

/* The error's domain and code are not kept, only what the user was told. */
static void
restore_error (NatterMessage *message,
               const char    *text)
{
  g_autoptr(GError) error = NULL;

  if (text == NULL)
    return;
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, text);
  natter_message_set_error (message, error);
}

static NatterMessage *
message_from_row (NatterStore   *self,
                  sqlite3_stmt  *stmt,
                  GError       **error)
{
  g_autoptr(NatterMessage) message = NULL;
  int role, state;

  if (!enum_from_nick (NATTER_TYPE_ROLE, column_text (stmt, 0), &role) ||
      !enum_from_nick (NATTER_TYPE_MESSAGE_STATE, column_text (stmt, 3), &state))
    {
      set_sqlite_error (error, NULL, SQLITE_CORRUPT, self->path);
      return NULL;
    }
  /* Still streaming in the file means Natter stopped before the answer did. */
  if (state == NATTER_MESSAGE_STATE_STREAMING)
    state = NATTER_MESSAGE_STATE_INTERRUPTED;

  message = natter_message_new (role, column_text (stmt, 1));
  natter_message_set_reasoning (message, column_text (stmt, 2));
  natter_message_set_state (message, state);
  restore_error (message, column_text (stmt, 4));
  natter_message_set_model (message, column_text (stmt, 5));
  natter_message_set_finish_reason (message, column_text (stmt, 6));
  natter_message_set_ttft_us (message, sqlite3_column_int64 (stmt, 7));
  natter_message_set_duration_us (message, sqlite3_column_int64 (stmt, 8));
  natter_message_set_prompt_tokens (message, sqlite3_column_int64 (stmt, 9));
  natter_message_set_completion_tokens (message, sqlite3_column_int64 (stmt, 10));
  return g_steal_pointer (&message);
}

/**
 * natter_store_load_messages:
 * @message_ids: (out) (optional) (element-type gint64): the messages' ids,
 *   in the same order, for natter_store_update_message()
 *
 * Loads the messages of a conversation, in order. An answer that was
 * streaming when Natter stopped comes back as
 * %NATTER_MESSAGE_STATE_INTERRUPTED with the text saved so far.
 *
 * Returns: (transfer full) (element-type NatterMessage) (nullable): the
 *   messages, or %NULL on error
 */
GPtrArray *
natter_store_load_messages (NatterStore  *self,
                            gint64        conversation_id,
                            GArray      **message_ids,
                            GError      **error)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(CachedStatement) stmt = NULL;
  int rc;

  g_return_val_if_fail (NATTER_IS_STORE (self), NULL);

  stmt = get_statement (self, STMT_LOAD_MESSAGES, error);
  if (stmt == NULL)
    return NULL;
  bind_int64 (stmt, ":conversation_id", conversation_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      NatterMessage *message = message_from_row (self, stmt, error);
      gint64 id = sqlite3_column_int64 (stmt, 11);

      if (message == NULL)
        return NULL;
      g_ptr_array_add (messages, message);
      g_array_append_val (ids, id);
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, self->path);
      return NULL;
    }
  if (message_ids != NULL)
    *message_ids = g_steal_pointer (&ids);
  return g_steal_pointer (&messages);
}

/* Columns: id, title, system_prompt, temperature, max_tokens. */
static NatterConversation *
conversation_from_row (sqlite3_stmt *stmt)
{
  NatterConversation *conversation = natter_conversation_new ();

  natter_conversation_set_id (conversation, sqlite3_column_int64 (stmt, 0));
  natter_conversation_set_title (conversation, column_text (stmt, 1));
  natter_conversation_set_system_prompt (conversation, column_text (stmt, 2));
  if (sqlite3_column_type (stmt, 3) != SQLITE_NULL)
    natter_conversation_set_temperature (conversation, sqlite3_column_double (stmt, 3));
  natter_conversation_set_max_tokens (conversation, CLAMP (sqlite3_column_int64 (stmt, 4), 0, G_MAXUINT));
  return conversation;
}

static NatterConversation *
load_header (NatterStore  *self,
             gint64        conversation_id,
             GError      **error)
{
  g_autoptr(CachedStatement) stmt = get_statement (self, STMT_LOAD_CONVERSATION, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  bind_int64 (stmt, ":conversation_id", conversation_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return conversation_from_row (stmt);
  if (rc == SQLITE_DONE)
    set_not_found (error);
  else
    set_sqlite_error (error, self->db, rc, self->path);
  return NULL;
}

/**
 * natter_store_load_conversation:
 *
 * Loads a conversation with its settings and its messages, as
 * natter_store_load_messages() does.
 *
 * Returns: (transfer full) (nullable): the conversation, or %NULL on error
 */
NatterConversation *
natter_store_load_conversation (NatterStore  *self,
                                gint64        conversation_id,
                                GError      **error)
{
  g_autoptr(NatterConversation) conversation = NULL;
  g_autoptr(GPtrArray) messages = NULL;

  g_return_val_if_fail (NATTER_IS_STORE (self), NULL);

  conversation = load_header (self, conversation_id, error);
  if (conversation == NULL)
    return NULL;
  messages = natter_store_load_messages (self, conversation_id, NULL, error);
  if (messages == NULL)
    return NULL;
  natter_conversation_append_all (conversation, messages);
  return g_steal_pointer (&conversation);
}

/**
 * natter_store_list_conversations:
 *
 * The conversations with their titles and settings but without their
 * messages, most recently used first.
 *
 * Returns: (transfer full) (element-type NatterConversation) (nullable):
 *   the conversations, or %NULL on error
 */
GPtrArray *
natter_store_list_conversations (NatterStore  *self,
                                 GError      **error)
{
  g_autoptr(GPtrArray) conversations = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(CachedStatement) stmt = NULL;
  int rc;

  g_return_val_if_fail (NATTER_IS_STORE (self), NULL);

  stmt = get_statement (self, STMT_LIST_CONVERSATIONS, error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (conversations, conversation_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, self->path);
      return NULL;
    }
  return g_steal_pointer (&conversations);
}

/* --- Search -------------------------------------------------------------- */

static gboolean
has_word_character (const char *word)
{
  for (const char *p = word; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_isalnum (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

/* The user types words, not FTS5 syntax: each word becomes a quoted phrase
 * (quotes doubled inside), so AND, NEAR(, * and " are just text. Words
 * without a letter or digit would be empty phrases, and are dropped.
 * Returns NULL when nothing is left to look for. */
static char *
fts_query_for_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_auto(GStrv) words = g_strsplit_set (valid, " \t\n\r\f\v", -1);
  GString *query = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (!has_word_character (words[i]))
        continue;
      if (query->len > 0)
        g_string_append_c (query, ' ');
      g_string_append_c (query, '"');
      for (const char *p = words[i]; *p != '\0'; p++)
        {
          if (*p == '"')
            g_string_append_c (query, '"');
          g_string_append_c (query, *p);
        }
      g_string_append_c (query, '"');
    }
  return g_string_free (query, query->len == 0);
}

static void
store_match_clear (gpointer data)
{
  NatterStoreMatch *match = data;

  g_free (match->title);
  g_free (match->snippet);
}

/**
 * natter_store_search:
 * @query: what the user typed; all of its words must appear
 *
 * Returns: (transfer full) (element-type NatterStoreMatch) (nullable): the
 *   matching messages, best first, at most 500 of them, from the 5,000
 *   most recent matches; empty for an empty query; %NULL on error
 */
GArray *
natter_store_search (NatterStore  *self,
                     const char   *query,
                     GError      **error)
{
  g_autoptr(GArray) matches = g_array_new (FALSE, FALSE, sizeof (NatterStoreMatch));
  g_autoptr(CachedStatement) stmt = NULL;
  g_autofree char *fts_query = NULL;
  int rc;

  g_return_val_if_fail (NATTER_IS_STORE (self), NULL);

  g_array_set_clear_func (matches, store_match_clear);
  fts_query = fts_query_for_text (query != NULL ? query : "");
  if (fts_query == NULL)
    return g_steal_pointer (&matches);

  stmt = get_statement (self, STMT_SEARCH, error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, ":query", fts_query);
  bind_int64 (stmt, ":limit", SEARCH_LIMIT);
  bind_int64 (stmt, ":window", SEARCH_WINDOW);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      NatterStoreMatch match = {
        .conversation_id = sqlite3_column_int64 (stmt, 0),
        .message_id = sqlite3_column_int64 (stmt, 1),
        .position = CLAMP (sqlite3_column_int64 (stmt, 2), 0, G_MAXUINT),
        .title = g_strdup (column_text (stmt, 3)),
        .snippet = g_strdup (column_text (stmt, 4)),
      };
      g_array_append_val (matches, match);
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, self->path);
      return NULL;
    }
  return g_steal_pointer (&matches);
}
