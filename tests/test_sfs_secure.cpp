// The SFS secure channel (apps/sfs/secure): names, key files, the Noise_XX handshake against the
// published vectors, and every attack on the transport the issue lists, each expecting a
// protocol_error of a precise kind and nothing delivered. One behaviour per test.
#include "channel.hpp"
#include "error.hpp"
#include "frame.hpp"
#include "handshake.hpp"
#include "hello.hpp"
#include "keys.hpp"
#include "names.hpp"
#include "transport.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace hue::sfs;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes from_hex(const std::string& h) {
  if (h == "-") return {};
  bytes out(h.size() / 2);
  size_t len = 0;
  if (sodium_hex2bin(out.data(), out.size(), h.data(), h.size(), nullptr, &len, nullptr) != 0 ||
      len != out.size())
    throw std::runtime_error("bad hex in vector file: " + h);
  return out;
}

bytes text(std::string_view s) { return bytes(s.begin(), s.end()); }

key_pair pair_from_secret(const bytes& secret) {
  key_pair kp;
  std::copy(secret.begin(), secret.end(), kp.secret.begin());
  kp.public_key = derive_public_key(kp.secret);
  return kp;
}

#define EXPECT_PROTOCOL_ERROR(stmt, expected_kind)                                   \
  do {                                                                               \
    try {                                                                            \
      stmt;                                                                          \
      ADD_FAILURE() << "no protocol_error from: " #stmt;                             \
    } catch (const protocol_error& e_) {                                             \
      EXPECT_EQ(std::string(to_string(e_.kind())), to_string(expected_kind)) << e_.what(); \
    }                                                                                \
  } while (0)

// ---- published test vectors ----------------------------------------------------------------

struct vector_case {
  std::string name;
  std::map<std::string, bytes> fields;
  std::vector<std::pair<bytes, bytes>> messages;  // payload, ciphertext
};

std::vector<vector_case> load_vectors() {
  const char* dir = std::getenv("SFS_TEST_DATA");
  std::string path = std::string(dir ? dir : "tests/data") + "/noise_xx_25519_chachapoly_sha256.vectors";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<vector_case> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string key, a, b;
    ls >> key >> a >> b;
    if (key == "vector") {
      out.push_back({a, {}, {}});
    } else if (key == "message") {
      out.back().messages.emplace_back(from_hex(a), from_hex(b));
    } else if (key != "end") {
      out.back().fields[key] = from_hex(a);
    }
  }
  return out;
}

TEST(sfs_noise_vectors, published_xx_vectors_pass_for_both_roles) {
  auto vectors = load_vectors();
  ASSERT_EQ(vectors.size(), 2u);  // cacophony's and snow's
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.name);
    const bytes& prologue = v.fields.at("prologue");
    handshake_options io, ro;
    io.fixed_ephemeral_for_test_vectors = pair_from_secret(v.fields.at("init_ephemeral"));
    ro.fixed_ephemeral_for_test_vectors = pair_from_secret(v.fields.at("resp_ephemeral"));
    handshake init(role::initiator, pair_from_secret(v.fields.at("init_static")), prologue, io);
    handshake resp(role::responder, pair_from_secret(v.fields.at("resp_static")), prologue, ro);
    ASSERT_GE(v.messages.size(), 4u);
    for (int i = 0; i < 3; ++i) {
      handshake& w = i % 2 == 0 ? init : resp;
      handshake& r = i % 2 == 0 ? resp : init;
      EXPECT_EQ(w.write_message(v.messages[i].first), v.messages[i].second) << "message " << i;
      EXPECT_EQ(r.read_message(v.messages[i].second), v.messages[i].first) << "message " << i;
    }
    ASSERT_TRUE(init.done());
    ASSERT_TRUE(resp.done());
    if (v.fields.count("handshake_hash")) {
      const bytes& hh = v.fields.at("handshake_hash");
      EXPECT_EQ(bytes(init.handshake_hash().begin(), init.handshake_hash().end()), hh);
    }
    EXPECT_EQ(init.handshake_hash(), resp.handshake_hash());
    auto [i_send, i_recv] = init.split_raw();
    auto [r_send, r_recv] = resp.split_raw();
    for (size_t i = 3; i < v.messages.size(); ++i) {
      // The published files keep alternating after the handshake: even indexes are the
      // initiator's, so the first transport message (index 3) is the responder's.
      bool from_init = i % 2 == 0;
      cipher_state& send = from_init ? i_send : r_send;
      cipher_state& recv = from_init ? r_recv : i_recv;
      bytes c, p;
      send.encrypt_with_ad({}, v.messages[i].first, c);
      EXPECT_EQ(c, v.messages[i].second) << "transport message " << i;
      recv.decrypt_with_ad({}, c, p);
      EXPECT_EQ(p, v.messages[i].first);
    }
  }
}

// ---- names ---------------------------------------------------------------------------------

TEST(sfs_names, base32_matches_rfc4648_lowercase_unpadded) {
  // RFC 4648 §10 vectors, lower-cased, padding removed.
  const std::pair<const char*, const char*> cases[] = {
      {"", ""}, {"f", "my"}, {"fo", "mzxq"}, {"foo", "mzxw6"}, {"foob", "mzxw6yq"},
      {"fooba", "mzxw6ytb"}, {"foobar", "mzxw6ytboi"}};
  for (auto [plain, enc] : cases) {
    EXPECT_EQ(base32_encode(text(plain)), enc);
    EXPECT_EQ(base32_decode(enc), text(plain));
  }
  EXPECT_EQ(base32_decode("MZXW6YTBOI"), text("foobar"));
  EXPECT_PROTOCOL_ERROR(base32_decode("mzxw6ytboi======"), error_kind::malformed);
  EXPECT_PROTOCOL_ERROR(base32_decode("mzxw6ytboj"), error_kind::malformed);  // trailing bits
  EXPECT_PROTOCOL_ERROR(base32_decode("m"), error_kind::malformed);
  EXPECT_PROTOCOL_ERROR(base32_decode("mzx1"), error_kind::malformed);
}

TEST(sfs_names, host_id_is_sha256_over_label_location_and_key) {
  key_pair kp = generate_key_pair();
  std::string loc = "files.example:4433";
  bytes input = text(host_id_label);
  input.push_back(0);
  input.push_back(static_cast<std::uint8_t>(loc.size()));
  input.insert(input.end(), loc.begin(), loc.end());
  input.insert(input.end(), kp.public_key.begin(), kp.public_key.end());
  std::uint8_t digest[32];
  crypto_hash_sha256(digest, input.data(), input.size());
  std::string id = host_id("Files.Example", 4433, kp.public_key);
  EXPECT_EQ(id, base32_encode(digest));
  EXPECT_EQ(id.size(), host_id_chars);
  // Another location or another key gives another HOSTID.
  EXPECT_NE(id, host_id("files.example", 4434, kp.public_key));
  EXPECT_NE(id, host_id("files.example", 4433, generate_key_pair().public_key));
}

TEST(sfs_names, parse_and_format_round_trip_with_ipv6_in_brackets) {
  key_pair kp = generate_key_pair();
  for (auto host : {"127.0.0.1", "files.example", "::1", "fe80::1:2"}) {
    sfs_name n = make_name(host, 4433, kp.public_key);
    std::string s = format_name(n);
    if (std::string(host).find(':') != std::string::npos) {
      EXPECT_EQ(s.substr(0, 1), "[");
    }
    sfs_name back = parse_name(s);
    EXPECT_EQ(back.host, host);
    EXPECT_EQ(back.port, 4433);
    EXPECT_EQ(back.host_id, n.host_id);
    EXPECT_TRUE(name_matches_key(back, kp.public_key));
    EXPECT_FALSE(name_matches_key(back, generate_key_pair().public_key));
  }
  std::string id = host_id("h", 1, kp.public_key);
  std::string upper = id;
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(parse_name("h:1:" + upper).host_id, id);
}

TEST(sfs_names, malformed_names_are_refused) {
  std::string id = host_id("h", 1, generate_key_pair().public_key);
  for (const std::string& bad : std::vector<std::string>{"", "h", "h:1", ":1:" + id, "h::" + id, "h:0:" + id, "h:65536:" + id,
                          "h:01:" + id, "h:1:" + id.substr(1), "h:1:" + id + "a", "h/x:1:" + id,
                          "[::1:1:" + id, "[h]:1:" + id, "[::1]1:" + id, "h:1:" + id + "=",
                          "h:-1:" + id, "[:::]:1:" + id, "[1:2]:1:" + id, std::string("h\0x:1:", 6) + id}) {
    EXPECT_PROTOCOL_ERROR(parse_name(bad), error_kind::malformed);
  }
}

// ---- key files -----------------------------------------------------------------------------

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    char tmpl[] = "/tmp/sfs-secure-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

TEST(sfs_keys, key_file_is_0600_and_round_trips) {
  temp_dir d;
  key_pair kp = generate_key_pair();
  auto p = d.path / "server.key";
  write_key_file(p, kp);
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  key_pair back = read_key_file(p);
  EXPECT_EQ(back.secret, kp.secret);
  EXPECT_EQ(back.public_key, kp.public_key);
}

TEST(sfs_keys, write_refuses_to_overwrite_a_file_or_follow_a_symlink) {
  temp_dir d;
  auto p = d.path / "k";
  write_key_file(p, generate_key_pair());
  key_pair before = read_key_file(p);
  EXPECT_THROW(write_key_file(p, generate_key_pair()), key_file_error);
  EXPECT_EQ(read_key_file(p).secret, before.secret);
  auto link = d.path / "link";
  std::filesystem::create_symlink(d.path / "target", link);
  EXPECT_THROW(write_key_file(link, generate_key_pair()), key_file_error);
  EXPECT_FALSE(std::filesystem::exists(d.path / "target"));
}

TEST(sfs_keys, read_refuses_group_or_world_readable_files_clearly) {
  temp_dir d;
  auto p = d.path / "k";
  write_key_file(p, generate_key_pair());
  ASSERT_EQ(::chmod(p.c_str(), 0644), 0);
  try {
    read_key_file(p);
    ADD_FAILURE() << "a 0644 key file was accepted";
  } catch (const key_file_error& e) {
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0644"), std::string::npos) << e.what();
  }
  ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
  EXPECT_THROW(read_key_file(p), key_file_error);
}

TEST(sfs_keys, read_refuses_malformed_and_mismatched_files) {
  temp_dir d;
  auto write = [&](const std::string& name, const std::string& body) {
    auto p = d.path / name;
    std::ofstream(p) << body;
    ::chmod(p.c_str(), 0600);
    return p;
  };
  key_pair a = generate_key_pair(), b = generate_key_pair();
  auto hex = [](const x25519_key& k) {
    char out[65];
    sodium_bin2hex(out, sizeof out, k.data(), k.size());
    return std::string(out);
  };
  EXPECT_NO_THROW(read_key_file(write("good", "hue-sfs-key-v1\nsecret " + hex(a.secret) +
                                                  "\npublic " + hex(a.public_key) + "\n")));
  EXPECT_THROW(read_key_file(write("mismatch", "hue-sfs-key-v1\nsecret " + hex(a.secret) +
                                                   "\npublic " + hex(b.public_key) + "\n")),
               key_file_error);
  EXPECT_THROW(read_key_file(write("empty", "")), key_file_error);
  EXPECT_THROW(read_key_file(write("short", "hue-sfs-key-v1\nsecret " + hex(a.secret) + "\n")),
               key_file_error);
  EXPECT_THROW(read_key_file(write("magic", "hue-sfs-key-v2\nsecret " + hex(a.secret) +
                                                "\npublic " + hex(a.public_key) + "\n")),
               key_file_error);
  EXPECT_THROW(read_key_file(d.path / "missing"), key_file_error);
  EXPECT_THROW(read_key_file(d.path), key_file_error);  // a directory
}

// ---- hello ---------------------------------------------------------------------------------

TEST(sfs_hello, round_trips_and_refuses_other_versions_and_magic) {
  sfs_name n = make_name("::1", 4433, generate_key_pair().public_key);
  bytes h = make_hello(n);
  EXPECT_EQ(bytes(h.begin(), h.begin() + 7), text("HUE-SFS"));
  EXPECT_EQ(h[7], 1);
  hello back = parse_hello(h);
  EXPECT_EQ(format_name(back.requested), format_name(n));
  bytes v2 = h;
  v2[7] = 2;
  EXPECT_PROTOCOL_ERROR(parse_hello(v2), error_kind::malformed);
  bytes magic = h;
  magic[0] = 'X';
  EXPECT_PROTOCOL_ERROR(parse_hello(magic), error_kind::malformed);
  bytes shorter(h.begin(), h.end() - 1);
  EXPECT_PROTOCOL_ERROR(parse_hello(shorter), error_kind::malformed);
}

// ---- handshake -----------------------------------------------------------------------------

struct pair_of_ends {
  key_pair server_keys = generate_key_pair();
  key_pair client_keys = generate_key_pair();
  sfs_name name = make_name("127.0.0.1", 4433, server_keys.public_key);
  bytes prologue = make_hello(name);
};

handshake_options client_checks(const sfs_name& name) {
  handshake_options o;
  o.accept_remote_static = [name](const x25519_key& k) { return name_matches_key(name, k); };
  return o;
}

// A whole handshake in memory; returns (client transport, server transport).
std::pair<transport, transport> connect(pair_of_ends& p, transport_options opts = {}) {
  handshake c(role::initiator, p.client_keys, p.prologue, client_checks(p.name));
  handshake s(role::responder, p.server_keys, p.prologue);
  s.read_message(c.write_message());
  c.read_message(s.write_message());
  s.read_message(c.write_message());
  return {c.split(opts), s.split(opts)};
}

TEST(sfs_handshake, round_trip_authenticates_both_static_keys_and_payloads) {
  pair_of_ends p;
  handshake c(role::initiator, p.client_keys, p.prologue, client_checks(p.name));
  handshake s(role::responder, p.server_keys, p.prologue);
  EXPECT_TRUE(c.my_turn());
  EXPECT_FALSE(s.my_turn());
  bytes m1 = c.write_message(text("one"));
  EXPECT_EQ(m1.size(), 32u + 3);
  EXPECT_EQ(s.read_message(m1), text("one"));
  bytes m2 = s.write_message(text("two"));
  EXPECT_EQ(m2.size(), 96u + 3);
  EXPECT_EQ(c.read_message(m2), text("two"));
  EXPECT_EQ(c.remote_static(), p.server_keys.public_key);
  bytes m3 = c.write_message(text("three"));
  EXPECT_EQ(m3.size(), 64u + 5);
  EXPECT_EQ(s.read_message(m3), text("three"));
  EXPECT_EQ(s.remote_static(), p.client_keys.public_key);
  EXPECT_TRUE(c.done());
  EXPECT_TRUE(s.done());
  EXPECT_EQ(c.handshake_hash(), s.handshake_hash());
  transport ct = c.split(), st = s.split();
  bytes wire;
  ct.seal(text("hello server"), wire);
  auto r = st.open(wire);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0], text("hello server"));
  wire.clear();
  st.seal(text("hello client"), wire);
  EXPECT_EQ(ct.open(wire).messages.at(0), text("hello client"));
}

TEST(sfs_handshake, fresh_ephemeral_keys_every_session) {
  pair_of_ends p;
  handshake a(role::initiator, p.client_keys, p.prologue);
  handshake b(role::initiator, p.client_keys, p.prologue);
  EXPECT_NE(a.write_message(), b.write_message());
}

TEST(sfs_handshake, wrong_hostid_aborts_before_message_3) {
  pair_of_ends p;
  key_pair impostor = generate_key_pair();  // a server that does not hold the named key
  handshake c(role::initiator, p.client_keys, p.prologue, client_checks(p.name));
  handshake s(role::responder, impostor, p.prologue);
  s.read_message(c.write_message());
  EXPECT_PROTOCOL_ERROR(c.read_message(s.write_message()), error_kind::wrong_host);
  EXPECT_TRUE(c.failed());
  EXPECT_FALSE(c.my_turn());
  // Message 3, the one that would carry the client's static key, cannot be produced.
  EXPECT_PROTOCOL_ERROR(c.write_message(), error_kind::state);
}

TEST(sfs_handshake, proxy_substituting_its_own_keys_is_detected_by_the_client) {
  // A man in the middle runs a responder towards the client and an initiator towards the
  // server, with its own static key: the client sees the proxy's key, which is not the HOSTID's.
  pair_of_ends p;
  key_pair proxy_keys = generate_key_pair();
  handshake c(role::initiator, p.client_keys, p.prologue, client_checks(p.name));
  handshake proxy_as_server(role::responder, proxy_keys, p.prologue);
  proxy_as_server.read_message(c.write_message());
  EXPECT_PROTOCOL_ERROR(c.read_message(proxy_as_server.write_message()), error_kind::wrong_host);
  // Relaying the real server's message 2 instead fails: it was made for the proxy's ephemeral.
  handshake c2(role::initiator, p.client_keys, p.prologue, client_checks(p.name));
  handshake proxy_as_client(role::initiator, proxy_keys, p.prologue);
  handshake server(role::responder, p.server_keys, p.prologue);
  bytes m1 = c2.write_message();
  server.read_message(proxy_as_client.write_message());
  (void)m1;
  EXPECT_PROTOCOL_ERROR(c2.read_message(server.write_message()), error_kind::authentication);
}

TEST(sfs_handshake, prologue_mismatch_fails_no_downgrade_no_name_swap) {
  pair_of_ends p;
  bytes other = p.prologue;
  other[7] = 2;  // a "version" the middle tried to change
  handshake c(role::initiator, p.client_keys, p.prologue);
  handshake s(role::responder, p.server_keys, other);
  s.read_message(c.write_message());
  EXPECT_PROTOCOL_ERROR(c.read_message(s.write_message()), error_kind::authentication);
}

TEST(sfs_handshake, unauthorized_client_key_is_refused_by_the_responder) {
  pair_of_ends p;
  handshake_options so;
  x25519_key allowed = generate_key_pair().public_key;
  so.accept_initiator_static = [&](const x25519_key& k) { return k == allowed; };
  handshake c(role::initiator, p.client_keys, p.prologue);
  handshake s(role::responder, p.server_keys, p.prologue, so);
  s.read_message(c.write_message());
  c.read_message(s.write_message());
  EXPECT_PROTOCOL_ERROR(s.read_message(c.write_message()), error_kind::wrong_host);
  EXPECT_PROTOCOL_ERROR(s.split_raw(), error_kind::state);
}

TEST(sfs_handshake, replayed_handshake_messages_fail) {
  pair_of_ends p;
  handshake c(role::initiator, p.client_keys, p.prologue);
  handshake s(role::responder, p.server_keys, p.prologue);
  bytes m1 = c.write_message();
  s.read_message(m1);
  bytes m2 = s.write_message();
  c.read_message(m2);
  bytes m3 = c.write_message();
  s.read_message(m3);
  // Message 1 and 3 replayed to a new server session: message 3 was bound to the old
  // server ephemeral, so the replayer cannot finish.
  handshake s2(role::responder, p.server_keys, p.prologue);
  s2.read_message(m1);
  s2.write_message();
  EXPECT_PROTOCOL_ERROR(s2.read_message(m3), error_kind::authentication);
  // Message 2 replayed to a new client session: bound to the old client ephemeral.
  handshake c2(role::initiator, p.client_keys, p.prologue);
  c2.write_message();
  EXPECT_PROTOCOL_ERROR(c2.read_message(m2), error_kind::authentication);
  // A message replayed within the same session is out of turn.
  handshake s3(role::responder, p.server_keys, p.prologue);
  s3.read_message(m1);
  EXPECT_PROTOCOL_ERROR(s3.read_message(m1), error_kind::state);
}

TEST(sfs_handshake, short_long_and_tampered_handshake_messages_fail) {
  pair_of_ends p;
  {
    handshake s(role::responder, p.server_keys, p.prologue);
    EXPECT_PROTOCOL_ERROR(s.read_message(bytes(31)), error_kind::malformed);
  }
  {
    handshake s(role::responder, p.server_keys, p.prologue);
    EXPECT_PROTOCOL_ERROR(s.read_message(bytes(65536)), error_kind::too_large);
  }
  for (size_t bit : {0u, 8u * 40, 8u * 80 + 3, 8u * 95 + 7}) {  // e, s, s's tag, payload tag
    handshake c(role::initiator, p.client_keys, p.prologue);
    handshake s(role::responder, p.server_keys, p.prologue);
    s.read_message(c.write_message());
    bytes m2 = s.write_message();
    m2[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_THROW(c.read_message(m2), protocol_error) << "bit " << bit;
  }
}

// X25519 points of small order (and the non-canonical encodings of some), as u-coordinates.
const char* const low_order_points[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

TEST(sfs_handshake, low_order_and_zero_ephemeral_keys_are_refused) {
  pair_of_ends p;
  for (const char* point : low_order_points) {
    SCOPED_TRACE(point);
    bytes m1 = from_hex(point);  // message 1 is just the ephemeral key
    handshake s(role::responder, p.server_keys, p.prologue);
    s.read_message(m1);
    EXPECT_PROTOCOL_ERROR(s.write_message(), error_kind::low_order);
    // The server's ephemeral in message 2, as the client sees it.
    handshake c(role::initiator, p.client_keys, p.prologue);
    c.write_message();
    bytes m2(96);
    std::copy(m1.begin(), m1.end(), m2.begin());
    EXPECT_PROTOCOL_ERROR(c.read_message(m2), error_kind::low_order);
  }
}

TEST(sfs_handshake, low_order_and_zero_static_keys_are_refused) {
  pair_of_ends p;
  for (const char* point : low_order_points) {
    SCOPED_TRACE(point);
    key_pair evil = generate_key_pair();
    bytes pt = from_hex(point);
    std::copy(pt.begin(), pt.end(), evil.public_key.begin());
    // A client claiming a low-order static key: the server's se DH fails.
    handshake c(role::initiator, evil, p.prologue);
    handshake s(role::responder, p.server_keys, p.prologue);
    s.read_message(c.write_message());
    c.read_message(s.write_message());
    EXPECT_PROTOCOL_ERROR(s.read_message(c.write_message()), error_kind::low_order);
    // A server claiming one: the client's es DH fails.
    handshake c2(role::initiator, p.client_keys, p.prologue);
    handshake s2(role::responder, evil, p.prologue);
    s2.read_message(c2.write_message());
    EXPECT_PROTOCOL_ERROR(c2.read_message(s2.write_message()), error_kind::low_order);
  }
}

// ---- transport -----------------------------------------------------------------------------

bytes frames_of(transport& t, std::initializer_list<std::string_view> msgs) {
  bytes out;
  for (auto m : msgs) t.seal(text(m), out);
  return out;
}

// Splits a stream of frames into frames.
std::vector<bytes> split_frames(const bytes& stream) {
  std::vector<bytes> out;
  size_t at = 0;
  while (at + 4 <= stream.size()) {
    size_t len = (size_t{stream[at]} << 24) | (size_t{stream[at + 1]} << 16) |
                 (size_t{stream[at + 2]} << 8) | stream[at + 3];
    out.emplace_back(stream.begin() + at, stream.begin() + at + 4 + len);
    at += 4 + len;
  }
  return out;
}

bytes frames_of_sealer(frame_sealer& s, int n) {
  bytes out;
  for (int i = 0; i < n; ++i) s.seal(bytes{'m', static_cast<std::uint8_t>('0' + i)}, out);
  return out;
}

bytes join(std::initializer_list<bytes> parts) {
  bytes out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(sfs_transport, frame_layout_is_length_then_aead_with_type_byte) {
  pair_of_ends p;
  auto [c, s] = connect(p);
  bytes wire = frames_of(c, {"abc"});
  ASSERT_EQ(wire.size(), 4u + 1 + 3 + 16);
  EXPECT_EQ(wire[0], 0);
  EXPECT_EQ(wire[3], 1 + 3 + 16);
  auto r = s.open(wire);
  EXPECT_EQ(r.messages.at(0), text("abc"));
  EXPECT_FALSE(r.closed);
}

// seal_in_place (what hue-sfsd seals READ replies with, read straight into their frames) makes
// the very bytes seal() makes, frame after frame and across a REKEY, and they open.
TEST(sfs_transport, seal_in_place_makes_the_frames_seal_makes) {
  std::array<std::uint8_t, 32> key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
  transport_options o;
  o.rekey_interval = 2;
  frame_sealer copying(cipher_state(key), o), in_place(cipher_state(key), o);
  frame_opener opener(cipher_state(key), o);
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{65546}, std::size_t{3}, std::size_t{5}}) {
    bytes message(size);
    for (std::size_t i = 0; i < size; ++i) message[i] = static_cast<std::uint8_t>(i ^ size);
    bytes expected;
    copying.seal(message, expected);
    bytes frame(frame_message_offset + size + aead_tag_size, 0xee);
    std::copy(message.begin(), message.end(), frame.begin() + frame_message_offset);
    in_place.seal_in_place(frame.data(), size);
    ASSERT_EQ(frame, expected) << "message of " << size << " bytes";
    auto r = opener.open(frame);
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0], message);
  }
  EXPECT_EQ(in_place.rekeys(), copying.rekeys());
  EXPECT_EQ(in_place.rekeys(), 2u);
}

TEST(sfs_transport, seal_in_place_refuses_as_seal_does_and_wipes_the_message) {
  std::array<std::uint8_t, 32> key{};
  key[0] = 1;
  transport_options o;
  o.max_message = 8;
  frame_sealer s(cipher_state(key), o);
  bytes frame(frame_message_offset + 9 + aead_tag_size, 0x5a);
  EXPECT_PROTOCOL_ERROR(s.seal_in_place(frame.data(), 9), error_kind::too_large);
  for (std::size_t i = 0; i < 9; ++i) EXPECT_EQ(frame[frame_message_offset + i], 0) << i;
  EXPECT_EQ(s.frames(), 0u);  // nothing sealed, no nonce spent
  bytes close;
  s.seal_close(close);
  bytes late(frame_message_offset + 1 + aead_tag_size, 0x5a);
  EXPECT_PROTOCOL_ERROR(s.seal_in_place(late.data(), 1), error_kind::after_close);
  EXPECT_EQ(late[frame_message_offset], 0);
}

TEST(sfs_transport, messages_arrive_in_any_split_and_close_is_reported) {
  pair_of_ends p;
  auto [c, s] = connect(p);
  bytes wire = frames_of(c, {"a", "", "ccc", std::string(70000, 'x')});
  c.seal_close(wire);
  std::vector<bytes> got;
  bool closed = false;
  for (size_t i = 0; i < wire.size(); i += 7) {
    auto r = s.open(std::span(wire).subspan(i, std::min<size_t>(7, wire.size() - i)));
    for (auto& m : r.messages) got.push_back(m);
    closed = closed || r.closed;
  }
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], text("a"));
  EXPECT_TRUE(got[1].empty());
  EXPECT_EQ(got[3].size(), 70000u);
  EXPECT_TRUE(closed);
  EXPECT_NO_THROW(s.end_of_stream());
  bytes more;
  EXPECT_PROTOCOL_ERROR(c.seal(text("late"), more), error_kind::after_close);
}

TEST(sfs_transport, flipped_bit_in_length_ciphertext_or_tag_fails) {
  for (size_t byte : {3u, 5u, 10u, 4u + 1 + 5 + 15}) {  // length, type, body, last tag byte
    pair_of_ends p;
    auto [c, s] = connect(p);
    bytes wire = frames_of(c, {"hello"});
    wire[byte] ^= 0x01;
    SCOPED_TRACE(byte);
    try {
      auto r = s.open(wire);
      // A longer length only waits for bytes that never come: EOF reports it as truncated.
      EXPECT_TRUE(r.messages.empty());
      EXPECT_PROTOCOL_ERROR(s.end_of_stream(), error_kind::truncated);
    } catch (const protocol_error& e) {
      EXPECT_TRUE(e.kind() == error_kind::authentication || e.kind() == error_kind::malformed)
          << e.what();
    }
  }
}

TEST(sfs_transport, a_frame_replayed_within_the_session_fails) {
  pair_of_ends p;
  auto [c, s] = connect(p);
  auto f = split_frames(frames_of(c, {"one", "two"}));
  EXPECT_EQ(s.open(f[0]).messages.size(), 1u);
  EXPECT_PROTOCOL_ERROR(s.open(f[0]), error_kind::authentication);
  EXPECT_PROTOCOL_ERROR(s.open(f[1]), error_kind::state);  // the transport is dead
}

TEST(sfs_transport, a_frame_replayed_into_another_session_fails) {
  pair_of_ends p;
  auto [c1, s1] = connect(p);
  auto [c2, s2] = connect(p);  // same static keys, fresh ephemerals: other session keys
  bytes f = frames_of(c1, {"transfer"});
  EXPECT_PROTOCOL_ERROR(s2.open(f), error_kind::authentication);
}

TEST(sfs_transport, reordered_frames_fail) {
  pair_of_ends p;
  auto [c, s] = connect(p);
  auto f = split_frames(frames_of(c, {"one", "two"}));
  EXPECT_PROTOCOL_ERROR(s.open(join({f[1], f[0]})), error_kind::authentication);
}

TEST(sfs_transport, a_dropped_frame_fails_the_next_one) {
  pair_of_ends p;
  auto [c, s] = connect(p);
  auto f = split_frames(frames_of(c, {"one", "two", "three"}));
  EXPECT_EQ(s.open(f[0]).messages.size(), 1u);
  EXPECT_PROTOCOL_ERROR(s.open(f[2]), error_kind::authentication);
}

TEST(sfs_transport, a_dropped_close_or_end_of_stream_without_close_is_truncation) {
  pair_of_ends p;
  auto [c, s] = connect(p);
  bytes wire = frames_of(c, {"all", "of", "it"});
  EXPECT_EQ(s.open(wire).messages.size(), 3u);
  EXPECT_PROTOCOL_ERROR(s.end_of_stream(), error_kind::truncated);
}

TEST(sfs_transport, a_frame_cut_short_is_truncation) {
  pair_of_ends p;
  auto [c, s] = connect(p);
  bytes wire = frames_of(c, {"complete", "cut"});
  c.seal_close(wire);
  auto f = split_frames(wire);
  bytes cut = join({f[0], bytes(f[1].begin(), f[1].end() - 1)});
  auto r = s.open(cut);
  EXPECT_EQ(r.messages.size(), 1u);
  try {
    s.end_of_stream();
    ADD_FAILURE() << "a cut frame was accepted";
  } catch (const protocol_error& e) {
    EXPECT_EQ(e.kind(), error_kind::truncated);
    EXPECT_NE(std::string(e.what()).find("inside a frame"), std::string::npos);
  }
}

TEST(sfs_transport, a_forged_close_fails_and_data_after_close_is_refused) {
  pair_of_ends p;
  {
    auto [c, s] = connect(p);
    // An attacker cannot make a close frame: a plausible-looking one fails authentication.
    bytes fake(4 + 17, 0);
    fake[3] = 17;
    EXPECT_PROTOCOL_ERROR(s.open(fake), error_kind::authentication);
  }
  {
    auto [c, s] = connect(p);
    bytes wire;
    c.seal_close(wire);
    wire.push_back(0);
    EXPECT_PROTOCOL_ERROR(s.open(wire), error_kind::after_close);
  }
  {
    auto [c, s] = connect(p);
    bytes wire;
    c.seal_close(wire);
    EXPECT_TRUE(s.open(wire).closed);
    EXPECT_PROTOCOL_ERROR(s.open(bytes{1}), error_kind::after_close);
  }
}

TEST(sfs_transport, length_0xffffffff_is_refused_from_its_four_bytes) {
  pair_of_ends p;
  auto [c, s] = connect(p);
  EXPECT_PROTOCOL_ERROR(s.open(bytes{0xff, 0xff, 0xff, 0xff}), error_kind::too_large);
  auto [c2, s2] = connect(p);
  bytes just_over = {0, 0, 0, 0};
  put_frame_length(just_over.data(), 1 + max_message_size + 16 + 1);
  EXPECT_PROTOCOL_ERROR(s2.open(just_over), error_kind::too_large);
  auto [c3, s3] = connect(p);
  EXPECT_PROTOCOL_ERROR(s3.open(bytes{0, 0, 0, 16}), error_kind::malformed);  // < type + tag
  bytes out;
  EXPECT_PROTOCOL_ERROR(c.seal(bytes(max_message_size + 1), out), error_kind::too_large);
  EXPECT_TRUE(out.empty());
}

TEST(sfs_transport, frame_reader_checks_the_cap_before_buffering_the_body) {
  frame_reader r(100);
  bytes head = {0, 0, 0, 101};
  EXPECT_PROTOCOL_ERROR(r.feed(head), error_kind::too_large);
  frame_reader r2(100);
  r2.feed(bytes{0, 0});
  EXPECT_PROTOCOL_ERROR(r2.feed(bytes{0xff, 0xff, 1, 2, 3}), error_kind::too_large);
  EXPECT_LE(r2.buffered(), 4u);  // the body bytes were never buffered
}

TEST(sfs_transport, rekey_happens_on_both_ends_and_changes_the_keys) {
  pair_of_ends p;
  transport_options opts;
  opts.rekey_interval = 3;
  auto [c, s] = connect(p, opts);
  for (int round = 0; round < 10; ++round) {
    bytes wire = frames_of(c, {"a", "b"});
    auto r = s.open(wire);
    ASSERT_EQ(r.messages.size(), 2u);
    wire = frames_of(s, {"reply"});
    ASSERT_EQ(c.open(wire).messages.size(), 1u);
  }
  EXPECT_EQ(c.sender().rekeys(), 20u / 3);
  EXPECT_EQ(s.receiver().rekeys(), 20u / 3);
  EXPECT_EQ(s.sender().rekeys(), 10u / 3);
  // A receiver that does not rekey at the same point cannot read past it: the keys did change.
  std::array<std::uint8_t, 32> k{};
  k[5] = 9;
  transport_options never;
  never.rekey_interval = 1000;
  frame_sealer sealer(cipher_state(k), opts);
  frame_opener late(cipher_state(k), never);
  bytes wire = frames_of_sealer(sealer, 4);
  auto f = split_frames(wire);
  EXPECT_EQ(late.open(join({f[0], f[1], f[2]})).messages.size(), 3u);
  EXPECT_PROTOCOL_ERROR(late.open(f[3]), error_kind::authentication);
}

TEST(sfs_transport, rekey_matches_noise_rekey_then_nonce_zero) {
  std::array<std::uint8_t, 32> k{};
  for (int i = 0; i < 32; ++i) k[i] = static_cast<std::uint8_t>(i);
  transport_options opts;
  opts.rekey_interval = 2;
  frame_sealer sealer(cipher_state(k), opts);
  bytes wire;
  for (int i = 0; i < 3; ++i) sealer.seal(text("m"), wire);
  auto f = split_frames(wire);
  // Frame 3 by hand: REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros), then n = 0.
  cipher_state manual(k);
  manual.rekey();
  manual.set_nonce(0);
  const bytes header = {0, 0, 0, 18};
  bytes expect = header;
  bytes plain = {frame_type_message, 'm'};
  manual.encrypt_with_ad(header, plain, expect);
  EXPECT_EQ(f[2], expect);
  // And the rekeyed key is what the Noise definition says.
  std::uint8_t nonce[12] = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  std::uint8_t zeros[32] = {}, out[48];
  unsigned long long len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out, &len, zeros, 32, nullptr, 0, nullptr, nonce,
                                            k.data());
  std::array<std::uint8_t, 32> k2;
  std::copy(out, out + 32, k2.begin());
  cipher_state by_def(k2);
  bytes expect2 = header;
  by_def.encrypt_with_ad(header, plain, expect2);
  EXPECT_EQ(f[2], expect2);
}

TEST(sfs_transport, unknown_frame_type_is_malformed) {
  std::array<std::uint8_t, 32> k{};
  k[0] = 7;
  cipher_state enc(k);
  frame_opener opener(cipher_state(k), {});
  const bytes header = {0, 0, 0, 18};
  bytes frame = header;
  bytes plain = {0x02, 'x'};
  enc.encrypt_with_ad(header, plain, frame);
  EXPECT_PROTOCOL_ERROR(opener.open(frame), error_kind::malformed);
  // A close frame's body is at most one byte, its reason (a fuzzer cannot forge these: the AEAD
  // stops it first).
  cipher_state enc2(k);
  frame_opener opener2(cipher_state(k), {});
  const bytes header19 = {0, 0, 0, 19};
  bytes close_with_body = header19;
  bytes plain2 = {frame_type_close, 2, 'x'};
  enc2.encrypt_with_ad(header19, plain2, close_with_body);
  EXPECT_PROTOCOL_ERROR(opener2.open(close_with_body), error_kind::malformed);
}

TEST(sfs_transport, close_frame_carries_its_reason_and_an_empty_one_means_done) {
  std::array<std::uint8_t, 32> k{};
  k[0] = 9;
  for (const close_reason why : {close_reason::done, close_reason::idle, close_reason::shutdown,
                                 static_cast<close_reason>(77)}) {
    frame_sealer s(cipher_state(k), {});
    frame_opener o(cipher_state(k), {});
    bytes wire;
    s.seal_close(wire, why);
    // done travels as version 1's empty close; anything else as one byte.
    EXPECT_EQ(wire.size(), transport_overhead + (why == close_reason::done ? 0u : 1u));
    const auto r = o.open(wire);
    EXPECT_TRUE(r.closed);
    EXPECT_EQ(o.peer_close_reason(), why);
  }
  EXPECT_STREQ(to_string(close_reason::idle), "idle time-out");
  EXPECT_STREQ(to_string(static_cast<close_reason>(77)), "unknown reason");
}

TEST(sfs_transport, nonce_exhaustion_is_an_error_not_a_wrap) {
  std::array<std::uint8_t, 32> k{};
  cipher_state c(k);
  c.set_nonce(max_nonce);
  bytes out;
  EXPECT_PROTOCOL_ERROR(c.encrypt_with_ad({}, text("x"), out), error_kind::state);
  EXPECT_TRUE(out.empty());
}

TEST(sfs_transport, sender_and_receiver_of_one_transport_run_on_two_threads_at_once) {
  // The server colors encryption and decryption separately: one end's sender and receiver are
  // used concurrently. Under ThreadSanitizer this pins that they share no state.
  pair_of_ends p;
  transport_options opts;
  opts.rekey_interval = 5;
  auto [c, s] = connect(p, opts);
  constexpr int count = 200;
  bytes c_to_s, s_to_c;
  for (int i = 0; i < count; ++i) c.seal(bytes(static_cast<size_t>(i), static_cast<std::uint8_t>(i)), c_to_s);
  size_t received = 0;
  std::thread reader([&] {
    for (size_t at = 0; at < c_to_s.size(); at += 1000) {
      auto r = s.open(std::span(c_to_s).subspan(at, std::min<size_t>(1000, c_to_s.size() - at)));
      received += r.messages.size();
    }
  });
  for (int i = 0; i < count; ++i) s.seal(text("reply"), s_to_c);  // same transport, other thread
  reader.join();
  EXPECT_EQ(received, static_cast<size_t>(count));
  EXPECT_EQ(c.open(s_to_c).messages.size(), static_cast<size_t>(count));
  EXPECT_EQ(s.sender().rekeys(), count / 5u);
}

// ---- channel (hello + handshake + transport as one state machine) --------------------------

// Delivers `bytes` to `to` in pieces of `piece` bytes; collects replies and messages.
channel::result deliver(channel& to, const bytes& data, size_t piece, bytes& replies) {
  channel::result all;
  for (size_t i = 0; i < data.size(); i += piece) {
    auto r = to.receive(std::span(data).subspan(i, std::min(piece, data.size() - i)), replies);
    for (auto& m : r.messages) all.messages.push_back(std::move(m));
    all.established_now = all.established_now || r.established_now;
    all.closed = all.closed || r.closed;
  }
  return all;
}

TEST(sfs_channel, client_and_server_establish_in_any_split_and_exchange_messages) {
  for (size_t piece : {1u, 3u, 1000u}) {
    SCOPED_TRACE(piece);
    pair_of_ends p;
    channel c = channel::client(p.client_keys, p.name);
    channel s = channel::server(p.server_keys);
    bytes to_server, to_client;
    c.start(to_server);
    EXPECT_FALSE(deliver(s, to_server, piece, to_client).established_now);
    ASSERT_TRUE(s.client_hello());
    EXPECT_EQ(format_name(s.client_hello()->requested), format_name(p.name));
    to_server.clear();
    auto rc = deliver(c, to_client, piece, to_server);
    EXPECT_TRUE(rc.established_now);
    EXPECT_EQ(c.peer_static(), p.server_keys.public_key);
    // The client's first request rides behind message 3 in the same write.
    c.secure().seal(text("GETATTR /"), to_server);
    to_client.clear();
    auto rs = deliver(s, to_server, piece, to_client);
    EXPECT_TRUE(rs.established_now);
    ASSERT_EQ(rs.messages.size(), 1u);
    EXPECT_EQ(rs.messages[0], text("GETATTR /"));
    EXPECT_EQ(s.peer_static(), p.client_keys.public_key);
    EXPECT_TRUE(to_client.empty());
    s.secure().seal(text("reply"), to_client);
    s.secure().seal_close(to_client);
    to_server.clear();
    auto last = deliver(c, to_client, piece, to_server);
    EXPECT_EQ(last.messages.at(0), text("reply"));
    EXPECT_TRUE(last.closed);
    EXPECT_NO_THROW(c.end_of_stream());
  }
}

TEST(sfs_channel, server_refuses_a_hello_for_another_server_before_any_dh) {
  pair_of_ends p;
  key_pair other = generate_key_pair();
  channel c = channel::client(p.client_keys, make_name("127.0.0.1", 4433, other.public_key));
  channel s = channel::server(p.server_keys);
  bytes to_server, to_client;
  c.start(to_server);
  EXPECT_PROTOCOL_ERROR(s.receive(to_server, to_client), error_kind::wrong_host);
  EXPECT_TRUE(to_client.empty());
  EXPECT_PROTOCOL_ERROR(s.receive(bytes{}, to_client), error_kind::state);
}

TEST(sfs_channel, client_refuses_an_impostor_and_sends_nothing_more) {
  pair_of_ends p;
  channel c = channel::client(p.client_keys, p.name);
  key_pair impostor_keys = generate_key_pair();
  // The impostor answers as a server for its own key, for whatever name was asked.
  handshake imp(role::responder, impostor_keys, p.prologue);
  bytes to_server, to_client;
  c.start(to_server);
  frame_reader fr(max_noise_message);
  fr.feed(to_server);
  fr.next();  // hello
  imp.read_message(*fr.next());
  append_frame(to_client, imp.write_message());
  to_server.clear();
  EXPECT_PROTOCOL_ERROR(c.receive(to_client, to_server), error_kind::wrong_host);
  EXPECT_TRUE(to_server.empty());  // no message 3: the client's key never left
}

TEST(sfs_channel, end_of_stream_during_the_handshake_is_truncation) {
  pair_of_ends p;
  channel s = channel::server(p.server_keys);
  bytes out;
  s.receive(bytes{0, 0}, out);
  EXPECT_PROTOCOL_ERROR(s.end_of_stream(), error_kind::truncated);
  channel s2 = channel::server(p.server_keys);
  EXPECT_PROTOCOL_ERROR(s2.receive(bytes{0xff, 0xff, 0xff, 0xff}, out), error_kind::too_large);
}

}  // namespace
