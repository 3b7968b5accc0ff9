/* natter-provider-preset.c — the providers Natter knows out of the box
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "natter-provider-preset.h"

/* Default models are small, cheap and widely available on each provider, so
 * that a first message works before the user has picked anything. */
static const NatterProviderPreset presets[] = {
  { "openrouter", N_("OpenRouter"), "https://openrouter.ai/api/v1", "openai/gpt-4o-mini", TRUE },
  { "openai", N_("OpenAI"), "https://api.openai.com/v1", "gpt-4o-mini", TRUE },
  { "mistral", N_("Mistral"), "https://api.mistral.ai/v1", "mistral-small-latest", TRUE },
  { "groq", N_("Groq"), "https://api.groq.com/openai/v1", "llama-3.1-8b-instant", TRUE },
  { "ollama", N_("Ollama (local)"), "http://localhost:11434/v1", "llama3.2", FALSE },
  { "llama-cpp", N_("llama.cpp server (local)"), "http://localhost:8080/v1", NULL, FALSE },
};

/**
 * natter_provider_preset_get_all:
 * @n_presets: (out): the number of presets
 *
 * Returns: (transfer none) (array length=n_presets): the presets
 */
const NatterProviderPreset *
natter_provider_preset_get_all (guint *n_presets)
{
  *n_presets = G_N_ELEMENTS (presets);
  return presets;
}

static gboolean
is_loopback (const char *host)
{
  return g_strcmp0 (host, "localhost") == 0 || g_str_has_prefix (host, "127.") ||
         g_strcmp0 (host, "::1") == 0 || g_strcmp0 (host, "[::1]") == 0;
}

static gboolean
same_endpoint (GUri *a,
               GUri *b)
{
  const char *host_a = g_uri_get_host (a);
  const char *host_b = g_uri_get_host (b);

  /* A local server is recognised by its port wherever loopback is spelt. */
  if (is_loopback (host_a) && is_loopback (host_b))
    return g_uri_get_port (a) == g_uri_get_port (b);
  return g_ascii_strcasecmp (host_a, host_b) == 0;
}

/**
 * natter_provider_preset_find_by_url:
 * @base_url: a base URL
 *
 * Returns: (transfer none) (nullable): the preset of the same host (or of
 *   the same loopback port), or %NULL for a custom endpoint
 */
const NatterProviderPreset *
natter_provider_preset_find_by_url (const char *base_url)
{
  g_autoptr(GUri) uri = g_uri_parse (base_url, SOUP_HTTP_URI_FLAGS, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    {
      g_autoptr(GUri) preset_uri = g_uri_parse (presets[i].base_url, SOUP_HTTP_URI_FLAGS, NULL);

      if (same_endpoint (uri, preset_uri))
        return &presets[i];
    }
  return NULL;
}
