#!/usr/bin/env bash
# tools/bench-all.sh — the paper's evaluation in one command (SPEC §8): builds the release flavour,
# runs every microbenchmark with --csv into one directory, saves each one's full output next to its
# CSV, and plots them (PNG).
#
#   tools/bench-all.sh [--quick] [--out DIR] [--sweep-workers N] [--no-plot]
#
#   --quick            short runs (fewer seconds and repetitions): a smoke test of the pipeline,
#                      not numbers to quote
#   --out DIR          where the results go; default bench-results/<date-time> under the repo
#   --sweep-workers N  the workers sweep of unbalanced goes from 1 to N; default: the CPUs this
#                      process may use (nproc), at least 2
#   --no-plot          run the benchmarks only
#
# In DIR, for each program P that ran: P.csv (its --csv), P.txt (its stdout: the tables, ratios and
# key=value lines), P.stderr.txt (progress and warnings); unbalanced_sweep.* for the workers sweep;
# meta.txt (machine, commit, load); and the plots: throughput.png (per configuration, per
# benchmark, peers included), scaling.png (events/s against workers), dispatch.png.
#
# Every table program (unbalanced, penalty, cache_efficient) runs its peers, Boost.Asio and oneTBB,
# in the same run when meson found them. A benchmark that fails does not stop the others; the
# script then exits 1 after plotting what there is.
#
# The numbers are only as good as the machine is quiet: anything else running (a build, a test
# suite) shows up in them. The load average is recorded in meta.txt and a busy machine is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

quick=0
out=""
sweep_workers=""
plot=1
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
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
    -h|--help) usage; exit 0 ;;
    *) echo "bench-all: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$sweep_workers" ]; then
  sweep_workers=$(nproc)
  [ "$sweep_workers" -ge 2 ] || sweep_workers=2
fi
case "$sweep_workers" in
  ''|*[!0-9]*|0) echo "bench-all: --sweep-workers wants a positive integer, got '$sweep_workers'" >&2
                 exit 2 ;;
esac

out=${out:-bench-results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { printf '== %s\n' "$*" >&2; }

say "building (release)"
scripts/bootstrap.sh python3-matplotlib  # the build's packages, and matplotlib for the plots
build=$(scripts/build.sh release)
bin=$repo/$build/microbench
[ -x "$bin/dispatch" ] && [ -x "$bin/unbalanced" ] || {
  echo "bench-all: $bin/dispatch or $bin/unbalanced missing: was the build configured with" \
       "-Dmicrobench=disabled?" >&2
  exit 1
}

{
  echo "date: $(date -Iseconds)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
  echo "host: $(uname -srm)"
  echo "cpus (nproc): $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "quick: $quick"
  echo "HUE_* environment: $(env | grep '^HUE_' | tr '\n' ' ')"
} > "$out/meta.txt"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l >= 0.5) }'; then
  say "WARNING: load average $load1 before starting: something else runs; the numbers will be noisy"
fi

failed=()
# run NAME PROGRAM ARGS...: stdout to NAME.txt and the terminal, stderr to NAME.stderr.txt and the
# terminal. A failure is recorded, not fatal.
run() {
  local name=$1; shift
  say "running $name: $*"
  local t0=$SECONDS
  echo "load average before $name: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"
  if "$@" 2> >(tee "$out/$name.stderr.txt" >&2) | tee "$out/$name.txt"; then
    say "$name done in $((SECONDS - t0)) s"
    if [ ! -s "$out/$name.csv" ]; then
      say "FAILED: $name exited 0 but wrote no $name.csv"
      failed+=("$name")
    fi
  else
    local rc=$?
    say "FAILED: $name exited with status $rc (see $out/$name.stderr.txt)"
    failed+=("$name")
  fi
}

if [ "$quick" = 1 ]; then
  dispatch_args=(--events 200000 --trips 5000 --reps 3)
  table_args=(--seconds 0.5 --reps 1)  # unbalanced, penalty, cache_efficient
  sweep_args=(--seconds 0.5 --reps 1)
else
  dispatch_args=()
  table_args=()
  sweep_args=(--seconds 2 --reps 3)
fi

run dispatch "$bin/dispatch" "${dispatch_args[@]}" --csv "$out/dispatch.csv"
run unbalanced "$bin/unbalanced" "${table_args[@]}" --csv "$out/unbalanced.csv"
run unbalanced_sweep "$bin/unbalanced" --workers-sweep --workers "$sweep_workers" \
  "${sweep_args[@]}" --csv "$out/unbalanced_sweep.csv"
for prog in penalty cache_efficient; do
  if [ ! -x "$bin/$prog" ]; then
    say "skipping $prog: $bin/$prog not built"
    continue
  fi
  run "$prog" "$bin/$prog" "${table_args[@]}" --csv "$out/$prog.csv"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"

if [ "$plot" = 1 ]; then
  # Debian's matplotlib (python3-matplotlib) is installed for the system interpreter, which may not
  # be the first python3 on PATH (pyenv): prefer /usr/bin/python3. Without matplotlib the plot
  # script writes gnuplot scripts and runs gnuplot (gnuplot-nox) instead.
  py=/usr/bin/python3
  [ -x "$py" ] || py=$(command -v python3 || true)
  if [ -z "$py" ]; then
    say "FAILED: no python3 to run tools/plot_bench.py"
    failed+=(plot)
  elif ! "$py" -c 'import matplotlib' 2>/dev/null && ! command -v gnuplot >/dev/null; then
    say "FAILED: cannot plot: neither matplotlib for $py (apt-get install -y python3-matplotlib)" \
        "nor gnuplot (apt-get install -y gnuplot-nox)"
    failed+=(plot)
  else
    say "plotting"
    if ! "$py" tools/plot_bench.py "$out"; then
      say "FAILED: tools/plot_bench.py"
      failed+=(plot)
    fi
  fi
fi

say "results in $out"
ls -1 "$out" | sed 's/^/   /' >&2
case "$out" in
  "$repo"/bench-results/*) say "note: bench-results/ is not in .gitignore; do not commit it by mistake" ;;
esac
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
