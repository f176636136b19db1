#!/usr/bin/env bash
# tools/race/race.sh — the paper's web-server race (seeds/004 §5.3.1, Fig. 6) on this machine, in
# one command: hue's SWS in each stealing configuration and style, then nginx, h2o and lighttpd
# from Debian, on the same 1 KB files, the same number of workers, over loopback.
#
#   tools/race/race.sh [--quick] [--duration S] [--wrk-duration S] [--warmup S] [--reps R]
#                      [--clients "25 50 100 150 200 250"] [--workers N] [--servers LIST]
#                      [--injector-threads N] [--out DIR] [--no-build] [--no-install]
#                      [--no-peer-cache] [--no-plot] [--keep] [--sws PATH] [--injector PATH]
#
#   --quick              short runs (2 s measured per point, 3 s of wrk): a smoke test of the
#                        pipeline, not numbers to quote
#   --duration S         measured seconds per injector point, and of wrk (default 10)
#   --wrk-duration S     seconds of wrk alone (default: --duration)
#   --warmup S           injector warm-up before each point (default 1; --quick 0.5)
#   --reps R             run the whole race R times, servers in a rotated order each time; the
#                        table shows the median, the CSV and the plot min..max too (default 1;
#                        the paper: 3 runs of 30 s)
#   --clients LIST       the injector's virtual clients, the x axis (default: the paper's Fig. 6
#                        axis, 25 50 100 150 200 250)
#   --workers N          worker threads/processes of every server (default: nproc)
#   --servers LIST       comma-separated subset of: hue-all, hue-all-coro, hue-off,
#                        libasync-smp-off, libasync-smp, nginx, h2o, lighttpd (default: all)
#   --injector-threads N threads of hue-injector (default 1, like wrk -t1)
#   --out DIR            where results go (default bench-results/race-<date-time> in the repo)
#   --no-build           use the binaries already in build/release
#   --no-install         do not apt-get the peers, wrk and matplotlib when missing
#   --no-peer-cache      leave nginx's open_file_cache off (see "Fairness" below)
#   --no-plot            no PNG
#   --keep               keep the temporary directory (document root, configs, server logs)
#   --sws PATH           the hue-sws to race (default build/release/apps/sws/hue-sws)
#   --injector PATH      the hue-injector to load with (default build/release/tools/hue-injector)
#
# Each server is started in the foreground from a config generated in a temporary directory,
# listening on a free port of 127.0.0.1 below the ephemeral range; the system's /etc configs and
# services are never read or touched (the packages' own services, if the installation started
# any, listen elsewhere and sit idle). For each server, in this order: wrk -t1 -c100 --latency on
# /index.html (keep-alive, connections never closed), then hue-injector with each client count:
# each virtual client sends 150 requests on one keep-alive connection over the 101 files, closes,
# reconnects (the paper's injector). Then the server gets SIGTERM.
#
# hue's SWS rows (build/release/apps/sws/hue-sws):
#   hue-all            --steal all --style handlers         hue, all heuristics (the paper's Mely)
#   hue-all-coro       --steal all --style coroutines       the same in coroutine style
#   hue-all-2r         --steal all --reactors 2             one reactor per core, SO_REUSEPORT
#   hue-off            --steal off --style handlers         hue without work stealing
#   libasync-smp-off   --steal libasync-smp-off             libasync-smp, stealing off
#   libasync-smp       --steal libasync-smp                 libasync-smp with its stealing
# If hue-sws is not built, the script says so and runs the peers alone.
#
# Fairness, as configured here (SPEC §9): the same --workers for all (nginx worker_processes,
# h2o num-threads, lighttpd server.max-worker, hue-sws --workers); access logs off everywhere;
# keep-alive on with a limit no run reaches (nginx keepalive_requests, lighttpd
# server.max-keep-alive-requests; h2o has no such limit); each server's default way of sending a
# file (nginx sendfile on as Debian's own config has it, lighttpd its default backend, h2o
# pread); Debian's packages as they are. SWS builds its responses at start-up (the paper's
# design), so the peers get their open-file caches sized to the document root where they have
# one to set: nginx open_file_cache (off with --no-peer-cache); lighttpd caches stat() results
# by default; h2o 2.2 has no setting for it. The load generator and the server share the cores,
# as on any one-machine loopback test.
#
# In DIR: race.csv (per server, tool and client count: median and min..max of requests/s over the
# reps, p50/p99 latency, errors), runs.csv (every single run), injector.csv (hue-injector's own
# rows), wrk-*.txt and injector-*.txt (raw outputs), table.txt (the table and ratios below),
# meta.txt (machine, versions, load), race.png (requests/s against clients, one line per server:
# Fig. 6), and with --keep the servers' configs, commands and logs (server-NAME-repR/).
#
# The ratios printed: hue all heuristics against the best of nginx/h2o/lighttpd (wrk, and the
# injector at each client count), hue against libasync-smp with and without its stealing, and
# coroutine against handler style. The numbers are only as good as the machine is quiet.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)

quick=0
duration=""
wrk_duration=""
warmup=""
reps=1
clients="25 50 100 150 200 250"
workers=$(nproc)
servers="hue-all,hue-all-coro,hue-all-2r,hue-off,libasync-smp-off,libasync-smp,nginx,h2o,lighttpd"
injector_threads=1
out=""
build=1
install=1
peer_cache=1
plot=1
keep=0
sws=""
injector=""
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
need() { [ $# -ge 2 ] || { echo "race: $1 needs a value (try --help)" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --duration) need "$@"; duration=$2; shift ;;
    --wrk-duration) need "$@"; wrk_duration=$2; shift ;;
    --warmup) need "$@"; warmup=$2; shift ;;
    --reps) need "$@"; reps=$2; shift ;;
    --clients) need "$@"; clients=$2; shift ;;
    --workers) need "$@"; workers=$2; shift ;;
    --servers) need "$@"; servers=$2; shift ;;
    --injector-threads) need "$@"; injector_threads=$2; shift ;;
    --out) need "$@"; out=$2; shift ;;
    --no-build) build=0 ;;
    --no-install) install=0 ;;
    --no-peer-cache) peer_cache=0 ;;
    --no-plot) plot=0 ;;
    --keep) keep=1 ;;
    --sws) need "$@"; sws=$2; shift ;;
    --injector) need "$@"; injector=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "race: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  duration=${duration:-2}
  wrk_duration=${wrk_duration:-3}
  warmup=${warmup:-0.5}
fi
duration=${duration:-10}
wrk_duration=${wrk_duration:-$duration}
warmup=${warmup:-1}
positive_int() {
  case "$2" in ''|*[!0-9]*|0) echo "race: $1 wants a positive integer, got '$2'" >&2; exit 2 ;; esac
}
positive_int --reps "$reps"
positive_int --workers "$workers"
positive_int --injector-threads "$injector_threads"
for c in $clients; do positive_int --clients "$c"; done
[ -n "${clients// /}" ] || { echo "race: --clients is empty" >&2; exit 2; }
# wrk takes whole seconds.
wrk_secs=$(awk -v d="$wrk_duration" 'BEGIN { s = int(d + 0.5); print (s < 1 ? 1 : s) }')

all_servers=(hue-all hue-all-coro hue-all-2r hue-off libasync-smp-off libasync-smp nginx h2o lighttpd)
IFS=, read -r -a chosen <<< "$servers"
for s in "${chosen[@]}"; do
  case " ${all_servers[*]} " in *" $s "*) ;; *)
    echo "race: unknown server '$s'; choose among: ${all_servers[*]}" >&2; exit 2 ;;
  esac
done

say() { printf '== %s\n' "$*" >&2; }

# ---- tools --------------------------------------------------------------------------------------
if [ "$install" = 1 ]; then
  # The build's packages, the peers, wrk and matplotlib. nginx-light is Debian 12's smallest
  # nginx; any nginx package does. Debian starts the packages' services where systemd runs: they
  # listen on port 80 and sit idle, and nothing here talks to them.
  scripts/bootstrap.sh nginx-light h2o lighttpd wrk python3-matplotlib ||
    say "WARNING: installing packages failed; going on with what is there"
fi

injector=${injector:-$repo/build/release/tools/hue-injector}
sws=${sws:-$repo/build/release/apps/sws/hue-sws}
work=$(mktemp -d /tmp/hue-race.XXXXXX)
# nginx's workers and h2o run as nobody: they must read the document root.
chmod 755 "$work"
if [ "$build" = 1 ]; then
  say "building (release)"
  if ! scripts/build.sh release >/dev/null; then
    say "WARNING: the full release build failed (see above); building hue-injector alone"
    if [ ! -f build/release/build.ninja ] || ! ninja -C build/release tools/hue-injector >/dev/null
    then
      say "WARNING: no meson build of hue-injector either; compiling it directly"
      injector=$work/hue-injector
      c++ -std=c++20 -O2 -pthread tools/injector/injector.cpp -o "$injector"
    fi
  fi
fi
[ -x "$injector" ] || { echo "race: $injector missing (drop --no-build?)" >&2; exit 1; }
have_sws=1
if [ ! -x "$sws" ]; then
  have_sws=0
  say "hue-sws is not built ($sws missing): skipping the SWS rows, racing the peers alone"
fi
have_wrk=1
command -v wrk >/dev/null || { have_wrk=0; say "wrk not installed (apt-get install -y wrk): no wrk column"; }

# ---- the document root: index.html and 100 files of exactly 1024 bytes -------------------------
root=$work/root
mkdir -p "$root"
one_kb() {  # one_kb NAME: 1024 bytes of HTML naming the file
  local head="<!doctype html><title>$1</title><pre>"
  local tail=$'</pre>\n'
  local fill=$((1024 - ${#head} - ${#tail}))
  printf '%s%s%s' "$head" "$(head -c "$fill" /dev/zero | tr '\0' 'x')" "$tail"
}
one_kb index.html > "$root/index.html"
echo /index.html > "$work/paths.txt"
for i in $(seq -w 0 99); do
  one_kb "file-$i.html" > "$root/file-$i.html"
  echo "/file-$i.html" >> "$work/paths.txt"
done
chmod 755 "$root"
chmod 644 "$root"/*
[ "$(stat -c %s "$root/index.html")" = 1024 ] || { echo "race: bad document root" >&2; exit 1; }

out=${out:-bench-results/race-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# ---- servers ------------------------------------------------------------------------------------
server_pid=""
server_name=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for i in $(seq 100); do  # 10 s to shut down, then KILL
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    say "WARNING: $server_name did not stop on SIGTERM in 10 s: killing it"
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  # Workers left behind by their master (its process group is the server's own: see start_server).
  kill -KILL -- "-$server_pid" 2>/dev/null || true
  server_pid=""
}
cleanup() {
  stop_server
  if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port of 127.0.0.1 below the ephemeral range (32768..60999 on Linux), so no client
# connection can ever hold it.
free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] &&
       ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "race: no free port found" >&2
  return 1
}

write_nginx_conf() {  # DIR PORT
  local cache=""
  [ "$peer_cache" = 1 ] && cache="open_file_cache max=1024 inactive=60s; open_file_cache_valid 60s;"
  mkdir -p "$1/tmp"
  cat > "$1/nginx.conf" <<EOF
# generated by tools/race/race.sh
daemon off;
master_process on;
worker_processes $workers;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;            # as Debian's /etc/nginx/nginx.conf has it
  tcp_nopush on;          # likewise
  keepalive_timeout 65;
  keepalive_requests 100000000;
  $cache
  types { text/html html; }
  default_type application/octet-stream;
  client_body_temp_path $1/tmp/body;
  proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi;
  scgi_temp_path $1/tmp/scgi;
  server {
    listen 127.0.0.1:$2 backlog=4096;
    root $root;
    index index.html;
  }
}
EOF
}

write_h2o_conf() {  # DIR PORT
  # No access-log: h2o logs nothing then. No pid-file: h2o drops to nobody before writing it.
  cat > "$1/h2o.conf" <<EOF
# generated by tools/race/race.sh
num-threads: $workers
error-log: $1/error.log
max-connections: 4096
listen:
  host: 127.0.0.1
  port: $2
hosts:
  default:
    paths:
      /:
        file.dir: $root
EOF
}

write_lighttpd_conf() {  # DIR PORT
  # lighttpd is one process per worker: server.max-worker forks them (0: no fork, for 1 worker).
  local w=$workers
  [ "$w" = 1 ] && w=0
  cat > "$1/lighttpd.conf" <<EOF
# generated by tools/race/race.sh; mod_accesslog is not loaded: no access log
server.document-root = "$root"
server.bind = "127.0.0.1"
server.port = $2
server.errorlog = "$1/error.log"
server.max-worker = $w
server.max-keep-alive-requests = 100000000
server.max-keep-alive-idle = 65
server.max-connections = 4096
server.max-fds = 16384
server.listen-backlog = 4096
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html" )
EOF
}

# start_server NAME PORT: starts NAME in the background and waits until it serves /index.html.
start_server() {
  local name=$1 port=$2 dir=$work/$1 cmd=()
  mkdir -p "$dir"
  chmod 755 "$dir"
  case "$name" in
    nginx)
      write_nginx_conf "$dir" "$port"
      cmd=(nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log") ;;
    h2o)
      write_h2o_conf "$dir" "$port"
      cmd=(h2o -m worker -c "$dir/h2o.conf") ;;
    lighttpd)
      write_lighttpd_conf "$dir" "$port"
      cmd=(lighttpd -D -f "$dir/lighttpd.conf") ;;
    *)
      local steal style=handlers reactors=1
      case "$name" in
        hue-all) steal=all ;;
        hue-all-coro) steal=all; style=coroutines ;;
        hue-all-2r) steal=all; reactors=$workers ;;
        hue-off) steal=off ;;
        libasync-smp-off) steal=libasync-smp-off ;;
        libasync-smp) steal=libasync-smp ;;
      esac
      # --max-clients above the largest client count plus wrk's 100 connections.
      cmd=("$sws" --port "$port" --address 127.0.0.1 --root "$root" --workers "$workers"
           --steal "$steal" --style "$style" --reactors "$reactors" --max-clients 4096) ;;
  esac
  printf '%s\n' "${cmd[*]}" > "$dir/command.txt"
  # Its own session and process group: lighttpd's master signals its whole process group on
  # shutdown (to reach its workers), which would otherwise include this script. setsid execs in
  # place (a background job of a script is no group leader), so $! is the server itself.
  setsid "${cmd[@]}" > "$dir/server.log" 2>&1 < /dev/null &
  server_pid=$!
  server_name=$name
  local i ready=0
  for i in $(seq 100); do  # 10 s to come up
    if ! kill -0 "$server_pid" 2>/dev/null; then
      break
    fi
    case "$name" in
      hue-*|libasync-*) grep -q '^hue-sws: listening on' "$dir/server.log" && ready=1 ;;
      *) (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && ready=1 ;;
    esac
    [ "$ready" = 1 ] && break
    sleep 0.1
  done
  if [ "$ready" = 1 ]; then
    # It must serve the files, whole, before it is measured.
    local check
    check=$("$injector" --port "$port" --clients 2 --duration 0.3 --warmup 0 \
              --path /index.html --path /file-99.html 2>&1 || true)
    if ! grep -qx 'errors=0' <<< "$check" || grep -qx 'requests=0' <<< "$check"; then
      ready=0
      say "FAILED: $name does not serve the document root correctly:"
      grep -E '^(errors|first error)' <<< "$check" | sed 's/^/   /' >&2
    elif command -v curl >/dev/null &&
         [ "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' \
                "http://127.0.0.1:$port/file-42.html")" != "200 1024" ]; then
      ready=0
      say "FAILED: $name: GET /file-42.html is not 200 with 1024 bytes"
    fi
  else
    say "FAILED: $name did not come up on 127.0.0.1:$port; its log:"
  fi
  if [ "$ready" != 1 ]; then
    sed 's/^/   /' "$dir/server.log" "$dir/error.log" 2>/dev/null | tail -20 >&2
    stop_server
    return 1
  fi
}

# ---- measuring ----------------------------------------------------------------------------------
runs=$out/runs.csv
echo "rep,server,tool,clients,requests_per_s,mb_per_s,p50_us,p99_us,errors" > "$runs"
rm -f "$out/injector.csv"

# wrk prints latencies as 1.23ms, 850.00us, 1.02s or 1.50m: to microseconds.
wrk_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    f = (u == "us") ? 1 : (u == "ms") ? 1e3 : (u == "s") ? 1e6 : (u == "m") ? 6e7 : -1
    if (f < 0) print "nan"; else printf "%.1f", n * f }'
}

run_wrk() {  # REP NAME PORT
  local f=$out/wrk-$2-rep$1.txt
  wrk -t1 -c100 -d"${wrk_secs}s" --latency "http://127.0.0.1:$3/index.html" > "$f" 2>&1 || true
  local rps p50 p99 errs mbs
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$f")
  p50=$(wrk_us "$(awk '$1 == "50%" { print $2 }' "$f")")
  p99=$(wrk_us "$(awk '$1 == "99%" { print $2 }' "$f")")
  mbs=$(awk '/^Transfer\/sec:/ { v = $2 + 0; u = $2; sub(/^[0-9.]+/, "", u)
             f = (u == "KB") ? 1024 : (u == "MB") ? 1048576 : (u == "GB") ? 1073741824 : 1
             printf "%.3f", v * f / 1e6 }' "$f")
  errs=$(awk '/Socket errors:/ { gsub(/,/, ""); s += $4 + $6 + $8 + $10 }
              /Non-2xx or 3xx responses:/ { s += $5 } END { print s + 0 }' "$f")
  if [ -z "$rps" ]; then
    say "FAILED: wrk on $2 printed no Requests/sec (see $f)"
    return
  fi
  echo "$1,$2,wrk,100,$rps,${mbs:-nan},$p50,$p99,$errs" >> "$runs"
  printf '   wrk -t1 -c100 -d%ss: %9.1f requests/s, p99 %s us, %s errors\n' \
    "$wrk_secs" "$rps" "$p99" "$errs" >&2
}

run_injector() {  # REP NAME PORT CLIENTS
  local f=$out/injector-$2-c$4-rep$1.txt
  "$injector" --port "$3" --clients "$4" --threads "$injector_threads" \
    --paths-file "$work/paths.txt" --duration "$duration" --warmup "$warmup" \
    --csv "$out/injector.csv" --label "$2" > "$f" 2>&1 || true
  kv() { awk -F= -v k="$1" '$1 == k { print $2 }' "$f"; }
  local rps
  rps=$(kv requests_per_s)
  if [ -z "$rps" ]; then
    say "FAILED: hue-injector on $2 with $4 clients printed no result (see $f)"
    return
  fi
  echo "$1,$2,injector,$4,$rps,$(kv mb_per_s),$(kv p50_us),$(kv p99_us),$(kv errors)" >> "$runs"
  printf '   injector %4s clients: %9.1f requests/s, p99 %s us, %s errors%s\n' "$4" "$rps" \
    "$(kv p99_us)" "$(kv errors)" \
    "$(grep -m1 '^first error' "$f" | sed 's/^/ (/; s/$/)/')" >&2
}

{
  echo "date: $(date -Iseconds)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- tools 2>/dev/null || echo " (tools/ modified)")"
  echo "host: $(uname -srm)"
  echo "cpus (nproc): $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ //')"
  echo "workers: $workers; injector threads: $injector_threads; reps: $reps"
  echo "injector: ${duration} s measured after ${warmup} s warm-up per point; clients: $clients"
  echo "wrk: -t1 -c100 -d${wrk_secs}s --latency /index.html"
  echo "peer open-file cache: $([ "$peer_cache" = 1 ] && echo on || echo off)"
  echo "nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //')"
  echo "h2o: $(h2o -v 2>/dev/null | head -1)"
  echo "lighttpd: $(lighttpd -v 2>/dev/null | head -1)"
  echo "wrk: $(wrk -v 2>&1 | head -1)"
  echo "hue-sws: $([ "$have_sws" = 1 ] && echo "$sws" || echo 'not built')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$out/meta.txt"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l >= 0.5) }'; then
  say "WARNING: load average $load1 before starting: something else runs; the numbers will be noisy"
fi

# The servers this run can start.
runnable=()
for s in "${chosen[@]}"; do
  case "$s" in
    nginx|h2o|lighttpd)
      if command -v "$s" >/dev/null; then runnable+=("$s")
      else say "$s is not installed (apt-get install -y ${s/nginx/nginx-light}): skipping it"; fi ;;
    *) [ "$have_sws" = 1 ] && runnable+=("$s") ;;
  esac
done
[ ${#runnable[@]} -gt 0 ] || { echo "race: no server to run" >&2; exit 1; }

failed=()
t_start=$SECONDS
for rep in $(seq "$reps"); do
  # Rotate the order each rep, so slow drift of the machine does not always hit the same server.
  n=${#runnable[@]}
  for i in $(seq 0 $((n - 1))); do
    name=${runnable[$(( (i + rep - 1) % n ))]}
    say "rep $rep/$reps: $name ($workers workers)"
    port=$(free_port)
    echo "load average before $name rep $rep: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"
    if ! start_server "$name" "$port"; then
      failed+=("$name")
      continue
    fi
    [ "$have_wrk" = 1 ] && run_wrk "$rep" "$name" "$port"
    for c in $clients; do
      run_injector "$rep" "$name" "$port" "$c"
    done
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

# ---- table, ratios, CSV, plot -------------------------------------------------------------------
# Debian's matplotlib is installed for /usr/bin/python3, which may not be the first python3 on
# PATH: prefer it, as tools/bench-all.sh does.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
"$py" tools/race/summarize.py "$out" | tee "$out/table.txt"
if [ "$plot" = 1 ]; then
  if ! "$py" tools/race/plot_race.py "$out"; then
    say "FAILED: tools/race/plot_race.py"
    failed+=(plot)
  fi
fi
say "results in $out"
case "$out" in
  "$repo"/bench-results/*) say "note: bench-results/ is in .gitignore; copy what you want to keep" ;;
esac
if [ ${#failed[@]} -gt 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
