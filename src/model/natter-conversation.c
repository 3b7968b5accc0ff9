/* natter-conversation.c — a list of messages, and sending the next one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sending appends the user's message and an empty assistant message, then
 * wires one NatterChatStream to the latter: views watching the list see the
 * answer appear at once and grow in place. The stream is only reachable from
 * its own run while it lasts; nothing here keeps it afterwards.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "natter-chat-stream.h"
#include "natter-conversation.h"

/* Below zero means "the provider's default", as in NatterChatRequest. */
#define TEMPERATURE_UNSET -1.0
#define TEMPERATURE_MAX    2.0

struct _NatterConversation
{
  GObject    parent_instance;

  GPtrArray    *messages;
  gint64        id;
  char         *title;
  char      *system_prompt;
  double     temperature;
  guint         max_tokens;
  gboolean      streaming;

  /* While an answer streams: Stop cancels run_cancellable, which the
   * caller's cancellable also cancels through caller_handler. */
  GCancellable *run_cancellable;
  GCancellable *caller_cancellable;
  gulong        caller_handler;
};

static void natter_conversation_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NatterConversation, natter_conversation, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      natter_conversation_list_model_init))

enum {
  PROP_0,
  PROP_ID,
  PROP_TITLE,
  PROP_SYSTEM_PROMPT,
  PROP_TEMPERATURE,
  PROP_MAX_TOKENS,
  PROP_N_ITEMS,
  PROP_STREAMING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* --- GListModel -------------------------------------------------------- */

static GType
natter_conversation_get_item_type (GListModel *model)
{
  return NATTER_TYPE_MESSAGE;
}

static guint
natter_conversation_get_n_items (GListModel *model)
{
  return NATTER_CONVERSATION (model)->messages->len;
}

static gpointer
natter_conversation_get_item (GListModel *model,
                              guint       position)
{
  NatterConversation *self = NATTER_CONVERSATION (model);

  if (position >= self->messages->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->messages, position));
}

static void
natter_conversation_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = natter_conversation_get_item_type;
  iface->get_n_items = natter_conversation_get_n_items;
  iface->get_item = natter_conversation_get_item;
}

static void
items_changed (NatterConversation *self,
               guint               position,
               guint               removed,
               guint               added)
{
  g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
  if (removed != added)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

/* --- GObject ------------------------------------------------------------- */

static void
natter_conversation_dispose (GObject *object)
{
  NatterConversation *self = NATTER_CONVERSATION (object);

  g_ptr_array_set_size (self->messages, 0);

  G_OBJECT_CLASS (natter_conversation_parent_class)->dispose (object);
}

static void
natter_conversation_finalize (GObject *object)
{
  NatterConversation *self = NATTER_CONVERSATION (object);

  g_clear_pointer (&self->messages, g_ptr_array_unref);
  g_clear_object (&self->run_cancellable);
  g_clear_object (&self->caller_cancellable);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->system_prompt, g_free);

  G_OBJECT_CLASS (natter_conversation_parent_class)->finalize (object);
}

static void
natter_conversation_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  NatterConversation *self = NATTER_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_SYSTEM_PROMPT:
      g_value_set_string (value, self->system_prompt);
      break;
    case PROP_TEMPERATURE:
      g_value_set_double (value, self->temperature);
      break;
    case PROP_MAX_TOKENS:
      g_value_set_uint (value, self->max_tokens);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->messages->len);
      break;
    case PROP_STREAMING:
      g_value_set_boolean (value, self->streaming);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_conversation_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  NatterConversation *self = NATTER_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_ID:
      natter_conversation_set_id (self, g_value_get_int64 (value));
      break;
    case PROP_TITLE:
      natter_conversation_set_title (self, g_value_get_string (value));
      break;
    case PROP_SYSTEM_PROMPT:
      natter_conversation_set_system_prompt (self, g_value_get_string (value));
      break;
    case PROP_TEMPERATURE:
      natter_conversation_set_temperature (self, g_value_get_double (value));
      break;
    case PROP_MAX_TOKENS:
      natter_conversation_set_max_tokens (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_conversation_class_init (NatterConversationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = natter_conversation_dispose;
  object_class->finalize = natter_conversation_finalize;
  object_class->get_property = natter_conversation_get_property;
  object_class->set_property = natter_conversation_set_property;

  /* The conversation's key in the history; 0 until it is first saved. */
  properties[PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, rw);
  properties[PROP_TITLE] = g_param_spec_string ("title", NULL, NULL, NULL, rw);
  properties[PROP_SYSTEM_PROMPT] = g_param_spec_string ("system-prompt", NULL, NULL, NULL, rw);
  /* -1 leaves the choice to the provider. */
  properties[PROP_TEMPERATURE] =
    g_param_spec_double ("temperature", NULL, NULL, TEMPERATURE_UNSET, TEMPERATURE_MAX,
                         TEMPERATURE_UNSET, rw);
  /* 0 leaves the limit to the provider. */
  properties[PROP_MAX_TOKENS] =
    g_param_spec_uint ("max-tokens", NULL, NULL, 0, G_MAXUINT, 0, rw);
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0, ro);
  /* TRUE from a send or retry until its answer has ended. */
  properties[PROP_STREAMING] =
    g_param_spec_boolean ("streaming", NULL, NULL, FALSE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_conversation_init (NatterConversation *self)
{
  self->messages = g_ptr_array_new_with_free_func (g_object_unref);
  self->temperature = TEMPERATURE_UNSET;
}

/* --- Properties --------------------------------------------------------- */

NatterConversation *
natter_conversation_new (void)
{
  return g_object_new (NATTER_TYPE_CONVERSATION, NULL);
}

gint64
natter_conversation_get_id (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), 0);
  return self->id;
}

void
natter_conversation_set_id (NatterConversation *self,
                            gint64              id)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (self->id == id)
    return;
  self->id = id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

const char *
natter_conversation_get_title (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  return self->title;
}

void
natter_conversation_set_title (NatterConversation *self,
                               const char         *title)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (g_strcmp0 (self->title, title) == 0)
    return;
  g_free (self->title);
  self->title = g_strdup (title);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

const char *
natter_conversation_get_system_prompt (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);
  return self->system_prompt;
}

/* An empty or %NULL prompt sends no system message. */
void
natter_conversation_set_system_prompt (NatterConversation *self,
                                       const char         *system_prompt)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (g_strcmp0 (self->system_prompt, system_prompt) == 0)
    return;
  g_free (self->system_prompt);
  self->system_prompt = g_strdup (system_prompt);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYSTEM_PROMPT]);
}

double
natter_conversation_get_temperature (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), TEMPERATURE_UNSET);
  return self->temperature;
}

/* A negative @temperature leaves the choice to the provider. */
void
natter_conversation_set_temperature (NatterConversation *self,
                                     double              temperature)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  temperature = temperature < 0 ? TEMPERATURE_UNSET : MIN (temperature, TEMPERATURE_MAX);
  if (self->temperature == temperature)
    return;
  self->temperature = temperature;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEMPERATURE]);
}

guint
natter_conversation_get_max_tokens (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), 0);
  return self->max_tokens;
}

void
natter_conversation_set_max_tokens (NatterConversation *self,
                                    guint               max_tokens)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (self->max_tokens == max_tokens)
    return;
  self->max_tokens = max_tokens;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_TOKENS]);
}

gboolean
natter_conversation_is_streaming (NatterConversation *self)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), FALSE);
  return self->streaming;
}

static void
set_streaming (NatterConversation *self,
               gboolean            streaming)
{
  if (self->streaming == streaming)
    return;
  self->streaming = streaming;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STREAMING]);
}

/* --- Messages ------------------------------------------------------------ */

void
natter_conversation_append (NatterConversation *self,
                            NatterMessage      *message)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  g_return_if_fail (NATTER_IS_MESSAGE (message));

  g_ptr_array_add (self->messages, g_object_ref (message));
  items_changed (self, self->messages->len - 1, 0, 1);
}

/**
 * natter_conversation_append_all:
 * @messages: (element-type NatterMessage): messages to add at the end
 *
 * Adds @messages in one change, as loading a long conversation needs: views
 * see one items-changed, not one per message.
 */
void
natter_conversation_append_all (NatterConversation *self,
                                GPtrArray          *messages)
{
  guint position;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  g_return_if_fail (messages != NULL);

  if (messages->len == 0)
    return;
  position = self->messages->len;
  for (guint i = 0; i < messages->len; i++)
    g_ptr_array_add (self->messages, g_object_ref (g_ptr_array_index (messages, i)));
  items_changed (self, position, 0, messages->len);
}

/**
 * natter_conversation_get_message:
 *
 * Returns: (transfer none) (nullable): the message at @position, or %NULL
 *   past the end
 */
NatterMessage *
natter_conversation_get_message (NatterConversation *self,
                                 guint               position)
{
  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);

  if (position >= self->messages->len)
    return NULL;
  return g_ptr_array_index (self->messages, position);
}

static NatterMessage *
last_message (NatterConversation *self)
{
  if (self->messages->len == 0)
    return NULL;
  return g_ptr_array_index (self->messages, self->messages->len - 1);
}

/**
 * natter_conversation_truncate:
 * @n_items_to_keep: how many messages stay, from the start
 *
 * Drops the messages after the first @n_items_to_keep, to edit and resend
 * or to regenerate. Dropping an answer that is streaming does not stop its
 * stream: cancel it and wait for the send to finish first.
 */
void
natter_conversation_truncate (NatterConversation *self,
                              guint               n_items_to_keep)
{
  guint removed;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (n_items_to_keep >= self->messages->len)
    return;
  removed = self->messages->len - n_items_to_keep;
  g_ptr_array_remove_range (self->messages, n_items_to_keep, removed);
  items_changed (self, n_items_to_keep, removed, 0);
}

/* An answer that is still arriving is not context yet; one that failed
 * before saying anything has nothing to give. A stopped answer keeps its
 * partial text, and the next question may well be about it. */
static gboolean
is_context (NatterMessage *message)
{
  return natter_message_get_content_length (message) > 0 &&
         natter_message_get_state (message) != NATTER_MESSAGE_STATE_STREAMING;
}

/**
 * natter_conversation_build_request:
 * @model: (nullable): the model to ask
 *
 * The context of the next answer: the system prompt, if any, then every
 * message with text that is not still streaming, in order, with the
 * conversation's temperature and token limit.
 *
 * Returns: (transfer full): the request
 */
NatterChatRequest *
natter_conversation_build_request (NatterConversation *self,
                                   const char         *model)
{
  NatterChatRequest *request;

  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), NULL);

  request = natter_chat_request_new (model);
  natter_chat_request_set_temperature (request, self->temperature);
  natter_chat_request_set_max_tokens (request, self->max_tokens);
  if (self->system_prompt != NULL && *self->system_prompt != '\0')
    natter_chat_request_add_message (request, natter_role_to_string (NATTER_ROLE_SYSTEM),
                                     self->system_prompt);

  for (guint i = 0; i < self->messages->len; i++)
    {
      NatterMessage *message = g_ptr_array_index (self->messages, i);

      if (is_context (message))
        natter_chat_request_add_message (request,
                                         natter_role_to_string (natter_message_get_role (message)),
                                         natter_message_get_content (message));
    }
  return request;
}

/* --- Streaming an answer ---------------------------------------------------- */

static void
delta_cb (NatterMessage    *answer,
          const char       *text,
          NatterChatStream *stream)
{
  natter_message_set_retry_delay_ms (answer, 0);
  natter_message_append_content (answer, text);
}

static void
reasoning_delta_cb (NatterMessage    *answer,
                    const char       *text,
                    NatterChatStream *stream)
{
  natter_message_set_retry_delay_ms (answer, 0);
  natter_message_append_reasoning (answer, text);
}

/* A wait can be drawn as 0 ms by the jitter; it is still a wait. */
static void
retrying_cb (NatterMessage    *answer,
             guint             retry,
             guint             delay_ms,
             NatterChatStream *stream)
{
  natter_message_set_retry_delay_ms (answer, MAX (delay_ms, 1));
}

static void
usage_cb (NatterMessage    *answer,
          JsonObject       *usage,
          NatterChatStream *stream)
{
  g_object_freeze_notify (G_OBJECT (answer));
  if (json_object_has_member (usage, "prompt_tokens"))
    natter_message_set_prompt_tokens (answer,
                                      json_object_get_int_member_with_default (usage, "prompt_tokens", -1));
  if (json_object_has_member (usage, "completion_tokens"))
    natter_message_set_completion_tokens (answer,
                                          json_object_get_int_member_with_default (usage, "completion_tokens", -1));
  g_object_thaw_notify (G_OBJECT (answer));
}

static void
connect_stream (NatterChatStream *stream,
                NatterMessage    *answer)
{
  g_signal_connect_swapped (stream, "delta", G_CALLBACK (delta_cb), answer);
  g_signal_connect_swapped (stream, "reasoning-delta", G_CALLBACK (reasoning_delta_cb), answer);
  g_signal_connect_swapped (stream, "retrying", G_CALLBACK (retrying_cb), answer);
  g_signal_connect_swapped (stream, "usage", G_CALLBACK (usage_cb), answer);
}

static void
record_end (NatterMessage    *answer,
            NatterChatStream *stream,
            const GError     *error)
{
  const char *model = natter_chat_stream_get_model (stream);

  /* Not every server names the model in its chunks: if an answer came, it
   * came from the one asked. */
  if ((model == NULL || *model == '\0') && natter_chat_stream_get_ttft_us (stream) >= 0)
    model = natter_chat_request_get_model (natter_chat_stream_get_request (stream));

  g_object_freeze_notify (G_OBJECT (answer));
  natter_message_set_retry_delay_ms (answer, 0);
  natter_message_set_finish_reason (answer, natter_chat_stream_get_finish_reason (stream));
  natter_message_set_model (answer, model != NULL && *model != '\0' ? model : NULL);
  natter_message_set_ttft_us (answer, natter_chat_stream_get_ttft_us (stream));
  natter_message_set_duration_us (answer, natter_chat_stream_get_duration_us (stream));
  if (error == NULL)
    natter_message_set_state (answer, NATTER_MESSAGE_STATE_COMPLETE);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    natter_message_set_state (answer, NATTER_MESSAGE_STATE_STOPPED);
  else
    {
      natter_message_set_error (answer, error);
      natter_message_set_state (answer, NATTER_MESSAGE_STATE_FAILED);
    }
  g_object_thaw_notify (G_OBJECT (answer));
}

static void
cancel_run_cb (GCancellable *caller_cancellable,
               gpointer      run_cancellable)
{
  g_cancellable_cancel (run_cancellable);
}

/* One answer streams at a time. Its own cancellable lets Stop reach it from
 * anywhere (natter_conversation_stop()); the caller's is chained to it. */
static void
begin_run (NatterConversation *self,
           GCancellable       *caller_cancellable)
{
  self->run_cancellable = g_cancellable_new ();
  if (caller_cancellable != NULL)
    {
      self->caller_cancellable = g_object_ref (caller_cancellable);
      self->caller_handler = g_cancellable_connect (caller_cancellable, G_CALLBACK (cancel_run_cb),
                                                    self->run_cancellable, NULL);
    }
  set_streaming (self, TRUE);
}

static void
end_run (NatterConversation *self)
{
  if (self->caller_cancellable != NULL)
    g_cancellable_disconnect (self->caller_cancellable, self->caller_handler);
  self->caller_handler = 0;
  g_clear_object (&self->caller_cancellable);
  g_clear_object (&self->run_cancellable);
  set_streaming (self, FALSE);
}

static void
stream_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  NatterChatStream *stream = NATTER_CHAT_STREAM (source);
  g_autoptr(GTask) task = user_data;
  NatterConversation *self = g_task_get_source_object (task);
  NatterMessage *answer = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  natter_chat_stream_run_finish (stream, result, &error);
  /* From here on the stream is only its run's; once that returns, it goes. */
  g_signal_handlers_disconnect_by_data (stream, answer);
  record_end (answer, stream, error);
  end_run (self);

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_object_ref (answer), g_object_unref);
}

/* Streams the answer to @request into @answer, which is appended first
 * unless it is already the last message (Continue). */
static void
stream_into (NatterConversation *self,
             GTask              *task,
             NatterClient       *client,
             NatterChatRequest  *request,
             NatterMessage      *answer)
{
  g_autoptr(NatterChatStream) stream = natter_chat_stream_new (client, request);

  g_object_freeze_notify (G_OBJECT (answer));
  natter_message_set_error (answer, NULL);
  natter_message_set_finish_reason (answer, NULL);
  natter_message_set_state (answer, NATTER_MESSAGE_STATE_STREAMING);
  g_object_thaw_notify (G_OBJECT (answer));
  g_task_set_task_data (task, g_object_ref (answer), g_object_unref);
  connect_stream (stream, answer);

  begin_run (self, g_task_get_cancellable (task));
  if (last_message (self) != answer)
    natter_conversation_append (self, answer);
  natter_chat_stream_run_async (stream, self->run_cancellable, stream_done_cb, task);
}

static void
stream_answer (NatterConversation *self,
               GTask              *task,
               NatterClient       *client,
               const char         *model)
{
  g_autoptr(NatterChatRequest) request = natter_conversation_build_request (self, model);
  g_autoptr(NatterMessage) answer = natter_message_new (NATTER_ROLE_ASSISTANT, NULL);

  stream_into (self, task, client, request, answer);
}

static GTask *
new_task (NatterConversation  *self,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  /* The stream decides what a cancellation means: an answer that completed
   * just before Stop was pressed is complete. */
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

static gboolean
check_not_streaming (NatterConversation *self,
                     GTask              *task)
{
  if (!self->streaming)
    return TRUE;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                           _("Wait for the answer being written, or stop it, before sending another message."));
  return FALSE;
}

/**
 * natter_conversation_stop:
 *
 * Stops the answer being streamed, if any, as cancelling the cancellable
 * given when it was asked for does: the partial answer is kept, stopped.
 */
void
natter_conversation_stop (NatterConversation *self)
{
  g_return_if_fail (NATTER_IS_CONVERSATION (self));

  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
}

/**
 * natter_conversation_title_for_text:
 * @text: what the user asked first
 *
 * A title for the history list: the first line with text, its spaces
 * collapsed, cut at a word near 48 characters with an ellipsis.
 *
 * Returns: (transfer full) (nullable): the title, or %NULL for blank text
 */
char *
natter_conversation_title_for_text (const char *text)
{
  const glong max_chars = 48;
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_auto(GStrv) lines = g_strsplit (valid, "\n", -1);
  g_autoptr(GString) title = g_string_new (NULL);
  glong title_chars = 0;
  gboolean cut = FALSE;

  /* Only the first line with something on it counts. */
  for (guint l = 0; lines[l] != NULL && title->len == 0; l++)
    {
      g_auto(GStrv) words = g_strsplit_set (lines[l], " \t\r\f\v", -1);

      for (guint i = 0; words[i] != NULL && !cut; i++)
        {
          glong length = g_utf8_strlen (words[i], -1);

          if (length == 0)
            continue;
          cut = title_chars + (title->len > 0) + length > max_chars;
          /* A single long word is cut inside rather than dropped. */
          if (cut && title->len == 0)
            g_string_append_len (title, words[i],
                                 g_utf8_offset_to_pointer (words[i], max_chars - 1) - words[i]);
          if (cut)
            break;
          if (title->len > 0)
            g_string_append_c (title, ' ');
          g_string_append (title, words[i]);
          title_chars += (title_chars > 0) + length;
        }
    }
  if (title->len == 0)
    return NULL;
  /* Words that filled every character leave no room for the ellipsis:
   * the last one goes, or a lone word loses its last character. */
  if (cut && title_chars >= max_chars)
    {
      const char *space = strrchr (title->str, ' ');

      if (space != NULL)
        g_string_truncate (title, space - title->str);
      else
        g_string_truncate (title, g_utf8_offset_to_pointer (title->str, max_chars - 1) - title->str);
    }
  if (cut)
    g_string_append (title, "…");
  return g_string_free (g_steal_pointer (&title), FALSE);
}

static void
ask (NatterConversation *self,
     GTask              *task,
     NatterClient       *client,
     const char         *model,
     const char         *text)
{
  g_autoptr(NatterMessage) question = NULL;

  if (*text == '\0')
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("The message is empty."));
      g_object_unref (task);
      return;
    }

  if (self->title == NULL || *self->title == '\0')
    {
      g_autofree char *title = natter_conversation_title_for_text (text);
      natter_conversation_set_title (self, title);
    }
  question = natter_message_new (NATTER_ROLE_USER, text);
  natter_conversation_append (self, question);
  stream_answer (self, task, client, model);
}

/**
 * natter_conversation_send_async:
 * @client: the provider to ask
 * @model: (nullable): the model to ask
 * @text: the user's message
 * @cancellable: (nullable): Stop; the partial answer is kept
 *
 * Appends @text as the user's message and an assistant message that fills
 * in as the answer streams. A conversation without a title takes one from
 * its first message. Only one answer streams at a time: while one does,
 * this fails with %G_IO_ERROR_PENDING and changes nothing.
 */
void
natter_conversation_send_async (NatterConversation  *self,
                                NatterClient        *client,
                                const char          *model,
                                const char          *text,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  g_return_if_fail (NATTER_IS_CLIENT (client));
  g_return_if_fail (text != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = new_task (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_conversation_send_async);
  if (!check_not_streaming (self, task))
    return;
  ask (self, g_steal_pointer (&task), client, model, text);
}

/**
 * natter_conversation_send_finish:
 *
 * On failure the answer stays in the conversation, as its last message:
 * %NATTER_MESSAGE_STATE_STOPPED with its partial text when the error is
 * %G_IO_ERROR_CANCELLED, %NATTER_MESSAGE_STATE_FAILED with the error
 * otherwise. Also finishes natter_conversation_edit_async(),
 * natter_conversation_retry_async(), natter_conversation_regenerate_async()
 * and natter_conversation_continue_async().
 *
 * Returns: (transfer full) (nullable): the complete answer
 */
NatterMessage *
natter_conversation_send_finish (NatterConversation  *self,
                                 GAsyncResult        *result,
                                 GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * natter_conversation_edit_async:
 * @position: the user message to replace
 * @text: its new text
 *
 * Edit and resend: the messages from @position on are dropped, and @text
 * is sent in place of the message that was there. Fails with
 * %G_IO_ERROR_INVALID_ARGUMENT, changing nothing, when @position is not a
 * message of the user or @text is empty.
 */
void
natter_conversation_edit_async (NatterConversation  *self,
                                NatterClient        *client,
                                const char          *model,
                                guint                position,
                                const char          *text,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  NatterMessage *message;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  g_return_if_fail (NATTER_IS_CLIENT (client));
  g_return_if_fail (text != NULL);

  task = new_task (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_conversation_edit_async);
  if (!check_not_streaming (self, task))
    return;
  message = natter_conversation_get_message (self, position);
  if (message == NULL || natter_message_get_role (message) != NATTER_ROLE_USER)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Only your own messages can be edited."));
      return;
    }
  if (*text == '\0')
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("The message is empty."));
      return;
    }

  natter_conversation_truncate (self, position);
  ask (self, g_steal_pointer (&task), client, model, text);
}

static gboolean
is_unfinished (NatterMessage *message)
{
  NatterMessageState state = natter_message_get_state (message);

  return state == NATTER_MESSAGE_STATE_FAILED ||
         state == NATTER_MESSAGE_STATE_STOPPED ||
         state == NATTER_MESSAGE_STATE_INTERRUPTED;
}

static void
redo_last_answer (NatterConversation *self,
                  GTask              *task,
                  NatterClient       *client,
                  const char         *model,
                  gboolean            also_complete)
{
  NatterMessage *last = last_message (self);

  if (last != NULL && natter_message_get_role (last) == NATTER_ROLE_ASSISTANT &&
      (also_complete || is_unfinished (last)))
    natter_conversation_truncate (self, self->messages->len - 1);
  else if (last == NULL || natter_message_get_role (last) != NATTER_ROLE_USER)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               also_complete ? _("There is no answer to regenerate.")
                                             : _("There is no failed or stopped answer to retry."));
      g_object_unref (task);
      return;
    }

  stream_answer (self, task, client, model);
}

/**
 * natter_conversation_retry_async:
 * @client: the provider to ask
 * @model: (nullable): the model to ask
 * @cancellable: (nullable): Stop
 *
 * Replaces a last answer that failed, was stopped or was interrupted with a
 * new one to the same context; a last question left without an answer gets
 * one. A complete answer is kept: fails with %G_IO_ERROR_INVALID_ARGUMENT
 * when there is nothing to retry, and %G_IO_ERROR_PENDING while an answer
 * streams.
 */
void
natter_conversation_retry_async (NatterConversation  *self,
                                 NatterClient        *client,
                                 const char          *model,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  g_return_if_fail (NATTER_IS_CLIENT (client));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = new_task (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_conversation_retry_async);
  if (check_not_streaming (self, task))
    redo_last_answer (self, g_steal_pointer (&task), client, model, FALSE);
}

/**
 * natter_conversation_retry_finish:
 *
 * Like natter_conversation_send_finish().
 *
 * Returns: (transfer full) (nullable): the complete answer
 */
NatterMessage *
natter_conversation_retry_finish (NatterConversation  *self,
                                  GAsyncResult        *result,
                                  GError             **error)
{
  return natter_conversation_send_finish (self, result, error);
}

/**
 * natter_conversation_regenerate_async:
 *
 * Like natter_conversation_retry_async(), but replaces a complete last
 * answer too: the user asked for another one. Finish with
 * natter_conversation_send_finish().
 */
void
natter_conversation_regenerate_async (NatterConversation  *self,
                                      NatterClient        *client,
                                      const char          *model,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  g_return_if_fail (NATTER_IS_CLIENT (client));

  task = new_task (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_conversation_regenerate_async);
  if (check_not_streaming (self, task))
    redo_last_answer (self, g_steal_pointer (&task), client, model, TRUE);
}

/* Sent to the model, not shown to the user: not translated, because models
 * follow English instructions most reliably whatever the conversation's
 * language. */
#define CONTINUE_PROMPT \
  "Continue your previous answer exactly where it stopped. Do not repeat " \
  "anything already written and do not comment on the interruption."

/**
 * natter_conversation_can_continue:
 *
 * Whether the last message is an answer cut short with text worth keeping:
 * stopped, interrupted, failed, or ended by the token limit.
 */
gboolean
natter_conversation_can_continue (NatterConversation *self)
{
  NatterMessage *last;

  g_return_val_if_fail (NATTER_IS_CONVERSATION (self), FALSE);

  last = last_message (self);
  if (self->streaming || last == NULL ||
      natter_message_get_role (last) != NATTER_ROLE_ASSISTANT ||
      natter_message_get_content_length (last) == 0)
    return FALSE;
  return is_unfinished (last) ||
         g_strcmp0 (natter_message_get_finish_reason (last), "length") == 0;
}

/**
 * natter_conversation_continue_async:
 *
 * Continue: sends the conversation with the partial last answer as the
 * last assistant message and a request to go on, and appends what comes
 * to that same message. Fails with %G_IO_ERROR_INVALID_ARGUMENT unless
 * natter_conversation_can_continue(). Finish with
 * natter_conversation_send_finish().
 */
void
natter_conversation_continue_async (NatterConversation  *self,
                                    NatterClient        *client,
                                    const char          *model,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(NatterChatRequest) request = NULL;

  g_return_if_fail (NATTER_IS_CONVERSATION (self));
  g_return_if_fail (NATTER_IS_CLIENT (client));

  task = new_task (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_conversation_continue_async);
  if (!check_not_streaming (self, task))
    return;
  if (!natter_conversation_can_continue (self))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("There is no unfinished answer to continue."));
      return;
    }

  request = natter_conversation_build_request (self, model);
  natter_chat_request_add_message (request, natter_role_to_string (NATTER_ROLE_USER),
                                   CONTINUE_PROMPT);
  stream_into (self, g_steal_pointer (&task), client, request, last_message (self));
}
