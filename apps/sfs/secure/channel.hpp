// apps/sfs/secure/channel.hpp — one connection's whole secure channel as a byte-in/byte-out
// state machine: the client's hello, the three Noise_XX messages (each a clear frame), then the
// transport. Socket-free like the rest: the caller reads bytes, hands them to receive(), writes
// whatever receive() appended to `out`, and acts on the messages. handshake.hpp and
// transport.hpp remain usable directly (a server that wants each handshake step as its own
// colored handler); this is the same sequence, written once.
//
//   // client
//   channel c = channel::client(my_keys, parse_name(argv[1]));
//   std::vector<std::uint8_t> out;
//   c.start(out); write(fd, out);                    // hello + message 1
//   loop: n = read(fd, buf); if (n == 0) c.end_of_stream();   // throws unless closed cleanly
//         out.clear(); auto r = c.receive({buf, n}, out); write(fd, out);
//         if (c.established()) c.secure().seal(request, out) ...
//
//   // server
//   channel s = channel::server(server_keys, {.accept_client = allow_list_check});
//   out.clear(); auto r = s.receive(bytes, out); write(fd, out); for (auto& m : r.messages) ...
//
// Refusals are protocol_error (error.hpp); after one, every call throws (kind `state`).
// The server refuses a hello whose name does not hash to its own key at the requested location
// (a client that meant another server), before doing any DH.
#pragma once

#include "handshake.hpp"
#include "hello.hpp"
#include "keys.hpp"
#include "names.hpp"
#include "transport.hpp"

#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace hue::sfs {

struct channel_options {
  transport_options transport{};
  // Server: the optional allow-list of client static keys (false refuses, kind wrong_host).
  std::function<bool(const x25519_key&)> accept_client;
  // Fuzzing and test vectors only: a fixed ephemeral key (handshake_options has the same).
  std::optional<key_pair> fixed_ephemeral_for_tests;
};

class channel {
 public:
  static channel client(const key_pair& my_keys, const sfs_name& server, channel_options o = {});
  static channel server(const key_pair& my_keys, channel_options o = {});

  // Client only, once: appends frame(hello) and frame(message 1) to `out`.
  void start(std::vector<std::uint8_t>& out);

  struct result {
    std::vector<std::vector<std::uint8_t>> messages;  // transport messages, in order
    bool established_now = false;                     // the handshake finished in this call
    bool closed = false;                              // the peer's authenticated close arrived
  };
  // Feeds received bytes; appends any handshake reply to `out`. Bytes after message 3 (or 2)
  // that arrived in the same read are passed to the transport in the same call.
  result receive(std::span<const std::uint8_t> bytes, std::vector<std::uint8_t>& out);
  // The peer closed its side (read returned 0): throws protocol_error(truncated) unless its
  // authenticated close arrived (during the handshake: always truncated).
  void end_of_stream();

  bool established() const noexcept { return transport_.has_value(); }
  bool is_server() const noexcept { return role_ == role::responder; }
  transport& secure();                              // after established()
  const x25519_key& peer_static() const;            // after established()
  // Server: the name the client asked for (after the hello).
  const std::optional<hello>& client_hello() const noexcept { return hello_; }

 private:
  channel(role r, const key_pair& keys, channel_options o);
  void fail_if_failed() const;
  void on_frame(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out);
  void establish();

  role role_;
  key_pair keys_;
  channel_options options_;
  std::optional<sfs_name> server_name_;  // client: whom we asked for
  std::optional<hello> hello_;
  std::optional<handshake> handshake_;
  std::optional<transport> transport_;
  frame_reader reader_;
  x25519_key peer_static_{};
  bool started_ = false;
  bool failed_ = false;
};

}  // namespace hue::sfs
