#!/usr/bin/env bash
# SWS scaled out behind an existing load balancer: Debian's HAProxy in front of two hue-sws
# instances on loopback ports, with health checks. Shows requests reaching both, then sends
# SIGTERM to one instance while a load runs through HAProxy: its in-flight requests finish, HAProxy
# sees it leave and sends everything to the other one, and no request fails.
#
#   tools/sws-haproxy/run.sh [--sws PATH] [--seconds S] [--threads N]
#
# --sws       the hue-sws binary (default build/release/apps/sws/hue-sws)
# --seconds   length of the load (default 6); the SIGTERM comes at a third of it
# --threads   concurrent keep-alive clients (default 4)
# Everything runs from a temporary directory (configs, logs, pid files), never the system's
# HAProxy service. Exit 0 when both instances served requests, the stopped one exited 0, the other
# kept serving, and the load saw no failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/../lib.sh"
sws=$repo/build/release/apps/sws/hue-sws
seconds=6
threads=4
while [ $# -gt 0 ]; do
  case "$1" in
    --sws) sws=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) usage_of "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
done
positive_int run.sh --seconds "$seconds"
positive_int run.sh --threads "$threads"
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$haproxy" ] || { echo "run.sh: HAProxy is not installed (Debian package haproxy)" >&2; exit 77; }
[ -x "$sws" ] || { echo "run.sh: no hue-sws at $sws (build it: scripts/build.sh release)" >&2; exit 2; }
py=$(system_python)

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir "$tmp/www"
printf '<h1>hue-sws behind HAProxy</h1>\n' >"$tmp/www/index.html"

start_sws() {  # start_sws NAME -> sets port_NAME, pid_NAME
  # The output file exists before the server starts: the background job's redirection happens in
  # the child, and a first `sed` that ran before it found no file and ended the script (set -e)
  # with status 2 (seen under ASan, where the child starts slower).
  : >"$tmp/$1.out"
  "$sws" --root "$tmp/www" --port 0 --workers 2 --access-log "$tmp/$1.log" --shutdown-grace 5000 \
    >"$tmp/$1.out" 2>"$tmp/$1.err" &
  local pid=$! port=""
  pids+=("$pid")
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$1.out")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "run.sh: hue-sws $1 did not start" >&2; cat "$tmp/$1.err" >&2; exit 1; }
  printf -v "port_$1" '%s' "$port"
  printf -v "pid_$1" '%s' "$pid"
}
start_sws a
start_sws b
front=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# Health checks every 100 ms, down after 2 failures. A request whose server connection fails or is
# reset before any answer (an instance closing) is retried on the other server (redispatch);
# GET is idempotent, so retrying it is safe.
cat >"$tmp/haproxy.cfg" <<CFG
global
  pidfile $tmp/haproxy.pid
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout
frontend web
  bind 127.0.0.1:$front
  default_backend sws
backend sws
  balance roundrobin
  option httpchk GET /
  default-server check inter 100ms fall 2 rise 2
  server a 127.0.0.1:$port_a
  server b 127.0.0.1:$port_b
CFG
"$haproxy" -c -q -f "$tmp/haproxy.cfg"
"$haproxy" -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.out" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do
  "$py" - "$front" <<'PY' 2>/dev/null && break
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=1); c.request("GET", "/")
sys.exit(0 if c.getresponse().status == 200 else 1)
PY
  sleep 0.1
done
sleep 0.5  # both servers up after `rise 2`

served() { grep -c ' GET / 200' "$tmp/$1.log" 2>/dev/null || true; }
say "HAProxy on 127.0.0.1:$front in front of hue-sws a (:$port_a) and b (:$port_b); load for ${seconds}s, $threads clients"
"$py" "$here/load.py" 127.0.0.1 "$front" "$seconds" "$threads" >"$tmp/load.out" 2>"$tmp/load.err" &
load=$!
sleep "$(awk -v s="$seconds" 'BEGIN { print s / 3 }')"
a_before=$(served a)
b_before=$(served b)
say "SIGTERM to instance a after it served $a_before requests (b: $b_before)"
kill -TERM "$pid_a"
status=0
wait "$pid_a" || status=$?
say "instance a exited with status $status"
b_at_stop=$(served b)
load_status=0
wait "$load" || load_status=$?
b_after=$(served b)
cat "$tmp/load.out"
sed -n '1,5p' "$tmp/load.err" >&2
echo "haproxy_front_port=$front"
echo "instance_a_requests=$(served a)"
echo "instance_b_requests=$b_after"
echo "instance_b_requests_after_a_stopped=$((b_after - b_at_stop))"
echo "instance_a_exit=$status"
fail=0
[ "$a_before" -gt 0 ] && [ "$b_before" -gt 0 ] || { echo "run.sh: the requests did not reach both instances" >&2; fail=1; }
[ "$status" -eq 0 ] || { echo "run.sh: the stopped instance did not exit cleanly" >&2; fail=1; }
[ "$((b_after - b_at_stop))" -gt 0 ] || { echo "run.sh: instance b served nothing after a stopped" >&2; fail=1; }
[ "$load_status" -eq 0 ] || { echo "run.sh: requests failed through HAProxy (see above)" >&2; fail=1; }
[ "$fail" -eq 0 ] && echo "scale-out: both instances served; a drained on SIGTERM with no failed request"
exit "$fail"
