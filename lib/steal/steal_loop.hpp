// lib/steal/steal_loop.hpp — the Fig. 2 loop shared by hue's stealing and the libasync-smp
// emulation: snapshot the loads, order the victims, visit each with both locks held, count.
#pragma once

#include "core/moving_average.hpp"
#include "core/runtime_impl.hpp"

#include <algorithm>

namespace hue::internal {

inline constexpr std::uint64_t steal_cost_floor = 500;

// What one visit of a victim took.
struct steal_take {
  std::uint32_t events = 0;
  std::uint32_t colors = 0;
  std::uint64_t cycles = 0;  // expected run time of what was taken (the "stolen time")
};

// `order(me)` fills me.victims from me.loads (construct_core_set). `take(victim)` runs with the
// victim's and the thief's locks held, taken in core-index order (the order pin_color uses, and
// posters never hold two), and moves what it chooses. Returns true when something was taken.
template <class Order, class Take>
bool steal_loop(runtime_impl& rt, core& me, Order order, Take take) {
  bool any = false;
  for (unsigned i = 0; i < rt.cfg.workers; ++i) {
    me.loads[i] = i == me.index ? 0 : rt.cores[i].pending_hint.load(std::memory_order_relaxed);
    any |= me.loads[i] > 0;
  }
  if (!any) return false;  // nothing queued anywhere: a look, not an attempt

  const std::uint64_t start = cycles_now();
  me.steal_attempts.add();
  order(me);
  for (unsigned v : me.victims) {
    if (!me.loads[v]) continue;
    core& victim = rt.cores[v];
    core& lo = v < me.index ? victim : me;
    core& hi = v < me.index ? me : victim;
    lo.note_lock_wait(lo.lock.lock());
    hi.note_lock_wait(hi.lock.lock());
    const steal_take t = take(victim);
    hi.lock.unlock();
    lo.lock.unlock();
    if (t.events) {
      const std::uint64_t spent = cycles_now() - start;
      me.steal_successes.add();
      me.events_stolen.add(t.events);
      me.colors_stolen.add(t.colors);
      me.stolen_time_cycles.add(t.cycles);
      me.steal_cycles.add(spent);
      // The runtime's measured steal cost, averaged as handler costs are.
      const std::uint64_t old = rt.steal_cost.load(std::memory_order_relaxed);
      rt.steal_cost.store(moving_average(old, spent), std::memory_order_relaxed);
      return true;
    }
  }
  me.steal_failures.add();
  me.steal_cycles.add(cycles_now() - start);
  // Only successful steals measure the steal cost, so an estimate that grew above every color's
  // time left would never be corrected: nothing would look worthy, nothing would be stolen. A
  // failed attempt while work was queued lets it decay a little (1/256), down to a floor below
  // which no steal has ever been seen to go (500 cycles: two lock round trips and a list move).
  const std::uint64_t cost = rt.steal_cost.load(std::memory_order_relaxed);
  if (cost > steal_cost_floor)
    rt.steal_cost.store(std::max(steal_cost_floor, cost - cost / 256), std::memory_order_relaxed);
  return false;
}

}  // namespace hue::internal
