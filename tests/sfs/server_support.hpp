// tests/sfs/server_support.hpp — what the in-process hue-sfsd tests share: a temporary export
// tree, a server on an ephemeral port under two stealing workers, raw sockets that speak as much
// of the protocol as a test wants, and bounded waits on them.
#pragma once

#include "client.hpp"
#include "server.hpp"
#include "support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sfs_test {

namespace fs = std::filesystem;
using namespace hue::sfs;

struct temp_tree {
  fs::path base;
  temp_tree() {
    char t[] = "/tmp/hue-sfs-test-XXXXXX";
    base = ::mkdtemp(t);
    fs::create_directories(base / "export" / "sub" / "deeper");
    fs::create_directories(base / "outside");
    write("outside/secret", "OUTSIDE");
    write("export/hello.txt", "hello, sfs\n");
    write("export/sub/deeper/leaf", "leaf");
    fs::create_symlink(base / "outside" / "secret", base / "export" / "leaf_link");
    fs::create_symlink(base / "outside", base / "export" / "dir_link");
    fs::create_symlink("sub", base / "export" / "rel_dir_link");
    ::mkfifo((base / "export" / "fifo").c_str(), 0600);
  }
  ~temp_tree() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  void write(const std::string& rel, const std::string& content) {
    std::ofstream(base / rel, std::ios::binary) << content;
  }
  std::string random_file(const std::string& rel, std::size_t size) {
    std::string s(size, '\0');
    randombytes_buf(s.data(), s.size());
    write(rel, s);
    return s;
  }
  fs::path exp() const { return base / "export"; }
};

struct server_fixture {
  hue::runtime rt;
  std::unique_ptr<hue::reactor> io;
  std::unique_ptr<server> srv;
  server_fixture(server_config cfg) : rt(hue_test::stealing_workers(2)), io(std::make_unique<hue::reactor>(rt)) {
    cfg.at = {"127.0.0.1", 0};
    if (cfg.keys.public_key == x25519_key{}) cfg.keys = generate_key_pair();
    srv = std::make_unique<server>(*io, std::move(cfg));
  }
  ~server_fixture() {
    srv->shutdown();
    rt.wait();
    srv.reset();
    io.reset();
  }
  sfs_name name() const { return parse_name(srv->name()); }
};

inline server_config config_for(const temp_tree& t, coloring c = coloring::per_connection) {
  server_config cfg;
  cfg.export_dir = t.exp();
  cfg.colors = c;
  return cfg;
}

// A blocking TCP connection to 127.0.0.1:port from `from` (any loopback address: Linux routes
// all of 127/8 to lo, so tests can play several sources); -1 on failure.
inline int raw_connect(std::uint16_t port, const char* from = nullptr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (from) {
    sockaddr_in b{};
    b.sin_family = AF_INET;
    ::inet_pton(AF_INET, from, &b.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&b), sizeof b) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A connection that starts a hello and stalls: one byte of its frame length, then nothing. (A
// socket that sends nothing at all never reaches the server's accept: TCP_DEFER_ACCEPT.)
inline int stalled_connect(std::uint16_t port, const char* from = nullptr) {
  const int fd = raw_connect(port, from);
  if (fd >= 0) ::send(fd, "\x00", 1, MSG_NOSIGNAL);
  return fd;
}

// True when the server closed `fd` within `limit` (read returns 0 or an error).
inline bool closed_within(int fd, std::chrono::milliseconds limit) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(limit.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(limit.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char b[256];
  for (;;) {
    const ssize_t n = ::recv(fd, b, sizeof b, 0);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}


// A client's secure channel on a raw socket, established: a test seals what it likes on it.
struct raw_session {
  int fd = -1;
  std::optional<channel> ch;
  raw_session(const server_fixture& s) {
    fd = raw_connect(s.srv->port());
    ch.emplace(channel::client(generate_key_pair(), s.name()));
    std::vector<std::uint8_t> out;
    ch->start(out);
    ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    std::uint8_t buf[4096];
    while (!ch->established()) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) throw std::runtime_error("handshake cut short");
      out.clear();
      ch->receive({buf, static_cast<std::size_t>(n)}, out);
      ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    }
  }
  ~raw_session() { ::close(fd); }
};

}  // namespace sfs_test
