/* fuzz-common.h — what the fuzz targets share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each fuzz-<name>.c defines LLVMFuzzerTestOneInput.  Built with clang
 * -fsanitize=fuzzer it is a libFuzzer target (run-fuzzers.sh); built with
 * corpus-runner.c it replays a corpus under `meson test --suite fuzz`.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);
int LLVMFuzzerInitialize   (int           *argc,
                            char        ***argv);

/* A wrong answer is a crash too: libFuzzer keeps the input that caused it. */
#define FUZZ_CHECK(cond, ...) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        fprintf (stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
        fprintf (stderr, __VA_ARGS__); \
        fputc ('\n', stderr); \
        abort (); \
      } \
  } G_STMT_END

/* A critical or a warning means the code broke a contract (invalid UTF-8
 * handed to GTK, a failed precondition): the fuzzer must see it. */
static inline void
fuzz_init (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

/* FNV-1a: the input decides where it is cut, so that a crash found with
 * some cuts is reproduced by the same input. */
static inline guint64
fuzz_hash (const guint8 *data,
           gsize         size)
{
  guint64 hash = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  for (gsize i = 0; i < size; i++)
    hash = (hash ^ data[i]) * G_GUINT64_CONSTANT (0x100000001b3);
  return hash;
}

/* xorshift64*; the state must not be 0. */
static inline guint64
fuzz_next (guint64 *state)
{
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return *state * G_GUINT64_CONSTANT (0x2545f4914f6cdd1d);
}

static inline guint64
fuzz_seed (const guint8 *data,
           gsize         size)
{
  guint64 seed = fuzz_hash (data, size);

  return seed != 0 ? seed : 1;
}

/* The length of the next piece of a body cut as a network would cut it:
 * mostly a few bytes (inside a UTF-8 character, between CR and LF), some
 * tens, now and then the rest at once. */
static inline gsize
fuzz_piece_length (guint64 *state,
                   gsize    remaining)
{
  guint64 r = fuzz_next (state);
  gsize len;

  switch (r % 8)
    {
    case 0: case 1: case 2: case 3:
      len = 1 + (r >> 8) % 4;
      break;
    case 4: case 5:
      len = 1 + (r >> 8) % 32;
      break;
    case 6:
      len = 1 + (r >> 8) % 512;
      break;
    default:
      len = remaining;
      break;
    }
  return MIN (MAX (len, 1), remaining);
}
