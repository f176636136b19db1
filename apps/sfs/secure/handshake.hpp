// apps/sfs/secure/handshake.hpp — Noise_XX_25519_ChaChaPoly_SHA256 (Noise rev. 34), written on
// libsodium's primitives: crypto_scalarmult (X25519, all-zero outputs refused), crypto_hash_sha256,
// crypto_auth_hmacsha256 (HKDF), crypto_aead_chacha20poly1305_ietf (cipher_state.hpp).
//
//   XX:  -> e
//        <- e, ee, s, es
//        -> s, se
//
// Message-oriented and socket-free: the caller moves the bytes (framed, frame.hpp), so a server
// can run each step as a handler on the connection's color and tests can drive both ends in memory.
//
//   // client (initiator): abort on a wrong key BEFORE message 3 reveals our own static key
//   auto prologue = make_hello(name);
//   handshake hs(role::initiator, my_keys, prologue,
//                {.accept_remote_static = [&](const x25519_key& k) { return name_matches_key(name, k); }});
//   send(frame(prologue)); send(frame(hs.write_message()));
//   hs.read_message(frame_from_server);      // throws protocol_error(wrong_host) on a mismatch
//   send(frame(hs.write_message()));
//   transport t = hs.split();
//
//   // server (responder)
//   handshake hs(role::responder, server_keys, hello_bytes);
//   hs.read_message(m1); send(frame(hs.write_message())); hs.read_message(m3);
//   // hs.remote_static() is the client's key (allow-list check here); then hs.split()
//
// Each handshake makes fresh ephemeral keys (forward secrecy). All secrets (static copy,
// ephemeral, chaining key, handshake key) are wiped with sodium_memzero on destruction and after
// split(). After a protocol_error the handshake is dead: further calls throw (kind `state`).
#pragma once

#include "cipher_state.hpp"
#include "keys.hpp"
#include "transport.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace hue::sfs {

inline constexpr std::string_view noise_protocol_name = "Noise_XX_25519_ChaChaPoly_SHA256";
inline constexpr std::size_t max_noise_message = 65535;  // Noise §3
// Message sizes with empty payloads: 32, 32 + 48 + 16 = 96, 48 + 16 = 64 bytes.
inline constexpr std::size_t noise_xx_message_overhead[3] = {32, 96, 64};

enum class role { initiator, responder };

struct handshake_options {
  // Initiator only: called inside read_message of message 2 with the responder's static key,
  // once it is authenticated; returning false throws protocol_error(wrong_host) and kills the
  // handshake, so message 3 (which carries our static key) can never be written.
  std::function<bool(const x25519_key&)> accept_remote_static;
  // Responder only: called inside read_message of message 3 with the initiator's static key
  // (the optional client allow-list); false throws protocol_error(wrong_host).
  std::function<bool(const x25519_key&)> accept_initiator_static;
  // For the published test vectors only: use this ephemeral key instead of a fresh one.
  std::optional<key_pair> fixed_ephemeral_for_test_vectors;
};

class handshake {
 public:
  handshake(role r, const key_pair& static_keys, std::span<const std::uint8_t> prologue,
            handshake_options options = {});
  ~handshake();
  handshake(handshake&&) noexcept = default;
  handshake& operator=(handshake&&) noexcept = default;
  handshake(const handshake&) = delete;
  handshake& operator=(const handshake&) = delete;

  // The next message of the pattern, carrying `payload` (encrypted once a key exists: messages
  // 2 and 3). Throws protocol_error(state) when it is the peer's turn, (low_order) when a DH
  // with the peer's key is all zero, (too_large) past 65535 bytes.
  std::vector<std::uint8_t> write_message(std::span<const std::uint8_t> payload = {});
  // Reads the peer's next message and returns its payload. Throws protocol_error: malformed
  // (short), too_large, authentication, low_order, wrong_host (a callback refused), state.
  std::vector<std::uint8_t> read_message(std::span<const std::uint8_t> message);

  role my_role() const noexcept { return role_; }
  bool done() const noexcept { return step_ == 3 && !failed_; }
  bool failed() const noexcept { return failed_; }
  // True when the next call should be write_message (false once done).
  bool my_turn() const noexcept;
  bool has_remote_static() const noexcept { return has_rs_; }
  const x25519_key& remote_static() const;     // throws protocol_error(state) before it is known
  const std::array<std::uint8_t, 32>& handshake_hash() const noexcept { return h_; }

  // After done(): the two CipherStates as (send, receive) for this role (Noise Split()).
  std::pair<cipher_state, cipher_state> split_raw();
  // After done(): the framed transport (transport.hpp) over those keys.
  transport split(transport_options options = {});

 private:
  void mix_hash(std::span<const std::uint8_t> data);
  void mix_key(std::span<const std::uint8_t> ikm);
  void encrypt_and_hash(std::span<const std::uint8_t> plaintext, std::vector<std::uint8_t>& out);
  void decrypt_and_hash(std::span<const std::uint8_t> ciphertext, std::vector<std::uint8_t>& out);
  void dh_into_key(const x25519_key& secret, const x25519_key& remote);
  void fail();
  void wipe() noexcept;

  role role_;
  handshake_options options_;
  key_pair s_;
  key_pair e_;
  x25519_key rs_{};
  x25519_key re_{};
  bool has_rs_ = false;
  bool has_re_ = false;
  std::array<std::uint8_t, 32> ck_{};
  std::array<std::uint8_t, 32> h_{};
  cipher_state cipher_;
  int step_ = 0;  // messages processed so far (0..3)
  bool failed_ = false;
  bool split_done_ = false;
};

}  // namespace hue::sfs
