/* test-faults.c — the fault matrix: what a bad server or network does to a chat
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each case sends a message the way the window does: through a
 * NatterConversation of a NatterHistory on a NatterStore in a temporary
 * directory, to the fake provider (or to a port, host or TLS server that
 * fails on purpose). Whatever the fault, the user must be left with
 *
 *   - an error they can understand: a sentence of ours that names the
 *     problem, not a bare library message such as "Unexpected EOF";
 *   - the partial answer: what was streamed before the fault, no more (a
 *     cut event is dropped whole) and no less;
 *   - their own message, in memory and in the file, as the next start of
 *     Natter reads it through a second NatterStore;
 *   - a process that did not grow with what the server sent.
 *
 * Network failures before the first token are retried (here 2 retries,
 * 10 ms apart, unless a case needs otherwise), so each case also shows
 * how many requests the server saw. No case reaches beyond 127.0.0.1: the
 * unresolvable host uses the reserved .invalid domain, and proxies from
 * the environment are ignored.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "natter-api-error.h"
#include "natter-fake-provider.h"
#include "natter-history.h"
#include "natter-store.h"
#include "natter-test-util.h"

#define KEY     "sk-faults-3f9a0c27e1b84d56"
#define MODEL   "natter-fake-1"
#define WAIT_MS 30000
#define MiB     ((gsize) 1024 * 1024)

/* The brief's generous bound for the whole process. */
#define RSS_LIMIT (200 * MiB)

typedef struct {
  char               *dir;
  char               *path;
  NatterFakeProvider *provider;
  char               *base_url;
  NatterClient       *client;
  NatterStore        *store;
  NatterHistory      *history;
  NatterConversation *conversation;

  /* The last send */
  gboolean            done;
  NatterMessage      *result;
  GError             *error;
  gint64              start_us;
  gint64              end_us;
  guint               max_retry_delay_ms;

  /* Memory while it ran */
  gsize               rss_before;
  gsize               rss_peak;
} Fixture;

/* --- Memory ---------------------------------------------------------------- */

static gsize
resident_bytes (void)
{
  g_autofree char *statm = NULL;
  unsigned long size = 0, resident = 0;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%lu %lu", &size, &resident), ==, 2);
  return (gsize) resident * (gsize) sysconf (_SC_PAGESIZE);
}

/* AddressSanitizer keeps freed memory in quarantine, and valgrind adds its
 * own: under either, resident sizes say nothing of Natter's. */
static gboolean
memory_is_measurable (void)
{
#if defined(__SANITIZE_ADDRESS__)
  return FALSE;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return FALSE;
#endif
#endif
  return g_getenv ("LD_PRELOAD") == NULL || strstr (g_getenv ("LD_PRELOAD"), "vgpreload") == NULL;
}

/* Under valgrind everything takes several times as long: timeouts that
 * must not fire before the server's first bytes arrive grow as much. */
static guint
slowdown (void)
{
  const char *preload = g_getenv ("LD_PRELOAD");

  return preload != NULL && strstr (preload, "vgpreload") != NULL ? 5 : 1;
}

/* The memory the last send added, at its peak, must be under @limit. */
static void
assert_growth_below (gsize  before,
                     gsize  peak,
                     gsize  limit)
{
  if (!memory_is_measurable ())
    {
      g_test_message ("Memory not checked under a sanitizer or valgrind");
      return;
    }
  g_assert_cmpuint (peak, <, RSS_LIMIT);
  g_assert_cmpuint (peak - before, <, limit);
}

static gboolean
sample_rss_cb (gpointer user_data)
{
  Fixture *f = user_data;

  f->rss_peak = MAX (f->rss_peak, resident_bytes ());
  return G_SOURCE_CONTINUE;
}

/* --- Fixture ---------------------------------------------------------------- */

static NatterClient *
new_client (const char *base_url)
{
  NatterClient *client = natter_client_new (base_url, KEY);

  natter_client_set_max_retries (client, 2);
  natter_client_set_retry_base_ms (client, 10);
  /* No case may wait for the default minute. */
  natter_client_set_stall_timeout_ms (client, 10000);
  return client;
}

static void
use_base_url (Fixture    *f,
              const char *base_url)
{
  g_clear_object (&f->client);
  f->client = new_client (base_url);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("natter-faults-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "natter.db", NULL);
  f->store = natter_store_open (f->path, &error);
  g_assert_no_error (error);
  f->history = natter_history_new (f->store, &error);
  g_assert_no_error (error);

  f->provider = natter_fake_provider_new ();
  g_assert_true (natter_fake_provider_listen (f->provider, 0, &error));
  g_assert_no_error (error);
  f->base_url = natter_fake_provider_dup_base_url (f->provider);
  f->client = new_client (f->base_url);

  f->conversation = natter_history_create (f->history);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->conversation);
  g_assert_finalize_object (f->history);
  g_assert_finalize_object (f->store);
  g_clear_object (&f->result);
  g_clear_error (&f->error);
  g_clear_object (&f->client);
  g_assert_finalize_object (f->provider);
  natter_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
  g_free (f->base_url);
}

/* --- Sending ---------------------------------------------------------------- */

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
send_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Fixture *f = user_data;

  f->result = natter_conversation_send_finish (NATTER_CONVERSATION (source), result, &f->error);
  f->end_us = g_get_monotonic_time ();
  f->done = TRUE;
}

static void
retry_delay_cb (NatterMessage *message,
                GParamSpec    *pspec,
                Fixture       *f)
{
  f->max_retry_delay_ms = MAX (f->max_retry_delay_ms, natter_message_get_retry_delay_ms (message));
}

static void
conversation_items_cb (GListModel *model,
                       guint       position,
                       guint       removed,
                       guint       added,
                       Fixture    *f)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(NatterMessage) message = g_list_model_get_item (model, i);

      if (natter_message_get_role (message) == NATTER_ROLE_ASSISTANT)
        g_signal_connect (message, "notify::retry-delay-ms", G_CALLBACK (retry_delay_cb), f);
    }
}

/* Sends @text and runs the main loop until the answer ends, sampling the
 * process's memory meanwhile. A fault that makes the call hang fails the
 * test after WAIT_MS rather than hanging it. */
static void
send (Fixture    *f,
      const char *text)
{
  gboolean timed_out = FALSE;
  guint timeout_id, sampler_id;

  g_clear_object (&f->result);
  g_clear_error (&f->error);
  f->done = FALSE;
  f->max_retry_delay_ms = 0;
  f->rss_before = f->rss_peak = resident_bytes ();

  g_signal_connect (f->conversation, "items-changed", G_CALLBACK (conversation_items_cb), f);
  sampler_id = g_timeout_add (10, sample_rss_cb, f);
  timeout_id = g_timeout_add (WAIT_MS * slowdown (), set_flag_cb, &timed_out);
  f->start_us = g_get_monotonic_time ();
  natter_conversation_send_async (f->conversation, f->client, MODEL, text, NULL, send_done_cb, f);
  while (!f->done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!f->done)
    g_error ("The send of “%s” did not end within %u ms", text, WAIT_MS * slowdown ());
  g_source_remove (timeout_id);
  g_source_remove (sampler_id);
  sample_rss_cb (f);
  g_signal_handlers_disconnect_by_data (f->conversation, f);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (f->conversation)); i++)
    g_signal_handlers_disconnect_by_data (natter_conversation_get_message (f->conversation, i), f);

  g_test_message ("%.2f s, RSS %zu MiB before, peak %zu MiB", (f->end_us - f->start_us) / 1e6,
                  f->rss_before / MiB, f->rss_peak / MiB);
  assert_growth_below (f->rss_before, f->rss_peak, RSS_LIMIT);
}

static guint
n_requests (Fixture *f)
{
  return natter_fake_provider_get_n_requests (f->provider);
}

/* --- What the user is left with ---------------------------------------------- */

/* Messages that libraries put in their errors: shown alone, they tell the
 * user nothing. Ours may quote them, after a sentence of our own. */
static const char * const raw_messages[] = {
  "Unexpected EOF", "Connection terminated unexpectedly", "Error resolving",
  "Could not connect", "Unacceptable TLS certificate", "Operation was cancelled",
  "Socket I/O timed out", "Error receiving data", "Error sending data", "Connection reset",
  "Broken pipe", "Stopped", "Error parsing", "Invalid", "Parse error", "HTTP",
};

/* @message reads as a sentence for a person, and holds every one of @words
 * (case apart). */
static void
assert_clear_message (const char         *message,
                      const char * const *words)
{
  g_autofree char *folded = NULL;

  g_assert_nonnull (message);
  g_assert_true (g_utf8_validate (message, -1, NULL));
  /* Long enough to say something, short enough for an error bar. */
  g_assert_cmpuint (g_utf8_strlen (message, -1), >=, 20);
  g_assert_cmpuint (g_utf8_strlen (message, -1), <=, 400);
  g_assert_true (g_unichar_isupper (g_utf8_get_char (message)));
  /* Not an HTML page dumped as it came, nor binary. */
  g_assert_null (strchr (message, '<'));
  for (const char *p = message; *p != '\0'; p = g_utf8_next_char (p))
    g_assert_false (g_unichar_iscntrl (g_utf8_get_char (p)));
  for (guint i = 0; i < G_N_ELEMENTS (raw_messages); i++)
    g_assert_false (g_str_has_prefix (message, raw_messages[i]));
  g_assert_null (strstr (message, KEY));

  folded = g_utf8_casefold (message, -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *word = g_utf8_casefold (words[i], -1);

      if (strstr (folded, word) == NULL)
        g_error ("“%s” does not say “%s”", message, words[i]);
    }
}

static NatterConversation *
reopen (Fixture      *f,
        NatterStore **store)
{
  g_autoptr(GError) error = NULL;
  NatterConversation *conversation;

  natter_history_flush (f->history);
  *store = natter_store_open (f->path, &error);
  g_assert_no_error (error);
  conversation = natter_store_load_conversation (*store, natter_conversation_get_id (f->conversation),
                                                 &error);
  g_assert_no_error (error);
  return conversation;
}

/* The question is the first message and the answer the second, in memory
 * and in the file, the answer in @state with @partial as its text. */
static void
assert_kept (Fixture            *f,
             const char         *question,
             NatterMessageState  state,
             const char         *partial)
{
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterConversation) saved = NULL;
  NatterConversation *conversations[2] = { f->conversation, NULL };

  conversations[1] = saved = reopen (f, &store);
  for (guint i = 0; i < G_N_ELEMENTS (conversations); i++)
    {
      NatterConversation *conversation = conversations[i];
      NatterMessage *user, *answer;
      const GError *error;

      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 2);
      user = natter_conversation_get_message (conversation, 0);
      g_assert_cmpint (natter_message_get_role (user), ==, NATTER_ROLE_USER);
      g_assert_cmpint (natter_message_get_state (user), ==, NATTER_MESSAGE_STATE_COMPLETE);
      g_assert_cmpstr (natter_message_get_content (user), ==, question);

      answer = natter_conversation_get_message (conversation, 1);
      g_assert_cmpint (natter_message_get_role (answer), ==, NATTER_ROLE_ASSISTANT);
      g_assert_cmpint (natter_message_get_state (answer), ==, state);
      g_assert_true (g_utf8_validate (natter_message_get_content (answer), -1, NULL));
      if (partial != NULL)
        g_assert_cmpstr (natter_message_get_content (answer), ==, partial);
      g_assert_cmpuint (natter_message_get_retry_delay_ms (answer), ==, 0);

      error = natter_message_get_error (answer);
      if (state != NATTER_MESSAGE_STATE_FAILED)
        g_assert_null (error);
      else
        {
          /* The error shown next to the answer, now and after a restart,
           * is the one the call ended with. */
          g_assert_nonnull (error);
          g_assert_cmpstr (error->message, ==, f->error->message);
        }
    }
  /* Nothing else was saved. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->history)), ==, 1);
}

/* The send failed with @code, in words that name the problem; the question
 * and the @partial answer are kept. */
static void
assert_fault (Fixture            *f,
              const char         *question,
              int                 code,
              const char         *partial,
              const char * const *words)
{
  g_assert_error (f->error, NATTER_API_ERROR, code);
  g_assert_null (f->result);
  g_test_message ("error: %s", f->error->message);
  assert_clear_message (f->error->message, words);
  assert_kept (f, question, NATTER_MESSAGE_STATE_FAILED, partial);
}

#define WORDS(...) ((const char * const []) { __VA_ARGS__, NULL })

/* --- Scripts ------------------------------------------------------------------ */

/* The start of a content chunk, up to the opening quote of its text. */
#define CONTENT_HEAD "data: {\"id\":\"chatcmpl-fake\",\"model\":\"natter-fake-1\"," \
                     "\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
#define CONTENT_TAIL "\"},\"finish_reason\":null}]}\n\n"

static NatterFakeScript *
new_script (guint status)
{
  return natter_fake_script_new (status);
}

static void
finish_script (NatterFakeScript *script)
{
  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_usage (script, 12, 3);
  natter_fake_script_add_done (script);
}

/* --- Hang-ups ------------------------------------------------------------------ */

static void
test_hang_up_before_headers (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_HANG_UP_BEFORE_HEADERS);
  natter_fake_provider_set_default (f->provider, script);
  send (f, "Are you there?");

  /* Every attempt met it: the retries were used up, then the user told. */
  assert_fault (f, "Are you there?", NATTER_API_ERROR_NETWORK, "",
                WORDS ("provider", "closed the connection before answering"));
  g_assert_cmpuint (n_requests (f), ==, 3);
}

static void
test_hang_up_after_headers (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_fake_script_add_pause (script, 50);
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_HANG_UP);
  natter_fake_provider_set_default (f->provider, script);
  send (f, "Hello?");

  assert_fault (f, "Hello?", NATTER_API_ERROR_TRUNCATED, "", WORDS ("cut off"));
  g_assert_cmpuint (n_requests (f), ==, 3);
}

static void
test_hang_up_mid_event (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_fake_script_add_content (script, "Hello, ");
  natter_fake_script_add_content (script, "wide ");
  natter_fake_script_add_raw (script, CONTENT_HEAD "wor", -1);
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_HANG_UP);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Say hello to the world");

  /* The cut event is dropped whole; once text was shown nothing is
   * retried, which would repeat it. */
  assert_fault (f, "Say hello to the world", NATTER_API_ERROR_TRUNCATED, "Hello, wide ",
                WORDS ("cut off"));
  g_assert_cmpuint (n_requests (f), ==, 1);
}

/* Every write a byte, so that each multi-byte character of the streamed
 * text is also cut between two reads; the hang-up comes between the two
 * bytes of an "ö". */
static void
test_hang_up_mid_utf8 (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_fake_script_set_split (script, 1);
  natter_fake_script_add_content (script, "Grüße aus ");
  natter_fake_script_add_content (script, "Zürich — ");
  natter_fake_script_add_raw (script, CONTENT_HEAD "K\xC3", -1);
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_HANG_UP);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Grüß mich");

  assert_fault (f, "Grüß mich", NATTER_API_ERROR_TRUNCATED, "Grüße aus Zürich — ",
                WORDS ("cut off"));
  g_assert_cmpuint (n_requests (f), ==, 1);
}

/* --- Stall and slowness ------------------------------------------------------------ */

static void
test_stall (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  guint timeout_ms = 1000 * slowdown ();
  g_autofree char *said = g_strdup_printf (timeout_ms == 1000 ? "%u second" : "%u seconds",
                                           timeout_ms / 1000);

  natter_client_set_stall_timeout_ms (f->client, timeout_ms);
  natter_fake_script_add_content (script, "Thinking about it… ");
  natter_fake_script_set_ending (script, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Think hard");

  assert_fault (f, "Think hard", NATTER_API_ERROR_STALLED, "Thinking about it… ",
                WORDS ("provider", "sent nothing", said));
  g_assert_cmpint (f->end_us - f->start_us, >=, timeout_ms * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (f->end_us - f->start_us, <, 5 * timeout_ms * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (n_requests (f), ==, 1);
}

/* One byte a second keeps a stream alive: only silence is a stall. The
 * stream lasts twice the stall timeout, and no gap reaches it. */
static void
test_slow_server (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_client_set_stall_timeout_ms (f->client, 3000 * slowdown ());
  natter_fake_script_set_interval (script, 1000);
  natter_fake_script_add_raw (script, CONTENT_HEAD "Slow " CONTENT_TAIL CONTENT_HEAD "and steady", -1);
  natter_fake_script_set_split (script, 1);
  natter_fake_script_add_raw (script, "\"},\"fi", -1);
  natter_fake_script_set_split (script, 0);
  /* The rest at once: every write costs a second. */
  natter_fake_script_add_raw (script, "nish_reason\":null}]}\n\n"
                              "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                              "data: [DONE]\n\n", -1);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Take your time");

  g_assert_no_error (f->error);
  g_assert_nonnull (f->result);
  assert_kept (f, "Take your time", NATTER_MESSAGE_STATE_COMPLETE, "Slow and steady");
  g_assert_cmpint (f->end_us - f->start_us, >=, 6000 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (n_requests (f), ==, 1);
}

/* --- Statuses ------------------------------------------------------------------ */

static void
test_rate_limited_retry_after (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (429);

  natter_client_set_max_retries (f->client, 1);
  natter_fake_script_set_header (script, "Retry-After", "1");
  natter_fake_script_set_body (script, "{\"error\":{\"message\":\"Rate limit reached for requests\","
                                       "\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}");
  natter_fake_provider_set_default (f->provider, script);
  send (f, "Quick question");

  assert_fault (f, "Quick question", NATTER_API_ERROR_RATE_LIMITED, "",
                WORDS ("limiting requests", "429", "Rate limit reached for requests"));
  /* The wait was the server's second, shown as a countdown, not the
   * 10 ms backoff of the client. */
  g_assert_cmpuint (n_requests (f), ==, 2);
  g_assert_cmpuint (f->max_retry_delay_ms, ==, 1000);
  g_assert_cmpint (f->end_us - f->start_us, >=, 1000 * G_TIME_SPAN_MILLISECOND);
}

static void
test_rate_limited (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (429);

  natter_fake_script_set_body (script, "{\"error\":{\"message\":\"Too many requests, slow down\"}}");
  natter_fake_provider_set_default (f->provider, script);
  send (f, "Quick question");

  assert_fault (f, "Quick question", NATTER_API_ERROR_RATE_LIMITED, "",
                WORDS ("limiting requests", "429", "slow down"));
  g_assert_cmpuint (n_requests (f), ==, 3);
  g_assert_cmpuint (f->max_retry_delay_ms, >, 0);
  g_assert_cmpuint (f->max_retry_delay_ms, <=, 20);
}

/* Every attempt fails with another 5xx; the retry budget (3 retries, the
 * app's default) runs out and the last one is reported. A fifth script
 * that would have worked is never asked for. */
static void
test_server_error_storm (Fixture       *f,
                         gconstpointer  data)
{
  static const struct {
    guint       status;
    const char *content_type;
    const char *body;
  } storm[] = {
    { 500, "application/json", "{\"error\":{\"message\":\"Internal error\"}}" },
    { 502, "application/json", "{\"error\":{\"message\":\"Upstream unavailable\"}}" },
    { 503, "text/plain", "Service Unavailable" },
    { 504, "application/json", "{\"error\":{\"message\":\"Upstream timed out\",\"code\":504}}" },
  };
  g_autoptr(NatterFakeScript) spare = natter_fake_script_new_completion (3);

  natter_client_set_max_retries (f->client, NATTER_CLIENT_DEFAULT_MAX_RETRIES);
  for (guint i = 0; i < G_N_ELEMENTS (storm); i++)
    {
      g_autoptr(NatterFakeScript) script = new_script (storm[i].status);

      natter_fake_script_set_header (script, "Content-Type", storm[i].content_type);
      natter_fake_script_set_body (script, storm[i].body);
      natter_fake_provider_queue (f->provider, script);
    }
  natter_fake_provider_queue (f->provider, spare);
  send (f, "Anyone?");

  assert_fault (f, "Anyone?", NATTER_API_ERROR_SERVER, "",
                WORDS ("server error", "504", "Upstream timed out"));
  g_assert_cmpuint (n_requests (f), ==, 1 + NATTER_CLIENT_DEFAULT_MAX_RETRIES);
}

static void
test_html_502 (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (502);

  natter_fake_script_set_header (script, "Content-Type", "text/html");
  /* A proxy's page, with a Latin-1 byte in it for good measure. */
  natter_fake_script_set_body (script,
                               "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
                               "<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
                               "<hr><center>nginx \xE9</center>\r\n</body>\r\n</html>\r\n");
  natter_fake_provider_set_default (f->provider, script);
  send (f, "Anyone?");

  assert_fault (f, "Anyone?", NATTER_API_ERROR_SERVER, "",
                WORDS ("server error", "502", "Bad Gateway"));
  g_assert_null (strstr (f->error->message, "nginx"));
  g_assert_cmpuint (n_requests (f), ==, 3);
}

/* --- Reaching the server ---------------------------------------------------------- */

/* A port that nobody listens on: bound for a moment, then closed. */
static guint
closed_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  guint port;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_assert_true (g_socket_close (socket, &error));
  return port;
}

static void
test_connection_refused (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *base_url = g_strdup_printf ("http://127.0.0.1:%u/v1", closed_port ());

  use_base_url (f, base_url);
  send (f, "Is the server up?");

  assert_fault (f, "Is the server up?", NATTER_API_ERROR_NETWORK, "",
                WORDS ("could not reach the provider", "refused"));
  g_assert_cmpuint (n_requests (f), ==, 0);
}

static void
test_unresolvable_host (Fixture       *f,
                        gconstpointer  data)
{
  /* .invalid never resolves (RFC 6761); without a network, resolving
   * fails at once, and send() bounds the wait in any case. */
  use_base_url (f, "http://natter-test.invalid/v1");
  send (f, "Hello from nowhere");

  assert_fault (f, "Hello from nowhere", NATTER_API_ERROR_NETWORK, "",
                WORDS ("address", "could not be found", "natter-test.invalid"));
  g_assert_cmpuint (n_requests (f), ==, 0);
}

/* --- TLS ---------------------------------------------------------------------- */

static void
count_request_cb (SoupServer        *server,
                  SoupServerMessage *msg,
                  const char        *path,
                  GHashTable        *query,
                  gpointer           user_data)
{
  guint *count = user_data;

  (*count)++;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/* A key and a certificate for 127.0.0.1 that nobody signed, made now. */
static GTlsCertificate *
self_signed_certificate (const char *dir)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  g_autofree char *cert = g_build_filename (dir, "cert.pem", NULL);
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  GTlsCertificate *certificate;
  int status = 0;
  const char *argv[] = {
    openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
    "-days", "1", "-keyout", key, "-out", cert, NULL
  };

  if (openssl == NULL)
    return NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openssl failed: %s", err);
  certificate = g_tls_certificate_new_from_files (cert, key, &error);
  g_assert_no_error (error);
  return certificate;
}

static void
test_tls_self_signed (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *base_url = NULL;
  g_autoslist(GUri) uris = NULL;
  guint n_server_requests = 0;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("No TLS backend (glib-networking)");
      return;
    }
  certificate = self_signed_certificate (f->dir);
  if (certificate == NULL)
    {
      g_test_skip ("openssl is needed to make a certificate");
      return;
    }

  server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_handler (server, NULL, count_request_cb, &n_server_requests, NULL);
  g_assert_true (soup_server_listen_local (server, 0,
                                           SOUP_SERVER_LISTEN_IPV4_ONLY | SOUP_SERVER_LISTEN_HTTPS,
                                           &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_assert_cmpstr (g_uri_get_scheme (uris->data), ==, "https");
  base_url = g_strdup_printf ("https://127.0.0.1:%d/v1", g_uri_get_port (uris->data));
  use_base_url (f, base_url);
  send (f, "Is this private?");

  assert_fault (f, "Is this private?", NATTER_API_ERROR_NETWORK, "",
                WORDS ("secure connection", "TLS"));
  /* The handshake failed before any request: neither the message nor the
   * key left the client. A bad certificate is not retried either. */
  g_assert_cmpuint (n_server_requests, ==, 0);
  soup_server_disconnect (server);

  /* The handshake ran in a pool thread, which keeps the TLS module's
   * thread-local data; LeakSanitizer (GCC 12's, with glibc 2.36) crashes
   * on that at exit. Idle pool threads are let go. */
  for (guint i = 0; i < 50 && (i < 10 || g_thread_pool_get_num_unused_threads () > 0); i++)
    {
      g_thread_pool_stop_unused_threads ();
      g_usleep (10 * G_TIME_SPAN_MILLISECOND);
    }
}

/* --- Too much --------------------------------------------------------------------- */

static char *
repeat (char  c,
        gsize n)
{
  char *bytes = g_malloc (n + 1);

  memset (bytes, c, n);
  bytes[n] = '\0';
  return bytes;
}

/* 64 MiB without a line end: the client gives up at its line limit, holds
 * no more than that, and keeps what came before. */
static void
test_huge_line (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = NULL;
  g_autofree char *line = NULL;

  /* Under a sanitizer or valgrind, where memory is not measured anyway,
   * this case now and then never finishes tearing down (after its checks
   * passed); the cause is not found yet. It runs in the plain build. */
  if (!memory_is_measurable ())
    {
      g_test_skip ("hangs now and then in teardown under a sanitizer or valgrind");
      return;
    }
  script = new_script (200);
  line = repeat ('A', 64 * MiB);

  memcpy (line, CONTENT_HEAD, strlen (CONTENT_HEAD));
  natter_fake_script_add_content (script, "Before the flood. ");
  natter_fake_script_set_split (script, MiB);
  natter_fake_script_add_raw (script, line, 64 * MiB);
  g_clear_pointer (&line, g_free);
  finish_script (script);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Flood me");

  assert_fault (f, "Flood me", NATTER_API_ERROR_PROTOCOL, "Before the flood. ",
                WORDS ("server", "line", "longer"));
  /* The script holds its 64 MiB (before the send): the client added less
   * than the line, so it did not buffer it whole. */
  assert_growth_below (f->rss_before, f->rss_peak, 48 * MiB);
  g_assert_cmpuint (n_requests (f), ==, 1);
}

/* 10 MB in one event is within limits: it is shown and saved whole, and
 * costs a bounded multiple of its size on the way. */
static void
test_large_event (Fixture       *f,
                  gconstpointer  data)
{
  const gsize size = 10 * 1000 * 1000;
  g_autoptr(NatterFakeScript) script = new_script (200);
  g_autoptr(GString) event = g_string_sized_new (size + 256);
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(NatterConversation) saved = NULL;
  NatterMessage *answer;

  g_string_append (event, CONTENT_HEAD);
  while (event->len < strlen (CONTENT_HEAD) + size)
    g_string_append (event, "0123456789");
  g_string_append (event, CONTENT_TAIL);
  natter_fake_script_add_content (script, "Big: ");
  natter_fake_script_set_split (script, MiB);
  natter_fake_script_add_raw (script, event->str, event->len);
  natter_fake_script_set_split (script, 0);
  g_string_free (g_steal_pointer (&event), TRUE);
  finish_script (script);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Send me a lot");

  g_assert_no_error (f->error);
  answer = natter_conversation_get_message (f->conversation, 1);
  g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpuint (natter_message_get_content_length (answer), ==, strlen ("Big: ") + size);
  g_assert_true (g_str_has_prefix (natter_message_get_content (answer), "Big: 0123456789"));
  g_assert_true (g_str_has_suffix (natter_message_get_content (answer), "56789"));
  assert_growth_below (f->rss_before, f->rss_peak, 150 * MiB);

  saved = reopen (f, &store);
  answer = natter_conversation_get_message (saved, 1);
  g_assert_cmpstr (natter_message_get_content (answer), ==,
                   natter_message_get_content (natter_conversation_get_message (f->conversation, 1)));
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (saved, 0)), ==,
                   "Send me a lot");
}

/* --- Bad content ------------------------------------------------------------------- */

/* Bytes that are not UTF-8 are replaced, not passed on to GTK and SQLite,
 * and do not end the answer. */
static void
test_invalid_utf8 (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_fake_script_add_content (script, "Menu: ");
  natter_fake_script_add_raw (script, CONTENT_HEAD "caf\xC3\xA9 cr\xE8me \xFF\xFE br\xC3" CONTENT_TAIL, -1);
  natter_fake_script_add_content (script, " — fin");
  finish_script (script);
  natter_fake_provider_queue (f->provider, script);
  send (f, "What is on the menu?");

  g_assert_no_error (f->error);
  assert_kept (f, "What is on the menu?", NATTER_MESSAGE_STATE_COMPLETE, NULL);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (f->conversation, 1)), ==,
                   "Menu: café cr\xEF\xBF\xBDme \xEF\xBF\xBD\xEF\xBF\xBD br\xEF\xBF\xBD — fin");
}

static void
test_malformed_json (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_fake_script_add_content (script, "Good so far. ");
  natter_fake_script_add_raw (script, CONTENT_HEAD "broken\"}\n\n", -1);
  natter_fake_script_add_content (script, "Never shown.");
  finish_script (script);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Tell me something");

  assert_fault (f, "Tell me something", NATTER_API_ERROR_PROTOCOL, "Good so far. ",
                WORDS ("provider", "not valid JSON"));
  g_assert_cmpuint (n_requests (f), ==, 1);
}

/* A captive portal answers 200 with its sign-in page. */
static void
test_not_event_stream (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_fake_script_set_header (script, "Content-Type", "text/html; charset=utf-8");
  natter_fake_script_set_body (script, "<!DOCTYPE html><html><head><title>Sign in to Airport Wi-Fi</title>"
                                       "</head><body><form>…</form></body></html>");
  natter_fake_provider_queue (f->provider, script);
  send (f, "Hello?");

  assert_fault (f, "Hello?", NATTER_API_ERROR_PROTOCOL, "",
                WORDS ("instead of an event stream", "text/html", "Sign in to Airport Wi-Fi"));
  g_assert_cmpuint (n_requests (f), ==, 1);
}

/* A server that ignores "stream": true and sends the whole answer as one
 * JSON object. */
static void
test_not_streamed_json (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_fake_script_set_header (script, "Content-Type", "application/json");
  natter_fake_script_set_body (script, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","
                                       "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                                       "\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}");
  natter_fake_provider_queue (f->provider, script);
  send (f, "Hello?");

  assert_fault (f, "Hello?", NATTER_API_ERROR_PROTOCOL, "", WORDS ("server", "event stream"));
  /* The body was not empty: the error must not say it was. */
  g_assert_null (strstr (f->error->message, "empty"));
}

/* A body that says nothing of its type and is not an event stream. */
static void
test_untyped_garbage (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = new_script (200);

  natter_fake_script_set_header (script, "Content-Type", "application/octet-stream");
  natter_fake_script_add_raw (script, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Hello?");

  assert_fault (f, "Hello?", NATTER_API_ERROR_PROTOCOL, "", WORDS ("event stream"));
}

int
main (int   argc,
      char *argv[])
{
  static const char * const proxy_variables[] = {
    "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
  };

  /* Loopback only: no proxy may be asked for the .invalid host, or any. */
  for (guint i = 0; i < G_N_ELEMENTS (proxy_variables); i++)
    g_unsetenv (proxy_variables[i]);
  g_setenv ("no_proxy", "*", TRUE);

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/natter/faults/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("hang-up/before-headers", test_hang_up_before_headers);
  ADD ("hang-up/after-headers", test_hang_up_after_headers);
  ADD ("hang-up/mid-event", test_hang_up_mid_event);
  ADD ("hang-up/mid-utf8", test_hang_up_mid_utf8);
  ADD ("stall", test_stall);
  ADD ("slow-server", test_slow_server);
  ADD ("status/429-retry-after", test_rate_limited_retry_after);
  ADD ("status/429", test_rate_limited);
  ADD ("status/5xx-storm", test_server_error_storm);
  ADD ("status/html-502", test_html_502);
  ADD ("network/connection-refused", test_connection_refused);
  ADD ("network/unresolvable-host", test_unresolvable_host);
  ADD ("network/tls-self-signed", test_tls_self_signed);
  ADD ("size/64-mib-line", test_huge_line);
  ADD ("size/10-mb-event", test_large_event);
  ADD ("content/invalid-utf8", test_invalid_utf8);
  ADD ("content/malformed-json", test_malformed_json);
  ADD ("content/not-event-stream", test_not_event_stream);
  ADD ("content/not-streamed-json", test_not_streamed_json);
  ADD ("content/untyped-garbage", test_untyped_garbage);

  return g_test_run ();
}
