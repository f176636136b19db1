// Interop of hue's SFS secure channel with an independent Noise implementation: Debian's
// python3-dissononce, driven through tests/sfs/noise_peer.py over a socketpair (the script's
// stdin and stdout). Both directions, with a rekey interval of 3 frames on both ends so REKEY is
// crossed many times, and the wrong-HOSTID abort seen from the server side.
//
// Environment (set by tests/meson.build): SFS_NOISE_PEER = the script, SFS_PYTHON = Debian's
// /usr/bin/python3.
#include "error.hpp"
#include "frame.hpp"
#include "handshake.hpp"
#include "hello.hpp"
#include "keys.hpp"
#include "names.hpp"
#include "transport.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

using namespace hue::sfs;
using bytes = std::vector<std::uint8_t>;

namespace {

constexpr std::uint64_t test_rekey_interval = 3;

struct peer_process {
  pid_t pid = -1;
  int fd = -1;  // our end of the socketpair

  explicit peer_process(const std::vector<std::string>& args) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw std::runtime_error("socketpair");
    pid = ::fork();
    if (pid == 0) {
      ::dup2(sv[1], 0);
      ::dup2(sv[1], 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(sv[1]);
    fd = sv[0];
  }
  // Waits for the script; returns its exit status (or -1).
  int wait() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~peer_process() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      wait();
    }
  }
};

std::vector<std::string> peer_command(std::vector<std::string> extra) {
  const char* py = std::getenv("SFS_PYTHON");
  const char* script = std::getenv("SFS_NOISE_PEER");
  std::vector<std::string> cmd = {py ? py : "/usr/bin/python3",
                                  script ? script : "tests/sfs/noise_peer.py"};
  cmd.insert(cmd.end(), extra.begin(), extra.end());
  cmd.push_back("--rekey-interval");
  cmd.push_back(std::to_string(test_rekey_interval));
  return cmd;
}

void write_all(int fd, const bytes& b) {
  size_t done = 0;
  while (done < b.size()) {
    ssize_t n = ::write(fd, b.data() + done, b.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("write to the peer failed");
    done += static_cast<size_t>(n);
  }
}

// Reads some bytes; empty on end of stream.
bytes read_some(int fd) {
  bytes buf(65536);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("read from the peer failed");
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
}

// Next clear frame from `in`, reading as needed; nullopt on end of stream.
std::optional<bytes> read_frame(int fd, frame_reader& in) {
  for (;;) {
    if (auto f = in.next()) return f;
    bytes chunk = read_some(fd);
    if (chunk.empty()) return std::nullopt;
    in.feed(chunk);
  }
}

bytes echo_reply(const bytes& m) {
  bytes out(crypto_hash_sha256_BYTES);
  crypto_hash_sha256(out.data(), m.data(), m.size());
  out.insert(out.end(), m.rbegin(), m.rend());
  return out;
}

struct temp_key {
  std::filesystem::path dir, path;
  key_pair keys = generate_key_pair();
  temp_key() {
    char tmpl[] = "/tmp/sfs-interop-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir / "peer.key";
    write_key_file(path, keys);
  }
  ~temp_key() { std::filesystem::remove_all(dir); }
};

transport_options test_options() {
  transport_options o;
  o.rekey_interval = test_rekey_interval;
  return o;
}

TEST(sfs_interop, dissononce_initiator_against_hue_responder) {
  key_pair server = generate_key_pair();
  sfs_name name = make_name("127.0.0.1", 4433, server.public_key);
  peer_process py(peer_command({"initiator", format_name(name)}));

  frame_reader in(max_noise_message);
  auto hello_frame = read_frame(py.fd, in);
  ASSERT_TRUE(hello_frame);
  hello h = parse_hello(*hello_frame);
  ASSERT_TRUE(name_matches_key(h.requested, server.public_key));
  handshake hs(role::responder, server, *hello_frame);
  auto m1 = read_frame(py.fd, in);
  ASSERT_TRUE(m1);
  hs.read_message(*m1);
  bytes out;
  append_frame(out, hs.write_message());
  write_all(py.fd, out);
  auto m3 = read_frame(py.fd, in);
  ASSERT_TRUE(m3);
  hs.read_message(*m3);
  ASSERT_TRUE(hs.done());
  transport t = hs.split(test_options());

  // Echo every message until the authenticated close, then close our side.
  size_t echoed = 0;
  bool closed = false;
  bytes pending = in.take_rest();
  while (!closed) {
    if (pending.empty()) {
      pending = read_some(py.fd);
      if (pending.empty()) {
        t.end_of_stream();  // throws: the peer stopped without its close
        break;
      }
    }
    auto r = t.open(pending);
    pending.clear();
    bytes reply;
    for (auto& m : r.messages) {
      t.seal(echo_reply(m), reply);
      ++echoed;
    }
    if (r.closed) {
      closed = true;
      t.seal_close(reply);
    }
    write_all(py.fd, reply);
  }
  EXPECT_EQ(py.wait(), 0);
  EXPECT_EQ(echoed, 16u);  // noise_peer.test_messages()
  // 16 messages + close each way, rekey every 3 frames: 5 rekeys per direction.
  EXPECT_EQ(t.receiver().rekeys(), 17u / 3);
  EXPECT_EQ(t.sender().rekeys(), 17u / 3);
}

TEST(sfs_interop, hue_initiator_against_dissononce_responder) {
  temp_key server;  // the script reads the server key from a hue key file
  key_pair client = generate_key_pair();
  sfs_name name = make_name("::1", 4433, server.keys.public_key);
  peer_process py(peer_command({"responder", "--key", server.path.string()}));

  bytes prologue = make_hello(name);
  handshake_options opts;
  opts.accept_remote_static = [&](const x25519_key& k) { return name_matches_key(name, k); };
  handshake hs(role::initiator, client, prologue, opts);
  bytes out;
  append_frame(out, prologue);
  append_frame(out, hs.write_message());
  write_all(py.fd, out);
  frame_reader in(max_noise_message);
  auto m2 = read_frame(py.fd, in);
  ASSERT_TRUE(m2);
  hs.read_message(*m2);
  EXPECT_EQ(hs.remote_static(), server.keys.public_key);
  out.clear();
  append_frame(out, hs.write_message());
  write_all(py.fd, out);
  transport t = hs.split(test_options());
  ASSERT_EQ(in.buffered(), 0u);

  // Messages of many sizes (0 .. the frame limit), each answered by the script's echo.
  std::vector<size_t> sizes = {0, 1, 2, 100, 4096, 65536, max_message_size - 32 - 1, 7, 8};
  size_t answered = 0;
  bytes pending;
  for (size_t i = 0; i < sizes.size(); ++i) {
    bytes m(sizes[i]);
    for (size_t j = 0; j < m.size(); ++j) m[j] = static_cast<std::uint8_t>(i * 31 + j);
    out.clear();
    t.seal(m, out);
    write_all(py.fd, out);
    std::vector<bytes> got;
    while (got.empty()) {
      bytes chunk = read_some(py.fd);
      if (chunk.empty()) {
        t.end_of_stream();
        FAIL() << "the script ended early";
      }
      for (auto& r : t.open(chunk).messages) got.push_back(std::move(r));
    }
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], echo_reply(m)) << "message of " << m.size() << " bytes";
    ++answered;
  }
  out.clear();
  t.seal_close(out);
  write_all(py.fd, out);
  bool closed = false;
  while (!closed) {
    bytes chunk = read_some(py.fd);
    if (chunk.empty()) break;
    closed = t.open(chunk).closed;
  }
  EXPECT_TRUE(closed);
  EXPECT_NO_THROW(t.end_of_stream());
  EXPECT_EQ(py.wait(), 0);
  EXPECT_EQ(answered, sizes.size());
  EXPECT_GE(t.sender().rekeys(), 3u);
}

TEST(sfs_interop, dissononce_initiator_stops_before_message_3_on_a_wrong_hostid) {
  key_pair real = generate_key_pair();
  key_pair impostor = generate_key_pair();
  sfs_name name = make_name("127.0.0.1", 4433, real.public_key);
  peer_process py(peer_command({"initiator", format_name(name)}));
  frame_reader in(max_noise_message);
  auto hello_frame = read_frame(py.fd, in);
  ASSERT_TRUE(hello_frame);
  handshake hs(role::responder, impostor, *hello_frame);
  auto m1 = read_frame(py.fd, in);
  ASSERT_TRUE(m1);
  hs.read_message(*m1);
  bytes out;
  append_frame(out, hs.write_message());
  write_all(py.fd, out);
  // The client must hang up without message 3: nothing more arrives.
  EXPECT_FALSE(read_frame(py.fd, in));
  EXPECT_EQ(in.buffered(), 0u);
  EXPECT_EQ(py.wait(), 3);  // noise_peer.py's exit code for WrongHost
}

TEST(sfs_interop, hue_responder_refuses_a_dissononce_transport_frame_replayed) {
  // The script's frames are recorded, then the first one is sent twice: authentication fails.
  key_pair server = generate_key_pair();
  sfs_name name = make_name("127.0.0.1", 4433, server.public_key);
  peer_process py(peer_command({"initiator", format_name(name)}));
  frame_reader in(max_noise_message);
  auto hello_frame = read_frame(py.fd, in);
  ASSERT_TRUE(hello_frame);
  handshake hs(role::responder, server, *hello_frame);
  hs.read_message(*read_frame(py.fd, in));
  bytes out;
  append_frame(out, hs.write_message());
  write_all(py.fd, out);
  hs.read_message(*read_frame(py.fd, in));
  transport t = hs.split(test_options());
  // The first transport frame (the script waits for our echo before sending the next).
  frame_reader raw(1 + max_message_size + aead_tag_size);
  raw.feed(in.take_rest());
  auto first = read_frame(py.fd, raw);
  ASSERT_TRUE(first);
  bytes framed;
  append_frame(framed, *first);
  EXPECT_EQ(t.open(framed).messages.size(), 1u);
  try {
    t.open(framed);
    ADD_FAILURE() << "a replayed frame was accepted";
  } catch (const protocol_error& e) {
    EXPECT_EQ(e.kind(), error_kind::authentication);
  }
  ::shutdown(py.fd, SHUT_RDWR);
  EXPECT_EQ(py.wait(), 2);  // the script sees the end of stream without a close: truncated
}

}  // namespace
