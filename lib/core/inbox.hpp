// lib/core/inbox.hpp — a core's inbox: where a post from any other thread leaves its event without
// taking the core's lock.
//
// Why. A post under the owner's lock moves the lock's line, the core-queue's line and the
// color-queue's line to the poster's core, and the worker pulls each back: a cross-core post cost
// four to seven line transfers (~230 ns each on these VMs). Through the inbox a poster touches one
// line of the target (the inbox's) and the event it wrote; the worker takes every event waiting
// with one exchange and queues them on its own lines, in its own cache.
//
// A multi-producer stack (Treiber's): a poster links its event in front with a compare-exchange;
// the consumer takes the whole stack with one exchange and reverses it into posting order. Push
// and take-everything has no ABA hazard: a push links to the top it read, and the compare-exchange
// succeeds only if that pointer is still the top, whatever happened in between. Chosen over
// Vyukov's queue (an exchange per push, but a stub node, and a consumer that can see a tail whose
// link is not written yet and must wait for it) because the consumer always takes everything.
//
// Consumer: whoever holds the core lock (the worker, a poster that found its post late, a core
// moving one of this core's slots): the lock makes them one consumer at a time. How taken events
// reach their queues, and the ordering hazards when a slot moves, are in color_scheduler.hpp.
#pragma once

#include <hue/detail/event.hpp>

#include <atomic>

namespace hue::internal {

class inbox {
 public:
  // Any thread. Sequentially consistent: a poster then reads the slot's owner and the core's
  // `sleeping` flag, and a mover or a sleeper that stored those first must see this event.
  void push(detail::event* e) noexcept {
    detail::event* top = top_.load(std::memory_order_relaxed);
    do {
      e->next = top;
    } while (!top_.compare_exchange_weak(top, e, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
  }

  // A racy look, for a spinning worker and for skipping an empty take.
  bool empty() const noexcept { return top_.load(std::memory_order_relaxed) == nullptr; }
  // Ordered after the caller's earlier sequentially consistent stores (a sleeper's flag).
  bool empty_fenced() const noexcept { return top_.load(std::memory_order_seq_cst) == nullptr; }

  // Core lock held: every event pushed so far as a chain, oldest first, and the inbox empty.
  detail::event* take_all() noexcept {
    detail::event* e = top_.exchange(nullptr, std::memory_order_seq_cst);
    detail::event* oldest_first = nullptr;
    while (e) {
      detail::event* next = e->next;
      e->next = oldest_first;
      oldest_first = e;
      e = next;
    }
    return oldest_first;
  }

 private:
  std::atomic<detail::event*> top_{nullptr};
};

}  // namespace hue::internal
