// apps/sfs/secure/keys.hpp — X25519 key pairs and the key files that hold a server's (or a
// client's) long-term identity.
//
//   auto kp = hue::sfs::generate_key_pair();
//   hue::sfs::write_key_file("server.key", kp);      // mode 0600, refuses to overwrite
//   auto again = hue::sfs::read_key_file("server.key");  // refuses a group/world-readable file
//
// Key file format (text, so a person can see what it is; docs/sfs-protocol.md §1.4):
//
//   hue-sfs-key-v1
//   secret <64 lowercase hex digits>
//   public <64 lowercase hex digits>
//
// read_key_file checks that `public` is X25519(secret, 9): a file edited by hand or truncated is
// refused rather than yielding an identity that hashes to some other HOSTID.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <stdexcept>

namespace hue::sfs {

inline constexpr std::size_t key_size = 32;
using x25519_key = std::array<std::uint8_t, key_size>;

// The secret half is wiped (sodium_memzero) when a key_pair is destroyed.
struct key_pair {
  x25519_key secret{};
  x25519_key public_key{};

  key_pair() = default;
  key_pair(const key_pair&) = default;
  key_pair& operator=(const key_pair&) = default;
  ~key_pair();
};

// Calls sodium_init() once; every function of this library calls it, so users need not.
void ensure_sodium();

// A fresh key pair from the operating system's generator (randombytes_buf) and X25519(secret, 9).
key_pair generate_key_pair();

// The X25519 public key of a secret scalar.
x25519_key derive_public_key(const x25519_key& secret);

// Thrown by the key-file functions, with the path and the reason in what().
class key_file_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Creates `path` with mode 0600 (O_EXCL: an existing file, or a symlink, is never overwritten)
// and writes the key pair; on any failure nothing is left behind.
void write_key_file(const std::filesystem::path& path, const key_pair& keys);

// Reads a key file written by write_key_file. Refuses: a file that is not a regular file, one
// readable or writable by group or others ("chmod 600 FILE"), a malformed file, and a public key
// that does not match the secret.
key_pair read_key_file(const std::filesystem::path& path);

}  // namespace hue::sfs
