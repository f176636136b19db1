#!/usr/bin/python3
"""Writes fuzz/corpus/sfs_request/: one request per file, as docs/sfs-protocol.md §4 spells them.

Handles: 16 zero bytes stand for the export root, 0xEE k ... for the k-th handle a LOOKUP returned
(fuzz_sfs_request.cpp's convention)."""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "sfs_request")
os.makedirs(out, exist_ok=True)
ROOT = bytes(16)


def h(k):
    return bytes([0xEE, k]) + bytes(14)


def req(op, rid, handle=b"", body=b""):
    return struct.pack(">BI", op, rid) + handle + body


def path(p):
    return struct.pack(">H", len(p)) + p


seeds = {
    "root": req(1, 1),
    "lookup_a": req(2, 2, ROOT, path(b"a")),
    "lookup_dir_b": req(2, 3, ROOT, path(b"dir/b")),
    "lookup_dotdot": req(2, 4, ROOT, path(b"../outside/secret")),
    "lookup_abs": req(2, 5, ROOT, path(b"/etc/passwd")),
    "lookup_nul": req(2, 6, ROOT, path(b"a\0/../x")),
    "lookup_link": req(2, 7, ROOT, path(b"link")),
    "lookup_dlink": req(2, 8, ROOT, path(b"dlink/secret")),
    "lookup_from_seen": req(2, 9, h(1), path(b"sub")),
    "getattr_root": req(3, 10, ROOT),
    "getattr_seen": req(3, 11, h(2)),
    "readdir_root": req(4, 12, ROOT, struct.pack(">QH", 0, 2)),
    "readdir_cookie": req(4, 13, ROOT, struct.pack(">QH", (1 << 32) | 2, 5)),
    "readdir_too_many": req(4, 14, ROOT, struct.pack(">QH", 0, 5000)),
    "read_seen": req(5, 15, h(1), struct.pack(">QI", 0, 65536)),
    "read_offset": req(5, 16, h(2), struct.pack(">QI", 65536, 65536)),
    "read_huge_offset": req(5, 17, h(1), struct.pack(">QI", (1 << 63) + 5, 10)),
    "read_too_long": req(5, 18, h(1), struct.pack(">QI", 0, 1 << 20)),
    "read_dir": req(5, 19, ROOT, struct.pack(">QI", 0, 10)),
    "digest_seen": req(6, 20, h(1)),
    "forged_handle": req(3, 21, b"\x01" * 16),
    "unknown_op": req(99, 22),
    "short_header": b"\x01\x00\x00",
    "trailing": req(1, 23) + b"\x00",
    "lookup_len_past_end": req(2, 24, ROOT, struct.pack(">H", 4000) + b"a"),
    "empty": b"",
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print("%d seeds in %s" % (len(seeds), out))
