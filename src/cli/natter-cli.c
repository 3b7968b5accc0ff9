/* natter-cli.c — the console face of Natter's core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "natter-api-error.h"
#include "natter-chat-stream.h"
#include "natter-cli-history.h"
#include "natter-cli-output.h"
#include "natter-environment.h"
#include "natter-history.h"
#include "natter-key-store.h"
#include "natter-provider-list.h"
#include "natter-provider-preset.h"
#include "natter-sse-parser.h"

#define DEFAULT_BASE_URL "https://openrouter.ai/api/v1"

enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
  EXIT_INTERRUPTED = 130,
};

typedef struct {
  char     *provider;
  char     *base_url;
  char     *api_key;
  char     *model;
  char     *system;
  double    temperature;
  int       max_tokens;
  double    stall_timeout;
  int       retries;
  int       chunk_size;
  gboolean  json;
  gboolean  save;
  gint64    conversation_id;  /* -1 when not given */
  char    **args;
  /* Resolved: the kept provider whose key is looked up in the keyring. */
  char     *key_provider_id;
} Options;

typedef struct {
  GMainLoop          *loop;
  GCancellable       *cancellable;
  NatterCliOutput    *output;
  NatterChatStream   *stream;
  int                 exit_status;
  /* With --save or --conversation: the answer goes into a conversation of
   * the history, saved as it streams, as in the app. */
  NatterHistory      *history;
  NatterConversation *conversation;
  NatterMessage      *answer;
  guint               n_retries;
  gboolean            save_failed;
} Run;

static void
options_clear (Options *options)
{
  g_free (options->provider);
  g_free (options->key_provider_id);
  g_free (options->base_url);
  g_free (options->api_key);
  g_free (options->model);
  g_free (options->system);
  g_strfreev (options->args);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static int
usage_error (const char *message)
{
  fprintf (stderr, "natter-cli: %s\n", message);
  fprintf (stderr, _("Try “natter-cli --help” for more information.\n"));
  return EXIT_USAGE;
}

/* Fills what the command line left open from a provider the user keeps in
 * the app: its base URL, model and (looked up later) its key. */
static void
apply_provider (Options        *options,
                NatterProvider *provider)
{
  if (options->base_url == NULL)
    options->base_url = g_strdup (natter_provider_get_base_url (provider));
  if (options->model == NULL)
    options->model = g_strdup (natter_provider_get_model (provider));
  if (options->api_key == NULL)
    options->key_provider_id = g_strdup (natter_provider_get_id (provider));
}

/* Options win, then --provider, then the environment, then the provider
 * chosen in the app, then OpenRouter. */
static gboolean
apply_defaults (Options             *options,
                NatterProviderList  *providers,
                GError             **error)
{
  NatterProvider *provider = NULL;

  if (options->provider != NULL)
    {
      provider = providers != NULL ? natter_provider_list_find (providers, options->provider) : NULL;
      if (provider == NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("no provider named “%s”; “natter-cli providers” lists them"), options->provider);
          return FALSE;
        }
      apply_provider (options, provider);
    }

  if (options->base_url == NULL)
    options->base_url = natter_environment_get_base_url ();
  if (options->api_key == NULL && options->key_provider_id == NULL)
    options->api_key = natter_environment_get_api_key ();
  if (options->model == NULL)
    options->model = natter_environment_get_model ();

  if (options->base_url == NULL && providers != NULL &&
      (provider = natter_provider_list_get_current (providers)) != NULL)
    apply_provider (options, provider);
  if (options->base_url == NULL)
    options->base_url = g_strdup (DEFAULT_BASE_URL);
  return TRUE;
}

static gboolean
parse_options (Options  *options,
               int      *argc,
               char   ***argv,
               GError  **error)
{
  const GOptionEntry entries[] = {
    { "provider", 0, 0, G_OPTION_ARG_STRING, &options->provider,
      N_("A provider kept in Natter, by name or id (see “natter-cli providers”)"), N_("NAME") },
    { "base-url", 0, 0, G_OPTION_ARG_STRING, &options->base_url,
      N_("Provider endpoint (default $NATTER_BASE_URL, $OPENAI_BASE_URL, OpenRouter)"), N_("URL") },
    { "api-key", 0, 0, G_OPTION_ARG_STRING, &options->api_key,
      N_("API key (default $NATTER_API_KEY, $OPENROUTER_API_KEY, $OPENAI_API_KEY)"), N_("KEY") },
    { "model", 0, 0, G_OPTION_ARG_STRING, &options->model,
      N_("Model id (default $NATTER_MODEL, else one suited to the provider)"), N_("ID") },
    { "system", 0, 0, G_OPTION_ARG_STRING, &options->system, N_("System prompt"), N_("TEXT") },
    { "temperature", 0, 0, G_OPTION_ARG_DOUBLE, &options->temperature,
      N_("Sampling temperature, 0 to 2"), N_("T") },
    { "max-tokens", 0, 0, G_OPTION_ARG_INT, &options->max_tokens,
      N_("Longest answer, in tokens"), N_("N") },
    { "stall-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &options->stall_timeout,
      N_("Give up when nothing arrives for this long (default 60)"), N_("SECONDS") },
    { "retries", 0, 0, G_OPTION_ARG_INT, &options->retries,
      N_("Retries before the first token (default 3)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &options->json,
      N_("Print one JSON object per line"), NULL },
    { "save", 0, 0, G_OPTION_ARG_NONE, &options->save,
      N_("Keep the conversation in Natter’s history; its id is printed on standard error"), NULL },
    { "conversation", 0, 0, G_OPTION_ARG_INT64, &options->conversation_id,
      N_("Continue the conversation with this id from Natter’s history, and keep the answer in it"),
      N_("ID") },
    { "chunk-size", 0, 0, G_OPTION_ARG_INT, &options->chunk_size,
      N_("sse-decode: bytes per feed (default 4096)"), N_("N") },
    { G_OPTION_REMAINING, 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY, &options->args, NULL,
      N_("[PROMPT] | models | providers | history [search TEXT] | sse-decode") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context,
                                _("Streams an answer from an OpenAI-compatible provider.\n"
                                  "The prompt comes from the arguments, else from standard input."));
  g_option_context_set_description (context,
    _("History (shared with the Natter app):\n"
      "  natter-cli --save PROMPT           start a kept conversation; “Conversation ID”\n"
      "                                     is printed on standard error\n"
      "  natter-cli --conversation ID PROMPT\n"
      "                                     continue it: its system prompt, settings and\n"
      "                                     messages are the context; --system,\n"
      "                                     --temperature and --max-tokens change them\n"
      "  natter-cli history                 one line per conversation, most recent first:\n"
      "                                     ID<tab>TITLE\n"
      "  natter-cli history search TEXT     messages with all the words, best first:\n"
      "                                     ID<tab>POSITION<tab>TITLE<tab>SNIPPET, the\n"
      "                                     position counted from 0; matched words are\n"
      "                                     bold on a terminal, else between [ and ]\n"
      "With --json, “history” prints one JSON array. Kept answers are saved while\n"
      "they stream; one stopped with Ctrl+C stays saved as stopped.\n"
      "\n"
      "Exit status: 0 done, 1 API, network, stream or history error, 2 usage error\n"
      "or unknown conversation, 130 interrupted with Ctrl+C."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  return g_option_context_parse (context, argc, argv, error);
}

static const char *
validate_options (const Options *options)
{
  if (options->temperature != -1 && (options->temperature < 0 || options->temperature > 2))
    return _("--temperature must be between 0 and 2");
  if (options->max_tokens < 0)
    return _("--max-tokens must be 0 (the provider decides) or a positive number");
  if (options->stall_timeout <= 0 || options->stall_timeout > G_MAXUINT / 1000)
    return _("--stall-timeout must be a positive number of seconds");
  if (options->retries < 0 || options->retries > 100)
    return _("--retries must be between 0 and 100");
  if (options->chunk_size <= 0)
    return _("--chunk-size must be a positive number");
  if (options->conversation_id != -1 && options->conversation_id <= 0)
    return _("--conversation takes the id of a conversation (see “natter-cli history”)");
  return NULL;
}

static NatterClient *
client_for_options (const Options *options)
{
  NatterClient *client = natter_client_new (options->base_url, options->api_key);

  natter_client_set_stall_timeout_ms (client, (guint) (options->stall_timeout * 1000));
  natter_client_set_max_retries (client, options->retries);
  return client;
}

/* --- SIGINT ---------------------------------------------------------- */

static gboolean
interrupted_cb (gpointer user_data)
{
  Run *run = user_data;

  g_cancellable_cancel (run->cancellable);
  return G_SOURCE_CONTINUE;
}

/* Reports @error and ends the run: 130 for Ctrl+C, 1 for anything else. */
static void
run_failed (Run              *run,
            NatterChatStream *stream,
            const GError     *error)
{
  natter_cli_output_error (run->output, stream, error);
  run->exit_status = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                     ? EXIT_INTERRUPTED : EXIT_FAILED;
  g_main_loop_quit (run->loop);
}

/* --- natter-cli models ----------------------------------------------- */

static void
models_listed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = natter_client_list_models_finish (NATTER_CLIENT (source), result, &error);

  if (ids == NULL)
    {
      run_failed (run, NULL, error);
      return;
    }
  for (guint i = 0; ids[i] != NULL; i++)
    printf ("%s\n", ids[i]);
  g_main_loop_quit (run->loop);
}

/* --- natter-cli PROMPT -------------------------------------------------- */

static void
delta_cb (NatterChatStream *stream,
          const char       *text,
          Run              *run)
{
  natter_cli_output_delta (run->output, text);
}

static void
reasoning_cb (NatterChatStream *stream,
              const char       *text,
              Run              *run)
{
  natter_cli_output_reasoning (run->output, text);
}

static void
retrying_cb (NatterChatStream *stream,
             guint             retry,
             guint             delay_ms,
             Run              *run)
{
  natter_cli_output_retry (run->output, retry, delay_ms);
}

static void
stream_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Run *run = user_data;
  NatterChatStream *stream = NATTER_CHAT_STREAM (source);
  g_autoptr(GError) error = NULL;

  if (!natter_chat_stream_run_finish (stream, result, &error))
    {
      run_failed (run, stream, error);
      return;
    }
  natter_cli_output_done (run->output, stream);
  g_main_loop_quit (run->loop);
}

/* --- A kept conversation (--save, --conversation) ------------------------ */

static void
answer_content_cb (NatterMessage *answer,
                   guint          offset,
                   const char    *text,
                   Run           *run)
{
  natter_cli_output_delta (run->output, text);
}

static void
answer_reasoning_cb (NatterMessage *answer,
                     guint          offset,
                     const char    *text,
                     Run           *run)
{
  natter_cli_output_reasoning (run->output, text);
}

/* The conversation marks the wait before a retry on the answer. */
static void
answer_retry_cb (NatterMessage *answer,
                 GParamSpec    *pspec,
                 Run           *run)
{
  guint delay_ms = natter_message_get_retry_delay_ms (answer);

  if (delay_ms > 0)
    natter_cli_output_retry (run->output, ++run->n_retries, delay_ms);
}

/* The answer joins the conversation just before its request goes out. */
static void
messages_changed_cb (GListModel *messages,
                     guint       position,
                     guint       removed,
                     guint       added,
                     Run        *run)
{
  NatterMessage *last;

  if (added == 0)
    return;
  last = natter_conversation_get_message (run->conversation, position + added - 1);
  if (natter_message_get_role (last) != NATTER_ROLE_ASSISTANT || last == run->answer)
    return;
  if (run->answer != NULL)
    g_signal_handlers_disconnect_by_data (run->answer, run);
  g_set_object (&run->answer, last);
  g_signal_connect (last, "content-appended", G_CALLBACK (answer_content_cb), run);
  g_signal_connect (last, "reasoning-appended", G_CALLBACK (answer_reasoning_cb), run);
  g_signal_connect (last, "notify::retry-delay-ms", G_CALLBACK (answer_retry_cb), run);
}

/* A new conversation gets its id when its first message is saved. */
static void
conversation_saved_cb (NatterConversation *conversation,
                       GParamSpec         *pspec,
                       Run                *run)
{
  gint64 id = natter_conversation_get_id (conversation);
  g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

  if (id == 0)
    return;
  natter_cli_output_set_conversation_id (run->output, id);
  /* TRANSLATORS: %s is the conversation's id, for --conversation */
  fprintf (stderr, _("Conversation %s\n"), id_text);
  fflush (stderr);
}

static void
save_failed_cb (NatterHistory *history,
                const GError  *error,
                Run           *run)
{
  fprintf (stderr, _("natter-cli: the conversation may not be kept: %s\n"), error->message);
  run->save_failed = TRUE;
}

static void
answer_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterMessage) answer =
    natter_conversation_send_finish (NATTER_CONVERSATION (source), result, &error);

  if (answer == NULL)
    {
      run_failed (run, NULL, error);
      return;
    }
  natter_cli_output_done_message (run->output, answer);
  g_main_loop_quit (run->loop);
}

static void
apply_settings (const Options      *options,
                NatterConversation *conversation)
{
  if (options->system != NULL)
    natter_conversation_set_system_prompt (conversation, options->system);
  if (options->temperature >= 0)
    natter_conversation_set_temperature (conversation, options->temperature);
  if (options->max_tokens > 0)
    natter_conversation_set_max_tokens (conversation, options->max_tokens);
}

/* Opens the history and the conversation the answer goes into: the one
 * --conversation names, else a new one. Returns an exit status, EXIT_OK
 * when ready; a history that cannot be opened is left as it is. */
static int
open_conversation (const Options *options,
                   Run           *run)
{
  gboolean continuing = options->conversation_id > 0;
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(GError) error = NULL;

  /* Continuing needs a history that exists: none is created for it. */
  store = natter_cli_history_open_store (!continuing, &error);
  if (store != NULL)
    run->history = natter_history_new (store, &error);
  if (error != NULL)
    {
      fprintf (stderr, "natter-cli: %s\n", error->message);
      return EXIT_FAILED;
    }

  if (continuing)
    {
      NatterConversation *conversation =
        run->history != NULL ? natter_history_lookup (run->history, options->conversation_id) : NULL;
      g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, options->conversation_id);

      if (conversation == NULL)
        {
          fprintf (stderr, _("natter-cli: there is no conversation %s in the history; "
                             "“natter-cli history” lists them\n"), id_text);
          return EXIT_USAGE;
        }
      if (!natter_history_open (run->history, conversation, &error))
        {
          fprintf (stderr, "natter-cli: %s\n", error->message);
          return EXIT_FAILED;
        }
      run->conversation = g_object_ref (conversation);
      natter_cli_output_set_conversation_id (run->output, options->conversation_id);
    }
  else
    {
      run->conversation = natter_history_create (run->history);
      g_signal_connect (run->conversation, "notify::id", G_CALLBACK (conversation_saved_cb), run);
    }

  apply_settings (options, run->conversation);
  g_signal_connect (run->history, "save-failed", G_CALLBACK (save_failed_cb), run);
  g_signal_connect (run->conversation, "items-changed", G_CALLBACK (messages_changed_cb), run);
  return EXIT_OK;
}

static void
close_conversation (Run *run)
{
  if (run->answer != NULL)
    g_signal_handlers_disconnect_by_data (run->answer, run);
  if (run->conversation != NULL)
    g_signal_handlers_disconnect_by_data (run->conversation, run);
  g_clear_object (&run->answer);
  g_clear_object (&run->conversation);
  /* Disposing the history writes whatever is still pending. */
  if (run->history != NULL)
    g_signal_handlers_disconnect_by_data (run->history, run);
  g_clear_object (&run->history);
}

/* --- Asking ----------------------------------------------------------- */

static void
start_chat (Run           *run,
            NatterClient  *client,
            const Options *options,
            const char    *model,
            const char    *prompt)
{
  g_autoptr(NatterChatRequest) request = NULL;

  /* The same path as the app's: the user's message is saved before the
   * request goes, and the answer is checkpointed as it streams. */
  if (run->conversation != NULL)
    {
      natter_conversation_send_async (run->conversation, client, model, prompt, run->cancellable,
                                      answer_done_cb, run);
      return;
    }

  request = natter_chat_request_new (model);

  if (options->system != NULL)
    natter_chat_request_add_message (request, "system", options->system);
  natter_chat_request_add_message (request, "user", prompt);
  natter_chat_request_set_temperature (request, options->temperature);
  natter_chat_request_set_max_tokens (request, options->max_tokens);

  run->stream = natter_chat_stream_new (client, request);
  g_signal_connect (run->stream, "delta", G_CALLBACK (delta_cb), run);
  g_signal_connect (run->stream, "reasoning-delta", G_CALLBACK (reasoning_cb), run);
  g_signal_connect (run->stream, "retrying", G_CALLBACK (retrying_cb), run);
  natter_chat_stream_run_async (run->stream, run->cancellable, stream_done_cb, run);
}

typedef struct {
  Run          *run;
  const Options *options;
  char         *prompt;
} PendingChat;

/* A custom endpoint has no known default model: take the first it lists. */
static void
default_model_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PendingChat *pending = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = natter_client_list_models_finish (NATTER_CLIENT (source), result, &error);

  if (ids != NULL && ids[0] != NULL)
    start_chat (pending->run, NATTER_CLIENT (source), pending->options, ids[0], pending->prompt);
  else
    {
      if (error == NULL)
        error = g_error_new_literal (NATTER_API_ERROR, NATTER_API_ERROR_NOT_FOUND,
                                     _("The provider lists no models; choose one with --model."));
      run_failed (pending->run, NULL, error);
    }
  g_free (pending->prompt);
  g_free (pending);
}

static char *
read_prompt (const Options *options)
{
  g_autoptr(GString) prompt = g_string_new (NULL);
  char buffer[4096];
  gsize n;

  if (options->args != NULL && options->args[0] != NULL)
    return g_strjoinv (" ", options->args);

  if (isatty (STDIN_FILENO))
    fprintf (stderr, _("Type the prompt, then press Ctrl+D.\n"));
  while ((n = fread (buffer, 1, sizeof buffer, stdin)) > 0)
    g_string_append_len (prompt, buffer, n);
  return g_string_free (g_steal_pointer (&prompt), FALSE);
}

static int
run_main_loop (Run *run)
{
  guint sigint_id = g_unix_signal_add (SIGINT, interrupted_cb, run);

  g_main_loop_run (run->loop);
  g_source_remove (sigint_id);
  return run->exit_status;
}

static int
command_chat (const Options *options,
              Run           *run)
{
  g_autoptr(NatterClient) client = client_for_options (options);
  g_autofree char *prompt = read_prompt (options);
  const NatterProviderPreset *preset = natter_provider_preset_find_by_url (options->base_url);
  const char *model = options->model;
  int status;

  if (!g_utf8_validate (prompt, -1, NULL))
    return usage_error (_("the prompt is not valid UTF-8"));
  if (*g_strstrip (prompt) == '\0')
    return usage_error (_("the prompt is empty"));
  if ((options->save || options->conversation_id > 0) &&
      (status = open_conversation (options, run)) != EXIT_OK)
    return status;

  if (model == NULL && preset != NULL)
    model = preset->default_model;
  if (model != NULL)
    start_chat (run, client, options, model, prompt);
  else
    {
      PendingChat *pending = g_new0 (PendingChat, 1);

      pending->run = run;
      pending->options = options;
      pending->prompt = g_steal_pointer (&prompt);
      natter_client_list_models_async (client, run->cancellable, default_model_cb, pending);
    }
  status = run_main_loop (run);

  /* The answer's last state (stopped by Ctrl+C, failed, complete) is
   * written once the main loop is idle, which it will not be again. */
  if (run->history != NULL)
    natter_history_flush (run->history);
  if (run->save_failed && status == EXIT_OK)
    status = EXIT_FAILED;
  return status;
}

static int
command_models (const Options *options,
                Run           *run)
{
  g_autoptr(NatterClient) client = client_for_options (options);

  natter_client_list_models_async (client, run->cancellable, models_listed_cb, run);
  return run_main_loop (run);
}

/* --- natter-cli sse-decode --------------------------------------------- */

static void
sse_event_cb (NatterSseParser *parser,
              const char      *type,
              const char      *data,
              const char      *id)
{
  natter_cli_output_sse_event (type, data, id);
}

static int
command_sse_decode (const Options *options)
{
  g_autoptr(NatterSseParser) parser = natter_sse_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *buffer = g_malloc (options->chunk_size);
  gsize n;

  g_signal_connect (parser, "event", G_CALLBACK (sse_event_cb), NULL);
  while ((n = fread (buffer, 1, options->chunk_size, stdin)) > 0)
    if (!natter_sse_parser_feed (parser, buffer, n, &error))
      break;

  if (error == NULL)
    natter_sse_parser_end (parser, &error);
  if (error != NULL)
    {
      fprintf (stderr, "natter-cli: %s\n", error->message);
      return EXIT_FAILED;
    }
  return EXIT_OK;
}

/* --- main ---------------------------------------------------------------- */

static gboolean
is_command (const Options *options,
            const char    *name)
{
  return options->args != NULL && g_strcmp0 (options->args[0], name) == 0 &&
         options->args[1] == NULL;
}

/* --- natter-cli providers ----------------------------------------------- */

/* One line each, the current one marked; never the key. */
static int
command_providers (NatterProviderList *providers)
{
  NatterProvider *current = providers != NULL ? natter_provider_list_get_current (providers) : NULL;
  guint n = providers != NULL ? g_list_model_get_n_items (G_LIST_MODEL (providers)) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterProvider) provider = g_list_model_get_item (G_LIST_MODEL (providers), i);
      const char *model = natter_provider_get_model (provider);

      printf ("%s %s\t%s\t%s\t%s\n", provider == current ? "*" : " ",
              natter_provider_get_name (provider), natter_provider_get_base_url (provider),
              model != NULL ? model : "-", natter_provider_get_id (provider));
    }
  return EXIT_OK;
}

/* --- natter-cli history [search TEXT] ------------------------------------ */

/* "history" alone or followed by "search"; other words after "history"
 * are a prompt. */
static gboolean
is_history_command (const Options *options)
{
  return options->args != NULL && g_strcmp0 (options->args[0], "history") == 0 &&
         (options->args[1] == NULL || g_strcmp0 (options->args[1], "search") == 0);
}

/* Reads the history without creating it, so that looking leaves no file. */
static int
command_history (const Options *options)
{
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (options->args[1] != NULL)
    {
      if (options->args[2] == NULL)
        return usage_error (_("“history search” needs the words to look for"));
      text = g_strjoinv (" ", options->args + 2);
    }

  store = natter_cli_history_open_store (FALSE, &error);
  if (error == NULL)
    {
      if (text != NULL)
        natter_cli_history_print_matches (store, text, options->json, &error);
      else
        natter_cli_history_print_list (store, options->json, &error);
    }
  if (error != NULL)
    {
      fprintf (stderr, "natter-cli: %s\n", error->message);
      return EXIT_FAILED;
    }
  return EXIT_OK;
}

/* --- The key of a kept provider ------------------------------------------ */

typedef struct {
  GMainLoop *loop;
  char      *key;
} KeyLookup;

static void
key_found_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  KeyLookup *lookup = user_data;

  lookup->key = natter_key_store_lookup_finish (NATTER_KEY_STORE (source), result, NULL);
  g_main_loop_quit (lookup->loop);
}

/* Without a keyring, or without a key, the request goes out without one and
 * the provider's answer says what is wrong. */
static void
look_up_key (Options *options)
{
  g_autoptr(NatterKeyStore) keys = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  KeyLookup lookup;

  if (options->key_provider_id == NULL || options->api_key != NULL)
    return;
  keys = natter_key_store_new ();
  loop = g_main_loop_new (NULL, FALSE);
  lookup = (KeyLookup) { loop, NULL };
  natter_key_store_lookup_async (keys, options->key_provider_id, NULL, key_found_cb, &lookup);
  g_main_loop_run (loop);
  options->api_key = lookup.key;
}

static int
dispatch (Options *options)
{
  g_autoptr(NatterCliOutput) output = natter_cli_output_new (options->json);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Run run = { .loop = loop, .cancellable = cancellable, .output = output, .exit_status = EXIT_OK };
  int status;

  if (is_command (options, "sse-decode"))
    return command_sse_decode (options);
  look_up_key (options);
  if (is_command (options, "models"))
    status = command_models (options, &run);
  else
    status = command_chat (options, &run);

  g_clear_object (&run.stream);
  close_conversation (&run);
  return status;
}

int
main (int   argc,
      char *argv[])
{
  g_auto(Options) options = {
    .temperature = -1, .conversation_id = -1, .stall_timeout = NATTER_CLIENT_DEFAULT_STALL_TIMEOUT_MS / 1000,
    .retries = NATTER_CLIENT_DEFAULT_MAX_RETRIES, .chunk_size = 4096,
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(NatterProviderList) providers = NULL;
  const char *invalid;

  natter_environment_init_i18n ();

  if (!parse_options (&options, &argc, &argv, &error))
    return usage_error (error->message);
  if ((invalid = validate_options (&options)) != NULL)
    return usage_error (invalid);
  if (is_history_command (&options))
    return command_history (&options);

  settings = natter_settings_new_if_installed ();
  providers = settings != NULL ? natter_provider_list_new (settings) : NULL;
  if (is_command (&options, "providers"))
    return command_providers (providers);
  if (!apply_defaults (&options, providers, &error) ||
      !natter_client_check_base_url (options.base_url, &error))
    return usage_error (error->message);

  return dispatch (&options);
}
