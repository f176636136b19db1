// SWS's request parser and target normalizer (apps/sws/http.hpp), one line per behaviour.
//
// Every input is copied so that it ends right before a PROT_NONE page (as picohttpparser's tests
// do): a parser that reads one byte past the end of what it was given faults here even in the
// release build, without ASan.
#include "http.hpp"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace {
std::atomic<std::uint64_t> heap_allocations{0};
}

// Counting replacements of the global allocation functions, for parse_never_allocates. Out of
// line, or GCC inlines malloc() and free() across them and warns of mismatched new and delete.
[[gnu::noinline]] void* operator new(std::size_t n) {
  heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace sws::http {
// gtest prints these in failure messages.
std::ostream& operator<<(std::ostream& os, status s) {
  static const char* const names[] = {"complete", "incomplete", "bad_request (400)",
    "uri_too_long (414)", "headers_too_large (431)", "payload_too_large (413)",
    "not_implemented (501)", "version_not_supported (505)"};
  return os << names[static_cast<int>(s)];
}
std::ostream& operator<<(std::ostream& os, target_status s) {
  static const char* const names[] = {"ok", "bad_request", "not_found"};
  return os << names[static_cast<int>(s)];
}
std::ostream& operator<<(std::ostream& os, method m) {
  static const char* const names[] = {"get", "head", "other", "options", "unknown"};
  return os << names[static_cast<int>(m)];
}
}  // namespace sws::http

namespace {

using namespace sws::http;
using namespace std::string_literals;

// A copy of `s` whose last byte is the last byte before an inaccessible page. place() puts
// another string (of at most the first one's size) there, for loops over many prefixes.
class guarded {
 public:
  explicit guarded(std::string_view s) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    data_ = (s.size() + page - 1) / page * page;
    void* m =
        mmap(nullptr, data_ + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) std::abort();
    base_ = static_cast<char*>(m);
    if (mprotect(base_ + data_, page, PROT_NONE) != 0) std::abort();
    place(s);
  }
  ~guarded() { munmap(base_, data_ + static_cast<std::size_t>(sysconf(_SC_PAGESIZE))); }
  guarded(const guarded&) = delete;
  guarded& operator=(const guarded&) = delete;
  std::string_view place(std::string_view s) {
    if (s.size() > data_) std::abort();
    begin_ = base_ + data_ - s.size();
    if (!s.empty()) std::memmove(begin_, s.data(), s.size());
    size_ = s.size();
    return view();
  }
  std::string_view view() const { return {begin_, size_}; }

 private:
  char* base_;
  char* begin_;
  std::size_t data_, size_;
};

// A parse whose string_views stay valid as long as it lives.
struct parsed {
  std::unique_ptr<guarded> buf;
  parse_result r;
};

parsed parse(std::string_view s, const limits& lim = {}) {
  parsed p{std::make_unique<guarded>(s), {}};
  p.r = parse_request(p.buf->view(), lim);
  return p;
}

status st(std::string_view s, const limits& lim = {}) { return parse(s, lim).r.st; }

limits with(std::size_t header, std::size_t line, std::size_t body) {
  limits l;
  l.max_header_bytes = header;
  l.max_request_line_bytes = line;
  l.max_body_bytes = body;
  return l;
}
limits body_limit(std::size_t n) { return with(limits{}.max_header_bytes, limits{}.max_request_line_bytes, n); }

const std::string get = "GET / HTTP/1.1\r\n";
const std::string end = "\r\n";

// "GET /aaa...a HTTP/1.1\r\n": a request line of exactly `octets` bytes (CRLF included).
std::string get_line(std::size_t octets) {
  const std::size_t fixed = std::string("GET / HTTP/1.1\r\n").size();  // 16: method, SPs, "/", version
  return "GET /" + std::string(octets - fixed, 'a') + " HTTP/1.1\r\n";
}

// ---------------------------------------------------------------------------------------------
// Verdicts: each case is one behaviour; the same table drives the split tests below.

struct verdict {
  const char* name;
  std::string in;
  status want;
  limits lim = {};
};

const std::vector<verdict>& verdicts() {
  static const std::vector<verdict> v = {
    // complete
    {"minimal_get", "GET / HTTP/1.1\r\n\r\n", status::complete},
    {"head_with_host", "HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n", status::complete},
    {"http10_get", "GET / HTTP/1.0\r\n\r\n", status::complete},
    {"ows_around_value", get + "Host: \t x \t\r\n" + end, status::complete},
    {"empty_value", get + "X-Empty:\r\n" + end, status::complete},
    {"obs_text_in_value", get + "X: caf\xc3\xa9\r\n" + end, status::complete},
    {"every_tchar_in_name", get + "!#$%&'*+-.^_`|~09azAZ: v\r\n" + end, status::complete},
    {"leading_empty_lines_skipped", "\r\n\r\n" + get + end, status::complete},
    {"body_within_limit", get + "Content-Length: 5\r\n\r\nhello", status::complete,
     body_limit(5)},
    {"chunked_body", get + "Transfer-Encoding: chunked\r\n" + end + "5\r\nhello\r\n0\r\n\r\n",
     status::complete, body_limit(100)},
    {"chunked_with_extension_and_trailer",
     get + "Transfer-Encoding: Chunked\r\n" + end + "5;a=b\r\nhello\r\nA\r\n0123456789\r\n"
     "0\r\nX-Trailer: v\r\n\r\n", status::complete, body_limit(100)},
    {"content_length_zero_with_no_body_limit", get + "Content-Length: 0\r\n" + end,
     status::complete},
    {"duplicate_content_lengths_agree", get + "Content-Length: 3\r\ncontent-length: 003\r\n\r\nabc",
     status::complete, body_limit(3)},
    {"post_is_complete_for_a_405", "POST /form HTTP/1.1\r\n\r\n", status::complete},
    {"options_star", "OPTIONS * HTTP/1.1\r\n\r\n", status::complete},
    {"absolute_form_target", "GET http://example.com/x HTTP/1.1\r\n\r\n", status::complete},
    {"backslash_and_high_bytes_in_target", "GET /a\\b\xff HTTP/1.1\r\n\r\n", status::complete},
    {"request_line_exactly_at_limit", "GET /abcdefg HTTP/1.1\r\n\r\n", status::complete,
     with(8192, 23, 0)},
    {"request_line_of_8000_octets_by_default", get_line(8000) + "Host: x\r\n" + end,
     status::complete},
    {"header_section_exactly_at_limit", get + "X: 1\r\n" + end, status::complete,
     with(get.size() + 8, 4096, 0)},

    // 400
    {"lowercase_protocol_name", "GET / http/1.1\r\n\r\n", status::bad_request},
    {"two_digit_minor_version", "GET / HTTP/1.10\r\n\r\n", status::bad_request},
    {"version_without_minor", "GET / HTTP/1\r\n\r\n", status::bad_request},
    {"version_with_letters", "GET / HTTP/a.b\r\n\r\n", status::bad_request},
    {"http09_request_line", "GET /\r\n\r\n", status::bad_request},
    {"missing_target", "GET  HTTP/1.1\r\n\r\n", status::bad_request},
    {"two_spaces_before_version", "GET /  HTTP/1.1\r\n\r\n", status::bad_request},
    {"space_after_version", "GET / HTTP/1.1 \r\n\r\n", status::bad_request},
    {"space_before_method", " GET / HTTP/1.1\r\n\r\n", status::bad_request},
    {"tab_as_separator", "GET\t/ HTTP/1.1\r\n\r\n", status::bad_request},
    {"non_token_method", "GE(T / HTTP/1.1\r\n\r\n", status::bad_request},
    {"nul_in_method", "G\0ET / HTTP/1.1\r\n\r\n"s, status::bad_request},
    {"nul_in_target", "GET /a\0b HTTP/1.1\r\n\r\n"s, status::bad_request},
    {"control_in_target", "GET /a\x01 HTTP/1.1\r\n\r\n", status::bad_request},
    {"del_in_target", "GET /a\x7f HTTP/1.1\r\n\r\n", status::bad_request},
    {"bare_lf_after_request_line", "GET / HTTP/1.1\n\r\n", status::bad_request},
    {"bare_lf_after_field", get + "Host: x\n" + end, status::bad_request},
    {"bare_lf_as_final_line", get + "Host: x\r\n\n", status::bad_request},
    {"bare_lf_before_request_line", "\n" + get + end, status::bad_request},
    {"bare_cr_before_request_line", "\rGET / HTTP/1.1\r\n\r\n", status::bad_request},
    {"cr_without_lf_after_version", "GET / HTTP/1.1\rX\r\n\r\n", status::bad_request},
    {"bare_cr_in_value", get + "X: a\rb\r\n" + end, status::bad_request},
    {"space_before_colon", get + "Host : x\r\n" + end, status::bad_request},
    {"tab_before_colon", get + "Host\t: x\r\n" + end, status::bad_request},
    {"field_without_colon", get + "Host x\r\n" + end, status::bad_request},
    {"empty_field_name", get + ": x\r\n" + end, status::bad_request},
    {"non_token_field_name", get + "X(y): z\r\n" + end, status::bad_request},
    {"obs_fold_with_space", get + "X: a\r\n b\r\n" + end, status::bad_request},
    {"obs_fold_with_tab", get + "X: a\r\n\tb\r\n" + end, status::bad_request},
    {"whitespace_line_after_request_line", get + " Host: x\r\n" + end, status::bad_request},
    {"nul_in_value", get + "X: a\0b\r\n"s + end, status::bad_request},
    {"escape_in_value", get + "X: a\x1b[0m\r\n" + end, status::bad_request},
    {"del_in_value", get + "X: a\x7f\r\n" + end, status::bad_request},
    {"content_length_letters", get + "Content-Length: abc\r\n" + end, status::bad_request},
    {"content_length_negative", get + "Content-Length: -1\r\n" + end, status::bad_request},
    {"content_length_plus_sign", get + "Content-Length: +5\r\n" + end, status::bad_request},
    {"content_length_list", get + "Content-Length: 5, 5\r\n" + end, status::bad_request},
    {"content_length_inner_space", get + "Content-Length: 5 5\r\n" + end, status::bad_request},
    {"content_length_empty", get + "Content-Length:\r\n" + end, status::bad_request},
    {"content_length_hex", get + "Content-Length: 0x5\r\n" + end, status::bad_request},
    {"content_length_decimal_point", get + "Content-Length: 5.0\r\n" + end, status::bad_request},
    {"content_lengths_disagree", get + "Content-Length: 3\r\nContent-Length: 4\r\n" + end,
     status::bad_request, body_limit(100)},
    {"connection_option_with_semicolon", get + "Connection: close;x\r\n" + end,
     status::bad_request},
    {"connection_options_without_comma", get + "Connection: close keep-alive\r\n" + end,
     status::bad_request},
    {"connection_option_quoted", get + "Connection: \"close\"\r\n" + end, status::bad_request},
    {"transfer_encoding_not_chunked", get + "tRaNsFeR-eNcOdInG: identity\r\n" + end,
     status::bad_request},
    {"transfer_encoding_empty", get + "Transfer-Encoding:\r\n" + end, status::bad_request},
    {"transfer_encoding_and_content_length",
     get + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n" + end + "0\r\n\r\n",
     status::bad_request, body_limit(100)},
    {"content_length_after_transfer_encoding",
     get + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n" + end + "0\r\n\r\n",
     status::bad_request, body_limit(100)},
    {"transfer_encoding_in_http10",
     "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n" + end + "0\r\n\r\n", status::bad_request,
     body_limit(100)},
    {"chunked_not_last", get + "Transfer-Encoding: chunked, gzip\r\n" + end, status::bad_request,
     body_limit(100)},
    {"chunked_twice", get + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n" + end,
     status::bad_request, body_limit(100)},
    {"chunk_size_not_hex", get + "Transfer-Encoding: chunked\r\n" + end + "zz\r\n",
     status::bad_request, body_limit(100)},
    {"chunk_data_without_crlf", get + "Transfer-Encoding: chunked\r\n" + end + "5\r\nhelloX",
     status::bad_request, body_limit(100)},
    {"chunk_size_bare_lf", get + "Transfer-Encoding: chunked\r\n" + end + "5\nhello\r\n",
     status::bad_request, body_limit(100)},
    {"chunk_ext_with_control", get + "Transfer-Encoding: chunked\r\n" + end + "5;a\x01\r\n",
     status::bad_request, body_limit(100)},
    {"trailer_without_colon", get + "Transfer-Encoding: chunked\r\n" + end + "0\r\nBad\r\n\r\n",
     status::bad_request, body_limit(100)},

    // 501
    {"unknown_method", "BREW / HTTP/1.1\r\n\r\n", status::not_implemented},
    {"lowercase_get_is_unknown", "get / HTTP/1.1\r\n\r\n", status::not_implemented},
    {"webdav_method", "PROPFIND / HTTP/1.1\r\n\r\n", status::not_implemented},
    {"transfer_encoding_gzip_then_chunked",
     get + "Transfer-Encoding: gzip, chunked\r\n" + end + "0\r\n\r\n", status::not_implemented,
     body_limit(100)},
    {"unknown_method_before_bad_field", "BREW / HTTP/1.1\r\nbad field\r\n\r\n",
     status::not_implemented},

    // 505
    {"http2", "GET / HTTP/2.0\r\n\r\n", status::version_not_supported},
    {"http09_with_version", "GET / HTTP/0.9\r\n\r\n", status::version_not_supported},
    {"http12", "GET / HTTP/1.2\r\n\r\n", status::version_not_supported},
    {"http31", "GET / HTTP/3.1\r\n\r\n", status::version_not_supported},
    {"version_before_method", "BREW / HTTP/2.0\r\n\r\n", status::version_not_supported},

    // 413
    {"any_body_over_zero_limit", get + "Content-Length: 1\r\n\r\nx", status::payload_too_large},
    {"body_one_over_limit", get + "Content-Length: 11\r\n" + end, status::payload_too_large,
     body_limit(10)},
    {"content_length_beyond_64_bits", get + "Content-Length: 99999999999999999999999\r\n" + end,
     status::payload_too_large, body_limit(SIZE_MAX - 1)},
    {"post_body_over_limit", "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789",
     status::payload_too_large},
    {"chunked_over_limit", get + "Transfer-Encoding: chunked\r\n" + end + "5\r\nhello\r\n0\r\n\r\n",
     status::payload_too_large, body_limit(10)},
    {"chunk_size_over_limit", get + "Transfer-Encoding: chunked\r\n" + end + "fffffffffffffffffff",
     status::payload_too_large, body_limit(100)},
    {"too_many_chunks",
     get + "Transfer-Encoding: chunked\r\n" + end + [] {
       std::string b;
       for (int k = 0; k < 1025; ++k) b += "1\r\nx\r\n";
       return b + "0\r\n\r\n";
     }(), status::payload_too_large, body_limit(100000)},
    {"payload_before_later_transfer_encoding",
     get + "Content-Length: 5\r\nTransfer-Encoding: x\r\n" + end, status::payload_too_large},

    // 414
    {"request_line_of_8001_octets_by_default", get_line(8001) + "Host: x\r\n" + end,
     status::uri_too_long},
    {"request_line_one_over_limit", "GET /abcdefgh HTTP/1.1\r\n\r\n", status::uri_too_long,
     with(8192, 23, 0)},
    {"long_target_before_its_end", "GET /aaaaaaaaaaaaaaaa", status::uri_too_long,
     with(8192, 8, 0)},
    {"long_target_before_bad_version", "GET /aaaaaaaa HTTP/9\r\n\r\n", status::uri_too_long,
     with(8192, 8, 0)},
    // The limit is the line's, not the target's: a method, or the version after a target that
    // used up the room, passes it too.
    {"long_method_before_its_end", "ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n", status::uri_too_long,
     with(8192, 8, 0)},
    {"version_past_the_limit", "GET /abcdefg HTTP/1.1\r\n\r\n", status::uri_too_long,
     with(8192, 22, 0)},
    {"request_line_at_limit_after_empty_lines", "\r\n\r\nGET /abcdefg HTTP/1.1\r\n\r\n",
     status::complete, with(8192, 23, 0)},
    {"request_line_over_limit_after_empty_lines", "\r\n\r\nGET /abcdefgh HTTP/1.1\r\n\r\n",
     status::uri_too_long, with(8192, 23, 0)},

    // 431
    {"complete_header_section_one_over_limit", get + "X: 1\r\n" + end,
     status::headers_too_large, with(get.size() + 7, 4096, 0)},
    {"endless_empty_lines", [] { std::string s; for (int k = 0; k < 100; ++k) s += "\r\n";
                                  return s; }(), status::headers_too_large, with(64, 64, 0)},
    {"one_endless_field", get + "X: " + std::string(17000, 'v'), status::headers_too_large},
    {"endless_request_line", "GET /" + std::string(300, 'a'), status::headers_too_large,
     with(256, 1024, 0)},
    {"many_fields", [] { std::string s = get; for (int k = 0; k < 2000; ++k) s += "X: y\r\n";
                         return s + end; }(), status::headers_too_large, with(8192, 8000, 0)},
  };
  return v;
}

void PrintTo(const verdict& v, std::ostream* os) { *os << v.name; }

class Verdict : public ::testing::TestWithParam<verdict> {};

TEST_P(Verdict, whole_request_gets_its_status) {
  const verdict& c = GetParam();
  const parsed p = parse(c.in, c.lim);
  EXPECT_EQ(p.r.st, c.want);
  if (c.want == status::complete) {
    EXPECT_EQ(p.r.consumed, c.in.size());
    EXPECT_NE(p.r.req.verb, method::unknown);
  }
}

// "requests split at every byte offset": every prefix is incomplete or already has the verdict of
// the whole (the first problem in byte order wins, as soon as its bytes are in), and once a
// prefix has a verdict every longer prefix has the same one.
TEST_P(Verdict, every_prefix_is_incomplete_or_already_the_same_verdict) {
  const verdict& c = GetParam();
  guarded g(c.in);
  bool decided = false;
  for (std::size_t n = 0; n < c.in.size(); ++n) {
    const status s = parse_request(g.place(std::string_view(c.in).substr(0, n)), c.lim).st;
    if (decided) {
      ASSERT_EQ(s, c.want) << "prefix of " << n << " bytes";
    } else if (s != status::incomplete) {
      ASSERT_EQ(s, c.want) << "prefix of " << n << " bytes";
      ASSERT_NE(s, status::complete) << "prefix of " << n << " bytes";
      decided = true;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Http, Verdict, ::testing::ValuesIn(verdicts()),
                         [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// Fields of a complete request.

TEST(Parse, request_line_fields_point_into_the_input) {
  const parsed p = parse("HEAD /a/b?c=d HTTP/1.0\r\nHost: x\r\n\r\n");
  ASSERT_EQ(p.r.st, status::complete);
  EXPECT_EQ(p.r.req.verb, method::head);
  EXPECT_EQ(p.r.req.method_name, "HEAD");
  EXPECT_EQ(p.r.req.target, "/a/b?c=d");
  EXPECT_EQ(p.r.req.minor_version, 0);
  EXPECT_EQ(p.r.req.body_bytes, 0u);
  EXPECT_EQ(p.r.consumed, p.buf->view().size());
  EXPECT_EQ(p.r.req.target.data(), p.buf->view().data() + 5);
}

TEST(Parse, get_and_head_are_served_methods) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\n\r\n").r.req.verb, method::get);
  EXPECT_EQ(parse("HEAD / HTTP/1.1\r\n\r\n").r.req.verb, method::head);
}

TEST(Parse, known_methods_sws_does_not_serve_are_other) {
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT"}) {
    const parsed p = parse(std::string(m) + " / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(p.r.st, status::complete) << m;
    EXPECT_EQ(p.r.req.verb, method::other) << m;
    EXPECT_EQ(p.r.req.method_name, m);
  }
}

TEST(Parse, methods_are_case_sensitive_tokens) {
  for (const char* m : {"get", "Get", "HEAD2", "GETS", "X-CUSTOM", "M-SEARCH", "post"})
    EXPECT_EQ(st(std::string(m) + " / HTTP/1.1\r\n\r\n"), status::not_implemented) << m;
}

TEST(Parse, leading_empty_lines_are_counted_in_consumed) {
  const parsed p = parse("\r\n\r\nGET /x HTTP/1.1\r\n\r\n");
  ASSERT_EQ(p.r.st, status::complete);
  EXPECT_EQ(p.r.consumed, 4 + 19u);
  EXPECT_EQ(p.r.req.target, "/x");
}

TEST(Parse, body_is_counted_in_consumed) {
  const parsed p = parse(get + "Content-Length: 4\r\n\r\nbodyGET", body_limit(4));
  ASSERT_EQ(p.r.st, status::complete);
  EXPECT_EQ(p.r.req.body_bytes, 4u);
  EXPECT_EQ(p.r.consumed, get.size() + 21 + 4);
}

TEST(Parse, field_names_are_case_insensitive) {
  EXPECT_EQ(parse(get + "cOnTeNt-LeNgTh: 2\r\n\r\nab", body_limit(2)).r.req.body_bytes, 2u);
  EXPECT_EQ(st(get + "CONTENT-LENGTH: 2\r\n" + end), status::payload_too_large);
  EXPECT_TRUE(parse(get + "TRANSFER-ENCODING: chunked\r\n" + end + "0\r\n\r\n", body_limit(9)).r.req.chunked);
  EXPECT_FALSE(parse(get + "CONNECTION: close\r\n" + end).r.req.keep_alive);
  EXPECT_FALSE(parse(get + "connection: close\r\n" + end).r.req.keep_alive);
}

TEST(Parse, similar_names_are_not_the_headers_we_read) {
  EXPECT_EQ(st(get + "Content-Lengths: x\r\n" + end), status::complete);
  EXPECT_EQ(st(get + "Transfer-Encodings: x\r\n" + end), status::complete);
  EXPECT_EQ(st(get + "X-Content-Length: x\r\n" + end), status::complete);
  EXPECT_TRUE(parse(get + "Connections: close\r\n" + end).r.req.keep_alive);
}

TEST(Parse, content_length_takes_surrounding_whitespace_and_leading_zeros) {
  const parsed p = parse(get + "Content-Length: \t 0003 \t\r\n\r\nabc", body_limit(3));
  EXPECT_EQ(p.r.req.body_bytes, 3u);
}

TEST(Parse, status_codes) {
  EXPECT_EQ(status_code(status::bad_request), 400);
  EXPECT_EQ(status_code(status::payload_too_large), 413);
  EXPECT_EQ(status_code(status::uri_too_long), 414);
  EXPECT_EQ(status_code(status::headers_too_large), 431);
  EXPECT_EQ(status_code(status::not_implemented), 501);
  EXPECT_EQ(status_code(status::version_not_supported), 505);
  EXPECT_EQ(status_code(status::complete), 0);
  EXPECT_EQ(status_code(status::incomplete), 0);
}

// ---------------------------------------------------------------------------------------------
// Keep-alive.

bool keeps_alive(const std::string& version, const std::string& fields) {
  const parsed p = parse("GET / " + version + "\r\n" + fields + "\r\n");
  EXPECT_EQ(p.r.st, status::complete) << version << " " << fields;
  return p.r.req.keep_alive;
}

TEST(KeepAlive, http11_keeps_alive_by_default) { EXPECT_TRUE(keeps_alive("HTTP/1.1", "")); }
TEST(KeepAlive, http11_closes_on_close) {
  EXPECT_FALSE(keeps_alive("HTTP/1.1", "Connection: close\r\n"));
}
TEST(KeepAlive, http11_with_keep_alive_keeps_alive) {
  EXPECT_TRUE(keeps_alive("HTTP/1.1", "Connection: keep-alive\r\n"));
}
TEST(KeepAlive, http10_closes_by_default) { EXPECT_FALSE(keeps_alive("HTTP/1.0", "")); }
TEST(KeepAlive, http10_keeps_alive_on_keep_alive) {
  EXPECT_TRUE(keeps_alive("HTTP/1.0", "Connection: keep-alive\r\n"));
}
TEST(KeepAlive, http10_closes_on_close) {
  EXPECT_FALSE(keeps_alive("HTTP/1.0", "Connection: close\r\n"));
}
TEST(KeepAlive, options_are_case_insensitive) {
  EXPECT_FALSE(keeps_alive("HTTP/1.1", "Connection: CLOSE\r\n"));
  EXPECT_TRUE(keeps_alive("HTTP/1.0", "Connection: Keep-Alive\r\n"));
}
TEST(KeepAlive, close_wins_over_keep_alive) {
  EXPECT_FALSE(keeps_alive("HTTP/1.1", "Connection: keep-alive, close\r\n"));
  EXPECT_FALSE(keeps_alive("HTTP/1.0", "Connection: close, keep-alive\r\n"));
  EXPECT_FALSE(keeps_alive("HTTP/1.0", "Connection: keep-alive\r\nConnection: close\r\n"));
}
TEST(KeepAlive, option_lists_with_other_tokens_and_empty_elements) {
  EXPECT_FALSE(keeps_alive("HTTP/1.1", "Connection: Upgrade,  close\r\n"));
  EXPECT_TRUE(keeps_alive("HTTP/1.0", "Connection: ,, TE ,keep-alive,\r\n"));
  EXPECT_TRUE(keeps_alive("HTTP/1.1", "Connection: Upgrade\r\n"));
  EXPECT_TRUE(keeps_alive("HTTP/1.1", "Connection:\r\n"));
}
TEST(KeepAlive, options_are_whole_tokens) {
  EXPECT_TRUE(keeps_alive("HTTP/1.1", "Connection: closed\r\n"));
  EXPECT_FALSE(keeps_alive("HTTP/1.0", "Connection: keep-alive-please\r\n"));
}

// ---------------------------------------------------------------------------------------------
// Incomplete input and limits.

TEST(Incomplete, every_strict_prefix_of_a_request_needs_more) {
  EXPECT_EQ(st(""), status::incomplete);
  EXPECT_EQ(st("\r"), status::incomplete);
  EXPECT_EQ(st("\r\n"), status::incomplete);
  EXPECT_EQ(st("GE"), status::incomplete);
  EXPECT_EQ(st("GET /index.ht"), status::incomplete);
  EXPECT_EQ(st("GET / HTTP/1."), status::incomplete);
  EXPECT_EQ(st("GET / HTTP/1.1\r"), status::incomplete);
  EXPECT_EQ(st("GET / HTTP/1.1\r\nHost: x"), status::incomplete);
  EXPECT_EQ(st("GET / HTTP/1.1\r\nHost: x\r\n"), status::incomplete);
  EXPECT_EQ(st("GET / HTTP/1.1\r\nHost: x\r\n\r"), status::incomplete);
}

TEST(Incomplete, body_still_arriving) {
  EXPECT_EQ(st(get + "Content-Length: 5\r\n\r\nhel", body_limit(5)), status::incomplete);
}

TEST(Incomplete, body_may_carry_the_buffer_past_the_header_limit) {
  // The header section is complete and within the limit; only the body is pending.
  const std::string in = get + "Content-Length: 100\r\n\r\n" + std::string(60, 'b');
  EXPECT_EQ(st(in, with(64, 64, 100)), status::incomplete);
  EXPECT_EQ(st(in + std::string(40, 'b'), with(64, 64, 100)), status::complete);
}

TEST(Limits, open_header_section_is_incomplete_up_to_the_limit_then_431) {
  const std::string in = get + "X: " + std::string(100, 'v');
  const limits lim = with(in.size(), 4096, 0);
  EXPECT_EQ(st(in, lim), status::incomplete);
  EXPECT_EQ(st(in + "v", lim), status::headers_too_large);
}

TEST(Limits, bytes_past_the_header_limit_are_never_read) {
  // The byte at index max_header_bytes is garbage that would be a 400 if looked at.
  const std::string in = "GET / HTTP/1.1\r\nX: vvvv\0"s;
  EXPECT_EQ(st(in, with(in.size() - 1, 4096, 0)), status::headers_too_large);
  EXPECT_EQ(st(in, with(in.size(), 4096, 0)), status::incomplete);
}

TEST(Limits, leading_empty_lines_count_toward_the_header_limit) {
  const std::string in = "\r\n\r\n" + get + end;
  EXPECT_EQ(st(in, with(in.size(), 4096, 0)), status::complete);
  EXPECT_EQ(st(in, with(in.size() - 1, 4096, 0)), status::headers_too_large);
}

TEST(Limits, default_request_line_limit_is_rfc_9112s_8000_octets) {
  // RFC 9112 §3: "It is RECOMMENDED that all HTTP senders and recipients support, at a minimum,
  // request-line lengths of 8000 octets".
  EXPECT_EQ(limits{}.max_request_line_bytes, 8000u);
  // ... and the header limit leaves room for fields after such a line.
  EXPECT_GE(limits{}.max_header_bytes, 2 * limits{}.max_request_line_bytes);
}

TEST(Limits, request_line_of_8000_octets_is_complete_and_8001_is_414) {
  ASSERT_EQ(get_line(8000).size(), 8000u);
  const parsed p = parse(get_line(8000) + "Host: x\r\n" + end);
  ASSERT_EQ(p.r.st, status::complete);
  EXPECT_EQ(p.r.req.target.size(), 8000u - 15);  // all but "GET ", " HTTP/1.1\r\n"
  EXPECT_EQ(p.r.req.verb, method::get);
  EXPECT_EQ(st(get_line(8001) + "Host: x\r\n" + end), status::uri_too_long);
  // The same with the longest method SWS knows: the whole line counts, not the target alone.
  const std::string options = "OPTIONS /" + std::string(8000 - 20, 'a') + " HTTP/1.1\r\n";
  ASSERT_EQ(options.size(), 8000u);
  EXPECT_EQ(st(options + end), status::complete);
  EXPECT_EQ(st("OPTIONS /a" + options.substr(9) + end), status::uri_too_long);
}

TEST(Limits, request_line_past_the_limit_is_414_at_its_first_byte_past_it) {
  // 8,000 bytes of a line that has not ended yet: it may still end (no verdict); the 8,001st
  // byte, whatever it is, is 414 without waiting for the line's end.
  const std::string open = "GET /" + std::string(7995, 'a');
  ASSERT_EQ(open.size(), 8000u);
  EXPECT_EQ(st(open), status::incomplete);
  EXPECT_EQ(st(open + "a"), status::uri_too_long);
  EXPECT_EQ(st(open + " "), status::uri_too_long);
  EXPECT_EQ(st(open + "\x01"), status::uri_too_long);  // past the limit: not looked at as a 400
  // In the version: the line's last byte (LF) is the 8,001st.
  const std::string line = get_line(8001);
  EXPECT_EQ(st(line.substr(0, 8000)), status::incomplete);
  EXPECT_EQ(st(line), status::uri_too_long);
}

TEST(Limits, request_line_of_8000_octets_split_across_many_reads) {
  // A connection's way: a growing buffer, re-parsed at each read, in reads of 1 to 97 bytes.
  for (const std::size_t octets : {std::size_t{8000}, std::size_t{8001}}) {
    const std::string in = get_line(octets) + "Host: x\r\n" + end;
    const status want = octets == 8000 ? status::complete : status::uri_too_long;
    guarded g(in);
    std::size_t n = 0, step = 0, reads = 0;
    status last = status::incomplete;
    while (n < in.size()) {
      n = std::min(in.size(), n + 1 + (step++ * 37) % 97);
      ++reads;
      const parse_result r = parse_request(g.place(std::string_view(in).substr(0, n)));
      last = r.st;
      if (n <= 8000) {
        ASSERT_EQ(r.st, status::incomplete) << octets << ": after " << n << " bytes";
      }
      if (r.st != status::incomplete) {
        ASSERT_EQ(r.st, want) << octets << ": after " << n << " bytes";
        if (want == status::complete) {
          EXPECT_EQ(n, in.size());
          EXPECT_EQ(r.consumed, in.size());
          EXPECT_EQ(r.req.target.size(), octets - 15);
        } else {
          EXPECT_LT(n, 8001 + 97) << "414 within one read of the 8,001st byte";
        }
        break;
      }
    }
    EXPECT_EQ(last, want) << octets;
    EXPECT_GT(reads, 100u) << octets;  // many reads, not a few large ones
  }
}

TEST(Limits, incomplete_says_whether_the_request_line_is_done) {
  // The session re-parses an open request line once it passes its limit (session.cpp): it tells
  // an open line from open fields by req.verb.
  EXPECT_EQ(parse("GET /abc").r.req.verb, method::unknown);
  EXPECT_EQ(parse("GET /abc HTTP/1.1\r").r.req.verb, method::unknown);
  EXPECT_EQ(parse("\r\nGET").r.req.verb, method::unknown);
  const parsed p = parse("GET /abc HTTP/1.1\r\nHost: x");
  EXPECT_EQ(p.r.st, status::incomplete);
  EXPECT_EQ(p.r.req.verb, method::get);
}

TEST(Limits, header_limit_wins_when_smaller_than_the_request_line_limit) {
  EXPECT_EQ(st("GET /" + std::string(100, 'a'), with(50, 4096, 0)), status::headers_too_large);
  // Equal limits: the byte past both is the header limit's.
  EXPECT_EQ(st("GET /" + std::string(100, 'a'), with(50, 50, 0)), status::headers_too_large);
}

TEST(Limits, huge_limits_do_not_overflow) {
  const std::size_t huge = static_cast<std::size_t>(-1);
  EXPECT_EQ(st("GET /" + std::string(100, 'a'), with(huge, huge, 0)), status::incomplete);
  EXPECT_EQ(st(get_line(9000) + end, with(huge, huge, 0)), status::complete);
  EXPECT_EQ(st(get_line(9000) + end, with(huge, huge - 1, 0)), status::complete);
}

TEST(Limits, body_limit_is_inclusive) {
  EXPECT_EQ(st(get + "Content-Length: 10\r\n\r\n0123456789", body_limit(10)), status::complete);
  EXPECT_EQ(st(get + "Content-Length: 11\r\n" + end, body_limit(10)), status::payload_too_large);
}

TEST(Limits, zero_header_limit_refuses_everything_but_nothing) {
  EXPECT_EQ(st("", with(0, 0, 0)), status::incomplete);
  EXPECT_EQ(st("G", with(0, 0, 0)), status::headers_too_large);
}

TEST(Limits, parse_never_allocates) {
  const std::string big =
      get + "Connection: keep-alive, close\r\n" + std::string(3000, 'X') + ": y\r\n" + end;
  const std::uint64_t before = heap_allocations.load();
  volatile std::size_t sink = 0;
  for (int k = 0; k < 100; ++k) {
    sink = sink + parse_request(big).consumed;
    sink = sink + static_cast<std::size_t>(parse_request("GET /x HTTP/1.1\r\nX : y").st);
  }
  EXPECT_EQ(heap_allocations.load(), before);
}

// ---------------------------------------------------------------------------------------------
// Pipelining: several requests in one buffer, taken one after another.

struct taken {
  std::string method, target;
  std::size_t consumed;
  bool keep_alive;
  bool operator==(const taken&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const taken& t) {
    return os << t.method << " " << t.target << " consumed " << t.consumed
              << (t.keep_alive ? " keep-alive" : " close");
  }
};

// What a server does with a whole buffer: parse, take a complete request, go on, stop at the first
// non-complete status (returned through `last`).
std::vector<taken> take_all(std::string_view in, status& last, const limits& lim = {}) {
  std::vector<taken> out;
  std::size_t start = 0;
  for (;;) {
    guarded g(in.substr(start));
    const parse_result r = parse_request(g.view(), lim);
    last = r.st;
    if (r.st != status::complete) return out;
    out.push_back({std::string(r.req.method_name), std::string(r.req.target), r.consumed,
                   r.req.keep_alive});
    start += r.consumed;
  }
}

// The same, with the bytes arriving `chunk` at a time into a growing buffer.
std::vector<taken> take_arriving(std::string_view in, std::size_t chunk, status& last,
                                 const limits& lim = {}) {
  std::vector<taken> out;
  std::string buf;
  std::size_t start = 0;
  for (std::size_t sent = 0; sent < in.size();) {
    const std::size_t n = std::min(chunk, in.size() - sent);
    buf.append(in.substr(sent, n));
    sent += n;
    for (;;) {
      guarded g(std::string_view(buf).substr(start));
      const parse_result r = parse_request(g.view(), lim);
      last = r.st;
      if (r.st == status::incomplete) break;
      if (r.st != status::complete) return out;
      out.push_back({std::string(r.req.method_name), std::string(r.req.target), r.consumed,
                     r.req.keep_alive});
      start += r.consumed;
    }
  }
  return out;
}

const std::string pipeline =
    "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"             // 28 bytes
    "HEAD /bb HTTP/1.1\r\n\r\n"                      // 21
    "\r\nGET /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"  // 2 + 17 + 19 + 2 + 3 = 43
    "GET /d HTTP/1.0\r\n\r\n";                       // 19

TEST(Pipelining, requests_are_taken_in_order_with_exact_consumed_counts) {
  status last;
  const std::vector<taken> got = take_all(pipeline, last, body_limit(3));
  const std::vector<taken> want = {
      {"GET", "/a", 28, true}, {"HEAD", "/bb", 21, true}, {"GET", "/c", 43, true},
      {"GET", "/d", 19, false}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(last, status::incomplete);  // nothing left
}

TEST(Pipelining, a_partial_next_request_waits) {
  status last;
  const std::vector<taken> got = take_all("GET /a HTTP/1.1\r\n\r\nGET /b HT", last);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].consumed, 19u);
  EXPECT_EQ(last, status::incomplete);
}

TEST(Pipelining, a_bad_request_after_good_ones_stops_the_stream) {
  status last;
  const std::vector<taken> got =
      take_all("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"
               "GET /c HTTP/1.1\nGET /d HTTP/1.1\r\n\r\n", last);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(last, status::bad_request);
}

TEST(Pipelining, a_body_that_looks_like_a_request_is_skipped) {
  status last;
  const std::string smuggle = "GET /x HTTP/1.1\r\n\r\n";
  const std::vector<taken> got = take_all(
      get + "Content-Length: " + std::to_string(smuggle.size()) + "\r\n\r\n" + smuggle, last,
      body_limit(100));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/");
  EXPECT_EQ(last, status::incomplete);
}

TEST(Pipelining, any_arrival_pattern_takes_the_same_requests) {
  status whole_last;
  const std::vector<taken> whole = take_all(pipeline, whole_last, body_limit(3));
  for (std::size_t chunk = 1; chunk <= pipeline.size(); ++chunk) {
    status last;
    EXPECT_EQ(take_arriving(pipeline, chunk, last, body_limit(3)), whole) << "chunk " << chunk;
    EXPECT_EQ(last, whole_last) << "chunk " << chunk;
  }
}

TEST(Pipelining, split_at_every_offset_gives_incomplete_then_the_same_requests) {
  status whole_last;
  const std::vector<taken> whole = take_all(pipeline, whole_last, body_limit(3));
  for (std::size_t cut = 1; cut < pipeline.size(); ++cut) {
    // Two pieces: [0, cut) then the rest.
    std::vector<taken> got;
    std::string buf;
    std::size_t start = 0;
    status last = status::incomplete;
    for (std::string_view piece : {std::string_view(pipeline).substr(0, cut),
                                   std::string_view(pipeline).substr(cut)}) {
      buf.append(piece);
      for (;;) {
        guarded g(std::string_view(buf).substr(start));
        const parse_result r = parse_request(g.view(), body_limit(3));
        last = r.st;
        ASSERT_TRUE(r.st == status::complete || r.st == status::incomplete) << "cut " << cut;
        if (r.st == status::incomplete) break;
        got.push_back({std::string(r.req.method_name), std::string(r.req.target), r.consumed,
                       r.req.keep_alive});
        start += r.consumed;
      }
    }
    EXPECT_EQ(got, whole) << "cut " << cut;
    EXPECT_EQ(last, whole_last);
  }
}

TEST(Pipelining, errors_after_splits_are_the_same_as_whole) {
  const std::string in = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nX : y\r\n\r\n";
  status whole_last;
  const std::vector<taken> whole = take_all(in, whole_last);
  ASSERT_EQ(whole_last, status::bad_request);
  for (std::size_t chunk = 1; chunk <= in.size(); ++chunk) {
    status last;
    EXPECT_EQ(take_arriving(in, chunk, last), whole);
    EXPECT_EQ(last, status::bad_request);
  }
}

// ---------------------------------------------------------------------------------------------
// normalize_target.

using norm_result = std::pair<target_status, std::string>;

norm_result norm(std::string_view t, guarded* reuse = nullptr) {
  std::string path = "stale";
  std::unique_ptr<guarded> own;
  if (reuse == nullptr) own = std::make_unique<guarded>(t);
  const std::string_view in = reuse ? reuse->place(t) : own->view();
  const target_status s = normalize_target(in, path);
  return {s, path};
}
norm_result ok(std::string p) { return {target_status::ok, std::move(p)}; }
const norm_result not_found{target_status::not_found, ""};
const norm_result bad{target_status::bad_request, ""};

TEST(Normalize, origin_form_paths) {
  EXPECT_EQ(norm("/"), ok(""));
  EXPECT_EQ(norm("/index.html"), ok("index.html"));
  EXPECT_EQ(norm("/a/b/c.txt"), ok("a/b/c.txt"));
  EXPECT_EQ(norm("/a/./b/../c%2Ehtml?x=1"), ok("a/c.html"));  // the header's example
}

TEST(Normalize, query_is_dropped) {
  EXPECT_EQ(norm("/a?x=1"), ok("a"));
  EXPECT_EQ(norm("/?"), ok(""));
  EXPECT_EQ(norm("/a?x/../../../etc"), ok("a"));
  EXPECT_EQ(norm("/a?%zz"), ok("a"));  // the query is not decoded
  EXPECT_EQ(norm("/a%3Fb"), ok("a?b"));  // an encoded '?' is part of the name
}

TEST(Normalize, slashes_collapse_and_no_slash_leads_or_trails) {
  EXPECT_EQ(norm("//a///b//"), ok("a/b"));
  EXPECT_EQ(norm("/docs/"), ok("docs"));
  EXPECT_EQ(norm("////"), ok(""));
  EXPECT_EQ(norm("/a/%2F/b"), ok("a/b"));
}

TEST(Normalize, dot_segments) {
  EXPECT_EQ(norm("/."), ok(""));
  EXPECT_EQ(norm("/./a/./"), ok("a"));
  EXPECT_EQ(norm("/a/b/.."), ok("a"));
  EXPECT_EQ(norm("/a/b/../.."), ok(""));
  EXPECT_EQ(norm("/a/../b/./c/.."), ok("b"));
  EXPECT_EQ(norm("/.../a"), ok(".../a"));  // three dots is a name
  EXPECT_EQ(norm("/..a/a.."), ok("..a/a.."));
  EXPECT_EQ(norm("/.hidden"), ok(".hidden"));  // dot files are the server's policy, not ours
}

TEST(Normalize, percent_decoding) {
  EXPECT_EQ(norm("/%41%62c"), ok("Abc"));
  EXPECT_EQ(norm("/a%20b"), ok("a b"));
  EXPECT_EQ(norm("/caf%C3%A9"), ok("caf\xc3\xa9"));
  EXPECT_EQ(norm("/%7e%7E"), ok("~~"));
  EXPECT_EQ(norm("/100%25"), ok("100%"));
}

TEST(Normalize, decoding_happens_once) {
  EXPECT_EQ(norm("/%252e%252e/x"), ok("%2e%2e/x"));
  EXPECT_EQ(norm("/%252f"), ok("%2f"));
}

TEST(Normalize, malformed_escapes_are_bad_requests) {
  EXPECT_EQ(norm("/%"), bad);
  EXPECT_EQ(norm("/%2"), bad);
  EXPECT_EQ(norm("/%2?x"), bad);
  EXPECT_EQ(norm("/%zz"), bad);
  EXPECT_EQ(norm("/%g0"), bad);
  EXPECT_EQ(norm("/%0g"), bad);
  EXPECT_EQ(norm("/%%41"), bad);
}

TEST(Normalize, decoded_nul_and_controls_are_bad_requests) {
  EXPECT_EQ(norm("/%00"), bad);
  EXPECT_EQ(norm("/index.html%00.png"), bad);
  EXPECT_EQ(norm("/a%0a"), bad);
  EXPECT_EQ(norm("/a%0D%0Ab"), bad);
  EXPECT_EQ(norm("/a%1f"), bad);
  EXPECT_EQ(norm("/a%7F"), bad);
  EXPECT_EQ(norm("/a%09"), bad);
}

TEST(Normalize, raw_bytes_outside_the_target_grammar_are_bad_requests) {
  EXPECT_EQ(norm("/a\0b"s), bad);
  EXPECT_EQ(norm("/a b"), bad);
  EXPECT_EQ(norm("/a\tb"), bad);
  EXPECT_EQ(norm("/a\x7f"), bad);
  EXPECT_EQ(norm("/a?x\ny"), bad);
  EXPECT_EQ(norm("/a#frag"), bad);
  EXPECT_EQ(norm("/a?q#frag"), bad);
}

TEST(Normalize, traversal_with_plain_dots_never_escapes) {
  EXPECT_EQ(norm("/.."), not_found);
  EXPECT_EQ(norm("/../"), not_found);
  EXPECT_EQ(norm("/../etc/passwd"), not_found);
  EXPECT_EQ(norm("/a/../../etc/passwd"), not_found);
  EXPECT_EQ(norm("/a/b/../../../x"), not_found);
  EXPECT_EQ(norm("/./../x"), not_found);
  EXPECT_EQ(norm("//../x"), not_found);
  EXPECT_EQ(norm("/../a/.."), not_found);  // above the root even if it comes back
}

TEST(Normalize, traversal_with_encoded_dots_never_escapes) {
  EXPECT_EQ(norm("/%2e%2e"), not_found);
  EXPECT_EQ(norm("/%2e%2e/etc/passwd"), not_found);
  EXPECT_EQ(norm("/%2E%2e/"), not_found);
  EXPECT_EQ(norm("/%2E%2E/x"), not_found);
  EXPECT_EQ(norm("/.%2e/x"), not_found);
  EXPECT_EQ(norm("/%2e./x"), not_found);
  EXPECT_EQ(norm("/a/%2e%2e/%2e%2e/x"), not_found);
  EXPECT_EQ(norm("/a/%2e%2e/b"), ok("b"));
  EXPECT_EQ(norm("/%2e/a"), ok("a"));
}

TEST(Normalize, traversal_with_encoded_slashes_never_escapes) {
  EXPECT_EQ(norm("/..%2f"), not_found);
  EXPECT_EQ(norm("/..%2F..%2Fetc%2Fpasswd"), not_found);
  EXPECT_EQ(norm("/a%2f..%2f..%2fx"), not_found);
  EXPECT_EQ(norm("/%2e%2e%2f%2e%2e%2fetc"), not_found);
  EXPECT_EQ(norm("/a/..%2fb"), ok("b"));
  EXPECT_EQ(norm("/a%2fb"), ok("a/b"));
}

TEST(Normalize, traversal_with_nul_is_refused) {
  EXPECT_EQ(norm("/../%00"), not_found);  // ".." is seen before the NUL: either way, no file
  EXPECT_EQ(norm("/a/%00/../.."), bad);
  EXPECT_EQ(norm("/%00/../../etc"), bad);
  EXPECT_EQ(norm("/..%00/x"), bad);
}

TEST(Normalize, backslash_is_an_ordinary_character) {
  EXPECT_EQ(norm("/..\\..\\etc\\passwd"), ok("..\\..\\etc\\passwd"));
  EXPECT_EQ(norm("/a\\..\\b"), ok("a\\..\\b"));
  EXPECT_EQ(norm("/%5c..%5c"), ok("\\..\\"));
  EXPECT_EQ(norm("/..%5c"), ok("..\\"));
  EXPECT_EQ(norm("/\\"), ok("\\"));
  EXPECT_EQ(norm("/a/\\../b"), ok("a/\\../b"));
}

TEST(Normalize, absolute_form) {
  EXPECT_EQ(norm("http://example.com/a/b"), ok("a/b"));
  EXPECT_EQ(norm("HTTP://Example.com:8080/x?y"), ok("x"));
  EXPECT_EQ(norm("https://h/a/../b"), ok("b"));
  EXPECT_EQ(norm("http://h"), ok(""));
  EXPECT_EQ(norm("http://h?q=/.."), ok(""));
  EXPECT_EQ(norm("http://user@h/x"), ok("x"));
}

TEST(Normalize, absolute_form_traversal_never_escapes) {
  EXPECT_EQ(norm("http://h/../x"), not_found);
  EXPECT_EQ(norm("http://h/%2e%2e/x"), not_found);
  EXPECT_EQ(norm("http://h/..%2fx"), not_found);
  EXPECT_EQ(norm("http://../x"), ok("x"));  // ".." here is the host, which we ignore
}

TEST(Normalize, other_forms_are_bad_requests) {
  EXPECT_EQ(norm(""), bad);
  EXPECT_EQ(norm("*"), bad);
  EXPECT_EQ(norm("example.com:443"), bad);
  EXPECT_EQ(norm("a/b"), bad);
  EXPECT_EQ(norm("../x"), bad);
  EXPECT_EQ(norm("ftp://h/x"), bad);
  EXPECT_EQ(norm("http:/x"), bad);
  EXPECT_EQ(norm("http:///x"), bad);
  EXPECT_EQ(norm("http://"), bad);
  EXPECT_EQ(norm("httpx://h/x"), bad);
}

TEST(Normalize, targets_as_long_as_the_request_line_allows) {
  // Nothing in the normalizer is sized by PATH_MAX or NAME_MAX: the limit is the request line's
  // (the file lookup is a map of the scanned root, so an overlong name simply names no file).
  std::string many;  // 3,990 one-byte segments: a 7,980-byte target, a 7,979-byte path
  for (int k = 0; k < 3990; ++k) many += "/a";
  const norm_result r = norm(many);
  EXPECT_EQ(r.first, target_status::ok);
  EXPECT_EQ(r.second.size(), 7979u);
  EXPECT_EQ(r.second.substr(0, 6), "a/a/a/");
  // 3,990 "./" segments in front of a real name: they all go.
  std::string dots = "/";
  for (int k = 0; k < 3990; ++k) dots += "./";
  EXPECT_EQ(norm(dots + "index.html"), ok("index.html"));
  // A segment far over NAME_MAX (255) is still a path; not this function's business.
  EXPECT_EQ(norm("/" + std::string(7000, 'n')), ok(std::string(7000, 'n')));
  // Climbing as far as the line allows never escapes: 3,990 ".." after 1 name.
  std::string up = "/a";
  for (int k = 0; k < 3990; ++k) up += "/..";
  EXPECT_EQ(norm(up), not_found);
}

TEST(Normalize, path_is_overwritten_and_cleared_on_failure) {
  std::string path = "previous";
  EXPECT_EQ(normalize_target("/x", path), target_status::ok);
  EXPECT_EQ(path, "x");
  EXPECT_EQ(normalize_target("/a/%zz", path), target_status::bad_request);
  EXPECT_EQ(path, "");
  path = "previous";
  EXPECT_EQ(normalize_target("/a/../..", path), target_status::not_found);
  EXPECT_EQ(path, "");
}

TEST(Normalize, output_never_has_dot_segments_nul_or_outer_slashes) {
  // A small exhaustive sweep: every target of up to 4 pieces drawn from the troublemakers.
  const char* const pieces[] = {"/", ".", "..", "%2e", "%2E", "%2f", "%5c", "\\", "a", "%00", "%"};
  std::vector<std::string> level = {""};
  std::size_t checked = 0;
  guarded g(std::string(64, ' '));
  for (int depth = 0; depth < 4; ++depth) {
    std::vector<std::string> next;
    for (const std::string& s : level)
      for (const char* p : pieces) next.push_back(s + p);
    for (const std::string& s : next) {
      const norm_result r = norm("/" + s, &g);
      ++checked;
      if (r.first != target_status::ok) {
        EXPECT_EQ(r.second, "") << s;
        continue;
      }
      const std::string& p = r.second;
      EXPECT_EQ(p.find('\0'), std::string::npos) << s;
      if (p.empty()) continue;
      EXPECT_NE(p.front(), '/') << s;
      EXPECT_NE(p.back(), '/') << s;
      std::size_t a = 0;
      for (;;) {
        const std::size_t b = std::min(p.find('/', a), p.size());
        const std::string_view seg = std::string_view(p).substr(a, b - a);
        EXPECT_TRUE(seg != "" && seg != "." && seg != "..") << s << " -> " << p;
        if (b == p.size()) break;
        a = b + 1;
      }
    }
    level = std::move(next);
  }
  EXPECT_GT(checked, 10000u);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// What the parser notes for the session: Host lines, conditional and range fields, chunked.
namespace {

TEST(Notes, host_lines_are_counted_and_checked) {
  EXPECT_EQ(parse(get + end).r.req.host_lines, 0u);
  EXPECT_EQ(parse(get + "Host: a\r\n" + end).r.req.host_lines, 1u);
  EXPECT_EQ(parse(get + "Host: a\r\nhost: b\r\n" + end).r.req.host_lines, 2u);
  EXPECT_TRUE(parse(get + "Host: example.com:8080\r\n" + end).r.req.host_valid);
  EXPECT_TRUE(parse(get + "Host: [::1]:80\r\n" + end).r.req.host_valid);
  EXPECT_TRUE(parse(get + "Host:\r\n" + end).r.req.host_valid);  // empty: no authority
  EXPECT_FALSE(parse(get + "Host: a b\r\n" + end).r.req.host_valid);
  EXPECT_FALSE(parse(get + "Host: a/b\r\n" + end).r.req.host_valid);
  EXPECT_FALSE(parse(get + "Host: a:8x\r\n" + end).r.req.host_valid);
  EXPECT_FALSE(parse(get + "Host: [::1\r\n" + end).r.req.host_valid);
}

TEST(Notes, conditional_and_range_fields_are_noted) {
  const parsed p = parse(get + "If-None-Match: \"a\"\r\nIf-Modified-Since: x\r\nRange: bytes=0-1\r\n"
                               "If-Range: \"a\"\r\nIf-Match: *\r\nIf-Unmodified-Since: y\r\n"
                               "Expect: 100-continue\r\n" + end);
  ASSERT_EQ(p.r.st, status::complete);
  EXPECT_EQ(p.r.req.fields, field::if_none_match | field::if_modified_since | field::range |
                                field::if_range | field::if_match | field::if_unmodified_since |
                                field::expect);
  EXPECT_EQ(parse(get + "X-Range: 1\r\n" + end).r.req.fields, 0u);
}

TEST(Notes, field_values_joins_lines_as_a_list) {
  const parsed p = parse(get + "If-None-Match: \"a\" \r\nX: y\r\nif-none-match:\t\"b\", W/\"c\"\r\n" + end);
  ASSERT_EQ(p.r.st, status::complete);
  std::string v = "stale";
  EXPECT_EQ(field_values(p.r.req.head, "if-none-match", v), 2u);
  EXPECT_EQ(v, "\"a\", \"b\", W/\"c\"");
  EXPECT_EQ(field_values(p.r.req.head, "range", v), 0u);
  EXPECT_EQ(v, "");
}

TEST(Notes, options_is_its_own_method) {
  EXPECT_EQ(parse("OPTIONS * HTTP/1.1\r\n\r\n").r.req.verb, method::options);
  EXPECT_EQ(parse("OPTIONS /a HTTP/1.1\r\n\r\n").r.req.verb, method::options);
}

TEST(Notes, chunked_body_is_decoded_length_and_consumed_whole) {
  const std::string body = "5\r\nhello\r\n3;x=1\r\nabc\r\n0\r\nT: v\r\n\r\n";
  const parsed p = parse(get + "Transfer-Encoding: chunked\r\n" + end + body + "GET", body_limit(100));
  ASSERT_EQ(p.r.st, status::complete);
  EXPECT_TRUE(p.r.req.chunked);
  EXPECT_EQ(p.r.req.body_bytes, 8u);
  EXPECT_EQ(p.r.consumed, p.buf->view().size() - 3);
}

TEST(Notes, incomplete_body_reports_the_head_size) {
  const std::string head = get + "Content-Length: 5\r\n" + end;
  const parsed p = parse(head + "he", body_limit(5));
  ASSERT_EQ(p.r.st, status::incomplete);
  EXPECT_EQ(p.r.head_bytes, head.size());
  EXPECT_EQ(parse(get + "X: 1").r.head_bytes, 0u);
  const std::string chead = get + "Transfer-Encoding: chunked\r\n" + end;
  EXPECT_EQ(parse(chead + "5\r\nhe", body_limit(50)).r.head_bytes, chead.size());
}

}  // namespace

namespace {
// Found by the fuzzer: `head` began at the empty lines before the request line, so field_values
// stopped at the first of them and the conditional fields of such a request were lost.
TEST(Notes, head_starts_at_the_request_line_after_empty_lines) {
  const parsed p = parse("\r\n\r\nGET / HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n");
  ASSERT_EQ(p.r.st, status::complete);
  EXPECT_EQ(p.r.req.head.substr(0, 5), "GET /");
  std::string v;
  EXPECT_EQ(field_values(p.r.req.head, "range", v), 1u);
  EXPECT_EQ(v, "bytes=0-1");
}
}  // namespace
