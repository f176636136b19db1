// apps/sfs/server.cpp — hue-sfsd's handlers (see server.hpp for the list, the colors and the
// back-pressure rules).
#include "server.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace hue::sfs {

namespace {
// Costs are measured by the runtime (handler_info::measured_cost), not annotated: the crypto
// handlers' cost scales with the block size and the machine's ChaCha20 speed.
constexpr hue::handler_info read_info{.name = "ReadSocket"};
constexpr hue::handler_info decrypt_info{.name = "Decrypt"};
constexpr hue::handler_info serve_info{.name = "Serve"};
constexpr hue::handler_info encrypt_info{.name = "Encrypt"};
constexpr hue::handler_info write_info{.name = "WriteSocket"};
constexpr hue::handler_info open_info{.name = "Open"};
constexpr hue::handler_info close_info{.name = "Close"};
constexpr hue::handler_info dec_info{.name = "DecClients"};
constexpr hue::handler_info est_info{.name = "Established"};
constexpr hue::handler_info timer_info{.name = "Timeout"};
constexpr hue::handler_info drain_info{.name = "Drain"};
constexpr std::size_t read_chunk = 64 * 1024;
constexpr int reads_per_event = 4;  // then yield the color (other connections on color 0 in paper mode)
using clock = std::chrono::steady_clock;
}  // namespace

struct server::connection : std::enable_shared_from_this<connection> {
  int fd = -1;
  hue::color_t net = 0, crypto = 0;
  // Net color.
  hue::registration watch, timer;
  bool closed = false, read_paused = false, close_after_flush = false, established = false;
  bool draining = false, peer_eof = false;
  std::deque<std::vector<std::uint8_t>> out;
  std::size_t out_off = 0;
  clock::time_point last_progress = clock::now();
  // Written by crypto/net, read by net for back-pressure.
  std::atomic<std::size_t> out_bytes{0}, inbound{0}, queued{0};
  // Crypto color.
  std::optional<channel> ch;
  std::deque<request> pending;
  std::size_t in_flight = 0;
  bool failed = false, peer_closed = false, close_sealed = false, drain_requested = false;
  // Accept color.
  bool in_handshake = true;
};

void server_counters::print(std::FILE* to) const {
  auto v = [](const std::atomic<std::uint64_t>& a) { return static_cast<unsigned long long>(a.load()); };
  std::fprintf(to,
               "sfs: accepted %llu established %llu refused %llu shed-in-handshake %llu closed %llu | "
               "time-outs: handshake %llu idle %llu | requests %llu (READ %llu, %llu bytes) "
               "error replies %llu bad requests %llu | bytes out %llu | read pauses %llu | "
               "peak output per connection %llu\n",
               v(accepted), v(established), v(refused), v(shed_handshakes), v(closed),
               v(handshake_timeouts), v(idle_timeouts), v(requests), v(reads), v(bytes_read),
               v(error_replies), v(bad_requests), v(bytes_out), v(read_pauses), v(peak_output));
}

server::server(hue::reactor& io, server_config cfg)
    : io_(io), rt_(io.rt()), cfg_(std::move(cfg)), export_(cfg_.export_dir, cfg_.limits) {
  if (cfg_.max_clients == 0 || cfg_.max_handshakes == 0 || cfg_.max_outstanding == 0)
    throw std::invalid_argument("client, handshake and outstanding limits must be at least 1");
  if (cfg_.colors == coloring::paper) {
    accept_color_ = 0;
    fs_color_ = 0;
  } else {
    accept_color_ = rt_.new_color();
    fs_color_ = rt_.new_color();
  }
  const int fd = hue::net::listen_tcp(cfg_.at);
  port_ = hue::net::local_port(fd);
  acceptor_ = std::make_unique<hue::net::acceptor>(io_, fd, accept_color_, [this](int c) { accept(c); });
}

server::~server() {
  acceptor_.reset();
  grace_.reset();
  live_.clear();
}

std::string server::name() const {
  return format_name(make_name(cfg_.name_host.empty() ? cfg_.at.host : cfg_.name_host, port_,
                               cfg_.keys.public_key));
}

void server::accept(int fd) {
  stats_.accepted.fetch_add(1, std::memory_order_relaxed);
  if (draining_) return void(::close(fd));
  if (handshakes_ >= cfg_.max_handshakes) {
    // Too many connections still in their handshake (a slow-loris of handshakes): refuse new
    // ones at once rather than let them hold memory and the handshake CPU.
    stats_.shed_handshakes.fetch_add(1, std::memory_order_relaxed);
    return void(::close(fd));
  }
  hue::net::set_nodelay(fd);
  auto c = std::make_shared<connection>();
  c->fd = fd;
  c->crypto = rt_.new_color();
  c->net = cfg_.colors == coloring::paper ? hue::color_t{0} : c->crypto;
  channel_options o;
  o.transport = cfg_.transport;
  if (cfg_.use_allow_list)
    o.accept_client = [this](const x25519_key& k) { return cfg_.allow.count(k) != 0; };
  c->ch.emplace(channel::server(cfg_.keys, std::move(o)));
  live_.insert(c);
  ++handshakes_;
  if (++clients_ >= cfg_.max_clients) acceptor_->pause();  // the rest wait in the backlog
  rt_.post(c->net, [this, c] { open(c); }, open_info);
}

void server::open(const conn_ptr& c) {
  connection* raw = c.get();  // cancelled by close(), on this color
  c->watch = io_.watch(c->fd, hue::readable | hue::writable, c->net,
                       [this, raw](hue::io_events ev) { on_ready(raw->shared_from_this(), ev); },
                       hue::watch_mode::persistent, read_info);
  c->timer = io_.after(cfg_.handshake_timeout, c->net, [this, raw] { on_timer(raw->shared_from_this()); },
                       timer_info);
}

void server::on_timer(const conn_ptr& c) {
  if (c->closed) return;
  if (!c->established) {
    stats_.handshake_timeouts.fetch_add(1, std::memory_order_relaxed);
    return close(c);
  }
  const auto idle = clock::now() - c->last_progress;
  if (idle >= cfg_.idle_timeout) {
    stats_.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
    return close(c);
  }
  connection* raw = c.get();
  c->timer = io_.after(cfg_.idle_timeout - idle, c->net, [this, raw] { on_timer(raw->shared_from_this()); },
                       timer_info);
}

void server::on_ready(const conn_ptr& c, hue::io_events ev) {
  if (c->closed) return;
  if (ev & hue::writable) flush(c);
  if (!c->closed && (ev & hue::readable)) read_socket(c);
}

bool server::may_read(const connection& c) const {
  return c.inbound.load(std::memory_order_acquire) < cfg_.max_inbound &&
         c.queued.load(std::memory_order_acquire) < cfg_.max_queued &&
         c.out_bytes.load(std::memory_order_acquire) < cfg_.max_output;
}

void server::read_socket(const conn_ptr& c) {
  if (c->closed || c->peer_eof || c->draining) return;
  for (int i = 0; i < reads_per_event; ++i) {
    if (!may_read(*c)) {
      if (!c->read_paused) stats_.read_pauses.fetch_add(1, std::memory_order_relaxed);
      c->read_paused = true;  // flush() or dispatch() resumes us
      return;
    }
    std::vector<std::uint8_t> buf(read_chunk);
    const hue::net::io_result r = hue::net::read_some(c->fd, buf.data(), buf.size());
    if (r.status == hue::net::io_status::would_block) return;
    if (r.status == hue::net::io_status::eof) {
      c->peer_eof = true;
      rt_.post(c->crypto, [this, c] { peer_end(c); }, decrypt_info);
      return;
    }
    if (r.status != hue::net::io_status::ok) return close(c);
    buf.resize(r.bytes);
    c->last_progress = clock::now();
    c->inbound.fetch_add(r.bytes, std::memory_order_acq_rel);
    rt_.post(c->crypto, [this, c, b = std::move(buf)]() mutable { decrypt(c, std::move(b)); },
             decrypt_info);
  }
  // More may wait: an edge-triggered watch will not tell us again, so come back as an event.
  rt_.post(c->net, [this, c] { read_socket(c); }, read_info);
}

void server::fail(const conn_ptr& c) {
  c->failed = true;
  c->pending.clear();
  c->queued.store(0, std::memory_order_release);
  rt_.post(c->net, [this, c] { close(c); }, close_info);
}

void server::decrypt(const conn_ptr& c, std::vector<std::uint8_t> bytes) {
  c->inbound.fetch_sub(bytes.size(), std::memory_order_acq_rel);
  if (c->failed || c->close_sealed) return;
  std::vector<std::uint8_t> hs;
  channel::result r;
  const bool was_established = c->ch->established();
  try {
    r = c->ch->receive(bytes, hs);
  } catch (const protocol_error&) {
    // Nothing of this connection's requests runs: a refused client key (allow-list), a forged
    // frame, a wrong name. The connection closes without a word (a reply would be unauthenticated).
    if (!was_established) stats_.refused.fetch_add(1, std::memory_order_relaxed);
    return fail(c);
  }
  if (!hs.empty()) {
    c->out_bytes.fetch_add(hs.size(), std::memory_order_acq_rel);
    rt_.post(c->net, [this, c, f = std::move(hs)]() mutable { write_socket(c, std::move(f), false); },
             write_info);
  }
  if (r.established_now) {
    stats_.established.fetch_add(1, std::memory_order_relaxed);
    rt_.post(c->net, [c] { c->established = true; }, est_info);
    rt_.post(accept_color_, [this, c] {
      if (c->in_handshake) {
        c->in_handshake = false;
        --handshakes_;
      }
    }, est_info);
  }
  for (auto& m : r.messages) {
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    decoded_request d = decode_request(m);
    if (!d.req) {
      stats_.bad_requests.fetch_add(1, std::memory_order_relaxed);
      if (!d.error.id) return fail(c);  // not even an id to answer: the client is broken
      ++c->in_flight;  // answered through encrypt() like any reply
      encrypt(c, encode_error(*d.error.id, status::bad_request, d.error.reason), true);
      if (c->failed) return;
      continue;
    }
    c->pending.push_back(std::move(*d.req));
  }
  c->queued.store(c->pending.size(), std::memory_order_release);
  if (r.closed) c->peer_closed = true;
  dispatch(c);
  finish_if_done(c);
}

void server::peer_end(const conn_ptr& c) {
  if (c->failed || c->close_sealed) return;
  try {
    c->ch->end_of_stream();
  } catch (const protocol_error&) {
    // Cut short without the authenticated close: nothing more is sent (the client is gone or
    // its stream was truncated by someone else).
    return fail(c);
  }
  c->peer_closed = true;
  finish_if_done(c);
}

void server::dispatch(const conn_ptr& c) {
  while (!c->failed && !c->pending.empty() && c->in_flight < cfg_.max_outstanding &&
         c->out_bytes.load(std::memory_order_acquire) < cfg_.max_output) {
    request r = std::move(c->pending.front());
    c->pending.pop_front();
    ++c->in_flight;
    if (c->drain_requested) {
      encrypt(c, encode_error(r.id, status::busy, "server shutting down"), true);
      continue;
    }
    rt_.post(fs_color_, [this, c, r = std::move(r)]() mutable { serve(c, std::move(r)); }, serve_info);
  }
  const std::size_t before = c->queued.exchange(c->pending.size(), std::memory_order_acq_rel);
  if (before >= cfg_.max_queued && c->pending.size() < cfg_.max_queued)
    rt_.post(c->net, [this, c] {
      if (c->read_paused && may_read(*c)) {
        c->read_paused = false;
        read_socket(c);
      }
    }, read_info);
}

void server::serve(const conn_ptr& c, request r) {
  std::vector<std::uint8_t> reply;
  if (r.what == op::read) {
    reply.reserve(10 + r.length);
    export_.read(r, reply);
    stats_.reads.fetch_add(1, std::memory_order_relaxed);
    if (reply.size() > 4 && reply[4] == 0) stats_.bytes_read.fetch_add(reply.size() - 10, std::memory_order_relaxed);
  } else {
    reply = export_.answer(r);
  }
  if (reply.size() > 4 && reply[4] != 0) stats_.error_replies.fetch_add(1, std::memory_order_relaxed);
  handles_.store(export_.handles(), std::memory_order_relaxed);
  rt_.post(c->crypto, [this, c, rep = std::move(reply)]() mutable { encrypt(c, std::move(rep), true); },
           encrypt_info);
}

void server::encrypt(const conn_ptr& c, std::vector<std::uint8_t> reply, bool counted) {
  if (counted) --c->in_flight;
  if (c->failed || c->close_sealed) return;
  std::vector<std::uint8_t> frames;
  frames.reserve(reply.size() + transport_overhead);
  try {
    c->ch->secure().seal(reply, frames);
  } catch (const protocol_error&) {
    return fail(c);
  }
  const std::size_t now = c->out_bytes.fetch_add(frames.size(), std::memory_order_acq_rel) + frames.size();
  std::uint64_t peak = stats_.peak_output.load(std::memory_order_relaxed);
  while (now > peak && !stats_.peak_output.compare_exchange_weak(peak, now)) {}
  rt_.post(c->net, [this, c, f = std::move(frames)]() mutable { write_socket(c, std::move(f), false); },
           write_info);
  dispatch(c);
  finish_if_done(c);
}

// Crypto color: the client sent its authenticated close (or we drain) and every request it
// sent is answered: seal our close and have the net color close after writing it.
void server::finish_if_done(const conn_ptr& c) {
  if (c->failed || c->close_sealed || !(c->peer_closed || c->drain_requested)) return;
  if (!c->pending.empty() || c->in_flight != 0) return;
  c->close_sealed = true;
  std::vector<std::uint8_t> frames;
  if (c->ch->established()) {
    try {
      c->ch->secure().seal_close(frames);
    } catch (const protocol_error&) {
      frames.clear();
    }
  }
  c->out_bytes.fetch_add(frames.size(), std::memory_order_acq_rel);
  rt_.post(c->net, [this, c, f = std::move(frames)]() mutable { write_socket(c, std::move(f), true); },
           write_info);
}

void server::write_socket(const conn_ptr& c, std::vector<std::uint8_t> frames, bool close_after) {
  if (c->closed) return;
  if (close_after) c->close_after_flush = true;
  if (!frames.empty()) c->out.push_back(std::move(frames));
  flush(c);
}

void server::flush(const conn_ptr& c) {
  const std::size_t before = c->out_bytes.load(std::memory_order_acquire);
  std::size_t written = 0;
  while (!c->out.empty()) {
    iovec iov[16];
    std::size_t n = 0;
    for (auto it = c->out.begin(); it != c->out.end() && n < 16; ++it, ++n) {
      const std::size_t off = n == 0 ? c->out_off : 0;
      iov[n].iov_base = it->data() + off;
      iov[n].iov_len = it->size() - off;
    }
    const ssize_t w = ::writev(c->fd, iov, static_cast<int>(n));
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;  // the writable edge calls us again
      c->out_bytes.fetch_sub(written, std::memory_order_acq_rel);
      return close(c);
    }
    std::size_t left = static_cast<std::size_t>(w);
    written += left;
    while (left > 0) {
      const std::size_t rest = c->out.front().size() - c->out_off;
      if (left >= rest) {
        left -= rest;
        c->out.pop_front();
        c->out_off = 0;
      } else {
        c->out_off += left;
        left = 0;
      }
    }
  }
  if (written > 0) {
    c->last_progress = clock::now();
    stats_.bytes_out.fetch_add(written, std::memory_order_relaxed);
    c->out_bytes.fetch_sub(written, std::memory_order_acq_rel);
    // Crossing below the output cap: the crypto color may dispatch again, we may read again.
    if (before >= cfg_.max_output && before - written < cfg_.max_output)
      rt_.post(c->crypto, [this, c] { dispatch(c); }, decrypt_info);
  }
  if (c->out.empty() && c->close_after_flush) return close(c);
  if (c->read_paused && may_read(*c)) {
    c->read_paused = false;
    read_socket(c);
  }
}

void server::close(const conn_ptr& c) {
  if (c->closed) return;
  c->closed = true;
  c->watch.reset();  // before close(): the fd number may be reused at once
  c->timer.reset();
  ::close(c->fd);
  c->out.clear();
  stats_.closed.fetch_add(1, std::memory_order_relaxed);
  // Crypto state goes with the last event that holds `c`; mark it failed so none seals more.
  rt_.post(c->crypto, [c] { c->failed = true; c->pending.clear(); }, close_info);
  rt_.post(accept_color_, [this, c] {
    if (c->in_handshake) {
      c->in_handshake = false;
      --handshakes_;
    }
    live_.erase(c);
    const bool was_full = clients_ >= cfg_.max_clients;
    --clients_;
    if (draining_) {
      if (clients_ == 0) rt_.stop();
    } else if (was_full) {
      acceptor_->resume();
    }
  }, dec_info);
}

void server::drain(const conn_ptr& c) {
  // Net color: stop reading; in the handshake: close now; else the crypto color answers what is
  // queued with `busy`, finishes what is in flight, and seals the close.
  if (c->closed) return;
  c->draining = true;
  if (!c->established) return close(c);
  rt_.post(c->crypto, [this, c] {
    c->drain_requested = true;
    dispatch(c);
    finish_if_done(c);
  }, drain_info);
}

void server::shutdown() {
  rt_.post(accept_color_, [this] {
    if (draining_) return;
    draining_ = true;
    acceptor_->pause();
    grace_ = io_.after(cfg_.shutdown_grace, accept_color_, [this] { rt_.stop(); }, drain_info);
    for (const conn_ptr& c : live_) rt_.post(c->net, [this, c] { drain(c); }, drain_info);
    if (clients_ == 0) rt_.stop();
  }, drain_info);
}

}  // namespace hue::sfs
