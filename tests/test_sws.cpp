// tests/test_sws.cpp — SWS end to end over loopback, in both styles: conformance, traversal,
// time-outs, limits, bad peers, and a graceful SIGTERM of the real binary under load.
#include "server.hpp"
#include "sws_support.hpp"
#include "net_support.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using hue_test::eventually;
namespace fs = std::filesystem;

namespace {

// A document root with a few files, a large one, a secret next to it and a symlink to the secret.
struct docroot {
  fs::path base;
  fs::path root;
  std::string large;
  docroot() {
    char tmpl[] = "/tmp/hue-sws-test-XXXXXX";
    base = ::mkdtemp(tmpl);
    root = base / "www";
    fs::create_directories(root / "sub");
    write(root / "index.html", "<h1>hue</h1>\n");
    write(root / "a.txt", std::string(1024, 'a'));
    write(root / "sub" / "b.css", "b{}\n");
    write(root / "sub" / "index.html", "sub index\n");
    large.resize(3 << 20);
    for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>('A' + i % 26);
    write(root / "large.bin", large);
    write(base / "secret.txt", "TOP-SECRET\n");
    fs::create_symlink(base / "secret.txt", root / "link-out");
    fs::create_symlink(root / "a.txt", root / "link-in");
  }
  ~docroot() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  static void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
};

enum class style { handlers, coroutines };
struct variant {
  style s;
  unsigned reactors;  // 1: the paper's single Epoll; 2: one reactor per core, SO_REUSEPORT
};

struct sws_fixture {
  docroot dir;
  hue::runtime rt;
  std::unique_ptr<hue::reactor> io;
  std::unique_ptr<sws::server> srv;

  sws_fixture(variant v, sws::config cfg) : rt(hue_test::stealing_workers(2)), io(std::make_unique<hue::reactor>(rt)) {
    const style s = v.s;
    cfg.reactors = v.reactors;
    cfg.root = dir.root.string();
    cfg.at = {"127.0.0.1", 0};
    cfg.quiet = true;
    if (s == style::handlers) srv = std::make_unique<sws::handler_server>(*io, cfg);
    else srv = std::make_unique<sws::coro_server>(*io, cfg);
  }
  ~sws_fixture() {
    rt.stop();
    rt.wait();
    srv.reset();
    io.reset();
  }
};


// The wire helpers are shared with the RFC and static-file suites (sws_support.hpp).
using sws_test::read_reply;
using sws_test::reply;
using sws_test::send_all;

// One request on a fresh connection.
std::optional<reply> ask(std::uint16_t port, const std::string& request, bool head = false) {
  const int fd = hue_test::dial_loopback(port);
  if (fd < 0) return std::nullopt;
  send_all(fd, request);
  std::string buf;
  auto r = read_reply(fd, buf, head);
  ::close(fd);
  return r;
}

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

bool closed_by_peer(int fd) {
  char c;
  return ::recv(fd, &c, 1, 0) == 0;
}

class Sws : public testing::TestWithParam<variant> {};

TEST_P(Sws, ServesFilesWithTheRightHeaders) {
  sws_fixture f(GetParam(), {});
  const std::uint16_t port = f.srv->port();
  auto r = ask(port, get("/a.txt"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::string(1024, 'a'));
  EXPECT_NE(r->head.find("Content-Type: text/plain"), std::string::npos);
  EXPECT_NE(r->head.find("Date: "), std::string::npos);
  r = ask(port, get("/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "<h1>hue</h1>\n");
  r = ask(port, get("/sub/"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "sub index\n");
  r = ask(port, get("/link-in"));  // a symlink inside the root is served
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_P(Sws, HeadHasHeadersButNoBody) {
  sws_fixture f(GetParam(), {});
  const int fd = hue_test::dial_loopback(f.srv->port());
  send_all(fd, "HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n" + get("/sub/b.css"));
  std::string buf;
  auto h = read_reply(fd, buf, true);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_NE(h->head.find("Content-Length: 1024"), std::string::npos);
  auto g = read_reply(fd, buf);  // the next response starts right after HEAD's headers
  ASSERT_TRUE(g);
  EXPECT_EQ(g->body, "b{}\n");
  ::close(fd);
}

TEST_P(Sws, EveryErrorStatus) {
  sws::config cfg;
  cfg.limits.max_header_bytes = 2048;
  sws_fixture f(GetParam(), cfg);
  const std::uint16_t port = f.srv->port();
  struct c {
    std::string request;
    int status;
  } cases[] = {
      {get("/nope.html"), 404},
      {"POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", 405},
      {"BREW /a.txt HTTP/1.1\r\nHost: t\r\n\r\n", 501},
      {"GET /a.txt HTTP/2.0\r\nHost: t\r\n\r\n", 505},
      {"GET /a.txt HTTP/1.1\r\nBad Header\r\n\r\n", 400},
      {"GARBAGE\r\n\r\n", 400},
      {get("/a.txt", "X-Big: " + std::string(4000, 'x') + "\r\n"), 431},
  };
  for (const c& k : cases) {
    auto r = ask(port, k.request);
    ASSERT_TRUE(r) << k.request.substr(0, 40);
    EXPECT_EQ(r->status, k.status) << k.request.substr(0, 40);
  }
  auto r = ask(port, "POST /a.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_NE(r->head.find("Allow: GET, HEAD"), std::string::npos);
}

TEST_P(Sws, PipelinedRequestsAnsweredInOrder) {
  sws_fixture f(GetParam(), {});
  const int fd = hue_test::dial_loopback(f.srv->port());
  std::string burst;
  const char* targets[] = {"/a.txt", "/sub/b.css", "/nope", "/", "/sub/"};
  for (int round = 0; round < 20; ++round)
    for (const char* t : targets) burst += get(t);
  send_all(fd, burst);
  std::string buf;
  for (int round = 0; round < 20; ++round) {
    for (const char* t : targets) {
      auto r = read_reply(fd, buf);
      ASSERT_TRUE(r) << t;
      EXPECT_EQ(r->status, std::string(t) == "/nope" ? 404 : 200) << t;
      if (std::string(t) == "/sub/b.css") {
        EXPECT_EQ(r->body, "b{}\n");
      }
    }
  }
  ::close(fd);
}

TEST_P(Sws, RequestSplitByteByByte) {
  sws_fixture f(GetParam(), {});
  const int fd = hue_test::dial_loopback(f.srv->port());
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string req = get("/sub/b.css") + get("/a.txt");
  for (char ch : req) {
    send_all(fd, std::string_view(&ch, 1));
    std::this_thread::sleep_for(200us);
  }
  std::string buf;
  auto a = read_reply(fd, buf);
  auto b = read_reply(fd, buf);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "b{}\n");
  EXPECT_EQ(b->body.size(), 1024u);
  ::close(fd);
}

TEST_P(Sws, ConnectionCloseAndHttp10) {
  sws_fixture f(GetParam(), {});
  const std::uint16_t port = f.srv->port();
  {  // Connection: close: answered, then closed
    const int fd = hue_test::dial_loopback(port);
    send_all(fd, get("/a.txt", "Connection: close\r\n"));
    std::string buf;
    auto r = read_reply(fd, buf);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->keep_alive);
    EXPECT_TRUE(closed_by_peer(fd));
    ::close(fd);
  }
  {  // HTTP/1.0: closes by default
    const int fd = hue_test::dial_loopback(port);
    send_all(fd, "GET /a.txt HTTP/1.0\r\n\r\n");
    std::string buf;
    auto r = read_reply(fd, buf);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->keep_alive);
    EXPECT_TRUE(closed_by_peer(fd));
    ::close(fd);
  }
  {  // HTTP/1.0 with keep-alive: stays open for a second request
    const int fd = hue_test::dial_loopback(port);
    send_all(fd, "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    std::string buf;
    auto r = read_reply(fd, buf);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->keep_alive);
    send_all(fd, "GET /sub/b.css HTTP/1.0\r\n\r\n");
    r = read_reply(fd, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "b{}\n");
    ::close(fd);
  }
}

TEST_P(Sws, LargeFileServedWhole) {
  sws_fixture f(GetParam(), {});
  const int fd = hue_test::dial_loopback(f.srv->port());
  send_all(fd, get("/large.bin") + get("/large.bin"));
  std::string buf;
  for (int i = 0; i < 2; ++i) {
    auto r = read_reply(fd, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(r->body == f.dir.large) << "body " << i << " differs (" << r->body.size() << " bytes)";
  }
  ::close(fd);
}

TEST_P(Sws, TraversalNeverLeavesTheRoot) {
  sws_fixture f(GetParam(), {});
  const std::uint16_t port = f.srv->port();
  const char* attempts[] = {
      "/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/%2E%2e%2Fsecret.txt",
      "/sub/../../secret.txt", "/./../secret.txt", "/link-out", "//../secret.txt",
      "/a.txt%00.html", "/%00", "/sub/%2e%2e/%2e%2e/secret.txt", "/..\\secret.txt",
      "http://t/../secret.txt", "/....//secret.txt", "/sub/..%5c..%5csecret.txt",
  };
  for (const char* t : attempts) {
    auto r = ask(port, get(t));
    ASSERT_TRUE(r) << t;
    EXPECT_TRUE(r->status == 400 || r->status == 404) << t << " -> " << r->status;
    EXPECT_EQ(r->body.find("TOP-SECRET"), std::string::npos) << t;
  }
}

// A client trickling its headers is cut off at the header time-out, while others are served.
TEST_P(Sws, SlowlorisIsClosedOthersServed) {
  sws::config cfg;
  cfg.header_timeout = 300ms;
  sws_fixture f(GetParam(), cfg);
  const std::uint16_t port = f.srv->port();
  const int slow = hue_test::dial_loopback(port);
  const auto start = std::chrono::steady_clock::now();
  bool cut = false;
  const std::string req = get("/a.txt", "X-Slow: " + std::string(200, 's') + "\r\n");
  for (std::size_t i = 0; i < req.size() - 2; ++i) {
    if (::send(slow, &req[i], 1, MSG_NOSIGNAL) != 1) {
      cut = true;
      break;
    }
    auto r = ask(port, get("/sub/b.css"));  // others keep being served meanwhile
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    std::this_thread::sleep_for(20ms);
    if (std::chrono::steady_clock::now() - start > 3s) break;
  }
  if (!cut) {
    char c;
    cut = ::recv(slow, &c, 1, 0) <= 0;
  }
  EXPECT_TRUE(cut) << "the slow client was never closed";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_GE(f.srv->stats().timeouts.load(), 1u);
  ::close(slow);
}

TEST_P(Sws, IdleKeepAliveTimesOut) {
  sws::config cfg;
  cfg.keepalive_timeout = 200ms;
  sws_fixture f(GetParam(), cfg);
  const int fd = hue_test::dial_loopback(f.srv->port());
  send_all(fd, get("/a.txt"));
  std::string buf;
  ASSERT_TRUE(read_reply(fd, buf));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(closed_by_peer(fd));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms);
  ::close(fd);
}

TEST_P(Sws, MaxClientsQueuesTheRestAndKeepsServing) {
  sws::config cfg;
  cfg.max_clients = 3;
  sws_fixture f(GetParam(), cfg);
  const std::uint16_t port = f.srv->port();
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(hue_test::dial_loopback(port));
    send_all(held.back(), get("/a.txt"));
    std::string buf;
    ASSERT_TRUE(read_reply(held.back(), buf));
  }
  // A fourth waits in the backlog...
  const int waiting = hue_test::dial_loopback(port);
  send_all(waiting, get("/sub/b.css"));
  std::this_thread::sleep_for(100ms);
  EXPECT_GE(f.srv->stats().paused_at_max.load(), 1u);
  // ...the three keep being served...
  std::string buf0;
  send_all(held[0], get("/sub/b.css"));
  ASSERT_TRUE(read_reply(held[0], buf0));
  // ...and it is served as soon as one leaves.
  ::close(held[1]);
  held[1] = -1;  // not closed twice below: the number may belong to someone else by then
  std::string buf;
  auto r = read_reply(waiting, buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "b{}\n");
  for (int fd : held)
    if (fd >= 0) ::close(fd);
  ::close(waiting);
}

TEST_P(Sws, ClientResettingMidResponseDoesNotDisturbOthers) {
  sws_fixture f(GetParam(), {});
  const std::uint16_t port = f.srv->port();
  for (int i = 0; i < 10; ++i) {
    const int fd = hue_test::dial_loopback(port);
    std::string burst;
    for (int k = 0; k < 8; ++k) burst += get("/large.bin");
    send_all(fd, burst);
    char c[1000];
    (void)::recv(fd, c, sizeof c, 0);  // the server is writing 24 MB we will not read
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);  // RST
  }
  auto r = ask(port, get("/a.txt"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(eventually([&] { return f.srv->stats().closed.load() >= 10; }));
}

TEST_P(Sws, OutOfFdsKeepsAccepting) {
  sws_fixture f(GetParam(), {});
  const std::uint16_t port = f.srv->port();
  std::vector<int> socks;
  for (int i = 0; i < 21; ++i) socks.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int highest = 0;
  for (int fd : socks) highest = std::max(highest, fd);
  rlimit saved{};
  getrlimit(RLIMIT_NOFILE, &saved);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(highest + 1 + 3);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < 20; ++i) ::connect(socks[i], reinterpret_cast<sockaddr*>(&a), sizeof a);
  EXPECT_TRUE(eventually([&] { return f.srv->shed() > 0; }));
  for (int i = 0; i < 20; ++i) ::close(socks[i]);
  EXPECT_TRUE(eventually([&] { return f.srv->stats().closed.load() == f.srv->stats().accepted.load(); }));
  setrlimit(RLIMIT_NOFILE, &saved);
  std::this_thread::sleep_for(60ms);  // past the back-off
  ::close(socks[20]);
  auto r = ask(port, get("/a.txt"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_P(Sws, AccessLogHasOneLinePerRequest) {
  char name[] = "/tmp/hue-sws-log-XXXXXX";
  const int lfd = ::mkstemp(name);
  ASSERT_GE(lfd, 0);
  ::close(lfd);
  {
    sws::config cfg;
    cfg.access_log = name;
    sws_fixture f(GetParam(), cfg);
    ASSERT_TRUE(ask(f.srv->port(), get("/a.txt")));
    ASSERT_TRUE(ask(f.srv->port(), get("/missing")));
  }  // the server closes (and so flushes) its log
  std::ifstream in(name);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(name);
  EXPECT_NE(all.find("GET /a.txt 200"), std::string::npos) << all;
  EXPECT_NE(all.find(" 404"), std::string::npos) << all;
}

// Regression: connections were colored 16 + fd, and reactor k's Epoll event 100 + k, so with
// --reactors 2 the connection on fd 85 ran on reactor 1's pinned Epoll color (serialized with
// its polling, never stolen), and a connection on a reused fd took the previous one's color.
// Each connection now gets a fresh color: never a fixed color (Accept's), never an Epoll color,
// never another connection's. The access log names each request's color.
TEST_P(Sws, ConnectionColorsAreFreshNeverEpollOrAcceptColors) {
  char name[] = "/tmp/hue-sws-log-XXXXXX";
  const int lfd = ::mkstemp(name);
  ASSERT_GE(lfd, 0);
  ::close(lfd);
  // Two rounds of connections held open together: the second reuses the first one's fd numbers,
  // and the server's ends take about half of the numbers up to a few hundred, so colors derived
  // from fds would hit 84 + k.
  constexpr int rounds = 2, per_round = 150;
  std::vector<hue::color_t> epoll;
  unsigned workers = 0;
  {
    sws::config cfg;
    cfg.access_log = name;
    sws_fixture f(GetParam(), cfg);
    epoll = f.srv->epoll_colors();
    ASSERT_EQ(epoll.size(), GetParam().reactors);
    workers = f.rt.workers();
    for (int round = 0; round < rounds; ++round) {
      std::vector<int> fds;
      for (int i = 0; i < per_round; ++i) {
        const int fd = hue_test::dial_loopback(f.srv->port());
        ASSERT_GE(fd, 0) << "connect " << i << ": " << std::strerror(errno);
        fds.push_back(fd);
        send_all(fd, get("/a.txt"));
      }
      for (int fd : fds) {
        std::string buf;
        auto r = read_reply(fd, buf);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
        ::close(fd);
      }
    }
  }  // the server closes (and so flushes) its log
  std::ifstream in(name);
  std::vector<hue::color_t> colors;
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find(" color=");
    ASSERT_NE(at, std::string::npos) << line;
    colors.push_back(std::strtoull(line.c_str() + at + 7, nullptr, 10));
  }
  std::remove(name);
  ASSERT_EQ(colors.size(), static_cast<std::size_t>(rounds * per_round));
  std::size_t fixed = 0, on_epoll = 0;
  for (const hue::color_t c : colors) {
    fixed += c < hue::first_fresh_color;  // Accept's color among them
    on_epoll += std::count(epoll.begin(), epoll.end(), c);
  }
  EXPECT_EQ(fixed, 0u) << "connections on fixed colors, as fd-derived ones were";
  EXPECT_EQ(on_epoll, 0u) << "connections on a reactor's Epoll color";
  EXPECT_EQ(std::set<hue::color_t>(colors.begin(), colors.end()).size(), colors.size())
      << "two connections shared a color";
  for (const hue::color_t e : epoll) EXPECT_GE(e, hue::first_fresh_color);
  EXPECT_EQ(std::set<hue::color_t>(epoll.begin(), epoll.end()).size(), epoll.size());

  // Placement kept: reactor 0's connections spread over every core by their colors' hash (reactor
  // k's stay on core k), so no core is left without connections. A runtime of the same shape,
  // with nothing stolen or pinned yet, names each color's home core.
  hue::runtime probe(hue_test::workers(workers));
  std::vector<unsigned> per_core(workers, 0);
  for (const hue::color_t c : colors) ++per_core[probe.core_of(c)];
  for (unsigned k = 0; k < workers; ++k)
    EXPECT_GE(per_core[k], colors.size() / 10) << "core " << k << " got almost no connections";
}

INSTANTIATE_TEST_SUITE_P(BothStyles, Sws,
                         testing::Values(variant{style::handlers, 1}, variant{style::coroutines, 1},
                                         variant{style::handlers, 2}, variant{style::coroutines, 2}),
                         [](const testing::TestParamInfo<variant>& p) {
                           return std::string(p.param.s == style::handlers ? "Handlers" : "Coroutines") +
                                  (p.param.reactors > 1 ? "TwoReactors" : "");
                         });

// The real binary: SIGTERM while clients are mid-conversation. Every request sent before the
// signal is answered whole, and the process exits 0.
TEST(SwsBinary, SigtermDuringLoadFinishesInFlightAndExitsZero) {
  const char* exe = std::getenv("HUE_SWS");
  // meson test always sets HUE_SWS (tests/meson.build); only a hand-run binary lacks it, and then
  // there is no server binary to start.
  if (!exe) GTEST_SKIP() << "HUE_SWS (the hue-sws binary) is set by meson test";
  docroot dir;
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::execl(exe, exe, "--root", dir.root.c_str(), "--port", "0", "--workers", "2",
            "--shutdown-grace", "5000", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(out[1]);
  std::string line;
  char ch;
  while (::read(out[0], &ch, 1) == 1 && ch != '\n') line += ch;
  ::close(out[0]);
  const auto colon = line.find("127.0.0.1:");
  ASSERT_NE(colon, std::string::npos) << line;
  const auto port = static_cast<std::uint16_t>(std::atoi(line.c_str() + colon + 10));

  constexpr int clients = 8;
  std::vector<int> fds;
  for (int i = 0; i < clients; ++i) {
    fds.push_back(hue_test::dial_loopback(port));
    ASSERT_GE(fds.back(), 0);
    send_all(fds.back(), get("/large.bin") + get("/a.txt"));
  }
  // Every connection accepted and its first response under way when the signal lands (a client
  // still in the listen backlog at that moment is refused: stopping means no new connections).
  std::vector<std::string> bufs(clients);
  for (int i = 0; i < clients; ++i) {
    char c;
    ASSERT_EQ(::recv(fds[i], &c, 1, 0), 1);
    bufs[i].assign(1, c);
  }
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  for (int i = 0; i < clients; ++i) {
    const int fd = fds[i];
    std::string& buf = bufs[i];
    auto big = read_reply(fd, buf);
    auto small = read_reply(fd, buf);
    ASSERT_TRUE(big && small);
    EXPECT_EQ(big->body.size(), dir.large.size());
    EXPECT_EQ(small->body.size(), 1024u);
    EXPECT_TRUE(closed_by_peer(fd));
    ::close(fd);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace

// Regression (memory per idle connection): a keep-alive connection kept its 4 KiB input buffer
// and its composed bytes while waiting for the next request, 5.6 KB per idle connection against
// nginx's 0.5 KB (tools/sws-memory). Between requests, with nothing buffered, they are freed; a
// partial request or unwritten output keeps them.
TEST(Session, idle_keepalive_connection_releases_its_buffers) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  sws::session s;
  const std::string req = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(sv[1], req.data(), req.size()), static_cast<ssize_t>(req.size()));
  ASSERT_EQ(s.read_from(sv[0], 16384), hue::net::io_status::ok);
  const sws::session::parsed p = s.parse({});
  ASSERT_EQ(p.what, sws::session::parsed::request);
  s.respond_generated(200, "text/plain", "hello", false, true);
  s.release_idle();  // output still queued: nothing may go
  EXPECT_GT(s.buffer_bytes(), 4000u);
  ASSERT_EQ(s.flush(sv[0]), hue::net::io_status::ok);
  const std::string partial = "GET /b HTTP/1.1\r\n";  // half a request: its bytes must stay
  ASSERT_EQ(::write(sv[1], partial.data(), partial.size()), static_cast<ssize_t>(partial.size()));
  ASSERT_EQ(s.read_from(sv[0], 16384), hue::net::io_status::ok);
  s.release_idle();
  EXPECT_TRUE(s.partial_request());
  EXPECT_GT(s.buffer_bytes(), 4000u);
  const std::string rest = "Host: x\r\n\r\n";
  ASSERT_EQ(::write(sv[1], rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  ASSERT_EQ(s.read_from(sv[0], 16384), hue::net::io_status::ok);
  ASSERT_EQ(s.parse({}).what, sws::session::parsed::request);
  EXPECT_EQ(s.path(), "b");
  s.respond_generated(200, "text/plain", "again", false, true);
  ASSERT_EQ(s.flush(sv[0]), hue::net::io_status::ok);
  s.release_idle();  // idle, nothing buffered either way
  // What is left is the empty string's in-object capacity (15 with libstdc++), not heap.
  EXPECT_LT(s.buffer_bytes(), sizeof(std::string));
  ::close(sv[0]);
  ::close(sv[1]);
}
