#!/usr/bin/python3
"""Runs the libasync-idiom programs of apps/async and checks what they say.

  async_apps_check.py BUILD_APPS_ASYNC_DIR

async_echo: bytes come back unchanged (small, and 1 MB through a slow reader's flow control);
async_timer: COUNT ticks then "done", SIGINT gives "interrupted"; async_kv: SET/GET/DEL/unknown;
async_hashd: the same replies with and without --colored, each connection's replies in order, and
several connections served at once when colored.
"""
import os
import signal
import socket
import subprocess
import sys
import time

d = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def start(name, *args):
    p = subprocess.Popen([os.path.join(d, name), *args], stdout=subprocess.PIPE)
    line = p.stdout.readline().decode()
    assert line.startswith("listening on "), line
    return p, int(line.split()[-1])


def lines_of(sock, n):
    buf = b""
    while buf.count(b"\n") < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf.decode().splitlines()


# echo
p, port = start("async_echo")
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"hello\n")
    check(s.recv(100) == b"hello\n", "echo: small")
    big = bytes(range(256)) * 4096
    s.sendall(big)  # server buffers while we are not reading yet (flow control path)
    got = b""
    while len(got) < len(big):
        got += s.recv(65536)
    check(got == big, "echo: 1 MB unchanged")
    s.close()
finally:
    p.kill()
    p.wait()

# timer
r = subprocess.run([os.path.join(d, "async_timer"), "5", "20"], capture_output=True, timeout=30)
out = r.stdout.decode().splitlines()
check(r.returncode == 0 and out == [f"tick {i}" for i in range(1, 6)] + ["done 5"], f"timer: {out}")
p = subprocess.Popen([os.path.join(d, "async_timer"), "1000", "100"], stdout=subprocess.PIPE)
time.sleep(0.5)
p.send_signal(signal.SIGINT)
out = p.communicate(timeout=10)[0].decode().splitlines()
check(p.returncode == 1 and out and out[-1].startswith("interrupted "), f"timer SIGINT: {out}")
r = subprocess.run([os.path.join(d, "async_timer"), "x"], capture_output=True, timeout=10)
check(r.returncode != 0 and b"usage" in r.stderr, "timer: bad arguments rejected")

# kv
p, port = start("async_kv")
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"SET a 1\r\nSET b two words\nGET a\nGET b\nDEL a\nGET a\nDEL a\nBOGUS\n")
    got = lines_of(s, 8)
    check(got == ["OK", "OK", "VALUE 1", "VALUE two words", "OK", "NOTFOUND", "NOTFOUND",
                  "ERR unknown command"], f"kv: {got}")
    s2 = socket.create_connection(("127.0.0.1", port), timeout=10)
    s2.sendall(b"GET b\nQUIT\n")
    check(lines_of(s2, 1) == ["VALUE two words"], "kv: shared store")
    check(s2.recv(10) == b"", "kv: QUIT closes")
    s.close()
    s2.close()
finally:
    p.kill()
    p.wait()


# hashd: the same answers colored and not; colored serves connections in parallel
def hashd_run(colored, conns=4, per=5):
    args = ["--rounds", "20000"] + (["--colored"] if colored else [])
    p, port = start("async_hashd", *args)
    try:
        socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(conns)]
        for i, s in enumerate(socks):
            s.sendall(b"".join(b"line %d of %d\n" % (j, i) for j in range(per)))
        return [lines_of(s, per) for s in socks]
    finally:
        p.kill()
        p.wait()


plain = hashd_run(False)
colored = hashd_run(True)
check(plain == colored, "hashd: colored replies equal uncolored, in order")
check(all(len(x) == 5 and all(len(h) == 16 for h in x) for x in plain), f"hashd: {plain}")
check(len({h for x in plain for h in x}) == 20, "hashd: distinct lines hash differently")

print("async apps:", "FAILED" if failures else "ok", failures)
sys.exit(1 if failures else 0)
