// tools/injector/injector.cpp — hue-injector: the closed-loop HTTP/1.1 load injector of the
// paper's SWS evaluation (seeds/004 §5.3.1, Fig. 6), for loopback.
//
// N virtual clients; each connects, sends K GET requests on that one keep-alive connection (the
// paper: K = 150), waits for each response before sending the next (or keeps up to --pipeline
// requests in flight), closes, and starts again with a new connection. The client closes (after
// the K-th response), not the server: the TIME_WAIT state stays on the injector's side, where the
// kernel accounts for it when it picks the next ephemeral port. (Asking with `Connection: close`
// would leave it on the server's side, and on loopback a reconnect from the same port then runs
// into that TIME_WAIT socket now and then, which shows up as refused connects.) Paths are taken
// round-robin from the list, each client starting at a different one. Closed loop: the offered
// load is whatever the server sustains.
//
//   hue-injector --port 8080 --clients 100 --path /index.html --duration 10
//   hue-injector --port 8080 --clients 250 --paths-file paths.txt --warmup 2 --duration 30
//                --csv out.csv --label nginx          (one command, wrapped here)
//
// Options (defaults in brackets):
//   --host H                     numeric address or name; must be loopback [127.0.0.1]
//   --port N                     server port (required)
//   --clients N                  virtual clients [100]
//   --requests-per-connection K  requests per connection, then close [150]; 0: never close
//   --pipeline N                 requests in flight per connection [1]
//   --path P                     a URL path to request (repeatable) [/index.html]
//   --paths-file F               URL paths, one per line ('#' comments, blank lines skipped)
//   --duration S                 measured seconds [10]
//   --warmup S                   seconds of load before measuring starts [1]
//   --timeout S                  a connection making no progress this long is a time-out [5]
//   --threads N                  threads, each with its own epoll and share of the clients [1]
//   --csv F                      also write one CSV row to F (header first if F is new or empty)
//   --label TEXT                 the CSV row's first column [host:port]
//   --help
//
// What is counted. Within the measured window [warm-up end, warm-up end + duration): responses
// by status (2xx are the requests/s; anything else is a `non-2xx` error), response bytes on the
// wire (status line, headers, body: MB/s with MB = 10^6 bytes), the latency of each 2xx response
// (from the moment its request was queued to the moment its last byte was read; so a connect is
// not in it, but time waiting in the socket buffer with pipelining is), connections established.
// Errors, each separately: connect failures, resets (a read or write error, or the server closing
// with a response cut or requests unanswered), time-outs, non-2xx statuses, bad responses (not
// valid HTTP/1.x framing). A client that hits an error closes its connection and starts a new one
// (after 10 ms for a connect failure, so a dead server is not hammered). Errors during warm-up are
// reported apart. Server-initiated closes that lose nothing (`Connection: close` or an idle close
// between requests) are not errors; they are counted as `server_closes`.
//
// Latency percentiles come from a log-linear histogram (1.6% resolution; latency_histogram.hpp).
// Output: a table on stdout, then `key=value` lines (for scripts: tools/race/race.sh parses them).
// Exit status 0 when any 2xx response was measured, 1 when none, 2 on bad options.
//
// No hue dependency: plain epoll (edge-triggered) and non-blocking sockets, so it loads every
// server the same way. Loopback only: it refuses any other address, so it cannot be pointed at
// someone else's machine.
#include "latency_histogram.hpp"
#include "response_parser.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace injector {
namespace {

constexpr std::uint64_t ms = 1'000'000;  // in ns
constexpr std::uint64_t connect_backoff = 10 * ms;
// How often each thread looks for time-outs and for clients due to reconnect; also the longest
// epoll_wait, so a thread notices the end of the run within this.
constexpr std::uint64_t scan_period = 10 * ms;

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + ts.tv_nsec;
}

struct options {
  std::string host = "127.0.0.1";
  int port = -1;
  unsigned clients = 100;
  unsigned per_connection = 150;  // 0: never close
  unsigned pipeline = 1;
  std::vector<std::string> paths;
  double duration = 10;
  double warmup = 1;
  double timeout = 5;
  unsigned threads = 1;
  std::string csv;
  std::string label;
};

void usage(std::FILE* to) {
  std::fprintf(to,
      "usage: hue-injector --port N [options]\n"
      "Closed-loop HTTP/1.1 load on a loopback server: N clients, each sends K requests on one\n"
      "keep-alive connection, closes, reconnects (the paper's SWS injector, seeds/004 5.3.1).\n"
      "  --host H                     numeric address or name, loopback only (default 127.0.0.1)\n"
      "  --port N                     server port (required)\n"
      "  --clients N                  virtual clients (default 100)\n"
      "  --requests-per-connection K  requests per connection, then close (default 150;\n"
      "                               0: keep each connection for the whole run)\n"
      "  --pipeline N                 requests in flight per connection (default 1)\n"
      "  --path P                     URL path to request; repeatable (default /index.html)\n"
      "  --paths-file F               URL paths, one per line ('#' comments allowed)\n"
      "  --duration S                 measured seconds (default 10)\n"
      "  --warmup S                   seconds of load before measuring (default 1)\n"
      "  --timeout S                  no progress for S seconds is a time-out (default 5)\n"
      "  --threads N                  injector threads, clients shared among them (default 1)\n"
      "  --csv F                      append one CSV row to F (header first if F is new)\n"
      "  --label TEXT                 first CSV column (default host:port)\n"
      "  --help                       this text\n"
      "Prints a table, then key=value lines: requests_per_s, mb_per_s, p50_us, p90_us, p99_us,\n"
      "max_us, and the error counts. Exit 0 if any 2xx response was measured, else 1.\n");
}

unsigned to_unsigned(const std::string& opt, const std::string& v, unsigned lo, unsigned hi) {
  std::size_t used = 0;
  unsigned long x = 0;
  try {
    x = std::stoul(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || v[0] == '-' || x < lo || x > hi)
    throw std::invalid_argument(opt + " wants an integer in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], got '" + v + "'");
  return static_cast<unsigned>(x);
}

double to_seconds(const std::string& opt, const std::string& v, double lo) {
  std::size_t used = 0;
  double x = -1;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || !(x >= lo) || x > 86400)
    throw std::invalid_argument(opt + " wants seconds >= " + std::to_string(lo) + ", got '" + v +
                                "'");
  return x;
}

void add_path(options& o, const std::string& p, const std::string& where) {
  if (p.empty() || p[0] != '/')
    throw std::invalid_argument(where + ": a path must start with '/', got '" + p + "'");
  for (unsigned char c : p)
    if (c <= ' ' || c == 0x7f)
      throw std::invalid_argument(where + ": a path may not hold spaces or control characters ('" +
                                  p + "'); percent-encode them");
  o.paths.push_back(p);
}

options parse_options(int argc, char** argv, bool& help) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      help = true;
      return o;
    } else if (a == "--host") {
      o.host = value();
    } else if (a == "--port") {
      o.port = static_cast<int>(to_unsigned(a, value(), 1, 65535));
    } else if (a == "--clients") {
      o.clients = to_unsigned(a, value(), 1, 1'000'000);
    } else if (a == "--requests-per-connection") {
      o.per_connection = to_unsigned(a, value(), 0, 1'000'000'000);
    } else if (a == "--pipeline") {
      o.pipeline = to_unsigned(a, value(), 1, 1024);
    } else if (a == "--path") {
      add_path(o, value(), "--path");
    } else if (a == "--paths-file") {
      const std::string f = value();
      std::ifstream in(f);
      if (!in) throw std::invalid_argument("--paths-file: cannot read " + f);
      std::string line;
      unsigned n = 0;
      while (std::getline(in, line)) {
        ++n;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        add_path(o, line, f + ":" + std::to_string(n));
      }
    } else if (a == "--duration") {
      o.duration = to_seconds(a, value(), 0.01);
    } else if (a == "--warmup") {
      o.warmup = to_seconds(a, value(), 0);
    } else if (a == "--timeout") {
      o.timeout = to_seconds(a, value(), 0.001);
    } else if (a == "--threads") {
      o.threads = to_unsigned(a, value(), 1, 256);
    } else if (a == "--csv") {
      o.csv = value();
    } else if (a == "--label") {
      o.label = value();
    } else {
      throw std::invalid_argument("unknown option " + a);
    }
  }
  if (o.port < 0) throw std::invalid_argument("--port is required");
  if (o.paths.empty()) o.paths.push_back("/index.html");
  if (o.threads > o.clients) o.threads = o.clients;
  if (o.per_connection != 0 && o.pipeline > o.per_connection) o.pipeline = o.per_connection;
  return o;
}

bool is_loopback(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(ss);
    return (ntohl(a.sin_addr.s_addr) >> 24) == 127;
  }
  if (ss.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
  }
  return false;
}

std::string numeric(const sockaddr_storage& ss, socklen_t len) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, host, sizeof host, nullptr, 0,
                  NI_NUMERICHOST) != 0)
    return "?";
  return host;
}

// Resolves host:port; every address it resolves to must be loopback, or we refuse.
void resolve_loopback(const options& o, sockaddr_storage& out, socklen_t& out_len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(o.port);
  if (const int rc = getaddrinfo(o.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    throw std::runtime_error("cannot resolve '" + o.host + "': " + gai_strerror(rc));
  bool first = true;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (!is_loopback(ss)) {
      const std::string addr = numeric(ss, ai->ai_addrlen);
      freeaddrinfo(res);
      throw std::runtime_error("refusing '" + o.host + "' (" + addr +
                               "): not a loopback address. hue-injector loads only servers on "
                               "this machine (127.0.0.0/8 or ::1)");
    }
    if (first) {
      out = ss;
      out_len = static_cast<socklen_t>(ai->ai_addrlen);
      first = false;
    }
  }
  freeaddrinfo(res);
  if (first) throw std::runtime_error("'" + o.host + "' resolves to no address");
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

// The requests, built once, one per path.
struct request_set {
  std::vector<std::string> keep;

  request_set(const options& o, const sockaddr_storage& addr, socklen_t len) {
    std::string host = numeric(addr, len);
    if (addr.ss_family == AF_INET6) host = "[" + host + "]";
    host += ":" + std::to_string(o.port);
    for (const std::string& p : o.paths) {
      keep.push_back("GET " + p + " HTTP/1.1\r\nHost: " + host +
                     "\r\nUser-Agent: hue-injector\r\nAccept: */*\r\n\r\n");
    }
  }
};

std::atomic<bool> interrupted{false};

// One thread: its clients, its epoll, its counters.
class worker {
 public:
  worker(const options& o, const request_set& reqs, const sockaddr_storage& addr,
         socklen_t addr_len, unsigned first_client, unsigned n_clients, std::uint64_t warm_end,
         std::uint64_t end)
      : o_(o), reqs_(reqs), addr_(addr), addr_len_(addr_len), clients_(n_clients),
        warm_end_(warm_end), end_(end), timeout_(static_cast<std::uint64_t>(o.timeout * 1e9)),
        buf_(64 * 1024) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
    for (unsigned i = 0; i < n_clients; ++i) {
      clients_[i].next_path = (first_client + i) % reqs_.keep.size();
      clients_[i].sent_at.resize(o_.pipeline);
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
    while (!interrupted.load(std::memory_order_relaxed)) {
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(scan_period / ms));
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
    if (now >= end_ || interrupted.load(std::memory_order_relaxed)) return;
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
    const unsigned k = o_.per_connection;
    const bool idle = c.sent == c.answered;
    while ((k == 0 || c.sent < k) && c.sent - c.answered < o_.pipeline) {
      c.out += reqs_.keep[c.next_path];
      if (++c.next_path == reqs_.keep.size()) c.next_path = 0;
      c.sent_at[c.sent % o_.pipeline] = now;
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
        stats_.latency.record(now - c.sent_at[c.answered % o_.pipeline]);
      }
    } else {
      status_text_ = "status " + std::to_string(r.status);
      count(error_kind::non_2xx, now, status_text_.c_str());
    }
    ++c.answered;
    c.deadline = now + timeout_;
    const unsigned k = o_.per_connection;
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

  const options& o_;
  const request_set& reqs_;
  const sockaddr_storage addr_;
  const socklen_t addr_len_;
  std::vector<client> clients_;  // never resized: epoll holds pointers into it
  const std::uint64_t warm_end_, end_, timeout_;
  std::vector<char> buf_;        // one receive buffer per thread: bodies are skipped, not kept
  int ep_ = -1;
  counters stats_;
  std::string status_text_;
};

void raise_fd_limit(unsigned clients) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t want = static_cast<rlim_t>(clients) + 64;
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < want)
    std::fprintf(stderr, "hue-injector: warning: the fd limit (%llu) is below the %u clients\n",
                 static_cast<unsigned long long>(rl.rlim_cur), clients);
}

const char csv_header[] =
    "label,clients,threads,pipeline,requests_per_connection,duration_s,requests,requests_per_s,"
    "mb_per_s,p50_us,p90_us,p99_us,max_us,mean_us,connections,connect_errors,resets,timeouts,"
    "non_2xx,bad_responses,server_closes";

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

void write_csv(const options& o, const std::string& label, double secs, const counters& t) {
  bool need_header = true;
  {
    std::ifstream in(o.csv);
    std::string first;
    if (in && std::getline(in, first) && !first.empty()) {
      if (first != csv_header)
        throw std::runtime_error(o.csv + " has another header; not appending to it");
      need_header = false;
    }
  }
  std::FILE* f = std::fopen(o.csv.c_str(), "a");
  if (f == nullptr) throw std::runtime_error("cannot write " + o.csv + ": " + std::strerror(errno));
  const latency_histogram& h = t.latency;
  if (need_header) std::fprintf(f, "%s\n", csv_header);
  std::fprintf(f, "%s,%u,%u,%u,%u,%.3f,%llu,%.1f,%.3f,%.1f,%.1f,%.1f,%.1f,%.1f,%llu,%llu,%llu,"
               "%llu,%llu,%llu,%llu\n",
               csv_field(label).c_str(), o.clients, o.threads, o.pipeline, o.per_connection, secs,
               static_cast<unsigned long long>(t.ok), t.ok / secs, t.bytes / secs / 1e6,
               h.percentile(0.50) / 1e3, h.percentile(0.90) / 1e3, h.percentile(0.99) / 1e3,
               h.max() / 1e3, h.mean() / 1e3, static_cast<unsigned long long>(t.connections),
               static_cast<unsigned long long>(t.connect_errors),
               static_cast<unsigned long long>(t.resets),
               static_cast<unsigned long long>(t.timeouts),
               static_cast<unsigned long long>(t.non_2xx),
               static_cast<unsigned long long>(t.bad_responses),
               static_cast<unsigned long long>(t.server_closes));
  std::fclose(f);
}

void report(const options& o, const std::string& target, double secs, const counters& t) {
  const latency_histogram& h = t.latency;
  const double rps = t.ok / secs, mbps = t.bytes / secs / 1e6;
  std::printf("hue-injector: %s, %u clients on %u thread%s, %s requests per connection, "
              "pipeline %u, %zu path%s; %.2f s measured after %.2f s warm-up\n",
              target.c_str(), o.clients, o.threads, o.threads == 1 ? "" : "s",
              o.per_connection ? std::to_string(o.per_connection).c_str() : "unlimited",
              o.pipeline, o.paths.size(), o.paths.size() == 1 ? "" : "s", secs, o.warmup);
  std::printf("%12s %9s %9s %9s %9s %9s %9s %8s\n", "requests/s", "MB/s", "p50 ms", "p90 ms",
              "p99 ms", "max ms", "conn/s", "errors");
  std::printf("%12.1f %9.2f %9.3f %9.3f %9.3f %9.3f %9.1f %8llu\n", rps, mbps,
              h.percentile(0.50) / 1e6, h.percentile(0.90) / 1e6, h.percentile(0.99) / 1e6,
              h.max() / 1e6, t.connections / secs, static_cast<unsigned long long>(t.errors()));
  std::printf("errors: connect %llu, reset %llu, timeout %llu, non-2xx %llu, bad response %llu "
              "(during warm-up: %llu); server-initiated closes: %llu\n",
              static_cast<unsigned long long>(t.connect_errors),
              static_cast<unsigned long long>(t.resets),
              static_cast<unsigned long long>(t.timeouts),
              static_cast<unsigned long long>(t.non_2xx),
              static_cast<unsigned long long>(t.bad_responses),
              static_cast<unsigned long long>(t.warmup_errors),
              static_cast<unsigned long long>(t.server_closes));
  if (!t.first_error.empty()) std::printf("first error: %s\n", t.first_error.c_str());
  std::printf("clients=%u\nthreads=%u\npipeline=%u\nrequests_per_connection=%u\nduration_s=%.3f\n"
              "requests=%llu\nrequests_per_s=%.1f\nmb_per_s=%.3f\np50_us=%.1f\np90_us=%.1f\n"
              "p99_us=%.1f\nmax_us=%.1f\nmean_us=%.1f\nconnections=%llu\nconnect_errors=%llu\n"
              "resets=%llu\ntimeouts=%llu\nnon_2xx=%llu\nbad_responses=%llu\nerrors=%llu\n"
              "warmup_errors=%llu\nserver_closes=%llu\n",
              o.clients, o.threads, o.pipeline, o.per_connection, secs,
              static_cast<unsigned long long>(t.ok), rps, mbps, h.percentile(0.50) / 1e3,
              h.percentile(0.90) / 1e3, h.percentile(0.99) / 1e3, h.max() / 1e3, h.mean() / 1e3,
              static_cast<unsigned long long>(t.connections),
              static_cast<unsigned long long>(t.connect_errors),
              static_cast<unsigned long long>(t.resets),
              static_cast<unsigned long long>(t.timeouts),
              static_cast<unsigned long long>(t.non_2xx),
              static_cast<unsigned long long>(t.bad_responses),
              static_cast<unsigned long long>(t.errors()),
              static_cast<unsigned long long>(t.warmup_errors),
              static_cast<unsigned long long>(t.server_closes));
}

int run(int argc, char** argv) {
  bool help = false;
  options o;
  try {
    o = parse_options(argc, argv, help);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-injector: %s\n", e.what());
    usage(stderr);
    return 2;
  }
  if (help) {
    usage(stdout);
    return 0;
  }

  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  try {
    resolve_loopback(o, addr, addr_len);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-injector: %s\n", e.what());
    return 2;
  }
  std::string target = numeric(addr, addr_len);
  if (addr.ss_family == AF_INET6) target = "[" + target + "]";
  target += ":" + std::to_string(o.port);
  const std::string label = o.label.empty() ? target : o.label;

  raise_fd_limit(o.clients);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, [](int) { interrupted.store(true); });
  std::signal(SIGTERM, [](int) { interrupted.store(true); });

  const request_set reqs(o, addr, addr_len);
  const std::uint64_t start = now_ns();
  const std::uint64_t warm_end = start + static_cast<std::uint64_t>(o.warmup * 1e9);
  const std::uint64_t end = warm_end + static_cast<std::uint64_t>(o.duration * 1e9);

  std::vector<std::unique_ptr<worker>> workers;
  unsigned first = 0;
  for (unsigned t = 0; t < o.threads; ++t) {
    const unsigned n = o.clients / o.threads + (t < o.clients % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<worker>(o, reqs, addr, addr_len, first, n, warm_end, end));
    first += n;
  }
  std::vector<std::thread> threads;
  std::vector<std::string> failures(o.threads);
  for (unsigned t = 0; t < o.threads; ++t)
    threads.emplace_back([&, t] {
      try {
        workers[t]->run();
      } catch (const std::exception& e) {
        failures[t] = e.what();
        interrupted.store(true);
      }
    });
  for (std::thread& th : threads) th.join();
  const std::uint64_t stopped = std::min(now_ns(), end);
  for (const std::string& f : failures)
    if (!f.empty()) {
      std::fprintf(stderr, "hue-injector: %s\n", f.c_str());
      return 1;
    }

  counters total;
  for (const auto& w : workers) total.merge(w->stats());
  // Interrupted: the window is what actually ran of it.
  const double secs = stopped > warm_end ? (stopped - warm_end) / 1e9 : 0.0;
  if (secs <= 0) {
    std::fprintf(stderr, "hue-injector: interrupted during warm-up; nothing measured\n");
    return 1;
  }
  report(o, target, secs, total);
  if (!o.csv.empty()) {
    try {
      write_csv(o, label, secs, total);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "hue-injector: %s\n", e.what());
      return 1;
    }
  }
  if (total.ok == 0) {
    std::fprintf(stderr, "hue-injector: no 2xx response was measured (%llu errors)\n",
                 static_cast<unsigned long long>(total.errors() + total.warmup_errors));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace injector

int main(int argc, char** argv) { return injector::run(argc, argv); }
