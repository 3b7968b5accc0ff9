/* natter-chat-request.c — the body of one /chat/completions call
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "natter-chat-request.h"

/* Temperatures below zero mean "the provider's default": the field is left
 * out rather than guessed, since providers' defaults differ. */
#define TEMPERATURE_UNSET -1.0

typedef struct {
  char *role;
  char *content;
} Message;

struct _NatterChatRequest
{
  GObject  parent_instance;

  char    *model;
  double   temperature;
  guint    max_tokens;
  GArray  *messages;
};

G_DEFINE_FINAL_TYPE (NatterChatRequest, natter_chat_request, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MODEL,
  PROP_TEMPERATURE,
  PROP_MAX_TOKENS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
message_clear (gpointer data)
{
  Message *message = data;

  g_free (message->role);
  g_free (message->content);
}

static void
natter_chat_request_finalize (GObject *object)
{
  NatterChatRequest *self = NATTER_CHAT_REQUEST (object);

  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->messages, g_array_unref);

  G_OBJECT_CLASS (natter_chat_request_parent_class)->finalize (object);
}

static void
natter_chat_request_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  NatterChatRequest *self = NATTER_CHAT_REQUEST (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      g_value_set_string (value, self->model);
      break;
    case PROP_TEMPERATURE:
      g_value_set_double (value, self->temperature);
      break;
    case PROP_MAX_TOKENS:
      g_value_set_uint (value, self->max_tokens);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_chat_request_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  NatterChatRequest *self = NATTER_CHAT_REQUEST (object);

  switch (prop_id)
    {
    case PROP_MODEL:
      natter_chat_request_set_model (self, g_value_get_string (value));
      break;
    case PROP_TEMPERATURE:
      natter_chat_request_set_temperature (self, g_value_get_double (value));
      break;
    case PROP_MAX_TOKENS:
      natter_chat_request_set_max_tokens (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_chat_request_class_init (NatterChatRequestClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = natter_chat_request_finalize;
  object_class->get_property = natter_chat_request_get_property;
  object_class->set_property = natter_chat_request_set_property;

  properties[PROP_MODEL] =
    g_param_spec_string ("model", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_TEMPERATURE] =
    g_param_spec_double ("temperature", NULL, NULL, TEMPERATURE_UNSET, 2.0, TEMPERATURE_UNSET,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_MAX_TOKENS] =
    g_param_spec_uint ("max-tokens", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
natter_chat_request_init (NatterChatRequest *self)
{
  self->temperature = TEMPERATURE_UNSET;
  self->messages = g_array_new (FALSE, TRUE, sizeof (Message));
  g_array_set_clear_func (self->messages, message_clear);
}

NatterChatRequest *
natter_chat_request_new (const char *model)
{
  return g_object_new (NATTER_TYPE_CHAT_REQUEST, "model", model, NULL);
}

const char *
natter_chat_request_get_model (NatterChatRequest *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_REQUEST (self), NULL);
  return self->model;
}

void
natter_chat_request_set_model (NatterChatRequest *self,
                               const char        *model)
{
  g_return_if_fail (NATTER_IS_CHAT_REQUEST (self));

  if (g_strcmp0 (self->model, model) == 0)
    return;
  g_free (self->model);
  self->model = g_strdup (model);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
}

double
natter_chat_request_get_temperature (NatterChatRequest *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_REQUEST (self), TEMPERATURE_UNSET);
  return self->temperature;
}

/* A negative @temperature leaves the choice to the provider. */
void
natter_chat_request_set_temperature (NatterChatRequest *self,
                                     double             temperature)
{
  g_return_if_fail (NATTER_IS_CHAT_REQUEST (self));

  temperature = temperature < 0 ? TEMPERATURE_UNSET : MIN (temperature, 2.0);
  if (self->temperature == temperature)
    return;
  self->temperature = temperature;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEMPERATURE]);
}

guint
natter_chat_request_get_max_tokens (NatterChatRequest *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_REQUEST (self), 0);
  return self->max_tokens;
}

/* 0 leaves the limit to the provider. */
void
natter_chat_request_set_max_tokens (NatterChatRequest *self,
                                    guint              max_tokens)
{
  g_return_if_fail (NATTER_IS_CHAT_REQUEST (self));

  if (self->max_tokens == max_tokens)
    return;
  self->max_tokens = max_tokens;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_TOKENS]);
}

/**
 * natter_chat_request_add_message:
 * @role: "system", "user" or "assistant"
 * @content: the message's text
 *
 * Appends one message to the context; the order is the conversation's.
 */
void
natter_chat_request_add_message (NatterChatRequest *self,
                                 const char        *role,
                                 const char        *content)
{
  Message message;

  g_return_if_fail (NATTER_IS_CHAT_REQUEST (self));
  g_return_if_fail (role != NULL && content != NULL);

  message.role = g_strdup (role);
  message.content = g_strdup (content);
  g_array_append_val (self->messages, message);
}

guint
natter_chat_request_get_n_messages (NatterChatRequest *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_REQUEST (self), 0);
  return self->messages->len;
}

static void
add_messages (NatterChatRequest *self,
              JsonBuilder       *builder)
{
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->messages->len; i++)
    {
      const Message *message = &g_array_index (self->messages, Message, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, message->role);
      json_builder_set_member_name (builder, "content");
      json_builder_add_string_value (builder, message->content);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/**
 * natter_chat_request_to_json:
 *
 * The body always asks for a stream that ends with a usage chunk.
 *
 * Returns: (transfer full): the JSON body, UTF-8
 */
GBytes *
natter_chat_request_to_json (NatterChatRequest *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;
  gsize length;
  char *json;

  g_return_val_if_fail (NATTER_IS_CHAT_REQUEST (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, self->model != NULL ? self->model : "");
  add_messages (self, builder);
  json_builder_set_member_name (builder, "stream");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "stream_options");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "include_usage");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  if (self->temperature >= 0)
    {
      json_builder_set_member_name (builder, "temperature");
      json_builder_add_double_value (builder, self->temperature);
    }
  if (self->max_tokens > 0)
    {
      json_builder_set_member_name (builder, "max_tokens");
      json_builder_add_int_value (builder, self->max_tokens);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json = json_to_string (root, FALSE);
  length = strlen (json);
  return g_bytes_new_take (json, length);
}
