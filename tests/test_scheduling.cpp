// How a core picks work: priorities, batching, placement by hash, pin_color.
#include "support.hpp"

#include <hue/hue.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using hue_test::eventually;
using hue_test::gate;

// These tests pin hue's own queue policies (priorities, batching, placement), so they fix the
// stealing mode to `off`: the libasync-smp emulation has one FIFO per core and no priorities, and
// stealing would move the colors whose placement is checked.
hue::config one_worker(unsigned batch = 0) {
  hue::config c;
  c.workers = 1;
  c.batch = batch;
  c.steal = hue::steal_config::parse("off");
  return c;
}

// Runs `setup` as a handler on a one-worker runtime, so everything it posts is queued before the
// core picks its next color-queue; returns the colors in the order their handlers ran.
template <class Setup>
std::string run_order(hue::config cfg, Setup setup) {
  hue::runtime rt(cfg);
  std::string order;  // written only by the single worker
  auto record = [&order](char c) { return [&order, c] { order += c; }; };
  rt.post(999, [&] { setup(rt, record); });
  rt.drain();
  return order;
}

TEST(Scheduling, higher_priority_color_queue_runs_first) {
  const std::string order = run_order(one_worker(), [](hue::runtime& rt, auto record) {
    for (int i = 0; i < 20; ++i) rt.post('a', record('a'), hue::anonymous_handler, 0);
    for (int i = 0; i < 20; ++i) rt.post('b', record('b'), hue::anonymous_handler, 5);
    for (int i = 0; i < 20; ++i) rt.post('c', record('c'), hue::anonymous_handler, 2);
  });
  EXPECT_EQ(order, std::string(20, 'b') + std::string(20, 'c') + std::string(20, 'a'));
}

// A color-queue's priority is that of its most urgent pending event, and raising it does not
// reorder the color's own events.
TEST(Scheduling, color_queue_takes_the_priority_of_its_most_urgent_event) {
  const std::string order = run_order(one_worker(), [](hue::runtime& rt, auto record) {
    for (int i = 0; i < 5; ++i) rt.post('a', record('a'), hue::anonymous_handler, 0);
    for (int i = 0; i < 5; ++i) rt.post('b', record('b'), hue::anonymous_handler, 3);
    rt.post('a', record('A'), hue::anonymous_handler, 7);
  });
  EXPECT_EQ(order, "aaaaaAbbbbb");
}

// With two busy colors on one core, neither runs more than `batch` events in a row while the
// other has events waiting.
void expect_batches_alternate(unsigned batch) {
  const std::string order = run_order(one_worker(batch), [](hue::runtime& rt, auto record) {
    for (int i = 0; i < 100; ++i) rt.post('x', record('x'));
    for (int i = 0; i < 100; ++i) rt.post('y', record('y'));
  });
  ASSERT_EQ(order.size(), 200u);
  const std::size_t last_y = order.rfind('y'), last_x = order.rfind('x');
  const std::size_t both_pending_until = std::min(last_x, last_y);
  std::size_t run = 1;
  for (std::size_t i = 1; i <= both_pending_until; ++i) {
    run = order[i] == order[i - 1] ? run + 1 : 1;
    EXPECT_LE(run, batch) << "at " << i << " in " << order;
  }
  // Both colors get turns all along (the first event of each may run from the lane, a fresh
  // color's FIFO, before either color's first batch).
  std::size_t switches = 0;
  for (std::size_t i = 1; i <= both_pending_until; ++i) switches += order[i] != order[i - 1];
  EXPECT_GE(switches, 2 * (100 / batch) - 3) << order;
}

TEST(Scheduling, batching_bounds_runs_of_one_color_default_10) {
  hue::runtime rt(one_worker());
  EXPECT_EQ(rt.batch(), 10u);
  expect_batches_alternate(10);
}
TEST(Scheduling, batching_bounds_runs_of_one_color_batch_3) { expect_batches_alternate(3); }
TEST(Scheduling, batching_bounds_runs_of_one_color_batch_1) { expect_batches_alternate(1); }

TEST(Scheduling, colors_spread_over_workers_by_hash) {
  hue::config cfg;
  cfg.workers = 4;
  cfg.steal = hue::steal_config::parse("off");
  hue::runtime rt(cfg);
  std::vector<std::atomic<unsigned>> per_core(4);
  for (hue::color_t c = 0; c < 4000; ++c)
    rt.post(c, [&] { per_core[hue::runtime::current_core()].fetch_add(1); });
  rt.drain();
  for (unsigned k = 0; k < 4; ++k) {
    EXPECT_GT(per_core[k].load(), 700u) << "core " << k;
    EXPECT_LT(per_core[k].load(), 1300u) << "core " << k;
  }
}

TEST(Scheduling, pinned_color_runs_on_its_core) {
  hue::config cfg;
  cfg.workers = 4;
  hue::runtime rt(cfg);
  for (unsigned core = 0; core < 4; ++core) {
    rt.pin_color(1, core);
    std::atomic<unsigned> where{hue::runtime::no_core};
    rt.post(1, [&] { where = hue::runtime::current_core(); });
    ASSERT_TRUE(eventually([&] { return where.load() != hue::runtime::no_core; }));
    EXPECT_EQ(where.load(), core);
  }
}

// A handler's post to a color homed on another core is counted as a remote post on the poster's
// core; posts to its own core's colors and posts from outside the workers are not.
TEST(Scheduling, remote_posts_count_posts_that_cross_cores) {
  hue::config cfg;
  cfg.workers = 2;
  hue::runtime rt(cfg);
  const hue::color_t here = rt.new_color_on(0), there = rt.new_color_on(1);
  rt.pin_color(here, 0);
  rt.pin_color(there, 1);
  rt.post(here, [&] {
    for (int i = 0; i < 10; ++i) rt.post(there, [] {});
    for (int i = 0; i < 5; ++i) rt.post(here, [] {});
  });
  for (int i = 0; i < 7; ++i) rt.post(there, [] {});  // from the test thread: not a worker
  rt.drain();
  const hue::runtime_stats s = rt.stats();
  EXPECT_EQ(s.cores[0].remote_posts, 10u);
  EXPECT_EQ(s.cores[1].remote_posts, 0u);
}

// Pinning a color that has pending events moves its whole color-queue, order intact.
TEST(Scheduling, pin_color_moves_pending_events_in_order) {
  hue::config cfg;
  cfg.workers = 2;
  hue::runtime rt(cfg);
  constexpr hue::color_t blocker = 77, moved = 78;
  rt.pin_color(blocker, 0);
  rt.pin_color(moved, 0);
  gate g;
  rt.post(blocker, [&] { g.hold(); });
  ASSERT_TRUE(eventually([&] { return g.entered(); }));
  std::vector<int> seen;  // written by color `moved` only
  std::atomic<int> wrong_core{0};
  for (int i = 0; i < 50; ++i)
    rt.post(moved, [&, i] {
      seen.push_back(i);
      if (hue::runtime::current_core() != 1) wrong_core.fetch_add(1);
    });
  rt.pin_color(moved, 1);  // core 0 is still blocked: the events can only run on core 1
  std::atomic<bool> done{false};
  rt.post(moved, [&] { done = true; });
  ASSERT_TRUE(eventually([&] { return done.load(); }));
  g.open();
  rt.drain();
  EXPECT_EQ(wrong_core.load(), 0);
  ASSERT_EQ(seen.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(seen[i], i);
}

TEST(Scheduling, pin_color_from_a_handler_of_that_color_is_refused) {
  hue::config cfg;
  cfg.workers = 2;
  hue::runtime rt(cfg);
  std::atomic<int> refused{0};
  rt.post(5, [&] {
    try {
      rt.pin_color(5, 1);
    } catch (const std::logic_error&) {
      refused = 1;
    }
  });
  rt.drain();
  EXPECT_EQ(refused.load(), 1);
}

TEST(Scheduling, bad_arguments_are_refused_with_exceptions) {
  hue::config cfg;
  cfg.workers = 2;
  hue::runtime rt(cfg);
  EXPECT_THROW(rt.pin_color(1, 2), std::out_of_range);
  EXPECT_THROW(rt.post(1, [] {}, hue::anonymous_handler, hue::priority_levels), std::out_of_range);
}

}  // namespace
