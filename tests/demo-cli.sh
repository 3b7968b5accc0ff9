#!/bin/sh
# Builds Natter if needed, starts the fake provider on a free loopback port,
# and streams an answer from it with natter-cli. No account needed.
#   tests/demo-cli.sh "Tell me a story"
set -eu
cd "$(dirname "$0")/.."
builddir=${NATTER_BUILDDIR:-build}

[ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
meson compile -C "$builddir" >/dev/null

fifo=$(mktemp -u)
mkfifo "$fifo"
"$builddir/tests/natter-fake-provider" --tokens 60 --interval-ms 40 --reasoning 6 >"$fifo" &
provider=$!
trap 'kill $provider 2>/dev/null; rm -f "$fifo"' EXIT
read -r base_url <"$fifo"

NATTER_BASE_URL=$base_url NATTER_API_KEY= "$builddir/src/cli/natter-cli" "$@"
