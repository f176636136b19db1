// fuzz/fuzz_sfs_handshake.cpp — libFuzzer target for the SFS secure channel's handshake path
// (apps/sfs/secure/channel.hpp): the hello, the three Noise_XX messages and the first transport
// frames, as one connection receives them, in arbitrary pieces.
//
// Input layout (fuzz/README.md has the table):
//   byte 0   bit 0     the side under test: 0 the server (the rest is what a client sends),
//                      1 the client (the rest is what a server sends, after the client's start())
//            bits 1-2  arrival: 0 all at once, 1 byte by byte, 2 pieces of 1..8, 3 pieces of 1..512
//            bit 3     server only: an allow-list that admits only the fuzz client's key
//            bit 4     server only: an allow-list that admits nobody
//   the rest the peer's bytes on one connection
//
// All keys are fixed (ephemerals too, through the test-only hook), so a recorded valid
// handshake stays valid and the fuzzer can reach the transport behind it: seeds come from
// make_sfs_seeds.py, which builds them with an independent Noise (python3-dissononce). The
// transport rekeys every 2 frames, so REKEY is reachable from short inputs.
//
// Checked, aborting on a violation:
//   - only protocol_error escapes; after one, every call throws kind `state`;
//   - the stream served in pieces gives the same replies, messages, close and error kind as the
//     stream served at once (the channel's verdict never depends on how bytes were split; after
//     a refusal, pieces may have delivered more of the messages that preceded it);
//   - no message over max_message_size; a message only after the handshake is established;
//   - the client never writes message 3 after refusing the server's key (wrong_host);
//   - at the end, end_of_stream() succeeds exactly when the authenticated close arrived.
#include "channel.hpp"
#include "error.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace hue::sfs;
using bytes = std::vector<std::uint8_t>;

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

// The fuzz identities: secret scalars of one repeated byte (make_sfs_seeds.py uses the same).
key_pair fixed_key(std::uint8_t fill) {
  key_pair kp;
  kp.secret.fill(fill);
  kp.public_key = derive_public_key(kp.secret);
  return kp;
}

struct outcome {
  bytes replies;                 // everything the channel wrote (handshake messages)
  std::vector<bytes> messages;
  bool established = false;
  bool closed = false;
  std::optional<error_kind> error;
  bool clean_end = false;        // end_of_stream() accepted

  bool operator==(const outcome&) const = default;
};

// Piece sizes from a tiny generator, so the split is a function of the input alone.
struct splitter {
  int mode;
  std::uint32_t state = 0x9e3779b9u;
  std::size_t next(std::size_t left) {
    if (mode == 0) return left;
    if (mode == 1) return 1;
    state = state * 1664525u + 1013904223u;
    std::size_t cap = mode == 2 ? 8 : 512;
    return std::min<std::size_t>(left, 1 + (state >> 16) % cap);
  }
};

outcome run(std::uint8_t flags, const std::uint8_t* data, std::size_t size, int arrival) {
  static const key_pair server_static = fixed_key(0x01);
  static const key_pair server_ephemeral = fixed_key(0x02);
  static const key_pair client_static = fixed_key(0x03);
  static const key_pair client_ephemeral = fixed_key(0x04);
  static const sfs_name name = make_name("127.0.0.1", 4433, server_static.public_key);

  const bool test_client = flags & 1;
  channel_options o;
  o.transport.rekey_interval = 2;
  o.fixed_ephemeral_for_tests = test_client ? client_ephemeral : server_ephemeral;
  if (!test_client && (flags & 8))
    o.accept_client = [](const x25519_key& k) { return k == client_static.public_key; };
  if (!test_client && (flags & 16)) o.accept_client = [](const x25519_key&) { return false; };
  channel ch = test_client ? channel::client(client_static, name, o)
                           : channel::server(server_static, o);
  outcome out;
  bytes start;
  if (test_client) ch.start(start);  // deterministic (fixed keys); not part of the comparison

  splitter split{arrival};
  std::size_t at = 0;
  try {
    while (at < size) {
      std::size_t n = split.next(size - at);
      std::size_t before = out.replies.size();
      bool was_established = ch.established();
      try {
        auto r = ch.receive({data + at, n}, out.replies);
        for (auto& m : r.messages) {
          FUZZ_CHECK(m.size() <= max_message_size);
          out.messages.push_back(std::move(m));
        }
        FUZZ_CHECK(r.messages.empty() || ch.established());
        FUZZ_CHECK(r.established_now == (!was_established && ch.established()));
        out.established = ch.established();
        out.closed = out.closed || r.closed;
      } catch (const protocol_error& e) {
        // A client that refused the server's key has written nothing in that call.
        if (test_client && e.kind() == error_kind::wrong_host)
          FUZZ_CHECK(out.replies.size() == before);
        throw;
      }
      at += n;
    }
    try {
      ch.end_of_stream();
      out.clean_end = true;
    } catch (const protocol_error& e) {
      FUZZ_CHECK(e.kind() == error_kind::truncated);
    }
    FUZZ_CHECK(out.clean_end == out.closed);
  } catch (const protocol_error& e) {
    out.error = e.kind();
    out.established = ch.established();
    // Dead after a refusal.
    bool threw_state = false;
    try {
      bytes sink;
      ch.receive({}, sink);
    } catch (const protocol_error& again) {
      threw_state = again.kind() == error_kind::state;
    }
    FUZZ_CHECK(threw_state);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t flags = data[0];
  const int arrival = (flags >> 1) & 3;
  outcome whole = run(flags, data + 1, size - 1, 0);
  // SFS_FUZZ_VERBOSE=1 prints each input's verdict (to see what a seed reaches).
  static const bool verbose = std::getenv("SFS_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "  %s: established=%d messages=%zu closed=%d clean_end=%d error=%s\n",
                 flags & 1 ? "client" : "server", whole.established, whole.messages.size(),
                 whole.closed, whole.clean_end, whole.error ? to_string(*whole.error) : "-");
  if (arrival != 0) {
    outcome pieces = run(flags, data + 1, size - 1, arrival);
    FUZZ_CHECK(pieces.error == whole.error);
    FUZZ_CHECK(pieces.replies == whole.replies);
    FUZZ_CHECK(pieces.established == whole.established);
    if (!whole.error) {
      FUZZ_CHECK(pieces == whole);
    } else {
      // Messages completed in the call that failed are not returned, so pieces may have
      // delivered more before the same refusal: whole's must be a prefix of them.
      FUZZ_CHECK(whole.messages.size() <= pieces.messages.size());
      FUZZ_CHECK(std::equal(whole.messages.begin(), whole.messages.end(), pieces.messages.begin()));
    }
  }
  return 0;
}
