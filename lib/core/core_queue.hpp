// lib/core/core_queue.hpp — a core's runnable color-queues, by priority.
//
// The paper keeps one doubly-linked list sorted by priority; with a handful of priority levels a
// list per level plus a bitmap of non-empty levels gives the same order with O(1) insert, remove,
// re-prioritize and pick. Within a level color-queues are served round-robin: a queue that used
// its batch goes to the back, which is what bounds how long any color waits (no starvation).
//
// The core-queue also keeps the core's spare (empty, reusable) color-queues on a FIFO list of their
// own, through the same hook: a queue is never on both.
//
// Guarded by the owning core's lock; `ready_hint` may be read without it (see core.hpp).
#pragma once

#include "color_queue.hpp"

#include <bit>

namespace hue::internal {

class core_queue {
  using list = intrusive_list<color_queue, &color_queue::link>;

 public:
  bool empty() const noexcept { return levels_ == 0; }
  // Some queued color-queue has a priority above the default (the lane's events have the default).
  bool above_default() const noexcept { return levels_ > 1; }
  unsigned size() const noexcept { return size_; }  // queued color-queues

  void push_back(color_queue* q) noexcept {
    const priority_t p = q->priority();
    level(p).push_back(q);
    levels_ |= 1u << p;
    q->queued_level = p;
    q->st = color_queue::state::queued;
    ++size_;
  }

  void remove(color_queue* q) noexcept {
    list& l = level(q->queued_level);
    l.remove(q);
    if (l.empty()) levels_ &= ~(1u << q->queued_level);
    q->st = color_queue::state::detached;
    --size_;
  }

  // After an event of higher priority joined `q`: move it to its new level.
  void reprioritize(color_queue* q) noexcept {
    if (q->priority() == q->queued_level) return;
    remove(q);
    push_back(q);
  }

  // The queue to run next: the oldest of the highest non-empty level. Removes it (detached).
  color_queue* pop_front() noexcept {
    if (!levels_) return nullptr;
    color_queue* q = level(static_cast<unsigned>(std::bit_width(levels_)) - 1).front();
    remove(q);
    return q;
  }

  // Calls f(q) on queued color-queues in the order they would run, until f returns true.
  template <class F>
  void for_each(F f) const {
    for (unsigned bits = levels_; bits;) {
      const unsigned l = static_cast<unsigned>(std::bit_width(bits)) - 1;
      if (level(l).find_if(f)) return;
      bits &= ~(1u << l);
    }
  }

  // The same in the opposite order: what this core would run last, first.
  template <class F>
  void for_each_reverse(F f) const {
    for (unsigned bits = levels_; bits;) {
      const unsigned l = static_cast<unsigned>(std::countr_zero(bits));
      if (level(l).find_if_reverse(f)) return;
      bits &= bits - 1;
    }
  }

  void keep_spare(color_queue* q) noexcept {
    spares_.push_back(q);
    q->st = color_queue::state::spare;
  }
  // Takes `q` off the spare list (its color got an event, or it is being freed or moved).
  void take_spare(color_queue* q) noexcept {
    spares_.remove(q);
    q->st = color_queue::state::detached;
  }
  color_queue* oldest_spare() const noexcept { return spares_.front(); }
  unsigned spare_count() const noexcept { return static_cast<unsigned>(spares_.size()); }

 private:
  // The default level and the spare list come first, beside the counts: a post to a
  // default-priority color, and a batch of one, touch only these (core.hpp lays them out on the
  // core's first lines); the higher levels follow.
  list& level(unsigned p) noexcept { return p == default_priority ? default_ : higher_[p - 1]; }
  const list& level(unsigned p) const noexcept {
    return p == default_priority ? default_ : higher_[p - 1];
  }
  unsigned levels_ = 0;
  unsigned size_ = 0;
  list default_;
  list spares_;
  list higher_[priority_levels - 1];
};
static_assert(default_priority == 0, "core_queue::level keeps the default level apart");

}  // namespace hue::internal
