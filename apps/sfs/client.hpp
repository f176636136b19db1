// apps/sfs/client.hpp — a blocking SFS client (one connection, one thread): the handshake through
// the secure channel, requests with many outstanding, and whole-file reads checked end to end.
// Used by hue-sfs, hue-multio (one per thread) and the tests.
//
//   sfs::client c(sfs::parse_name("127.0.0.1:4433:abc..."), {});
//   auto root = c.root();
//   auto f = c.lookup(root.handle, "dir/file");          // throws client_failure
//   c.read_file(f.handle, 16, [](std::span<const std::uint8_t> block) { ... });  // in order
//
// Failures are `client_failure`, whose exit code hue-sfs passes on (see `exit_code`).
#pragma once

#include "protocol.hpp"
#include "secure/channel.hpp"
#include "secure/error.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace hue::sfs {

// Exit codes of hue-sfs (and hue-multio), one per kind of failure.
enum class exit_code : int {
  ok = 0,
  local = 1,         // a local file could not be written, ...
  usage = 2,
  connect = 3,       // the server could not be reached
  authentication = 4,// the server's key does not match HOSTID (nothing of ours was revealed)
  channel = 5,       // handshake refused (e.g. our key not allowed), tampering, truncation, time-out
  remote = 6,        // the server answered with an error (not found, refused, ...)
  checksum = 7,      // the data read does not match the server's SHA-256
};

class client_failure : public std::runtime_error {
 public:
  client_failure(exit_code code, const std::string& what) : std::runtime_error(what), code_(code) {}
  exit_code code() const noexcept { return code_; }
  std::optional<status> remote_status;  // for exit_code::remote

 private:
  exit_code code_;
};

struct client_options {
  std::optional<key_pair> keys;  // unset: a fresh key pair for this connection
  transport_options transport{};
  std::chrono::milliseconds timeout{30'000};  // per blocking read or write
};

struct read_stats {
  std::uint64_t bytes = 0;
  std::vector<double> latencies_us;  // one per READ, when asked for
};

class client {
 public:
  client(const sfs_name& server, client_options o = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Sends one request (its id assigned here and returned).
  std::uint32_t send(request r);
  // The next reply message, whichever request it answers (blocking).
  std::vector<std::uint8_t> receive();
  // send + receive, nothing else outstanding; throws client_failure(remote) on an error reply.
  reply call(request r);

  reply root();
  reply lookup(const file_handle& dir, const std::string& path);
  reply getattr(const file_handle& h);
  std::vector<dir_entry> readdir(const file_handle& dir);
  reply digest(const file_handle& h);
  // Reads the whole file with `window` READs outstanding, passing the blocks to `sink` in file
  // order, and returns the SHA-256 of what was read. Latencies recorded when `stats` is given.
  // `keep_going`, when set, is asked before each READ is sent: false stops early (hue-multio).
  std::array<std::uint8_t, 32> read_file(const file_handle& h, unsigned window,
                                         const std::function<void(std::span<const std::uint8_t>)>& sink,
                                         read_stats* stats = nullptr, std::uint32_t block = max_read,
                                         const std::function<bool()>& keep_going = {});
  // Sends the authenticated close and waits for the server's (best effort).
  void close();
  const x25519_key& public_key() const noexcept { return keys_.public_key; }
  // Once the server's authenticated close arrived: the reason it gave (idle, shutdown, done).
  std::optional<close_reason> peer_close_reason();
  // REKEYs so far, sending and receiving (after the handshake).
  std::uint64_t rekeys() { return ch_->secure().sender().rekeys() + ch_->secure().receiver().rekeys(); }

 private:
  std::string closed_message();
  void write_all(std::span<const std::uint8_t> bytes);
  void fill();  // one read() into the channel
  [[noreturn]] void channel_failed(const protocol_error& e);

  int fd_ = -1;
  key_pair keys_;
  std::optional<channel> ch_;
  std::deque<std::vector<std::uint8_t>> inbox_;
  std::uint32_t next_id_ = 1;
  bool closed_by_peer_ = false;
};

// Resolves a user's PATH from the export root: leading '/' are dropped ("/" and "" name the root).
reply resolve(client& c, const std::string& path);
std::string hex(std::span<const std::uint8_t> bytes);

}  // namespace hue::sfs
