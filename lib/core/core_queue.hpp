// lib/core/core_queue.hpp — a core's runnable color-queues, by priority.
//
// The paper keeps one doubly-linked list sorted by priority; with a handful of priority levels a
// list per level plus a bitmap of non-empty levels gives the same order with O(1) insert, remove,
// re-prioritize and pick. Within a level color-queues are served round-robin: a queue that used
// its batch goes to the back, which is what bounds how long any color waits (no starvation).
//
// The core-queue also keeps the core's spare (empty, reusable) color-queues on a FIFO list of their
// own, with the same links: a queue is never on both.
//
// Guarded by the owning core's lock; `ready_hint` may be read without it (see core.hpp).
#pragma once

#include "color_queue.hpp"

#include <bit>

namespace hue::internal {

class core_queue {
 public:
  bool empty() const noexcept { return levels_ == 0; }
  unsigned size() const noexcept { return size_; }  // queued color-queues

  void push_back(color_queue* q) noexcept {
    const priority_t p = q->priority();
    level& l = level_[p];
    q->next = nullptr;
    q->prev = l.tail;
    if (l.tail) l.tail->next = q; else l.head = q;
    l.tail = q;
    levels_ |= 1u << p;
    q->queued_level = p;
    q->st = color_queue::state::queued;
    ++size_;
  }

  void remove(color_queue* q) noexcept {
    level& l = level_[q->queued_level];
    if (q->prev) q->prev->next = q->next; else l.head = q->next;
    if (q->next) q->next->prev = q->prev; else l.tail = q->prev;
    if (!l.head) levels_ &= ~(1u << q->queued_level);
    q->prev = q->next = nullptr;
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
    color_queue* q = level_[std::bit_width(levels_) - 1].head;
    remove(q);
    return q;
  }

  // Calls f(q) on queued color-queues in the order they would run, until f returns true.
  template <class F>
  void for_each(F f) const {
    for (unsigned bits = levels_; bits;) {
      const unsigned l = static_cast<unsigned>(std::bit_width(bits)) - 1;
      for (color_queue* q = level_[l].head; q;) {
        color_queue* next = q->next;
        if (f(q)) return;
        q = next;
      }
      bits &= ~(1u << l);
    }
  }

  // Adds an empty queue to the spare list.
  void keep_spare(color_queue* q) noexcept {
    q->next = nullptr;
    q->prev = spares_.tail;
    if (spares_.tail) spares_.tail->next = q; else spares_.head = q;
    spares_.tail = q;
    q->st = color_queue::state::spare;
    ++spare_count_;
  }
  // Takes `q` off the spare list (its color got an event, or it is being freed or moved).
  void take_spare(color_queue* q) noexcept {
    if (q->prev) q->prev->next = q->next; else spares_.head = q->next;
    if (q->next) q->next->prev = q->prev; else spares_.tail = q->prev;
    q->prev = q->next = nullptr;
    q->st = color_queue::state::detached;
    --spare_count_;
  }
  color_queue* oldest_spare() const noexcept { return spares_.head; }
  unsigned spare_count() const noexcept { return spare_count_; }

 private:
  struct level {
    color_queue* head = nullptr;
    color_queue* tail = nullptr;
  };
  unsigned levels_ = 0;  // first: it shares the cache line of the core lock (core.hpp)
  level level_[priority_levels];
  unsigned size_ = 0;
  level spares_;
  unsigned spare_count_ = 0;
};

}  // namespace hue::internal
