/* test-error-text.c — what a failed answer tells the user to do
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>

#include "natter-api-error.h"
#include "natter-error-text.h"

static void
assert_hint (int         code,
             const char *base_url,
             const char *expected)
{
  g_autoptr(GError) error = g_error_new_literal (NATTER_API_ERROR, code, "x");
  g_autofree char *hint = natter_error_text_hint (error, base_url);

  g_assert_nonnull (hint);
  g_assert_nonnull (strstr (hint, expected));
}

static void
test_every_code_has_a_hint (void)
{
  for (int code = NATTER_API_ERROR_UNAUTHORIZED; code <= NATTER_API_ERROR_NETWORK; code++)
    assert_hint (code, "https://openrouter.ai/api/v1", "");
}

static void
test_key_and_credits (void)
{
  assert_hint (NATTER_API_ERROR_UNAUTHORIZED, NULL, "API key");
  assert_hint (NATTER_API_ERROR_FORBIDDEN, NULL, "API key");
  assert_hint (NATTER_API_ERROR_PAYMENT_REQUIRED, NULL, "credits");
}

static void
test_not_found_names_the_url_mistake (void)
{
  assert_hint (NATTER_API_ERROR_NOT_FOUND, "https://api.openai.com/v1", "base URL and the model");
  assert_hint (NATTER_API_ERROR_NOT_FOUND, "https://api.openai.com/v1/chat/completions", "/chat/completions");
  assert_hint (NATTER_API_ERROR_NOT_FOUND, "https://api.openai.com/v1/chat/completions/ ", "/chat/completions");
}

static void
test_cancelled_has_no_hint (void)
{
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Stopped");
  g_autofree char *hint = natter_error_text_hint (error, NULL);

  g_assert_null (hint);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/natter/error-text/every-code-has-a-hint", test_every_code_has_a_hint);
  g_test_add_func ("/natter/error-text/key-and-credits", test_key_and_credits);
  g_test_add_func ("/natter/error-text/not-found-names-the-url-mistake", test_not_found_names_the_url_mistake);
  g_test_add_func ("/natter/error-text/cancelled-has-no-hint", test_cancelled_has_no_hint);

  return g_test_run ();
}
