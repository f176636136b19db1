// apps/sfs/secure/error.hpp — the one exception type of the SFS secure channel.
//
// Every refusal of the channel (a malformed or oversized frame, a failed authentication, a
// low-order key, a wrong HOSTID, a stream cut short) is a `protocol_error` whose `kind()` says
// which, so a server can count refusals by cause and a test can pin the exact one. After any
// protocol_error the object that threw is dead: every later call throws again (kind `state`);
// the caller closes the connection and delivers nothing more.
//
//   try { auto r = channel.open(bytes); ... }
//   catch (const hue::sfs::protocol_error& e) { log(e.what()); close(fd); }
#pragma once

#include <stdexcept>
#include <string>

namespace hue::sfs {

enum class error_kind {
  malformed,       // bytes that do not parse (bad length field, bad name, bad frame type, ...)
  too_large,       // a length over its cap, refused before anything was allocated
  authentication,  // an AEAD tag did not verify: tampering, replay, reorder, drop, wrong keys
  low_order,       // an X25519 public key whose DH output is all zero (low-order or zero point)
  wrong_host,      // the responder's static key does not hash to the HOSTID the client asked for
  truncated,       // the stream ended inside a frame or without the authenticated close
  after_close,     // bytes after the authenticated close, or sealing after seal_close()
  state,           // a call out of order, or on an object that already failed
};

const char* to_string(error_kind kind) noexcept;

class protocol_error : public std::runtime_error {
 public:
  protocol_error(error_kind kind, const std::string& what)
      : std::runtime_error(what), kind_(kind) {}
  error_kind kind() const noexcept { return kind_; }

 private:
  error_kind kind_;
};

}  // namespace hue::sfs
