// An idle runtime sleeps: below 1% of one CPU over a second, and wakes on a post.
#include "support.hpp"

#include <hue/hue.hpp>

#include <gtest/gtest.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void expect_idle_below_one_percent(unsigned workers) {
  hue::config cfg;
  cfg.workers = workers;
  hue::runtime rt(cfg);
  std::atomic<int> ran{0};
  for (hue::color_t c = 0; c < 100; ++c) rt.post(c, [&] { ++ran; });
  ASSERT_TRUE(hue_test::eventually([&] { return ran.load() == 100; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // past the idle spin

  const double cpu0 = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double used = process_cpu_seconds() - cpu0;
  EXPECT_LT(used, 0.01) << workers << " idle workers used " << used * 1000 << " ms of CPU in 1 s";

  // And a sleeping runtime wakes up for new work.
  rt.post(5, [&] { ++ran; });
  EXPECT_TRUE(hue_test::eventually([&] { return ran.load() == 101; }));
  EXPECT_GT(rt.stats().total().sleeps, 0u);
}

// Spinning is counted (core_stats::spin_cycles): the part of each park before the sleep, never
// the sleep. With no spin window a park is one look and then a sleep of ~30 ms, so spin time is a
// sliver of idle time; counted to the end of the park it would be all of it. (With a window, a
// spin's length depends on the machine: sched_yield hands a loaded CPU to another process for
// its whole time slice, so no bound on it holds while other tests run.)
TEST(Idle, spin_time_is_counted_apart_from_sleep) {
  hue::config cfg;
  cfg.workers = 2;
  cfg.idle_spin = std::chrono::microseconds(0);
  hue::runtime rt(cfg);
  std::atomic<int> ran{0};
  for (int round = 1; round <= 10; ++round) {
    for (hue::color_t c = 0; c < 16; ++c) rt.post(c, [&] { ++ran; });
    ASSERT_TRUE(hue_test::eventually([&] { return ran.load() == 16 * round; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // every worker falls asleep
  }
  const hue::core_stats t = rt.stats().total();
  EXPECT_GT(t.sleeps, 0u);
  EXPECT_GT(t.spin_cycles, 0u);
  EXPECT_LT(static_cast<double>(t.spin_cycles), 0.25 * static_cast<double>(t.idle_cycles))
      << "spin " << t.spin_cycles << " of idle " << t.idle_cycles << " cycles";
}

TEST(Idle, idle_runtime_uses_under_one_percent_cpu) { expect_idle_below_one_percent(2); }
TEST(Idle, idle_oversubscribed_runtime_uses_under_one_percent_cpu) {
  expect_idle_below_one_percent(8);
}

}  // namespace
