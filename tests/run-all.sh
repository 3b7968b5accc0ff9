#!/bin/sh
# Builds Natter if needed and runs the whole test suite.
# The last line is "N passed, N failed", counting every test case.
set -u
cd "$(dirname "$0")/.."
builddir=${NATTER_BUILDDIR:-build}

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" || { echo "0 passed, 1 failed"; exit 1; }
fi
if ! meson compile -C "$builddir"; then
  echo "0 passed, 1 failed"
  exit 1
fi

meson test -C "$builddir" --print-errorlogs "$@"
status=$?
python3 tests/tap-summary.py "$builddir/meson-logs/testlog.json" || status=1
exit $status
