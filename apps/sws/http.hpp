// apps/sws/http.hpp — the HTTP/1.x request parser and target normalizer of SWS.
//
// Our own small parser rather than a library: SWS needs the request line, three headers
// (Connection, Content-Length, Transfer-Encoding) and strict limits; it parses in place over the
// connection's buffer, with no allocation and no callbacks, and re-parses a request that arrived
// in pieces from its start (headers are small and bounded by `limits::max_header_bytes`, so the
// re-scan costs less than keeping parser state). Debian's libhttp-parser is the archived
// predecessor of llhttp and would still leave limits, methods and versions to us.
//
// Usage, the way a connection drives it (fuzz/fuzz_http.cpp does exactly this):
//
//   using namespace sws::http;
//   buf.append(bytes_just_read);      // `buf`, `start` and `path` live as long as the connection
//   for (;;) {
//     parse_result r = parse_request(std::string_view(buf).substr(start), lim);
//     if (r.st == status::incomplete) break;                        // read more, then call again
//     if (r.st != status::complete) { answer(status_code(r.st)); close(); break; }
//     switch (normalize_target(r.req.target, path)) { ... }         // 400 / 404 / serve
//     start += r.consumed;                                          // the next pipelined request
//   }
//
// Rules the parser keeps, beyond the grammar of RFC 9112:
//   - Deterministic over prefixes: a prefix of a request is `incomplete` or already has the verdict
//     of the whole request, never a different one. So a request that arrives in pieces gets the
//     same answer as one that arrives at once, and errors are reported as soon as the bytes that
//     show them are in: the first problem in byte order wins (an unknown method is 501 before a
//     bad header is seen; a request line past max_request_line_bytes is 414 at its first byte
//     past the limit, before its end arrives).
//   - Line ends are CRLF only. A bare LF (or bare CR) anywhere in the request line or header
//     section is 400, leading empty lines included; RFC 9112 §2.2 allows either choice, and
//     refusing leaves no room to disagree with a proxy about where a line ends.
//   - Only the first max_header_bytes bytes are read while the header section is open, whatever
//     the size of `in`: the cost of a call is bounded by the limit, not by what a peer sent.
//   - Host lines are counted and their values checked (RFC 9112 §3.2); whether a count is an
//     error is the caller's decision (the session answers 400 and closes), so the parser stays
//     usable on HTTP/1.0-style input. Conditional, range and Expect fields are only noted as
//     present (`request::fields`); field_values() collects their values from `request::head`
//     when the caller wants them. Other headers are checked for syntax only.
//   - Transfer-Encoding (RFC 9112 §6.1, §6.3, §7.1): a request body in chunked coding is read
//     (chunk extensions and trailer fields checked for syntax and ignored) within max_body_bytes
//     counted on the encoded bytes, and at most 1024 chunks (413 beyond); chunked not last is 400, another coding 501, Transfer-Encoding
//     together with Content-Length or in HTTP/1.0 is 400. Those verdicts come when the header
//     section ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sws::http {

enum class method : std::uint8_t {
  get,
  head,
  other,    // known, not served (POST, PUT, DELETE, PATCH, TRACE, CONNECT): 405
  options,  // answered with the methods allowed (RFC 9110 §9.3.7)
  unknown,  // syntactically a token, but not a method SWS knows: 501
};

struct limits {
  // Request line + headers + the blank line, counted from the start of `in` (so leading empty
  // lines count too): 431 beyond, whether the header section is complete or not. Twice the
  // request line's limit: a line at that limit leaves room for a browser's fields (User-Agent,
  // Accept, cookies), which would otherwise turn the longest lines into 431s. The price is the
  // re-scan of a head arriving in pieces (at most this many bytes per line end).
  std::size_t max_header_bytes = 16384;
  // The request line, method SP request-target SP HTTP-version CRLF: 8,000 octets, the minimum
  // RFC 9112 §3 recommends every recipient support. 414 at the line's first byte past the limit,
  // whichever part it falls in (a target, but also a method or the version after a target that
  // used up the room), without waiting for the line's end. Leading empty lines do not count
  // here (they do toward max_header_bytes). A limit above max_header_bytes is never reached:
  // the header limit's 431 comes first.
  std::size_t max_request_line_bytes = 8000;
  // Bodies (of any method) are skipped up to this, and counted in `consumed`; a Content-Length
  // beyond it is 413, reported when the header line is read.
  std::size_t max_body_bytes = 0;
};

struct request {
  method verb = method::unknown;
  std::string_view method_name;  // as sent (for the access log)
  std::string_view target;       // as sent, not decoded
  int minor_version = 1;         // HTTP/1.<minor>: 0 or 1
  // From the version and the Connection options (case-insensitive, any number of Connection
  // lines): HTTP/1.1 keeps alive unless "close"; HTTP/1.0 closes unless "keep-alive" (and
  // "close" wins over "keep-alive" in either).
  bool keep_alive = true;
  std::size_t body_bytes = 0;    // body length, decoded if chunked (framing included in `consumed`)
  bool chunked = false;          // the body came in chunked transfer coding
  unsigned host_lines = 0;       // Host field lines seen
  bool host_valid = true;        // every Host value is uri-host [":" port] (RFC 9110 §7.2)
  unsigned fields = 0;           // bits of `field`: which of the fields below were present
  std::string_view head;         // request line and header section (final CRLF included; not
                                 // the empty lines before the request line)
};

// Fields the parser only notes (request::fields); field_values() collects their values.
enum field : unsigned {
  if_match = 1u << 0,
  if_none_match = 1u << 1,
  if_modified_since = 1u << 2,
  if_unmodified_since = 1u << 3,
  range = 1u << 4,
  if_range = 1u << 5,
  expect = 1u << 6,
};

// The values of every `name` line (lower-case name) of a header section, joined with ", " as
// RFC 9110 §5.3 combines field lines; returns the number of lines. `out` is cleared first.
unsigned field_values(std::string_view head, std::string_view lower_name, std::string& out);

// Every status other than complete and incomplete means the framing is lost: answer with
// status_code(st) and close. A complete request may still be method::other (405, framing intact).
enum class status : std::uint8_t {
  complete,      // `req` and `consumed` are set; `req.verb` is get, head or other, never unknown
  // Need more bytes. Either the header section is open and `in` holds at most max_header_bytes,
  // or it is complete and part of a body of at most max_body_bytes is still to come.
  incomplete,
  // 400: malformed request line or header (bare LF/CR, whitespace before a colon, obs-fold, a
  // control byte, a non-token method or name, a version not of the shape HTTP/d.d), a
  // Content-Length that is not all digits, or two that disagree; Transfer-Encoding with
  // Content-Length, in HTTP/1.0, or without chunked last; a malformed chunked body.
  bad_request,
  uri_too_long,  // 414: the request line is longer than max_request_line_bytes
  headers_too_large,  // 431: no end of the header section within max_header_bytes
  payload_too_large,  // 413: Content-Length (or the encoded chunked body) above max_body_bytes
  not_implemented,    // 501: unknown method, or a transfer coding other than chunked
  version_not_supported,  // 505: a well-formed HTTP/d.d other than 1.0 and 1.1
};

struct parse_result {
  status st = status::incomplete;
  std::size_t consumed = 0;  // bytes of this request (headers and body) when complete
  // When incomplete: 0 while the header section is open, else its size (only the body is
  // awaited, and a body needs no line end to make progress).
  std::size_t head_bytes = 0;
  // When incomplete, `req.verb` tells whether the request line is done: method::unknown while it
  // is still open (a complete line with an unknown method is 501, never incomplete).
  request req;
};

// Parses the first request in `in` (which may hold several, pipelined, or part of one). The
// string_views in the result point into `in`. Leading CRLFs before a request line are skipped
// (RFC 9112 §2.2) and counted in `consumed`.
parse_result parse_request(std::string_view in, const limits& lim = {});

// The status code for a non-complete, non-incomplete status (400, 413, 414, 431, 501, 505);
// 0 for complete and incomplete, which are not answers.
int status_code(status st) noexcept;

enum class target_status : std::uint8_t { ok, bad_request, not_found };

// Turns a request target into a path relative to the document root, or refuses it:
//   - origin-form "/a/b?q" (the query is dropped) or absolute-form "http://host/a/b" (scheme http
//     or https, any case; the host must not be empty and is ignored). Anything else ("*",
//     authority-form, "a/b", other schemes) is bad_request, and so is a raw control byte, DEL,
//     space or '#' anywhere in the target;
//   - percent-decoding of the path (not the query), once: malformed escapes are bad_request,
//     "%252e" is the three characters "%2e" and is never decoded again, a decoded NUL or control
//     character is bad_request, a decoded '/' is a separator (so "..%2f" is a ".." segment);
//   - "." segments are removed, ".." segments pop one segment and going above the root is
//     not_found (never a path outside the root), also when the dots were percent-encoded;
//     repeated slashes collapse;
//   - a backslash (raw or %5C) is an ordinary character, not a separator: URLs and POSIX paths
//     give it no meaning, so "/..\x" is the one segment "..\x";
//   - the result has no leading and no trailing '/' ("/docs/" and "/docs" both give "docs"), no
//     empty, "." or ".." segment and no NUL; "" means the root directory itself.
// On failure `path` is left empty. `path` keeps its capacity: reuse one string per connection.
// Example: "/a/./b/../c%2Ehtml?x=1" -> "a/c.html".
target_status normalize_target(std::string_view target, std::string& path);

}  // namespace sws::http
