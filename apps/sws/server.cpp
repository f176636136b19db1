// apps/sws/server.cpp — what both styles of SWS share: Accept, DecClientAccepted, Close, the
// time-outs, graceful shutdown, the access log and the counters.
#include "server.hpp"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace sws {

namespace {
constexpr hue::handler_info dec_info{.name = "DecClientAccepted"};
constexpr hue::handler_info open_info{.name = "Open"};
constexpr hue::handler_info timer_info{.name = "Timeout"};
constexpr hue::handler_info drain_info{.name = "Drain"};
using clock = std::chrono::steady_clock;
}  // namespace

void counters::print(std::FILE* to) const {
  std::fprintf(to,
               "sws: accepted %llu closed %llu requests %llu | 200 %llu 404 %llu other-4xx %llu | "
               "bytes out %llu | time-outs %llu resets %llu | paused at max clients %llu | "
               "reloads %llu failed %llu\n",
               static_cast<unsigned long long>(accepted.load()),
               static_cast<unsigned long long>(closed.load()),
               static_cast<unsigned long long>(requests.load()),
               static_cast<unsigned long long>(ok.load()),
               static_cast<unsigned long long>(not_found.load()),
               static_cast<unsigned long long>(client_errors.load()),
               static_cast<unsigned long long>(bytes_out.load()),
               static_cast<unsigned long long>(timeouts.load()),
               static_cast<unsigned long long>(resets.load()),
               static_cast<unsigned long long>(paused_at_max.load()),
               static_cast<unsigned long long>(reloads.load()),
               static_cast<unsigned long long>(failed_reloads.load()));
}

server::server(hue::reactor& io, config cfg)
    : io_(io),
      rt_(io.rt()),
      cfg_(std::move(cfg)),
      snap_(std::make_shared<const file_cache>(cfg_.root, cfg_.cache, cfg_.quiet)) {
  if (cfg_.max_clients == 0) throw std::invalid_argument("max clients must be at least 1");
  if (!cfg_.access_log.empty()) {
    log_ = std::fopen(cfg_.access_log.c_str(), "a");
    if (!log_) throw std::runtime_error("cannot open the access log '" + cfg_.access_log + "'");
  }
}

server::~server() {
  acceptors_.clear();
  grace_.reset();
  live_.clear();
  own_reactors_.clear();
  if (log_) std::fclose(log_);
}

void server::start() {
  // As in the paper: Epoll on the first core (the reactor given to us polls there), Accept on the
  // second. The other reactors' Epoll colors are fresh, each pinned to its own core.
  if (rt_.workers() > 1) rt_.pin_color(accept_color, 1);
  const unsigned n = std::min(std::max(cfg_.reactors, 1u), rt_.workers());
  reactors_.push_back(&io_);
  for (unsigned k = 1; k < n; ++k) {
    own_reactors_.push_back(std::make_unique<hue::reactor>(
        rt_, hue::reactor_config{.core = k, .color = std::nullopt}));  // nullopt: fresh, on core k
    reactors_.push_back(own_reactors_.back().get());
  }
  hue::net::endpoint at = cfg_.at;
  for (unsigned k = 0; k < n; ++k) {
    const int fd = hue::net::listen_tcp(at, {.reuse_port = n > 1});
    if (k == 0) port_ = at.port = hue::net::local_port(fd);  // the others join the same port
    acceptors_.push_back(std::make_unique<hue::net::acceptor>(
        *reactors_[k], fd, accept_color, [this, k](int c) { accept(c, k); }));
  }
}

std::vector<hue::color_t> server::epoll_colors() const {
  std::vector<hue::color_t> colors;
  for (const hue::reactor* r : reactors_) colors.push_back(r->color());
  return colors;
}

// Where a new connection lives: a fresh color, so it never shares a color with Accept, an Epoll
// handler or another connection, past or present. Its home core (the placement the README's race
// measured):
//   - accepted by reactor 0 (the paper's single poller): the color's hash picks the core, which
//     spreads connections evenly over every worker;
//   - accepted by reactor k > 0 (--reactors): core k, which polls its socket, so its deliveries
//     stay local.
// So with --reactors > 1, reactor 0's connections are still spread; keeping them on core 0 as well
// is the symmetric choice, not measured yet.
hue::color_t server::connection_color(unsigned reactor) {
  return reactor == 0 ? rt_.new_color() : rt_.new_color_on(reactor);  // reactor k polls on worker k
}

void server::accept(int fd, unsigned reactor) {
  stats_.accepted.fetch_add(1, std::memory_order_relaxed);
  if (draining_) {
    ::close(fd);
    return;
  }
  hue::net::set_nodelay(fd);
  auto c = std::make_shared<connection>();
  c->fd = fd;
  c->color = connection_color(reactor);
  c->reactor = reactor;
  live_.insert(c);
  if (++clients_ >= cfg_.max_clients) {
    // Further clients wait in the kernel's backlog until one leaves (DecClientAccepted).
    for (const auto& a : acceptors_) a->pause();
    stats_.paused_at_max.fetch_add(1, std::memory_order_relaxed);
  }
  // The connection's handlers are set up from its own color, so none of them can run before.
  rt_.post(c->color, [this, c] { open(c); }, open_info);
}

void server::close(connection& c, bool reset) {
  if (c.closed) return;
  c.closed = true;
  c.watch.reset();  // before close(): the fd number may be reused by the next accept at once
  c.timer.reset();
  ::close(c.fd);
  stats_.closed.fetch_add(1, std::memory_order_relaxed);
  if (reset) stats_.resets.fetch_add(1, std::memory_order_relaxed);
  rt_.post(accept_color, [this, self = c.shared_from_this()] { dec_client_accepted(self); },
           dec_info);
}

hue::net::io_status server::flush(connection& c) {
  const std::uint64_t before = c.s.bytes_written();
  const hue::net::io_status st = c.s.flush(c.fd);
  if (const std::uint64_t n = c.s.bytes_written() - before)
    stats_.bytes_out.fetch_add(n, std::memory_order_relaxed);
  return st;
}

void server::dec_client_accepted(const std::shared_ptr<connection>& c) {
  live_.erase(c);
  const bool was_full = clients_ >= cfg_.max_clients;
  --clients_;
  if (draining_) {
    if (clients_ == 0) rt_.stop();
  } else if (was_full) {
    for (const auto& a : acceptors_) a->resume();
  }
}

void server::shutdown() {
  rt_.post(accept_color, [this] {
    if (draining_) return;
    draining_ = true;
    for (const auto& a : acceptors_) a->pause();
    grace_ = io_.after(cfg_.shutdown_grace, accept_color, [this] { rt_.stop(); }, drain_info);
    for (const std::shared_ptr<connection>& c : live_) {
      rt_.post(c->color, [this, c] {
        if (c->closed) return;
        c->draining = true;
        c->s.set_close_after();  // the responses still to come say `Connection: close`
        drain(*c);
      }, drain_info);
    }
    if (clients_ == 0) rt_.stop();
  }, drain_info);
}

// --- snapshots and reload ---

std::shared_ptr<const file_cache> server::snapshot() const {
  std::lock_guard l(snap_mu_);
  return snap_;
}

const file_cache& server::cache_for(connection& c) {
  const std::uint64_t g = generation_.load(std::memory_order_acquire);
  if (!c.snap || c.snap_generation != g) {
    c.s.retain(std::move(c.snap));  // queued responses may still point into it
    c.snap = snapshot();
    c.snap_generation = g;
  }
  return *c.snap;
}

bool server::reload(std::string* why) {
  std::shared_ptr<const file_cache> fresh;
  try {
    // The scan reads every cacheable file: it runs outside the lock, on the caller's thread.
    fresh = std::make_shared<const file_cache>(cfg_.root, cfg_.cache, cfg_.quiet);
  } catch (const std::exception& e) {
    stats_.failed_reloads.fetch_add(1, std::memory_order_relaxed);
    const std::size_t kept = snapshot()->files();
    std::fprintf(stderr, "hue-sws: reload failed, still serving the previous snapshot (%zu files): %s\n",
                 kept, e.what());
    if (why) *why = e.what();
    return false;
  }
  const std::size_t files = fresh->files(), open = fresh->open_files();
  std::shared_ptr<const file_cache> old;
  {
    std::lock_guard l(snap_mu_);
    old = std::exchange(snap_, std::move(fresh));
    generation_.fetch_add(1, std::memory_order_release);
  }
  stats_.reloads.fetch_add(1, std::memory_order_relaxed);
  if (!cfg_.quiet)
    std::fprintf(stderr, "hue-sws: reloaded %s: %zu files (%zu sent from descriptors)\n",
                 cfg_.root.c_str(), files, open);
  if (why) why->clear();
  return true;  // `old` goes when its last connection lets go of it
}

// --- time-outs ---

void server::set_deadline(connection& c, clock::time_point when) {
  c.deadline = when;
  if (when == clock::time_point::max() || c.timer_due <= when) return;  // it fires early enough
  c.timer_due = when;
  connection* raw = &c;  // the timer is cancelled by close(), from this color
  c.timer = reactor_of(c).after(when - clock::now(), c.color, [this, raw] { on_timer(*raw); },
                                timer_info);
}

void server::idle_deadline(connection& c) {
  c.s.release_idle();  // an idle keep-alive connection keeps no buffers (session.hpp)
  c.header_clock = false;
  set_deadline(c, clock::now() + cfg_.keepalive_timeout);
}

void server::request_deadline(connection& c) {
  if (!c.header_clock) {
    c.header_clock = true;
    c.request_start = clock::now();
  }
  set_deadline(c, c.request_start + cfg_.header_timeout);
}

void server::on_timer(connection& c) {
  c.timer_due = clock::time_point::max();
  if (c.closed || c.deadline == clock::time_point::max()) return;
  if (clock::now() < c.deadline) {
    set_deadline(c, c.deadline);  // it moved later since this timer was armed
    return;
  }
  stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
  c.expired = true;
  expire(c);
}

void server::log(const connection& c, const session::parsed& p, int status) {
  stats_.by_status.add(status);
  if (status == 200 || status == 206 || status == 304)
    stats_.ok.fetch_add(1, std::memory_order_relaxed);
  else if (status == 404) stats_.not_found.fetch_add(1, std::memory_order_relaxed);
  else stats_.client_errors.fetch_add(1, std::memory_order_relaxed);
  if (!log_) return;
  std::lock_guard l(log_mu_);
  // The color matches the one the runtime names when a handler throws ("color N").
  const char* method = p.what == session::parsed::options ? "OPTIONS" : p.head ? "HEAD" : "GET";
  std::fprintf(log_, "fd=%d color=%llu %s /%s %d\n", c.fd,
               static_cast<unsigned long long>(c.color), method, c.s.path().c_str(), status);
}

bool server::answer_metrics(connection& c, const session::parsed& p) {
  if (cfg_.metrics_path.empty() || p.what != session::parsed::request) return false;
  const std::string& path = c.s.path();  // normalized, without the leading '/'
  const std::string_view want = std::string_view(cfg_.metrics_path).substr(1);
  if (path != want) return false;
  c.s.respond_generated(200, prometheus_content_type, prometheus_text(stats_, rt_.stats()),
                        p.head, p.keep_alive);
  log(c, p, 200);
  return true;
}

}  // namespace sws
