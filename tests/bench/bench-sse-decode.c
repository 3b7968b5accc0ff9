/* bench-sse-decode.c — SSE parser and chunk decoder throughput
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Budgets: the parser alone takes at least 1 M chunks/s, and parser plus
 * chunk decoder at least 200 MB/s, on a stream shaped like OpenAI's.
 *
 * The stream is made in memory and fed two ways: in 16 KiB reads, as
 * NatterChatStream reads a body that is ahead of us, and one read per
 * event, as a body arrives when the model is the slow side. Times are the
 * thread's CPU time, the median of several runs.
 */
#include <stdio.h>
#include <string.h>

#include "bench-common.h"
#include "natter-chunk-decoder.h"
#include "natter-sse-parser.h"

#define READ_SIZE 16384
#define RUNS      7

/* Words as a model sends them: a leading space, now and then a line break,
 * quotes, and text beyond ASCII, raw or \u-escaped. */
static const char * const tokens[] = {
  " The", " parser", " reads", " each", " line", " once", ",", " and", " the",
  " decoder", " turns", " every", " chunk", " into", " a", " delta", ".\\n\\n",
  " Caf\\u00e9", " na\xc3\xafve", " \xe2\x80\x94", " \\\"quoted\\\"", " text", " \xf0\x9f\x99\x82",
  " with", " numbers", " like", " 3", ".", "14", " and", " code", ":", " `x",
  " =", " 1`", ".\\n",
};

typedef struct {
  GString *stream;
  GArray  *event_ends;   /* offset just past each event's blank line */
  gsize    content_len;  /* what the deltas add up to, in bytes */
  guint    n_events;
} Stream;

typedef struct {
  guint64 n_events;
  guint64 n_data_bytes;
  guint64 n_content_bytes;
  NatterChunkDecoder *decoder;
} Counts;

static gsize
unescaped_len (const char *token)
{
  gsize len = 0;

  for (const char *p = token; *p != '\0'; p++, len++)
    if (*p == '\\')
      {
        /* \u00e9 is two bytes of UTF-8; \n and \" are one. */
        if (p[1] == 'u')
          {
            p += 5;
            len++;
          }
        else
          p++;
      }
  return len;
}

static void
add_event (Stream     *s,
           const char *json)
{
  g_string_append (s->stream, "data: ");
  g_string_append (s->stream, json);
  g_string_append (s->stream, "\n\n");
  g_array_append_val (s->event_ends, s->stream->len);
  s->n_events++;
}

static void
add_chunk (Stream     *s,
           const char *delta,
           const char *finish_reason)
{
  g_autofree char *json =
    g_strdup_printf ("{\"id\":\"chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012\",\"object\":\"chat.completion.chunk\","
                     "\"created\":1732190400,\"model\":\"gpt-4o-mini-2024-07-18\","
                     "\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[{\"index\":0,"
                     "\"delta\":%s,\"logprobs\":null,\"finish_reason\":%s}]}",
                     delta, finish_reason);

  add_event (s, json);
}

static Stream *
stream_new (guint n_tokens)
{
  Stream *s = g_new0 (Stream, 1);

  s->stream = g_string_new (NULL);
  s->event_ends = g_array_new (FALSE, FALSE, sizeof (gsize));
  add_chunk (s, "{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}", "null");
  for (guint i = 0; i < n_tokens; i++)
    {
      const char *token = tokens[i % G_N_ELEMENTS (tokens)];
      g_autofree char *delta = g_strdup_printf ("{\"content\":\"%s\"}", token);

      add_chunk (s, delta, "null");
      s->content_len += unescaped_len (token);
    }
  add_chunk (s, "{}", "\"stop\"");
  add_event (s, "{\"id\":\"chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012\",\"object\":\"chat.completion.chunk\","
                "\"created\":1732190400,\"model\":\"gpt-4o-mini-2024-07-18\","
                "\"system_fingerprint\":\"fp_0ba0d124f1\",\"choices\":[],"
                "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":100000,\"total_tokens\":100012}}");
  add_event (s, "[DONE]");
  return s;
}

static void
stream_free (Stream *s)
{
  g_string_free (s->stream, TRUE);
  g_array_unref (s->event_ends);
  g_free (s);
}

static void
count_event_cb (NatterSseParser *parser,
                const char      *type,
                const char      *data,
                const char      *id,
                Counts          *counts)
{
  counts->n_events++;
  counts->n_data_bytes += strlen (data);
}

static void
decode_event_cb (NatterSseParser *parser,
                 const char      *type,
                 const char      *data,
                 const char      *id,
                 Counts          *counts)
{
  g_autoptr(GError) error = NULL;

  counts->n_events++;
  if (!natter_chunk_decoder_feed (counts->decoder, type, data, &error))
    g_error ("The decoder failed: %s", error->message);
}

static void
content_cb (NatterChunkDecoder *decoder,
            const char         *text,
            Counts             *counts)
{
  counts->n_content_bytes += strlen (text);
}

/* One pass over the stream; returns the thread CPU time it took. */
static double
run_once (const Stream *s,
          gboolean      decode,
          gboolean      per_event,
          Counts       *counts)
{
  g_autoptr(NatterSseParser) parser = natter_sse_parser_new ();
  g_autoptr(NatterChunkDecoder) decoder = natter_chunk_decoder_new ();
  g_autoptr(GError) error = NULL;
  gsize offset = 0;
  double start;

  memset (counts, 0, sizeof *counts);
  counts->decoder = decoder;
  g_signal_connect (parser, "event", decode ? G_CALLBACK (decode_event_cb) : G_CALLBACK (count_event_cb),
                    counts);
  g_signal_connect (decoder, "content-delta", G_CALLBACK (content_cb), counts);

  start = bench_thread_cpu ();
  for (guint i = 0; offset < s->stream->len; i++)
    {
      gsize end = per_event ? g_array_index (s->event_ends, gsize, i)
                            : MIN (offset + READ_SIZE, s->stream->len);

      if (!natter_sse_parser_feed (parser, s->stream->str + offset, end - offset, &error))
        g_error ("The parser failed: %s", error->message);
      offset = end;
    }
  if (!natter_sse_parser_end (parser, &error))
    g_error ("The parser failed at the end: %s", error->message);
  return bench_thread_cpu () - start;
}

static void
check_counts (const Stream *s,
              const Counts *counts,
              gboolean      decode)
{
  if (counts->n_events != s->n_events)
    g_error ("%" G_GUINT64_FORMAT " events instead of %u", counts->n_events, s->n_events);
  if (decode && counts->n_content_bytes != s->content_len)
    g_error ("%" G_GUINT64_FORMAT " bytes of content instead of %" G_GSIZE_FORMAT,
             counts->n_content_bytes, s->content_len);
}

static gboolean
measure (const Stream *s,
         gboolean      decode,
         gboolean      per_event)
{
  double times[RUNS];
  double seconds, mb_per_s, chunks_per_s;
  Counts counts;
  gboolean pass;
  g_autofree char *name = NULL;
  g_autofree char *figure = NULL;

  run_once (s, decode, per_event, &counts);  /* warm up caches and the allocator */
  for (guint i = 0; i < RUNS; i++)
    {
      times[i] = run_once (s, decode, per_event, &counts);
      check_counts (s, &counts, decode);
    }

  seconds = bench_median (times, RUNS);
  mb_per_s = s->stream->len / seconds / 1e6;
  chunks_per_s = s->n_events / seconds;
  pass = decode ? mb_per_s >= 200 : chunks_per_s >= 1e6;

  name = g_strdup_printf ("%s, %s", decode ? "sse+decoder" : "sse parser",
                          per_event ? "1 event/read" : "16 KiB reads");
  figure = g_strdup_printf ("%.0f MB/s, %.2f M chunks/s", mb_per_s, chunks_per_s / 1e6);
  bench_result (name, figure, decode ? "≥ 200 MB/s" : "≥ 1 M chunks/s", pass);
  return pass;
}

int
main (int   argc,
      char *argv[])
{
  guint n_tokens = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 100000;
  Stream *s = stream_new (n_tokens);
  gboolean pass = TRUE;

  printf ("# %u events, %.1f MB, %.0f bytes per event on average; median of %d runs, thread CPU time\n",
          s->n_events, s->stream->len / 1e6, (double) s->stream->len / s->n_events, RUNS);

  pass &= measure (s, FALSE, FALSE);
  pass &= measure (s, FALSE, TRUE);
  pass &= measure (s, TRUE, FALSE);
  pass &= measure (s, TRUE, TRUE);

  stream_free (s);
  return pass ? 0 : 1;
}
