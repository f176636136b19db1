#!/usr/bin/env bash
# The command line of every program in apps/ (apps/common/command_line.hpp): --help exits 0, a
# malformed number is an error that names its option (hue-echo used to read `--port 80x` as port
# 80, through std::stoi), and an option given twice takes its last value (scripts/demo.sh passes
# its own --port before the user's arguments).
#   check_cli.sh HUE_SWS HUE_ECHO HUE_DEMO
set -uo pipefail
sws=$1 echo_=$2 demo=$3
root=$(mktemp -d)
out=$(mktemp) err=$(mktemp)
trap 'rm -rf "$root" "$out" "$err"' EXIT
failed=0

fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; failed=1; }

# expect CODE PATTERN PROGRAM ARGS...: exits CODE, and PATTERN (a fixed string) is on stderr for a
# usage error, on stdout otherwise.
expect() {
  local code=$1 pattern=$2
  shift 2
  timeout 10 "$@" >"$out" 2>"$err"
  local got=$?
  local where=$out
  [ "$code" = 0 ] || where=$err
  if [ "$got" != "$code" ]; then fail "$* exited $got, not $code"
  elif ! grep -qF -- "$pattern" "$where"; then fail "$*: no '$pattern' in its output"
  else echo "ok: $* -> $code"; fi
}

# $p unquoted on purpose: hue-sws comes with its --root (the paths here have no spaces).
for p in "$sws --root $root" "$echo_" "$demo"; do
  expect 0 'Usage:' $p --help
  expect 0 '--workers' $p -h
  expect 2 "--workers: '2x'" $p --workers 2x
  expect 2 '--no-such-option' $p --no-such-option
  expect 2 '--steal' $p --steal sideways
  expect 2 "--idle-spin: '5x'" $p --idle-spin 5x
  expect 2 "--io: unknown io backend 'kqueue'" $p --io kqueue
done
for p in "$echo_" "$sws --root $root"; do
  expect 2 "--port: '80x'" $p --port 80x
  expect 2 '--port: 70000 is out of range' $p --port 70000
  expect 2 "--port: '-1'" $p --port -1
  expect 2 "--port: '0x50'" $p --port 0x50
  expect 2 '--port' $p --port
  expect 2 '--style' $p --style threads
done
expect 2 '--root' "$sws"
expect 2 "--max-header-bytes: '-1'" "$sws" --root "$root" --max-header-bytes -1
expect 2 "--header-timeout: '10s'" "$sws" --root "$root" --header-timeout 10s
expect 2 '--reactors' "$sws" --root "$root" --reactors two
expect 2 '--jobs' "$demo" --jobs 0
expect 0 'hue demo: 1 workers, 10 jobs of ~0 ms each' "$demo" --jobs 010 --ms 0 --workers 1  # decimal, not octal

# The last --port wins: the echo server starts on the free port asked for last, not on 1.
timeout 10 "$echo_" --port 1 --port 0 --workers 1 >"$out" 2>"$err" &
pid=$!
for _ in $(seq 100); do grep -q 'style on' "$out" && break; sleep 0.05; done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
if grep -q 'style on 127\.0\.0\.1:[0-9]' "$out" && ! grep -q '127\.0\.0\.1:1,' "$out"; then
  echo "ok: hue-echo --port 1 --port 0 listens on a free port"
else
  fail "hue-echo --port 1 --port 0 did not take the last --port"
fi

exit $failed
