// tools/injector/load_worker.hpp — one thread of hue-injector: its share of the virtual clients,
// its own epoll, its own counters (merged by injector.cpp when the run is over; nothing is shared
// between threads while it runs but the read-only requests and the stop flag).
//
// Each client is a small state machine: waiting (to connect, maybe after a back-off) ->
// connecting -> open (requests queued up to the pipeline depth, responses framed by
// response_parser) -> dropped after its K-th response, an error or a server close -> waiting.
// The socket is registered once, edge-triggered, for input and output; the rules that makes
// necessary (read to a short read or EAGAIN, write to EAGAIN) are at read_all and flush.
//
//   injector::worker w(shape, requests, addr, addr_len, 0, 100, warm_end, end, stop);
//   w.run();             // returns at `end` or when `stop` is set
//   total.merge(w.stats());
#pragma once

#include "latency_histogram.hpp"
#include "response_parser.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

namespace injector {

constexpr std::uint64_t ns_per_ms = 1'000'000;
constexpr std::uint64_t connect_backoff = 10 * ns_per_ms;
// How often each thread looks for time-outs and for clients due to reconnect; also the longest
// epoll_wait, so a thread notices the end of the run within this.
constexpr std::uint64_t scan_period = 10 * ns_per_ms;

inline std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + ts.tv_nsec;
}

// What one thread measured; merged into the total at the end.
struct counters {
  std::uint64_t ok = 0;              // 2xx responses in the window
  std::uint64_t bytes = 0;           // their bytes on the wire
  std::uint64_t connections = 0;     // connections established in the window
  std::uint64_t connect_errors = 0;
  std::uint64_t resets = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t non_2xx = 0;
  std::uint64_t bad_responses = 0;
  std::uint64_t server_closes = 0;   // the server closed, losing no request: not an error
  std::uint64_t warmup_errors = 0;   // any error before the window
  std::string first_error;           // what the earliest error was, for the report
  std::uint64_t first_error_at = UINT64_MAX;
  latency_histogram latency;

  std::uint64_t errors() const {
    return connect_errors + resets + timeouts + non_2xx + bad_responses;
  }
  void merge(const counters& o) {
    ok += o.ok;
    bytes += o.bytes;
    connections += o.connections;
    connect_errors += o.connect_errors;
    resets += o.resets;
    timeouts += o.timeouts;
    non_2xx += o.non_2xx;
    bad_responses += o.bad_responses;
    server_closes += o.server_closes;
    warmup_errors += o.warmup_errors;
    if (o.first_error_at < first_error_at) {
      first_error = o.first_error;
      first_error_at = o.first_error_at;
    }
    latency.merge(o.latency);
  }
};

// How the clients behave: requests per connection (0: never close), requests in flight, and how
// long a connection may make no progress.
struct load_shape {
  unsigned per_connection = 150;
  unsigned pipeline = 1;
  std::uint64_t timeout_ns = 5'000'000'000;
};

// The GET request for each path, built once; `host` is the Host header's value.
inline std::vector<std::string> build_requests(const std::vector<std::string>& paths,
                                               const std::string& host) {
  std::vector<std::string> out;
  for (const std::string& p : paths)
    out.push_back("GET " + p + " HTTP/1.1\r\nHost: " + host +
                  "\r\nUser-Agent: hue-injector\r\nAccept: */*\r\n\r\n");
  return out;
}

// One thread: its clients, its epoll, its counters.
class worker {
 public:
  // Clients first_client .. first_client + n_clients - 1 of the run (the number only picks the
  // first path); measuring in [warm_end, end) on the monotonic clock; `stop` ends the run early.
  worker(const load_shape& shape, const std::vector<std::string>& requests,
         const sockaddr_storage& addr, socklen_t addr_len, unsigned first_client,
         unsigned n_clients, std::uint64_t warm_end, std::uint64_t end,
         const std::atomic<bool>& stop)
      : shape_(shape), requests_(requests), addr_(addr), addr_len_(addr_len), clients_(n_clients),
        warm_end_(warm_end), end_(end), timeout_(shape.timeout_ns), stop_(stop),
        buf_(64 * 1024) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    for (unsigned i = 0; i < n_clients; ++i) {
      clients_[i].next_path = (first_client + i) % requests_.size();
      clients_[i].sent_at.resize(shape_.pipeline);
    }
  }
  ~worker() {
    for (client& c : clients_)
      if (c.fd >= 0) ::close(c.fd);
    if (ep_ >= 0) ::close(ep_);
  }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  const counters& stats() const { return stats_; }

  void run() {
    std::uint64_t now = now_ns();
    for (client& c : clients_) start_connect(c, now);
    std::vector<epoll_event> events(256);
    std::uint64_t last_scan = now;
    while (!stop_.load(std::memory_order_relaxed)) {
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(scan_period / ns_per_ms));
      if (n < 0 && errno != EINTR)
        throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
      for (int i = 0; i < n; ++i)
        on_event(*static_cast<client*>(events[i].data.ptr), events[i].events);
      now = now_ns();
      if (now >= end_) break;
      if (now - last_scan >= scan_period) {
        scan(now);
        last_scan = now;
      }
    }
  }

 private:
  struct client {
    enum class phase : std::uint8_t { waiting, connecting, open };
    int fd = -1;
    phase ph = phase::waiting;
    std::uint32_t sent = 0;      // requests queued on this connection
    std::uint32_t answered = 0;  // responses completed on it
    std::string out;             // bytes not yet accepted by the socket
    std::size_t out_off = 0;
    std::vector<std::uint64_t> sent_at;  // ring of --pipeline entries: request i at i % pipeline
    response_parser parser;
    std::uint64_t deadline = 0;  // a time-out when reached with a connect or a request pending
    std::uint64_t retry_at = 0;  // phase::waiting: when to connect again
    std::size_t next_path = 0;
  };
  enum class error_kind { connect, reset, timeout, non_2xx, bad_response };

  bool in_window(std::uint64_t t) const { return t >= warm_end_ && t < end_; }

  // Counts an error by the time it happened; `what` (and errno `err`, if not 0) describe it.
  void count(error_kind k, std::uint64_t now, const char* what, int err = 0) {
    if (stats_.first_error.empty()) {
      stats_.first_error = err ? std::string(what) + ": " + std::strerror(err) : what;
      stats_.first_error_at = now;
    }
    if (!in_window(now)) {
      if (now < warm_end_) ++stats_.warmup_errors;
      return;
    }
    switch (k) {
      case error_kind::connect: ++stats_.connect_errors; break;
      case error_kind::reset: ++stats_.resets; break;
      case error_kind::timeout: ++stats_.timeouts; break;
      case error_kind::non_2xx: ++stats_.non_2xx; break;
      case error_kind::bad_response: ++stats_.bad_responses; break;
    }
  }

  // Closes the connection (epoll forgets the fd with its last reference) and schedules the
  // client's next one: at once, or after `delay` ns.
  void drop(client& c, std::uint64_t now, std::uint64_t delay) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.ph = client::phase::waiting;
    c.sent = c.answered = 0;
    c.out.clear();
    c.out_off = 0;
    c.parser.reset();
    c.retry_at = now + delay;
    if (delay == 0) start_connect(c, now);
  }

  void start_connect(client& c, std::uint64_t now) {
    if (now >= end_ || stop_.load(std::memory_order_relaxed)) return;
    c.fd = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {  // EMFILE and friends: a connect failure, retried later
      count(error_kind::connect, now, "socket", errno);
      c.retry_at = now + connect_backoff;
      return;
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) != 0 &&
        errno != EINPROGRESS) {
      count(error_kind::connect, now, "connect", errno);
      drop(c, now, connect_backoff);
      return;
    }
    // Edge-triggered: each readiness change is reported once, so reads go on to a short read
    // and writes to EAGAIN (see on_event).
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0)
      throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
    c.ph = client::phase::connecting;
    c.deadline = now + timeout_;
  }

  void on_event(client& c, std::uint32_t ev) {
    const std::uint64_t now = now_ns();
    if (c.ph == client::phase::connecting) {
      if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (ev & (EPOLLERR | EPOLLHUP)) != 0) {
        count(error_kind::connect, now, "connect", err);
        drop(c, now, connect_backoff);
        return;
      }
      c.ph = client::phase::open;
      if (in_window(now)) ++stats_.connections;
      if (!send_more(c, now)) return;
    } else if (c.ph != client::phase::open) {
      return;  // a stale event for a connection already dropped in this batch
    }
    if ((ev & EPOLLOUT) && c.out_off < c.out.size() && !flush(c, now)) return;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_all(c, ev);
  }

  // Queues requests up to the pipeline depth and the per-connection count, then writes.
  bool send_more(client& c, std::uint64_t now) {
    const unsigned k = shape_.per_connection;
    const bool idle = c.sent == c.answered;
    while ((k == 0 || c.sent < k) && c.sent - c.answered < shape_.pipeline) {
      c.out += requests_[c.next_path];
      if (++c.next_path == requests_.size()) c.next_path = 0;
      c.sent_at[c.sent % shape_.pipeline] = now;
      ++c.sent;
    }
    if (idle) c.deadline = now + timeout_;
    return flush(c, now);
  }

  // Writes what the socket takes. false: the connection failed and was replaced.
  bool flush(client& c, std::uint64_t now) {
    while (c.out_off < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return true;  // EPOLLOUT will say when there is room
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        count(error_kind::reset, now, "send", n < 0 ? errno : 0);
        drop(c, now, 0);
        return false;
      }
    }
    c.out.clear();
    c.out_off = 0;
    return true;
  }

  // Reads until the socket is empty. A short read means it is (the next arrival raises a new
  // edge), unless the peer's FIN or an error was already reported with this event: no new edge
  // would come for those, so then we read on to the end of stream or EAGAIN.
  void read_all(client& c, std::uint32_t ev) {
    const bool ended = (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), 0);
      const std::uint64_t now = now_ns();
      if (n > 0) {
        if (!consume(c, buf_.data(), static_cast<std::size_t>(n), now)) return;
        if (!ended && static_cast<std::size_t>(n) < buf_.size()) return;
      } else if (n == 0) {
        on_eof(c, now);
        return;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      } else if (errno != EINTR) {
        count(error_kind::reset, now, "recv", errno);
        drop(c, now, 0);
        return;
      }
    }
  }

  // Feeds bytes to the framing parser. false: the connection ended (and was replaced).
  bool consume(client& c, const char* p, std::size_t n, std::uint64_t now) {
    const char* end = p + n;
    while (p < end) {
      switch (c.parser.feed(p, end)) {
        case response_parser::result::complete:
          if (!on_response(c, now)) return false;
          break;
        case response_parser::result::error:
          count(error_kind::bad_response, now, "a response that is not valid HTTP/1.x framing");
          drop(c, now, 0);
          return false;
        case response_parser::result::need_more:
          return true;
      }
    }
    return true;
  }

  bool on_response(client& c, std::uint64_t now) {
    const response_parser::response& r = c.parser.last();
    if (c.answered == c.sent) {
      count(error_kind::bad_response, now, "a response to no request");
      drop(c, now, 0);
      return false;
    }
    if (r.status >= 200 && r.status < 300) {
      if (in_window(now)) {
        ++stats_.ok;
        stats_.bytes += r.bytes;
        stats_.latency.record(now - c.sent_at[c.answered % shape_.pipeline]);
      }
    } else {
      status_text_ = "status " + std::to_string(r.status);
      count(error_kind::non_2xx, now, status_text_.c_str());
    }
    ++c.answered;
    c.deadline = now + timeout_;
    const unsigned k = shape_.per_connection;
    if (r.close || (k != 0 && c.answered == k)) {
      // Our K requests are answered, or the server announced its close (pipelined requests after
      // this one are then unanswered, and simply not counted).
      if (r.close && in_window(now)) ++stats_.server_closes;
      drop(c, now, 0);
      return false;
    }
    return send_more(c, now);
  }

  void on_eof(client& c, std::uint64_t now) {
    switch (c.parser.finish_at_eof()) {
      case response_parser::result::complete:  // a body that ran to the close
        if (on_response(c, now)) drop(c, now, 0);
        return;
      case response_parser::result::error:
        count(error_kind::reset, now, "the server closed in the middle of a response");
        break;
      case response_parser::result::need_more:
        if (c.answered < c.sent)
          count(error_kind::reset, now, "the server closed with requests unanswered");
        else if (in_window(now))
          ++stats_.server_closes;  // an idle keep-alive close
        break;
    }
    drop(c, now, 0);
  }

  // Time-outs, and clients whose reconnect delay is over.
  void scan(std::uint64_t now) {
    for (client& c : clients_) {
      switch (c.ph) {
        case client::phase::waiting:
          if (c.fd < 0 && now >= c.retry_at) start_connect(c, now);
          break;
        case client::phase::connecting:
          if (now >= c.deadline) {
            count(error_kind::timeout, now, "no connection within --timeout");
            drop(c, now, 0);
          }
          break;
        case client::phase::open:
          if (c.answered < c.sent && now >= c.deadline) {
            count(error_kind::timeout, now, "no response progress within --timeout");
            drop(c, now, 0);
          }
          break;
      }
    }
  }

  const load_shape shape_;
  const std::vector<std::string>& requests_;
  const sockaddr_storage addr_;
  const socklen_t addr_len_;
  std::vector<client> clients_;  // never resized: epoll holds pointers into it
  const std::uint64_t warm_end_, end_, timeout_;
  const std::atomic<bool>& stop_;
  std::vector<char> buf_;        // one receive buffer per thread: bodies are skipped, not kept
  int ep_ = -1;
  counters stats_;
  std::string status_text_;
};

}  // namespace injector
