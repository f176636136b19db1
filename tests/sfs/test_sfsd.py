#!/usr/bin/python3
"""hue-sfsd as a program, from outside.

    test_sfsd.py dissononce BINDIR   a file read from hue-sfsd by a client built on Debian's
                                     python3-dissononce (noise_peer.py for §1-§3, the request
                                     layer of docs/sfs-protocol.md §4 written here from the doc):
                                     ROOT, LOOKUP, GETATTR, DIGEST, READDIR, pipelined READs
                                     answered out of order, an escape refused, a malformed
                                     request answered by id; then SIGTERM: exit 0, statistics.
                                     Then the documented limits from outside: --rekey-frames 3,
                                     READ eof and huge offsets, a 4,097-byte path, the idle and
                                     shutdown closes with their reasons.
    test_sfsd.py cli BINDIR          hue-sfsd --keygen (mode 0600), hue-sfs ls/stat/cat/get and
                                     their exit codes (not found 6, wrong HOSTID 4/5, key not on
                                     the allow-list 5), hue-multio --json, SIGUSR1, SIGTERM,
                                     --rekey-frames on both ends (and a mismatch: exit 5).
    test_sfsd.py descriptors BINDIR  hue-sfsd under a descriptor limit of 256 (prlimit): one
                                     client looks up 600 distinct files and all 600 answer and
                                     read back (before the descriptor cache, 240 answered and
                                     360 were io_error "Too many open files"); another client
                                     works meanwhile and after it leaves; a replaced file's
                                     handle is stale_handle; --metrics answers and its counters
                                     move; SIGUSR1 prints them; a non-loopback --metrics is
                                     refused.
    test_sfsd.py quotas BINDIR       --max-handles-per-client and --max-requests-per-client:
                                     too_many_handles and too_many_requests for the client over
                                     its quota while another client is served, and its handles
                                     released when it leaves; in both colorings. /metrics is
                                     read with Prometheus' reference parser.

Run with Debian's /usr/bin/python3. Exit status 0 when every check passed.
"""

import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noise_peer  # noqa: E402

OP_ROOT, OP_LOOKUP, OP_GETATTR, OP_READDIR, OP_READ, OP_DIGEST = 1, 2, 3, 4, 5, 6
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def start_server(bindir, tmp, extra=(), nofile=None):
    key = os.path.join(tmp, "server.key")
    if not os.path.exists(key):
        subprocess.run([os.path.join(bindir, "hue-sfsd"), "--keygen", key], check=True, stdout=subprocess.DEVNULL)
    err = open(os.path.join(tmp, "server.err"), "w+")
    limit = None
    if nofile is not None:  # as `prlimit --nofile=N:N`: soft and hard, so raising it is no way out
        import resource
        limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))  # noqa: E731
    p = subprocess.Popen([os.path.join(bindir, "hue-sfsd"), "--key", key, "--export", os.path.join(tmp, "export"),
                          "--port", "0", "--workers", "2"] + list(extra),
                         stdout=subprocess.PIPE, stderr=err, text=True, preexec_fn=limit)
    line = p.stdout.readline()
    start_server.line = line
    name = line.split(" as ")[1].split(" ")[0]
    return p, name, err


def stop_server(p, err):
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=20)
    err.seek(0)
    return rc, err.read()


def make_tree(tmp):
    os.makedirs(os.path.join(tmp, "export", "sub"))
    data = os.urandom(1_000_003)
    with open(os.path.join(tmp, "export", "sub", "data.bin"), "wb") as f:
        f.write(data)
    with open(os.path.join(tmp, "export", "hello.txt"), "w") as f:
        f.write("hello, sfs\n")
    os.symlink("/etc/passwd", os.path.join(tmp, "export", "passwd_link"))
    return data


# ---- the request layer (docs/sfs-protocol.md §4), written from the document ----

def req(op, rid, handle=b"", body=b""):
    return struct.pack(">BI", op, rid) + handle + body


def parse_reply_header(m):
    rid, status = struct.unpack(">IB", m[:5])
    return rid, status, m[5:]


def parse_attr(b):
    t, mode, size, mtime = struct.unpack(">BIQQ", b[:21])
    return {"type": t, "mode": mode, "size": size, "mtime_ns": mtime}, b[21:]


def call(ch, op, rid, handle=b"", body=b""):
    ch.send(req(op, rid, handle, body))
    r = ch.recv()
    got, status, rest = parse_reply_header(r)
    assert got == rid, "reply id %d for request %d" % (got, rid)
    return status, rest


def dissononce(bindir):
    with tempfile.TemporaryDirectory(prefix="hue-sfs-py-") as tmp:
        data = make_tree(tmp)
        p, name, err = start_server(bindir, tmp)
        host, port, _ = noise_peer.parse_name(name)
        sock = socket.create_connection((host, port))
        ch = noise_peer.connect(noise_peer.SocketStream(sock), name)
        status, rest = call(ch, OP_ROOT, 1)
        check(status == 0 and len(rest) == 16 + 21, "ROOT answers a handle and attributes")
        root = rest[:16]
        status, rest = call(ch, OP_LOOKUP, 2, root, struct.pack(">H", len(b"sub/data.bin")) + b"sub/data.bin")
        check(status == 0, "LOOKUP sub/data.bin")
        fh = rest[:16]
        attr, _ = parse_attr(rest[16:])
        check(attr["type"] == 1 and attr["size"] == len(data), "attributes: a regular file of the right size")
        status, rest = call(ch, OP_GETATTR, 3, fh)
        check(status == 0 and parse_attr(rest)[0]["size"] == len(data), "GETATTR")
        status, rest = call(ch, OP_DIGEST, 4, fh)
        size, = struct.unpack(">Q", rest[:8])
        check(status == 0 and size == len(data) and rest[8:40] == hashlib.sha256(data).digest(), "DIGEST is SHA-256")
        status, rest = call(ch, OP_READDIR, 5, root, struct.pack(">QH", 0, 100))
        cookie, n = struct.unpack(">QH", rest[:10])
        names, off = [], 10
        for _ in range(n):
            t, ln = rest[off], rest[off + 1]
            names.append(rest[off + 2:off + 2 + ln].decode())
            off += 2 + ln
        check(status == 0 and cookie == 0 and names == ["hello.txt", "passwd_link", "sub"], "READDIR: %s" % names)
        # All READs sent before any reply is read: replies matched by id, in any order.
        block, blocks = 65536, (len(data) + 65535) // 65536
        for i in range(blocks):
            ch.send(req(OP_READ, 100 + i, fh, struct.pack(">QI", i * block, block)))
        got = {}
        for _ in range(blocks):
            rid, status, rest = parse_reply_header(ch.recv())
            eof = rest[0]
            ln, = struct.unpack(">I", rest[1:5])
            got[rid] = rest[5:5 + ln]
            if status != 0 or len(got[rid]) != ln or eof not in (0, 1):
                check(False, "READ %d: status %d" % (rid, status))
        read = b"".join(got[100 + i] for i in range(blocks))
        check(read == data, "pipelined READs give back the file (%d blocks)" % blocks)
        status, rest = call(ch, OP_LOOKUP, 6, root, struct.pack(">H", 2) + b"..")
        check(status == 7, "'..' refused as a bad name (status %d)" % status)
        status, rest = call(ch, OP_LOOKUP, 7, root, struct.pack(">H", 11) + b"passwd_link")
        check(status == 6, "symlink refused (status %d: %s)" % (status, rest[2:].decode(errors="replace")))
        ch.send(struct.pack(">BI", 99, 8))
        rid, status, rest = parse_reply_header(ch.recv())
        check(rid == 8 and status == 1, "unknown op answered bad_request by id")
        ch.close()
        check(ch.recv() is None and ch.close_reason == noise_peer.CLOSE_DONE,
              "the server's authenticated close follows ours (reason done)")
        sock.close()
        rc, log = stop_server(p, err)
        check(rc == 0, "SIGTERM: exit 0")
        check("sfs: accepted 1 established 1" in log, "statistics at exit")
        limits(bindir, tmp, len(data))


def limits(bindir, tmp, size):
    """Documented limits seen from outside: REKEY every 3 frames (--rekey-frames), READ at huge
    offsets and eof exactly at the end, a 4,097-byte path, the idle close with its reason, and
    the shutdown close with its reason."""
    p, name, err = start_server(bindir, tmp, ["--rekey-frames", "3", "--idle-timeout", "400",
                                              "--handshake-timeout", "20000"])
    host, port, _ = noise_peer.parse_name(name)
    sock = socket.create_connection((host, port))
    ch = noise_peer.connect(noise_peer.SocketStream(sock), name, rekey_interval=3)
    status, rest = call(ch, OP_ROOT, 1)
    root = rest[:16]
    status, rest = call(ch, OP_LOOKUP, 2, root, struct.pack(">H", 12) + b"sub/data.bin")
    fh = rest[:16]
    for i in range(10):  # 12 frames each way at least: REKEY crossed four times per direction
        status, rest = call(ch, OP_GETATTR, 10 + i, fh)
    check(status == 0 and ch.sent >= 12 and ch.received >= 12, "a session across REKEYs (--rekey-frames 3)")
    last = size - size % 65536 if size % 65536 else size - 65536
    for rid, off, want_len, what in ((30, last, size - last, "the last block"),
                                     (31, size - 65536, 65536, "a full READ ending exactly at the end"),
                                     (32, 1 << 63, 0, "offset 2^63"),
                                     (33, (1 << 64) - 1, 0, "offset 2^64 - 1"),
                                     (34, (1 << 64) - 10, 0, "offset 2^64 - 10")):
        status, rest = call(ch, OP_READ, rid, fh, struct.pack(">QI", off, 65536))
        eof, ln = (rest[0], struct.unpack(">I", rest[1:5])[0]) if status == 0 else (None, None)
        check(status == 0 and eof == 1 and ln == want_len, "READ %s: status 0, eof 1, %d bytes (status %d)"
              % (what, want_len, status))
    status, _ = call(ch, OP_LOOKUP, 40, root, struct.pack(">H", 4097) + b"a" * 4097)
    check(status == 7, "a 4,097-byte path is bad_name (status %d)" % status)
    start = time.monotonic()
    check(ch.recv() is None and ch.close_reason == noise_peer.CLOSE_IDLE,
          "idle: the server's authenticated close, reason idle (%r)" % ch.close_reason)
    check(time.monotonic() - start < 15, "the idle time-out is not the handshake's")
    sock.close()
    # Shutdown: the close follows, with its reason.
    sock = socket.create_connection((host, port))
    ch = noise_peer.connect(noise_peer.SocketStream(sock), name, rekey_interval=3)
    call(ch, OP_ROOT, 1)
    p.send_signal(signal.SIGTERM)
    check(ch.recv() is None and ch.close_reason == noise_peer.CLOSE_SHUTDOWN,
          "SIGTERM: the server's authenticated close, reason shutdown (%r)" % ch.close_reason)
    sock.close()
    rc = p.wait(timeout=20)
    err.close()
    check(rc == 0, "SIGTERM: exit 0")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, **kw)


def cli(bindir):
    sfs, multio, sfsd = (os.path.join(bindir, b) for b in ("hue-sfs", "hue-multio", "hue-sfsd"))
    with tempfile.TemporaryDirectory(prefix="hue-sfs-cli-") as tmp:
        data = make_tree(tmp)
        key = os.path.join(tmp, "server.key")
        r = run([sfsd, "--keygen", key])
        check(r.returncode == 0 and (os.stat(key).st_mode & 0o777) == 0o600, "--keygen writes a 0600 key file")
        check(run([sfsd, "--keygen", key]).returncode == 1, "--keygen refuses to overwrite")
        check(run([sfsd, "--help"]).returncode == 0, "--help")
        check(run([sfsd, "--export", tmp]).returncode == 2, "--export without --key is a usage error")
        r = run([sfsd, "--key", key, "--export", tmp, "--port", "80x"], text=True)
        check(r.returncode == 2 and "--port: '80x'" in r.stderr, "a malformed number names its option")
        r = run([sfsd, "--key", key, "--export", tmp, "--rekey-frames", "0"], text=True)
        check(r.returncode == 2 and "--rekey-frames" in r.stderr, "--rekey-frames 0 is a usage error")
        r = run([sfsd, "--coloring", "rainbow"], text=True)
        check(r.returncode == 2 and "--coloring" in r.stderr, "an unknown coloring is a usage error")
        r = run([sfsd, "--steal", "sideways"], text=True)
        check(r.returncode == 2 and "--steal" in r.stderr, "--steal checked as hue-sws checks it")
        r = run([multio, "x", "y", "--clients", "2x"], text=True)
        check(r.returncode == 2 and "--clients" in r.stderr, "hue-multio: strict numbers")
        r = run([multio, "x", "y", "--duration", "1", "--bytes", "5"], text=True)
        check(r.returncode == 2, "hue-multio: --duration excludes --bytes")
        r = run([sfs, "ls", "not-a-name", "/"], text=True)
        check(r.returncode == 2 and "bad name" in r.stderr, "hue-sfs: a malformed name is a usage error")
        check(run([sfs, "--help"]).returncode == 0 and run([multio, "--help"]).returncode == 0, "--help (clients)")
        ck = os.path.join(tmp, "client.key")
        pub = run([sfs, "--keygen", ck], text=True).stdout.strip()
        allow = os.path.join(tmp, "allow")
        with open(allow, "w") as f:
            f.write("# the one client allowed\n" + pub + "\n")
        p, name, err = start_server(bindir, tmp)
        r = run([sfs, "ls", name, "/"], text=True)
        check(r.returncode == 0 and r.stdout.split() == ["hello.txt", "passwd_link", "sub/"], "ls /")
        r = run([sfs, "stat", name, "sub/data.bin"], text=True)
        check(r.returncode == 0 and "%d bytes" % len(data) in r.stdout, "stat")
        r = run([sfs, "cat", name, "hello.txt"])
        check(r.returncode == 0 and r.stdout == b"hello, sfs\n", "cat")
        out = os.path.join(tmp, "got.bin")
        r = run([sfs, "get", name, "sub/data.bin", "-o", out])
        check(r.returncode == 0 and open(out, "rb").read() == data and b"SHA-256 verified" in r.stderr, "get verified")
        r = run([sfs, "cat", name, "nope"])
        check(r.returncode == 6 and b"not found" in r.stderr, "missing file: exit 6")
        r = run([sfs, "cat", name, "passwd_link"])
        check(r.returncode == 6 and b"symbolic link" in r.stderr, "symlink: exit 6")
        h, port, hid = noise_peer.parse_name(name)
        wrong = "%s:%d:%s" % (h, port, noise_peer.host_id(h, port, os.urandom(32)))
        r = run([sfs, "ls", wrong, "/"])
        check(r.returncode == 4 or (r.returncode == 5 and b"nothing identifying this client was sent" in r.stderr),
              "wrong HOSTID: exit %d" % r.returncode)
        r = run([multio, name, "sub/data.bin", "--clients", "3", "--json"], text=True)
        j = json.loads(r.stdout) if r.returncode == 0 else {}
        check(j.get("content_ok") is True and j.get("passes_verified") == 3 and len(j.get("per_client_MBps", [])) == 3
              and j["latency_us"]["p99"] > 0, "hue-multio --json: %s" % r.stdout.strip()[:200])
        p.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        rc, log = stop_server(p, err)
        check(rc == 0 and log.count("sfs: accepted") == 2, "SIGUSR1 and exit statistics")
        os.remove(os.path.join(tmp, "server.err"))
        p, name, err = start_server(bindir, tmp, ["--allow-keys", allow])
        r = run([sfs, "ls", name, "/"])
        check(r.returncode == 5, "a key not on the allow-list: exit 5 (%s)" % r.stderr.decode().strip())
        r = run([sfs, "--key", ck, "ls", name, "/"])
        check(r.returncode == 0, "the allowed key is served")
        rc, log = stop_server(p, err)
        check(rc == 0 and "refused 1" in log, "one refusal counted")
        os.remove(os.path.join(tmp, "server.err"))
        p, name, err = start_server(bindir, tmp, ["--rekey-frames", "3"])
        r = run([sfs, "--rekey-frames", "3", "get", name, "sub/data.bin", "-o", out])
        check(r.returncode == 0 and open(out, "rb").read() == data,
              "get across REKEYs every 3 frames (--rekey-frames on both ends)")
        r = run([sfs, "get", name, "sub/data.bin", "-o", out])
        check(r.returncode == 5, "a client on the default interval fails past 3 frames (exit %d)" % r.returncode)
        rc, log = stop_server(p, err)
        check(rc == 0, "SIGTERM: exit 0")


# ---- descriptors, quotas and metrics ----

OK, NOT_FOUND, TOO_MANY_HANDLES, TOO_MANY_REQUESTS, STALE_HANDLE = 0, 3, 11, 12, 13


class Session:
    """One client connection with the helpers the descriptor and quota checks need."""

    def __init__(self, name):
        host, port, _ = noise_peer.parse_name(name)
        self.sock = socket.create_connection((host, port))
        self.ch = noise_peer.connect(noise_peer.SocketStream(self.sock), name)
        self.rid = 0
        status, rest = self.call(OP_ROOT)
        assert status == 0
        self.root = rest[:16]

    def call(self, op, handle=b"", body=b""):
        self.rid += 1
        return call(self.ch, op, self.rid, handle, body)

    def lookup(self, path):
        p = path.encode()
        status, rest = self.call(OP_LOOKUP, self.root, struct.pack(">H", len(p)) + p)
        return status, rest[:16] if status == 0 else rest

    def read(self, fh, length=65536):
        status, rest = self.call(OP_READ, fh, struct.pack(">QI", 0, length))
        if status != 0:
            return status, rest
        ln, = struct.unpack(">I", rest[1:5])
        return status, rest[5:5 + ln]

    def pipelined(self, messages):
        """Sends every message in one write (so the server decodes them together) and returns
        the replies' statuses by id."""
        parts, real = [], self.ch.io.stream

        class Collect:
            def write(self, d):
                parts.append(d)

            def read(self, n):
                return real.read(n)
        self.ch.io.stream = Collect()
        ids = []
        for op, handle, body in messages:
            self.rid += 1
            ids.append(self.rid)
            self.ch.send(req(op, self.rid, handle, body))
        self.ch.io.stream = real
        self.sock.sendall(b"".join(parts))
        got = {}
        for _ in ids:
            rid, status, _rest = parse_reply_header(self.ch.recv())
            got[rid] = status
        return [got.get(i) for i in ids]

    def leave(self):
        self.ch.close()
        self.ch.recv()
        self.sock.close()


def scrape(port):
    """The exposition, read with Prometheus' reference parser (Debian's python3-prometheus-client,
    which scripts/bootstrap.sh installs): {sample name: value}."""
    import urllib.request
    from prometheus_client.parser import text_string_to_metric_families
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        ctype, text = r.headers.get("Content-Type"), r.read().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[sample.name] = int(sample.value)
    return ctype, values


def metrics_port():
    return int(start_server.line.split("metrics on port ")[1].split(")")[0])


def descriptors(bindir):
    with tempfile.TemporaryDirectory(prefix="hue-sfs-fd-") as tmp:
        make_tree(tmp)
        files = ["f%03d" % i for i in range(600)]
        for f in files:
            with open(os.path.join(tmp, "export", f), "w") as out:
                out.write("content of %s\n" % f)
        p, name, err = start_server(bindir, tmp, ["--metrics", "127.0.0.1:0"], nofile=256)
        check("descriptor limit 256, 128 kept open for files, 64 clients at most" in start_server.line,
              "the start-up line reports the limit, the cache and the clients that fit: %s" % start_server.line.strip())
        port = metrics_port()
        a = Session(name)
        statuses, handles = [], {}
        for f in files:
            status, fh = a.lookup(f)
            statuses.append(status)
            handles[f] = fh
        check(statuses.count(0) == 600, "ulimit -n 256: all 600 LOOKUPs answered (%d ok, %d not: %s)"
              % (statuses.count(0), 600 - statuses.count(0), sorted(set(statuses))))
        reads = [a.read(handles[f]) for f in files]
        check(all(st == 0 and data == ("content of %s\n" % f).encode() for (st, data), f in zip(reads, files)),
              "and all 600 read back through at most the cache's descriptors")
        # A client arriving while the first one holds 600 handles is served.
        b = Session(name)
        status, fh = b.lookup("sub/data.bin")
        st2, data = b.read(fh, 100) if status == 0 else (status, b"")
        check(status == 0 and st2 == 0 and len(data) == 100, "a second client is served meanwhile")
        b.leave()
        # f000 was evicted from the cache long ago: replaced by another inode, its handle is stale.
        victim = os.path.join(tmp, "export", "f000")
        with open(victim + ".new", "w") as out:
            out.write("replaced\n")
        os.rename(victim + ".new", victim)
        st, _ = a.read(handles["f000"])
        check(st == STALE_HANDLE, "a replaced file's handle: stale_handle (status %s)" % st)
        status, fh = a.lookup("f000")
        st2, data = a.read(fh) if status == 0 else (status, b"")
        check(status == 0 and fh != handles["f000"] and data == b"replaced\n",
              "a new LOOKUP of the path gets a new handle and the new file")
        ctype, m = scrape(port)
        check(ctype.startswith("text/plain; version=0.0.4"), "/metrics: Prometheus' content type (%s)" % ctype)
        check(m.get("sfs_descriptor_cache_evictions_total", 0) > 0 and m.get("sfs_descriptor_cache_misses_total", 0) > 0
              and m.get("sfs_descriptor_cache_hits_total", 0) > 0,
              "/metrics: the cache's hits, misses and evictions (%s)"
              % {k: v for k, v in m.items() if "descriptor" in k})
        check(m.get("sfs_stale_handles_total") == 1 and m.get("sfs_descriptor_cache_capacity", 999) <= 128,
              "/metrics: one stale handle, the cache within half the limit")
        for k in ("sfs_shed_total", "sfs_evicted_handles_total", "sfs_handle_quota_refusals_total",
                  "sfs_request_quota_refusals_total", "sfs_idle_timeouts_total", "sfs_handshake_timeouts_total",
                  "sfs_evicted_handshakes_total"):
            check(k in m, "/metrics has %s" % k)
        handles_before = m.get("sfs_handles", 0)
        a.leave()
        # After it leaves: its handles go, and a new client looks up and reads files never opened.
        for i in range(50):
            with open(os.path.join(tmp, "export", "g%02d" % i), "w") as out:
                out.write("new %d\n" % i)
        c = Session(name)
        ok = 0
        for i in range(50):
            status, fh = c.lookup("g%02d" % i)
            if status == 0 and c.read(fh) == (0, ("new %d\n" % i).encode()):
                ok += 1
        check(ok == 50, "after the first client left, a new client reads 50 new files (%d ok)" % ok)
        c.leave()
        time.sleep(0.2)
        _, m2 = scrape(port)
        check(m2.get("sfs_handles", 1 << 30) < handles_before and m2.get("sfs_released_handles_total", 0) >= 600,
              "the first client's handles were released (%s -> %s handles, %s released)"
              % (handles_before, m2.get("sfs_handles"), m2.get("sfs_released_handles_total")))
        check(m2["sfs_requests_total"] > m["sfs_requests_total"], "the counters move between scrapes")
        try:
            import urllib.request
            urllib.request.urlopen("http://127.0.0.1:%d/other" % port, timeout=10)
            check(False, "/other is 404")
        except urllib.error.HTTPError as e:
            check(e.code == 404, "/other is 404 (%d)" % e.code)
        # Clients past what the sockets' half of the limit fits (64 here) wait in the backlog
        # rather than being accepted and shed, and are served as soon as one leaves.
        import threading
        many = [Session(name) for _ in range(64)]
        late = {}

        def arrive():
            try:
                late["session"] = Session(name)
            except Exception as e:  # noqa: BLE001 - reported by the check below
                late["error"] = e
        t = threading.Thread(target=arrive, daemon=True)
        t.start()
        t.join(0.5)
        check(t.is_alive(), "the 65th client waits while 64 are connected")
        many.pop().leave()
        t.join(10)
        check("session" in late and late["session"].lookup("hello.txt")[0] == 0,
              "and is served once one leaves (%r)" % late.get("error"))
        for sess in many + [late.get("session")]:
            if sess:
                sess.leave()
        _, m3 = scrape(port)
        check(m3.get("sfs_shed_total") == 0, "no connection was shed (%s)" % m3.get("sfs_shed_total"))
        p.send_signal(signal.SIGUSR1)
        time.sleep(0.5)
        err.seek(0)
        usr1 = err.read()
        check("descriptor-cache-hits" in usr1 and "stale-handles 1" in usr1 and "shed 0" in usr1,
              "SIGUSR1 prints the statistics line with the cache's counters")
        rc, log = stop_server(p, err)
        check(rc == 0 and log.count("descriptor-cache-evictions") == 2, "exit statistics too")
        r = run([os.path.join(bindir, "hue-sfsd"), "--key", os.path.join(tmp, "server.key"), "--export", tmp,
                 "--metrics", "192.0.2.1:9464"], text=True)
        check(r.returncode == 2 and "not a loopback address" in r.stderr,
              "--metrics on a non-loopback address is refused: %s" % r.stderr.strip())
        r = run([os.path.join(bindir, "hue-sfsd"), "--key", os.path.join(tmp, "server.key"), "--export", tmp,
                 "--metrics", "localhost"], text=True)
        check(r.returncode == 2 and "ADDRESS:PORT" in r.stderr, "--metrics without a port is a usage error")


def quotas(bindir):
    for coloring in ("per-connection", "paper"):
        print("-- %s coloring" % coloring)
        quotas_with(bindir, coloring)


def quotas_with(bindir, coloring):
    with tempfile.TemporaryDirectory(prefix="hue-sfs-quota-") as tmp:
        make_tree(tmp)
        for i in range(8):
            with open(os.path.join(tmp, "export", "q%d" % i), "w") as out:
                out.write("q%d\n" % i)
        p, name, err = start_server(bindir, tmp, ["--max-handles-per-client", "5", "--max-requests-per-client", "4",
                                                  "--metrics", "127.0.0.1:0", "--coloring", coloring])
        port = metrics_port()
        greedy, other = Session(name), Session(name)
        got = [greedy.lookup("q%d" % i)[0] for i in range(6)]
        check(got == [0] * 5 + [TOO_MANY_HANDLES], "the 6th handle is too_many_handles (%s)" % got)
        check(greedy.lookup("q0")[0] == 0, "a handle it already holds is still looked up")
        status, fh = greedy.lookup("q1")
        many = greedy.pipelined([(OP_GETATTR, fh, b"")] * 200)
        check(set(many) <= {0, TOO_MANY_REQUESTS} and many.count(TOO_MANY_REQUESTS) > 0 and many.count(0) >= 4,
              "200 pipelined requests: all answered, %d too_many_requests" % many.count(TOO_MANY_REQUESTS))
        got = [other.lookup("q%d" % i)[0] for i in range(5)]
        status, fh = other.lookup("q4")
        check(got == [0] * 5 and other.read(fh) == (0, b"q4\n"), "the other client is served meanwhile")
        _, m = scrape(port)
        check(m.get("sfs_handle_quota_refusals_total") == 1 and m.get("sfs_request_quota_refusals_total", 0) > 0,
              "/metrics counts both refusals")
        greedy.leave()
        time.sleep(0.2)
        g2 = Session(name)
        got = [g2.lookup("q%d" % i)[0] for i in range(3, 8)]
        check(got == [0] * 5, "a new client gets its own quota (%s)" % got)
        g2.leave()
        other.leave()
        rc, log = stop_server(p, err)
        check(rc == 0 and "handle-quota-refusals 1" in log, "the quota refusals in the exit statistics")


def main():
    mode, bindir = sys.argv[1], sys.argv[2]
    {"dissononce": dissononce, "cli": cli, "descriptors": descriptors, "quotas": quotas}[mode](bindir)
    if failures:
        print("%d checks failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
