/* bench-history.c — the window on a history of a million messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Budgets (issue 7), on a history of 10,000 conversations and 1,000,000
 * messages made by bench-history-generate, with the file in the page cache
 * (one untimed round first), on Xvfb:
 *
 *  - window open < 300 ms: natter_store_open(), natter_history_new(), a
 *    NatterWindow given the history and presented, until its first frame
 *    is painted (what NatterApplication does at start-up; bench-startup
 *    times the whole app from exec on the same file);
 *  - switching to a 2,000-message conversation < 100 ms: from selecting it
 *    in the sidebar's list (the user's click) until the first frame
 *    painted with it, the first time it is opened (its messages are read);
 *    the time until its last message is on screen, and switching back to
 *    one already open, are printed too;
 *  - search < 50 ms: natter_history_search() for typical words, and from
 *    the sidebar's "search-changed" to the frame that shows the results.
 *
 * Every figure is the median of its repetitions, in this thread's CPU time
 * (SQLite and GTK work on it): what Natter spends, not how long the other
 * users of a shared machine kept the core. Wall times are printed too.
 *
 * Usage: bench-history DATABASE [REPETITIONS]
 * (DATABASE is made first if there is no such file.)
 */
#include <stdio.h>
#include <sqlite3.h>

#include "bench-common.h"
#include "bench-history-data.h"
#include "bench-ui.h"
#include "natter-chat-view.h"
#include "natter-fake-provider.h"
#include "natter-history.h"
#include "natter-software-gl.h"
#include "natter-message-row.h"
#include "natter-sidebar.h"
#include "natter-window.h"

#define MODEL "natter-fake-1"

static NatterClient *client;

/* --- Opening ----------------------------------------------------------------- */

typedef struct {
  NatterStore   *store;
  NatterHistory *history;
  NatterWindow  *window;
  double         store_ms;
  double         list_ms;
  double         total_ms;
  double         total_cpu_ms;
} Opened;

static Opened
open_window (const char *path)
{
  g_autoptr(GError) error = NULL;
  Opened o = { 0 };
  gint64 start = g_get_monotonic_time ();
  double cpu = bench_thread_cpu ();

  o.store = natter_store_open (path, &error);
  g_assert_no_error (error);
  o.store_ms = (g_get_monotonic_time () - start) / 1e3;
  o.history = natter_history_new (o.store, &error);
  g_assert_no_error (error);
  o.list_ms = (g_get_monotonic_time () - start) / 1e3 - o.store_ms;

  o.window = natter_window_new (NULL, client, MODEL);
  natter_window_set_history (o.window, o.history);
  gtk_window_present (GTK_WINDOW (o.window));
  o.total_ms = (bench_wait_frames (GTK_WIDGET (o.window), 1) - start) / 1e3;
  o.total_cpu_ms = (bench_thread_cpu () - cpu) * 1e3;
  return o;
}

static void
close_window (Opened *o)
{
  gtk_window_destroy (GTK_WINDOW (o->window));
  g_clear_object (&o->history);
  g_clear_object (&o->store);
  bench_run_for (100);
}

static gboolean
measure_open (const char *path,
              guint       repetitions)
{
  g_autofree double *total = g_new (double, repetitions);
  g_autofree double *total_cpu = g_new (double, repetitions);
  g_autofree double *store = g_new (double, repetitions);
  g_autofree double *list = g_new (double, repetitions);
  g_autofree char *figure = NULL;
  double median;

  /* Warms the page cache and GTK up. */
  {
    Opened o = open_window (path);

    printf ("# %u conversations listed\n", g_list_model_get_n_items (G_LIST_MODEL (o.history)));
    close_window (&o);
  }
  for (guint r = 0; r < repetitions; r++)
    {
      Opened o = open_window (path);

      total[r] = o.total_ms;
      total_cpu[r] = o.total_cpu_ms;
      store[r] = o.store_ms;
      list[r] = o.list_ms;
      close_window (&o);
    }
  median = bench_median (total, repetitions);
  printf ("# window open, wall, medians of %u: natter_store_open %.1f ms, natter_history_new %.1f ms, "
          "window to its first frame %.1f ms; in all %.1f ms\n", repetitions, bench_median (store, repetitions),
          bench_median (list, repetitions), median - bench_median (store, repetitions) - bench_median (list, repetitions),
          median);
  median = bench_median (total_cpu, repetitions);
  figure = g_strdup_printf ("%.0f ms CPU (wall %.0f)", median, bench_median (total, repetitions));
  bench_result ("history 1M, window open", figure, "< 300 ms", median < 300);
  return median < 300;
}

/* --- Switching ----------------------------------------------------------------- */

static GArray *
big_conversations (const char *path)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, "SELECT conversation_id FROM messages GROUP BY conversation_id"
                              " HAVING count(*) = 2000", -1, &stmt, NULL) != SQLITE_OK)
    g_error ("Cannot read %s: %s", path, sqlite3_errmsg (db));
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return ids;
}

static guint
position_of (NatterHistory *history,
             gint64         id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (history));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterConversation) conversation = g_list_model_get_item (G_LIST_MODEL (history), i);

      if (natter_conversation_get_id (conversation) == id)
        return i;
    }
  g_error ("Conversation %" G_GINT64_FORMAT " is not listed", id);
}

/* The conversation as it opens: at its end, its last message drawn. */
static gboolean
shows_last_message (NatterWindow *window)
{
  GtkWidget *chat_view = natter_window_get_chat_view (window);
  GtkAdjustment *adjustment = natter_chat_view_get_vadjustment (NATTER_CHAT_VIEW (chat_view));
  NatterConversation *conversation = natter_window_get_conversation (window);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (conversation));
  NatterMessage *last = natter_conversation_get_message (conversation, n - 1);
  g_autoptr(GPtrArray) rows = NULL;

  if (gtk_adjustment_get_value (adjustment) + gtk_adjustment_get_page_size (adjustment) <
      gtk_adjustment_get_upper (adjustment) - 4)
    return FALSE;
  rows = bench_find_widgets (chat_view, NATTER_TYPE_MESSAGE_ROW);
  for (guint i = 0; i < rows->len; i++)
    if (natter_message_row_get_message (g_ptr_array_index (rows, i)) == last &&
        gtk_widget_get_mapped (g_ptr_array_index (rows, i)))
      return TRUE;
  return FALSE;
}

static gint64 activated_us;

static void
activated_cb (NatterSidebar      *sidebar,
              NatterConversation *conversation,
              guint               position)
{
  /* After the window's own handler: the messages are read and shown. */
  activated_us = g_get_monotonic_time ();
}

typedef struct {
  double opened;       /* ms: the messages read, the view given them */
  double frame;        /* ms: the first frame painted after */
  double settled;      /* ms: the frame with the last message on screen */
  double settled_cpu;  /* the same in CPU time */
  guint  rows;
} Switch;

/* Selects the conversation at @position in the sidebar, as a click does. */
static Switch
switch_to (NatterWindow *window,
           guint         position,
           gint64        id)
{
  NatterSidebar *sidebar = NATTER_SIDEBAR (natter_window_get_sidebar (window));
  GtkSingleSelection *selection = GTK_SINGLE_SELECTION (
    gtk_list_view_get_model (GTK_LIST_VIEW (natter_sidebar_get_conversation_list (sidebar))));
  Switch s = { 0 };
  gint64 start, end;
  double cpu = bench_thread_cpu (), end_cpu = 0;
  g_autoptr(GPtrArray) rows = NULL;

  start = g_get_monotonic_time ();
  gtk_single_selection_set_selected (selection, position);
  if (natter_conversation_get_id (natter_window_get_conversation (window)) != id)
    g_error ("The window did not switch");
  s.opened = (activated_us - start) / 1e3;
  s.frame = (bench_wait_frames (GTK_WIDGET (window), 1) - start) / 1e3;
  end = 0;
  for (guint frames = 0; frames < 60 && end == 0; frames++)
    {
      if (shows_last_message (window))
        {
          end = g_get_monotonic_time ();
          end_cpu = bench_thread_cpu ();
        }
      else
        bench_wait_frames (GTK_WIDGET (window), 1);
    }
  s.settled = end != 0 ? (end - start) / 1e3 : 1e9;
  s.settled_cpu = end != 0 ? (end_cpu - cpu) * 1e3 : 1e9;
  rows = bench_find_widgets (natter_window_get_chat_view (window), NATTER_TYPE_MESSAGE_ROW);
  s.rows = rows->len;
  return s;
}

static gboolean
measure_switch (const char *path)
{
  Opened o = open_window (path);
  g_autoptr(GArray) ids = big_conversations (path);
  g_autofree double *opened = g_new (double, ids->len);
  g_autofree double *frame = g_new (double, ids->len);
  g_autofree double *settled = g_new (double, ids->len);
  g_autofree double *settled_cpu = g_new (double, ids->len);
  g_autofree double *again = g_new (double, ids->len);
  g_autofree char *figure = NULL;
  NatterSidebar *sidebar = NATTER_SIDEBAR (natter_window_get_sidebar (o.window));
  guint small = 0;
  guint rows = 0;
  double median;

  if (ids->len < 2)
    g_error ("%s has no conversations of 2,000 messages", path);
  /* A short conversation to switch away to. */
  for (gboolean big = TRUE; big; small++)
    {
      g_autoptr(NatterConversation) conversation = g_list_model_get_item (G_LIST_MODEL (o.history), small);
      gint64 id = natter_conversation_get_id (conversation);

      big = FALSE;
      for (guint i = 0; i < ids->len; i++)
        big |= g_array_index (ids, gint64, i) == id;
    }
  small--;
  g_signal_connect_after (sidebar, "conversation-activated", G_CALLBACK (activated_cb), NULL);

  /* The first time each is opened, its messages are read from the file. */
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);
      Switch s = switch_to (o.window, position_of (o.history, id), id);

      opened[i] = s.opened;
      frame[i] = s.frame;
      settled[i] = s.settled;
      settled_cpu[i] = s.settled_cpu;
      rows = MAX (rows, s.rows);
      bench_run_for (100);
    }
  /* Back and forth between conversations already open. */
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);

      g_autoptr(NatterConversation) short_one = g_list_model_get_item (G_LIST_MODEL (o.history), small);

      switch_to (o.window, small, natter_conversation_get_id (short_one));
      bench_run_for (50);
      again[i] = switch_to (o.window, position_of (o.history, id), id).settled_cpu;
      bench_run_for (50);
    }

  printf ("# switch to 2,000 messages, wall, medians of %u: read and given to the view %.1f ms, first frame %.1f ms,"
          " end of the conversation on screen %.1f ms; at most %u rows made\n",
          ids->len, bench_median (opened, ids->len), bench_median (frame, ids->len),
          bench_median (settled, ids->len), rows);
  median = bench_median (settled_cpu, ids->len);
  figure = g_strdup_printf ("%.0f ms CPU (wall %.0f; opened before: %.0f)", median,
                            bench_median (settled, ids->len), bench_median (again, ids->len));
  bench_result ("history 1M, switch to 2,000 messages", figure, "< 100 ms", median < 100);
  close_window (&o);
  return median < 100;
}

/* --- Searching ------------------------------------------------------------------- */

static gboolean
measure_search (const char *path,
                guint       repetitions)
{
  const char * const typical[] = {
    BENCH_HISTORY_TOPIC_WORD, BENCH_HISTORY_TOPIC_WORD " " BENCH_HISTORY_TOPIC_WORD2,
    "sourdough", "garden budget",
  };
  const char * const others[] = { BENCH_HISTORY_COMMON_WORD, "ornithorynque" };
  Opened o = open_window (path);
  NatterSidebar *sidebar = NATTER_SIDEBAR (natter_window_get_sidebar (o.window));
  GtkWidget *entry = natter_sidebar_get_search_entry (sidebar);
  g_autofree double *worst = g_new0 (double, repetitions);
  g_autofree double *ui_worst = g_new0 (double, repetitions);
  g_autofree char *figure = NULL;
  double median, ui_median;

  natter_sidebar_start_search (sidebar);
  bench_wait_frames (GTK_WIDGET (o.window), 2);

  for (guint q = 0; q < G_N_ELEMENTS (typical) + G_N_ELEMENTS (others); q++)
    {
      gboolean is_typical = q < G_N_ELEMENTS (typical);
      const char *query = is_typical ? typical[q] : others[q - G_N_ELEMENTS (typical)];
      g_autofree double *direct = g_new (double, repetitions);
      g_autofree double *ui = g_new (double, repetitions);
      g_autofree double *direct_wall = g_new (double, repetitions);
      g_autofree double *ui_wall = g_new (double, repetitions);
      guint n_results = 0;

      for (guint r = 0; r < repetitions; r++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GListModel) results = NULL;
          gint64 start = g_get_monotonic_time ();
          double cpu = bench_thread_cpu ();

          results = natter_history_search (o.history, query, &error);
          g_assert_no_error (error);
          direct[r] = (bench_thread_cpu () - cpu) * 1e3;
          direct_wall[r] = (g_get_monotonic_time () - start) / 1e3;
          n_results = g_list_model_get_n_items (results);

          /* As typed in the sidebar: the entry reports the change, the
           * results are listed and drawn. */
          gtk_editable_set_text (GTK_EDITABLE (entry), query);
          start = g_get_monotonic_time ();
          cpu = bench_thread_cpu ();
          g_signal_emit_by_name (entry, "search-changed");
          ui_wall[r] = (bench_wait_frames (GTK_WIDGET (o.window), 1) - start) / 1e3;
          ui[r] = (bench_thread_cpu () - cpu) * 1e3;
          /* The entry's own delayed "search-changed" goes by untimed. */
          bench_run_for (300);
          gtk_editable_set_text (GTK_EDITABLE (entry), "");
          bench_run_for (300);
          if (is_typical)
            {
              worst[r] = MAX (worst[r], direct[r]);
              ui_worst[r] = MAX (ui_worst[r], ui[r]);
            }
        }
      printf ("# search \"%s\": %u results; natter_history_search %.1f ms CPU (wall %.1f), typed to frame"
              " %.1f ms CPU (wall %.1f); medians of %u%s\n",
              query, n_results, bench_median (direct, repetitions), bench_median (direct_wall, repetitions),
              bench_median (ui, repetitions), bench_median (ui_wall, repetitions), repetitions,
              is_typical ? "" : "; not in the budget");
    }

  median = bench_median (worst, repetitions);
  ui_median = bench_median (ui_worst, repetitions);
  figure = g_strdup_printf ("%.1f ms CPU, typed to frame %.1f ms CPU", median, ui_median);
  bench_result ("history 1M, search (slowest typical)", figure, "< 50 ms", median < 50 && ui_median < 50);
  close_window (&o);
  return median < 50 && ui_median < 50;
}

int
main (int   argc,
      char *argv[])
{
  guint repetitions = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 5;
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterFakeProvider) provider = NULL;
  g_autofree char *url = NULL;
  const char *path;
  gboolean pass = TRUE;

  if (argc < 2)
    {
      fprintf (stderr, "Usage: %s DATABASE [REPETITIONS]\n"
                       "(DATABASE is made if missing, as bench-history-generate makes it)\n", argv[0]);
      return 2;
    }
  path = argv[1];
  if (!bench_history_ensure (path, &error))
    {
      fprintf (stderr, "%s: %s\n", path, error->message);
      return 2;
    }

  /* As main.c does: the window is drawn as it would be for a user. */
  natter_software_gl_avoid ();
  gtk_init ();
  adw_init ();
  /* The window asks for the model list; the fake provider answers. */
  provider = natter_fake_provider_new ();
  if (!natter_fake_provider_listen (provider, 0, NULL))
    g_error ("The fake provider cannot listen");
  url = natter_fake_provider_dup_base_url (provider);
  client = natter_client_new (url, "bench");

  pass &= measure_open (path, repetitions);
  pass &= measure_switch (path);
  pass &= measure_search (path, repetitions);

  g_clear_object (&client);
  return pass ? 0 : 1;
}
