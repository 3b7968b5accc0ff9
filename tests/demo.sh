#!/bin/sh
# Builds Natter if needed and starts the window. With no provider set in the
# environment (NATTER_BASE_URL, NATTER_API_KEY), it starts the bundled fake
# provider on a free loopback port and talks to that: no account needed.
#   tests/demo.sh
set -eu
cd "$(dirname "$0")/.."
builddir=${NATTER_BUILDDIR:-build}

[ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
meson compile -C "$builddir" >/dev/null

# Run from the build tree: its compiled settings schema.
export GSETTINGS_SCHEMA_DIR="$builddir/data"

if [ -n "${NATTER_BASE_URL:-}${NATTER_API_KEY:-}${OPENAI_BASE_URL:-}" ]; then
  exec "$builddir/src/ui/natter" "$@"
fi

fifo=$(mktemp -u)
mkfifo "$fifo"
"$builddir/tests/natter-fake-provider" --tokens 120 --interval-ms 30 --reasoning 8 >"$fifo" 2>/dev/null &
provider=$!
trap 'kill $provider 2>/dev/null; rm -f "$fifo"' EXIT
read -r base_url <"$fifo"

NATTER_BASE_URL=$base_url "$builddir/src/ui/natter" "$@"
