/* bench-cost-growth.c — does a token cost more as the answer grows?
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Budget: the CPU spent on the last 10 % of a 1 MB answer is at most 1.2
 * times that spent on the first 10 %.
 *
 * The client runs here, the fake provider in its own process.  Two paths are
 * measured: natter-cli's (NatterChatStream into the CLI's output, written to
 * /dev/null) and the app's model (NatterConversation appending to a
 * NatterMessage).  The thread's CPU time is read when the answer reaches
 * each tenth of its bytes; the figure is the median, over several runs, of
 * the last tenth's CPU over the first's.
 *
 * Under callgrind (tests/bench/run.sh --callgrind) the instructions of each
 * tenth are dumped as well, for a ratio that a busy machine cannot blur.
 *
 * Usage: bench-cost-growth [N_TOKENS [RUNS]]
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#ifdef HAVE_VALGRIND_CALLGRIND_H
#include <valgrind/callgrind.h>
#endif

#include "bench-common.h"
#include "natter-chat-stream.h"
#include "natter-cli-output.h"
#include "natter-conversation.h"

#define MODEL "natter-fake-1"

typedef struct {
  const char      *name;
  GMainLoop       *loop;
  NatterCliOutput *output;
  gsize            total;      /* the answer's length; 0 while it is learnt */
  gsize            received;
  guint            next_tenth;
  double           cpu[11];    /* at the first byte, then at each tenth */
  GError          *error;
} Run;

/* Under callgrind, the instructions since the last dump go to a file
 * named after the tenth; elsewhere this costs nothing. */
static void
dump_instructions (Run   *run,
                   guint  tenth)
{
#ifdef HAVE_VALGRIND_CALLGRIND_H
  if (RUNNING_ON_VALGRIND && run->total > 0)
    {
      g_autofree char *label = g_strdup_printf ("%s, tenth %u", run->name, tenth);

      CALLGRIND_DUMP_STATS_AT (label);
    }
#endif
}

static void
count_content (Run   *run,
               gsize  len)
{
  double now = bench_thread_cpu ();

  if (run->received == 0)
    {
      run->cpu[0] = now;
      dump_instructions (run, 0);
    }
  run->received += len;
  while (run->total > 0 && run->next_tenth <= 10 &&
         run->received * 10 >= run->total * run->next_tenth)
    {
      run->cpu[run->next_tenth] = now;
      dump_instructions (run, run->next_tenth++);
    }
}

/* --- natter-cli's path --------------------------------------------------- */

static void
cli_delta_cb (NatterChatStream *stream,
              const char       *text,
              Run              *run)
{
  natter_cli_output_delta (run->output, text);
  count_content (run, strlen (text));
}

static void
stream_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Run *run = user_data;

  natter_chat_stream_run_finish (NATTER_CHAT_STREAM (source), result, &run->error);
  g_main_loop_quit (run->loop);
}

static void
run_cli (NatterClient *client,
         Run          *run)
{
  g_autoptr(NatterChatRequest) request = natter_chat_request_new (MODEL);
  g_autoptr(NatterChatStream) stream = NULL;

  natter_chat_request_add_message (request, "user", "hi");
  stream = natter_chat_stream_new (client, request);
  run->output = natter_cli_output_new (FALSE);
  g_signal_connect (stream, "delta", G_CALLBACK (cli_delta_cb), run);
  natter_chat_stream_run_async (stream, NULL, stream_done_cb, run);
  g_main_loop_run (run->loop);
  natter_cli_output_done (run->output, stream);
  natter_cli_output_free (run->output);
}

/* --- The app's model ----------------------------------------------------- */

static void
content_appended_cb (NatterMessage *message,
                     guint          offset,
                     const char    *text,
                     Run           *run)
{
  count_content (run, strlen (text));
}

static void
items_changed_cb (GListModel *list,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Run        *run)
{
  g_autoptr(NatterMessage) last = NULL;

  if (added == 0)
    return;
  last = g_list_model_get_item (list, position + added - 1);
  if (natter_message_get_role (last) == NATTER_ROLE_ASSISTANT)
    g_signal_connect (last, "content-appended", G_CALLBACK (content_appended_cb), run);
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(NatterMessage) answer = NULL;

  answer = natter_conversation_send_finish (NATTER_CONVERSATION (source), result, &run->error);
  g_main_loop_quit (run->loop);
}

static void
run_model (NatterClient *client,
           Run          *run)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();

  g_signal_connect (conversation, "items-changed", G_CALLBACK (items_changed_cb), run);
  natter_conversation_send_async (conversation, client, MODEL, "hi", NULL, sent_cb, run);
  g_main_loop_run (run->loop);
}

/* --- Measuring ----------------------------------------------------------- */

typedef void (*RunFunc) (NatterClient *client,
                         Run          *run);

/* Runs once; returns the answer's length. */
static gsize
run_once (NatterClient *client,
          const char   *name,
          RunFunc       func,
          gsize         total,
          double        cpu[11])
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Run run = { .name = name, .loop = loop, .total = total, .next_tenth = 1 };
  int saved_stdout;
  int null_fd = open ("/dev/null", O_WRONLY);

  /* natter-cli's output goes where curl's went in bench-cli-cpu. */
  fflush (stdout);
  saved_stdout = dup (STDOUT_FILENO);
  dup2 (null_fd, STDOUT_FILENO);
  close (null_fd);

  func (client, &run);

  fflush (stdout);
  dup2 (saved_stdout, STDOUT_FILENO);
  close (saved_stdout);

  if (run.error != NULL)
    g_error ("The answer failed: %s", run.error->message);
  if (total > 0 && (run.received != total || run.next_tenth != 11))
    g_error ("The answer was %" G_GSIZE_FORMAT " bytes, not %" G_GSIZE_FORMAT, run.received, total);
  if (cpu != NULL)
    memcpy (cpu, run.cpu, sizeof run.cpu);
  return run.received;
}

static gboolean
measure (NatterClient *client,
         const char   *name,
         RunFunc       func,
         guint         runs)
{
  gsize total = run_once (client, name, func, 0, NULL);   /* learns the length, warms up */
  g_autofree double *ratios = g_new (double, runs);
  double tenths[10] = { 0 };
  double ratio;
  gboolean pass;
  g_autofree char *label = NULL;
  g_autofree char *figure = NULL;
  GString *line = g_string_new (NULL);

  for (guint r = 0; r < runs; r++)
    {
      double cpu[11];

      run_once (client, name, func, total, cpu);
      ratios[r] = (cpu[10] - cpu[9]) / (cpu[1] - cpu[0]);
      for (guint i = 0; i < 10; i++)
        tenths[i] += (cpu[i + 1] - cpu[i]) / runs;
    }
  ratio = bench_median (ratios, runs);
  pass = ratio <= 1.2;

  for (guint i = 0; i < 10; i++)
    g_string_append_printf (line, " %.0f", tenths[i] * 1e3);
  printf ("# %s: %.2f MB answer, CPU per tenth, ms (mean of %u runs):%s\n",
          name, total / 1e6, runs, line->str);
  g_string_free (line, TRUE);

  label = g_strdup_printf ("cost growth, %s", name);
  figure = g_strdup_printf ("last/first tenth %.2f× (%.0f vs %.0f ms)", ratio,
                            tenths[9] * 1e3, tenths[0] * 1e3);
  bench_result (label, figure, "≤ 1.2×", pass);
  return pass;
}

int
main (int   argc,
      char *argv[])
{
  /* The fake provider's words average about 6.3 bytes with their space. */
  guint n_tokens = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 166000;
  guint runs = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 5;
  g_autofree char *tokens = g_strdup_printf ("%u", n_tokens);
  const char * const args[] = { "--tokens", tokens, "--interval-ms", "0", NULL };
  g_autoptr(NatterClient) client = NULL;
  g_autofree char *url = NULL;
  gboolean pass = TRUE;
  GPid pid;

  url = bench_spawn_provider (args, &pid);
  client = natter_client_new (url, "bench");

  pass &= measure (client, "natter-cli path", run_cli, runs);
  pass &= measure (client, "conversation model", run_model, runs);

  g_clear_object (&client);
  bench_stop_provider (pid);
  return pass ? 0 : 1;
}
