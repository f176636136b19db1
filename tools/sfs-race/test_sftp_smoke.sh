#!/usr/bin/env bash
# tools/sfs-race/test_sftp_smoke.sh — the OpenSSH side and the bound of the SFS race, end to end on
# a 1 MiB file: the throwaway sshd starts, the key-only login works, the file arrives whole (race.sh
# compares one client's copy with cmp before measuring), 1 and 2 concurrent clients finish without
# errors, and the bound prints its figures. Skips (77) where sshd or sftp is not installed, or where
# sshd cannot run (not root and no /run/sshd: OpenSSH's privilege-separation directory).
#
#   tools/sfs-race/test_sftp_smoke.sh RACE_SH AEAD_BOUND
set -euo pipefail
race=$1 bound=$2
for p in /usr/sbin/sshd /usr/lib/openssh/sftp-server; do
  [ -x "$p" ] || { echo "skipped: $p not installed"; exit 77; }
done
command -v sftp >/dev/null || { echo "skipped: sftp not installed"; exit 77; }
if [ "$(id -u)" != 0 ] && [ ! -d /run/sshd ]; then echo "skipped: no /run/sshd and not root"; exit 77; fi
out=$(mktemp -d /tmp/sfs-race-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
"$race" --reps 1 --size 1 --clients "1 2" --configs sftp-chacha --no-build --no-install --no-plot \
  --bound "$bound" --sfsd /nonexistent --multio /nonexistent --out "$out"
fail() { echo "FAILED: $*" >&2; cat "$out/runs.csv" >&2; exit 1; }
[ "$(wc -l < "$out/runs.csv")" = 3 ] || fail "runs.csv should have a header and 2 runs"
awk -F, 'NR > 1 && !($11 == 0 && $6 > 0 && $4 == $3 * 1048576) { bad = 1 } END { exit bad }' \
  "$out/runs.csv" || fail "a run with errors, no MB/s or the wrong byte count"
grep -q 'aead_bound_mb_s=' "$out/bound.txt" || fail "no bound in bound.txt"
grep -q '^sftp-chacha,1,' "$out/race.csv" || fail "race.csv has no sftp-chacha row"
echo "sftp side and bound: ok"
