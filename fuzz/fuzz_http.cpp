// fuzz/fuzz_http.cpp — libFuzzer target for SWS's request path (apps/sws/http.hpp): whole
// requests arriving in arbitrary pieces, taken the way a connection takes them.
//
// Input layout (fuzz/README.md has the table and the commands):
//   byte 0     the limits: bits 0-1 max_header_bytes, 2-3 max_request_line_bytes,
//              4-5 max_body_bytes
//   byte 1     how the stream arrives: 0 all at once, 1 byte by byte, otherwise in pieces whose
//              sizes come from a small generator seeded by this byte
//   the rest   the bytes a client sends on one connection (any number of pipelined requests)
//
// For each input the stream is served twice, all at once and in pieces, like a connection does:
// append to a buffer, parse_request, take each complete request, stop at the first error. Both
// runs must take the same requests and end on the same status (the parser's verdict on a prefix
// never depends on bytes after it). Every parse_request and normalize_target result is checked
// against the invariants below; a violation aborts, which libFuzzer reports as a crash and the
// replay (replay_main.cpp) as a failed test.
#include "http.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace sws::http;

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

// Small limits make 414, 431 and 413 reachable from short inputs; the first of each set is the
// default, so the server's configuration is fuzzed too.
limits pick_limits(std::uint8_t b) {
  static constexpr std::size_t header[] = {16384, 1024, 64, 16};
  static constexpr std::size_t line[] = {8000, 256, 16, 3};  // 16: "GET / HTTP/1.1\r\n" fits
  static constexpr std::size_t body[] = {0, 8, 1000, 100000};
  limits l;
  l.max_header_bytes = header[b & 3];
  l.max_request_line_bytes = line[(b >> 2) & 3];
  l.max_body_bytes = body[(b >> 4) & 3];
  return l;
}

// Piece sizes for a stream: 0 -> one piece, 1 -> single bytes, otherwise a splitmix64 sequence
// seeded by the byte; odd seeds favour tiny pieces (split inside tokens and CRLFs), even ones
// pieces of up to 512 bytes (split between pipelined requests).
class splitter {
 public:
  explicit splitter(std::uint8_t mode) : mode_(mode), state_(mode) {}
  std::size_t next(std::size_t left) {
    if (mode_ == 0) return left;
    if (mode_ == 1) return 1;
    state_ += 0x9e3779b97f4a7c15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const std::size_t n = 1 + static_cast<std::size_t>(z % ((mode_ & 1) ? 8 : 512));
    return n < left ? n : left;
  }

 private:
  std::uint8_t mode_;
  std::uint64_t state_;
};

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// What normalize_target promises about a path it accepts: relative, no empty, "." or ".."
// segment (so it cannot climb out of the root), no NUL or control byte.
void check_normalized(std::string_view target) {
  std::string path = "stale";
  const target_status st = normalize_target(target, path);
  if (st != target_status::ok) {
    FUZZ_CHECK(st == target_status::bad_request || st == target_status::not_found);
    FUZZ_CHECK(path.empty());
    return;
  }
  FUZZ_CHECK(path.size() <= target.size());
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    FUZZ_CHECK(u >= 0x20 && u != 0x7f);  // NUL above all
  }
  if (path.empty()) return;  // the root
  FUZZ_CHECK(path.front() != '/');
  FUZZ_CHECK(path.back() != '/');
  for (std::size_t a = 0;;) {
    std::size_t b = path.find('/', a);
    if (b == std::string::npos) b = path.size();
    const std::string_view seg = std::string_view(path).substr(a, b - a);
    FUZZ_CHECK(!seg.empty() && seg != "." && seg != "..");
    if (b == path.size()) break;
    a = b + 1;
  }
}

struct taken {
  std::size_t consumed, body_bytes;
  bool chunked;
  unsigned host_lines, fields;
  method verb;
  bool keep_alive;
  int minor_version;
  std::string target;
  bool operator==(const taken&) const = default;
};

struct outcome {
  std::vector<taken> requests;
  status last = status::incomplete;
  bool operator==(const outcome&) const = default;
};

// One parse_request over `buffered`, from an exact-size heap copy so that ASan flags a read one
// byte past the end; checks the result and returns it (its views point into the copy).
parse_result parse_checked(std::string_view buffered, const limits& lim,
                           std::unique_ptr<char[]>& copy) {
  copy.reset(new char[buffered.size() ? buffered.size() : 1]);
  if (!buffered.empty()) std::memcpy(copy.get(), buffered.data(), buffered.size());
  const std::string_view in(copy.get(), buffered.size());
  const parse_result r = parse_request(in, lim);

  switch (r.st) {
    case status::complete: {
      const request& q = r.req;
      FUZZ_CHECK(r.consumed > 0 && r.consumed <= in.size());
      FUZZ_CHECK(q.verb == method::get || q.verb == method::head || q.verb == method::other ||
                 q.verb == method::options);
      FUZZ_CHECK(q.minor_version == 0 || q.minor_version == 1);
      FUZZ_CHECK(!q.method_name.empty() && inside(q.method_name, in));
      FUZZ_CHECK(!q.target.empty() && inside(q.target, in));
      // The request line, CRLF included, is within its limit.
      FUZZ_CHECK(q.head.find("\r\n") + 2 <= lim.max_request_line_bytes);
      FUZZ_CHECK(q.body_bytes <= lim.max_body_bytes && q.body_bytes <= r.consumed);
      FUZZ_CHECK(q.head.size() <= lim.max_header_bytes && inside(q.head, in));
      FUZZ_CHECK(q.head.data() == q.method_name.data());  // it starts at the request line
      const std::size_t head_end = static_cast<std::size_t>(q.head.data() - in.data()) + q.head.size();
      FUZZ_CHECK(head_end <= lim.max_header_bytes && r.consumed >= head_end);
      // The body's bytes on the wire (chunk framing included) are within the body limit.
      FUZZ_CHECK(r.consumed - head_end <= lim.max_body_bytes);
      FUZZ_CHECK(q.chunked || r.consumed - head_end == q.body_bytes);
      {
        // Every field noted as present is found again by field_values, and Host lines agree.
        std::string v;
        static constexpr std::pair<unsigned, const char*> names[] = {
            {field::if_match, "if-match"}, {field::if_none_match, "if-none-match"},
            {field::if_modified_since, "if-modified-since"},
            {field::if_unmodified_since, "if-unmodified-since"}, {field::range, "range"},
            {field::if_range, "if-range"}, {field::expect, "expect"}};
        for (const auto& [bit, name] : names)
          FUZZ_CHECK(((q.fields & bit) != 0) == (field_values(q.head, name, v) > 0));
        FUZZ_CHECK(field_values(q.head, "host", v) == q.host_lines);
      }
      FUZZ_CHECK(status_code(r.st) == 0);
      break;
    }
    case status::incomplete:
      // Never waiting on more than the limits allow: an open header section is at most
      // max_header_bytes, and beyond it only a body within max_body_bytes may be pending.
      FUZZ_CHECK(in.size() <= lim.max_header_bytes ||
                 in.size() - lim.max_header_bytes <= lim.max_body_bytes);
      if (lim.max_body_bytes == 0) FUZZ_CHECK(in.size() <= lim.max_header_bytes);
      // Only a body is awaited: the head is within its limit, and what came of the body too.
      if (r.head_bytes > 0)
        FUZZ_CHECK(r.head_bytes <= lim.max_header_bytes && r.head_bytes <= in.size() &&
                   in.size() - r.head_bytes <= lim.max_body_bytes);
      FUZZ_CHECK(status_code(r.st) == 0);
      break;
    case status::headers_too_large:
      FUZZ_CHECK(in.size() > lim.max_header_bytes);
      FUZZ_CHECK(status_code(r.st) == 431);
      break;
    case status::uri_too_long:
      // Only once a byte past the line's limit is in, and never past the header limit's 431.
      FUZZ_CHECK(in.size() > lim.max_request_line_bytes);
      FUZZ_CHECK(lim.max_request_line_bytes < lim.max_header_bytes);
      FUZZ_CHECK(status_code(r.st) == 414);
      break;
    case status::payload_too_large:
      FUZZ_CHECK(status_code(r.st) == 413);
      break;
    case status::bad_request:
      FUZZ_CHECK(status_code(r.st) == 400);
      break;
    case status::not_implemented:
      FUZZ_CHECK(status_code(r.st) == 501);
      break;
    case status::version_not_supported:
      FUZZ_CHECK(status_code(r.st) == 505);
      break;
    default:
      FUZZ_CHECK(!"status out of range");
  }
  return r;
}

// A connection's read loop: append each piece, take every complete request, stop at an error.
outcome serve(std::string_view stream, const limits& lim, splitter split) {
  outcome out;
  std::string buf;
  std::size_t start = 0;  // the first unconsumed byte of `buf`
  std::unique_ptr<char[]> copy;
  for (std::size_t sent = 0; sent < stream.size();) {
    const std::size_t n = split.next(stream.size() - sent);
    buf.append(stream.substr(sent, n));
    sent += n;
    for (;;) {
      const parse_result r = parse_checked(std::string_view(buf).substr(start), lim, copy);
      out.last = r.st;
      if (r.st == status::incomplete) break;
      if (r.st != status::complete) return out;  // the framing is lost: answer and close
      check_normalized(r.req.target);
      out.requests.push_back({r.consumed, r.req.body_bytes, r.req.chunked, r.req.host_lines,
                              r.req.fields, r.req.verb, r.req.keep_alive,
                              r.req.minor_version, std::string(r.req.target)});
      start += r.consumed;
      FUZZ_CHECK(start <= buf.size());
    }
    // Drop what was taken now and then, as a server compacting its buffer would.
    if (start > 4096) {
      buf.erase(0, start);
      start = 0;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Byte-by-byte arrival re-parses the open request once per byte; beyond this the quadratic cost
  // buys nothing that smaller inputs with small limits do not already reach. Above the default
  // header limit (16 KiB), so that the defaults' 431 stays reachable.
  if (size < 2 || size > 20 * 1024) return 0;
  const limits lim = pick_limits(data[0]);
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const outcome whole = serve(stream, lim, splitter(0));
  const outcome pieces = serve(stream, lim, splitter(data[1]));
  FUZZ_CHECK(whole == pieces);

  // normalize_target also on bytes parse_request would never let through.
  check_normalized(stream);
  return 0;
}
