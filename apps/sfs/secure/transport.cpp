// apps/sfs/secure/transport.cpp — transport frames: seal, open, rekey, authenticated close.
#include "transport.hpp"

#include "error.hpp"

#include <sodium.h>

#include <algorithm>
#include <string>

namespace hue::sfs {

namespace {

void check_options(const transport_options& o) {
  if (o.rekey_interval == 0 || o.rekey_interval >= max_nonce)
    throw std::invalid_argument("transport: rekey_interval must be in 1 .. 2^64 - 2");
  if (o.max_message > 0xFFFFFFFFu - 1 - aead_tag_size)
    throw std::invalid_argument("transport: max_message does not fit a u32 frame length");
}

// Both ends count frames per direction; after each `interval` frames they REKEY that
// direction's key and restart its nonce at 0 (see transport.hpp).
void after_frame(cipher_state& key, std::uint64_t interval, std::uint64_t& rekeys) {
  if (key.nonce() == interval) {
    key.rekey();
    key.set_nonce(0);
    ++rekeys;
  }
}

}  // namespace

const char* to_string(close_reason r) noexcept {
  switch (r) {
    case close_reason::done: return "session done";
    case close_reason::idle: return "idle time-out";
    case close_reason::shutdown: return "server shutting down";
  }
  return "unknown reason";
}

frame_sealer::frame_sealer(cipher_state key, transport_options options)
    : key_(std::move(key)), options_(options) {
  check_options(options_);
}

// The one place a frame is sealed: length and type written in front of a body already in
// place, then encrypted where it lies (libsodium allows m == c) with its tag after it.
void frame_sealer::seal_where_it_lies(std::uint8_t type, std::uint8_t* frame, std::size_t body_size) {
  const std::size_t plain_size = 1 + body_size;
  put_frame_length(frame, static_cast<std::uint32_t>(plain_size + aead_tag_size));
  std::uint8_t* plain = frame + frame_header_size;
  plain[0] = type;
  try {
    key_.encrypt_into(std::span<const std::uint8_t>(frame, frame_header_size),
                      std::span<const std::uint8_t>(plain, plain_size), plain);
  } catch (...) {
    sodium_memzero(plain, plain_size);
    throw;
  }
  ++frames_;
  after_frame(key_, options_.rekey_interval, rekeys_);
}

void frame_sealer::seal_frame(std::uint8_t type, std::span<const std::uint8_t> body,
                              std::vector<std::uint8_t>& out) {
  const std::size_t at = out.size();
  out.resize(at + frame_message_offset + body.size() + aead_tag_size);
  std::uint8_t* frame = out.data() + at;
  std::copy(body.begin(), body.end(), frame + frame_message_offset);
  try {
    seal_where_it_lies(type, frame, body.size());
  } catch (...) {
    out.resize(at);
    throw;
  }
}

void frame_sealer::check_message(std::size_t size) const {
  if (closed_) throw protocol_error(error_kind::after_close, "seal after the close frame");
  if (size > options_.max_message)
    throw protocol_error(error_kind::too_large,
                         "message of " + std::to_string(size) + " bytes over the frame limit of " +
                             std::to_string(options_.max_message));
}

void frame_sealer::seal(std::span<const std::uint8_t> message, std::vector<std::uint8_t>& out) {
  check_message(message.size());
  seal_frame(frame_type_message, message, out);
}

void frame_sealer::seal_in_place(std::uint8_t* frame, std::size_t message_size) {
  try {
    check_message(message_size);
  } catch (...) {
    sodium_memzero(frame + frame_message_offset, message_size);
    throw;
  }
  seal_where_it_lies(frame_type_message, frame, message_size);
}

void frame_sealer::seal_close(std::vector<std::uint8_t>& out, close_reason why) {
  if (closed_) throw protocol_error(error_kind::after_close, "close frame sealed twice");
  const std::uint8_t body[1] = {static_cast<std::uint8_t>(why)};
  seal_frame(frame_type_close,
             why == close_reason::done ? std::span<const std::uint8_t>() : std::span<const std::uint8_t>(body),
             out);
  closed_ = true;
}

frame_opener::frame_opener(cipher_state key, transport_options options)
    : key_(std::move(key)),
      options_(options),
      reader_(1 + options.max_message + aead_tag_size, min_transport_body) {
  check_options(options_);
}

frame_opener::result frame_opener::open(std::span<const std::uint8_t> bytes) {
  if (failed_) throw protocol_error(error_kind::state, "transport already failed");
  result r;
  try {
    if (closed_) {
      if (!bytes.empty())
        throw protocol_error(error_kind::after_close, "data after the authenticated close");
      r.closed = true;
      return r;
    }
    reader_.feed(bytes);
    while (auto body = reader_.next_view()) {
      std::uint8_t header[frame_header_size];
      put_frame_length(header, static_cast<std::uint32_t>(body->size()));
      plain_.resize(body->size() - aead_tag_size);
      key_.decrypt_into(header, *body, plain_.data());
      ++frames_;
      after_frame(key_, options_.rekey_interval, rekeys_);
      std::uint8_t type = plain_[0];
      if (type == frame_type_message) {
        r.messages.emplace_back(plain_.begin() + 1, plain_.end());
      } else if (type == frame_type_close) {
        if (plain_.size() > 2)
          throw protocol_error(error_kind::malformed, "close frame with a body over one byte");
        peer_reason_ = plain_.size() == 2 ? static_cast<close_reason>(plain_[1]) : close_reason::done;
        closed_ = true;
        r.closed = true;
        if (reader_.buffered() != 0)
          throw protocol_error(error_kind::after_close, "data after the authenticated close");
        break;
      } else {
        throw protocol_error(error_kind::malformed,
                             "unknown transport frame type " + std::to_string(type));
      }
    }
  } catch (...) {
    failed_ = true;
    sodium_memzero(plain_.data(), plain_.size());
    throw;
  }
  return r;
}

void frame_opener::end_of_stream() {
  if (failed_) throw protocol_error(error_kind::state, "transport already failed");
  if (!closed_) {
    failed_ = true;
    if (reader_.buffered() != 0)
      throw protocol_error(error_kind::truncated,
                           "stream truncated: it ended inside a frame (" +
                               std::to_string(reader_.buffered()) + " bytes pending)");
    throw protocol_error(error_kind::truncated,
                         "stream truncated: it ended without the authenticated close");
  }
}

transport::transport(cipher_state send, cipher_state receive, transport_options options)
    : sender_(std::move(send), options), receiver_(std::move(receive), options) {}

}  // namespace hue::sfs
