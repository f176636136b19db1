// apps/sfs/secure/cipher_state.cpp — Noise CipherState over libsodium's ChaCha20-Poly1305-IETF.
#include "cipher_state.hpp"

#include "error.hpp"
#include "keys.hpp"

#include <sodium.h>

#include <algorithm>

namespace hue::sfs {

namespace {

// Noise §12.3 (ChaChaPoly): 32 bits of zeros followed by the little-endian 64-bit counter.
void make_nonce(std::uint64_t n, std::uint8_t out[crypto_aead_chacha20poly1305_IETF_NPUBBYTES]) {
  static_assert(crypto_aead_chacha20poly1305_IETF_NPUBBYTES == 12);
  for (int i = 0; i < 4; ++i) out[i] = 0;
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
}

}  // namespace

cipher_state::cipher_state(const std::array<std::uint8_t, 32>& key) { initialize_key(key); }

cipher_state::~cipher_state() { sodium_memzero(k_.data(), k_.size()); }

cipher_state::cipher_state(cipher_state&& other) noexcept
    : k_(other.k_), n_(other.n_), has_key_(other.has_key_) {
  sodium_memzero(other.k_.data(), other.k_.size());
  other.has_key_ = false;
}

cipher_state& cipher_state::operator=(cipher_state&& other) noexcept {
  if (this != &other) {
    k_ = other.k_;
    n_ = other.n_;
    has_key_ = other.has_key_;
    sodium_memzero(other.k_.data(), other.k_.size());
    other.has_key_ = false;
  }
  return *this;
}

void cipher_state::initialize_key(const std::array<std::uint8_t, 32>& key) {
  ensure_sodium();
  k_ = key;
  n_ = 0;
  has_key_ = true;
}

void cipher_state::encrypt_into(std::span<const std::uint8_t> ad,
                                std::span<const std::uint8_t> plaintext, std::uint8_t* out) {
  if (!has_key_) {
    std::copy(plaintext.begin(), plaintext.end(), out);
    return;
  }
  if (n_ == max_nonce)
    throw protocol_error(error_kind::state, "cipher nonce exhausted (2^64 - 1 is reserved)");
  std::uint8_t nonce[12];
  make_nonce(n_, nonce);
  unsigned long long clen = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, plaintext.data(), plaintext.size(),
                                            ad.data(), ad.size(), nullptr, nonce, k_.data());
  ++n_;
}

void cipher_state::decrypt_into(std::span<const std::uint8_t> ad,
                                std::span<const std::uint8_t> ciphertext, std::uint8_t* out) {
  if (!has_key_) {
    std::copy(ciphertext.begin(), ciphertext.end(), out);
    return;
  }
  if (ciphertext.size() < aead_tag_size)
    throw protocol_error(error_kind::malformed, "ciphertext shorter than its tag");
  if (n_ == max_nonce)
    throw protocol_error(error_kind::state, "cipher nonce exhausted (2^64 - 1 is reserved)");
  std::uint8_t nonce[12];
  make_nonce(n_, nonce);
  unsigned long long plen = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(), nonce,
                                                k_.data()) != 0) {
    // libsodium leaves nothing of the forged plaintext behind in `out` that we would use; the
    // nonce stays where it was, as Noise requires.
    throw protocol_error(error_kind::authentication,
                         "authentication failed (tampered, replayed, reordered or dropped data, "
                         "or the wrong key)");
  }
  ++n_;
}

void cipher_state::encrypt_with_ad(std::span<const std::uint8_t> ad,
                                   std::span<const std::uint8_t> plaintext,
                                   std::vector<std::uint8_t>& out) {
  std::size_t at = out.size();
  out.resize(at + plaintext.size() + (has_key_ ? aead_tag_size : 0));
  try {
    encrypt_into(ad, plaintext, out.data() + at);
  } catch (...) {
    out.resize(at);
    throw;
  }
}

void cipher_state::decrypt_with_ad(std::span<const std::uint8_t> ad,
                                   std::span<const std::uint8_t> ciphertext,
                                   std::vector<std::uint8_t>& out) {
  if (has_key_ && ciphertext.size() < aead_tag_size)
    throw protocol_error(error_kind::malformed, "ciphertext shorter than its tag");
  std::size_t at = out.size();
  out.resize(at + ciphertext.size() - (has_key_ ? aead_tag_size : 0));
  try {
    decrypt_into(ad, ciphertext, out.data() + at);
  } catch (...) {
    out.resize(at);
    throw;
  }
}

void cipher_state::rekey() {
  if (!has_key_) throw protocol_error(error_kind::state, "rekey without a key");
  std::uint8_t nonce[12];
  make_nonce(max_nonce, nonce);
  std::uint8_t zeros[32] = {};
  std::uint8_t out[32 + aead_tag_size];
  unsigned long long clen = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, zeros, sizeof zeros, nullptr, 0, nullptr,
                                            nonce, k_.data());
  std::copy(out, out + 32, k_.begin());
  sodium_memzero(out, sizeof out);
}

}  // namespace hue::sfs
