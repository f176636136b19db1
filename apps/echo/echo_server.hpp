// apps/echo/echo_server.hpp — one echo server written twice: with colored handlers, and with
// coroutines on colors. Both accept on color 1 (as SWS's Accept) and give each connection a fresh
// color of its own (runtime::new_color), so a connection's code never runs on two cores at once
// while different connections run in parallel and can be stolen. The fresh color's hash picks its
// home core, which spreads connections over every worker. Hazard: a color derived from the
// socket's fd collides with the fixed colors (fd 1 is Accept's) and with the next connection on
// that fd.
//
// Shutdown: stop the runtime and wait() for it before destroying a server (a connection's handler
// could otherwise be running while it is freed). Coroutine sessions still suspended are destroyed
// by their reactor.
#pragma once

#include <hue/hue.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

namespace echo {

inline constexpr hue::color_t accept_color = 1;  // a fixed color (below hue::first_fresh_color)

// Runs on a connection's color as it opens, before its first read, with that color: lets the
// caller see where connections live (the tests check that no two share a color).
using open_hook = std::function<void(hue::color_t)>;

struct counters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> closed{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> resets{0};  // peers that reset or vanished mid-conversation
};

class handler_server {
 public:
  handler_server(hue::reactor& io, int listen_fd, open_hook on_open = {});
  ~handler_server();
  handler_server(const handler_server&) = delete;
  handler_server& operator=(const handler_server&) = delete;

  const counters& stats() const noexcept { return stats_; }
  const hue::net::acceptor& acceptor() const noexcept { return acceptor_; }
  struct connection;

 private:
  void open(int fd);
  void on_ready(connection* c);
  void close(connection* c, bool reset);
  void forget(connection* c);  // on the accept color: leaves the list and is freed

  hue::reactor& io_;
  const open_hook on_open_;
  counters stats_;
  // Every connection not yet forgotten, for the destructor. Only the accept color touches it while
  // the server runs (no lock): the server must be destroyed after runtime::wait().
  connection* live_ = nullptr;
  hue::net::acceptor acceptor_;
};

class coro_server {
 public:
  coro_server(hue::reactor& io, int listen_fd, open_hook on_open = {});
  const counters& stats() const noexcept { return *stats_; }
  std::uint64_t shed() const noexcept { return listener_->shed(); }

 private:
  std::shared_ptr<counters> stats_;  // shared with the coroutines, which may outlive the server
  std::shared_ptr<hue::async_listener> listener_;
};

}  // namespace echo
