/* natter-message.c — one message of a conversation, growing as it streams
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An answer arrives a few characters at a time, hundreds of times. Telling
 * views "content changed" each time would make each of them read the whole
 * text again: O(n) per token, O(n²) per answer. So appends only emit
 * "content-appended" with the new piece and where it goes; the "content"
 * property is notified when the text is replaced as a whole.
 */
#include "natter-message.h"

struct _NatterMessage
{
  GObject             parent_instance;

  NatterRole          role;
  GString            *content;
  GString            *reasoning;
  NatterMessageState  state;
  GError             *error;
  char               *model;
  char               *finish_reason;
  gint64              ttft_us;
  gint64              duration_us;
  gint64              prompt_tokens;
  gint64              completion_tokens;
  guint               retry_delay_ms;
};

G_DEFINE_FINAL_TYPE (NatterMessage, natter_message, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (NatterRole, natter_role,
  G_DEFINE_ENUM_VALUE (NATTER_ROLE_SYSTEM, "system"),
  G_DEFINE_ENUM_VALUE (NATTER_ROLE_USER, "user"),
  G_DEFINE_ENUM_VALUE (NATTER_ROLE_ASSISTANT, "assistant"))

G_DEFINE_ENUM_TYPE (NatterMessageState, natter_message_state,
  G_DEFINE_ENUM_VALUE (NATTER_MESSAGE_STATE_COMPLETE, "complete"),
  G_DEFINE_ENUM_VALUE (NATTER_MESSAGE_STATE_STREAMING, "streaming"),
  G_DEFINE_ENUM_VALUE (NATTER_MESSAGE_STATE_STOPPED, "stopped"),
  G_DEFINE_ENUM_VALUE (NATTER_MESSAGE_STATE_FAILED, "failed"),
  G_DEFINE_ENUM_VALUE (NATTER_MESSAGE_STATE_INTERRUPTED, "interrupted"))

enum {
  PROP_0,
  PROP_ROLE,
  PROP_CONTENT,
  PROP_REASONING,
  PROP_STATE,
  PROP_ERROR,
  PROP_MODEL,
  PROP_FINISH_REASON,
  PROP_TTFT_US,
  PROP_DURATION_US,
  PROP_PROMPT_TOKENS,
  PROP_COMPLETION_TOKENS,
  PROP_RETRY_DELAY_MS,
  N_PROPS
};

enum {
  CONTENT_APPENDED,
  REASONING_APPENDED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/**
 * natter_role_to_string:
 *
 * Returns: the role as the chat completions API spells it
 */
const char *
natter_role_to_string (NatterRole role)
{
  switch (role)
    {
    case NATTER_ROLE_SYSTEM:
      return "system";
    case NATTER_ROLE_USER:
      return "user";
    case NATTER_ROLE_ASSISTANT:
      return "assistant";
    default:
      g_return_val_if_reached (NULL);
    }
}

/* --- Helpers --------------------------------------------------------- */

static void
set_gint64 (NatterMessage *self,
            gint64        *field,
            gint64         value,
            guint          prop_id)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_string (NatterMessage  *self,
            char          **field,
            const char     *value,
            guint           prop_id)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
replace_text (NatterMessage *self,
              GString       *text,
              const char    *value,
              guint          prop_id)
{
  if (g_strcmp0 (text->str, value != NULL ? value : "") == 0)
    return;
  g_string_assign (text, value != NULL ? value : "");
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
append_text (NatterMessage *self,
             GString       *text,
             const char    *piece,
             guint          signal_id)
{
  gsize offset = text->len;

  if (piece == NULL || *piece == '\0')
    return;
  g_string_append (text, piece);
  g_signal_emit (self, signals[signal_id], 0, (guint) offset, piece);
}

static gboolean
same_error (const GError *a,
            const GError *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return a->domain == b->domain && a->code == b->code && g_strcmp0 (a->message, b->message) == 0;
}

/* --- GObject ------------------------------------------------------------- */

static void
natter_message_finalize (GObject *object)
{
  NatterMessage *self = NATTER_MESSAGE (object);

  g_string_free (self->content, TRUE);
  g_string_free (self->reasoning, TRUE);
  g_clear_error (&self->error);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->finish_reason, g_free);

  G_OBJECT_CLASS (natter_message_parent_class)->finalize (object);
}

static void
natter_message_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  NatterMessage *self = NATTER_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ROLE:
      g_value_set_enum (value, self->role);
      break;
    case PROP_CONTENT:
      g_value_set_string (value, self->content->str);
      break;
    case PROP_REASONING:
      g_value_set_string (value, self->reasoning->str);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;
    case PROP_FINISH_REASON:
      g_value_set_string (value, self->finish_reason);
      break;
    case PROP_TTFT_US:
      g_value_set_int64 (value, self->ttft_us);
      break;
    case PROP_DURATION_US:
      g_value_set_int64 (value, self->duration_us);
      break;
    case PROP_PROMPT_TOKENS:
      g_value_set_int64 (value, self->prompt_tokens);
      break;
    case PROP_COMPLETION_TOKENS:
      g_value_set_int64 (value, self->completion_tokens);
      break;
    case PROP_RETRY_DELAY_MS:
      g_value_set_uint (value, self->retry_delay_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_message_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  NatterMessage *self = NATTER_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ROLE:
      self->role = g_value_get_enum (value);
      break;
    case PROP_STATE:
      natter_message_set_state (self, g_value_get_enum (value));
      break;
    case PROP_ERROR:
      natter_message_set_error (self, g_value_get_boxed (value));
      break;
    case PROP_MODEL:
      natter_message_set_model (self, g_value_get_string (value));
      break;
    case PROP_FINISH_REASON:
      natter_message_set_finish_reason (self, g_value_get_string (value));
      break;
    case PROP_TTFT_US:
      natter_message_set_ttft_us (self, g_value_get_int64 (value));
      break;
    case PROP_DURATION_US:
      natter_message_set_duration_us (self, g_value_get_int64 (value));
      break;
    case PROP_PROMPT_TOKENS:
      natter_message_set_prompt_tokens (self, g_value_get_int64 (value));
      break;
    case PROP_COMPLETION_TOKENS:
      natter_message_set_completion_tokens (self, g_value_get_int64 (value));
      break;
    case PROP_RETRY_DELAY_MS:
      natter_message_set_retry_delay_ms (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
int64_param (const char *name,
             gint64      minimum,
             gint64      default_value)
{
  return g_param_spec_int64 (name, NULL, NULL, minimum, G_MAXINT64, default_value,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

static GParamSpec *
string_param (const char  *name,
              GParamFlags  access)
{
  return g_param_spec_string (name, NULL, NULL, NULL,
                              access | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

static void
install_properties (GObjectClass *object_class)
{
  properties[PROP_ROLE] =
    g_param_spec_enum ("role", NULL, NULL, NATTER_TYPE_ROLE, NATTER_ROLE_USER,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * NatterMessage:content:
   *
   * The text so far. Notified only by natter_message_set_content(), when the
   * text is replaced as a whole (edited, loaded); while it streams, follow
   * #NatterMessage::content-appended instead.
   */
  properties[PROP_CONTENT] = string_param ("content", G_PARAM_READABLE);
  /**
   * NatterMessage:reasoning:
   *
   * The model's reasoning so far, shown apart from the answer. Notified like
   * #NatterMessage:content; see #NatterMessage::reasoning-appended.
   */
  properties[PROP_REASONING] = string_param ("reasoning", G_PARAM_READABLE);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, NATTER_TYPE_MESSAGE_STATE, NATTER_MESSAGE_STATE_COMPLETE,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_MODEL] = string_param ("model", G_PARAM_READWRITE);
  properties[PROP_FINISH_REASON] = string_param ("finish-reason", G_PARAM_READWRITE);
  properties[PROP_TTFT_US] = int64_param ("ttft-us", -1, -1);
  properties[PROP_DURATION_US] = int64_param ("duration-us", -1, -1);
  properties[PROP_PROMPT_TOKENS] = int64_param ("prompt-tokens", -1, -1);
  properties[PROP_COMPLETION_TOKENS] = int64_param ("completion-tokens", -1, -1);
  /**
   * NatterMessage:retry-delay-ms:
   *
   * While the answer waits before another attempt, how long the wait is, so
   * that a view can count down; 0 otherwise.
   */
  properties[PROP_RETRY_DELAY_MS] =
    g_param_spec_uint ("retry-delay-ms", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_message_class_init (NatterMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GType type = G_TYPE_FROM_CLASS (klass);

  object_class->finalize = natter_message_finalize;
  object_class->get_property = natter_message_get_property;
  object_class->set_property = natter_message_set_property;

  install_properties (object_class);

  /**
   * NatterMessage::content-appended:
   * @offset: where @text starts in the content, in bytes
   * @text: the new text, only valid during the emission
   *
   * A view inserts @text at its end rather than reading the whole content.
   */
  signals[CONTENT_APPENDED] =
    g_signal_new ("content-appended", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * NatterMessage::reasoning-appended:
   * @offset: where @text starts in the reasoning, in bytes
   * @text: the new text, only valid during the emission
   */
  signals[REASONING_APPENDED] =
    g_signal_new ("reasoning-appended", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
natter_message_init (NatterMessage *self)
{
  self->content = g_string_new (NULL);
  self->reasoning = g_string_new (NULL);
  self->state = NATTER_MESSAGE_STATE_COMPLETE;
  self->ttft_us = -1;
  self->duration_us = -1;
  self->prompt_tokens = -1;
  self->completion_tokens = -1;
}

/* --- Public API -------------------------------------------------------- */

NatterMessage *
natter_message_new (NatterRole  role,
                    const char *content)
{
  NatterMessage *self = g_object_new (NATTER_TYPE_MESSAGE, "role", role, NULL);

  g_string_assign (self->content, content != NULL ? content : "");
  return self;
}

NatterRole
natter_message_get_role (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NATTER_ROLE_USER);
  return self->role;
}

/**
 * natter_message_get_content:
 *
 * Returns: (transfer none): the text so far, never %NULL; valid until the
 *   next change
 */
const char *
natter_message_get_content (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->content->str;
}

/* In bytes, without reading the text. */
gsize
natter_message_get_content_length (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), 0);
  return self->content->len;
}

/**
 * natter_message_set_content:
 * @content: (nullable): the whole new text
 *
 * Replaces the text, for an edit or when loading; notifies
 * #NatterMessage:content. Streaming goes through
 * natter_message_append_content() instead.
 */
void
natter_message_set_content (NatterMessage *self,
                            const char    *content)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  replace_text (self, self->content, content, PROP_CONTENT);
}

/**
 * natter_message_append_content:
 * @text: the next piece of the text
 *
 * Emits #NatterMessage::content-appended, and does not notify
 * #NatterMessage:content. Empty pieces are ignored.
 */
void
natter_message_append_content (NatterMessage *self,
                               const char    *text)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  append_text (self, self->content, text, CONTENT_APPENDED);
}

/**
 * natter_message_get_reasoning:
 *
 * Returns: (transfer none): the reasoning so far, never %NULL
 */
const char *
natter_message_get_reasoning (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->reasoning->str;
}

/* Like natter_message_set_content(), for loading. */
void
natter_message_set_reasoning (NatterMessage *self,
                              const char    *reasoning)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  replace_text (self, self->reasoning, reasoning, PROP_REASONING);
}

/* Emits #NatterMessage::reasoning-appended; empty pieces are ignored. */
void
natter_message_append_reasoning (NatterMessage *self,
                                 const char    *text)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  append_text (self, self->reasoning, text, REASONING_APPENDED);
}

NatterMessageState
natter_message_get_state (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NATTER_MESSAGE_STATE_COMPLETE);
  return self->state;
}

void
natter_message_set_state (NatterMessage      *self,
                          NatterMessageState  state)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));

  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/**
 * natter_message_get_error:
 *
 * Returns: (transfer none) (nullable): why the answer failed
 */
const GError *
natter_message_get_error (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->error;
}

/**
 * natter_message_set_error:
 * @error: (nullable): copied
 */
void
natter_message_set_error (NatterMessage *self,
                          const GError  *error)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));

  if (same_error (self->error, error))
    return;
  g_clear_error (&self->error);
  self->error = error != NULL ? g_error_copy (error) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

/* The model that answered, which a router may have picked. */
const char *
natter_message_get_model (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->model;
}

void
natter_message_set_model (NatterMessage *self,
                          const char    *model)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  set_string (self, &self->model, model, PROP_MODEL);
}

const char *
natter_message_get_finish_reason (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), NULL);
  return self->finish_reason;
}

void
natter_message_set_finish_reason (NatterMessage *self,
                                  const char    *finish_reason)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  set_string (self, &self->finish_reason, finish_reason, PROP_FINISH_REASON);
}

/* Time to first token; -1 when none came. */
gint64
natter_message_get_ttft_us (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), -1);
  return self->ttft_us;
}

void
natter_message_set_ttft_us (NatterMessage *self,
                            gint64         ttft_us)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  set_gint64 (self, &self->ttft_us, MAX (ttft_us, -1), PROP_TTFT_US);
}

/* From the request to the end of the answer; -1 when unknown. */
gint64
natter_message_get_duration_us (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), -1);
  return self->duration_us;
}

void
natter_message_set_duration_us (NatterMessage *self,
                                gint64         duration_us)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  set_gint64 (self, &self->duration_us, MAX (duration_us, -1), PROP_DURATION_US);
}

/* As the provider counted them; -1 when it did not say. */
gint64
natter_message_get_prompt_tokens (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), -1);
  return self->prompt_tokens;
}

void
natter_message_set_prompt_tokens (NatterMessage *self,
                                  gint64         prompt_tokens)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  set_gint64 (self, &self->prompt_tokens, MAX (prompt_tokens, -1), PROP_PROMPT_TOKENS);
}

gint64
natter_message_get_completion_tokens (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), -1);
  return self->completion_tokens;
}

void
natter_message_set_completion_tokens (NatterMessage *self,
                                      gint64         completion_tokens)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));
  set_gint64 (self, &self->completion_tokens, MAX (completion_tokens, -1), PROP_COMPLETION_TOKENS);
}

guint
natter_message_get_retry_delay_ms (NatterMessage *self)
{
  g_return_val_if_fail (NATTER_IS_MESSAGE (self), 0);
  return self->retry_delay_ms;
}

void
natter_message_set_retry_delay_ms (NatterMessage *self,
                                   guint          retry_delay_ms)
{
  g_return_if_fail (NATTER_IS_MESSAGE (self));

  if (self->retry_delay_ms == retry_delay_ms)
    return;
  self->retry_delay_ms = retry_delay_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RETRY_DELAY_MS]);
}
