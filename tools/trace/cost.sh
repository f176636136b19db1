#!/usr/bin/env bash
# tools/trace/cost.sh — what recording a trace costs SWS: server CPU time per request with --trace
# on and off, under wrk -t1 -c100 on 1 KB files, in interleaved pairs.
#
#   tools/trace/cost.sh [--pairs N] [--duration S] [--warmup S] [--workers N] [--records N]
#                       [--sws PATH] [--dispatch-bin PATH] [--keep DIR] [--split] [--dispatch]
#                       [--no-sws]
#
#   --pairs N      sets of runs, off and on (and full, --split), the order rotating from set to set
#                  (default 3)
#   --duration S   measured seconds of wrk per run (default 5)
#   --warmup S     seconds of wrk before each measured window, not counted (default 1)
#   --workers N    hue-sws --workers (default: nproc)
#   --records N    trace records per core (HUE_TRACE_RECORDS; default 8388608, 256 MiB per core,
#                  faulted in at start-up): enough that no ring fills in warm-up + window at this
#                  machine's rate. A ring that fills stops recording and the run would measure
#                  less than tracing costs: such a run is marked "FULL" in the table.
#   --sws PATH     the server (default build/release/apps/sws/hue-sws)
#   --dispatch-bin PATH  the benchmark (default build/release/microbench/dispatch); with --sws, to
#                  measure a kept older build against the current one in alternating runs
#   --keep DIR     keep wrk's outputs and the servers' stderr there
#   --split        a third run in each set, "full": trace on with rings of 1024 records, which
#                  fill during the warm-up, so its window pays the TSC reads, post ids and branches
#                  of tracing but stores no record; on - full is then what the stores cost
#   --dispatch     also microbench/dispatch's same_core_same_color and cross_core_pingpong (ns per
#                  event, ns per hop), HUE_TRACE=/dev/null against no trace, --pairs interleaved
#                  pairs of processes, each the median of its 3 repetitions; rings of 2^24
#                  records, which one repetition's 2,000,000 events do not fill
#   --no-sws       only the dispatch pairs
#
# Each run starts hue-sws on a free port of 127.0.0.1 with a document root of 100 files of exactly
# 1024 bytes, warms it with wrk, reads the utime + stime of its process (tools/lib.sh tree_cpu_us),
# runs wrk -t1 -c100 for the window over one file, reads it again, and stops the server with
# SIGTERM. Tracing on: --trace /dev/null, so the export at exit (after the window, not measured)
# writes nowhere. CPU per request = CPU time in the window / requests wrk completed. Prints the
# machine line, the command, one row per run, the medians with their ratio (on / off), and the
# median of the ratios within each set. wrk
# shares the cores with the server: numbers from a busy machine are noise (a warning says so).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

pairs=3 duration=5 warmup=1 workers=$(nproc) records=8388608 keep="" dispatch=0 sws_rows=1 split=0
sws=$here/../../build/release/apps/sws/hue-sws
dispatch_bin=$here/../../build/release/microbench/dispatch
command_line="tools/trace/cost.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --pairs) positive_int "${0##*/}" "$1" "${2:-}"; pairs=$2; shift 2 ;;
    --duration) positive_int "${0##*/}" "$1" "${2:-}"; duration=$2; shift 2 ;;
    --warmup) positive_int "${0##*/}" "$1" "${2:-}"; warmup=$2; shift 2 ;;
    --workers) positive_int "${0##*/}" "$1" "${2:-}"; workers=$2; shift 2 ;;
    --records) positive_int "${0##*/}" "$1" "${2:-}"; records=$2; shift 2 ;;
    --sws) sws=$2; shift 2 ;;
    --dispatch-bin) dispatch_bin=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --split) split=1; shift ;;
    --dispatch) dispatch=1; shift ;;
    --no-sws) sws_rows=0; dispatch=1; shift ;;
    -h|--help) usage_of "$0"; exit 0 ;;
    *) echo "${0##*/}: unknown option '$1' (--help)" >&2; exit 2 ;;
  esac
done
[ "$dispatch" = 0 ] || [ -x "$dispatch_bin" ] ||
  { echo "${0##*/}: no $dispatch_bin (ninja -C build/release microbench/dispatch)" >&2; exit 1; }
[ -x "$sws" ] || { echo "${0##*/}: no server at $sws (ninja -C build/release apps/sws/hue-sws)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "${0##*/}: wrk is missing (Debian: apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT
root=$work/root
mkdir -p "$root"
for name in $(seq -f 'file-%02g' 0 99); do
  head="<!doctype html><title>$name.html</title><pre>"
  printf '%s%s</pre>\n' "$head" "$(head -c $((1024 - ${#head} - 7)) /dev/zero | tr '\0' x)" \
    > "$root/$name.html"
done
[ -n "$keep" ] && mkdir -p "$keep"

# run MODE N: one measured run; prints "MODE requests cpu_us rps full".
run() {
  local mode=$1 n=$2 port trace=() log=$work/sws-$1-$2.err out=$work/wrk-$1-$2.txt cpu0 cpu1
  local requests rps full="" ring=$records
  port=$(free_port)
  [ "$mode" = off ] || trace=(--trace /dev/null)
  [ "$mode" = full ] && ring=1024
  HUE_TRACE_RECORDS=$ring setsid "$sws" --root "$root" --port "$port" --workers "$workers" \
    "${trace[@]}" > "$work/sws.out" 2> "$log" &
  server_pid=$!
  # Start-up can take seconds on a loaded machine (the first run after a build: 8 s seen).
  for _ in $(seq 600); do grep -q listening "$work/sws.out" 2>/dev/null && break; sleep 0.05; done
  grep -q listening "$work/sws.out" || { echo "${0##*/}: hue-sws did not start: $(cat "$log")" >&2; exit 1; }
  local url=http://127.0.0.1:$port/file-42.html
  wrk -t1 -c100 -d"${warmup}s" "$url" > /dev/null
  cpu0=$(tree_cpu_us "$server_pid")
  wrk -t1 -c100 -d"${duration}s" "$url" > "$out"
  cpu1=$(tree_cpu_us "$server_pid")
  stop_server
  requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out")
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out")
  [ "$mode" = on ] && grep -q "rings full" "$log" && full=FULL
  if grep -q "Non-2xx\|Socket errors" "$out"; then
    echo "${0##*/}: wrk saw errors in run $mode $n:" >&2; cat "$out" >&2; exit 1
  fi
  [ -n "$keep" ] && cp "$out" "$log" "$keep/"
  echo "$mode $requests $((cpu1 - cpu0)) $rps $full"
}

warn_if_busy
machine_line
echo "command: $command_line"
if [ "$sws_rows" = 1 ]; then
echo "hue-sws --workers $workers, wrk -t1 -c100 ${duration}s after ${warmup}s of warm-up, 1 KB file, HUE_TRACE_RECORDS=$records"
rows=$work/rows.txt
for i in $(seq "$pairs"); do
  # Rotate which goes first, so a drift of the machine's speed does not favour one mode.
  if [ "$split" = 1 ]; then
    case $((i % 3)) in 1) order="off on full" ;; 2) order="on full off" ;; 0) order="full off on" ;; esac
  elif [ $((i % 2)) = 1 ]; then order="off on"; else order="on off"; fi
  for mode in $order; do
    say "pair $i: trace $mode"
    run "$mode" "$i" >> "$rows"
  done
done

awk '
  { mode = $1; us = $3 / $2; ok = ($5 == "") ? "" : "  FULL: a ring filled, cost understated"
    printf "%-4s set %d  %9d requests  %7.0f req/s  %8.3f us CPU/request%s\n", mode, ++n[mode], $2, $4, us, ok
    v[mode, n[mode]] = us; r[mode, n[mode]] = $4 }
  function median(m, a,   i, j, t, k, x) {
    k = n[m]; for (i = 1; i <= k; i++) x[i] = a[m, i]
    for (i = 2; i <= k; i++) { t = x[i]; for (j = i - 1; j >= 1 && x[j] > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
    return k % 2 ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
  }
  END {
    # Paired too: the ratio within each set, whose runs are seconds apart, then their median; the
    # speed of the machine drifts between sets more than within one.
    for (i = 1; i <= n["on"]; i++) { v["on/off", i] = v["on", i] / v["off", i]; if (n["full"]) v["full/off", i] = v["full", i] / v["off", i] }
    n["on/off"] = n["on"]; n["full/off"] = n["full"]
    off = median("off", v); on = median("on", v)
    printf "median CPU/request: off %.3f us, on %.3f us, on/off %.3fx\n", off, on, on / off
    printf "median req/s: off %.0f, on %.0f, on/off %.3fx\n", median("off", r), median("on", r), median("on", r) / median("off", r)
    if (n["full"]) { full = median("full", v)
      printf "median CPU/request with full rings (no record stored): %.3f us, full/off %.3fx, on/full %.3fx\n", full, full / off, on / full }
    printf "median of the per-set ratios of CPU/request: on/off %.3fx", median("on/off", v)
    if (n["full"]) printf ", full/off %.3fx", median("full/off", v)
    printf "\n"
  }' "$rows"
fi

# ---- microbench/dispatch, trace on and off --------------------------------------------------------
# dispatch_run MODE: "MODE same_core_ns cross_core_ns" of one process (medians of its 3 reps).
dispatch_run() {
  local out=$work/dispatch-$1.txt env=()
  [ "$1" = on ] && env=(HUE_TRACE=/dev/null HUE_TRACE_RECORDS=16777216)
  env "${env[@]}" "$dispatch_bin" --reps 3 --seconds 0.5 --only same_core_same_color,cross_core_pingpong \
    --benchmark_filter='^hue/' > "$out" 2> "$work/dispatch-$1.err"
  if grep -q "rings full" "$work/dispatch-$1.err"; then
    echo "${0##*/}: a dispatch ring filled: raise HUE_TRACE_RECORDS" >&2; exit 1
  fi
  echo "$1 $(sed -n 's/^dispatch_same_core_ns=//p' "$out") $(sed -n 's/^dispatch_cross_core_ns=//p' "$out")"
}
if [ "$dispatch" = 1 ]; then
  [ "$sws_rows" = 1 ] || { warn_if_busy; machine_line; echo "command: $command_line"; }
  echo "dispatch --reps 3 --seconds 0.5, hue rows; trace on: HUE_TRACE=/dev/null HUE_TRACE_RECORDS=16777216"
  rows=$work/dispatch-rows.txt
  for i in $(seq "$pairs"); do
    if [ $((i % 2)) = 1 ]; then order="off on"; else order="on off"; fi
    for mode in $order; do
      say "dispatch pair $i: trace $mode"
      dispatch_run "$mode" >> "$rows"
    done
  done
  awk '
    { n[$1]++; a[$1, n[$1]] = $2; b[$1, n[$1]] = $3
      printf "%-4s set %d  same_core_same_color %7.1f ns/event  cross_core_pingpong %8.1f ns/hop\n", $1, n[$1], $2, $3 }
    function median(m, v,   i, j, t, k, x) {
      k = n[m]; for (i = 1; i <= k; i++) x[i] = v[m, i]
      for (i = 2; i <= k; i++) { t = x[i]; for (j = i - 1; j >= 1 && x[j] > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
      return k % 2 ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
    }
    END {
      printf "median same_core_same_color: off %.1f, on %.1f ns/event, on/off %.3fx\n", median("off", a), median("on", a), median("on", a) / median("off", a)
      printf "median cross_core_pingpong: off %.1f, on %.1f ns/hop, on/off %.3fx\n", median("off", b), median("on", b), median("on", b) / median("off", b)
      for (i = 1; i <= n["on"]; i++) { a["r", i] = a["on", i] / a["off", i]; b["r", i] = b["on", i] / b["off", i] }
      n["r"] = n["on"]
      printf "median of the per-set ratios: same_core_same_color on/off %.3fx, cross_core_pingpong on/off %.3fx\n", median("r", a), median("r", b)
    }' "$rows"
fi
