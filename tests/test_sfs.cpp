// tests/test_sfs.cpp — SFS's file service: the request decoder, export confinement (every path
// escape, a symlink swapped in during requests), the documented READ and path limits exactly,
// handles, and hue-sfsd in-process end to end (ls/stat/cat/get with SHA-256, many outstanding
// READs, wrong HOSTID, an unauthorized client key, a client stalling in its handshake, stalled
// handshakes evicted, the per-source cap, a client that stops reading, the output bound, idle
// and shutdown closes with their reasons, rekeying, DIGEST beside other clients' READs,
// graceful shutdown), in both colorings. The handshake flood itself: test_sfs_flood.cpp.
#include "client.hpp"
#include "export.hpp"
#include "protocol.hpp"
#include "server.hpp"
#include "sfs/server_support.hpp"
#include "support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace fs = std::filesystem;
using namespace hue::sfs;
// <fcntl.h> declares a `struct file_handle` (name_to_handle_at) of its own.
using handle_t = hue::sfs::file_handle;
using namespace sfs_test;

namespace {

std::vector<std::uint8_t> bytes(std::initializer_list<int> l) {
  std::vector<std::uint8_t> v;
  for (int x : l) v.push_back(static_cast<std::uint8_t>(x));
  return v;
}

request req(op w, const handle_t& h = {}) {
  request r;
  r.what = w;
  r.handle = h;
  return r;
}

}  // namespace

// --- the decoder treats every byte as hostile ---

TEST(SfsProtocol, RoundTripsEveryRequest) {
  request r = req(op::lookup);
  r.id = 77;
  r.handle[3] = 9;
  r.path = "a/b";
  auto d = decode_request(encode_request(r));
  ASSERT_TRUE(d.req);
  EXPECT_EQ(d.req->id, 77u);
  EXPECT_EQ(d.req->path, "a/b");
  EXPECT_EQ(d.req->handle, r.handle);
  request rd = req(op::read);
  rd.offset = 1ull << 40;
  rd.length = 4096;
  d = decode_request(encode_request(rd));
  ASSERT_TRUE(d.req);
  EXPECT_EQ(d.req->offset, 1ull << 40);
  EXPECT_EQ(d.req->length, 4096u);
}

TEST(SfsProtocol, RefusesMalformedRequestsWithAReason) {
  EXPECT_FALSE(decode_request({}).req);
  EXPECT_FALSE(decode_request(bytes({1, 0, 0})).error.id) << "no id in a 3-byte request";
  auto d = decode_request(bytes({99, 0, 0, 0, 5}));
  EXPECT_FALSE(d.req);
  ASSERT_TRUE(d.error.id);
  EXPECT_EQ(*d.error.id, 5u) << "an unknown op is still answered by id";
  EXPECT_FALSE(decode_request(bytes({1, 0, 0, 0, 5, 0})).req) << "trailing byte after ROOT";
  EXPECT_FALSE(decode_request(bytes({3, 0, 0, 0, 5, 1, 2})).req) << "handle cut short";
  // LOOKUP whose path length runs past the message, and one over the cap.
  std::vector<std::uint8_t> lk = bytes({2, 0, 0, 0, 1});
  lk.resize(lk.size() + 16);
  auto over = lk;
  lk.push_back(0x00);
  lk.push_back(0x10);
  lk.push_back('a');
  EXPECT_FALSE(decode_request(lk).req);
  // A path over 4,096 bytes decodes: the export refuses it as bad_name (one status for every
  // invalid path, docs §4.2 and §4.5).
  over.push_back(0xff);
  over.push_back(0xff);
  over.resize(over.size() + 0xffff, 'a');
  d = decode_request(over);
  ASSERT_TRUE(d.req) << d.error.reason;
  EXPECT_EQ(d.req->path.size(), 0xffffu);
  EXPECT_NE(export_root::check_path(d.req->path).value_or("").find("4096"), std::string::npos);
  request z = req(op::read);
  z.length = 0;
  EXPECT_FALSE(decode_request(encode_request(z)).req) << "READ of 0 bytes";
  // Every truncation of a valid READ is refused, never read past.
  request rd = req(op::read);
  rd.length = 10;
  const auto full = encode_request(rd);
  for (std::size_t n = 0; n < full.size(); ++n)
    EXPECT_FALSE(decode_request(std::span(full).first(n)).req) << n;
}

TEST(SfsProtocol, RepliesDecodeAndRefuseGarbage) {
  reply r;
  r.id = 4;
  r.entries = {{"a", file_type::regular}, {"b", file_type::directory}};
  r.next_cookie = 9;
  auto back = decode_reply(op::readdir, encode_reply(op::readdir, r));
  ASSERT_EQ(back.entries.size(), 2u);
  EXPECT_EQ(back.entries[1].name, "b");
  EXPECT_EQ(back.next_cookie, 9u);
  auto e = decode_reply(op::getattr, encode_error(8, status::not_found, "nope"));
  EXPECT_EQ(e.code, status::not_found);
  EXPECT_EQ(e.message, "nope");
  std::vector<std::uint8_t> bad = {0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff};
  EXPECT_THROW(decode_reply(op::read, bad), std::runtime_error);
}

// --- confinement ---

TEST(SfsExport, CheckPathRefusesEveryEscapeSpelling) {
  for (const std::string& p : std::vector<std::string>{"", "/etc/passwd", "..", "../x", "a/../b", "a/..", ".", "./a", "a//b", "a/",
                        std::string("a\0b", 3), std::string(256, 'x')})
    EXPECT_TRUE(export_root::check_path(p)) << "'" << p << "' accepted";
  EXPECT_FALSE(export_root::check_path("a/b/c"));
  EXPECT_FALSE(export_root::check_path("..a"));  // a name that starts with dots is a name
}

class SfsExportTree : public ::testing::Test {
 protected:
  temp_tree t;
  export_root ex{t.exp()};
  handle_t root = ex.serve(req(op::root)).handle;
  reply lookup(const std::string& path, const handle_t* from = nullptr) {
    request r = req(op::lookup, from ? *from : root);
    r.path = path;
    return ex.serve(r);
  }
};

TEST_F(SfsExportTree, LooksUpReadsAndListsInsideTheExport) {
  reply f = lookup("sub/deeper/leaf");
  ASSERT_EQ(f.code, status::ok) << f.message;
  EXPECT_EQ(f.attr.type, file_type::regular);
  EXPECT_EQ(f.attr.size, 4u);
  request rd = req(op::read, f.handle);
  rd.length = 100;
  auto rep = decode_reply(op::read, ex.answer(rd));
  EXPECT_EQ(std::string(rep.data.begin(), rep.data.end()), "leaf");
  EXPECT_TRUE(rep.eof);
  EXPECT_EQ(lookup("sub/deeper/leaf").handle, f.handle) << "one handle per file";
  request ls = req(op::readdir, root);
  ls.count = 2;
  reply page = ex.serve(ls);
  ASSERT_EQ(page.code, status::ok);
  EXPECT_EQ(page.entries.size(), 2u);
  std::vector<std::string> names;
  for (auto& e : page.entries) names.push_back(e.name);
  while (page.next_cookie) {
    ls.cookie = page.next_cookie;
    page = ex.serve(ls);
    ASSERT_EQ(page.code, status::ok);
    for (auto& e : page.entries) names.push_back(e.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"dir_link", "fifo", "hello.txt", "leaf_link", "rel_dir_link", "sub"}));
}

// Every READ limit of docs §4.2, exactly: eof = 1 on the READ that reaches the end of the file
// (a full one ending exactly there included), and offsets far past any file, up to 2^64 - 1,
// answer 0 bytes and eof (pread refused them with EINVAL: io_error "Invalid argument").
TEST_F(SfsExportTree, ReadReportsEofExactlyAndAnswersHugeOffsets) {
  t.random_file("export/two_blocks", 2 * max_read);
  const reply f = lookup("two_blocks");
  ASSERT_EQ(f.code, status::ok);
  auto read_at = [&](std::uint64_t off, std::uint32_t len) {
    request rd = req(op::read, f.handle);
    rd.offset = off;
    rd.length = len;
    return decode_reply(op::read, ex.answer(rd));
  };
  reply r = read_at(0, max_read);
  EXPECT_EQ(r.data.size(), max_read);
  EXPECT_FALSE(r.eof) << "a block with more after it";
  r = read_at(max_read, max_read);
  EXPECT_EQ(r.data.size(), max_read);
  EXPECT_TRUE(r.eof) << "a full READ that ends exactly at the end of the file";
  r = read_at(2 * max_read - 1, 1);
  EXPECT_EQ(r.data.size(), 1u);
  EXPECT_TRUE(r.eof) << "the last byte alone";
  r = read_at(2 * max_read - 2, 1);
  EXPECT_FALSE(r.eof) << "the byte before the last";
  for (const std::uint64_t off : {std::uint64_t{2} * max_read, std::uint64_t{1} << 40, std::uint64_t{1} << 63,
                                  ~std::uint64_t{0}, ~std::uint64_t{0} - 9, std::uint64_t{INT64_MAX} - 10,
                                  std::uint64_t{INT64_MAX} - max_read, std::uint64_t{INT64_MAX}}) {
    r = read_at(off, max_read);
    EXPECT_EQ(r.code, status::ok) << off << ": " << r.message;
    EXPECT_TRUE(r.data.empty()) << off;
    EXPECT_TRUE(r.eof) << off;
  }
}

// READ straight into a frame (what hue-sfsd does: the data lands where it is sealed and sent)
// keeps the bytes already in the buffer (the frame's length and type) and appends what read()
// answers, error replies included: read() used to *assign* its error replies, which would have
// wiped a frame's room in front of them.
TEST_F(SfsExportTree, ReadIntoAFrameKeepsTheRoomBeforeItAndAnswersAsRead) {
  t.random_file("export/block_and_a_half", max_read + max_read / 2);
  const reply f = lookup("block_and_a_half");
  ASSERT_EQ(f.code, status::ok);
  const handle_t unknown{0xde, 0xad};
  const std::vector<std::pair<handle_t, std::pair<std::uint64_t, std::uint32_t>>> cases = {
      {f.handle, {0, max_read}},             // a full block
      {f.handle, {max_read, max_read}},      // the short last one, eof
      {f.handle, {~std::uint64_t{0}, 10}},   // far past the end
      {f.handle, {0, max_read + 1}},         // too_large
      {root, {0, 10}},                       // is_dir
      {unknown, {0, 10}},                    // bad_handle
  };
  for (const auto& [h, at] : cases) {
    request rd = req(op::read, h);
    rd.offset = at.first;
    rd.length = at.second;
    const std::vector<std::uint8_t> expected = ex.answer(rd);
    frame_buffer frame;
    const std::uint8_t room[] = {1, 2, 3, 4, 5};
    frame.append(room);
    ex.read_into(rd, frame);
    ASSERT_EQ(frame.size(), sizeof room + expected.size()) << at.first << "+" << at.second;
    EXPECT_TRUE(std::equal(room, room + sizeof room, frame.data())) << "the room in front is kept";
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), frame.data() + sizeof room))
        << at.first << "+" << at.second;
  }
}

// The path limit is inclusive: a path of exactly 4,096 bytes (what PATH_MAX, which counts the
// NUL, does not let the kernel take in one call) is resolved; 4,097 is bad_name.
TEST_F(SfsExportTree, PathOfExactly4096BytesIsAcceptedAnd4097IsRefused) {
  // 16 directories of 250 bytes, a file of 80: 16 * 250 + 80 + 16 slashes = 4,096. Made with
  // *at calls: the tree's absolute path is longer than PATH_MAX.
  const std::string dir(250, 'd'), leaf(80, 'f');
  std::vector<int> fds{::open(t.exp().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  std::string path;
  for (int i = 0; i < 16; ++i) {
    ASSERT_EQ(::mkdirat(fds.back(), dir.c_str(), 0700), 0);
    fds.push_back(::openat(fds.back(), dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_GE(fds.back(), 0);
    path += dir + "/";
  }
  const int leaf_fd = ::openat(fds.back(), leaf.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_EQ(::write(leaf_fd, "deep", 4), 4);
  ::close(leaf_fd);
  const std::string link = leaf.substr(0, 79) + "L";  // as long as the leaf
  ASSERT_EQ(::symlinkat("/etc/passwd", fds.back(), link.c_str()), 0);
  path += leaf;
  ASSERT_EQ(path.size(), 4096u);
  const reply ok = lookup(path);
  ASSERT_EQ(ok.code, status::ok) << ok.message;
  EXPECT_EQ(ok.attr.size, 4u);
  EXPECT_EQ(lookup(path + "L").code, status::bad_name) << "4,097 bytes";
  EXPECT_EQ(lookup(path.substr(0, 4095) + "L").code, status::refused) << "the two-step walk still refuses a symlink";
  EXPECT_EQ(lookup(path.substr(0, 4095) + "x").code, status::not_found);
  // Clean up from the bottom: remove_all cannot walk paths this long.
  ::unlinkat(fds.back(), leaf.c_str(), 0);
  ::unlinkat(fds.back(), link.c_str(), 0);
  for (std::size_t i = fds.size() - 1; i > 0; --i) {
    ::close(fds[i]);
    ::unlinkat(fds[i - 1], dir.c_str(), AT_REMOVEDIR);
  }
  ::close(fds[0]);
}

TEST_F(SfsExportTree, RefusesEveryEscape) {
  EXPECT_EQ(lookup("..").code, status::bad_name);
  EXPECT_EQ(lookup("sub/../../outside/secret").code, status::bad_name);
  EXPECT_EQ(lookup("/etc/passwd").code, status::bad_name);
  EXPECT_EQ(lookup(std::string("hello.txt\0/../x", 15)).code, status::bad_name);
  EXPECT_EQ(lookup("leaf_link").code, status::refused) << "symlink as the leaf";
  EXPECT_EQ(lookup("dir_link/secret").code, status::refused) << "symlink as an intermediate";
  EXPECT_EQ(lookup("rel_dir_link/deeper/leaf").code, status::refused) << "even one pointing inside";
  EXPECT_EQ(lookup("fifo").code, status::refused) << "neither a file nor a directory (and no hang)";
  EXPECT_EQ(lookup("nope").code, status::not_found);
  EXPECT_EQ(lookup("hello.txt/x").code, status::not_dir);
  reply f = lookup("hello.txt");
  EXPECT_EQ(lookup("x", &f.handle).code, status::not_dir) << "LOOKUP from a file handle";
}

TEST_F(SfsExportTree, RefusesInvalidHandles) {
  handle_t forged{};
  randombytes_buf(forged.data(), forged.size());
  EXPECT_EQ(ex.serve(req(op::getattr, forged)).code, status::bad_handle);
  EXPECT_EQ(lookup("hello.txt", &forged).code, status::bad_handle);
  request rd = req(op::read, forged);
  rd.length = 10;
  EXPECT_EQ(decode_reply(op::read, ex.answer(rd)).code, status::bad_handle);
  rd.handle = root;
  EXPECT_EQ(decode_reply(op::read, ex.answer(rd)).code, status::is_dir);
  reply f = lookup("hello.txt");
  rd.handle = f.handle;
  rd.length = 70'000;
  EXPECT_EQ(decode_reply(op::read, ex.answer(rd)).code, status::too_large);
  request ls = req(op::readdir, root);
  ls.count = 1;
  ls.cookie = 0xdead'0000'0001ull;
  EXPECT_EQ(ex.serve(ls).code, status::bad_request) << "forged cookie";
}

TEST(SfsExport, EvictedHandlesAreStaleAndTheTableStaysBounded) {
  temp_tree t;
  for (int i = 0; i < 10; ++i) t.write("export/f" + std::to_string(i), "x");
  export_root ex(t.exp(), {.max_handles = 4});
  const handle_t root = ex.serve(req(op::root)).handle;
  std::vector<handle_t> hs;
  for (int i = 0; i < 10; ++i) {
    request r = req(op::lookup, root);
    r.path = "f" + std::to_string(i);
    hs.push_back(ex.serve(r).handle);
  }
  EXPECT_LE(ex.handles(), 4u);
  EXPECT_EQ(ex.serve(req(op::getattr, hs[0])).code, status::bad_handle);
  EXPECT_EQ(ex.serve(req(op::getattr, hs[9])).code, status::ok);
  EXPECT_EQ(ex.serve(req(op::getattr, root)).code, status::ok) << "the root is never evicted";
}

// A symlink swapped in for a directory while lookups run: RENAME_EXCHANGE flips "d" between a
// real directory (whose `secret` says "inside") and a symlink to the outside (whose `secret`
// says "OUTSIDE"). Every lookup must either find the inside file or be refused.
TEST(SfsExport, SymlinkSwappedInDuringRequestsIsRefused) {
  temp_tree t;
  fs::create_directories(t.exp() / "d");
  t.write("export/d/secret", "inside");
  fs::create_symlink(t.base / "outside", t.exp() / "swap");
  export_root ex(t.exp());
  const handle_t root = ex.serve(req(op::root)).handle;
  std::atomic<bool> stop{false};
  std::atomic<unsigned> swaps{0};
  std::thread flipper([&] {
    const std::string a = (t.exp() / "d").string(), b = (t.exp() / "swap").string();
    while (!stop.load()) {
      if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0) swaps.fetch_add(1);
    }
  });
  unsigned inside = 0, refused = 0, other = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(700);
  while (std::chrono::steady_clock::now() < until) {
    request r = req(op::lookup, root);
    r.path = "d/secret";
    const reply f = ex.serve(r);
    if (f.code == status::ok) {
      request rd = req(op::read, f.handle);
      rd.length = 64;
      const reply data = decode_reply(op::read, ex.answer(rd));
      ASSERT_EQ(std::string(data.data.begin(), data.data.end()), "inside") << "escaped through a swapped symlink";
      ++inside;
    } else if (f.code == status::refused) {
      ++refused;
    } else {
      ++other;  // not_found: looked up between the two names of an exchange (cannot happen with
                // RENAME_EXCHANGE, but harmless)
    }
  }
  stop = true;
  flipper.join();
  EXPECT_GT(swaps.load(), 100u);
  EXPECT_GT(inside, 0u);
  EXPECT_GT(refused, 0u) << "the race never hit the symlink state";
}

// --- hue-sfsd in-process ---

class SfsServer : public ::testing::TestWithParam<coloring> {};

TEST_P(SfsServer, LsStatCatGetWithChecksum) {
  temp_tree t;
  const std::string big = t.random_file("export/sub/big.bin", 3 * 1024 * 1024 + 12345);
  server_fixture s(config_for(t, GetParam()));
  client c(s.name());
  const reply root = resolve(c, "/");
  std::vector<std::string> names;
  for (auto& e : c.readdir(root.handle)) names.push_back(e.name);
  EXPECT_EQ(names.size(), 6u);
  const reply f = resolve(c, "sub/big.bin");
  EXPECT_EQ(f.attr.size, big.size());
  const reply d = c.digest(f.handle);
  std::array<std::uint8_t, 32> want{};
  crypto_hash_sha256(want.data(), reinterpret_cast<const std::uint8_t*>(big.data()), big.size());
  EXPECT_EQ(d.sha256, want);
  EXPECT_EQ(d.digest_size, big.size());
  // Many READs outstanding; replies may come out of order and are put back in order.
  std::string got;
  read_stats st;
  const auto sha = c.read_file(f.handle, 64, [&](std::span<const std::uint8_t> b) { got.append(b.begin(), b.end()); }, &st);
  EXPECT_EQ(sha, want);
  EXPECT_TRUE(got == big);
  EXPECT_EQ(st.latencies_us.size(), (big.size() + max_read - 1) / max_read);
  // Remote errors come back as replies matched to their request; the connection stays usable.
  try {
    resolve(c, "../outside/secret");
    ADD_FAILURE() << "escape accepted";
  } catch (const client_failure& e) {
    EXPECT_EQ(e.code(), exit_code::remote);
    EXPECT_EQ(e.remote_status, status::bad_name);
  }
  EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);
  c.close();
}

TEST_P(SfsServer, ManyClientsInParallel) {
  temp_tree t;
  const std::string big = t.random_file("export/big", 1024 * 1024);
  server_fixture s(config_for(t, GetParam()));
  std::array<std::uint8_t, 32> want{};
  crypto_hash_sha256(want.data(), reinterpret_cast<const std::uint8_t*>(big.data()), big.size());
  std::atomic<int> ok{0};
  std::vector<std::thread> th;
  for (int i = 0; i < 6; ++i)
    th.emplace_back([&] {
      client c(s.name());
      const reply f = resolve(c, "big");
      if (c.read_file(f.handle, 8, [](auto) {}) == want) ok.fetch_add(1);
      c.close();
    });
  for (auto& x : th) x.join();
  EXPECT_EQ(ok.load(), 6);
}

INSTANTIATE_TEST_SUITE_P(Colorings, SfsServer, ::testing::Values(coloring::per_connection, coloring::paper),
                         [](const auto& p) { return p.param == coloring::paper ? "Paper" : "PerConnection"; });

TEST(SfsServerSecurity, WrongHostIdAbortsBeforeTheClientRevealsItself) {
  temp_tree t;
  server_fixture s(config_for(t));
  sfs_name n = s.name();
  // The name of another key at the same location: the server refuses the hello, or (a proxy with
  // its own key) the client finds the key does not match; either way no message 3 is sent.
  n.host_id = host_id(n.host, n.port, generate_key_pair().public_key);
  try {
    client c(n);
    ADD_FAILURE() << "connected to a server whose key does not match";
  } catch (const client_failure& e) {
    EXPECT_TRUE(e.code() == exit_code::authentication || e.code() == exit_code::channel) << e.what();
  }
  EXPECT_EQ(s.srv->stats().established.load(), 0u);
}

TEST(SfsServerSecurity, ProxyWithItsOwnKeyIsDetectedByTheClient) {
  // A server at the same location with another key, named by the real server's HOSTID: the
  // client must abort (authentication) after message 2, before it sends message 3.
  temp_tree t;
  server_fixture impostor(config_for(t));
  sfs_name n = impostor.name();
  const auto real = generate_key_pair();
  n.host_id = host_id(n.host, n.port, real.public_key);
  EXPECT_THROW(client c(n), client_failure);
}

TEST(SfsServerSecurity, UnauthorizedClientKeyIsRefusedWithNothingExecuted) {
  temp_tree t;
  const key_pair allowed = generate_key_pair(), stranger = generate_key_pair();
  server_config cfg = config_for(t);
  cfg.use_allow_list = true;
  cfg.allow.insert(allowed.public_key);
  server_fixture s(std::move(cfg));
  try {
    client c(s.name(), {.keys = stranger});
    c.send(req(op::root));  // sealed after message 3: must never run
    c.receive();
    ADD_FAILURE() << "a stranger's request was answered";
  } catch (const client_failure& e) {
    EXPECT_EQ(e.code(), exit_code::channel) << e.what();
  }
  ASSERT_TRUE(hue_test::eventually([&] { return s.srv->stats().refused.load() == 1; }));
  EXPECT_EQ(s.srv->stats().requests.load(), 0u) << "nothing of the stranger's was executed";
  client ok(s.name(), {.keys = allowed});
  EXPECT_EQ(resolve(ok, "hello.txt").attr.size, 11u);
  ok.close();
}

TEST(SfsServerSecurity, HandshakeStallTimesOutWhileOthersAreServed) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.handshake_timeout = std::chrono::milliseconds(300);
  cfg.max_handshakes = 3;
  server_fixture s(std::move(cfg));
  const int stall = raw_connect(s.srv->port());
  ASSERT_GE(stall, 0);
  ::send(stall, "\x00\x00", 2, MSG_NOSIGNAL);  // half a frame length, then nothing
  client c(s.name());
  EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);
  EXPECT_TRUE(closed_within(stall, std::chrono::milliseconds(3000)));
  EXPECT_EQ(s.srv->stats().handshake_timeouts.load(), 1u);
  EXPECT_EQ(resolve(c, "sub/deeper/leaf").attr.size, 4u) << "the established client is untouched";
  ::close(stall);
  c.close();
}

// Regression: a full handshake table used to refuse every newcomer until a stalled handshake
// timed out, so a few silent sockets renewed every 5 s locked everyone out. Now the newcomer
// evicts the oldest stalled one.
TEST(SfsServerSecurity, FullHandshakeTableEvictsTheOldestStalledOneForANewcomer) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.max_handshakes = 2;
  cfg.handshake_timeout = std::chrono::milliseconds(30'000);
  cfg.handshake_timeout_under_pressure = cfg.handshake_timeout;  // eviction alone, however slow the machine
  server_fixture s(std::move(cfg));
  const int a = stalled_connect(s.srv->port());
  ASSERT_TRUE(hue_test::eventually([&] { return s.srv->stats().accepted.load() == 1; }));
  const int b = stalled_connect(s.srv->port());
  ASSERT_TRUE(hue_test::eventually([&] { return s.srv->stats().accepted.load() == 2; }));
  client c(s.name());  // the table is full of stalled sockets: it gets in all the same
  EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);
  EXPECT_TRUE(closed_within(a, std::chrono::milliseconds(10'000))) << "the oldest stalled socket stays";
  EXPECT_EQ(s.srv->stats().evicted_handshakes.load(), 1u);
  // `b` still holds its slot (nothing evicted it): it is open, and the server has no reply for it.
  char byte;
  EXPECT_EQ(::recv(b, &byte, 1, MSG_DONTWAIT), -1);
  EXPECT_EQ(errno, EAGAIN);
  ::close(a);
  ::close(b);
  c.close();
}

// The least progressed goes first: a handshake whose hello and message 1 arrived is kept over a
// younger one that only trickled a byte.
TEST(SfsServerSecurity, EvictionTakesTheLeastProgressedHandshakeBeforeAnOlderOne) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.max_handshakes = 2;
  cfg.handshake_timeout = std::chrono::milliseconds(30'000);
  cfg.handshake_timeout_under_pressure = cfg.handshake_timeout;
  server_fixture s(std::move(cfg));
  const int older = raw_connect(s.srv->port());
  channel ch = channel::client(generate_key_pair(), s.name());
  std::vector<std::uint8_t> opening;
  ch.start(opening);  // hello + message 1, then nothing: it waits for message 2 and stalls
  ASSERT_EQ(::send(older, opening.data(), opening.size(), MSG_NOSIGNAL), static_cast<ssize_t>(opening.size()));
  ASSERT_TRUE(hue_test::eventually([&] { return s.srv->stats().accepted.load() == 1; }));
  const int younger = stalled_connect(s.srv->port());
  ASSERT_TRUE(hue_test::eventually([&] { return s.srv->stats().accepted.load() == 2; }));
  client c(s.name());
  EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);
  EXPECT_TRUE(closed_within(younger, std::chrono::milliseconds(10'000))) << "the trickler was kept";
  EXPECT_EQ(s.srv->stats().evicted_handshakes.load(), 1u);
  // The older one got message 2 and is still open.
  std::uint8_t buf[256];
  timeval tv{10, 0};
  ::setsockopt(older, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_GT(::recv(older, buf, sizeof buf, 0), 0) << "no message 2";
  EXPECT_EQ(::recv(older, buf, sizeof buf, MSG_DONTWAIT), -1) << "the progressed handshake was evicted";
  EXPECT_EQ(errno, EAGAIN);
  ::close(older);
  ::close(younger);
  c.close();
}

// One source may hold max_handshakes_per_source slots; past it, it evicts its own oldest and
// leaves every other source's handshakes alone.
TEST(SfsServerSecurity, SourceAtItsCapEvictsItsOwnHandshakesOnly) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.max_handshakes = 16;
  cfg.max_handshakes_per_source = 3;
  cfg.handshake_timeout = std::chrono::milliseconds(30'000);
  server_fixture s(std::move(cfg));
  const int other = stalled_connect(s.srv->port(), "127.0.0.2");
  ASSERT_GE(other, 0);
  std::vector<int> mine;
  for (int i = 0; i < 3; ++i) {
    mine.push_back(stalled_connect(s.srv->port()));
    ASSERT_TRUE(hue_test::eventually([&] { return s.srv->stats().accepted.load() == mine.size() + 1; }));
  }
  mine.push_back(stalled_connect(s.srv->port()));  // the fourth from 127.0.0.1: evicts mine[0]
  EXPECT_TRUE(closed_within(mine[0], std::chrono::milliseconds(10'000)));
  EXPECT_EQ(s.srv->stats().source_evictions.load(), 1u);
  EXPECT_EQ(s.srv->stats().evicted_handshakes.load(), 0u);
  char byte;
  EXPECT_EQ(::recv(other, &byte, 1, MSG_DONTWAIT), -1) << "another source's handshake was evicted";
  EXPECT_EQ(errno, EAGAIN);
  // Several connections from one address still work (a test, a NAT): a whole client gets in.
  client c(s.name());
  EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);
  c.close();
  for (int fd : mine) ::close(fd);
  ::close(other);
}

// The per-source cap does not make a burst of real clients from one address evict each other:
// their handshakes show progress at once and are spared.
TEST(SfsServerSecurity, BurstOfClientsFromOneAddressPastItsCapAllGetIn) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.max_handshakes_per_source = 2;
  server_fixture s(std::move(cfg));
  std::atomic<int> ready{0}, ok{0};
  std::vector<std::thread> th;
  for (int i = 0; i < 12; ++i)
    th.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < 12) std::this_thread::yield();  // connect all at once
      try {
        client c(s.name());
        if (resolve(c, "hello.txt").attr.size == 11u) ok.fetch_add(1);
        c.close();
      } catch (const client_failure&) {
      }
    });
  for (auto& x : th) x.join();
  EXPECT_EQ(ok.load(), 12);
  EXPECT_EQ(s.srv->stats().source_evictions.load(), 0u);
}

// While more than half the slots are taken, a handshake older than the shorter time-out is
// closed when the next connection arrives, long before the normal time-out.
TEST(SfsServerSecurity, HandshakeTimeoutShortensUnderPressure) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.max_handshakes = 4;
  cfg.handshake_timeout = std::chrono::milliseconds(60'000);
  cfg.handshake_timeout_under_pressure = std::chrono::milliseconds(200);
  server_fixture s(std::move(cfg));
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(stalled_connect(s.srv->port()));  // 3 of 4: pressure
  ASSERT_TRUE(hue_test::eventually([&] { return s.srv->stats().accepted.load() == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  client c(s.name());  // its accept sweeps the three stale ones
  EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);
  for (int fd : fds) EXPECT_TRUE(closed_within(fd, std::chrono::milliseconds(10'000)));
  EXPECT_EQ(s.srv->stats().pressure_timeouts.load(), 3u);
  EXPECT_EQ(s.srv->stats().handshake_timeouts.load(), 0u);
  for (int fd : fds) ::close(fd);
  c.close();
}

// Sockets that send nothing are held by the kernel (TCP_DEFER_ACCEPT) and never take a slot:
// with one slot and a crowd of them, a client gets in with nothing evicted.
TEST(SfsServerSecurity, SilentSocketsNeverReachAHandshakeSlot) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.max_handshakes = 1;
  cfg.handshake_timeout = std::chrono::milliseconds(30'000);  // the kernel holds them this long
  server_fixture s(std::move(cfg));
  std::vector<int> silent;
  for (int i = 0; i < 20; ++i) silent.push_back(raw_connect(s.srv->port()));
  client c(s.name());
  EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);
  c.close();
  EXPECT_EQ(s.srv->stats().accepted.load(), 1u);
  EXPECT_EQ(s.srv->stats().evicted_handshakes.load(), 0u);
  for (int fd : silent) ::close(fd);
}

// A client sends thousands of READs and never reads a reply: the server must stop reading its
// requests once its output is full (sealed output bounded by max_output plus max_outstanding
// replies), while another client is served normally.
TEST(SfsServerSecurity, ClientThatStopsReadingIsBoundedAndHurtsNoOne) {
  temp_tree t;
  t.random_file("export/big", 4 * 1024 * 1024);
  server_config cfg = config_for(t);
  cfg.max_output = 256 * 1024;
  cfg.idle_timeout = std::chrono::milliseconds(1500);
  server_fixture s(std::move(cfg));
  client_options ho;
  ho.timeout = std::chrono::milliseconds(3000);
  client hog(s.name(), ho);
  const reply f = resolve(hog, "big");
  std::size_t sent = 0;
  try {
    for (; sent < 20'000; ++sent) {
      request r = req(op::read, f.handle);
      r.offset = (sent % 64) * max_read;
      r.length = max_read;
      hog.send(r);
    }
  } catch (const client_failure&) {
    // The server stopped reading: our sends time out once the socket buffers are full.
  }
  EXPECT_GT(sent, 500u);
  // All 20,000 may fit in the socket buffers (then no send blocked): the server pauses once it
  // has read enough of them, which a loaded machine may take a while to do. Waiting for it, not
  // sampling it at once, is what made this test flaky.
  EXPECT_TRUE(hue_test::eventually([&] { return s.srv->stats().read_pauses.load() > 0; },
                                   std::chrono::seconds(60)));
  // Served in the meantime.
  client other(s.name());
  const reply g = resolve(other, "big");
  std::uint64_t n = 0;
  other.read_file(g.handle, 16, [&](auto b) { n += b.size(); });
  EXPECT_EQ(n, 4u * 1024 * 1024);
  other.close();
  const std::uint64_t peak = s.srv->stats().peak_output.load();
  EXPECT_LE(peak, 256u * 1024 + 32 * max_reply_frame + transport_overhead + 1) << "output grew past its bound";
  EXPECT_LT(s.srv->stats().reads.load(), sent) << "every request was read despite the back-pressure";
  // The hog makes no progress: the idle time-out closes it.
  EXPECT_TRUE(hue_test::eventually([&] { return s.srv->stats().idle_timeouts.load() >= 1; },
                                   std::chrono::seconds(10)));
}

// Refusals count against the output bound too: they used to be sealed as soon as decoded, so
// one read of 5-byte garbage requests could queue replies far past max_output.
TEST(SfsServerSecurity, BadRequestsFromAClientThatStopsReadingStayInsideTheOutputBound) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.max_output = 64 * 1024;
  cfg.max_outstanding = 1;
  cfg.idle_timeout = std::chrono::milliseconds(1000);
  server_fixture s(std::move(cfg));
  raw_session r(s);
  timeval tv{2, 0};
  ::setsockopt(r.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::size_t sent = 0;
  for (bool more = true; more && sent < 400'000; sent += 1000) {
    std::vector<std::uint8_t> batch;  // sealed afresh: each frame has its own nonce
    for (int i = 0; i < 1000; ++i) r.ch->secure().seal(bytes({99, 0, 0, 0, 1}), batch);  // unknown op
    // A short or timed-out send: the server stopped reading.
    more = ::send(r.fd, batch.data(), batch.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(batch.size());
  }
  EXPECT_LT(sent, 400'000u) << "the server never stopped reading";
  EXPECT_GT(s.srv->stats().read_pauses.load(), 0u);
  const std::uint64_t peak = s.srv->stats().peak_output.load();
  EXPECT_LE(peak, 64u * 1024 + 1 * max_reply_frame + transport_overhead + 1) << "refusals grew past the bound";
  EXPECT_GT(peak, 32u * 1024) << "the output never filled: the test proved nothing";
}

// The idle time-out fires at its own length, independent of a longer handshake time-out, and
// closes with the authenticated close giving its reason: the client tells it from a cut.
TEST(SfsServerSecurity, IdleTimeoutShorterThanTheHandshakesFiresOnTimeWithAReason) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.idle_timeout = std::chrono::milliseconds(300);
  cfg.handshake_timeout = std::chrono::milliseconds(30'000);
  server_fixture s(std::move(cfg));
  client c(s.name());
  EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    c.receive();  // nothing outstanding: the next thing to arrive is the server's close
    ADD_FAILURE() << "a message arrived";
  } catch (const client_failure& e) {
    EXPECT_STREQ(e.what(), "the server closed the connection (idle time-out)");
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(15)) << "waited for the handshake's time-out";
  EXPECT_EQ(c.peer_close_reason(), close_reason::idle);
  EXPECT_EQ(s.srv->stats().idle_timeouts.load(), 1u);
}

// Rekeying from outside: both ends at an interval of 3 frames, one session of 40 requests
// crosses REKEY a dozen times in each direction.
TEST(SfsServerSecurity, SessionRekeysManyTimesWithASmallRekeyInterval) {
  temp_tree t;
  server_config cfg = config_for(t);
  cfg.transport.rekey_interval = 3;
  server_fixture s(std::move(cfg));
  client_options o;
  o.transport.rekey_interval = 3;
  client c(s.name(), o);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);  // 2 requests each
  EXPECT_GE(c.rekeys(), 2u * 12);
  c.close();
  EXPECT_EQ(c.peer_close_reason(), close_reason::done);
}

// DIGEST hashes on the requesting connection's color, a slice per event: another client's READs,
// served on the shared file-system color, are answered while a DIGEST of a large file runs.
// (They used to wait behind the whole hash: the file-system color was busy with it.)
TEST(SfsServerSecurity, DigestOfALargeFileDoesNotHoldUpOtherClientsReads) {
  temp_tree t;
  t.write("export/small", "small file");
  {
    // Sparse: hashing it costs what hashing 256 MiB costs, writing it costs nothing.
    std::ofstream(t.exp() / "huge");
    fs::resize_file(t.exp() / "huge", std::uint64_t{256} << 20);
  }
  server_fixture s(config_for(t));
  client a(s.name()), b(s.name());
  const reply huge = resolve(a, "huge");
  const reply small = resolve(b, "small");
  const std::uint64_t before = s.srv->stats().requests.load();
  std::atomic<bool> digest_answered{false};
  reply d;
  std::thread waiter([&] {
    a.send(req(op::digest, huge.handle));
    d = decode_reply(op::digest, a.receive());
    digest_answered = true;
  });
  ASSERT_TRUE(hue_test::eventually([&] { return s.srv->stats().requests.load() > before; }));
  bool reads_done_first = true;
  for (int i = 0; i < 5; ++i) {
    request rd = req(op::read, small.handle);
    rd.length = 100;
    EXPECT_EQ(b.call(rd).data.size(), 10u);
    reads_done_first = reads_done_first && !digest_answered;
  }
  waiter.join();
  EXPECT_TRUE(reads_done_first) << "the READs waited for the DIGEST";
  EXPECT_EQ(d.code, status::ok) << d.message;
  EXPECT_EQ(d.digest_size, std::uint64_t{256} << 20);
  // Cached: the second DIGEST of the unchanged file is answered from the file-system color.
  EXPECT_EQ(a.digest(huge.handle).sha256, d.sha256);
  a.close();
  b.close();
}

TEST(SfsServerSecurity, ShutdownFinishesInFlightRequestsAndClosesAuthenticated) {
  temp_tree t;
  t.random_file("export/big", 2 * 1024 * 1024);
  auto s = std::make_unique<server_fixture>(config_for(t));
  client c(s->name());
  const reply f = resolve(c, "big");
  std::vector<std::uint32_t> ids;
  for (int i = 0; i < 8; ++i) {
    request r = req(op::read, f.handle);
    r.offset = static_cast<std::uint64_t>(i) * max_read;
    r.length = max_read;
    ids.push_back(c.send(r));
  }
  // Graceful: the requests the server has received are answered (data, or `busy` for those not
  // started), then its authenticated close; requests still unread in the socket are not.
  ASSERT_TRUE(hue_test::eventually([&] { return s->srv->stats().requests.load() == 10; }));
  s->srv->shutdown();
  unsigned answered = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto m = c.receive();
    const reply r = decode_reply(op::read, m);
    if (r.code == status::ok) EXPECT_EQ(r.data.size(), max_read);
    else EXPECT_EQ(r.code, status::busy);
    ++answered;
  }
  EXPECT_EQ(answered, ids.size());
  // Then the server's authenticated close, giving its reason: receive() reports a clean close,
  // not a truncation.
  try {
    c.receive();
    ADD_FAILURE();
  } catch (const client_failure& e) {
    EXPECT_STREQ(e.what(), "the server closed the connection (server shutting down)");
  }
  EXPECT_EQ(c.peer_close_reason(), close_reason::shutdown);
}

// Tampering after the handshake, end to end: a raw channel on a socket (not hue's client), one
// sealed ROOT request with one bit flipped (in the length, the ciphertext or the tag), or a
// length of 0xFFFFFFFF: the server closes the connection, executes nothing, and still serves
// another client.
namespace {


}  // namespace

TEST(SfsServerSecurity, TamperedRequestFramesCloseTheConnectionWithNothingExecuted) {
  temp_tree t;
  server_fixture s(config_for(t));
  struct flip { const char* what; std::size_t byte; };  // byte index from the frame's start; ~0: last
  for (const flip f : {flip{"length", 3}, flip{"ciphertext", 6}, flip{"tag", ~std::size_t{0}}}) {
    raw_session r(s);
    std::vector<std::uint8_t> frame;
    r.ch->secure().seal(encode_request(req(op::root)), frame);
    frame[f.byte == ~std::size_t{0} ? frame.size() - 1 : f.byte] ^= 0x01;
    ::send(r.fd, frame.data(), frame.size(), MSG_NOSIGNAL);
    if (f.byte == 3) ::shutdown(r.fd, SHUT_WR);  // a longer length waits for bytes that never come
    EXPECT_TRUE(closed_within(r.fd, std::chrono::milliseconds(5000))) << f.what;
  }
  {
    raw_session r(s);
    const std::uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    ::send(r.fd, huge, sizeof huge, MSG_NOSIGNAL);
    EXPECT_TRUE(closed_within(r.fd, std::chrono::milliseconds(5000))) << "0xFFFFFFFF length";
  }
  EXPECT_EQ(s.srv->stats().requests.load(), 0u) << "a tampered request was executed";
  client c(s.name());
  EXPECT_EQ(resolve(c, "hello.txt").attr.size, 11u);
  c.close();
}
