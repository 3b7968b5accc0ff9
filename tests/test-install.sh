#!/bin/sh
# test-install.sh BUILDDIR APP_ID — install into a temporary root and start
# the installed app from there (run under with-display.sh). Prints TAP.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u
build=$1
app_id=$2
tmp=$(mktemp -d)
app=
trap '[ -n "$app" ] && kill "$app" 2>/dev/null; rm -rf "$tmp"' EXIT

n=0
failed=0
check () {
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

DESTDIR="$tmp/root" meson install -C "$build" --no-rebuild --quiet >"$tmp/install.log" 2>&1
check $? "meson install --destdir succeeds"
prefix=$(meson introspect "$build" --buildoptions |
         python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
root="$tmp/root$prefix"
share="$root/share"

for file in bin/natter bin/natter-cli \
            "share/applications/$app_id.desktop" \
            "share/metainfo/$app_id.metainfo.xml" \
            "share/icons/hicolor/scalable/apps/$app_id.svg" \
            "share/icons/hicolor/symbolic/apps/$app_id-symbolic.svg" \
            "share/glib-2.0/schemas/$app_id.gschema.xml" \
            "share/dbus-1/services/$app_id.service"; do
  test -s "$root/$file"
  check $? "installs $file"
done

linguas=$(sed 's/#.*//' "$(dirname "$0")/../po/LINGUAS")
for lang in $linguas; do
  test -s "$share/locale/$lang/LC_MESSAGES/natter.mo"
  check $? "installs the $lang translation"
done

# The installed desktop entry starts the installed binary.
grep -q "^Exec=$prefix/bin/natter\b\|^Exec=natter\b" "$share/applications/$app_id.desktop"
check $? "the desktop entry runs natter"

glib-compile-schemas "$share/glib-2.0/schemas"
check $? "the installed schema compiles"

# Start the installed app, with its own schema and data, and wait for its
# window.
GSETTINGS_SCHEMA_DIR="$share/glib-2.0/schemas" XDG_DATA_DIRS="$share:/usr/share" \
  NATTER_BASE_URL=http://127.0.0.1:9/v1 "$root/bin/natter" >"$tmp/app.log" 2>&1 &
app=$!
shown=1
for _ in $(seq 300); do
  if xwininfo -root -tree 2>/dev/null | grep -q '"Natter"'; then shown=0; break; fi
  kill -0 "$app" 2>/dev/null || break
  sleep 0.1
done
check $shown "the installed app shows its window"
kill -0 "$app" 2>/dev/null
check $? "the installed app is still running"
[ $shown = 0 ] || sed 's/^/# /' "$tmp/app.log"

echo "1..$n"
[ $failed = 0 ]
