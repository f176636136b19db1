// The stealing decisions on hand-built states (links the internal dependency): the libasync-smp
// functions of the paper's Fig. 2, construct_core_set with and without locality, and the cache
// distances read by hwloc from synthetic machines (the paper's 2 x quad-core Xeon E5410, where
// pairs of cores share an L2, and a two-NUMA-node machine).
#include "core/color_policy.hpp"
#include "core/color_scheduler.hpp"
#include "legacy/legacy_queue.hpp"
#include "steal/policies.hpp"
#include "steal/stealing_queue.hpp"
#include "steal/victims.hpp"
#include "topology/topology.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

// The policy contract is checked by the compiler: the three policies meet it, and a policy with a
// member missing or of another shape does not.
using namespace hue::internal;
static_assert(color_policy<no_stealing>);
static_assert(color_policy<fig2_stealing<true>> && color_policy<time_left_stealing<false>>);
static_assert(color_policy_for<time_left_stealing<true>, color_scheduler<time_left_stealing<true>>>);
struct lane_fits_may_throw : no_stealing {
  using no_stealing::no_stealing;
  bool lane_fits(const hue::detail::event&) const { return true; }
};
static_assert(!color_policy<lane_fits_may_throw>);
struct time_left_not_constant : no_stealing {
  using no_stealing::no_stealing;
  const bool keeps_time_left = false;
};
static_assert(!color_policy<time_left_not_constant>);

using hue::detail::event;
using hue::internal::legacy_queue;
using hue::internal::topology;

// A legacy FIFO holding events of the given colors, in order.
struct fifo {
  explicit fifo(const std::string& colors) : events(colors.size()) {
    for (std::size_t i = 0; i < colors.size(); ++i) {
      events[i].color = static_cast<hue::color_t>(colors[i]);
      q.push(&events[i]);
    }
  }
  std::string colors() const {
    std::string s;
    for (const event* e = q.head; e; e = e->next) s += static_cast<char>(e->color);
    return s;
  }
  std::vector<event> events;
  legacy_queue q;
};

auto any_but(char running) {
  return [running](hue::color_t c) { return c != static_cast<hue::color_t>(running); };
}

TEST(LibasyncSmp, can_be_stolen_needs_two_colors) {
  EXPECT_FALSE(hue::internal::can_be_stolen(fifo("").q));
  EXPECT_FALSE(hue::internal::can_be_stolen(fifo("AAAA").q));
  EXPECT_TRUE(hue::internal::can_be_stolen(fifo("AAAB").q));
}

TEST(LibasyncSmp, choose_color_takes_the_first_not_running_with_fewer_than_half) {
  // A holds 3 of 6 (not fewer than half), B is running, C is first eligible.
  EXPECT_EQ(hue::internal::choose_color_to_steal(fifo("AABACD").q, any_but('B')), 'C');
  // Nothing running: B (1 of 6) comes before C.
  EXPECT_EQ(hue::internal::choose_color_to_steal(fifo("AABACD").q, any_but('-')), 'B');
  // Every other color is running or too big: none.
  EXPECT_EQ(hue::internal::choose_color_to_steal(fifo("AAAB").q, any_but('B')), std::nullopt);
  EXPECT_EQ(hue::internal::choose_color_to_steal(fifo("AB").q, any_but('-')), std::nullopt);
}

TEST(LibasyncSmp, construct_event_set_takes_every_event_of_the_color_in_order_and_migrate_appends) {
  fifo victim("ABACBA"), thief("Z");
  for (std::size_t i = 0; i < victim.events.size(); ++i) victim.events[i].cost = static_cast<std::uint32_t>(i);
  std::uint32_t n = 0;
  event* set = hue::internal::construct_event_set(
      victim.q, [](hue::color_t c) { return c == 'A'; }, n);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(victim.colors(), "BCB");
  EXPECT_EQ(victim.q.count, 3u);
  EXPECT_EQ(victim.q.tail->color, hue::color_t{'B'});
  hue::internal::migrate(thief.q, set);
  EXPECT_EQ(thief.colors(), "ZAAA");
  std::vector<std::uint32_t> order;
  for (const event* e = thief.q.head->next; e; e = e->next) order.push_back(e->cost);
  EXPECT_EQ(order, (std::vector<std::uint32_t>{0, 2, 5}));
}

TEST(ConstructCoreSet, most_loaded_first_then_successive_numbers) {
  std::vector<unsigned> order;
  hue::internal::most_loaded_then_successive({1, 9, 2, 0, 4, 0, 7, 3}, 3, order);
  EXPECT_EQ(order, (std::vector<unsigned>{1, 2, 4, 5, 6, 7, 0}));
}

std::vector<unsigned> distances_from(const topology& t, unsigned self) {
  std::vector<unsigned> d(t.cores());
  for (unsigned c = 0; c < t.cores(); ++c) d[c] = static_cast<unsigned>(t.between(self, c));
  return d;
}

TEST(Locality, xeon_e5410_pairs_share_an_l2_then_the_package_then_the_machine) {
  const topology t("synthetic:pack:2 l2:2 core:2 pu:1");
  ASSERT_EQ(t.cores(), 8u);
  EXPECT_FALSE(t.is_this_system());
  using d = topology::distance;
  EXPECT_EQ(t.between(0, 1), d::l2);
  EXPECT_EQ(t.between(0, 2), d::package);
  // The E5410 box has uniform memory: one NUMA node, which every pair of cores shares.
  EXPECT_EQ(t.between(0, 5), d::numa_node);
  EXPECT_EQ(t.between(6, 7), d::l2);

  // Equal loads: victims strictly by distance, then by number.
  std::vector<unsigned> order;
  hue::internal::nearest_first(std::vector<std::uint32_t>(8, 1), distances_from(t, 0), 0, order);
  EXPECT_EQ(order, (std::vector<unsigned>{1, 2, 3, 4, 5, 6, 7}));
  // Within one distance the most loaded comes first; a loaded far core never jumps a near one.
  hue::internal::nearest_first({0, 0, 1, 5, 9, 0, 0, 0}, distances_from(t, 1), 1, order);
  EXPECT_EQ(order, (std::vector<unsigned>{0, 3, 2, 4, 5, 6, 7}));
}

TEST(Locality, two_numa_nodes_package_before_node_before_machine) {
  const topology t("synthetic:numa:2 pack:2 core:2 pu:1");
  ASSERT_EQ(t.cores(), 8u);
  using d = topology::distance;
  EXPECT_EQ(t.between(0, 1), d::package);
  EXPECT_EQ(t.between(0, 2), d::numa_node);
  EXPECT_EQ(t.between(0, 4), d::machine);
  std::vector<unsigned> order;
  hue::internal::nearest_first(std::vector<std::uint32_t>(8, 1), distances_from(t, 5), 5, order);
  EXPECT_EQ(order, (std::vector<unsigned>{4, 6, 7, 0, 1, 2, 3}));
}

TEST(Locality, shared_l3_sits_between_l2_and_package) {
  const topology t("synthetic:pack:1 l3:2 l2:2 core:1 pu:1");
  using d = topology::distance;
  EXPECT_EQ(t.between(0, 1), d::l3);
  EXPECT_EQ(t.between(0, 2), d::package);
}

TEST(Topology, bad_descriptions_are_errors) {
  EXPECT_THROW(topology("synthetic:banana"), std::invalid_argument);
  EXPECT_THROW(topology("nonsense"), std::invalid_argument);
}

TEST(StealingQueue, intervals_and_best_pick) {
  using hue::internal::color_queue;
  using hue::internal::stealing_queue;
  EXPECT_EQ(stealing_queue::interval_for(100, 100), -1);
  EXPECT_EQ(stealing_queue::interval_for(101, 100), 0);
  EXPECT_EQ(stealing_queue::interval_for(401, 100), 1);
  EXPECT_EQ(stealing_queue::interval_for(1601, 100), 2);
  color_queue a(1), b(2), c(3);
  a.time_left = 150;
  b.time_left = 3000;
  c.time_left = 5000;
  stealing_queue sq;
  EXPECT_TRUE(sq.empty());
  sq.restage(&a, 0);
  sq.restage(&b, 2);
  sq.restage(&c, 2);
  EXPECT_EQ(sq.best([](const color_queue*) { return true; }), &c);
  EXPECT_EQ(sq.best([&](const color_queue* q) { return q != &c; }), &b);
  sq.restage(&b, -1);
  sq.restage(&c, -1);
  EXPECT_EQ(sq.best([](const color_queue*) { return true; }), &a);
  sq.restage(&a, -1);
  EXPECT_TRUE(sq.empty());
}

}  // namespace
