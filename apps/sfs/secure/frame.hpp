// apps/sfs/secure/frame.hpp — the length-prefixed framing every SFS byte stream uses.
//
// A frame is a u32 big-endian length followed by that many bytes. The hello and the three Noise
// handshake messages travel as clear frames; transport frames carry AEAD ciphertext (transport.hpp).
// `frame_reader` gathers a stream that arrives in arbitrary pieces into frames, checking each
// length against the reader's cap (and minimum) as soon as its 4 bytes are in, BEFORE any byte of
// the body is buffered for it: a length of 0xFFFFFFFF costs the peer a refusal, not 4 GiB.
//
//   frame_reader in(max_handshake_frame);
//   in.feed(bytes_just_read);
//   while (auto body = in.next()) handle(*body);            // throws protocol_error(too_large)
//   std::vector<std::uint8_t> rest = in.take_rest();         // hand the tail to the next phase
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace hue::sfs {

inline constexpr std::size_t frame_header_size = 4;

// Appends u32be(body.size()) || body to `out`. Throws protocol_error(too_large) past 2^32 - 1.
void append_frame(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> body);
// Writes the 4-byte big-endian length at `out[0..3]`.
void put_frame_length(std::uint8_t* out, std::uint32_t length) noexcept;

class frame_reader {
 public:
  // Frames whose body is shorter than `min_body` are malformed; longer than `max_body`, too large.
  explicit frame_reader(std::size_t max_body, std::size_t min_body = 0);

  // Takes the bytes; checks the next frame's length as soon as it is complete (throws).
  void feed(std::span<const std::uint8_t> bytes);
  // The next complete frame body, or nothing until more bytes arrive.
  std::optional<std::vector<std::uint8_t>> next();
  // Same, without copying: a view valid until the next call on this reader.
  std::optional<std::span<const std::uint8_t>> next_view();
  // Bytes received but not yet returned as frames (a partial frame, or frames of the next phase).
  std::size_t buffered() const noexcept { return buffer_.size() - start_; }
  std::vector<std::uint8_t> take_rest();
  void set_limits(std::size_t max_body, std::size_t min_body);

 private:
  void check_header();
  std::vector<std::uint8_t> buffer_;
  std::size_t start_ = 0;
  std::size_t max_body_;
  std::size_t min_body_;
};

}  // namespace hue::sfs
