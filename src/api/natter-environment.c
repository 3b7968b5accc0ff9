/* natter-environment.c — the provider set in the environment
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Natter's own variables come first; the OpenAI and OpenRouter ones are
 * honoured so that a shell already set up for other tools works as it is.
 */
#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "natter-environment.h"

/* The first variable that is set and not empty wins. */
static char *
first_set (const char * const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *value = g_getenv (names[i]);

      if (value != NULL && *value != '\0')
        return g_strdup (value);
    }
  return NULL;
}

/* Returns: (transfer full) (nullable): $NATTER_BASE_URL or $OPENAI_BASE_URL */
char *
natter_environment_get_base_url (void)
{
  return first_set ((const char *[]) { "NATTER_BASE_URL", "OPENAI_BASE_URL", NULL });
}

/* Returns: (transfer full) (nullable): $NATTER_API_KEY, $OPENROUTER_API_KEY
 *   or $OPENAI_API_KEY */
char *
natter_environment_get_api_key (void)
{
  return first_set ((const char *[]) { "NATTER_API_KEY", "OPENROUTER_API_KEY", "OPENAI_API_KEY", NULL });
}

/* Returns: (transfer full) (nullable): $NATTER_MODEL */
char *
natter_environment_get_model (void)
{
  return first_set ((const char *[]) { "NATTER_MODEL", NULL });
}

/**
 * natter_environment_init_i18n:
 *
 * Sets the locale from the environment and binds Natter's translations.
 * They are looked up in $NATTER_LOCALEDIR when it is set, so that a build
 * tree (whose po/ folder holds the compiled catalogs) or a staged install
 * can be run in another language; in the installed locale folder otherwise.
 */
void
natter_environment_init_i18n (void)
{
  const char *localedir = g_getenv ("NATTER_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
