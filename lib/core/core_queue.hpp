// lib/core/core_queue.hpp — a core's runnable color-queues, by priority.
//
// The paper keeps one doubly-linked list sorted by priority; with a handful of priority levels a
// list per level plus a bitmap of non-empty levels gives the same order with O(1) insert, remove,
// re-prioritize and pick. Within a level color-queues are served round-robin: a queue that used
// its batch goes to the back, which is what bounds how long any color waits (no starvation).
//
// Guarded by the owning core's lock; `ready_hint` may be read without it (see core.hpp).
#pragma once

#include "color_queue.hpp"

#include <bit>

namespace hue::internal {

class core_queue {
 public:
  bool empty() const noexcept { return levels_ == 0; }

  void push_back(color_queue* q) noexcept {
    const priority_t p = q->priority();
    level& l = level_[p];
    q->next = nullptr;
    q->prev = l.tail;
    if (l.tail) l.tail->next = q; else l.head = q;
    l.tail = q;
    levels_ |= 1u << p;
    q->queued_level = p;
    q->in_core_queue = true;
  }

  void remove(color_queue* q) noexcept {
    level& l = level_[q->queued_level];
    if (q->prev) q->prev->next = q->next; else l.head = q->next;
    if (q->next) q->next->prev = q->prev; else l.tail = q->prev;
    if (!l.head) levels_ &= ~(1u << q->queued_level);
    q->prev = q->next = nullptr;
    q->in_core_queue = false;
  }

  // After an event of higher priority joined `q`: move it to its new level.
  void reprioritize(color_queue* q) noexcept {
    if (q->priority() == q->queued_level) return;
    remove(q);
    push_back(q);
  }

  // The queue to run next: the oldest of the highest non-empty level. Removes it.
  color_queue* pop_front() noexcept {
    if (!levels_) return nullptr;
    color_queue* q = level_[std::bit_width(levels_) - 1].head;
    remove(q);
    return q;
  }

 private:
  struct level {
    color_queue* head = nullptr;
    color_queue* tail = nullptr;
  };
  level level_[priority_levels];
  unsigned levels_ = 0;
};

}  // namespace hue::internal
