/* natter-message.h — one message of a conversation, growing as it streams
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  NATTER_ROLE_SYSTEM,
  NATTER_ROLE_USER,
  NATTER_ROLE_ASSISTANT,
} NatterRole;

#define NATTER_TYPE_ROLE (natter_role_get_type ())
GType       natter_role_get_type  (void) G_GNUC_CONST;
const char *natter_role_to_string (NatterRole role);

typedef enum {
  NATTER_MESSAGE_STATE_COMPLETE,    /* written by the user, or answered in full */
  NATTER_MESSAGE_STATE_STREAMING,   /* the answer is arriving */
  NATTER_MESSAGE_STATE_STOPPED,     /* the user pressed Stop; the partial text stands */
  NATTER_MESSAGE_STATE_FAILED,      /* see the error */
  NATTER_MESSAGE_STATE_INTERRUPTED, /* was streaming when Natter quit or crashed */
} NatterMessageState;

#define NATTER_TYPE_MESSAGE_STATE (natter_message_state_get_type ())
GType natter_message_state_get_type (void) G_GNUC_CONST;

#define NATTER_TYPE_MESSAGE (natter_message_get_type ())
G_DECLARE_FINAL_TYPE (NatterMessage, natter_message, NATTER, MESSAGE, GObject)

NatterMessage     *natter_message_new                   (NatterRole          role,
                                                         const char         *content);
NatterRole         natter_message_get_role              (NatterMessage      *self);

const char        *natter_message_get_content           (NatterMessage      *self);
gsize              natter_message_get_content_length    (NatterMessage      *self);
void               natter_message_set_content           (NatterMessage      *self,
                                                         const char         *content);
void               natter_message_append_content        (NatterMessage      *self,
                                                         const char         *text);
const char        *natter_message_get_reasoning         (NatterMessage      *self);
void               natter_message_set_reasoning         (NatterMessage      *self,
                                                         const char         *reasoning);
void               natter_message_append_reasoning      (NatterMessage      *self,
                                                         const char         *text);

NatterMessageState natter_message_get_state             (NatterMessage      *self);
void               natter_message_set_state             (NatterMessage      *self,
                                                         NatterMessageState  state);
const GError      *natter_message_get_error             (NatterMessage      *self);
void               natter_message_set_error             (NatterMessage      *self,
                                                         const GError       *error);

const char        *natter_message_get_model             (NatterMessage      *self);
void               natter_message_set_model             (NatterMessage      *self,
                                                         const char         *model);
const char        *natter_message_get_finish_reason     (NatterMessage      *self);
void               natter_message_set_finish_reason     (NatterMessage      *self,
                                                         const char         *finish_reason);
gint64             natter_message_get_ttft_us           (NatterMessage      *self);
void               natter_message_set_ttft_us           (NatterMessage      *self,
                                                         gint64              ttft_us);
gint64             natter_message_get_duration_us       (NatterMessage      *self);
void               natter_message_set_duration_us       (NatterMessage      *self,
                                                         gint64              duration_us);
gint64             natter_message_get_prompt_tokens     (NatterMessage      *self);
void               natter_message_set_prompt_tokens     (NatterMessage      *self,
                                                         gint64              prompt_tokens);
gint64             natter_message_get_completion_tokens (NatterMessage      *self);
void               natter_message_set_completion_tokens (NatterMessage      *self,
                                                         gint64              completion_tokens);
guint              natter_message_get_retry_delay_ms    (NatterMessage      *self);
void               natter_message_set_retry_delay_ms    (NatterMessage      *self,
                                                         guint               retry_delay_ms);

G_END_DECLS
