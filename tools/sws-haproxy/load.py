#!/usr/bin/python3
"""Closed-loop GET load through a load balancer, counting every failed request.

    load.py HOST PORT SECONDS [THREADS] [PATH]

Each thread keeps one keep-alive connection and reconnects when the server closes it (a
`Connection: close` answer is not a failure; a reset, an empty reply or a non-200 status is).
Prints `requests=N failures=F` and exits 1 when F > 0.
"""
import http.client
import sys
import threading
import time


def worker(host, port, path, stop_at, counts, lock):
    conn = None
    ok = failed = 0
    while time.monotonic() < stop_at:
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                ok += 1
            else:
                failed += 1
                print(f"load: status {r.status}", file=sys.stderr)
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            failed += 1
            print(f"load: {type(e).__name__}: {e}", file=sys.stderr)
            if conn:
                conn.close()
            conn = None
    with lock:
        counts[0] += ok
        counts[1] += failed


def main():
    host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    path = sys.argv[5] if len(sys.argv) > 5 else "/"
    counts, lock = [0, 0], threading.Lock()
    stop_at = time.monotonic() + seconds
    ts = [threading.Thread(target=worker, args=(host, port, path, stop_at, counts, lock))
          for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(f"requests={counts[0]} failures={counts[1]}")
    return 1 if counts[1] else 0


if __name__ == "__main__":
    sys.exit(main())
