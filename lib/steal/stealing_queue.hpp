// lib/steal/stealing_queue.hpp — a core's worthy colors, by time left (the Mely paper's
// stealing-queue).
//
// A color is *worthy* when its time left exceeds what stealing it costs, and it is not running.
// The stealing-queue lists a core's worthy color-queues in three time-left intervals, unordered
// within an interval: insertion stays O(1) however many colors there are, and a thief still finds
// a color with a lot of time left without scanning them all. The boundaries are multiples of the
// measured steal cost: (1x, 4x], (4x, 16x], (16x, inf). The paper does not give its boundaries;
// these were picked so that the top interval holds colors worth 16 steals or more. Tune later.
//
// Guarded by the owning core's lock, like the color-queues it links.
#pragma once

#include "core/color_queue.hpp"

#include <cstdint>

namespace hue::internal {

class stealing_queue {
 public:
  static constexpr int intervals = 3;

  static int interval_for(std::uint64_t time_left, std::uint64_t steal_cost) noexcept {
    if (time_left <= steal_cost) return -1;
    if (time_left <= 4 * steal_cost) return 0;
    if (time_left <= 16 * steal_cost) return 1;
    return 2;
  }

  bool empty() const noexcept { return nonempty_ == 0; }

  // Lists `q` in `interval` (-1: not listed). Cheap when nothing changes.
  void restage(color_queue* q, int interval) noexcept {
    if (q->interval == interval) return;
    if (q->interval >= 0) {
      list& l = head_[q->interval];
      l.remove(q);
      if (l.empty()) nonempty_ &= ~(1u << q->interval);
    }
    q->interval = static_cast<std::int8_t>(interval);
    if (interval >= 0) {
      head_[interval].push_front(q);
      nonempty_ |= 1u << interval;
    }
  }

  // Calls f(q) on listed queues, highest interval first, until f returns true.
  template <class F>
  void for_each_best(F f) const {
    for (int i = intervals - 1; i >= 0; --i)
      if (head_[i].find_if(f)) return;
  }

  // The best candidate for a thief: from the highest non-empty interval, the queue with the most
  // time left among its first `scan` entries that `eligible` accepts; lower intervals next.
  template <class Pred>
  color_queue* best(Pred eligible, unsigned scan = 8) const {
    for (int i = intervals - 1; i >= 0; --i) {
      color_queue* pick = nullptr;
      unsigned seen = 0;
      for (color_queue* q = head_[i].front(); q && seen < scan; q = list::next(q), ++seen)
        if ((!pick || q->time_left > pick->time_left) && eligible(q)) pick = q;
      if (pick) return pick;
    }
    return nullptr;
  }

 private:
  using list = intrusive_list<color_queue, &color_queue::steal_link>;
  list head_[intervals];
  unsigned nonempty_ = 0;
};

}  // namespace hue::internal
