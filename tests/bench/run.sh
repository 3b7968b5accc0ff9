#!/bin/sh
# tests/bench/run.sh — runs every benchmark and prints its figures.
#
# Usage: tests/bench/run.sh [--quick] [--callgrind] [BUILD_DIR]
#
#   BUILD_DIR    a meson build directory of this tree (default: build);
#                configure it with --buildtype=release for figures worth
#                recording
#   --quick      smaller streams and fewer runs: a smoke test, not figures
#   --callgrind  also count the instructions of each tenth of the 1 MB answer
#                under callgrind, which a busy machine cannot blur (slow)
#
# Every figure is printed on a line starting with RESULT; the summary at the
# end repeats them.  The exit status is 1 if any budget was missed.
set -eu

quick=no
callgrind=no
build=build
for arg in "$@"; do
  case "$arg" in
    --quick) quick=yes ;;
    --callgrind) callgrind=yes ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $arg" >&2; exit 2 ;;
    *) build=$arg ;;
  esac
done

if [ ! -f "$build/build.ninja" ]; then
  echo "run.sh: $build is not a meson build directory (meson setup $build --buildtype=release)" >&2
  exit 2
fi
meson compile -C "$build" >/dev/null

bench="$build/tests/bench"
buildtype=$(meson introspect --buildoptions "$build" 2>/dev/null |
            python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' 2>/dev/null || echo unknown)

if [ "$quick" = yes ]; then
  sse_args=20000; cli_args="10000 3"; growth_args="40000 2"; stop_args=30
else
  sse_args=100000; cli_args="50000 9"; growth_args="166000 5"; stop_args=200
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "# Natter benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "# $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r), load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "# build: $build ($buildtype)"
[ "$buildtype" = release ] || echo "# warning: figures from a $buildtype build are not the ones to record"

run() {
  echo
  echo "## $*"
  "$@" | tee -a "$log" || true
}

export GSETTINGS_BACKEND=memory
run "$bench/bench-sse-decode" $sse_args
# shellcheck disable=SC2086
run "$bench/bench-cli-cpu" $cli_args
# shellcheck disable=SC2086
run "$bench/bench-cost-growth" $growth_args
run "$bench/bench-stop-latency" $stop_args

# --- The window, start-up, memory and the history at scale -----------------
# On their own Xvfb and session bus, as the widget tests run. The history of
# a million messages is made once, in the build directory, by the first
# benchmark that needs it (two minutes, 650 MB); --quick makes and uses one
# of 100,000 messages instead.
display="$(cd "$(dirname "$0")/.." && pwd)/with-display.sh"
export GSETTINGS_SCHEMA_DIR="$build/data"
if [ "$quick" = yes ]; then
  window_args="10 1"; startup_runs=5; history_reps=3
  history_db="$bench/history-quick.db"
  [ -f "$history_db" ] || "$bench/bench-history-generate" "$history_db" 1000 100000 3 2000 >/dev/null
else
  window_args="30 3"; startup_runs=11; history_reps=5
  history_db="$bench/history-1m.db"
fi
# shellcheck disable=SC2086
run "$display" "$bench/bench-window" $window_args
run "$display" "$bench/bench-startup" $startup_runs "$history_db"
run "$display" "$bench/bench-memory"
run "$display" "$bench/bench-history" "$history_db" $history_reps

if [ "$callgrind" = yes ]; then
  echo
  echo "## bench-cost-growth under callgrind: instructions per tenth of the answer"
  dir=$(mktemp -d)
  # shellcheck disable=SC2086
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" \
    "$bench/bench-cost-growth" ${growth_args%% *} 1 >/dev/null 2>&1 || true
  # Each dump holds what ran since the one before: tenth N is its own file.
  for file in "$dir"/cg.out.*; do
    sed -n 's/^desc: Trigger: Client Request: \(.*\), tenth \([0-9]*\)$/\1|\2/p; s/^summary: //p' "$file" | paste -sd '|'
  done | sort -t '|' -k1,1 -k2,2n | awk -F '|' '
    $2 == 0 { next }
    { ir[$1, $2] = $3; names[$1] = 1 }
    END {
      for (name in names) {
        line = ""
        for (t = 1; t <= 10; t++) line = line sprintf(" %.0f", ir[name, t] / 1e6)
        printf "# %s: M instructions per tenth:%s\n", name, line
        ratio = ir[name, 10] / ir[name, 1]
        printf "RESULT %-34s %-44s budget %-26s %s\n", "cost growth (callgrind), " name,
               sprintf("last/first tenth %.3f× in instructions", ratio), "≤ 1.2×",
               ratio <= 1.2 ? "PASS" : "MISS"
      }
    }' | tee -a "$log"
  rm -rf "$dir"
fi

echo
echo "## Summary"
grep -E '^(RESULT|SKIP)' "$log" | sed 's/^RESULT //'
! grep -q ' MISS$' "$log"
