// tests/test_reactor_backends.cpp — what the reactor's two backends (epoll, io_uring) must share:
// the choice made at run time, the fall-back when the kernel refuses io_uring, watches removed
// while their readiness is in flight, and signals handed between reactors of different backends.
// The rest of the reactor's suite runs once per backend (HUE_IO, tests/meson.build).
#include "net_support.hpp"
#include "support.hpp"

#include <hue/hue.hpp>

#include <gtest/gtest.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using hue_test::eventually;

namespace {

using hue_test::socket_pair;

hue::reactor_config on(hue::io_backend b) {
  hue::reactor_config c;
  c.io = b;
  return c;
}

// Whether this machine gives io_uring to a reactor. The io_uring tests skip (saying so) where it
// does not: hue built without liburing, or a kernel or seccomp policy that refuses the ring. There
// is then no backend to test; the fall-back itself is tested on every machine (seccomp below).
bool have_uring() {
  hue::runtime rt(hue_test::workers(1));
  return std::string(hue::reactor(rt, on(hue::io_backend::uring)).backend()) == "io_uring";
}

// Makes io_uring_setup fail with ENOSYS for this process, as a seccomp policy that refuses
// io_uring does (Docker's default profile, for one).
bool refuse_io_uring() {
  sock_filter prog[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog fprog{static_cast<unsigned short>(sizeof prog / sizeof prog[0]), prog};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) == 0;
}

}  // namespace

TEST(ReactorBackends, reactor_config_io_wins_over_the_runtime_choice) {
  // Skipped where io_uring is refused or not built in (have_uring says why): no backend to test.
  if (!have_uring()) GTEST_SKIP() << "io_uring unavailable here (not built in, or refused)";
  hue::config c = hue_test::workers(2);
  c.io = hue::io_backend::uring;
  hue::runtime rt(c);
  hue::reactor by_runtime(rt, hue::reactor_config{.core = 0, .color = std::nullopt});
  hue::reactor_config rc{.core = 1, .color = std::nullopt};
  rc.io = hue::io_backend::epoll;
  hue::reactor by_reactor(rt, rc);
  EXPECT_STREQ(by_runtime.backend(), "io_uring");
  EXPECT_STREQ(by_reactor.backend(), "epoll");
  // Both deliver, side by side in one runtime.
  socket_pair a, b;
  std::atomic<int> got{0};
  auto wa = by_runtime.watch(a.fd[0], hue::readable, rt.new_color(), [&](hue::io_events) { ++got; });
  auto wb = by_reactor.watch(b.fd[0], hue::readable, rt.new_color(), [&](hue::io_events) { ++got; });
  ASSERT_EQ(::write(a.fd[1], "x", 1), 1);
  ASSERT_EQ(::write(b.fd[1], "x", 1), 1);
  EXPECT_TRUE(eventually([&] { return got.load() == 2; }, 10s));
}

// The kernel (here a seccomp filter) refuses io_uring: the reactor polls with epoll, says so once
// per process on stderr however many reactors ask, and works.
TEST(ReactorBackends, io_uring_refused_falls_back_to_epoll_and_says_so_once) {
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(60);
    ::dup2(out[1], STDERR_FILENO);
    ::close(out[0]);
    if (!refuse_io_uring()) ::_exit(10);
    {
      hue::config c = hue_test::workers(2);
      c.io = hue::io_backend::uring;
      hue::runtime rt(c);
      hue::reactor first(rt, hue::reactor_config{.core = 0, .color = std::nullopt});
      hue::reactor second(rt, hue::reactor_config{.core = 1, .color = std::nullopt});
      if (std::string(first.backend()) != "epoll" || std::string(second.backend()) != "epoll")
        ::_exit(11);
      socket_pair p;
      std::atomic<int> got{0};
      auto w = second.watch(p.fd[0], hue::readable, rt.new_color(), [&](hue::io_events) { ++got; });
      if (::write(p.fd[1], "x", 1) != 1) ::_exit(12);
      if (!eventually([&] { return got.load() == 1; }, 10s)) ::_exit(13);
    }
    ::_exit(0);
  }
  ::close(out[1]);
  std::string said;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) said.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << said;
  EXPECT_EQ(WEXITSTATUS(status), 0) << said;
  const std::string line = "hue: io_uring unavailable";
  const auto first = said.find(line);
  EXPECT_NE(first, std::string::npos) << said;
  EXPECT_EQ(said.find(line, first + 1), std::string::npos) << "said more than once:\n" << said;
}

// Watches removed from other cores while their readiness is in flight, their fds closed at once
// (as async_socket does): once cancel() returned no handler runs, and (under ASan) no completion
// touches a freed registration. A handler runs only while its state is alive: it checks a canary.
class RemovedWhileReady : public ::testing::TestWithParam<hue::io_backend> {};

TEST_P(RemovedWhileReady, no_run_after_cancel_and_no_completion_reaches_a_freed_watch) {
  // Skipped where io_uring is refused or not built in (have_uring says why): no backend to test.
  if (GetParam() == hue::io_backend::uring && !have_uring()) GTEST_SKIP() << "io_uring unavailable";
  hue::runtime rt(hue_test::workers(2));
  hue::reactor io(rt, on(GetParam()));
  struct conn {
    socket_pair p;
    std::unique_ptr<int> canary = std::make_unique<int>(7);
    std::atomic<bool> cancelled{false};
    hue::registration w;
  };
  std::atomic<int> runs{0}, late{0}, done{0};
  constexpr int rounds = 2000;
  for (int i = 0; i < rounds; ++i) {
    auto* c = new conn;
    const hue::color_t color = rt.new_color();
    c->w = io.watch(c->p.fd[0], hue::readable | hue::writable, color, [&, c](hue::io_events) {
      if (c->cancelled.load()) ++late;
      if (*c->canary != 7) ++late;
      ++runs;
    });
    ASSERT_EQ(::write(c->p.fd[1], "ping", 4), 4);  // readiness on its way
    // Removed on the watch's own color (so that no run of the handler is still finishing when
    // `c` goes), on whichever core runs it, while the poll may be reporting it.
    rt.post(color, [c, &done] {
      c->w.cancel();
      c->cancelled.store(true);
      c->w.reset();
      delete c;  // closes both fds at once, as a connection closed mid-receive does
      ++done;
    });
  }
  EXPECT_TRUE(eventually([&] { return done.load() == rounds; }, 60s));
  // Let any stray completion arrive before the reactor goes.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(late.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, RemovedWhileReady,
                         ::testing::Values(hue::io_backend::epoll, hue::io_backend::uring),
                         [](const auto& info) {
                           return std::string(info.param == hue::io_backend::epoll ? "epoll" : "uring");
                         });

// The signal catcher is an io_uring reactor; when it goes, an epoll reactor takes the signal over
// (and the other way round): each backend restores the disposition it found.
TEST(ReactorBackends, signals_move_between_reactors_of_different_backends) {
  // Skipped where io_uring is refused or not built in (have_uring says why): no backend to test.
  if (!have_uring()) GTEST_SKIP() << "io_uring unavailable here";
  hue::runtime rt(hue_test::workers(2));
  for (const bool uring_first : {true, false}) {
    // On two cores: a core's park polls one reactor, the last one attached to it.
    hue::reactor_config ca = on(uring_first ? hue::io_backend::uring : hue::io_backend::epoll);
    hue::reactor_config cb = on(uring_first ? hue::io_backend::epoll : hue::io_backend::uring);
    ca.core = 0;
    cb.core = 1;
    auto a = std::make_unique<hue::reactor>(rt, ca);
    hue::reactor b(rt, cb);
    std::atomic<int> heard_a{0}, heard_b{0};
    auto sa = a->on_signal(SIGUSR2, rt.new_color(), [&](int) { ++heard_a; });
    auto sb = b.on_signal(SIGUSR2, rt.new_color(), [&](int) { ++heard_b; });
    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
    EXPECT_TRUE(eventually([&] { return heard_a.load() == 1 && heard_b.load() == 1; }, 10s));
    sa.reset();
    a.reset();  // the catcher goes: b catches from here on
    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
    EXPECT_TRUE(eventually([&] { return heard_b.load() == 2; }, 10s)) << heard_b.load();
  }
}

// Regression: the io_uring backend set up its ring on the thread that made the reactor. The kernel
// lists that thread among the ring's tasks and, when the ring goes, interrupts each of them: a
// recv with SO_RCVTIMEO blocked in that thread failed with EINTR (the SWS suite's clients, in the
// test's main thread, lost replies when the previous test's server was destroyed).
TEST(ReactorBackends, destroying_a_uring_reactor_does_not_interrupt_the_thread_that_made_it) {
  // Skipped where io_uring is refused or not built in (have_uring says why): no backend to test.
  if (!have_uring()) GTEST_SKIP() << "io_uring unavailable here";
  hue::runtime rt(hue_test::workers(2));
  auto io = std::make_unique<hue::reactor>(rt, on(hue::io_backend::uring));
  socket_pair watched, blocked;
  std::atomic<int> got{0};
  auto w = io->watch(watched.fd[0], hue::readable, rt.new_color(), [&](hue::io_events) { ++got; });
  ASSERT_EQ(::write(watched.fd[1], "x", 1), 1);
  ASSERT_TRUE(eventually([&] { return got.load() == 1; }, 10s));  // the ring is in use
  const int fd = blocked.fd[0];
  ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK), 0);
  timeval tv{0, 600'000};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  std::thread destroyer([&] {
    std::this_thread::sleep_for(100ms);
    w.reset();
    io.reset();
  });
  char c;
  const ssize_t n = ::recv(fd, &c, 1, 0);  // nothing comes: must time out, not be interrupted
  const int err = errno;
  destroyer.join();
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EAGAIN) << std::strerror(err);
}
