// apps/sws/session.hpp — one connection's HTTP state, shared by the handler and coroutine styles:
// the input buffer, the request being answered, and the responses waiting to be written.
// Touched only from the connection's color, so it has no locks.
#pragma once

#include "cache.hpp"
#include "http.hpp"

#include <hue/net.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace sws {

class session {
 public:
  // What parse() found at the front of the input.
  struct parsed {
    enum kind { incomplete, request, invalid } what = incomplete;
    int error_status = 0;  // invalid: 400, 405, 413, 414, 431, 501 or 505
    bool head = false;
    bool keep_alive = true;
  };

  // ReadRequest: appends what the socket has (up to EAGAIN, or until `max_buffer` is reached).
  // Returns ok (got bytes or would block), eof, or closed/error.
  hue::net::io_status read_from(int fd, std::size_t max_buffer);
  // ParseRequest: takes the next request off the input; for a complete one, `path` is its
  // normalized target (empty for an invalid one).
  parsed parse(const http::limits& lim);
  // True when the input holds the start of a request not yet complete (header timeout applies).
  bool partial_request() const noexcept { return start_ < in_len_; }
  std::size_t buffered() const noexcept { return in_len_ - start_; }
  // False when the last read stopped at the buffer's limit, not at EAGAIN: with an edge-triggered
  // watch no new edge will come for those bytes, so whoever consumed the buffer must read again.
  bool socket_drained() const noexcept { return drained_; }

  // CheckInCache / 404 / BadRequest: queue a response. A response that does not keep the
  // connection alive makes it close once written.
  void respond(const response& r, bool head, bool keep_alive);
  // WriteResponse: writes what is queued. ok: all written; would_block: wait for writable.
  hue::net::io_status flush(int fd);
  bool output_pending() const noexcept { return !pieces_.empty(); }
  std::size_t output_bytes() const noexcept { return pending_bytes_; }
  bool close_after() const noexcept { return close_after_; }
  void set_close_after() noexcept { close_after_ = true; }

  const std::string& path() const noexcept { return path_; }
  std::uint64_t bytes_written() const noexcept { return written_; }

 private:
  struct piece {
    const char* data;  // borrowed from the cache, or nullptr: `own_` at `off`
    std::size_t off;
    std::size_t len;
  };
  void add_own(std::string_view s);
  void add_borrowed(const std::string& s);

  std::unique_ptr<char[]> in_;  // not a std::string: growing one zero-fills what read() overwrites
  std::size_t in_cap_ = 0;
  std::size_t in_len_ = 0;
  std::size_t start_ = 0;   // first byte not yet parsed
  std::size_t checked_ = 0; // bytes after start_ an incomplete parse has already seen
  std::string path_;
  std::string own_;         // bytes this session composed (Date lines)
  std::vector<piece> pieces_;
  std::size_t pending_bytes_ = 0;
  std::uint64_t written_ = 0;
  bool close_after_ = false;
  bool drained_ = true;
};

}  // namespace sws
