# tools/lib.sh — what the benchmark scripts share, sourced (tools/race/race.sh; tools/bench-all.sh
# may do the same): progress lines, --help from a script's header, the machine line that heads
# every results table, the busy-machine warning, the Python that has Debian's matplotlib, and a
# server under test: a free port, stopping it, its processes and their CPU time.
#
#   . "$(dirname "$0")/../lib.sh"     # from tools/race/; tools/bench-all.sh: "$(dirname "$0")/lib.sh"

say() { printf '== %s\n' "$*" >&2; }

# Script $1's header comment (line 2 up to `set -euo`), as its --help.
usage_of() { sed -n '2,/^set -euo/p' "$1" | sed '$d; s/^# \{0,1\}//'; }

# positive_int PROG OPTION VALUE: exits 2 unless VALUE is a positive decimal integer.
positive_int() {
  case "$3" in ''|*[!0-9]*|0*) echo "$1: $2 wants a positive integer, got '$3'" >&2; exit 2 ;; esac
}

cache_size() {  # getconf NAME -> "1 MiB", "512 KiB", or "?" where the CPU does not say
  local b
  b=$(getconf "$1" 2>/dev/null) || b=0
  case "$b" in ''|*[!0-9]*) b=0 ;; esac
  if [ "$b" -ge 1048576 ]; then echo "$((b / 1048576)) MiB"
  elif [ "$b" -gt 0 ]; then echo "$((b / 1024)) KiB"
  else echo "?"; fi
}

# One line naming what a table was measured on: CPU model and count, TSC rate (the kernel's
# calibration from dmesg; where dmesg is not readable, /proc/cpuinfo's "cpu MHz", which a VM may
# report as anything), L2 and L3 as the CPU reports them (per core or shared: getconf does not
# say), kernel, date. On a shared VM the speed still drifts under this line: compare within a run.
machine_line() {
  local cpu tsc
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  tsc=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1 MHz/p' | tail -1)
  [ -n "$tsc" ] || tsc="$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -1) MHz (cpu MHz)"
  printf 'machine: %s x%s, TSC %s, L2 %s, L3 %s, Linux %s, %s%s\n' "${cpu:-unknown CPU}" "$(nproc)" \
    "$tsc" "$(cache_size LEVEL2_CACHE_SIZE)" "$(cache_size LEVEL3_CACHE_SIZE)" "$(uname -r)" \
    "$(date -Iseconds)" "$(hop_floor)"
}

# "; hop floor N ns" when the dispatch benchmark is built: the cross-core cache-line hand-off,
# which moves between ~30 and ~240 ns on these VMs as the host moves the vCPUs (microbench/machine.hpp).
hop_floor() {
  local d ns
  d=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/release/microbench/dispatch
  [ -x "$d" ] || return 0
  ns=$("$d" --reps 1 --trips 20000 --only cross_core_pingpong --benchmark_filter='^floor/' 2>/dev/null |
       sed -n 's/^floor_cross_core_ns=//p')
  [ -n "$ns" ] && printf '; hop floor %.0f ns' "$ns"
  return 0
}

# The head of a results directory's meta.txt: the machine, the commit, the load.
meta_head() {
  machine_line
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD \
    2>/dev/null || echo ' (dirty tree)')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Anything else running shows up in the numbers; say so before they are taken.
warn_if_busy() {
  local load1
  load1=$(cut -d' ' -f1 /proc/loadavg)
  if awk -v l="$load1" 'BEGIN { exit !(l >= 0.5) }'; then
    say "WARNING: load average $load1 before starting: something else runs; the numbers will be noisy"
  fi
}

# Debian's matplotlib (python3-matplotlib) is installed for /usr/bin/python3, which may not be the
# first python3 on PATH (pyenv): prefer it.
system_python() { if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi; }

# ---- a server under test, for the race tools: its pid in $server_pid ----------------------------
# Stops $server_pid: SIGTERM, 10 s to exit, then SIGKILL; then whatever is left in its process
# group (the caller starts it with setsid: a master's workers, sshd's connection processes).
stop_server() {
  [ -n "${server_pid:-}" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    say "WARNING: the server did not stop on SIGTERM in 10 s: killing it"
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  kill -KILL -- "-$server_pid" 2>/dev/null || true
  server_pid=""
}

# A free port of 127.0.0.1 below the ephemeral range (32768..60999), so no client can hold it.
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] &&
       ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "${0##*/}: no free port found" >&2
  return 1
}

# ---- a server's processes, for its CPU time and its system calls --------------------------------
# tree_stat PID: "pid ticks" for PID and each live descendant (a master's workers, found through
# the ppid of every /proc/*/stat, so workers forked at any time count), nothing when PID is gone.
# ticks: utime + stime + cutime + cstime (fields 14-17), which cover all of a process's threads,
# those that exited too, and its children already reaped: a worker that dies and is waited for
# moves its time to its master's cutime, and the sum does not drop.
tree_stat() {
  # cat fails on the processes that exit while it reads: those do not count (and pipefail holds).
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v root="$1" '
    { rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")  # past "pid (comm) ", spaces and all
      ppid[$1] = f[2]; ticks[$1] = f[12] + f[13] + f[14] + f[15] }
    END {
      if (!(root in ppid)) exit
      inside[root] = 1
      do { grew = 0
           for (p in ppid) if (!(p in inside) && (ppid[p] in inside)) { inside[p] = 1; grew = 1 }
      } while (grew)
      for (p in inside) print p, ticks[p]
    }'
}

tree_pids() { tree_stat "$1" | cut -d' ' -f1; }  # PID and its live descendants

# tree_cpu_us PID: the CPU time of PID's process tree in microseconds (tick resolution, 10 ms at
# the usual 100 Hz); nothing when PID is gone.
tree_cpu_us() {
  tree_stat "$1" |
    awk -v hz="$(getconf CLK_TCK)" '{ t += $2; n++ } END { if (n) printf "%.0f\n", t * 1e6 / hz }'
}
