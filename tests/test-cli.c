/* test-cli.c — natter-cli against the fake provider: output, exit codes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <signal.h>

#include <glib/gstdio.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

#include "natter-fake-provider.h"
#include "natter-key-store.h"
#include "natter-store.h"
#include "natter-test-util.h"

#define KEY "sk-secret-cli-4242"

typedef struct {
  NatterFakeProvider *provider;
  char               *base_url;
  char               *config_dir;
  char               *data_dir;
  GPtrArray          *env;
} Fixture;

typedef struct {
  int       status;
  char     *out;
  char     *err;
  gboolean  done;
} Result;

static void
result_clear (Result *result)
{
  g_free (result->out);
  g_free (result->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static void
pass_through (Fixture    *f,
              const char *name)
{
  if (g_getenv (name) != NULL)
    g_ptr_array_add (f->env, g_strconcat (name, "=", g_getenv (name), NULL));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->provider = natter_fake_provider_new ();
  g_assert_true (natter_fake_provider_listen (f->provider, 0, NULL));
  f->base_url = natter_fake_provider_dup_base_url (f->provider);

  /* Only what natter-cli needs: no provider variables leak in from the
   * developer's shell, so no test can reach a real provider. */
  f->env = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (f->env, g_strdup ("LC_ALL=C.UTF-8"));
  g_ptr_array_add (f->env, g_strdup ("G_DEBUG=fatal-warnings"));
  g_ptr_array_add (f->env, g_strconcat ("PATH=", g_getenv ("PATH"), NULL));
  /* Settings in a file of the test's own, so that the test can write the
   * providers natter-cli reads. */
  f->config_dir = g_dir_make_tmp ("natter-cli-XXXXXX", NULL);
  g_ptr_array_add (f->env, g_strdup ("GSETTINGS_BACKEND=keyfile"));
  g_ptr_array_add (f->env, g_strconcat ("XDG_CONFIG_HOME=", f->config_dir, NULL));
  /* The history, if a test makes one, in a folder of its own. */
  f->data_dir = g_dir_make_tmp ("natter-cli-data-XXXXXX", NULL);
  g_ptr_array_add (f->env, g_strconcat ("XDG_DATA_HOME=", f->data_dir, NULL));
  pass_through (f, "GSETTINGS_SCHEMA_DIR");
  /* The keyring, when the test runs inside tests/with-keyring.sh. */
  pass_through (f, "DBUS_SESSION_BUS_ADDRESS");
  pass_through (f, "HOME");
  pass_through (f, "XDG_RUNTIME_DIR");
  pass_through (f, "GNOME_KEYRING_CONTROL");
  g_ptr_array_add (f->env, NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *keyfile = g_build_filename (f->config_dir, "glib-2.0", "settings", "keyfile", NULL);
  g_autofree char *settings_dir = g_path_get_dirname (keyfile);
  g_autofree char *glib_dir = g_path_get_dirname (settings_dir);

  g_assert_finalize_object (f->provider);
  g_free (f->base_url);
  g_ptr_array_unref (f->env);
  g_remove (keyfile);
  g_rmdir (settings_dir);
  g_rmdir (glib_dir);
  g_rmdir (f->config_dir);
  g_free (f->config_dir);
  natter_test_remove_tree (f->data_dir);
  g_free (f->data_dir);
}

/* Writes what the app would have saved: one provider, the current one. */
static void
keep_provider (Fixture    *f,
               const char *id,
               const char *name,
               const char *base_url)
{
  g_autofree char *dir = g_build_filename (f->config_dir, "glib-2.0", "settings", NULL);
  g_autofree char *path = g_build_filename (dir, "keyfile", NULL);
  g_autofree char *contents =
    g_strdup_printf ("[io/github/natter/Natter]\n"
                     "providers=[{'id': '%s', 'name': '%s', 'base-url': '%s', 'preset': 'custom', "
                     "'model': 'kept-model'}]\n"
                     "current-provider='%s'\n", id, name, base_url, id);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
}

static void
fixture_setenv (Fixture    *f,
                const char *name,
                const char *value)
{
  g_ptr_array_insert (f->env, 0, g_strconcat (name, "=", value, NULL));
}

static GSubprocess *
spawn_cli (Fixture            *f,
           GSubprocessFlags    flags,
           const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_ptr_array_add (argv, (gpointer) g_getenv ("NATTER_CLI"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_set_environ (launcher, (char **) f->env->pdata);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  return process;
}

static void
communicated_cb (GObject      *source,
                 GAsyncResult *res,
                 gpointer      user_data)
{
  Result *result = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &result->out, &result->err, &error);
  g_assert_no_error (error);
  result->status = g_subprocess_get_exit_status (G_SUBPROCESS (source));
  result->done = TRUE;
}

/* The fake provider lives in this process, so the main loop must run while
 * natter-cli talks to it. */
static void
run_cli (Fixture            *f,
         const char         *input,
         const char * const *args,
         Result             *result)
{
  g_autoptr(GSubprocess) process = spawn_cli (f, G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                 G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                 G_SUBPROCESS_FLAGS_STDERR_PIPE, args);

  g_subprocess_communicate_utf8_async (process, input != NULL ? input : "", NULL,
                                       communicated_cb, result);
  while (!result->done)
    g_main_context_iteration (NULL, TRUE);
}

static JsonObject *
parse_line (const char *line)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static GPtrArray *
parse_lines (const char *out)
{
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  GPtrArray *objects = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      g_ptr_array_add (objects, parse_line (lines[i]));
  return objects;
}

static const char *
type_of (GPtrArray *lines,
         guint      i)
{
  return json_object_get_string_member (g_ptr_array_index (lines, i), "type");
}

static void
queue_error (Fixture    *f,
             guint       status,
             const char *body,
             const char *retry_after)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (status);

  natter_fake_script_set_body (script, body);
  if (retry_after != NULL)
    natter_fake_script_set_header (script, "Retry-After", retry_after);
  natter_fake_provider_queue (f->provider, script);
}

static void
assert_no_key (const Result *result)
{
  g_assert_null (strstr (result->out, KEY));
  g_assert_null (strstr (result->err, KEY));
}

/* --- Streaming -------------------------------------------------------- */

static void
test_plain (Fixture       *f,
            gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--api-key", KEY,
                                       "--model", "natter-fake-1", "Hello", "there", NULL },
           &result);

  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (result.out, ==, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");
  g_assert_cmpstr (result.err, ==, "");
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (natter_fake_provider_get_request (f->provider, 0)->body, NULL),
                                  g_bytes_get_size (natter_fake_provider_get_request (f->provider, 0)->body),
                                  "\"Hello there\""));
  assert_no_key (&result);
}

static void
test_prompt_from_stdin (Fixture       *f,
                        gconstpointer  data)
{
  g_auto(Result) result = { 0 };
  const NatterFakeRequest *request;

  run_cli (f, "Question from a pipe\n",
           (const char *[]) { "--base-url", f->base_url, "--model", "m", "--system", "Be terse",
                              "--temperature", "0.5", "--max-tokens", "64", NULL },
           &result);

  g_assert_cmpint (result.status, ==, 0);
  request = natter_fake_provider_get_request (f->provider, 0);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body),
                                  "Question from a pipe"));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body),
                                  "\"max_tokens\":64"));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body),
                                  "\"temperature\":0.5"));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body),
                                  "Be terse"));
}

static void
test_environment (Fixture       *f,
                  gconstpointer  data)
{
  g_auto(Result) result = { 0 };
  const NatterFakeRequest *request;

  fixture_setenv (f, "NATTER_BASE_URL", f->base_url);
  fixture_setenv (f, "OPENROUTER_API_KEY", KEY);
  fixture_setenv (f, "NATTER_MODEL", "from-env");
  run_cli (f, NULL, (const char *[]) { "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 0);
  request = natter_fake_provider_get_request (f->provider, 0);
  g_assert_cmpstr (soup_message_headers_get_one (request->headers, "Authorization"), ==, "Bearer " KEY);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body),
                                  "\"model\":\"from-env\""));
  assert_no_key (&result);
}

static void
test_default_model_from_list (Fixture       *f,
                              gconstpointer  data)
{
  g_auto(Result) result = { 0 };
  const NatterFakeRequest *request;

  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (natter_fake_provider_get_request (f->provider, 0)->path, ==, "/v1/models");
  request = natter_fake_provider_get_request (f->provider, 1);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body),
                                  "\"model\":\"natter-fake-1\""));
}

static void
test_reasoning_to_stderr (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_auto(Result) result = { 0 };

  natter_fake_script_add_reasoning (script, "Pondering. ");
  natter_fake_script_add_content (script, "Answer.");
  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (result.out, ==, "Answer.");
  /* Not a terminal: no escape codes. */
  g_assert_cmpstr (result.err, ==, "Pondering. ");
}

static void
test_json_lines (Fixture       *f,
                 gconstpointer  data)
{
  g_auto(Result) result = { 0 };
  g_autoptr(GPtrArray) lines = NULL;
  JsonObject *done;

  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--json", "Hi", NULL },
           &result);

  g_assert_cmpint (result.status, ==, 0);
  lines = parse_lines (result.out);
  g_assert_cmpuint (lines->len, ==, 9);
  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *token = g_strdup_printf ("tok%u ", i);
      g_assert_cmpstr (type_of (lines, i), ==, "delta");
      g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (lines, i), "text"), ==, token);
    }
  done = g_ptr_array_index (lines, 8);
  g_assert_cmpstr (type_of (lines, 8), ==, "done");
  g_assert_cmpstr (json_object_get_string_member (done, "finish_reason"), ==, "stop");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (done, "usage"),
                                               "completion_tokens"), ==, 8);
  g_assert_true (json_object_get_null_member (done, "tool_calls"));
  g_assert_cmpstr (json_object_get_string_member (done, "id"), ==, "chatcmpl-fake");
  g_assert_cmpstr (json_object_get_string_member (done, "model"), ==, "natter-fake-1");
  g_assert_cmpint (json_object_get_int_member (done, "ttft_ms"), >=, 0);
  g_assert_cmpint (json_object_get_int_member (done, "duration_ms"), >=, 0);
  g_assert_cmpint (json_object_get_int_member (done, "chunks"), ==, 10);
}

static void
test_json_tool_calls (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_auto(Result) result = { 0 };
  g_autoptr(GPtrArray) lines = NULL;
  JsonArray *calls;
  JsonObject *call;

  natter_fake_script_add_tool_call (script, 0, "call_9", "lookup", "{\"q\":");
  natter_fake_script_add_tool_call (script, 0, NULL, NULL, "1}");
  natter_fake_script_add_finish (script, "tool_calls");
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--json", "Hi", NULL },
           &result);

  g_assert_cmpint (result.status, ==, 0);
  lines = parse_lines (result.out);
  calls = json_object_get_array_member (g_ptr_array_index (lines, lines->len - 1), "tool_calls");
  g_assert_cmpuint (json_array_get_length (calls), ==, 1);
  call = json_array_get_object_element (calls, 0);
  g_assert_cmpstr (json_object_get_string_member (call, "id"), ==, "call_9");
  g_assert_cmpstr (json_object_get_string_member (call, "name"), ==, "lookup");
  g_assert_cmpstr (json_object_get_string_member (call, "arguments"), ==, "{\"q\":1}");
}

/* --- Errors ------------------------------------------------------------- */

static void
test_json_error_unauthorized (Fixture       *f,
                              gconstpointer  data)
{
  g_auto(Result) result = { 0 };
  g_autoptr(GPtrArray) lines = NULL;
  JsonObject *error;

  natter_fake_provider_set_required_key (f->provider, "the-right-key");
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--api-key", KEY, "--model", "m",
                                       "--json", "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 1);
  lines = parse_lines (result.out);
  g_assert_cmpuint (lines->len, ==, 1);
  error = g_ptr_array_index (lines, 0);
  g_assert_cmpstr (type_of (lines, 0), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "unauthorized");
  g_assert_cmpint (json_object_get_int_member (error, "status"), ==, 401);
  g_assert_true (json_object_get_null_member (error, "retry_after"));
  g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), "HTTP 401"));
  g_assert_nonnull (strstr (result.err, "HTTP 401"));
  assert_no_key (&result);
}

static void
test_plain_error_names_status_and_message (Fixture       *f,
                                           gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  queue_error (f, 404, "{\"error\":{\"message\":\"The model `gpt-9` does not exist\"}}", NULL);
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "gpt-9", "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 1);
  g_assert_cmpstr (result.out, ==, "");
  g_assert_nonnull (strstr (result.err, "HTTP 404"));
  g_assert_nonnull (strstr (result.err, "The model `gpt-9` does not exist"));
}

static void
test_json_rate_limited (Fixture       *f,
                        gconstpointer  data)
{
  g_auto(Result) result = { 0 };
  g_autoptr(GPtrArray) lines = NULL;
  JsonObject *error;

  queue_error (f, 429, "{\"error\":{\"message\":\"Daily quota used\"}}", "3600");
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--json", "Hi", NULL },
           &result);

  g_assert_cmpint (result.status, ==, 1);
  lines = parse_lines (result.out);
  error = g_ptr_array_index (lines, lines->len - 1);
  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, "rate_limited");
  g_assert_cmpint (json_object_get_int_member (error, "status"), ==, 429);
  g_assert_cmpint (json_object_get_int_member (error, "retry_after"), ==, 3600);
  g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), "Daily quota used"));
}

static void
test_json_retry_line (Fixture       *f,
                      gconstpointer  data)
{
  g_auto(Result) result = { 0 };
  g_autoptr(GPtrArray) lines = NULL;
  JsonObject *retry;

  queue_error (f, 503, "{\"error\":{\"message\":\"Busy\"}}", "0");
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--json",
                                       "--retries", "1", "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 0);
  lines = parse_lines (result.out);
  retry = g_ptr_array_index (lines, 0);
  g_assert_cmpstr (type_of (lines, 0), ==, "retry");
  g_assert_cmpint (json_object_get_int_member (retry, "attempt"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (retry, "delay_ms"), ==, 0);
  g_assert_cmpstr (type_of (lines, lines->len - 1), ==, "done");
}

static void
test_json_truncated (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_auto(Result) result = { 0 };
  g_autoptr(GPtrArray) lines = NULL;

  natter_fake_script_add_content (script, "Cut");
  natter_fake_provider_queue (f->provider, script);
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--json", "Hi", NULL },
           &result);

  g_assert_cmpint (result.status, ==, 1);
  lines = parse_lines (result.out);
  g_assert_cmpstr (type_of (lines, 0), ==, "delta");
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (lines, 1), "code"), ==, "truncated");
  g_assert_true (json_object_get_null_member (g_ptr_array_index (lines, 1), "retry_after"));
}

static void
test_stalled (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);
  g_auto(Result) result = { 0 };
  g_autoptr(GPtrArray) lines = NULL;

  natter_fake_script_add_content (script, "Wait");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--json",
                                       "--stall-timeout", "0.3", "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 1);
  lines = parse_lines (result.out);
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (lines, 1), "code"), ==, "stalled");
}

static void
test_connection_refused (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(NatterFakeProvider) closed = natter_fake_provider_new ();
  g_autofree char *url = NULL;
  g_auto(Result) result = { 0 };
  g_autoptr(GPtrArray) lines = NULL;

  g_assert_true (natter_fake_provider_listen (closed, 0, NULL));
  url = natter_fake_provider_dup_base_url (closed);
  g_clear_object (&closed);
  run_cli (f, NULL, (const char *[]) { "--base-url", url, "--model", "m", "--json", "--retries", "0",
                                       "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 1);
  lines = parse_lines (result.out);
  g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (lines, 0), "code"), ==, "network");
  g_assert_true (json_object_get_null_member (g_ptr_array_index (lines, 0), "status"));
}

/* --- Usage errors ------------------------------------------------------- */

static void
test_usage_errors (Fixture       *f,
                   gconstpointer  data)
{
  const char *const cases[][4] = {
    { "--temperature", "5", "Hi", NULL },
    { "--max-tokens", "-3", "Hi", NULL },
    { "--retries", "-1", "Hi", NULL },
    { "--stall-timeout", "0", "Hi", NULL },
    { "--no-such-option", "Hi", NULL },
    { "--base-url", "not a url", "Hi", NULL },
    { "--temperature", "warm", "Hi", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) result = { 0 };

      run_cli (f, NULL, cases[i], &result);
      g_assert_cmpint (result.status, ==, 2);
      g_assert_true (g_str_has_prefix (result.err, "natter-cli: "));
    }
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 0);
}

static void
test_empty_prompt (Fixture       *f,
                   gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  run_cli (f, "  \n", (const char *[]) { "--base-url", f->base_url, "--model", "m", NULL }, &result);
  g_assert_cmpint (result.status, ==, 2);
  g_assert_nonnull (strstr (result.err, "empty"));
}

/* --- Ctrl+C ------------------------------------------------------------ */

typedef struct {
  GSubprocess *process;
  GString     *out;
  gboolean     interrupted;
  gboolean     eof;
  gint64       interrupted_at;
  char         buffer[4096];
} Interrupt;

static void
read_some_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Interrupt *in = user_data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, NULL);

  if (n <= 0)
    {
      in->eof = TRUE;
      return;
    }
  g_string_append_len (in->out, in->buffer, n);
  if (!in->interrupted && strstr (in->out->str, "tok2 ") != NULL)
    {
      in->interrupted = TRUE;
      in->interrupted_at = g_get_monotonic_time ();
      g_subprocess_send_signal (in->process, SIGINT);
    }
  g_input_stream_read_async (G_INPUT_STREAM (source), in->buffer, sizeof in->buffer,
                             G_PRIORITY_DEFAULT, NULL, read_some_cb, in);
}

/* Runs natter-cli on a slow answer and presses Ctrl+C after "tok2 ". */
static gint64
interrupt_cli (Fixture            *f,
               const char * const *args,
               Interrupt          *in)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (200);

  natter_fake_script_set_interval (script, 30);
  natter_fake_provider_queue (f->provider, script);
  in->out = g_string_new (NULL);
  in->process = spawn_cli (f, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, args);
  g_input_stream_read_async (g_subprocess_get_stdout_pipe (in->process), in->buffer, sizeof in->buffer,
                             G_PRIORITY_DEFAULT, NULL, read_some_cb, in);
  while (!in->eof)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (g_subprocess_wait (in->process, NULL, NULL));
  return g_get_monotonic_time ();
}

static void
test_ctrl_c (Fixture       *f,
             gconstpointer  data)
{
  Interrupt in = { 0 };
  gint64 exited_at;

  exited_at = interrupt_cli (f, (const char *[]) { "--base-url", f->base_url, "--model", "m", "Hi", NULL },
                             &in);

  g_assert_true (in.interrupted);
  g_assert_cmpint (g_subprocess_get_exit_status (in.process), ==, 130);
  g_assert_true (g_str_has_prefix (in.out->str, "tok0 tok1 tok2 "));
  g_assert_null (strstr (in.out->str, "tok199"));
  g_assert_cmpint (exited_at - in.interrupted_at, <, G_USEC_PER_SEC / 2);

  while (natter_fake_provider_get_n_hangups (f->provider) < 1)
    g_main_context_iteration (NULL, TRUE);

  g_string_free (in.out, TRUE);
  g_object_unref (in.process);
}

/* --- Providers kept in the app ------------------------------------------- */

static const char *
request_body (Fixture *f,
              guint    i)
{
  return g_bytes_get_data (natter_fake_provider_get_request (f->provider, i)->body, NULL);
}

static void
test_providers_listed (Fixture       *f,
                       gconstpointer  data)
{
  g_auto(Result) result = { 0 };
  g_autofree char *expected = g_strdup_printf ("* Local box\t%s\tkept-model\tp-local\n", f->base_url);

  keep_provider (f, "p-local", "Local box", f->base_url);
  run_cli (f, NULL, (const char *[]) { "providers", NULL }, &result);

  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (result.out, ==, expected);
}

static void
test_provider_by_name (Fixture       *f,
                       gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  keep_provider (f, "p-local", "Local box", f->base_url);
  run_cli (f, NULL, (const char *[]) { "--provider", "local BOX", "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (request_body (f, 0), "\"model\":\"kept-model\""));
}

static void
test_current_provider_by_default (Fixture       *f,
                                  gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  keep_provider (f, "p-local", "Local box", f->base_url);
  run_cli (f, NULL, (const char *[]) { "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
}

static void
test_environment_wins_over_current (Fixture       *f,
                                    gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  keep_provider (f, "p-elsewhere", "Elsewhere", "http://127.0.0.1:9/v1");
  fixture_setenv (f, "NATTER_BASE_URL", f->base_url);
  run_cli (f, NULL, (const char *[]) { "--model", "m", "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
}

static void
key_stored_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (natter_key_store_store_finish (NATTER_KEY_STORE (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* A key entered in the app works in the terminal: natter-cli finds it in
 * the keyring under the provider's id. Needs tests/with-keyring.sh. */
static void
test_key_from_keyring (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(NatterKeyStore) keys = NULL;
  g_auto(Result) result = { 0 };
  gboolean stored = FALSE;

  if (g_strcmp0 (g_getenv ("NATTER_TEST_KEYRING"), "gnome-keyring") != 0)
    {
      g_test_skip ("needs a keyring: run inside tests/with-keyring.sh");
      return;
    }

  keys = natter_key_store_new ();
  natter_key_store_store_async (keys, "p-local", f->base_url, "Natter test key", KEY, NULL,
                                key_stored_cb, &stored);
  while (!stored)
    g_main_context_iteration (NULL, TRUE);
  natter_fake_provider_set_required_key (f->provider, KEY);
  keep_provider (f, "p-local", "Local box", f->base_url);
  run_cli (f, NULL, (const char *[]) { "--provider", "Local box", "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (soup_message_headers_get_one (natter_fake_provider_get_request (f->provider, 0)->headers,
                                                 "Authorization"), ==, "Bearer " KEY);
  assert_no_key (&result);
}

static void
test_unknown_provider (Fixture       *f,
                       gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  run_cli (f, NULL, (const char *[]) { "--provider", "nowhere", "Hi", NULL }, &result);

  g_assert_cmpint (result.status, ==, 2);
  g_assert_nonnull (strstr (result.err, "nowhere"));
}

/* --- History (--save, --conversation, history) ----------------------------- */

static char *
history_path (Fixture *f)
{
  return g_build_filename (f->data_dir, "natter", "history.db", NULL);
}

/* "Conversation ID" on standard error, as --save prints it. */
static gint64
saved_id (const Result *result)
{
  const char *line = strstr (result->err, "Conversation ");

  g_assert_nonnull (line);
  return g_ascii_strtoll (line + strlen ("Conversation "), NULL, 10);
}

static gint64
save_new (Fixture    *f,
          const char *prompt)
{
  g_auto(Result) result = { 0 };

  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--save", prompt, NULL },
           &result);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (result.out, ==, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");
  return saved_id (&result);
}

static NatterConversation *
load_saved (Fixture *f,
            gint64   id)
{
  g_autofree char *path = history_path (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterStore) store = natter_store_open (path, &error);
  NatterConversation *conversation;

  g_assert_no_error (error);
  conversation = natter_store_load_conversation (store, id, &error);
  g_assert_no_error (error);
  return conversation;
}

static JsonObject *
request_json (Fixture *f,
              guint    i)
{
  const NatterFakeRequest *request = natter_fake_provider_get_request (f->provider, i);
  g_autofree char *body = g_strndup (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body));

  return parse_line (body);
}

static void
assert_request_message (JsonArray  *messages,
                        guint       i,
                        const char *role,
                        const char *content)
{
  JsonObject *message = json_array_get_object_element (messages, i);

  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, role);
  g_assert_cmpstr (json_object_get_string_member (message, "content"), ==, content);
}

/* What --save kept is the context of --conversation: the provider receives
 * the system prompt, the first exchange and the new question, with the
 * stored temperature; and the new exchange is saved too. */
static void
test_save_then_continue (Fixture       *f,
                         gconstpointer  data)
{
  g_auto(Result) first = { 0 };
  g_auto(Result) second = { 0 };
  g_autofree char *id_text = NULL;
  g_autoptr(JsonObject) request = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autoptr(NatterConversation) saved = NULL;
  JsonObject *done;
  JsonArray *messages;
  gint64 id;

  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--save",
                                       "--system", "Be brief", "--temperature", "0.25",
                                       "First question", NULL }, &first);
  g_assert_cmpint (first.status, ==, 0);
  g_assert_cmpstr (first.out, ==, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");
  id = saved_id (&first);
  g_assert_cmpint (id, >, 0);

  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--json",
                                       "--conversation", id_text, "Second question", NULL }, &second);
  g_assert_cmpint (second.status, ==, 0);
  /* Only a new conversation announces itself. */
  g_assert_null (strstr (second.err, "Conversation"));
  lines = parse_lines (second.out);
  g_assert_cmpuint (lines->len, ==, 9);
  g_assert_cmpstr (type_of (lines, 0), ==, "delta");
  done = g_ptr_array_index (lines, 8);
  g_assert_cmpstr (type_of (lines, 8), ==, "done");
  g_assert_cmpstr (json_object_get_string_member (done, "finish_reason"), ==, "stop");
  g_assert_cmpint (json_object_get_int_member (done, "conversation_id"), ==, id);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (done, "usage"),
                                               "completion_tokens"), ==, 8);

  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 2);
  request = request_json (f, 1);
  g_assert_cmpfloat (json_object_get_double_member (request, "temperature"), ==, 0.25);
  messages = json_object_get_array_member (request, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 4);
  assert_request_message (messages, 0, "system", "Be brief");
  assert_request_message (messages, 1, "user", "First question");
  assert_request_message (messages, 2, "assistant", "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");
  assert_request_message (messages, 3, "user", "Second question");

  saved = load_saved (f, id);
  g_assert_cmpstr (natter_conversation_get_title (saved), ==, "First question");
  g_assert_cmpstr (natter_conversation_get_system_prompt (saved), ==, "Be brief");
  g_assert_cmpfloat (natter_conversation_get_temperature (saved), ==, 0.25);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (saved)), ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (natter_message_get_state (natter_conversation_get_message (saved, i)), ==,
                     NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (saved, 2)), ==,
                   "Second question");
  g_assert_cmpstr (natter_message_get_model (natter_conversation_get_message (saved, 3)), ==,
                   "natter-fake-1");
}

/* Without --save nothing is kept, and no history file is made. */
static void
test_no_history_without_save (Fixture       *f,
                              gconstpointer  data)
{
  g_auto(Result) result = { 0 };
  g_autofree char *path = history_path (f);

  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "Hi", NULL }, &result);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* Nor by looking at a history that is not there. */
  {
    g_auto(Result) list = { 0 };
    g_auto(Result) json = { 0 };
    g_auto(Result) search = { 0 };

    run_cli (f, NULL, (const char *[]) { "history", NULL }, &list);
    run_cli (f, NULL, (const char *[]) { "history", "--json", NULL }, &json);
    run_cli (f, NULL, (const char *[]) { "history", "search", "Hi", NULL }, &search);
    g_assert_cmpint (list.status, ==, 0);
    g_assert_cmpstr (list.out, ==, "");
    g_assert_cmpint (json.status, ==, 0);
    g_assert_cmpstr (json.out, ==, "[]\n");
    g_assert_cmpint (search.status, ==, 0);
    g_assert_cmpstr (search.out, ==, "");
  }
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_history_list (Fixture       *f,
                   gconstpointer  data)
{
  g_auto(Result) plain = { 0 };
  g_auto(Result) json = { 0 };
  g_auto(Result) more = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *alpha_text = NULL;
  JsonArray *array;
  JsonObject *item;
  gint64 alpha, beta;

  alpha = save_new (f, "Alpha question");
  beta = save_new (f, "Beta question\twith a tab");
  g_assert_cmpint (alpha, !=, beta);
  /* Continuing Alpha makes it the most recent. */
  alpha_text = g_strdup_printf ("%" G_GINT64_FORMAT, alpha);
  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--conversation",
                                       alpha_text, "--max-tokens", "99", "Alpha again", NULL }, &more);
  g_assert_cmpint (more.status, ==, 0);

  run_cli (f, NULL, (const char *[]) { "history", NULL }, &plain);
  g_assert_cmpint (plain.status, ==, 0);
  expected = g_strdup_printf ("%" G_GINT64_FORMAT "\tAlpha question\n"
                              "%" G_GINT64_FORMAT "\tBeta question with a tab\n", alpha, beta);
  g_assert_cmpstr (plain.out, ==, expected);
  g_assert_cmpstr (plain.err, ==, "");

  run_cli (f, NULL, (const char *[]) { "--json", "history", NULL }, &json);
  g_assert_cmpint (json.status, ==, 0);
  json_parser_load_from_data (parser, json.out, -1, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  item = json_array_get_object_element (array, 0);
  g_assert_cmpint (json_object_get_int_member (item, "id"), ==, alpha);
  g_assert_cmpstr (json_object_get_string_member (item, "title"), ==, "Alpha question");
  g_assert_true (json_object_get_null_member (item, "system_prompt"));
  g_assert_true (json_object_get_null_member (item, "temperature"));
  /* --max-tokens given with --conversation is kept with it. */
  g_assert_cmpint (json_object_get_int_member (item, "max_tokens"), ==, 99);
  item = json_array_get_object_element (array, 1);
  g_assert_cmpint (json_object_get_int_member (item, "id"), ==, beta);
  g_assert_cmpstr (json_object_get_string_member (item, "title"), ==, "Beta question with a tab");
}

static void
test_history_search (Fixture       *f,
                     gconstpointer  data)
{
  g_auto(Result) plain = { 0 };
  g_auto(Result) answers = { 0 };
  g_auto(Result) json = { 0 };
  g_auto(Result) none = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_auto(GStrv) lines = NULL;
  JsonArray *array, *matches;
  JsonObject *item, *match;
  gint64 platypus, other;

  platypus = save_new (f, "Où vit l’ornithorynque ?");
  other = save_new (f, "Something else entirely");

  /* Not a terminal: the match is between brackets. */
  run_cli (f, NULL, (const char *[]) { "history", "search", "ornithorynque", NULL }, &plain);
  g_assert_cmpint (plain.status, ==, 0);
  expected = g_strdup_printf ("%" G_GINT64_FORMAT "\t0\tOù vit l’ornithorynque ?\tOù vit l’[ornithorynque] ?\n",
                              platypus);
  g_assert_cmpstr (plain.out, ==, expected);

  /* Answers are found too, at their position. */
  run_cli (f, NULL, (const char *[]) { "history", "search", "tok3", "tok4", NULL }, &answers);
  g_assert_cmpint (answers.status, ==, 0);
  lines = g_strsplit (answers.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  for (guint i = 0; i < 2; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], "\t", -1);

      g_assert_cmpuint (g_strv_length (fields), ==, 4);
      g_assert_true (g_ascii_strtoll (fields[0], NULL, 10) == platypus ||
                     g_ascii_strtoll (fields[0], NULL, 10) == other);
      g_assert_cmpstr (fields[1], ==, "1");
      g_assert_nonnull (strstr (fields[3], "[tok3] [tok4]"));
    }

  run_cli (f, NULL, (const char *[]) { "history", "search", "--json", "ornithorynque", NULL }, &json);
  g_assert_cmpint (json.status, ==, 0);
  json_parser_load_from_data (parser, json.out, -1, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  item = json_array_get_object_element (array, 0);
  g_assert_cmpint (json_object_get_int_member (item, "conversation_id"), ==, platypus);
  g_assert_cmpint (json_object_get_int_member (item, "position"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (item, "title"), ==, "Où vit l’ornithorynque ?");
  g_assert_cmpstr (json_object_get_string_member (item, "snippet"), ==, "Où vit l’ornithorynque ?");
  /* Offsets in characters: "Où vit l’" is 9 of them. */
  matches = json_object_get_array_member (item, "matches");
  g_assert_cmpuint (json_array_get_length (matches), ==, 1);
  match = json_array_get_object_element (matches, 0);
  g_assert_cmpint (json_object_get_int_member (match, "start"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (match, "end"), ==, 22);

  run_cli (f, NULL, (const char *[]) { "history", "search", "nowhere-to-be-found", NULL }, &none);
  g_assert_cmpint (none.status, ==, 0);
  g_assert_cmpstr (none.out, ==, "");
}

static void
test_unknown_conversation (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *path = history_path (f);

  /* No history yet: none is made for a conversation that cannot be in it. */
  {
    g_auto(Result) result = { 0 };

    run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m",
                                         "--conversation", "5", "Hi", NULL }, &result);
    g_assert_cmpint (result.status, ==, 2);
    g_assert_nonnull (strstr (result.err, "no conversation 5"));
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }

  save_new (f, "The only one");
  {
    g_auto(Result) result = { 0 };

    run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "--model", "m",
                                         "--conversation", "99", "Hi", NULL }, &result);
    g_assert_cmpint (result.status, ==, 2);
    g_assert_cmpstr (result.out, ==, "");
    g_assert_true (g_str_has_prefix (result.err, "natter-cli: "));
    g_assert_nonnull (strstr (result.err, "no conversation 99"));
  }
  {
    g_auto(Result) result = { 0 };

    run_cli (f, NULL, (const char *[]) { "--conversation", "-4", "Hi", NULL }, &result);
    g_assert_cmpint (result.status, ==, 2);
  }
  {
    g_auto(Result) result = { 0 };

    run_cli (f, NULL, (const char *[]) { "history", "search", NULL }, &result);
    g_assert_cmpint (result.status, ==, 2);
  }
  /* Only the first --save reached the provider. */
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
}

/* Every command that reads or writes the history fails with the store's
 * message and leaves @path exactly as it was. */
static void
assert_history_refused (Fixture    *f,
                        const char *path,
                        const char *message)
{
  const char *const cases[][8] = {
    { "history", NULL },
    { "history", "--json", NULL },
    { "history", "search", "notes", NULL },
    { "--base-url", f->base_url, "--model", "m", "--save", "Hi", NULL },
    { "--base-url", f->base_url, "--model", "m", "--conversation", "1", "Hi", NULL },
  };
  g_autofree char *before = NULL;
  gsize before_length;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);

  g_assert_true (g_file_get_contents (path, &before, &before_length, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) result = { 0 };
      g_autofree char *after = NULL;
      gsize after_length;

      run_cli (f, NULL, cases[i], &result);
      g_assert_cmpint (result.status, ==, 1);
      g_assert_cmpstr (result.out, ==, "");
      g_assert_true (g_str_has_prefix (result.err, "natter-cli: "));
      g_assert_nonnull (strstr (result.err, message));

      g_assert_true (g_file_get_contents (path, &after, &after_length, NULL));
      g_assert_cmpmem (after, after_length, before, before_length);
      g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
    }
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 0);
}

static void
test_corrupt_history (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *path = history_path (f);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GString) notes = g_string_new (NULL);

  for (guint i = 0; i < 200; i++)
    g_string_append_printf (notes, "Line %u of someone's notes, not a database.\n", i);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, notes->str, notes->len, NULL));

  assert_history_refused (f, path, "damaged");
}

static void
test_newer_history (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *path = history_path (f);
  g_autofree char *dir = g_path_get_dirname (path);
  sqlite3 *db = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE future (x); PRAGMA user_version = 99;",
                                 NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  assert_history_refused (f, path, "newer version of Natter");
}

/* Another program holds the history (here: this test, in the middle of a
 * write): natter-cli says so after a short wait instead of hanging. */
static void
test_locked_history (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *path = history_path (f);
  g_autofree char *dir = g_path_get_dirname (path);
  g_auto(Result) result = { 0 };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_length, after_length;
  sqlite3 *db = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TABLE other (x)", NULL, NULL, NULL), ==, SQLITE_OK);
  /* Read before locking: closing any descriptor of the file in this
   * process would drop the lock (POSIX locks are per process). */
  g_assert_true (g_file_get_contents (path, &before, &before_length, NULL));
  g_assert_cmpint (sqlite3_exec (db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);

  run_cli (f, NULL, (const char *[]) { "history", NULL }, &result);
  sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close (db);

  g_assert_cmpint (result.status, ==, 1);
  g_assert_nonnull (strstr (result.err, "in use by another program"));
  g_assert_true (g_file_get_contents (path, &after, &after_length, NULL));
  g_assert_cmpmem (after, after_length, before, before_length);
}

/* Ctrl+C with --save: the partial answer is kept, stopped, exactly as
 * printed. */
static void
test_ctrl_c_saves_stopped (Fixture       *f,
                           gconstpointer  data)
{
  Interrupt in = { 0 };
  g_autoptr(NatterConversation) saved = NULL;
  NatterMessage *answer;

  interrupt_cli (f, (const char *[]) { "--base-url", f->base_url, "--model", "m", "--save", "Hi", NULL }, &in);
  g_assert_true (in.interrupted);
  g_assert_cmpint (g_subprocess_get_exit_status (in.process), ==, 130);
  g_assert_true (g_str_has_prefix (in.out->str, "tok0 tok1 tok2 "));

  saved = load_saved (f, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (saved)), ==, 2);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (saved, 0)), ==, "Hi");
  answer = natter_conversation_get_message (saved, 1);
  g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_STOPPED);
  g_assert_cmpstr (natter_message_get_content (answer), ==, in.out->str);

  while (natter_fake_provider_get_n_hangups (f->provider) < 1)
    g_main_context_iteration (NULL, TRUE);
  g_string_free (in.out, TRUE);
  g_object_unref (in.process);
}

/* --- Other commands ----------------------------------------------------- */

static void
test_models (Fixture       *f,
             gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  run_cli (f, NULL, (const char *[]) { "--base-url", f->base_url, "models", NULL }, &result);
  g_assert_cmpint (result.status, ==, 0);
  g_assert_cmpstr (result.out, ==, "natter-fake-1\nnatter-fake-reasoner\n");
}

static void
test_sse_decode (Fixture       *f,
                 gconstpointer  data)
{
  const char *stream = "\xEF\xBB\xBF: comment\r\nid: 7\r\nevent: update\r\ndata: a\r\ndata: b\r\n\r\n"
                       "data: {\"x\":1}\n\ndata: dropped at end";
  const char *sizes[] = { "1", "2", "3", "4096" };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_auto(Result) result = { 0 };

      run_cli (f, stream, (const char *[]) { "sse-decode", "--chunk-size", sizes[i], NULL }, &result);
      g_assert_cmpint (result.status, ==, 0);
      g_assert_cmpstr (result.out, ==,
                       "{\"event\":\"update\",\"data\":\"a\\nb\",\"id\":\"7\"}\n"
                       "{\"event\":\"message\",\"data\":\"{\\\"x\\\":1}\",\"id\":\"7\"}\n");
    }
}

static void
test_sse_decode_not_a_stream (Fixture       *f,
                              gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  run_cli (f, "<html><body>Login</body></html>\n", (const char *[]) { "sse-decode", NULL }, &result);
  g_assert_cmpint (result.status, ==, 1);
  g_assert_cmpstr (result.out, ==, "");
  g_assert_true (g_str_has_prefix (result.err, "natter-cli: "));
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

#define ADD(path, func) \
  g_test_add ("/natter/cli/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("plain", test_plain);
  ADD ("prompt-from-stdin", test_prompt_from_stdin);
  ADD ("environment", test_environment);
  ADD ("default-model-from-list", test_default_model_from_list);
  ADD ("reasoning-to-stderr", test_reasoning_to_stderr);
  ADD ("json-lines", test_json_lines);
  ADD ("json-tool-calls", test_json_tool_calls);
  ADD ("json-error-unauthorized", test_json_error_unauthorized);
  ADD ("plain-error-names-status-and-message", test_plain_error_names_status_and_message);
  ADD ("json-rate-limited", test_json_rate_limited);
  ADD ("json-retry-line", test_json_retry_line);
  ADD ("json-truncated", test_json_truncated);
  ADD ("stalled", test_stalled);
  ADD ("connection-refused", test_connection_refused);
  ADD ("usage-errors", test_usage_errors);
  ADD ("empty-prompt", test_empty_prompt);
  ADD ("ctrl-c", test_ctrl_c);
  ADD ("providers-listed", test_providers_listed);
  ADD ("provider-by-name", test_provider_by_name);
  ADD ("current-provider-by-default", test_current_provider_by_default);
  ADD ("environment-wins-over-current", test_environment_wins_over_current);
  ADD ("unknown-provider", test_unknown_provider);
  ADD ("key-from-keyring", test_key_from_keyring);
  ADD ("models", test_models);
  ADD ("sse-decode", test_sse_decode);
  ADD ("sse-decode-not-a-stream", test_sse_decode_not_a_stream);
  ADD ("history/save-then-continue", test_save_then_continue);
  ADD ("history/none-without-save", test_no_history_without_save);
  ADD ("history/list", test_history_list);
  ADD ("history/search", test_history_search);
  ADD ("history/unknown-conversation", test_unknown_conversation);
  ADD ("history/corrupt", test_corrupt_history);
  ADD ("history/newer", test_newer_history);
  ADD ("history/locked", test_locked_history);
  ADD ("history/ctrl-c-saves-stopped", test_ctrl_c_saves_stopped);

  return g_test_run ();
}
