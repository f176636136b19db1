// apps/sfs/secure/transport.hpp — the encrypted, authenticated byte stream after the handshake.
//
// Frame (docs/sfs-protocol.md §3):
//   u32be L | ChaCha20-Poly1305-IETF(key, nonce = 0x00000000 || u64le(n), ad = the 4 length bytes,
//                                    plaintext = type u8 || body)            (L = 1 + |body| + 16)
//   type 0x00 = a message (body 0..max_message bytes), type 0x01 = close (body empty, or one byte:
//   why the sender closes, `close_reason`).
// n is implicit: each direction counts its frames from 0, so a frame replayed, reordered, dropped
// or moved to another session fails authentication. After `rekey_interval` frames in a direction
// both ends apply Noise REKEY to that direction's key and restart n at 0, so n never comes near
// 2^64 - 1 (the fresh key makes the restarted nonces safe). The close frame authenticates the end
// of the stream: a stream that ends without it, or inside a frame, is reported as truncated.
//
// Sending and receiving share nothing: `sender()` and `receiver()` may be used from two threads
// (or two hue colors) at once, which lets a server color decryption and encryption separately.
//
//   transport t = hs.split();
//   std::vector<std::uint8_t> out;
//   t.seal(request, out);  write(fd, out);
//   auto r = t.open(bytes_just_read);          // throws protocol_error on any failure
//   for (auto& m : r.messages) handle(m);
//   if (r.closed) ...;                          // peer finished cleanly
//   on EOF: t.end_of_stream();                  // throws protocol_error(truncated) unless closed
#pragma once

#include "cipher_state.hpp"
#include "frame.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace hue::sfs {

// Largest message body in one transport frame: a 64 KiB READ block plus its reply header fits
// with room to spare. A protocol constant: a receiver refuses a frame longer than
// frame_header_size + 1 + max_message_size + 16 before buffering it.
inline constexpr std::size_t max_message_size = 128 * 1024;
inline constexpr std::size_t transport_overhead = frame_header_size + 1 + aead_tag_size;
// Bytes before the message in a frame: its length and its type. A caller that builds a message
// this far into a buffer, with aead_tag_size bytes free after it, has it sealed where it lies
// (frame_sealer::seal_in_place) and sends that buffer as it is.
inline constexpr std::size_t frame_message_offset = frame_header_size + 1;
inline constexpr std::size_t min_transport_body = 1 + aead_tag_size;
// Frames per key in one direction before REKEY. Picked without data: 2^20 frames of up to
// 128 KiB is 128 GiB per key, far inside ChaCha20-Poly1305's limits, and the REKEY itself costs
// one 32-byte encryption per million frames. A protocol constant; tests lower it on both ends.
inline constexpr std::uint64_t default_rekey_interval = std::uint64_t{1} << 20;

inline constexpr std::uint8_t frame_type_message = 0x00;
inline constexpr std::uint8_t frame_type_close = 0x01;

// Why a sender closes (the close frame's optional body byte). `done` is also what an empty body
// means. A receiver reports any other value as it is (a later version may add reasons), so only
// a body longer than one byte is malformed.
enum class close_reason : std::uint8_t {
  done = 0,      // the session is over: the answer to the peer's close, or a client finishing
  idle = 1,      // the server closes a connection that made no progress for its idle time-out
  shutdown = 2,  // the server is shutting down (every request it read was answered)
};
const char* to_string(close_reason r) noexcept;  // "idle time-out", ...; "reason N" if unknown

struct transport_options {
  std::size_t max_message = max_message_size;
  std::uint64_t rekey_interval = default_rekey_interval;  // >= 1; both ends must agree
};

// One direction, sending.
class frame_sealer {
 public:
  frame_sealer(cipher_state key, transport_options options);
  // Appends one frame carrying `message` (at most options.max_message bytes, else
  // protocol_error(too_large)). Throws protocol_error(after_close) after seal_close().
  void seal(std::span<const std::uint8_t> message, std::vector<std::uint8_t>& out);
  // The same frame, made in `frame` itself: the message lies at frame + frame_message_offset,
  // `message_size` bytes, and aead_tag_size writable bytes follow it. Writes the length and type
  // in front, encrypts the message where it is and the tag after it: frame[0 ..
  // frame_message_offset + message_size + aead_tag_size) is then the frame on the wire. No copy,
  // no allocation (what a READ reply read straight into its frame needs). Throws as seal(); on a
  // throw the message bytes are wiped.
  void seal_in_place(std::uint8_t* frame, std::size_t message_size);
  // Appends the authenticated close frame; nothing can be sealed after it. `done` is sealed with
  // an empty body (what version 1 peers without reasons send), any other reason as one byte.
  void seal_close(std::vector<std::uint8_t>& out, close_reason why = close_reason::done);
  bool close_sealed() const noexcept { return closed_; }
  std::uint64_t frames() const noexcept { return frames_; }
  std::uint64_t rekeys() const noexcept { return rekeys_; }

 private:
  void seal_frame(std::uint8_t type, std::span<const std::uint8_t> body,
                  std::vector<std::uint8_t>& out);
  void check_message(std::size_t size) const;
  void seal_where_it_lies(std::uint8_t type, std::uint8_t* frame, std::size_t body_size);
  cipher_state key_;
  transport_options options_;
  std::uint64_t frames_ = 0;
  std::uint64_t rekeys_ = 0;
  bool closed_ = false;
};

// One direction, receiving.
class frame_opener {
 public:
  frame_opener(cipher_state key, transport_options options);

  struct result {
    std::vector<std::vector<std::uint8_t>> messages;  // in order
    bool closed = false;                              // the authenticated close arrived
  };
  // Feeds received bytes (any split); returns the messages completed by them. Throws
  // protocol_error: too_large / malformed (length), authentication (tag), malformed (type),
  // after_close (any byte after the close frame). After a throw every call throws (state).
  result open(std::span<const std::uint8_t> bytes);
  // The peer's stream ended (read() returned 0). Throws protocol_error(truncated) unless the
  // close frame arrived and no partial frame is pending.
  void end_of_stream();
  bool closed() const noexcept { return closed_; }
  // After closed(): the reason the peer gave (done when its close frame had no body).
  close_reason peer_close_reason() const noexcept { return peer_reason_; }
  std::uint64_t frames() const noexcept { return frames_; }
  std::uint64_t rekeys() const noexcept { return rekeys_; }

 private:
  cipher_state key_;
  transport_options options_;
  frame_reader reader_;
  close_reason peer_reason_ = close_reason::done;
  std::vector<std::uint8_t> plain_;
  std::uint64_t frames_ = 0;
  std::uint64_t rekeys_ = 0;
  bool closed_ = false;
  bool failed_ = false;
};

class transport {
 public:
  transport(cipher_state send, cipher_state receive, transport_options options = {});

  void seal(std::span<const std::uint8_t> message, std::vector<std::uint8_t>& out) {
    sender_.seal(message, out);
  }
  void seal_close(std::vector<std::uint8_t>& out, close_reason why = close_reason::done) {
    sender_.seal_close(out, why);
  }
  using result = frame_opener::result;
  result open(std::span<const std::uint8_t> bytes) { return receiver_.open(bytes); }
  void end_of_stream() { receiver_.end_of_stream(); }
  bool closed() const noexcept { return receiver_.closed(); }

  frame_sealer& sender() noexcept { return sender_; }
  frame_opener& receiver() noexcept { return receiver_; }

 private:
  frame_sealer sender_;
  frame_opener receiver_;
};

}  // namespace hue::sfs
