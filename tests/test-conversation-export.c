/* test-conversation-export.c — a conversation as Markdown and JSON
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What an export promises: JSON read back gives the same conversation,
 * field by field; Markdown reads as the conversation did, whatever the
 * messages contain; a file Natter cannot read is refused with a sentence
 * that names what is wrong.
 */
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "natter-api-error.h"
#include "natter-conversation-export.h"

#define USER_TEXT "Héllo — ünïcødé 😀, \"double\" and 'single' quotes,\n" \
                  "a tab\there, a backslash \\ and a NUL-free control \x01.\n\n" \
                  "# Not a heading of ours\n\n" \
                  "```c\nint main (void) { return 0; }\n```\n"

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

static void
set_stats (NatterMessage *message,
           gint64         base)
{
  natter_message_set_ttft_us (message, base);
  natter_message_set_duration_us (message, base * 10);
  natter_message_set_prompt_tokens (message, base + 1);
  natter_message_set_completion_tokens (message, base + 2);
}

/* Every field set somewhere, every state present. */
static NatterConversation *
full_conversation (void)
{
  NatterConversation *conversation = natter_conversation_new ();
  g_autoptr(GError) error = g_error_new_literal (NATTER_API_ERROR, NATTER_API_ERROR_RATE_LIMITED,
                                                 "Too many requests: slow *down* <now>");
  NatterMessage *message;

  natter_conversation_set_id (conversation, 42);
  natter_conversation_set_title (conversation, "Ünïcode & *stars* — “quoted”");
  natter_conversation_set_system_prompt (conversation, "Be brief.\n\nAnswer in French.");
  natter_conversation_set_temperature (conversation, 0.7);
  natter_conversation_set_max_tokens (conversation, 1024);

  add_message (conversation, NATTER_ROLE_SYSTEM, "An extra system message", NATTER_MESSAGE_STATE_COMPLETE);
  add_message (conversation, NATTER_ROLE_USER, USER_TEXT, NATTER_MESSAGE_STATE_COMPLETE);

  message = add_message (conversation, NATTER_ROLE_ASSISTANT, "**Bonjour** !\n\n- un\n- deux\n",
                         NATTER_MESSAGE_STATE_COMPLETE);
  natter_message_set_reasoning (message, "The user wants French.\nKeep it short.");
  natter_message_set_model (message, "openai/gpt-4o-mini");
  natter_message_set_finish_reason (message, "stop");
  set_stats (message, 250000);

  message = add_message (conversation, NATTER_ROLE_ASSISTANT, "Je commen", NATTER_MESSAGE_STATE_STOPPED);
  natter_message_set_model (message, "mistral-small");
  natter_message_set_ttft_us (message, 1000);

  message = add_message (conversation, NATTER_ROLE_ASSISTANT, "", NATTER_MESSAGE_STATE_FAILED);
  natter_message_set_error (message, error);
  natter_message_set_prompt_tokens (message, 0);

  add_message (conversation, NATTER_ROLE_ASSISTANT, "Half an ans", NATTER_MESSAGE_STATE_INTERRUPTED);
  add_message (conversation, NATTER_ROLE_ASSISTANT, "Still stream", NATTER_MESSAGE_STATE_STREAMING);
  return conversation;
}

static void
assert_messages_equal (NatterMessage *expected,
                       NatterMessage *actual)
{
  const GError *expected_error = natter_message_get_error (expected);
  const GError *actual_error = natter_message_get_error (actual);
  NatterMessageState state = natter_message_get_state (expected);

  g_assert_cmpint (natter_message_get_role (actual), ==, natter_message_get_role (expected));
  g_assert_cmpstr (natter_message_get_content (actual), ==, natter_message_get_content (expected));
  g_assert_cmpstr (natter_message_get_reasoning (actual), ==, natter_message_get_reasoning (expected));
  /* Nothing streams once saved. */
  if (state == NATTER_MESSAGE_STATE_STREAMING)
    state = NATTER_MESSAGE_STATE_INTERRUPTED;
  g_assert_cmpint (natter_message_get_state (actual), ==, state);
  if (expected_error == NULL)
    g_assert_null (actual_error);
  else
    {
      /* Only the text is kept: the domain may be one this build lacks. */
      g_assert_error ((GError *) actual_error, G_IO_ERROR, G_IO_ERROR_FAILED);
      g_assert_cmpstr (actual_error->message, ==, expected_error->message);
    }
  g_assert_cmpstr (natter_message_get_model (actual), ==, natter_message_get_model (expected));
  g_assert_cmpstr (natter_message_get_finish_reason (actual), ==, natter_message_get_finish_reason (expected));
  g_assert_cmpint (natter_message_get_ttft_us (actual), ==, natter_message_get_ttft_us (expected));
  g_assert_cmpint (natter_message_get_duration_us (actual), ==, natter_message_get_duration_us (expected));
  g_assert_cmpint (natter_message_get_prompt_tokens (actual), ==, natter_message_get_prompt_tokens (expected));
  g_assert_cmpint (natter_message_get_completion_tokens (actual), ==,
                   natter_message_get_completion_tokens (expected));
}

static void
assert_conversations_equal (NatterConversation *expected,
                            NatterConversation *actual)
{
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (expected));

  g_assert_cmpstr (natter_conversation_get_title (actual), ==, natter_conversation_get_title (expected));
  g_assert_cmpstr (natter_conversation_get_system_prompt (actual), ==,
                   natter_conversation_get_system_prompt (expected));
  g_assert_cmpfloat (natter_conversation_get_temperature (actual), ==,
                     natter_conversation_get_temperature (expected));
  g_assert_cmpuint (natter_conversation_get_max_tokens (actual), ==,
                    natter_conversation_get_max_tokens (expected));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (actual)), ==, n_items);
  for (guint i = 0; i < n_items; i++)
    assert_messages_equal (natter_conversation_get_message (expected, i),
                           natter_conversation_get_message (actual, i));
}

static NatterConversation *
round_trip (NatterConversation *conversation)
{
  g_autofree char *json = natter_conversation_to_json (conversation);
  g_autoptr(GError) error = NULL;
  NatterConversation *copy = natter_conversation_new_from_json (json, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (copy);
  return copy;
}

static void
test_json_round_trip (void)
{
  g_autoptr(NatterConversation) conversation = full_conversation ();
  g_autoptr(NatterConversation) copy = round_trip (conversation);

  assert_conversations_equal (conversation, copy);
  /* A new conversation, for the store to save as such. */
  g_assert_cmpint (natter_conversation_get_id (copy), ==, 0);
  g_assert_false (natter_conversation_is_streaming (copy));
}

static void
test_json_round_trip_with_length (void)
{
  g_autoptr(NatterConversation) conversation = full_conversation ();
  g_autofree char *json = natter_conversation_to_json (conversation);
  g_autofree char *padded = g_strconcat (json, "garbage after the length", NULL);
  g_autoptr(NatterConversation) copy = NULL;
  g_autoptr(GError) error = NULL;

  copy = natter_conversation_new_from_json (padded, strlen (json), &error);
  g_assert_no_error (error);
  assert_conversations_equal (conversation, copy);
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
assert_members (JsonObject         *object,
                const char * const *expected)
{
  g_autoptr(GList) members = json_object_get_members (object);

  g_assert_cmpuint (g_list_length (members), ==, g_strv_length ((char **) expected));
  for (guint i = 0; expected[i] != NULL; i++)
    g_assert_true (json_object_has_member (object, expected[i]));
}

static void
test_json_layout (void)
{
  g_autoptr(NatterConversation) conversation = full_conversation ();
  g_autofree char *json = natter_conversation_to_json (conversation);
  g_autoptr(JsonObject) root = parse_object (json);
  JsonArray *messages = json_object_get_array_member (root, "messages");
  const char * const top[] = { "format", "version", "title", "system_prompt", "temperature",
                               "max_tokens", "messages", NULL };
  const char * const complete[] = { "role", "content", "state", "reasoning", "model", "finish_reason",
                                    "ttft_us", "duration_us", "prompt_tokens", "completion_tokens", NULL };
  const char * const failed[] = { "role", "content", "state", "error", "prompt_tokens", NULL };
  const char * const plain[] = { "role", "content", "state", NULL };

  g_assert_true (g_str_has_prefix (json, "{\n  \"format\" : \"natter-conversation\",\n  \"version\" : 1,\n"));
  g_assert_true (g_str_has_suffix (json, "}\n"));
  /* Only the conversation: no id of this machine's database either. */
  assert_members (root, top);
  g_assert_cmpuint (json_array_get_length (messages), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "role"), ==,
                   "system");
  assert_members (json_array_get_object_element (messages, 2), complete);
  assert_members (json_array_get_object_element (messages, 4), failed);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 4), "error"), ==,
                   "Too many requests: slow *down* <now>");
  assert_members (json_array_get_object_element (messages, 5), plain);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 6), "state"), ==,
                   "interrupted");
  g_assert_null (strstr (json, "streaming"));
}

static void
test_json_omits_unset (void)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  g_autofree char *json = NULL;
  g_autoptr(JsonObject) root = NULL;
  g_autoptr(NatterConversation) copy = NULL;
  const char * const top[] = { "format", "version", "messages", NULL };
  const char * const plain[] = { "role", "content", "state", NULL };

  add_message (conversation, NATTER_ROLE_USER, "", NATTER_MESSAGE_STATE_COMPLETE);
  json = natter_conversation_to_json (conversation);
  root = parse_object (json);
  assert_members (root, top);
  assert_members (json_array_get_object_element (json_object_get_array_member (root, "messages"), 0), plain);

  copy = round_trip (conversation);
  assert_conversations_equal (conversation, copy);
  g_assert_cmpfloat (natter_conversation_get_temperature (copy), <, 0);
}

static void
test_json_lenient (void)
{
  const char *json =
    "{\"format\": \"natter-conversation\", \"version\": 1, \"exported_by\": {\"app\": \"x\"},"
    " \"title\": null, \"temperature\": 1,"
    " \"messages\": [{\"role\": \"user\", \"content\": \"hi\", \"attachments\": []},"
    "                {\"role\": \"assistant\", \"state\": \"streaming\", \"model\": null}]}";
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterConversation) conversation = natter_conversation_new_from_json (json, -1, &error);
  NatterMessage *answer;

  g_assert_no_error (error);
  g_assert_null (natter_conversation_get_title (conversation));
  g_assert_cmpfloat (natter_conversation_get_temperature (conversation), ==, 1.0);
  g_assert_cmpuint (natter_conversation_get_max_tokens (conversation), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 2);
  g_assert_cmpstr (natter_message_get_content (natter_conversation_get_message (conversation, 0)), ==, "hi");
  answer = natter_conversation_get_message (conversation, 1);
  g_assert_cmpstr (natter_message_get_content (answer), ==, "");
  g_assert_cmpint (natter_message_get_state (answer), ==, NATTER_MESSAGE_STATE_INTERRUPTED);
  g_assert_null (natter_message_get_model (answer));
  g_assert_cmpint (natter_message_get_ttft_us (answer), ==, -1);
  g_assert_false (natter_conversation_is_streaming (conversation));
}

#define HEADER "\"format\": \"natter-conversation\", \"version\": 1"

static const struct {
  const char *name;
  const char *json;
  int         code;
  const char *message;
} bad_files[] = {
  { "not-json", "Natter conversation, honest", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The file is not valid JSON: " },
  { "truncated", "{" HEADER ", \"messages\": [", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The file is not valid JSON: " },
  { "bad-utf8", "{" HEADER ", \"title\": \"\xff\xfe\"}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The file is not valid JSON: " },
  { "empty", "", NATTER_CONVERSATION_IMPORT_ERROR_INVALID, "The file is not a Natter conversation." },
  { "array", "[{" HEADER "}]", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The file is not a Natter conversation." },
  { "no-format", "{\"version\": 1, \"messages\": []}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The file is not a Natter conversation." },
  { "wrong-format", "{\"format\": \"chatgpt-export\", \"version\": 1}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The file is not a Natter conversation." },
  { "format-not-text", "{\"format\": 1, \"version\": 1}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The file is not a Natter conversation." },
  { "version-2", "{\"format\": \"natter-conversation\", \"version\": 2, \"messages\": 5}",
    NATTER_CONVERSATION_IMPORT_ERROR_NEWER_VERSION, "newer version of Natter" },
  { "version-text", "{\"format\": \"natter-conversation\", \"version\": \"1\"}",
    NATTER_CONVERSATION_IMPORT_ERROR_INVALID, "The “version” field of the conversation is not a whole number." },
  { "no-version", "{\"format\": \"natter-conversation\"}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "version" },
  { "title-not-text", "{" HEADER ", \"title\": [\"a\"]}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The “title” field of the conversation is not text." },
  { "temperature-text", "{" HEADER ", \"temperature\": \"hot\"}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The “temperature” field of the conversation is not a number." },
  { "max-tokens-negative", "{" HEADER ", \"max_tokens\": -5}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The “max_tokens” field of the conversation is out of range." },
  { "messages-not-array", "{" HEADER ", \"messages\": {\"role\": \"user\"}}",
    NATTER_CONVERSATION_IMPORT_ERROR_INVALID, "The “messages” field of the conversation is not a list." },
  { "message-not-object", "{" HEADER ", \"messages\": [{\"role\": \"user\"}, \"hello\"]}",
    NATTER_CONVERSATION_IMPORT_ERROR_INVALID, "Message 2 is not a JSON object." },
  { "role-unknown", "{" HEADER ", \"messages\": [{\"role\": \"user\"}, {\"role\": \"assistant\"},"
    " {\"role\": \"x\", \"content\": \"?\"}]}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "Message 3 has an unknown role “x”." },
  { "role-missing", "{" HEADER ", \"messages\": [{\"content\": \"hi\"}]}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "Message 1 has no role." },
  { "role-not-text", "{" HEADER ", \"messages\": [{\"role\": 1}]}", NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
    "The “role” field of message 1 is not text." },
  { "content-not-text", "{" HEADER ", \"messages\": [{\"role\": \"user\", \"content\": 42}]}",
    NATTER_CONVERSATION_IMPORT_ERROR_INVALID, "The “content” field of message 1 is not text." },
  { "content-object", "{" HEADER ", \"messages\": [{\"role\": \"user\", \"content\": {\"text\": \"hi\"}}]}",
    NATTER_CONVERSATION_IMPORT_ERROR_INVALID, "The “content” field of message 1 is not text." },
  { "state-unknown", "{" HEADER ", \"messages\": [{\"role\": \"user\", \"state\": \"paused\"}]}",
    NATTER_CONVERSATION_IMPORT_ERROR_INVALID, "Message 1 has an unknown state “paused”." },
  { "stat-fraction", "{" HEADER ", \"messages\": [{\"role\": \"assistant\", \"prompt_tokens\": 1.5}]}",
    NATTER_CONVERSATION_IMPORT_ERROR_INVALID, "The “prompt_tokens” field of message 1 is not a whole number." },
  { "error-not-text", "{" HEADER ", \"messages\": [{\"role\": \"assistant\", \"error\": {\"code\": 429}}]}",
    NATTER_CONVERSATION_IMPORT_ERROR_INVALID, "The “error” field of message 1 is not text." },
};

static void
test_json_error (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterConversation) conversation = NULL;

  conversation = natter_conversation_new_from_json (bad_files[i].json, -1, &error);
  g_assert_null (conversation);
  g_assert_error (error, NATTER_CONVERSATION_IMPORT_ERROR, bad_files[i].code);
  if (strstr (error->message, bad_files[i].message) == NULL)
    g_error ("“%s” does not contain “%s”", error->message, bad_files[i].message);
}

static void
test_json_error_quotes_short (void)
{
  g_autofree char *role = g_strnfill (10000, 'r');
  g_autofree char *json = g_strdup_printf ("{" HEADER ", \"messages\": [{\"role\": \"%s\"}]}", role);
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterConversation) conversation = natter_conversation_new_from_json (json, -1, &error);

  g_assert_null (conversation);
  g_assert_error (error, NATTER_CONVERSATION_IMPORT_ERROR, NATTER_CONVERSATION_IMPORT_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "Message 1 has an unknown role “rrr"));
  g_assert_cmpuint (strlen (error->message), <, 200);
}

static void
test_markdown_exact (void)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  g_autofree char *markdown = NULL;
  NatterMessage *answer;

  natter_conversation_set_title (conversation, "Greetings");
  natter_conversation_set_system_prompt (conversation, "Be brief.\n\nBe kind.");
  add_message (conversation, NATTER_ROLE_USER, "Say hi", NATTER_MESSAGE_STATE_COMPLETE);
  answer = add_message (conversation, NATTER_ROLE_ASSISTANT, "Hi!", NATTER_MESSAGE_STATE_COMPLETE);
  natter_message_set_model (answer, "gpt-4o");
  natter_message_set_reasoning (answer, "A greeting.");

  markdown = natter_conversation_to_markdown (conversation);
  g_assert_cmpstr (markdown, ==,
                   "# Greetings\n"
                   "\n"
                   "## System prompt\n"
                   "\n"
                   "> Be brief.\n"
                   ">\n"
                   "> Be kind.\n"
                   "\n"
                   "## You\n"
                   "\n"
                   "Say hi\n"
                   "\n"
                   "## Assistant · gpt-4o\n"
                   "\n"
                   "<details><summary>Reasoning</summary>\n"
                   "\n"
                   "A greeting.\n"
                   "\n"
                   "</details>\n"
                   "\n"
                   "Hi!\n");
}

static void
test_markdown_full (void)
{
  g_autoptr(NatterConversation) conversation = full_conversation ();
  g_autofree char *markdown = natter_conversation_to_markdown (conversation);

  /* Markup in plain-text places is escaped, not rendered. */
  g_assert_true (g_str_has_prefix (markdown, "# Ünïcode & \\*stars\\* — “quoted”\n\n"));
  g_assert_nonnull (strstr (markdown, "## System prompt\n\n> Be brief.\n>\n> Answer in French.\n\n"));
  g_assert_nonnull (strstr (markdown, "## System\n\nAn extra system message\n\n"));
  g_assert_nonnull (strstr (markdown, "## You\n\n" USER_TEXT "\n## Assistant"));
  g_assert_nonnull (strstr (markdown, "## Assistant · openai/gpt-4o-mini\n\n"
                                      "<details><summary>Reasoning</summary>\n\n"
                                      "The user wants French.\nKeep it short.\n\n</details>\n\n"
                                      "**Bonjour** !\n\n- un\n- deux\n\n"));
  g_assert_nonnull (strstr (markdown, "## Assistant · mistral-small\n\nJe commen\n\n*Stopped*\n\n"));
  g_assert_nonnull (strstr (markdown, "## Assistant\n\n*Failed: Too many requests: slow \\*down\\* \\<now\\>*\n\n"));
  g_assert_nonnull (strstr (markdown, "## Assistant\n\nHalf an ans\n\n*Interrupted*\n\n"));
  g_assert_true (g_str_has_suffix (markdown, "## Assistant\n\nStill stream\n\n*Interrupted*\n"));
  g_assert_cmpuint (g_utf8_validate (markdown, -1, NULL), ==, TRUE);
}

static void
test_markdown_verbatim (void)
{
  const char *content = "Write it like this:\n\n```markdown\n## You\n\n> quoted\n<details>\n```\n\nDone.";
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  g_autofree char *markdown = NULL;
  g_autofree char *expected = g_strconcat ("# Conversation\n\n## Assistant\n\n", content, "\n", NULL);

  add_message (conversation, NATTER_ROLE_ASSISTANT, content, NATTER_MESSAGE_STATE_COMPLETE);
  markdown = natter_conversation_to_markdown (conversation);
  g_assert_cmpstr (markdown, ==, expected);
}

/* An answer stopped inside a code block must not swallow what follows. */
static void
test_markdown_closes_open_fence (void)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  g_autofree char *markdown = NULL;

  add_message (conversation, NATTER_ROLE_ASSISTANT, "Here:\n\n````python\nprint (\"```\")\n```\nx = 1",
               NATTER_MESSAGE_STATE_STOPPED);
  add_message (conversation, NATTER_ROLE_USER, "~~~\nclosed\n~~~\n", NATTER_MESSAGE_STATE_COMPLETE);
  add_message (conversation, NATTER_ROLE_USER, "``` not a fence ` here\n## Still text", NATTER_MESSAGE_STATE_COMPLETE);
  markdown = natter_conversation_to_markdown (conversation);
  g_assert_cmpstr (markdown, ==,
                   "# Conversation\n\n"
                   "## Assistant\n\n"
                   "Here:\n\n````python\nprint (\"```\")\n```\nx = 1\n````\n\n"
                   "*Stopped*\n\n"
                   "## You\n\n~~~\nclosed\n~~~\n\n"
                   "## You\n\n``` not a fence ` here\n## Still text\n");
}

static void
test_large_message (void)
{
  g_autoptr(NatterConversation) conversation = natter_conversation_new ();
  g_autoptr(NatterConversation) copy = NULL;
  g_autoptr(GString) text = g_string_sized_new (5 * 1024 * 1024 + 64);
  g_autofree char *markdown = NULL;
  NatterMessage *answer;

  while (text->len < 5 * 1024 * 1024)
    g_string_append (text, "Ligne « ünïcode » 😀 with \"quotes\" and \\ and\ttabs.\n");
  answer = add_message (conversation, NATTER_ROLE_ASSISTANT, text->str, NATTER_MESSAGE_STATE_COMPLETE);
  natter_message_set_reasoning (answer, text->str);

  copy = round_trip (conversation);
  assert_conversations_equal (conversation, copy);

  markdown = natter_conversation_to_markdown (conversation);
  g_assert_cmpuint (strlen (markdown), >, 2 * text->len);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/natter/conversation-export/json/round-trip", test_json_round_trip);
  g_test_add_func ("/natter/conversation-export/json/round-trip-with-length", test_json_round_trip_with_length);
  g_test_add_func ("/natter/conversation-export/json/layout", test_json_layout);
  g_test_add_func ("/natter/conversation-export/json/omits-unset", test_json_omits_unset);
  g_test_add_func ("/natter/conversation-export/json/lenient", test_json_lenient);
  for (guint i = 0; i < G_N_ELEMENTS (bad_files); i++)
    {
      g_autofree char *path = g_strdup_printf ("/natter/conversation-export/json/error/%s", bad_files[i].name);

      g_test_add_data_func (path, GUINT_TO_POINTER (i), test_json_error);
    }
  g_test_add_func ("/natter/conversation-export/json/error-quotes-short", test_json_error_quotes_short);
  g_test_add_func ("/natter/conversation-export/markdown/exact", test_markdown_exact);
  g_test_add_func ("/natter/conversation-export/markdown/full", test_markdown_full);
  g_test_add_func ("/natter/conversation-export/markdown/verbatim", test_markdown_verbatim);
  g_test_add_func ("/natter/conversation-export/markdown/closes-open-fence", test_markdown_closes_open_fence);
  g_test_add_func ("/natter/conversation-export/large-message", test_large_message);

  return g_test_run ();
}
