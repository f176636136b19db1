// apps/sfs/secure/channel.cpp — hello, handshake frames, then transport, for one connection.
#include "channel.hpp"

#include "error.hpp"

namespace hue::sfs {

channel::channel(role r, const key_pair& keys, channel_options o)
    : role_(r),
      keys_(keys),
      options_(std::move(o)),
      // The first frame a server reads is the hello; every handshake frame after it is a Noise
      // message. The cap is the larger of the two until the hello is in.
      reader_(r == role::responder ? max_hello_size : max_noise_message,
              r == role::responder ? min_hello_size : 0) {}

channel channel::client(const key_pair& my_keys, const sfs_name& server, channel_options o) {
  channel c(role::initiator, my_keys, std::move(o));
  c.server_name_ = server;
  return c;
}

channel channel::server(const key_pair& my_keys, channel_options o) {
  return channel(role::responder, my_keys, std::move(o));
}

void channel::fail_if_failed() const {
  if (failed_) throw protocol_error(error_kind::state, "secure channel already failed");
}

void channel::start(std::vector<std::uint8_t>& out) {
  fail_if_failed();
  if (role_ != role::initiator || started_)
    throw protocol_error(error_kind::state, "start() is the client's first call, once");
  started_ = true;
  try {
    std::vector<std::uint8_t> prologue = make_hello(*server_name_);
    handshake_options ho;
    const sfs_name name = *server_name_;
    ho.accept_remote_static = [name](const x25519_key& k) { return name_matches_key(name, k); };
    ho.fixed_ephemeral_for_test_vectors = options_.fixed_ephemeral_for_tests;
    handshake_.emplace(role::initiator, keys_, prologue, std::move(ho));
    append_frame(out, prologue);
    append_frame(out, handshake_->write_message());
  } catch (...) {
    failed_ = true;
    throw;
  }
}

void channel::on_frame(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out) {
  if (role_ == role::responder) {
    if (!hello_) {
      hello h = parse_hello(frame);
      if (!name_matches_key(h.requested, keys_.public_key))
        throw protocol_error(error_kind::wrong_host,
                             "client asked for " + format_name(h.requested) +
                                 ", which is not this server's key");
      hello_ = std::move(h);
      handshake_options ho;
      ho.accept_initiator_static = options_.accept_client;
      ho.fixed_ephemeral_for_test_vectors = options_.fixed_ephemeral_for_tests;
      handshake_.emplace(role::responder, keys_, frame, std::move(ho));
      reader_.set_limits(max_noise_message, noise_xx_message_overhead[0]);
      return;
    }
    handshake_->read_message(frame);
    if (handshake_->done()) {
      establish();
      return;
    }
    append_frame(out, handshake_->write_message());
    reader_.set_limits(max_noise_message, noise_xx_message_overhead[2]);
    return;
  }
  // Initiator: the only frame before the transport is message 2; the HOSTID check runs inside
  // read_message (accept_remote_static), so a wrong key throws before message 3 exists.
  handshake_->read_message(frame);
  append_frame(out, handshake_->write_message());
  establish();
}

void channel::establish() {
  peer_static_ = handshake_->remote_static();
  transport_.emplace(handshake_->split(options_.transport));
  handshake_.reset();
}

channel::result channel::receive(std::span<const std::uint8_t> bytes,
                                 std::vector<std::uint8_t>& out) {
  fail_if_failed();
  if (role_ == role::initiator && !started_)
    throw protocol_error(error_kind::state, "client: call start() first");
  result r;
  try {
    if (transport_) {
      auto t = transport_->open(bytes);
      r.messages = std::move(t.messages);
      r.closed = t.closed;
      return r;
    }
    reader_.feed(bytes);
    while (!transport_) {
      auto frame = reader_.next_view();
      if (!frame) break;
      on_frame(*frame, out);
    }
    if (transport_) {
      r.established_now = true;
      std::vector<std::uint8_t> rest = reader_.take_rest();
      if (!rest.empty()) {
        auto t = transport_->open(rest);
        r.messages = std::move(t.messages);
        r.closed = t.closed;
      }
    }
  } catch (...) {
    failed_ = true;
    handshake_.reset();
    throw;
  }
  return r;
}

void channel::end_of_stream() {
  fail_if_failed();
  if (!transport_) {
    failed_ = true;
    throw protocol_error(error_kind::truncated, "stream ended during the handshake");
  }
  transport_->end_of_stream();
}

transport& channel::secure() {
  fail_if_failed();
  if (!transport_) throw protocol_error(error_kind::state, "the handshake has not finished");
  return *transport_;
}

const x25519_key& channel::peer_static() const {
  if (!transport_) throw protocol_error(error_kind::state, "the handshake has not finished");
  return peer_static_;
}

}  // namespace hue::sfs
