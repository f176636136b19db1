#!/usr/bin/python3
"""The descriptor attack on hue-sfsd, bounded in time, with a legitimate client beside it.

    tools/sfs-race/fd_attack.py BINDIR [--seconds 40] [--baseline 10] [--nofile 256]
                                       [--attackers 2] [--files 3000] [--no-metrics]

Starts hue-sfsd on loopback under a descriptor limit of --nofile (soft and hard, as
`prlimit --nofile=N:N`) over a fresh export of --files small files. For --baseline seconds the
legitimate client runs alone; then --attackers processes each look up every file of the export
in turn (distinct files, so every LOOKUP needs a descriptor) and read each one, without ever
leaving, for --seconds. The legitimate client loops the whole time: LOOKUP of one of 100 files
of its own, READ of it, and every 50th round a new connection (a new client must still get in).
Prints its latency (ms) per phase and the server's counters from --metrics, as key=value lines;
exits 1 if any request of either client failed, a new client was not served, or the server did
not exit 0 on SIGTERM (a sanitizer's report, under a TSan build).
Not part of CI: a tool run, stopped by its own clock. Needs Debian's python3-dissononce.
"""

import argparse
import multiprocessing
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "sfs"))
import noise_peer  # noqa: E402

OP_ROOT, OP_LOOKUP, OP_READ = 1, 2, 5


class Session:
    def __init__(self, name):
        host, port, _ = noise_peer.parse_name(name)
        self.sock = socket.create_connection((host, port))
        self.ch = noise_peer.connect(noise_peer.SocketStream(self.sock), name)
        self.rid = 0
        self.root = self.call(OP_ROOT)[1][:16]

    def call(self, op, handle=b"", body=b""):
        self.rid += 1
        self.ch.send(struct.pack(">BI", op, self.rid) + handle + body)
        r = self.ch.recv()
        rid, status = struct.unpack(">IB", r[:5])
        return status, r[5:]

    def lookup_read(self, path):
        p = path.encode()
        status, rest = self.call(OP_LOOKUP, self.root, struct.pack(">H", len(p)) + p)
        if status != 0:
            return status
        status, _ = self.call(OP_READ, rest[:16], struct.pack(">QI", 0, 4096))
        return status

    def leave(self):
        try:
            self.ch.close()
            self.ch.recv()
        except Exception:
            pass
        self.sock.close()


def attacker(name, files, until, offset, counts):
    s = Session(name)
    i, errors = offset, 0
    while time.monotonic() < until:
        if s.lookup_read("a/%05d" % (i % files)) != 0:
            errors += 1
        i += 1
    counts.put((i - offset, errors))
    # Stays connected until killed: its handles stay held, as the measured attack did.
    time.sleep(3600)


def percentile(xs, q):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bindir")
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--baseline", type=float, default=10)
    ap.add_argument("--nofile", type=int, default=256)
    ap.add_argument("--attackers", type=int, default=2)
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--no-metrics", action="store_true", help="for a hue-sfsd built before --metrics existed")
    a = ap.parse_args()
    if not (0 < a.seconds <= 120 and 0 < a.baseline <= 60):
        sys.exit("--seconds at most 120, --baseline at most 60: a bounded run")
    with tempfile.TemporaryDirectory(prefix="hue-sfs-fd-attack-") as tmp:
        os.makedirs(os.path.join(tmp, "export", "a"))
        os.makedirs(os.path.join(tmp, "export", "legit"))
        for i in range(a.files):
            with open(os.path.join(tmp, "export", "a", "%05d" % i), "w") as f:
                f.write("attack %d\n" % i)
        for i in range(100):
            with open(os.path.join(tmp, "export", "legit", "%03d" % i), "w") as f:
                f.write("legit %d\n" % i * 100)
        key = os.path.join(tmp, "server.key")
        sfsd = os.path.join(a.bindir, "hue-sfsd")
        subprocess.run([sfsd, "--keygen", key], check=True, stdout=subprocess.DEVNULL)
        import resource
        err = open(os.path.join(tmp, "server.err"), "w+")
        metrics_args = [] if a.no_metrics else ["--metrics", "127.0.0.1:0"]
        p = subprocess.Popen([sfsd, "--key", key, "--export", os.path.join(tmp, "export"), "--port", "0",
                              "--workers", "2"] + metrics_args,
                             stdout=subprocess.PIPE, stderr=err, text=True,
                             preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (a.nofile, a.nofile)))
        line = p.stdout.readline()
        print("server=" + line.strip())
        name = line.split(" as ")[1].split(" ")[0]
        # A server without --metrics (an older build, to compare) prints no port: no counters then.
        mport = int(line.split("metrics on port ")[1].split(")")[0]) if "metrics on port" in line else 0
        procs = []
        try:
            start = time.monotonic()
            attack_at = start + a.baseline
            end = attack_at + a.seconds
            counts = multiprocessing.Queue()
            lat = {"baseline": [], "attack": []}
            errors = {"baseline": 0, "attack": 0}
            new_clients = {"baseline": [0, 0], "attack": [0, 0]}  # tried, served
            s = Session(name)
            rounds = 0
            while time.monotonic() < end:
                now = time.monotonic()
                phase = "baseline" if now < attack_at else "attack"
                if phase == "attack" and not procs:
                    for k in range(a.attackers):
                        pr = multiprocessing.Process(target=attacker, daemon=True,
                                                     args=(name, a.files, end, k * a.files // max(a.attackers, 1), counts))
                        pr.start()
                        procs.append(pr)
                rounds += 1
                if rounds % 50 == 0 or s is None:
                    # A new connection: counted as tried every 50th round; after a failed one,
                    # retried (uncounted) each round, 10 ms apart, until one is served.
                    counted = rounds % 50 == 0
                    new_clients[phase][0] += counted
                    if s is not None:
                        s.leave()
                    try:
                        s = Session(name)
                        new_clients[phase][1] += counted
                    except Exception:  # refused or cut during the handshake
                        s = None
                        errors[phase] += 1
                        time.sleep(0.01)
                        continue
                t0 = time.perf_counter()
                try:
                    st = s.lookup_read("legit/%03d" % random.randrange(100))
                except Exception:  # the connection ended under it
                    st, s = -1, None
                lat[phase].append((time.perf_counter() - t0) * 1000)
                if st != 0:
                    errors[phase] += 1
            metrics = ""
            if mport:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=10) as r:
                    metrics = r.read().decode()
            attack_ops = attack_errors = 0
            for _ in procs:
                try:
                    n, e = counts.get(timeout=10)
                except Exception:  # the attacker itself was refused or cut
                    n, e = 0, 1
                attack_ops += n
                attack_errors += e
            if s is not None:
                s.leave()
        finally:
            for pr in procs:
                pr.kill()
            p.send_signal(signal.SIGTERM)
            server_rc = p.wait(timeout=20)
        for phase in ("baseline", "attack"):
            xs = lat[phase]
            print("%s_rounds=%d %s_errors=%d %s_new_clients=%d/%d %s_p50_ms=%.2f %s_p99_ms=%.2f %s_max_ms=%.2f"
                  % (phase, len(xs), phase, errors[phase], phase, new_clients[phase][1], new_clients[phase][0],
                     phase, percentile(xs, 0.5), phase, percentile(xs, 0.99), phase, max(xs) if xs else float("nan")))
        print("attack_lookup_reads=%d attack_errors=%d attackers=%d nofile=%d" % (attack_ops, attack_errors,
                                                                                 a.attackers, a.nofile))
        for m in metrics.splitlines():
            if m.startswith("sfs_") and any(k in m for k in ("descriptor", "shed", "stale", "quota", "timeouts",
                                                              "evicted", "open_files", "handles")):
                print("metric " + m)
    print("server_exit=%d" % server_rc)
    failed = errors["baseline"] + errors["attack"] + attack_errors + sum(t - ok for t, ok in new_clients.values())
    return 1 if failed or server_rc != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
