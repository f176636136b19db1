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

TEST(Idle, idle_runtime_uses_under_one_percent_cpu) { expect_idle_below_one_percent(2); }
TEST(Idle, idle_oversubscribed_runtime_uses_under_one_percent_cpu) {
  expect_idle_below_one_percent(8);
}

}  // namespace
