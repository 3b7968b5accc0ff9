/* test-conversation.c — NatterConversation as a list and as the data path
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests assert on what a view would see (list changes, the answer growing
 * piece by piece, its state) and on what the fake provider received.
 */
#include <json-glib/json-glib.h>

#include "natter-api-error.h"
#include "natter-conversation.h"
#include "natter-fake-provider.h"

#define KEY   "sk-test-0123456789"
#define MODEL "natter-fake-1"

typedef struct {
  NatterFakeProvider *provider;
  NatterClient       *client;
  NatterConversation *conversation;
  GCancellable       *cancellable;

  /* The assistant message, watched from the moment it is added */
  NatterMessage      *answer;
  GArray             *offsets;
  GString            *appended;
  GArray             *retry_delays;
  gboolean            appended_while_waiting;
  guint               cancel_after_appends;
  GString            *streaming_log;

  gboolean            done;
  NatterMessage      *result;
  GError             *error;
} Fixture;

static void items_changed_cb (GListModel *model, guint position, guint removed, guint added,
                              Fixture *f);
static void streaming_cb     (NatterConversation *conversation, GParamSpec *pspec, Fixture *f);

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *base_url = NULL;

  f->provider = natter_fake_provider_new ();
  g_assert_true (natter_fake_provider_listen (f->provider, 0, &error));
  g_assert_no_error (error);
  base_url = natter_fake_provider_dup_base_url (f->provider);
  f->client = natter_client_new (base_url, KEY);
  natter_client_set_retry_base_ms (f->client, 10);
  f->cancellable = g_cancellable_new ();
  f->offsets = g_array_new (FALSE, FALSE, sizeof (guint));
  f->appended = g_string_new (NULL);
  f->retry_delays = g_array_new (FALSE, FALSE, sizeof (guint));
  f->streaming_log = g_string_new (NULL);

  f->conversation = natter_conversation_new ();
  natter_conversation_set_system_prompt (f->conversation, "Be brief.");
  g_signal_connect (f->conversation, "items-changed", G_CALLBACK (items_changed_cb), f);
  g_signal_connect (f->conversation, "notify::streaming", G_CALLBACK (streaming_cb), f);
}

/* Every stream holds the client: with the conversation and its messages
 * still alive, the client going proves that no stream outlived its answer,
 * say held by the message it fed. Then everything else must go too. */
static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->client);
  g_clear_object (&f->result);
  g_clear_object (&f->answer);
  g_assert_finalize_object (f->conversation);
  g_assert_finalize_object (f->provider);
  g_clear_object (&f->cancellable);
  g_array_unref (f->offsets);
  g_string_free (f->appended, TRUE);
  g_array_unref (f->retry_delays);
  g_string_free (f->streaming_log, TRUE);
  g_clear_error (&f->error);
}

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

static void
wait_for_hangups (Fixture *f,
                  guint    n)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add (5000, set_flag_cb, &timed_out);

  while (natter_fake_provider_get_n_hangups (f->provider) < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_cmpuint (natter_fake_provider_get_n_hangups (f->provider), ==, n);
}

static NatterFakeScript *
error_script (guint       status,
              const char *body)
{
  NatterFakeScript *script = natter_fake_script_new (status);

  natter_fake_script_set_body (script, body);
  return script;
}

/* --- Watching the answer as a view would ------------------------------- */

static void
content_appended_cb (NatterMessage *message,
                     guint          offset,
                     const char    *text,
                     Fixture       *f)
{
  g_assert_cmpuint (offset, ==, f->appended->len);
  g_array_append_val (f->offsets, offset);
  g_string_append (f->appended, text);
  if (natter_message_get_retry_delay_ms (message) != 0)
    f->appended_while_waiting = TRUE;
  if (f->offsets->len == f->cancel_after_appends)
    g_cancellable_cancel (f->cancellable);
}

static void
retry_delay_cb (NatterMessage *message,
                GParamSpec    *pspec,
                Fixture       *f)
{
  guint delay_ms = natter_message_get_retry_delay_ms (message);

  g_array_append_val (f->retry_delays, delay_ms);
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Fixture    *f)
{
  g_autoptr(NatterMessage) message = NULL;

  if (added != 1)
    return;
  message = g_list_model_get_item (model, position);
  if (natter_message_get_role (message) != NATTER_ROLE_ASSISTANT)
    return;

  /* The answer is there, empty and streaming, before any text arrives. */
  g_assert_cmpint (natter_message_get_state (message), ==, NATTER_MESSAGE_STATE_STREAMING);
  g_assert_cmpstr (natter_message_get_content (message), ==, "");
  g_set_object (&f->answer, message);
  g_array_set_size (f->offsets, 0);
  g_string_truncate (f->appended, 0);
  g_signal_connect (message, "content-appended", G_CALLBACK (content_appended_cb), f);
  g_signal_connect (message, "notify::retry-delay-ms", G_CALLBACK (retry_delay_cb), f);
}

static void
streaming_cb (NatterConversation *conversation,
              GParamSpec         *pspec,
              Fixture            *f)
{
  g_string_append (f->streaming_log, natter_conversation_is_streaming (conversation) ? "on " : "off ");
}

/* --- Sending ------------------------------------------------------------- */

static void
send_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Fixture *f = user_data;

  g_assert_false (natter_conversation_is_streaming (NATTER_CONVERSATION (source)));
  g_clear_object (&f->result);
  g_clear_error (&f->error);
  f->result = natter_conversation_send_finish (NATTER_CONVERSATION (source), result, &f->error);
  g_assert_true ((f->result == NULL) != (f->error == NULL));
  f->done = TRUE;
}

static void
retry_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Fixture *f = user_data;

  g_clear_object (&f->result);
  g_clear_error (&f->error);
  f->result = natter_conversation_retry_finish (NATTER_CONVERSATION (source), result, &f->error);
  g_assert_true ((f->result == NULL) != (f->error == NULL));
  f->done = TRUE;
}

static void
send (Fixture    *f,
      const char *text)
{
  f->done = FALSE;
  natter_conversation_send_async (f->conversation, f->client, MODEL, text, f->cancellable,
                                  send_done_cb, f);
  iterate_until (&f->done, 20000);
}

static void
retry (Fixture *f)
{
  f->done = FALSE;
  natter_conversation_retry_async (f->conversation, f->client, MODEL, f->cancellable,
                                   retry_done_cb, f);
  iterate_until (&f->done, 20000);
}

/* "role: content" per line, from a request body. */
static char *
describe_messages (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  GString *description = g_string_new (NULL);
  JsonArray *messages;

  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                             g_bytes_get_size (body), NULL));
  messages = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                           "messages");
  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *message = json_array_get_object_element (messages, i);

      g_string_append_printf (description, "%s: %s\n",
                              json_object_get_string_member (message, "role"),
                              json_object_get_string_member (message, "content"));
    }
  return g_string_free (description, FALSE);
}

static char *
describe_received (Fixture *f,
                   guint    i)
{
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), >, i);
  return describe_messages (natter_fake_provider_get_request (f->provider, i)->body);
}

/* --- GListModel -------------------------------------------------------- */

typedef struct {
  GString *changes;
  guint    n_items_notified;
} ModelLog;

static void
log_items_changed_cb (GListModel *model,
                      guint       position,
                      guint       removed,
                      guint       added,
                      ModelLog   *log)
{
  g_string_append_printf (log->changes, "%u-%u+%u ", position, removed, added);
  /* Views read the model from the handler: it must be up to date. */
  g_assert_cmpuint (g_list_model_get_n_items (model), >=, position + added);
  if (added > 0)
    {
      g_autoptr(NatterMessage) item = g_list_model_get_item (model, position + added - 1);
      g_assert_nonnull (item);
    }
}

static void
log_n_items_cb (GObject    *object,
                GParamSpec *pspec,
                ModelLog   *log)
{
  log->n_items_notified++;
}

static void
test_list_model (void)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  GListModel *model = G_LIST_MODEL (conversation);
  ModelLog log = { g_string_new (NULL), 0 };
  g_autoptr(NatterMessage) first = natter_message_new (NATTER_ROLE_USER, "one");
  g_autoptr(NatterMessage) second = natter_message_new (NATTER_ROLE_ASSISTANT, "two");
  g_autoptr(NatterMessage) third = natter_message_new (NATTER_ROLE_USER, "three");
  g_autoptr(NatterMessage) item = NULL;
  guint n_items;

  g_signal_connect (model, "items-changed", G_CALLBACK (log_items_changed_cb), &log);
  g_signal_connect (model, "notify::n-items", G_CALLBACK (log_n_items_cb), &log);
  g_assert_true (g_list_model_get_item_type (model) == NATTER_TYPE_MESSAGE);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_assert_null (g_list_model_get_item (model, 0));

  natter_conversation_append (conversation, first);
  natter_conversation_append (conversation, second);
  natter_conversation_append (conversation, third);
  g_assert_cmpstr (log.changes->str, ==, "0-0+1 1-0+1 2-0+1 ");
  g_assert_cmpuint (log.n_items_notified, ==, 3);
  g_object_get (conversation, "n-items", &n_items, NULL);
  g_assert_cmpuint (n_items, ==, 3);

  item = g_list_model_get_item (model, 1);
  g_assert_true (item == second);
  g_assert_true (natter_conversation_get_message (conversation, 2) == third);
  g_assert_null (natter_conversation_get_message (conversation, 3));
  g_assert_null (g_list_model_get_item (model, 3));

  /* Keeping as many as there are, or more, changes nothing. */
  natter_conversation_truncate (conversation, 3);
  natter_conversation_truncate (conversation, 10);
  g_assert_cmpstr (log.changes->str, ==, "0-0+1 1-0+1 2-0+1 ");

  natter_conversation_truncate (conversation, 1);
  g_assert_cmpstr (log.changes->str, ==, "0-0+1 1-0+1 2-0+1 1-2+0 ");
  g_assert_cmpuint (log.n_items_notified, ==, 4);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 1);
  g_assert_true (natter_conversation_get_message (conversation, 0) == first);

  natter_conversation_truncate (conversation, 0);
  g_assert_cmpstr (log.changes->str, ==, "0-0+1 1-0+1 2-0+1 1-2+0 0-1+0 ");
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_string_free (log.changes, TRUE);

  /* The conversation let go of what it dropped. */
  g_clear_object (&item);
  g_assert_finalize_object (g_steal_pointer (&second));
  g_assert_finalize_object (g_steal_pointer (&third));
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *n)
{
  (*n)++;
}

static void
test_properties (void)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  guint n_notified = 0;
  double temperature;
  g_autofree char *title = NULL;

  g_assert_null (natter_conversation_get_title (conversation));
  g_assert_null (natter_conversation_get_system_prompt (conversation));
  g_assert_cmpfloat (natter_conversation_get_temperature (conversation), ==, -1.0);
  g_assert_cmpuint (natter_conversation_get_max_tokens (conversation), ==, 0);
  g_assert_false (natter_conversation_is_streaming (conversation));

  g_signal_connect (conversation, "notify", G_CALLBACK (count_notify_cb), &n_notified);
  natter_conversation_set_title (conversation, "Holiday plans");
  natter_conversation_set_title (conversation, "Holiday plans");
  natter_conversation_set_system_prompt (conversation, "Be brief.");
  natter_conversation_set_system_prompt (conversation, "Be brief.");
  natter_conversation_set_temperature (conversation, 0.5);
  natter_conversation_set_temperature (conversation, 0.5);
  natter_conversation_set_max_tokens (conversation, 256);
  natter_conversation_set_max_tokens (conversation, 256);
  g_assert_cmpuint (n_notified, ==, 4);

  /* Any negative temperature means the provider's default. */
  natter_conversation_set_temperature (conversation, -3.0);
  g_assert_cmpfloat (natter_conversation_get_temperature (conversation), ==, -1.0);
  natter_conversation_set_temperature (conversation, -1.0);
  g_assert_cmpuint (n_notified, ==, 5);

  g_object_set (conversation, "temperature", 1.25, "title", "Renamed", NULL);
  g_object_get (conversation, "temperature", &temperature, "title", &title, NULL);
  g_assert_cmpfloat (temperature, ==, 1.25);
  g_assert_cmpstr (title, ==, "Renamed");
}

static NatterMessage *
add_message (NatterConversation *conversation,
             NatterRole          role,
             const char         *content,
             NatterMessageState  state)
{
  g_autoptr(NatterMessage) message = natter_message_new (role, content);

  natter_message_set_state (message, state);
  natter_conversation_append (conversation, message);
  return message;
}

static char *
describe_request (NatterConversation *conversation)
{
  g_autoptr(NatterChatRequest) request = natter_conversation_build_request (conversation, MODEL);
  g_autoptr(GBytes) body = natter_chat_request_to_json (request);

  return describe_messages (body);
}

static void
test_build_request (void)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  g_autoptr(NatterChatRequest) request = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *description = NULL;
  JsonObject *root;

  natter_conversation_set_system_prompt (conversation, "Be brief.");
  natter_conversation_set_temperature (conversation, 0.25);
  natter_conversation_set_max_tokens (conversation, 300);
  add_message (conversation, NATTER_ROLE_USER, "What is GLib?", NATTER_MESSAGE_STATE_COMPLETE);
  add_message (conversation, NATTER_ROLE_ASSISTANT, "A C library.", NATTER_MESSAGE_STATE_COMPLETE);
  add_message (conversation, NATTER_ROLE_USER, "And GIO?", NATTER_MESSAGE_STATE_COMPLETE);
  add_message (conversation, NATTER_ROLE_ASSISTANT, "", NATTER_MESSAGE_STATE_FAILED);
  add_message (conversation, NATTER_ROLE_USER, "And GIO, please?", NATTER_MESSAGE_STATE_COMPLETE);
  add_message (conversation, NATTER_ROLE_ASSISTANT, "GIO is the I/O", NATTER_MESSAGE_STATE_STOPPED);
  add_message (conversation, NATTER_ROLE_USER, "", NATTER_MESSAGE_STATE_COMPLETE);
  add_message (conversation, NATTER_ROLE_USER, "Go on.", NATTER_MESSAGE_STATE_COMPLETE);
  add_message (conversation, NATTER_ROLE_ASSISTANT, "It is a", NATTER_MESSAGE_STATE_STREAMING);

  description = describe_request (conversation);
  g_assert_cmpstr (description, ==,
                   "system: Be brief.\n"
                   "user: What is GLib?\n"
                   "assistant: A C library.\n"
                   "user: And GIO?\n"
                   "user: And GIO, please?\n"
                   "assistant: GIO is the I/O\n"
                   "user: Go on.\n");

  request = natter_conversation_build_request (conversation, MODEL);
  g_assert_cmpstr (natter_chat_request_get_model (request), ==, MODEL);
  body = natter_chat_request_to_json (request);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                             g_bytes_get_size (body), NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpfloat (json_object_get_double_member (root, "temperature"), ==, 0.25);
  g_assert_cmpint (json_object_get_int_member (root, "max_tokens"), ==, 300);
  g_assert_cmpstr (json_object_get_string_member (root, "model"), ==, MODEL);
}

static void
test_build_request_defaults (void)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  g_autoptr(NatterChatRequest) request = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *description = NULL;
  JsonObject *root;

  /* An empty system prompt is no system message. */
  natter_conversation_set_system_prompt (conversation, "");
  add_message (conversation, NATTER_ROLE_USER, "Hi", NATTER_MESSAGE_STATE_COMPLETE);
  description = describe_request (conversation);
  g_assert_cmpstr (description, ==, "user: Hi\n");

  request = natter_conversation_build_request (conversation, MODEL);
  g_assert_cmpuint (natter_chat_request_get_n_messages (request), ==, 1);
  body = natter_chat_request_to_json (request);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                             g_bytes_get_size (body), NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_false (json_object_has_member (root, "temperature"));
  g_assert_false (json_object_has_member (root, "max_tokens"));
}

/* --- Sending against the fake provider ------------------------------------ */

static void
test_send_success (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (5);
  g_autofree char *received = NULL;
  NatterMessage *question;

  natter_fake_script_set_interval (script, 5);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Hello");

  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  question = natter_conversation_get_message (f->conversation, 0);
  g_assert_cmpint (natter_message_get_role (question), ==, NATTER_ROLE_USER);
  g_assert_cmpstr (natter_message_get_content (question), ==, "Hello");
  g_assert_cmpint (natter_message_get_state (question), ==, NATTER_MESSAGE_STATE_COMPLETE);

  g_assert_true (f->result == f->answer);
  g_assert_true (natter_conversation_get_message (f->conversation, 1) == f->answer);
  g_assert_cmpint (natter_message_get_role (f->answer), ==, NATTER_ROLE_ASSISTANT);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 tok2 tok3 tok4 ");
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_null (natter_message_get_error (f->answer));
  g_assert_cmpstr (natter_message_get_finish_reason (f->answer), ==, "stop");
  g_assert_cmpstr (natter_message_get_model (f->answer), ==, MODEL);
  g_assert_cmpint (natter_message_get_ttft_us (f->answer), >=, 0);
  g_assert_cmpint (natter_message_get_duration_us (f->answer), >=,
                   natter_message_get_ttft_us (f->answer));
  g_assert_cmpint (natter_message_get_prompt_tokens (f->answer), ==, 10);
  g_assert_cmpint (natter_message_get_completion_tokens (f->answer), ==, 5);
  g_assert_cmpuint (natter_message_get_retry_delay_ms (f->answer), ==, 0);

  /* The view saw the answer grow, piece by piece, each at the end. */
  g_assert_cmpstr (f->appended->str, ==, "tok0 tok1 tok2 tok3 tok4 ");
  g_assert_cmpuint (f->offsets->len, ==, 5);
  for (guint i = 1; i < f->offsets->len; i++)
    g_assert_cmpuint (g_array_index (f->offsets, guint, i), >, g_array_index (f->offsets, guint, i - 1));
  g_assert_cmpstr (f->streaming_log->str, ==, "on off ");

  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
  received = describe_received (f, 0);
  g_assert_cmpstr (received, ==, "system: Be brief.\nuser: Hello\n");
}

static void
test_send_reasoning (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new (200);

  natter_fake_script_add_reasoning (script, "The user greets. ");
  natter_fake_script_add_reasoning (script, "Greet back.");
  natter_fake_script_add_content (script, "Hi!");
  natter_fake_script_add_finish (script, "stop");
  natter_fake_script_add_done (script);
  natter_fake_provider_queue (f->provider, script);
  send (f, "Hello");

  g_assert_no_error (f->error);
  g_assert_cmpstr (natter_message_get_reasoning (f->answer), ==, "The user greets. Greet back.");
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "Hi!");
  /* No usage chunk: the counts stay unknown. */
  g_assert_cmpint (natter_message_get_completion_tokens (f->answer), ==, -1);
}

static void
test_send_stop (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (50);

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_queue (f->provider, script);
  f->cancel_after_appends = 3;
  send (f, "Count to fifty");

  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_true (natter_conversation_get_message (f->conversation, 1) == f->answer);
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_STOPPED);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 tok2 ");
  g_assert_null (natter_message_get_error (f->answer));
  g_assert_null (natter_message_get_finish_reason (f->answer));
  g_assert_false (natter_conversation_is_streaming (f->conversation));
  wait_for_hangups (f, 1);
}

static void
test_stopped_answer_is_context (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (50);
  g_autofree char *received = NULL;

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_queue (f->provider, script);
  f->cancel_after_appends = 2;
  send (f, "Count to fifty");
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_cancellable_reset (f->cancellable);
  f->cancel_after_appends = 0;
  send (f, "Why did you stop?");
  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 4);
  received = describe_received (f, 1);
  g_assert_cmpstr (received, ==,
                   "system: Be brief.\n"
                   "user: Count to fifty\n"
                   "assistant: tok0 tok1 \n"
                   "user: Why did you stop?\n");
}

static void
test_send_unauthorized (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = error_script (401, "{\"error\":{\"message\":\"Invalid API key\"}}");
  NatterMessage *question;

  natter_fake_provider_queue (f->provider, script);
  send (f, "Hello");

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  question = natter_conversation_get_message (f->conversation, 0);
  g_assert_cmpstr (natter_message_get_content (question), ==, "Hello");
  g_assert_cmpint (natter_message_get_state (question), ==, NATTER_MESSAGE_STATE_COMPLETE);

  g_assert_true (natter_conversation_get_message (f->conversation, 1) == f->answer);
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_FAILED);
  g_assert_error (natter_message_get_error (f->answer), NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED);
  g_assert_cmpstr (natter_message_get_error (f->answer)->message, ==, f->error->message);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "");
  g_assert_cmpint (natter_message_get_ttft_us (f->answer), ==, -1);
  /* Nobody answered. */
  g_assert_null (natter_message_get_model (f->answer));
  g_assert_false (natter_conversation_is_streaming (f->conversation));
}

static void
test_retry_after_failure (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = error_script (401, "{\"error\":{\"message\":\"Invalid API key\"}}");
  g_autoptr(NatterMessage) failed = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  natter_fake_provider_queue (f->provider, script);
  send (f, "Hello");
  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED);
  failed = g_object_ref (f->answer);

  retry (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (f->conversation, 0)),
                   ==, "Hello");
  g_assert_true (f->answer != failed);
  g_assert_true (f->result == f->answer);
  g_assert_true (natter_conversation_get_message (f->conversation, 1) == f->answer);
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==,
                   "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");

  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 2);
  first = describe_received (f, 0);
  second = describe_received (f, 1);
  g_assert_cmpstr (second, ==, first);
  g_assert_cmpstr (second, ==, "system: Be brief.\nuser: Hello\n");
}

static void
test_retry_after_stop (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (50);
  g_autofree char *second = NULL;

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_queue (f->provider, script);
  f->cancel_after_appends = 2;
  send (f, "Count to fifty");
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_STOPPED);

  /* The stopped answer is replaced, not sent as context for its own redo. */
  g_cancellable_reset (f->cancellable);
  f->cancel_after_appends = 0;
  retry (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  second = describe_received (f, 1);
  g_assert_cmpstr (second, ==, "system: Be brief.\nuser: Count to fifty\n");
}

static void
test_retry_nothing (Fixture       *f,
                    gconstpointer  data)
{
  retry (f);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);

  send (f, "Hello");
  g_assert_no_error (f->error);
  /* A complete answer is not retried: that would lose it. */
  retry (f);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
}

static void
test_retry_countdown (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterFakeScript) overloaded = error_script (503, "{\"error\":{\"message\":\"Overloaded\"}}");

  natter_client_set_retry_base_ms (f->client, 50);
  natter_fake_provider_queue (f->provider, overloaded);
  send (f, "Hello");

  g_assert_no_error (f->error);
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 2);
  /* Non-zero while waiting, back to zero once text arrives. */
  g_assert_cmpuint (f->retry_delays->len, ==, 2);
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 0), >, 0);
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 0), <=, 50);
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 1), ==, 0);
  g_assert_cmpuint (natter_message_get_retry_delay_ms (f->answer), ==, 0);
  g_assert_false (f->appended_while_waiting);
}

static void
test_retry_countdown_cleared_on_failure (Fixture       *f,
                                         gconstpointer  data)
{
  natter_client_set_max_retries (f->client, 1);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(NatterFakeScript) script = error_script (503, "{\"error\":{\"message\":\"Overloaded\"}}");
      natter_fake_provider_queue (f->provider, script);
    }
  send (f, "Hello");

  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_SERVER);
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_FAILED);
  g_assert_cmpuint (f->retry_delays->len, ==, 2);
  g_assert_cmpuint (g_array_index (f->retry_delays, guint, 0), >, 0);
  g_assert_cmpuint (natter_message_get_retry_delay_ms (f->answer), ==, 0);
}

typedef struct {
  gboolean  done;
  GError   *error;
} Second;

static void
second_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  Second *second = user_data;
  g_autoptr(NatterMessage) message = NULL;

  message = natter_conversation_send_finish (NATTER_CONVERSATION (source), result, &second->error);
  g_assert_null (message);
  second->done = TRUE;
}

static void
test_send_while_streaming (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (5);
  Second second = { FALSE, NULL };

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_queue (f->provider, script);
  f->done = FALSE;
  natter_conversation_send_async (f->conversation, f->client, MODEL, "First", f->cancellable,
                                  send_done_cb, f);
  g_assert_true (natter_conversation_is_streaming (f->conversation));
  natter_conversation_send_async (f->conversation, f->client, MODEL, "Second", NULL,
                                  second_done_cb, &second);
  iterate_until (&second.done, 5000);

  g_assert_error (second.error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_assert_cmpstr (second.error->message, !=, "");
  g_clear_error (&second.error);
  /* The refused message was not added; the first answer goes on. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_false (f->done);

  /* Nor can a retry start meanwhile. */
  natter_conversation_retry_async (f->conversation, f->client, MODEL, NULL, retry_done_cb, f);
  iterate_until (&f->done, 5000);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_assert_true (natter_conversation_is_streaming (f->conversation));

  f->done = FALSE;
  iterate_until (&f->done, 20000);
  g_assert_no_error (f->error);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 tok2 tok3 tok4 ");

  /* Once the answer has ended, the next message goes. */
  send (f, "Second");
  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 4);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 2);
}

static void
test_send_empty (Fixture       *f,
                 gconstpointer  data)
{
  send (f, "");
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 0);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 0);
}

static void
test_no_reference_left (Fixture       *f,
                        gconstpointer  data)
{
  NatterMessage *answer;

  send (f, "Hello");
  g_assert_no_error (f->error);
  answer = f->answer;
  g_object_add_weak_pointer (G_OBJECT (answer), (gpointer *) &answer);
  g_clear_object (&f->answer);
  g_clear_object (&f->result);

  /* Only the conversation holds the answer now. */
  natter_conversation_truncate (f->conversation, 1);
  g_assert_null (answer);
}

/* --- Bulk append, Stop, regenerate, edit, Continue ------------------------------ */

static void
test_append_all (void)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  GListModel *model = G_LIST_MODEL (conversation);
  ModelLog log = { g_string_new (NULL), 0 };
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) none = g_ptr_array_new ();
  g_autoptr(NatterMessage) first = natter_message_new (NATTER_ROLE_USER, "first");

  natter_conversation_append (conversation, first);
  g_signal_connect (model, "items-changed", G_CALLBACK (log_items_changed_cb), &log);
  g_signal_connect (model, "notify::n-items", G_CALLBACK (log_n_items_cb), &log);

  /* Nothing to add is no change. */
  natter_conversation_append_all (conversation, none);
  g_assert_cmpstr (log.changes->str, ==, "");
  g_assert_cmpuint (log.n_items_notified, ==, 0);

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("loaded %u", i);

      g_ptr_array_add (messages, natter_message_new (i % 2 ? NATTER_ROLE_ASSISTANT : NATTER_ROLE_USER,
                                                     text));
    }
  /* A long conversation loads in one change, not one per message. */
  natter_conversation_append_all (conversation, messages);
  g_assert_cmpstr (log.changes->str, ==, "1-0+3 ");
  g_assert_cmpuint (log.n_items_notified, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 4);
  g_assert_true (natter_conversation_get_message (conversation, 0) == first);
  for (guint i = 0; i < 3; i++)
    g_assert_true (natter_conversation_get_message (conversation, i + 1) == g_ptr_array_index (messages, i));

  /* The conversation holds its own references. */
  g_ptr_array_set_size (messages, 0);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (conversation, 3)), ==,
                   "loaded 2");
  g_string_free (log.changes, TRUE);
}

static void
wait_for_content (Fixture *f)
{
  while (f->answer == NULL || natter_message_get_content_length (f->answer) == 0)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_stop (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (50);
  g_autoptr(GString) all = g_string_new (NULL);
  g_autofree char *partial = NULL;

  for (guint i = 0; i < 50; i++)
    g_string_append_printf (all, "tok%u ", i);

  /* Nothing streams: nothing to stop. */
  natter_conversation_stop (f->conversation);
  g_assert_cmpstr (f->streaming_log->str, ==, "");

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_queue (f->provider, script);
  f->done = FALSE;
  /* No cancellable: Stop reaches the answer anyway. */
  natter_conversation_send_async (f->conversation, f->client, MODEL, "Count to fifty", NULL,
                                  send_done_cb, f);
  wait_for_content (f);
  natter_conversation_stop (f->conversation);
  /* Twice is once. */
  natter_conversation_stop (f->conversation);
  iterate_until (&f->done, 20000);

  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_STOPPED);
  g_assert_cmpuint (natter_message_get_content_length (f->answer), >, 0);
  g_assert_cmpuint (natter_message_get_content_length (f->answer), <, all->len);
  g_assert_true (g_str_has_prefix (all->str, natter_message_get_content (f->answer)));
  g_assert_null (natter_message_get_error (f->answer));
  g_assert_false (natter_conversation_is_streaming (f->conversation));
  g_assert_cmpstr (f->streaming_log->str, ==, "on off ");
  wait_for_hangups (f, 1);
  partial = g_strdup (natter_message_get_content (f->answer));

  /* A Stop that comes late changes nothing, and the next send is not
   * stopped by the one before. */
  natter_conversation_stop (f->conversation);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (f->conversation, 1)),
                   ==, partial);
  send (f, "Next");
  g_assert_no_error (f->error);
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");
}

static void
regenerate (Fixture *f)
{
  f->done = FALSE;
  natter_conversation_regenerate_async (f->conversation, f->client, MODEL, f->cancellable,
                                        send_done_cb, f);
  iterate_until (&f->done, 20000);
}

static void
edit (Fixture    *f,
      guint       position,
      const char *text)
{
  f->done = FALSE;
  natter_conversation_edit_async (f->conversation, f->client, MODEL, position, text, f->cancellable,
                                  send_done_cb, f);
  iterate_until (&f->done, 20000);
}

static void
continue_answer (Fixture *f)
{
  f->done = FALSE;
  natter_conversation_continue_async (f->conversation, f->client, MODEL, f->cancellable,
                                      send_done_cb, f);
  iterate_until (&f->done, 20000);
}

static void
test_regenerate (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(NatterFakeScript) other = natter_fake_script_new_completion (3);
  g_autoptr(NatterMessage) old_answer = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  regenerate (f);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 0);

  send (f, "Hello");
  g_assert_no_error (f->error);
  old_answer = g_object_ref (f->answer);

  /* Unlike retry, regenerate replaces a complete answer. */
  natter_fake_provider_queue (f->provider, other);
  regenerate (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_true (f->answer != old_answer);
  g_assert_true (f->result == f->answer);
  g_assert_true (natter_conversation_get_message (f->conversation, 1) == f->answer);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 tok2 ");
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  /* The old one is untouched, only dropped. */
  g_assert_cmpstr (natter_message_get_content (old_answer), ==, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");
  first = describe_received (f, 0);
  second = describe_received (f, 1);
  g_assert_cmpstr (second, ==, first);
  g_assert_cmpstr (second, ==, "system: Be brief.\nuser: Hello\n");

  /* A question left without an answer gets one. */
  natter_conversation_truncate (f->conversation, 1);
  regenerate (f);
  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_cmpint (natter_message_get_state (f->answer), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 3);
}

static void
test_regenerate_while_streaming (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(NatterFakeScript) script = natter_fake_script_new_completion (5);
  Second second = { FALSE, NULL };

  natter_fake_script_set_interval (script, 20);
  natter_fake_provider_queue (f->provider, script);
  f->done = FALSE;
  natter_conversation_send_async (f->conversation, f->client, MODEL, "First", f->cancellable,
                                  send_done_cb, f);
  natter_conversation_regenerate_async (f->conversation, f->client, MODEL, NULL, second_done_cb, &second);
  iterate_until (&second.done, 5000);
  g_assert_error (second.error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&second.error);

  /* The answer being written was neither dropped nor disturbed. */
  iterate_until (&f->done, 20000);
  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 tok2 tok3 tok4 ");
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);
}

static void
test_edit (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(NatterFakeScript) other = natter_fake_script_new_completion (2);
  g_autofree char *received = NULL;
  NatterMessage *first_answer;

  send (f, "First");
  send (f, "Second");
  g_assert_no_error (f->error);
  first_answer = natter_conversation_get_message (f->conversation, 1);

  natter_fake_provider_queue (f->provider, other);
  edit (f, 2, "Second, edited");
  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 4);
  g_assert_true (natter_conversation_get_message (f->conversation, 1) == first_answer);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (f->conversation, 2)), ==,
                   "Second, edited");
  g_assert_true (natter_conversation_get_message (f->conversation, 3) == f->answer);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 ");
  received = describe_received (f, 2);
  g_assert_cmpstr (received, ==,
                   "system: Be brief.\n"
                   "user: First\n"
                   "assistant: tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 \n"
                   "user: Second, edited\n");

  /* The first message too; the title stays the first prompt's. */
  edit (f, 0, "Only");
  g_assert_no_error (f->error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (f->conversation, 0)), ==,
                   "Only");
  g_assert_cmpstr (natter_conversation_get_title (f->conversation), ==, "First");
}

static void
test_edit_errors (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(NatterFakeScript) slow = natter_fake_script_new_completion (5);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  Second second = { FALSE, NULL };

  send (f, "First");
  g_assert_no_error (f->error);
  before = describe_request (f->conversation);

  /* An answer is not the user's to edit. */
  edit (f, 1, "Rewritten answer");
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (f->error->message, !=, "");
  /* Nor is a message that is not there. */
  edit (f, 2, "Past the end");
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  edit (f, G_MAXUINT, "Far past the end");
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  /* An empty message is not sent. */
  edit (f, 0, "");
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);

  /* None of that changed anything or asked anything. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  after = describe_request (f->conversation);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 1);

  /* While an answer streams, nothing is cut from under it. */
  natter_fake_script_set_interval (slow, 20);
  natter_fake_provider_queue (f->provider, slow);
  f->done = FALSE;
  natter_conversation_send_async (f->conversation, f->client, MODEL, "Second", f->cancellable,
                                  send_done_cb, f);
  natter_conversation_edit_async (f->conversation, f->client, MODEL, 0, "Edited", NULL,
                                  second_done_cb, &second);
  iterate_until (&second.done, 5000);
  g_assert_error (second.error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&second.error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 4);
  iterate_until (&f->done, 20000);
  g_assert_no_error (f->error);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (f->conversation, 0)), ==,
                   "First");
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 tok2 tok3 tok4 ");
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 2);
}

static void
test_continue (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(NatterFakeScript) stalled = natter_fake_script_new (200);
  g_autoptr(NatterFakeScript) rest = natter_fake_script_new (200);
  g_autoptr(NatterMessage) stopped = NULL;
  g_autofree char *received = NULL;

  natter_fake_script_add_content (stalled, "Roses are red, ");
  natter_fake_script_set_ending (stalled, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, stalled);
  f->done = FALSE;
  natter_conversation_send_async (f->conversation, f->client, MODEL, "A poem", NULL, send_done_cb, f);
  wait_for_content (f);
  natter_conversation_stop (f->conversation);
  iterate_until (&f->done, 20000);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  stopped = g_object_ref (f->answer);
  g_assert_true (natter_conversation_can_continue (f->conversation));

  natter_fake_script_add_content (rest, "violets are blue.");
  natter_fake_script_add_finish (rest, "stop");
  natter_fake_script_add_done (rest);
  natter_fake_provider_queue (f->provider, rest);
  continue_answer (f);
  g_assert_no_error (f->error);

  /* The same message, grown at its end; no new message. */
  g_assert_true (f->result == stopped);
  g_assert_true (f->answer == stopped);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 2);
  g_assert_cmpstr (natter_message_get_content (stopped), ==, "Roses are red, violets are blue.");
  g_assert_cmpstr (f->appended->str, ==, "Roses are red, violets are blue.");
  g_assert_cmpint (natter_message_get_state (stopped), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_cmpstr (natter_message_get_finish_reason (stopped), ==, "stop");
  g_assert_cmpstr (f->streaming_log->str, ==, "on off on off ");

  received = describe_received (f, 1);
  g_assert_true (g_str_has_prefix (received,
                                   "system: Be brief.\n"
                                   "user: A poem\n"
                                   "assistant: Roses are red, \n"
                                   "user: Continue"));
  g_assert_false (natter_conversation_can_continue (f->conversation));
}

static void
test_continue_errors (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(NatterFakeScript) empty_stall = natter_fake_script_new (200);
  g_autoptr(NatterFakeScript) slow = natter_fake_script_new_completion (5);
  g_autoptr(NatterFakeScript) failing = error_script (401, "{\"error\":{\"message\":\"Invalid API key\"}}");
  Second second = { FALSE, NULL };

  /* Nothing to continue. */
  g_assert_false (natter_conversation_can_continue (f->conversation));
  continue_answer (f);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (f->error->message, !=, "");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 0);

  /* A complete answer, ended by the model. */
  send (f, "Hello");
  g_assert_no_error (f->error);
  g_assert_false (natter_conversation_can_continue (f->conversation));
  continue_answer (f);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ");

  /* An answer stopped before its first word has nothing to go on from. */
  natter_fake_script_set_ending (empty_stall, NATTER_FAKE_ENDING_STALL);
  natter_fake_provider_queue (f->provider, empty_stall);
  f->done = FALSE;
  natter_conversation_send_async (f->conversation, f->client, MODEL, "Say nothing", NULL,
                                  send_done_cb, f);
  while (natter_fake_provider_get_n_requests (f->provider) < 2)
    g_main_context_iteration (NULL, TRUE);
  natter_conversation_stop (f->conversation);
  iterate_until (&f->done, 20000);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "");
  g_assert_false (natter_conversation_can_continue (f->conversation));
  continue_answer (f);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);

  /* Nor has one that failed before saying anything. */
  natter_fake_provider_queue (f->provider, failing);
  send (f, "Fail");
  g_assert_error (f->error, NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED);
  g_assert_false (natter_conversation_can_continue (f->conversation));
  continue_answer (f);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 3);

  /* While an answer streams, it cannot be continued. */
  natter_fake_script_set_interval (slow, 20);
  natter_fake_provider_queue (f->provider, slow);
  f->done = FALSE;
  natter_conversation_send_async (f->conversation, f->client, MODEL, "Count", f->cancellable,
                                  send_done_cb, f);
  wait_for_content (f);
  g_assert_false (natter_conversation_can_continue (f->conversation));
  natter_conversation_continue_async (f->conversation, f->client, MODEL, NULL, second_done_cb, &second);
  iterate_until (&second.done, 5000);
  g_assert_error (second.error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&second.error);
  iterate_until (&f->done, 20000);
  g_assert_no_error (f->error);
  g_assert_cmpstr (natter_message_get_content (f->answer), ==, "tok0 tok1 tok2 tok3 tok4 ");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 8);
  g_assert_cmpuint (natter_fake_provider_get_n_requests (f->provider), ==, 4);
}

static void
test_send_sets_title (Fixture       *f,
                      gconstpointer  data)
{
  g_assert_null (natter_conversation_get_title (f->conversation));
  send (f, "  What is   GLib?\nAnd GIO?");
  g_assert_cmpstr (natter_conversation_get_title (f->conversation), ==, "What is GLib?");
  /* Only the first prompt names the conversation. */
  send (f, "Something else");
  g_assert_cmpstr (natter_conversation_get_title (f->conversation), ==, "What is GLib?");
  /* And a name the user gave stays. */
  natter_conversation_truncate (f->conversation, 0);
  natter_conversation_set_title (f->conversation, "Mine");
  send (f, "A new start");
  g_assert_cmpstr (natter_conversation_get_title (f->conversation), ==, "Mine");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/natter/conversation/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/natter/conversation/list-model", test_list_model);
  g_test_add_func ("/natter/conversation/properties", test_properties);
  g_test_add_func ("/natter/conversation/build-request", test_build_request);
  g_test_add_func ("/natter/conversation/build-request-defaults", test_build_request_defaults);
  ADD ("send-success", test_send_success);
  ADD ("send-reasoning", test_send_reasoning);
  ADD ("send-stop", test_send_stop);
  ADD ("stopped-answer-is-context", test_stopped_answer_is_context);
  ADD ("send-unauthorized", test_send_unauthorized);
  ADD ("retry-after-failure", test_retry_after_failure);
  ADD ("retry-after-stop", test_retry_after_stop);
  ADD ("retry-nothing", test_retry_nothing);
  ADD ("retry-countdown", test_retry_countdown);
  ADD ("retry-countdown-cleared-on-failure", test_retry_countdown_cleared_on_failure);
  ADD ("send-while-streaming", test_send_while_streaming);
  ADD ("send-empty", test_send_empty);
  ADD ("no-reference-left", test_no_reference_left);
  g_test_add_func ("/natter/conversation/append-all", test_append_all);
  ADD ("stop", test_stop);
  ADD ("regenerate", test_regenerate);
  ADD ("regenerate-while-streaming", test_regenerate_while_streaming);
  ADD ("edit", test_edit);
  ADD ("edit-errors", test_edit_errors);
  ADD ("continue", test_continue);
  ADD ("continue-errors", test_continue_errors);
  ADD ("send-sets-title", test_send_sets_title);

  return g_test_run ();
}
