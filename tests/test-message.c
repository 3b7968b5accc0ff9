/* test-message.c — NatterMessage
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What a view relies on: appends arrive as pieces with their offsets, and
 * "content" is notified only when the text is replaced as a whole.
 */
#include <string.h>

#include "natter-api-error.h"
#include "natter-message.h"

typedef struct {
  GArray  *offsets;
  GString *pieces;
  GString *notified;
} Recorder;

static void
appended_cb (NatterMessage *message,
             guint          offset,
             const char    *text,
             Recorder      *r)
{
  g_array_append_val (r->offsets, offset);
  g_string_append (r->pieces, text);
  g_string_append_c (r->pieces, '|');
}

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           Recorder   *r)
{
  g_string_append (r->notified, pspec->name);
  g_string_append_c (r->notified, ' ');
}

static void
recorder_init (Recorder      *r,
               NatterMessage *message,
               const char    *signal_name)
{
  r->offsets = g_array_new (FALSE, FALSE, sizeof (guint));
  r->pieces = g_string_new (NULL);
  r->notified = g_string_new (NULL);
  g_signal_connect (message, signal_name, G_CALLBACK (appended_cb), r);
  g_signal_connect (message, "notify", G_CALLBACK (notify_cb), r);
}

static void
recorder_clear (Recorder *r)
{
  g_array_unref (r->offsets);
  g_string_free (r->pieces, TRUE);
  g_string_free (r->notified, TRUE);
}

static void
test_defaults (void)
{
  g_autoptr(NatterMessage) message = natter_message_new (NATTER_ROLE_USER, "Hello");
  NatterRole role;
  g_autofree char *content = NULL;
  gint64 ttft_us;
  guint retry_delay_ms;

  g_object_get (message, "role", &role, "content", &content, "ttft-us", &ttft_us,
                "retry-delay-ms", &retry_delay_ms, NULL);
  g_assert_cmpint (role, ==, NATTER_ROLE_USER);
  g_assert_cmpstr (content, ==, "Hello");
  g_assert_cmpint (ttft_us, ==, -1);
  g_assert_cmpuint (retry_delay_ms, ==, 0);

  g_assert_cmpstr (natter_message_get_content (message), ==, "Hello");
  g_assert_cmpuint (natter_message_get_content_length (message), ==, 5);
  g_assert_cmpstr (natter_message_get_reasoning (message), ==, "");
  g_assert_cmpint (natter_message_get_state (message), ==, NATTER_MESSAGE_STATE_COMPLETE);
  g_assert_null (natter_message_get_error (message));
  g_assert_null (natter_message_get_model (message));
  g_assert_null (natter_message_get_finish_reason (message));
  g_assert_cmpint (natter_message_get_duration_us (message), ==, -1);
  g_assert_cmpint (natter_message_get_prompt_tokens (message), ==, -1);
  g_assert_cmpint (natter_message_get_completion_tokens (message), ==, -1);
}

static void
test_new_without_content (void)
{
  g_autoptr(NatterMessage) message = natter_message_new (NATTER_ROLE_ASSISTANT, NULL);

  g_assert_cmpint (natter_message_get_role (message), ==, NATTER_ROLE_ASSISTANT);
  g_assert_cmpstr (natter_message_get_content (message), ==, "");
  g_assert_cmpuint (natter_message_get_content_length (message), ==, 0);
}

static void
test_role_is_construct_only (void)
{
  g_autoptr(NatterMessage) message = natter_message_new (NATTER_ROLE_SYSTEM, NULL);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (message), "role");
  GParamSpec *content = g_object_class_find_property (G_OBJECT_GET_CLASS (message), "content");

  g_assert_true (pspec->flags & G_PARAM_CONSTRUCT_ONLY);
  g_assert_false (content->flags & G_PARAM_WRITABLE);
  g_assert_true (content->flags & G_PARAM_EXPLICIT_NOTIFY);
  g_assert_cmpint (natter_message_get_role (message), ==, NATTER_ROLE_SYSTEM);
}

static void
test_append_content (void)
{
  g_autoptr(NatterMessage) message = natter_message_new (NATTER_ROLE_ASSISTANT, NULL);
  Recorder r;

  recorder_init (&r, message, "content-appended");
  natter_message_append_content (message, "Hé");
  natter_message_append_content (message, "");
  natter_message_append_content (message, "llo");
  natter_message_append_content (message, ", world");

  g_assert_cmpstr (natter_message_get_content (message), ==, "Héllo, world");
  g_assert_cmpuint (natter_message_get_content_length (message), ==, strlen ("Héllo, world"));
  /* Offsets are in bytes: "Hé" is three. The empty piece is not signalled. */
  g_assert_cmpuint (r.offsets->len, ==, 3);
  g_assert_cmpuint (g_array_index (r.offsets, guint, 0), ==, 0);
  g_assert_cmpuint (g_array_index (r.offsets, guint, 1), ==, 3);
  g_assert_cmpuint (g_array_index (r.offsets, guint, 2), ==, 6);
  g_assert_cmpstr (r.pieces->str, ==, "Hé|llo|, world|");
  /* Never "content" per piece: a binding would re-read the whole text. */
  g_assert_cmpstr (r.notified->str, ==, "");
  recorder_clear (&r);
}

static void
count_cb (guint *counter)
{
  (*counter)++;
}

static void
test_append_reasoning (void)
{
  g_autoptr(NatterMessage) message = natter_message_new (NATTER_ROLE_ASSISTANT, "Answer");
  Recorder r;
  guint n_content_appended = 0;

  recorder_init (&r, message, "reasoning-appended");
  g_signal_connect_swapped (message, "content-appended", G_CALLBACK (count_cb),
                            &n_content_appended);
  natter_message_append_reasoning (message, "Let me ");
  natter_message_append_reasoning (message, "think.");

  g_assert_cmpstr (natter_message_get_reasoning (message), ==, "Let me think.");
  g_assert_cmpstr (natter_message_get_content (message), ==, "Answer");
  g_assert_cmpuint (r.offsets->len, ==, 2);
  g_assert_cmpuint (g_array_index (r.offsets, guint, 0), ==, 0);
  g_assert_cmpuint (g_array_index (r.offsets, guint, 1), ==, 7);
  g_assert_cmpstr (r.pieces->str, ==, "Let me |think.|");
  g_assert_cmpstr (r.notified->str, ==, "");
  g_assert_cmpuint (n_content_appended, ==, 0);
  recorder_clear (&r);
}

static void
test_set_content_notifies (void)
{
  g_autoptr(NatterMessage) message = natter_message_new (NATTER_ROLE_USER, "Draft");
  Recorder r;

  recorder_init (&r, message, "content-appended");
  natter_message_set_content (message, "Edited");
  natter_message_set_content (message, "Edited");
  g_assert_cmpstr (r.notified->str, ==, "content ");
  g_assert_cmpstr (natter_message_get_content (message), ==, "Edited");
  g_assert_cmpuint (r.offsets->len, ==, 0);

  /* Appending after a replacement continues from the new end. */
  natter_message_append_content (message, "!");
  g_assert_cmpuint (g_array_index (r.offsets, guint, 0), ==, 6);

  natter_message_set_content (message, NULL);
  g_assert_cmpstr (natter_message_get_content (message), ==, "");
  g_assert_cmpstr (r.notified->str, ==, "content content ");
  natter_message_set_reasoning (message, "Loaded");
  g_assert_cmpstr (r.notified->str, ==, "content content reasoning ");
  recorder_clear (&r);
}

static void
test_state_and_error (void)
{
  g_autoptr(NatterMessage) message = natter_message_new (NATTER_ROLE_ASSISTANT, NULL);
  g_autoptr(GError) error = g_error_new_literal (NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED,
                                                 "Check the API key.");
  g_autoptr(GError) same = g_error_copy (error);
  g_autoptr(GError) read_back = NULL;
  NatterMessageState state;
  Recorder r;

  recorder_init (&r, message, "content-appended");
  natter_message_set_state (message, NATTER_MESSAGE_STATE_STREAMING);
  natter_message_set_state (message, NATTER_MESSAGE_STATE_STREAMING);
  natter_message_set_error (message, error);
  natter_message_set_error (message, same);
  natter_message_set_state (message, NATTER_MESSAGE_STATE_FAILED);
  g_assert_cmpstr (r.notified->str, ==, "state error state ");

  g_assert_cmpint (natter_message_get_state (message), ==, NATTER_MESSAGE_STATE_FAILED);
  g_assert_error (natter_message_get_error (message), NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED);
  g_assert_true (natter_message_get_error (message) != error);
  g_object_get (message, "error", &read_back, "state", &state, NULL);
  g_assert_error (read_back, NATTER_API_ERROR, NATTER_API_ERROR_UNAUTHORIZED);
  g_assert_cmpstr (read_back->message, ==, "Check the API key.");
  g_assert_cmpint (state, ==, NATTER_MESSAGE_STATE_FAILED);

  natter_message_set_error (message, NULL);
  g_assert_null (natter_message_get_error (message));
  g_assert_cmpstr (r.notified->str, ==, "state error state error ");
  recorder_clear (&r);
}

static void
test_statistics (void)
{
  g_autoptr(NatterMessage) message = natter_message_new (NATTER_ROLE_ASSISTANT, NULL);
  Recorder r;
  gint64 completion_tokens;
  g_autofree char *model = NULL;

  recorder_init (&r, message, "content-appended");
  natter_message_set_model (message, "natter-fake-1");
  natter_message_set_model (message, "natter-fake-1");
  natter_message_set_finish_reason (message, "stop");
  natter_message_set_ttft_us (message, 1200);
  natter_message_set_duration_us (message, 98000);
  natter_message_set_prompt_tokens (message, 10);
  natter_message_set_completion_tokens (message, 5);
  natter_message_set_completion_tokens (message, 5);
  natter_message_set_retry_delay_ms (message, 800);
  natter_message_set_retry_delay_ms (message, 0);
  g_assert_cmpstr (r.notified->str, ==,
                   "model finish-reason ttft-us duration-us prompt-tokens completion-tokens "
                   "retry-delay-ms retry-delay-ms ");

  g_assert_cmpstr (natter_message_get_finish_reason (message), ==, "stop");
  g_assert_cmpint (natter_message_get_ttft_us (message), ==, 1200);
  g_assert_cmpint (natter_message_get_duration_us (message), ==, 98000);
  g_assert_cmpint (natter_message_get_prompt_tokens (message), ==, 10);
  g_object_get (message, "completion-tokens", &completion_tokens, "model", &model, NULL);
  g_assert_cmpint (completion_tokens, ==, 5);
  g_assert_cmpstr (model, ==, "natter-fake-1");

  /* Set through GObject, as a binding or a loader would. */
  g_object_set (message, "prompt-tokens", (gint64) -1, "retry-delay-ms", 300, NULL);
  g_assert_cmpint (natter_message_get_prompt_tokens (message), ==, -1);
  g_assert_cmpuint (natter_message_get_retry_delay_ms (message), ==, 300);
  recorder_clear (&r);
}

static void
test_enums (void)
{
  g_autoptr(GEnumClass) roles = g_type_class_ref (NATTER_TYPE_ROLE);
  g_autoptr(GEnumClass) states = g_type_class_ref (NATTER_TYPE_MESSAGE_STATE);

  g_assert_cmpstr (natter_role_to_string (NATTER_ROLE_SYSTEM), ==, "system");
  g_assert_cmpstr (natter_role_to_string (NATTER_ROLE_USER), ==, "user");
  g_assert_cmpstr (natter_role_to_string (NATTER_ROLE_ASSISTANT), ==, "assistant");

  g_assert_true (G_TYPE_IS_ENUM (NATTER_TYPE_ROLE));
  g_assert_cmpuint (roles->n_values, ==, 3);
  g_assert_cmpstr (g_enum_get_value (roles, NATTER_ROLE_ASSISTANT)->value_nick, ==, "assistant");
  g_assert_cmpint (g_enum_get_value_by_nick (roles, "user")->value, ==, NATTER_ROLE_USER);

  g_assert_true (G_TYPE_IS_ENUM (NATTER_TYPE_MESSAGE_STATE));
  g_assert_cmpuint (states->n_values, ==, 5);
  g_assert_cmpstr (g_enum_get_value (states, NATTER_MESSAGE_STATE_INTERRUPTED)->value_nick, ==,
                   "interrupted");
  g_assert_cmpstr (g_enum_get_value (states, NATTER_MESSAGE_STATE_STOPPED)->value_name, ==,
                   "NATTER_MESSAGE_STATE_STOPPED");
}

static void
test_finalized (void)
{
  NatterMessage *message = natter_message_new (NATTER_ROLE_ASSISTANT, "x");
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "failed");

  natter_message_append_reasoning (message, "y");
  natter_message_set_error (message, error);
  natter_message_set_model (message, "m");
  g_assert_finalize_object (message);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/natter/message/defaults", test_defaults);
  g_test_add_func ("/natter/message/new-without-content", test_new_without_content);
  g_test_add_func ("/natter/message/role-is-construct-only", test_role_is_construct_only);
  g_test_add_func ("/natter/message/append-content", test_append_content);
  g_test_add_func ("/natter/message/append-reasoning", test_append_reasoning);
  g_test_add_func ("/natter/message/set-content-notifies", test_set_content_notifies);
  g_test_add_func ("/natter/message/state-and-error", test_state_and_error);
  g_test_add_func ("/natter/message/statistics", test_statistics);
  g_test_add_func ("/natter/message/enums", test_enums);
  g_test_add_func ("/natter/message/finalized", test_finalized);

  return g_test_run ();
}
