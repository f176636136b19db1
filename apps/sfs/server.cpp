// apps/sfs/server.cpp — hue-sfsd's handlers (see server.hpp for the list, the colors and the
// back-pressure rules).
#include "server.hpp"

#include "prometheus.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

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
constexpr hue::handler_info hash_info{.name = "Hash"};
// Bytes DIGEST hashes per event: about 2-4 ms of SHA-256 and pread on current machines. Picked
// without data, as a slice short enough that the connection's other replies are not held long.
constexpr std::size_t hash_step = 1024 * 1024;
constexpr std::size_t read_chunk = 64 * 1024;
constexpr int reads_per_event = 4;  // then yield the color (other connections on color 0 in paper mode)
using clock = std::chrono::steady_clock;
}  // namespace

struct server::connection : std::enable_shared_from_this<connection> {
  int fd = -1;
  client_id client = 0;  // set before the connection is shared, read on every color
  hue::color_t net = 0, crypto = 0;
  // Net color.
  hue::registration watch, timer;
  bool closed = false, read_paused = false, close_after_flush = false, established = false;
  bool draining = false, peer_eof = false;
  std::deque<frame_buffer> out;  // sealed frames, written in order
  std::size_t out_off = 0;
  clock::time_point last_progress = clock::now();
  // Set by the crypto color when the handshake completes, read by the accept color: a finished
  // handshake whose Established event is still queued behind a burst of accepts is not evicted.
  std::atomic<bool> handshake_done{false};
  // Written by crypto/net, read by net for back-pressure.
  std::atomic<std::size_t> out_bytes{0}, inbound{0}, queued{0};
  // Sealed replies not yet handed to the net color: the crypto color adds, the net color takes
  // them all in one WriteSocket event (posted by whoever adds to an empty batch), so the replies
  // sealed while one event waits go out in one writev rather than one event and syscall each.
  std::mutex sealed_mu;
  std::vector<frame_buffer> sealed;  // under sealed_mu
  bool write_posted = false;         // under sealed_mu: a WriteSocket event will take `sealed`
  // Crypto color.
  std::optional<channel> ch;
  // Decoded requests waiting for a slot; `refusal` set: answer bad_request with it, unserved.
  struct queued_request {
    request r;
    std::optional<std::string> refusal;
    status refusal_code = status::bad_request;
  };
  std::deque<queued_request> pending;
  std::size_t in_flight = 0;
  std::size_t work = 0;  // requests received and not yet answered (refusals not counted)
  bool failed = false, peer_closed = false, close_sealed = false, drain_requested = false;
  bool hello_seen = false;
  // Accept color.
  bool in_handshake = true;
  // Its opening (hello, message 1) was in the socket when accepted, or its hello has since been
  // accepted: evicted only after every handshake that shows no such sign (server.hpp).
  bool progressed = false;
  server::source_key source{};
  clock::time_point accepted_at = clock::now();
  std::list<connection*>::iterator slot;  // in handshaking_ while in_handshake
  // File-system color: the export dropped this client's handles; serve nothing more for it
  // (a request posted before the close would otherwise take new holds nobody releases).
  bool released = false;
};

namespace {

server::source_key source_of(int fd) {
  server::source_key k{};
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return k;  // all zero: one bucket
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    k[10] = k[11] = 0xff;
    std::memcpy(k.data() + 12, &v4->sin_addr, 4);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    std::memcpy(k.data(), &v6->sin6_addr, 16);
    const bool mapped_v4 = std::all_of(k.begin(), k.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
                           k[10] == 0xff && k[11] == 0xff;
    if (!mapped_v4) std::fill(k.begin() + 8, k.end(), 0);  // the /64
  }
  return k;
}

// Whether the hello frame and message 1 are all in the socket (a client sends both in its first
// write, and with TCP_DEFER_ACCEPT it is accepted only once they arrive). One that has not sent
// them is silent or trickling, the cheapest kind to evict. Peeking costs one recv and consumes
// nothing; the crypto color still judges the bytes (forged ones close the connection at once,
// which frees the slot).
bool sent_its_opening(int fd) {
  constexpr std::size_t opening =
      frame_header_size + min_hello_size + frame_header_size + noise_xx_message_overhead[0];
  std::uint8_t peek[opening];
  const ssize_t n = ::recv(fd, peek, sizeof peek, MSG_PEEK | MSG_DONTWAIT);
  return n == static_cast<ssize_t>(opening);
}

// A reply encoded elsewhere, laid out as seal_reply seals it: room for the frame's length and
// type in front, room for the tag after. One copy of a small reply (READ's data never comes
// this way: serve() reads it into its frame).
frame_buffer in_frame(std::span<const std::uint8_t> reply) {
  frame_buffer f;
  f.reserve(frame_message_offset + reply.size() + aead_tag_size);
  f.resize(frame_message_offset);
  f.append(reply);
  return f;
}

}  // namespace

void fit_to_descriptors(std::uint64_t nofile, std::size_t open_files, server_config& cfg) {
  constexpr std::uint64_t overhead = 64;
  const std::uint64_t sockets = std::min<std::uint64_t>(nofile / 2, std::uint64_t{cfg.max_clients} + overhead);
  cfg.max_clients = static_cast<unsigned>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(
      cfg.max_clients, sockets > overhead ? sockets - overhead : 1)));
  if (open_files != 0) {
    cfg.limits.max_open = open_files;
    return;
  }
  const std::uint64_t left = nofile - sockets;
  cfg.limits.max_open = static_cast<std::size_t>(
      std::clamp<std::uint64_t>(left, 16, std::max<std::size_t>(cfg.limits.max_handles, 16)));
}

namespace {
std::uint64_t load(const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); }
}  // namespace

// The numbers that are not counters of their own: the acceptor's sheds (connections it closed at
// once because the descriptor table was full) and the descriptor cache's, read where they live.
#define HUE_SFS_DERIVED(X)                                                                       \
  X("shed", counter, "Connections accepted and closed at once: the descriptor table was full.",  \
    acceptor_ ? acceptor_->shed() : 0)                                                           \
  X("descriptor-cache-hits", counter, "Requests whose file descriptor was open in the cache.",   \
    load(export_.descriptors().hits))                                                            \
  X("descriptor-cache-misses", counter, "Requests that reopened their file by its path.",        \
    load(export_.descriptors().misses))                                                          \
  X("descriptor-cache-evictions", counter,                                                       \
    "Descriptors closed to keep the cache within its capacity.",                                 \
    load(export_.descriptors().evictions))                                                       \
  X("descriptor-cache-capacity", gauge, "Descriptors the cache may keep open.",                  \
    export_.descriptors().capacity())                                                            \
  X("open-files", gauge, "Descriptors the cache holds (as of the last request served).",        \
    open_files_.load(std::memory_order_relaxed))                                                 \
  X("handles", gauge, "Entries in the handle table (as of the last request served).",            \
    handles_.load(std::memory_order_relaxed))

namespace {
void print_handler_costs(std::FILE* to) {
  // The runtime's moving average of each handler's cycles (what the stealing heuristics weigh).
  std::fprintf(to, "sfs: measured handler costs (cycles):");
  for (const hue::handler_info* h : {&read_info, &decrypt_info, &serve_info, &encrypt_info, &write_info})
    std::fprintf(to, " %s %llu", h->name,
                 static_cast<unsigned long long>(h->measured_cost.load(std::memory_order_relaxed)));
  std::fprintf(to, "\n");
}
}  // namespace

void server_counters::append(std::string& line) const {
#define HUE_SFS_PRINT(m, name, type, help) line += " " name " " + std::to_string(load(m));
  HUE_SFS_COUNTERS(HUE_SFS_PRINT)
#undef HUE_SFS_PRINT
}

void server_counters::print(std::FILE* to) const {
  std::string line = "sfs:";
  append(line);
  std::fprintf(to, "%s\n", line.c_str());
  print_handler_costs(to);
}

void server::print_stats(std::FILE* to) const {
  std::string line = "sfs:";
  stats_.append(line);
#define HUE_SFS_PRINT(m, name, help) line += " " name " " + std::to_string(load(export_.counters().m));
  HUE_SFS_EXPORT_COUNTERS(HUE_SFS_PRINT)
#undef HUE_SFS_PRINT
#define HUE_SFS_PRINT(name, type, help, value) line += " " name " " + std::to_string(value);
  HUE_SFS_DERIVED(HUE_SFS_PRINT)
#undef HUE_SFS_PRINT
  std::fprintf(to, "%s\n", line.c_str());
  print_handler_costs(to);
}

// Prometheus' text exposition format (version 0.0.4), from the same lists as the line above:
// sfs_ + the name with '_' for '-', and _total on counters.
std::string server::metrics_text() const {
  apps::exposition out;
  auto one = [&out](std::string_view name, std::string_view type, std::string_view help, std::uint64_t v) {
    std::string metric = "sfs_";
    for (char ch : name) metric += ch == '-' ? '_' : ch;
    if (type == "counter") metric += "_total";
    out.single(metric, type, help, v);
  };
#define HUE_SFS_METRIC(m, name, type, help) one(name, #type, help, load(stats_.m));
  HUE_SFS_COUNTERS(HUE_SFS_METRIC)
#undef HUE_SFS_METRIC
#define HUE_SFS_METRIC(m, name, help) one(name, "counter", help, load(export_.counters().m));
  HUE_SFS_EXPORT_COUNTERS(HUE_SFS_METRIC)
#undef HUE_SFS_METRIC
#define HUE_SFS_METRIC(name, type, help, value) one(name, #type, help, value);
  HUE_SFS_DERIVED(HUE_SFS_METRIC)
#undef HUE_SFS_METRIC
  return out.take();
}

server::server(hue::reactor& io, server_config cfg)
    : io_(io), rt_(io.rt()), cfg_(std::move(cfg)), export_(cfg_.export_dir, cfg_.limits) {
  if (cfg_.max_clients == 0 || cfg_.max_handshakes == 0 || cfg_.max_handshakes_per_source == 0 ||
      cfg_.max_outstanding == 0 || cfg_.max_requests_per_client == 0)
    throw std::invalid_argument("client, handshake, outstanding and request limits must be at least 1");
  if (cfg_.colors == coloring::paper) {
    accept_color_ = 0;
    fs_color_ = 0;
  } else {
    accept_color_ = rt_.new_color();
    fs_color_ = rt_.new_color();
  }
  const int fd = hue::net::listen_tcp(cfg_.at);
  // A connection reaches accept() only once it has sent something (nginx's `deferred`, HAProxy's
  // `defer-accept`): a silent socket waits in the kernel's SYN queue, where it costs a few hundred
  // bytes and no handshake slot, and a client reaches accept() with its hello and message 1
  // already in the buffer (sent_its_opening). Past the delay, or when the SYN queue overflows
  // into syncookies, the kernel hands silent sockets over all the same; eviction handles them.
  const int defer_s = static_cast<int>(
      std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::seconds>(cfg_.handshake_timeout).count()));
  ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof defer_s);  // an optimisation: ignore failure
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
  const source_key src = source_of(fd);
  make_room(src);
  hue::net::set_nodelay(fd);
  auto c = std::make_shared<connection>();
  c->fd = fd;
  c->client = next_client_++;
  c->crypto = rt_.new_color();
  c->net = cfg_.colors == coloring::paper ? hue::color_t{0} : c->crypto;
  c->source = src;
  c->progressed = sent_its_opening(fd);
  channel_options o;
  o.transport = cfg_.transport;
  if (cfg_.use_allow_list)
    o.accept_client = [this](const x25519_key& k) { return cfg_.allow.count(k) != 0; };
  c->ch.emplace(channel::server(cfg_.keys, std::move(o)));
  live_.insert(c);
  c->slot = handshaking_.insert(handshaking_.end(), c.get());
  ++per_source_[src];
  if (++clients_ >= cfg_.max_clients) acceptor_->pause();  // the rest wait in the backlog
  rt_.post(c->net, [this, c] { open(c); }, open_info);
}

// Accept color: frees what a new connection from `src` needs. Each rule evicts a stalled
// handshake rather than refuse the newcomer: a refusal is what a flood of silent sockets wants
// (everyone after it is locked out until its time-outs), while an eviction costs a flood its own
// oldest sockets first. See server.hpp for the order victims are chosen in.
void server::make_room(const source_key& src) {
  for (auto it = handshaking_.begin(); it != handshaking_.end();) {
    connection& c = **it++;  // leave_handshake erases c's entry
    if (c.handshake_done.load(std::memory_order_acquire)) leave_handshake(c);
  }
  if (handshaking_.size() * 2 > cfg_.max_handshakes) {
    // Under pressure: the shorter time-out, swept here (handshaking_ is in accept order) rather
    // than by re-arming every connection's timer.
    const auto cutoff = clock::now() - cfg_.handshake_timeout_under_pressure;
    while (!handshaking_.empty() && handshaking_.front()->accepted_at <= cutoff)
      evict(*handshaking_.front(), stats_.pressure_timeouts);
  }
  if (auto it = per_source_.find(src); it != per_source_.end() && it->second >= cfg_.max_handshakes_per_source) {
    // A source's handshake that shows progress is spared for the pressure time-out's length:
    // a burst of real clients from one address (a load test, a NAT) is admitted over the cap
    // rather than made to evict itself. Other sources are safe either way: a full table evicts
    // from the source holding the most slots first.
    connection* v = pick_victim(&src);
    if (v && (!v->progressed || v->accepted_at <= clock::now() - cfg_.handshake_timeout_under_pressure))
      evict(*v, stats_.source_evictions);
  }
  while (handshaking_.size() >= cfg_.max_handshakes) {
    connection* v = pick_victim(nullptr);
    if (!v) break;
    evict(*v, stats_.evicted_handshakes);
  }
}

// Accept color. Scans at most max_handshakes entries, once per eviction: cheaper than the
// accept4 and the X25519 a handshake costs, so not worth an index.
server::connection* server::pick_victim(const source_key* only) const {
  connection* best = nullptr;
  unsigned best_load = 0;
  for (connection* c : handshaking_) {  // oldest first: ties keep the older
    if (only && c->source != *only) continue;
    const unsigned load = only ? 0 : per_source_.at(c->source);
    if (!best || load > best_load || (load == best_load && best->progressed && !c->progressed)) {
      best = c;
      best_load = load;
    }
  }
  return best;
}

// Accept color: the connection no longer holds a handshake slot (established, closed, evicted).
void server::leave_handshake(connection& c) {
  if (!c.in_handshake) return;
  c.in_handshake = false;
  handshaking_.erase(c.slot);
  auto it = per_source_.find(c.source);
  if (--it->second == 0) per_source_.erase(it);
}

// Accept color: frees the slot now and has the net color close the socket (it owns the fd).
void server::evict(connection& c, std::atomic<std::uint64_t>& why) {
  leave_handshake(c);
  why.fetch_add(1, std::memory_order_relaxed);
  conn_ptr p = c.shared_from_this();
  rt_.post(p->net, [this, p] { close(p); }, close_info);
}

void server::open(const conn_ptr& c) {
  connection* raw = c.get();  // cancelled by close(), on this color
  c->watch = io_.watch(c->fd, hue::readable | hue::writable, c->net,
                       [this, raw](hue::io_events ev) { on_ready(raw->shared_from_this(), ev); },
                       hue::watch_mode::persistent, read_info);
  arm_timer(c, cfg_.handshake_timeout);
}

void server::arm_timer(const conn_ptr& c, clock::duration after) {
  connection* raw = c.get();  // cancelled by close(), on this color
  c->timer = io_.after(std::chrono::ceil<std::chrono::milliseconds>(after), c->net,
                       [this, raw] { on_timer(raw->shared_from_this()); }, timer_info);
}

// Net color: the handshake finished. From here on only the idle time-out applies, counted from
// now, whether it is shorter or longer than what was left of the handshake's.
void server::established(const conn_ptr& c) {
  if (c->closed) return;
  c->established = true;
  c->last_progress = clock::now();
  arm_timer(c, cfg_.idle_timeout);
}

void server::on_timer(const conn_ptr& c) {
  if (c->closed) return;
  if (!c->established) {
    stats_.handshake_timeouts.fetch_add(1, std::memory_order_relaxed);
    return close(c);
  }
  const auto idle = clock::now() - c->last_progress;
  if (idle < cfg_.idle_timeout) return arm_timer(c, cfg_.idle_timeout - idle);
  stats_.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
  // Closed with the authenticated close (reason idle) so the client can tell this from a cut
  // connection. The connection made no progress for a whole time-out: it gets no more time, the
  // socket closes once the frame is handed to the kernel (or at once if its output is stuck).
  c->draining = true;
  rt_.post(c->crypto, [this, c] {
    std::vector<std::uint8_t> frames;
    if (!c->failed && !c->close_sealed) {
      c->close_sealed = true;
      try {
        c->ch->secure().seal_close(frames, close_reason::idle);
      } catch (const protocol_error&) {
        frames.clear();
      }
    }
    c->out_bytes.fetch_add(frames.size(), std::memory_order_acq_rel);
    rt_.post(c->net, [this, c, f = frame_buffer(frames)]() mutable {
      write_socket(c, std::move(f), true);
      if (!c->closed) close(c);
    }, write_info);
  }, close_info);
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
    // What one read() lands in: the worker's, kept (a handler runs to its end on one thread, and
    // the bytes are copied out before it returns). A fresh 64 KiB vector per read zeroed 64 KiB
    // to carry a few dozen bytes of requests; one per connection would cost every idle client.
    thread_local std::vector<std::uint8_t> landing(read_chunk);
    const hue::net::io_result r = hue::net::read_some(c->fd, landing.data(), landing.size());
    if (r.status == hue::net::io_status::would_block) return;
    if (r.status == hue::net::io_status::eof) {
      c->peer_eof = true;
      rt_.post(c->crypto, [this, c] { peer_end(c); }, decrypt_info);
      return;
    }
    if (r.status != hue::net::io_status::ok) return close(c);
    std::vector<std::uint8_t> buf(landing.begin(), landing.begin() + static_cast<std::ptrdiff_t>(r.bytes));
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
  const std::size_t before = c->inbound.fetch_sub(bytes.size(), std::memory_order_acq_rel);
  if (before >= cfg_.max_inbound && before - bytes.size() < cfg_.max_inbound) resume_reading(c);
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
    rt_.post(c->net, [this, c, f = frame_buffer(hs)]() mutable {
      write_socket(c, std::move(f), false);
    },
             write_info);
  }
  if (r.established_now) {
    stats_.established.fetch_add(1, std::memory_order_relaxed);
    c->handshake_done.store(true, std::memory_order_release);
    rt_.post(c->net, [this, c] { established(c); }, est_info);
    rt_.post(accept_color_, [this, c] { leave_handshake(*c); }, est_info);
  } else if (!was_established && !c->hello_seen && c->ch->client_hello()) {
    // A good hello (message 1 comes in the same write from any real client): no longer the
    // cheapest kind of stalled handshake.
    c->hello_seen = true;
    rt_.post(accept_color_, [c] { c->progressed = true; }, est_info);
  }
  for (auto& m : r.messages) {
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    decoded_request d = decode_request(m);
    if (!d.req) {
      stats_.bad_requests.fetch_add(1, std::memory_order_relaxed);
      if (!d.error.id) return fail(c);  // not even an id to answer: the client is broken
      // Queued like any request, so its reply counts against the output bound (an answer sealed
      // here would not: one read can hold thousands of 5-byte requests).
      request id_only;
      id_only.id = *d.error.id;
      c->pending.push_back({std::move(id_only), std::move(d.error.reason)});
      continue;
    }
    if (c->work >= cfg_.max_requests_per_client) {
      // Over its quota: refused, not served (the refusal goes through the queue, in order, so it
      // counts against the output bound), so one client's pipeline cannot grow the server's work
      // without bound. Refusals cost no file-system work, and the queue's own bound (max_queued)
      // still pauses reading a client that sends faster than its refusals drain.
      stats_.request_quota_refusals.fetch_add(1, std::memory_order_relaxed);
      request id_only;
      id_only.id = d.req->id;
      c->pending.push_back({std::move(id_only),
                            "this client has " + std::to_string(c->work) + " requests in flight, its quota",
                            status::too_many_requests});
      continue;
    }
    ++c->work;
    c->pending.push_back({std::move(*d.req), std::nullopt});
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

// Crypto color. The output bound (docs/sfs-protocol.md §4.5): a request leaves `pending` only
// while fewer than max_output sealed bytes wait, and at most max_outstanding are being served,
// so what waits never exceeds max_output + max_outstanding replies (+ the close frame). Replies
// the crypto color writes itself (refusals, `busy`) pass the same test, one at a time.
void server::dispatch(const conn_ptr& c) {
  while (!c->failed && !c->close_sealed && !c->pending.empty() && c->in_flight < cfg_.max_outstanding &&
         c->out_bytes.load(std::memory_order_acquire) < cfg_.max_output) {
    connection::queued_request q = std::move(c->pending.front());
    c->pending.pop_front();
    if (q.refusal) {
      seal_reply(c, in_frame(encode_error(q.r.id, q.refusal_code, *q.refusal)));
      continue;
    }
    if (c->drain_requested) {
      --c->work;
      seal_reply(c, in_frame(encode_error(q.r.id, status::busy, "server shutting down")));
      continue;
    }
    ++c->in_flight;
    rt_.post(fs_color_, [this, c, r = std::move(q.r)]() mutable { serve(c, std::move(r)); }, serve_info);
  }
  const std::size_t before = c->queued.exchange(c->pending.size(), std::memory_order_acq_rel);
  if (before >= cfg_.max_queued && c->pending.size() < cfg_.max_queued) resume_reading(c);
}

// Any color: a back-pressure bound was just released; the net color reads again if it had
// paused and nothing else still holds it back.
void server::resume_reading(const conn_ptr& c) {
  rt_.post(c->net, [this, c] {
    if (!c->closed && c->read_paused && may_read(*c)) {
      c->read_paused = false;
      read_socket(c);
    }
  }, read_info);
}

void server::serve(const conn_ptr& c, request r) {
  if (c->released) return;  // closed: nobody to answer, and no handle may be held for it now
  frame_buffer reply;
  if (r.what == op::read) {
    // The data is read where it will be sealed and sent from: room for the frame's length and
    // type in front, the reply header, the data (and the one byte more read_into asks for),
    // and the tag's room after, so nothing is copied or reallocated on the way to the socket.
    reply.reserve(frame_message_offset + 10 + r.length + std::max<std::size_t>(1, aead_tag_size));
    reply.resize(frame_message_offset);
    export_.read_into(r, reply);
    stats_.reads.fetch_add(1, std::memory_order_relaxed);
    if (reply.size() > frame_message_offset + 4 && reply[frame_message_offset + 4] == 0)
      stats_.bytes_read.fetch_add(reply.size() - frame_message_offset - 10, std::memory_order_relaxed);
  } else if (r.what == op::digest) {
    export_root::digest_started d = export_.digest_start(r);
    if (d.job) {
      rt_.post(c->crypto, [this, c, j = std::move(d.job)] { hash(c, j); }, hash_info);
      return;
    }
    reply = in_frame(d.reply);
  } else {
    reply = in_frame(export_.answer(r, c->client));
  }
  if (reply.size() > frame_message_offset + 4 && reply[frame_message_offset + 4] != 0)
    stats_.error_replies.fetch_add(1, std::memory_order_relaxed);
  handles_.store(export_.handles(), std::memory_order_relaxed);
  open_files_.store(export_.descriptors().size(), std::memory_order_relaxed);
  rt_.post(c->crypto, [this, c, rep = std::move(reply)]() mutable { encrypt(c, std::move(rep)); },
           encrypt_info);
}

// Crypto color: DIGEST's hashing, on the requesting connection's color and not the file-system
// color every client's READs wait for (hashing 1 GB takes about half a second). One step per
// event, so this connection's own replies are sealed in between; the finished digest goes back
// to the file-system color to be cached.
void server::hash(const conn_ptr& c, const std::shared_ptr<digest_job>& j) {
  if (c->failed) return;  // closed: nobody to answer (the job's descriptor closes with it)
  if (!j->step(hash_step)) {
    rt_.post(c->crypto, [this, c, j] { hash(c, j); }, hash_info);
    return;
  }
  rt_.post(fs_color_, [this, j] { export_.digest_finish(*j); }, serve_info);
  const std::vector<std::uint8_t> reply = j->encoded_reply();
  if (reply.size() > 4 && reply[4] != 0) stats_.error_replies.fetch_add(1, std::memory_order_relaxed);
  encrypt(c, in_frame(reply));
}

// File-system color: the client left; its handles go (those no other client holds).
void server::release(const conn_ptr& c) {
  c->released = true;
  export_.release(c->client);
  handles_.store(export_.handles(), std::memory_order_relaxed);
  open_files_.store(export_.descriptors().size(), std::memory_order_relaxed);
}

void server::encrypt(const conn_ptr& c, frame_buffer reply) {
  --c->in_flight;
  --c->work;
  seal_reply(c, std::move(reply));
  dispatch(c);
  finish_if_done(c);
}

// Crypto color: seals one reply where it lies (in_frame's layout) and hands it to the net color.
void server::seal_reply(const conn_ptr& c, frame_buffer frame) {
  if (c->failed || c->close_sealed) return;
  const std::size_t message = frame.size() - frame_message_offset;
  frame.resize(frame.size() + aead_tag_size);  // within the capacity its maker reserved
  try {
    c->ch->secure().sender().seal_in_place(frame.data(), message);
  } catch (const protocol_error&) {
    return fail(c);
  }
  const std::size_t now = c->out_bytes.fetch_add(frame.size(), std::memory_order_acq_rel) + frame.size();
  std::uint64_t peak = stats_.peak_output.load(std::memory_order_relaxed);
  while (now > peak && !stats_.peak_output.compare_exchange_weak(peak, now)) {}
  bool post;
  {
    std::lock_guard l(c->sealed_mu);
    c->sealed.push_back(std::move(frame));
    post = !std::exchange(c->write_posted, true);
  }
  // Order: every frame sealed before a later post to the net color (a close frame) is in a batch
  // whose event was posted before it, and a color runs its events in the order they were posted.
  if (post) rt_.post(c->net, [this, c] { write_sealed(c); }, write_info);
}

// Net color: writes every reply sealed since the last batch.
void server::write_sealed(const conn_ptr& c) {
  std::vector<frame_buffer> batch;
  {
    std::lock_guard l(c->sealed_mu);
    batch.swap(c->sealed);
    c->write_posted = false;
  }
  if (c->closed) return;
  for (frame_buffer& f : batch) c->out.push_back(std::move(f));
  flush(c);
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
      c->ch->secure().seal_close(frames, c->peer_closed ? close_reason::done : close_reason::shutdown);
    } catch (const protocol_error&) {
      frames.clear();
    }
  }
  c->out_bytes.fetch_add(frames.size(), std::memory_order_acq_rel);
  rt_.post(c->net, [this, c, f = frame_buffer(frames)]() mutable {
    write_socket(c, std::move(f), true);
  }, write_info);
}

void server::write_socket(const conn_ptr& c, frame_buffer frames, bool close_after) {
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
  rt_.post(fs_color_, [this, c] { release(c); }, close_info);
  rt_.post(accept_color_, [this, c] {
    leave_handshake(*c);
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
