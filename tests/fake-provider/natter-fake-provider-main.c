/* natter-fake-provider-main.c — try Natter without an account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Serves the fake provider on 127.0.0.1 until interrupted. The first line
 * on stdout is the base URL to give Natter.
 */

#include "natter-fake-provider.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>

/* Enough words that a person watching sees prose stream in. */
static const char * const words[] = {
  "Lorem", "ipsum", "dolor", "sit", "amet,", "consectetur", "adipiscing",
  "elit,", "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore",
  "et", "dolore", "magna", "aliqua.", "Ut", "enim", "ad", "minim", "veniam,",
  "quis", "nostrud", "exercitation", "ullamco", "laboris", "nisi", "ut",
  "aliquip", "ex", "ea", "commodo", "consequat.",
};

#define WORDS_PER_LINE 12

typedef struct {
  int    port;
  int    tokens;
  int    interval_ms;
  int    split;
  int    reasoning;
  char  *key;
} Options;

static char *
word_token (guint i)
{
  const char *word = words[i % G_N_ELEMENTS (words)];
  const char *separator = (i + 1) % WORDS_PER_LINE == 0 ? "\n" : " ";

  return g_strconcat (word, separator, NULL);
}

static NatterFakeScript *
build_script (const Options *options)
{
  NatterFakeScript *script = natter_fake_script_new (SOUP_STATUS_OK);

  natter_fake_script_set_interval (script, options->interval_ms);
  natter_fake_script_set_split (script, options->split);

  for (int i = 0; i < options->reasoning; i++)
    {
      g_autofree char *token = g_strdup_printf ("thinking %d… ", i + 1);

      natter_fake_script_add_reasoning (script, token);
    }

  for (int i = 0; i < options->tokens; i++)
    {
      g_autofree char *token = word_token (i);

      natter_fake_script_add_content (script, token);
    }

  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_usage (script, 10, options->reasoning + options->tokens);
  natter_fake_script_add_done (script);

  return script;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);

  return G_SOURCE_REMOVE;
}

static void
request_received_cb (NatterFakeProvider *provider,
                     guint               index,
                     gpointer            data)
{
  const NatterFakeRequest *request = natter_fake_provider_get_request (provider, index);

  g_printerr ("%s %s\n", request->method, request->path);
}

static gboolean
parse_options (int      *argc,
               char   ***argv,
               Options  *options)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_INT, &options->port, "Port to listen on (0 picks a free one)", "N" },
    { "tokens", 0, 0, G_OPTION_ARG_INT, &options->tokens, "Content tokens per answer", "N" },
    { "interval-ms", 0, 0, G_OPTION_ARG_INT, &options->interval_ms, "Delay between writes", "MS" },
    { "split", 0, 0, G_OPTION_ARG_INT, &options->split, "Write at most this many bytes at once (0 = whole events)", "BYTES" },
    { "reasoning", 0, 0, G_OPTION_ARG_INT, &options->reasoning, "Reasoning chunks before the answer", "N" },
    { "key", 0, 0, G_OPTION_ARG_STRING, &options->key, "Require this API key", "KEY" },
    G_OPTION_ENTRY_NULL
  };

  g_option_context_set_summary (context,
                                "Serves a fake OpenAI-compatible API on 127.0.0.1.\n"
                                "The first line printed is the base URL.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }

  if (options->port < 0 || options->port > G_MAXUINT16 || options->tokens < 0 ||
      options->interval_ms < 0 || options->split < 0 || options->reasoning < 0)
    {
      g_printerr ("Options must not be negative, and the port must be below 65536.\n");
      return FALSE;
    }

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  Options options = { 0, 32, 20, 0, 0, NULL };
  g_autoptr(NatterFakeProvider) provider = NULL;
  g_autoptr(NatterFakeScript) script = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *base_url = NULL;

  setlocale (LC_ALL, "");

  if (!parse_options (&argc, &argv, &options))
    return 2;

  provider = natter_fake_provider_new ();
  script = build_script (&options);
  natter_fake_provider_set_default (provider, script);
  natter_fake_provider_set_required_key (provider, options.key);
  g_signal_connect (provider, "request-received", G_CALLBACK (request_received_cb), NULL);

  if (!natter_fake_provider_listen (provider, options.port, &error))
    {
      g_printerr ("Cannot listen on port %d: %s\n", options.port, error->message);
      g_free (options.key);
      return 1;
    }

  base_url = natter_fake_provider_dup_base_url (provider);
  printf ("%s\n", base_url);
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);

  g_free (options.key);
  return 0;
}
