#!/bin/sh
# Runs a widget test on its own X server and session bus, in throwaway
# directories, so that tests can run side by side and leave nothing behind.
#   tests/with-display.sh PROGRAM [ARGS…]
set -eu

tmp=$(mktemp -d)
xvfb=
bus=
# Wait for Xvfb to be gone: it removes its socket as it exits, and must not
# remove the one of the next test's server, which may get the same number.
cleanup () {
  [ -n "$bus" ] && kill "$bus" 2>/dev/null
  if [ -n "$xvfb" ]; then
    kill "$xvfb" 2>/dev/null
    while kill -0 "$xvfb" 2>/dev/null; do sleep 0.02; done
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# -displayfd picks a free display number and reports it: no races.
# -noreset: by default the server resets when its last client leaves, and
# refuses connections meanwhile; a test's first client would then fail.
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -noreset 3>"$tmp/display" 2>/dev/null &
xvfb=$!
# Wait for the whole line: a display number can take more than one digit.
while [ ! -s "$tmp/display" ] || [ "$(wc -l <"$tmp/display")" -lt 1 ]; do
  kill -0 "$xvfb" 2>/dev/null || { echo "Xvfb did not start" >&2; exit 1; }
  sleep 0.02
done
DISPLAY=":$(cat "$tmp/display")"
export DISPLAY

# Make sure the server takes connections before the test starts.
tries=0
until xdpyinfo >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 250 ] || { echo "Xvfb on $DISPLAY takes no connections" >&2; exit 1; }
  sleep 0.02
done

mkdir -p "$tmp/home" "$tmp/runtime" "$tmp/data" "$tmp/config" "$tmp/cache"
chmod 700 "$tmp/runtime"
export DISPLAY HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/runtime" XDG_DATA_HOME="$tmp/data" \
       XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y="${GTK_A11Y:-none}"

# The bus daemon's own output must not mix with the test's TAP on stdout.
dbus-daemon --session --fork --nopidfile --print-address=4 --print-pid=5 \
  4>"$tmp/bus-address" 5>"$tmp/bus-pid" >&2
bus=$(cat "$tmp/bus-pid")
DBUS_SESSION_BUS_ADDRESS=$(cat "$tmp/bus-address")
export DBUS_SESSION_BUS_ADDRESS

"$@"
