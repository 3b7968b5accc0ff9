/* natter-url-check.c — what to tell the user about a base URL they type
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions, without GTK, so that every case is easy to test. The
 * provider row shows their sentences under the Base URL entry as the user
 * types, and saves only what natter_url_check_fix() returns.
 */
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "natter-client.h"
#include "natter-url-check.h"

#define CHAT_COMPLETIONS "/chat/completions"

/* Spaces come with copy and paste; trailing slashes name the same endpoint. */
static char *
trim (const char *base_url)
{
  g_autofree char *url = g_strstrip (g_strdup (base_url != NULL ? base_url : ""));
  gsize len = strlen (url);

  while (len > 0 && url[len - 1] == '/')
    url[--len] = '\0';
  return g_steal_pointer (&url);
}

static GUri *
parse_http (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;

  if (host == NULL || *host == '\0' ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    return NULL;
  return g_steal_pointer (&uri);
}

static gboolean
is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);

  /* GInetAddress knows all of 127.0.0.0/8 and ::1; names other than
   * "localhost" may resolve anywhere. */
  if (address != NULL)
    return g_inet_address_get_is_loopback (address);
  return g_ascii_strcasecmp (host, "localhost") == 0 || g_ascii_strcasecmp (host, "localhost.") == 0;
}

/**
 * natter_url_check_fix:
 * @base_url: what the user typed
 *
 * Returns: (transfer full): @base_url without surrounding spaces, trailing
 *   slashes or a trailing "/chat/completions", which Natter adds itself
 */
char *
natter_url_check_fix (const char *base_url)
{
  g_autofree char *url = trim (base_url);

  if (g_str_has_suffix (url, CHAT_COMPLETIONS) && strlen (url) > strlen (CHAT_COMPLETIONS))
    {
      g_autofree char *shorter = g_strndup (url, strlen (url) - strlen (CHAT_COMPLETIONS));
      return trim (shorter);
    }
  return g_steal_pointer (&url);
}

/**
 * natter_url_check_hint:
 * @base_url: what the user typed
 *
 * Returns: (transfer full) (nullable): a sentence about what is wrong with
 *   @base_url, or %NULL when it looks right
 */
char *
natter_url_check_hint (const char *base_url)
{
  g_autofree char *typed = g_strstrip (g_strdup (base_url != NULL ? base_url : ""));
  g_autofree char *url = trim (base_url);
  g_autofree char *fixed = NULL;
  g_autoptr(GError) error = NULL;

  if (*typed == '\0')
    return g_strdup (_("Enter the address of the provider’s API, such as https://example.com/v1."));
  /* The client's own check, so that what passes here is what it accepts. */
  if (!natter_client_check_base_url (typed, &error))
    return g_strdup (error->message);

  fixed = natter_url_check_fix (url);
  if (g_strcmp0 (fixed, url) != 0)
    /* Translators: %s is the base URL without "/chat/completions" */
    return g_strdup_printf (_("Natter adds “/chat/completions” itself: the base URL is probably %s"), fixed);
  return NULL;
}

/**
 * natter_url_is_insecure:
 * @base_url: a base URL
 *
 * Returns: %TRUE if requests to @base_url, and the API key in them, would
 *   cross a network unencrypted: plain http to anything but this computer
 */
gboolean
natter_url_is_insecure (const char *base_url)
{
  g_autofree char *url = trim (base_url);
  g_autoptr(GUri) uri = parse_http (url);

  if (uri == NULL)
    return FALSE;
  return g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") == 0 && !is_loopback (g_uri_get_host (uri));
}
