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


def start_server(bindir, tmp, extra=()):
    key = os.path.join(tmp, "server.key")
    if not os.path.exists(key):
        subprocess.run([os.path.join(bindir, "hue-sfsd"), "--keygen", key], check=True, stdout=subprocess.DEVNULL)
    err = open(os.path.join(tmp, "server.err"), "w+")
    p = subprocess.Popen([os.path.join(bindir, "hue-sfsd"), "--key", key, "--export", os.path.join(tmp, "export"),
                          "--port", "0", "--workers", "2"] + list(extra),
                         stdout=subprocess.PIPE, stderr=err, text=True)
    line = p.stdout.readline()
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


def main():
    mode, bindir = sys.argv[1], sys.argv[2]
    {"dissononce": dissononce, "cli": cli}[mode](bindir)
    if failures:
        print("%d checks failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
