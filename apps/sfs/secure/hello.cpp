// apps/sfs/secure/hello.cpp — the client's clear first frame, also the Noise prologue.
#include "hello.hpp"

#include "error.hpp"

#include <algorithm>

namespace hue::sfs {

std::vector<std::uint8_t> make_hello(const sfs_name& name) {
  std::string text = format_name(name);
  if (text.size() > max_name_size)
    throw protocol_error(error_kind::too_large, "SFS name longer than " +
                                                    std::to_string(max_name_size) + " bytes");
  std::vector<std::uint8_t> out(hello_magic.begin(), hello_magic.end());
  out.push_back(protocol_version);
  out.push_back(static_cast<std::uint8_t>(text.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(text.size()));
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

hello parse_hello(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < min_hello_size || bytes.size() > max_hello_size)
    throw protocol_error(error_kind::malformed, "hello: bad size " + std::to_string(bytes.size()));
  if (!std::equal(hello_magic.begin(), hello_magic.end(), bytes.begin()))
    throw protocol_error(error_kind::malformed, "hello: not an SFS client (bad magic)");
  hello h;
  h.version = bytes[7];
  if (h.version != protocol_version)
    throw protocol_error(error_kind::malformed, "hello: unsupported protocol version " +
                                                    std::to_string(h.version) + " (this is 1)");
  std::size_t len = (std::size_t{bytes[8]} << 8) | bytes[9];
  if (len != bytes.size() - min_hello_size)
    throw protocol_error(error_kind::malformed, "hello: name length disagrees with the frame");
  std::string text(bytes.begin() + min_hello_size, bytes.end());
  h.requested = parse_name(text);
  // Only the canonical spelling is accepted, so both ends hash identical prologue bytes and a
  // name has one form in logs.
  if (format_name(h.requested) != text)
    throw protocol_error(error_kind::malformed, "hello: name not in canonical form");
  return h;
}

}  // namespace hue::sfs
