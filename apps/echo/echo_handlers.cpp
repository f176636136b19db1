// apps/echo/echo_handlers.cpp — the echo server as colored handlers (Accept on color 1,
// per-connection handlers on the connection's fresh color).
#include "echo_server.hpp"

#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>

namespace echo {

namespace {
constexpr hue::handler_info echo_info{.name = "Echo"};
constexpr hue::handler_info register_info{.name = "Register"};
constexpr hue::handler_info forget_info{.name = "Forget"};
}  // namespace

struct handler_server::connection {
  int fd;
  hue::color_t color;
  hue::registration watch;
  std::string unsent;  // echoed bytes the socket would not take yet
  connection* prev = nullptr;
  connection* next = nullptr;
};

handler_server::handler_server(hue::reactor& io, int listen_fd, open_hook on_open)
    : io_(io),
      on_open_(std::move(on_open)),
      acceptor_(io, listen_fd, accept_color, [this](int fd) { open(fd); }) {}

// After the runtime stopped and its workers were joined (runtime::wait): no handler runs, so the
// list can be walked from this thread. A connection closed but not yet forgotten (the post to the
// accept color came too late) has fd -1.
handler_server::~handler_server() {
  while (connection* c = live_) {
    live_ = c->next;
    c->watch.reset();
    if (c->fd >= 0) ::close(c->fd);
    delete c;
  }
}

void handler_server::open(int fd) {
  stats_.accepted.fetch_add(1, std::memory_order_relaxed);
  hue::net::set_nodelay(fd);
  auto* c = new connection{fd, io_.rt().new_color(), {}, {}};
  c->next = live_;  // on the accept color, the list's only user while the server runs
  if (live_) live_->prev = c;
  live_ = c;
  // Registered from the connection's own color, so the watch is in place before its first
  // delivery can run there (the accept color must not race the connection's handlers).
  io_.rt().post(c->color, [this, c] {
    if (on_open_) on_open_(c->color);
    c->watch = io_.watch(c->fd, hue::readable | hue::writable, c->color,
                         [this, c](hue::io_events) { on_ready(c); }, hue::watch_mode::persistent,
                         echo_info);
  }, register_info);
}

void handler_server::on_ready(connection* c) {
  using hue::net::io_status;
  // Flush what the socket refused last time before reading more: a client that does not read
  // its replies is not allowed to grow our memory.
  while (!c->unsent.empty()) {
    const auto w = hue::net::write_some(c->fd, c->unsent.data(), c->unsent.size());
    if (w.status == io_status::would_block) return;  // the next writable edge brings us back
    if (w.status != io_status::ok) return close(c, true);
    c->unsent.erase(0, w.bytes);
  }
  char buf[16384];
  for (;;) {
    const auto r = hue::net::read_some(c->fd, buf, sizeof buf);
    if (r.status == io_status::would_block) return;
    if (r.status == io_status::eof) return close(c, false);
    if (r.status != io_status::ok) return close(c, true);
    stats_.bytes.fetch_add(r.bytes, std::memory_order_relaxed);
    std::size_t done = 0;
    while (done < r.bytes) {
      const auto w = hue::net::write_some(c->fd, buf + done, r.bytes - done);
      if (w.status == io_status::would_block) {
        c->unsent.assign(buf + done, r.bytes - done);
        return;  // stop reading until it drains (edge-triggered: we come back on writable)
      }
      if (w.status != io_status::ok) return close(c, true);
      done += w.bytes;
    }
  }
}

// From the connection's own handler, as its last step. The list of open connections belongs to the
// accept color, so the connection leaves it there: the color does what a lock would. The accept
// color may delete it while this handler is still returning; the registration keeps the running
// handler alive until it returns, and nothing of the connection is touched after the post.
void handler_server::close(connection* c, bool reset) {
  c->watch.cancel();
  ::close(c->fd);
  c->fd = -1;
  if (reset) stats_.resets.fetch_add(1, std::memory_order_relaxed);
  stats_.closed.fetch_add(1, std::memory_order_relaxed);
  io_.rt().post(accept_color, [this, c] { forget(c); }, forget_info);  // refused once stopped
}

void handler_server::forget(connection* c) {
  if (c->prev) c->prev->next = c->next; else live_ = c->next;
  if (c->next) c->next->prev = c->prev;
  delete c;
}

}  // namespace echo
