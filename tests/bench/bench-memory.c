/* bench-memory.c — Natter's resident memory, idle and with a history loaded
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Budgets (issue 7), VmRSS from /proc/PID/status, on Xvfb:
 *
 *  - idle < 60 MB: the real natter binary, started with an empty history
 *    and the fake provider set in the environment, read once its window
 *    has been up and idle for 3 s;
 *  - < 120 MB with a 10,000-message history loaded: Natter itself
 *    (NatterApplication, run in this process, exactly as main.c runs it) on
 *    a history of 50 conversations holding 10,000 messages, each opened
 *    through the sidebar as a click would, so that all 10,000 messages are
 *    in memory; read after 3 s idle.  The same process idle, before opening
 *    anything, is printed too: it should match the real binary's.
 *
 * Usage: bench-memory
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "bench-common.h"
#include "bench-history-data.h"
#include "bench-ui.h"
#include "natter-application.h"
#include "natter-history.h"
#include "natter-sidebar.h"
#include "natter-software-gl.h"
#include "natter-store.h"
#include "natter-window.h"

#define IDLE_MS 3000
#define N_CONVERSATIONS 50
#define N_MESSAGES 10000

/* --- The real binary, idle --------------------------------------------------- */

static gsize
idle_app_rss_kb (const char *data_home,
                 const char *url)
{
  g_auto(GStrv) envp = g_get_environ ();
  const char *argv[] = { BENCH_NATTER_APP_PATH, NULL };
  posix_spawn_file_actions_t actions;
  gsize rss;
  pid_t pid;

  envp = g_environ_setenv (envp, "XDG_DATA_HOME", data_home, TRUE);
  envp = g_environ_setenv (envp, "NATTER_BASE_URL", url, TRUE);
  envp = g_environ_setenv (envp, "NATTER_API_KEY", "bench", TRUE);
  envp = g_environ_setenv (envp, "NATTER_MODEL", "natter-fake-1", TRUE);
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_addopen (&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (posix_spawn (&pid, argv[0], &actions, NULL, (char * const *) argv, envp) != 0)
    g_error ("Cannot start %s", argv[0]);
  posix_spawn_file_actions_destroy (&actions);

  g_usleep (IDLE_MS * 1000);
  rss = bench_vm_rss_kb (pid);
  kill (pid, SIGTERM);
  waitpid (pid, NULL, 0);
  return rss;
}

/* --- Natter in this process, with 10,000 messages ------------------------------ */

typedef struct {
  gsize idle_kb;
  gsize loaded_kb;
  guint messages;
} Loaded;

static void
open_every_conversation (NatterWindow *window,
                         Loaded       *loaded)
{
  NatterSidebar *sidebar = NATTER_SIDEBAR (natter_window_get_sidebar (window));
  GtkSingleSelection *selection = GTK_SINGLE_SELECTION (
    gtk_list_view_get_model (GTK_LIST_VIEW (natter_sidebar_get_conversation_list (sidebar))));
  GListModel *history = gtk_single_selection_get_model (selection);
  guint n = g_list_model_get_n_items (history);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterConversation) conversation = g_list_model_get_item (history, i);

      gtk_single_selection_set_selected (selection, i);
      bench_wait_frames (GTK_WIDGET (window), 2);
      loaded->messages += g_list_model_get_n_items (G_LIST_MODEL (conversation));
    }
}

static void
activated_cb (GApplication *application,
              Loaded       *loaded)
{
  NatterWindow *window = NATTER_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (application)));

  /* What the application does at start-up is done: it is idle. */
  bench_wait_frames (GTK_WIDGET (window), 2);
  bench_run_for (IDLE_MS);
  loaded->idle_kb = bench_vm_rss_kb (0);

  open_every_conversation (window, loaded);
  bench_run_for (IDLE_MS);
  loaded->loaded_kb = bench_vm_rss_kb (0);
  g_application_quit (application);
}

static Loaded
run_app_loaded (const char *url)
{
  g_autofree char *path = natter_store_dup_default_path ();
  g_autoptr(GError) error = NULL;
  g_autoptr(NatterApplication) application = NULL;
  Loaded loaded = { 0 };

  if (!bench_history_generate (path, N_CONVERSATIONS, N_MESSAGES, 0, 0, &error))
    g_error ("Cannot make the history: %s", error->message);

  g_setenv ("NATTER_BASE_URL", url, TRUE);
  g_setenv ("NATTER_API_KEY", "bench", TRUE);
  g_setenv ("NATTER_MODEL", "natter-fake-1", TRUE);
  application = natter_application_new ();
  /* After the application's own handler: its window is up. */
  g_signal_connect_after (application, "activate", G_CALLBACK (activated_cb), &loaded);
  g_application_run (G_APPLICATION (application), 0, NULL);
  return loaded;
}

int
main (int   argc,
      char *argv[])
{
  const char * const provider_args[] = { "--tokens", "10", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-bench-memory-XXXXXX", &error);
  g_autofree char *idle_home = g_build_filename (dir, "idle", NULL);
  g_autofree char *loaded_home = g_build_filename (dir, "loaded", NULL);
  g_autofree char *url = NULL;
  g_autofree char *figure = NULL;
  gsize app_idle_kb;
  gboolean pass;
  Loaded loaded;
  GPid provider;

  g_assert_no_error (error);
  url = bench_spawn_provider (provider_args, &provider);

  /* The real binary first, on its own empty history. */
  app_idle_kb = idle_app_rss_kb (idle_home, url);

  /* Then Natter here, on a history of 10,000 messages in $XDG_DATA_HOME,
   * started as main.c starts it. */
  natter_software_gl_avoid ();
  g_setenv ("XDG_DATA_HOME", loaded_home, TRUE);
  loaded = run_app_loaded (url);
  bench_stop_provider (provider);

  printf ("# natter idle: %.1f MB; Natter in this process: idle %.1f MB, with %u messages opened %.1f MB\n",
          app_idle_kb / 1024.0, loaded.idle_kb / 1024.0, loaded.messages, loaded.loaded_kb / 1024.0);
  if (loaded.messages != N_MESSAGES)
    g_error ("%u messages were opened, not %u", loaded.messages, N_MESSAGES);

  figure = g_strdup_printf ("%.1f MB", app_idle_kb / 1024.0);
  bench_result ("resident memory, idle", figure, "< 60 MB", app_idle_kb < 60 * 1024);
  g_free (figure);
  figure = g_strdup_printf ("%.1f MB", loaded.loaded_kb / 1024.0);
  bench_result ("resident memory, 10,000 messages", figure, "< 120 MB", loaded.loaded_kb < 120 * 1024);
  pass = app_idle_kb < 60 * 1024 && loaded.loaded_kb < 120 * 1024;

  for (guint h = 0; h < 2; h++)
    {
      g_autofree char *natter_dir = g_build_filename (h == 0 ? idle_home : loaded_home, "natter", NULL);
      const char *files[] = { "history.db", "history.db-wal", "history.db-shm" };

      for (guint i = 0; i < G_N_ELEMENTS (files); i++)
        {
          g_autofree char *file = g_build_filename (natter_dir, files[i], NULL);
          g_unlink (file);
        }
      g_rmdir (natter_dir);
      g_rmdir (h == 0 ? idle_home : loaded_home);
    }
  g_rmdir (dir);
  return pass ? 0 : 1;
}
