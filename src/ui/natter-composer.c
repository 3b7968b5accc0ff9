/* natter-composer.c — where the user writes the next message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Enter sends and Shift+Enter starts a new line, as in every chat app. The
 * composer does not send anything itself: it activates win.send, and the
 * window decides whether that is possible. While an answer streams, Send is
 * replaced by Stop in the very same place, so a click meant for one never
 * lands on something else.
 */
#include "natter-composer.h"

struct _NatterComposer
{
  GtkWidget  parent_instance;

  GtkWidget *box;
  GtkWidget *text_view;
  GtkWidget *button_stack;

  gboolean   empty;
  gboolean   streaming;
};

G_DEFINE_FINAL_TYPE (NatterComposer, natter_composer, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_EMPTY,
  PROP_STREAMING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GtkTextBuffer *
get_buffer (NatterComposer *self)
{
  return gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->text_view));
}

/* Only whitespace counts as empty: a message of spaces is not worth sending. */
static gboolean
buffer_is_blank (GtkTextBuffer *buffer)
{
  GtkTextIter iter;

  for (gtk_text_buffer_get_start_iter (buffer, &iter);
       !gtk_text_iter_is_end (&iter);
       gtk_text_iter_forward_char (&iter))
    if (!g_unichar_isspace (gtk_text_iter_get_char (&iter)))
      return FALSE;
  return TRUE;
}

static void
buffer_changed_cb (NatterComposer *self,
                   GtkTextBuffer  *buffer)
{
  gboolean empty = buffer_is_blank (buffer);

  if (self->empty == empty)
    return;
  self->empty = empty;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EMPTY]);
}

static gboolean
key_pressed_cb (NatterComposer        *self,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                GtkEventControllerKey *controller)
{
  if (keyval != GDK_KEY_Return && keyval != GDK_KEY_KP_Enter && keyval != GDK_KEY_ISO_Enter)
    return GDK_EVENT_PROPAGATE;
  if (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK))
    return GDK_EVENT_PROPAGATE;

  gtk_widget_activate_action (GTK_WIDGET (self), "win.send", NULL);
  return GDK_EVENT_STOP;
}

static void
natter_composer_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_COMPOSER);

  G_OBJECT_CLASS (natter_composer_parent_class)->dispose (object);
}

static void
natter_composer_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  NatterComposer *self = NATTER_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_EMPTY:
      g_value_set_boolean (value, self->empty);
      break;
    case PROP_STREAMING:
      g_value_set_boolean (value, self->streaming);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_composer_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  switch (prop_id)
    {
    case PROP_STREAMING:
      natter_composer_set_streaming (NATTER_COMPOSER (object), g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
natter_composer_grab_focus (GtkWidget *widget)
{
  return gtk_widget_grab_focus (NATTER_COMPOSER (widget)->text_view);
}

static void
natter_composer_class_init (NatterComposerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = natter_composer_dispose;
  object_class->get_property = natter_composer_get_property;
  object_class->set_property = natter_composer_set_property;
  widget_class->grab_focus = natter_composer_grab_focus;

  properties[PROP_EMPTY] =
    g_param_spec_boolean ("empty", NULL, NULL, TRUE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_STREAMING] =
    g_param_spec_boolean ("streaming", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-composer.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, box);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, text_view);
  gtk_widget_class_bind_template_child (widget_class, NatterComposer, button_stack);
  gtk_widget_class_set_css_name (widget_class, "composer");
}

static void
natter_composer_init (NatterComposer *self)
{
  GtkEventController *keys = gtk_event_controller_key_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->empty = TRUE;

  /* Capture phase: Enter must send before the text view inserts a newline. */
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect_swapped (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (self->text_view, keys);

  g_signal_connect_swapped (get_buffer (self), "changed", G_CALLBACK (buffer_changed_cb), self);
}

GtkWidget *
natter_composer_new (void)
{
  return g_object_new (NATTER_TYPE_COMPOSER, NULL);
}

/* Returns: (transfer full): the text, as typed */
char *
natter_composer_dup_text (NatterComposer *self)
{
  GtkTextIter start, end;

  g_return_val_if_fail (NATTER_IS_COMPOSER (self), NULL);

  gtk_text_buffer_get_bounds (get_buffer (self), &start, &end);
  return gtk_text_buffer_get_text (get_buffer (self), &start, &end, FALSE);
}

void
natter_composer_set_text (NatterComposer *self,
                          const char     *text)
{
  g_return_if_fail (NATTER_IS_COMPOSER (self));
  gtk_text_buffer_set_text (get_buffer (self), text != NULL ? text : "", -1);
}

gboolean
natter_composer_is_empty (NatterComposer *self)
{
  g_return_val_if_fail (NATTER_IS_COMPOSER (self), TRUE);
  return self->empty;
}

gboolean
natter_composer_get_streaming (NatterComposer *self)
{
  g_return_val_if_fail (NATTER_IS_COMPOSER (self), FALSE);
  return self->streaming;
}

/* While streaming, the Send button is replaced by Stop in the same place. */
void
natter_composer_set_streaming (NatterComposer *self,
                               gboolean        streaming)
{
  g_return_if_fail (NATTER_IS_COMPOSER (self));

  streaming = !!streaming;
  if (self->streaming == streaming)
    return;
  self->streaming = streaming;
  gtk_stack_set_visible_child_name (GTK_STACK (self->button_stack), streaming ? "stop" : "send");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STREAMING]);
}

/**
 * natter_composer_get_text_view:
 *
 * Returns: (transfer none): the text view, for tests and focus handling
 */
GtkWidget *
natter_composer_get_text_view (NatterComposer *self)
{
  g_return_val_if_fail (NATTER_IS_COMPOSER (self), NULL);
  return self->text_view;
}
