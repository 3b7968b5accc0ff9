/* natter-store.h — conversations kept in SQLite, across restarts and crashes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "natter-conversation.h"
#include "natter-message.h"

G_BEGIN_DECLS

#define NATTER_STORE_ERROR (natter_store_error_quark ())

/* When opening fails with any of these, the database file is left as it
 * was: the user's history is never overwritten to make room. */
typedef enum {
  NATTER_STORE_ERROR_NEWER_SCHEMA, /* written by a newer Natter */
  NATTER_STORE_ERROR_CORRUPT,      /* not a database, or damaged */
  NATTER_STORE_ERROR_LOCKED,       /* another program holds it */
  NATTER_STORE_ERROR_IO,           /* cannot create, read or write it */
  NATTER_STORE_ERROR_NOT_FOUND,    /* no such conversation or message */
  NATTER_STORE_ERROR_FAILED,       /* anything else SQLite reports */
} NatterStoreError;

GQuark natter_store_error_quark (void);

/* One search result. The snippet is the matched text around the match,
 * with each matched word between NATTER_STORE_MATCH_START and _END. */
typedef struct {
  gint64  conversation_id;
  gint64  message_id;
  guint   position;   /* of the message in its conversation */
  char   *title;      /* of the conversation */
  char   *snippet;
} NatterStoreMatch;

#define NATTER_STORE_MATCH_START '\x02'
#define NATTER_STORE_MATCH_END   '\x03'

#define NATTER_STORE_SCHEMA_VERSION 3

#define NATTER_TYPE_STORE (natter_store_get_type ())
G_DECLARE_FINAL_TYPE (NatterStore, natter_store, NATTER, STORE, GObject)

char               *natter_store_dup_default_path    (void);
NatterStore        *natter_store_open                (const char     *path,
                                                      GError        **error);

gint64              natter_store_create_conversation (NatterStore    *self,
                                                      const char     *title,
                                                      GError        **error);
gboolean            natter_store_save_conversation   (NatterStore         *self,
                                                      NatterConversation  *conversation,
                                                      GError             **error);
gint64              natter_store_append_message      (NatterStore    *self,
                                                      gint64          conversation_id,
                                                      NatterMessage  *message,
                                                      GError        **error);
gboolean            natter_store_update_message      (NatterStore    *self,
                                                      gint64          message_id,
                                                      NatterMessage  *message,
                                                      GError        **error);
gboolean            natter_store_delete_messages_from (NatterStore   *self,
                                                       gint64         conversation_id,
                                                       guint          position,
                                                       GError       **error);
GPtrArray          *natter_store_list_conversations  (NatterStore    *self,
                                                      GError        **error);
GPtrArray          *natter_store_load_messages       (NatterStore    *self,
                                                      gint64          conversation_id,
                                                      GArray        **message_ids,
                                                      GError        **error);
NatterConversation *natter_store_load_conversation   (NatterStore    *self,
                                                      gint64          conversation_id,
                                                      GError        **error);
GArray             *natter_store_search              (NatterStore    *self,
                                                      const char     *query,
                                                      GError        **error);
gboolean            natter_store_delete_conversation (NatterStore    *self,
                                                      gint64          conversation_id,
                                                      GError        **error);

G_END_DECLS
