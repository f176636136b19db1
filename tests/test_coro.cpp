// tests/test_coro.cpp — coroutines on colors: tasks, moving between colors, mutual
// exclusion under stealing, timers, and clean shutdown with suspended frames.
#include "support.hpp"

#include <hue/hue.hpp>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

using namespace std::chrono_literals;
using hue_test::eventually;

namespace {

hue::task<int> answer() { co_return 42; }
hue::task<int> twice(int x) { co_return 2 * co_await answer() + x; }
hue::task<void> fails() {
  co_await answer();
  throw std::runtime_error("boom");
}

TEST(Task, ValuesAndExceptionsPropagateThroughCoAwait) {
  hue::runtime rt(hue_test::workers(2));
  hue::reactor io(rt);
  std::atomic<int> value{0};
  std::atomic<bool> caught{false};
  hue::spawn(io, 3, [](std::atomic<int>& v, std::atomic<bool>& c) -> hue::task<void> {
    v = co_await twice(1);
    try {
      co_await fails();
    } catch (const std::runtime_error& e) {
      c = std::string(e.what()) == "boom";
    }
  }(value, caught));
  EXPECT_TRUE(eventually([&] { return value.load() == 85 && caught.load(); }));
}

TEST(Task, OnMovesTheCoroutineToTheColor) {
  hue::runtime rt(hue_test::workers(2));
  hue::reactor io(rt);
  std::atomic<int> wrong{0}, done{0};
  for (hue::color_t c = 10; c < 20; ++c) {
    hue::spawn(io, c, [](hue::runtime& rt, hue::color_t c, std::atomic<int>& wrong,
                         std::atomic<int>& done) -> hue::task<void> {
      if (hue::runtime::current_color() != c) ++wrong;
      co_await rt.on(c + 100);
      if (hue::runtime::current_color() != c + 100) ++wrong;
      co_await rt.on(c);
      if (hue::runtime::current_color() != c) ++wrong;
      ++done;
    }(rt, c, wrong, done));
  }
  EXPECT_TRUE(eventually([&] { return done.load() == 10; }));
  EXPECT_EQ(wrong.load(), 0);
}

// Coroutines sharing a color never run their code between two suspension points at the same time,
// even when stealing moves the color around; plain (non-atomic) counters come out exact.
TEST(Task, ColorMutualExclusionHoldsUnderStealing) {
  hue::config cfg = hue_test::workers(2);
  cfg.steal = hue::steal_config::parse("all");
  hue::runtime rt(cfg);
  hue::reactor io(rt);
  constexpr int colors = 8, per_color = 16, rounds = 200;
  struct shared {
    std::atomic<int> inside{0};
    long counter = 0;  // guarded by the color alone
  };
  std::vector<shared> state(colors);
  std::atomic<int> overlaps{0}, done{0};
  for (int c = 0; c < colors; ++c) {
    for (int k = 0; k < per_color; ++k) {
      hue::spawn(io, 1000 + c, [](hue::runtime& rt, hue::color_t color, shared& s,
                                  std::atomic<int>& overlaps,
                                  std::atomic<int>& done) -> hue::task<void> {
        for (int r = 0; r < rounds; ++r) {
          if (s.inside.fetch_add(1) != 0) ++overlaps;
          const long before = s.counter;
          hue_test::busy(300);
          s.counter = before + 1;
          s.inside.fetch_sub(1);
          co_await rt.on(color);  // yield: the color's other coroutines and events go next
        }
        ++done;
      }(rt, 1000 + c, state[c], overlaps, done));
    }
  }
  ASSERT_TRUE(eventually([&] { return done.load() == colors * per_color; }));
  EXPECT_EQ(overlaps.load(), 0);
  for (int c = 0; c < colors; ++c) EXPECT_EQ(state[c].counter, per_color * rounds);
}

// Regression: timers added from a worker while the poller ran callbacks used libevent's cached
// time and woke up to a few ms early (EVENT_BASE_FLAG_NO_CACHE_TIME, reactor.cpp).
TEST(Task, SleepForNeverWakesEarlyAndStaysOnItsColor) {
  hue::runtime rt(hue_test::workers(2));
  hue::reactor io(rt);
  std::atomic<int> early{0}, wrong{0}, done{0};
  for (int i = 0; i < 50; ++i) {
    hue::spawn(io, 40 + i, [](hue::reactor& io, int i, std::atomic<int>& early,
                              std::atomic<int>& wrong, std::atomic<int>& done) -> hue::task<void> {
      const auto d = std::chrono::milliseconds(1 + i % 7);
      const auto t0 = std::chrono::steady_clock::now();
      co_await hue::sleep_for(io, d);
      if (std::chrono::steady_clock::now() - t0 < d) ++early;
      if (hue::runtime::current_color() != hue::color_t(40 + i)) ++wrong;
      ++done;
    }(io, i, early, wrong, done));
  }
  EXPECT_TRUE(eventually([&] { return done.load() == 50; }));
  EXPECT_EQ(early.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Task, ExceptionEscapingADetachedCoroutineReachesTheErrorHook) {
  std::atomic<int> errors{0};
  hue::config cfg = hue_test::workers(2);
  cfg.on_error = [&](const hue::handler_error&) { ++errors; };
  hue::runtime rt(cfg);
  hue::reactor io(rt);
  hue::spawn(io, 5, fails());
  EXPECT_TRUE(eventually([&] { return errors.load() == 1; }));
}

TEST(Task, WaitingOutsideAColorIsAnError) {
  EXPECT_THROW(hue::current_color_or_throw(), std::logic_error);
}

// Destroying the reactor with coroutines suspended on timers, fds, colors and child tasks
// destroys every frame (their locals are destroyed, so nothing leaks: LeakSanitizer checks the
// rest in the ASan run) and never resumes them.
TEST(Task, ShutdownDestroysSuspendedFramesCleanly) {
  auto alive = std::make_shared<std::atomic<int>>(0);
  std::atomic<int> resumed_after{0};
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  {
    hue::runtime rt(hue_test::workers(2));
    hue::reactor io(rt);
    std::atomic<int> started{0};
    auto child = [](hue::reactor& io, [[maybe_unused]] hue_test::tracked t) -> hue::task<void> {
      co_await hue::sleep_for(io, 1h);
    };
    for (int i = 0; i < 40; ++i) {
      hue::spawn(io, 200 + i, [](hue::reactor& io, int i, int fd, hue_test::tracked t,
                                 std::atomic<int>& started, std::atomic<int>& resumed,
                                 decltype(child) child) -> hue::task<void> {
        ++started;
        switch (i % 4) {
          case 0: co_await hue::sleep_for(io, 1h); break;
          case 1: co_await hue::readable_fd(io, fd); break;  // never becomes readable
          case 2: co_await child(io, t); break;
          case 3: {
            hue::async_socket s(io, ::dup(fd));
            char c;
            co_await s.read_some(&c, 1);  // never returns
            break;
          }
        }
        ++resumed;
      }(io, i, sv[0], hue_test::tracked(alive), started, resumed_after, child));
    }
    // An armed timer and watch owned by no coroutine go with the reactor too.
    hue::registration t = io.every(1h, 1, [] {});
    ASSERT_TRUE(eventually([&] { return started.load() == 40; }));
    std::this_thread::sleep_for(20ms);
    EXPECT_GT(alive->load(), 0);
  }
  EXPECT_EQ(alive->load(), 0);
  EXPECT_EQ(resumed_after.load(), 0);
  ::close(sv[0]);
  ::close(sv[1]);
}

}  // namespace
