// Errors, stopping, draining, destruction, and who may post.
#include "support.hpp"

#include <hue/hue.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using hue_test::eventually;
using hue_test::gate;

using hue_test::workers;

using hue_test::tracked;

constexpr hue::handler_info thrower_info{.name = "Thrower"};

TEST(Lifecycle, handler_exception_goes_to_the_error_hook_and_the_color_goes_on) {
  std::vector<std::string> errors;  // the hook runs on the worker; read after drain
  hue::config cfg = workers(2);
  cfg.on_error = [&](const hue::handler_error& e) {
    errors.push_back(std::string(e.info->name) + ":" + std::to_string(e.color) + ":" + e.what());
  };
  hue::runtime rt(cfg);
  std::vector<int> after;
  rt.post(9, [] { throw std::runtime_error("boom"); }, thrower_info);
  for (int i = 0; i < 3; ++i) rt.post(9, [&after, i] { after.push_back(i); });
  rt.post(9, [] { throw 42; }, thrower_info);
  rt.drain();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "Thrower:9:boom");
  EXPECT_EQ(errors[1], "Thrower:9:an exception not derived from std::exception");
  EXPECT_EQ(after, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(rt.stats().total().handler_exceptions, 2u);
}

TEST(Lifecycle, default_error_hook_names_the_handler_on_stderr) {
  testing::internal::CaptureStderr();
  {
    hue::runtime rt(workers(1));
    rt.post(3, [] { throw std::runtime_error("disk on fire"); }, thrower_info);
    rt.drain();
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Thrower"), std::string::npos) << err;
  EXPECT_NE(err.find("disk on fire"), std::string::npos) << err;
}

TEST(Lifecycle, a_throwing_error_hook_does_not_kill_the_runtime) {
  hue::config cfg = workers(1);
  cfg.on_error = [](const hue::handler_error&) { throw std::logic_error("hook bug"); };
  testing::internal::CaptureStderr();
  hue::runtime rt(cfg);
  std::atomic<bool> later{false};
  rt.post(1, [] { throw 1; });
  rt.post(1, [&] { later = true; });
  rt.drain();
  testing::internal::GetCapturedStderr();
  EXPECT_TRUE(later.load());
}

TEST(Lifecycle, stop_leaves_pending_events_unrun_and_destroys_them) {
  auto alive = std::make_shared<std::atomic<int>>(0);
  std::atomic<int> ran{0};
  gate g;
  {
    hue::runtime rt(workers(1));
    rt.post(1, [&] { g.hold(); });
    ASSERT_TRUE(eventually([&] { return g.entered(); }));
    for (int i = 0; i < 100; ++i) rt.post(2 + i % 5, [&, t = tracked(alive)] { ++ran; });
    EXPECT_EQ(alive->load(), 100);
    rt.stop();
    g.open();
    rt.wait();
  }
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(alive->load(), 0);
}

// Documented outcome: post() after stop() returns false and destroys the callable unrun.
TEST(Lifecycle, post_after_stop_is_refused_and_the_callable_destroyed) {
  auto alive = std::make_shared<std::atomic<int>>(0);
  hue::runtime rt(workers(2));
  rt.stop();
  bool ran = false;
  EXPECT_FALSE(rt.post(1, [&ran, t = tracked(alive)] { ran = true; }));
  EXPECT_EQ(alive->load(), 0);
  EXPECT_FALSE(ran);
  EXPECT_EQ(rt.stats().posts_rejected, 1u);
}

// drain() runs what was pending and what handlers post while it drains: a tree of events.
TEST(Lifecycle, drain_runs_everything_including_posts_made_while_draining) {
  hue::runtime rt(workers(3));
  std::atomic<std::uint64_t> ran{0};
  std::function<void(unsigned)> grow = [&](unsigned depth) {
    ++ran;
    if (depth == 0) return;
    for (unsigned i = 0; i < 4; ++i) rt.post(depth * 10 + i, [&, depth] { grow(depth - 1); });
  };
  rt.post(0, [&] { grow(7); });
  rt.drain();
  EXPECT_EQ(ran.load(), 21845u);  // 1 + 4 + ... + 4^7
  EXPECT_FALSE(rt.post(1, [] {}));
}

TEST(Lifecycle, destroying_a_busy_runtime_is_clean) {
  auto alive = std::make_shared<std::atomic<int>>(0);
  std::atomic<std::uint64_t> ran{0};
  std::function<void(hue::color_t)> again;  // outlives the runtime: its handlers call it
  {
    hue::runtime rt(workers(4));
    // Self-perpetuating work on many colors: there is always something running and pending.
    again = [&](hue::color_t c) {
      ++ran;
      rt.post(c, [&, c, t = tracked(alive)] { again(c); });
      rt.post(c + 1000, [t = tracked(alive)] {});
    };
    for (hue::color_t c = 0; c < 64; ++c) rt.post(c, [&, c] { again(c); });
    ASSERT_TRUE(eventually([&] { return ran.load() > 10'000; }));
  }
  EXPECT_EQ(alive->load(), 0);
}

TEST(Lifecycle, drain_wait_and_destroy_from_a_handler_are_refused) {
  hue::runtime rt(workers(2));
  std::atomic<int> refused{0};
  rt.post(1, [&] {
    try { rt.drain(); } catch (const std::logic_error&) { ++refused; }
    try { rt.wait(); } catch (const std::logic_error&) { ++refused; }
  });
  rt.drain();
  EXPECT_EQ(refused.load(), 2);
}

TEST(Lifecycle, stop_from_a_handler_ends_wait) {
  hue::runtime rt(workers(2));
  rt.post(1, [&] { rt.stop(); });
  rt.wait();
  EXPECT_FALSE(rt.post(1, [] {}));
}

TEST(Lifecycle, posting_from_threads_outside_the_runtime) {
  hue::runtime rt(workers(2));
  std::atomic<std::uint64_t> ran{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      EXPECT_EQ(hue::runtime::current(), nullptr);
      for (int i = 0; i < 20'000; ++i) rt.post(t * 100 + i % 100, [&] { ++ran; });
    });
  for (auto& t : threads) t.join();
  rt.drain();
  EXPECT_EQ(ran.load(), 8u * 20'000u);
}

TEST(Lifecycle, several_runtimes_in_one_process_post_to_each_other) {
  std::function<void(int)> on_a, on_b;  // declared first: they must outlive both runtimes
  std::atomic<int> bounces{0};
  std::atomic<bool> mixed_up{false};
  hue::runtime a(workers(2)), b(workers(2));
  on_a = [&](int n) {
    if (hue::runtime::current() != &a) mixed_up = true;
    if (++bounces, n) b.post(2, [&, n] { on_b(n - 1); });
  };
  on_b = [&](int n) {
    if (hue::runtime::current() != &b) mixed_up = true;
    if (++bounces, n) a.post(1, [&, n] { on_a(n - 1); });
  };
  a.post(1, [&] { on_a(1000); });
  ASSERT_TRUE(eventually([&] { return bounces.load() == 1001; }));
  EXPECT_FALSE(mixed_up.load());
}

TEST(Lifecycle, large_and_move_only_callables) {
  hue::runtime rt(workers(2));
  std::array<char, 1024> big{};
  big[1023] = 'z';
  std::atomic<int> ok{0};
  rt.post(1, [&ok, big] { ok += big[1023] == 'z'; });           // heap fallback
  rt.post(1, [&ok, p = std::make_unique<int>(7)] { ok += *p == 7; });  // move-only, inline
  rt.drain();
  EXPECT_EQ(ok.load(), 2);
}

TEST(Lifecycle, more_workers_than_cores_are_allowed) {
  hue::config cfg = workers(8);
  cfg.steal = hue::steal_config::parse("off");  // every worker must get its hashed share
  hue::runtime rt(cfg);
  EXPECT_EQ(rt.workers(), 8u);
  std::vector<std::atomic<int>> seen(8);
  for (hue::color_t c = 0; c < 800; ++c) rt.post(c, [&] { seen[hue::runtime::current_core()] = 1; });
  rt.drain();
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

}  // namespace
