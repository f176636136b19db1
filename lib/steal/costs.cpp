// lib/steal/costs.cpp — what the stealing heuristics know about events: their expected cost
// (annotated or measured), their weight in a color's time left, the stealing-queue upkeep, and the
// wake-up of a sleeping core when a post creates work worth stealing.
#include "core/moving_average.hpp"
#include "core/runtime_impl.hpp"

namespace hue::internal {

std::uint32_t runtime_impl::cost_of(const handler_info& info) const noexcept {
  const std::uint64_t c = cfg.costs == cost_source::annotated && info.cost
                              ? info.cost
                              : info.measured_cost.load(std::memory_order_relaxed);
  return c > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(c);
}

std::uint64_t runtime_impl::weight(const detail::event& e) const noexcept {
  if (!cfg.steal.heuristics.penalty || cfg.steal.mode != steal_mode::heuristics) return e.cost;
  return e.cost / (e.info->penalty ? e.info->penalty : 1);
}

void runtime_impl::restage(core& c, color_queue* q) noexcept {
  if (cfg.steal.mode != steal_mode::heuristics || !cfg.steal.heuristics.time_left) return;
  // The running color is never worthy: it cannot move until its batch ends; nor is a pinned one.
  const int interval = q->st == color_queue::state::queued && !table.slot_of(q->color).pinned
                           ? stealing_queue::interval_for(
                                 q->time_left, steal_cost.load(std::memory_order_relaxed))
                           : -1;
  c.worthy.restage(q, interval);
}

// Racy by design: two workers updating at once lose one sample, which an average can afford.
void runtime_impl::record_cost(const handler_info& info, std::uint64_t cycles) noexcept {
  const std::uint64_t old = info.measured_cost.load(std::memory_order_relaxed);
  info.measured_cost.store(moving_average(old, cycles), std::memory_order_relaxed);
}

void runtime_impl::wake_thief(const core& busy) noexcept {
  for (unsigned i = 0; i < cfg.workers; ++i) {
    core& k = cores[i];
    if (&k == &busy || !k.asleep.load(std::memory_order_relaxed)) continue;
    bool wake = false;
    {
      spin_guard g(k.lock);
      k.note_lock_wait(g.waited);
      if (k.sleeping) {
        k.sleeping = false;
        wake = true;
      }
    }
    if (wake) {
      k.park.wake();
      return;
    }
  }
}

}  // namespace hue::internal
