#!/usr/bin/env bash
# tools/sfs-race/race.sh — the Mely paper's SFS race (its Fig. 7) on this machine, in one command:
# hue-sfsd in each stealing configuration and both colorings, OpenSSH's sftp-server behind a
# throwaway sshd with two ciphers, and libsodium's AEAD bound, all in the same run, over loopback.
#
#   tools/sfs-race/race.sh [--reps N] [--size MB] [--clients "1 4 16"] [--out DIR]
#                          [--configs LIST] [--workers N] [--frame BYTES] [--no-build]
#                          [--no-install] [--no-plot] [--keep] [--sfsd PATH] [--multio PATH]
#                          [--bound PATH]
#
#   --reps N          the whole race N times, configurations in a rotated order each rep (default 3)
#   --size MB         the file every client reads, in MiB (default 256; --size 64 for trial runs)
#   --clients LIST    concurrent clients, each reading the whole file once (default "1 4 16")
#   --out DIR         results (default bench-results/sfs-race-<date-time> in the repo)
#   --configs LIST    comma-separated subset of the configurations below (default: all)
#   --workers N       hue-sfsd's worker threads and the bound's workers (default: nproc)
#   --frame BYTES     plaintext bytes per sealed frame for the bound (default 65536, the
#                     transport's largest frame, in which hue-sfsd sends READ replies)
#   --no-build        use the binaries already in build/release
#   --no-install      do not apt-get openssh-server, openssh-sftp-server, matplotlib when missing
#   --no-plot         no race.png
#   --keep            keep the work directory (configs, keys, logs) and say where it is
#   --sfsd PATH, --multio PATH   hue's binaries (default: build/release/apps/sfs's)
#   --bound PATH      hue-aead-bound (default: build/release/tools/sfs-race/hue-aead-bound)
#
# Configurations (rows of the figure):
#   sftp-chacha, sftp-aes   OpenSSH sftp-server, ciphers chacha20-poly1305@openssh.com and
#                           aes128-gcm@openssh.com: N concurrent `sftp -b` clients, each
#                           `get FILE /dev/null` over its own connection
#   hue-all-conn, hue-off-conn, lasmp-conn, lasmp-off-conn
#                           hue-sfsd --coloring per-connection with --steal all (all heuristics),
#                           off (no stealing), libasync-smp (its stealing), libasync-smp-off
#   hue-all-paper, hue-off-paper, lasmp-paper, lasmp-off-paper
#                           the same with --coloring paper (only the cryptographic handlers colored)
#   hue-multio --clients N reads the file over N connections of hue's secure channel.
#
# What is measured, per configuration, client count and rep:
#   MB/s        aggregate: N x file size / wall time from the first client's start to the last
#               client's exit (handshakes included, the same way for every server); MB = 10^6 B.
#   CPU s/GB    the server's CPU seconds (user + system) per GB (10^9 B) delivered. hue-sfsd: the
#               delta of utime+stime of its process (all threads) in /proc/PID/stat. sshd: the
#               listening sshd's utime+stime+cutime+cstime delta, read once every connection's
#               processes (privileged monitor, session, sftp-server) have exited and been reaped,
#               so the children's times are folded into it (no cgroup: this machine's cgroup v1
#               cpuacct hierarchy is not ours to write).
#   client MB/s hue-multio's own aggregate (READ traffic only, handshakes excluded), hue rows only.
#   peak RSS    the largest sum of VmRSS over the server's process tree, sampled every 0.2 s
#               during the run; for hue-sfsd also its VmHWM.
# And once per rep, before the servers: hue-aead-bound (libsodium ChaCha20-Poly1305-IETF sealing
# of --frame bytes, MB/s on one core, on --workers threads at once, and one core x workers). Its
# per-core rate gives the seal cost, CPU s/GB = 1000 / MB/s, and the table divides each hue row's
# CPU s/GB by it (the aim: at most 1.5x, serving a GB costs little more than sealing it).
#
# The file is written once from /dev/urandom and read through once before the run, so every
# server reads it from the page cache. The clients share the machine's cores with the server (no
# pinning: with 2 cores there is no core to spare for them): the numbers are only as good as the
# machine is quiet, and meta.txt records the load average before every run.
#
# The throwaway sshd: /usr/sbin/sshd -D -e -f CONFIG on 127.0.0.1 and a free port, its own host
# key, a key-only login for the current user through its own authorized_keys file, sftp-server as
# its sftp subsystem. /etc/ssh and the system's sshd are never read or touched; the only system
# change is /run/sshd (OpenSSH's empty privilege-separation directory) when it is missing.
#
# In DIR: meta.txt (machine line, versions, load), runs.csv (one row per run), bound.txt (the
# bound's key=value lines per rep), and from tools/sfs-race/race.py: race.csv and race.json
# (medians over the reps with min..max), table.txt (the table and the aims) and race.png.
set -euo pipefail
caller=$(pwd)
cd "$(dirname "$0")/../.."
repo=$(pwd)
. tools/lib.sh

reps=3 size=256 clients="1 4 16" out="" workers=$(nproc) frame=65536 build=1 install=1 plot=1 keep=0
all_configs="sftp-chacha sftp-aes hue-all-conn hue-off-conn lasmp-conn lasmp-off-conn"
all_configs+=" hue-all-paper hue-off-paper lasmp-paper lasmp-off-paper"
configs=${all_configs// /,}
sfsd=$repo/build/release/apps/sfs/hue-sfsd
multio=$repo/build/release/apps/sfs/hue-multio
bound=$repo/build/release/tools/sfs-race/hue-aead-bound
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;  --no-install) install=0 ;;  --no-plot) plot=0 ;;  --keep) keep=1 ;;
    -h|--help) usage_of "$0"; exit 0 ;;
    --reps|--size|--clients|--out|--configs|--workers|--frame|--sfsd|--multio|--bound)
      [ $# -ge 2 ] || { echo "sfs-race: $1 needs a value (try --help)" >&2; exit 2; }
      v=${1#--}; printf -v "$v" '%s' "$2"; shift ;;
    *) echo "sfs-race: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
# Paths given relative to where the script was called from, not to the repository it works in.
for v in sfsd multio bound out; do
  case "${!v}" in ''|/*) ;; *) printf -v "$v" '%s' "$caller/${!v}" ;; esac
done
for o in reps size workers frame; do positive_int sfs-race "--$o" "${!o}"; done
[ -n "${clients// /}" ] || { echo "sfs-race: --clients is empty" >&2; exit 2; }
for c in $clients; do positive_int sfs-race --clients "$c"; done
[ "$size" -le 65536 ] || { echo "sfs-race: --size $size MiB is more than 64 GiB" >&2; exit 2; }
IFS=, read -r -a chosen <<< "$configs"
for s in "${chosen[@]}"; do
  case " $all_configs " in *" $s "*) ;; *)
    echo "sfs-race: unknown configuration '$s'; choose among: $all_configs" >&2; exit 2 ;; esac
done

if [ "$install" = 1 ]; then
  scripts/bootstrap.sh python3-matplotlib ||
    say "WARNING: installing packages failed; going on with what is there"
fi
if [ "$build" = 1 ]; then
  say "building (release)"
  scripts/build.sh release >/dev/null || say "WARNING: the release build failed; using what is built"
fi

work=$(mktemp -d /tmp/hue-sfs-race.XXXXXX)
out=${out:-bench-results/sfs-race-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
user=$(id -un)
hz=$(getconf CLK_TCK)
file_bytes=$((size * 1048576))

# ---- servers ------------------------------------------------------------------------------------
server_pid="" sampler_pid=""
# stop_server and free_port: tools/lib.sh.
stop_sampler() {
  [ -n "$sampler_pid" ] || return 0
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
}
cleanup() {
  stop_sampler; stop_server
  if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # PORT: 0 once something accepts on 127.0.0.1:PORT while the server lives (10 s)
  for _ in $(seq 100); do
    kill -0 "$server_pid" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# The process tree under PID (PID first), from /proc's parent links.
tree_of() {
  ps -e -o pid=,ppid= 2>/dev/null | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      keep[root] = 1; changed = 1
      while (changed) { changed = 0
        for (i in pids) { p = pids[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 } } }
      for (p in keep) print p
    }'
}

# Samples the sum of VmRSS (KiB) over PID's tree every 0.2 s; the largest sum so far in FILE.
start_sampler() {  # PID FILE
  local root=$1 file=$2
  echo 0 > "$file"
  (
    peak=0
    while kill -0 "$root" 2>/dev/null; do
      sum=0
      for p in $(tree_of "$root"); do
        r=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/status" 2>/dev/null || true)
        sum=$((sum + ${r:-0}))
      done
      if [ "$sum" -gt "$peak" ]; then peak=$sum; echo "$peak" > "$file"; fi
      sleep 0.2
    done
  ) &
  sampler_pid=$!
}

# CPU ticks (user + system, and of reaped children for sshd's listener) of PID.
cpu_ticks() {  # PID CHILDREN(0|1)
  # The command name in field 2 may hold spaces: cut the line after its last ')'.
  local rest
  rest=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  # After "pid (comm) ": field 3 is state; utime..cstime are fields 14..17, i.e. 12..15 here.
  awk -v c="$2" '{ print $12 + $13 + (c ? $14 + $15 : 0) }' <<< "$rest"
}

# Waits until PID has no children left (every connection handled and reaped), at most 30 s.
wait_no_children() {
  for _ in $(seq 300); do
    [ -z "$(ps -o pid= --ppid "$1" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  say "WARNING: connection processes of $1 still there after 30 s: their CPU time is missing"
}

# ---- OpenSSH: a throwaway sshd ------------------------------------------------------------------
ssh_dir=$work/ssh
setup_ssh() {
  mkdir -p "$ssh_dir"
  chmod 700 "$ssh_dir"
  ssh-keygen -q -t ed25519 -N '' -C sfs-race-host -f "$ssh_dir/host_key"
  ssh-keygen -q -t ed25519 -N '' -C sfs-race-client -f "$ssh_dir/client_key"
  cp "$ssh_dir/client_key.pub" "$ssh_dir/authorized_keys"
  chmod 600 "$ssh_dir/authorized_keys"
  if [ ! -d /run/sshd ] && [ "$(id -u)" = 0 ]; then
    say "creating /run/sshd (OpenSSH's privilege-separation directory; Debian's tmpfiles makes it at boot where systemd runs)"
    mkdir -p /run/sshd && chmod 755 /run/sshd
  fi
}

start_sshd() {  # NAME PORT CIPHER
  local dir=$work/$1
  mkdir -p "$dir"
  # SetEnv SHLVL=1: sshd runs the subsystem as `$SHELL -c /usr/lib/openssh/sftp-server`, and bash
  # started by sshd at shell level 1 reads ~/.bashrc; here root's runs pyenv's init, ~0.5 CPU s
  # and a dozen processes per connection, a cost of this machine's account and not of OpenSSH.
  # At level 2 bash skips it. StrictModes no: the key files live under /tmp, which is world-writable (sticky); sshd's
  # strict check refuses any authorized_keys below a world-writable directory. The files are made
  # by this script, mode 0600, in a 0700 directory.
  cat > "$dir/sshd_config" <<EOF
Port $2
ListenAddress 127.0.0.1
HostKey $ssh_dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $ssh_dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $user
UsePAM no
UseDNS no
StrictModes no
MaxStartups 256:30:512
Subsystem sftp /usr/lib/openssh/sftp-server
SetEnv SHLVL=1
Ciphers $3
EOF
  /usr/sbin/sshd -t -f "$dir/sshd_config" || return 1
  echo "/usr/sbin/sshd -D -e -f $dir/sshd_config" > "$dir/command.txt"
  setsid /usr/sbin/sshd -D -e -f "$dir/sshd_config" > "$dir/server.log" 2>&1 < /dev/null &
  server_pid=$!
  wait_port "$2" || return 1
  echo "[127.0.0.1]:$2 $(cat "$ssh_dir/host_key.pub")" > "$dir/known_hosts"
  echo "get $work/file.bin /dev/null" > "$dir/batch"
  # One client through: the login works and the file comes whole to a real file once.
  echo "get $work/file.bin $dir/check.bin" > "$dir/batch-check"
  if ! sftp_client "$1" "$3" "$dir/batch-check" > "$dir/check.log" 2>&1 ||
     ! cmp -s "$work/file.bin" "$dir/check.bin"; then
    say "FAILED: sftp through $1 does not deliver the file whole:"
    sed 's/^/   /' "$dir/check.log" >&2
    return 1
  fi
  rm -f "$dir/check.bin"
  wait_no_children "$server_pid"
}

sftp_client() {  # NAME CIPHER BATCHFILE
  local dir=$work/$1 port
  port=$(sed -n 's/^Port //p' "$dir/sshd_config")
  # -F none: no ssh_config of the system or the user; batch mode: never a prompt.
  sftp -q -F none -b "$3" -P "$port" -i "$ssh_dir/client_key" -o IdentitiesOnly=yes \
    -o BatchMode=yes -o UserKnownHostsFile="$dir/known_hosts" -o StrictHostKeyChecking=yes \
    -o Ciphers="$2" "$user@127.0.0.1"
}

# ---- hue ----------------------------------------------------------------------------------------
hue_name=""
start_sfsd() {  # NAME PORT STEAL COLORING
  local dir=$work/$1
  mkdir -p "$dir"
  local cmd=("$sfsd" --key "$work/sfsd.key" --export "$work/export" --port "$2"
             --address 127.0.0.1 --workers "$workers" --steal "$3" --coloring "$4")
  printf '%s\n' "${cmd[*]}" > "$dir/command.txt"
  setsid "${cmd[@]}" > "$dir/server.log" 2>&1 < /dev/null &
  server_pid=$!
  wait_port "$2" || return 1
  # The self-certifying name it prints at start-up: host:port:HOSTID.
  hue_name=""
  for _ in $(seq 50); do
    hue_name=$(grep -oE "[^[:space:]]+:$2:[A-Za-z0-9]+" "$dir/server.log" | head -1 || true)
    [ -n "$hue_name" ] && break
    sleep 0.1
  done
  [ -n "$hue_name" ] || { say "FAILED: $1 printed no self-certifying name"; return 1; }
  # One client through, content verified by hue-multio itself.
  if ! "$multio" --clients 1 --json "$hue_name" file.bin > "$dir/check.json" 2> "$dir/check.log"; then
    say "FAILED: hue-multio through $1 does not read the file:"
    sed 's/^/   /' "$dir/check.log" >&2
    return 1
  fi
}

# ---- one run: N clients at once -----------------------------------------------------------------
now() { date +%s.%N; }

# run_clients NAME KIND N OUTPREFIX: prints "seconds errors" (first start to last exit).
run_clients() {
  local name=$1 kind=$2 n=$3 pre=$4 i t0 t1 errors=0
  rm -f "$pre".client-*
  t0=$(now)
  case "$kind" in
    sftp-*)
      local cipher=chacha20-poly1305@openssh.com
      [ "$kind" = sftp-aes ] && cipher=aes128-gcm@openssh.com
      for i in $(seq "$n"); do
        ( sftp_client "$name" "$cipher" "$work/$name/batch" > "$pre.client-$i.log" 2>&1
          echo $? > "$pre.client-$i.rc" ) &
      done
      wait  # run_clients runs in a subshell of its own: its only children are these clients
      t1=$(now)
      for i in $(seq "$n"); do
        [ "$(cat "$pre.client-$i.rc" 2>/dev/null)" = 0 ] || errors=$((errors + 1))
      done
      ;;
    hue)
      # One hue-multio process opens the N connections, as the paper's multio master does.
      "$multio" --clients "$n" --json "$hue_name" file.bin > "$pre.multio.json" 2> "$pre.multio.log" ||
        errors=$n
      t1=$(now)
      # Every client's whole pass checked against the server's SHA-256 (hue-multio's DIGEST).
      grep -q '"content_ok": true' "$pre.multio.json" || errors=$n
      ;;
  esac
  awk -v a="$t0" -v b="$t1" -v e="$errors" 'BEGIN { printf "%.3f %d\n", b - a, e }'
}

# ---- the run ------------------------------------------------------------------------------------
say "writing a $size MiB file and reading it into the page cache"
mkdir -p "$work/export"
head -c "$file_bytes" /dev/urandom > "$work/export/file.bin"
ln -s export/file.bin "$work/file.bin"  # sftp reads it by this path; hue-sfsd inside its export
cat "$work/export/file.bin" > /dev/null
file_bytes=$(stat -c %s "$work/export/file.bin")

runnable=()
setup_ssh
for s in "${chosen[@]}"; do
  case "$s" in
    sftp-*) runnable+=("$s") ;;
    *) if [ -x "$sfsd" ] && [ -x "$multio" ]; then runnable+=("$s")
       else say "$sfsd or $multio missing: skipping $s"; fi ;;
  esac
done
[ ${#runnable[@]} -gt 0 ] || { echo "sfs-race: no configuration to run" >&2; exit 1; }
if [ -x "$sfsd" ]; then "$sfsd" --keygen "$work/sfsd.key" > /dev/null; fi

{
  meta_head
  echo "workers: $workers; reps: $reps; file: $size MiB ($file_bytes bytes); clients: $clients"
  echo "configurations: ${runnable[*]}"
  echo "sshd: $(/usr/sbin/sshd -V 2>&1 | head -1); sftp-server: /usr/lib/openssh/sftp-server"
  echo "hue-sfsd: $sfsd; hue-multio: $multio; bound: $bound --frame $frame --workers $workers"
  echo "server CPU: hue-sfsd utime+stime; sshd listener utime+stime+cutime+cstime (children reaped)"
} > "$out/meta.txt"
warn_if_busy

echo "rep,config,clients,bytes,seconds,mb_per_s,server_cpu_s,cpu_s_per_gb,peak_rss_kib,hwm_kib,errors,load1,client_mb_per_s" \
  > "$out/runs.csv"
: > "$out/bound.txt"
failed=()
t_start=$SECONDS
for rep in $(seq "$reps"); do
  if [ -x "$bound" ]; then
    say "rep $rep/$reps: AEAD bound ($frame-byte frames, $workers workers)"
    if "$bound" --frame "$frame" --workers "$workers" --reps 3 --min-time 0.3 \
         --benchmark_color=false > "$work/bound.out" 2>&1; then
      grep '^aead_' "$work/bound.out" | sed "s/^/rep=$rep /" >> "$out/bound.txt"
      say "  $(grep -E '^aead_(per_core|bound)' "$work/bound.out" | tr '\n' ' ')seal cost $(awk -F= \
            '/^aead_per_core_mb_s=/ && $2 > 0 { printf "%.2f", 1000 / $2 }' "$work/bound.out") CPU s/GB"
    else
      say "FAILED: $bound:"; tail -5 "$work/bound.out" | sed 's/^/   /' >&2; failed+=(aead-bound)
    fi
  else
    say "$bound missing: no AEAD bound"
  fi
  n=${#runnable[@]}
  for i in $(seq 0 $((n - 1))); do
    # Rotated each rep, so slow drift of the machine does not always hit the same configuration.
    name=${runnable[$(( (i + rep - 1) % n ))]}
    say "rep $rep/$reps: $name"
    port=$(free_port)
    case "$name" in
      sftp-chacha) kind=$name; started=start_sshd; args=(chacha20-poly1305@openssh.com) ;;
      sftp-aes) kind=$name; started=start_sshd; args=(aes128-gcm@openssh.com) ;;
      *) kind=hue; started=start_sfsd
         steal=${name%-*}; coloring=${name##*-}
         case "$steal" in hue-all) steal=all ;; hue-off) steal=off ;; lasmp) steal=libasync-smp ;;
                          lasmp-off) steal=libasync-smp-off ;; esac
         [ "$coloring" = conn ] && coloring=per-connection
         args=("$steal" "$coloring") ;;
    esac
    if ! "$started" "$name" "$port" "${args[@]}"; then
      say "FAILED: $name did not start; its log:"
      tail -20 "$work/$name/server.log" 2>/dev/null | sed 's/^/   /' >&2
      stop_server; failed+=("$name"); continue
    fi
    start_sampler "$server_pid" "$work/$name/peak_rss"
    for c in $clients; do
      load1=$(cut -d' ' -f1 /proc/loadavg)
      echo "load average before $name c$c rep $rep: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"
      sshd_children=$([ "$kind" = hue ] && echo 0 || echo 1)
      cpu0=$(cpu_ticks "$server_pid" "$sshd_children")
      read -r secs errors < <(run_clients "$name" "$kind" "$c" "$work/$name/rep$rep-c$c")
      [ "$kind" = hue ] || wait_no_children "$server_pid"
      cpu1=$(cpu_ticks "$server_pid" "$sshd_children")
      peak=$(cat "$work/$name/peak_rss" 2>/dev/null || echo 0)
      hwm=""
      [ "$kind" = hue ] && hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' \
                                   "/proc/$server_pid/status" 2>/dev/null || true)
      # hue-multio's own aggregate (READ traffic only, after the handshakes), beside ours.
      client_mbs=""
      [ "$kind" = hue ] && client_mbs=$(grep -o '"aggregate_MBps": [0-9.]*' \
                                          "$work/$name/rep$rep-c$c.multio.json" 2>/dev/null | cut -d' ' -f2 || true)
      line=$(awk -v rep="$rep" -v n="$name" -v c="$c" -v fb="$file_bytes" -v s="$secs" \
               -v t0="$cpu0" -v t1="$cpu1" -v hz="$hz" -v pk="$peak" -v hwm="$hwm" -v e="$errors" \
               -v l="$load1" -v cm="$client_mbs" 'BEGIN {
        bytes = c * fb; cpu = (t1 - t0) / hz
        printf "%s,%s,%s,%d,%.3f,%.1f,%.2f,%.2f,%s,%s,%s,%s,%s\n", rep, n, c, bytes, s,
               bytes / s / 1e6, cpu, cpu / (bytes / 1e9), pk, hwm, e, l, cm }')
      echo "$line" >> "$out/runs.csv"
      say "  $c clients: $(cut -d, -f6 <<< "$line") MB/s, $(cut -d, -f8 <<< "$line") CPU s/GB, peak RSS $peak KiB, errors $errors"
      if [ "$errors" != 0 ]; then
        f=$(ls "$work/$name/rep$rep-c$c".*.log 2>/dev/null | head -1)
        [ -n "$f" ] && sed 's/^/   /' "$f" | tail -5 >&2
      fi
    done
    if ! kill -0 "$server_pid" 2>/dev/null; then
      say "FAILED: $name died during the run; its log:"
      tail -20 "$work/$name/server.log" | sed 's/^/   /' >&2
      failed+=("$name")
    fi
    stop_server
    stop_sampler
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/meta.txt"
say "measured in $((SECONDS - t_start)) s"
if [ "$keep" = 1 ]; then cp -r "$work"/sftp-* "$work"/hue-* "$work"/lasmp-* "$out/" 2>/dev/null || true; fi

plot_flag=()
[ "$plot" = 1 ] || plot_flag=(--no-plot)
if ! "$(system_python)" tools/sfs-race/race.py "$out" "${plot_flag[@]}" | tee "$out/table.txt"; then
  failed+=(race.py)
fi
say "results in $out"
if [ ${#failed[@]} -gt 0 ]; then say "FAILED: ${failed[*]}"; exit 1; fi
