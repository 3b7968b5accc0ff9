/* natter-error-text.c — what a failed answer tells the user to do
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The error's own message says what happened, with the provider's words;
 * the hint says what to do about it, in the terms of this app.
 */
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "natter-api-error.h"
#include "natter-error-text.h"

static char *
not_found_hint (const char *base_url)
{
  g_autofree char *trimmed = g_strdup (base_url != NULL ? base_url : "");

  g_strchomp (trimmed);
  while (g_str_has_suffix (trimmed, "/"))
    trimmed[strlen (trimmed) - 1] = '\0';
  if (g_str_has_suffix (trimmed, "/chat/completions"))
    return g_strdup (_("The base URL should end before “/chat/completions”; Natter adds that part itself."));
  return g_strdup (_("Check the base URL and the model name."));
}

/**
 * natter_error_text_hint:
 * @error: why an answer failed
 * @base_url: (nullable): the provider's base URL, for a more precise hint
 *
 * Returns: (transfer full) (nullable): a sentence saying what the user can
 *   do, or %NULL when there is nothing to add
 */
char *
natter_error_text_hint (const GError *error,
                        const char   *base_url)
{
  if (error->domain != NATTER_API_ERROR)
    return NULL;

  switch ((NatterApiError) error->code)
    {
    case NATTER_API_ERROR_UNAUTHORIZED:
    case NATTER_API_ERROR_FORBIDDEN:
      return g_strdup (_("Check the API key, and that it may use this model."));
    case NATTER_API_ERROR_PAYMENT_REQUIRED:
      return g_strdup (_("Add credits to the account with the provider, then retry."));
    case NATTER_API_ERROR_NOT_FOUND:
      return not_found_hint (base_url);
    case NATTER_API_ERROR_BAD_REQUEST:
      return g_strdup (_("The provider did not accept the request; try another model or shorter settings."));
    case NATTER_API_ERROR_RATE_LIMITED:
      return g_strdup (_("The provider is busy or the account reached its limit. Wait a moment, then retry."));
    case NATTER_API_ERROR_SERVER:
    case NATTER_API_ERROR_PROVIDER:
      return g_strdup (_("The problem is on the provider’s side. Retry in a moment."));
    case NATTER_API_ERROR_STALLED:
      return g_strdup (_("The connection went quiet. Retry, or pick a faster model."));
    case NATTER_API_ERROR_TRUNCATED:
      return g_strdup (_("The answer was cut off. Retry to get it whole."));
    case NATTER_API_ERROR_NETWORK:
      return g_strdup (_("Check the network connection and the base URL."));
    case NATTER_API_ERROR_PROTOCOL:
      return g_strdup (_("The server does not speak the OpenAI chat API here; check the base URL, or sign in to the network if it needs it."));
    default:
      return NULL;
    }
}
