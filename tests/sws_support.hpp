// tests/sws_support.hpp — a document root, an in-process SWS and a tiny HTTP/1.1 client, for the
// static-server tests (test_sws_static.cpp). The client reads exactly what the server sends: a
// head, then Content-Length bytes (none for 304 or a HEAD), so a response with a wrong length
// desynchronizes the next one and fails the test.
#pragma once

#include "server.hpp"
#include "support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sws_test {

namespace fs = std::filesystem;

inline void write_file(const fs::path& p, std::string_view s) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(s.data(), static_cast<std::streamsize>(s.size()));
}

// Byte k of the pattern files: every offset has its own value within a 251-byte period (prime,
// so a range taken from the wrong offset shows).
inline char pattern(std::uint64_t k) { return static_cast<char>('!' + (k * 7 + k / 251) % 90); }
inline std::string pattern_string(std::uint64_t from, std::uint64_t n) {
  std::string s(n, '\0');
  for (std::uint64_t k = 0; k < n; ++k) s[k] = pattern(from + k);
  return s;
}

struct docroot {
  fs::path base, root;
  docroot() {
    char tmpl[] = "/tmp/hue-sws-static-XXXXXX";
    base = ::mkdtemp(tmpl);
    root = base / "www";
    fs::create_directories(root / "sub");
    write_file(root / "index.html", "<h1>hue</h1>\n");
    write_file(root / "a.txt", pattern_string(0, 1000));
    write_file(root / "sub" / "b.css", "b{}\n");
    write_file(root / "empty.txt", "");
    write_file(root / "big.bin", pattern_string(0, 3 << 20));  // above the cache threshold
  }
  ~docroot() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
};

enum class style { handlers, coroutines };

struct server {
  docroot dir;
  hue::runtime rt;
  std::unique_ptr<hue::reactor> io;
  std::unique_ptr<sws::server> srv;

  explicit server(style s, sws::config cfg = {}, std::string host = "127.0.0.1")
      : rt(hue_test::stealing_workers(2)), io(std::make_unique<hue::reactor>(rt)) {
    cfg.root = dir.root.string();
    cfg.at = {std::move(host), 0};
    cfg.quiet = true;
    if (s == style::handlers) srv = std::make_unique<sws::handler_server>(*io, cfg);
    else srv = std::make_unique<sws::coro_server>(*io, cfg);
  }
  ~server() {
    rt.stop();
    rt.wait();
    srv.reset();
    io.reset();
  }
  std::uint16_t port() const { return srv->port(); }
};

// A blocking connection to `host`:port (IPv4 or IPv6 literal), or -1. Reads time out after 10 s.
inline int dial(std::uint16_t port, const char* host = "127.0.0.1") {
  sockaddr_storage ss{};
  socklen_t len;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    return -1;
  }
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

inline void send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t w = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (w <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(w));
  }
}

struct reply {
  int status = 0;
  std::string head;
  std::string body;
  bool keep_alive = true;
  // The value of a header (first line with that name, case-sensitive as SWS writes it), or "".
  std::string header(std::string_view name) const {
    const std::string key = "\r\n" + std::string(name) + ": ";
    const auto at = head.find(key);
    if (at == std::string::npos) return {};
    const auto from = at + key.size();
    return head.substr(from, head.find("\r\n", from) - from);
  }
  bool has(std::string_view name) const {
    return head.find("\r\n" + std::string(name) + ":") != std::string::npos;
  }
};

// Reads one response off `fd`; extra bytes stay in `buf`. nullopt on EOF, error or time-out.
inline std::optional<reply> read_reply(int fd, std::string& buf, bool head_request = false) {
  auto fill = [&] {
    char tmp[65536];
    const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return std::nullopt;
  reply r;
  r.head = buf.substr(0, end + 4);
  buf.erase(0, end + 4);
  if (r.head.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
  r.status = std::atoi(r.head.c_str() + 9);
  r.keep_alive = r.head.find("Connection: close") == std::string::npos;
  const std::string cl = r.header("Content-Length");
  const std::size_t len = cl.empty() ? 0 : std::strtoul(cl.c_str(), nullptr, 10);
  if (head_request || r.status == 304) return r;
  while (buf.size() < len)
    if (!fill()) return std::nullopt;
  r.body = buf.substr(0, len);
  buf.erase(0, len);
  return r;
}

// One request on a fresh connection.
inline std::optional<reply> ask(std::uint16_t port, const std::string& request, bool head = false) {
  const int fd = dial(port);
  if (fd < 0) return std::nullopt;
  send_all(fd, request);
  std::string buf;
  auto r = read_reply(fd, buf, head);
  ::close(fd);
  return r;
}

inline std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

// True if the server closed the connection (EOF), after any bytes still in flight.
inline bool closed_by_peer(int fd) {
  char c;
  return ::recv(fd, &c, 1, 0) == 0;
}

}  // namespace sws_test
