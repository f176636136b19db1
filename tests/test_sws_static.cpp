// tests/test_sws_static.cpp — SWS as a static server, beyond the RFC checklist: files larger than
// the cache sent from descriptors (every byte, SHA-256, bounded RSS of the real binary), reload
// into a new snapshot while requests are in flight, IPv6 listeners, and curl resuming a download.
#include "sws_support.hpp"

#include <gtest/gtest.h>

#include <sodium.h>

#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace sws_test;
using namespace std::chrono_literals;

namespace {

class Static : public testing::TestWithParam<style> {};

std::string hex(const unsigned char* d, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::size_t k = 0; k < n; ++k) {
    s += digits[d[k] >> 4];
    s += digits[d[k] & 15];
  }
  return s;
}

std::string sha256_of_file(const fs::path& p) {
  if (sodium_init() < 0) return "sodium_init failed";
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::ifstream in(p, std::ios::binary);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    crypto_hash_sha256_update(&st, reinterpret_cast<unsigned char*>(buf.data()),
                              static_cast<unsigned long long>(in.gcount()));
  }
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  return hex(out, sizeof out);
}

// GETs `target` and streams the content through SHA-256 without keeping it; `pause` between
// reads makes a slow reader (the server must wait for writability, not spin or buffer).
struct download {
  int status = 0;
  std::uint64_t bytes = 0;
  std::string sha256;
};
download fetch_hashed(std::uint16_t port, const std::string& target,
                      std::chrono::microseconds pause = 0us, const char* host = "127.0.0.1") {
  download d;
  const int fd = dial(port, host);
  if (fd < 0) return d;
  send_all(fd, get(target, "Connection: close\r\n"));
  std::string buf;
  auto r = read_reply(fd, buf, true);  // the head only: the content is streamed below
  if (!r) {
    ::close(fd);
    return d;
  }
  d.status = r->status;
  const std::uint64_t want = std::strtoull(r->header("Content-Length").c_str(), nullptr, 10);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  auto eat = [&](const char* p, std::size_t n) {
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(p), n);
    d.bytes += n;
  };
  eat(buf.data(), buf.size());
  std::vector<char> chunk(256 * 1024);
  while (d.bytes < want) {
    const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
    if (n <= 0) break;
    eat(chunk.data(), static_cast<std::size_t>(n));
    if (pause > 0us) std::this_thread::sleep_for(pause);
  }
  ::close(fd);
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  d.sha256 = hex(out, sizeof out);
  return d;
}

void write_pattern_file(const fs::path& p, std::uint64_t size) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  const std::uint64_t step = 1 << 20;
  for (std::uint64_t at = 0; at < size; at += step)
    out << pattern_string(at, std::min(step, size - at));
}

// ------------------------------------------------------------------------------------------
// Files larger than the cache: sent from the descriptor, in steps, with back-pressure.

TEST_P(Static, LargeFileFromDescriptorToSeveralClientsAtOnce) {
  server s(GetParam());
  const fs::path file = s.dir.root / "big.bin";
  const std::string want = sha256_of_file(file);
  // The snapshot holds it as a descriptor, not as bytes.
  EXPECT_EQ(s.srv->snapshot()->open_files(), 1u);
  EXPECT_LT(s.srv->snapshot()->bytes(), 1u << 20);
  std::vector<download> got(4);
  std::vector<std::thread> clients;
  for (int k = 0; k < 4; ++k)
    clients.emplace_back([&, k] { got[k] = fetch_hashed(s.port(), "/big.bin", k == 0 ? 2ms : 0us); });
  for (auto& t : clients) t.join();
  for (const download& d : got) {
    EXPECT_EQ(d.status, 200);
    EXPECT_EQ(d.bytes, 3u << 20);
    EXPECT_EQ(d.sha256, want);
  }
}

TEST_P(Static, StalledReaderOfALargeFileDoesNotHoldOthersUp) {
  server s(GetParam());
  const int stalled = dial(s.port());
  send_all(stalled, get("/big.bin"));  // never read: the server meets EAGAIN and must wait
  std::this_thread::sleep_for(100ms);
  for (int k = 0; k < 3; ++k) {
    const download d = fetch_hashed(s.port(), "/big.bin");
    EXPECT_EQ(d.bytes, 3u << 20);
  }
  // Then the stalled one reads, and gets every byte.
  std::string buf;
  auto r = read_reply(stalled, buf);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->body == pattern_string(0, 3 << 20));
  ::close(stalled);
}

TEST_P(Static, PipelinedRequestsAroundALargeFileStayInOrder) {
  server s(GetParam());
  const int fd = dial(s.port());
  send_all(fd, get("/sub/b.css") + get("/big.bin", "Range: bytes=100-\r\n") + get("/a.txt") +
                   get("/big.bin"));
  std::string buf;
  auto a = read_reply(fd, buf);
  auto b = read_reply(fd, buf);
  auto c = read_reply(fd, buf);
  auto d = read_reply(fd, buf);
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(a->body, "b{}\n");
  EXPECT_EQ(b->status, 206);
  EXPECT_TRUE(b->body == pattern_string(100, (3 << 20) - 100));
  EXPECT_EQ(c->body, pattern_string(0, 1000));
  EXPECT_TRUE(d->body == pattern_string(0, 3 << 20));
  ::close(fd);
}

// A file cut short after the scan: the promised Content-Length cannot be kept, so the server
// closes the connection (the client sees a short body, never a hang), and keeps serving others.
TEST_P(Static, FileTruncatedAfterTheScanEndsTheResponseWithAClose) {
  server s(GetParam());
  fs::resize_file(s.dir.root / "big.bin", 1 << 20);  // same inode, the descriptor sees it
  const download d = fetch_hashed(s.port(), "/big.bin");
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.bytes, 1u << 20);  // what there was, then end-of-file
  auto r = ask(s.port(), get("/a.txt"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// ------------------------------------------------------------------------------------------
// Reload: a new snapshot, swapped in; in-flight responses finish on the old one.

TEST_P(Static, ReloadServesNewAndChangedFilesAndForgetsRemovedOnes) {
  server s(GetParam());
  const std::string old_etag = ask(s.port(), get("/a.txt"))->header("ETag");
  std::this_thread::sleep_for(10ms);  // a different mtime, whatever the file system's grain
  write_file(s.dir.root / "a.txt", "changed\n");
  write_file(s.dir.root / "new.txt", "new\n");
  fs::remove(s.dir.root / "sub" / "b.css");
  EXPECT_EQ(ask(s.port(), get("/new.txt"))->status, 404);  // nothing changes before the reload
  std::string why = "x";
  ASSERT_TRUE(s.srv->reload(&why));
  EXPECT_EQ(why, "");
  auto a = ask(s.port(), get("/a.txt"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->body, "changed\n");
  EXPECT_NE(a->header("ETag"), old_etag);
  EXPECT_EQ(ask(s.port(), get("/new.txt"))->body, "new\n");
  EXPECT_EQ(ask(s.port(), get("/sub/b.css"))->status, 404);
  EXPECT_EQ(s.srv->stats().reloads.load(), 1u);
}

TEST_P(Static, ReloadOnAKeptAliveConnectionTakesEffectAtItsNextRequest) {
  server s(GetParam());
  const int fd = dial(s.port());
  std::string buf;
  send_all(fd, get("/sub/b.css"));
  ASSERT_EQ(read_reply(fd, buf)->body, "b{}\n");
  write_file(s.dir.root / "sub" / "b.css", "c{}\n");
  ASSERT_TRUE(s.srv->reload());
  send_all(fd, get("/sub/b.css"));
  EXPECT_EQ(read_reply(fd, buf)->body, "c{}\n");
  ::close(fd);
}

TEST_P(Static, InFlightResponsesFinishOnTheOldSnapshot) {
  sws::config cfg;
  cfg.cache.max_file_bytes = 2u << 20;  // mid.bin cached, big.bin from its descriptor
  server s(GetParam(), cfg);
  const std::string mid_old = pattern_string(7, 1800'000);
  write_file(s.dir.root / "mid.bin", mid_old);
  ASSERT_TRUE(s.srv->reload());
  ASSERT_EQ(s.srv->snapshot()->open_files(), 1u);
  // Two slow downloads under way (the server is blocked on a full socket for each)...
  const int a = dial(s.port()), b = dial(s.port());
  send_all(a, get("/mid.bin"));
  send_all(b, get("/big.bin"));
  std::this_thread::sleep_for(100ms);
  // ...when both files are replaced (new inodes: rename over them) and the root rescanned.
  write_file(s.dir.root / "mid.tmp", std::string(1800'000, 'N'));
  fs::rename(s.dir.root / "mid.tmp", s.dir.root / "mid.bin");
  write_file(s.dir.root / "big.tmp", std::string(3 << 20, 'N'));
  fs::rename(s.dir.root / "big.tmp", s.dir.root / "big.bin");
  ASSERT_TRUE(s.srv->reload());
  std::string ba, bb;
  auto ra = read_reply(a, ba);
  auto rb = read_reply(b, bb);
  ASSERT_TRUE(ra && rb);
  EXPECT_TRUE(ra->body == mid_old) << "the cached response changed under its reader";
  EXPECT_TRUE(rb->body == pattern_string(0, 3 << 20)) << "the descriptor's file changed under its reader";
  ::close(a);
  ::close(b);
  // New requests see the new files.
  EXPECT_EQ(ask(s.port(), get("/mid.bin"))->body, std::string(1800'000, 'N'));
  EXPECT_EQ(ask(s.port(), get("/big.bin"))->body, std::string(3 << 20, 'N'));
}

TEST_P(Static, FailedRescanKeepsTheOldSnapshotAndSaysWhy) {
  server s(GetParam());
  const fs::path moved = s.dir.base / "moved";
  fs::rename(s.dir.root, moved);
  std::string why;
  EXPECT_FALSE(s.srv->reload(&why));
  EXPECT_NE(why.find("not a readable directory"), std::string::npos) << why;
  EXPECT_EQ(s.srv->stats().failed_reloads.load(), 1u);
  auto r = ask(s.port(), get("/a.txt"));  // still answered from the old snapshot
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, pattern_string(0, 1000));
  EXPECT_EQ(ask(s.port(), get("/big.bin"))->body.size(), 3u << 20);  // its descriptor too
  fs::rename(moved, s.dir.root);
  EXPECT_TRUE(s.srv->reload());
}

TEST_P(Static, ReloadWhileClientsHammerTheServer) {
  server s(GetParam());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, served{0};
  std::vector<std::thread> clients;
  for (int k = 0; k < 3; ++k) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        const int fd = dial(s.port());
        std::string buf;
        send_all(fd, get("/a.txt") + get("/big.bin", "Range: bytes=0-99999\r\n") + get("/sub/b.css"));
        auto a = read_reply(fd, buf), b = read_reply(fd, buf), c = read_reply(fd, buf);
        ::close(fd);
        const bool ok = a && b && c && a->body.size() == 1000 && b->body == pattern_string(0, 100000) &&
                        c->body == "b{}\n";
        (ok ? served : bad).fetch_add(1);
      }
    });
  }
  for (int k = 0; k < 20; ++k) {
    ASSERT_TRUE(s.srv->reload());
    std::this_thread::sleep_for(10ms);
  }
  stop.store(true);
  for (auto& t : clients) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(served.load(), 0);
}

// ------------------------------------------------------------------------------------------
// IPv6

bool ipv6_loopback_available() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

TEST_P(Static, ListensOnIpv6Loopback) {
  // Skipped, not failed, where the kernel has IPv6 off: the feature cannot be exercised there.
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  server s(GetParam(), {}, "::1");
  const int fd = dial(s.port(), "::1");
  ASSERT_GE(fd, 0);
  send_all(fd, "GET /a.txt HTTP/1.1\r\nHost: [::1]\r\n\r\n");
  std::string buf;
  auto r = read_reply(fd, buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ::close(fd);
  EXPECT_EQ(fetch_hashed(s.port(), "/big.bin", 0us, "::1").bytes, 3u << 20);
}

TEST_P(Static, ListensOnIpv6AnyAddress) {
  // Skipped, not failed, where the kernel has IPv6 off: the feature cannot be exercised there.
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  server s(GetParam(), {}, "::");
  const int fd = dial(s.port(), "::1");
  ASSERT_GE(fd, 0);
  send_all(fd, get("/sub/b.css"));
  std::string buf;
  auto r = read_reply(fd, buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "b{}\n");
  ::close(fd);
  // "::" also takes IPv4 unless the system makes IPv6 sockets v6-only.
  std::ifstream v6only("/proc/sys/net/ipv6/bindv6only");
  int only = 0;
  v6only >> only;
  if (only == 0) {
    auto r4 = ask(s.port(), get("/sub/b.css"));
    ASSERT_TRUE(r4);
    EXPECT_EQ(r4->body, "b{}\n");
  }
}

INSTANTIATE_TEST_SUITE_P(BothStyles, Static, testing::Values(style::handlers, style::coroutines),
                         [](const testing::TestParamInfo<style>& p) {
                           return std::string(p.param == style::handlers ? "Handlers" : "Coroutines");
                         });

// ------------------------------------------------------------------------------------------
// The real binary: 64 MB to 4 clients at once with RSS watched, SIGHUP, --address ::1, curl -C -.

struct binary {
  pid_t pid = -1;
  std::uint16_t port = 0;
  std::string line;
  fs::path err;
  binary(const fs::path& root, std::vector<std::string> extra) {
    const char* exe = std::getenv("HUE_SWS");
    if (!exe) return;
    err = root.parent_path() / "stderr.txt";
    int out[2];
    if (::pipe(out) != 0) return;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(e, 2);
      std::vector<std::string> args = {exe, "--root", root.string(), "--port", "0", "--workers", "2"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(exe, argv.data());
      std::_Exit(127);
    }
    ::close(out[1]);
    char ch;
    while (::read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
    ::close(out[0]);
    const auto colon = line.rfind(':', line.find(" ("));
    if (colon != std::string::npos) port = static_cast<std::uint16_t>(std::atoi(line.c_str() + colon + 1));
  }
  ~binary() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int st;
      ::waitpid(pid, &st, 0);
    }
  }
  // VmHWM (peak RSS) or VmRSS of the server, in KiB.
  long kib(const char* field) const {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string l; std::getline(in, l);)
      if (l.rfind(field, 0) == 0) return std::atol(l.c_str() + std::strlen(field) + 1);
    return -1;
  }
  std::string stderr_text() const {
    std::ifstream in(err);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

TEST(StaticBinary, SixtyFourMegabytesToFourClientsWithBoundedRss) {
  // Skipped when run by hand without meson: the binary's path comes from meson's environment.
  if (!std::getenv("HUE_SWS")) GTEST_SKIP() << "HUE_SWS (the hue-sws binary) is set by meson test";
  ASSERT_GE(sodium_init(), 0);
  docroot dir;
  constexpr std::uint64_t size = 64ull << 20;
  write_pattern_file(dir.root / "huge.bin", size);
  const std::string want = sha256_of_file(dir.root / "huge.bin");
  binary b(dir.root, {"--quiet"});
  ASSERT_NE(b.port, 0) << b.line;
  const long before = b.kib("VmRSS:");
  std::vector<download> got(4);
  std::vector<std::thread> clients;
  for (int k = 0; k < 4; ++k)
    clients.emplace_back([&, k] { got[k] = fetch_hashed(b.port, "/huge.bin", k == 0 ? 200us : 0us); });
  for (auto& t : clients) t.join();
  const long peak = b.kib("VmHWM:");
  for (const download& d : got) {
    EXPECT_EQ(d.status, 200);
    EXPECT_EQ(d.bytes, size);
    EXPECT_EQ(d.sha256, want);
  }
  // 4 x 64 MB went out; the server's peak RSS grows far less than one copy of the file. Growth,
  // not an absolute peak: under AddressSanitizer the baseline alone is ~48 MiB (shadow memory).
  std::printf("hue-sws RSS: %ld KiB before, peak %ld KiB, for 4 x 64 MiB sent\n", before, peak);
  EXPECT_GT(peak, 0);
  EXPECT_LT(peak - before, 32 * 1024) << "the server's peak RSS grew toward the file's size";
}

TEST(StaticBinary, SighupReloadsAndAFailedRescanIsLogged) {
  // Skipped when run by hand without meson: the binary's path comes from meson's environment.
  if (!std::getenv("HUE_SWS")) GTEST_SKIP() << "HUE_SWS (the hue-sws binary) is set by meson test";
  docroot dir;
  binary b(dir.root, {});
  ASSERT_NE(b.port, 0) << b.line;
  write_file(dir.root / "new.txt", "new\n");
  ASSERT_EQ(::kill(b.pid, SIGHUP), 0);
  EXPECT_TRUE(hue_test::eventually([&] {
    auto r = ask(b.port, get("/new.txt"));
    return r && r->status == 200 && r->body == "new\n";
  }, 10s));
  fs::rename(dir.root, dir.base / "away");
  ASSERT_EQ(::kill(b.pid, SIGHUP), 0);
  EXPECT_TRUE(hue_test::eventually([&] {
    return b.stderr_text().find("reload failed, still serving the previous snapshot") != std::string::npos;
  }, 10s)) << b.stderr_text();
  auto r = ask(b.port, get("/new.txt"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "new\n");
  fs::rename(dir.base / "away", dir.root);
}

TEST(StaticBinary, ListensOnIpv6Loopback) {
  // Skipped when run by hand without meson: the binary's path comes from meson's environment.
  if (!std::getenv("HUE_SWS")) GTEST_SKIP() << "HUE_SWS (the hue-sws binary) is set by meson test";
  // Skipped, not failed, where the kernel has IPv6 off: the feature cannot be exercised there.
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback (::1) on this machine";
  docroot dir;
  binary b(dir.root, {"--address", "::1"});
  ASSERT_NE(b.line.find("[::1]:"), std::string::npos) << b.line;
  ASSERT_NE(b.port, 0) << b.line;
  EXPECT_EQ(fetch_hashed(b.port, "/a.txt", 0us, "::1").bytes, 1000u);
}

// RFC 9112 §3 recommends every recipient support request lines of at least 8,000 octets: the
// binary, with its default limits, serves them (a browser's fields after them too) and answers
// 414 past them, also to a line that arrives in pieces and never ends.
TEST(StaticBinary, RequestLinesUpTo8000OctetsAreServedAndLongerOnesGet414) {
  // Skipped when run by hand without meson: the binary's path comes from meson's environment.
  if (!std::getenv("HUE_SWS")) GTEST_SKIP() << "HUE_SWS (the hue-sws binary) is set by meson test";
  docroot dir;
  binary b(dir.root, {"--quiet"});
  ASSERT_NE(b.port, 0) << b.line;
  // "GET " target " HTTP/1.1\r\n": 15 octets besides the target.
  auto line_of = [](const std::string& target) { return target.size() + 15; };
  // What a browser sends after the line: about 500 bytes, which an 8 KiB head limit would turn
  // into a 431 after a line this long.
  const std::string fields =
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/120.0.0.0 Safari/537.36\r\n"
      "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
      "*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\n"
      "Cookie: session=" + std::string(200, 'c') + "\r\n";

  // A real file through 3,982 "./" segments: a 7,989-octet line, answered 200.
  std::string dots = "/";
  for (int k = 0; k < 3982; ++k) dots += "./";
  dots += "sub/b.css";
  ASSERT_EQ(line_of(dots), 7989u);
  auto r = ask(b.port, get(dots, fields));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "b{}\n");

  // Exactly 8,000 octets, many short segments naming no file: 404, and the connection stays.
  std::string segments;
  while (line_of(segments) + 2 <= 8000) segments += "/s";
  segments += std::string(8000 - line_of(segments), 'x');
  ASSERT_EQ(line_of(segments), 8000u);
  const int fd = dial(b.port);
  ASSERT_GE(fd, 0);
  send_all(fd, get(segments, fields) + get("/sub/b.css"));
  std::string buf;
  r = read_reply(fd, buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(r->keep_alive);
  r = read_reply(fd, buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ::close(fd);

  // One segment far over NAME_MAX (255): no file has that name, 404 (not a 500, not a crash).
  r = ask(b.port, get("/sub/" + std::string(7900, 'n') + ".css", fields));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  // 8,001 and 9,000 octets: 414, and the connection closes.
  for (const std::size_t octets : {std::size_t{8001}, std::size_t{9000}}) {
    const std::string target = "/" + std::string(octets - 16, 'a');
    ASSERT_EQ(line_of(target), octets);
    const int c = dial(b.port);
    ASSERT_GE(c, 0);
    send_all(c, get(target, fields));
    std::string rest;
    r = read_reply(c, rest);
    ASSERT_TRUE(r) << octets;
    EXPECT_EQ(r->status, 414) << octets;
    EXPECT_FALSE(r->keep_alive) << octets;
    ::close(c);
  }

  // A line that passes the limit in pieces and never ends: 414 once it is past, not after the
  // header time-out (10 s, which the read below would not outlast).
  const int slow = dial(b.port);
  ASSERT_GE(slow, 0);
  const int one = 1;
  ::setsockopt(slow, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  send_all(slow, "GET /");
  for (int k = 0; k < 40; ++k) {  // 5 + 8,000 bytes, 200 at a time: one past the limit
    std::this_thread::sleep_for(1ms);
    send_all(slow, std::string(200, 'a'));
  }
  const auto start = std::chrono::steady_clock::now();
  std::string slow_buf;
  r = read_reply(slow, slow_buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 414);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ::close(slow);
}

TEST(StaticBinary, CurlResumesADownloadWithContinueAt) {
  // Skipped when run by hand without meson: the binary's path comes from meson's environment.
  if (!std::getenv("HUE_SWS")) GTEST_SKIP() << "HUE_SWS (the hue-sws binary) is set by meson test";
  // Skipped without curl: the point is that a real client (curl -C -) resumes.
  if (std::system("curl --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "curl is not installed";
  docroot dir;
  binary b(dir.root, {"--quiet"});
  ASSERT_NE(b.port, 0) << b.line;
  // A download cut off after 1,234,567 bytes, resumed by `curl -C -` (which sends Range).
  const fs::path part = dir.base / "part.bin";
  write_file(part, pattern_string(0, 1'234'567));
  const std::string url = "http://127.0.0.1:" + std::to_string(b.port) + "/big.bin";
  const std::string cmd = "curl -sS -f -C - -o " + part.string() + " -w '%{http_code}' " + url +
                          " > " + (dir.base / "code.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream code(dir.base / "code.txt");
  std::string http_code;
  code >> http_code;
  EXPECT_EQ(http_code, "206");
  EXPECT_EQ(fs::file_size(part), 3u << 20);
  EXPECT_EQ(sha256_of_file(part), sha256_of_file(dir.root / "big.bin"));
}

}  // namespace
