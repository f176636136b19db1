// apps/sfs/secure/names.hpp — self-certifying names, as in SFS: `host:port:HOSTID`.
//
// HOSTID = base32(SHA-256(host_id_label || u16be(len(location)) || location || server_key)),
// where location is "host:port" (an IPv6 host in brackets, "[::1]:4433"), base32 is RFC 4648's
// alphabet in LOWER case with no '=' padding (52 characters for 32 bytes), and host_id_label is
// the 17 ASCII bytes "hue-sfs-hostid-v1". A client that holds a name needs nothing else to
// authenticate the server: the key the server proves it holds in the handshake must hash to
// HOSTID, so no other server (and no proxy with its own keys) can pose as this one.
//
//   auto n = hue::sfs::parse_name("files.example:4433:" + id);   // throws protocol_error
//   if (!hue::sfs::name_matches_key(n, server_static)) abort_before_message_3();
//   std::string printed = hue::sfs::format_name(n);
//
// Hosts are DNS names or IPv4 literals ([A-Za-z0-9.-], lowered to lower case: DNS names are
// case-insensitive and the hash must not depend on how a user typed one) or bracketed IPv6
// literals (hex digits, ':' and '.'; no zone id). Ports are decimal 1..65535 without leading zeros.
#pragma once

#include "keys.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hue::sfs {

inline constexpr std::string_view host_id_label = "hue-sfs-hostid-v1";
inline constexpr std::size_t host_id_chars = 52;  // ceil(256 / 5)

// RFC 4648 base32, lower-case alphabet "abcdefghijklmnopqrstuvwxyz234567", no padding.
std::string base32_encode(std::span<const std::uint8_t> bytes);
// Accepts upper or lower case; refuses padding, other characters, impossible lengths and
// non-zero trailing bits (so each byte string has exactly one accepted spelling, up to case).
// Throws protocol_error(malformed).
std::vector<std::uint8_t> base32_decode(std::string_view text);

struct sfs_name {
  std::string host;      // without brackets, lower case
  std::uint16_t port = 0;
  std::string host_id;   // 52 lower-case base32 characters
};

// "host:port" with brackets around an IPv6 host: the location hashed into HOSTID.
std::string format_location(std::string_view host, std::uint16_t port);

// HOSTID of a server reachable at host:port with static key `key`.
std::string host_id(std::string_view host, std::uint16_t port, const x25519_key& key);

// The full name of such a server.
sfs_name make_name(std::string_view host, std::uint16_t port, const x25519_key& key);

// Parses "host:port:HOSTID" / "[v6]:port:HOSTID"; throws protocol_error(malformed) with the
// reason. The HOSTID is normalized to lower case.
sfs_name parse_name(std::string_view text);
std::string format_name(const sfs_name& name);

// True when `key` hashes, at the name's location, to the name's HOSTID.
bool name_matches_key(const sfs_name& name, const x25519_key& key);

}  // namespace hue::sfs
