#!/usr/bin/python3
"""One command for the libasync comparisons (README, "libasync compatibility").

  tools/async_compare.py [--build build/release] [--peer-echo PATH] [--secs 3] [--reps 3]

- hashd: apps/async/async_hashd uncolored vs --colored (one color per connection) under the same
  load: C clients each sending lines and waiting for each reply (closed loop). Prints lines/s,
  the median of --reps runs, and colored/uncolored.
- echo: apps/async/async_echo, and the same load against --peer-echo (an echo server built on the
  real libasync, taking the port as its only argument and printing "listening on PORT") if given:
  round trips/s of 64-byte messages from C closed-loop clients, and hue/peer.
Clients are Python threads (one process): on 2 shared cores they compete with the server, so the
absolute figures are low; the ratios taken side by side are what to read. Record `uptime` with them.
"""
import argparse
import os
import socket
import statistics
import subprocess
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--build", default="build/release")
ap.add_argument("--peer-echo")
ap.add_argument("--secs", type=float, default=3)
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--clients", type=int, default=4)
ap.add_argument("--rounds", default="20000")
ap.add_argument("--only", choices=["hashd", "echo"], help="run one of the two comparisons")
args = ap.parse_args()


def start(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    line = p.stdout.readline().decode()
    if not line.startswith("listening on "):
        raise SystemExit(f"{cmd[0]}: said {line!r}")
    return p, int(line.split()[-1])


def closed_loop(port, msg, reply_len, secs, clients):
    counts = [0] * clients
    stop = time.monotonic() + secs

    def run(i):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while time.monotonic() < stop:
            s.sendall(msg)
            got = 0
            while got < reply_len:
                b = s.recv(65536)
                if not b:
                    return
                got += len(b)
            counts[i] += 1
        s.close()

    ts = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts) / secs


def measure(cmd, msg, reply_len):
    rates = []
    for _ in range(args.reps):
        p, port = start(cmd)
        try:
            rates.append(closed_loop(port, msg, reply_len, args.secs, args.clients))
        finally:
            p.kill()
            p.wait()
    return statistics.median(rates), rates


apps = os.path.join(args.build, "apps", "async")
print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
hashd = os.path.join(apps, "async_hashd")
if args.only != "echo":
    u, ur = measure([hashd, "--rounds", args.rounds], b"some line to hash\n", 17)
    c, cr = measure([hashd, "--rounds", args.rounds, "--colored"], b"some line to hash\n", 17)
    print(f"hashd uncolored {u:.0f} lines/s {[round(x) for x in ur]}")
    print(f"hashd colored   {c:.0f} lines/s {[round(x) for x in cr]}")
    print(f"hashd colored/uncolored {c / u:.2f}")
if args.only == "hashd":
    raise SystemExit(0)
msg = b"x" * 63 + b"\n"
echo = [os.path.join(apps, "async_echo")]
if not args.peer_echo:
    e, er = measure(echo, msg, len(msg))
    print(f"echo hue {e:.0f} round trips/s {[round(x) for x in er]}")
    print("echo peer: not given (--peer-echo)")
    raise SystemExit(0)
# Interleaved, one rep of each in turn, so a change in the machine's load hits both alike; the
# ratio is taken per pair, then the median of the pairs.
hue, peer = [], []
for _ in range(args.reps):
    reps, args.reps = args.reps, 1
    hue.append(measure(echo, msg, len(msg))[0])
    peer.append(measure([args.peer_echo], msg, len(msg))[0])
    args.reps = reps
ratios = [h / p for h, p in zip(hue, peer)]
print(f"echo hue      {statistics.median(hue):.0f} round trips/s {[round(x) for x in hue]}")
print(f"echo libasync {statistics.median(peer):.0f} round trips/s {[round(x) for x in peer]}")
print(f"echo hue/libasync per pair {[round(r, 2) for r in ratios]}, median {statistics.median(ratios):.2f}")
