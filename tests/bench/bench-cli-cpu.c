/* bench-cli-cpu.c — natter-cli's CPU per streamed token, against curl's
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Budget: natter-cli spends at most 1.5 times the CPU that `curl -N` spends
 * receiving the same 50,000-token stream from the fake provider on
 * loopback, in the same run.  Both write what they receive to /dev/null;
 * the figure is the user + system CPU of the client process (wait4), the
 * median of several runs taken in turns, so that a busy spell on a shared
 * machine hits both alike.
 *
 * Usage: bench-cli-cpu [N_TOKENS [RUNS]]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench-common.h"

#define REQUEST_BODY \
  "{\"model\":\"natter-fake-1\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"

typedef struct {
  char  *url;
  GPid   pid;
  char **curl_argv;
  char **cli_argv;
} Target;

static char **
client_environment (void)
{
  char **envp = g_get_environ ();
  const char * const drop[] = {
    "NATTER_BASE_URL", "NATTER_API_KEY", "NATTER_MODEL", "OPENAI_BASE_URL",
    "OPENAI_API_KEY", "OPENROUTER_API_KEY",
  };

  /* Settings in memory: no dconf, no session bus in the way. */
  for (guint i = 0; i < G_N_ELEMENTS (drop); i++)
    envp = g_environ_unsetenv (envp, drop[i]);
  envp = g_environ_setenv (envp, "GSETTINGS_BACKEND", "memory", TRUE);
  envp = g_environ_setenv (envp, "NO_COLOR", "1", TRUE);
  return envp;
}

static Target *
target_new (const char *curl,
            guint       n_tokens)
{
  Target *t = g_new0 (Target, 1);
  g_autofree char *tokens = g_strdup_printf ("%u", n_tokens);
  const char * const args[] = { "--tokens", tokens, "--interval-ms", "0", NULL };
  g_autofree char *chat_url = NULL;

  t->url = bench_spawn_provider (args, &t->pid);
  chat_url = g_strconcat (t->url, "/chat/completions", NULL);
  t->curl_argv = g_strdupv ((char *[]) {
    (char *) curl, "-sSN", "-o", "/dev/null", "-H", "Content-Type: application/json",
    "-H", "Accept: text/event-stream", "--data-binary", REQUEST_BODY, chat_url, NULL });
  t->cli_argv = g_strdupv ((char *[]) {
    BENCH_NATTER_CLI_PATH, "--base-url", t->url, "--api-key", "bench", "--model", "natter-fake-1",
    "hi", NULL });
  return t;
}

static void
target_free (Target *t)
{
  bench_stop_provider (t->pid);
  g_free (t->url);
  g_strfreev (t->curl_argv);
  g_strfreev (t->cli_argv);
  g_free (t);
}

static double
run (char **argv,
     char **envp)
{
  int status = 0;
  double cpu = bench_run_child ((const char * const *) argv, (const char * const *) envp, &status);

  if (cpu < 0 || status != 0)
    {
      g_printerr ("%s failed (exit status %d)\n", argv[0], status);
      exit (2);
    }
  return cpu;
}

/* Medians of curl's and natter-cli's CPU over @runs runs taken in turns. */
static void
measure (Target  *t,
         char   **envp,
         guint    runs,
         double  *curl_cpu,
         double  *cli_cpu)
{
  g_autofree double *curl_times = g_new (double, runs);
  g_autofree double *cli_times = g_new (double, runs);

  /* One of each first, so that both start from warm caches. */
  run (t->curl_argv, envp);
  run (t->cli_argv, envp);
  for (guint i = 0; i < runs; i++)
    {
      curl_times[i] = run (t->curl_argv, envp);
      cli_times[i] = run (t->cli_argv, envp);
    }
  *curl_cpu = bench_median (curl_times, runs);
  *cli_cpu = bench_median (cli_times, runs);
}

int
main (int   argc,
      char *argv[])
{
  guint n_tokens = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 50000;
  guint runs = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 7;
  g_autofree char *curl = g_find_program_in_path ("curl");
  g_auto(GStrv) envp = client_environment ();
  Target *stream, *tiny;
  double curl_cpu, cli_cpu, curl_start, cli_start, ratio;
  g_autofree char *figure = NULL;

  if (curl == NULL)
    {
      printf ("SKIP cli-cpu: curl is not installed (apt-get install curl)\n");
      return 77;
    }

  stream = target_new (curl, n_tokens);
  tiny = target_new (curl, 1);

  measure (tiny, envp, runs, &curl_start, &cli_start);
  measure (stream, envp, runs, &curl_cpu, &cli_cpu);
  ratio = cli_cpu / curl_cpu;

  printf ("# %u-token stream, median of %u runs each, user+sys CPU of the client process\n",
          n_tokens, runs);
  printf ("# curl       %6.3f s  (%.2f µs/token)   a 1-token stream: %.3f s\n",
          curl_cpu, curl_cpu / n_tokens * 1e6, curl_start);
  printf ("# natter-cli %6.3f s  (%.2f µs/token)   a 1-token stream: %.3f s\n",
          cli_cpu, cli_cpu / n_tokens * 1e6, cli_start);

  figure = g_strdup_printf ("%.2f× curl (%.2f vs %.2f µs/token)", ratio,
                            cli_cpu / n_tokens * 1e6, curl_cpu / n_tokens * 1e6);
  bench_result ("natter-cli CPU per token", figure, "≤ 1.5× curl", ratio <= 1.5);

  target_free (tiny);
  target_free (stream);
  return ratio <= 1.5 ? 0 : 1;
}
