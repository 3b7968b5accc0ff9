/* test-sse-parser.c — NatterSseParser against the WHATWG event stream rules
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every input goes through the parser whole, cut in two at every byte, and
 * a byte at a time, and must give the same events each way: the network
 * decides where a body is cut, so a parser that depends on it is wrong.
 */
#include <glib-object.h>
#include <string.h>

#include "natter-sse-parser.h"

#define NO_ERROR (-1)

/* Expected events are flat lists of (type, data, last event id) triples
 * ending with NULL. */
#define EVENTS(...) ((const char * const []) { __VA_ARGS__, NULL })
#define NO_EVENTS ((const char * const []) { NULL })

typedef struct {
  const char *input;
  gsize       len;        /* 0: strlen (input) */
  gsize       max_size;   /* 0: the default */
  int         error_code; /* NO_ERROR, or the NatterSseError expected */
  gboolean    error_at_end;
  const char * const *events;
} Case;

typedef struct {
  GPtrArray *events;
  gint64     retry;
  char      *last_event_id;
} Outcome;

static void
outcome_free (Outcome *outcome)
{
  g_ptr_array_unref (outcome->events);
  g_free (outcome->last_event_id);
  g_free (outcome);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Outcome, outcome_free)

static void
on_event (NatterSseParser *parser,
          const char      *type,
          const char      *data,
          const char      *last_event_id,
          GPtrArray       *events)
{
  g_assert_nonnull (type);
  g_assert_nonnull (data);
  g_assert_nonnull (last_event_id);
  g_assert_true (g_utf8_validate (type, -1, NULL));
  g_assert_true (g_utf8_validate (data, -1, NULL));
  g_assert_cmpstr (natter_sse_parser_get_last_event_id (parser), ==, last_event_id);

  g_ptr_array_add (events, g_strdup (type));
  g_ptr_array_add (events, g_strdup (data));
  g_ptr_array_add (events, g_strdup (last_event_id));
}

static NatterSseParser *
new_parser (gsize      max_size,
            GPtrArray *events)
{
  NatterSseParser *parser = natter_sse_parser_new ();

  if (max_size != 0)
    natter_sse_parser_set_max_size (parser, max_size);
  g_signal_connect (parser, "event", G_CALLBACK (on_event), events);
  return parser;
}

static void
assert_failed (const Case   *c,
               const GError *error,
               gboolean      at_end)
{
  g_assert_cmpint (c->error_code, !=, NO_ERROR);
  g_assert_error (error, NATTER_SSE_ERROR, c->error_code);
  g_assert_cmpint (at_end, ==, c->error_at_end);
  g_assert_cmpstr (error->message, !=, "");
}

/* A dead parser must say so again and stay silent. */
static void
assert_dead (NatterSseParser *parser,
             const Case      *c,
             GPtrArray       *events)
{
  g_autoptr(GError) feed_error = NULL;
  g_autoptr(GError) end_error = NULL;
  guint n_events = events->len;

  g_assert_false (natter_sse_parser_feed (parser, "data: x\n\n", 9, &feed_error));
  g_assert_error (feed_error, NATTER_SSE_ERROR, c->error_code);
  g_assert_false (natter_sse_parser_end (parser, &end_error));
  g_assert_error (end_error, NATTER_SSE_ERROR, c->error_code);
  g_assert_cmpuint (events->len, ==, n_events);
}

/* Feeds [0, split) then the rest in pieces of @step bytes, then ends. */
static Outcome *
run (const Case *c,
     gsize       len,
     gsize       split,
     gsize       step)
{
  Outcome *outcome = g_new0 (Outcome, 1);
  g_autoptr(NatterSseParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  gsize offset = split;
  gboolean ok;

  outcome->events = g_ptr_array_new_with_free_func (g_free);
  parser = new_parser (c->max_size, outcome->events);

  ok = natter_sse_parser_feed (parser, c->input, split, &error);
  while (ok && offset < len)
    {
      gsize n = MIN (step, len - offset);

      ok = natter_sse_parser_feed (parser, c->input + offset, n, &error);
      offset += n;
    }

  if (!ok)
    assert_failed (c, error, FALSE);
  else if (!natter_sse_parser_end (parser, &error))
    assert_failed (c, error, TRUE);
  else
    g_assert_cmpint (c->error_code, ==, NO_ERROR);

  if (error != NULL)
    assert_dead (parser, c, outcome->events);

  outcome->retry = natter_sse_parser_get_retry (parser);
  outcome->last_event_id = g_strdup (natter_sse_parser_get_last_event_id (parser));
  return outcome;
}

static void
assert_outcome (const Outcome *outcome,
                const Case    *c,
                const Outcome *reference)
{
  guint n_expected = g_strv_length ((char **) c->events);
  guint i;

  g_assert_cmpuint (n_expected % 3, ==, 0);
  for (i = 0; i < MIN (n_expected, outcome->events->len); i++)
    g_assert_cmpstr (g_ptr_array_index (outcome->events, i), ==, c->events[i]);
  g_assert_cmpuint (outcome->events->len, ==, n_expected);

  if (reference != NULL)
    {
      g_assert_cmpint (outcome->retry, ==, reference->retry);
      g_assert_cmpstr (outcome->last_event_id, ==, reference->last_event_id);
    }
}

/* Runs @c whole, cut in two at every byte, and a byte at a time, and
 * returns the outcome of the whole run for further checks. */
static Outcome *
check_case (const Case *c)
{
  gsize len = c->len != 0 ? c->len : strlen (c->input);
  Outcome *whole = run (c, len, 0, G_MAXSIZE);
  gsize split;

  assert_outcome (whole, c, NULL);

  for (split = 0; split <= len; split++)
    {
      g_autoptr(Outcome) two = run (c, len, split, G_MAXSIZE);

      assert_outcome (two, c, whole);
    }

  {
    g_autoptr(Outcome) bytes = run (c, len, 0, 1);

    assert_outcome (bytes, c, whole);
  }

  return whole;
}

static void
assert_events_len (const char         *input,
                   gsize               len,
                   const char * const *events)
{
  Case c = { input, len, 0, NO_ERROR, FALSE, events };

  outcome_free (check_case (&c));
}

static void
assert_events (const char         *input,
               const char * const *events)
{
  assert_events_len (input, 0, events);
}

static void
assert_events_within (const char         *input,
                      gsize               max_size,
                      const char * const *events)
{
  Case c = { input, 0, max_size, NO_ERROR, FALSE, events };

  outcome_free (check_case (&c));
}

static void
assert_feed_error (const char         *input,
                   gsize               max_size,
                   int                 code,
                   const char * const *events)
{
  Case c = { input, 0, max_size, code, FALSE, events };

  outcome_free (check_case (&c));
}

static void
assert_end_error (const char         *input,
                  int                 code,
                  const char * const *events)
{
  Case c = { input, 0, 0, code, TRUE, events };

  outcome_free (check_case (&c));
}

/* --- Line endings ------------------------------------------------------- */

static void
test_lf (void)
{
  assert_events ("data: a\n\ndata: b\n\n",
                 EVENTS ("message", "a", "", "message", "b", ""));
}

static void
test_cr (void)
{
  assert_events ("data: a\r\rdata: b\r\r",
                 EVENTS ("message", "a", "", "message", "b", ""));
}

static void
test_crlf (void)
{
  assert_events ("data: a\r\n\r\ndata: b\r\n\r\n",
                 EVENTS ("message", "a", "", "message", "b", ""));
}

static void
test_mixed_endings (void)
{
  /* \n\r is two line endings, unlike \r\n. */
  assert_events ("data: a\r\ndata: b\rdata: c\n\r"
                 "data: d\n\r\n"
                 "data: e\r\r\n",
                 EVENTS ("message", "a\nb\nc", "",
                         "message", "d", "",
                         "message", "e", ""));
}

static void
test_crlf_split (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(NatterSseParser) parser = new_parser (0, events);
  g_autoptr(GError) error = NULL;

  /* The CR dispatches the line at once; the LF after the cut must not
   * count as a second, empty line. */
  g_assert_true (natter_sse_parser_feed (parser, "data: a\r", 8, &error));
  g_assert_no_error (error);
  g_assert_true (natter_sse_parser_feed (parser, "\ndata: b\r", 9, &error));
  g_assert_true (natter_sse_parser_feed (parser, "\n\r", 2, &error));
  g_assert_cmpuint (events->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (events, 1), ==, "a\nb");
  g_assert_true (natter_sse_parser_feed (parser, "\n", 1, &error));
  g_assert_true (natter_sse_parser_end (parser, &error));
  g_assert_cmpuint (events->len, ==, 3);

  assert_events ("data: a\r\n\r\n", EVENTS ("message", "a", ""));
}

static void
test_trailing_cr (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(NatterSseParser) parser = new_parser (0, events);
  g_autoptr(GError) error = NULL;

  /* The last CR of the stream dispatches before the stream ends. */
  g_assert_true (natter_sse_parser_feed (parser, "data: a\r\r", 9, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 3);
  g_assert_true (natter_sse_parser_end (parser, &error));
  g_assert_cmpuint (events->len, ==, 3);

  assert_events ("data: a\r\r", EVENTS ("message", "a", ""));
  assert_events ("data: a\n\r", EVENTS ("message", "a", ""));
  assert_events ("data: a\r\n\r", EVENTS ("message", "a", ""));
}

/* --- Byte order mark ---------------------------------------------------- */

static void
test_bom (void)
{
  assert_events ("\xEF\xBB\xBF" "data: a\n\n", EVENTS ("message", "a", ""));
  assert_events ("\xEF\xBB\xBF" "\n" "data: a\n\n", EVENTS ("message", "a", ""));
  assert_events ("\xEF\xBB\xBF", NO_EVENTS);
}

static void
test_bom_split (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(NatterSseParser) parser = new_parser (0, events);
  g_autoptr(GError) error = NULL;

  g_assert_true (natter_sse_parser_feed (parser, "\xEF", 1, &error));
  g_assert_true (natter_sse_parser_feed (parser, "\xBB", 1, &error));
  g_assert_true (natter_sse_parser_feed (parser, "\xBF", 1, &error));
  g_assert_true (natter_sse_parser_feed (parser, "data: a\n\n", 9, &error));
  g_assert_no_error (error);
  g_assert_true (natter_sse_parser_end (parser, &error));
  g_assert_cmpuint (events->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (events, 1), ==, "a");
}

static void
test_bom_once (void)
{
  /* The second BOM is U+FEFF at the start of the field name, which makes
   * an unknown field: before anything recognised, not an event stream... */
  assert_feed_error ("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\n", 0,
                     NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);

  /* ...and after, an ignored line. */
  assert_events ("\xEF\xBB\xBF" ": hi\n"
                 "\xEF\xBB\xBF" "data: a\n\n"
                 "data: b\n\n",
                 EVENTS ("message", "b", ""));

  /* A BOM is only a BOM at the start of the stream. */
  assert_events ("data: a\n\n\xEF\xBB\xBF" "data: b\n\ndata: c\n\n",
                 EVENTS ("message", "a", "", "message", "c", ""));

  /* Bytes that begin like a BOM but are not one belong to the first line. */
  assert_end_error ("\xEF\xBB", NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  assert_feed_error ("\xEF\xBB" "data: a\n\n", 0,
                     NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
}

/* --- Fields ------------------------------------------------------------- */

static void
test_comments (void)
{
  assert_events (":\n: hello\n:data: x\n\n"
                 "data: a\n: between\ndata: b\n\n",
                 EVENTS ("message", "a\nb", ""));
}

static void
test_field_without_colon (void)
{
  /* "data" alone appends an empty line, so the event has empty data. */
  assert_events ("data\n\n", EVENTS ("message", "", ""));
  assert_events ("data\ndata\n\n", EVENTS ("message", "\n", ""));
  assert_events ("event: x\nevent\ndata: a\n\n", EVENTS ("message", "a", ""));
  assert_events ("id: 1\nid\ndata: a\n\n", EVENTS ("message", "a", ""));

  /* The WHATWG example. */
  assert_events ("data\n\ndata\ndata\n\ndata:",
                 EVENTS ("message", "", "", "message", "\n", ""));
}

static void
test_leading_space (void)
{
  assert_events ("data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\ndata: x \n\n",
                 EVENTS ("message", "x", "",
                         "message", "x", "",
                         "message", " x", "",
                         "message", "\tx", "",
                         "message", "x ", ""));
  assert_events ("data: a: b\n\ndata::\n\n",
                 EVENTS ("message", "a: b", "", "message", ":", ""));
}

static void
test_multi_line_data (void)
{
  assert_events ("data: YHOO\ndata: +2\ndata: 10\n\n",
                 EVENTS ("message", "YHOO\n+2\n10", ""));
  assert_events ("data: a\ndata:\ndata: b\n\n",
                 EVENTS ("message", "a\n\nb", ""));
}

static void
test_event_type (void)
{
  assert_events ("event: add\ndata: 73857293\n\n"
                 "event: remove\ndata: 2153\n\n"
                 "data: 113411\n\n",
                 EVENTS ("add", "73857293", "",
                         "remove", "2153", "",
                         "message", "113411", ""));

  /* An empty line with no data still forgets the type. */
  assert_events ("event: ping\n\ndata: a\n\n", EVENTS ("message", "a", ""));
  assert_events ("data: a\nevent: late\n\n", EVENTS ("late", "a", ""));
  assert_events ("event:\ndata: a\n\n", EVENTS ("message", "a", ""));
}

static void
test_id (void)
{
  g_autoptr(Outcome) outcome = NULL;
  Case pending = { "id: 1\ndata: a\n\nid: 2\n", 0, 0, NO_ERROR, FALSE,
                   EVENTS ("message", "a", "1") };

  assert_events ("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\ndata: d\n\n",
                 EVENTS ("message", "a", "1",
                         "message", "b", "1",
                         "message", "c", "",
                         "message", "d", ""));

  /* The WHATWG example. */
  assert_events (": test stream\n\n"
                 "data: first event\nid: 1\n\n"
                 "data:second event\nid\n\n"
                 "data:  third event\n",
                 EVENTS ("message", "first event", "1",
                         "message", "second event", ""));

  /* An id takes effect at an empty line even if no event is dispatched... */
  assert_events ("id: 7\n\ndata: a\n\n", EVENTS ("message", "a", "7"));

  /* ...and not before one. */
  outcome = check_case (&pending);
  g_assert_cmpstr (outcome->last_event_id, ==, "1");
}

static void
test_id_nul (void)
{
  static const char input[] = "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"
                              "id: \0\ndata: c\n\nid: 3\ndata: d\n\n";

  assert_events_len (input, sizeof input - 1,
                     EVENTS ("message", "a", "1",
                             "message", "b", "1",
                             "message", "c", "1",
                             "message", "d", "3"));
}

static gint64
retry_after (const char *input)
{
  Case c = { input, 0, 0, NO_ERROR, FALSE, NO_EVENTS };
  g_autoptr(Outcome) outcome = check_case (&c);

  return outcome->retry;
}

static void
test_retry (void)
{
  g_autoptr(NatterSseParser) parser = natter_sse_parser_new ();

  g_assert_cmpint (natter_sse_parser_get_retry (parser), ==, -1);
  g_assert_cmpint (retry_after (": x\n"), ==, -1);
  g_assert_cmpint (retry_after ("retry: 1500\n"), ==, 1500);
  g_assert_cmpint (retry_after ("retry:0\n"), ==, 0);
  g_assert_cmpint (retry_after ("retry: 1500\nretry: 20\n"), ==, 20);
  g_assert_cmpint (retry_after ("retry: 9223372036854775807\n"), ==, G_MAXINT64);

  g_assert_cmpint (retry_after ("retry: 1500\nretry: 15x\n"), ==, 1500);
  g_assert_cmpint (retry_after ("retry: 1500\nretry: -1\n"), ==, 1500);
  g_assert_cmpint (retry_after ("retry: 1500\nretry: +1\n"), ==, 1500);
  g_assert_cmpint (retry_after ("retry: 1500\nretry:  10\n"), ==, 1500);
  g_assert_cmpint (retry_after ("retry: 1500\nretry: 1.5\n"), ==, 1500);
  g_assert_cmpint (retry_after ("retry: 1500\nretry:\n"), ==, 1500);
  g_assert_cmpint (retry_after ("retry: 1500\nretry\n"), ==, 1500);
  g_assert_cmpint (retry_after ("retry: 1500\nretry: 9223372036854775808\n"), ==, 1500);
  g_assert_cmpint (retry_after ("retry: 1500\nretry: \xd9\xa3\n"), ==, 1500);
}

static void
test_unknown_fields (void)
{
  assert_events ("data: a\nfoo: bar\nData: x\ndata : y\nretry2: 1\n\n"
                 "hello\n\n",
                 EVENTS ("message", "a", ""));
  assert_events ("retry: 10\nhello\ndata: a\n\n", EVENTS ("message", "a", ""));
}

static void
test_empty_data (void)
{
  assert_events ("\n\n\n", NO_EVENTS);
  assert_events (": x\n\n\nevent: a\n\nid: 1\n\n", NO_EVENTS);
  assert_events ("", NO_EVENTS);
}

static void
test_unterminated (void)
{
  assert_events ("data: a\n\ndata: b\n", EVENTS ("message", "a", ""));
  assert_events ("data: a\n\ndata: b", EVENTS ("message", "a", ""));
  assert_events ("data: a\n\ndata: b\r", EVENTS ("message", "a", ""));

  /* Cut before its first line ended, but clearly an event stream. */
  assert_events ("data: a", NO_EVENTS);
  assert_events ("\xEF\xBB\xBF" "\nid: 1", NO_EVENTS);
  assert_events (": OPENROUTER PROC", NO_EVENTS);
}

/* --- UTF-8 -------------------------------------------------------------- */

static void
test_invalid_utf8 (void)
{
  assert_events ("data: a\xFF" "b\n\n", EVENTS ("message", "a\xEF\xBF\xBD" "b", ""));
  assert_events ("data: \xC3(\n\n", EVENTS ("message", "\xEF\xBF\xBD(", ""));
  assert_events ("data: \x80\n\n", EVENTS ("message", "\xEF\xBF\xBD", ""));
  assert_events ("event: \xFE\ndata: a\n\n", EVENTS ("\xEF\xBF\xBD", "a", ""));

  /* A character cut by a line ending is broken on both sides. */
  assert_events ("data: \xC3\ndata: \xA9\n\n",
                 EVENTS ("message", "\xEF\xBF\xBD\n\xEF\xBF\xBD", ""));

  /* A field name that is not valid UTF-8 is an unknown field. */
  assert_events ("data: a\ndat\xE1: b\n\n", EVENTS ("message", "a", ""));
}

static void
test_utf8_split (void)
{
  /* The split and byte-at-a-time runs cut each of these characters. */
  assert_events ("data: \xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\n\n",
                 EVENTS ("message", "\xC3\xA9t\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", ""));
  assert_events ("event: \xE2\x9C\x93\nid: \xF0\x9F\x98\x80\ndata: a\n\n",
                 EVENTS ("\xE2\x9C\x93", "a", "\xF0\x9F\x98\x80"));
}

/* --- Limits ------------------------------------------------------------- */

static void
test_too_large_line (void)
{
  g_autofree char *a58 = g_strnfill (58, 'a');
  g_autofree char *a100 = g_strnfill (100, 'a');
  g_autofree char *x63 = g_strnfill (63, 'x');
  g_autofree char *exact = g_strdup_printf ("data: %s\n\n", a58);
  g_autofree char *long_line = g_strdup_printf ("data: ok\n\ndata: %s", a100);
  g_autofree char *long_comment = g_strdup_printf (": %s\n", x63);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(NatterSseParser) parser = new_parser (64, events);
  g_autoptr(GError) error = NULL;
  gsize i;

  assert_events_within (exact, 64, EVENTS ("message", a58, ""));
  assert_feed_error (long_line, 64, NATTER_SSE_ERROR_TOO_LARGE,
                     EVENTS ("message", "ok", ""));
  assert_feed_error (long_comment, 64, NATTER_SSE_ERROR_TOO_LARGE, NO_EVENTS);

  /* No newline is needed to fail: the 65th byte of a line is enough. */
  for (i = 0; i < 64; i++)
    g_assert_true (natter_sse_parser_feed (parser, "x", 1, &error));
  g_assert_false (natter_sse_parser_feed (parser, "x", 1, &error));
  g_assert_error (error, NATTER_SSE_ERROR, NATTER_SSE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "64 bytes"));
}

static void
test_too_large_event (void)
{
  g_autoptr(GString) input = g_string_new (NULL);
  guint i;

  /* 5 lines of 10 bytes and 4 LFs between them: 54 bytes of data. */
  for (i = 0; i < 5; i++)
    g_string_append (input, "data: 0123456789\n");
  g_string_append (input, "\n");
  assert_events_within (input->str, 54,
                        EVENTS ("message", "0123456789\n0123456789\n0123456789\n"
                                           "0123456789\n0123456789", ""));
  assert_feed_error (input->str, 53, NATTER_SSE_ERROR_TOO_LARGE, NO_EVENTS);

  /* Each event is measured on its own. */
  g_string_append (input, input->str);
  assert_events_within (input->str, 54,
                        EVENTS ("message", "0123456789\n0123456789\n0123456789\n"
                                           "0123456789\n0123456789", "",
                                "message", "0123456789\n0123456789\n0123456789\n"
                                           "0123456789\n0123456789", ""));
}

static void
test_dead_after_error (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(NatterSseParser) parser = new_parser (0, events);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) again = NULL;
  g_autoptr(GError) at_end = NULL;

  g_assert_false (natter_sse_parser_feed (parser, "hello\n", 6, &error));
  g_assert_error (error, NATTER_SSE_ERROR, NATTER_SSE_ERROR_NOT_EVENT_STREAM);
  g_assert_false (natter_sse_parser_feed (parser, "data: a\n\n", 9, &again));
  g_assert_error (again, NATTER_SSE_ERROR, NATTER_SSE_ERROR_NOT_EVENT_STREAM);
  g_assert_false (natter_sse_parser_end (parser, &at_end));
  g_assert_error (at_end, NATTER_SSE_ERROR, NATTER_SSE_ERROR_NOT_EVENT_STREAM);
  g_assert_false (natter_sse_parser_feed (parser, "", 0, NULL));
  g_assert_cmpuint (events->len, ==, 0);
}

/* --- Not an event stream ------------------------------------------------ */

static void
test_not_event_stream_html (void)
{
  assert_feed_error ("<!DOCTYPE html>\n<html><head><title>Log in</title></head>\n"
                     "<body>Please accept the terms</body></html>\n", 0,
                     NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  assert_feed_error ("\xEF\xBB\xBF<html>", 0,
                     NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  /* Fails on the first byte, without waiting for a line to end. */
  assert_feed_error ("<", 0, NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
}

static void
test_not_event_stream_json (void)
{
  assert_feed_error ("{\"error\":{\"message\":\"No auth credentials found\",\"code\":401}}", 0,
                     NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  assert_feed_error ("[{\"error\": \"overloaded\"}]\n", 0,
                     NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  /* Fails on the first byte, without waiting for a line to end. */
  assert_feed_error ("[1, 2]", 0, NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  assert_feed_error ("{}", 0, NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  /* Not the first byte, so found at the end of the line. */
  assert_feed_error ("\n{\"error\": 1}\n", 0,
                     NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
}

static void
test_not_event_stream_text (void)
{
  assert_feed_error ("hello\n\n", 0, NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  assert_feed_error ("\n\r\nBad Gateway\r\n", 0,
                     NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  assert_feed_error ("Data: a\n\n", 0, NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
}

static void
test_not_event_stream_at_end (void)
{
  assert_end_error ("hello", NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);
  assert_end_error ("\n\nBad Gateway", NATTER_SSE_ERROR_NOT_EVENT_STREAM, NO_EVENTS);

  /* White space alone is an empty stream, not a wrong one. */
  assert_events ("", NO_EVENTS);
  assert_events ("\n\r\n  \t", NO_EVENTS);
  assert_events (" \n\t\ndata: a\n\n", EVENTS ("message", "a", ""));

  /* Once recognised, junk is ignored as WHATWG says. */
  assert_events ("data: a\n\n<p>\n{\n\nhello", EVENTS ("message", "a", ""));
  assert_events ("retry: 1\nhello", NO_EVENTS);
}

static void
test_leading_blank_lines (void)
{
  assert_events ("\n\r\n\r\ndata: a\n\n", EVENTS ("message", "a", ""));
}

/* --- Real streams ------------------------------------------------------- */

#define CHUNK(delta, finish) \
  "{\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"created\":1718000000," \
  "\"model\":\"openai/gpt-4o\",\"choices\":[{\"index\":0,\"delta\":" delta "," \
  "\"finish_reason\":" finish "}]}"

static void
test_openai (void)
{
  static const char stream[] =
    ": OPENROUTER PROCESSING\n\n"
    ": OPENROUTER PROCESSING\n\n"
    "data: " CHUNK ("{\"role\":\"assistant\",\"content\":\"Hel\"}", "null") "\n\n"
    "data: " CHUNK ("{\"content\":\"lo \\u00e9\"}", "null") "\n\n"
    ": OPENROUTER PROCESSING\n\n"
    "data: " CHUNK ("{}", "\"stop\"") "\n\n"
    "data: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
    "data: [DONE]\n\n";
  static const char * const expected[] = {
    "message", CHUNK ("{\"role\":\"assistant\",\"content\":\"Hel\"}", "null"), "",
    "message", CHUNK ("{\"content\":\"lo \\u00e9\"}", "null"), "",
    "message", CHUNK ("{}", "\"stop\""), "",
    "message", "{\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}", "",
    "message", "[DONE]", "",
    NULL
  };
  g_auto(GStrv) lines = g_strsplit (stream, "\n", -1);
  g_autofree char *crlf = g_strjoinv ("\r\n", lines);

  assert_events (stream, expected);
  assert_events (crlf, expected);
}

/* --- Object ------------------------------------------------------------- */

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              guint      *count)
{
  (*count)++;
}

static void
test_max_size_property (void)
{
  g_autoptr(NatterSseParser) parser = natter_sse_parser_new ();
  guint notified = 0;
  guint64 value = 0;

  g_assert_cmpuint (natter_sse_parser_get_max_size (parser), ==,
                    NATTER_SSE_PARSER_DEFAULT_MAX_SIZE);
  g_assert_cmpuint (NATTER_SSE_PARSER_DEFAULT_MAX_SIZE, ==, 16 * 1024 * 1024);
  g_signal_connect (parser, "notify::max-size", G_CALLBACK (count_notify), &notified);

  natter_sse_parser_set_max_size (parser, NATTER_SSE_PARSER_DEFAULT_MAX_SIZE);
  g_assert_cmpuint (notified, ==, 0);
  natter_sse_parser_set_max_size (parser, 64);
  g_assert_cmpuint (notified, ==, 1);
  g_object_set (parser, "max-size", (guint64) 64, NULL);
  g_assert_cmpuint (notified, ==, 1);
  g_object_set (parser, "max-size", (guint64) 128, NULL);
  g_assert_cmpuint (notified, ==, 2);
  g_object_get (parser, "max-size", &value, NULL);
  g_assert_cmpuint (value, ==, 128);
  g_assert_cmpuint (natter_sse_parser_get_max_size (parser), ==, 128);
}

static void
unref_parser (NatterSseParser *parser,
              const char      *type,
              const char      *data,
              const char      *last_event_id,
              guint           *count)
{
  (*count)++;
  g_object_unref (parser);
}

static void
test_unref_in_handler (void)
{
  NatterSseParser *parser = natter_sse_parser_new ();
  g_autoptr(GError) error = NULL;
  guint count = 0;

  /* Dropping the parser when [DONE] arrives must not crash the feed that
   * delivered it. */
  g_signal_connect (parser, "event", G_CALLBACK (unref_parser), &count);
  g_object_add_weak_pointer (G_OBJECT (parser), (gpointer *) &parser);
  g_assert_true (natter_sse_parser_feed (parser, "data: [DONE]\n\ndata: more\n", 25, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 1);
  g_assert_null (parser);
}

/* --- Linearity ---------------------------------------------------------- */

/* Fed a byte at a time at -O2, 4 MB of small events took 0.12 s and 8 MB
 * 0.22 s; one 4 MB line 0.09 s and an 8 MB one 0.19 s: time doubles with
 * size.  The tests only make sure such streams get
 * through, since timing assertions are flaky; a parser that rescanned its
 * buffer on every feed would take hours here. */
static void
feed_bytewise (const GString *input,
               guint          expected_events,
               gsize          expected_data)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(NatterSseParser) parser = new_parser (0, events);
  g_autoptr(GError) error = NULL;
  gsize total = 0;
  gsize i;

  for (i = 0; i < input->len; i++)
    g_assert_true (natter_sse_parser_feed (parser, input->str + i, 1, &error));
  g_assert_true (natter_sse_parser_end (parser, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (events->len, ==, expected_events * 3);
  for (i = 1; i < events->len; i += 3)
    total += strlen (g_ptr_array_index (events, i));
  g_assert_cmpuint (total, ==, expected_data);
}

static void
test_linear_many_events (gconstpointer size)
{
  g_autoptr(GString) input = g_string_new (": OPENROUTER PROCESSING\r\n\r\n");
  const char *line = "data: {\"choices\":[{\"delta\":{\"content\":\"token\"}}]}\r\n\r\n";
  guint n = 0;

  while (input->len < GPOINTER_TO_SIZE (size))
    {
      g_string_append (input, line);
      n++;
    }
  feed_bytewise (input, n, n * (strlen (line) - 10));
}

static void
test_linear_long_line (gconstpointer size)
{
  g_autoptr(GString) input = g_string_new ("data: ");

  while (input->len < GPOINTER_TO_SIZE (size))
    g_string_append (input, "0123456789abcdef");
  g_string_append (input, "\n\n");
  feed_bytewise (input, 1, input->len - 8);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/natter/sse/lf", test_lf);
  g_test_add_func ("/natter/sse/cr", test_cr);
  g_test_add_func ("/natter/sse/crlf", test_crlf);
  g_test_add_func ("/natter/sse/mixed-endings", test_mixed_endings);
  g_test_add_func ("/natter/sse/crlf-split", test_crlf_split);
  g_test_add_func ("/natter/sse/trailing-cr", test_trailing_cr);
  g_test_add_func ("/natter/sse/bom", test_bom);
  g_test_add_func ("/natter/sse/bom-split", test_bom_split);
  g_test_add_func ("/natter/sse/bom-once", test_bom_once);
  g_test_add_func ("/natter/sse/comments", test_comments);
  g_test_add_func ("/natter/sse/field-without-colon", test_field_without_colon);
  g_test_add_func ("/natter/sse/leading-space", test_leading_space);
  g_test_add_func ("/natter/sse/multi-line-data", test_multi_line_data);
  g_test_add_func ("/natter/sse/event-type", test_event_type);
  g_test_add_func ("/natter/sse/id", test_id);
  g_test_add_func ("/natter/sse/id-nul", test_id_nul);
  g_test_add_func ("/natter/sse/retry", test_retry);
  g_test_add_func ("/natter/sse/unknown-fields", test_unknown_fields);
  g_test_add_func ("/natter/sse/empty-data", test_empty_data);
  g_test_add_func ("/natter/sse/unterminated", test_unterminated);
  g_test_add_func ("/natter/sse/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/natter/sse/utf8-split", test_utf8_split);
  g_test_add_func ("/natter/sse/too-large-line", test_too_large_line);
  g_test_add_func ("/natter/sse/too-large-event", test_too_large_event);
  g_test_add_func ("/natter/sse/dead-after-error", test_dead_after_error);
  g_test_add_func ("/natter/sse/not-event-stream/html", test_not_event_stream_html);
  g_test_add_func ("/natter/sse/not-event-stream/json", test_not_event_stream_json);
  g_test_add_func ("/natter/sse/not-event-stream/text", test_not_event_stream_text);
  g_test_add_func ("/natter/sse/not-event-stream/at-end", test_not_event_stream_at_end);
  g_test_add_func ("/natter/sse/leading-blank-lines", test_leading_blank_lines);
  g_test_add_func ("/natter/sse/openai", test_openai);
  g_test_add_func ("/natter/sse/max-size-property", test_max_size_property);
  g_test_add_func ("/natter/sse/unref-in-handler", test_unref_in_handler);
  g_test_add_data_func ("/natter/sse/linear/many-events-4mb",
                        GSIZE_TO_POINTER (4 * 1000 * 1000), test_linear_many_events);
  g_test_add_data_func ("/natter/sse/linear/many-events-8mb",
                        GSIZE_TO_POINTER (8 * 1000 * 1000), test_linear_many_events);
  g_test_add_data_func ("/natter/sse/linear/long-line-4mb",
                        GSIZE_TO_POINTER (4 * 1000 * 1000), test_linear_long_line);
  g_test_add_data_func ("/natter/sse/linear/long-line-8mb",
                        GSIZE_TO_POINTER (8 * 1000 * 1000), test_linear_long_line);

  return g_test_run ();
}
