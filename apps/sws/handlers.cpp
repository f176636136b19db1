// apps/sws/handlers.cpp — SWS as the paper's colored handlers (see server.hpp for the list).
//
// Per connection, one chain runs at a time (`busy`): ParseRequest -> CheckInCache | 404 |
// BadRequest -> WriteResponse, each an event of the connection's color, so the runtime sees (and
// measures, and may steal between) every step as in Mely. Pipelined requests continue the chain
// from WriteResponse, which writes once for all the responses of a pipelined burst.
#include "server.hpp"

#include <unistd.h>

namespace sws {

namespace {
constexpr hue::handler_info read_info{.name = "ReadRequest"};
constexpr hue::handler_info parse_info{.name = "ParseRequest"};
constexpr hue::handler_info cache_info{.name = "CheckInCache"};
constexpr hue::handler_info not_found_info{.name = "404"};
constexpr hue::handler_info bad_info{.name = "BadRequest"};
constexpr hue::handler_info write_info{.name = "WriteResponse"};
// Responses queued beyond this are written before parsing further pipelined requests.
constexpr std::size_t flush_threshold = 64 * 1024;
using hue::net::io_status;
using conn_ptr = std::shared_ptr<connection>;
}  // namespace

handler_server::handler_server(hue::reactor& io, config cfg) : server(io, std::move(cfg)) {
  start();
}

void handler_server::open(conn_ptr c) {
  connection* raw = c.get();  // the watch is cancelled by close(), from this color
  c->watch = reactor_of(*c).watch(c->fd, hue::readable | hue::writable, c->color,
                       [this, raw](hue::io_events ev) { on_ready(raw->shared_from_this(), ev); },
                       hue::watch_mode::persistent, read_info);
  idle_deadline(*c);
}

// The watch's handler (the Epoll handler registered it): readable means ReadRequest; writable
// resumes a WriteResponse that the socket had refused.
void handler_server::on_ready(const conn_ptr& c, hue::io_events ev) {
  if (c->closed) return;
  if ((ev & hue::writable) && !c->busy && c->s.output_pending()) {
    write_response(c);
    if (c->closed) return;
  }
  if (ev & hue::readable) read_request(c);
}

void handler_server::read_request(const conn_ptr& c) {
  const io_status st = c->s.read_from(c->fd, max_buffer());
  if (st == io_status::eof) {
    // The client finished sending: answer the requests it sent, then close.
    c->peer_closed = true;
    if (!c->busy && !c->s.output_pending() && !c->s.partial_request()) return close(*c, false);
  } else if (st != io_status::ok) {
    return close(*c, true);
  }
  if (c->busy || c->s.output_pending()) return;  // the chain, or a blocked write, goes first
  if (c->s.partial_request()) {
    c->busy = true;
    rt_.post(c->color, [this, c] { parse_request(c); }, parse_info);
  }
}

void handler_server::parse_request(const conn_ptr& c) {
  if (c->closed) return;
  const session::parsed p = c->s.parse(cfg_.limits);
  switch (p.what) {
    case session::parsed::incomplete:
      c->busy = false;
      if (c->s.output_pending()) return write_response(c);  // the end of a pipelined burst
      if (c->peer_closed) return close(*c, false);  // what is left can never complete
      if (c->s.partial_request()) request_deadline(*c); else idle_deadline(*c);
      if (!c->s.socket_drained()) read_request(c);
      return;
    case session::parsed::invalid:
      stats_.requests.fetch_add(1, std::memory_order_relaxed);
      c->deadline = std::chrono::steady_clock::time_point::max();
      rt_.post(c->color, [this, c, status = p.error_status, keep = p.keep_alive] {
        bad_request(c, status, keep);
      }, bad_info);
      log(*c, p, p.error_status);
      return;
    case session::parsed::request:
    case session::parsed::options:
      stats_.requests.fetch_add(1, std::memory_order_relaxed);
      c->deadline = std::chrono::steady_clock::time_point::max();
      c->header_clock = false;
      rt_.post(c->color, [this, c, p] { check_in_cache(c, p); }, cache_info);
      return;
  }
}

void handler_server::check_in_cache(const conn_ptr& c, session::parsed p) {
  const file_cache& cache = cache_for(*c);
  if (p.what == session::parsed::options) {
    c->s.respond(cache.options(), false, p.keep_alive);
    log(*c, p, 200);
    rt_.post(c->color, [this, c] { write_response(c); }, write_info);
    return;
  }
  if (answer_metrics(*c, p)) {
    rt_.post(c->color, [this, c] { write_response(c); }, write_info);
    return;
  }
  const response* r = cache.find(c->s.path());
  if (!r) {
    rt_.post(c->color, [this, c, head = p.head, keep = p.keep_alive] { not_found(c, head, keep); },
             not_found_info);
    return;
  }
  log(*c, p, c->s.respond_file(*r, p.head, p.keep_alive, cache));
  rt_.post(c->color, [this, c] { write_response(c); }, write_info);
}

void handler_server::not_found(const conn_ptr& c, bool head, bool keep_alive) {
  c->s.respond(cache_for(*c).error(404), head, keep_alive);
  log(*c, {session::parsed::request, 0, head, keep_alive}, 404);
  rt_.post(c->color, [this, c] { write_response(c); }, write_info);
}

void handler_server::bad_request(const conn_ptr& c, int status, bool keep_alive) {
  c->s.respond(cache_for(*c).error(status), false, keep_alive);
  rt_.post(c->color, [this, c] { write_response(c); }, write_info);
}

void handler_server::write_response(const conn_ptr& c) {
  if (c->closed) return;
  // More pipelined requests already buffered: answer them first and write once.
  if (c->busy && !c->s.close_after() && c->s.partial_request() &&
      c->s.output_bytes() < flush_threshold) {
    rt_.post(c->color, [this, c] { parse_request(c); }, parse_info);
    return;
  }
  switch (flush(*c)) {
    case io_status::ok:
      if (c->s.output_pending()) {
        // A large file's step is done and the socket still takes more: no writability edge will
        // come, so the next step is an event of its own (other connections run in between).
        // It is progress: a time-out armed by an earlier EAGAIN must not cut a long download.
        c->busy = true;
        set_deadline(*c, std::chrono::steady_clock::time_point::max());
        rt_.post(c->color, [this, c] { write_response(c); }, write_info);
        return;
      }
      break;
    case io_status::would_block:
      // The writable edge comes back to on_ready; a client that stops reading times out.
      c->busy = false;
      set_deadline(*c, std::chrono::steady_clock::now() + cfg_.keepalive_timeout);
      return;
    default:
      return close(*c, true);
  }
  if (c->s.close_after()) return close(*c, false);  // Connection: close, an error, or draining
  if (c->s.partial_request()) {  // pipelined bytes left: the next request, complete or not
    c->busy = true;
    rt_.post(c->color, [this, c] { parse_request(c); }, parse_info);
    return;
  }
  c->busy = false;
  if (c->peer_closed) return close(*c, false);
  idle_deadline(*c);
  if (!c->s.socket_drained()) read_request(c);  // the buffer was full: no edge will come for the rest
}

void handler_server::drain(connection& c) {
  // A request may sit in the socket with its readiness delivery still queued: read it first.
  if (!c.busy && !c.s.output_pending()) read_request(c.shared_from_this());
  if (!c.closed && !c.busy && !c.s.output_pending() && !c.s.partial_request())
    close(c, false);  // idle: nothing in flight to finish
}

void handler_server::expire(connection& c) { close(c, false); }

}  // namespace sws
