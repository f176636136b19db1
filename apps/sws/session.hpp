// apps/sws/session.hpp — one connection's HTTP state, shared by the handler and coroutine styles:
// the input buffer, the request being answered, and the responses waiting to be written.
// Touched only from the connection's color, so it has no locks.
#pragma once

#include "cache.hpp"
#include "http.hpp"
#include "validators.hpp"

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
    // request: a GET or HEAD of `path()`; options: an OPTIONS request (any target, "*" too).
    enum kind { incomplete, request, invalid, options } what = incomplete;
    int error_status = 0;  // invalid: 400, 405, 413, 414, 417, 431, 501 or 505
    bool head = false;
    bool keep_alive = true;
  };

  // ReadRequest: appends what the socket has (up to EAGAIN, or until `max_buffer` is reached).
  // Returns ok (got bytes or would block), eof, or closed/error.
  hue::net::io_status read_from(int fd, std::size_t max_buffer);
  // ParseRequest: takes the next request off the input; for a complete one, `path` is its
  // normalized target (empty for an invalid one), and its conditional and range fields are kept
  // for respond_file. The session's own rules on top of the parser's (RFC 9112, RFC 9110):
  //   - HTTP/1.1 without exactly one valid Host line, or any request with two: 400, close (§3.2);
  //   - Expect other than 100-continue in HTTP/1.1: 417 (RFC 9110 §10.1.1); HTTP/1.0 ignores it;
  //   - Expect: 100-continue with content still to come: no 100 is sent (a static server wants
  //     no content); the final status goes out at once with `Connection: close`, and the content
  //     is never read. Content that already arrived is skipped as usual;
  //   - a known method other than GET, HEAD and OPTIONS: 405 with Allow, its content skipped;
  //   - "*" is a target for OPTIONS only (RFC 9112 §3.2.4): 400 otherwise.
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
  // CheckInCache for a file: the conditional requests and ranges of RFC 9110 §13.2.2 and §14
  // (validators.hpp), then 304, 412, 206, 416 or the whole file. Returns the status sent.
  // `errors` gives the 412 response.
  int respond_file(const response& f, bool head, bool keep_alive, const file_cache& errors);
  // A response composed for this request alone (the metrics): copied into the session, with
  // `Cache-Control: no-store` since it changes between requests.
  void respond_generated(int status, std::string_view content_type, std::string_view body,
                         bool head, bool keep_alive);
  // WriteResponse: writes what is queued. ok: all written, or the step's budget of file bytes
  // was sent (output_pending() is still true: post the next step rather than wait, no
  // writability edge will come); would_block: wait for writable.
  hue::net::io_status flush(int fd);
  // Keeps a snapshot alive until what is queued now has been written (queued pieces borrow its
  // bytes and descriptors): a reload may replace the connection's snapshot meanwhile.
  void retain(std::shared_ptr<const file_cache> snap);
  bool output_pending() const noexcept { return !pieces_.empty(); }
  std::size_t output_bytes() const noexcept { return pending_bytes_; }
  bool close_after() const noexcept { return close_after_; }
  // Draining (shutdown): requests already buffered are still answered, the last of them with
  // `Connection: close`; if none is buffered, the connection closes once its queue is written.
  void set_close_after() noexcept {
    draining_ = true;
    if (!partial_request()) close_after_ = true;
  }

  // Between requests, with nothing buffered either way: frees the input buffer (4 KiB or more)
  // and the composed bytes, as nginx does for its keep-alive connections. Idle connections are
  // most of a server's connections, and each held ~4 KiB it did not use (5.6 KB per idle
  // connection against nginx's 0.5 KB); the price is one allocation at the next request.
  void release_idle() noexcept;
  // Heap bytes the session holds for its buffers (input, composed bytes, pieces): for tests.
  std::size_t buffer_bytes() const noexcept {
    return in_cap_ + own_.capacity() + pieces_.capacity() * sizeof(piece);
  }

  const std::string& path() const noexcept { return path_; }
  std::uint64_t bytes_written() const noexcept { return written_; }

 private:
  struct piece {
    const char* data;  // borrowed from the cache, or nullptr: `own_` (or the file) at `off`
    std::size_t off;
    std::size_t len;
    int fd = -1;       // >= 0: `len` bytes of this file from offset `off`, sent with sendfile
  };
  void add_own(std::string_view s);
  void add_borrowed(const std::string& s);
  void add_slice(const std::string& s, std::size_t off, std::size_t len);
  void add_file(int fd, std::uint64_t off, std::uint64_t len);
  void add_body(const response& f, std::uint64_t off, std::uint64_t len);
  void add_head(int status, const response& f, bool keep_alive, std::string_view extra,
                std::uint64_t length, bool with_length);

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
  bool draining_ = false;
  bool drained_ = true;
  bool awaiting_body_ = false;  // the last parse had a complete head and waited for content
  std::size_t head_bytes_ = 0;  // that head's size
  std::size_t body_end_ = 0;    // Content-Length: where the request ends; 0 for chunked
  bool line_open_ = false;      // the last parse stopped inside the request line, within its limit
  std::unique_ptr<request_conditions> cond_;  // allocated at the first conditional request
  std::vector<std::shared_ptr<const file_cache>> retained_;
};

}  // namespace sws
