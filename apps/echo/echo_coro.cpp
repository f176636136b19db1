// apps/echo/echo_coro.cpp — the same echo server as coroutines on colors.
#include "echo_server.hpp"

#include <system_error>
#include <utility>

namespace echo {

namespace {

hue::task<void> session(std::shared_ptr<counters> stats, hue::async_socket s, hue::color_t color,
                        open_hook on_open) {
  if (on_open) on_open(color);
  char buf[16384];
  bool reset = false;
  try {
    while (const std::size_t n = co_await s.read_some(buf, sizeof buf)) {
      stats->bytes.fetch_add(n, std::memory_order_relaxed);
      co_await s.write_all(buf, n);
    }
  } catch (const std::system_error&) {
    reset = true;  // the peer reset or vanished: close quietly, as the handler style does
  }
  if (reset) stats->resets.fetch_add(1, std::memory_order_relaxed);
  stats->closed.fetch_add(1, std::memory_order_relaxed);
}

hue::task<void> accept_loop(hue::reactor& io, std::shared_ptr<counters> stats,
                            std::shared_ptr<hue::async_listener> listener, open_hook on_open) {
  for (unsigned n = 1;; ++n) {
    // Yield the accept color now and then, as the handler-style acceptor does: fairness, and a
    // bound on how long one resumption runs while connections keep arriving.
    if (n % 64 == 0) co_await io.rt().on(accept_color);
    hue::async_socket s = co_await listener->accept();
    stats->accepted.fetch_add(1, std::memory_order_relaxed);
    hue::net::set_nodelay(s.fd());
    const hue::color_t color = io.rt().new_color();
    hue::spawn(io, color, session(stats, std::move(s), color, on_open));
  }
}

}  // namespace

coro_server::coro_server(hue::reactor& io, int listen_fd, open_hook on_open)
    : stats_(std::make_shared<counters>()),
      listener_(std::make_shared<hue::async_listener>(io, listen_fd)) {
  hue::spawn(io, accept_color, accept_loop(io, stats_, listener_, std::move(on_open)));
}

}  // namespace echo
