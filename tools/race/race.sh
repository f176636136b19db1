#!/usr/bin/env bash
# tools/race/race.sh — the Mely paper's web-server race (its Fig. 6) on this machine, in one
# command: hue's SWS in each stealing configuration and style, then nginx, h2o and lighttpd from
# Debian, on the same 101 files of 1 KB, the same number of workers, over loopback.
#
#   tools/race/race.sh [--quick] [--duration S] [--wrk-duration S] [--warmup S] [--reps R]
#                      [--clients "25 50 100 150 200 250"] [--workers N] [--servers LIST]
#                      [--injector-threads N] [--out DIR] [--no-build] [--no-install]
#                      [--no-peer-cache] [--no-syscalls] [--no-plot] [--keep] [--sws PATH]
#                      [--injector PATH]
#
#   --quick             2 s per injector point, 3 s of wrk: a smoke test, not numbers to quote
#   --duration S        measured seconds per injector point, and of wrk (default 10)
#   --wrk-duration S    seconds of wrk alone (default: --duration)
#   --warmup S          injector warm-up before each point (default 1; --quick 0.5)
#   --reps R            the whole race R times, servers in a rotated order each time (default 1)
#   --clients LIST      the injector's virtual clients, the x axis (default: Fig. 6's)
#   --workers N         worker threads/processes of every server (default: nproc)
#   --servers LIST      comma-separated subset of: hue-all, hue-all-coro, hue-all-2r, hue-all-uring, hue-off,
#                       libasync-smp-off, libasync-smp, nginx, h2o, lighttpd (default: all)
#   --injector-threads N  threads of hue-injector (default 1, like wrk -t1)
#   --out DIR           results (default bench-results/race-<date-time> in the repo)
#   --no-build          use the binaries already in build/release
#   --no-install        do not apt-get the peers, wrk and matplotlib when missing
#   --no-peer-cache     leave nginx's open_file_cache off (SWS keeps every response in memory)
#   --no-syscalls       no system-call pass (it adds about 5 s per server and rep)
#   --no-plot           no race.png
#   --keep              keep the servers' configs, commands and logs (DIR/server-NAME-repR/)
#   --sws PATH, --injector PATH   the binaries (default: build/release's)
#
# Each server runs in the foreground from a config generated in a temporary directory, on a free
# port of 127.0.0.1 below the ephemeral range; /etc and the packages' own services are never
# touched. Against each in turn: wrk -t1 -c100 --latency on /index.html (keep-alive, never closed),
# then hue-injector at each client count (150 requests per connection over the 101 files, then
# reconnect: the paper's injector); then the system-call pass; then SIGTERM. hue's rows are hue-sws
# with --steal all (hue-all; -coro: --style coroutines; -2r: --reactors N), --steal off, and the
# libasync-smp emulation with and without its stealing.
#
# CPU per request: the utime + stime of all the server's processes (the server and its live
# descendants: nginx's and lighttpd's workers; tools/lib.sh tree_cpu_us), read just before and
# just after each measured window (for the injector: from the end of its warm-up until it exits),
# over the requests completed in the window. System calls per request: a separate pass after the
# measured ones, so that tracing never slows a measured run: `perf trace -s` (or, without perf,
# `strace -c -f`) attached to every process of the server during 2 s of wrk -t1 -c100 and then 2 s
# of the injector at 100 clients (when 100 is among --clients), over the requests of that pass.
# perf reads the syscall tracepoints and barely slows the server; strace stops it at every call,
# and then how many events an epoll_wait returns, how often a read finds nothing yet (EAGAIN) and
# how often an idle worker yields are those of a server several times slower.
#
# Fairness: the same --workers everywhere; access logs off; keep-alive limits no run reaches; each
# server's own way of sending a file; the peers' open-file caches sized to the document root where
# they have one (nginx; lighttpd caches stat() by default; h2o 2.2 has no such setting). The load
# generator shares the cores with the server: the numbers are only as good as the machine is quiet.
#
# In DIR: the raw outputs (wrk-*.txt, injector-*.txt), meta.txt (machine line, versions, load),
# syscalls-*.txt (the system-call pass: the load's output, then the counts), and from
# tools/race/race.py: runs.csv, race.csv (median and min..max over the reps), table.txt (the
# tables and ratios) and race.png (requests/s against clients, one line per server). The raw
# outputs of the measured runs end with race.sh's line server_cpu_us=.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
. tools/lib.sh

quick=0 duration="" wrk_duration="" warmup="" reps=1 workers=$(nproc) injector_threads=1
clients="25 50 100 150 200 250" out="" build=1 install=1 peer_cache=1 plot=1 keep=0 syscalls=1
all_servers="hue-all hue-all-coro hue-all-2r hue-all-uring hue-off libasync-smp-off libasync-smp nginx h2o lighttpd"
servers=${all_servers// /,}
sws=$repo/build/release/apps/sws/hue-sws
injector=$repo/build/release/tools/hue-injector
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;  --no-build) build=0 ;;  --no-install) install=0 ;;  --keep) keep=1 ;;
    --no-peer-cache) peer_cache=0 ;;  --no-plot) plot=0 ;;  --no-syscalls) syscalls=0 ;;
    -h|--help) usage_of "$0"; exit 0 ;;
    --duration|--wrk-duration|--warmup|--reps|--clients|--workers|--servers|--injector-threads|\
    --out|--sws|--injector)
      [ $# -ge 2 ] || { echo "race: $1 needs a value (try --help)" >&2; exit 2; }
      v=${1#--}; v=${v//-/_}; printf -v "$v" '%s' "$2"; shift ;;
    *) echo "race: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then duration=${duration:-2} wrk_duration=${wrk_duration:-3} warmup=${warmup:-0.5}; fi
duration=${duration:-10} warmup=${warmup:-1}
wrk_duration=${wrk_duration:-$duration}
for o in reps workers injector_threads; do positive_int race "--${o//_/-}" "${!o}"; done
for c in $clients; do positive_int race --clients "$c"; done
[ -n "${clients// /}" ] || { echo "race: --clients is empty" >&2; exit 2; }
wrk_secs=$(awk -v d="$wrk_duration" 'BEGIN { s = int(d + 0.5); print (s < 1 ? 1 : s) }')
IFS=, read -r -a chosen <<< "$servers"
for s in "${chosen[@]}"; do
  case " $all_servers " in *" $s "*) ;; *)
    echo "race: unknown server '$s'; choose among: $all_servers" >&2; exit 2 ;; esac
done

if [ "$install" = 1 ]; then
  # nginx-light is Debian 12's smallest nginx. Debian starts the packages' services where systemd
  # runs: they listen on port 80 and sit idle; nothing here talks to them.
  scripts/bootstrap.sh nginx-light h2o lighttpd wrk python3-matplotlib linux-perf strace ||
    say "WARNING: installing packages failed; going on with what is there"
fi
if [ "$build" = 1 ]; then
  say "building (release)"
  scripts/build.sh release >/dev/null || say "WARNING: the release build failed; using what is built"
fi
[ -x "$injector" ] || { echo "race: $injector missing (drop --no-build?)" >&2; exit 1; }
command -v wrk >/dev/null || say "wrk not installed (apt-get install -y wrk): no wrk column"
if [ "$syscalls" = 1 ] && ! command -v perf >/dev/null && ! command -v strace >/dev/null; then
  say "neither perf nor strace installed (apt-get install -y linux-perf): no system-call pass"
  syscalls=0
fi

work=$(mktemp -d /tmp/hue-race.XXXXXX)
chmod 755 "$work"  # nginx's workers and h2o run as nobody: they must read the document root
out=${out:-bench-results/race-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# ---- the document root: index.html and 100 files of exactly 1024 bytes -------------------------
root=$work/root
mkdir -p "$root"
for name in index $(seq -f 'file-%02g' 0 99); do
  head="<!doctype html><title>$name.html</title><pre>"
  printf '%s%s</pre>\n' "$head" "$(head -c $((1024 - ${#head} - 7)) /dev/zero | tr '\0' x)" \
    > "$root/$name.html"
  echo "/$name.html" >> "$work/paths.txt"
done
chmod -R a+rX "$root"

# ---- servers ------------------------------------------------------------------------------------
server_pid=""
# stop_server and free_port: tools/lib.sh.
cleanup() { stop_server; if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

write_config() {  # NAME DIR PORT: the peer's config file in DIR
  local cache=""
  [ "$peer_cache" = 1 ] && cache="open_file_cache max=1024 inactive=60s; open_file_cache_valid 60s;"
  case "$1" in
    nginx) mkdir -p "$2/tmp"; cat > "$2/nginx.conf" <<EOF
daemon off; master_process on; worker_processes $workers;
pid $2/nginx.pid; error_log $2/error.log warn;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nopush on;   # sendfile and nopush: as Debian's own config
  keepalive_timeout 65; keepalive_requests 100000000; $cache
  types { text/html html; } default_type application/octet-stream;
  client_body_temp_path $2/tmp/body; proxy_temp_path $2/tmp/proxy;
  fastcgi_temp_path $2/tmp/fastcgi; uwsgi_temp_path $2/tmp/uwsgi; scgi_temp_path $2/tmp/scgi;
  server { listen 127.0.0.1:$3 backlog=4096; root $root; index index.html; }
}
EOF
    ;;
    # No access-log: h2o logs nothing then. No pid-file: h2o drops to nobody before writing it.
    h2o) cat > "$2/h2o.conf" <<EOF
num-threads: $workers
error-log: $2/error.log
max-connections: 4096
listen: {host: 127.0.0.1, port: $3}
hosts: {default: {paths: {/: {file.dir: $root}}}}
EOF
    ;;
    # One process per worker: server.max-worker forks them (0: no fork, for 1 worker). No
    # mod_accesslog: no access log.
    lighttpd) cat > "$2/lighttpd.conf" <<EOF
server.document-root = "$root"
server.bind = "127.0.0.1"
server.port = $3
server.errorlog = "$2/error.log"
server.max-worker = $([ "$workers" = 1 ] && echo 0 || echo "$workers")
server.max-keep-alive-requests = 100000000
server.max-keep-alive-idle = 65
server.max-connections = 4096
server.max-fds = 16384
server.listen-backlog = 4096
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html" )
EOF
    ;;
  esac
}

# start_server NAME PORT: starts NAME in the background and waits until it serves the files whole.
start_server() {
  local name=$1 port=$2 dir=$work/$1 cmd=() steal style=handlers reactors=1 io=epoll
  mkdir -p "$dir"
  chmod 755 "$dir"
  case "$name" in
    nginx) cmd=(nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log") ;;
    h2o) cmd=(h2o -m worker -c "$dir/h2o.conf") ;;
    lighttpd) cmd=(lighttpd -D -f "$dir/lighttpd.conf") ;;
    hue-all|libasync-smp-off|libasync-smp) steal=${name#hue-} ;;
    hue-all-coro) steal=all style=coroutines ;;
    hue-all-2r) steal=all reactors=$workers ;;
    hue-all-uring) steal=all io=uring ;;
    hue-off) steal=off ;;
  esac
  write_config "$name" "$dir" "$port"
  # --max-clients above the largest client count plus wrk's 100 connections.
  [ ${#cmd[@]} -gt 0 ] || cmd=("$sws" --port "$port" --address 127.0.0.1 --root "$root"
    --workers "$workers" --steal "$steal" --style "$style" --reactors "$reactors" --io "$io"
    --max-clients 4096)
  printf '%s\n' "${cmd[*]}" > "$dir/command.txt"
  # Its own session and process group: lighttpd's master signals its whole process group on
  # shutdown (to reach its workers), which would otherwise include this script. setsid execs in
  # place (a background job of a script is no group leader), so $! is the server itself.
  setsid "${cmd[@]}" > "$dir/server.log" 2>&1 < /dev/null &
  server_pid=$!
  local ready=0 check
  for _ in $(seq 100); do  # 10 s to come up
    kill -0 "$server_pid" 2>/dev/null || break
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { ready=1; break; }
    sleep 0.1
  done
  if [ "$ready" = 1 ]; then
    check=$("$injector" --port "$port" --clients 2 --duration 0.3 --warmup 0 \
              --path /index.html --path /file-99.html 2>&1 || true)
    if ! grep -qx 'errors=0' <<< "$check" || grep -qx 'requests=0' <<< "$check"; then
      ready=0
      say "FAILED: $name does not serve the document root correctly:"
      grep -E '^(errors|first error)' <<< "$check" | sed 's/^/   /' >&2
    elif command -v curl >/dev/null && [ "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' \
           "http://127.0.0.1:$port/file-42.html")" != "200 1024" ]; then
      ready=0
      say "FAILED: $name: GET /file-42.html is not 200 with 1024 bytes"
    fi
  else
    say "FAILED: $name did not come up on 127.0.0.1:$port; its log:"
  fi
  [ "$ready" = 1 ] && return 0
  cat "$dir/server.log" "$dir/error.log" 2>/dev/null | tail -20 | sed 's/^/   /' >&2
  stop_server
  return 1
}

# ---- measuring ----------------------------------------------------------------------------------
inject() {  # CLIENTS SECONDS WARMUP: hue-injector against this run's server
  "$injector" --port "$port" --clients "$1" --threads "$injector_threads" \
    --paths-file "$work/paths.txt" --duration "$2" --warmup "$3"
}

# measure FILE SKIP CMD...: CMD's output in FILE, then the line server_cpu_us=: the server's CPU
# time from SKIP seconds after CMD starts (its warm-up) until CMD exits. The first reading is
# taken in the background so that CMD stays in the foreground (Ctrl-C reaches it).
measure() {
  local f=$1 skip=$2 sampler before after
  shift 2
  (sleep "$skip"; tree_cpu_us "$server_pid") > "$f.cpu" &
  sampler=$!
  "$@" > "$f" 2>&1 || true
  after=$(tree_cpu_us "$server_pid")
  wait "$sampler" || true
  before=$(cat "$f.cpu")
  rm -f "$f.cpu"
  if [ -n "$before" ] && [ -n "$after" ]; then echo "server_cpu_us=$((after - before))" >> "$f"; fi
}

# all_traced PID...: every thread of every process named has a tracer.
all_traced() {
  local p s
  for p in "$@"; do
    for s in /proc/"$p"/task/*/status; do
      if grep -q '^TracerPid:[[:space:]]*0$' "$s" 2>/dev/null; then return 1; fi
    done
  done
}

# count_syscalls FILE CMD...: CMD's output in FILE, then a line "--- system calls" and the counts
# ("name calls" rows and a total) of the server's system calls while CMD ran, every process and
# thread. With perf (Debian's linux-perf) the counts come from `perf trace -s`, which reads the
# syscall tracepoints and barely slows the server; else from `strace -c -f`, which stops the
# traced thread at every call (a server runs several times slower under it, so the calls whose
# number depends on speed, epoll waits, EAGAIN reads and idle yields, describe a slowed server).
count_syscalls() {
  local f=$1 pids tracer_pid
  shift
  mapfile -t pids < <(tree_pids "$server_pid")
  [ ${#pids[@]} -gt 0 ] || return 0
  if command -v perf >/dev/null; then
    perf trace -s -o "$f.calls" -p "$(IFS=,; echo "${pids[*]}")" > /dev/null 2> "$f.err" &
    tracer_pid=$!
    sleep 1  # perf sets up its tracepoints; nothing stops the server meanwhile
  else
    strace -qq -c -f -U name,calls -o "$f.calls" "${pids[@]/#/-p}" 2> "$f.err" &
    tracer_pid=$!
    for _ in $(seq 50); do  # attaching stops every thread once: wait for all, before the load
      all_traced "${pids[@]}" && break
      kill -0 "$tracer_pid" 2>/dev/null || break
      sleep 0.1
    done
    all_traced "${pids[@]}" ||
      say "WARNING: strace did not attach to all of ${pids[*]}: $(head -1 "$f.err")"
  fi
  if kill -0 "$tracer_pid" 2>/dev/null; then "$@" > "$f" 2>&1 || true; fi
  kill -INT "$tracer_pid" 2>/dev/null || true
  wait "$tracer_pid" || true
  if [ -s "$f" ] && [ -s "$f.calls" ]; then
    # perf trace -s prints a table per thread ("name calls errors total min avg max stddev"):
    # summed by name into strace's "name calls" rows and total.
    { echo "--- system calls"
      awk '/^ *syscall +calls/ { perf = 1; next }
           perf && NF >= 3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { n[$1] += $2; t += $2; next }
           !perf && NF == 2 && $2 ~ /^[0-9]+$/ { print }
           END { if (perf) { for (k in n) print k, n[k]; print "total", t } }' "$f.calls"
    } >> "$f"
  else
    rm -f "$f"
  fi
  rm -f "$f.calls" "$f.err"
}

# "N syscalls/request" of a count_syscalls file, for the progress lines (race.py reads it again).
per_request() {
  awk '/^requests=/ { sub(/.*=/, ""); r = $0 } / requests in / { r = $1 }
       $1 == "total" { c = $2 }
       END { if (r > 0) printf "%.1f syscalls/request", c / r; else print "no result" }' "$1"
}

rm -f "$out"/wrk-*.txt "$out"/injector-*.txt "$out"/syscalls-*.txt
{
  meta_head
  echo "workers: $workers; injector threads: $injector_threads; reps: $reps"
  echo "injector: ${duration} s measured after ${warmup} s warm-up per point; clients: $clients"
  echo "wrk: -t1 -c100 -d${wrk_secs}s --latency /index.html"
  echo "peer open-file cache: $([ "$peer_cache" = 1 ] && echo on || echo off)"
  for v in "nginx -v" "h2o -v" "lighttpd -v" "wrk -v"; do
    echo "${v% *}: $($v 2>&1 | head -1)"
  done
  echo "hue-sws: $sws"
} > "$out/meta.txt"
warn_if_busy

runnable=()
for s in "${chosen[@]}"; do
  case "$s" in
    nginx|h2o|lighttpd) command -v "$s" >/dev/null && runnable+=("$s") ||
      say "$s is not installed (apt-get install -y ${s/nginx/nginx-light}): skipping it" ;;
    *) if [ -x "$sws" ]; then runnable+=("$s"); else say "$sws missing: skipping $s"; fi ;;
  esac
done
[ ${#runnable[@]} -gt 0 ] || { echo "race: no server to run" >&2; exit 1; }

failed=()
t_start=$SECONDS
for rep in $(seq "$reps"); do
  n=${#runnable[@]}
  for i in $(seq 0 $((n - 1))); do
    # Rotated each rep, so slow drift of the machine does not always hit the same server.
    name=${runnable[$(( (i + rep - 1) % n ))]}
    say "rep $rep/$reps: $name ($workers workers)"
    port=$(free_port)
    echo "load average before $name rep $rep: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"
    if ! start_server "$name" "$port"; then failed+=("$name"); continue; fi
    url=http://127.0.0.1:$port/index.html
    if command -v wrk >/dev/null; then
      f=$out/wrk-$name-rep$rep.txt
      measure "$f" 0 wrk -t1 -c100 -d"${wrk_secs}s" --latency "$url"
      say "  wrk -c100: $(grep -m1 '^Requests/sec' "$f" || echo "no result (see $f)")"
    fi
    for c in $clients; do
      f=$out/injector-$name-c$c-rep$rep.txt
      measure "$f" "$warmup" inject "$c" "$duration" "$warmup"
      say "  injector $c clients: $(grep -E '^(requests_per_s|p99_us|errors)=|^first error' "$f" |
                                      tr '\n' ' ')"
    done
    if [ "$syscalls" = 1 ]; then
      if command -v wrk >/dev/null; then
        f=$out/syscalls-wrk-$name-rep$rep.txt
        count_syscalls "$f" wrk -t1 -c100 -d2s "$url"
        say "  strace, wrk -c100: $(per_request "$f" 2>/dev/null || echo "no result")"
      fi
      if [[ " $clients " == *" 100 "* ]]; then
        f=$out/syscalls-injector-$name-c100-rep$rep.txt
        count_syscalls "$f" inject 100 2 0
        say "  strace, injector 100 clients: $(per_request "$f" 2>/dev/null || echo "no result")"
      fi
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      say "FAILED: $name died during the run; its log:"
      tail -20 "$work/$name/server.log" | sed 's/^/   /' >&2
      failed+=("$name")
    fi
    stop_server
    if [ "$keep" = 1 ]; then cp -r "$work/$name" "$out/server-$name-rep$rep"; fi
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"
say "measured in $((SECONDS - t_start)) s"

plot_flag=()
[ "$plot" = 1 ] || plot_flag=(--no-plot)
if ! "$(system_python)" tools/race/race.py "$out" "${plot_flag[@]}" | tee "$out/table.txt"; then
  failed+=(race.py)
fi
say "results in $out"
if [ ${#failed[@]} -gt 0 ]; then say "FAILED: ${failed[*]}"; exit 1; fi
