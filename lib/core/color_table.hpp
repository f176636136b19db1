// lib/core/color_table.hpp — the color -> core mapping.
//
// Colors hash into a fixed array of slots (as Mely's statically allocated 64 KB table does).
// A slot records the core that owns it and chains the color-queues of the live colors that hash
// there. All colors of a slot live on the slot's owner, and the chain is guarded by that core's
// lock, so a post needs exactly one lock: read the owner, lock that core, re-check the owner.
//
// Why this cannot serialize distinct colors: a slot is a *placement* unit, not a lock. Two colors
// sharing a slot have separate color-queues and are ordered only as any two colors on one core are.
// The table size bounds nothing: a million live colors on 131,072 slots are chains of ~8.
//
// Hazard: the owner of a slot changes (pin_color, stealing) only while holding the locks of both
// the old and the new owner, and a running color-queue never moves. A poster that read the old
// owner and then got its lock sees the new owner on its re-check and retries. One exception needs
// only the old owner's lock: when the last color of a slot dies, the slot goes back home
// (`home_of`), because an empty chain gives the new owner nothing to guard. Without that return,
// every steal would shift placement for good, and after enough steals a core that posts fresh
// colors would find it owns almost no slots (the unbalanced benchmark showed exactly that).
#pragma once

#include "color_queue.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace hue::internal {

struct color_slot {
  std::atomic<std::uint32_t> owner{0};
  bool pinned = false;                 // guarded by the owner's lock
  // A fresh color's first event may skip the color-queue and wait in its owner's lane (see
  // color_scheduler.hpp); at most one event of a slot is in a lane at a time, and while it is
  // (from its post until the lane has run it and cleared this) later events of `lane_color` wait
  // in a blocked color-queue. Guarded by the owner's lock; the slot does not move meanwhile.
  bool lane_busy = false;
  bool lane_running = false;           // taken off the lane: running here or on a thief
  color_t lane_color = 0;
  // The live colors of the slot; guarded by the owner's lock.
  intrusive_list<color_queue, &color_queue::slot_link> chain;
};

class color_table {
 public:
  // `slots` is rounded up to a power of two; slot i starts on core i % cores.
  color_table(std::uint32_t slots, unsigned cores);

  std::uint32_t size() const noexcept { return mask_ + 1; }

  // Fixed colors: Fibonacci hashing. They are often small consecutive integers (fds), which a
  // multiplicative hash spreads over all slots and, through `slot % cores`, over all cores.
  // Fresh colors come from a counter, one per object, so they take the slots in order: as evenly
  // spread over the slots and the cores as a hash, but a burst of fresh colors (a fork of 50,000
  // events, each on its own color) walks the table sequentially, which the hardware prefetches;
  // hashed, every post of the burst missed on its slot (a fifth of a post's time in unbalanced).
  // Colors handed out 2^n apart share a slot, as any two may with a hash.
  std::uint32_t index_of(color_t color) const noexcept {
    if (color >= first_fresh_color) return static_cast<std::uint32_t>(color) & mask_;
    // The top bits of the product are the well-mixed ones.
    return static_cast<std::uint32_t>((color * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  color_slot& slot(std::uint32_t index) noexcept { return slots_[index]; }
  color_slot& slot_of(color_t color) noexcept { return slots_[index_of(color)]; }

  // Where slot `index` lives while none of its colors is live: spread by index, as at start.
  std::uint32_t home_of(std::uint32_t index) const noexcept { return index % cores_; }

  // Needs the lock of the slot's owner.
  static color_queue* find(const color_slot& s, color_t color) noexcept {
    return s.chain.find_if([color](const color_queue* q) { return q->color == color; });
  }

 private:
  std::unique_ptr<color_slot[]> slots_;
  std::uint32_t mask_;
  unsigned shift_;
  unsigned cores_;
};

}  // namespace hue::internal
