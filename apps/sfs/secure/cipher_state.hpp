// apps/sfs/secure/cipher_state.hpp — Noise's CipherState (rev. 34 §5.1) for ChaChaPoly:
// a 32-byte key k and a 64-bit nonce n, ChaCha20-Poly1305-IETF from libsodium with the 96-bit
// nonce 4 zero bytes || little-endian n, as the Noise spec defines for ChaChaPoly.
//
//   cipher_state c(key);
//   c.encrypt_with_ad(ad, plaintext, out);   // appends ciphertext || 16-byte tag, n += 1
//   c.decrypt_with_ad(ad, ciphertext, out);  // throws protocol_error(authentication); n unchanged
//
// Not copyable: two copies of a key with the same n would encrypt two messages under one nonce.
// The key is wiped (sodium_memzero) on destruction and when moved from.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace hue::sfs {

inline constexpr std::size_t aead_tag_size = 16;
// n = 2^64 - 1 is reserved by Noise (REKEY uses it); reaching it is an error, never a wrap.
inline constexpr std::uint64_t max_nonce = ~std::uint64_t{0};

class cipher_state {
 public:
  cipher_state() = default;  // no key: encrypt/decrypt pass bytes through (handshake start)
  explicit cipher_state(const std::array<std::uint8_t, 32>& key);
  ~cipher_state();
  cipher_state(cipher_state&& other) noexcept;
  cipher_state& operator=(cipher_state&& other) noexcept;
  cipher_state(const cipher_state&) = delete;
  cipher_state& operator=(const cipher_state&) = delete;

  void initialize_key(const std::array<std::uint8_t, 32>& key);  // n = 0
  bool has_key() const noexcept { return has_key_; }
  std::uint64_t nonce() const noexcept { return n_; }
  void set_nonce(std::uint64_t n) noexcept { n_ = n; }

  // `ad` and the input must not point into `out` (it may be reallocated).
  void encrypt_with_ad(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> plaintext,
                       std::vector<std::uint8_t>& out);
  void decrypt_with_ad(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> ciphertext,
                       std::vector<std::uint8_t>& out);
  // Same into a caller's buffer of exactly plaintext.size() + 16 (resp. ciphertext.size() - 16).
  void encrypt_into(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> plaintext,
                    std::uint8_t* out);
  void decrypt_into(std::span<const std::uint8_t> ad, std::span<const std::uint8_t> ciphertext,
                    std::uint8_t* out);

  // Noise Rekey(): k = first 32 bytes of ENCRYPT(k, 2^64 - 1, "", 32 zero bytes); n unchanged.
  void rekey();

 private:
  std::array<std::uint8_t, 32> k_{};
  std::uint64_t n_ = 0;
  bool has_key_ = false;
};

}  // namespace hue::sfs
