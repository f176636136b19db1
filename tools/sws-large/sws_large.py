#!/usr/bin/python3
"""sws-large: many clients download one file larger than the cache from hue-sws at once.

Each client streams the whole file through SHA-256 and compares it with the file's own; the
server's RSS (VmRSS sampled every 50 ms, and VmHWM at the end) is reported next to the bytes sent,
so "files larger than memory cost no memory" is a number, not a claim.

  tools/sws-large/sws_large.py --sws build/release/apps/sws/hue-sws            # 2 GiB, 10 clients
  tools/sws-large/sws_large.py --sws ... --size-mib 64 --clients 4 --sparse    # quick

The file is real pseudo-random data by default (written once into --dir, and reused if it is
already there with the right size); --sparse makes a sparse file instead (zeros, no disk used).
Exit status 0 only if every client got every byte with the right digest.
"""
import argparse
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


def make_file(path, size, sparse):
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    with open(path, "wb") as f:
        if sparse:
            f.truncate(size)
            return
        block = hashlib.sha256(b"hue").digest() * (1 << 15)  # 1 MiB, varied enough to catch offsets
        left, n = size, 0
        while left > 0:
            chunk = hashlib.sha256(n.to_bytes(8, "little")).digest() + block[32:]
            f.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))
            n += 1


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 22)
            if not b:
                return h.hexdigest()
            h.update(b)


def rss_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def download(host, port, target, out, idx):
    t0 = time.monotonic()
    h = hashlib.sha256()
    got = 0
    with socket.create_connection((host, port)) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            b = s.recv(65536)
            if not b:
                break
            buf += b
        head, _, rest = buf.partition(b"\r\n\r\n")
        status = int(head.split()[1]) if head else 0
        m = re.search(rb"\r\nContent-Length: (\d+)", head)
        want = int(m.group(1)) if m else -1
        h.update(rest)
        got = len(rest)
        while got < want:
            b = s.recv(1 << 20)
            if not b:
                break
            h.update(b)
            got += len(b)
    out[idx] = (status, got, h.hexdigest(), time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sws", required=True, help="the hue-sws binary")
    ap.add_argument("--size-mib", type=int, default=2048)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--sparse", action="store_true", help="a sparse file (zeros) instead of data")
    ap.add_argument("--dir", default=None, help="where the file goes (default: a fresh temp dir)")
    ap.add_argument("--style", default="handlers", choices=["handlers", "coroutines"])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    own_dir = args.dir is None
    base = tempfile.mkdtemp(prefix="sws-large-") if own_dir else args.dir
    root = os.path.join(base, "www")
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, "large.bin")
    size = args.size_mib << 20
    t = time.monotonic()
    make_file(path, size, args.sparse)
    want = file_digest(path)
    print(f"file: {size} bytes ({'sparse' if args.sparse else 'data'}), sha256 {want[:16]}..., "
          f"prepared in {time.monotonic() - t:.1f} s")

    srv = subprocess.Popen([args.sws, "--root", root, "--port", "0", "--workers", str(args.workers),
                            "--style", args.style, "--quiet"], stdout=subprocess.PIPE, text=True)
    ok = False
    try:
        line = srv.stdout.readline()
        port = int(re.search(r":(\d+) \(", line).group(1))
        before = rss_kib(srv.pid, "VmRSS:")
        samples = []
        done = threading.Event()

        def sample():
            while not done.is_set():
                samples.append(rss_kib(srv.pid, "VmRSS:"))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        results = [None] * args.clients
        threads = [threading.Thread(target=download, args=("127.0.0.1", port, "/large.bin", results, i))
                   for i in range(args.clients)]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.monotonic() - t0
        done.set()
        sampler.join()
        hwm = rss_kib(srv.pid, "VmHWM:")
        good = sum(1 for r in results if r and r[0] == 200 and r[1] == size and r[2] == want)
        total = sum(r[1] for r in results if r)
        print(f"clients: {good}/{args.clients} got all {size} bytes with the right SHA-256")
        for i, r in enumerate(results):
            print(f"  client {i}: status {r[0]} bytes {r[1]} sha256 {'ok' if r[2] == want else 'WRONG'} "
                  f"in {r[3]:.1f} s")
        print(f"sent {total / 2**30:.2f} GiB in {wall:.1f} s ({total / 2**20 / wall:.0f} MiB/s)")
        print(f"server RSS: {before} KiB before, max sampled {max(samples) if samples else -1} KiB, "
              f"VmHWM {hwm} KiB")
        ok = good == args.clients
    finally:
        srv.terminate()
        srv.wait()
        if own_dir:
            shutil.rmtree(base, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
