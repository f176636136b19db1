#!/usr/bin/env bash
# The main job: builds hue and starts SWS, the paper's web server, on the bundled document root
# (www/), in the foreground: open http://127.0.0.1:8080/ and stop it with Ctrl-C.
#   scripts/demo.sh [--check] [hue-sws options...]
# --check starts it on a free port, fetches a page, stops it with SIGTERM and exits 0 if all of
# that worked (what CI and the fresh-machine check run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
dir=$(scripts/build.sh release)
sws="$dir/apps/sws/hue-sws"
if [ "${1:-}" != "--check" ]; then
  echo "SWS on http://127.0.0.1:8080/ (Ctrl-C stops it; --help lists the options)"
  exec "$sws" --root www --port 8080 --metrics /metrics "$@"
fi
shift
out=$(mktemp)
"$sws" --root www --port 0 --metrics /metrics "$@" >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$out" && break; sleep 0.05; done
cat "$out"
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out")
[ -n "$port" ] || { echo "demo: hue-sws did not start" >&2; exit 1; }
# bash's /dev/tcp: no curl needed on a fresh machine.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
reply=$(cat <&3)
exec 3<&-
head -1 <<<"$reply"
grep -q 'HTTP/1.1 200 OK' <<<"$reply" && grep -q 'hue-sws' <<<"$reply" || {
  echo "demo: unexpected reply" >&2; exit 1; }
kill -TERM $pid
wait $pid
echo "demo: SWS served the bundled page and stopped cleanly"
