// apps/sws/server.hpp — SWS, the Mely paper's static web server, on hue.
//
// The paper's ten handlers and their coloring:
//   Epoll              reactor   the reactor's polling event, on its fresh color pinned to core 0
//   Accept             color 1   accepts, counts clients, pauses at the maximum (core 1)
//   ReadRequest        conn      reads what the connection sent
//   ParseRequest       conn      takes one request off the input
//   CheckInCache       conn      finds the pre-built response
//   WriteResponse      conn      writes the responses queued, pipelined ones together
//   Close              conn      closes the connection
//   DecClientAccepted  color 1   decrements the client count (with Accept: no lock needed)
//   BadRequest         conn      answers 400, 405, 413, 414, 431, 501, 505
//   404                conn      answers 404
// "conn" is the connection's own color, a fresh one from the runtime (`connection_color`): a
// connection's handlers never run at the same time, different connections run in parallel, and
// idle cores steal connections. Hazard: a color derived from the socket's fd collides with fixed
// colors, with other reactors' Epoll colors (a connection on a pinned Epoll color is serialized
// with polling and never stolen) and with the next connection on that fd; fresh colors cannot.
//
// The coroutine style (coroutines.cpp) keeps Epoll, Accept, DecClientAccepted and the timers, and
// replaces the per-connection handlers with one coroutine per connection that calls the same
// session code (session.hpp) in sequence.
#pragma once

#include "cache.hpp"
#include "http.hpp"
#include "metrics.hpp"
#include "session.hpp"

#include <hue/hue.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace sws {

// A fixed color (below hue::first_fresh_color): Accept, DecClientAccepted and the signals that
// stop the server share it, so the client count and the list of live connections need no lock.
inline constexpr hue::color_t accept_color = 1;

struct config {
  hue::net::endpoint at{"127.0.0.1", 8080};
  std::string root;
  unsigned max_clients = 10'000;
  std::chrono::milliseconds header_timeout{10'000};     // first byte to end of headers
  std::chrono::milliseconds keepalive_timeout{15'000};  // idle between requests (and a stalled write)
  std::chrono::milliseconds shutdown_grace{10'000};     // SIGTERM: in-flight work gets this long
  // Request bodies (of methods answered 405) are skipped up to this many bytes; more is 413 and
  // the connection closes.
  http::limits limits{.max_body_bytes = 64 * 1024};
  cache_limits cache;  // which files are pre-built, which are sent from a descriptor
  std::string access_log;  // file name; empty: no access log
  // A request path (e.g. "/metrics") answered with Prometheus' text format (metrics.hpp); it
  // hides a file of that name. Empty: no metrics.
  std::string metrics_path;
  bool quiet = false;
  // Past one polling core (docs/design.md, "Past one polling core"): this many reactors, reactor k
  // polled by worker k with its own SO_REUSEPORT listener (see `connection_color` for where its
  // connections live). 1 is the paper's design: one Epoll handler on core 0.
  unsigned reactors = 1;
};

struct counters {
  std::atomic<std::uint64_t> accepted{0}, closed{0}, requests{0}, ok{0}, client_errors{0},
      not_found{0}, bytes_out{0}, timeouts{0}, resets{0}, paused_at_max{0}, reloads{0},
      failed_reloads{0};
  status_counts by_status;  // every response, by the status it carried (metrics.hpp)
  void print(std::FILE* to) const;
};

// One client connection: its protocol state and its timers. Shared (shared_ptr) by the accept
// color's list of live connections and the events posted for it; registrations' handlers hold a
// raw pointer, which is safe because they are cancelled from the connection's own color.
struct connection : std::enable_shared_from_this<connection> {
  int fd = -1;
  hue::color_t color = 0;
  unsigned reactor = 0;  // which of the server's reactors watches it
  session s;
  // The document-root snapshot this connection answers from, and the generation it was taken at
  // (server::cache_for refreshes it between requests after a reload).
  std::shared_ptr<const file_cache> snap;
  std::uint64_t snap_generation = 0;
  hue::registration watch;
  hue::registration timer;
  bool busy = false;     // a ParseRequest..WriteResponse chain is under way
  bool closed = false;
  bool draining = false;
  bool peer_closed = false;  // the client shut down its side: answer what it sent, then close
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point timer_due = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point request_start{};
  bool header_clock = false;  // the header time-out runs (a partial request is buffered)
  bool expired = false;       // a time-out closed it (coroutine style: its socket was shut down)
};

class server {
 public:
  server(hue::reactor& io, config cfg);
  virtual ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Graceful stop (SIGTERM): stop accepting, let in-flight responses finish with
  // `Connection: close`, close idle connections, then stop the runtime. Any thread.
  void shutdown();
  const counters& stats() const noexcept { return stats_; }
  std::uint16_t port() const noexcept { return port_; }
  std::size_t cached_files() const { return snapshot()->files(); }
  // The current document-root snapshot (a reload replaces it; holders keep theirs alive).
  std::shared_ptr<const file_cache> snapshot() const;
  // Reload (SIGHUP): rescans the document root into a new snapshot and swaps it in; requests
  // already answered from the old one finish on it. If the scan fails, the old snapshot stays
  // and `why` (and stderr) says why. Any thread; the scan runs on the caller's.
  bool reload(std::string* why = nullptr);
  // The Epoll colors of the server's reactors, [0] the one given to the constructor.
  std::vector<hue::color_t> epoll_colors() const;
  std::uint64_t shed() const noexcept {
    std::uint64_t n = 0;
    for (const auto& a : acceptors_) n += a->shed();
    return n;
  }

 protected:
  // The style-specific part: take over a freshly accepted connection (on its color), and wind
  // it down for shutdown (on its color).
  virtual void open(std::shared_ptr<connection> c) = 0;
  virtual void drain(connection& c) = 0;
  virtual void expire(connection& c) = 0;  // a time-out passed (on its color)

  void start();  // call from the most derived constructor
  hue::reactor& reactor_of(const connection& c) noexcept { return *reactors_[c.reactor]; }
  // Sets when the connection times out (on its color). The timer fires at most once per time-out
  // period, not per request: it re-arms itself for a deadline that moved later meanwhile.
  void set_deadline(connection& c, std::chrono::steady_clock::time_point when);
  void idle_deadline(connection& c);     // waiting for a next request: keep-alive time-out
  void request_deadline(connection& c);  // a partial request is buffered: header time-out
  void close(connection& c, bool reset);  // Close: then DecClientAccepted on the accept color
  // The session's queued output to the socket, as far as it goes now (session::flush); the bytes
  // it wrote count in sws_sent_bytes_total at once, not when the connection closes (a keep-alive
  // connection can stay open for hours).
  hue::net::io_status flush(connection& c);
  void log(const connection& c, const session::parsed& p, int status);
  // CheckInCache's first look: when `p` asks for the metrics path, queues the exposition on the
  // connection, logs it and returns true (the caller then writes the response as for a file).
  bool answer_metrics(connection& c, const session::parsed& p);
  // The connection's snapshot, refreshed if a reload happened since it was taken (on its color,
  // between requests). The old one is retained by the session while its bytes are queued.
  const file_cache& cache_for(connection& c);
  // How much input a connection may buffer: a head and a body within their limits.
  std::size_t max_buffer() const noexcept {
    return cfg_.limits.max_header_bytes + cfg_.limits.max_body_bytes + 1;
  }

  hue::reactor& io_;
  hue::runtime& rt_;
  const config cfg_;
  counters stats_;

 private:
  void accept(int fd, unsigned reactor);  // Accept
  hue::color_t connection_color(unsigned reactor);
  void dec_client_accepted(const std::shared_ptr<connection>& c);  // DecClientAccepted
  void on_timer(connection& c);

  // The snapshot: replaced under snap_mu_ by reload(); generation_ lets connections see a change
  // with one atomic load per request instead of taking the lock.
  mutable std::mutex snap_mu_;
  std::shared_ptr<const file_cache> snap_;
  std::atomic<std::uint64_t> generation_{1};

  std::uint16_t port_ = 0;
  std::vector<hue::reactor*> reactors_;                 // [0] is the one given to the constructor
  std::vector<std::unique_ptr<hue::reactor>> own_reactors_;
  std::vector<std::unique_ptr<hue::net::acceptor>> acceptors_;
  // Accept color only:
  unsigned clients_ = 0;
  bool draining_ = false;
  std::unordered_set<std::shared_ptr<connection>> live_;
  hue::registration grace_;
  std::mutex log_mu_;
  std::FILE* log_ = nullptr;
};

class handler_server final : public server {
 public:
  handler_server(hue::reactor& io, config cfg);

 private:
  void open(std::shared_ptr<connection> c) override;
  void drain(connection& c) override;
  void expire(connection& c) override;
  void read_request(const std::shared_ptr<connection>& c);   // ReadRequest
  void parse_request(const std::shared_ptr<connection>& c);  // ParseRequest
  void check_in_cache(const std::shared_ptr<connection>& c, session::parsed p);
  void not_found(const std::shared_ptr<connection>& c, bool head, bool keep_alive);  // 404
  void bad_request(const std::shared_ptr<connection>& c, int status, bool keep_alive);
  void write_response(const std::shared_ptr<connection>& c);  // WriteResponse
  void on_ready(const std::shared_ptr<connection>& c, hue::io_events ev);
};

class coro_server final : public server {
 public:
  coro_server(hue::reactor& io, config cfg);

 private:
  void open(std::shared_ptr<connection> c) override;
  void drain(connection& c) override;
  void expire(connection& c) override;
  hue::task<void> serve(std::shared_ptr<connection> c);
};

}  // namespace sws
