// apps/sws/session.cpp — parsing, answering and writing for one connection.
#include "session.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

namespace sws {

using hue::net::io_status;

io_status session::read_from(int fd, std::size_t max_buffer) {
  // Drop what was parsed: the buffer holds at most one partial request plus a pipelined burst.
  if (start_ > 0) {
    std::memmove(in_.get(), in_.get() + start_, in_len_ - start_);
    in_len_ -= start_;
    start_ = 0;
  }
  drained_ = false;
  for (;;) {
    if (in_len_ >= max_buffer) return io_status::ok;  // more waits in the socket (drained_ false)
    if (in_len_ == in_cap_) {  // 4 KiB first, doubling up to the limit; never zero-filled
      const std::size_t cap = std::min(std::max<std::size_t>(4096, 2 * in_cap_), max_buffer);
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (in_len_) std::memcpy(bigger.get(), in_.get(), in_len_);
      in_ = std::move(bigger);
      in_cap_ = cap;
    }
    const std::size_t want = in_cap_ - in_len_;
    const hue::net::io_result r = hue::net::read_some(fd, in_.get() + in_len_, want);
    in_len_ += r.bytes;
    if (r.status == io_status::ok) {
      if (r.bytes < want) {  // a short read: the socket is empty for now
        drained_ = true;
        return io_status::ok;
      }
      continue;
    }
    if (r.status == io_status::would_block) {
      drained_ = true;
      return io_status::ok;
    }
    return r.status;  // eof, closed, error
  }
}

session::parsed session::parse(const http::limits& lim) {
  parsed p;
  path_.clear();
  const std::string_view rest(in_.get() + start_, in_len_ - start_);
  // A request arriving in pieces is re-parsed from its start. Bytes without a line end cannot
  // complete a head, so skip the re-parse for them: a client trickling one byte at a time would
  // otherwise cost a scan of up to max_header_bytes per byte. (Only when no body is ever awaited:
  // a body needs no line end. Errors a re-parse would find now are found at the next line end.)
  if (checked_ > 0 && checked_ <= rest.size() && lim.max_body_bytes == 0 &&
      rest.size() <= lim.max_header_bytes &&
      std::memchr(rest.data() + checked_, '\n', rest.size() - checked_) == nullptr) {
    checked_ = rest.size();
    return p;
  }
  const http::parse_result r = http::parse_request(rest, lim);
  checked_ = r.st == http::status::incomplete ? rest.size() : 0;
  switch (r.st) {
    case http::status::incomplete:
      return p;
    case http::status::complete:
      break;
    default:
      // The framing is lost: answer, then close, and ignore whatever follows.
      start_ = in_len_;
      p.what = parsed::invalid;
      p.error_status = http::status_code(r.st);
      p.keep_alive = false;
      return p;
  }
  start_ += r.consumed;
  p.keep_alive = r.req.keep_alive;
  p.head = r.req.verb == http::method::head;
  if (r.req.verb == http::method::other) {
    p.what = parsed::invalid;
    p.error_status = 405;  // framing intact: the connection may stay
    return p;
  }
  switch (http::normalize_target(r.req.target, path_)) {
    case http::target_status::ok:
      p.what = parsed::request;
      return p;
    case http::target_status::not_found:
      p.what = parsed::request;
      path_.assign(1, '\0');  // matches no file: CheckInCache answers 404
      return p;
    case http::target_status::bad_request:
      break;
  }
  p.what = parsed::invalid;
  p.error_status = 400;
  return p;
}

void session::add_own(std::string_view s) {
  pieces_.push_back({nullptr, own_.size(), s.size()});
  own_.append(s);
  pending_bytes_ += s.size();
}

void session::add_borrowed(const std::string& s) {
  if (s.empty()) return;
  if (s.size() <= 256) return add_own(s);  // small: one copy beats one more iovec
  pieces_.push_back({s.data(), 0, s.size()});
  pending_bytes_ += s.size();
}

void session::respond(const response& r, bool head, bool keep_alive) {
  keep_alive = keep_alive && !close_after_;
  add_borrowed(r.head(keep_alive));
  add_own(date_line());
  add_own("\r\n");
  if (!head) add_borrowed(r.body);
  if (!keep_alive) close_after_ = true;
}

io_status session::flush(int fd) {
  while (!pieces_.empty()) {
    iovec iov[64];
    const std::size_t n = std::min<std::size_t>(pieces_.size(), 64);
    for (std::size_t i = 0; i < n; ++i) {
      const piece& p = pieces_[i];
      iov[i].iov_base = const_cast<char*>(p.data ? p.data + p.off : own_.data() + p.off);
      iov[i].iov_len = p.len;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    const ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return io_status::would_block;
      return (errno == EPIPE || errno == ECONNRESET) ? io_status::closed : io_status::error;
    }
    std::size_t left = static_cast<std::size_t>(w);
    written_ += left;
    pending_bytes_ -= left;
    std::size_t done = 0;
    while (done < pieces_.size() && left >= pieces_[done].len) left -= pieces_[done++].len;
    if (done < pieces_.size() && left > 0) {
      pieces_[done].off += left;
      pieces_[done].len -= left;
    }
    pieces_.erase(pieces_.begin(), pieces_.begin() + static_cast<std::ptrdiff_t>(done));
  }
  own_.clear();
  return io_status::ok;
}

}  // namespace sws
