/* natter-provider-row.c — edits one provider in Preferences
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each field is saved when the user applies it (the entry's check button or
 * Enter), not at each keystroke: a base URL is only saved once it is valid,
 * and a key goes to the keyring once, whole.
 *
 * The API key is never shown or kept: the row only knows whether one is
 * stored, and says so in the key field's title, which is what an empty
 * AdwEntryRow shows as its placeholder. An empty key field therefore means
 * "no new key", never "no key": the stored one is removed only by the
 * button beside the field. Copies of keys made here are wiped with
 * natter_key_store_free_key() as soon as they have been handed on.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "natter-client.h"
#include "natter-error-text.h"
#include "natter-provider-row.h"
#include "natter-url-check.h"

/* Long enough for a slow provider, short enough that a black-holed address
 * does not leave the spinner turning. */
#define TEST_TIMEOUT_S 20

struct _NatterProviderRow
{
  AdwExpanderRow  parent_instance;

  GtkWidget      *name_row;
  GtkWidget      *base_url_row;
  GtkWidget      *url_message_row;
  GtkWidget      *url_message_label;
  GtkWidget      *key_row;
  GtkWidget      *forget_key_button;
  GtkWidget      *model_row;
  GtkWidget      *actions_row;
  GtkWidget      *test_button;
  GtkWidget      *test_spinner;
  GtkWidget      *test_label;

  NatterProvider *provider;
  NatterKeyStore *keys;
  GCancellable   *lookup_cancellable;
  GCancellable   *test_cancellable;
  char           *test_url;
  guint           test_timeout_id;
  gboolean        has_key;
};

G_DEFINE_FINAL_TYPE (NatterProviderRow, natter_provider_row, ADW_TYPE_EXPANDER_ROW)

enum {
  PROP_0,
  PROP_PROVIDER,
  PROP_KEY_STORE,
  PROP_HAS_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  REMOVE_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *
or_empty (const char *text)
{
  return text != NULL ? text : "";
}

/* Returns: (nullable): what the user typed, without surrounding spaces */
static char *
dup_stripped_text (GtkWidget *editable)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (editable))));

  return *text != '\0' ? g_steal_pointer (&text) : NULL;
}

static void
set_style (GtkWidget  *widget,
           const char *style)
{
  static const char * const styles[] = { "error", "warning", "success" };

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    if (g_strcmp0 (styles[i], style) != 0)
      gtk_widget_remove_css_class (widget, styles[i]);
  if (style != NULL)
    gtk_widget_add_css_class (widget, style);
}

/* The row has no room for news about the key: it goes to a toast of the
 * window the row is in, if it is still in one. */
static void
show_toast (NatterProviderRow *self,
            const char        *text)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (ADW_IS_PREFERENCES_WINDOW (root))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (root), adw_toast_new (text));
}

/* --- The base URL ------------------------------------------------------ */

static void
update_url_message (NatterProviderRow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->base_url_row));
  g_autofree char *fixed = natter_url_check_fix (text);
  g_autofree char *hint = natter_url_check_hint (text);
  g_autoptr(GString) message = g_string_new (hint);
  /* An empty field is still to be filled in, not yet a mistake. */
  gboolean invalid = *fixed != '\0' && !natter_client_check_base_url (fixed, NULL);

  if (natter_url_is_insecure (text))
    {
      if (message->len > 0)
        g_string_append_c (message, '\n');
      g_string_append (message, _("This address is not encrypted: the API key and your messages would "
                                  "cross the network readable by anyone on the way. Use https:// unless "
                                  "the server is on a network you trust."));
    }

  gtk_label_set_text (GTK_LABEL (self->url_message_label), message->str);
  gtk_widget_set_visible (self->url_message_row, message->len > 0);
  set_style (self->url_message_label, invalid ? "error" : *fixed != '\0' ? "warning" : NULL);
  set_style (self->base_url_row, invalid ? "error" : NULL);
}

static void
hide_test_result (NatterProviderRow *self)
{
  gtk_widget_set_visible (self->test_label, FALSE);
}

static void
base_url_changed_cb (NatterProviderRow *self)
{
  update_url_message (self);
  hide_test_result (self);
}

/* An invalid URL is not saved: the message under the entry says why. A
 * trailing "/chat/completions" is dropped, as the message announced. */
static void
base_url_applied_cb (NatterProviderRow *self)
{
  g_autofree char *url = natter_url_check_fix (gtk_editable_get_text (GTK_EDITABLE (self->base_url_row)));

  if (!natter_client_check_base_url (url, NULL))
    return;
  natter_provider_set_base_url (self->provider, url);
  gtk_editable_set_text (GTK_EDITABLE (self->base_url_row), url);
}

/* --- Name and model ---------------------------------------------------- */

/* A provider without a name could not be told apart from the others. */
static void
name_applied_cb (NatterProviderRow *self)
{
  g_autofree char *name = dup_stripped_text (self->name_row);

  if (name != NULL)
    natter_provider_set_name (self->provider, name);
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), or_empty (natter_provider_get_name (self->provider)));
}

static void
model_applied_cb (NatterProviderRow *self)
{
  g_autofree char *model = dup_stripped_text (self->model_row);

  natter_provider_set_model (self->provider, model);
  gtk_editable_set_text (GTK_EDITABLE (self->model_row), or_empty (model));
}

/* --- The key ----------------------------------------------------------- */

static void
update_key_title (NatterProviderRow *self)
{
  const char *title = _("API Key");

  if (self->has_key && natter_key_store_is_persistent (self->keys))
    title = _("API Key (stored in the keyring)");
  else if (self->has_key)
    title = _("API Key (kept until Natter quits)");
  else if (!natter_provider_needs_key (self->provider))
    title = _("API Key (optional)");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->key_row), title);
  gtk_widget_set_visible (self->forget_key_button, self->has_key);
}

static void
set_has_key (NatterProviderRow *self,
             gboolean           has_key)
{
  if (self->has_key != has_key)
    {
      self->has_key = has_key;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_KEY]);
    }
  update_key_title (self);
}

/* Only whether there is a key matters here; the key itself is wiped. */
static void
key_found_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(NatterProviderRow) self = user_data;
  g_autoptr(GError) error = NULL;
  char *key = natter_key_store_lookup_finish (NATTER_KEY_STORE (source), result, &error);
  gboolean found = key != NULL;

  natter_key_store_free_key (key);
  if (error != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Could not look up the key of provider %s: %s",
                 natter_provider_get_id (self->provider), error->message);
      return;
    }
  /* A key the user stored while the lookup ran is newer than its answer. */
  set_has_key (self, found || self->has_key);
  /* Such a provider cannot be used yet: open the row where its key goes,
   * as after "Use OpenRouter" on the first-run page. */
  if (!self->has_key && natter_provider_needs_key (self->provider))
    adw_expander_row_set_expanded (ADW_EXPANDER_ROW (self), TRUE);
}

static void
key_stored_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(NatterProviderRow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  gtk_widget_set_sensitive (self->key_row, TRUE);
  /* On failure the typed key stays in the field: applying again retries. */
  if (!natter_key_store_store_finish (NATTER_KEY_STORE (source), result, &error))
    {
      text = g_strdup_printf (_("The API key could not be saved: %s"), error->message);
      show_toast (self, text);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->key_row), "");
  set_has_key (self, TRUE);
  show_toast (self, natter_key_store_is_persistent (self->keys) ? _("API key saved in the keyring")
                                                                 : _("API key kept until Natter quits"));
}

/* Stored without a cancellable: a key the user applied is saved even if the
 * window closes at once. */
static void
key_applied_cb (NatterProviderRow *self)
{
  char *key = dup_stripped_text (self->key_row);
  g_autofree char *label = NULL;

  if (key == NULL)
    return;
  /* Translators: the name of the key in the keyring; %s is the provider's name */
  label = g_strdup_printf (_("Natter API key for %s"), or_empty (natter_provider_get_name (self->provider)));
  gtk_widget_set_sensitive (self->key_row, FALSE);
  natter_key_store_store_async (self->keys, natter_provider_get_id (self->provider),
                                natter_provider_get_base_url (self->provider), label, key,
                                NULL, key_stored_cb, g_object_ref (self));
  natter_key_store_free_key (key);
}

static void
key_cleared_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(NatterProviderRow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  gtk_widget_set_sensitive (self->key_row, TRUE);
  if (!natter_key_store_clear_finish (NATTER_KEY_STORE (source), result, &error))
    {
      text = g_strdup_printf (_("The API key could not be removed: %s"), error->message);
      show_toast (self, text);
      return;
    }
  set_has_key (self, FALSE);
  show_toast (self, _("API key removed"));
}

static void
forget_key_clicked_cb (NatterProviderRow *self)
{
  gtk_widget_set_sensitive (self->key_row, FALSE);
  natter_key_store_clear_async (self->keys, natter_provider_get_id (self->provider),
                                NULL, key_cleared_cb, g_object_ref (self));
}

/* --- Test Connection ---------------------------------------------------- */

static void
show_test_result (NatterProviderRow *self,
                  const char        *text,
                  gboolean           success)
{
  gtk_label_set_text (GTK_LABEL (self->test_label), text);
  set_style (self->test_label, success ? "success" : "error");
  gtk_widget_set_visible (self->test_label, TRUE);
}

static void
stop_test (NatterProviderRow *self)
{
  if (self->test_cancellable != NULL)
    g_cancellable_cancel (self->test_cancellable);
  g_clear_object (&self->test_cancellable);
  g_clear_handle_id (&self->test_timeout_id, g_source_remove);
  gtk_spinner_stop (GTK_SPINNER (self->test_spinner));
  gtk_widget_set_visible (self->test_spinner, FALSE);
  gtk_widget_set_sensitive (self->test_button, TRUE);
}

static gboolean
test_timed_out_cb (gpointer user_data)
{
  NatterProviderRow *self = user_data;
  g_autofree char *text = NULL;

  self->test_timeout_id = 0;
  stop_test (self);
  text = g_strdup_printf (ngettext ("The provider did not answer within %u second.",
                                    "The provider did not answer within %u seconds.", TEST_TIMEOUT_S),
                          TEST_TIMEOUT_S);
  show_test_result (self, text, FALSE);
  return G_SOURCE_REMOVE;
}

static void
models_listed_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(NatterProviderRow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = natter_client_list_models_finish (NATTER_CLIENT (source), result, &error);
  g_autofree char *text = NULL;
  g_autofree char *hint = NULL;
  guint n;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  stop_test (self);
  if (ids == NULL)
    {
      hint = natter_error_text_hint (error, self->test_url);
      text = hint != NULL ? g_strdup_printf ("%s %s", error->message, hint) : g_strdup (error->message);
      show_test_result (self, text, FALSE);
      return;
    }
  n = g_strv_length (ids);
  text = g_strdup_printf (ngettext ("Connected: %u model", "Connected: %u models", n), n);
  show_test_result (self, text, TRUE);
}

static void
list_models (NatterProviderRow *self,
             const char        *key)
{
  g_autoptr(NatterClient) client = natter_client_new (self->test_url, key);

  natter_client_list_models_async (client, self->test_cancellable, models_listed_cb, g_object_ref (self));
}

static void
test_key_found_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(NatterProviderRow) self = user_data;
  g_autoptr(GError) error = NULL;
  char *key = natter_key_store_lookup_finish (NATTER_KEY_STORE (source), result, &error);
  g_autofree char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    {
      stop_test (self);
      text = g_strdup_printf (_("The API key could not be read: %s"), error->message);
      show_test_result (self, text, FALSE);
      return;
    }
  list_models (self, key);
  natter_key_store_free_key (key);
}

/* Tests what the user sees in the fields, applied or not: the typed key if
 * there is one, else the stored one. */
static void
test_clicked_cb (NatterProviderRow *self)
{
  g_autoptr(GError) error = NULL;
  char *key;

  g_free (self->test_url);
  self->test_url = natter_url_check_fix (gtk_editable_get_text (GTK_EDITABLE (self->base_url_row)));
  if (!natter_client_check_base_url (self->test_url, &error))
    {
      show_test_result (self, error->message, FALSE);
      return;
    }

  stop_test (self);
  hide_test_result (self);
  self->test_cancellable = g_cancellable_new ();
  self->test_timeout_id = g_timeout_add_seconds (TEST_TIMEOUT_S, test_timed_out_cb, self);
  gtk_widget_set_sensitive (self->test_button, FALSE);
  gtk_widget_set_visible (self->test_spinner, TRUE);
  gtk_spinner_start (GTK_SPINNER (self->test_spinner));

  key = dup_stripped_text (self->key_row);
  if (key != NULL)
    list_models (self, key);
  else
    natter_key_store_lookup_async (self->keys, natter_provider_get_id (self->provider),
                                   self->test_cancellable, test_key_found_cb, g_object_ref (self));
  natter_key_store_free_key (key);
}

static void
remove_clicked_cb (NatterProviderRow *self)
{
  g_signal_emit (self, signals[REMOVE_REQUESTED], 0);
}

/* --- GObject ------------------------------------------------------------- */

/* The expander row's title and subtitle are markup (libadwaita 1.2 has no
 * way to turn that off for the subtitle): names and URLs are escaped, so
 * that "R&D" or "?a=1&b=2" show as typed. */
static gboolean
escape_markup (GBinding     *binding,
               const GValue *from,
               GValue       *to,
               gpointer      user_data)
{
  g_value_take_string (to, g_markup_escape_text (or_empty (g_value_get_string (from)), -1));
  return TRUE;
}

static void
natter_provider_row_constructed (GObject *object)
{
  NatterProviderRow *self = NATTER_PROVIDER_ROW (object);

  G_OBJECT_CLASS (natter_provider_row_parent_class)->constructed (object);

  g_object_bind_property_full (self->provider, "name", self, "title", G_BINDING_SYNC_CREATE,
                               escape_markup, NULL, NULL, NULL);
  g_object_bind_property_full (self->provider, "base-url", self, "subtitle", G_BINDING_SYNC_CREATE,
                               escape_markup, NULL, NULL, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), or_empty (natter_provider_get_name (self->provider)));
  gtk_editable_set_text (GTK_EDITABLE (self->base_url_row), or_empty (natter_provider_get_base_url (self->provider)));
  gtk_editable_set_text (GTK_EDITABLE (self->model_row), or_empty (natter_provider_get_model (self->provider)));
  update_url_message (self);

  g_signal_connect_object (self->provider, "notify::base-url", G_CALLBACK (update_key_title), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->keys, "notify::persistent", G_CALLBACK (update_key_title), self,
                           G_CONNECT_SWAPPED);
  update_key_title (self);
  natter_key_store_lookup_async (self->keys, natter_provider_get_id (self->provider),
                                 self->lookup_cancellable, key_found_cb, g_object_ref (self));
}

/* A row leaving its window stops its lookups, so that it goes at once. */
static void
natter_provider_row_unroot (GtkWidget *widget)
{
  NatterProviderRow *self = NATTER_PROVIDER_ROW (widget);

  g_cancellable_cancel (self->lookup_cancellable);
  stop_test (self);

  GTK_WIDGET_CLASS (natter_provider_row_parent_class)->unroot (widget);
}

static void
natter_provider_row_dispose (GObject *object)
{
  NatterProviderRow *self = NATTER_PROVIDER_ROW (object);

  g_cancellable_cancel (self->lookup_cancellable);
  if (self->test_cancellable != NULL)
    g_cancellable_cancel (self->test_cancellable);
  g_clear_handle_id (&self->test_timeout_id, g_source_remove);
  if (self->provider != NULL)
    g_signal_handlers_disconnect_by_data (self->provider, self);
  if (self->keys != NULL)
    g_signal_handlers_disconnect_by_data (self->keys, self);
  gtk_widget_dispose_template (GTK_WIDGET (object), NATTER_TYPE_PROVIDER_ROW);
  g_clear_object (&self->lookup_cancellable);
  g_clear_object (&self->test_cancellable);
  g_clear_object (&self->provider);
  g_clear_object (&self->keys);

  G_OBJECT_CLASS (natter_provider_row_parent_class)->dispose (object);
}

static void
natter_provider_row_finalize (GObject *object)
{
  g_free (NATTER_PROVIDER_ROW (object)->test_url);

  G_OBJECT_CLASS (natter_provider_row_parent_class)->finalize (object);
}

static void
natter_provider_row_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  NatterProviderRow *self = NATTER_PROVIDER_ROW (object);

  switch (prop_id)
    {
    case PROP_PROVIDER:
      g_value_set_object (value, self->provider);
      break;
    case PROP_KEY_STORE:
      g_value_set_object (value, self->keys);
      break;
    case PROP_HAS_KEY:
      g_value_set_boolean (value, self->has_key);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_provider_row_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  NatterProviderRow *self = NATTER_PROVIDER_ROW (object);

  switch (prop_id)
    {
    case PROP_PROVIDER:
      self->provider = g_value_dup_object (value);
      break;
    case PROP_KEY_STORE:
      self->keys = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
natter_provider_row_class_init (NatterProviderRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = natter_provider_row_constructed;
  object_class->dispose = natter_provider_row_dispose;
  object_class->finalize = natter_provider_row_finalize;
  object_class->get_property = natter_provider_row_get_property;
  object_class->set_property = natter_provider_row_set_property;
  widget_class->unroot = natter_provider_row_unroot;

  properties[PROP_PROVIDER] =
    g_param_spec_object ("provider", NULL, NULL, NATTER_TYPE_PROVIDER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_KEY_STORE] =
    g_param_spec_object ("key-store", NULL, NULL, NATTER_TYPE_KEY_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* Whether a key is stored for the provider, once the lookup is done. */
  properties[PROP_HAS_KEY] =
    g_param_spec_boolean ("has-key", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The row cannot remove its provider: the list and the key are the
   * window's to change. */
  signals[REMOVE_REQUESTED] =
    g_signal_new ("remove-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/natter/Natter/natter-provider-row.ui");
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, name_row);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, base_url_row);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, url_message_row);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, url_message_label);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, key_row);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, forget_key_button);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, model_row);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, actions_row);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, test_button);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, test_spinner);
  gtk_widget_class_bind_template_child (widget_class, NatterProviderRow, test_label);
  gtk_widget_class_bind_template_callback (widget_class, name_applied_cb);
  gtk_widget_class_bind_template_callback (widget_class, base_url_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, base_url_applied_cb);
  gtk_widget_class_bind_template_callback (widget_class, key_applied_cb);
  gtk_widget_class_bind_template_callback (widget_class, forget_key_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, model_applied_cb);
  gtk_widget_class_bind_template_callback (widget_class, test_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, remove_clicked_cb);
}

static void
natter_provider_row_init (NatterProviderRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->lookup_cancellable = g_cancellable_new ();
  g_signal_connect_swapped (self->key_row, "changed", G_CALLBACK (hide_test_result), self);
}

/**
 * natter_provider_row_new:
 * @provider: the provider to edit; edits are saved in it as they are applied
 * @keys: where its API key is kept
 */
GtkWidget *
natter_provider_row_new (NatterProvider *provider,
                         NatterKeyStore *keys)
{
  g_return_val_if_fail (NATTER_IS_PROVIDER (provider), NULL);
  g_return_val_if_fail (NATTER_IS_KEY_STORE (keys), NULL);

  return g_object_new (NATTER_TYPE_PROVIDER_ROW, "provider", provider, "key-store", keys, NULL);
}

/* Returns: (transfer none): the provider the row edits */
NatterProvider *
natter_provider_row_get_provider (NatterProviderRow *self)
{
  g_return_val_if_fail (NATTER_IS_PROVIDER_ROW (self), NULL);
  return self->provider;
}

/* Whether a key is stored for the provider; %FALSE until the lookup is done. */
gboolean
natter_provider_row_has_key (NatterProviderRow *self)
{
  g_return_val_if_fail (NATTER_IS_PROVIDER_ROW (self), FALSE);
  return self->has_key;
}
