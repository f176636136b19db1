#!/usr/bin/env bash
# tools/soak/soak.sh — the missed-wake-up soak: hue-sws and hue-echo (stealing `all`) under load
# that comes in bursts with idle gaps, so that workers fall asleep and are woken over and over
# (the moment a lost wake-up would happen), then both servers' runtime counters. A sleep that
# ends on the watchdog's timeout with work waiting counts as a *rescue*; the soak passes when
# there are none. Bounded (--minutes), not a CI test.
#
#   tools/soak/soak.sh [--minutes M] [--steal MODE] [--build DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=10 steal=all build=build/release
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --steal) steal=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "soak.sh: needs wrk (apt-get install wrk)" >&2; exit 2; }
out=$(mktemp -d)
trap 'kill $sws $echo 2>/dev/null || true; rm -rf "$out"' EXIT
"$build/apps/sws/hue-sws" --root www --port 0 --steal "$steal" >"$out/sws.out" 2>"$out/sws.err" & sws=$!
"$build/apps/echo/hue-echo" --port 0 --steal "$steal" >"$out/echo.out" 2>"$out/echo.err" & echo=$!
sleep 0.5
sws_port=$(grep -o '127.0.0.1:[0-9]*' "$out/sws.out" | head -1 | cut -d: -f2)
echo_port=$(grep -o '127.0.0.1:[0-9]*' "$out/echo.out" | head -1 | cut -d: -f2)
[ -n "$sws_port" ] && [ -n "$echo_port" ] || { cat "$out"/*.err >&2; exit 1; }
echo "soak: $minutes min, steal=$steal, SWS on :$sws_port, echo on :$echo_port"

# Echo: one connection, messages with random pauses of 0-3 ms (sleeps, wakes and steals in turn);
# any lost byte or short reply is an error.
/usr/bin/python3 - "$echo_port" "$minutes" >"$out/echo-client.txt" <<'PY' &
import random, socket, sys, time
port, end = int(sys.argv[1]), time.time() + 60 * float(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
n = errors = 0
while time.time() < end:
    msg = random.randbytes(random.randint(1, 512)); s.sendall(msg); got = b""
    while len(got) < len(msg):
        chunk = s.recv(len(msg) - len(got))
        if not chunk: break
        got += chunk
    n += 1; errors += got != msg
    time.sleep(random.random() * 0.003)
print(f"echo_messages={n} echo_errors={errors}")
PY
client=$!
# SWS: bursts of wrk (1-3 s) separated by idle gaps (0.1-1 s).
end=$((SECONDS + $(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 }'))); bursts=0; wrk_errors=0
while [ $SECONDS -lt $end ]; do
  r=$(wrk -t1 -c$((RANDOM % 100 + 1)) -d$((RANDOM % 3 + 1))s "http://127.0.0.1:$sws_port/index.html" 2>&1)
  if grep -q "Non-2xx\|Socket errors" <<<"$r"; then wrk_errors=$((wrk_errors + 1)); fi
  bursts=$((bursts + 1))
  sleep "0.$((RANDOM % 9 + 1))"
done
wait $client
kill -TERM $sws $echo; wait $sws $echo || true
rescues() { awk '/^total/ {print $NF}' "$1"; }
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cpus, Linux $(uname -r), $(date -Is)"
echo "soak_minutes=$minutes"
echo "soak_wrk_bursts=$bursts"
echo "soak_wrk_bursts_with_errors=$wrk_errors"
cat "$out/echo-client.txt"
echo "soak_sws_rescues=$(rescues "$out/sws.err")"
echo "soak_echo_rescues=$(rescues "$out/echo.err")"
[ "$(rescues "$out/sws.err")" = 0 ] && [ "$(rescues "$out/echo.err")" = 0 ]
