/* test-key-hygiene.c — the API key goes to its provider and nowhere else
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The key must never reach a log (even with G_MESSAGES_DEBUG=all, libsoup
 * and GIO included), the history database, an error message, an export,
 * nor another origin after a redirect. Every log message of the process is
 * captured by a writer function installed before anything logs; natter-cli,
 * when $NATTER_CLI names it, is run with full debug output and its output
 * searched too.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "natter-api-error.h"
#include "natter-conversation-export.h"
#include "natter-fake-provider.h"
#include "natter-history.h"
#include "natter-store.h"
#include "natter-test-util.h"

/* With an underscore, which the Markdown export would escape. */
#define KEY     "sk-hygiene_7c1e94b0a25d4f38"
#define MODEL   "natter-fake-1"
#define WAIT_MS 20000

/* --- Every log message --------------------------------------------------- */

static GMutex     log_lock;
static GPtrArray *log_lines;   /* every field of every message, as text */
static guint      n_debug_lines;

static GLogWriterOutput
capture_writer (GLogLevelFlags   log_level,
                const GLogField *fields,
                gsize            n_fields,
                gpointer         user_data)
{
  GString *line = g_string_new (NULL);

  for (gsize i = 0; i < n_fields; i++)
    {
      g_string_append_printf (line, "%s=", fields[i].key);
      if (fields[i].length < 0)
        g_string_append (line, fields[i].value);
      else
        g_string_append_len (line, fields[i].value, fields[i].length);
      g_string_append_c (line, ' ');
    }

  /* GIO's resolver logs from its own threads. */
  g_mutex_lock (&log_lock);
  g_ptr_array_add (log_lines, line);
  if (log_level & G_LOG_LEVEL_DEBUG)
    n_debug_lines++;
  g_mutex_unlock (&log_lock);

  /* Warnings still show (and are fatal in the test environment); the
   * debug flood stays out of the TAP output. */
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_default (log_level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

/* Messages logged with g_log() rather than structured go to the default
 * handler, which g_test_init() replaces with one that prints them as TAP
 * comments: they are captured here, then passed on to it. */
static GLogFunc default_handler;

static void
capture_handler (const char     *log_domain,
                 GLogLevelFlags  log_level,
                 const char     *message,
                 gpointer        user_data)
{
  GString *line = g_string_new (NULL);

  g_string_append_printf (line, "GLIB_DOMAIN=%s MESSAGE=%s", log_domain != NULL ? log_domain : "",
                          message);
  g_mutex_lock (&log_lock);
  g_ptr_array_add (log_lines, line);
  if (log_level & G_LOG_LEVEL_DEBUG)
    n_debug_lines++;
  g_mutex_unlock (&log_lock);

  /* As with the writer: no debug flood in the TAP output. */
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    default_handler (log_domain, log_level, message, user_data);
}

/* Logs and files may hold bytes that are not text. */
static gboolean
contains (const char *haystack,
          gsize       length,
          const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= length; i++)
    if (memcmp (haystack + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static void
free_line (gpointer line)
{
  g_string_free (line, TRUE);
}

/* No captured message holds @secret; returns how many were looked at. */
static guint
assert_logs_free_of (const char *secret)
{
  guint n;

  g_mutex_lock (&log_lock);
  n = log_lines->len;
  for (guint i = 0; i < log_lines->len; i++)
    {
      GString *line = g_ptr_array_index (log_lines, i);

      if (contains (line->str, line->len, secret))
        g_error ("A log message holds the key: %s", line->str);
      if (g_test_verbose ())
        g_test_message ("log: %s", line->str);
    }
  g_mutex_unlock (&log_lock);
  return n;
}

/* --- Fixture ----------------------------------------------------------------- */

typedef struct {
  char               *dir;
  char               *path;
  NatterFakeProvider *provider;
  char               *base_url;
  NatterClient       *client;
  NatterStore        *store;
  NatterHistory      *history;

  gboolean            done;
  NatterMessage      *result;
  GError             *error;
  GStrv               models;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("natter-key-hygiene-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "natter.db", NULL);
  f->store = natter_store_open (f->path, &error);
  g_assert_no_error (error);
  f->history = natter_history_new (f->store, &error);
  g_assert_no_error (error);

  f->provider = natter_fake_provider_new ();
  g_assert_true (natter_fake_provider_listen (f->provider, 0, &error));
  f->base_url = natter_fake_provider_dup_base_url (f->provider);
  f->client = natter_client_new (f->base_url, KEY);
  natter_client_set_max_retries (f->client, 1);
  natter_client_set_retry_base_ms (f->client, 10);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->history);
  g_assert_finalize_object (f->store);
  g_clear_object (&f->result);
  g_clear_error (&f->error);
  g_clear_pointer (&f->models, g_strfreev);
  g_assert_finalize_object (f->client);
  g_assert_finalize_object (f->provider);
  natter_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
  g_free (f->base_url);
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
iterate_until_done (Fixture *f)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (WAIT_MS, set_flag_cb, &timed_out);

  while (!f->done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (f->done);
  g_source_remove (id);
}

static void
send_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Fixture *f = user_data;

  f->result = natter_conversation_send_finish (NATTER_CONVERSATION (source), result, &f->error);
  f->done = TRUE;
}

static void
send (Fixture            *f,
      NatterClient       *client,
      NatterConversation *conversation,
      const char         *text)
{
  g_clear_object (&f->result);
  g_clear_error (&f->error);
  f->done = FALSE;
  natter_conversation_send_async (conversation, client, MODEL, text, NULL, send_done_cb, f);
  iterate_until_done (f);
}

static void
models_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Fixture *f = user_data;

  f->models = natter_client_list_models_finish (NATTER_CLIENT (source), result, &f->error);
  f->done = TRUE;
}

static void
list_models (Fixture      *f,
             NatterClient *client)
{
  g_clear_pointer (&f->models, g_strfreev);
  g_clear_error (&f->error);
  f->done = FALSE;
  natter_client_list_models_async (client, NULL, models_done_cb, f);
  iterate_until_done (f);
}

/* A 401 whose body quotes the key back, as some servers do. */
static NatterFakeScript *
echoing_unauthorized (void)
{
  NatterFakeScript *script = natter_fake_script_new (401);

  natter_fake_script_set_body (script, "{\"error\":{\"message\":\"Incorrect API key provided: " KEY
                                       ". You can find your key at https://example.com.\","
                                       "\"code\":\"invalid_api_key\"}}");
  return script;
}

/* The same, inside the stream, after some text. */
static NatterFakeScript *
echoing_stream_error (void)
{
  NatterFakeScript *script = natter_fake_script_new (200);

  natter_fake_script_add_content (script, "Partial ");
  natter_fake_script_add_error_chunk (script, "Key " KEY " is over its budget");
  return script;
}

static char *
file_contents (const char *path,
               gsize      *length)
{
  char *contents = NULL;

  *length = 0;
  if (!g_file_get_contents (path, &contents, length, NULL))
    return NULL;
  return contents;
}

/* Neither the database nor its journal holds @secret. */
static void
assert_files_free_of (Fixture    *f,
                      const char *secret)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;
  guint n_files = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      gsize length;
      g_autofree char *contents = file_contents (path, &length);

      if (contents == NULL)
        continue;
      n_files++;
      if (contains (contents, length, secret))
        g_error ("%s holds the key", name);
    }
  g_assert_cmpuint (n_files, >, 0);
}

/* --- Logs ---------------------------------------------------------------------- */

/* A successful answer, the model list, and errors of every kind: none of
 * it logs the key, with every debug message on. */
static void
test_logs (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autoptr(NatterFakeScript) unauthorized = echoing_unauthorized ();
  g_autoptr(NatterFakeScript) stream_error = echoing_stream_error ();
  g_autoptr(NatterFakeScript) hang_up = natter_fake_script_new (200);
  g_autoptr(NatterFakeScript) models_unauthorized = echoing_unauthorized ();
  guint before_debug = n_debug_lines;
  guint n_checked;

  g_debug ("key-hygiene: the capture sees debug messages");

  send (f, f->client, conversation, "Hello");
  g_assert_no_error (f->error);
  list_models (f, f->client);
  g_assert_no_error (f->error);
  g_assert_cmpstr (f->models[0], ==, "natter-fake-1");

  /* The server got the key: the searches below can fail. */
  g_assert_cmpstr (soup_message_headers_get_one (natter_fake_provider_get_request (f->provider, 0)->headers,
                                                 "Authorization"), ==, "Bearer " KEY);

  natter_fake_provider_queue (f->provider, unauthorized);
  send (f, f->client, conversation, "Again");
  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED);
  g_assert_null (strstr (f->error->message, KEY));

  natter_fake_provider_queue (f->provider, stream_error);
  send (f, f->client, conversation, "And again");
  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER);
  g_assert_null (strstr (f->error->message, KEY));

  natter_fake_script_add_content (hang_up, "Cut ");
  natter_fake_script_set_ending (hang_up, NATTER_FAKE_ENDING_HANG_UP);
  natter_fake_provider_queue (f->provider, hang_up);
  send (f, f->client, conversation, "Once more");
  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_TRUNCATED);

  natter_fake_provider_queue_models (f->provider, models_unauthorized);
  list_models (f, f->client);
  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED);
  g_assert_null (strstr (f->error->message, KEY));

  natter_history_flush (f->history);
  n_checked = assert_logs_free_of (KEY);
  g_test_message ("%u log messages looked at, %u of them debug", n_checked, n_debug_lines);
  /* The capture works: debug messages reached it, GIO's among them. */
  g_assert_cmpuint (n_debug_lines, >, before_debug + 1);
  assert_files_free_of (f, KEY);
}

/* The key is write-only: no readable property of the client holds it. */
static void
test_properties (Fixture       *f,
                 gconstpointer  data)
{
  guint n_properties;
  g_autofree GParamSpec **properties = g_object_class_list_properties (G_OBJECT_GET_CLASS (f->client),
                                                                     &n_properties);

  for (guint i = 0; i < n_properties; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_auto(GValue) text = G_VALUE_INIT;

      if (!(properties[i]->flags & G_PARAM_READABLE))
        {
          g_assert_cmpstr (properties[i]->name, ==, "api-key");
          continue;
        }
      g_value_init (&value, properties[i]->value_type);
      g_object_get_property (G_OBJECT (f->client), properties[i]->name, &value);
      g_value_init (&text, G_TYPE_STRING);
      if (g_value_transform (&value, &text) && g_value_get_string (&text) != NULL)
        g_assert_null (strstr (g_value_get_string (&text), KEY));
    }
}

/* --- Exports ---------------------------------------------------------------------- */

static void
assert_export_clean (Fixture    *f,
                     const char *export,
                     gboolean    markdown)
{
  g_autofree char *unescaped = NULL;
  g_autofree char *host = g_strdup_printf ("127.0.0.1:%u", natter_fake_provider_get_port (f->provider));

  g_assert_nonnull (export);
  /* Markdown escapes "_" and such: look at the text as a reader sees it. */
  if (markdown)
    {
      GString *text = g_string_new (NULL);

      for (const char *p = export; *p != '\0'; p++)
        if (*p != '\\')
          g_string_append_c (text, *p);
      unescaped = g_string_free (text, FALSE);
      export = unescaped;
    }
  g_assert_null (strstr (export, KEY));
  g_assert_null (strstr (export, "Bearer"));
  g_assert_null (strstr (export, f->base_url));
  g_assert_null (strstr (export, host));
}

/* A conversation with answers, failures whose messages quoted the key, and
 * reasoning, exported both ways and after a restart. */
static void
test_exports (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);
  g_autoptr(NatterFakeScript) reasoning = natter_fake_script_new (200);
  g_autoptr(NatterFakeScript) unauthorized = echoing_unauthorized ();
  g_autoptr(NatterFakeScript) stream_error = echoing_stream_error ();
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterConversation) reloaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *markdown = NULL;
  g_autofree char *json_reloaded = NULL;
  g_autofree char *markdown_reloaded = NULL;

  natter_conversation_set_system_prompt (conversation, "Be brief.");
  send (f, f->client, conversation, "Hello");
  g_assert_no_error (f->error);

  natter_fake_script_add_reasoning (reasoning, "Thinking. ");
  natter_fake_script_add_content (reasoning, "Answer.");
  natter_fake_script_add_finish (reasoning, "stop");
  natter_fake_script_add_done (reasoning);
  natter_fake_provider_queue (f->provider, reasoning);
  send (f, f->client, conversation, "Think");
  g_assert_no_error (f->error);

  natter_fake_provider_queue (f->provider, unauthorized);
  send (f, f->client, conversation, "Again");
  g_assert_nonnull (f->error);
  natter_fake_provider_queue (f->provider, stream_error);
  send (f, f->client, conversation, "And again");
  g_assert_nonnull (f->error);

  json = natter_conversation_to_json (conversation);
  markdown = natter_conversation_to_markdown (conversation);
  /* The failures are in the export: the check is not vacuous. */
  g_assert_nonnull (strstr (json, "HTTP 401"));
  g_assert_nonnull (strstr (markdown, "HTTP 401"));
  assert_export_clean (f, json, FALSE);
  assert_export_clean (f, markdown, TRUE);

  natter_history_flush (f->history);
  store = natter_store_open (f->path, &error);
  g_assert_no_error (error);
  reloaded = natter_store_load_conversation (store, natter_conversation_get_id (conversation), &error);
  g_assert_no_error (error);
  json_reloaded = natter_conversation_to_json (reloaded);
  markdown_reloaded = natter_conversation_to_markdown (reloaded);
  assert_export_clean (f, json_reloaded, FALSE);
  assert_export_clean (f, markdown_reloaded, TRUE);
  assert_files_free_of (f, KEY);
}

/* --- Redirects ----------------------------------------------------------------------- */

typedef struct {
  guint      status;
  char      *location;   /* where the origin server sends every request */
  GPtrArray *seen;       /* "METHOD PATH AUTHORIZATION" of each request */
} Origin;

static void
origin_handler (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  Origin *origin = user_data;
  const char *authorization =
    soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");

  g_ptr_array_add (origin->seen, g_strdup_printf ("%s %s %s", soup_server_message_get_method (msg), path,
                                                  authorization != NULL ? authorization : "-"));
  if (origin->location != NULL)
    {
      g_autofree char *target = g_strconcat (origin->location, path, NULL);

      soup_server_message_set_redirect (msg, origin->status, target);
    }
  else
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

static SoupServer *
listen_origin (Origin  *origin,
               guint   *port)
{
  SoupServer *server = soup_server_new (NULL, NULL);
  g_autoslist(GUri) uris = NULL;
  g_autoptr(GError) error = NULL;

  origin->seen = g_ptr_array_new_with_free_func (g_free);
  soup_server_add_handler (server, NULL, origin_handler, origin, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  *port = g_uri_get_port (uris->data);
  return server;
}

/* The configured server answers with a redirect to another port of the same
 * host, which is another origin. Nothing reaches it, the key least of all,
 * and the user hears about the redirect. */
static void
test_redirect (Fixture       *f,
               gconstpointer  data)
{
  static const guint statuses[] = { 301, 302, 303, 307, 308 };
  Origin other = { 0, NULL, NULL };
  g_autoptr(SoupServer) other_server = NULL;
  guint other_port;
  g_autoptr(NatterConversation) conversation = natter_history_create (f->history);

  other_server = listen_origin (&other, &other_port);
  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      Origin origin = { statuses[i], NULL, NULL };
      g_autoptr(SoupServer) server = NULL;
      g_autoptr(NatterClient) client = NULL;
      g_autofree char *base_url = NULL;
      g_autofree char *expected = NULL;
      g_autofree char *status = g_strdup_printf ("%u", statuses[i]);
      guint port;

      origin.location = g_strdup_printf ("http://127.0.0.1:%u", other_port);
      server = listen_origin (&origin, &port);
      base_url = g_strdup_printf ("http://127.0.0.1:%u/v1", port);
      client = natter_client_new (base_url, KEY);
      natter_client_set_retry_base_ms (client, 10);

      send (f, client, conversation, "Where are you?");
      g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_NOT_FOUND);
      g_assert_nonnull (strstr (f->error->message, "redirected"));
      g_assert_nonnull (strstr (f->error->message, status));

      list_models (f, client);
      g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_NOT_FOUND);
      g_assert_nonnull (strstr (f->error->message, "redirected"));

      /* Each asked once, by the server the user chose, and not retried. */
      g_assert_cmpuint (origin.seen->len, ==, 2);
      g_assert_cmpstr (g_ptr_array_index (origin.seen, 0), ==, "POST /v1/chat/completions Bearer " KEY);
      g_assert_cmpstr (g_ptr_array_index (origin.seen, 1), ==, "GET /v1/models Bearer " KEY);

      soup_server_disconnect (server);
      g_ptr_array_unref (origin.seen);
      g_free (origin.location);
    }

  /* Not one request, with or without the key. */
  for (guint i = 0; i < other.seen->len; i++)
    g_test_message ("other origin got: %s", (char *) g_ptr_array_index (other.seen, i));
  g_assert_cmpuint (other.seen->len, ==, 0);
  soup_server_disconnect (other_server);
  g_ptr_array_unref (other.seen);
}

/* --- natter-cli --------------------------------------------------------------------- */

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Runs natter-cli with every debug message on; returns stdout and stderr
 * together. */
static char *
run_cli (Fixture     *f,
         const char  *api_key,
         int         *exit_status,
         const char  *first_arg,
         ...) G_GNUC_NULL_TERMINATED;

static char *
run_cli (Fixture     *f,
         const char  *api_key,
         int         *exit_status,
         const char  *first_arg,
         ...)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = g_build_filename (f->dir, "cli-data", NULL);
  g_autofree char *config_dir = g_build_filename (f->dir, "cli-config", NULL);
  g_autoptr(GAsyncResult) result = NULL;
  char *output = NULL;
  va_list args;

  g_subprocess_launcher_set_environ (launcher, (char *[]) { NULL });
  g_subprocess_launcher_setenv (launcher, "PATH", g_getenv ("PATH"), TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_setenv (launcher, "G_DEBUG", "fatal-warnings", TRUE);
  g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  g_subprocess_launcher_setenv (launcher, "GSETTINGS_BACKEND", "memory", TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "NATTER_BASE_URL", f->base_url, TRUE);
  g_subprocess_launcher_setenv (launcher, "NATTER_API_KEY", api_key, TRUE);
  g_subprocess_launcher_setenv (launcher, "NATTER_MODEL", MODEL, TRUE);
  g_subprocess_launcher_setenv (launcher, "no_proxy", "*", TRUE);

  g_ptr_array_add (argv, (char *) g_getenv ("NATTER_CLI"));
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  /* The fake provider answers from this main loop: it must run. */
  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicated_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (g_subprocess_communicate_utf8_finish (process, result, &output, NULL, &error));
  g_assert_no_error (error);
  *exit_status = g_subprocess_get_exit_status (process);
  return output;
}

/* The same with natter-cli, whose output a user may paste into a bug
 * report: a kept answer, the model list, and a rejected key. */
static void
test_cli (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(NatterFakeScript) unauthorized = echoing_unauthorized ();
  g_autofree char *answer = NULL;
  g_autofree char *models = NULL;
  g_autofree char *rejected = NULL;
  g_autofree char *json = NULL;
  g_autofree char *data_dir = NULL;
  int status;

  if (g_getenv ("NATTER_CLI") == NULL)
    {
      g_test_skip ("NATTER_CLI is not set; run through meson test");
      return;
    }

  answer = run_cli (f, KEY, &status, "--save", "Hello from the shell", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (answer, "tok0 tok1"));
  models = run_cli (f, KEY, &status, "models", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (models, "natter-fake-1"));
  natter_fake_provider_queue (f->provider, unauthorized);
  rejected = run_cli (f, KEY, &status, "--json", "--retries=0", "Hello again", NULL);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (rejected, "401"));
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 3);

  /* Debug output was on: the check is not vacuous. */
  g_assert_nonnull (strstr (answer, "DEBUG"));
  g_assert_null (strstr (answer, KEY));
  g_assert_null (strstr (models, KEY));
  g_assert_null (strstr (rejected, KEY));

  /* Nor is it in the history natter-cli kept. */
  data_dir = g_build_filename (f->dir, "cli-data", "natter", NULL);
  if (g_file_test (data_dir, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (data_dir, 0, NULL);
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (data_dir, name, NULL);
          gsize length;
          g_autofree char *contents = file_contents (path, &length);

          g_assert_false (contents != NULL && contains (contents, length, KEY));
        }
    }
}

int
main (int   argc,
      char *argv[])
{
  /* Before anything can log. */
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  log_lines = g_ptr_array_new_with_free_func (free_line);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_setenv ("no_proxy", "*", TRUE);

  g_test_init (&argc, &argv, NULL);
  default_handler = g_log_set_default_handler (capture_handler, NULL);

#define ADD(path, func) \
  g_test_add ("/natter/key-hygiene/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("logs", test_logs);
  ADD ("properties", test_properties);
  ADD ("exports", test_exports);
  ADD ("redirect", test_redirect);
  ADD ("cli", test_cli);

  return g_test_run ();
}
