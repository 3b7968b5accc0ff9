/* natter-autosave.c — keeps one conversation saved while it changes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The conversation model knows nothing of the database; this watches it and
 * writes what changed, so that the window and natter-cli save the same way:
 *
 *  - a message appended is written at once, before anything else happens
 *    (the user's message is in the file before its request is sent);
 *    one that could not be written is written with the next change, after
 *    the ones before it: the file always holds the start of the
 *    conversation, each message at its index;
 *  - a streaming answer is checkpointed as it grows, at most
 *    NATTER_AUTOSAVE_CHECKPOINT_MS after any change;
 *  - an answer that stops streaming (complete, stopped, failed) is written
 *    as soon as the main loop is idle, with its state and stats;
 *  - messages cut from the end (regenerate, edit and resend) are deleted;
 *  - the title and settings are saved when they change.
 *
 * A conversation with no message is not saved: the history only shows
 * conversations that have something in them.
 */
#include "config.h"

#include "natter-autosave.h"

typedef struct {
  NatterAutosave *autosave;
  NatterMessage  *message;
  gint64          id;
  gint64          saved_at_us;
  guint           source_id;     /* a pending checkpoint or final save */
  gboolean        final_pending; /* source_id is the final save */
} Tracker;

struct _NatterAutosave
{
  GObject             parent_instance;

  NatterStore        *store;
  NatterConversation *conversation;
  GPtrArray          *trackers;       /* of Tracker, in the order of the messages */
  guint               n_saved;        /* trackers before this one are in the file */
  gboolean            failing;        /* the last write failed; said once */
};

G_DEFINE_FINAL_TYPE (NatterAutosave, natter_autosave, G_TYPE_OBJECT)

enum {
  SAVE_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
report (NatterAutosave *self,
        GError         *error)
{
  if (error == NULL)
    {
      self->failing = FALSE;
      return;
    }
  /* One message for a run of failures, not one per checkpoint. */
  if (!self->failing)
    g_signal_emit (self, signals[SAVE_FAILED], 0, error);
  self->failing = TRUE;
}

/* --- Messages ------------------------------------------------------------ */

static gboolean ensure_conversation_saved (NatterAutosave *self);

/* Appends the messages that are not in the file yet, in order, as they
 * are now; stops at the first that fails, to keep the order. */
static void
save_new_messages (NatterAutosave *self)
{
  g_autoptr(GError) error = NULL;

  for (; self->n_saved < self->trackers->len; self->n_saved++)
    {
      Tracker *tracker = g_ptr_array_index (self->trackers, self->n_saved);

      if (!ensure_conversation_saved (self))
        return;
      tracker->id = natter_store_append_message (self->store,
                                                 natter_conversation_get_id (self->conversation),
                                                 tracker->message, &error);
      tracker->saved_at_us = g_get_monotonic_time ();
      report (self, error);
      if (tracker->id == 0)
        return;
    }
}

static void
save_message (Tracker *tracker)
{
  NatterAutosave *self = tracker->autosave;
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&tracker->source_id, g_source_remove);
  tracker->final_pending = FALSE;
  if (tracker->id == 0)
    {
      save_new_messages (self);
      return;
    }
  natter_store_update_message (self->store, tracker->id, tracker->message, &error);
  tracker->saved_at_us = g_get_monotonic_time ();
  report (self, error);
}

static gboolean
save_message_cb (gpointer data)
{
  Tracker *tracker = data;

  tracker->source_id = 0;
  save_message (tracker);
  return G_SOURCE_REMOVE;
}

static void
message_changed_cb (NatterMessage *message,
                    GParamSpec    *pspec,
                    Tracker       *tracker)
{
  gint64 since_ms;

  if (natter_message_get_state (message) != NATTER_MESSAGE_STATE_STREAMING)
    {
      /* The end of an answer changes several properties at once: write
       * them together, as soon as they are all set. */
      if (!tracker->final_pending)
        {
          g_clear_handle_id (&tracker->source_id, g_source_remove);
          tracker->source_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, save_message_cb, tracker, NULL);
          tracker->final_pending = TRUE;
        }
      return;
    }

  if (tracker->source_id != 0)
    return;
  since_ms = (g_get_monotonic_time () - tracker->saved_at_us) / 1000;
  if (since_ms >= NATTER_AUTOSAVE_CHECKPOINT_MS)
    save_message (tracker);
  else
    tracker->source_id = g_timeout_add (NATTER_AUTOSAVE_CHECKPOINT_MS - since_ms,
                                        save_message_cb, tracker);
}

/* Text arriving does not notify: each piece is a signal of its own. */
static void
message_appended_cb (NatterMessage *message,
                     guint          offset,
                     const char    *text,
                     Tracker       *tracker)
{
  message_changed_cb (message, NULL, tracker);
}

static Tracker *
tracker_new (NatterAutosave *self,
             NatterMessage  *message,
             gint64          id)
{
  Tracker *tracker = g_new0 (Tracker, 1);

  tracker->autosave = self;
  tracker->message = g_object_ref (message);
  tracker->id = id;
  tracker->saved_at_us = g_get_monotonic_time ();
  g_signal_connect (message, "notify", G_CALLBACK (message_changed_cb), tracker);
  g_signal_connect (message, "content-appended", G_CALLBACK (message_appended_cb), tracker);
  g_signal_connect (message, "reasoning-appended", G_CALLBACK (message_appended_cb), tracker);
  return tracker;
}

/* Drops the tracker without saving: its message left the conversation. */
static void
tracker_free (gpointer data)
{
  Tracker *tracker = data;

  g_clear_handle_id (&tracker->source_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (tracker->message, tracker);
  g_object_unref (tracker->message);
  g_free (tracker);
}

static gboolean
ensure_conversation_saved (NatterAutosave *self)
{
  g_autoptr(GError) error = NULL;

  if (natter_conversation_get_id (self->conversation) != 0)
    return TRUE;
  natter_store_save_conversation (self->store, self->conversation, &error);
  report (self, error);
  return error == NULL;
}

static void
messages_changed_cb (GListModel     *model,
                     guint           position,
                     guint           removed,
                     guint           added,
                     NatterAutosave *self)
{
  g_autoptr(GError) error = NULL;

  if (removed > 0)
    {
      /* Conversations only lose messages from the end. */
      g_warn_if_fail (position + removed == self->trackers->len);
      g_ptr_array_remove_range (self->trackers, position, removed);
      self->n_saved = MIN (self->n_saved, position);
      if (natter_conversation_get_id (self->conversation) != 0)
        natter_store_delete_messages_from (self->store, natter_conversation_get_id (self->conversation),
                                           position, &error);
      report (self, error);
      g_clear_error (&error);
    }

  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (self->trackers, position + i,
                        tracker_new (self, natter_conversation_get_message (self->conversation, position + i), 0));
  if (added > 0)
    save_new_messages (self);
}

/* --- The conversation ------------------------------------------------------ */

static void
settings_changed_cb (NatterConversation *conversation,
                     GParamSpec         *pspec,
                     NatterAutosave     *self)
{
  g_autoptr(GError) error = NULL;

  if (natter_conversation_get_id (conversation) == 0)
    return;
  natter_store_save_conversation (self->store, conversation, &error);
  report (self, error);
}

/* --- GObject ------------------------------------------------------------- */

static void
natter_autosave_dispose (GObject *object)
{
  NatterAutosave *self = NATTER_AUTOSAVE (object);

  if (self->conversation != NULL)
    {
      natter_autosave_flush (self);
      g_signal_handlers_disconnect_by_data (self->conversation, self);
    }
  g_clear_pointer (&self->trackers, g_ptr_array_unref);
  g_clear_object (&self->conversation);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (natter_autosave_parent_class)->dispose (object);
}

static void
natter_autosave_class_init (NatterAutosaveClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = natter_autosave_dispose;

  /**
   * NatterAutosave::save-failed:
   * @error: what the store said
   *
   * A write failed. Emitted once for a run of failures.
   */
  signals[SAVE_FAILED] =
    g_signal_new ("save-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
natter_autosave_init (NatterAutosave *self)
{
  self->trackers = g_ptr_array_new_with_free_func (tracker_free);
}

/**
 * natter_autosave_new:
 * @store: where to save
 * @conversation: what to save; it may be new (id 0) and empty
 * @message_ids: (nullable) (element-type gint64): the ids of the messages
 *   already in @conversation, as natter_store_load_messages() gave them;
 *   %NULL if they are not in the file yet (they are added with the first
 *   change)
 *
 * Returns: (transfer full): an autosave that lasts as long as it is kept;
 *   pending checkpoints are written when it goes
 */
NatterAutosave *
natter_autosave_new (NatterStore        *store,
                     NatterConversation *conversation,
                     GArray             *message_ids)
{
  NatterAutosave *self;
  guint n_messages;

  g_return_val_if_fail (NATTER_IS_STORE (store), NULL);
  g_return_val_if_fail (NATTER_IS_CONVERSATION (conversation), NULL);

  n_messages = g_list_model_get_n_items (G_LIST_MODEL (conversation));
  g_return_val_if_fail (message_ids == NULL || message_ids->len == n_messages, NULL);

  self = g_object_new (NATTER_TYPE_AUTOSAVE, NULL);
  self->store = g_object_ref (store);
  self->conversation = g_object_ref (conversation);
  for (guint i = 0; i < n_messages; i++)
    g_ptr_array_add (self->trackers,
                     tracker_new (self, natter_conversation_get_message (conversation, i),
                                  message_ids != NULL ? g_array_index (message_ids, gint64, i) : 0));
  self->n_saved = message_ids != NULL ? n_messages : 0;

  g_signal_connect (conversation, "items-changed", G_CALLBACK (messages_changed_cb), self);
  g_signal_connect (conversation, "notify::title", G_CALLBACK (settings_changed_cb), self);
  g_signal_connect (conversation, "notify::system-prompt", G_CALLBACK (settings_changed_cb), self);
  g_signal_connect (conversation, "notify::temperature", G_CALLBACK (settings_changed_cb), self);
  g_signal_connect (conversation, "notify::max-tokens", G_CALLBACK (settings_changed_cb), self);
  return self;
}

/**
 * natter_autosave_get_conversation:
 *
 * Returns: (transfer none): the conversation being saved
 */
NatterConversation *
natter_autosave_get_conversation (NatterAutosave *self)
{
  g_return_val_if_fail (NATTER_IS_AUTOSAVE (self), NULL);
  return self->conversation;
}

/**
 * natter_autosave_flush:
 *
 * Writes every pending checkpoint now, as before quitting.
 */
void
natter_autosave_flush (NatterAutosave *self)
{
  g_return_if_fail (NATTER_IS_AUTOSAVE (self));

  for (guint i = 0; i < self->trackers->len; i++)
    {
      Tracker *tracker = g_ptr_array_index (self->trackers, i);

      if (tracker->source_id != 0)
        save_message (tracker);
    }
}
