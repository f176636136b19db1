// lib/core/placement.cpp — where events go: posting into a color-queue, color-queues created,
// recycled and released, and slots moved between cores (pin_color, stealing).
//
// Locking rules, enforced here: a post holds exactly one core lock (the slot owner's, re-checked
// after locking); moving a slot holds the old and the new owner's locks, lower index first; a slot
// whose last color dies goes home under the old owner's lock alone (color_table.hpp says why).
#include "runtime_impl.hpp"

#include <sched.h>

#include <algorithm>

namespace hue::internal {

void runtime_impl::release_queue(color_queue* q, const color_slot* keep) noexcept {
  const std::uint32_t index = table.index_of(q->color);
  color_slot& s = table.slot(index);
  color_table::unlink(s, q);
  if (!s.chain && !s.pinned && &s != keep)
    s.owner.store(table.home_of(index), std::memory_order_release);
}

color_queue* runtime_impl::recycle_spare(core& c, color_t color, const color_slot& into) noexcept {
  color_queue* q = c.ready.oldest_spare();
  if (!q) return nullptr;
  c.ready.take_spare(q);
  // The old slot may be `into` itself: it must not go home, the recycled queue is about to join it.
  release_queue(q, &into);
  q->~color_queue();
  return ::new (static_cast<void*>(q)) color_queue(color);
}

void runtime_impl::enqueue(color_t color, detail::event* e) {
  e->color = color;
  e->cost = cost_of(*e->info);
  if (legacy) return enqueue_legacy(color, e);
  color_slot& s = table.slot_of(color);
  // A new color needs a block for its color-queue. It is allocated outside the lock (allocation
  // may throw, and must not lengthen the critical section), and only once the color was seen absent.
  void* spare = nullptr;
  for (;;) {
    const unsigned k = s.owner.load(std::memory_order_acquire);
    core& c = cores[k];
    enum { queued, moved, need_block } outcome = queued;
    bool wake = false;
    bool call_thief = false;
    {
      spin_guard g(c.lock);
      c.note_lock_wait(g.waited);
      // The re-check must be an acquire too: the owner may have gone k -> other -> k (a steal,
      // then the slot going home) since the first read, and the chain we are about to read was
      // last written by the other core before it released the slot. Found by ThreadSanitizer.
      if (s.owner.load(std::memory_order_acquire) != k) {
        outcome = moved;  // pin_color or a steal moved the slot after we read its owner
      } else {
        color_queue* q = color_table::find(s, color);
        if (!q) {
          // A new live color: reuse one of the core's spares, else the block allocated outside.
          q = recycle_spare(c, color, s);
          if (!q && spare) {
            q = ::new (spare) color_queue(color);
            spare = nullptr;
          }
          if (q) color_table::link(s, q);
        }
        if (!q) {
          outcome = need_block;
        } else {
          const bool was_queued = q->st == color_queue::state::queued;
          const int was_interval = q->interval;
          q->push(e);
          if (stealing) {
            q->time_left += weight(*e);
            q->cost_left += e->cost;
          }
          ++c.pending;
          c.events_posted.add();
          switch (q->st) {
            case color_queue::state::queued:
              c.ready.reprioritize(q);
              break;
            case color_queue::state::running:
              break;  // its worker re-queues it when the batch ends
            case color_queue::state::spare:
              c.ready.take_spare(q);
              [[fallthrough]];
            case color_queue::state::detached:
              c.ready.push_back(q);
              break;
          }
          restage(c, q);
          c.update_hint();
          // Did this post just create work a sleeping core could take? Edge-triggered, so a hot
          // color that cannot be stolen does not wake a sleeper on every post: with time-left, a
          // color that just became worthy; otherwise the core just got its second color (the
          // paper's can_be_stolen), counting the running one.
          if (stealing && sleepers.load(std::memory_order_relaxed) > 0) {
            if (cfg.steal.mode == steal_mode::heuristics && cfg.steal.heuristics.time_left)
              call_thief = was_interval < 0 && q->interval >= 0;
            else
              call_thief = !was_queued && q->st == color_queue::state::queued &&
                           c.ready.size() + (c.running_queue ? 1 : 0) == 2;
          }
          if (c.sleeping) {
            c.sleeping = false;
            wake = true;
          }
        }
      }
    }
    if (outcome == need_block) {
      spare = detail::allocate_block();  // may throw: post_event frees the event
      continue;
    }
    if (outcome == moved) continue;
    if (wake) c.park.wake();
    if (call_thief) wake_thief(c);
    if (spare) detail::free_block(spare);  // someone else created the color meanwhile
    return;
  }
}

void runtime_impl::move_slot(color_slot& s, unsigned to, bool pin) {
  for (;;) {
    const unsigned from = s.owner.load(std::memory_order_acquire);
    // Two core locks at once only here (and in stealing), always lower index first: no deadlock
    // with each other, and posters and workers never hold two.
    core& lo = cores[std::min(from, to)];
    core& hi = cores[std::max(from, to)];
    lo.note_lock_wait(lo.lock.lock());
    if (&hi != &lo) hi.note_lock_wait(hi.lock.lock());
    bool done = false;
    bool wake = false;
    if (s.owner.load(std::memory_order_acquire) == from) {
      bool busy = legacy && cores[from].legacy_running &&
                  &table.slot_of(cores[from].legacy_running_color) == &s;
      for (color_queue* q = s.chain; q; q = q->slot_next)
        busy |= q->st == color_queue::state::running;
      // A running color cannot change cores mid-batch; wait for its batch to end.
      if (!busy) {
        const std::uint32_t moved = from == to ? 0 : transfer_slot(s, cores[from], cores[to]).events;
        s.pinned = s.pinned || pin;
        wake = moved && cores[to].sleeping;
        if (wake) cores[to].sleeping = false;
        done = true;
      }
    }
    if (&hi != &lo) hi.lock.unlock();
    lo.lock.unlock();
    if (wake) cores[to].park.wake();
    if (done) return;
    sched_yield();
  }
}

runtime_impl::transferred runtime_impl::transfer_slot(color_slot& s, core& from,
                                                      core& to) noexcept {
  transferred t;
  if (legacy) {
    detail::event* set = construct_event_set(
        from.legacy, [&](color_t c) { return &table.slot_of(c) == &s; }, t.events);
    for (const detail::event* e = set; e; e = e->next) t.cycles += e->cost;
    migrate(to.legacy, set);
  }
  for (color_queue* q = s.chain; q; q = q->slot_next) {
    if (q->st == color_queue::state::queued) {
      from.worthy.restage(q, -1);
      from.ready.remove(q);
      to.ready.push_back(q);
      restage(to, q);
    } else {
      from.ready.take_spare(q);
      to.ready.keep_spare(q);
    }
    t.events += q->count;
    t.cycles += q->cost_left;
  }
  from.pending -= t.events;
  to.pending += t.events;
  s.owner.store(to.index, std::memory_order_release);
  from.update_hint();
  to.update_hint();
  return t;
}

}  // namespace hue::internal
