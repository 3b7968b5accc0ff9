#!/bin/sh
# make-screenshots.sh BUILDDIR — the metainfo screenshots, taken from the real
# app on a private Xvfb, talking to the bundled fake provider.
#   tests/with-display.sh data/screenshots/make-screenshots.sh build
# Needs xdotool and ImageMagick's import.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
build=$(realpath "$1")
out=$(dirname "$(realpath "$0")")
export GSETTINGS_SCHEMA_DIR="$build/data" GSETTINGS_BACKEND=memory LANGUAGE=C

fifo=$(mktemp -u)
mkfifo "$fifo"
"$build/tests/natter-fake-provider" --tokens 90 --interval-ms 5 --reasoning 6 >"$fifo" 2>/dev/null &
provider=$!
app=
trap 'kill $provider $app 2>/dev/null; rm -f "$fifo"' EXIT
read -r base_url <"$fifo"

NATTER_BASE_URL=$base_url NATTER_MODEL=natter-fake-1 "$build/src/ui/natter" &
app=$!
window=
for _ in $(seq 100); do
  window=$(xdotool search --name '^Natter$' 2>/dev/null | head -n 1) && [ -n "$window" ] && break
  sleep 0.1
done
[ -n "$window" ] || { echo "Natter did not show its window" >&2; exit 1; }
xdotool windowsize --sync "$window" 1100 720
sleep 1

# The window as on screen: the rest of the root window is black, and GTK
# draws no shadow without a compositor.
shoot () {
  import -window root -trim +repage "$out/$1"
}

ask () {
  xdotool type --delay 2 "$1"
  xdotool key Return
  sleep 2.5
}

ask "What is a good way to cook pasta for four people?"
xdotool key ctrl+n
ask "Explain the difference between TCP and UDP"
shoot conversation.png

xdotool key ctrl+f
sleep 0.5
xdotool type --delay 2 "pasta"
sleep 1
shoot search.png
echo "Screenshots written to $out"
