// apps/sfs/secure/hello.hpp — the client's first, clear frame: protocol version and the name it
// asked for. The same bytes are the Noise prologue on both sides, so a peer or a proxy that
// changes either (a downgrade, a name swap) makes the handshake fail to authenticate.
//
//   hello layout (docs/sfs-protocol.md §2.1):
//     "HUE-SFS" (7 ASCII bytes) | version u8 (= 1) | u16be name length | name (ASCII host:port:HOSTID)
//
//   auto h = hue::sfs::make_hello(name);              // client: send framed, then message 1
//   auto in = hue::sfs::parse_hello(frame_body);     // server: throws protocol_error(malformed)
//   if (!hue::sfs::name_matches_key(in.requested, my_keys.public_key)) refuse();
#pragma once

#include "names.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace hue::sfs {

inline constexpr std::string_view hello_magic = "HUE-SFS";
inline constexpr std::uint8_t protocol_version = 1;
inline constexpr std::size_t max_name_size = 300;  // 253-byte DNS name + port + HOSTID, rounded up
inline constexpr std::size_t max_hello_size = 7 + 1 + 2 + max_name_size;
inline constexpr std::size_t min_hello_size = 7 + 1 + 2;

struct hello {
  std::uint8_t version = protocol_version;
  sfs_name requested;
};

// The hello (and prologue) bytes for a request of `name` with this library's version.
std::vector<std::uint8_t> make_hello(const sfs_name& name);
// Parses a hello; refuses a wrong magic, another version (no downgrade: only version 1 exists),
// a length that disagrees with the frame, and a name parse_name refuses.
hello parse_hello(std::span<const std::uint8_t> bytes);

}  // namespace hue::sfs
