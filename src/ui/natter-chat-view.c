/* natter-chat-view.c — the messages of one conversation, scrolling
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A GtkListView creates rows only around what is on screen, and the view
 * starts with the last FIRST_MESSAGES messages, more coming as the user
 * scrolls up to them, so a conversation of thousands of messages opens as
 * fast as a short one: GTK 4.8's list view makes rows for up to 200 items
 * around the scroll position, and makes them anew for each conversation
 * (showing the last of 2,000 messages made 205 rows, half a second).
 *
 * The view follows the newest text while the user is at the bottom, and
 * stops as soon as they scroll up to read; "Jump to Bottom" brings them back
 * and following resumes.
 */
#include "config.h"

#include "natter-chat-view.h"
#include "natter-message-row.h"

/* How close to the end counts as "at the bottom", in pixels. */
#define BOTTOM_SLACK 4.0

/* Messages shown when a conversation opens (more than a window holds),
 * and added each time the user comes within a page of the first shown. */
#define FIRST_MESSAGES 15
#define MORE_MESSAGES  15

struct _NatterChatView
{
  GtkWidget           parent_instance;

  GtkWidget          *overlay;
  GtkWidget          *scrolled_window;
  GtkWidget          *list_view;
  GtkListItemFactory *factory;
  GtkWidget          *jump_revealer;
  GtkWidget          *jump_button;

  NatterConversation *conversation;
  GtkSliceListModel  *shown;        /* the conversation from the first message shown */
  char               *base_url;
  guint               more_tick_id;
  double              last_value;
  double              last_upper;
  gboolean            following;
};

G_DEFINE_FINAL_TYPE (NatterChatView, natter_chat_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CONVERSATION,
  PROP_FOLLOWING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  EDIT_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- Rows ------------------------------------------------------------------ */

static void
edit_requested_cb (NatterChatView   *self,
                   NatterMessageRow *row)
{
  g_signal_emit (self, signals[EDIT_REQUESTED], 0, natter_message_row_get_message (row));
}

static void
setup_row_cb (NatterChatView *self,
              GtkListItem    *item)
{
  GtkWidget *row = natter_message_row_new ();

  /* A signal, not an action: thousands of rows observing an action would
   * each be told whenever it changes. */
  g_signal_connect_object (row, "edit-requested", G_CALLBACK (edit_requested_cb), self, G_CONNECT_SWAPPED);
  gtk_list_item_set_activatable (item, FALSE);
  gtk_list_item_set_child (item, row);
}

static void
bind_row_cb (NatterChatView *self,
             GtkListItem    *item)
{
  NatterMessageRow *row = NATTER_MESSAGE_ROW (gtk_list_item_get_child (item));

  natter_message_row_set_base_url (row, self->base_url);
  natter_message_row_set_message (row, gtk_list_item_get_item (item));
}

static void
unbind_row_cb (NatterChatView *self,
               GtkListItem    *item)
{
  natter_message_row_set_message (NATTER_MESSAGE_ROW (gtk_list_item_get_child (item)), NULL);
}

/* --- Following the bottom ------------------------------------------------ */

static GtkAdjustment *
get_vadjustment (NatterChatView *self)
{
  return gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scrolled_window));
}

static gboolean
is_at_bottom (GtkAdjustment *adjustment)
{
  return gtk_adjustment_get_value (adjustment) + gtk_adjustment_get_page_size (adjustment) >=
         gtk_adjustment_get_upper (adjustment) - BOTTOM_SLACK;
}

/* Offered while the view does not follow the end and the end is out of
 * sight: a search result in a conversation that fits the view stops
 * following, but there is nothing below to jump to. */
static void
update_jump_button (NatterChatView *self)
{
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->jump_revealer),
                                 !self->following && !is_at_bottom (get_vadjustment (self)));
}

static void
set_following (NatterChatView *self,
               gboolean        following)
{
  if (self->following != following)
    {
      self->following = following;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOWING]);
    }
  update_jump_button (self);
}

/* --- Showing earlier messages ---------------------------------------------- */

static gboolean
more_tick_cb (GtkWidget     *widget,
              GdkFrameClock *clock,
              gpointer       user_data)
{
  NatterChatView *self = NATTER_CHAT_VIEW (widget);
  guint offset = gtk_slice_list_model_get_offset (self->shown);

  self->more_tick_id = 0;
  gtk_slice_list_model_set_offset (self->shown, offset > MORE_MESSAGES ? offset - MORE_MESSAGES : 0);
  return G_SOURCE_REMOVE;
}

/* Near the top of what is shown, earlier messages come in above; the list
 * view keeps what is on screen in place. Not while it allocates: at the
 * next frame. */
static void
show_more_if_near_top (NatterChatView *self,
                       GtkAdjustment  *adjustment)
{
  double page = gtk_adjustment_get_page_size (adjustment);

  /* While following the end, only to fill the view. */
  if (self->shown == NULL || gtk_slice_list_model_get_offset (self->shown) == 0 ||
      gtk_adjustment_get_value (adjustment) >= page || self->more_tick_id != 0 ||
      (self->following && gtk_adjustment_get_upper (adjustment) > page))
    return;
  self->more_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), more_tick_cb, NULL, NULL);
}

/* Messages cut above the first shown (an edit resent) must not leave the
 * view empty: the new ones are shown from where the cut was. */
static void
conversation_changed_cb (NatterChatView *self,
                         guint           position,
                         guint           removed,
                         guint           added)
{
  if (position < gtk_slice_list_model_get_offset (self->shown))
    gtk_slice_list_model_set_offset (self->shown, position);
}

/* Moving up with the content unchanged is the user scrolling back to read;
 * the list view also moves the value itself when it learns the real height
 * of rows, and that must not stop following. Back at the bottom, following
 * resumes. */
static void
value_changed_cb (NatterChatView *self,
                  GtkAdjustment  *adjustment)
{
  double value = gtk_adjustment_get_value (adjustment);
  double upper = gtk_adjustment_get_upper (adjustment);

  if (is_at_bottom (adjustment))
    set_following (self, TRUE);
  else if (value < self->last_value && upper == self->last_upper)
    set_following (self, FALSE);
  self->last_value = value;
  self->last_upper = upper;
  update_jump_button (self);
  show_more_if_near_top (self, adjustment);
}

static void
laid_out_cb (GdkFrameClock  *clock,
             NatterChatView *self)
{
  g_signal_handlers_disconnect_by_func (clock, laid_out_cb, self);
  if (self->following)
    natter_chat_view_scroll_to_bottom (self);
}

/* The list view sets the adjustment itself while it allocates, and would
 * ignore a value set in the middle of that, and it cannot scroll to rows
 * it has not allocated yet: the end is shown once this frame's rows are
 * allocated, before it is painted (the frame clock lays out again). Not a
 * frame later: new text, or the start of a conversation just shown, would
 * be seen out of place for a frame. */
static void
scroll_to_bottom_after_layout (NatterChatView *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  if (clock == NULL ||
      g_signal_handler_find (clock, G_SIGNAL_MATCH_FUNC | G_SIGNAL_MATCH_DATA, 0, 0, NULL, laid_out_cb, self) != 0)
    return;
  g_signal_connect_object (clock, "layout", G_CALLBACK (laid_out_cb), self, G_CONNECT_AFTER);
}

/* The content grew or the window was resized. */
static void
adjustment_changed_cb (NatterChatView *self,
                       GtkAdjustment  *adjustment)
{
  if (self->following && !is_at_bottom (adjustment))
    scroll_to_bottom_after_layout (self);
  update_jump_button (self);
}

/**
 * natter_chat_view_scroll_to_bottom:
 *
 * Shows the end of the conversation and follows it from now on.
 */
void
natter_chat_view_scroll_to_bottom (NatterChatView *self)
{
  GtkAdjustment *adjustment;

  g_return_if_fail (NATTER_IS_CHAT_VIEW (self));

  adjustment = get_vadjustment (self);
  set_following (self, TRUE);
  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_upper (adjustment) -
                                        gtk_adjustment_get_page_size (adjustment));
}

/**
 * natter_chat_view_scroll_to_message:
 * @position: the message's index in the conversation
 *
 * Brings a message into view, as a search result asks, and stops
 * following the bottom.
 */
void
natter_chat_view_scroll_to_message (NatterChatView *self,
                                    guint           position)
{
  g_return_if_fail (NATTER_IS_CHAT_VIEW (self));

  if (self->shown == NULL)
    return;
  if (position < gtk_slice_list_model_get_offset (self->shown))
    gtk_slice_list_model_set_offset (self->shown, position);
  set_following (self, FALSE);
  gtk_widget_activate_action (self->list_view, "list.scroll-to-item", "u",
                              position - gtk_slice_list_model_get_offset (self->shown));
}

static void
jump_clicked_cb (NatterChatView *self)
{
  natter_chat_view_scroll_to_bottom (self);
}

/* --- GObject ------------------------------------------------------------- */

static void
natter_chat_view_dispose (GObject *object)
{
  NatterChatView *self = NATTER_CHAT_VIEW (object);

  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_CHAT_VIEW);
  if (self->conversation != NULL)
    g_signal_handlers_disconnect_by_data (self->conversation, self);
  g_clear_object (&self->conversation);
  g_clear_object (&self->shown);

  G_OBJECT_CLASS (natter_chat_view_parent_class)->dispose (object);
}

static void
natter_chat_view_finalize (GObject *object)
{
  g_free (NATTER_CHAT_VIEW (object)->base_url);

  G_OBJECT_CLASS (natter_chat_view_parent_class)->finalize (object);
}

static void
natter_chat_view_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  NatterChatView *self = NATTER_CHAT_VIEW (object);

  switch (prop_id)
    {
    case PROP_CONVERSATION:
      g_value_set_object (value, self->conversation);
      break;
    case PROP_FOLLOWING:
      g_value_set_boolean (value, self->following);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_chat_view_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_CONVERSATION:
      natter_chat_view_set_conversation (NATTER_CHAT_VIEW (object), g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_chat_view_class_init (NatterChatViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_chat_view_dispose;
  object_class->finalize = natter_chat_view_finalize;
  object_class->get_property = natter_chat_view_get_property;
  object_class->set_property = natter_chat_view_set_property;

  properties[PROP_CONVERSATION] =
    g_param_spec_object ("conversation", NULL, NULL, NATTER_TYPE_CONVERSATION,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_FOLLOWING] =
    g_param_spec_boolean ("following", NULL, NULL, TRUE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * NatterChatView::edit-requested:
   * @message: the user's message to edit and resend
   */
  signals[EDIT_REQUESTED] =
    g_signal_new ("edit-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, NATTER_TYPE_MESSAGE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-chat-view.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterChatView, overlay);
  gtk_widget_class_bind_template_child (widget_class, NatterChatView, scrolled_window);
  gtk_widget_class_bind_template_child (widget_class, NatterChatView, list_view);
  gtk_widget_class_bind_template_child (widget_class, NatterChatView, factory);
  gtk_widget_class_bind_template_child (widget_class, NatterChatView, jump_revealer);
  gtk_widget_class_bind_template_child (widget_class, NatterChatView, jump_button);
  gtk_widget_class_set_css_name (widget_class, "chatview");
}

static void
natter_chat_view_init (NatterChatView *self)
{
  GtkAdjustment *adjustment;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->following = TRUE;

  g_signal_connect_swapped (self->factory, "setup", G_CALLBACK (setup_row_cb), self);
  g_signal_connect_swapped (self->factory, "bind", G_CALLBACK (bind_row_cb), self);
  g_signal_connect_swapped (self->factory, "unbind", G_CALLBACK (unbind_row_cb), self);
  g_signal_connect_swapped (self->jump_button, "clicked", G_CALLBACK (jump_clicked_cb), self);

  adjustment = get_vadjustment (self);
  g_signal_connect_swapped (adjustment, "value-changed", G_CALLBACK (value_changed_cb), self);
  g_signal_connect_swapped (adjustment, "changed", G_CALLBACK (adjustment_changed_cb), self);
}

GtkWidget *
natter_chat_view_new (void)
{
  return g_object_new (NATTER_TYPE_CHAT_VIEW, NULL);
}

/* Returns: (transfer none) (nullable): the conversation shown */
NatterConversation *
natter_chat_view_get_conversation (NatterChatView *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_VIEW (self), NULL);
  return self->conversation;
}

void
natter_chat_view_set_conversation (NatterChatView     *self,
                                   NatterConversation *conversation)
{
  g_autoptr(GtkSelectionModel) selection = NULL;

  g_return_if_fail (NATTER_IS_CHAT_VIEW (self));

  if (self->conversation == conversation)
    return;
  if (self->conversation != NULL)
    g_signal_handlers_disconnect_by_data (self->conversation, self);
  g_set_object (&self->conversation, conversation);
  g_clear_object (&self->shown);
  if (self->more_tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->more_tick_id);
  self->more_tick_id = 0;

  if (conversation != NULL)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (conversation));

      /* From the first message shown to the end, whatever comes. */
      self->shown = gtk_slice_list_model_new (g_object_ref (G_LIST_MODEL (conversation)),
                                              n > FIRST_MESSAGES ? n - FIRST_MESSAGES : 0, G_MAXUINT);
      g_signal_connect_object (conversation, "items-changed", G_CALLBACK (conversation_changed_cb), self,
                               G_CONNECT_SWAPPED | G_CONNECT_AFTER);
      selection = GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->shown))));
    }
  gtk_list_view_set_model (GTK_LIST_VIEW (self->list_view), selection);
  /* Not now: the list view cannot scroll to rows it has not allocated
   * yet, and says so. */
  set_following (self, TRUE);
  scroll_to_bottom_after_layout (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONVERSATION]);
}

void
natter_chat_view_set_base_url (NatterChatView *self,
                               const char     *base_url)
{
  g_return_if_fail (NATTER_IS_CHAT_VIEW (self));

  g_free (self->base_url);
  self->base_url = g_strdup (base_url);
}

gboolean
natter_chat_view_get_following (NatterChatView *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_VIEW (self), FALSE);
  return self->following;
}

/* Returns: (transfer none): the vertical scroll position, for tests */
GtkAdjustment *
natter_chat_view_get_vadjustment (NatterChatView *self)
{
  g_return_val_if_fail (NATTER_IS_CHAT_VIEW (self), NULL);
  return get_vadjustment (self);
}
