/* natter-history.c — the saved conversations, most recent first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A GListModel of NatterConversation for the sidebar. Starting up reads
 * only the conversations' titles and settings; a conversation's messages
 * are read when it is opened, and from then on a NatterAutosave keeps it
 * saved, whether it is on screen or streaming in the background. A
 * conversation moves to the top when a message is added to it; a new one
 * joins the list with its first message.
 *
 * Removing is in two steps so that it can be undone: the conversation
 * leaves the list at once and is deleted from the file by
 * natter_history_commit_removals(), or when the history goes.
 */
#include "config.h"

#include "natter-autosave.h"
#include "natter-history.h"

/* --- NatterSearchResult ------------------------------------------------------ */

struct _NatterSearchResult
{
  GObject             parent_instance;

  NatterConversation *conversation;
  guint               position;
  char               *snippet;
};

G_DEFINE_FINAL_TYPE (NatterSearchResult, natter_search_result, G_TYPE_OBJECT)

static void
natter_search_result_finalize (GObject *object)
{
  NatterSearchResult *self = NATTER_SEARCH_RESULT (object);

  g_clear_object (&self->conversation);
  g_free (self->snippet);

  G_OBJECT_CLASS (natter_search_result_parent_class)->finalize (object);
}

static void
natter_search_result_class_init (NatterSearchResultClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = natter_search_result_finalize;
}

static void
natter_search_result_init (NatterSearchResult *self)
{
}

/**
 * natter_search_result_get_conversation:
 *
 * Returns: (transfer none): the conversation the match is in
 */
NatterConversation *
natter_search_result_get_conversation (NatterSearchResult *self)
{
  g_return_val_if_fail (NATTER_IS_SEARCH_RESULT (self), NULL);
  return self->conversation;
}

/* The matching message's index in its conversation. */
guint
natter_search_result_get_position (NatterSearchResult *self)
{
  g_return_val_if_fail (NATTER_IS_SEARCH_RESULT (self), 0);
  return self->position;
}

/* The text around the match, matched words between NATTER_STORE_MATCH_START
 * and NATTER_STORE_MATCH_END. */
const char *
natter_search_result_get_snippet (NatterSearchResult *self)
{
  g_return_val_if_fail (NATTER_IS_SEARCH_RESULT (self), NULL);
  return self->snippet;
}

/* --- NatterHistory ------------------------------------------------------------- */

typedef struct {
  NatterConversation *conversation;
  guint               position;   /* where it was listed, for Undo */
} Removal;

struct _NatterHistory
{
  GObject      parent_instance;

  NatterStore *store;
  GPtrArray   *conversations;  /* listed, most recent first */
  GHashTable  *autosaves;      /* NatterConversation → NatterAutosave, once opened */
  GArray      *removals;       /* of Removal, waiting for Undo or commit */
};

static void natter_history_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (NatterHistory, natter_history, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      natter_history_list_model_init))

enum {
  SAVE_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GType
natter_history_get_item_type (GListModel *model)
{
  return NATTER_TYPE_CONVERSATION;
}

static guint
natter_history_get_n_items (GListModel *model)
{
  return NATTER_HISTORY (model)->conversations->len;
}

static gpointer
natter_history_get_item (GListModel *model,
                         guint       position)
{
  NatterHistory *self = NATTER_HISTORY (model);

  if (position >= self->conversations->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->conversations, position));
}

static void
natter_history_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = natter_history_get_item_type;
  iface->get_n_items = natter_history_get_n_items;
  iface->get_item = natter_history_get_item;
}

static gboolean
is_removed (NatterHistory      *self,
            NatterConversation *conversation)
{
  for (guint i = 0; i < self->removals->len; i++)
    if (g_array_index (self->removals, Removal, i).conversation == conversation)
      return TRUE;
  return FALSE;
}

/* A message was added: the conversation goes to the top, and a new one
 * joins the list. One items-changed covers the move, so that a selection
 * follows the conversation. */
static void
conversation_changed_cb (NatterConversation *conversation,
                         guint               position,
                         guint               removed,
                         guint               added,
                         NatterHistory      *self)
{
  guint index;

  if (added == 0 || natter_conversation_get_id (conversation) == 0 ||
      is_removed (self, conversation))
    return;

  if (!g_ptr_array_find (self->conversations, conversation, &index))
    {
      g_ptr_array_insert (self->conversations, 0, g_object_ref (conversation));
      g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, 1);
    }
  else if (index > 0)
    {
      g_ptr_array_insert (self->conversations, 0,
                          g_ptr_array_steal_index (self->conversations, index));
      g_list_model_items_changed (G_LIST_MODEL (self), 0, index + 1, index + 1);
    }
}

static void
save_failed_cb (NatterAutosave *autosave,
                GError         *error,
                NatterHistory  *self)
{
  g_signal_emit (self, signals[SAVE_FAILED], 0, error);
}

/* From now on @conversation is saved as it changes. The autosave's handler
 * runs first, so a new conversation has its id when this one sees it. */
static void
watch (NatterHistory      *self,
       NatterConversation *conversation,
       GArray             *message_ids)
{
  NatterAutosave *autosave = natter_autosave_new (self->store, conversation, message_ids);

  g_signal_connect (autosave, "save-failed", G_CALLBACK (save_failed_cb), self);
  g_signal_connect (conversation, "items-changed", G_CALLBACK (conversation_changed_cb), self);
  g_hash_table_insert (self->autosaves, g_object_ref (conversation), autosave);
}

static void
unwatch (NatterHistory      *self,
         NatterConversation *conversation)
{
  g_signal_handlers_disconnect_by_data (conversation, self);
  /* Disposing the autosave writes its pending checkpoints. */
  g_hash_table_remove (self->autosaves, conversation);
}

static void
natter_history_dispose (GObject *object)
{
  NatterHistory *self = NATTER_HISTORY (object);

  if (self->store != NULL)
    natter_history_commit_removals (self);
  if (self->autosaves != NULL)
    {
      GHashTableIter iter;
      gpointer conversation;

      g_hash_table_iter_init (&iter, self->autosaves);
      while (g_hash_table_iter_next (&iter, &conversation, NULL))
        g_signal_handlers_disconnect_by_data (conversation, self);
    }
  g_clear_pointer (&self->autosaves, g_hash_table_unref);
  g_clear_pointer (&self->conversations, g_ptr_array_unref);
  g_clear_pointer (&self->removals, g_array_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (natter_history_parent_class)->dispose (object);
}

static void
natter_history_class_init (NatterHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = natter_history_dispose;

  /**
   * NatterHistory::save-failed:
   * @error: what the store said
   *
   * Something could not be written; the conversation stays on screen, but
   * the user should know it may not survive a restart.
   */
  signals[SAVE_FAILED] =
    g_signal_new ("save-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
removal_clear (gpointer data)
{
  g_clear_object (&((Removal *) data)->conversation);
}

static void
natter_history_init (NatterHistory *self)
{
  self->conversations = g_ptr_array_new_with_free_func (g_object_unref);
  self->autosaves = g_hash_table_new_full (NULL, NULL, g_object_unref, g_object_unref);
  self->removals = g_array_new (FALSE, FALSE, sizeof (Removal));
  g_array_set_clear_func (self->removals, removal_clear);
}

/**
 * natter_history_new:
 *
 * Reads the list of conversations, without their messages.
 *
 * Returns: (transfer full) (nullable): the history, or %NULL on error
 */
NatterHistory *
natter_history_new (NatterStore  *store,
                    GError      **error)
{
  g_autoptr(NatterHistory) self = NULL;
  g_autoptr(GPtrArray) conversations = NULL;

  g_return_val_if_fail (NATTER_IS_STORE (store), NULL);

  conversations = natter_store_list_conversations (store, error);
  if (conversations == NULL)
    return NULL;

  self = g_object_new (NATTER_TYPE_HISTORY, NULL);
  self->store = g_object_ref (store);
  g_ptr_array_extend_and_steal (self->conversations, g_steal_pointer (&conversations));
  return g_steal_pointer (&self);
}

/**
 * natter_history_get_store:
 *
 * Returns: (transfer none): where the history is kept
 */
NatterStore *
natter_history_get_store (NatterHistory *self)
{
  g_return_val_if_fail (NATTER_IS_HISTORY (self), NULL);
  return self->store;
}

/**
 * natter_history_create:
 *
 * A new, empty conversation, saved from its first message on; it joins the
 * list then.
 *
 * Returns: (transfer full): the conversation
 */
NatterConversation *
natter_history_create (NatterHistory *self)
{
  NatterConversation *conversation;

  g_return_val_if_fail (NATTER_IS_HISTORY (self), NULL);

  conversation = natter_conversation_new ();
  watch (self, conversation, NULL);
  return conversation;
}

/**
 * natter_history_open:
 * @conversation: a conversation of the history
 *
 * Reads the messages of @conversation if that was not done yet. A
 * conversation stays open, and saved, until the history goes.
 *
 * Returns: %TRUE if the messages are there
 */
gboolean
natter_history_open (NatterHistory       *self,
                     NatterConversation  *conversation,
                     GError             **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GArray) ids = NULL;

  g_return_val_if_fail (NATTER_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (NATTER_IS_CONVERSATION (conversation), FALSE);

  if (g_hash_table_contains (self->autosaves, conversation))
    return TRUE;

  messages = natter_store_load_messages (self->store, natter_conversation_get_id (conversation),
                                         &ids, error);
  if (messages == NULL)
    return FALSE;
  natter_conversation_append_all (conversation, messages);
  watch (self, conversation, ids);
  return TRUE;
}

/**
 * natter_history_lookup:
 *
 * Returns: (transfer none) (nullable): the listed conversation with @id
 */
NatterConversation *
natter_history_lookup (NatterHistory *self,
                       gint64         id)
{
  g_return_val_if_fail (NATTER_IS_HISTORY (self), NULL);

  for (guint i = 0; i < self->conversations->len; i++)
    {
      NatterConversation *conversation = g_ptr_array_index (self->conversations, i);

      if (natter_conversation_get_id (conversation) == id)
        return conversation;
    }
  return NULL;
}

/**
 * natter_history_add:
 * @conversation: a conversation that was never saved, with its messages,
 *   as an import makes
 *
 * Saves @conversation and its messages, and lists it first.
 *
 * Returns: (transfer none) (nullable): @conversation, or %NULL on error
 */
NatterConversation *
natter_history_add (NatterHistory       *self,
                    NatterConversation  *conversation,
                    GError             **error)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint n_messages;

  g_return_val_if_fail (NATTER_IS_HISTORY (self), NULL);
  g_return_val_if_fail (NATTER_IS_CONVERSATION (conversation), NULL);
  g_return_val_if_fail (natter_conversation_get_id (conversation) == 0, NULL);

  if (!natter_store_save_conversation (self->store, conversation, error))
    return NULL;
  n_messages = g_list_model_get_n_items (G_LIST_MODEL (conversation));
  for (guint i = 0; i < n_messages; i++)
    {
      gint64 id = natter_store_append_message (self->store, natter_conversation_get_id (conversation),
                                               natter_conversation_get_message (conversation, i),
                                               error);
      if (id == 0)
        {
          /* Half an import is worse than none. */
          natter_store_delete_conversation (self->store, natter_conversation_get_id (conversation), NULL);
          natter_conversation_set_id (conversation, 0);
          return NULL;
        }
      g_array_append_val (ids, id);
    }

  watch (self, conversation, ids);
  g_ptr_array_insert (self->conversations, 0, g_object_ref (conversation));
  g_list_model_items_changed (G_LIST_MODEL (self), 0, 0, 1);
  return conversation;
}

/**
 * natter_history_remove:
 *
 * Takes @conversation off the list, stopping its answer if one streams. It
 * is deleted by natter_history_commit_removals() unless
 * natter_history_undo_remove() brings it back first.
 */
void
natter_history_remove (NatterHistory      *self,
                       NatterConversation *conversation)
{
  Removal removal;
  guint index;

  g_return_if_fail (NATTER_IS_HISTORY (self));
  g_return_if_fail (NATTER_IS_CONVERSATION (conversation));

  if (!g_ptr_array_find (self->conversations, conversation, &index))
    return;
  natter_conversation_stop (conversation);
  removal.conversation = g_ptr_array_steal_index (self->conversations, index);
  removal.position = index;
  g_array_append_val (self->removals, removal);
  g_list_model_items_changed (G_LIST_MODEL (self), index, 1, 0);
}

/* Undo: @conversation goes back where it was. */
void
natter_history_undo_remove (NatterHistory      *self,
                            NatterConversation *conversation)
{
  g_return_if_fail (NATTER_IS_HISTORY (self));

  for (guint i = 0; i < self->removals->len; i++)
    {
      Removal *removal = &g_array_index (self->removals, Removal, i);
      guint position = MIN (removal->position, self->conversations->len);

      if (removal->conversation != conversation)
        continue;
      g_ptr_array_insert (self->conversations, position, g_steal_pointer (&removal->conversation));
      g_array_remove_index (self->removals, i);
      g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
      return;
    }
}

static void
delete_for_good (NatterHistory      *self,
                 NatterConversation *conversation)
{
  gint64 id = natter_conversation_get_id (conversation);
  g_autoptr(GError) error = NULL;

  unwatch (self, conversation);
  if (id != 0 && !natter_store_delete_conversation (self->store, id, &error) &&
      !g_error_matches (error, NATTER_STORE_ERROR, NATTER_STORE_ERROR_NOT_FOUND))
    g_signal_emit (self, signals[SAVE_FAILED], 0, error);
}

/* Deletes @conversation, removed before, from the file for good: its Undo
 * is no longer offered. Does nothing if it was not removed. */
void
natter_history_commit_removal (NatterHistory      *self,
                               NatterConversation *conversation)
{
  g_return_if_fail (NATTER_IS_HISTORY (self));

  for (guint i = 0; i < self->removals->len; i++)
    if (g_array_index (self->removals, Removal, i).conversation == conversation)
      {
        delete_for_good (self, conversation);
        g_array_remove_index (self->removals, i);
        return;
      }
}

/* Deletes every removed conversation from the file, for good. */
void
natter_history_commit_removals (NatterHistory *self)
{
  g_return_if_fail (NATTER_IS_HISTORY (self));

  for (guint i = 0; i < self->removals->len; i++)
    delete_for_good (self, g_array_index (self->removals, Removal, i).conversation);
  g_array_set_size (self->removals, 0);
}

/**
 * natter_history_search:
 * @text: what the user typed
 *
 * Returns: (transfer full) (nullable): a list of #NatterSearchResult, best
 *   first, or %NULL on error
 */
GListModel *
natter_history_search (NatterHistory  *self,
                       const char     *text,
                       GError        **error)
{
  g_autoptr(GArray) matches = NULL;
  g_autoptr(GHashTable) by_id = NULL;
  g_autofree gint64 *ids = NULL;
  GListStore *results;

  g_return_val_if_fail (NATTER_IS_HISTORY (self), NULL);

  matches = natter_store_search (self->store, text, error);
  if (matches == NULL)
    return NULL;

  /* Hundreds of matches among thousands of conversations: looking each
   * up in the list would cost their product. */
  by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  ids = g_new (gint64, MAX (self->conversations->len, 1));
  for (guint i = 0; matches->len > 0 && i < self->conversations->len; i++)
    {
      NatterConversation *conversation = g_ptr_array_index (self->conversations, i);

      ids[i] = natter_conversation_get_id (conversation);
      g_hash_table_insert (by_id, &ids[i], conversation);
    }

  results = g_list_store_new (NATTER_TYPE_SEARCH_RESULT);
  for (guint i = 0; i < matches->len; i++)
    {
      NatterStoreMatch *match = &g_array_index (matches, NatterStoreMatch, i);
      NatterConversation *conversation = g_hash_table_lookup (by_id, &match->conversation_id);
      g_autoptr(NatterSearchResult) result = NULL;

      /* Conversations waiting to be deleted are not found. */
      if (conversation == NULL)
        continue;
      result = g_object_new (NATTER_TYPE_SEARCH_RESULT, NULL);
      result->conversation = g_object_ref (conversation);
      result->position = match->position;
      result->snippet = g_steal_pointer (&match->snippet);
      g_list_store_append (results, result);
    }
  return G_LIST_MODEL (results);
}

/* Writes every pending checkpoint now, as before quitting. */
void
natter_history_flush (NatterHistory *self)
{
  GHashTableIter iter;
  gpointer autosave;

  g_return_if_fail (NATTER_IS_HISTORY (self));

  g_hash_table_iter_init (&iter, self->autosaves);
  while (g_hash_table_iter_next (&iter, NULL, &autosave))
    natter_autosave_flush (autosave);
}
