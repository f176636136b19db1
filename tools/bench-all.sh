#!/usr/bin/env bash
# tools/bench-all.sh — the paper's evaluation in one command: builds the release flavour, runs every
# microbenchmark with its Google Benchmark JSON into one directory, saves each one's output next to
# it, and renders the report (tables, ratios, PNG plots) with tools/bench_report.py.
#
#   tools/bench-all.sh [--quick] [--out DIR] [--sweep-workers N] [--no-plot]
#
#   --quick            short runs (fewer seconds and repetitions): a smoke test of the pipeline,
#                      not numbers to quote
#   --out DIR          where the results go; default bench-results/<date-time> under the repo
#   --sweep-workers N  the workers sweep of unbalanced goes from 1 to N; default: nproc, at least 2
#   --no-plot          tables only, no PNG
#
# In DIR, for each program P that ran: P.json (Google Benchmark's), P.txt (its stdout: the tables,
# ratios and key=value lines), P.stderr.txt; unbalanced_sweep.* for the workers sweep; meta.txt
# (machine, commit, load); report.txt and throughput.png, scaling.png, dispatch.png. The table
# programs run their peers (Boost.Asio, oneTBB) in the same run when meson found them. A program
# that fails does not stop the others; the script then exits 1 after the report. The numbers are
# only as good as the machine is quiet: the load average goes into meta.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib.sh
repo=$(pwd)

quick=0 out="" sweep_workers="" plot=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) [ $# -ge 2 ] || { echo "bench-all: --out needs a directory" >&2; exit 2; }
           out=$2; shift ;;
    --out=*) out=${1#--out=} ;;
    --sweep-workers) [ $# -ge 2 ] || { echo "bench-all: --sweep-workers needs a number" >&2; exit 2; }
                     sweep_workers=$2; shift ;;
    --sweep-workers=*) sweep_workers=${1#--sweep-workers=} ;;
    --no-plot) plot=0 ;;
    -h|--help) usage_of "$0"; exit 0 ;;
    *) echo "bench-all: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$sweep_workers" ] || sweep_workers=$(( $(nproc) >= 2 ? $(nproc) : 2 ))
positive_int bench-all --sweep-workers "$sweep_workers"
out=${out:-bench-results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say "building (release)"
scripts/bootstrap.sh python3-matplotlib  # the build's packages, and matplotlib for the plots
bin=$repo/$(scripts/build.sh release)/microbench
[ -x "$bin/dispatch" ] || { echo "bench-all: no $bin/dispatch: built with -Dmicrobench=disabled?" >&2; exit 1; }
{ meta_head; echo "quick: $quick"; echo "HUE_* environment: $(env | grep '^HUE_' | tr '\n' ' ')"; } \
  > "$out/meta.txt"
warn_if_busy

failed=()
# run NAME PROGRAM ARGS...: stdout to NAME.txt, stderr to NAME.stderr.txt, both to the terminal;
# Google Benchmark's JSON to NAME.json. A failure is recorded, not fatal.
run() {
  local name=$1; shift
  say "running $name: $*"
  echo "load average before $name: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"
  if ! "$@" --benchmark_out="$out/$name.json" --benchmark_out_format=json \
      2> >(tee "$out/$name.stderr.txt" >&2) | tee "$out/$name.txt"; then
    say "FAILED: $name (see $out/$name.stderr.txt)"
    failed+=("$name")
  fi
}

if [ "$quick" = 1 ]; then
  dispatch_args=(--events 200000 --trips 5000 --reps 3)
  table_args=(--seconds 0.5 --reps 1)
  sweep_args=(--seconds 0.5 --reps 1)
else
  dispatch_args=() table_args=() sweep_args=(--seconds 2 --reps 3)
fi
run dispatch "$bin/dispatch" "${dispatch_args[@]}"
run unbalanced "$bin/unbalanced" "${table_args[@]}"
run unbalanced_sweep "$bin/unbalanced" --workers-sweep --workers "$sweep_workers" "${sweep_args[@]}"
run penalty "$bin/penalty" "${table_args[@]}"
run cache_efficient "$bin/cache_efficient" "${table_args[@]}"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"

say "report"
report_args=()
[ "$plot" = 1 ] || report_args=(--no-plot)
"$(system_python)" tools/bench_report.py "$out" "${report_args[@]}" || failed+=(report)

say "results in $out"
case "$out" in
  "$repo"/bench-results/*) say "note: bench-results/ is not in .gitignore; do not commit it by mistake" ;;
esac
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
