/* bench-history-data.c — a history of a given size, as years of use leave it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The schema comes from natter_store_open() itself, so it is exactly the
 * current one; the rows are then written with plain SQL in large
 * transactions (a million messages through natter_store_append_message(),
 * one transaction each, would take an hour), in the shape NatterStore gives
 * them: positions from 0 in each conversation, states and roles by their
 * nicks, -1 where a statistic is unknown.  The FTS index is filled by the
 * schema's own triggers, as it is in use.
 *
 * The text is made of common English words (most of every message) and a
 * few topic words per conversation, so that searching for a topic word
 * finds what it would in a real history: thousands of messages, not all.
 */
#include "bench-history-data.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "natter-store.h"

/* The most frequent first: picked with a Zipf-like weight. */
static const char * const common_words[] = {
  "the", "to", "and", "a", "of", "is", "in", "it", "you", "that", "for", "this",
  "with", "on", "can", "be", "as", "are", "if", "your", "not", "or", "have",
  "from", "by", "an", "will", "use", "at", "but", "so", "which", "we", "do",
  "all", "more", "one", "when", "there", "how", "what", "then", "each", "they",
  "would", "also", "like", "here", "should", "some", "other", "into", "only",
  "than", "make", "need", "just", "any", "way", "first", "new", "may", "because",
  "example", "could", "two", "time", "about", "these", "after", "want", "same",
  "does", "out", "them", "instead", "where", "value", "case", "work", "before",
  "change", "still", "most", "using", "line", "look", "keep", "set", "call",
  "simple", "common", "result", "second", "usually", "different", "step",
  "small", "large", "check", "right", "point", "order", "part", "run", "add",
  "return", "list", "name", "type", "new", "number", "start", "end", "since",
  "without", "while", "both", "every", "few", "often", "good", "better",
  "quite", "rather", "easier", "faster", "safer", "clear", "short", "long",
  "enough", "already", "again", "later", "below", "above", "next", "last",
};

/* Each conversation is about a few of these. */
static const char * const topic_words[] = {
  "python", "error", "sqlite", "recipe", "garden", "budget", "travel", "kernel",
  "compiler", "invoice", "poem", "sourdough", "marathon", "guitar", "mortgage",
  "docker", "regex", "spreadsheet", "essay", "tomato", "bicycle", "telescope",
  "chess", "vaccine", "battery", "router", "firewall", "javascript", "rust",
  "gtk", "meson", "database", "index", "query", "thread", "mutex", "socket",
  "latency", "memory", "cache", "vector", "matrix", "integral", "derivative",
  "physics", "orbit", "planet", "climate", "carbon", "forest", "river",
  "mountain", "winter", "summer", "holiday", "wedding", "birthday", "resume",
  "interview", "salary", "contract", "lawyer", "tenant", "landlord", "insurance",
  "pension", "taxes", "receipt", "passport", "visa", "flight", "hotel", "museum",
  "painting", "sculpture", "novel", "chapter", "character", "dialogue", "sonnet",
  "melody", "rhythm", "chord", "piano", "violin", "drums", "podcast", "camera",
  "lens", "aperture", "exposure", "portrait", "landscape", "printer", "scanner",
  "keyboard", "monitor", "laptop", "charger", "bluetooth", "wifi", "password",
  "encryption", "certificate", "browser", "extension", "plugin", "theme",
  "widget", "layout", "animation", "shader", "texture", "polygon", "sprite",
  "physics", "gravity", "friction", "velocity", "momentum", "voltage",
  "resistor", "capacitor", "transistor", "arduino", "sensor", "motor", "servo",
  "bread", "pasta", "curry", "salad", "soup", "coffee", "espresso", "tea",
  "yoghurt", "cheese", "wine", "beer", "cocktail", "vegan", "protein",
  "calorie", "workout", "yoga", "sleep", "meditation", "anxiety", "habit",
  "schedule", "calendar", "meeting", "agenda", "slides", "report", "summary",
  "translation", "grammar", "spanish", "french", "german", "japanese", "latin",
  "history", "empire", "revolution", "election", "economy", "inflation",
  "interest", "stocks", "bonds", "crypto", "startup", "marketing", "customer",
  "refund", "shipping", "warehouse", "inventory", "forecast", "statistics",
  "regression", "histogram", "median", "variance", "probability", "dice",
};

/* Zipf-like cumulative weights for common_words. */
static double common_cumulative[G_N_ELEMENTS (common_words)];

static void
init_weights (void)
{
  double total = 0;

  for (guint i = 0; i < G_N_ELEMENTS (common_words); i++)
    common_cumulative[i] = (total += 1.0 / (i + 1));
  for (guint i = 0; i < G_N_ELEMENTS (common_words); i++)
    common_cumulative[i] /= total;
}

static const char *
common_word (GRand *rand)
{
  double x = g_rand_double (rand);
  guint lo = 0, hi = G_N_ELEMENTS (common_words) - 1;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (common_cumulative[mid] < x)
        lo = mid + 1;
      else
        hi = mid;
    }
  return common_words[lo];
}

typedef struct {
  const char *topics[4];
} Topics;

static void
append_words (GString      *out,
              GRand        *rand,
              const Topics *topics,
              guint         n)
{
  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append_c (out, ' ');
      /* About one word in twelve is about the topic. */
      if (g_rand_int_range (rand, 0, 12) == 0)
        g_string_append (out, topics->topics[g_rand_int_range (rand, 0, 4)]);
      else
        g_string_append (out, common_word (rand));
    }
}

static void
make_question (GString      *out,
               GRand        *rand,
               const Topics *topics)
{
  g_string_truncate (out, 0);
  g_string_append (out, "How do I ");
  append_words (out, rand, topics, g_rand_int_range (rand, 4, 46));
  g_string_append_c (out, '?');
}

/* An answer as models write them: paragraphs, some lists, a code block now
 * and then, some bold and inline code. */
static void
make_answer (GString      *out,
             GRand        *rand,
             const Topics *topics)
{
  guint target = 20 + g_rand_int_range (rand, 0, 90) + g_rand_int_range (rand, 0, 90);
  guint written = 0;

  g_string_truncate (out, 0);
  for (guint block = 0; written < target; block++)
    {
      guint kind = g_rand_int_range (rand, 0, 10);
      guint n;

      if (block > 0)
        g_string_append (out, "\n\n");
      if (kind == 0 && block > 0)
        {
          n = g_rand_int_range (rand, 3, 6);
          for (guint item = 0; item < n; item++)
            {
              guint words = g_rand_int_range (rand, 3, 12);

              g_string_append (out, item > 0 ? "\n- " : "- ");
              append_words (out, rand, topics, words);
              written += words;
            }
        }
      else if (kind == 1 && block > 0)
        {
          n = g_rand_int_range (rand, 2, 7);
          g_string_append (out, "```python\n");
          for (guint line = 0; line < n; line++)
            {
              g_string_append_printf (out, "%s = %s(%s, %u)\n", common_word (rand),
                                      topics->topics[line % 4], common_word (rand), line);
              written += 4;
            }
          g_string_append (out, "```");
        }
      else
        {
          const char *marker = g_rand_boolean (rand) ? "**" : "`";

          n = g_rand_int_range (rand, 15, 70);
          append_words (out, rand, topics, n / 2);
          g_string_append_printf (out, " %s%s%s ", marker, topics->topics[g_rand_int_range (rand, 0, 4)],
                                  marker);
          append_words (out, rand, topics, n - n / 2);
          g_string_append_c (out, '.');
          written += n + 1;
        }
    }
}

static gboolean
exec (sqlite3     *db,
      const char  *sql,
      GError     **error)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) == SQLITE_OK)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", sql, message);
  sqlite3_free (message);
  return FALSE;
}

static gboolean
step (sqlite3       *db,
      sqlite3_stmt  *stmt,
      GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc == SQLITE_DONE)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", sqlite3_errmsg (db));
  return FALSE;
}

/* Sizes adding up to @n_messages, the big ones scattered among the others. */
static guint *
conversation_sizes (GRand *rand,
                    guint  n_conversations,
                    guint  n_messages,
                    guint  n_big,
                    guint  big_size)
{
  guint *sizes = g_new0 (guint, n_conversations);
  guint n_small = n_conversations - n_big;
  guint64 rest = n_messages - (guint64) n_big * big_size;
  guint average = n_small > 0 ? rest / n_small : 0;
  guint64 sum = 0;

  for (guint i = 0; i < n_small; i++)
    sum += sizes[i] = 2 + g_rand_int_range (rand, 0, MAX (1, 2 * average - 3));
  /* Nudge until the total is exact. */
  while (sum != rest && n_small > 0)
    {
      guint i = g_rand_int_range (rand, 0, n_small);

      if (sum < rest)
        sizes[i]++, sum++;
      else if (sizes[i] > 2)
        sizes[i]--, sum--;
    }
  for (guint i = n_small; i < n_conversations; i++)
    sizes[i] = big_size;
  /* Shuffle, so that big conversations are anywhere in the list. */
  for (guint i = n_conversations - 1; i > 0; i--)
    {
      guint j = g_rand_int_range (rand, 0, i + 1);
      guint t = sizes[i];

      sizes[i] = sizes[j];
      sizes[j] = t;
    }
  return sizes;
}

#define INSERT_CONVERSATION \
  "INSERT INTO conversations (id, title, system_prompt, created_us, updated_us, temperature, max_tokens)" \
  " VALUES (?, ?, NULL, ?, ?, NULL, NULL)"
#define INSERT_MESSAGE \
  "INSERT INTO messages (conversation_id, position, role, content, reasoning, state, error, model," \
  " finish_reason, ttft_us, duration_us, prompt_tokens, completion_tokens, updated_us)" \
  " VALUES (?, ?, ?, ?, NULL, 'complete', NULL, ?, ?, ?, ?, ?, ?, ?)"

/* Two years of use, ending now. */
#define SPAN_US (G_GINT64_CONSTANT (2) * 365 * 24 * 3600 * G_USEC_PER_SEC)

gboolean
bench_history_generate (const char  *path,
                        guint        n_conversations,
                        guint        n_messages,
                        guint        n_big,
                        guint        big_size,
                        GError     **error)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261121);
  g_autoptr(NatterStore) store = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree guint *sizes = NULL;
  sqlite3_stmt *conversation_stmt = NULL;
  sqlite3_stmt *message_stmt = NULL;
  sqlite3 *db = NULL;
  gint64 now = g_get_real_time ();
  guint written = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (n_big <= n_conversations, FALSE);
  g_return_val_if_fail ((guint64) n_big * big_size <= n_messages, FALSE);

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s exists", path);
      return FALSE;
    }
  /* The schema, exactly as Natter makes it. */
  store = natter_store_open (path, error);
  if (store == NULL)
    return FALSE;
  g_clear_object (&store);

  init_weights ();
  sizes = conversation_sizes (rand, n_conversations, n_messages, n_big, big_size);

  if (sqlite3_open (path, &db) != SQLITE_OK ||
      !exec (db, "PRAGMA synchronous = OFF", error) ||
      !exec (db, "BEGIN", error) ||
      sqlite3_prepare_v2 (db, INSERT_CONVERSATION, -1, &conversation_stmt, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, INSERT_MESSAGE, -1, &message_stmt, NULL) != SQLITE_OK)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", sqlite3_errmsg (db));
      goto out;
    }

  for (guint c = 0; c < n_conversations; c++)
    {
      /* Ids in creation order; last use spread over the two years. */
      gint64 created = now - SPAN_US + (gint64) ((double) c / n_conversations * SPAN_US);
      gint64 updated = created + g_rand_int_range (rand, 0, 30 * 24 * 3600) * (gint64) G_USEC_PER_SEC;
      gint64 step_us = (updated - created) / MAX (sizes[c], 1);
      g_autofree char *title = NULL;
      Topics topics;

      for (guint t = 0; t < 4; t++)
        topics.topics[t] = topic_words[g_rand_int_range (rand, 0, G_N_ELEMENTS (topic_words))];

      /* The title comes from the first question, as natter_conversation_send_async() makes it. */
      make_question (text, rand, &topics);
      title = natter_conversation_title_for_text (text->str);
      sqlite3_bind_int64 (conversation_stmt, 1, c + 1);
      sqlite3_bind_text (conversation_stmt, 2, title, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (conversation_stmt, 3, created);
      sqlite3_bind_int64 (conversation_stmt, 4, updated);
      if (!step (db, conversation_stmt, error))
        goto out;

      for (guint m = 0; m < sizes[c]; m++)
        {
          gboolean answer = m % 2 == 1;

          if (answer)
            make_answer (text, rand, &topics);
          else if (m > 0)
            make_question (text, rand, &topics);

          sqlite3_bind_int64 (message_stmt, 1, c + 1);
          sqlite3_bind_int64 (message_stmt, 2, m);
          sqlite3_bind_text (message_stmt, 3, answer ? "assistant" : "user", -1, SQLITE_STATIC);
          sqlite3_bind_text (message_stmt, 4, text->str, text->len, SQLITE_STATIC);
          if (answer)
            {
              gint64 ttft = 200000 + g_rand_int_range (rand, 0, 1500000);
              gint64 tokens = text->len / 4;

              sqlite3_bind_text (message_stmt, 5, "natter-fake-1", -1, SQLITE_STATIC);
              sqlite3_bind_text (message_stmt, 6, "stop", -1, SQLITE_STATIC);
              sqlite3_bind_int64 (message_stmt, 7, ttft);
              sqlite3_bind_int64 (message_stmt, 8, ttft + tokens * 20000);
              sqlite3_bind_int64 (message_stmt, 9, 20 + m * 150);
              sqlite3_bind_int64 (message_stmt, 10, tokens);
            }
          else
            {
              sqlite3_bind_null (message_stmt, 5);
              sqlite3_bind_null (message_stmt, 6);
              for (int col = 7; col <= 10; col++)
                sqlite3_bind_int64 (message_stmt, col, -1);
            }
          sqlite3_bind_int64 (message_stmt, 11, created + m * step_us);
          if (!step (db, message_stmt, error))
            goto out;

          /* Commit now and then, so that the WAL stays small. */
          if (++written % 20000 == 0 &&
              (!exec (db, "COMMIT", error) || !exec (db, "BEGIN", error)))
            goto out;
        }
    }
  ok = exec (db, "COMMIT", error) && exec (db, "PRAGMA wal_checkpoint(TRUNCATE)", error);

out:
  sqlite3_finalize (conversation_stmt);
  sqlite3_finalize (message_stmt);
  sqlite3_close (db);
  return ok;
}

gboolean
bench_history_ensure (const char  *path,
                      GError     **error)
{
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  printf ("# making %s: 10,000 conversations, 1,000,000 messages (two minutes)\n", path);
  fflush (stdout);
  return bench_history_generate (path, 10000, 1000000, 10, 2000, error);
}
