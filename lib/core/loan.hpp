// lib/core/loan.hpp — what a thief borrows from a victim in one steal (color_scheduler::lend and
// lend_lane): batches of color-queues, and a chunk of the victim's lane. The colors stay the
// victim's; the thief runs the events and gives the queues and lane marks back in one critical
// section. The vectors are reserved once per thief, so a steal allocates nothing.
#pragma once

#include "color_table.hpp"

#include <vector>

namespace hue::internal {

// A batch of `q`'s events run by another core than its owner.
struct color_loan {
  color_queue* q;
  detail::event* chain;
  unsigned events;
};

struct loan_set {
  std::vector<color_loan> loans;
  detail::event* lane = nullptr;           // a chunk off the front of the victim's lane
  std::vector<color_slot*> lane_slots;     // the slots of the chunk's events, in order

  explicit loan_set(std::size_t max) {
    loans.reserve(max);
    lane_slots.reserve(max);
  }
  bool empty() const noexcept { return loans.empty() && !lane; }
  void clear() noexcept {
    loans.clear();
    lane = nullptr;
    lane_slots.clear();
  }
};

}  // namespace hue::internal
