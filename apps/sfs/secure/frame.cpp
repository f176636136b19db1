// apps/sfs/secure/frame.cpp — u32be length framing with the cap checked before buffering.
#include "frame.hpp"

#include "error.hpp"

#include <algorithm>

#include <string>

namespace hue::sfs {

void put_frame_length(std::uint8_t* out, std::uint32_t length) noexcept {
  out[0] = static_cast<std::uint8_t>(length >> 24);
  out[1] = static_cast<std::uint8_t>(length >> 16);
  out[2] = static_cast<std::uint8_t>(length >> 8);
  out[3] = static_cast<std::uint8_t>(length);
}

void append_frame(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> body) {
  if (body.size() > 0xFFFFFFFFu) throw protocol_error(error_kind::too_large, "frame over 4 GiB");
  std::size_t at = out.size();
  out.resize(at + frame_header_size);
  put_frame_length(out.data() + at, static_cast<std::uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
}

frame_reader::frame_reader(std::size_t max_body, std::size_t min_body)
    : max_body_(max_body), min_body_(min_body) {}

void frame_reader::set_limits(std::size_t max_body, std::size_t min_body) {
  max_body_ = max_body;
  min_body_ = min_body;
  check_header();
}

void frame_reader::check_header() {
  if (buffered() < frame_header_size) return;
  const std::uint8_t* p = buffer_.data() + start_;
  std::uint32_t len = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                      (std::uint32_t{p[2]} << 8) | p[3];
  if (len > max_body_)
    throw protocol_error(error_kind::too_large, "frame length " + std::to_string(len) +
                                                    " over the cap of " +
                                                    std::to_string(max_body_));
  if (len < min_body_)
    throw protocol_error(error_kind::malformed, "frame length " + std::to_string(len) +
                                                    " under the minimum of " +
                                                    std::to_string(min_body_));
}

void frame_reader::feed(std::span<const std::uint8_t> bytes) {
  // Compact before growing: consumed frames are not kept, so the buffer holds at most one
  // partial frame (<= cap + 4 bytes) plus what the caller handed in at once.
  if (start_ > 0 && (start_ == buffer_.size() || start_ >= buffer_.size() / 2)) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  // A header completed by these bytes is checked before they are appended past it.
  std::size_t before = buffered();
  if (before < frame_header_size) {
    std::size_t take = std::min(bytes.size(), frame_header_size - before);
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    check_header();
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<std::span<const std::uint8_t>> frame_reader::next_view() {
  if (buffered() < frame_header_size) return std::nullopt;
  check_header();
  const std::uint8_t* p = buffer_.data() + start_;
  std::size_t len = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                    (std::size_t{p[2]} << 8) | p[3];
  if (buffered() < frame_header_size + len) return std::nullopt;
  std::span<const std::uint8_t> body(p + frame_header_size, len);
  start_ += frame_header_size + len;
  // The next frame's header is NOT checked here but on the next call: the caller may change
  // the limits in between (the frame after Noise message 3 is a transport frame, with other
  // bounds; checking it against the handshake's refused a valid first request).
  return body;
}

std::optional<std::vector<std::uint8_t>> frame_reader::next() {
  auto v = next_view();
  if (!v) return std::nullopt;
  return std::vector<std::uint8_t>(v->begin(), v->end());
}

std::vector<std::uint8_t> frame_reader::take_rest() {
  std::vector<std::uint8_t> rest(buffer_.begin() + static_cast<std::ptrdiff_t>(start_),
                                 buffer_.end());
  buffer_.clear();
  start_ = 0;
  return rest;
}

}  // namespace hue::sfs
