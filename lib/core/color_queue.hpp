// lib/core/color_queue.hpp — the pending events of one color.
//
// A color-queue is the unit of ownership and of stealing: it belongs to exactly one core at a time,
// holds that color's pending events in FIFO order, and moves between cores whole, which is what
// keeps per-color order under stealing. It exists only while its color has pending or running
// events (or sits on its core's short spare list), so a million short-lived colors cost nothing
// once they are done.
//
// Every field is guarded by the lock of the core that owns the queue. A queue is in exactly one
// state:
//   detached on no list, for the length of one critical section (just created, or being moved);
//   queued   it has events and sits in its core's core-queue;
//   running  its core is executing a batch taken off it; new events still append here, but it is
//            outside the core-queue, so no core can take it (this is the mutual exclusion);
//   blocked  its color's previous event is in a core's lane (a fresh color's first event skips the
//            color-queue: color_scheduler.hpp); events append here and wait, as behind a running
//            batch, until that event has run and the lane gives the queue back
//   spare    it is empty and parked on its core's spare list, so the next post to this color finds
//            it without allocating or relinking (a busy connection's color empties and refills
//            constantly), and so that a stolen color stays with its thief. A core keeps at most
//            64; beyond that the oldest is freed or recycled for a new color.
#pragma once

#include "event_fifo.hpp"
#include "intrusive_list.hpp"

#include <bit>
#include <cstdint>

namespace hue::internal {

struct color_queue {
  color_t color = 0;
  list_hook<color_queue> slot_link;   // the live colors sharing this color's table slot
  list_hook<color_queue> link;        // core-queue level or spare list (queued or spare)
  event_fifo events;
  // Pending events per priority level, so the queue's priority (the highest among its events)
  // stays exact as events leave without rescanning the FIFO.
  std::uint32_t level_count[priority_levels] = {};
  std::uint32_t count = 0;            // pending events
  std::uint8_t levels = 0;            // bit p set <=> level_count[p] > 0
  std::uint8_t queued_level = 0;      // the core-queue level this queue is linked at
  enum class state : std::uint8_t { detached, queued, running, blocked, spare };
  state st = state::detached;
  // Kept by a stealing policy, untouched otherwise. Time left: the sum over pending events of their
  // weight (cost, or cost / penalty); cost left: the same without penalties (the "stolen time"
  // statistic); a hook and an interval for the policy's own list of worthy queues.
  std::int8_t interval = -1;          // -1: on no such list
  std::uint64_t time_left = 0;
  std::uint64_t cost_left = 0;
  list_hook<color_queue> steal_link;

  explicit color_queue(color_t c) noexcept : color(c) {}

  bool empty() const noexcept { return count == 0; }

  priority_t priority() const noexcept {
    return static_cast<priority_t>(std::bit_width(static_cast<unsigned>(levels)) - 1);
  }

  void push(detail::event* e) noexcept {
    events.push(e);
    ++count;
    if (level_count[e->priority]++ == 0) levels |= std::uint8_t(1u << e->priority);
  }

  // An event that was ahead of all of this queue's (its color's lane event, color_scheduler.hpp).
  void push_front(detail::event* e) noexcept {
    events.push_front(e);
    ++count;
    if (level_count[e->priority]++ == 0) levels |= std::uint8_t(1u << e->priority);
  }

  // Detaches up to `max` events from the front, as a null-terminated chain.
  detail::event* take(unsigned max, unsigned& taken) noexcept {
    detail::event* chain = events.take(max, taken, [this](const detail::event* e) {
      if (--level_count[e->priority] == 0) levels &= std::uint8_t(~(1u << e->priority));
    });
    count -= taken;
    return chain;
  }
};

static_assert(sizeof(color_queue) <= detail::block_size, "a color-queue must fit in one block");

}  // namespace hue::internal
