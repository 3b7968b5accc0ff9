/* natter-fake-provider.h — a scriptable OpenAI-compatible server on loopback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests, benchmarks and people without an account talk to this instead of a
 * real provider. It is a real SoupServer bound to 127.0.0.1 only. Each
 * request to /v1/chat/completions takes the next queued NatterFakeScript (or
 * the default one) and plays it: status, headers, then body pieces written
 * and flushed one by one, with pauses, and an ending.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum {
  NATTER_FAKE_ENDING_COMPLETE, /* the body is completed normally */
  NATTER_FAKE_ENDING_HANG_UP,  /* the server drops the connection, inside a chunk, so
                                * clients see an error (to end a stream cleanly but
                                * early, use COMPLETE without natter_fake_script_add_done) */
  NATTER_FAKE_ENDING_STALL,    /* nothing more is sent; the connection stays open */
  NATTER_FAKE_ENDING_HANG_UP_BEFORE_HEADERS, /* the connection is closed once the request is
                                              * read, before a status line: the status, headers,
                                              * body and pieces of the script are not used
                                              * (chat completions only) */
} NatterFakeEnding;

/* --- A scripted response ------------------------------------------------ */

typedef struct _NatterFakeScript NatterFakeScript;

#define NATTER_TYPE_FAKE_SCRIPT (natter_fake_script_get_type ())
GType             natter_fake_script_get_type        (void) G_GNUC_CONST;

/* status 200 streams text/event-stream, chunked (a body set with
 * natter_fake_script_set_body() goes first, as one piece); any other status
 * sends that body as application/json and ignores pieces and ending. A
 * "Content-Type" header set on the script replaces either type. */
NatterFakeScript *natter_fake_script_new             (guint             status);
/* n_tokens content chunks "tok0 ", "tok1 ", …, finish_reason "stop", a
 * usage chunk and [DONE]. */
NatterFakeScript *natter_fake_script_new_completion  (guint             n_tokens);
NatterFakeScript *natter_fake_script_ref             (NatterFakeScript *script);
void              natter_fake_script_unref           (NatterFakeScript *script);

void natter_fake_script_set_header      (NatterFakeScript *script, const char *name, const char *value);
void natter_fake_script_set_body        (NatterFakeScript *script, const char *body);
/* Every piece appended afterwards is written in writes of at most @bytes
 * bytes, each flushed on its own (0 = whole pieces). */
void natter_fake_script_set_split       (NatterFakeScript *script, gsize bytes);
/* Delay between two writes, in milliseconds (default 0). */
void natter_fake_script_set_interval    (NatterFakeScript *script, guint ms);
void natter_fake_script_set_ending      (NatterFakeScript *script, NatterFakeEnding ending);

void natter_fake_script_add_raw         (NatterFakeScript *script, const char *bytes, gssize len);
void natter_fake_script_add_pause       (NatterFakeScript *script, guint ms);
void natter_fake_script_add_comment     (NatterFakeScript *script, const char *text);
void natter_fake_script_add_content     (NatterFakeScript *script, const char *text);
void natter_fake_script_add_reasoning   (NatterFakeScript *script, const char *text);
void natter_fake_script_add_tool_call   (NatterFakeScript *script, guint index, const char *id,
                                         const char *name, const char *arguments);
void natter_fake_script_add_finish      (NatterFakeScript *script, const char *reason);
void natter_fake_script_add_usage       (NatterFakeScript *script, guint prompt_tokens,
                                         guint completion_tokens);
void natter_fake_script_add_error_chunk (NatterFakeScript *script, const char *message);
void natter_fake_script_add_done        (NatterFakeScript *script);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatterFakeScript, natter_fake_script_unref)

/* --- What the server received ------------------------------------------ */

typedef struct {
  char               *method;
  char               *path;
  SoupMessageHeaders *headers;
  GBytes             *body;
} NatterFakeRequest;

/* --- The server ------------------------------------------------------------ */

/* Signals:
 *   "request-received" (guint index): a request was recorded, before it is
 *       answered, so a handler may still queue the script that answers it.
 *   "client-hung-up": a client closed its connection before the server
 *       ended the response, also while it was paused or stalled; emitted
 *       once the server notices, within a main loop iteration or two.
 *
 * Timers and socket watches run on the thread-default main context of the
 * natter_fake_provider_listen() call. Disposing the provider cuts every
 * unfinished stream the way NATTER_FAKE_ENDING_HANG_UP does. */
#define NATTER_TYPE_FAKE_PROVIDER (natter_fake_provider_get_type ())
G_DECLARE_FINAL_TYPE (NatterFakeProvider, natter_fake_provider, NATTER, FAKE_PROVIDER, GObject)

NatterFakeProvider *natter_fake_provider_new            (void);
/* Binds 127.0.0.1:@port (0 picks a free port). */
gboolean            natter_fake_provider_listen         (NatterFakeProvider *self,
                                                         guint               port,
                                                         GError            **error);
guint               natter_fake_provider_get_port       (NatterFakeProvider *self);
/* "http://127.0.0.1:PORT/v1" */
char               *natter_fake_provider_dup_base_url   (NatterFakeProvider *self);

void natter_fake_provider_queue          (NatterFakeProvider *self, NatterFakeScript *script);
/* NULL restores natter_fake_script_new_completion (8). */
void natter_fake_provider_set_default    (NatterFakeProvider *self, NatterFakeScript *script);
/* Requests without "Authorization: Bearer @key" get a 401 when set; a 401
 * does not use up a queued script. NULL accepts any request. */
void natter_fake_provider_set_required_key (NatterFakeProvider *self, const char *key);
void natter_fake_provider_set_models     (NatterFakeProvider *self, const char * const *ids);
/* Replaces the /v1/models response once, e.g. with an error. */
void natter_fake_provider_queue_models   (NatterFakeProvider *self, NatterFakeScript *script);

/* Every request is recorded, whatever its path (404s and 401s too). */
guint                    natter_fake_provider_get_n_requests (NatterFakeProvider *self);
const NatterFakeRequest *natter_fake_provider_get_request    (NatterFakeProvider *self, guint i);
/* Responses whose client closed the connection before the server ended it. */
guint                    natter_fake_provider_get_n_hangups  (NatterFakeProvider *self);

G_END_DECLS
