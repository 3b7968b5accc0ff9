/* bench-history-data.h — a history of a given size, as years of use leave it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Words that the generated messages use, for searches: each topic word is
 * in about 1 % of the conversations and 1.7 % of the messages; the common
 * word is in almost every message. */
#define BENCH_HISTORY_TOPIC_WORD  "python"
#define BENCH_HISTORY_TOPIC_WORD2 "error"
#define BENCH_HISTORY_COMMON_WORD "the"

/* Writes a new history at @path (which must not exist) with @n_conversations
 * conversations holding @n_messages messages in all.  @n_big of them hold
 * exactly @big_size messages each; the others between 2 and about twice the
 * average.  The schema is the one natter_store_open() creates, and the rows
 * are what NatterStore writes: alternating user and assistant messages, the
 * answers in Markdown, with model, stats and state. */
gboolean bench_history_generate (const char  *path,
                                 guint        n_conversations,
                                 guint        n_messages,
                                 guint        n_big,
                                 guint        big_size,
                                 GError     **error);

/* Makes the default history (10,000 conversations, 1,000,000 messages, ten
 * of 2,000) at @path unless a file is there; says so, as it takes minutes. */
gboolean bench_history_ensure   (const char  *path,
                                 GError     **error);

G_END_DECLS
