/* test-provider-list.c — providers kept in GSettings, never their keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "natter-provider-list.h"

static GSettings *
new_settings (void)
{
  GSettings *settings = natter_settings_new_if_installed ();

  g_assert_nonnull (settings);
  g_settings_reset (settings, "providers");
  g_settings_reset (settings, "current-provider");
  return settings;
}

static void
test_from_preset (void)
{
  g_autoptr(NatterProvider) openrouter = natter_provider_new_from_preset ("openrouter");
  g_autoptr(NatterProvider) ollama = natter_provider_new_from_preset ("ollama");
  g_autoptr(NatterProvider) custom = natter_provider_new_from_preset ("custom");

  g_assert_cmpstr (natter_provider_get_base_url (openrouter), ==, "https://openrouter.ai/api/v1");
  g_assert_true (natter_provider_needs_key (openrouter));
  g_assert_cmpstr (natter_provider_get_base_url (ollama), ==, "http://localhost:11434/v1");
  g_assert_false (natter_provider_needs_key (ollama));
  g_assert_cmpstr (natter_provider_get_preset (custom), ==, "custom");
  g_assert_null (natter_provider_new_from_preset ("nonsense"));
  /* Each new provider gets its own id, so two of one preset can coexist. */
  g_assert_cmpstr (natter_provider_get_id (openrouter), !=, natter_provider_get_id (ollama));
}

static void
test_saved_and_loaded (void)
{
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(NatterProviderList) list = natter_provider_list_new (settings);
  g_autoptr(NatterProviderList) reloaded = NULL;
  g_autoptr(NatterProvider) work = natter_provider_new (NULL, "Work", "https://llm.example.com/v1",
                                                        "custom", "big-model");
  NatterProvider *found;

  natter_provider_list_add (list, work);
  natter_provider_set_model (work, "bigger-model");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);

  reloaded = natter_provider_list_new (settings);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reloaded)), ==, 1);
  found = natter_provider_list_find (reloaded, "work");
  g_assert_nonnull (found);
  g_assert_cmpstr (natter_provider_get_id (found), ==, natter_provider_get_id (work));
  g_assert_cmpstr (natter_provider_get_base_url (found), ==, "https://llm.example.com/v1");
  g_assert_cmpstr (natter_provider_get_model (found), ==, "bigger-model");
  g_assert_true (natter_provider_list_find (reloaded, natter_provider_get_id (work)) == found);
  g_assert_null (natter_provider_list_find (reloaded, "Home"));
}

static void
test_remove_and_current (void)
{
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(NatterProviderList) list = natter_provider_list_new (settings);
  g_autoptr(NatterProvider) a = natter_provider_new_from_preset ("openai");
  g_autoptr(NatterProvider) b = natter_provider_new_from_preset ("mistral");

  g_assert_null (natter_provider_list_get_current (list));
  natter_provider_list_add (list, a);
  natter_provider_list_add (list, b);
  g_assert_true (natter_provider_list_get_current (list) == a);
  natter_provider_list_set_current (list, b);
  g_assert_true (natter_provider_list_get_current (list) == b);

  natter_provider_list_remove (list, b);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);
  g_assert_true (natter_provider_list_get_current (list) == a);
}

static void
test_no_key_in_settings (void)
{
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(NatterProviderList) list = natter_provider_list_new (settings);
  g_autoptr(NatterProvider) provider = natter_provider_new_from_preset ("openrouter");
  g_autoptr(GVariant) stored = NULL;
  g_autofree char *printed = NULL;

  natter_provider_list_add (list, provider);
  stored = g_settings_get_value (settings, "providers");
  printed = g_variant_print (stored, FALSE);
  g_assert_null (strstr (printed, "key"));
  g_assert_nonnull (strstr (printed, "openrouter.ai"));
}

static void
test_last_model_per_provider (void)
{
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(NatterProviderList) list = natter_provider_list_new (settings);

  g_settings_reset (settings, "last-models");
  g_assert_null (natter_provider_list_dup_last_model (list, "a"));
  natter_provider_list_remember_model (list, "a", "model-1");
  natter_provider_list_remember_model (list, "b", "model-2");
  natter_provider_list_remember_model (list, "a", "model-3");

  {
    g_autofree char *a = natter_provider_list_dup_last_model (list, "a");
    g_autofree char *b = natter_provider_list_dup_last_model (list, "b");

    g_assert_cmpstr (a, ==, "model-3");
    g_assert_cmpstr (b, ==, "model-2");
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/natter/provider-list/from-preset", test_from_preset);
  g_test_add_func ("/natter/provider-list/saved-and-loaded", test_saved_and_loaded);
  g_test_add_func ("/natter/provider-list/remove-and-current", test_remove_and_current);
  g_test_add_func ("/natter/provider-list/no-key-in-settings", test_no_key_in_settings);
  g_test_add_func ("/natter/provider-list/last-model-per-provider", test_last_model_per_provider);

  return g_test_run ();
}
