// lib/core/event_fifo.hpp — pending events in posting order: a color-queue's events, and the one
// FIFO per core of the libasync-smp emulation.
//
// Singly linked through `event::next` (intrusive_list.hpp says why events have no second link).
// It keeps no count: its owners count what they need, where their layout has room (a color-queue
// must fit in one 128-byte block). Guarded by the lock of the core that owns the FIFO.
#pragma once

#include <hue/detail/event.hpp>

#include <cstdint>

namespace hue::internal {

struct event_fifo {
  detail::event* head = nullptr;
  detail::event* tail = nullptr;

  bool empty() const noexcept { return head == nullptr; }

  void push(detail::event* e) noexcept {
    e->next = nullptr;
    if (tail) tail->next = e; else head = e;
    tail = e;
  }

  void push_front(detail::event* e) noexcept {
    e->next = head;
    head = e;
    if (!tail) tail = e;
  }

  detail::event* pop() noexcept {
    detail::event* e = head;
    if (!e) return nullptr;
    head = e->next;
    if (!head) tail = nullptr;
    e->next = nullptr;
    return e;
  }

  // Unlinks and returns the first event `f` accepts: a walk from the head, for rare paths only
  // (moving a slot).
  template <class F>
  detail::event* unlink_if(F f) noexcept {
    detail::event* prev = nullptr;
    for (detail::event* e = head; e; prev = e, e = e->next) {
      if (!f(e)) continue;
      (prev ? prev->next : head) = e->next;
      if (tail == e) tail = prev;
      e->next = nullptr;
      return e;
    }
    return nullptr;
  }

  // Detaches up to `max` events from the front as a null-terminated chain; `on_take(e)` sees each.
  template <class F>
  detail::event* take(unsigned max, unsigned& taken, F on_take) noexcept {
    return take_while(max, taken, [&](const detail::event* e) { return on_take(e), true; });
  }

  // The same, but `more(e)` sees each event taken and says whether to go on after it.
  template <class F>
  detail::event* take_while(unsigned max, unsigned& taken, F more) noexcept {
    detail::event* first = head;
    detail::event* last = nullptr;
    taken = 0;
    for (detail::event* e = head; e && taken < max; e = e->next) {
      last = e;
      ++taken;
      if (!more(e)) break;
    }
    if (!last) return nullptr;
    head = last->next;
    if (!head) tail = nullptr;
    last->next = nullptr;
    return first;
  }
};

}  // namespace hue::internal
