// apps/sfs/secure/handshake.cpp — Noise_XX_25519_ChaChaPoly_SHA256 (Noise rev. 34 §5, §7).
//
// SymmetricState and HandshakeState are folded into one class because XX is the only pattern
// spoken: the three messages are written out token by token below, in the order of the pattern,
// so the code reads line by line next to the XX pattern's table in the Noise Protocol Framework
// (revision 34, section 7.5).
#include "handshake.hpp"

#include "error.hpp"

#include <sodium.h>

#include <cstring>

namespace hue::sfs {

namespace {

using hash32 = std::array<std::uint8_t, 32>;

void hmac(const std::uint8_t* key, std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
          std::uint8_t out[32]) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, 32);
  crypto_auth_hmacsha256_update(&st, a.data(), a.size());
  crypto_auth_hmacsha256_update(&st, b.data(), b.size());
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

// Noise HKDF(chaining_key, input_key_material, 2): RFC 5869 extract-then-expand with HMAC-SHA256.
void hkdf2(const hash32& ck, std::span<const std::uint8_t> ikm, hash32& out1, hash32& out2) {
  std::uint8_t temp[32];
  hmac(ck.data(), ikm, {}, temp);
  const std::uint8_t one = 1, two = 2;
  hmac(temp, std::span(&one, 1), {}, out1.data());
  hmac(temp, out1, std::span(&two, 1), out2.data());
  sodium_memzero(temp, sizeof temp);
}

[[noreturn]] void state_error(const char* what) { throw protocol_error(error_kind::state, what); }

}  // namespace

handshake::handshake(role r, const key_pair& static_keys, std::span<const std::uint8_t> prologue,
                     handshake_options options)
    : role_(r), options_(std::move(options)), s_(static_keys) {
  ensure_sodium();
  // InitializeSymmetric: the protocol name is exactly HASHLEN (32) bytes, so h = name, no padding.
  static_assert(noise_protocol_name.size() == 32);
  std::memcpy(h_.data(), noise_protocol_name.data(), 32);
  ck_ = h_;
  mix_hash(prologue);
  // XX has no pre-messages.
}

handshake::~handshake() { wipe(); }

void handshake::wipe() noexcept {
  sodium_memzero(s_.secret.data(), s_.secret.size());
  sodium_memzero(e_.secret.data(), e_.secret.size());
  sodium_memzero(ck_.data(), ck_.size());
  cipher_ = cipher_state();
}

bool handshake::my_turn() const noexcept {
  if (failed_ || step_ >= 3) return false;
  bool initiator_writes = step_ % 2 == 0;  // messages 1 and 3 are the initiator's
  return initiator_writes == (role_ == role::initiator);
}

const x25519_key& handshake::remote_static() const {
  if (!has_rs_) state_error("the peer's static key is not known yet");
  return rs_;
}

void handshake::fail() {
  failed_ = true;
  wipe();
}

void handshake::mix_hash(std::span<const std::uint8_t> data) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, h_.data(), h_.size());
  crypto_hash_sha256_update(&st, data.data(), data.size());
  crypto_hash_sha256_final(&st, h_.data());
}

void handshake::mix_key(std::span<const std::uint8_t> ikm) {
  hash32 next_ck, temp_k;
  hkdf2(ck_, ikm, next_ck, temp_k);
  ck_ = next_ck;
  cipher_.initialize_key(temp_k);  // HASHLEN is 32: no truncation needed
  sodium_memzero(next_ck.data(), 32);
  sodium_memzero(temp_k.data(), 32);
}

void handshake::encrypt_and_hash(std::span<const std::uint8_t> plaintext,
                                 std::vector<std::uint8_t>& out) {
  std::size_t at = out.size();
  cipher_.encrypt_with_ad(h_, plaintext, out);
  mix_hash(std::span(out).subspan(at));
}

void handshake::decrypt_and_hash(std::span<const std::uint8_t> ciphertext,
                                 std::vector<std::uint8_t>& out) {
  cipher_.decrypt_with_ad(h_, ciphertext, out);
  mix_hash(ciphertext);
}

void handshake::dh_into_key(const x25519_key& secret, const x25519_key& remote) {
  std::uint8_t shared[32];
  // libsodium returns -1 when the result is all zero: the peer sent a low-order point (or zero).
  // Accepting it would make the "secret" a constant anyone can compute.
  if (crypto_scalarmult(shared, secret.data(), remote.data()) != 0) {
    sodium_memzero(shared, sizeof shared);
    throw protocol_error(error_kind::low_order,
                         "X25519 with the peer's key gave all zeros (low-order or zero public key)");
  }
  mix_key(std::span<const std::uint8_t>(shared, 32));
  sodium_memzero(shared, sizeof shared);
}

std::vector<std::uint8_t> handshake::write_message(std::span<const std::uint8_t> payload) {
  if (failed_) state_error("handshake already failed");
  if (!my_turn()) state_error("write_message out of turn");
  std::vector<std::uint8_t> out;
  try {
    auto fresh_e = [&] {
      e_ = options_.fixed_ephemeral_for_test_vectors ? *options_.fixed_ephemeral_for_test_vectors
                                                     : generate_key_pair();
      out.insert(out.end(), e_.public_key.begin(), e_.public_key.end());
      mix_hash(e_.public_key);
    };
    if (step_ == 0) {         // -> e
      fresh_e();
    } else if (step_ == 1) {  // <- e, ee, s, es
      fresh_e();
      dh_into_key(e_.secret, re_);  // ee
      encrypt_and_hash(s_.public_key, out);
      dh_into_key(s_.secret, re_);  // es (responder side: DH(s, re))
    } else {                  // -> s, se
      encrypt_and_hash(s_.public_key, out);
      dh_into_key(s_.secret, re_);  // se (initiator side: DH(s, re))
    }
    encrypt_and_hash(payload, out);
    if (out.size() > max_noise_message)
      throw protocol_error(error_kind::too_large, "handshake message over 65535 bytes");
  } catch (...) {
    fail();
    throw;
  }
  ++step_;
  return out;
}

std::vector<std::uint8_t> handshake::read_message(std::span<const std::uint8_t> message) {
  if (failed_) state_error("handshake already failed");
  if (step_ >= 3 || my_turn()) state_error("read_message out of turn");
  std::vector<std::uint8_t> payload;
  try {
    if (message.size() > max_noise_message)
      throw protocol_error(error_kind::too_large, "handshake message over 65535 bytes");
    if (message.size() < noise_xx_message_overhead[step_])
      throw protocol_error(error_kind::malformed,
                           "handshake message " + std::to_string(step_ + 1) + " too short (" +
                               std::to_string(message.size()) + " bytes)");
    std::size_t at = 0;
    auto take_e = [&] {
      std::memcpy(re_.data(), message.data(), 32);
      has_re_ = true;
      mix_hash(re_);
      at = 32;
    };
    auto take_s = [&] {
      std::vector<std::uint8_t> s;
      decrypt_and_hash(message.subspan(at, 32 + aead_tag_size), s);
      std::memcpy(rs_.data(), s.data(), 32);
      has_rs_ = true;
      at += 32 + aead_tag_size;
    };
    if (step_ == 0) {         // -> e
      take_e();
    } else if (step_ == 1) {  // <- e, ee, s, es
      take_e();
      dh_into_key(e_.secret, re_);  // ee
      take_s();
      dh_into_key(e_.secret, rs_);  // es (initiator side: DH(e, rs))
    } else {                  // -> s, se
      take_s();
      dh_into_key(e_.secret, rs_);  // se (responder side: DH(e, rs))
    }
    decrypt_and_hash(message.subspan(at), payload);
    // The static key is authenticated only now (the payload's tag covers h, which covers it).
    if (step_ == 1 && options_.accept_remote_static && !options_.accept_remote_static(rs_))
      throw protocol_error(error_kind::wrong_host,
                           "the server's key does not match the HOSTID of the requested name");
    if (step_ == 2 && options_.accept_initiator_static && !options_.accept_initiator_static(rs_))
      throw protocol_error(error_kind::wrong_host, "client key not allowed");
  } catch (...) {
    fail();
    throw;
  }
  ++step_;
  return payload;
}

std::pair<cipher_state, cipher_state> handshake::split_raw() {
  if (!done()) state_error("split before the handshake finished");
  if (split_done_) state_error("split called twice");
  hash32 k1, k2;
  hkdf2(ck_, {}, k1, k2);
  cipher_state c1(k1), c2(k2);  // c1: initiator -> responder, c2: responder -> initiator
  sodium_memzero(k1.data(), 32);
  sodium_memzero(k2.data(), 32);
  split_done_ = true;
  wipe();  // nothing of the handshake's secrets outlives the split
  if (role_ == role::initiator) return {std::move(c1), std::move(c2)};
  return {std::move(c2), std::move(c1)};
}

transport handshake::split(transport_options options) {
  auto [send, receive] = split_raw();
  return transport(std::move(send), std::move(receive), options);
}

}  // namespace hue::sfs
