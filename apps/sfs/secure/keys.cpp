// apps/sfs/secure/keys.cpp — key generation and key files.
#include "keys.hpp"

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <algorithm>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace hue::sfs {

key_pair::~key_pair() { sodium_memzero(secret.data(), secret.size()); }

void ensure_sodium() {
  // sodium_init is thread-safe and idempotent; the static keeps the call off the hot path.
  static const int status = sodium_init();
  if (status < 0) throw std::runtime_error("libsodium: sodium_init failed");
}

x25519_key derive_public_key(const x25519_key& secret) {
  ensure_sodium();
  x25519_key pub{};
  if (crypto_scalarmult_base(pub.data(), secret.data()) != 0)
    throw std::runtime_error("X25519: cannot derive a public key");
  return pub;
}

key_pair generate_key_pair() {
  ensure_sodium();
  key_pair kp;
  randombytes_buf(kp.secret.data(), kp.secret.size());
  kp.public_key = derive_public_key(kp.secret);
  return kp;
}

namespace {

constexpr std::string_view file_magic = "hue-sfs-key-v1";

std::string hex(const x25519_key& k) {
  char out[2 * key_size + 1];
  sodium_bin2hex(out, sizeof out, k.data(), k.size());
  return std::string(out, 2 * key_size);
}

std::string errno_text(int err) { return std::strerror(err); }

// Wipes a std::string's bytes before it is freed (it held the secret in hex).
struct wiped_string {
  std::string text;
  ~wiped_string() { sodium_memzero(text.data(), text.size()); }
};

bool parse_hex_line(std::string_view line, std::string_view label, x25519_key& out) {
  if (line.size() != label.size() + 1 + 2 * key_size) return false;
  if (line.substr(0, label.size()) != label || line[label.size()] != ' ') return false;
  std::string_view digits = line.substr(label.size() + 1);
  for (char c : digits)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  size_t len = 0;
  return sodium_hex2bin(out.data(), out.size(), digits.data(), digits.size(), nullptr, &len,
                        nullptr) == 0 &&
         len == key_size;
}

}  // namespace

void write_key_file(const std::filesystem::path& path, const key_pair& keys) {
  ensure_sodium();
  // O_EXCL refuses an existing file and, with O_CREAT, a symlink at `path` (even a dangling one):
  // a key is never written through a link someone else planted.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    throw key_file_error("cannot create key file " + path.string() + ": " + errno_text(err) +
                         (err == EEXIST ? " (refusing to overwrite an existing key)" : ""));
  }
  wiped_string text{std::string(file_magic) + "\nsecret " + hex(keys.secret) + "\npublic " +
                    hex(keys.public_key) + "\n"};
  int err = 0;
  // The umask can only remove bits from 0600; fchmod makes the mode exact anyway.
  if (::fchmod(fd, 0600) != 0) err = errno;
  size_t done = 0;
  while (err == 0 && done < text.text.size()) {
    ssize_t n = ::write(fd, text.text.data() + done, text.text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
    } else {
      done += static_cast<size_t>(n);
    }
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    throw key_file_error("cannot write key file " + path.string() + ": " + errno_text(err));
  }
}

key_pair read_key_file(const std::filesystem::path& path) {
  ensure_sodium();
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw key_file_error("cannot open key file " + path.string() + ": " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw key_file_error("cannot stat key file " + path.string() + ": " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw key_file_error("key file " + path.string() + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw key_file_error("key file " + path.string() + " is accessible by group or others (mode " +
                         mode + "); a secret key must be private: chmod 600 " + path.string());
  }
  wiped_string text;
  text.text.resize(512);
  size_t got = 0;
  for (;;) {
    ssize_t n = ::read(fd, text.text.data() + got, text.text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      throw key_file_error("cannot read key file " + path.string() + ": " + errno_text(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
    if (got == text.text.size()) break;  // larger than any key file: refused below
  }
  ::close(fd);
  std::string_view all(text.text.data(), got);
  std::string_view expect_tail = "\n";
  key_pair kp;
  size_t nl1 = all.find('\n');
  size_t nl2 = nl1 == std::string_view::npos ? nl1 : all.find('\n', nl1 + 1);
  size_t nl3 = nl2 == std::string_view::npos ? nl2 : all.find('\n', nl2 + 1);
  bool ok = nl3 != std::string_view::npos && nl3 + expect_tail.size() == all.size() &&
            all.substr(0, nl1) == file_magic &&
            parse_hex_line(all.substr(nl1 + 1, nl2 - nl1 - 1), "secret", kp.secret) &&
            parse_hex_line(all.substr(nl2 + 1, nl3 - nl2 - 1), "public", kp.public_key);
  if (!ok)
    throw key_file_error("key file " + path.string() + " is malformed (expected \"" +
                         std::string(file_magic) + "\", a secret line and a public line)");
  x25519_key derived = derive_public_key(kp.secret);
  if (sodium_memcmp(derived.data(), kp.public_key.data(), key_size) != 0)
    throw key_file_error("key file " + path.string() +
                         ": the public key does not belong to the secret key");
  return kp;
}

}  // namespace hue::sfs
