// Unit tests of the runtime's internal structures (links the internal dependency).
#include "core/color_queue.hpp"
#include "core/color_table.hpp"
#include "core/core_queue.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace {

using hue::detail::event;
using hue::internal::color_queue;
using hue::internal::color_table;
using hue::internal::core_queue;

std::vector<event> events(std::size_t n) {
  std::vector<event> v(n);
  for (auto& e : v) e.priority = 0;
  return v;
}

TEST(ColorQueue, take_detaches_at_most_max_in_fifo_order) {
  auto ev = events(5);
  color_queue q(1);
  for (auto& e : ev) q.push(&e);
  unsigned n;
  event* chain = q.take(3, n);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(chain, &ev[0]);
  EXPECT_EQ(chain->next->next, &ev[2]);
  EXPECT_EQ(chain->next->next->next, nullptr);
  EXPECT_EQ(q.count, 2u);
  EXPECT_EQ(q.take(10, n), &ev[3]);
  EXPECT_EQ(n, 2u);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.events.head, nullptr);
  EXPECT_EQ(q.events.tail, nullptr);
}

TEST(ColorQueue, priority_is_the_highest_pending_and_falls_as_events_leave) {
  auto ev = events(3);
  ev[0].priority = 1;
  ev[1].priority = 6;
  ev[2].priority = 1;
  color_queue q(1);
  for (auto& e : ev) q.push(&e);
  EXPECT_EQ(q.priority(), 6);
  unsigned n;
  q.take(2, n);
  EXPECT_EQ(q.priority(), 1);
}

TEST(CoreQueue, pops_highest_level_first_then_round_robin) {
  color_queue a(1), b(2), c(3);
  auto ev = events(3);
  ev[1].priority = 4;
  a.push(&ev[0]);
  b.push(&ev[1]);
  c.push(&ev[2]);
  core_queue cq;
  cq.push_back(&a);
  cq.push_back(&c);
  cq.push_back(&b);
  EXPECT_EQ(cq.pop_front(), &b);
  EXPECT_EQ(cq.pop_front(), &a);
  cq.push_back(&a);  // back of its level: c is next
  EXPECT_EQ(cq.pop_front(), &c);
  EXPECT_EQ(cq.pop_front(), &a);
  EXPECT_EQ(cq.pop_front(), nullptr);
  EXPECT_TRUE(cq.empty());
}

TEST(CoreQueue, reprioritize_moves_a_queue_to_its_new_level) {
  color_queue a(1), b(2);
  auto ev = events(3);
  a.push(&ev[0]);
  b.push(&ev[1]);
  core_queue cq;
  cq.push_back(&a);
  cq.push_back(&b);
  ev[2].priority = 7;
  b.push(&ev[2]);
  cq.reprioritize(&b);
  EXPECT_EQ(cq.pop_front(), &b);
  cq.remove(&a);
  EXPECT_TRUE(cq.empty());
}

TEST(ColorTable, small_consecutive_colors_spread_over_slots_and_cores) {
  color_table t(65536, 4);
  std::set<std::uint32_t> slots;
  std::vector<unsigned> per_core(4);
  for (hue::color_t c = 0; c < 1000; ++c) {
    slots.insert(t.index_of(c));
    ++per_core[t.slot_of(c).owner.load()];
  }
  EXPECT_GT(slots.size(), 990u);
  for (unsigned n : per_core) EXPECT_GT(n, 180u);
}

// Fresh colors come from a counter: consecutive ones take consecutive slots (a burst of them walks
// the table in order instead of missing on a random slot each), still spread evenly over the cores,
// and a whole table's worth of them is collision-free. Fixed colors stay hashed.
TEST(ColorTable, consecutive_fresh_colors_take_consecutive_slots_over_every_core) {
  color_table t(65536, 4);
  const hue::color_t first = hue::first_fresh_color + 12345;
  std::set<std::uint32_t> slots;
  std::vector<unsigned> per_core(4);
  for (hue::color_t c = first; c < first + 65536; ++c) {
    if (c > first) {
      EXPECT_EQ(t.index_of(c), (t.index_of(c - 1) + 1) & 65535u);
    }
    slots.insert(t.index_of(c));
    ++per_core[t.slot_of(c).owner.load()];
  }
  EXPECT_EQ(slots.size(), 65536u);
  for (unsigned n : per_core) EXPECT_EQ(n, 16384u);
  EXPECT_NE(t.index_of(1) + 1, t.index_of(2));  // fixed colors: hashed
}

TEST(ColorTable, chains_find_link_and_unlink_colors_sharing_a_slot) {
  color_table t(2, 1);  // two slots: many colors share one
  EXPECT_EQ(t.size(), 2u);
  color_queue a(10), b(12), c(14);
  auto& s = t.slot(0);
  s.chain.push_back(&a);
  s.chain.push_back(&b);
  s.chain.push_back(&c);
  EXPECT_EQ(color_table::find(s, 12), &b);
  s.chain.remove(&b);
  EXPECT_EQ(color_table::find(s, 12), nullptr);
  EXPECT_EQ(color_table::find(s, 10), &a);
  EXPECT_EQ(color_table::find(s, 14), &c);
}

}  // namespace
