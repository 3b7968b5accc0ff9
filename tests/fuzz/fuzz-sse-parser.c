/* fuzz-sse-parser.c — NatterSseParser on arbitrary bodies, cut anywhere
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The input is a response body.  It is parsed three times: whole, a byte at
 * a time, and in pieces whose lengths the input decides.  The parser
 * promises that the events do not depend on the cuts, so the three runs must
 * emit the same events and end the same way; every string it emits must be
 * valid UTF-8.  Now and then a small max-size makes the size limits bite.
 */
#include <string.h>

#include "fuzz-common.h"
#include "natter-sse-parser.h"

typedef enum {
  CUT_NONE,
  CUT_BYTES,
  CUT_PIECES,
} Cuts;

typedef struct
{
  GString *events;
  int      error_code;
  char    *last_event_id;
  gint64   retry;
} Outcome;

static void
log_string (GString    *log,
            const char *s)
{
  gsize len = strlen (s);

  FUZZ_CHECK (g_utf8_validate_len (s, len, NULL), "event string is not UTF-8");
  g_string_append_printf (log, "%" G_GSIZE_FORMAT ":", len);
  g_string_append_len (log, s, len);
}

static void
event_cb (NatterSseParser *parser,
          const char      *type,
          const char      *data,
          const char      *id,
          gpointer         user_data)
{
  GString *log = user_data;

  FUZZ_CHECK (*type != '\0', "empty event type");
  FUZZ_CHECK (strcmp (id, natter_sse_parser_get_last_event_id (parser)) == 0, "id is not the last id");
  log_string (log, type);
  log_string (log, data);
  log_string (log, id);
  g_string_append_c (log, '\n');
}

static void
run (const guint8 *data,
     gsize         size,
     gsize         max_size,
     Cuts          cuts,
     guint64       seed,
     Outcome      *out)
{
  g_autoptr(NatterSseParser) parser = natter_sse_parser_new ();
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;
  gsize pos = 0;

  out->events = g_string_new (NULL);
  if (max_size != 0)
    natter_sse_parser_set_max_size (parser, max_size);
  g_signal_connect (parser, "event", G_CALLBACK (event_cb), out->events);

  while (ok && pos < size)
    {
      gsize len = cuts == CUT_NONE ? size : cuts == CUT_BYTES ? 1 : fuzz_piece_length (&seed, size - pos);

      ok = natter_sse_parser_feed (parser, (const char *) data + pos, len, &error);
      pos += len;
    }
  if (ok)
    ok = natter_sse_parser_end (parser, &error);

  FUZZ_CHECK (ok == (error == NULL), "result and error disagree");
  out->error_code = -1;
  if (error != NULL)
    {
      FUZZ_CHECK (error->domain == NATTER_SSE_ERROR, "error from another domain");
      FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL), "error message is not UTF-8");
      out->error_code = error->code;

      /* A failed parser stays failed, with the same error. */
      g_clear_error (&error);
      FUZZ_CHECK (!natter_sse_parser_feed (parser, "data: x\n\n", 9, &error) &&
                  error->code == out->error_code, "a failed parser took more input");
    }
  out->last_event_id = g_strdup (natter_sse_parser_get_last_event_id (parser));
  out->retry = natter_sse_parser_get_retry (parser);
  FUZZ_CHECK (out->retry >= -1, "negative retry");
}

static void
outcome_clear (Outcome *out)
{
  g_string_free (out->events, TRUE);
  g_free (out->last_event_id);
}

static void
check_same (const Outcome *a,
            const Outcome *b,
            const char    *how)
{
  FUZZ_CHECK (a->error_code == b->error_code, "%s: error %d, whole: %d", how, b->error_code, a->error_code);
  FUZZ_CHECK (g_string_equal (a->events, b->events), "%s: other events:\n%s\nwhole:\n%s",
              how, b->events->str, a->events->str);
  FUZZ_CHECK (strcmp (a->last_event_id, b->last_event_id) == 0, "%s: other last event id", how);
  FUZZ_CHECK (a->retry == b->retry, "%s: other retry", how);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  guint64 seed = fuzz_seed (data, size);
  /* One input in four gets a limit of 1 to 64 bytes. */
  gsize max_size = seed % 4 == 0 ? 1 + (seed >> 8) % 64 : 0;
  Outcome whole, bytes, pieces;

  run (data, size, max_size, CUT_NONE, seed, &whole);
  run (data, size, max_size, CUT_BYTES, seed, &bytes);
  run (data, size, max_size, CUT_PIECES, seed, &pieces);
  check_same (&whole, &bytes, "byte by byte");
  check_same (&whole, &pieces, "in pieces");

  outcome_clear (&whole);
  outcome_clear (&bytes);
  outcome_clear (&pieces);
  return 0;
}
