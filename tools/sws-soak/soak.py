#!/usr/bin/python3
"""Soak test for hue-sws: mixed well-behaved and misbehaving clients for a bounded time.

Usage: soak.py HUE_SWS [--minutes M | --seconds S] [--workers N]

Starts hue-sws itself on a document root it creates (a few small files and a 4 MB one), runs
well-behaved clients (keep-alive sequential GETs, pipelined bursts, range requests, conditional
requests with the ETag) that must see no error and exact bytes, and misbehaving ones (slowloris,
resets mid-response with SO_LINGER 0, garbage, oversized heads, a reader that stops mid-download)
that may see errors or closes. Fails (exit 1) when a well-behaved client saw an error, when the
server's RSS grew by more than 20 % + 5 MB between the baseline (after a warm-up) and the end, when
its descriptor count did not return to the baseline after the clients stopped, or when it died.

Standard library only (Debian's /usr/bin/python3), hand-written HTTP client on purpose: http.client
cannot pipeline, send garbage or reset a connection, and the checks want the raw bytes.
"""
import argparse
import os
import random
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

RSS_GROWTH_FRACTION = 0.20
RSS_GROWTH_SLACK_KB = 5 * 1024


class HttpError(Exception):
    pass


class Conn:
    """One client connection with a read buffer, so pipelined replies can be split apart."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise HttpError("connection closed by server")
        self.buf += chunk

    def read_response(self, head=False):
        """Returns (status, headers dict with lower-case names, body)."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise HttpError("response head too long")
            self._fill()
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0] + " ")
        if not m:
            raise HttpError(f"bad status line {lines[0]!r}")
        status = int(m.group(1))
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head or status == 304 else int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body


def request(path, extra=""):
    return f"GET {path} HTTP/1.1\r\nHost: soak\r\n{extra}\r\n".encode()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.errors = {}
        self.notes = {}          # misbehaving outcomes: closes, resets, statuses
        self.messages = []

    def ok(self, cls, n=1):
        with self.lock:
            self.requests[cls] = self.requests.get(cls, 0) + n

    def error(self, cls, msg):
        with self.lock:
            self.errors[cls] = self.errors.get(cls, 0) + 1
            if len(self.messages) < 20:
                self.messages.append(f"{cls}: {msg}")

    def note(self, cls, outcome):
        with self.lock:
            key = (cls, outcome)
            self.notes[key] = self.notes.get(key, 0) + 1
            self.requests[cls] = self.requests.get(cls, 0) + 1


# ---------------------------------------------------------------- well-behaved clients

def check_body(files, path, status, body):
    if status != 200:
        raise HttpError(f"{path}: status {status}")
    if body != files[path]:
        raise HttpError(f"{path}: {len(body)} bytes differ from the file's {len(files[path])}")


def on_connections(cls, port, stats, stop, rng, exchanges, exchange):
    """The loop every well-behaved client runs: connect, make rng.randint(*exchanges) exchanges
    with exchange(conn) (it returns how many requests it answered and raises HttpError on a wrong
    reply), close, reconnect, until stop; an error is counted for cls and the client goes on."""
    while not stop.is_set():
        try:
            c = Conn(port)
            try:
                for _ in range(rng.randint(*exchanges)):
                    if stop.is_set():
                        break
                    stats.ok(cls, exchange(c))
            finally:
                c.close()
        except (OSError, HttpError) as e:
            stats.error(cls, repr(e))


def keepalive_client(port, files, stats, stop, rng):
    paths = sorted(files)

    def exchange(c):
        path = rng.choice(paths)
        c.send(request(path))
        status, _, body = c.read_response()
        check_body(files, path, status, body)
        return 1
    on_connections("keepalive", port, stats, stop, rng, (20, 200), exchange)


def pipeline_client(port, files, stats, stop, rng):
    small = [p for p in files if len(files[p]) < 300000]

    def exchange(c):
        burst = [rng.choice(small) for _ in range(rng.randint(2, 32))]
        c.send(b"".join(request(p) for p in burst))
        for path in burst:
            status, _, body = c.read_response()
            check_body(files, path, status, body)
        return len(burst)
    on_connections("pipelined", port, stats, stop, rng, (5, 50), exchange)


def range_client(port, files, stats, stop, rng):
    big = files["/big.bin"]

    def exchange(c):
        kind = rng.randrange(3)
        if kind == 0:          # first-last
            a = rng.randrange(len(big))
            b = min(len(big) - 1, a + rng.randrange(1, 300000))
            spec, want, lo, hi = f"{a}-{b}", big[a:b + 1], a, b
        elif kind == 1:        # suffix
            n = rng.randrange(1, 100000)
            spec, want, lo, hi = f"-{n}", big[-n:], len(big) - n, len(big) - 1
        else:                  # open-ended
            a = len(big) - rng.randrange(1, 200000)
            spec, want, lo, hi = f"{a}-", big[a:], a, len(big) - 1
        c.send(request("/big.bin", f"Range: bytes={spec}\r\n"))
        status, headers, body = c.read_response()
        if status != 206:
            raise HttpError(f"range {spec}: status {status}")
        if headers.get("content-range") != f"bytes {lo}-{hi}/{len(big)}":
            raise HttpError(f"range {spec}: Content-Range {headers.get('content-range')}")
        if body != want:
            raise HttpError(f"range {spec}: wrong bytes")
        return 1
    on_connections("range", port, stats, stop, rng, (10, 100), exchange)


def conditional_client(port, files, stats, stop, rng):
    paths = sorted(files)

    def exchange(c):
        path = rng.choice(paths)
        c.send(request(path))
        status, headers, body = c.read_response()
        check_body(files, path, status, body)
        etag = headers.get("etag")
        if not etag:
            raise HttpError(f"{path}: no ETag")
        c.send(request(path, f"If-None-Match: {etag}\r\n"))
        status, headers, body = c.read_response()
        if status != 304 or body:
            raise HttpError(f"{path}: If-None-Match gave {status}")
        return 2
    on_connections("conditional", port, stats, stop, rng, (10, 100), exchange)


# ---------------------------------------------------------------- misbehaving clients

def slowloris_client(port, files, stats, stop, rng):
    """Trickles a head one byte every 0.25 s; the server's header time-out must close it."""
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1.0)
        except OSError:
            stats.note("slowloris", "connect-failed")
            continue
        try:
            s.settimeout(0.25)
            head = request("/index.html", "X-Slow: " + "a" * 200 + "\r\n")
            outcome = "still-open-at-stop"
            for byte in head:
                if stop.is_set():
                    break
                try:
                    s.send(bytes([byte]))
                    r = s.recv(4096)     # the 0.25 s time-out paces the trickle
                    outcome = "answered " + r[9:12].decode("latin-1") if r else "closed-by-server"
                    break
                except socket.timeout:
                    pass
                except OSError:
                    outcome = "reset-by-server"
                    break
            stats.note("slowloris", outcome)
        finally:
            s.close()


def reset_client(port, files, stats, stop, rng):
    """Asks for the 4 MB file, reads part of it and resets (SO_LINGER 0)."""
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5.0)
            s.sendall(request("/big.bin"))
            want, got = rng.randrange(1, 2000000), 0
            while got < want:
                r = s.recv(65536)
                if not r:
                    break
                got += len(r)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            stats.note("reset", "reset-sent")
        except OSError as e:
            stats.note("reset", type(e).__name__)
        stop.wait(0.01)


def read_to_close(s):
    data = b""
    try:
        while True:
            r = s.recv(65536)
            if not r:
                return data, "closed"
            data += r
    except socket.timeout:
        return data, "timeout"
    except OSError:
        return data, "reset"


def garbage_client(port, files, stats, stop, rng):
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5.0)
            try:
                junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
                if rng.random() < 0.5:
                    junk += b"\r\n\r\n"
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                data, how = read_to_close(s)
                stats.note("garbage", (data[9:12].decode("latin-1") if data else "") + how)
            finally:
                s.close()
        except OSError as e:
            stats.note("garbage", type(e).__name__)
        stop.wait(0.01)


def oversized_client(port, files, stats, stop, rng):
    """Heads above --max-header-bytes (16384) must get 431 (or a reset that beat the reply)."""
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5.0)
            try:
                s.sendall(request("/index.html", "X-Big: " + "b" * rng.randrange(17000, 28000) + "\r\n"))
                data, how = read_to_close(s)
                status = data[9:12].decode("latin-1") if data else ""
                if status and status != "431":
                    stats.error("oversized", f"status {status}, not 431")
                stats.note("oversized", status or how)
            finally:
                s.close()
        except OSError as e:
            stats.note("oversized", type(e).__name__)
        stop.wait(0.01)


def stall_client(port, files, stats, stop, rng):
    """Asks for the 4 MB file, reads 64 KB, then stops reading for a while and closes."""
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5.0)
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
                s.sendall(request("/big.bin"))
                got = 0
                while got < 65536:
                    r = s.recv(16384)
                    if not r:
                        break
                    got += len(r)
                stop.wait(rng.uniform(0.5, 3.0))
                stats.note("stall", "abandoned")
            finally:
                s.close()
        except OSError as e:
            stats.note("stall", type(e).__name__)


WELL_BEHAVED = [("keepalive", keepalive_client, 2), ("pipelined", pipeline_client, 1),
                ("range", range_client, 1), ("conditional", conditional_client, 1)]
MISBEHAVING = [("slowloris", slowloris_client, 3), ("reset", reset_client, 1),
               ("garbage", garbage_client, 1), ("oversized", oversized_client, 1),
               ("stall", stall_client, 2)]


def run_clients(classes, port, files, stats, seconds, seed):
    stop = threading.Event()
    threads = []
    for i, (name, fn, count) in enumerate(classes):
        for j in range(count):
            t = threading.Thread(target=fn, args=(port, files, stats, stop,
                                                  random.Random(seed * 1000 + i * 10 + j)),
                                 name=f"{name}-{j}", daemon=True)
            t.start()
            threads.append(t)
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join(30)
        if t.is_alive():
            stats.error(t.name, "client thread did not stop within 30 s")


# ---------------------------------------------------------------- server and its figures

def make_root(root):
    rng = random.Random(14)
    files = {
        "/index.html": b"<!doctype html><title>soak</title><p>hue-sws soak\n",
        "/small.txt": bytes(rng.randrange(32, 127) for _ in range(1500)),
        "/mid.bin": rng.randbytes(100000),
        "/large.bin": rng.randbytes(1500000),     # above --cache-file-bytes: sendfile path
        "/big.bin": rng.randbytes(4 * 1024 * 1024),
    }
    for path, data in files.items():
        with open(os.path.join(root, path[1:]), "wb") as f:
            f.write(data)
    return files


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sws", help="path to hue-sws")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, help="run length in seconds (overrides --minutes)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--style", default="handlers", choices=["handlers", "coroutines"])
    ap.add_argument("--no-rss-bound", action="store_true",
                    help="report RSS but do not bound it (sanitizer builds: AddressSanitizer's "
                         "quarantine keeps freed memory, up to 256 MB, so RSS grows without a leak)")
    args = ap.parse_args()
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    warmup = min(10.0, max(2.0, seconds / 10))

    with tempfile.TemporaryDirectory(prefix="sws-soak-") as root:
        files = make_root(root)
        # Header time-out 2 s so slowloris connections are cut many times during the run.
        proc = subprocess.Popen([args.sws, "--root", root, "--port", "0", "--workers",
                                 str(args.workers), "--style", args.style, "--quiet",
                                 "--header-timeout", "2000", "--keepalive-timeout", "5000"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # Other lines may come first (stderr is merged: hwloc warns where sysfs is missing, as in
        # a chroot), so look at a few before giving up.
        seen = []
        m = None
        while m is None and len(seen) < 20:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            proc.kill()
            sys.exit(f"hue-sws did not start: {''.join(seen)!r}")
        port = int(m.group(1))
        server_output = []
        threading.Thread(target=lambda: server_output.extend(proc.stdout), daemon=True).start()
        failures = []
        try:
            # Warm-up with the well-behaved clients only, then a quiet second: the baseline.
            warm = Stats()
            run_clients(WELL_BEHAVED, port, files, warm, warmup, seed=1)
            if warm.errors:
                failures.append(f"warm-up: {sum(warm.errors.values())} errors, first: {warm.messages[:3]}")
            time.sleep(1.0)
            rss0, fd0 = rss_kb(proc.pid), fd_count(proc.pid)

            stats = Stats()
            t0 = time.monotonic()
            run_clients(WELL_BEHAVED + MISBEHAVING, port, files, stats, seconds, seed=2)
            elapsed = time.monotonic() - t0

            # Connections the server is still timing out or draining: give them the header
            # time-out and then some before judging the descriptors.
            deadline = time.monotonic() + 15
            while fd_count(proc.pid) > fd0 and time.monotonic() < deadline:
                time.sleep(0.2)
            rss1, fd1 = rss_kb(proc.pid), fd_count(proc.pid)
            if proc.poll() is not None:
                failures.append(f"hue-sws exited with {proc.returncode}")
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    failures.append("hue-sws did not stop on SIGTERM within 20 s")

    print(f"hue-sws soak: {elapsed:.0f} s, {args.workers} workers, style {args.style}, "
          f"warm-up {warmup:.0f} s")
    print(f"{'class':<12} {'requests':>9} {'errors':>7}  outcomes")
    for name, _, _ in WELL_BEHAVED + MISBEHAVING:
        outcomes = ", ".join(f"{o}: {n}" for (c, o), n in sorted(stats.notes.items()) if c == name)
        print(f"{name:<12} {stats.requests.get(name, 0):>9} {stats.errors.get(name, 0):>7}  {outcomes}")
    rate = sum(stats.requests.get(n, 0) for n, _, _ in WELL_BEHAVED) / elapsed
    print(f"well-behaved requests/s: {rate:.0f}")
    bound = rss0 * (1 + RSS_GROWTH_FRACTION) + RSS_GROWTH_SLACK_KB
    print(f"RSS start {rss0} kB, end {rss1} kB (bound {bound:.0f} kB = start + 20 % + 5 MB)")
    print(f"fds start {fd0}, end {fd1}")
    for msg in stats.messages:
        print("  error:", msg)

    if any(stats.errors.values()):
        failures.append(f"{sum(stats.errors.values())} errors in well-behaved clients "
                        "(or non-431 answers to oversized heads)")
    if rss1 > bound and not args.no_rss_bound:
        failures.append(f"RSS grew from {rss0} kB to {rss1} kB, over the bound {bound:.0f} kB")
    if fd1 > fd0:
        failures.append(f"descriptors did not return to the baseline: {fd0} -> {fd1}")
    for name, _, _ in WELL_BEHAVED + MISBEHAVING:
        if not stats.requests.get(name):
            failures.append(f"class {name} made no requests")
    if failures:
        print("FAIL:", "; ".join(failures))
        if server_output:
            print("server output:", "".join(server_output[-20:]))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
