#!/bin/sh
# Runs a test on its own session bus with its own unlocked gnome-keyring, in
# throwaway directories, so that it never touches the developer's keyring.
#   tests/with-keyring.sh [--no-keyring] PROGRAM [ARGS…]
# With --no-keyring the bus has no Secret Service at all, to test the
# fallback. The test learns which through NATTER_TEST_KEYRING.
set -eu

keyring=gnome-keyring
if [ "${1:-}" = --no-keyring ]; then
  keyring=none
  shift
fi

tmp=$(mktemp -d)
bus=
daemon=
cleanup () {
  if [ -n "$daemon" ]; then
    kill "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null || true
  fi
  [ -n "$bus" ] && kill "$bus" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

mkdir -p "$tmp/home" "$tmp/runtime" "$tmp/data" "$tmp/config" "$tmp/cache"
chmod 700 "$tmp/runtime"
export HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/runtime" XDG_DATA_HOME="$tmp/data" \
       XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export NATTER_TEST_KEYRING="$keyring"
# A display stays, for widget tests run as with-display.sh with-keyring.sh …:
# the keyring is unlocked, so it never needs to show a prompt there.
unset GNOME_KEYRING_CONTROL WAYLAND_DISPLAY

# The standard session configuration would let the bus activate
# gnome-keyring (org.freedesktop.secrets.service) and its prompters on
# demand: then --no-keyring would get a locked keyring instead of none, and a
# prompt could hang. This bus activates nothing.
cat >"$tmp/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

# The bus daemon's own output must not mix with the test's TAP on stdout.
dbus-daemon --config-file="$tmp/bus.conf" --fork --nopidfile --print-address=4 --print-pid=5 \
  4>"$tmp/bus-address" 5>"$tmp/bus-pid" >&2
bus=$(cat "$tmp/bus-pid")
DBUS_SESSION_BUS_ADDRESS=$(cat "$tmp/bus-address")
export DBUS_SESSION_BUS_ADDRESS

login_unlocked () {
  gdbus call --session --dest org.freedesktop.secrets \
    --object-path /org/freedesktop/secrets/collection/login \
    --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked \
    2>/dev/null | grep -q false
}

if [ "$keyring" = gnome-keyring ]; then
  # --foreground keeps the daemon our child, so that it can be stopped and
  # waited for; daemonized, it would be reparented and linger as a zombie.
  # --unlock reads the password of a new login keyring from stdin: the
  # keyring is created unlocked and no prompt is ever needed.
  printf pass | gnome-keyring-daemon --foreground --unlock --components=secrets >&2 &
  daemon=$!
  # Ready when the login collection answers on the bus, unlocked.
  tries=0
  until login_unlocked; do
    tries=$((tries + 1))
    kill -0 "$daemon" 2>/dev/null || { echo "gnome-keyring-daemon did not start" >&2; exit 1; }
    [ "$tries" -lt 250 ] || { echo "gnome-keyring-daemon is not ready" >&2; exit 1; }
    sleep 0.04
  done
  # Where the daemon put its control socket: it says nothing when that is the
  # default under XDG_RUNTIME_DIR.
  GNOME_KEYRING_CONTROL="$XDG_RUNTIME_DIR/keyring"
  export GNOME_KEYRING_CONTROL
fi

# Not exec: the trap must still stop the daemons when the test is done.
"$@"
