/* test-chunk-decoder.c — OpenAI-style streaming chunks to deltas
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "natter-api-error.h"
#include "natter-chunk-decoder.h"

/* What the decoder said, in the order it said it. */
typedef struct
{
  NatterChunkDecoder *decoder;
  GString            *content;
  GString            *reasoning;
  GString            *log;
  guint               n_content;
  guint               n_reasoning;
  guint               n_usage;
  JsonObject         *last_usage;
} Fixture;

static void
content_delta_cb (NatterChunkDecoder *decoder,
                  const char         *text,
                  Fixture            *f)
{
  g_string_append (f->content, text);
  g_string_append_printf (f->log, "content:%s|", text);
  f->n_content++;
}

static void
reasoning_delta_cb (NatterChunkDecoder *decoder,
                    const char         *text,
                    Fixture            *f)
{
  g_string_append (f->reasoning, text);
  g_string_append_printf (f->log, "reasoning:%s|", text);
  f->n_reasoning++;
}

static void
usage_cb (NatterChunkDecoder *decoder,
          JsonObject         *usage,
          Fixture            *f)
{
  g_clear_pointer (&f->last_usage, json_object_unref);
  f->last_usage = json_object_ref (usage);
  g_string_append (f->log, "usage|");
  f->n_usage++;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->decoder = natter_chunk_decoder_new ();
  f->content = g_string_new (NULL);
  f->reasoning = g_string_new (NULL);
  f->log = g_string_new (NULL);
  g_signal_connect (f->decoder, "content-delta", G_CALLBACK (content_delta_cb), f);
  g_signal_connect (f->decoder, "reasoning-delta", G_CALLBACK (reasoning_delta_cb), f);
  g_signal_connect (f->decoder, "usage", G_CALLBACK (usage_cb), f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->decoder);
  g_string_free (f->content, TRUE);
  g_string_free (f->reasoning, TRUE);
  g_string_free (f->log, TRUE);
  g_clear_pointer (&f->last_usage, json_object_unref);
}

static void
feed_ok (Fixture    *f,
         const char *data)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = natter_chunk_decoder_feed (f->decoder, "message", data, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
feed_all_ok (Fixture           *f,
             const char * const *events)
{
  for (guint i = 0; events[i] != NULL; i++)
    feed_ok (f, events[i]);
}

/* Returns the error of an event the decoder must refuse. */
static GError *
feed_fails (Fixture    *f,
            const char *event_type,
            const char *data)
{
  GError *error = NULL;
  gboolean ok;

  ok = natter_chunk_decoder_feed (f->decoder, event_type, data, &error);
  g_assert_false (ok);
  g_assert_nonnull (error);
  return error;
}

static gint64
usage_int (JsonObject *usage,
           const char *name)
{
  g_assert_nonnull (usage);
  g_assert_true (json_object_has_member (usage, name));
  return json_object_get_int_member (usage, name);
}

static NatterToolCall *
tool_call_at (Fixture *f,
              guint    i)
{
  GPtrArray *calls = natter_chunk_decoder_get_tool_calls (f->decoder);

  g_assert_nonnull (calls);
  g_assert_cmpuint (i, <, calls->len);
  return g_ptr_array_index (calls, i);
}

/* --- Content and reasoning ---------------------------------------------- */

static void
test_content (Fixture       *f,
              gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\", world\"}}]}");

  g_assert_cmpstr (f->content->str, ==, "Hello, world");
  g_assert_cmpuint (f->n_content, ==, 2);
  g_assert_cmpuint (f->n_reasoning, ==, 0);
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 2);
  g_assert_false (natter_chunk_decoder_is_done (f->decoder));
}

static void
test_choice_index (Fixture       *f,
                   gconstpointer  data)
{
  feed_ok (f, "{\"choices\":["
              "{\"index\":1,\"delta\":{\"content\":\"other\"},\"finish_reason\":\"length\"},"
              "{\"index\":0,\"delta\":{\"content\":\"first\"}}]}");

  g_assert_cmpstr (f->content->str, ==, "first");
  g_assert_cmpuint (f->n_content, ==, 1);
  g_assert_null (natter_chunk_decoder_get_finish_reason (f->decoder));
}

static void
test_choice_only_other_index (Fixture       *f,
                              gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other\"}}]}");

  g_assert_cmpuint (f->n_content, ==, 0);
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 1);
}

static void
test_choice_missing_index (Fixture       *f,
                           gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"delta\":{\"content\":\"no index\"},\"finish_reason\":\"stop\"}]}");

  g_assert_cmpstr (f->content->str, ==, "no index");
  g_assert_cmpstr (natter_chunk_decoder_get_finish_reason (f->decoder), ==, "stop");
}

static void
test_reasoning (Fixture       *f,
                gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"Let me \"}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"think.\"}}]}");

  g_assert_cmpstr (f->reasoning->str, ==, "Let me think.");
  g_assert_cmpuint (f->n_reasoning, ==, 2);
  g_assert_cmpuint (f->n_content, ==, 0);
}

static void
test_reasoning_content (Fixture       *f,
                        gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Hmm.\",\"content\":null}}]}");

  g_assert_cmpstr (f->reasoning->str, ==, "Hmm.");
  g_assert_cmpuint (f->n_reasoning, ==, 1);
  g_assert_cmpuint (f->n_content, ==, 0);
}

/* Some servers send both names, one of them empty or null. */
static void
test_reasoning_either_name (Fixture       *f,
                            gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"\",\"reasoning_content\":\"a\"}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"b\",\"reasoning_content\":null}}]}");

  g_assert_cmpstr (f->reasoning->str, ==, "ab");
  g_assert_cmpuint (f->n_reasoning, ==, 2);
}

static void
test_empty_content (Fixture       *f,
                    gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":null}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"\"}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0}]}");

  g_assert_cmpuint (f->n_content, ==, 0);
  g_assert_cmpuint (f->n_reasoning, ==, 0);
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 5);
}

static void
test_unicode (Fixture       *f,
              gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":"
              "\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\"\\n\\ttab\\\\ \xe6\x97\xa5\xe6\x9c\xac\"}}]}");

  g_assert_cmpstr (f->content->str, ==, "café 😀 \"q\"\n\ttab\\ 日本");
  g_assert_true (g_utf8_validate (f->content->str, -1, NULL));
}

/* Most chunks are read in place rather than by json-glib; at these corners
 * both readings must give what JSON means (or json-glib's reading, where it
 * is the one that answers). */
static void
test_read_in_place (Fixture       *f,
                    gconstpointer  data)
{
  const struct {
    const char *chunk;
    const char *log;
  } cases[] = {
    { "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\\/b\\b\\f\\r\\t\\n\\\\\\\"\"}}]}",
      "content:a/b\b\f\r\t\n\\\"|" },
    { "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\u00e9 \\u20AC \\ud83d\\ude00 \xe6\x97\xa5\"}}]}",
      "content:é € 😀 日|" },
    { " \t{\"choices\" : [ { \"index\" : -0 , \"delta\" : { \"content\" : \"spaced\" } } ] }\r\n",
      "content:spaced|" },
    { "{\"a\":[1,-2.5,true,false,null,{\"b\":[]}],\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],"
      "\"usage\":null,\"error\":null}",
      "content:x|" },
    { "{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"B\"}},"
      "{\"index\":0,\"delta\":{\"reasoning\":\"\",\"reasoning_content\":\"R\",\"content\":\"A\"}}]}",
      "reasoning:R|content:A|" },
    /* Left to json-glib: a repeated member, an escaped name, an exponent. */
    { "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\",\"content\":\"b\"}}]}", "content:b|" },
    { "{\"choices\":[{\"index\":0,\"delta\":{\"con\\u0074ent\":\"named\"}}]}", "content:named|" },
    { "{\"a\":1e3,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"e\"}}]}", "content:e|" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_string_truncate (f->log, 0);
      feed_ok (f, cases[i].chunk);
      g_assert_cmpstr (f->log->str, ==, cases[i].log);
    }
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, G_N_ELEMENTS (cases));
}

/* --- Tool calls ---------------------------------------------------------- */

static void
test_tool_call (Fixture       *f,
                gconstpointer  data)
{
  NatterToolCall *call;

  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
              "\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
              "\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
              "\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}");

  g_assert_cmpuint (natter_chunk_decoder_get_tool_calls (f->decoder)->len, ==, 1);
  call = tool_call_at (f, 0);
  g_assert_cmpstr (natter_tool_call_get_id (call), ==, "call_1");
  g_assert_cmpstr (natter_tool_call_get_name (call), ==, "get_weather");
  g_assert_cmpstr (natter_tool_call_get_arguments (call), ==, "{\"city\":\"Paris\"}");
  g_assert_cmpstr (natter_chunk_decoder_get_finish_reason (f->decoder), ==, "tool_calls");
  g_assert_cmpuint (f->n_content, ==, 0);
}

/* A later fragment repeating the id or name must not replace them. */
static void
test_tool_call_id_name_set_once (Fixture       *f,
                                 gconstpointer  data)
{
  NatterToolCall *call;

  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
              "\"function\":{\"name\":\"search\",\"arguments\":\"{\"}}]}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_2\","
              "\"function\":{\"name\":\"other\",\"arguments\":\"}\"}}]}}]}");

  call = tool_call_at (f, 0);
  g_assert_cmpuint (natter_chunk_decoder_get_tool_calls (f->decoder)->len, ==, 1);
  g_assert_cmpstr (natter_tool_call_get_id (call), ==, "call_1");
  g_assert_cmpstr (natter_tool_call_get_name (call), ==, "search");
  g_assert_cmpstr (natter_tool_call_get_arguments (call), ==, "{}");
}

static void
test_tool_calls_parallel (Fixture       *f,
                          gconstpointer  data)
{
  const char * const events[] = {
    "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":["
      "{\"index\":0,\"id\":\"call_a\",\"function\":{\"name\":\"weather\",\"arguments\":\"\"}}]}}]}",
    "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":["
      "{\"index\":1,\"id\":\"call_b\",\"function\":{\"name\":\"time\",\"arguments\":\"{\\\"tz\"}}]}}]}",
    "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":["
      "{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\"}}]}}]}",
    "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":["
      "{\"index\":1,\"function\":{\"arguments\":\"\\\":\\\"CET\\\"}\"}},"
      "{\"index\":0,\"function\":{\"arguments\":\"\\\":\\\"Oslo\\\"}\"}}]}}]}",
    "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}",
    "[DONE]",
    NULL
  };
  NatterToolCall *a, *b;

  feed_all_ok (f, events);

  g_assert_cmpuint (natter_chunk_decoder_get_tool_calls (f->decoder)->len, ==, 2);
  a = tool_call_at (f, 0);
  b = tool_call_at (f, 1);
  g_assert_cmpstr (natter_tool_call_get_id (a), ==, "call_a");
  g_assert_cmpstr (natter_tool_call_get_name (a), ==, "weather");
  g_assert_cmpstr (natter_tool_call_get_arguments (a), ==, "{\"city\":\"Oslo\"}");
  g_assert_cmpstr (natter_tool_call_get_id (b), ==, "call_b");
  g_assert_cmpstr (natter_tool_call_get_name (b), ==, "time");
  g_assert_cmpstr (natter_tool_call_get_arguments (b), ==, "{\"tz\":\"CET\"}");
}

static void
test_tool_call_copy (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(NatterToolCall) copy = NULL;

  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\","
              "\"function\":{\"name\":\"n\",\"arguments\":\"{}\"}}]}}]}");

  copy = natter_tool_call_copy (tool_call_at (f, 0));
  g_assert_cmpstr (natter_tool_call_get_id (copy), ==, "c");
  g_assert_cmpstr (natter_tool_call_get_name (copy), ==, "n");
  g_assert_cmpstr (natter_tool_call_get_arguments (copy), ==, "{}");
}

/* --- Finish reason, usage, id, model --------------------------------- */

static void
test_finish_reason (Fixture       *f,
                    gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":null}]}");
  g_assert_null (natter_chunk_decoder_get_finish_reason (f->decoder));

  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}");
  g_assert_cmpstr (natter_chunk_decoder_get_finish_reason (f->decoder), ==, "stop");

  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":null}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{}}]}");
  feed_ok (f, "{\"choices\":[],\"usage\":{\"total_tokens\":3}}");
  g_assert_cmpstr (natter_chunk_decoder_get_finish_reason (f->decoder), ==, "stop");
}

static void
test_usage_empty_choices (Fixture       *f,
                          gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}");
  g_assert_cmpuint (f->n_usage, ==, 0);
  g_assert_null (natter_chunk_decoder_get_usage (f->decoder));

  feed_ok (f, "{\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,\"total_tokens\":10}}");

  g_assert_cmpuint (f->n_usage, ==, 1);
  g_assert_cmpint (usage_int (f->last_usage, "total_tokens"), ==, 10);
  g_assert_cmpint (usage_int (natter_chunk_decoder_get_usage (f->decoder), "prompt_tokens"), ==, 9);
  g_assert_cmpint (usage_int (natter_chunk_decoder_get_usage (f->decoder), "completion_tokens"), ==, 1);
}

static void
test_usage_missing_choices (Fixture       *f,
                            gconstpointer  data)
{
  feed_ok (f, "{\"id\":\"u\",\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2,\"total_tokens\":6}}");

  g_assert_cmpuint (f->n_usage, ==, 1);
  g_assert_cmpint (usage_int (natter_chunk_decoder_get_usage (f->decoder), "total_tokens"), ==, 6);
  g_assert_cmpstr (natter_chunk_decoder_get_id (f->decoder), ==, "u");
}

/* Mistral puts the last piece of content, the finish reason and the usage in
 * one chunk: none of them may be lost. */
static void
test_usage_with_last_content (Fixture       *f,
                              gconstpointer  data)
{
  feed_ok (f, "{\"id\":\"m1\",\"model\":\"mistral-small-latest\",\"choices\":[{\"index\":0,"
              "\"delta\":{\"content\":\"Bye.\"},\"finish_reason\":\"stop\"}],"
              "\"usage\":{\"prompt_tokens\":7,\"total_tokens\":9,\"completion_tokens\":2}}");

  g_assert_cmpstr (f->content->str, ==, "Bye.");
  g_assert_cmpstr (natter_chunk_decoder_get_finish_reason (f->decoder), ==, "stop");
  g_assert_cmpuint (f->n_usage, ==, 1);
  g_assert_cmpint (usage_int (natter_chunk_decoder_get_usage (f->decoder), "completion_tokens"), ==, 2);
  g_assert_cmpstr (f->log->str, ==, "content:Bye.|usage|");
}

/* The usage object must outlive the chunk it came in. */
static void
test_usage_last_wins (Fixture       *f,
                      gconstpointer  data)
{
  feed_ok (f, "{\"choices\":[],\"usage\":{\"total_tokens\":1}}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}");
  g_assert_cmpint (usage_int (natter_chunk_decoder_get_usage (f->decoder), "total_tokens"), ==, 1);

  feed_ok (f, "{\"choices\":[],\"usage\":{\"total_tokens\":2}}");
  g_assert_cmpuint (f->n_usage, ==, 2);
  g_assert_cmpint (usage_int (natter_chunk_decoder_get_usage (f->decoder), "total_tokens"), ==, 2);
}

static void
test_id_and_model (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_null (natter_chunk_decoder_get_id (f->decoder));
  g_assert_null (natter_chunk_decoder_get_model (f->decoder));

  feed_ok (f, "{\"id\":\"chatcmpl-1\",\"model\":\"gpt-4o\",\"choices\":[]}");
  g_assert_cmpstr (natter_chunk_decoder_get_id (f->decoder), ==, "chatcmpl-1");
  g_assert_cmpstr (natter_chunk_decoder_get_model (f->decoder), ==, "gpt-4o");

  /* A chunk without them keeps the earlier ones. */
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}");
  g_assert_cmpstr (natter_chunk_decoder_get_id (f->decoder), ==, "chatcmpl-1");
  g_assert_cmpstr (natter_chunk_decoder_get_model (f->decoder), ==, "gpt-4o");

  feed_ok (f, "{\"id\":\"chatcmpl-1\",\"model\":\"gpt-4o-2024-08-06\",\"choices\":[]}");
  g_assert_cmpstr (natter_chunk_decoder_get_model (f->decoder), ==, "gpt-4o-2024-08-06");
}

/* --- Errors ---------------------------------------------------------- */

static void
test_error_in_chunk (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Partial\"}}]}");
  error = feed_fails (f, "message", "{\"error\":{\"message\":\"Upstream overloaded\",\"code\":502}}");

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER);
  g_assert_nonnull (strstr (error->message, "Upstream overloaded"));
  g_assert_cmpstr (f->content->str, ==, "Partial");
}

/* OpenRouter's shape: the error rides in an otherwise normal chunk, whose
 * empty content must not reach the answer. */
static void
test_error_in_openrouter_chunk (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  error = feed_fails (f, "message",
                      "{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                      "\"model\":\"anthropic/claude-3.5-sonnet\",\"provider\":\"Anthropic\","
                      "\"error\":{\"code\":502,\"message\":\"Upstream overloaded\"},"
                      "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}");

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER);
  g_assert_nonnull (strstr (error->message, "Upstream overloaded"));
  g_assert_cmpuint (f->n_content, ==, 0);
}

static void
test_error_event (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  error = feed_fails (f, "error", "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}");

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER);
  g_assert_nonnull (strstr (error->message, "Rate limit reached"));
}

static void
test_error_event_plain_text (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  error = feed_fails (f, "error", "Model is loading");

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER);
  g_assert_nonnull (strstr (error->message, "Model is loading"));
}

static void
test_error_without_message (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  error = feed_fails (f, "message", "{\"error\":{\"code\":500}}");

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROVIDER);
  g_assert_cmpstr (error->message, !=, "");
}

static void
test_malformed (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  error = feed_fails (f, "message", "{\"choices\":[{\"index\":0,\"delta\":");

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "{\"choices\":[{\"index\":0,\"delta\":"));
  g_assert_null (strstr (error->message, "…"));
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 0);
}

static char *
long_payload (const char *start,
              guint       n_chars)
{
  GString *payload = g_string_new (start);

  while (payload->len < n_chars)
    g_string_append_c (payload, 'a' + payload->len % 26);
  return g_string_free (payload, FALSE);
}

static void
test_malformed_long (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *payload = long_payload ("{\"content\":\"", 500);
  g_autofree char *first_80 = g_strndup (payload, 80);
  g_autofree char *first_81 = g_strndup (payload, 81);

  error = feed_fails (f, "message", payload);

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, first_80));
  g_assert_null (strstr (error->message, first_81));
  g_assert_nonnull (strstr (error->message, "…"));
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 0);
}

/* A payload of exactly the quote's length is quoted whole, without an
 * ellipsis. */
static void
test_malformed_quote_length (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *payload = long_payload ("{\"content\":\"", 80);

  error = feed_fails (f, "message", payload);

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, payload));
  g_assert_null (strstr (error->message, "…"));
}

/* The quote is cut at a character, not a byte, and stays valid UTF-8. */
static void
test_malformed_utf8 (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) payload = g_string_new ("{\"content\":\"");

  for (guint i = 0; i < 100; i++)
    g_string_append (payload, "é");
  g_string_append (payload, "\xff");

  error = feed_fails (f, "message", payload->str);

  g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_assert_nonnull (strstr (error->message, "{\"content\":\"ééé"));
  g_assert_nonnull (strstr (error->message, "…"));
}

static void
test_not_an_object (Fixture       *f,
                    gconstpointer  data)
{
  const char * const payloads[] = { "[1,2]", "\"x\"", "42", "null", NULL };

  for (guint i = 0; payloads[i] != NULL; i++)
    {
      g_autoptr(GError) error = feed_fails (f, "message", payloads[i]);

      g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, payloads[i]));
    }
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 0);
}

/* The same as above, long enough to stay clear of the quoting bug. */
static void
test_not_an_object_long (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GString) array = g_string_new ("[");
  g_autoptr(GString) string = g_string_new ("\"");
  g_autoptr(GError) array_error = NULL;
  g_autoptr(GError) string_error = NULL;

  for (guint i = 0; i < 50; i++)
    g_string_append (array, "1,");
  g_string_append (array, "2]");
  for (guint i = 0; i < 100; i++)
    g_string_append_c (string, 'x');
  g_string_append_c (string, '"');

  array_error = feed_fails (f, "message", array->str);
  string_error = feed_fails (f, "message", string->str);

  g_assert_error (array_error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
  g_assert_error (string_error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 0);
}

/* Elements of the wrong type are the provider's mistake: the decoder must
 * neither emit a critical nor take them for content. */
static void
test_choices_not_objects (Fixture       *f,
                          gconstpointer  data)
{
  const char * const payloads[] = {
    "{\"choices\":[1,{\"index\":0,\"delta\":{\"content\":\"A\"}}]}",
    "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[\"x\"]}}]}",
    NULL
  };

  for (guint i = 0; payloads[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!natter_chunk_decoder_feed (f->decoder, "message", payloads[i], &error))
        g_assert_error (error, NATTER_API_ERROR, NATTER_API_ERROR_PROTOCOL);
    }
  g_assert_cmpuint (natter_chunk_decoder_get_tool_calls (f->decoder)->len, ==, 0);
}

/* --- [DONE] ---------------------------------------------------------- */

static void
test_done (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"A\"}}]}");
  feed_ok (f, "[DONE]");
  g_assert_true (natter_chunk_decoder_is_done (f->decoder));

  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"},\"finish_reason\":\"stop\"}],"
              "\"usage\":{\"total_tokens\":1}}");
  feed_ok (f, "not json at all");
  g_assert_true (natter_chunk_decoder_feed (f->decoder, "error", "{\"error\":\"late\"}", &error));
  g_assert_no_error (error);

  g_assert_cmpstr (f->log->str, ==, "content:A|");
  g_assert_null (natter_chunk_decoder_get_finish_reason (f->decoder));
  g_assert_null (natter_chunk_decoder_get_usage (f->decoder));
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 1);
  g_assert_true (natter_chunk_decoder_is_done (f->decoder));
}

static void
test_n_chunks (Fixture       *f,
               gconstpointer  data)
{
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 0);
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}");
  feed_ok (f, "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}");
  feed_ok (f, "{\"choices\":[],\"usage\":{\"total_tokens\":1}}");
  feed_ok (f, "[DONE]");
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 3);
}

/* --- Whole streams, as providers send them --------------------------- */

static void
test_stream_openai (Fixture       *f,
                    gconstpointer  data)
{
  const char * const events[] = {
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,"
      "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,"
      "\"finish_reason\":null}],\"usage\":null}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,"
      "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,"
      "\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,"
      "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,"
      "\"delta\":{\"content\":\"!\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,"
      "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,"
      "\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"created\":1718000000,"
      "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_1\",\"choices\":[],"
      "\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":2,\"total_tokens\":13,"
      "\"prompt_tokens_details\":{\"cached_tokens\":0}}}",
    "[DONE]",
    NULL
  };

  feed_all_ok (f, events);

  g_assert_cmpstr (f->log->str, ==, "content:Hello|content:!|usage|");
  g_assert_cmpstr (natter_chunk_decoder_get_finish_reason (f->decoder), ==, "stop");
  g_assert_cmpstr (natter_chunk_decoder_get_id (f->decoder), ==, "chatcmpl-9x");
  g_assert_cmpstr (natter_chunk_decoder_get_model (f->decoder), ==, "gpt-4o-mini-2024-07-18");
  g_assert_cmpint (usage_int (natter_chunk_decoder_get_usage (f->decoder), "total_tokens"), ==, 13);
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 5);
  g_assert_cmpuint (natter_chunk_decoder_get_tool_calls (f->decoder)->len, ==, 0);
  g_assert_true (natter_chunk_decoder_is_done (f->decoder));
}

static void
test_stream_openrouter (Fixture       *f,
                        gconstpointer  data)
{
  const char * const events[] = {
    "{\"id\":\"gen-17-abc\",\"provider\":\"Google\",\"model\":\"google/gemini-2.5-flash\","
      "\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning\":\"Counting. \"},"
      "\"finish_reason\":null,\"native_finish_reason\":null,\"logprobs\":null}]}",
    "{\"id\":\"gen-17-abc\",\"provider\":\"Google\",\"model\":\"google/gemini-2.5-flash\","
      "\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\",\"content\":\"1, 2,\",\"reasoning\":null},"
      "\"finish_reason\":null,\"native_finish_reason\":null,\"logprobs\":null}]}",
    "{\"id\":\"gen-17-abc\",\"provider\":\"Google\",\"model\":\"google/gemini-2.5-flash\","
      "\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\",\"content\":\" 3\",\"reasoning\":null},"
      "\"finish_reason\":\"stop\",\"native_finish_reason\":\"STOP\",\"logprobs\":null}]}",
    "{\"id\":\"gen-17-abc\",\"provider\":\"Google\",\"model\":\"google/gemini-2.5-flash\","
      "\"object\":\"chat.completion.chunk\",\"created\":1750000000,\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning\":null},"
      "\"finish_reason\":null,\"native_finish_reason\":null,\"logprobs\":null}],"
      "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":8,\"total_tokens\":13,\"cost\":0.0001}}",
    "[DONE]",
    NULL
  };

  feed_all_ok (f, events);

  g_assert_cmpstr (f->log->str, ==, "reasoning:Counting. |content:1, 2,|content: 3|usage|");
  g_assert_cmpstr (natter_chunk_decoder_get_finish_reason (f->decoder), ==, "stop");
  g_assert_cmpstr (natter_chunk_decoder_get_id (f->decoder), ==, "gen-17-abc");
  g_assert_cmpstr (natter_chunk_decoder_get_model (f->decoder), ==, "google/gemini-2.5-flash");
  g_assert_cmpint (usage_int (natter_chunk_decoder_get_usage (f->decoder), "completion_tokens"), ==, 8);
  g_assert_true (natter_chunk_decoder_is_done (f->decoder));
}

static void
test_stream_deepseek_reasoner (Fixture       *f,
                               gconstpointer  data)
{
  const char * const events[] = {
    "{\"id\":\"ds-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-reasoner\","
      "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,"
      "\"reasoning_content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}",
    "{\"id\":\"ds-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-reasoner\","
      "\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"reasoning_content\":\"9.11 vs 9.8\"},"
      "\"logprobs\":null,\"finish_reason\":null}]}",
    "{\"id\":\"ds-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-reasoner\","
      "\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"reasoning_content\":\": 0.80 > 0.11.\"},"
      "\"logprobs\":null,\"finish_reason\":null}]}",
    "{\"id\":\"ds-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-reasoner\","
      "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"9.8 is larger.\",\"reasoning_content\":null},"
      "\"logprobs\":null,\"finish_reason\":null}]}",
    "{\"id\":\"ds-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"deepseek-reasoner\","
      "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\",\"reasoning_content\":null},"
      "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":14,"
      "\"completion_tokens\":40,\"total_tokens\":54,"
      "\"completion_tokens_details\":{\"reasoning_tokens\":30}}}",
    "[DONE]",
    NULL
  };

  feed_all_ok (f, events);

  g_assert_cmpstr (f->reasoning->str, ==, "9.11 vs 9.8: 0.80 > 0.11.");
  g_assert_cmpstr (f->content->str, ==, "9.8 is larger.");
  g_assert_cmpstr (f->log->str, ==,
                   "reasoning:9.11 vs 9.8|reasoning:: 0.80 > 0.11.|content:9.8 is larger.|usage|");
  g_assert_cmpstr (natter_chunk_decoder_get_finish_reason (f->decoder), ==, "stop");
  g_assert_cmpint (usage_int (natter_chunk_decoder_get_usage (f->decoder), "total_tokens"), ==, 54);
}

/* Ollama's OpenAI-compatible endpoint: no usage unless asked, the finish
 * reason on the last content chunk. */
static void
test_stream_ollama (Fixture       *f,
                    gconstpointer  data)
{
  const char * const events[] = {
    "{\"id\":\"chatcmpl-535\",\"object\":\"chat.completion.chunk\",\"created\":1720000000,"
      "\"model\":\"llama3.2\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\",\"content\":\"Bonjour\"},\"finish_reason\":null}]}",
    "{\"id\":\"chatcmpl-535\",\"object\":\"chat.completion.chunk\",\"created\":1720000000,"
      "\"model\":\"llama3.2\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\",\"content\":\" à tous\"},\"finish_reason\":null}]}",
    "{\"id\":\"chatcmpl-535\",\"object\":\"chat.completion.chunk\",\"created\":1720000000,"
      "\"model\":\"llama3.2\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":\"stop\"}]}",
    "[DONE]",
    NULL
  };

  feed_all_ok (f, events);

  g_assert_cmpstr (f->log->str, ==, "content:Bonjour|content: à tous|");
  g_assert_cmpstr (natter_chunk_decoder_get_finish_reason (f->decoder), ==, "stop");
  g_assert_cmpstr (natter_chunk_decoder_get_model (f->decoder), ==, "llama3.2");
  g_assert_null (natter_chunk_decoder_get_usage (f->decoder));
  g_assert_cmpuint (f->n_usage, ==, 0);
  g_assert_cmpuint (natter_chunk_decoder_get_n_chunks (f->decoder), ==, 3);
}

static void
add_test (const char *path,
          void      (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_test ("/natter/chunk-decoder/content", test_content);
  add_test ("/natter/chunk-decoder/choice-index", test_choice_index);
  add_test ("/natter/chunk-decoder/choice-only-other-index", test_choice_only_other_index);
  add_test ("/natter/chunk-decoder/choice-missing-index", test_choice_missing_index);
  add_test ("/natter/chunk-decoder/reasoning", test_reasoning);
  add_test ("/natter/chunk-decoder/reasoning-content", test_reasoning_content);
  add_test ("/natter/chunk-decoder/reasoning-either-name", test_reasoning_either_name);
  add_test ("/natter/chunk-decoder/empty-content", test_empty_content);
  add_test ("/natter/chunk-decoder/unicode", test_unicode);
  add_test ("/natter/chunk-decoder/read-in-place", test_read_in_place);
  add_test ("/natter/chunk-decoder/tool-call", test_tool_call);
  add_test ("/natter/chunk-decoder/tool-call-id-name-set-once", test_tool_call_id_name_set_once);
  add_test ("/natter/chunk-decoder/tool-calls-parallel", test_tool_calls_parallel);
  add_test ("/natter/chunk-decoder/tool-call-copy", test_tool_call_copy);
  add_test ("/natter/chunk-decoder/finish-reason", test_finish_reason);
  add_test ("/natter/chunk-decoder/usage-empty-choices", test_usage_empty_choices);
  add_test ("/natter/chunk-decoder/usage-missing-choices", test_usage_missing_choices);
  add_test ("/natter/chunk-decoder/usage-with-last-content", test_usage_with_last_content);
  add_test ("/natter/chunk-decoder/usage-last-wins", test_usage_last_wins);
  add_test ("/natter/chunk-decoder/id-and-model", test_id_and_model);
  add_test ("/natter/chunk-decoder/error-in-chunk", test_error_in_chunk);
  add_test ("/natter/chunk-decoder/error-in-openrouter-chunk", test_error_in_openrouter_chunk);
  add_test ("/natter/chunk-decoder/error-event", test_error_event);
  add_test ("/natter/chunk-decoder/error-event-plain-text", test_error_event_plain_text);
  add_test ("/natter/chunk-decoder/error-without-message", test_error_without_message);
  add_test ("/natter/chunk-decoder/malformed", test_malformed);
  add_test ("/natter/chunk-decoder/malformed-long", test_malformed_long);
  add_test ("/natter/chunk-decoder/malformed-quote-length", test_malformed_quote_length);
  add_test ("/natter/chunk-decoder/malformed-utf8", test_malformed_utf8);
  add_test ("/natter/chunk-decoder/not-an-object", test_not_an_object);
  add_test ("/natter/chunk-decoder/not-an-object-long", test_not_an_object_long);
  add_test ("/natter/chunk-decoder/choices-not-objects", test_choices_not_objects);
  add_test ("/natter/chunk-decoder/done", test_done);
  add_test ("/natter/chunk-decoder/n-chunks", test_n_chunks);
  add_test ("/natter/chunk-decoder/stream/openai", test_stream_openai);
  add_test ("/natter/chunk-decoder/stream/openrouter", test_stream_openrouter);
  add_test ("/natter/chunk-decoder/stream/deepseek-reasoner", test_stream_deepseek_reasoner);
  add_test ("/natter/chunk-decoder/stream/ollama", test_stream_ollama);

  return g_test_run ();
}
