// tools/injector/http_session.hpp — hue-injector's session of the shared load client
// (tools/load/load_client.hpp): the GET requests a client sends, and HTTP/1.x response framing:
// where one response ends and the next begins on a keep-alive (possibly pipelined) connection, and
// whether the server means to close after it. Bodies are counted and skipped, never stored.
//
// Framing follows HTTP/1.1's message-length rules (RFC 9112), for responses to GET:
//   1xx            refused: nothing here asks for one (no Expect, no Upgrade)
//   204, 304       no body
//   Transfer-Encoding ending in chunked   chunked body, trailers skipped
//   Content-Length                        that many bytes (two that differ: refused)
//   otherwise      the body runs to the end of the connection (then it closes)
// `Connection: close` (or HTTP/1.0 without `Connection: keep-alive`) marks the last response.
//
// Everything but the bodies is read a line at a time (status line, headers, chunk sizes, chunk
// ends, trailers), so a head split across reads needs no state beyond the line being gathered.
// A line over max_line_bytes fails the response: a server must not make us buffer without bound.
#pragma once

#include "load_client.hpp"

#include <strings.h>

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace injector {

using load::result;

class http_session {
 public:
  static constexpr std::size_t max_line_bytes = 16 * 1024;
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
      if (state_ == state::body_length || state_ == state::chunk_data) {
        const std::uint64_t take = std::min<std::uint64_t>(remaining_, end - p);
        p += take;
        cur_.bytes += take;
        if ((remaining_ -= take) > 0) continue;
        if (state_ == state::body_length) return finish();
        state_ = state::chunk_end;
      } else if (state_ == state::body_to_eof) {
        cur_.bytes += end - p;
        p = end;
      } else if (state_ == state::failed) {
        return result::error;
      } else {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
        const char* stop = nl != nullptr ? nl + 1 : end;
        if (line_.size() + (stop - p) > max_line_bytes) return fail();
        line_.append(p, stop);
        cur_.bytes += stop - p;
        p = stop;
        if (nl == nullptr) return result::need_more;
        std::string_view line(line_);
        line.remove_suffix(line.size() >= 2 && line[line.size() - 2] == '\r' ? 2 : 1);
        const bool ok = on_line(line);
        line_.clear();
        if (!ok) return fail();
        if (state_ == state::done) return finish();
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
    return state_ != state::status || !line_.empty() ? fail() : result::need_more;
  }

  const load::answer& last() const { return last_; }

  void reset() {
    state_ = state::status;
    line_.clear();
    cur_ = {};
    chunked_ = have_length_ = false;
  }

 private:
  enum class state { status, header, body_length, body_to_eof, chunk_size, chunk_data, chunk_end,
                     trailers, done, failed };

  static bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
  }

  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }

  // Does the comma-separated list `value` hold `token` (case-insensitively)?
  static bool has_token(std::string_view value, std::string_view token) {
    for (std::size_t comma = 0; comma != std::string_view::npos; value.remove_prefix(comma + 1)) {
      comma = value.find(',');
      if (iequals(trim(value.substr(0, comma)), token)) return true;
    }
    return false;
  }

  // A whole number in `text`, all of it, in `base`; false if there is anything else.
  static bool number(std::string_view text, std::uint64_t& v, int base = 10) {
    const auto [stop, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    return !text.empty() && ec == std::errc() && stop == text.data() + text.size();
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

  // One line without its line end, in the state that expects it. false: malformed.
  bool on_line(std::string_view line) {
    switch (state_) {
      case state::status: {  // "HTTP/1.x SSS reason"
        std::uint64_t status = 0;
        if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1')
            || line[8] != ' ' || !number(line.substr(9, 3), status) || status < 200 || status > 999
            || (line.size() > 12 && line[12] != ' '))
          return false;
        http10_ = line[7] == '0';
        cur_.status = static_cast<int>(status);
        cur_.close = http10_;
        state_ = state::header;
        return true;
      }
      case state::header:
        return line.empty() ? end_of_head() : header(line);
      case state::chunk_size:  // hex digits, then maybe ";extension"
        if (!number(trim(line.substr(0, line.find(';'))), remaining_, 16)) return false;
        state_ = remaining_ == 0 ? state::trailers : state::chunk_data;
        return true;
      case state::chunk_end:  // the CRLF after a chunk's data
        state_ = state::chunk_size;
        return line.empty();
      case state::trailers:
        if (line.empty()) state_ = state::done;
        return true;
      default:
        return false;
    }
  }

  // The three headers framing depends on; the others are skipped.
  bool header(std::string_view line) {
    const std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    const std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      std::uint64_t v = 0;
      if (!number(value, v) || (have_length_ && v != remaining_)) return false;
      have_length_ = true;
      remaining_ = v;
    } else if (iequals(name, "transfer-encoding")) {  // chunked only if it is the last coding
      chunked_ = iequals(trim(value.substr(value.rfind(',') + 1)), "chunked");  // npos + 1 == 0
    } else if (iequals(name, "connection")) {
      if (has_token(value, "close")) cur_.close = true;
      else if (http10_ && has_token(value, "keep-alive")) cur_.close = false;
    }
    return true;
  }

  bool end_of_head() {
    if (cur_.status == 204 || cur_.status == 304) {
      state_ = state::done;
    } else if (chunked_) {
      state_ = state::chunk_size;
    } else if (have_length_) {
      state_ = remaining_ == 0 ? state::done : state::body_length;
    } else {
      state_ = state::body_to_eof;
    }
    return true;
  }

  const std::vector<std::string>* requests_;
  std::size_t next_;
  state state_ = state::status;
  std::string line_;              // the line being gathered, line end included
  load::answer cur_;              // the response being read
  load::answer last_;             // the last complete one
  std::uint64_t remaining_ = 0;   // body or chunk bytes still to skip
  bool http10_ = false, chunked_ = false, have_length_ = false;
};

}  // namespace injector
