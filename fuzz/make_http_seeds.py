#!/usr/bin/env python3
"""Writes the named seeds of fuzz/corpus/http (run from anywhere; rewrites only these files).

Each seed is: one byte of limits, one byte of split mode, then the bytes of one connection
(fuzz_http.cpp describes the layout). Crash reproducers found by the fuzzer are added to the
corpus as they are (named regress-*), not through this script.
"""
import os

# byte 0: bits 0-1 max_header_bytes {16384, 1024, 64, 16}; bits 2-3 max_request_line_bytes
# {8000, 256, 16, 3}; bits 4-5 max_body_bytes {0, 8, 1000, 100000}.
def limits(header=0, line=0, body=0):
    return header | line << 2 | body << 4

WHOLE, BYTES = 0, 1   # byte 1: 0 all at once, 1 byte by byte,
TINY, LARGE = 5, 6    # odd: pieces of 1..8 bytes, even: pieces of 1..512 bytes

GET = b"GET / HTTP/1.1\r\n"
UA = b"Host: localhost\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"

def get(target, fields=b"", version=b"HTTP/1.1"):
    return b"GET " + target + b" " + version + b"\r\n" + fields + b"\r\n"

SEEDS = {
    # complete requests
    "get-minimal": (limits(), WHOLE, GET + b"\r\n"),
    "get-curl-byte-by-byte": (limits(), BYTES, get(b"/index.html", UA)),
    "head-http10-keep-alive": (limits(), TINY, b"HEAD /a/b.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
    "http10-close-default": (limits(), BYTES, get(b"/", b"", b"HTTP/1.0")),
    "connection-list": (limits(), TINY, get(b"/x", b"Connection: Upgrade, ,CLOSE\r\nconnection: keep-alive\r\n")),
    "leading-empty-lines": (limits(), BYTES, b"\r\n\r\n" + GET + b"\r\n"),
    "absolute-form": (limits(), TINY, get(b"http://example.com:8080/x/../y?q=1")),
    "post-with-body": (limits(body=1), TINY, b"POST /form HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
    "options-star": (limits(), WHOLE, b"OPTIONS * HTTP/1.1\r\n\r\n"),
    "field-syntax-edges": (limits(), TINY, get(b"/", b"X-Empty:\r\nX-Ows: \t v \t\r\n!#$%&'*+-.^_`|~09: ok\r\nX-Utf8: caf\xc3\xa9\r\n")),
    # pipelining
    "pipelined-mixed": (limits(body=1), LARGE,
        get(b"/a", b"Host: x\r\n") + b"HEAD /bb HTTP/1.1\r\n\r\n" + b"\r\n"
        + b"GET /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz" + get(b"/d", b"", b"HTTP/1.0")),
    "pipelined-tiny-pieces": (limits(), TINY, get(b"/1") + get(b"/2", b"Connection: close\r\n") + get(b"/3")),
    "pipelined-then-bad": (limits(), TINY, get(b"/ok") + get(b"/ok2") + b"GET /bad HTTP/1.1\n\r\n" + get(b"/never")),
    "body-looks-like-request": (limits(body=1), BYTES, b"GET / HTTP/1.1\r\nContent-Length: 8\r\n\r\nGET / HT" + get(b"/next")),
    # 400
    "bad-bare-lf": (limits(), BYTES, b"GET / HTTP/1.1\nHost: x\n\n"),
    "bad-obs-fold": (limits(), TINY, get(b"/", b"X: a\r\n b\r\n")),
    "bad-space-before-colon": (limits(), TINY, get(b"/", b"Host : x\r\n")),
    "bad-content-length-mismatch": (limits(body=2), TINY, get(b"/", b"Content-Length: 3\r\nContent-Length: 4\r\n") + b"abcd"),
    "bad-content-length-sign": (limits(body=1), WHOLE, get(b"/", b"Content-Length: +5\r\n") + b"hello"),
    "bad-version-shape": (limits(), BYTES, b"GET / HTTP/1.10\r\n\r\n"),
    "bad-control-bytes": (limits(), TINY, b"GET /a\x01b HTTP/1.1\r\nX: \x00\r\n\r\n"),
    # 501, 505
    "unknown-method": (limits(), BYTES, b"BREW /pot HTTP/1.1\r\n\r\n"),
    "transfer-encoding-chunked": (limits(body=2), TINY, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    "version-2": (limits(), TINY, b"GET / HTTP/2.0\r\n\r\n"),
    # chunked request bodies (RFC 9112 §7.1) and the framings refused (§6.1, §6.3)
    "chunked-ext-trailer": (limits(body=2), TINY, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\"\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: v\r\n\r\n" + get(b"/next", b"Host: x\r\n")),
    "chunked-pipelined-bytes": (limits(body=1), BYTES, b"PUT /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + get(b"/b", b"Host: x\r\n")),
    "chunked-over-limit": (limits(body=1), TINY, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n"),
    "te-and-content-length": (limits(body=2), TINY, b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "te-gzip-chunked": (limits(body=2), TINY, b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    "te-http10": (limits(body=2), TINY, b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    # Host, conditional, range and Expect fields (noted by the parser, judged by the session)
    "host-twice": (limits(), TINY, get(b"/", b"Host: a\r\nHost: b\r\n")),
    "host-forms": (limits(), TINY, get(b"/", b"Host: [::1]:8080\r\n") + get(b"/", b"Host: a b\r\n") + get(b"/", b"Host:\r\n")),
    "conditional-fields": (limits(), TINY, get(b"/index.html", b"Host: x\r\nIf-None-Match: \"a\", W/\"b\"\r\nIf-None-Match: *\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-Match: \"c\"\r\nIf-Unmodified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n")),
    "range-fields": (limits(), TINY, get(b"/big", b"Host: x\r\nRange: bytes=0-99, 200-, -5\r\nIf-Range: \"abc\"\r\n") + get(b"/big", b"Host: x\r\nrange: bytes=-0\r\nIf-Range: Sun Nov  6 08:49:37 1994\r\n")),
    "expect-continue": (limits(body=2), TINY, b"POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd" + get(b"/", b"Host: x\r\nExpect: x-other\r\n")),
    "options-forms": (limits(), TINY, b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\nOPTIONS /a HTTP/1.1\r\nHost: x\r\n\r\nGET * HTTP/1.1\r\nHost: x\r\n\r\n"),
    # 413, 414, 431
    "payload-too-large": (limits(), TINY, get(b"/", b"Content-Length: 99999999999999999999999\r\n")),
    "uri-too-long-small-limit": (limits(line=3), BYTES, get(b"/abcdef")),
    "request-line-at-16-then-17": (limits(line=2), TINY, get(b"/") + get(b"/a")),
    # RFC 9112 §3's 8,000 octets: a line of exactly 8,000 is served, the next one of 8,001 is 414.
    "request-line-8000-then-8001": (limits(), LARGE,
        get(b"/" + b"a" * 7984, b"Host: x\r\n") + get(b"/" + b"b" * 7985, b"Host: x\r\n")),
    "uri-too-long-default": (limits(), LARGE, get(b"/" + b"a" * 8100)),
    "headers-too-large-small-limit": (limits(header=3), BYTES, get(b"/", b"Host: localhost\r\n")),
    "headers-too-large-default": (limits(), LARGE, GET + b"X: " + b"v" * 16500 + b"\r\n\r\n"),
    "headers-near-64": (limits(header=2), TINY, get(b"/", b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n")),
    # traversal attempts (normalize_target)
    "traversal-dotdot": (limits(), TINY, get(b"/../../etc/passwd") + get(b"/a/b/../../../x")),
    "traversal-encoded-dots": (limits(), TINY, get(b"/%2e%2e/%2E%2e/etc/passwd") + get(b"/.%2e/x") + get(b"/%2e./x")),
    "traversal-encoded-slash": (limits(), TINY, get(b"/..%2f..%2fetc%2fpasswd") + get(b"/a%2F..%2F..%2Fx")),
    "traversal-nul": (limits(), TINY, get(b"/index.html%00.png") + get(b"/a/%00/../..")),
    "traversal-backslash": (limits(), TINY, get(b"/..\\..\\windows\\win.ini") + get(b"/%5c..%5c..%5cetc")),
    "traversal-slashes-and-double-encoding": (limits(), TINY, get(b"//etc//passwd") + get(b"///") + get(b"/%252e%252e/x")),
    "target-escapes-and-query": (limits(), TINY, get(b"/%zz") + get(b"/a?../../x") + get(b"/caf%C3%A9/\xff")),
    "target-fragment": (limits(), WHOLE, get(b"/a#frag")),
}

def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "http")
    os.makedirs(out, exist_ok=True)
    for name, (lim, split, stream) in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([lim, split]) + stream)
    print(f"{len(SEEDS)} seeds in {out}")

if __name__ == "__main__":
    main()
