// apps/sws/session.cpp — parsing, answering and writing for one connection.
#include "session.hpp"

#include "http_bytes.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

namespace sws {

using hue::net::io_status;

void session::release_idle() noexcept {
  if (start_ != in_len_ || !pieces_.empty() || awaiting_body_) return;
  in_.reset();
  in_cap_ = in_len_ = start_ = checked_ = 0;
  std::string().swap(own_);
  std::vector<piece>().swap(pieces_);
}

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

namespace {

using http::iequals;

// Steps of a large file: one sendfile call moves at most `sendfile_step` bytes, and one flush at
// most `flush_budget`, after which the connection's color yields so that other connections on
// the core get their turn (a fast reader would otherwise keep one event busy for gigabytes).
constexpr std::size_t sendfile_step = 256 * 1024;
constexpr std::size_t flush_budget = 1024 * 1024;

}  // namespace

session::parsed session::parse(const http::limits& lim) {
  parsed p;
  path_.clear();
  const std::string_view rest(in_.get() + start_, in_len_ - start_);
  // A request arriving in pieces is re-parsed from its start; skip the re-parse when the new
  // bytes cannot change the verdict, or a client trickling one byte at a time would cost a scan
  // of the whole head per byte:
  //   - while the head is open, or a chunked body arrives: bytes without a line end cannot
  //     complete anything (errors a re-parse would find now are found at the next line end, and
  //     the limits still apply: past them the re-parse happens). The request line's limit too:
  //     a line still open when the buffer passes it is re-parsed at once, so its 414 does not
  //     wait for a line end that may never come, or for the header limit further on;
  //   - a Content-Length body: nothing changes until all of it is there.
  if (checked_ > 0 && checked_ <= rest.size()) {
    const bool no_new_line =
        std::memchr(rest.data() + checked_, '\n', rest.size() - checked_) == nullptr;
    bool skip;
    if (!awaiting_body_)
      skip = rest.size() <= lim.max_header_bytes && no_new_line &&
             !(line_open_ && rest.size() > lim.max_request_line_bytes);
    else if (body_end_ > 0) skip = rest.size() < body_end_;
    else skip = rest.size() - head_bytes_ < lim.max_body_bytes && no_new_line;  // chunked
    if (skip) {
      checked_ = rest.size();
      return p;
    }
  }
  const http::parse_result r = http::parse_request(rest, lim);
  checked_ = r.st == http::status::incomplete ? rest.size() : 0;
  // Leading empty lines are in `rest` but not in the line: with them the line may still be within
  // its limit when `rest` is past it. Then the flag drops, and the line's 414 comes at the next
  // line end or the header limit, rather than from a re-parse at every read.
  line_open_ = r.st == http::status::incomplete && r.req.verb == http::method::unknown &&
               rest.size() <= lim.max_request_line_bytes;
  awaiting_body_ = r.st == http::status::incomplete && r.head_bytes > 0;
  head_bytes_ = r.head_bytes;
  body_end_ = awaiting_body_ && !r.req.chunked ? r.head_bytes + r.req.body_bytes : 0;
  std::string expect;
  const bool expect_field = (r.req.fields & http::field::expect) != 0 && r.req.minor_version == 1;
  if (expect_field) http::field_values(r.req.head, "expect", expect);
  // Expect: 100-continue (the only expectation defined) with its content still to come.
  const bool cut_short = awaiting_body_ && expect_field && iequals(expect, "100-continue");
  switch (r.st) {
    case http::status::incomplete:
      if (!cut_short) return p;
      break;
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
  if (cut_short) {
    // Answered before its content: the content's bytes would be taken for a next request, so
    // the connection closes after this answer (RFC 9110 §10.1.1).
    start_ = in_len_;
    awaiting_body_ = false;
    checked_ = 0;
    close_after_ = true;
  } else {
    start_ += r.consumed;
  }
  p.keep_alive = r.req.keep_alive && !cut_short;
  p.head = r.req.verb == http::method::head;
  auto invalid = [&](int status, bool keep) {
    p.what = parsed::invalid;
    p.error_status = status;
    p.keep_alive = p.keep_alive && keep;
    return p;
  };
  // Host (RFC 9112 §3.2): exactly one in HTTP/1.1, never two, always well-formed. The framing is
  // intact, but a request this broken says little for what follows: close.
  if ((r.req.minor_version == 1 && r.req.host_lines != 1) || r.req.host_lines > 1 ||
      !r.req.host_valid)
    return invalid(400, false);
  if (expect_field && !iequals(expect, "100-continue")) return invalid(417, true);
  if (r.req.verb == http::method::other) return invalid(405, true);  // framing intact: may stay
  const bool asterisk = r.req.target == "*";
  if (r.req.verb == http::method::options) {
    if (!asterisk && http::normalize_target(r.req.target, path_) == http::target_status::bad_request)
      return invalid(400, true);
    path_.clear();
    p.what = parsed::options;
    return p;
  }
  if (cond_) cond_->clear();
  if ((r.req.fields & ~unsigned(http::field::expect)) != 0) {
    using http::field;
    if (!cond_) cond_ = std::make_unique<request_conditions>();  // most connections never need it
    const std::string_view h = r.req.head;
    if (r.req.fields & field::if_match) http::field_values(h, "if-match", cond_->if_match);
    if (r.req.fields & field::if_none_match) http::field_values(h, "if-none-match", cond_->if_none_match);
    if (r.req.fields & field::if_modified_since)
      http::field_values(h, "if-modified-since", cond_->if_modified_since);
    if (r.req.fields & field::if_unmodified_since)
      http::field_values(h, "if-unmodified-since", cond_->if_unmodified_since);
    if (r.req.fields & field::range) http::field_values(h, "range", cond_->range);
    if (r.req.fields & field::if_range) http::field_values(h, "if-range", cond_->if_range);
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
  return invalid(400, true);
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

void session::add_slice(const std::string& s, std::size_t off, std::size_t len) {
  if (len == 0) return;
  if (len <= 256) return add_own(std::string_view(s).substr(off, len));
  pieces_.push_back({s.data(), off, len});
  pending_bytes_ += len;
}

void session::add_file(int fd, std::uint64_t off, std::uint64_t len) {
  if (len == 0) return;
  pieces_.push_back({nullptr, static_cast<std::size_t>(off), static_cast<std::size_t>(len), fd});
  pending_bytes_ += len;
}

void session::add_body(const response& f, std::uint64_t off, std::uint64_t len) {
  if (f.fd >= 0) add_file(f.fd, off, len);
  else add_slice(f.body, static_cast<std::size_t>(off), static_cast<std::size_t>(len));
}

// A head composed for this request (304, 206, 416): the file's validators, Date, the blank line.
void session::add_head(int status, const response& f, bool keep_alive, std::string_view extra,
                       std::uint64_t length, bool with_length) {
  std::string h;
  h.reserve(320);
  h += "HTTP/1.1 ";
  h += std::to_string(status);
  h += ' ';
  h += reason(status);
  h += "\r\nServer: hue-sws\r\n";
  if (with_length) {
    h += "Content-Type: ";
    h += status == 416 ? std::string_view("text/plain") : f.type;
    h += "\r\nContent-Length: ";
    h += std::to_string(length);
    h += "\r\n";
  }
  h += extra;
  h += "ETag: ";
  h += f.etag;
  h += "\r\nLast-Modified: ";
  h += f.last_modified;
  h += "\r\nAccept-Ranges: bytes\r\n";
  h += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  add_own(h);
  add_own(date_line());
  add_own("\r\n");
}

int session::respond_file(const response& f, bool head, bool keep_alive, const file_cache& errors) {
  keep_alive = keep_alive && !close_after_ && !(draining_ && !partial_request());
  if (!keep_alive) close_after_ = true;
  if (cond_ && cond_->any()) {
    switch (evaluate(*cond_, f.etag, f.mtime)) {
      case precondition::not_modified:
        // 304: no content, so no Content-Length; ETag and Date as a 200 would have (§15.4.5).
        add_head(304, f, keep_alive, {}, 0, false);
        return 304;
      case precondition::failed:
        respond(errors.error(412), false, keep_alive);
        return 412;
      case precondition::proceed:
        break;
    }
    byte_range br;
    // Range is defined for GET only (RFC 9110 §14.2): a HEAD gets the 200 head.
    switch (head ? range_verdict::whole : evaluate_range(*cond_, f.etag, f.mtime, f.size, br)) {
      case range_verdict::partial: {
        const std::string cr = "Content-Range: bytes " + std::to_string(br.first) + "-" +
                               std::to_string(br.last) + "/" + std::to_string(f.size) + "\r\n";
        add_head(206, f, keep_alive, cr, br.length(), true);
        add_body(f, br.first, br.length());
        return 206;
      }
      case range_verdict::unsatisfiable: {
        static const std::string body = "416 Range Not Satisfiable\n";
        add_head(416, f, keep_alive, "Content-Range: bytes */" + std::to_string(f.size) + "\r\n",
                 body.size(), true);
        add_own(body);
        return 416;
      }
      case range_verdict::whole:
        break;
    }
  }
  add_borrowed(f.head(keep_alive));
  add_own(date_line());
  add_own("\r\n");
  if (!head) add_body(f, 0, f.size);
  return 200;
}

void session::retain(std::shared_ptr<const file_cache> snap) {
  if (snap && output_pending()) retained_.push_back(std::move(snap));
}

void session::respond(const response& r, bool head, bool keep_alive) {
  keep_alive = keep_alive && !close_after_ && !(draining_ && !partial_request());
  add_borrowed(r.head(keep_alive));
  add_own(date_line());
  add_own("\r\n");
  if (!head) {
    if (r.fd >= 0) add_file(r.fd, 0, r.size);
    else add_borrowed(r.body);
  }
  if (!keep_alive) close_after_ = true;
}

void session::respond_generated(int status, std::string_view content_type, std::string_view body,
                                bool head, bool keep_alive) {
  keep_alive = keep_alive && !close_after_ && !(draining_ && !partial_request());
  std::string h = "HTTP/1.1 " + std::to_string(status) + ' ' + reason(status) +
                  "\r\nServer: hue-sws\r\nContent-Type: ";
  h += content_type;
  h += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nCache-Control: no-store\r\n";
  h += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  add_own(h);
  add_own(date_line());
  add_own("\r\n");
  if (!head) add_own(body);
  if (!keep_alive) close_after_ = true;
}

io_status session::flush(int fd) {
  std::size_t budget = flush_budget;
  auto failed = [](int err) {
    if (err == EAGAIN || err == EWOULDBLOCK) return io_status::would_block;
    return (err == EPIPE || err == ECONNRESET) ? io_status::closed : io_status::error;
  };
  while (!pieces_.empty()) {
    if (pieces_.front().fd >= 0) {
      // A file: straight from the page cache to the socket, one step at a time. The explicit
      // offset leaves the descriptor's own position alone, so connections share it.
      piece& f = pieces_.front();
      off_t off = static_cast<off_t>(f.off);
      const ssize_t w = ::sendfile(fd, f.fd, &off, std::min(f.len, std::min(sendfile_step, budget)));
      if (w < 0) {
        if (errno == EINTR) continue;
        return failed(errno);
      }
      // The file shrank since the scan: the promised Content-Length cannot be kept, and only
      // closing tells the client its response is short.
      if (w == 0) return io_status::error;
      const auto n = static_cast<std::size_t>(w);
      written_ += n;
      pending_bytes_ -= n;
      f.off += n;
      f.len -= n;
      if (f.len == 0) pieces_.erase(pieces_.begin());
      budget -= n;
      if (budget == 0 && !pieces_.empty()) return io_status::ok;  // yield: the caller reposts
      continue;
    }
    iovec iov[64];
    std::size_t n = 0;
    for (; n < std::min<std::size_t>(pieces_.size(), 64) && pieces_[n].fd < 0; ++n) {
      const piece& p = pieces_[n];
      iov[n].iov_base = const_cast<char*>(p.data ? p.data + p.off : own_.data() + p.off);
      iov[n].iov_len = p.len;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    const ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return failed(errno);
    }
    std::size_t left = static_cast<std::size_t>(w);
    written_ += left;
    pending_bytes_ -= left;
    std::size_t done = 0;
    while (done < n && left >= pieces_[done].len) left -= pieces_[done++].len;
    if (done < n && left > 0) {
      pieces_[done].off += left;
      pieces_[done].len -= left;
    }
    pieces_.erase(pieces_.begin(), pieces_.begin() + static_cast<std::ptrdiff_t>(done));
  }
  own_.clear();
  retained_.clear();  // nothing borrows from an older snapshot any more
  return io_status::ok;
}

}  // namespace sws
