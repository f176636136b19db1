// tools/load/load_client.hpp — the closed-loop load client that hue-injector (HTTP) and
// microbench/echo (echo ping-pong) share: N clients over loopback TCP, each keeping up to
// `pipeline` requests in flight on its connection, a measured window after a warm-up, latency and
// errors counted per thread and merged at the end.
//
// What a request is and where its answer ends is the Session's business, one per client:
//   void request(std::string& out);                  // append the next request's bytes
//   result feed(const char*& p, const char* end);    // consume answer bytes, advancing p; stops
//                                                    // after one whole answer (then last())
//   result finish_at_eof();                          // complete: an answer that ran to the close
//   void reset();                                    // a new connection
//   const answer& last() const;
//   static constexpr const char* bad_answer;         // what `error` from feed means, for reports
//
//   load::counters c = load::run<my_session>(load::resolve_loopback("127.0.0.1", 8080), shape,
//                                            clients, threads, window, make_session, stop);
//
// Each client is a small state machine: waiting (to connect, maybe after a back-off) ->
// connecting -> open -> dropped after its K-th answer, an error or a server close -> waiting.
// The socket is registered once, edge-triggered, for input and output; the rules that makes
// necessary (read to a short read or EAGAIN, write to EAGAIN) are at read_all and flush.
#pragma once

#include "counters.hpp"
#include "loopback.hpp"

#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace load {

enum class result { need_more, complete, error };

struct answer {
  int status = 0;            // an HTTP status; 2xx counts as a success
  bool close = false;        // the server closes the connection after this answer
  std::uint64_t bytes = 0;   // on the wire
};

// steady_clock in ns, so a caller can sleep_until a window's edges on the same clock.
inline std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch()).count());
}

constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t connect_backoff = 10 * ms;  // a dead server is not hammered
// How often a thread looks for time-outs and reconnects due; also its longest epoll_wait, so it
// notices the end of the run within this. Both picked without data: small against any window.
constexpr std::uint64_t scan_period = 10 * ms;

// How clients behave: requests per connection (0: never close), requests in flight, and how long
// a connection may make no progress.
struct shape {
  unsigned per_connection = 150;
  unsigned pipeline = 1;
  std::uint64_t timeout_ns = 5'000'000'000;
};

struct window {  // measuring in [warm_end, end) on now_ns()'s clock
  std::uint64_t warm_end, end;
};

// One thread's clients, its epoll and its counters: nothing is shared between threads while they
// run but the target and the stop flag.
template <class Session>
class worker {
 public:
  template <class Make>  // Make(unsigned client) -> Session; client numbers are run-wide
  worker(const target& t, const shape& s, unsigned first, unsigned n, window w, Make&& make,
         const std::atomic<bool>& stop)
      : target_(t), shape_(s), w_(w), stop_(stop), buf_(64 * 1024) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    clients_.reserve(n);  // never resized after this: epoll holds pointers into it
    for (unsigned i = 0; i < n; ++i) clients_.emplace_back(make(first + i), shape_.pipeline);
  }
  ~worker() {
    for (client& c : clients_)
      if (c.fd >= 0) ::close(c.fd);
    ::close(ep_);
  }
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  const counters& stats() const { return stats_; }

  // Returns at the window's end or when `stop` is set.
  void run() {
    std::uint64_t now = now_ns(), last_scan = now;
    for (client& c : clients_) start_connect(c, now);
    std::vector<epoll_event> events(256);
    while (!stop_.load(std::memory_order_relaxed)) {
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(scan_period / ms));
      if (n < 0 && errno != EINTR)
        throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
      for (int i = 0; i < n; ++i)
        on_event(*static_cast<client*>(events[i].data.ptr), events[i].events);
      now = now_ns();
      if (now >= w_.end) break;
      if (now - last_scan >= scan_period) scan(last_scan = now);
    }
    for (const client& c : clients_) stats_.unanswered += c.sent - c.answered;
  }

 private:
  struct client {
    client(Session s, unsigned pipeline) : session(std::move(s)), sent_at(pipeline) {}
    Session session;
    enum class phase : std::uint8_t { waiting, connecting, open } ph = phase::waiting;
    int fd = -1;
    std::uint32_t sent = 0, answered = 0;  // on this connection
    std::string out;                       // bytes the socket has not taken yet
    std::size_t out_off = 0;
    std::vector<std::uint64_t> sent_at;    // ring of `pipeline`: request i at i % pipeline
    std::uint64_t deadline = 0;  // a time-out when reached with a connect or a request pending
    std::uint64_t retry_at = 0;  // phase::waiting: when to connect again
  };
  enum class error_kind { connect, reset, timeout, non_2xx, bad_response };

  bool in_window(std::uint64_t t) const { return t >= w_.warm_end && t < w_.end; }

  // Counts an error by the time it happened; `what` (and errno `err`, if not 0) describe it.
  void count(error_kind k, std::uint64_t now, const std::string& what, int err = 0) {
    if (stats_.first_error.empty()) {
      stats_.first_error = err ? what + ": " + std::strerror(err) : what;
      stats_.first_error_at = now;
    }
    if (!in_window(now)) {
      stats_.warmup_errors += now < w_.warm_end;
      return;
    }
    std::uint64_t* const by_kind[] = {&stats_.connect_errors, &stats_.resets, &stats_.timeouts,
                                      &stats_.non_2xx, &stats_.bad_responses};
    ++*by_kind[static_cast<int>(k)];
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
    c.session.reset();
    c.retry_at = now + delay;
    if (delay == 0) start_connect(c, now);
  }

  void start_connect(client& c, std::uint64_t now) {
    if (now >= w_.end || stop_.load(std::memory_order_relaxed)) return;
    c.fd = ::socket(target_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {  // EMFILE and friends: a connect failure, retried later
      count(error_kind::connect, now, "socket", errno);
      c.retry_at = now + connect_backoff;
      return;
    }
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&target_.addr), target_.len) != 0 &&
        errno != EINPROGRESS) {
      count(error_kind::connect, now, "connect", errno);
      drop(c, now, connect_backoff);
      return;
    }
    // Edge-triggered: each readiness change is reported once, so reads go on to a short read
    // and writes to EAGAIN.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0)
      throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
    c.ph = client::phase::connecting;
    c.deadline = now + shape_.timeout_ns;
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
      stats_.connections += in_window(now);
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
    if (c.sent == c.answered) c.deadline = now + shape_.timeout_ns;
    while ((k == 0 || c.sent < k) && c.sent - c.answered < shape_.pipeline) {
      c.session.request(c.out);
      c.sent_at[c.sent++ % shape_.pipeline] = now;
    }
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
      } else if (n >= 0 || errno != EINTR) {
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
  // edge), unless the peer's FIN or an error came with this event: no new edge would come for
  // those, so then we read on to the end of stream or EAGAIN.
  void read_all(client& c, std::uint32_t ev) {
    const bool ended = (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf_.data(), buf_.size(), 0);
      const std::uint64_t now = now_ns();
      if (n > 0) {
        if (!consume(c, buf_.data(), static_cast<std::size_t>(n), now)) return;
        if (!ended && static_cast<std::size_t>(n) < buf_.size()) return;
      } else if (n == 0) {
        return on_eof(c, now);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      } else if (errno != EINTR) {
        count(error_kind::reset, now, "recv", errno);
        return drop(c, now, 0);
      }
    }
  }

  // Feeds bytes to the session's framing. false: the connection ended (and was replaced).
  bool consume(client& c, const char* p, std::size_t n, std::uint64_t now) {
    for (const char* const end = p + n; p < end;) {
      const result r = c.session.feed(p, end);
      if (r == result::need_more) return true;
      if (r == result::error) {
        count(error_kind::bad_response, now, Session::bad_answer);
        drop(c, now, 0);
        return false;
      }
      if (!on_answer(c, now)) return false;
    }
    return true;
  }

  bool on_answer(client& c, std::uint64_t now) {
    const answer& a = c.session.last();
    if (c.answered == c.sent) {
      count(error_kind::bad_response, now, "an answer to no request");
      drop(c, now, 0);
      return false;
    }
    if (a.status < 200 || a.status >= 300) {
      count(error_kind::non_2xx, now, "status " + std::to_string(a.status));
    } else if (in_window(now)) {
      ++stats_.ok;
      stats_.bytes += a.bytes;
      stats_.latency.record(now - c.sent_at[c.answered % shape_.pipeline]);
    }
    ++c.answered;
    c.deadline = now + shape_.timeout_ns;
    if (a.close || (shape_.per_connection != 0 && c.answered == shape_.per_connection)) {
      // Our K requests are answered, or the server announced its close (pipelined requests after
      // this one are then unanswered, and simply not counted).
      stats_.server_closes += a.close && in_window(now);
      drop(c, now, 0);
      return false;
    }
    return send_more(c, now);
  }

  void on_eof(client& c, std::uint64_t now) {
    switch (c.session.finish_at_eof()) {
      case result::complete:  // a body that ran to the close
        if (on_answer(c, now)) drop(c, now, 0);
        return;
      case result::error:
        count(error_kind::reset, now, "the server closed in the middle of an answer");
        break;
      case result::need_more:
        if (c.answered < c.sent)
          count(error_kind::reset, now, "the server closed with requests unanswered");
        else
          stats_.server_closes += in_window(now);  // an idle keep-alive close
        break;
    }
    drop(c, now, 0);
  }

  // Time-outs, and clients whose reconnect delay is over.
  void scan(std::uint64_t now) {
    for (client& c : clients_) {
      if (c.ph == client::phase::waiting && c.fd < 0 && now >= c.retry_at) {
        start_connect(c, now);
      } else if (c.ph != client::phase::waiting && now >= c.deadline &&
                 (c.ph == client::phase::connecting || c.answered < c.sent)) {
        count(error_kind::timeout, now, c.ph == client::phase::connecting
                                            ? "no connection within the time-out"
                                            : "no answer progress within the time-out");
        drop(c, now, 0);
      }
    }
  }

  const target& target_;
  const shape shape_;
  const window w_;
  const std::atomic<bool>& stop_;
  std::vector<client> clients_;
  std::vector<char> buf_;  // one receive buffer per thread: answers are framed, not kept
  int ep_ = -1;
  counters stats_;
};

// `clients` clients shared among `threads` threads, each a worker; returns their merged
// counters. A thread's failure (epoll itself failing) sets `stop` and is rethrown here.
template <class Session, class Make>
counters run(const target& t, const shape& s, unsigned clients, unsigned threads, window w,
             Make make, std::atomic<bool>& stop) {
  threads = std::clamp(threads, 1u, clients);
  std::vector<std::unique_ptr<worker<Session>>> workers;
  for (unsigned i = 0, first = 0; i < threads; ++i) {
    const unsigned n = clients / threads + (i < clients % threads ? 1 : 0);
    workers.push_back(std::make_unique<worker<Session>>(t, s, first, n, w, make, stop));
    first += n;
  }
  std::vector<std::exception_ptr> failed(threads);
  std::vector<std::thread> running;
  for (unsigned i = 0; i < threads; ++i)
    running.emplace_back([&, i] {
      try {
        workers[i]->run();
      } catch (...) {
        failed[i] = std::current_exception();
        stop.store(true);
      }
    });
  for (std::thread& th : running) th.join();
  counters total;
  for (unsigned i = 0; i < threads; ++i) {
    if (failed[i]) std::rethrow_exception(failed[i]);
    total.merge(workers[i]->stats());
  }
  return total;
}

}  // namespace load
