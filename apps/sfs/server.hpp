// apps/sfs/server.hpp — hue-sfsd, the paper's SFS server on hue: a read-only file service over the
// secure channel (apps/sfs/secure), its handlers colored as the paper describes.
//
// Handlers, per connection (names as the runtime's statistics print them):
//   ReadSocket   net     reads what the socket has, hands it to Decrypt (stops at back-pressure)
//   Decrypt      crypto  the handshake steps and the transport's decryption; decodes requests
//   Serve        fs      the export: handle table, open files, pread, SHA-256 digests
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
//
// Back-pressure (memory per connection is bounded whatever the client does):
//   - at most `max_outstanding` requests are being served or encrypted at once;
//   - decoded requests wait in a queue, and ReadSocket stops reading while that queue holds
//     `max_queued` requests, while `max_inbound` bytes read are not yet decrypted, or while
//     `max_output` sealed bytes are not yet written (a client that stops reading its replies);
//     it resumes when they drain. The idle time-out closes a connection making no progress.
#pragma once

#include "export.hpp"
#include "secure/channel.hpp"
#include "secure/error.hpp"

#include <hue/hue.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace hue::sfs {

enum class coloring { per_connection, paper };

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
  std::chrono::milliseconds handshake_timeout{5'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{5'000};
  std::size_t max_outstanding = 32;
  std::size_t max_queued = 1024;
  std::size_t max_inbound = 256 * 1024;
  std::size_t max_output = 4 * 1024 * 1024;
  transport_options transport{};
  export_limits limits{};
};

struct server_counters {
  std::atomic<std::uint64_t> accepted{0}, shed_handshakes{0}, established{0}, refused{0},
      handshake_timeouts{0}, idle_timeouts{0}, closed{0}, requests{0}, error_replies{0},
      bad_requests{0}, reads{0}, bytes_read{0}, bytes_out{0}, read_pauses{0}, peak_output{0};
  void print(std::FILE* to) const;
};

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
  std::size_t handles() const noexcept { return handles_.load(std::memory_order_relaxed); }

  struct connection;

 private:
  using conn_ptr = std::shared_ptr<connection>;
  void accept(int fd);
  void open(const conn_ptr& c);
  void on_ready(const conn_ptr& c, hue::io_events ev);
  void read_socket(const conn_ptr& c);
  bool may_read(const connection& c) const;
  void decrypt(const conn_ptr& c, std::vector<std::uint8_t> bytes);
  void peer_end(const conn_ptr& c);
  void dispatch(const conn_ptr& c);
  void serve(const conn_ptr& c, request r);
  void encrypt(const conn_ptr& c, std::vector<std::uint8_t> reply, bool counted);
  void finish_if_done(const conn_ptr& c);
  void write_socket(const conn_ptr& c, std::vector<std::uint8_t> frames, bool close_after);
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
  std::atomic<std::size_t> handles_{0};
  std::uint16_t port_ = 0;
  std::unique_ptr<hue::net::acceptor> acceptor_;
  // Accept color only:
  unsigned clients_ = 0, handshakes_ = 0;
  bool draining_ = false;
  std::unordered_set<conn_ptr> live_;
  hue::registration grace_;
};

}  // namespace hue::sfs
