// apps/sws/coroutines.cpp — SWS with one coroutine per connection, on the connection's color.
//
// The same steps as the handler style (ReadRequest, ParseRequest, CheckInCache / 404 /
// BadRequest, WriteResponse, Close) read top to bottom in one function; the session code, the
// cache, the parser, Accept, DecClientAccepted and the time-outs are shared with handlers.cpp.
// A time-out or a shutdown that must interrupt a coroutine waiting for the client shuts the
// socket down, so its pending read returns and the loop ends by itself.
#include "server.hpp"

#include <sys/socket.h>

namespace sws {

namespace {
constexpr std::size_t flush_threshold = 64 * 1024;
constexpr hue::handler_info step_info{.name = "WriteResponse"};
using hue::net::io_status;
}  // namespace

coro_server::coro_server(hue::reactor& io, config cfg) : server(io, std::move(cfg)) { start(); }

void coro_server::open(std::shared_ptr<connection> c) {
  const hue::color_t color = c->color;
  hue::spawn(io_, color, serve(std::move(c)));
}

hue::task<void> coro_server::serve(std::shared_ptr<connection> c) {
  hue::async_socket sock(reactor_of(*c), c->fd);  // for readiness only: close() below closes the fd
  bool reset = false;
  idle_deadline(*c);
  // WriteResponse: everything queued, waiting for the socket as needed.
  auto flush = [&]() -> hue::task<bool> {
    for (;;) {
      switch (this->flush(*c)) {
        case io_status::ok:
          if (!c->s.output_pending()) co_return true;
          // A large file's step is done: let the color's other work run, then send the next.
          // It is progress: a time-out armed by an earlier EAGAIN must not cut a long download.
          set_deadline(*c, std::chrono::steady_clock::time_point::max());
          co_await rt_.on(c->color, step_info);
          if (c->expired) co_return false;
          break;
        case io_status::would_block:
          set_deadline(*c, std::chrono::steady_clock::now() + cfg_.keepalive_timeout);
          co_await sock.wait(hue::writable);
          if (c->expired) co_return false;
          break;
        default: co_return false;
      }
    }
  };
  for (;;) {
    const session::parsed p = c->s.parse(cfg_.limits);  // ParseRequest
    if (p.what == session::parsed::incomplete) {
      c->busy = false;
      if (c->s.output_pending() && !co_await flush()) {  // the end of a pipelined burst
        reset = !c->expired;
        break;
      }
      if (c->s.close_after() || c->peer_closed || c->expired) break;
      if (c->s.partial_request()) request_deadline(*c); else idle_deadline(*c);
      const std::size_t before = c->s.buffered();
      const io_status st = c->s.read_from(c->fd, max_buffer());  // ReadRequest
      if (st == io_status::eof) {
        c->peer_closed = true;
        continue;  // answer what it sent, then close
      }
      if (st != io_status::ok) {
        reset = !c->expired;
        break;
      }
      if (c->s.buffered() != before) continue;  // new bytes: parse them
      co_await sock.wait(hue::readable);        // EAGAIN: until the next edge
      if (c->expired) break;
      continue;
    }
    c->busy = true;
    c->deadline = std::chrono::steady_clock::time_point::max();
    c->header_clock = false;
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    const file_cache& cache = cache_for(*c);
    if (p.what == session::parsed::invalid) {  // BadRequest
      c->s.respond(cache.error(p.error_status), false, p.keep_alive);
      log(*c, p, p.error_status);
    } else if (p.what == session::parsed::options) {
      c->s.respond(cache.options(), false, p.keep_alive);
      log(*c, p, 200);
    } else if (answer_metrics(*c, p)) {
      // the exposition is queued: written below like a file
    } else if (const response* r = cache.find(c->s.path())) {  // CheckInCache
      log(*c, p, c->s.respond_file(*r, p.head, p.keep_alive, cache));
    } else {  // 404
      c->s.respond(cache.error(404), p.head, p.keep_alive);
      log(*c, p, 404);
    }
    if ((c->s.close_after() || c->s.output_bytes() >= flush_threshold) && !co_await flush()) {
      reset = !c->expired;
      break;
    }
    if (c->s.close_after()) break;
  }
  sock.release();
  close(*c, reset);  // Close; DecClientAccepted follows on the accept color
}

void coro_server::drain(connection& c) {
  // Idle in a read with nothing arrived: wake it with end-of-file. A request in progress, or one
  // waiting in the socket for its readiness delivery, is answered (with Connection: close) first.
  if (c.busy || c.s.output_pending() || c.s.partial_request()) return;
  char probe;
  if (::recv(c.fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) > 0) return;
  ::shutdown(c.fd, SHUT_RD);
}

void coro_server::expire(connection& c) { ::shutdown(c.fd, SHUT_RDWR); }

}  // namespace sws
