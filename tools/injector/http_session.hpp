// tools/injector/http_session.hpp — hue-injector's session of the shared load client
// (tools/load/load_client.hpp): the GET requests a client sends, and HTTP/1.x response framing:
// where one response ends and the next begins on a keep-alive (possibly pipelined) connection, and
// whether the server means to close after it. The body is counted and skipped, never stored.
//
// Framing follows HTTP/1.1's message-length rules (RFC 9112), for responses to GET:
//   1xx            interim, skipped (the final response follows on the same connection)
//   204, 304       no body
//   Transfer-Encoding ending in chunked   chunked body, trailers skipped
//   Content-Length                        that many bytes
//   otherwise      the body runs to the end of the connection (then it closes)
// `Connection: close` (or HTTP/1.0 without `Connection: keep-alive`) marks the last response.
//
// The header block is parsed in place when it arrives whole in one read (the usual case: a 1 KB
// response fits one segment); only a block split across reads is copied, up to max_head_bytes.
#pragma once

#include "load_client.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace injector {

using load::result;

class http_session {
 public:
  static constexpr std::size_t max_head_bytes = 64 * 1024;
  static constexpr const char* bad_answer = "a response that is not valid HTTP/1.x framing";

  // `requests`: one whole GET per path, taken round-robin from `first`; it outlives the session.
  http_session(const std::vector<std::string>& requests, std::size_t first)
      : requests_(&requests), next_(first % requests.size()) {}

  void request(std::string& out) {
    out += (*requests_)[next_];
    if (++next_ == requests_->size()) next_ = 0;
  }

  // Consumes bytes from [p, end), advancing p. Stops after one complete response (so the caller
  // can account it before the next), when the input runs out, or on malformed input.
  result feed(const char*& p, const char* end) {
    while (p < end) {
      switch (state_) {
        case state::head: {
          const result r = feed_head(p, end);
          if (r != result::complete) return r;
          if (state_ == state::done) return finish();
          break;
        }
        case state::body_length: {
          const std::uint64_t take = std::min<std::uint64_t>(remaining_, end - p);
          p += take;
          cur_.bytes += take;
          remaining_ -= take;
          if (remaining_ == 0) return finish();
          break;
        }
        case state::body_to_eof:
          cur_.bytes += end - p;
          p = end;
          break;
        case state::chunk_size: {
          const char c = *p++;
          ++cur_.bytes;
          if (const int d = hex(c); d >= 0 && !in_extension_) {
            if (remaining_ > (UINT64_MAX >> 4)) return fail();
            remaining_ = remaining_ * 16 + static_cast<unsigned>(d);
            ++digits_;
          } else if (c == '\n') {
            if (digits_ == 0) return fail();
            state_ = remaining_ == 0 ? state::trailers : state::chunk_data;
            line_bytes_ = 0;
          } else if (c == ';' || c == ' ' || c == '\t') {
            in_extension_ = true;
          } else if (c != '\r' && !in_extension_) {
            return fail();
          }
          break;
        }
        case state::chunk_data: {
          const std::uint64_t take = std::min<std::uint64_t>(remaining_, end - p);
          p += take;
          cur_.bytes += take;
          remaining_ -= take;
          if (remaining_ == 0) state_ = state::chunk_end;
          break;
        }
        case state::chunk_end: {  // the CRLF after a chunk's data
          const char c = *p++;
          ++cur_.bytes;
          if (c == '\n') {
            start_chunk();
          } else if (c != '\r') {
            return fail();
          }
          break;
        }
        case state::trailers: {  // trailer lines, up to an empty one
          const char c = *p++;
          ++cur_.bytes;
          if (c == '\n') {
            if (line_bytes_ == 0) return finish();
            line_bytes_ = 0;
          } else if (c != '\r') {
            if (++line_bytes_ > max_head_bytes) return fail();
          }
          break;
        }
        case state::done:
        case state::failed:
          return fail();
      }
    }
    return result::need_more;
  }

  // The connection reached its end. complete: a body that runs to the close just ended (last()
  // holds it). need_more: nothing was in progress. error: a response was cut short.
  result finish_at_eof() {
    if (state_ == state::body_to_eof) {
      cur_.close = true;
      return finish();
    }
    return in_progress() ? fail() : result::need_more;
  }

  // True once any byte of a response has arrived and it is not yet complete.
  bool in_progress() const { return state_ != state::head || !head_.empty(); }

  const load::answer& last() const { return last_; }

  void reset() {
    state_ = state::head;
    head_.clear();
    cur_ = {};
  }

 private:
  enum class state { head, body_length, body_to_eof, chunk_size, chunk_data, chunk_end, trailers,
                     done, failed };

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  static bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i], y = b[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      if (x != y) return false;
    }
    return true;
  }

  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
      s.remove_suffix(1);
    return s;
  }

  // Does the comma-separated list `value` hold `token` (case-insensitively)?
  static bool has_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
      const std::size_t comma = value.find(',');
      if (iequals(trim(value.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
    return false;
  }

  result fail() {
    state_ = state::failed;
    return result::error;
  }

  result finish() {
    last_ = cur_;
    reset();
    return result::complete;
  }

  void start_chunk() {
    state_ = state::chunk_size;
    remaining_ = 0;
    digits_ = 0;
    in_extension_ = false;
  }

  // Finds the end of the header block, in place when it is all in [p, end), else by copying.
  result feed_head(const char*& p, const char* end) {
    static constexpr char crlf2[] = "\r\n\r\n";
    if (head_.empty()) {
      const void* hit = memmem(p, end - p, crlf2, 4);
      if (hit != nullptr) {
        const char* stop = static_cast<const char*>(hit) + 4;
        const std::string_view block(p, stop - p);
        p = stop;
        return parse_head(block);
      }
      if (static_cast<std::size_t>(end - p) > max_head_bytes) return fail();
      head_.assign(p, end);
      p = end;
      return result::need_more;
    }
    // The block straddles reads: look for the terminator from the last 3 bytes already held.
    const std::size_t held = head_.size();
    const std::size_t room = max_head_bytes - held;
    const std::size_t take = std::min<std::size_t>(room, end - p);
    head_.append(p, take);
    const std::size_t from = held >= 3 ? held - 3 : 0;
    const std::size_t at = head_.find(crlf2, from, 4);
    if (at == std::string::npos) {
      if (head_.size() >= max_head_bytes) return fail();
      p += take;
      return result::need_more;
    }
    const std::size_t block_end = at + 4;
    p += block_end - held;
    const std::string block = std::move(head_);
    head_.clear();
    return parse_head(std::string_view(block).substr(0, block_end));
  }

  // Status line and the three headers framing depends on; sets the body state.
  result parse_head(std::string_view block) {
    cur_.bytes += block.size();
    std::size_t eol = block.find("\r\n");
    const std::string_view status_line = block.substr(0, eol);
    // "HTTP/1.x SSS reason"
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." ||
        (status_line[7] != '0' && status_line[7] != '1') || status_line[8] != ' ')
      return fail();
    int status = 0;
    for (int i = 9; i < 12; ++i) {
      const char c = status_line[i];
      if (c < '0' || c > '9') return fail();
      status = status * 10 + (c - '0');
    }
    if (status < 100 || (status_line.size() > 12 && status_line[12] != ' ')) return fail();
    const bool http10 = status_line[7] == '0';

    bool close = http10, chunked = false, have_length = false;
    std::uint64_t length = 0;
    std::size_t pos = eol + 2;
    while (pos < block.size()) {
      eol = block.find("\r\n", pos);
      const std::string_view line = block.substr(pos, eol - pos);
      pos = eol + 2;
      if (line.empty()) break;
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) return fail();
      const std::string_view name = line.substr(0, colon);
      const std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "content-length")) {
        std::uint64_t v = 0;
        if (value.empty()) return fail();
        for (char c : value) {
          if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10) return fail();
          v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (have_length && v != length) return fail();  // conflicting lengths: ambiguous framing
        have_length = true;
        length = v;
      } else if (iequals(name, "transfer-encoding")) {
        const std::size_t comma = value.rfind(',');
        chunked = iequals(trim(comma == std::string_view::npos ? value : value.substr(comma + 1)),
                          "chunked");
      } else if (iequals(name, "connection")) {
        if (has_token(value, "close")) close = true;
        else if (http10 && has_token(value, "keep-alive")) close = false;
      }
    }

    if (status < 200) {  // interim (100 Continue, 103 Early Hints): the real response follows
      if (status == 101) return fail();  // we never asked to switch protocols
      cur_.status = 0;  // its bytes stay counted with the final response
      state_ = state::head;
      return result::complete;  // of the interim head; feed() goes on to the next head
    }
    cur_.status = status;
    cur_.close = close;
    if (status == 204 || status == 304) {
      state_ = state::done;
    } else if (chunked) {
      start_chunk();
    } else if (have_length) {
      remaining_ = length;
      state_ = length == 0 ? state::done : state::body_length;
    } else {
      state_ = state::body_to_eof;
    }
    return result::complete;  // of the head; feed() carries on with the body
  }

  state state_ = state::head;
  std::string head_;               // a header block split across reads, until it is whole
  const std::vector<std::string>* requests_;
  std::size_t next_;
  load::answer cur_;                   // the response being read
  load::answer last_;                  // the last complete one
  std::uint64_t remaining_ = 0;    // body or chunk bytes still to skip; chunk size being read
  std::size_t line_bytes_ = 0;     // length of the current trailer line
  unsigned digits_ = 0;            // hex digits of the chunk size read so far
  bool in_extension_ = false;      // past ';' in a chunk-size line
};

}  // namespace injector
