// lib/core/color_queue.hpp — the pending events of one color.
//
// A color-queue is the unit of ownership and of stealing: it belongs to exactly one core at a time,
// holds that color's pending events in FIFO order, and moves between cores whole, which is what
// keeps per-color order under stealing (paper §4.1). It exists only while its color has pending or
// running events, so a million short-lived colors cost nothing once they are done.
//
// Every field is guarded by the lock of the core that owns the queue. While `running` is set the
// owning worker is executing a batch of this color taken off the queue; new events still append
// here, but no other core may take the queue (mutual exclusion) and it is not in the core-queue.
#pragma once

#include <hue/detail/event.hpp>

#include <bit>
#include <cstdint>

namespace hue::internal {

struct color_queue {
  color_t color = 0;
  color_queue* slot_next = nullptr;   // other live colors sharing this color's table slot
  color_queue* prev = nullptr;        // core-queue links (valid while in_core_queue)
  color_queue* next = nullptr;
  detail::event* head = nullptr;
  detail::event* tail = nullptr;
  std::uint32_t count = 0;
  // Pending events per priority level, so the queue's priority (the highest among its events)
  // stays exact as events leave without rescanning the FIFO.
  std::uint32_t level_count[priority_levels] = {};
  std::uint8_t levels = 0;            // bit p set <=> level_count[p] > 0
  std::uint8_t queued_level = 0;      // the core-queue level this queue is linked at
  bool in_core_queue = false;
  bool running = false;

  explicit color_queue(color_t c) noexcept : color(c) {}

  bool empty() const noexcept { return count == 0; }

  priority_t priority() const noexcept {
    return static_cast<priority_t>(std::bit_width(static_cast<unsigned>(levels)) - 1);
  }

  void push(detail::event* e) noexcept {
    e->next = nullptr;
    if (tail) tail->next = e; else head = e;
    tail = e;
    ++count;
    if (level_count[e->priority]++ == 0) levels |= std::uint8_t(1u << e->priority);
  }

  // Detaches up to `max` events from the front, as a null-terminated chain.
  detail::event* take(unsigned max, unsigned& taken) noexcept {
    detail::event* first = head;
    detail::event* last = nullptr;
    taken = 0;
    for (detail::event* e = head; e && taken < max; e = e->next, ++taken) {
      last = e;
      if (--level_count[e->priority] == 0) levels &= std::uint8_t(~(1u << e->priority));
    }
    if (!last) return nullptr;
    head = last->next;
    if (!head) tail = nullptr;
    last->next = nullptr;
    count -= taken;
    return first;
  }
};

static_assert(sizeof(color_queue) <= detail::block_size, "a color-queue must fit in one block");

}  // namespace hue::internal
