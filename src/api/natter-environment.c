/* natter-environment.c — the provider set in the environment
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Natter's own variables come first; the OpenAI and OpenRouter ones are
 * honoured so that a shell already set up for other tools works as it is.
 */
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
