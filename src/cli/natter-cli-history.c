/* natter-cli-history.c — natter-cli history [search TEXT]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The conversations the app and `natter-cli --save` keep, for people and
 * for scripts. Plain output is one line per item, fields separated by tabs,
 * with the line breaks and other control characters of titles and
 * snippets turned into spaces so that a line is always one item (and a
 * stored answer cannot send escape sequences to the terminal). JSON output
 * is one array.
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "natter-cli-history.h"

#define BOLD  "\033[1m"
#define RESET "\033[0m"

/**
 * natter_cli_history_open_store:
 * @create: whether a missing history is created
 *
 * Opens the history the app uses. Without @create, a history that does
 * not exist yet is left uncreated: %NULL is returned with no error.
 *
 * Returns: (transfer full) (nullable): the store
 */
NatterStore *
natter_cli_history_open_store (gboolean   create,
                               GError   **error)
{
  g_autofree char *path = natter_store_dup_default_path ();

  if (!create && !g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  return natter_store_open (path, error);
}

static void
print_json (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);

  puts (text);
}

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/* One field of a tab-separated line. */
static void
append_field (GString    *line,
              const char *text)
{
  for (const char *p = text != NULL ? text : ""; *p != '\0'; p++)
    g_string_append_c (line, (guchar) *p < 0x20 || *p == 0x7f ? ' ' : *p);
}

/* --- natter-cli history ------------------------------------------------- */

static void
add_conversation (JsonBuilder        *builder,
                  NatterConversation *conversation)
{
  double temperature = natter_conversation_get_temperature (conversation);
  guint max_tokens = natter_conversation_get_max_tokens (conversation);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, natter_conversation_get_id (conversation));
  add_string (builder, "title", natter_conversation_get_title (conversation));
  add_string (builder, "system_prompt", natter_conversation_get_system_prompt (conversation));
  json_builder_set_member_name (builder, "temperature");
  if (temperature >= 0)
    json_builder_add_double_value (builder, temperature);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "max_tokens");
  if (max_tokens > 0)
    json_builder_add_int_value (builder, max_tokens);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
}

/**
 * natter_cli_history_print_list:
 * @store: (nullable): the history; %NULL for one that does not exist yet
 *
 * Prints the conversations, most recently used first: "ID<tab>TITLE" lines,
 * or a JSON array of objects with their id, title and settings.
 */
gboolean
natter_cli_history_print_list (NatterStore  *store,
                               gboolean      json,
                               GError      **error)
{
  g_autoptr(GPtrArray) conversations = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  conversations = store != NULL ? natter_store_list_conversations (store, error)
                                : g_ptr_array_new ();
  if (conversations == NULL)
    return FALSE;

  json_builder_begin_array (builder);
  for (guint i = 0; i < conversations->len; i++)
    {
      NatterConversation *conversation = g_ptr_array_index (conversations, i);
      g_autoptr(GString) line = NULL;

      if (json)
        {
          add_conversation (builder, conversation);
          continue;
        }
      line = g_string_new (NULL);
      g_string_append_printf (line, "%" G_GINT64_FORMAT "\t", natter_conversation_get_id (conversation));
      append_field (line, natter_conversation_get_title (conversation));
      puts (line->str);
    }
  json_builder_end_array (builder);
  if (json)
    print_json (builder);
  return TRUE;
}

/* --- natter-cli history search TEXT -------------------------------------- */

/* On a terminal the matched words are bold, unless NO_COLOR asks for no
 * escape codes; elsewhere they are between [ and ]. */
static gboolean
want_bold (void)
{
  const char *no_color = g_getenv ("NO_COLOR");

  return isatty (STDOUT_FILENO) && (no_color == NULL || *no_color == '\0');
}

static void
append_plain_snippet (GString    *line,
                      const char *snippet,
                      gboolean    bold)
{
  for (const char *p = snippet != NULL ? snippet : ""; *p != '\0'; p++)
    {
      if (*p == NATTER_STORE_MATCH_START)
        g_string_append (line, bold ? BOLD : "[");
      else if (*p == NATTER_STORE_MATCH_END)
        g_string_append (line, bold ? RESET : "]");
      else
        g_string_append_c (line, (guchar) *p < 0x20 || *p == 0x7f ? ' ' : *p);
    }
}

/* The snippet without its markers, and where the matches are in it, in
 * characters (Unicode code points) from its start. */
static void
add_json_snippet (JsonBuilder *builder,
                  const char  *snippet)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GArray) offsets = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 chars = 0;

  for (const char *p = snippet != NULL ? snippet : ""; *p != '\0'; p++)
    {
      if (*p == NATTER_STORE_MATCH_START || *p == NATTER_STORE_MATCH_END)
        {
          g_array_append_val (offsets, chars);
          continue;
        }
      g_string_append_c (text, *p);
      if (((guchar) *p & 0xc0) != 0x80)
        chars++;
    }

  json_builder_set_member_name (builder, "snippet");
  json_builder_add_string_value (builder, text->str);
  json_builder_set_member_name (builder, "matches");
  json_builder_begin_array (builder);
  for (guint i = 0; i + 1 < offsets->len; i += 2)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "start");
      json_builder_add_int_value (builder, g_array_index (offsets, gint64, i));
      json_builder_set_member_name (builder, "end");
      json_builder_add_int_value (builder, g_array_index (offsets, gint64, i + 1));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
add_match (JsonBuilder            *builder,
           const NatterStoreMatch *match)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "conversation_id");
  json_builder_add_int_value (builder, match->conversation_id);
  json_builder_set_member_name (builder, "position");
  json_builder_add_int_value (builder, match->position);
  add_string (builder, "title", match->title);
  add_json_snippet (builder, match->snippet);
  json_builder_end_object (builder);
}

/**
 * natter_cli_history_print_matches:
 * @store: (nullable): the history; %NULL for one that does not exist yet
 * @text: the words to look for, all of them
 *
 * Prints the matching messages, best first:
 * "CONVERSATION<tab>POSITION<tab>TITLE<tab>SNIPPET" lines, positions
 * counted from 0, or a JSON array of objects with conversation_id,
 * position, title, snippet and matches ({start, end} in characters).
 */
gboolean
natter_cli_history_print_matches (NatterStore  *store,
                                  const char   *text,
                                  gboolean      json,
                                  GError      **error)
{
  g_autoptr(GArray) matches = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  gboolean bold = !json && want_bold ();

  matches = store != NULL ? natter_store_search (store, text, error)
                          : g_array_new (FALSE, FALSE, sizeof (NatterStoreMatch));
  if (matches == NULL)
    return FALSE;

  json_builder_begin_array (builder);
  for (guint i = 0; i < matches->len; i++)
    {
      const NatterStoreMatch *match = &g_array_index (matches, NatterStoreMatch, i);
      g_autoptr(GString) line = NULL;

      if (json)
        {
          add_match (builder, match);
          continue;
        }
      line = g_string_new (NULL);
      g_string_append_printf (line, "%" G_GINT64_FORMAT "\t%u\t", match->conversation_id, match->position);
      append_field (line, match->title);
      g_string_append_c (line, '\t');
      append_plain_snippet (line, match->snippet, bold);
      puts (line->str);
    }
  json_builder_end_array (builder);
  if (json)
    print_json (builder);
  return TRUE;
}
