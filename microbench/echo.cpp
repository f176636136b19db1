// microbench/echo.cpp — echo ping-pong over loopback: messages/s and round-trip latency of the echo
// server written with colored handlers, the same server written with coroutines, and a Boost.Asio
// echo server, all driven by one client in one run (issue 5, "Benchmark").
//
// Rows (a fresh server for every repetition; repetitions interleaved; medians reported):
//   handlers    echo::handler_server (apps/echo): colored handlers, one color per connection
//   coroutines  echo::coro_server (apps/echo): the same server as coroutines on colors
//   asio        Boost.Asio as its examples write an echo server: one io_context run by one pinned
//               thread per worker, a shared_ptr session per connection on a strand of its own,
//               async_read_some then async_write (built when meson finds Boost: HUE_BENCH_ASIO)
//   loaded      echo::handler_server on 1 connection while every worker is kept busy by background
//               colored events: --load-colors colors pinned round-robin to the workers, each event
//               ~--load-us of busy-waiting that re-posts itself. No worker ever runs out of work
//               and parks, so readiness reaches the server only through the reactor's Epoll event,
//               which polls from its busy core (at most every reactor_config::busy_poll_interval,
//               20 us by default), and the connection's handler then waits its turn behind the
//               background colors of its core (one round: ceil(colors / workers) x --load-us).
//               p99 is that bound: a message arriving just after a poll waits for the Epoll
//               event's next turn, then for its handler's. p50 is often far lower: a handler
//               reads to EAGAIN, and when the client (on the same CPUs) answers an echo before
//               that last read, the next message is served in the same run, without the reactor.
// The first three rows are run once per --connections count (default: 1, then 64).
//
// The client is the same for every server: one thread of its own (not pinned: it shares the CPUs
// with the server's threads, as a client on the same machine does), epoll (edge-triggered) over
// non-blocking TCP_NODELAY sockets. Each connection sends a --size message, waits until the whole
// echo is back (checked byte for byte), records the round trip and sends the next one, so each
// connection has exactly one message in flight. After an untimed --warmup, the window lasts
// --seconds: messages/s counts the round trips completed in it, p50 and p99 are nearest-rank
// percentiles of their round-trip times.
//
// Reading the 1-connection rows: hue's figures depend on where the connection's color runs. On the
// reactor's core (worker 0) a message needs no cross-core hop; on the other one each message is a
// post and often a wake-up; and with stealing on, an idle worker may take the lone color and the
// other take it back, so repetitions differ (HUE_STEAL=off ./echo shows the steady case).
//
// A repetition fails (and is left out of the medians, exit status 1) when an echo differs from
// the message, a connection is lost, or no round trip completes in the window (a stalled server:
// the message says where each connection stands and, for hue, gives the runtime's statistics).
//
// The hue runtime gets --workers and otherwise its defaults, environment included (HUE_IDLE_SPIN_US,
// HUE_STEAL, ...); Asio gets --workers threads pinned as hue pins its workers (HUE_PIN=0: neither
// is pinned).
#include "bench_common.hpp"
#include "echo_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <array>
#include <sstream>

#ifdef HUE_BENCH_ASIO
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#endif

namespace {

using namespace bench;

// ------------------------------------------------------------------------------------------------
// Options.

struct options {
  std::vector<unsigned> connections{1, 64};
  std::size_t size = 64;
  double seconds = 2;
  double warmup = 0.3;
  unsigned reps = 3;
  unsigned workers = 0;  // set in parse(): the CPUs of this process
  unsigned load_colors = 8;
  unsigned load_us = 20;
  std::string only, csv;
};

constexpr std::string_view server_keys[] = {"handlers", "coroutines", "asio", "loaded"};

void usage(std::FILE* to, const options& d) {
  std::fprintf(
      to,
      "usage: echo [options]\n"
      "Echo ping-pong over loopback: hue handlers, hue coroutines, Boost.Asio%s, and hue handlers\n"
      "with every worker busy (loaded); messages/s and round-trip p50/p99.\n"
      "  --connections L   comma-separated connection counts, one scenario each; default 1,64\n"
      "  --size B          message size in bytes; default %zu\n"
      "  --seconds S       timed window per repetition; default %s\n"
      "  --warmup S        untimed round trips before the window; default %s\n"
      "  --reps R          repetitions of each row, interleaved; median; default %u\n"
      "  --workers N       hue workers, Asio threads; default %u (the CPUs of this process)\n"
      "  --load-colors K   loaded: background colors, pinned round-robin to workers; default %u\n"
      "  --load-us U       loaded: busy-wait of each background event, in us; default %u\n"
      "  --only KEYS       comma-separated rows among handlers,coroutines,asio,loaded\n"
      "  --csv FILE        also write the rows to FILE as CSV\n"
      "  --help            this text\n"
      "Output ends with key=value lines (echo_*) for scripts. Exit status 1 when a repetition\n"
      "failed (a byte echoed wrong, a connection lost, no round trip in the window).\n",
      have_asio ? "" : " (not built: meson did not find boost)", d.size, fixed(d.seconds, 1).c_str(),
      fixed(d.warmup, 1).c_str(), d.reps, d.workers, d.load_colors, d.load_us);
}

std::vector<unsigned> parse_counts(const std::string& text) {
  std::vector<unsigned> v;
  for (std::string_view rest = text; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    const std::string_view word = rest.substr(0, comma);
    unsigned n = 0;
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
    if (word.empty() || ec != std::errc() || end != word.data() + word.size() || n < 1 ||
        n > 10'000)
      cli::bad("--connections wants counts in [1, 10000], got '" + std::string(word) + "'");
    v.push_back(n);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  if (v.empty()) cli::bad("--connections needs at least one count");
  return v;
}

bool wanted(const options& o, std::string_view server) {
  if (o.only.empty()) return true;
  for (std::string_view rest = o.only; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    if (rest.substr(0, comma) == server) return true;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

options parse(int argc, char** argv) {
  options o;
  o.workers = static_cast<unsigned>(std::max<std::size_t>(allowed_cpus().size(), 1));
  const options defaults = o;
  std::string counts;
  std::uint64_t size = o.size;
  cli c("echo", [&defaults](std::FILE* to) { usage(to, defaults); });
  c.text("--connections", counts);
  c.count("--size", size, 1, 64u << 20);
  c.seconds("--seconds", o.seconds, 0.01, 86'400);
  c.seconds("--warmup", o.warmup, 0, 86'400);
  c.count("--reps", o.reps, 1, 1000);
  c.count("--workers", o.workers, 1, 1024);
  c.count("--load-colors", o.load_colors, 1, 1'000'000);
  c.count("--load-us", o.load_us, 1, 1'000'000);
  c.text("--only", o.only);
  c.text("--csv", o.csv);
  c.parse(argc, argv);
  o.size = static_cast<std::size_t>(size);
  if (!counts.empty()) o.connections = parse_counts(counts);
  for (std::string_view rest = o.only; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    const std::string_view word = rest.substr(0, comma);
    if (std::find(std::begin(server_keys), std::end(server_keys), word) == std::end(server_keys))
      cli::bad("--only: unknown row '" + std::string(word) +
               "' (handlers, coroutines, asio, loaded)");
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return o;
}

// ------------------------------------------------------------------------------------------------
// The load client.

struct client_result {
  double seconds = 0;                 // the timed window
  std::uint64_t messages = 0;         // round trips completed inside it
  std::vector<std::uint64_t> rtt_ns;  // their round-trip times
  std::string failure;                // empty when every echo came back whole and exact
};

// Called on the client's thread when the timed window opens and when it closes, for the figures a
// server keeps itself (the reactor's polls, the background events).
struct window_hooks {
  std::function<void()> open, close;
};

class load_client {
 public:
  load_client(std::uint16_t port, unsigned connections, std::size_t size)
      : port_(port), size_(size), conns_(connections), scratch_(std::max<std::size_t>(size, 65536)) {}
  ~load_client() {
    for (connection& c : conns_)
      if (c.fd >= 0) ::close(c.fd);
    if (ep_ >= 0) ::close(ep_);
  }
  load_client(const load_client&) = delete;
  load_client& operator=(const load_client&) = delete;

  client_result run(double warmup, double seconds, const window_hooks& hooks) {
    client_result r;
    r.rtt_ns.reserve(1u << 20);  // ~8 MB, untouched until used: no reallocation in the window
    if (!connect_all(r.failure)) return r;
    const auto t0 = bench_clock::now();
    const auto open_at = t0 + span(warmup), close_at = open_at + span(seconds);
    for (connection& c : conns_) {
      c.started = t0;
      if (!pump_write(c, r.failure)) return r;
    }
    bool opened = false;
    std::array<epoll_event, 256> events;
    for (;;) {
      const auto now = bench_clock::now();
      if (!opened && now >= open_at) {
        opened = true;
        if (hooks.open) hooks.open();
      }
      if (now >= close_at) break;
      // Rounded up and capped: the loop only needs to notice the window's end, and a stuck server
      // must not keep it asleep.
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(
          (opened ? close_at : open_at) - now);
      const int timeout = static_cast<int>(std::clamp<std::int64_t>(left.count(), 1, 100));
      const int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        r.failure = std::string("epoll_wait: ") + std::strerror(errno);
        return r;
      }
      for (int i = 0; i < n; ++i)
        if (!serve(conns_[events[static_cast<std::size_t>(i)].data.u32], r, open_at, close_at))
          return r;
    }
    if (hooks.close) hooks.close();
    r.seconds = seconds;
    if (r.messages == 0) r.failure = "no round trip completed in the window; " + progress();
    return r;
  }

 private:
  struct connection {
    int fd = -1;
    std::vector<unsigned char> out;  // the message in flight; its first 8 bytes are its number
    std::size_t sent = 0, received = 0;
    std::uint64_t number = 0;
    bench_clock::time_point started{};
  };

  // For a failure message: where the connections stand.
  std::string progress() const {
    std::uint64_t trips = 0;
    unsigned waiting = 0, sending = 0;
    for (const connection& c : conns_) {
      trips += c.number;
      if (c.sent < size_) ++sending;
      else if (c.received < size_) ++waiting;
    }
    return std::to_string(trips) + " round trips in all; of " + std::to_string(conns_.size()) +
           " connections, " + std::to_string(waiting) + " wait for their echo, " +
           std::to_string(sending) + " could not send all of their message";
  }

  bool connect_all(std::string& failure) {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) {
      failure = std::string("epoll_create1: ") + std::strerror(errno);
      return false;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port_);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      connection& c = conns_[i];
      // Blocking connect: the listener is up before the client starts, so this returns as soon as
      // the kernel has the connection in the backlog, accepted or not.
      c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c.fd < 0 || ::connect(c.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
        failure = std::string("connect: ") + std::strerror(errno);
        return false;
      }
      const int one = 1;
      ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
      c.out.resize(size_);
      for (std::size_t b = 0; b < size_; ++b)
        c.out[b] = static_cast<unsigned char>(b * 7 + i * 13 + 1);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
      ev.data.u32 = static_cast<std::uint32_t>(i);
      if (::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        failure = std::string("epoll_ctl: ") + std::strerror(errno);
        return false;
      }
    }
    return true;
  }

  bool pump_write(connection& c, std::string& failure) {
    while (c.sent < size_) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.sent, size_ - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return true;  // the next writable edge brings us back (edge-triggered)
      } else {
        failure = std::string("send: ") + (n < 0 ? std::strerror(errno) : "wrote nothing");
        return false;
      }
    }
    return true;
  }

  // One readiness report for `c`: send what is left, read what came back (to EAGAIN: the
  // registration is edge-triggered) and check it; once the whole echo is in, record the round trip
  // and, while the window lasts, send the next message. False, with r.failure set, on any error.
  bool serve(connection& c, client_result& r, bench_clock::time_point open_at,
             bench_clock::time_point close_at) {
    if (c.sent < size_ && !pump_write(c, r.failure)) return false;
    for (;;) {
      const ssize_t n = ::recv(c.fd, scratch_.data(), scratch_.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n <= 0) {
        r.failure = n == 0 ? std::string("the server closed a connection")
                           : std::string("recv: ") + std::strerror(errno);
        return false;
      }
      const auto got = static_cast<std::size_t>(n);
      if (c.received + got > c.sent ||
          std::memcmp(scratch_.data(), c.out.data() + c.received, got) != 0) {
        r.failure = "the echo differs from the message sent";
        return false;
      }
      c.received += got;
      if (c.received < size_) continue;
      const auto now = bench_clock::now();
      if (now >= open_at && now < close_at) {
        ++r.messages;
        r.rtt_ns.push_back(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - c.started).count()));
      }
      if (now >= close_at) continue;  // no next message; drain what may still come
      ++c.number;
      std::memcpy(c.out.data(), &c.number, std::min(size_, sizeof c.number));
      c.sent = c.received = 0;
      c.started = now;
      if (!pump_write(c, r.failure)) return false;
    }
  }

  const std::uint16_t port_;
  const std::size_t size_;
  std::vector<connection> conns_;
  std::vector<unsigned char> scratch_;
  int ep_ = -1;
};

// The client, on a thread of its own.
client_result run_client(std::uint16_t port, unsigned connections, const options& o,
                         const window_hooks& hooks) {
  client_result r;
  std::thread t([&] {
    load_client c(port, connections, o.size);
    r = c.run(o.warmup, o.seconds, hooks);
  });
  t.join();
  return r;
}

// Nearest-rank percentile (0 < p <= 1) in microseconds; NaN without samples. Reorders `v`.
double percentile_us(std::vector<std::uint64_t>& v, double p) {
  if (v.empty()) return no_value;
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  const std::size_t i = std::clamp<std::size_t>(rank, 1, v.size()) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return static_cast<double>(v[i]) / 1000.0;
}

// ------------------------------------------------------------------------------------------------
// What a row runs, and what one repetition of it measured.

enum class server_kind { handlers, coroutines, asio, loaded };

struct scenario {
  server_kind kind;
  unsigned connections;
  std::string server;  // handlers, coroutines, asio, loaded (--only)
  std::string key;     // key=value and CSV name: handlers_c1
  std::string label;   // table name
  const char* system;  // hue or asio (tools/plot_bench.py colours by it)
};

struct figures {
  double msgs_per_s = 0;
  double p50_us = no_value, p99_us = no_value;
  double load = no_value;              // loaded: background work / (window x workers)
  double busy_polls_per_s = no_value;  // hue: polls by the Epoll event while its core was busy
};

// The server-side figures over the client's window.
struct server_window {
  bench_clock::time_point t0{}, t1{};
  std::uint64_t polls0 = 0, polls1 = 0, bg0 = 0, bg1 = 0;
  double seconds() const { return std::chrono::duration<double>(t1 - t0).count(); }
};

std::optional<figures> figures_of(client_result& r, const scenario& s) {
  if (!r.failure.empty()) {
    std::fprintf(stderr, "%s: %s, %u connection(s): FAILED: %s\n", prog.c_str(), s.label.c_str(),
                 s.connections, r.failure.c_str());
    return std::nullopt;
  }
  figures f;
  f.msgs_per_s = static_cast<double>(r.messages) / r.seconds;
  f.p50_us = percentile_us(r.rtt_ns, 0.50);
  f.p99_us = percentile_us(r.rtt_ns, 0.99);
  return f;
}

// ------------------------------------------------------------------------------------------------
// The loaded row's background: `colors` chains of busy events. The colors are pinned round-robin to
// the workers (and so never stolen), so every worker keeps its share of them whatever happens to
// the connection's color; each chain has one event queued or running at a time, which re-posts
// itself, so a worker's round over its background colors lasts ceil(colors / workers) x `work`.
class background_load {
 public:
  // Far from the fds (connection colors), the acceptor's color 1 and the reactor's color 0.
  static constexpr hue::color_t first_color = hue::color_t{1} << 40;

  background_load(hue::runtime& rt, unsigned colors, std::chrono::microseconds work)
      : rt_(rt), work_(work), counts_(colors) {}

  void start() {
    for (unsigned i = 0; i < counts_.size(); ++i) {
      const hue::color_t c = first_color + i;
      rt_.pin_color(c, i % rt_.workers());
      rt_.post(c, [this, c, i] { step(c, i); }, info);
    }
  }
  // The chains end at their next event. Call before the runtime stops (the events hold `this`).
  void stop() noexcept { stopping_.store(true, std::memory_order_relaxed); }

  std::uint64_t events() const noexcept {
    std::uint64_t n = 0;
    for (const count& c : counts_) n += c.n.load(std::memory_order_relaxed);
    return n;
  }
  std::chrono::microseconds work() const noexcept { return work_; }

 private:
  static constexpr hue::handler_info info{.name = "Background"};
  // One writer per line (the chain's color runs one event at a time): a relaxed load and store.
  struct alignas(64) count {
    std::atomic<std::uint64_t> n{0};
  };

  void step(hue::color_t c, unsigned i) {
    if (stopping_.load(std::memory_order_relaxed)) return;
    const auto until = bench_clock::now() + work_;
    while (bench_clock::now() < until) cpu_pause();
    counts_[i].n.store(counts_[i].n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    rt_.post(c, [this, c, i] { step(c, i); }, info);
  }

  hue::runtime& rt_;
  const std::chrono::microseconds work_;
  std::vector<count> counts_;
  std::atomic<bool> stopping_{false};
};

// ------------------------------------------------------------------------------------------------
// The servers.

// hue: a fresh runtime and reactor, a listener on a free port, the server; the documented teardown
// (stop and wait for the runtime, then the server, then the reactor, then the runtime).
template <class Server>
std::optional<figures> measure_hue(const options& o, const scenario& s) {
  hue::config cfg;
  cfg.workers = o.workers;
  cfg.name = "echo";
  const bool loaded = s.kind == server_kind::loaded;
  server_window w;
  client_result r;
  unsigned workers = 0;
  std::chrono::microseconds work{};
  {
    hue::runtime rt(cfg);
    hue::reactor io(rt);
    const int listen_fd = hue::net::listen_tcp({});
    const std::uint16_t port = hue::net::local_port(listen_fd);
    Server server(io, listen_fd);
    background_load bg(rt, o.load_colors, std::chrono::microseconds(o.load_us));
    // Declared last, so it runs first, also when something throws: no handler may run once the
    // server and the background are gone.
    struct stop_first {
      hue::runtime& rt;
      background_load& bg;
      ~stop_first() {
        bg.stop();
        rt.stop();
        rt.wait();
      }
    } stopper{rt, bg};
    workers = rt.workers();
    work = bg.work();
    if (loaded) bg.start();

    window_hooks hooks;
    hooks.open = [&] {
      w.polls0 = io.polls().busy;
      w.bg0 = bg.events();
      w.t0 = bench_clock::now();
    };
    hooks.close = [&] {
      w.t1 = bench_clock::now();
      w.polls1 = io.polls().busy;
      w.bg1 = bg.events();
    };
    r = run_client(port, s.connections, o, hooks);
    if (!r.failure.empty()) {
      const echo::counters& n = server.stats();
      r.failure += "; the server accepted " + std::to_string(n.accepted.load()) + " and echoed " +
                   std::to_string(n.bytes.load()) + " bytes; its runtime:\n";
      std::ostringstream stats;
      stats << rt.stats();
      r.failure += stats.str();
    }
  }

  std::optional<figures> f = figures_of(r, s);
  if (f && w.seconds() > 0) {
    f->busy_polls_per_s = static_cast<double>(w.polls1 - w.polls0) / w.seconds();
    if (loaded)
      f->load = static_cast<double>(w.bg1 - w.bg0) * std::chrono::duration<double>(work).count() /
                (w.seconds() * workers);
  }
  return f;
}

#ifdef HUE_BENCH_ASIO
namespace asio = boost::asio;
using asio::ip::tcp;

// Boost.Asio's echo server as its examples write it (async_tcp_echo_server.cpp, with Beast's
// strand per connection): the session owns its socket and buffer and keeps itself alive through
// the shared_ptr its pending handler holds. Its socket is made on a strand of its own
// (async_accept(make_strand(ctx), ..)), so its handlers never run on two threads at once, as a
// hue connection's color guarantees. The buffer is as large as the hue servers' (16 KiB).
class asio_session : public std::enable_shared_from_this<asio_session> {
 public:
  explicit asio_session(tcp::socket s) : socket_(std::move(s)) {}
  void start() { read(); }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(data_),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                              if (!ec) self->write(n);
                            });
  }
  void write(std::size_t n) {
    asio::async_write(socket_, asio::buffer(data_, n),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!ec) self->read();
                      });
  }

  tcp::socket socket_;
  std::array<char, 16384> data_;
};

// One io_context run by `threads` pinned threads (bench::asio_threads), an acceptor on a free
// loopback port. Teardown: stop the io_context and join the threads first; the acceptor goes
// next, and the sessions with the io_context (its services destroy the handlers still pending,
// which hold the last references to them).
class asio_echo_server {
 public:
  explicit asio_echo_server(unsigned threads)
      : threads_(threads),
        acceptor_(threads_.context(), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    threads_.start();
  }
  ~asio_echo_server() {
    threads_.context().stop();
    threads_.join();
  }
  asio_echo_server(const asio_echo_server&) = delete;
  asio_echo_server& operator=(const asio_echo_server&) = delete;

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(threads_.context()),
                           [this](boost::system::error_code ec, tcp::socket s) {
                             if (!ec) {
                               s.set_option(tcp::no_delay(true), ec);
                               std::make_shared<asio_session>(std::move(s))->start();
                             }
                             if (ec != asio::error::operation_aborted) accept();
                           });
  }

  asio_threads threads_;  // first: destroyed last, after the acceptor
  tcp::acceptor acceptor_;
};

std::optional<figures> measure_asio(const options& o, const scenario& s) {
  asio_echo_server server(o.workers);
  client_result r = run_client(server.port(), s.connections, o, {});
  return figures_of(r, s);
}
#endif  // HUE_BENCH_ASIO

std::optional<figures> measure(const options& o, const scenario& s) {
  switch (s.kind) {
    case server_kind::handlers:
    case server_kind::loaded:
      return measure_hue<echo::handler_server>(o, s);
    case server_kind::coroutines:
      return measure_hue<echo::coro_server>(o, s);
    case server_kind::asio:
#ifdef HUE_BENCH_ASIO
      return measure_asio(o, s);
#else
      break;
#endif
  }
  throw std::logic_error(s.label + ": not built");
}

// ------------------------------------------------------------------------------------------------
// Rows, table, ratios, key=value lines, CSV.

struct row {
  scenario sc;
  std::vector<figures> reps;  // the repetitions that succeeded
  unsigned failures = 0;

  template <class Get>
  double med(Get get) const {
    return med_of(reps, get);
  }
  template <class Get>
  std::pair<double, double> range(Get get) const {
    return range_of(reps, get);
  }
};

std::string conns_text(unsigned n) { return std::to_string(n) + (n == 1 ? " conn" : " conns"); }

std::vector<row> make_rows(const options& o) {
  std::vector<row> rows;
  auto add = [&](server_kind k, unsigned conns, const char* server, const char* label,
                 const char* system) {
    if (!wanted(o, server)) return;
    if (k == server_kind::asio && !have_asio) return;
    rows.push_back({{k, conns, server, std::string(server) + "_c" + std::to_string(conns), label,
                     system},
                    {},
                    0});
  };
  for (unsigned c : o.connections) {
    add(server_kind::handlers, c, "handlers", "hue handlers", "hue");
    add(server_kind::coroutines, c, "coroutines", "hue coroutines", "hue");
    add(server_kind::asio, c, "asio", "Boost.Asio", "asio");
  }
  add(server_kind::loaded, 1, "loaded", "hue handlers, loaded", "hue");
  if (!have_asio && wanted(o, "asio"))
    std::fprintf(stderr, "%s: Boost.Asio not built (meson did not find boost): its rows are left out\n",
                 prog.c_str());
  return rows;
}

const row* row_of(const std::vector<row>& rows, const std::string& key) {
  for (const row& r : rows)
    if (r.sc.key == key && !r.reps.empty()) return &r;
  return nullptr;
}

void print_table(const std::vector<row>& rows, const options& o) {
  std::printf("\necho ping-pong over loopback: %zu-byte messages, %u workers / Asio threads, %s s "
              "window, median of %u repetitions\n\n",
              o.size, o.workers, fixed(o.seconds, o.seconds == std::floor(o.seconds) ? 0 : 2).c_str(),
              o.reps);
  text_table<row>()
      .column(22, "server", "", [](const row& r) { return r.sc.label; })
      .column(5, "conns", "", [](const row& r) { return std::to_string(r.sc.connections); })
      .column(26, "msgs/s", "median [min..max]",
              [](const row& r) {
                return r.reps.empty() ? std::string("FAILED")
                                      : med_range(r.med(FIG(msgs_per_s)), r.range(FIG(msgs_per_s)), 0);
              })
      .number(9, "p50 us", FIG(p50_us), 1)
      .number(9, "p99 us", FIG(p99_us), 1)
      .column(9, "busy", "polls/s", [](const row& r) {
        return r.sc.system == std::string_view("hue") ? fixed(r.med(FIG(busy_polls_per_s)), 0)
                                                       : std::string("-");
      })
      .column(8, "bg load", "", [](const row& r) { return pct_cell(100 * r.med(FIG(load)), 0); })
      .print(rows);
  std::printf(
      "\nbusy polls/s: polls by the reactor's Epoll event while its core had other work (hue).\n"
      "bg load (loaded): background busy-wait / (window x workers).\n");
}

// A ratio of two rows' medians: a figure of `num` over the same figure of `den`.
struct ratio_def {
  const char* key;   // echo_ratio_<key>_c<N>
  const char* text;
  const char* num;   // server keys
  const char* den;
};
constexpr ratio_def ratio_defs[] = {
    {"coroutines_over_handlers", "coroutines / handlers", "coroutines", "handlers"},
    {"handlers_over_asio", "handlers / Asio", "handlers", "asio"},
    {"coroutines_over_asio", "coroutines / Asio", "coroutines", "asio"},
};

template <class Get>
double row_ratio(const std::vector<row>& rows, const std::string& num, const std::string& den,
                 Get get) {
  const row* a = row_of(rows, num);
  const row* b = row_of(rows, den);
  return a && b ? a->med(get) / b->med(get) : no_value;
}

std::string ratio_cell(double v) { return std::isfinite(v) ? fixed(v, 2) + "x" : "-"; }

void print_ratio_table(const std::vector<row>& rows, const options& o) {
  std::printf("\nratios of the medians (msgs/s: above 1 is faster; latency: below 1 is lower)\n");
  std::printf("  %-10s %-34s %8s %8s %8s\n", "", "", "msgs/s", "p50", "p99");
  for (unsigned c : o.connections) {
    const std::string suffix = "_c" + std::to_string(c);
    for (const ratio_def& d : ratio_defs) {
      const std::string num = d.num + suffix, den = d.den + suffix;
      const double m = row_ratio(rows, num, den, FIG(msgs_per_s));
      if (!std::isfinite(m)) continue;
      std::printf("  %-10s %-34s %8s %8s %8s\n", conns_text(c).c_str(), d.text,
                  ratio_cell(m).c_str(), ratio_cell(row_ratio(rows, num, den, FIG(p50_us))).c_str(),
                  ratio_cell(row_ratio(rows, num, den, FIG(p99_us))).c_str());
    }
  }
  const double p50 = row_ratio(rows, "loaded_c1", "handlers_c1", FIG(p50_us));
  if (std::isfinite(p50))
    std::printf("  %-10s %-34s %8s %8s %8s\n", conns_text(1).c_str(), "handlers loaded / unloaded",
                ratio_cell(row_ratio(rows, "loaded_c1", "handlers_c1", FIG(msgs_per_s))).c_str(),
                ratio_cell(p50).c_str(),
                ratio_cell(row_ratio(rows, "loaded_c1", "handlers_c1", FIG(p99_us))).c_str());
}

void print_loaded_note(const std::vector<row>& rows, const options& o) {
  const row* r = row_of(rows, "loaded_c1");
  if (!r) return;
  const unsigned per_core = (o.load_colors + o.workers - 1) / o.workers;
  std::printf(
      "\nloaded: %u background colors x %u us busy-wait, pinned round-robin to %u workers (%u per "
      "worker: one\n  round of a worker's queue ~%u us); the reactor polls from its busy core at "
      "most every 20 us\n  (busy_poll_interval). Round trip under load: p50 %s us, p99 %s us.\n",
      o.load_colors, o.load_us, o.workers, per_core, per_core * o.load_us,
      fixed(r->med(FIG(p50_us)), 1).c_str(), fixed(r->med(FIG(p99_us)), 1).c_str());
}

void print_keys(const std::vector<row>& rows, const options& o) {
  std::printf("\n");
  std::printf("echo_workers=%u\n", o.workers);
  std::printf("echo_size_bytes=%zu\n", o.size);
  std::printf("echo_asio_available=%d\n", have_asio ? 1 : 0);
  for (const row& r : rows) {
    const char* k = r.sc.key.c_str();
    std::printf("echo_%s_msgs_per_s=%s\n", k, key_num(r.med(FIG(msgs_per_s)), 0).c_str());
    std::printf("echo_%s_p50_us=%s\n", k, key_num(r.med(FIG(p50_us)), 1).c_str());
    std::printf("echo_%s_p99_us=%s\n", k, key_num(r.med(FIG(p99_us)), 1).c_str());
    if (r.sc.kind == server_kind::loaded) {
      std::printf("echo_%s_background_load=%s\n", k, key_num(r.med(FIG(load)), 3).c_str());
      std::printf("echo_%s_busy_polls_per_s=%s\n", k, key_num(r.med(FIG(busy_polls_per_s)), 0).c_str());
    }
    std::printf("echo_%s_failures=%u\n", k, r.failures);
  }
  for (unsigned c : o.connections) {
    const std::string suffix = "_c" + std::to_string(c);
    for (const ratio_def& d : ratio_defs)
      if (const double v = row_ratio(rows, d.num + suffix, d.den + suffix, FIG(msgs_per_s));
          std::isfinite(v))
        std::printf("echo_ratio_%s%s=%.3f\n", d.key, suffix.c_str(), v);
  }
  if (const double v = row_ratio(rows, "loaded_c1", "handlers_c1", FIG(p99_us)); std::isfinite(v))
    std::printf("echo_ratio_loaded_over_unloaded_p99_c1=%.3f\n", v);
}

// Throughput in thousands of messages/s (kmsgs_per_s, _min, _max), the column names
// tools/plot_bench.py reads in a table benchmark's CSV.
void write_csv(std::ofstream& out, const std::vector<row>& rows, const options& o) {
  if (!out.is_open()) return;
  out << "scenario,label,system,connections,size_bytes,workers,reps_ok,failures,kmsgs_per_s,"
         "kmsgs_min,kmsgs_max,p50_us,p99_us,busy_polls_per_s,background_load\n";
  for (const row& r : rows) {
    const auto [lo, hi] = r.range(FIG(msgs_per_s));
    out << r.sc.key << ",\"" << r.sc.label << "\"," << r.sc.system << ',' << r.sc.connections
        << ',' << o.size << ',' << o.workers << ',' << r.reps.size() << ',' << r.failures << ','
        << csv_num(r.med(FIG(msgs_per_s)) / 1000, 3) << ',' << csv_num(lo / 1000, 3) << ','
        << csv_num(hi / 1000, 3) << ',' << csv_num(r.med(FIG(p50_us)), 1) << ','
        << csv_num(r.med(FIG(p99_us)), 1) << ',' << csv_num(r.med(FIG(busy_polls_per_s)), 0) << ','
        << csv_num(r.med(FIG(load)), 3) << '\n';
  }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  // Each connection costs two fds (client and server side): take the hard limit, as a load
  // injector would; the soft default (1024) would stop --connections at ~500.
  if (rlimit l{}; getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
    l.rlim_cur = l.rlim_max;
    setrlimit(RLIMIT_NOFILE, &l);
  }
  std::ofstream csv = begin(o.csv);
  warn_if_oversubscribed(o.workers);

  std::vector<row> rows = make_rows(o);
  if (rows.empty()) cli::bad("nothing to run");
  unsigned failures = 0;
  for (unsigned rep = 0; rep < o.reps; ++rep)
    for (row& r : rows) {
      std::fprintf(stderr, "%s: %s, %s, repetition %u/%u...\n", prog.c_str(), r.sc.label.c_str(),
                   conns_text(r.sc.connections).c_str(), rep + 1, o.reps);
      std::optional<figures> f;
      try {
        f = measure(o, r.sc);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s: FAILED: %s\n", prog.c_str(), r.sc.label.c_str(), e.what());
      }
      if (f) {
        r.reps.push_back(*f);
      } else {
        ++r.failures;
        ++failures;
      }
    }

  print_table(rows, o);
  print_ratio_table(rows, o);
  print_loaded_note(rows, o);
  print_keys(rows, o);
  std::printf("echo_failures=%u\n", failures);
  std::fflush(stdout);
  write_csv(csv, rows, o);
  const bool written = close_csv(csv, o.csv);
  return failures || !written ? 1 : 0;
}
