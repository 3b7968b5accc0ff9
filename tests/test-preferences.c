/* test-preferences.c — the preferences window and its provider rows, under Xvfb
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Widgets are driven the way a user drives them (text typed into entry rows,
 * "apply", button clicks, menu actions), and the tests assert on what the
 * user then sees and on what was saved: GSettings, the key store, and the
 * requests the fake provider received. The key store lives in memory, so no
 * keyring is needed.
 */
#include <adwaita.h>

#include "natter-fake-provider.h"
#include "natter-preferences-window.h"
#include "natter-provider-row.h"
#include "natter-url-check.h"
#include "natter-test-util.h"

typedef struct {
  GSettings               *settings;
  NatterProviderList      *providers;
  NatterKeyStore          *keys;
  NatterPreferencesWindow *window;
} Fixture;

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @condition holds, and fails after @ms. */
#define ITERATE_UNTIL(condition, ms) G_STMT_START {                      \
    gboolean timed_out_ = FALSE;                                         \
    guint id_ = g_timeout_add ((ms), set_flag_cb, &timed_out_);          \
    while (!(condition) && !timed_out_)                                  \
      g_main_context_iteration (NULL, TRUE);                             \
    g_assert_true (condition);                                           \
    if (!timed_out_)                                                     \
      g_source_remove (id_);                                             \
  } G_STMT_END

static GSettings *
new_reset_settings (void)
{
  GSettings *settings = natter_settings_new_if_installed ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;

  g_assert_nonnull (settings);
  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    g_settings_reset (settings, keys[i]);
  return settings;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->settings = new_reset_settings ();
  f->providers = natter_provider_list_new (f->settings);
  /* Inside tests/with-keyring.sh, the real keyring, as the app uses it. */
  f->keys = g_strcmp0 (g_getenv ("NATTER_TEST_KEYRING"), "gnome-keyring") == 0
            ? natter_key_store_new () : natter_key_store_new_in_memory ();
  f->window = g_object_ref_sink (NATTER_PREFERENCES_WINDOW (
    natter_preferences_window_new (f->settings, f->providers, f->keys)));
  gtk_window_present (GTK_WINDOW (f->window));
  natter_test_iterate_for (100);
}

static void
close_dialogs (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = g_list_model_get_n_items (toplevels); i > 0; i--)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i - 1);

      if (ADW_IS_MESSAGE_DIALOG (window))
        gtk_window_destroy (window);
    }
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  close_dialogs ();
  gtk_window_destroy (GTK_WINDOW (f->window));
  /* Let pending key operations deliver their results and drop their refs. */
  natter_test_iterate_for (100);
  g_assert_finalize_object (f->window);
  g_assert_finalize_object (f->providers);
  g_assert_finalize_object (f->keys);
  g_clear_object (&f->settings);
}

/* --- Looking at the window ------------------------------------------------- */

static const char *
widget_title (GtkWidget *widget)
{
  if (ADW_IS_PREFERENCES_ROW (widget))
    return adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget));
  /* Icon buttons are known by their tooltip. */
  if (GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)) != NULL)
    return gtk_button_get_label (GTK_BUTTON (widget));
  return gtk_widget_get_tooltip_text (widget);
}

/* The first widget of @type under @root whose title or label starts with
 * @title (any title when %NULL). */
static GtkWidget *
find_widget (GtkWidget  *root,
             GType       type,
             const char *title)
{
  if (g_type_is_a (G_OBJECT_TYPE (root), type) &&
      (title == NULL || g_str_has_prefix (widget_title (root) ? widget_title (root) : "", title)))
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type, title);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static guint
count_widgets (GtkWidget *root,
               GType      type)
{
  guint n = g_type_is_a (G_OBJECT_TYPE (root), type) ? 1 : 0;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_widgets (child, type);
  return n;
}

/* Whether a label on screen under @root contains @text. */
static gboolean
shows (GtkWidget  *root,
       const char *text)
{
  if (!gtk_widget_get_mapped (root))
    return FALSE;
  if (GTK_IS_LABEL (root) && strstr (gtk_label_get_text (GTK_LABEL (root)), text) != NULL)
    return TRUE;

  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (shows (child, text))
      return TRUE;
  return FALSE;
}

static NatterProviderRow *
provider_row (Fixture *f,
              guint    index)
{
  GtkWidget *list_box = gtk_widget_get_parent (find_widget (GTK_WIDGET (f->window), NATTER_TYPE_PROVIDER_ROW, NULL));
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (list_box), index);

  g_assert_true (NATTER_IS_PROVIDER_ROW (row));
  return NATTER_PROVIDER_ROW (row);
}

static guint
n_provider_rows (Fixture *f)
{
  return count_widgets (GTK_WIDGET (f->window), NATTER_TYPE_PROVIDER_ROW);
}

static GtkEditable *
entry (NatterProviderRow *row,
       const char        *title)
{
  GtkWidget *found = find_widget (GTK_WIDGET (row), ADW_TYPE_ENTRY_ROW, title);

  g_assert_nonnull (found);
  return GTK_EDITABLE (found);
}

static void
type_and_apply (NatterProviderRow *row,
                const char        *title,
                const char        *text)
{
  gtk_editable_set_text (entry (row, title), text);
  g_signal_emit_by_name (entry (row, title), "apply");
}

static void
click (GtkWidget  *root,
       const char *label)
{
  GtkWidget *button = find_widget (root, GTK_TYPE_BUTTON, label);

  g_assert_nonnull (button);
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

/* A settings widget: the first @type in the action row titled @row_title. */
static GtkWidget *
setting_widget (Fixture    *f,
                const char *row_title,
                GType       type)
{
  GtkWidget *row = find_widget (GTK_WIDGET (f->window), ADW_TYPE_ACTION_ROW, row_title);
  GtkWidget *widget;

  g_assert_nonnull (row);
  widget = find_widget (row, type, NULL);
  g_assert_nonnull (widget);
  return widget;
}

/* Adds a provider the way another part of the app would, and opens its row. */
static NatterProviderRow *
add_provider (Fixture    *f,
              const char *name,
              const char *base_url)
{
  g_autoptr(NatterProvider) provider = natter_provider_new (NULL, name, base_url, "custom", NULL);
  NatterProviderRow *row;

  natter_provider_list_add (f->providers, provider);
  row = provider_row (f, g_list_model_get_n_items (G_LIST_MODEL (f->providers)) - 1);
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), TRUE);
  natter_test_iterate_for (50);
  return row;
}

static void
keep_result_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Returns: (transfer full) (nullable): the key stored for @provider */
static char *
stored_key (Fixture        *f,
            NatterProvider *provider)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *key;

  natter_key_store_lookup_async (f->keys, natter_provider_get_id (provider), NULL, keep_result_cb, &result);
  ITERATE_UNTIL (result != NULL, 5000);
  key = natter_key_store_lookup_finish (f->keys, result, &error);
  g_assert_no_error (error);
  return key;
}

static void
store_key (Fixture        *f,
           NatterProvider *provider,
           const char     *key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  natter_key_store_store_async (f->keys, natter_provider_get_id (provider), natter_provider_get_base_url (provider),
                                "test", key, NULL, keep_result_cb, &result);
  ITERATE_UNTIL (result != NULL, 5000);
  g_assert_true (natter_key_store_store_finish (f->keys, result, &error));
  g_assert_no_error (error);
}

/* Everything the app keeps in GSettings, as text. */
static char *
dump_settings (Fixture *f)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_auto(GStrv) keys = NULL;
  g_autoptr(GString) dump = g_string_new (NULL);

  g_object_get (f->settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = g_settings_get_value (f->settings, keys[i]);
      g_autofree char *text = g_variant_print (value, FALSE);

      g_string_append_printf (dump, "%s=%s\n", keys[i], text);
    }
  return g_string_free (g_steal_pointer (&dump), FALSE);
}

static AdwMessageDialog *
find_message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return ADW_MESSAGE_DIALOG (window);
    }
  return NULL;
}

/* --- natter-url-check ------------------------------------------------------ */

static void
assert_hint_contains (const char *base_url,
                      const char *expected)
{
  g_autofree char *hint = natter_url_check_hint (base_url);

  if (expected == NULL)
    {
      g_assert_null (hint);
      return;
    }
  g_assert_nonnull (hint);
  g_assert_nonnull (strstr (hint, expected));
}

static void
test_url_hint (void)
{
  assert_hint_contains ("https://openrouter.ai/api/v1", NULL);
  assert_hint_contains ("  https://example.com/v1/  ", NULL);
  assert_hint_contains ("http://localhost:11434/v1", NULL);
  assert_hint_contains ("https://openrouter.ai/api/v1/chat/completions", "adds “/chat/completions” itself");
  assert_hint_contains ("https://openrouter.ai/api/v1/chat/completions", "https://openrouter.ai/api/v1");
  assert_hint_contains ("https://example.com/v1/chat/completions/", "https://example.com/v1");
  assert_hint_contains ("openrouter.ai/api/v1", "not a valid base URL");
  assert_hint_contains ("ftp://example.com/v1", "not a valid base URL");
  assert_hint_contains ("https://", "not a valid base URL");
  assert_hint_contains ("https:///v1", "not a valid base URL");
  assert_hint_contains ("", "https://example.com/v1");
  assert_hint_contains ("   ", "https://example.com/v1");
}

static void
assert_fixed (const char *base_url,
              const char *expected)
{
  g_autofree char *fixed = natter_url_check_fix (base_url);

  g_assert_cmpstr (fixed, ==, expected);
}

static void
test_url_fix (void)
{
  assert_fixed ("https://example.com/v1/chat/completions", "https://example.com/v1");
  assert_fixed ("https://example.com/v1/chat/completions/", "https://example.com/v1");
  assert_fixed (" https://example.com/v1/ ", "https://example.com/v1");
  assert_fixed ("https://example.com/chat/completions", "https://example.com");
  assert_fixed ("https://example.com/v1", "https://example.com/v1");
  assert_fixed ("/chat/completions", "/chat/completions");
  assert_fixed (NULL, "");
}

static void
test_url_insecure (void)
{
  g_assert_true (natter_url_is_insecure ("http://example.com/v1"));
  g_assert_true (natter_url_is_insecure ("HTTP://example.com/v1"));
  g_assert_true (natter_url_is_insecure ("http://192.168.1.10:8080/v1"));
  g_assert_true (natter_url_is_insecure ("http://localhost.example.com/v1"));
  g_assert_true (natter_url_is_insecure ("http://128.0.0.1/v1"));
  g_assert_false (natter_url_is_insecure ("http://localhost:11434/v1"));
  g_assert_false (natter_url_is_insecure ("http://LocalHost/v1"));
  g_assert_false (natter_url_is_insecure ("http://127.0.0.1:8080/v1"));
  g_assert_false (natter_url_is_insecure ("http://127.12.34.56/v1"));
  g_assert_false (natter_url_is_insecure ("http://[::1]:8080/v1"));
  g_assert_false (natter_url_is_insecure ("https://example.com/v1"));
  g_assert_false (natter_url_is_insecure ("not a url"));
  g_assert_false (natter_url_is_insecure (""));
}

/* --- The provider list ----------------------------------------------------- */

static void
test_opens_empty (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GVariant) stored = g_settings_get_value (f->settings, "providers");

  g_assert_cmpuint (g_variant_n_children (stored), ==, 0);
  g_assert_cmpuint (n_provider_rows (f), ==, 0);
  g_assert_true (shows (GTK_WIDGET (f->window), "No providers yet"));
}

static gboolean
menu_has_label (GMenuModel *menu,
                const char *label)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autoptr(GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);
      g_autofree char *text = NULL;

      if (section != NULL && menu_has_label (section, label))
        return TRUE;
      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &text) &&
          g_strcmp0 (text, label) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_add_preset (Fixture       *f,
                 gconstpointer  data)
{
  GtkWidget *button = find_widget (GTK_WIDGET (f->window), GTK_TYPE_MENU_BUTTON, NULL);
  GMenuModel *menu = gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (button));
  const char * const offered[] = { "OpenRouter", "OpenAI", "Mistral", "Groq", "Ollama (local)",
                                   "llama.cpp server (local)", "Custom Provider" };
  g_autoptr(GVariant) stored = NULL;
  g_autoptr(NatterProvider) provider = NULL;
  const char *base_url = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (offered); i++)
    g_assert_true (menu_has_label (menu, offered[i]));

  gtk_widget_activate_action (GTK_WIDGET (f->window), "prefs.add-provider", "s", "mistral");
  natter_test_iterate_for (50);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->providers)), ==, 1);
  provider = g_list_model_get_item (G_LIST_MODEL (f->providers), 0);
  g_assert_cmpstr (natter_provider_get_base_url (provider), ==, "https://api.mistral.ai/v1");
  stored = g_settings_get_value (f->settings, "providers");
  g_assert_cmpuint (g_variant_n_children (stored), ==, 1);
  {
    g_autoptr(GVariant) first = g_variant_get_child_value (stored, 0);
    g_assert_true (g_variant_lookup (first, "base-url", "&s", &base_url));
    g_assert_cmpstr (base_url, ==, "https://api.mistral.ai/v1");
  }

  /* The new row is open, ready for the key. */
  g_assert_cmpuint (n_provider_rows (f), ==, 1);
  g_assert_true (adw_expander_row_get_expanded (ADW_EXPANDER_ROW (provider_row (f, 0))));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (provider_row (f, 0))), ==, "Mistral");
  g_assert_false (shows (GTK_WIDGET (f->window), "No providers yet"));

  /* A custom provider starts without a URL, and says what to enter. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "prefs.add-provider", "s", "custom");
  natter_test_iterate_for (50);
  g_assert_cmpuint (n_provider_rows (f), ==, 2);
  g_assert_true (adw_expander_row_get_expanded (ADW_EXPANDER_ROW (provider_row (f, 1))));
  g_assert_true (shows (GTK_WIDGET (provider_row (f, 1)), "Enter the address of the provider’s API"));
}

/* Rows follow the list whoever changes it, and keep their state. */
static void
test_rows_follow_list (Fixture       *f,
                       gconstpointer  data)
{
  NatterProviderRow *first = add_provider (f, "First", "https://one.example.com/v1");
  g_autoptr(NatterProvider) second = natter_provider_new_from_preset ("ollama");
  g_autoptr(NatterProvider) third = natter_provider_new_from_preset ("openai");

  natter_provider_list_add (f->providers, second);
  natter_provider_list_add (f->providers, third);
  natter_test_iterate_for (50);
  /* Whether a key is waiting is known once the keyring has answered. */
  for (guint waited = 0; waited < 10000 && n_provider_rows (f) == 3 &&
       !adw_expander_row_get_expanded (ADW_EXPANDER_ROW (provider_row (f, 2))); waited += 20)
    natter_test_iterate_for (20);
  g_assert_cmpuint (n_provider_rows (f), ==, 3);
  g_assert_true (provider_row (f, 0) == first);
  g_assert_true (adw_expander_row_get_expanded (ADW_EXPANDER_ROW (first)));
  /* Added elsewhere, such as on the first-run page: a local server stays
   * closed, a provider still waiting for its key is opened. */
  g_assert_false (adw_expander_row_get_expanded (ADW_EXPANDER_ROW (provider_row (f, 1))));
  g_assert_true (adw_expander_row_get_expanded (ADW_EXPANDER_ROW (provider_row (f, 2))));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (entry (provider_row (f, 1), "API Key"))), ==,
                   "API Key (optional)");
  natter_provider_list_remove (f->providers, third);

  g_object_add_weak_pointer (G_OBJECT (first), (gpointer *) &first);
  natter_provider_list_remove (f->providers, natter_provider_row_get_provider (first));
  natter_test_iterate_for (20);
  /* The row went with its provider, and nothing kept it alive. */
  g_assert_null (first);
  g_assert_cmpuint (n_provider_rows (f), ==, 1);
  g_assert_true (natter_provider_row_get_provider (provider_row (f, 0)) == second);
}

/* Names and URLs are shown as text, never parsed as markup. */
static void
test_text_not_markup (Fixture       *f,
                      gconstpointer  data)
{
  NatterProviderRow *row = add_provider (f, "R&D <lab>", "https://example.com/v1?a=1&b=2");

  g_assert_true (shows (GTK_WIDGET (row), "R&D <lab>"));
  g_assert_true (shows (GTK_WIDGET (row), "https://example.com/v1?a=1&b=2"));
}

/* --- Editing a provider ---------------------------------------------------- */

static void
test_edit_name_and_model (Fixture       *f,
                          gconstpointer  data)
{
  NatterProviderRow *row = add_provider (f, "Work", "https://llm.example.com/v1");
  NatterProvider *provider = natter_provider_row_get_provider (row);
  g_autofree char *dump = NULL;

  type_and_apply (row, "Name", "  Office  ");
  type_and_apply (row, "Default Model", "big-model");
  g_assert_cmpstr (natter_provider_get_name (provider), ==, "Office");
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "Office");
  g_assert_cmpstr (natter_provider_get_model (provider), ==, "big-model");
  dump = dump_settings (f);
  g_assert_nonnull (strstr (dump, "Office"));
  g_assert_nonnull (strstr (dump, "big-model"));

  /* An empty name is refused; the field shows the name kept. */
  type_and_apply (row, "Name", "   ");
  g_assert_cmpstr (natter_provider_get_name (provider), ==, "Office");
  g_assert_cmpstr (gtk_editable_get_text (entry (row, "Name")), ==, "Office");
}

static void
test_base_url_hint (Fixture       *f,
                    gconstpointer  data)
{
  NatterProviderRow *row = add_provider (f, "Mine", "https://example.com/v1");
  NatterProvider *provider = natter_provider_row_get_provider (row);
  g_autofree char *dump = NULL;

  g_assert_false (shows (GTK_WIDGET (row), "/chat/completions"));
  gtk_editable_set_text (entry (row, "Base URL"), "https://example.com/v1/chat/completions");
  natter_test_iterate_for (20);
  g_assert_true (shows (GTK_WIDGET (row), "Natter adds “/chat/completions” itself"));
  /* Nothing is saved before "apply". */
  g_assert_cmpstr (natter_provider_get_base_url (provider), ==, "https://example.com/v1");

  /* Applied, it is saved the way the hint said. */
  g_signal_emit_by_name (entry (row, "Base URL"), "apply");
  natter_test_iterate_for (20);
  g_assert_cmpstr (natter_provider_get_base_url (provider), ==, "https://example.com/v1");
  g_assert_cmpstr (gtk_editable_get_text (entry (row, "Base URL")), ==, "https://example.com/v1");
  g_assert_false (shows (GTK_WIDGET (row), "/chat/completions"));

  type_and_apply (row, "Base URL", "https://other.example.com/api/");
  g_assert_cmpstr (natter_provider_get_base_url (provider), ==, "https://other.example.com/api");
  g_assert_cmpstr (adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (row)), ==, "https://other.example.com/api");

  /* An invalid URL is shown as such and never saved. */
  type_and_apply (row, "Base URL", "other.example.com/api");
  natter_test_iterate_for (20);
  g_assert_true (shows (GTK_WIDGET (row), "is not a valid base URL"));
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (entry (row, "Base URL")), "error"));
  g_assert_cmpstr (natter_provider_get_base_url (provider), ==, "https://other.example.com/api");
  dump = dump_settings (f);
  g_assert_nonnull (strstr (dump, "'https://other.example.com/api'"));
  g_assert_null (strstr (dump, "'other.example.com/api'"));
}

static void
test_insecure_warning (Fixture       *f,
                       gconstpointer  data)
{
  NatterProviderRow *row = add_provider (f, "Mine", "https://example.com/v1");

  gtk_editable_set_text (entry (row, "Base URL"), "http://example.com/v1");
  natter_test_iterate_for (20);
  g_assert_true (shows (GTK_WIDGET (row), "not encrypted"));

  gtk_editable_set_text (entry (row, "Base URL"), "http://localhost:11434/v1");
  natter_test_iterate_for (20);
  g_assert_false (shows (GTK_WIDGET (row), "not encrypted"));

  gtk_editable_set_text (entry (row, "Base URL"), "https://example.com/v1");
  natter_test_iterate_for (20);
  g_assert_false (shows (GTK_WIDGET (row), "not encrypted"));

  /* The user may still keep it; the warning stays in view. */
  type_and_apply (row, "Base URL", "http://10.0.0.5:8080/v1");
  natter_test_iterate_for (20);
  g_assert_cmpstr (natter_provider_get_base_url (natter_provider_row_get_provider (row)), ==,
                   "http://10.0.0.5:8080/v1");
  g_assert_true (shows (GTK_WIDGET (row), "not encrypted"));
}

/* --- The API key ------------------------------------------------------------ */

/* Files may be binary: the search goes past NUL bytes. */
static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  gsize needle_length = strlen (needle);

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  for (gsize i = 0; i + needle_length <= length; i++)
    if (memcmp (contents + i, needle, needle_length) == 0)
      return TRUE;
  return FALSE;
}

/* Whether any file below @dir holds @needle in clear. */
static gboolean
tree_contains (const char *dir,
               const char *needle)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR) ? tree_contains (path, needle) : file_contains (path, needle))
        return TRUE;
    }
  return FALSE;
}

static void
assert_key_in_no_file (const char *key)
{
  const char *dirs[] = { "HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR" };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    if (g_getenv (dirs[i]) != NULL)
      g_assert_false (tree_contains (g_getenv (dirs[i]), key));
}

static void
test_key_stored_not_in_settings (Fixture       *f,
                                 gconstpointer  data)
{
  NatterProviderRow *row = add_provider (f, "Work", "https://llm.example.com/v1");
  NatterProvider *provider = natter_provider_row_get_provider (row);
  g_autofree char *key = NULL;
  g_autofree char *dump = NULL;

  g_assert_false (natter_provider_row_has_key (row));
  type_and_apply (row, "API Key", "  sk-secret-123 ");
  ITERATE_UNTIL (natter_provider_row_has_key (row), 5000);

  key = stored_key (f, provider);
  g_assert_cmpstr (key, ==, "sk-secret-123");
  dump = dump_settings (f);
  g_assert_nonnull (strstr (dump, natter_provider_get_id (provider)));
  g_assert_null (strstr (dump, "sk-secret-123"));
  /* Nor in any file the test's session wrote: settings (a key file in the
   * keyring run), the keyring's own files, caches. */
  g_settings_sync ();
  assert_key_in_no_file ("sk-secret-123");

  /* The field never shows the key; its title says one is kept. */
  g_assert_cmpstr (gtk_editable_get_text (entry (row, "API Key")), ==, "");
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (entry (row, "API Key"))), ==,
                   natter_key_store_is_persistent (f->keys) ? "API Key (stored in the keyring)"
                                                            : "API Key (kept until Natter quits)");

  /* Applying an empty field keeps the stored key. */
  type_and_apply (row, "API Key", "");
  natter_test_iterate_for (50);
  g_clear_pointer (&key, g_free);
  key = stored_key (f, provider);
  g_assert_cmpstr (key, ==, "sk-secret-123");
  g_assert_true (natter_provider_row_has_key (row));
}

static void
test_key_looked_up_and_removed (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(NatterProvider) provider = natter_provider_new (NULL, "Work", "https://llm.example.com/v1",
                                                            "custom", NULL);
  NatterProviderRow *row;
  g_autofree char *key = NULL;

  /* A key stored in an earlier session is found when the row is made. */
  store_key (f, provider, "sk-earlier");
  natter_provider_list_add (f->providers, provider);
  row = provider_row (f, 0);
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), TRUE);
  ITERATE_UNTIL (natter_provider_row_has_key (row), 5000);
  g_assert_cmpstr (gtk_editable_get_text (entry (row, "API Key")), ==, "");

  click (GTK_WIDGET (row), "Remove the Stored API Key");
  ITERATE_UNTIL (!natter_provider_row_has_key (row), 5000);
  key = stored_key (f, provider);
  g_assert_null (key);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (entry (row, "API Key"))), ==, "API Key");
}

/* --- Test Connection ----------------------------------------------------- */

static void
test_connection (Fixture       *f,
                 gconstpointer  data)
{
  const char * const models[] = { "model-a", "model-b", "model-c", NULL };
  g_autoptr(NatterFakeProvider) server = natter_fake_provider_new ();
  g_autofree char *base_url = NULL;
  const NatterFakeRequest *request;
  NatterProviderRow *row;

  g_assert_true (natter_fake_provider_listen (server, 0, NULL));
  natter_fake_provider_set_required_key (server, "sk-right");
  natter_fake_provider_set_models (server, models);
  base_url = natter_fake_provider_dup_base_url (server);
  row = add_provider (f, "Fake", base_url);

  /* The key typed but not applied is the one tested. */
  gtk_editable_set_text (entry (row, "API Key"), "sk-right");
  click (GTK_WIDGET (row), "Test Connection");
  ITERATE_UNTIL (shows (GTK_WIDGET (row), "Connected: 3 models"), 5000);
  request = natter_fake_provider_get_request (server, natter_fake_provider_get_n_requests (server) - 1);
  g_assert_cmpstr (request->path, ==, "/v1/models");
  g_assert_cmpstr (soup_message_headers_get_one (request->headers, "Authorization"), ==, "Bearer sk-right");

  gtk_editable_set_text (entry (row, "API Key"), "sk-wrong");
  g_assert_false (shows (GTK_WIDGET (row), "Connected"));
  click (GTK_WIDGET (row), "Test Connection");
  ITERATE_UNTIL (shows (GTK_WIDGET (row), "HTTP 401"), 5000);
  g_assert_true (shows (GTK_WIDGET (row), "rejected the API key"));
  g_assert_false (shows (GTK_WIDGET (row), "Connected"));

  /* With the field empty, the stored key is used. */
  store_key (f, natter_provider_row_get_provider (row), "sk-right");
  gtk_editable_set_text (entry (row, "API Key"), "");
  click (GTK_WIDGET (row), "Test Connection");
  ITERATE_UNTIL (shows (GTK_WIDGET (row), "Connected: 3 models"), 5000);

  /* An invalid URL is not even tried. */
  gtk_editable_set_text (entry (row, "Base URL"), "nowhere");
  click (GTK_WIDGET (row), "Test Connection");
  g_assert_true (shows (GTK_WIDGET (row), "is not a valid base URL"));
}

/* --- Removing a provider --------------------------------------------------- */

static void
test_remove_provider (Fixture       *f,
                      gconstpointer  data)
{
  NatterProviderRow *row = add_provider (f, "Doomed", "https://doomed.example.com/v1");
  g_autoptr(NatterProvider) provider = g_object_ref (natter_provider_row_get_provider (row));
  g_autoptr(GVariant) stored = NULL;
  g_autofree char *key = NULL;
  AdwMessageDialog *dialog;

  type_and_apply (row, "API Key", "sk-doomed");
  ITERATE_UNTIL (natter_provider_row_has_key (row), 5000);

  /* Cancelled: nothing happens. */
  click (GTK_WIDGET (row), "Remove Provider");
  ITERATE_UNTIL ((dialog = find_message_dialog ()) != NULL, 2000);
  adw_message_dialog_response (dialog, "cancel");
  natter_test_iterate_for (50);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->providers)), ==, 1);

  click (GTK_WIDGET (row), "Remove Provider");
  ITERATE_UNTIL ((dialog = find_message_dialog ()) != NULL, 2000);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Remove “Doomed”?");
  adw_message_dialog_response (dialog, "remove");
  ITERATE_UNTIL (shows (GTK_WIDGET (f->window), "“Doomed” removed"), 5000);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->providers)), ==, 0);
  g_assert_cmpuint (n_provider_rows (f), ==, 0);
  stored = g_settings_get_value (f->settings, "providers");
  g_assert_cmpuint (g_variant_n_children (stored), ==, 0);
  key = stored_key (f, provider);
  g_assert_null (key);
}

/* --- Settings ---------------------------------------------------------------- */

static void
test_keyring_warning (Fixture       *f,
                      gconstpointer  data)
{
  g_assert_cmpint (shows (GTK_WIDGET (f->window), "No keyring is available"), ==,
                   !natter_key_store_is_persistent (f->keys));
}

static void
test_temperature (Fixture       *f,
                  gconstpointer  data)
{
  GtkWidget *provider_default = setting_widget (f, "Provider’s Default Temperature", GTK_TYPE_SWITCH);
  GtkWidget *spin = setting_widget (f, "Temperature", GTK_TYPE_SPIN_BUTTON);

  /* The default, -1, leaves it to the provider. */
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (provider_default)));
  g_assert_false (gtk_widget_is_sensitive (spin));

  gtk_switch_set_active (GTK_SWITCH (provider_default), FALSE);
  g_assert_true (gtk_widget_is_sensitive (spin));
  g_assert_cmpfloat_with_epsilon (g_settings_get_double (f->settings, "temperature"), 1.0, 1e-9);

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 0.7);
  g_assert_cmpfloat_with_epsilon (g_settings_get_double (f->settings, "temperature"), 0.7, 1e-9);
  gtk_spin_button_spin (GTK_SPIN_BUTTON (spin), GTK_SPIN_STEP_BACKWARD, 0);
  g_assert_cmpfloat (g_settings_get_double (f->settings, "temperature"), ==, 0.6);

  gtk_switch_set_active (GTK_SWITCH (provider_default), TRUE);
  g_assert_cmpfloat (g_settings_get_double (f->settings, "temperature"), ==, -1);
  /* The value shown stays, for when the switch is turned off again. */
  g_assert_cmpfloat_with_epsilon (gtk_spin_button_get_value (GTK_SPIN_BUTTON (spin)), 0.6, 1e-9);

  g_settings_set_double (f->settings, "temperature", 1.5);
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (provider_default)));
  g_assert_cmpfloat_with_epsilon (gtk_spin_button_get_value (GTK_SPIN_BUTTON (spin)), 1.5, 1e-9);
}

static void
test_numbers_and_prompt (Fixture       *f,
                         gconstpointer  data)
{
  GtkWidget *max_tokens = setting_widget (f, "Longest Answer", GTK_TYPE_SPIN_BUTTON);
  GtkWidget *stall = setting_widget (f, "Stall Timeout", GTK_TYPE_SPIN_BUTTON);
  GtkWidget *retries = setting_widget (f, "Retries", GTK_TYPE_SPIN_BUTTON);
  GtkWidget *prompt = find_widget (GTK_WIDGET (f->window), GTK_TYPE_TEXT_VIEW, NULL);
  g_autofree char *system_prompt = NULL;

  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (stall)), ==, 60);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (retries)), ==, 3);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (max_tokens)), ==, 0);

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (stall), 120);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (retries), 5);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (max_tokens), 2048);
  g_assert_cmpuint (g_settings_get_uint (f->settings, "stall-timeout"), ==, 120);
  g_assert_cmpuint (g_settings_get_uint (f->settings, "retries"), ==, 5);
  g_assert_cmpuint (g_settings_get_uint (f->settings, "max-tokens"), ==, 2048);

  g_settings_set_uint (f->settings, "stall-timeout", 30);
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (stall)), ==, 30);

  g_assert_nonnull (prompt);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (prompt)), "Answer briefly.\nIn French.", -1);
  system_prompt = g_settings_get_string (f->settings, "system-prompt");
  g_assert_cmpstr (system_prompt, ==, "Answer briefly.\nIn French.");
}

static void
test_color_scheme (Fixture       *f,
                   gconstpointer  data)
{
  GtkWidget *row = find_widget (GTK_WIDGET (f->window), ADW_TYPE_COMBO_ROW, "Style");
  AdwStyleManager *style = adw_style_manager_get_default ();

  g_assert_nonnull (row);
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (row)), ==, 0);

  adw_combo_row_set_selected (ADW_COMBO_ROW (row), 2);
  g_assert_cmpint (g_settings_get_enum (f->settings, "color-scheme"), ==, 2);
  natter_preferences_window_apply_color_scheme (f->settings);
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_FORCE_DARK);

  adw_combo_row_set_selected (ADW_COMBO_ROW (row), 1);
  g_assert_cmpint (g_settings_get_enum (f->settings, "color-scheme"), ==, 1);
  natter_preferences_window_apply_color_scheme (f->settings);
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_FORCE_LIGHT);

  g_settings_reset (f->settings, "color-scheme");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (row)), ==, 0);
  natter_preferences_window_apply_color_scheme (f->settings);
  g_assert_cmpint (adw_style_manager_get_color_scheme (style), ==, ADW_COLOR_SCHEME_DEFAULT);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  /* Rows open and toasts appear at once. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  g_test_add_func ("/natter/url-check/hint", test_url_hint);
  g_test_add_func ("/natter/url-check/fix", test_url_fix);
  g_test_add_func ("/natter/url-check/insecure", test_url_insecure);

#define ADD(path, func) \
  g_test_add ("/natter/preferences/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("opens-empty", test_opens_empty);
  ADD ("add-preset", test_add_preset);
  ADD ("rows-follow-list", test_rows_follow_list);
  ADD ("text-not-markup", test_text_not_markup);
  ADD ("edit-name-and-model", test_edit_name_and_model);
  ADD ("base-url-hint", test_base_url_hint);
  ADD ("insecure-warning", test_insecure_warning);
  ADD ("key-stored-not-in-settings", test_key_stored_not_in_settings);
  ADD ("key-looked-up-and-removed", test_key_looked_up_and_removed);
  ADD ("test-connection", test_connection);
  ADD ("remove-provider", test_remove_provider);
  ADD ("keyring-warning", test_keyring_warning);
  ADD ("temperature", test_temperature);
  ADD ("numbers-and-prompt", test_numbers_and_prompt);
  ADD ("color-scheme", test_color_scheme);

  return g_test_run ();
}
