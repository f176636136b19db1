// lib/steal/steal_loop.hpp — the Mely paper's Fig. 2 loop, shared by hue's stealing policies and
// the libasync-smp emulation: snapshot the loads, order the victims, visit each with both locks
// held, count, and keep the measured cost of a steal.
#pragma once

#include "core/moving_average.hpp"
#include "core/runtime_impl.hpp"

#include <algorithm>
#include <memory>
#include <vector>

namespace hue::internal {

inline constexpr std::uint64_t steal_cost_floor = 500;

// An event's expected cycles: the handler's annotation, unless absent or `measured_only`, else the
// measured average (0 until the first sample).
inline std::uint32_t expected_cost(const handler_info& info, bool measured_only) noexcept {
  const std::uint64_t c =
      !measured_only && info.cost ? info.cost : info.measured_cost.load(std::memory_order_relaxed);
  return c > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(c);
}

// What one visit of a victim took.
struct steal_take {
  std::uint32_t events = 0;
  std::uint32_t colors = 0;
  std::uint32_t migrated = 0;  // of `colors`, those whose home moved to the thief (not lent)
  std::uint64_t cycles = 0;  // expected run time of what was taken (the "stolen time")
};

// Every core's scratch as a thief, and the runtime's measured steal cost.
class thieves {
 public:
  struct thief {
    std::vector<unsigned> distance;       // distance[c]: how far core c is (locality-aware)
    std::vector<unsigned> victims;        // construct_core_set's order
    std::vector<std::uint32_t> loads;     // racy snapshot of each core's pending events
  };

  explicit thieves(const runtime_impl& rt) : per_core_(rt.cfg.workers) {
    const unsigned n = rt.cfg.workers, machine = rt.topo.cores();
    for (unsigned i = 0; i < n; ++i) {
      thief& t = per_core_[i];
      t.distance.resize(n);
      for (unsigned j = 0; j < n; ++j)
        t.distance[j] = static_cast<unsigned>(rt.topo.between(i % machine, j % machine));
      t.victims.reserve(n);  // no allocation on the thief's path (the no-heap test checks)
      t.loads.resize(n);
    }
  }

  thief& of(const core& c) noexcept { return per_core_[c.index]; }
  // Cycles one successful steal costs, a moving average measured by the thieves. The first guess
  // is the order of magnitude the Mely paper reports (a few thousand cycles).
  std::uint64_t steal_cost() const noexcept { return cost_.load(std::memory_order_relaxed); }

  // `order(t)` fills t.victims from t.loads (construct_core_set). `worth(victim)` may refuse a
  // victim from its racy hints, before any lock: a refusal under the locks costs the victim a wait
  // for its own lock and both cores a round trip of its line. `take(victim)` runs with the
  // victim's and the thief's locks held, taken in core-index order (the order pin_color uses, and
  // posters never hold two), and moves what it chooses. Returns true when something was taken.
  template <class Order, class Worth, class Take>
  bool steal(runtime_impl& rt, core& me, Order order, Worth worth, Take take) {
    thief& t = of(me);
    bool any = false;
    for (unsigned i = 0; i < rt.cfg.workers; ++i) {
      t.loads[i] = i == me.index ? 0 : rt.cores[i].pending_hint.load(std::memory_order_relaxed);
      any |= t.loads[i] > 0;
    }
    if (!any) return false;  // nothing queued anywhere: a look, not an attempt

    const std::uint64_t start = cycles_now();
    trace::ring* const tr = me.trace.load(std::memory_order_acquire);
    if (tr) [[unlikely]] tr->put(trace::kind::steal_begin, start);
    me.stats.steal_attempts.add();
    order(t, me.index);
    for (unsigned v : t.victims) {
      if (!t.loads[v]) continue;
      core& victim = rt.cores[v];
      if (!worth(victim)) continue;
      const steal_take got = [&] {
        const two_core_guard both(me, victim);
        return take(victim);
      }();
      if (got.events) {
        const std::uint64_t end = cycles_now(), spent = end - start;
        if (tr) [[unlikely]]
          tr->put(trace::kind::steal_end, end, 0, std::uint64_t{got.events} << 32 | got.colors, v, 1);
        me.stats.steal_successes.add();
        me.stats.events_stolen.add(got.events);
        me.stats.colors_stolen.add(got.colors);
        me.stats.colors_migrated.add(got.migrated);
        me.stats.stolen_time_cycles.add(got.cycles);
        me.stats.steal_cycles.add(spent);
        // Per color moved: a steal that borrows a set of small colors spends more in all than a
        // steal of one, and an average of whole steals would grow with the sets, raise every
        // worthiness threshold and make the sets larger still.
        // Kept at or above the floor: a big set can bring the per-color figure below it, and
        // events cheaper than the floor must stay unworthy (they use the lane) whatever the sets.
        const std::uint64_t per_color = spent / std::max<std::uint32_t>(1, got.colors);
        cost_.store(std::max(steal_cost_floor, moving_average(steal_cost(), per_color)),
                    std::memory_order_relaxed);
        return true;
      }
    }
    const std::uint64_t end = cycles_now();
    if (tr) [[unlikely]] tr->put(trace::kind::steal_end, end, 0, 0, ~0u, 0);
    me.stats.steal_failures.add();
    me.stats.steal_cycles.add(end - start);
    // Only successful steals measure the steal cost, so an estimate that grew above every color's
    // time left would never be corrected: nothing would look worthy, nothing would be stolen. A
    // failed attempt while work was queued lets it decay a little (1/256), down to a floor below
    // which no steal has ever been seen to go (500 cycles: two lock round trips and a list move).
    const std::uint64_t cost = steal_cost();
    if (cost > steal_cost_floor)
      cost_.store(std::max(steal_cost_floor, cost - cost / 256), std::memory_order_relaxed);
    return false;
  }

 private:
  std::vector<thief> per_core_;
  std::atomic<std::uint64_t> cost_{2000};
};

}  // namespace hue::internal
