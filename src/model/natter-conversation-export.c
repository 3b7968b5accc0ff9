/* natter-conversation-export.c — a conversation as Markdown or JSON, and back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Markdown is for people: something to paste or publish, never read back.
 * JSON is for Natter: every field a message has, so that a conversation
 * carried to another machine comes back the same. Both are built from the
 * conversation alone; nothing about the provider (its URL, its key) is
 * reachable from here, so nothing of it can leak into a file.
 *
 * Reading is strict about kinds (a role that is a number is an error, not a
 * guess) and lenient about absence (a file written by hand may leave out
 * what it does not know), so that a bad file is refused with a sentence that
 * says what is wrong with it rather than imported half right.
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "natter-conversation-export.h"

#define FORMAT_NAME    "natter-conversation"
#define FORMAT_VERSION 1

/* A value quoted back in an error message is cut: a 5 MB "role" would make
 * an unreadable dialog. */
#define QUOTED_MAX_CHARS 40

G_DEFINE_QUARK (natter-conversation-import-error-quark, natter_conversation_import_error)

/* The statistics of a message, written when known (not negative). */
static const struct {
  const char *name;
  gint64    (*get) (NatterMessage *message);
  void      (*set) (NatterMessage *message, gint64 value);
} message_stats[] = {
  { "ttft_us", natter_message_get_ttft_us, natter_message_set_ttft_us },
  { "duration_us", natter_message_get_duration_us, natter_message_set_duration_us },
  { "prompt_tokens", natter_message_get_prompt_tokens, natter_message_set_prompt_tokens },
  { "completion_tokens", natter_message_get_completion_tokens, natter_message_set_completion_tokens },
};

/* --- Enums by nick ------------------------------------------------------ */

static const char *
enum_to_nick (GType type,
              int   value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *enum_value = g_enum_get_value (klass, value);

  /* Nicks are static strings of a static type: they outlive the class ref. */
  return enum_value != NULL ? enum_value->value_nick : NULL;
}

static gboolean
enum_from_nick (GType       type,
                const char *nick,
                int        *value)
{
  g_autoptr(GEnumClass) klass = g_type_class_ref (type);
  GEnumValue *enum_value = g_enum_get_value_by_nick (klass, nick);

  if (enum_value == NULL)
    return FALSE;
  *value = enum_value->value;
  return TRUE;
}

/* Nothing streams in a file: an answer caught mid-stream is written, and
 * read, as one that was interrupted, which is what it is once saved. */
static NatterMessageState
state_at_rest (NatterMessageState state)
{
  return state == NATTER_MESSAGE_STATE_STREAMING ? NATTER_MESSAGE_STATE_INTERRUPTED : state;
}

/* --- Markdown ------------------------------------------------------------ */

/* The run of three or more backticks or tildes that starts @line (after up
 * to three spaces), or 0; @marker and @after are set when there is one. */
static gsize
fence_length (const char  *line,
              const char  *end,
              char        *marker,
              const char **after)
{
  const char *p = line;

  while (p < end && *p == ' ' && p - line < 3)
    p++;
  if (p == end || (*p != '`' && *p != '~'))
    return 0;
  *marker = *p;
  *after = p;
  while (*after < end && **after == *marker)
    (*after)++;
  return *after - p >= 3 ? (gsize) (*after - p) : 0;
}

static gboolean
is_blank (const char *p,
          const char *end)
{
  for (; p < end; p++)
    if (*p != ' ' && *p != '\t' && *p != '\r')
      return FALSE;
  return TRUE;
}

/* An answer stopped in the middle of a code block would turn every heading
 * after it into code. Returns the fence that closes the block @text leaves
 * open, or %NULL. One pass, as a 5 MB answer must not cost more. */
static char *
unclosed_fence (const char *text)
{
  const char *line = text;
  const char *text_end = text + strlen (text);
  char open_marker = 0;
  gsize open_length = 0;

  while (line < text_end)
    {
      const char *end = memchr (line, '\n', text_end - line);
      const char *after = NULL;
      char marker = 0;
      gsize length;

      if (end == NULL)
        end = text_end;
      length = fence_length (line, end, &marker, &after);
      if (open_length == 0 && length > 0 &&
          (marker == '~' || memchr (after, '`', end - after) == NULL))
        {
          open_marker = marker;
          open_length = length;
        }
      else if (open_length > 0 && marker == open_marker && length >= open_length &&
               is_blank (after, end))
        open_length = 0;
      line = end + 1;
    }
  return open_length > 0 ? g_strnfill (open_length, open_marker) : NULL;
}

/* Appends @text as a block of its own: ending with a newline, any code
 * block it opens closed, and a blank line before whatever comes next. */
static void
append_block (GString    *out,
              const char *text)
{
  g_autofree char *fence = unclosed_fence (text);
  gsize length = strlen (text);

  g_string_append_len (out, text, length);
  if (length > 0 && text[length - 1] != '\n')
    g_string_append_c (out, '\n');
  if (fence != NULL)
    g_string_append_printf (out, "%s\n", fence);
  g_string_append_c (out, '\n');
}

static void
append_quote (GString    *out,
              const char *text)
{
  g_autofree char *fence = unclosed_fence (text);
  const char *line = text;

  while (*line != '\0')
    {
      const char *end = strchr (line, '\n');

      if (end == NULL)
        end = line + strlen (line);

      g_string_append (out, end > line ? "> " : ">");
      g_string_append_len (out, line, end - line);
      g_string_append_c (out, '\n');
      line = *end != '\0' ? end + 1 : end;
    }
  if (fence != NULL)
    g_string_append_printf (out, "> %s\n", fence);
  g_string_append_c (out, '\n');
}

/* Titles, model names and error messages are plain text: on one line, with
 * the characters Markdown would read as markup escaped. */
static void
append_inline (GString    *out,
               const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\n' || *p == '\r')
        {
          g_string_append_c (out, ' ');
          continue;
        }
      if (strchr ("\\`*_[]<>#|~!", *p) != NULL)
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
}

static void
append_heading (GString    *out,
                const char *level,
                const char *text)
{
  g_string_append_printf (out, "%s ", level);
  append_inline (out, text);
  g_string_append (out, "\n\n");
}

static char *
state_note (NatterMessage *message)
{
  const GError *error = natter_message_get_error (message);

  switch (state_at_rest (natter_message_get_state (message)))
    {
    case NATTER_MESSAGE_STATE_STOPPED:
      /* Translators: an answer the user stopped before it ended */
      return g_strdup (_("Stopped"));
    case NATTER_MESSAGE_STATE_INTERRUPTED:
      /* Translators: an answer cut off when Natter quit or crashed */
      return g_strdup (_("Interrupted"));
    case NATTER_MESSAGE_STATE_FAILED:
      if (error == NULL || error->message[0] == '\0')
        /* Translators: an answer that ended with an error */
        return g_strdup (_("Failed"));
      /* Translators: %s is why an answer failed, as the provider or the network said */
      return g_strdup_printf (_("Failed: %s"), error->message);
    case NATTER_MESSAGE_STATE_COMPLETE:
    case NATTER_MESSAGE_STATE_STREAMING:
    default:
      return NULL;
    }
}

static void
append_state_note (GString       *out,
                   NatterMessage *message)
{
  g_autofree char *note = state_note (message);

  if (note == NULL)
    return;
  /* Emphasis does not start or end next to a space. */
  g_string_append_c (out, '*');
  append_inline (out, g_strstrip (note));
  g_string_append (out, "*\n\n");
}

static void
append_message_heading (GString       *out,
                        NatterMessage *message)
{
  const char *model = natter_message_get_model (message);

  switch (natter_message_get_role (message))
    {
    case NATTER_ROLE_USER:
      g_string_append_printf (out, "## %s\n\n", _("You"));
      return;
    case NATTER_ROLE_SYSTEM:
      g_string_append_printf (out, "## %s\n\n", _("System"));
      return;
    case NATTER_ROLE_ASSISTANT:
    default:
      g_string_append_printf (out, "## %s", _("Assistant"));
      break;
    }
  if (model != NULL && *model != '\0')
    {
      g_string_append (out, " · ");
      append_inline (out, model);
    }
  g_string_append (out, "\n\n");
}

static void
append_message (GString       *out,
                NatterMessage *message)
{
  const char *reasoning = natter_message_get_reasoning (message);
  const char *content = natter_message_get_content (message);

  append_message_heading (out, message);
  if (*reasoning != '\0')
    {
      g_autofree char *summary = g_markup_escape_text (_("Reasoning"), -1);

      /* The blank lines let Markdown inside the block be rendered as such. */
      g_string_append_printf (out, "<details><summary>%s</summary>\n\n", summary);
      append_block (out, reasoning);
      g_string_append (out, "</details>\n\n");
    }
  if (*content != '\0')
    append_block (out, content);
  append_state_note (out, message);
}

/**
 * natter_conversation_to_markdown:
 *
 * The conversation for people to read: its title, the system prompt as a
 * quote, then each message under a heading, its text as written. A code
 * block an interrupted answer left open is closed, so that the rest still
 * reads as Markdown.
 *
 * Returns: (transfer full): UTF-8 Markdown
 */
char *
natter_conversation_to_markdown (NatterConversation *conversation)
{
  const char *title;
  const char *system_prompt;
  GString *out;
  guint n_items;

  g_return_val_if_fail (NATTER_IS_CONVERSATION (conversation), NULL);

  title = natter_conversation_get_title (conversation);
  system_prompt = natter_conversation_get_system_prompt (conversation);
  n_items = g_list_model_get_n_items (G_LIST_MODEL (conversation));
  out = g_string_new (NULL);

  append_heading (out, "#", title != NULL && *title != '\0' ? title : _("Conversation"));
  if (system_prompt != NULL && *system_prompt != '\0')
    {
      append_heading (out, "##", _("System prompt"));
      append_quote (out, system_prompt);
    }
  for (guint i = 0; i < n_items; i++)
    append_message (out, natter_conversation_get_message (conversation, i));

  /* One newline at the end of the file, not the blank line every block
   * leaves for the next one. */
  while (out->len > 1 && out->str[out->len - 1] == '\n' && out->str[out->len - 2] == '\n')
    g_string_truncate (out, out->len - 1);
  return g_string_free (out, FALSE);
}

/* --- JSON: writing ------------------------------------------------------- */

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

/* Empty and unset are the same to a message: neither is written. */
static void
add_optional_string (JsonBuilder *builder,
                     const char  *name,
                     const char  *value)
{
  if (value != NULL && *value != '\0')
    add_string (builder, name, value);
}

static void
add_message (JsonBuilder   *builder,
             NatterMessage *message)
{
  NatterMessageState state = state_at_rest (natter_message_get_state (message));
  const GError *error = natter_message_get_error (message);

  json_builder_begin_object (builder);
  add_string (builder, "role", enum_to_nick (NATTER_TYPE_ROLE, natter_message_get_role (message)));
  add_string (builder, "content", natter_message_get_content (message));
  add_optional_string (builder, "reasoning", natter_message_get_reasoning (message));
  add_string (builder, "state", enum_to_nick (NATTER_TYPE_MESSAGE_STATE, state));
  add_optional_string (builder, "error", error != NULL ? error->message : NULL);
  add_optional_string (builder, "model", natter_message_get_model (message));
  add_optional_string (builder, "finish_reason", natter_message_get_finish_reason (message));
  for (guint i = 0; i < G_N_ELEMENTS (message_stats); i++)
    {
      gint64 value = message_stats[i].get (message);

      if (value < 0)
        continue;
      json_builder_set_member_name (builder, message_stats[i].name);
      json_builder_add_int_value (builder, value);
    }
  json_builder_end_object (builder);
}

static void
add_settings (JsonBuilder        *builder,
              NatterConversation *conversation)
{
  const char *title = natter_conversation_get_title (conversation);
  const char *system_prompt = natter_conversation_get_system_prompt (conversation);
  double temperature = natter_conversation_get_temperature (conversation);
  guint max_tokens = natter_conversation_get_max_tokens (conversation);

  if (title != NULL)
    add_string (builder, "title", title);
  if (system_prompt != NULL)
    add_string (builder, "system_prompt", system_prompt);
  if (temperature >= 0)
    {
      json_builder_set_member_name (builder, "temperature");
      json_builder_add_double_value (builder, temperature);
    }
  if (max_tokens > 0)
    {
      json_builder_set_member_name (builder, "max_tokens");
      json_builder_add_int_value (builder, max_tokens);
    }
}

/**
 * natter_conversation_to_json:
 *
 * The conversation for Natter to read back with
 * natter_conversation_new_from_json(): its settings and every message with
 * its state, error and statistics. Nothing else: no provider, no key.
 *
 * Returns: (transfer full): pretty-printed JSON
 */
char *
natter_conversation_to_json (NatterConversation *conversation)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  guint n_items;
  GString *out;

  g_return_val_if_fail (NATTER_IS_CONVERSATION (conversation), NULL);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_string (builder, "format", FORMAT_NAME);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, FORMAT_VERSION);
  add_settings (builder, conversation);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  n_items = g_list_model_get_n_items (G_LIST_MODEL (conversation));
  for (guint i = 0; i < n_items; i++)
    add_message (builder, natter_conversation_get_message (conversation, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);

  out = g_string_new (NULL);
  json_generator_to_gstring (generator, out);
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

/* --- JSON: reading ------------------------------------------------------- */

typedef enum {
  KIND_TEXT,
  KIND_INTEGER,
  KIND_NUMBER,
} Kind;

static gboolean
set_invalid (GError     **error,
             const char  *message)
{
  g_set_error_literal (error, NATTER_CONVERSATION_IMPORT_ERROR,
                       NATTER_CONVERSATION_IMPORT_ERROR_INVALID, message);
  return FALSE;
}

static gboolean
set_not_natter (GError **error)
{
  return set_invalid (error, _("The file is not a Natter conversation."));
}

/* @number is the message's, from 1 as people count; 0 for the conversation. */
static gboolean
set_wrong_kind (GError     **error,
                guint        number,
                const char  *name,
                Kind         kind)
{
  g_autofree char *message = NULL;

  if (number == 0)
    message = g_strdup_printf (kind == KIND_TEXT ? _("The “%s” field of the conversation is not text.")
                               : kind == KIND_INTEGER ? _("The “%s” field of the conversation is not a whole number.")
                               : _("The “%s” field of the conversation is not a number."),
                               name);
  else
    message = g_strdup_printf (kind == KIND_TEXT ? _("The “%s” field of message %u is not text.")
                               : kind == KIND_INTEGER ? _("The “%s” field of message %u is not a whole number.")
                               : _("The “%s” field of message %u is not a number."),
                               name, number);
  return set_invalid (error, message);
}

static gboolean
holds_kind (JsonNode *node,
            Kind      kind)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  switch (kind)
    {
    case KIND_TEXT:
      return type == G_TYPE_STRING;
    case KIND_INTEGER:
      return type == G_TYPE_INT64;
    case KIND_NUMBER:
      return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
    default:
      g_return_val_if_reached (FALSE);
    }
}

/* Absent and null are the same: *@node is left %NULL. A value of another
 * kind is an error. */
static gboolean
lookup (JsonObject  *object,
        const char  *name,
        Kind         kind,
        guint        number,
        JsonNode   **node,
        GError     **error)
{
  JsonNode *member = json_object_get_member (object, name);

  *node = NULL;
  if (member == NULL || JSON_NODE_HOLDS_NULL (member))
    return TRUE;
  if (!holds_kind (member, kind))
    return set_wrong_kind (error, number, name, kind);
  *node = member;
  return TRUE;
}

/* *@value is left as is when the field is absent, and so are the others. */
static gboolean
lookup_string (JsonObject  *object,
               const char  *name,
               guint        number,
               const char **value,
               GError     **error)
{
  JsonNode *node;

  if (!lookup (object, name, KIND_TEXT, number, &node, error))
    return FALSE;
  if (node != NULL)
    *value = json_node_get_string (node);
  return TRUE;
}

static gboolean
lookup_int (JsonObject  *object,
            const char  *name,
            guint        number,
            gint64      *value,
            GError     **error)
{
  JsonNode *node;

  if (!lookup (object, name, KIND_INTEGER, number, &node, error))
    return FALSE;
  if (node != NULL)
    *value = json_node_get_int (node);
  return TRUE;
}

static gboolean
lookup_double (JsonObject  *object,
               const char  *name,
               guint        number,
               double      *value,
               GError     **error)
{
  JsonNode *node;

  if (!lookup (object, name, KIND_NUMBER, number, &node, error))
    return FALSE;
  if (node != NULL)
    *value = json_node_get_double (node);
  return TRUE;
}

static char *
quoted (const char *value)
{
  g_autofree char *start = NULL;

  if (g_utf8_strlen (value, QUOTED_MAX_CHARS + 1) <= QUOTED_MAX_CHARS)
    return g_strdup (value);
  start = g_utf8_substring (value, 0, QUOTED_MAX_CHARS);
  return g_strconcat (start, "…", NULL);
}

static gboolean
read_role (JsonObject  *object,
           guint        number,
           NatterRole  *role,
           GError     **error)
{
  const char *nick = NULL;
  g_autofree char *shown = NULL;
  int value;

  if (!lookup_string (object, "role", number, &nick, error))
    return FALSE;
  if (nick == NULL)
    {
      g_set_error (error, NATTER_CONVERSATION_IMPORT_ERROR, NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
                   _("Message %u has no role."), number);
      return FALSE;
    }
  if (enum_from_nick (NATTER_TYPE_ROLE, nick, &value))
    {
      *role = value;
      return TRUE;
    }
  shown = quoted (nick);
  g_set_error (error, NATTER_CONVERSATION_IMPORT_ERROR, NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
               _("Message %u has an unknown role “%s”."), number, shown);
  return FALSE;
}

static gboolean
read_state (JsonObject     *object,
            guint           number,
            NatterMessage  *message,
            GError        **error)
{
  const char *nick = NULL;
  g_autofree char *shown = NULL;
  int value;

  if (!lookup_string (object, "state", number, &nick, error))
    return FALSE;
  if (nick == NULL)
    return TRUE;
  if (enum_from_nick (NATTER_TYPE_MESSAGE_STATE, nick, &value))
    {
      natter_message_set_state (message, state_at_rest (value));
      return TRUE;
    }
  shown = quoted (nick);
  g_set_error (error, NATTER_CONVERSATION_IMPORT_ERROR, NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
               _("Message %u has an unknown state “%s”."), number, shown);
  return FALSE;
}

static gboolean
read_texts (JsonObject     *object,
            guint           number,
            NatterMessage  *message,
            GError        **error)
{
  const char *reasoning = NULL;
  const char *error_text = NULL;
  const char *model = NULL;
  const char *finish_reason = NULL;

  if (!lookup_string (object, "reasoning", number, &reasoning, error) ||
      !lookup_string (object, "error", number, &error_text, error) ||
      !lookup_string (object, "model", number, &model, error) ||
      !lookup_string (object, "finish_reason", number, &finish_reason, error))
    return FALSE;

  natter_message_set_reasoning (message, reasoning);
  natter_message_set_model (message, model);
  natter_message_set_finish_reason (message, finish_reason);
  if (error_text != NULL)
    {
      /* Where the error came from is not kept: its domain may not even
       * exist in the Natter that reads the file. */
      g_autoptr(GError) saved = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, error_text);

      natter_message_set_error (message, saved);
    }
  return TRUE;
}

static gboolean
read_stats (JsonObject     *object,
            guint           number,
            NatterMessage  *message,
            GError        **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (message_stats); i++)
    {
      gint64 value = -1;

      if (!lookup_int (object, message_stats[i].name, number, &value, error))
        return FALSE;
      message_stats[i].set (message, value);
    }
  return TRUE;
}

static NatterMessage *
read_message (JsonNode  *node,
              guint      number,
              GError   **error)
{
  g_autoptr(NatterMessage) message = NULL;
  JsonObject *object;
  const char *content = NULL;
  NatterRole role;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, NATTER_CONVERSATION_IMPORT_ERROR, NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
                   _("Message %u is not a JSON object."), number);
      return NULL;
    }
  object = json_node_get_object (node);
  if (!read_role (object, number, &role, error) ||
      !lookup_string (object, "content", number, &content, error))
    return NULL;

  message = natter_message_new (role, content);
  if (!read_state (object, number, message, error) ||
      !read_texts (object, number, message, error) ||
      !read_stats (object, number, message, error))
    return NULL;
  return g_steal_pointer (&message);
}

static GPtrArray *
read_messages (JsonObject  *root,
               GError     **error)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  JsonNode *node = json_object_get_member (root, "messages");
  JsonArray *array;
  guint length;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_steal_pointer (&messages);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      set_invalid (error, _("The “messages” field of the conversation is not a list."));
      return NULL;
    }
  array = json_node_get_array (node);
  length = json_array_get_length (array);
  for (guint i = 0; i < length; i++)
    {
      NatterMessage *message = read_message (json_array_get_element (array, i), i + 1, error);

      if (message == NULL)
        return NULL;
      g_ptr_array_add (messages, message);
    }
  return g_steal_pointer (&messages);
}

static gboolean
read_settings (JsonObject          *root,
               NatterConversation  *conversation,
               GError             **error)
{
  const char *title = NULL;
  const char *system_prompt = NULL;
  double temperature = -1;
  gint64 max_tokens = 0;

  if (!lookup_string (root, "title", 0, &title, error) ||
      !lookup_string (root, "system_prompt", 0, &system_prompt, error) ||
      !lookup_double (root, "temperature", 0, &temperature, error) ||
      !lookup_int (root, "max_tokens", 0, &max_tokens, error))
    return FALSE;
  if (max_tokens < 0 || max_tokens > G_MAXUINT)
    return set_invalid (error, _("The “max_tokens” field of the conversation is out of range."));

  natter_conversation_set_title (conversation, title);
  natter_conversation_set_system_prompt (conversation, system_prompt);
  /* Out of range is the setter's to clamp, as for any other caller. */
  natter_conversation_set_temperature (conversation, temperature);
  natter_conversation_set_max_tokens (conversation, (guint) max_tokens);
  return TRUE;
}

/* The format and version come first: a newer file is refused as newer, not
 * for whatever field it has changed. */
static gboolean
check_format (JsonNode  *root,
              GError   **error)
{
  JsonObject *object;
  JsonNode *format;
  gint64 version = 0;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return set_not_natter (error);
  object = json_node_get_object (root);
  format = json_object_get_member (object, "format");
  if (format == NULL || !holds_kind (format, KIND_TEXT) ||
      g_strcmp0 (json_node_get_string (format), FORMAT_NAME) != 0)
    return set_not_natter (error);

  if (!lookup_int (object, "version", 0, &version, error))
    return FALSE;
  if (version > FORMAT_VERSION)
    {
      g_set_error_literal (error, NATTER_CONVERSATION_IMPORT_ERROR,
                           NATTER_CONVERSATION_IMPORT_ERROR_NEWER_VERSION,
                           _("The conversation was saved by a newer version of Natter. "
                             "Update Natter to open it."));
      return FALSE;
    }
  if (version < 1)
    return set_invalid (error, _("The file does not say which version of the format it uses."));
  return TRUE;
}

/**
 * natter_conversation_new_from_json:
 * @json: what natter_conversation_to_json() wrote
 * @length: the length of @json in bytes, or -1 if it ends with a NUL
 * @error: set in %NATTER_CONVERSATION_IMPORT_ERROR, with a sentence for the
 *   user, when @json is not a conversation Natter can read
 *
 * Members it does not know are ignored; optional ones may be absent. Message
 * numbers in errors count from 1.
 *
 * Returns: (transfer full) (nullable): a new conversation, not yet saved
 */
NatterConversation *
natter_conversation_new_from_json (const char  *json,
                                   gssize       length,
                                   GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(NatterConversation) conversation = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) parse_error = NULL;
  JsonNode *root;

  g_return_val_if_fail (json != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json != NULL ? json : "", length, &parse_error))
    {
      g_set_error (error, NATTER_CONVERSATION_IMPORT_ERROR, NATTER_CONVERSATION_IMPORT_ERROR_INVALID,
                   _("The file is not valid JSON: %s"), parse_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (!check_format (root, error))
    return NULL;

  conversation = natter_conversation_new ();
  if (!read_settings (json_node_get_object (root), conversation, error))
    return NULL;
  messages = read_messages (json_node_get_object (root), error);
  if (messages == NULL)
    return NULL;
  natter_conversation_append_all (conversation, messages);
  return g_steal_pointer (&conversation);
}
