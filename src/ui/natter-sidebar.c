/* natter-sidebar.c — the conversations, and search across them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A list bound to the NatterHistory, most recent first, and a search bar
 * whose results (messages from every conversation, matched words in bold)
 * replace the list while there is text to look for. Choosing a
 * conversation or a result emits ::conversation-activated; the window
 * decides what opening means.
 *
 * Results are listed FIRST_RESULTS at a time, more as the user scrolls to
 * the end: GTK 4.8's list view makes a row for each of up to 200 items at
 * once, and 200 results took 150 ms to show, ten times the search.
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "natter-sidebar.h"

#define FIRST_RESULTS 30

struct _NatterSidebar
{
  GtkWidget           parent_instance;

  GtkWidget          *content;
  GtkWidget          *search_button;
  GtkWidget          *search_bar;
  GtkWidget          *search_entry;
  GtkWidget          *stack;
  GtkWidget          *conversation_list;
  GtkWidget          *result_list;
  GtkWidget          *no_results_page;

  NatterHistory      *history;
  GtkSingleSelection *selection;
  GtkSliceListModel  *results;     /* the results listed so far */
  NatterConversation *current;     /* the window's, selected when listed */
  gboolean            selecting;   /* the window is selecting, not the user */
};

G_DEFINE_FINAL_TYPE (NatterSidebar, natter_sidebar, GTK_TYPE_WIDGET)

enum {
  CONVERSATION_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- Conversation rows ------------------------------------------------------- */

static gboolean
title_or_placeholder (GBinding     *binding,
                      const GValue *from,
                      GValue       *to,
                      gpointer      user_data)
{
  const char *title = g_value_get_string (from);

  g_value_set_string (to, title != NULL && *title != '\0' ? title : _("Untitled Conversation"));
  return TRUE;
}

static void
setup_conversation_cb (GtkSignalListItemFactory *factory,
                       GtkListItem              *item)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *spinner = gtk_spinner_new ();

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spinner), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Writing"), -1);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), spinner);
  gtk_list_item_set_child (item, box);
}

/* The bindings live as long as the item shows this conversation. */
static void
bind_conversation_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *item)
{
  GtkWidget *label = gtk_widget_get_first_child (gtk_list_item_get_child (item));
  GtkWidget *spinner = gtk_widget_get_next_sibling (label);
  GObject *conversation = gtk_list_item_get_item (item);
  GPtrArray *bindings = g_ptr_array_new ();

  g_ptr_array_add (bindings, g_object_bind_property_full (conversation, "title", label, "label",
                                                          G_BINDING_SYNC_CREATE,
                                                          title_or_placeholder, NULL, NULL, NULL));
  g_ptr_array_add (bindings, g_object_bind_property (conversation, "streaming", spinner, "visible",
                                                     G_BINDING_SYNC_CREATE));
  g_ptr_array_add (bindings, g_object_bind_property (conversation, "streaming", spinner, "spinning",
                                                     G_BINDING_SYNC_CREATE));
  g_object_set_data_full (G_OBJECT (item), "natter-bindings", bindings,
                          (GDestroyNotify) g_ptr_array_unref);
}

static void
unbind_conversation_cb (GtkSignalListItemFactory *factory,
                        GtkListItem              *item)
{
  GPtrArray *bindings = g_object_get_data (G_OBJECT (item), "natter-bindings");

  for (guint i = 0; bindings != NULL && i < bindings->len; i++)
    g_binding_unbind (g_ptr_array_index (bindings, i));
  g_object_set_data (G_OBJECT (item), "natter-bindings", NULL);
}

/* --- Search result rows ------------------------------------------------------ */

/**
 * natter_sidebar_markup_for_snippet:
 * @snippet: a snippet from the search, with its match markers
 *
 * Returns: (transfer full): Pango markup with the matched words in bold and
 *   everything else escaped
 */
char *
natter_sidebar_markup_for_snippet (const char *snippet)
{
  GString *markup = g_string_new (NULL);
  const char *start = snippet;

  for (const char *p = snippet; ; p++)
    {
      if (*p != NATTER_STORE_MATCH_START && *p != NATTER_STORE_MATCH_END && *p != '\0')
        continue;
      if (p > start)
        {
          g_autofree char *escaped = g_markup_escape_text (start, p - start);
          g_string_append (markup, escaped);
        }
      if (*p == '\0')
        break;
      g_string_append (markup, *p == NATTER_STORE_MATCH_START ? "<b>" : "</b>");
      start = p + 1;
    }
  return g_string_free (markup, FALSE);
}

static void
setup_result_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *snippet = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (title, "heading");
  gtk_label_set_xalign (GTK_LABEL (snippet), 0);
  gtk_label_set_wrap (GTK_LABEL (snippet), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (snippet), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_lines (GTK_LABEL (snippet), 3);
  gtk_label_set_ellipsize (GTK_LABEL (snippet), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (snippet, "caption");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), snippet);
  gtk_list_item_set_child (item, box);
}

static void
bind_result_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *item)
{
  NatterSearchResult *result = gtk_list_item_get_item (item);
  GtkWidget *title = gtk_widget_get_first_child (gtk_list_item_get_child (item));
  GtkWidget *snippet = gtk_widget_get_next_sibling (title);
  const char *conversation_title = natter_conversation_get_title (natter_search_result_get_conversation (result));
  g_autofree char *markup = natter_sidebar_markup_for_snippet (natter_search_result_get_snippet (result));

  gtk_label_set_text (GTK_LABEL (title), conversation_title != NULL ? conversation_title
                                                                    : _("Untitled Conversation"));
  gtk_label_set_markup (GTK_LABEL (snippet), markup);
}

/* --- Behaviour --------------------------------------------------------------- */

static void
update_page (NatterSidebar *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  gboolean searching = gtk_search_bar_get_search_mode (GTK_SEARCH_BAR (self->search_bar)) && *text != '\0';
  GtkSelectionModel *results = gtk_list_view_get_model (GTK_LIST_VIEW (self->result_list));

  if (searching)
    gtk_stack_set_visible_child_name (GTK_STACK (self->stack),
                                      results != NULL && g_list_model_get_n_items (G_LIST_MODEL (results)) > 0
                                      ? "results" : "no-results");
  else
    gtk_stack_set_visible_child_name (GTK_STACK (self->stack),
                                      self->history != NULL &&
                                      g_list_model_get_n_items (G_LIST_MODEL (self->history)) > 0
                                      ? "conversations" : "no-conversations");
}

static void
search_changed_cb (NatterSidebar *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autoptr(GListModel) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GtkSelectionModel) selection = NULL;

  if (self->history != NULL && *text != '\0')
    results = natter_history_search (self->history, text, &error);
  g_clear_object (&self->results);
  if (results != NULL)
    {
      self->results = gtk_slice_list_model_new (g_steal_pointer (&results), 0, FIRST_RESULTS);
      selection = GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->results))));
    }
  adw_status_page_set_description (ADW_STATUS_PAGE (self->no_results_page),
                                   error != NULL ? error->message : NULL);
  gtk_list_view_set_model (GTK_LIST_VIEW (self->result_list), selection);
  update_page (self);
}

/* Near the end of the results listed, more are. */
static void
results_scrolled_cb (NatterSidebar *self,
                     GtkAdjustment *adjustment)
{
  guint size;

  if (self->results == NULL ||
      gtk_adjustment_get_value (adjustment) + 2 * gtk_adjustment_get_page_size (adjustment) <
      gtk_adjustment_get_upper (adjustment))
    return;
  size = gtk_slice_list_model_get_size (self->results);
  if (size < g_list_model_get_n_items (gtk_slice_list_model_get_model (self->results)))
    gtk_slice_list_model_set_size (self->results, size + FIRST_RESULTS);
}

static void
result_activated_cb (NatterSidebar *self,
                     guint          position)
{
  GtkSelectionModel *results = gtk_list_view_get_model (GTK_LIST_VIEW (self->result_list));
  g_autoptr(NatterSearchResult) result = g_list_model_get_item (G_LIST_MODEL (results), position);

  if (result == NULL)
    return;
  g_signal_emit (self, signals[CONVERSATION_ACTIVATED], 0,
                 natter_search_result_get_conversation (result),
                 natter_search_result_get_position (result));
}

static void
selection_changed_cb (NatterSidebar *self)
{
  NatterConversation *conversation = gtk_single_selection_get_selected_item (self->selection);

  if (self->selecting || conversation == NULL)
    return;
  g_signal_emit (self, signals[CONVERSATION_ACTIVATED], 0, conversation, NATTER_SIDEBAR_NO_POSITION);
}

static void select_current (NatterSidebar *self);

/* --- GObject ------------------------------------------------------------- */

static void
natter_sidebar_dispose (GObject *object)
{
  NatterSidebar *self = NATTER_SIDEBAR (object);

  if (self->history != NULL)
    g_signal_handlers_disconnect_by_data (self->history, self);
  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_SIDEBAR);
  g_clear_object (&self->selection);
  g_clear_object (&self->results);
  g_clear_object (&self->history);
  g_clear_object (&self->current);

  G_OBJECT_CLASS (natter_sidebar_parent_class)->dispose (object);
}

static void
natter_sidebar_class_init (NatterSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_sidebar_dispose;

  /**
   * NatterSidebar::conversation-activated:
   * @conversation: the conversation chosen
   * @position: the message to show, or %NATTER_SIDEBAR_NO_POSITION
   */
  signals[CONVERSATION_ACTIVATED] =
    g_signal_new ("conversation-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, NATTER_TYPE_CONVERSATION, G_TYPE_UINT);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-sidebar.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, content);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, search_button);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, search_bar);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, search_entry);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, stack);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, conversation_list);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, result_list);
  gtk_widget_class_bind_template_child (widget_class, NatterSidebar, no_results_page);
}

static GtkListItemFactory *
new_factory (GCallback setup,
             GCallback bind,
             GCallback unbind)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", setup, NULL);
  g_signal_connect (factory, "bind", bind, NULL);
  if (unbind != NULL)
    g_signal_connect (factory, "unbind", unbind, NULL);
  return factory;
}

static void
natter_sidebar_init (NatterSidebar *self)
{
  g_autoptr(GtkListItemFactory) conversation_factory = NULL;
  g_autoptr(GtkListItemFactory) result_factory = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  conversation_factory = new_factory (G_CALLBACK (setup_conversation_cb), G_CALLBACK (bind_conversation_cb),
                                      G_CALLBACK (unbind_conversation_cb));
  result_factory = new_factory (G_CALLBACK (setup_result_cb), G_CALLBACK (bind_result_cb), NULL);
  gtk_list_view_set_factory (GTK_LIST_VIEW (self->conversation_list), conversation_factory);
  gtk_list_view_set_factory (GTK_LIST_VIEW (self->result_list), result_factory);

  g_object_bind_property (self->search_button, "active", self->search_bar, "search-mode-enabled",
                          G_BINDING_BIDIRECTIONAL);
  gtk_search_bar_connect_entry (GTK_SEARCH_BAR (self->search_bar), GTK_EDITABLE (self->search_entry));
  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect_swapped (self->search_bar, "notify::search-mode-enabled", G_CALLBACK (update_page), self);
  g_signal_connect_swapped (self->result_list, "activate", G_CALLBACK (result_activated_cb), self);
  g_signal_connect_swapped (gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->result_list)), "value-changed",
                            G_CALLBACK (results_scrolled_cb), self);
  update_page (self);
}

/**
 * natter_sidebar_set_history:
 * @history: (nullable): the conversations to list
 */
void
natter_sidebar_set_history (NatterSidebar *self,
                            NatterHistory *history)
{
  g_return_if_fail (NATTER_IS_SIDEBAR (self));

  if (self->history != NULL)
    g_signal_handlers_disconnect_by_data (self->history, self);
  if (!g_set_object (&self->history, history))
    return;

  g_clear_object (&self->selection);
  if (history != NULL)
    {
      self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (history)));
      gtk_single_selection_set_autoselect (self->selection, FALSE);
      gtk_single_selection_set_can_unselect (self->selection, TRUE);
      gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
      g_signal_connect_swapped (self->selection, "notify::selected-item",
                                G_CALLBACK (selection_changed_cb), self);
      /* Results of a conversation just deleted must not bring it back. */
      g_signal_connect_swapped (history, "items-changed", G_CALLBACK (search_changed_cb), self);
      g_signal_connect_swapped (history, "items-changed", G_CALLBACK (update_page), self);
      g_signal_connect_swapped (history, "items-changed", G_CALLBACK (select_current), self);
    }
  gtk_list_view_set_model (GTK_LIST_VIEW (self->conversation_list), GTK_SELECTION_MODEL (self->selection));
  update_page (self);
}

/* The window's conversation is selected whenever it is listed: a new one
 * is listed with its first message. */
static void
select_current (NatterSidebar *self)
{
  guint n, position = GTK_INVALID_LIST_POSITION;

  if (self->selection == NULL ||
      gtk_single_selection_get_selected_item (self->selection) == (gpointer) self->current)
    return;
  n = g_list_model_get_n_items (G_LIST_MODEL (self->history));
  for (guint i = 0; i < n && self->current != NULL; i++)
    {
      g_autoptr(NatterConversation) item = g_list_model_get_item (G_LIST_MODEL (self->history), i);

      if (item == self->current)
        {
          position = i;
          break;
        }
    }
  self->selecting = TRUE;
  gtk_single_selection_set_selected (self->selection, position);
  self->selecting = FALSE;
}

/**
 * natter_sidebar_select:
 * @conversation: (nullable): the conversation on screen
 *
 * Shows which conversation is open, without emitting
 * ::conversation-activated; one not listed yet is selected when it is.
 */
void
natter_sidebar_select (NatterSidebar      *self,
                       NatterConversation *conversation)
{
  g_return_if_fail (NATTER_IS_SIDEBAR (self));

  g_set_object (&self->current, conversation);
  select_current (self);
}

/* Ctrl+F: the search bar opens with the focus in it. */
void
natter_sidebar_start_search (NatterSidebar *self)
{
  g_return_if_fail (NATTER_IS_SIDEBAR (self));

  gtk_search_bar_set_search_mode (GTK_SEARCH_BAR (self->search_bar), TRUE);
  gtk_widget_grab_focus (self->search_entry);
}

/* Returns: (transfer none): the list of conversations, for tests */
GtkWidget *
natter_sidebar_get_conversation_list (NatterSidebar *self)
{
  g_return_val_if_fail (NATTER_IS_SIDEBAR (self), NULL);
  return self->conversation_list;
}

/* Returns: (transfer none): the list of search results, for tests */
GtkWidget *
natter_sidebar_get_result_list (NatterSidebar *self)
{
  g_return_val_if_fail (NATTER_IS_SIDEBAR (self), NULL);
  return self->result_list;
}

/* Returns: (transfer none): the search entry, for tests */
GtkWidget *
natter_sidebar_get_search_entry (NatterSidebar *self)
{
  g_return_val_if_fail (NATTER_IS_SIDEBAR (self), NULL);
  return self->search_entry;
}
