#!/usr/bin/python3
"""Writes the named seeds of fuzz/corpus/sfs_handshake (rewrites only these files).

Each seed is one flags byte and then the bytes one end of a connection sends
(fuzz_sfs_handshake.cpp describes the layout). The valid handshakes are made here with
Debian's python3-dissononce (through tests/sfs/noise_peer.py), not with hue's code, using the
fuzz target's fixed keys: secret scalars of 32 x 0x01 (server static), 0x02 (server ephemeral),
0x03 (client static), 0x04 (client ephemeral), transport REKEY every 2 frames.
Run with Debian's /usr/bin/python3.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "sfs"))
import noise_peer as np  # noqa: E402
from dissononce.dh.x25519.private import PrivateKey  # noqa: E402
from dissononce.dh.x25519.x25519 import X25519DH  # noqa: E402

SERVER_S, SERVER_E, CLIENT_S, CLIENT_E = (bytes([b]) * 32 for b in (1, 2, 3, 4))
REKEY = 2

SERVER, CLIENT = 0, 1
WHOLE, BYTES, TINY, LARGE = 0, 1 << 1, 2 << 1, 3 << 1
ALLOW_CLIENT, ALLOW_NONE = 1 << 3, 1 << 4


def kp(secret):
    return X25519DH().generate_keypair(PrivateKey(secret))


def frame(body):
    return struct.pack(">I", len(body)) + body


def flip(data, index, bit=0):
    b = bytearray(data)
    b[index] ^= 1 << bit
    return bytes(b)


def session(server_static=SERVER_S, name=None):
    """A whole handshake between dissononce ends with the fuzz keys. Returns the pieces."""
    srv = kp(server_static)
    name = name or np.format_name("127.0.0.1", 4433, np.host_id("127.0.0.1", 4433, srv.public.data))
    hello = np.make_hello(name)
    ini = np.new_handshake(True, hello, kp(CLIENT_S), CLIENT_E)
    res = np.new_handshake(False, hello, srv, SERVER_E)
    m1 = bytearray()
    ini.write_message(b"", m1)
    res.read_message(bytes(m1), bytearray())
    m2 = bytearray()
    res.write_message(b"", m2)
    ini.read_message(bytes(m2), bytearray())
    m3 = bytearray()
    c1, c2 = ini.write_message(b"", m3)
    r1, r2 = res.read_message(bytes(m3), bytearray())
    to_server = np.BufferStream()
    to_client = np.BufferStream()
    client_ch = np.Channel(np.FrameIO(to_server), c1, c2, REKEY)
    server_ch = np.Channel(np.FrameIO(to_client), r2, r1, REKEY)
    return dict(hello=hello, m1=bytes(m1), m2=bytes(m2), m3=bytes(m3),
                client=client_ch, server=server_ch, to_server=to_server, to_client=to_client)


def client_stream(messages, close=True):
    s = session()
    for m in messages:
        s["client"].send(m)
    if close:
        s["client"].close()
    hs = frame(s["hello"]) + frame(s["m1"]) + frame(s["m3"])
    return hs, bytes(s["to_server"].out)


def server_stream(messages, close=True, **kw):
    s = session(**kw)
    for m in messages:
        s["server"].send(m)
    if close:
        s["server"].close()
    return frame(s["m2"]), bytes(s["to_client"].out)


def main():
    out_dir = os.path.join(HERE, "corpus", "sfs_handshake")
    os.makedirs(out_dir, exist_ok=True)
    msgs = [b"LOOKUP /", b"", b"x" * 1000, b"READ 0 65536"]
    hs, tr = client_stream(msgs)
    hs_only, _ = client_stream([], close=False)
    s = session()
    other_name = np.format_name("127.0.0.1", 4433, np.host_id("127.0.0.1", 4433, b"\x09" * 32))
    frames = []
    rest = tr
    while rest:
        (n,) = struct.unpack(">I", rest[:4])
        frames.append(rest[:4 + n])
        rest = rest[4 + n:]
    m2, str_ = server_stream(msgs)
    m2_impostor, _ = server_stream([], server_static=b"\x07" * 32,
                                   name=np.format_name("127.0.0.1", 4433,
                                                       np.host_id("127.0.0.1", 4433,
                                                                  kp(SERVER_S).public.data)))
    seeds = {
        # the server under test
        "server-handshake-only": (SERVER | WHOLE, hs_only),
        "server-session-closed": (SERVER | WHOLE, hs + tr),
        "server-session-byte-by-byte": (SERVER | BYTES, hs + tr),
        "server-session-tiny-pieces": (SERVER | TINY, hs + tr),
        "server-session-large-pieces": (SERVER | LARGE, hs + tr),
        "server-allow-list-admits": (SERVER | ALLOW_CLIENT | TINY, hs + tr),
        "server-allow-list-refuses": (SERVER | ALLOW_NONE, hs + tr),
        "server-no-close-truncated": (SERVER | WHOLE, hs + b"".join(frames[:-1])),
        "server-cut-frame": (SERVER | TINY, hs + tr[:-3]),
        "server-replayed-frame": (SERVER | WHOLE, hs + frames[0] + frames[0]),
        "server-reordered-frames": (SERVER | WHOLE, hs + frames[1] + frames[0]),
        "server-dropped-frame": (SERVER | WHOLE, hs + frames[0] + frames[2]),
        "server-flipped-length": (SERVER | WHOLE, hs + flip(frames[0], 3)),
        "server-flipped-ciphertext": (SERVER | WHOLE, hs + flip(frames[0], 6)),
        "server-flipped-tag": (SERVER | WHOLE, hs + flip(frames[0], len(frames[0]) - 1, 7)),
        "server-data-after-close": (SERVER | WHOLE, hs + tr + b"\0"),
        "server-length-ffffffff-first": (SERVER | WHOLE, b"\xff\xff\xff\xff"),
        "server-length-ffffffff-transport": (SERVER | WHOLE, hs + b"\xff\xff\xff\xff"),
        "server-hello-other-name": (SERVER | WHOLE, frame(np.make_hello(other_name)) + frame(s["m1"])),
        "server-hello-version-2": (SERVER | WHOLE, frame(flip(s["hello"], 7, 1)) + frame(s["m1"])),
        "server-hello-bad-magic": (SERVER | WHOLE, frame(b"SSH-2.0-OpenSSH_9.2\r\n")),
        "server-m1-short": (SERVER | WHOLE, frame(s["hello"]) + frame(s["m1"][:31])),
        "server-m1-zero-key": (SERVER | WHOLE, frame(s["hello"]) + frame(bytes(32))),
        "server-m1-low-order-key": (SERVER | WHOLE, frame(s["hello"]) + frame(
            bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"))),
        "server-m3-flipped": (SERVER | WHOLE, frame(s["hello"]) + frame(s["m1"]) +
                              frame(flip(s["m3"], 10))),
        "server-m1-replayed-as-m3": (SERVER | WHOLE, frame(s["hello"]) + frame(s["m1"]) +
                                     frame(s["m1"])),
        # the client under test
        "client-session-closed": (CLIENT | WHOLE, m2 + str_),
        "client-session-tiny-pieces": (CLIENT | TINY, m2 + str_),
        "client-session-byte-by-byte": (CLIENT | BYTES, m2 + str_),
        "client-impostor-key": (CLIENT | WHOLE, m2_impostor),
        "client-m2-flipped-static": (CLIENT | WHOLE, flip(m2, 4 + 40)),
        "client-m2-zero-ephemeral": (CLIENT | WHOLE, frame(bytes(96))),
        "client-m2-short": (CLIENT | WHOLE, frame(bytes(95))),
        "client-length-ffffffff": (CLIENT | WHOLE, b"\xff\xff\xff\xff"),
        "client-no-close-truncated": (CLIENT | LARGE, m2 + str_[:-21]),
    }
    for name, (flags, data) in seeds.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(bytes([flags]) + data)
    print("wrote %d seeds to %s" % (len(seeds), out_dir))


if __name__ == "__main__":
    main()
