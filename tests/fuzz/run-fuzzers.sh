#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for a set time.
#   tests/fuzz/run-fuzzers.sh [SECONDS-PER-TARGET [TARGET…]]
# SECONDS defaults to 60; TARGET is sse-parser, chunk-decoder, api-error or
# markdown (default: all).  Build and working corpora go to $FUZZ_BUILD_DIR
# (default /tmp/natter-fuzz); the seed corpora in tests/fuzz/corpus are only
# read.  A crash leaves its input as $FUZZ_BUILD_DIR/crashes/<target>-crash-*;
# replay it with $FUZZ_BUILD_DIR/fuzz-<target> FILE.  Exits 1 if any crashed.
# Needs clang (Debian's clang 14 has libFuzzer) and the project's -dev packages.
set -eu

seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-sse-parser chunk-decoder api-error markdown}

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../src" && pwd)
build=${FUZZ_BUILD_DIR:-/tmp/natter-fuzz}
CC=${CC:-clang}
mkdir -p "$build/crashes"

# The same API pins and warnings as meson.build; the project's own code is
# instrumented, the system libraries are not.
cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
  -fno-sanitize-recover=undefined -Wall -Wextra -Wno-unused-parameter
  -Wno-missing-field-initializers -Wmissing-prototypes -Wstrict-prototypes
  -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74
  -DSOUP_VERSION_MIN_REQUIRED=SOUP_VERSION_3_2 -DSOUP_VERSION_MAX_ALLOWED=SOUP_VERSION_3_2
  -DJSON_VERSION_MIN_REQUIRED=JSON_VERSION_1_6 -DJSON_VERSION_MAX_ALLOWED=JSON_VERSION_1_6
  -DGDK_VERSION_MIN_REQUIRED=GDK_VERSION_4_8 -DGDK_VERSION_MAX_ALLOWED=GDK_VERSION_4_8
  -I$here -I$src/sse -I$src/api -I$src/ui"

build_target () {
  case $1 in
    sse-parser)    files="sse/natter-sse-parser.c";                          pkgs="gobject-2.0" ;;
    chunk-decoder) files="api/natter-chunk-decoder.c api/natter-api-error.c"; pkgs="gio-2.0 json-glib-1.0 libsoup-3.0" ;;
    api-error)     files="api/natter-api-error.c";                           pkgs="gio-2.0 json-glib-1.0 libsoup-3.0" ;;
    markdown)      files="ui/natter-markdown-renderer.c";                    pkgs="gtk4 md4c" ;;
    *) echo "unknown target: $1" >&2; exit 2 ;;
  esac
  sources=
  for f in $files; do sources="$sources $src/$f"; done
  echo "building fuzz-$1"
  # shellcheck disable=SC2046,SC2086
  $CC $cflags $(pkg-config --cflags $pkgs) "$here/fuzz-$1.c" $sources \
    -o "$build/fuzz-$1" $(pkg-config --libs $pkgs)
}

# As under meson test: GLib's allocator out of the sanitizer's way.
export G_SLICE=always-malloc G_DEBUG=gc-friendly LC_ALL=C.UTF-8
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for t in $targets; do build_target "$t"; done

status=0
summary=
for t in $targets; do
  mkdir -p "$build/corpus/$t"
  log="$build/fuzz-$t.log"
  echo "running fuzz-$t for ${seconds}s (log: $log)"
  # The working corpus comes first: libFuzzer adds what it finds there.
  # Inputs are capped (larger seeds are cut when loaded): the 100 KB
  # regression seeds would otherwise make every mutation that large, and
  # the markdown target is slow on large inputs, which teach it nothing new.
  max_len=8192
  [ "$t" = markdown ] && max_len=4096
  if "$build/fuzz-$t" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$build/crashes/$t-" -timeout=30 -rss_limit_mb=2048 -max_len=$max_len \
       "$build/corpus/$t" "$here/corpus/$t" >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    status=1
    grep -E "ERROR: |check failed|Test unit written|SUMMARY" "$log" | head -n 20 >&2 || true
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*ft: \([0-9]*\).*corp: \([0-9]*\).*/cov \1, ft \2, corpus \3/p')
  line=$(printf '%-14s %-6s %12s runs in %ss  %s' "$t" "$result" "${runs:-?}" "$seconds" "$cov")
  echo "$line"
  summary="$summary$line
"
done

printf '\n%s' "$summary"
ls "$build"/crashes/* >/dev/null 2>&1 && { echo "crash inputs:"; ls -l "$build"/crashes/; }
exit $status
