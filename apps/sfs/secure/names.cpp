// apps/sfs/secure/names.cpp — base32, locations, HOSTIDs and `host:port:HOSTID` names.
//
// base32 is written here rather than taken from a library: libsodium has only hex and base64,
// and the 40 lines below are easier to audit than another dependency.
#include "names.hpp"

#include "error.hpp"

#include <sodium.h>

#include <charconv>

namespace hue::sfs {

namespace {

constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

[[noreturn]] void bad_name(const std::string& why) {
  throw protocol_error(error_kind::malformed, "bad SFS name: " + why);
}

int base32_value(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

bool is_dns_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

bool is_v6_char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
         c == '.';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Validates and lowers a host (no brackets); throws protocol_error(malformed).
std::string check_host(std::string_view host) {
  if (host.empty()) bad_name("empty host");
  if (host.size() > 253) bad_name("host longer than 253 characters");
  bool v6 = host.find(':') != std::string_view::npos;
  for (char c : host)
    if (!(v6 ? is_v6_char(c) : is_dns_char(c)))
      bad_name(std::string("character not allowed in a host: '") + c + "'");
  return lower(host);
}

}  // namespace

std::string base32_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(alphabet[(acc >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (5 - bits)) & 31]);
  return out;
}

std::vector<std::uint8_t> base32_decode(std::string_view text) {
  // Valid unpadded lengths leave 0, 2, 4, 5 or 7 characters in the last 8-character group.
  std::size_t rem = text.size() % 8;
  if (rem == 1 || rem == 3 || rem == 6)
    throw protocol_error(error_kind::malformed, "base32: impossible length");
  std::vector<std::uint8_t> out;
  out.reserve(text.size() * 5 / 8);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = base32_value(c);
    if (v < 0)
      throw protocol_error(error_kind::malformed,
                           std::string("base32: character not allowed: '") + c + "'");
    acc = (acc << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>(acc >> (bits - 8)));
      bits -= 8;
    }
    acc &= (1u << bits) - 1;
  }
  if (acc != 0) throw protocol_error(error_kind::malformed, "base32: non-zero trailing bits");
  return out;
}

std::string format_location(std::string_view host, std::uint16_t port) {
  std::string h = lower(host);
  std::string out = h.find(':') != std::string::npos ? "[" + h + "]" : h;
  return out + ":" + std::to_string(port);
}

std::string host_id(std::string_view host, std::uint16_t port, const x25519_key& key) {
  ensure_sodium();
  std::string location = format_location(host, port);
  std::uint8_t len[2] = {static_cast<std::uint8_t>(location.size() >> 8),
                         static_cast<std::uint8_t>(location.size())};
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(host_id_label.data()),
                            host_id_label.size());
  crypto_hash_sha256_update(&st, len, 2);
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(location.data()),
                            location.size());
  crypto_hash_sha256_update(&st, key.data(), key.size());
  std::uint8_t digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, digest);
  return base32_encode(digest);
}

sfs_name make_name(std::string_view host, std::uint16_t port, const x25519_key& key) {
  sfs_name n;
  n.host = check_host(host);
  if (port == 0) bad_name("port 0");
  n.port = port;
  n.host_id = host_id(n.host, port, key);
  return n;
}

sfs_name parse_name(std::string_view text) {
  sfs_name n;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) bad_name("'[' without ']'");
    std::string_view host = text.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos) bad_name("brackets around a non-IPv6 host");
    n.host = check_host(host);
    rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') bad_name("expected ':' after ']'");
    rest.remove_prefix(1);
  } else {
    std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) bad_name("expected host:port:HOSTID");
    n.host = check_host(text.substr(0, colon));
    rest = text.substr(colon + 1);
  }
  std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) bad_name("expected host:port:HOSTID");
  std::string_view port = rest.substr(0, colon);
  if (port.empty() || port.size() > 5 || (port.size() > 1 && port.front() == '0'))
    bad_name("port must be decimal 1..65535 without leading zeros");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    bad_name("port must be decimal 1..65535 without leading zeros");
  n.port = static_cast<std::uint16_t>(value);
  std::string_view id = rest.substr(colon + 1);
  if (id.size() != host_id_chars)
    bad_name("HOSTID must be " + std::to_string(host_id_chars) + " base32 characters");
  std::vector<std::uint8_t> raw = base32_decode(id);  // checks alphabet and trailing bits
  if (raw.size() != 32) bad_name("HOSTID is not 32 bytes");
  n.host_id = lower(id);
  return n;
}

std::string format_name(const sfs_name& name) {
  return format_location(name.host, name.port) + ":" + name.host_id;
}

bool name_matches_key(const sfs_name& name, const x25519_key& key) {
  // HOSTIDs are public: a plain comparison leaks nothing.
  return host_id(name.host, name.port, key) == lower(name.host_id);
}

}  // namespace hue::sfs
