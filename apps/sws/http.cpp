// apps/sws/http.cpp — the request parser declared in http.hpp (target.cpp normalizes targets).
//
// The parser is one forward pass over `in` with a cursor `i`. Every check is made at the byte that
// decides it, and every "need more bytes" exit goes through `more()`, which turns into 431 once the
// buffer holds more than max_header_bytes. Only the first max_header_bytes bytes are ever looked at
// while the header section is open, so a hostile peer cannot make one call scan more than that.
// Because the verdict on a prefix never depends on bytes after it, a request that arrives in any
// number of pieces gets "incomplete" on each prefix and then exactly the verdict of the whole
// (tests/test_http.cpp checks every split point; fuzz/fuzz_http.cpp checks it differentially).
#include "http.hpp"
#include "http_bytes.hpp"

#include <array>
#include <cstring>

namespace sws::http {
namespace {

method classify(std::string_view m) {
  switch (m.size()) {
    case 3:
      if (m == "GET") return method::get;
      if (m == "PUT") return method::other;
      break;
    case 4:
      if (m == "HEAD") return method::head;
      if (m == "POST") return method::other;
      break;
    case 5:
      if (m == "PATCH" || m == "TRACE") return method::other;
      break;
    case 6:
      if (m == "DELETE") return method::other;
      break;
    case 7:
      if (m == "OPTIONS") return method::options;
      if (m == "CONNECT") return method::other;
      break;
    default:
      break;
  }
  return method::unknown;
}

// Content-Length = 1*DIGIT (RFC 9110 §8.6); no sign, no list, no spaces inside. Saturates at
// SIZE_MAX, which is above any body limit, so an overlong value is 413 rather than a wrap-around.
bool parse_content_length(std::string_view v, std::size_t& out) {
  if (v.empty()) return false;
  std::size_t n = 0;
  for (char c : v) {
    if (!is_digit(c)) return false;
    const std::size_t d = static_cast<std::size_t>(c - '0');
    n = n > (SIZE_MAX - d) / 10 ? SIZE_MAX : n * 10 + d;
  }
  out = n;
  return true;
}

// Connection = #connection-option (RFC 9110 §7.6.1): tokens separated by commas and optional
// whitespace; empty list elements are allowed (RFC 9110 §5.6.1.2). Anything else is malformed.
bool scan_connection(std::string_view v, bool& close, bool& keep_alive) {
  std::size_t k = 0;
  while (k < v.size()) {
    if (v[k] == ',' || is_ows(v[k])) {
      ++k;
      continue;
    }
    const std::size_t t0 = k;
    while (k < v.size() && is(v[k], tchar)) ++k;
    if (k == t0) return false;
    const std::string_view opt = v.substr(t0, k - t0);
    if (iequals(opt, "close")) close = true;
    else if (iequals(opt, "keep-alive")) keep_alive = true;
    while (k < v.size() && is_ows(v[k])) ++k;
    if (k < v.size() && v[k] != ',') return false;  // "close keep-alive", "close;x"
  }
  return true;
}

// Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): an IP-literal in brackets, or a
// reg-name / IPv4 address of unreserved, sub-delims and percent characters; port is digits. An
// empty value is allowed (a target without authority).
bool valid_host(std::string_view v) {
  std::size_t k = 0;
  if (!v.empty() && v[0] == '[') {
    while (k < v.size() && v[k] != ']') {
      const char c = v[k];
      if (k > 0 && !(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                     c == ':' || c == '.' || c == 'v' || c == 'V'))
        return false;
      ++k;
    }
    if (k == v.size()) return false;  // no closing bracket
    ++k;
  } else {
    while (k < v.size() && v[k] != ':') {
      const char c = v[k];
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                      std::strchr("-._~!$&'()*+,;=%", c) != nullptr;
      if (!ok || c == '\0') return false;
      ++k;
    }
  }
  if (k == v.size()) return true;
  if (v[k] != ':') return false;
  for (++k; k < v.size(); ++k)
    if (!is_digit(v[k])) return false;
  return true;
}

// Transfer-Encoding = #transfer-coding (RFC 9112 §6.1); a coding is a token, maybe with
// parameters (";" ...), which only matter to say it is not plain "chunked". Across all lines:
// `last_chunked` says whether the final coding is chunked, `chunked_count` how often chunked
// appears, `other` whether any other coding appears. false: not a list of codings at all.
bool scan_transfer_encoding(std::string_view v, bool& last_chunked, unsigned& chunked_count,
                            bool& other) {
  std::size_t k = 0;
  bool any = false;
  while (k < v.size()) {
    if (v[k] == ',' || is_ows(v[k])) {
      ++k;
      continue;
    }
    const std::size_t t0 = k;
    while (k < v.size() && is(v[k], tchar)) ++k;
    if (k == t0) return false;
    const bool chunked = iequals(v.substr(t0, k - t0), "chunked");
    bool params = false;
    while (k < v.size() && v[k] != ',') {  // parameters: skipped, they make it another coding
      if (v[k] == '"') return false;       // quoted strings in codings: refuse rather than guess
      params = params || !is_ows(v[k]);
      ++k;
    }
    any = true;
    if (chunked && !params) {
      ++chunked_count;
      last_chunked = true;
    } else {
      other = true;
      last_chunked = false;
    }
  }
  if (!any) last_chunked = false;  // an empty list names no coding: not chunked
  return true;
}

}  // namespace

namespace {

constexpr std::size_t max_chunks = 1024;

// chunked-body = *chunk last-chunk trailer-section CRLF (RFC 9112 §7.1), starting at `i`. The
// encoded bytes count against max_body_bytes: the verdict is 413 as soon as the body would need
// a byte beyond that, whether or not the byte has arrived, so prefixes and wholes agree. Chunk
// extensions and trailer fields are checked for syntax and ignored (§7.1.1, §7.1.2).
parse_result parse_chunked(std::string_view in, std::size_t i, const limits& lim,
                           parse_result& r) {
  const std::size_t body0 = i;
  const std::size_t size = in.size();
  // Bytes [body0, cap) may be read; needing the byte at `cap` means the body is too large.
  const std::size_t cap =
      lim.max_body_bytes > SIZE_MAX - body0 ? SIZE_MAX : body0 + lim.max_body_bytes;
  auto fail = [&](status s) {
    r.st = s;
    return r;
  };
  // "Need the byte at k": 413 past the cap, incomplete if it has not arrived.
  auto need = [&](std::size_t k) -> int {
    if (k >= cap) return 413;
    if (k >= size) return 1;
    return 0;
  };
  auto stop = [&](int why) {
    if (why != 413) r.head_bytes = body0;
    return fail(why == 413 ? status::payload_too_large : status::incomplete);
  };
  // A CRLF at k: 0 ok, or the stop reason; -1 malformed.
  auto crlf = [&](std::size_t k) -> int {
    if (int w = need(k)) return w;
    if (in[k] != '\r') return -1;
    if (int w = need(k + 1)) return w;
    return in[k + 1] == '\n' ? 0 : -1;
  };
  std::size_t decoded = 0, chunks = 0;
  for (;;) {
    // A body cut into very many chunks is refused like a large one: a caller that re-parses as
    // bytes arrive pays for every chunk header each time (bounded by this), not for the data.
    if (++chunks > max_chunks) return fail(status::payload_too_large);
    // chunk-size: 1*HEXDIG, its value bounded by the body limit as the digits arrive.
    std::size_t n = 0, digits = 0;
    for (;; ++i) {
      if (int w = need(i)) return stop(w);
      const int h = hex_digit(in[i]);
      if (h < 0) break;
      n = n * 16 + static_cast<std::size_t>(h);
      ++digits;
      if (n > lim.max_body_bytes) return fail(status::payload_too_large);
    }
    if (digits == 0) return fail(status::bad_request);
    // chunk-ext: BWS ";" name [= value] ... up to the CRLF; field bytes only (no CR, LF, CTL).
    if (in[i] == ';' || is_ows(in[i])) {
      for (;; ++i) {
        if (int w = need(i)) return stop(w);
        if (in[i] == '\r') break;
        if (!is(in[i], field_byte)) return fail(status::bad_request);
      }
    }
    if (int w = crlf(i)) return w < 0 ? fail(status::bad_request) : stop(w);
    i += 2;
    if (n == 0) break;
    // chunk-data CRLF
    if (n > cap - i) return fail(status::payload_too_large);
    if (i + n > size) return stop(1);
    i += n;
    decoded += n;
    if (int w = crlf(i)) return w < 0 ? fail(status::bad_request) : stop(w);
    i += 2;
  }
  // trailer-section: field lines, then CRLF.
  for (;;) {
    if (int w = need(i)) return stop(w);
    if (in[i] == '\r') {
      if (int w = crlf(i)) return w < 0 ? fail(status::bad_request) : stop(w);
      i += 2;
      break;
    }
    const std::size_t n0 = i;
    for (;; ++i) {
      if (int w = need(i)) return stop(w);
      if (!is(in[i], tchar)) break;
    }
    if (i == n0 || in[i] != ':') return fail(status::bad_request);
    for (++i;; ++i) {
      if (int w = need(i)) return stop(w);
      if (in[i] == '\r') break;
      if (!is(in[i], field_byte)) return fail(status::bad_request);
    }
    if (int w = crlf(i)) return w < 0 ? fail(status::bad_request) : stop(w);
    i += 2;
  }
  r.req.body_bytes = decoded;
  r.consumed = i;
  r.st = status::complete;
  return r;
}

}  // namespace

unsigned field_values(std::string_view head, std::string_view lower_name, std::string& out) {
  out.clear();
  unsigned lines = 0;
  std::size_t k = head.find("\r\n");  // skip the request line
  while (k != std::string_view::npos && k + 2 < head.size()) {
    k += 2;
    const std::size_t eol = head.find("\r\n", k);
    if (eol == std::string_view::npos || eol == k) break;
    const std::string_view line = head.substr(k, eol - k);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(line.substr(0, colon), lower_name)) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
      while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
      if (lines++ > 0) out += ", ";
      out.append(v);
    }
    k = eol;
  }
  return lines;
}

parse_result parse_request(std::string_view in, const limits& lim) {
  parse_result r;
  const std::size_t size = in.size();
  // Never look past `avail` while the header section is open: that bounds both the work and the
  // memory a peer can make us hold. When a verdict needs the byte at `avail`, more() decides
  // between "wait" and 431.
  const std::size_t avail = size < lim.max_header_bytes ? size : lim.max_header_bytes;
  auto more = [&] {
    r.st = size > lim.max_header_bytes ? status::headers_too_large : status::incomplete;
    return r;
  };
  auto fail = [&](status s) {
    r.st = s;
    return r;
  };
  std::size_t i = 0;

  // Empty lines before the request line (RFC 9112 §2.2). They count toward max_header_bytes, so a
  // peer sending nothing but CRLFs is cut off at the limit like any other slow header.
  while (i < avail && in[i] == '\r') {
    if (i + 1 == avail) return more();
    if (in[i + 1] != '\n') return fail(status::bad_request);
    i += 2;
  }

  // The request line gets max_request_line_bytes from its first byte: every part of it scans up
  // to `line_end` at most (written so that a huge limit cannot overflow). Reaching `line_end` is
  // 414 when the byte there is already in, the first one past the limit: a long target (or
  // method, or a version after a target that took all the room) is refused without waiting for
  // the line's end. Otherwise `line_end` is `avail` and more() waits, or answers 431 when the
  // header limit is the nearer one.
  const std::size_t m0 = i;
  const std::size_t line_end =
      avail - m0 > lim.max_request_line_bytes ? m0 + lim.max_request_line_bytes : avail;
  auto past_line = [&] { return line_end < avail ? fail(status::uri_too_long) : more(); };

  // method SP: a token, then exactly one space.
  while (i < line_end && is(in[i], tchar)) ++i;
  if (i == line_end) return past_line();
  if (i == m0 || in[i] != ' ') return fail(status::bad_request);
  r.req.method_name = in.substr(m0, i - m0);
  ++i;

  // request-target SP: visible bytes only.
  const std::size_t t0 = i;
  while (i < line_end && is(in[i], target_byte)) ++i;
  if (i == line_end) return past_line();
  if (i == t0 || in[i] != ' ') return fail(status::bad_request);
  r.req.target = in.substr(t0, i - t0);
  ++i;

  // HTTP-version CRLF: exactly "HTTP/" DIGIT "." DIGIT, then CRLF, each byte checked as it
  // arrives. "HTTP/1.10", "http/1.1", "HTTP/2" and a missing version (HTTP/0.9's "GET /") are 400.
  static constexpr char shape[] = "HTTP/0.0\r\n";  // '0' marks a digit
  const std::size_t v0 = i;
  for (std::size_t k = 0; k < sizeof shape - 1; ++k, ++i) {
    if (i == line_end) return past_line();
    const bool ok = shape[k] == '0' ? is_digit(in[i]) : in[i] == shape[k];
    if (!ok) return fail(status::bad_request);
  }
  // A well-formed version we do not speak: its header grammar is not ours to guess, stop here.
  if (in[v0 + 5] != '1' || in[v0 + 7] > '1') return fail(status::version_not_supported);
  r.req.minor_version = in[v0 + 7] - '0';
  r.req.verb = classify(r.req.method_name);
  if (r.req.verb == method::unknown) return fail(status::not_implemented);

  // field-line CRLF, until an empty line. A line is judged once its LF has arrived (memchr finds
  // it), so no verdict depends on bytes after the line.
  bool conn_close = false, conn_keep_alive = false, have_length = false;
  bool have_te = false, te_last_chunked = false, te_other = false, te_malformed = false;
  unsigned te_chunked = 0;
  std::size_t length = 0;
  for (;;) {
    if (i == avail) return more();
    const void* lf = std::memchr(in.data() + i, '\n', avail - i);
    if (lf == nullptr) return more();
    const std::size_t eol = static_cast<std::size_t>(static_cast<const char*>(lf) - in.data());
    // Bare LF is rejected everywhere, as it is in the request line: RFC 9112 §2.2 lets a recipient
    // choose, and refusing removes any disagreement with a proxy in front about where a line ends.
    // A bare CR is not a field byte, so it is rejected by the value scan below.
    if (eol == i || in[eol - 1] != '\r') return fail(status::bad_request);
    const std::size_t end = eol - 1;  // the CR
    if (end == i) {                   // the empty line: end of the header section
      i = eol + 1;
      break;
    }

    // field-name ":" — a token immediately followed by the colon. This one test also rejects
    // whitespace before the colon (RFC 9112 §5.1) and obs-fold, a line that starts with SP or HTAB
    // (RFC 9112 §5.2: we answer 400 rather than unfold).
    const std::size_t n0 = i;
    while (i < end && is(in[i], tchar)) ++i;
    if (i == n0 || i == end || in[i] != ':') return fail(status::bad_request);
    const std::string_view name = in.substr(n0, i - n0);
    ++i;
    for (std::size_t k = i; k < end; ++k)
      if (!is(in[k], field_byte)) return fail(status::bad_request);  // CTL, NUL, bare CR
    std::size_t a = i, b = end;  // the value without its surrounding OWS
    while (a < b && is_ows(in[a])) ++a;
    while (b > a && is_ows(in[b - 1])) --b;
    const std::string_view value = in.substr(a, b - a);
    i = eol + 1;

    switch (name.size()) {
      case 4:
        if (iequals(name, "host")) {
          ++r.req.host_lines;
          if (!valid_host(value)) r.req.host_valid = false;
        }
        break;
      case 5:
        if (iequals(name, "range")) r.req.fields |= field::range;
        break;
      case 6:
        if (iequals(name, "expect")) r.req.fields |= field::expect;
        break;
      case 8:
        if (iequals(name, "if-match")) r.req.fields |= field::if_match;
        else if (iequals(name, "if-range")) r.req.fields |= field::if_range;
        break;
      case 13:
        if (iequals(name, "if-none-match")) r.req.fields |= field::if_none_match;
        break;
      case 17:
        if (iequals(name, "if-modified-since")) r.req.fields |= field::if_modified_since;
        else if (iequals(name, "transfer-encoding")) {
          // Judged when the header section ends: a later Content-Length or coding changes it.
          have_te = true;
          if (!scan_transfer_encoding(value, te_last_chunked, te_chunked, te_other))
            te_malformed = true;
        }
        break;
      case 19:
        if (iequals(name, "if-unmodified-since")) r.req.fields |= field::if_unmodified_since;
        break;
      case 10:
        if (iequals(name, "connection") && !scan_connection(value, conn_close, conn_keep_alive))
          return fail(status::bad_request);
        break;
      case 14:
        if (iequals(name, "content-length")) {
          std::size_t n;
          if (!parse_content_length(value, n)) return fail(status::bad_request);
          if (have_length && n != length) return fail(status::bad_request);  // RFC 9112 §6.3
          have_length = true;
          length = n;
          if (length > lim.max_body_bytes) return fail(status::payload_too_large);
        }
        break;
      default:
        break;
    }
  }

  r.req.keep_alive = r.req.minor_version == 1 ? !conn_close : conn_keep_alive && !conn_close;
  r.req.head = in.substr(m0, i - m0);  // from the request line: leading CRLFs are not part of it
  if (have_te) {
    // Both framings at once is the request-smuggling shape (RFC 9112 §6.3 item 3): 400, close.
    // HTTP/1.0 has no transfer codings: its framing is faulty (RFC 9112 §6.1).
    if (have_length || r.req.minor_version == 0 || te_malformed) return fail(status::bad_request);
    // Chunked must be the final coding, and applied once (RFC 9112 §6.3 item 4, §7).
    if (!te_last_chunked || te_chunked != 1) return fail(status::bad_request);
    if (te_other) return fail(status::not_implemented);  // a coding we do not decode (§6.1)
    r.req.chunked = true;
    return parse_chunked(in, i, lim, r);
  }
  r.req.body_bytes = length;
  if (length > size - i) {  // the body is still arriving
    r.head_bytes = i;
    return fail(status::incomplete);
  }
  r.consumed = i + length;
  r.st = status::complete;
  return r;
}

int status_code(status st) noexcept {
  switch (st) {
    case status::bad_request: return 400;
    case status::uri_too_long: return 414;
    case status::headers_too_large: return 431;
    case status::payload_too_large: return 413;
    case status::not_implemented: return 501;
    case status::version_not_supported: return 505;
    case status::complete:
    case status::incomplete: break;
  }
  return 0;
}

}  // namespace sws::http
