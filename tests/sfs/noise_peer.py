#!/usr/bin/python3
"""An independent peer for hue's SFS secure channel, on Debian's python3-dissononce.

It speaks docs/sfs-protocol.md §1-§3 with dissononce's Noise_XX_25519_ChaChaPoly_SHA256 (its
HandshakeState, SymmetricState and CipherState) and only its own framing code, so a hue end that
talks to it is checked against a Noise implementation written by someone else. Run it with
Debian's /usr/bin/python3 (dissononce is a Debian module).

As a library (what hue-sfs tests build on; the request layer of §4 goes on top of `channel`):

    import socket, noise_peer
    sock = socket.create_connection(("127.0.0.1", 4433))
    ch = noise_peer.connect(noise_peer.SocketStream(sock), "127.0.0.1:4433:<HOSTID>")
    ch.send(request_bytes)          # one transport message (<= MAX_MESSAGE bytes)
    reply = ch.recv()               # bytes, or None once the peer's authenticated close arrived
    ch.close()                      # sends the authenticated close

    connect() raises WrongHost before message 3 when the server's key does not hash to HOSTID,
    ProtocolError on anything else; recv() raises Truncated when the stream ends without the
    authenticated close.

As a program (tests/sfs/test_sfs_interop.cpp runs it with the hue end on its stdin/stdout):

    noise_peer.py initiator NAME [--key FILE] [--rekey-interval N]
        connect() to NAME, then run_echo_initiator(): send test_messages() one at a time,
        check each answer is echo_reply(message), close, expect the responder's close.
    noise_peer.py responder --key FILE [--rekey-interval N]
        accept() with the hue key file FILE, then run_echo_responder(): answer each message
        with echo_reply(message) until the close, then close.

    Exit status: 0 done, 2 protocol error (authentication, truncation, ...), 3 wrong HOSTID
    (the initiator stopped before message 3).

For a file read from hue-sfsd, a client calls connect() with a SocketStream and then speaks the
request layer of docs/sfs-protocol.md §4 with ch.send() / ch.recv(): one request or reply per
transport message.
"""

import argparse
import base64
import hashlib
import os
import struct
import sys

from dissononce.processing.impl.handshakestate import HandshakeState
from dissononce.processing.impl.symmetricstate import SymmetricState
from dissononce.processing.impl.cipherstate import CipherState
from dissononce.processing.handshakepatterns.interactive.XX import XXHandshakePattern
from dissononce.cipher.chachapoly import ChaChaPolyCipher
from dissononce.dh.x25519.x25519 import X25519DH
from dissononce.dh.keypair import KeyPair
from dissononce.dh.x25519.public import PublicKey
from dissononce.dh.x25519.private import PrivateKey
from dissononce.hash.sha256 import SHA256Hash

# Constants of docs/sfs-protocol.md.
HOSTID_LABEL = b"hue-sfs-hostid-v1"
HELLO_MAGIC = b"HUE-SFS"
PROTOCOL_VERSION = 1
MAX_NOISE_MESSAGE = 65535
MAX_HELLO = 7 + 1 + 2 + 300
MAX_MESSAGE = 128 * 1024
TAG = 16
DEFAULT_REKEY_INTERVAL = 1 << 20
FRAME_MESSAGE = 0
FRAME_CLOSE = 1
# The close frame's optional body byte (§3.2); an empty body means done.
CLOSE_DONE, CLOSE_IDLE, CLOSE_SHUTDOWN = 0, 1, 2


class ProtocolError(Exception):
    pass


class WrongHost(ProtocolError):
    pass


class Truncated(ProtocolError):
    pass


# ---- names (§1) ------------------------------------------------------------------------------

def location(host, port):
    host = host.lower()
    return ("[%s]:%d" % (host, port)) if ":" in host else ("%s:%d" % (host, port))


def host_id(host, port, public_key):
    loc = location(host, port).encode("ascii")
    digest = hashlib.sha256(HOSTID_LABEL + struct.pack(">H", len(loc)) + loc + public_key).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def parse_name(name):
    """'host:port:HOSTID' or '[v6]:port:HOSTID' -> (host, port, hostid)."""
    if name.startswith("["):
        host, rest = name[1:].split("]:", 1)
    else:
        host, rest = name.split(":", 1)
    port, hid = rest.split(":", 1)
    return host.lower(), int(port), hid.lower()


def format_name(host, port, hid):
    return location(host, port) + ":" + hid


def read_key_file(path):
    """hue's key file (§1.4) -> dissononce KeyPair."""
    st = os.stat(path)
    if st.st_mode & 0o077:
        raise ProtocolError("key file %s is accessible by group or others" % path)
    with open(path) as f:
        lines = f.read().split("\n")
    if lines[0] != "hue-sfs-key-v1" or not lines[1].startswith("secret ") \
            or not lines[2].startswith("public "):
        raise ProtocolError("malformed key file %s" % path)
    secret = bytes.fromhex(lines[1][7:])
    kp = X25519DH().generate_keypair(PrivateKey(secret))
    if kp.public.data != bytes.fromhex(lines[2][7:]):
        raise ProtocolError("key file %s: public key does not match" % path)
    return kp


# ---- framing (§2, §3) ------------------------------------------------------------------------

class StdioStream:
    """Binary stdin/stdout (or any two raw file objects)."""

    def __init__(self, rfile=None, wfile=None):
        self.r = rfile or sys.stdin.buffer
        self.w = wfile or sys.stdout.buffer

    def read(self, n):
        return self.r.read1(n) if hasattr(self.r, "read1") else self.r.read(n)

    def write(self, data):
        self.w.write(data)
        self.w.flush()


class BufferStream:
    """Writes collect in .out; reads come from .inp (for generating recorded byte streams)."""

    def __init__(self, inp=b""):
        self.inp, self.out = inp, bytearray()

    def read(self, n):
        data, self.inp = self.inp[:n], self.inp[n:]
        return data

    def write(self, data):
        self.out += data


class SocketStream:
    def __init__(self, sock):
        self.sock = sock

    def read(self, n):
        return self.sock.recv(n)

    def write(self, data):
        self.sock.sendall(data)


class FrameIO:
    def __init__(self, stream):
        self.stream = stream
        self.buf = b""

    def _fill(self, n):
        """Reads until n bytes are buffered; returns False on a clean end of stream at 0 bytes."""
        while len(self.buf) < n:
            chunk = self.stream.read(max(n - len(self.buf), 65536))
            if not chunk:
                if self.buf:
                    raise Truncated("stream ended inside a frame")
                return False
            self.buf += chunk
        return True

    def read_frame(self, max_body, min_body=0):
        """One frame body; the length is checked against max_body before the body is read.
        Returns None on end of stream between frames."""
        if not self._fill(4):
            return None
        (length,) = struct.unpack(">I", self.buf[:4])
        if length > max_body:
            raise ProtocolError("frame length %d over the cap %d" % (length, max_body))
        if length < min_body:
            raise ProtocolError("frame length %d under the minimum %d" % (length, min_body))
        if not self._fill(4 + length):
            raise Truncated("stream ended inside a frame")
        body, self.buf = self.buf[4:4 + length], self.buf[4 + length:]
        return body

    def write_frame(self, body):
        self.stream.write(struct.pack(">I", len(body)) + body)


# ---- handshake (§2) --------------------------------------------------------------------------

def make_hello(name):
    text = name.encode("ascii")
    return HELLO_MAGIC + bytes([PROTOCOL_VERSION]) + struct.pack(">H", len(text)) + text


def parse_hello(data):
    if len(data) < 10 or data[:7] != HELLO_MAGIC:
        raise ProtocolError("not a hue-sfs hello")
    if data[7] != PROTOCOL_VERSION:
        raise ProtocolError("unsupported version %d" % data[7])
    (n,) = struct.unpack(">H", data[8:10])
    if n != len(data) - 10:
        raise ProtocolError("hello name length disagrees with the frame")
    return data[10:].decode("ascii")


class FixedEphemeralDH(X25519DH):
    """X25519 whose generate_keypair() (the handshake's ephemeral) returns a fixed key: for
    reproducible seeds and vectors only, never for a real connection."""

    def __init__(self, secret):
        super().__init__()
        self.fixed_secret = secret

    def generate_keypair(self, privatekey=None):
        return super().generate_keypair(privatekey or PrivateKey(self.fixed_secret))


def new_handshake(initiator, prologue, static, fixed_ephemeral_secret=None):
    dh = FixedEphemeralDH(fixed_ephemeral_secret) if fixed_ephemeral_secret else X25519DH()
    hs = HandshakeState(SymmetricState(CipherState(ChaChaPolyCipher()), SHA256Hash()), dh)
    hs.initialize(XXHandshakePattern(), initiator, prologue, s=static)
    return hs


def noise_rekey(cs):
    """Noise REKEY for ChaChaPoly: k = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros), then
    (hue's transport rule, §3.3) n = 0. dissononce 0.34.3's CipherState.rekey() keeps the whole
    48-byte ENCRYPT output (key + tag) as the new key, which ChaCha20Poly1305 refuses, so the
    spec's definition is applied here through dissononce's own cipher."""
    new_key = cs.cipher.encrypt(cs._key, 2 ** 64 - 1, b"", bytes(32))[:32]
    cs.initialize_key(new_key)  # also sets n = 0


class Channel:
    """The transport of §3 over dissononce cipher states."""

    def __init__(self, io, send_cs, recv_cs, rekey_interval=DEFAULT_REKEY_INTERVAL,
                 handshake_hash=b"", remote_static=b""):
        self.io, self.send_cs, self.recv_cs = io, send_cs, recv_cs
        self.rekey_interval = rekey_interval
        self.sent = self.received = 0
        self.closed_by_peer = False
        self.close_reason = None       # the peer's, once its close arrived
        self.handshake_hash = handshake_hash
        self.remote_static = remote_static

    def _seal(self, frame_type, body):
        header = struct.pack(">I", 1 + len(body) + TAG)
        ct = self.send_cs.encrypt_with_ad(header, bytes([frame_type]) + body)
        self.io.stream.write(header + ct)
        self.sent += 1
        if self.sent % self.rekey_interval == 0:
            noise_rekey(self.send_cs)

    def send(self, message):
        if len(message) > MAX_MESSAGE:
            raise ProtocolError("message over %d bytes" % MAX_MESSAGE)
        self._seal(FRAME_MESSAGE, message)

    def close(self):
        self._seal(FRAME_CLOSE, b"")

    def recv(self):
        """The next message, None after the peer's authenticated close."""
        if self.closed_by_peer:
            return None
        body = self.io.read_frame(1 + MAX_MESSAGE + TAG, 1 + TAG)
        if body is None:
            raise Truncated("stream ended without the authenticated close")
        header = struct.pack(">I", len(body))
        try:
            plain = self.recv_cs.decrypt_with_ad(header, body)
        except Exception as e:  # dissononce's DecryptFailedException
            raise ProtocolError("authentication failed: %r" % (e,))
        self.received += 1
        if self.received % self.rekey_interval == 0:
            noise_rekey(self.recv_cs)
        if plain[0] == FRAME_MESSAGE:
            return plain[1:]
        if plain[0] == FRAME_CLOSE and len(plain) <= 2:
            self.closed_by_peer = True
            self.close_reason = plain[1] if len(plain) == 2 else CLOSE_DONE
            return None
        raise ProtocolError("unknown frame type %d" % plain[0])


def connect(stream, name, static=None, rekey_interval=DEFAULT_REKEY_INTERVAL):
    """Client side: hello, Noise XX as initiator, HOSTID checked before message 3.
    Returns a Channel. `static` is a dissononce KeyPair (a fresh one when None)."""
    host, port, hid = parse_name(name)
    canonical = format_name(host, port, hid)
    static = static or X25519DH().generate_keypair()
    io = FrameIO(stream)
    hello = make_hello(canonical)
    hs = new_handshake(True, hello, static)
    m1 = bytearray()
    hs.write_message(b"", m1)
    io.write_frame(hello)
    io.write_frame(bytes(m1))
    m2 = io.read_frame(MAX_NOISE_MESSAGE)
    if m2 is None:
        raise Truncated("server closed during the handshake")
    hs.read_message(m2, bytearray())
    server_key = hs.rs.data
    if host_id(host, port, server_key) != hid:
        # Nothing of ours has been sent but an ephemeral key: stop here.
        raise WrongHost("server key does not match HOSTID %s" % hid)
    m3 = bytearray()
    c1, c2 = hs.write_message(b"", m3)
    io.write_frame(bytes(m3))
    return Channel(io, c1, c2, rekey_interval, hs.symmetricstate.get_handshake_hash(), server_key)


def accept(stream, static, rekey_interval=DEFAULT_REKEY_INTERVAL, my_host=None, my_port=None):
    """Server side: reads the hello (checks the name hashes to our key at the requested
    location), Noise XX as responder. Returns (Channel, requested name)."""
    io = FrameIO(stream)
    hello = io.read_frame(MAX_HELLO, 10)
    if hello is None:
        raise Truncated("client closed before its hello")
    name = parse_hello(hello)
    host, port, hid = parse_name(name)
    if host_id(host, port, static.public.data) != hid:
        raise WrongHost("client asked for another server: %s" % name)
    hs = new_handshake(False, hello, static)
    m1 = io.read_frame(MAX_NOISE_MESSAGE, 32)
    if m1 is None:
        raise Truncated("client closed during the handshake")
    hs.read_message(m1, bytearray())
    m2 = bytearray()
    hs.write_message(b"", m2)
    io.write_frame(bytes(m2))
    m3 = io.read_frame(MAX_NOISE_MESSAGE, 64)
    if m3 is None:
        raise Truncated("client closed before message 3")
    c1, c2 = hs.read_message(m3, bytearray())
    return (Channel(io, c2, c1, rekey_interval, hs.symmetricstate.get_handshake_hash(),
                    hs.rs.data), name)


# ---- the interop exchange --------------------------------------------------------------------

def echo_reply(message):
    """What the echoing side answers: the SHA-256 of the message, then the message reversed."""
    return hashlib.sha256(message).digest() + message[::-1]


def test_messages():
    """Sizes around the frame limit and zero, so framing edges are crossed both ways."""
    sizes = [0, 1, 15, 16, 17, 1000, 65535, 65536, MAX_MESSAGE - 32 - 1, 3, 4, 5, 6, 7, 8, 9]
    return [bytes((i * 7 + j) & 0xFF for j in range(n)) for i, n in enumerate(sizes)]


def run_echo_initiator(ch):
    for m in test_messages():
        ch.send(m)
        reply = ch.recv()
        if reply != echo_reply(m):
            raise ProtocolError("wrong echo for a message of %d bytes" % len(m))
    ch.close()
    if ch.recv() is not None:
        raise ProtocolError("expected the responder's close")


def run_echo_responder(ch):
    while True:
        m = ch.recv()
        if m is None:
            break
        ch.send(echo_reply(m))
    ch.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("role", choices=["initiator", "responder"])
    ap.add_argument("name", nargs="?", help="host:port:HOSTID (initiator)")
    ap.add_argument("--key", help="hue key file (responder: required; initiator: optional)")
    ap.add_argument("--rekey-interval", type=int, default=DEFAULT_REKEY_INTERVAL)
    args = ap.parse_args()
    stream = StdioStream()
    try:
        if args.role == "initiator":
            if not args.name:
                ap.error("initiator needs NAME")
            static = read_key_file(args.key) if args.key else None
            ch = connect(stream, args.name, static, args.rekey_interval)
            run_echo_initiator(ch)
        else:
            if not args.key:
                ap.error("responder needs --key")
            ch, _ = accept(stream, read_key_file(args.key), args.rekey_interval)
            run_echo_responder(ch)
        sys.stderr.write("noise_peer %s: ok, handshake hash %s, %d frames sent, %d received\n"
                         % (args.role, ch.handshake_hash.hex(), ch.sent, ch.received))
        return 0
    except WrongHost as e:
        sys.stderr.write("noise_peer %s: wrong host: %s\n" % (args.role, e))
        return 3
    except ProtocolError as e:
        sys.stderr.write("noise_peer %s: protocol error: %s\n" % (args.role, e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
