// apps/sfs/server.hpp — hue-sfsd, the paper's SFS server on hue: a read-only file service over the
// secure channel (apps/sfs/secure), its handlers colored as the paper describes.
//
// Handlers, per connection (names as the runtime's statistics print them):
//   ReadSocket   net     reads what the socket has, hands it to Decrypt (stops at back-pressure)
//   Decrypt      crypto  the handshake steps and the transport's decryption; decodes requests
//   Serve        fs      the export: handle table, descriptor cache, pread, DIGEST's cache. Every
//                        use of a cached descriptor and every close of one runs here, on one
//                        color, so none is closed under a reader (descriptor_cache.hpp); DIGEST
//                        reads a dup of its own on the crypto color. A connection's handles are
//                        released here too when it closes (a Close event posted to this color).
//   Hash         crypto  DIGEST's SHA-256, a slice per event, off the shared fs color
//   Encrypt      crypto  seals a reply into transport frames
//   WriteSocket  net     writes sealed frames; resumes reading when the output drains
//   Accept / DecClients / Established   accept   client and handshake counts
// Colorings (`coloring`):
//   per_connection (default): net = crypto = a fresh color per connection (runtime::new_color);
//     fs = one fresh color shared by all connections (the export is not locked: one color owns it).
//   paper: libasync-smp's scheme as measured in the paper: only Decrypt and Encrypt on the
//     connection's fresh color; ReadSocket, WriteSocket, Serve, Accept and the timers on the
//     default color 0.
// Decrypt and Encrypt share the crypto color in both schemes, so the channel needs no lock.
// Hash (DIGEST's SHA-256) runs on that color too in both: it is cryptographic work, and on the
// fs color it would hold up every client's READs.
//
// Back-pressure (memory per connection is bounded whatever the client does):
//   - at most `max_outstanding` requests are being served or encrypted at once;
//   - decoded requests wait in a queue, and ReadSocket stops reading while that queue holds
//     `max_queued` requests, while `max_inbound` bytes read are not yet decrypted, or while
//     `max_output` sealed bytes are not yet written (a client that stops reading its replies);
//     it resumes when they drain. The idle time-out closes a connection making no progress.
//   - a request (or a refusal of one) is dispatched only while fewer than `max_output` sealed
//     bytes wait, so they never exceed max_output + max_outstanding * max_reply_frame + the
//     close frame (the bound docs/sfs-protocol.md §4.5 states; `peak_output` measures it).
//
// Handshake floods (docs/sfs-protocol.md §4.8). A connection costs a slot from accept until its
// handshake completes. When every slot is taken, a new connection evicts a stalled one instead
// of being refused, so an attacker cannot hold the door shut by renewing silent sockets. The
// victim is chosen by, in order: the source holding the most slots (so a flood from few
// addresses only evicts itself), then the least progressed (a client that has not yet sent its
// hello and message 1, against one waiting for message 3), then the oldest. A source at its own
// cap (`max_handshakes_per_source`; IPv4 by address, IPv6 by /64) evicts its own victim, sparing
// for a while one that shows progress (a burst of real clients from one address). While
// more than half the slots are in use, handshakes older than `handshake_timeout_under_pressure`
// are closed as new connections arrive. The bookkeeping lives on the accept color.
#pragma once

#include "export.hpp"
#include "secure/channel.hpp"
#include "secure/error.hpp"

#include <hue/hue.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace hue::sfs {

enum class coloring { per_connection, paper };

// The largest reply frame: a READDIR page (names are added while under 64 KiB, so up to
// 65,535 + 257 bytes of entries, plus a 15-byte header) sealed (+ 21). READ's is 65,567.
inline constexpr std::size_t max_reply_frame = 65'535 + 257 + 15 + transport_overhead;

struct server_config {
  hue::net::endpoint at{"127.0.0.1", 4433};
  std::string name_host;  // the host part of the printed name; empty: at.host
  std::filesystem::path export_dir;
  key_pair keys;
  bool use_allow_list = false;
  std::set<x25519_key> allow;  // client keys accepted when use_allow_list
  coloring colors = coloring::per_connection;
  unsigned max_clients = 1024;
  unsigned max_handshakes = 64;  // connections still in their handshake
  // Slots one source may hold (IPv4 address, IPv6 /64). Picked without data: a quarter of the
  // default table, so at least four sources are needed to fill it, and still room for a test
  // or a NAT to open several at once.
  unsigned max_handshakes_per_source = 16;
  std::chrono::milliseconds handshake_timeout{5'000};
  // Applies while more than half the handshake slots are in use. Picked without data: a
  // handshake is 1.5 round trips and two X25519 on each side, far below a second on any path a
  // file service is used over.
  std::chrono::milliseconds handshake_timeout_under_pressure{1'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{5'000};
  std::size_t max_outstanding = 32;
  // Requests one connection may have in flight (received, not yet answered, including the
  // max_outstanding being served); past it a request is answered too_many_requests at once.
  // Picked without data: 8 times max_outstanding, far above the windows hue's clients use.
  std::size_t max_requests_per_client = 256;
  std::size_t max_queued = 1024;
  std::size_t max_inbound = 256 * 1024;
  std::size_t max_output = 4 * 1024 * 1024;
  transport_options transport{};
  export_limits limits{};
};

// The server's counters, each written once here: the member, its name in the statistics line
// hue-sfsd prints at exit and on SIGUSR1 ("sfs: accepted 3 established 3 ..."), its Prometheus
// type and help (the metric is sfs_ + the name with '_' for '-', + _total for a counter). The
// export's counters (export.hpp) and the descriptor cache's follow on the same line.
#define HUE_SFS_COUNTERS(X)                                                                      \
  X(accepted, "accepted", counter, "Connections accepted.")                                       \
  X(established, "established", counter, "Handshakes completed.")                                 \
  X(refused, "refused", counter, "Handshakes refused: allow-list, wrong name, bad frame.")        \
  X(closed, "closed", counter, "Connections closed.")                                             \
  X(evicted_handshakes, "evicted-handshakes", counter,                                            \
    "Stalled handshakes evicted to make room for a new connection.")                              \
  X(source_evictions, "evicted-at-source-cap", counter,                                           \
    "Stalled handshakes evicted by a new connection from the same source at its cap.")            \
  X(pressure_timeouts, "handshake-timeouts-under-pressure", counter,                              \
    "Handshakes closed by the shorter time-out while more than half the slots were in use.")      \
  X(handshake_timeouts, "handshake-timeouts", counter, "Handshakes closed by their time-out.")    \
  X(idle_timeouts, "idle-timeouts", counter, "Connections closed by the idle time-out.")          \
  X(requests, "requests", counter, "Requests received.")                                          \
  X(reads, "reads", counter, "READs served.")                                                     \
  X(bytes_read, "bytes-read", counter, "Bytes of file data READ replies carried.")                \
  X(error_replies, "error-replies", counter, "Replies with a non-zero status.")                   \
  X(bad_requests, "bad-requests", counter, "Requests that did not decode.")                       \
  X(request_quota_refusals, "request-quota-refusals", counter,                                    \
    "Requests answered too_many_requests (the client had its quota in flight).")                  \
  X(bytes_out, "bytes-out", counter, "Bytes written to clients.")                                 \
  X(read_pauses, "read-pauses", counter, "Times a connection's reading paused (back-pressure).")  \
  X(peak_output, "peak-output-per-connection", gauge,                                             \
    "The most sealed bytes one connection had waiting to be written.")

struct server_counters {
#define HUE_SFS_MEMBER(m, name, type, help) std::atomic<std::uint64_t> m{0};
  HUE_SFS_COUNTERS(HUE_SFS_MEMBER)
#undef HUE_SFS_MEMBER
  void append(std::string& line) const;  // " accepted 3 established 3 ..."
  void print(std::FILE* to) const;       // these counters alone (server::print_stats has all)
};

// Fits the server to a process allowed `nofile` descriptors: at most half of them for sockets
// (every client, and 64 for the listeners, the poller, the runtime's wake-ups, standard streams,
// the acceptors' spares and the metrics port; picked without data), so `max_clients` is lowered
// when it would not fit, and a client past it waits in the listen backlog instead of being
// accepted and shed for want of a descriptor. The rest go to the export's descriptor cache
// (limits.max_open, unless `open_files` is non-zero), at most max_handles (more would never be
// used) and at least 16.
void fit_to_descriptors(std::uint64_t nofile, std::size_t open_files, server_config& cfg);

class server {
 public:
  server(hue::reactor& io, server_config cfg);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  void shutdown();  // any thread: stop accepting, finish in-flight requests, close, stop the runtime
  std::uint16_t port() const noexcept { return port_; }
  std::string name() const;  // host:port:HOSTID
  const server_counters& stats() const noexcept { return stats_; }
  // Any thread. The statistics line (server counters, the export's, the descriptor cache's, the
  // acceptor's sheds), and the same numbers in Prometheus' text format.
  void print_stats(std::FILE* to) const;
  std::string metrics_text() const;
  std::size_t handles() const noexcept { return handles_.load(std::memory_order_relaxed); }

  struct connection;
  // A handshake's source for the per-source cap: the IPv4 address as ::ffff:a.b.c.d, or the
  // IPv6 /64 (the rest zeroed: one host commonly owns a whole /64).
  using source_key = std::array<std::uint8_t, 16>;

 private:
  using conn_ptr = std::shared_ptr<connection>;
  void accept(int fd);
  void make_room(const source_key& src);
  connection* pick_victim(const source_key* only) const;
  void leave_handshake(connection& c);
  void evict(connection& c, std::atomic<std::uint64_t>& why);
  void open(const conn_ptr& c);
  void arm_timer(const conn_ptr& c, std::chrono::steady_clock::duration after);
  void established(const conn_ptr& c);
  void on_ready(const conn_ptr& c, hue::io_events ev);
  void read_socket(const conn_ptr& c);
  bool may_read(const connection& c) const;
  void decrypt(const conn_ptr& c, std::vector<std::uint8_t> bytes);
  void peer_end(const conn_ptr& c);
  void dispatch(const conn_ptr& c);
  void resume_reading(const conn_ptr& c);
  void serve(const conn_ptr& c, request r);
  void release(const conn_ptr& c);
  void encrypt(const conn_ptr& c, frame_buffer reply);
  void seal_reply(const conn_ptr& c, frame_buffer frame);
  void hash(const conn_ptr& c, const std::shared_ptr<digest_job>& j);
  void finish_if_done(const conn_ptr& c);
  void write_socket(const conn_ptr& c, frame_buffer frames, bool close_after);
  void write_sealed(const conn_ptr& c);
  void flush(const conn_ptr& c);
  void fail(const conn_ptr& c);  // crypto color: post a close to the net color
  void close(const conn_ptr& c);
  void on_timer(const conn_ptr& c);
  void drain(const conn_ptr& c);

  hue::reactor& io_;
  hue::runtime& rt_;
  server_config cfg_;
  export_root export_;
  hue::color_t accept_color_, fs_color_;
  server_counters stats_;
  std::atomic<std::size_t> handles_{0}, open_files_{0};
  std::uint16_t port_ = 0;
  std::unique_ptr<hue::net::acceptor> acceptor_;
  // Accept color only:
  std::uint64_t next_client_ = 1;  // client ids for the export (0 is its "no client")
  unsigned clients_ = 0;
  bool draining_ = false;
  std::unordered_set<conn_ptr> live_;
  std::list<connection*> handshaking_;  // in accept order; each owned through live_
  std::map<source_key, unsigned> per_source_;  // slots held, sources with one or more only
  hue::registration grace_;
};

}  // namespace hue::sfs
