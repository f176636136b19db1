// tests/test_echo.cpp — the echo server in both styles over loopback: many connections, resets,
// running out of fds.
#include "echo_server.hpp"
#include "net_support.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using hue_test::eventually;

namespace {

enum class style { handlers, coroutines };
std::string name_of(const testing::TestParamInfo<style>& p) {
  return p.param == style::handlers ? "Handlers" : "Coroutines";
}

// A runtime with stealing on, a reactor, and the server of the chosen style on a free port.
struct fixture {
  hue::runtime rt;
  std::unique_ptr<hue::reactor> io;
  std::unique_ptr<echo::handler_server> handlers;
  std::unique_ptr<echo::coro_server> coroutines;
  std::uint16_t port = 0;

  explicit fixture(style s, echo::open_hook on_open = {})
      : rt(hue_test::stealing_workers(2)), io(std::make_unique<hue::reactor>(rt)) {
    const int fd = hue::net::listen_tcp({"127.0.0.1", 0});
    port = hue::net::local_port(fd);
    if (s == style::handlers) handlers = std::make_unique<echo::handler_server>(*io, fd, on_open);
    else coroutines = std::make_unique<echo::coro_server>(*io, fd, on_open);
  }
  // The documented order: stop and wait for the runtime, then the server, then the reactor.
  ~fixture() {
    rt.stop();
    rt.wait();
    handlers.reset();
    io.reset();
    coroutines.reset();
  }
  const echo::counters& stats() const { return handlers ? handlers->stats() : coroutines->stats(); }
  std::uint64_t shed() const {
    return handlers ? handlers->acceptor().shed() : coroutines->shed();
  }
};


int open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d)) ++n;
    ::closedir(d);
  }
  return n;
}

void raise_fd_limit(rlim_t want) {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < want) {
    r.rlim_cur = std::min(want, r.rlim_max);
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

// Sends `len` bytes of a pattern unique to connection `id` on every connection at once and checks
// every byte that comes back, driving all sockets from one thread with poll().
bool echo_all(const std::vector<int>& fds, std::size_t len, std::string& why) {
  const std::size_t n = fds.size();
  std::vector<std::size_t> sent(n, 0), got(n, 0);
  auto byte = [](std::size_t id, std::size_t i) { return static_cast<char>((id * 31 + i * 7) & 0xff); };
  std::vector<pollfd> p(n);
  std::vector<char> buf(65536);
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  std::size_t complete = 0;
  while (complete < n) {
    if (std::chrono::steady_clock::now() > deadline) {
      why = "timed out with " + std::to_string(n - complete) + " connections incomplete";
      return false;
    }
    for (std::size_t i = 0; i < n; ++i) {
      p[i].fd = got[i] == len ? -1 : fds[i];
      p[i].events = POLLIN | (sent[i] < len ? POLLOUT : 0);
      p[i].revents = 0;
    }
    if (::poll(p.data(), n, 1000) < 0) continue;
    for (std::size_t i = 0; i < n; ++i) {
      if (p[i].revents & POLLOUT) {
        char out[4096];
        const std::size_t k = std::min(sizeof out, len - sent[i]);
        for (std::size_t j = 0; j < k; ++j) out[j] = byte(i, sent[i] + j);
        const ssize_t w = ::send(fds[i], out, k, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) sent[i] += static_cast<std::size_t>(w);
      }
      if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t r = ::recv(fds[i], buf.data(), buf.size(), MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN)) {
          why = "connection " + std::to_string(i) + " closed after " + std::to_string(got[i]);
          return false;
        }
        for (ssize_t j = 0; j < r; ++j) {
          if (buf[j] != byte(i, got[i] + j)) {
            why = "connection " + std::to_string(i) + ": wrong byte at " + std::to_string(got[i] + j);
            return false;
          }
        }
        if (r > 0) {
          got[i] += static_cast<std::size_t>(r);
          if (got[i] == len) ++complete;
        }
      }
    }
  }
  return true;
}

class Echo : public testing::TestWithParam<style> {};

TEST_P(Echo, ThousandConcurrentConnectionsEveryByteBack) {
  constexpr int clients = 1000;
  raise_fd_limit(3 * clients);
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  // Both ends of 1,000 connections live in this process: a machine whose hard fd limit is below
  // that cannot run the test at all (a property of the machine, not a failure; here it is 20,000).
  if (r.rlim_cur < 2 * clients + 64)
    GTEST_SKIP() << "needs " << 2 * clients + 64 << " fds; RLIMIT_NOFILE hard limit is " << r.rlim_max;
  fixture f(GetParam());
  std::vector<int> fds;
  for (int i = 0; i < clients; ++i) {
    const int fd = hue_test::dial_loopback(f.port);
    ASSERT_GE(fd, 0) << "connect " << i << ": " << std::strerror(errno);
    fds.push_back(fd);
  }
  std::string why;
  EXPECT_TRUE(echo_all(fds, 20'000, why)) << why;
  for (int fd : fds) ::close(fd);
  EXPECT_TRUE(eventually([&] { return f.stats().closed.load() == clients; }));
  EXPECT_EQ(f.stats().accepted.load(), static_cast<std::uint64_t>(clients));
  EXPECT_EQ(f.stats().bytes.load(), 20'000ull * clients);
}

// Regression: a connection's color was its fd, so the connection on fd 1 shared Accept's color
// (fixed color 1), one on fd 0 the default color 0, and a reused fd the previous connection's
// color. Each connection now gets a fresh color: never a fixed color, never the Epoll color,
// never another connection's, and its handlers run on it.
TEST_P(Echo, ConnectionColorsAreFreshNeverFixedOrEpollColors) {
  struct opened {
    hue::color_t color;
    std::optional<hue::color_t> ran_on;
  };
  std::mutex mu;
  std::vector<opened> seen;
  fixture f(GetParam(), [&](hue::color_t c) {
    std::lock_guard l(mu);
    seen.push_back({c, hue::runtime::current_color()});
  });
  // Two rounds held open together: the second reuses the first one's fd numbers.
  constexpr int rounds = 2, per_round = 150;
  for (int round = 0; round < rounds; ++round) {
    std::vector<int> fds;
    for (int i = 0; i < per_round; ++i) {
      const int fd = hue_test::dial_loopback(f.port);
      ASSERT_GE(fd, 0) << "connect " << i << ": " << std::strerror(errno);
      fds.push_back(fd);
    }
    std::string why;
    ASSERT_TRUE(echo_all(fds, 16, why)) << why;  // every connection open and served
    for (int fd : fds) ::close(fd);
  }
  ASSERT_TRUE(eventually([&] { return f.stats().closed.load() == rounds * per_round; }));
  std::lock_guard l(mu);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(rounds * per_round));
  std::set<hue::color_t> distinct;
  std::size_t fixed = 0, on_epoll = 0, elsewhere = 0;
  for (const opened& o : seen) {
    fixed += o.color < hue::first_fresh_color;  // 0, 1 (Accept) and every other constant
    on_epoll += o.color == f.io->color();
    elsewhere += o.ran_on != o.color;
    distinct.insert(o.color);
  }
  EXPECT_EQ(fixed, 0u) << "connections on fixed colors, as fd-derived ones were";
  EXPECT_EQ(on_epoll, 0u) << "connections on the Epoll color";
  EXPECT_EQ(elsewhere, 0u) << "a connection's open ran on another color";
  EXPECT_EQ(distinct.size(), seen.size()) << "two connections shared a color";
  // Placement kept: the colors' hash spreads connections over every core. A runtime of the same
  // shape, with nothing stolen or pinned, names each color's home core.
  hue::runtime probe(hue_test::workers(f.rt.workers()));
  std::vector<std::size_t> per_core(f.rt.workers(), 0);
  for (const opened& o : seen) ++per_core[probe.core_of(o.color)];
  for (std::size_t k = 0; k < per_core.size(); ++k)
    EXPECT_GE(per_core[k], seen.size() / 10) << "core " << k << " got almost no connections";
}

// A peer that resets while the server writes to it (it sent a lot and reads nothing) must not kill
// the process (SIGPIPE) or leak the server's fd, and other clients go on being served.
TEST_P(Echo, PeersResettingMidWriteAreClosedCleanly) {
  fixture f(GetParam());
  const int fds_before = open_fds();
  for (int round = 0; round < 20; ++round) {
    const int fd = hue_test::dial_loopback(f.port);
    ASSERT_GE(fd, 0);
    std::string big(1 << 20, 'x');  // more than the socket buffers hold: the server's writes block
    std::size_t off = 0;
    while (off < big.size()) {
      const ssize_t w = ::send(fd, big.data() + off, big.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    linger l{1, 0};  // close with RST
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
  }
  EXPECT_TRUE(eventually([&] { return f.stats().closed.load() == 20; }));
  EXPECT_TRUE(eventually([&] { return open_fds() <= fds_before; })) << open_fds() << " fds open";
  // Still serving.
  const int fd = hue_test::dial_loopback(f.port);
  ASSERT_GE(fd, 0);
  std::string why;
  EXPECT_TRUE(echo_all({fd}, 1000, why)) << why;
  ::close(fd);
}

// With the fd table nearly full, the accept loop sheds connections instead of stalling, and
// serves again once fds are free.
TEST_P(Echo, OutOfFdsShedsThenServesAgain) {
  fixture f(GetParam());
  constexpr int clients = 30;
  std::vector<int> socks;  // created before the limit drops: connect() needs no new fd
  for (int i = 0; i < clients + 1; ++i) socks.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int highest = 0;
  for (int fd : socks) highest = std::max(highest, fd);
  rlimit saved{};
  getrlimit(RLIMIT_NOFILE, &saved);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest + 1 + 5);  // room for about five accepted sockets
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  struct restore {
    rlimit r;
    ~restore() { setrlimit(RLIMIT_NOFILE, &r); }
  } restore_limit{saved};

  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(f.port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < clients; ++i)
    ASSERT_EQ(::connect(socks[i], reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_TRUE(eventually([&] { return f.shed() > 0; })) << "no connection was shed";
  const std::uint64_t accepted = f.stats().accepted.load();
  EXPECT_LT(accepted, static_cast<std::uint64_t>(clients));
  for (int i = 0; i < clients; ++i) ::close(socks[i]);  // frees the server's fds as it sees EOF
  EXPECT_TRUE(eventually([&] { return f.stats().closed.load() == f.stats().accepted.load(); }));
  std::this_thread::sleep_for(50ms);  // past the acceptor's back-off
  ASSERT_EQ(::connect(socks[clients], reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string why;
  EXPECT_TRUE(echo_all({socks[clients]}, 5000, why)) << why;
  ::close(socks[clients]);
}

INSTANTIATE_TEST_SUITE_P(BothStyles, Echo, testing::Values(style::handlers, style::coroutines),
                         name_of);

}  // namespace
