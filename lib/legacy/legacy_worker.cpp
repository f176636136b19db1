// lib/legacy/legacy_worker.cpp — the libasync-smp emulation at run time: posting to a core's FIFO,
// running it one event at a time, and Fig. 2 stealing with its scans.
//
// Faithful in its decisions and in the work done under the victim's lock; deliberately not in one
// race: Fig. 2 releases the victim before locking the thief, which would let a post of the stolen
// color reach the thief before the stolen events do. The emulation holds both locks, as hue does,
// because every mode must keep the color invariants.
#include "steal/steal_loop.hpp"
#include "steal/victims.hpp"

#include <utility>

namespace hue::internal {

void runtime_impl::enqueue_legacy(color_t color, detail::event* e) noexcept {
  color_slot& s = table.slot_of(color);
  for (;;) {
    const unsigned k = s.owner.load(std::memory_order_acquire);
    core& c = cores[k];
    bool wake = false, call_thief = false;
    {
      spin_guard g(c.lock);
      c.note_lock_wait(g.waited);
      // Acquire: see the re-check in runtime_impl::enqueue.
      if (s.owner.load(std::memory_order_acquire) != k) continue;  // stolen or pinned meanwhile
      c.legacy.push(e);
      ++c.pending;
      c.events_posted.add();
      c.update_hint();
      if (c.sleeping) {
        c.sleeping = false;
        wake = true;
      }
      // Edge-triggered (see enqueue): the FIFO just got a second event.
      call_thief = stealing && sleepers.load(std::memory_order_relaxed) > 0 && c.pending == 2;
    }
    if (wake) c.park.wake();
    if (call_thief) wake_thief(c);
    return;
  }
}

bool run_legacy_event(runtime_impl& rt, core& me) {
  detail::event* e;
  bool wake_poller;
  {
    spin_guard g(me.lock);
    me.note_lock_wait(g.waited);
    me.legacy_running = false;  // the previous event, if any, has finished
    e = me.legacy.pop();
    if (!e) {
      me.update_hint();
      return false;
    }
    --me.pending;
    me.legacy_running = true;
    me.legacy_running_color = e->color;
    me.update_hint();
    wake_poller = std::exchange(me.poll_dormant, false);
  }
  if (wake_poller) resume_poller(me);
  current_worker.color = e->color;
  // Profiled like hue's batches (worker.cpp): one event in 16, unannotated handlers only.
  const handler_info* info = e->info;
  if (rt.profiling && (++me.profile_tick & 15) == 0 &&
      (rt.cfg.costs == cost_source::measured || info->cost == 0)) {
    const std::uint64_t start = cycles_now();
    run_event(rt, me, e->color, e);
    rt.record_cost(*info, cycles_now() - start);
  } else {
    run_event(rt, me, e->color, e);
  }
  me.events_run.add();
  me.batches.add();
  return true;
}

bool try_steal_legacy(runtime_impl& rt, core& me) {
  return steal_loop(
      rt, me,
      [](core& self) { most_loaded_then_successive(self.loads, self.index, self.victims); },
      [&](core& victim) {
        steal_take t;
        if (!can_be_stolen(victim.legacy)) return t;
        // A color may move unless it shares its mapping with the running color or is pinned.
        auto movable = [&](color_t c) {
          const color_slot& s = rt.table.slot_of(c);
          return !s.pinned && !(victim.legacy_running &&
                                &rt.table.slot_of(victim.legacy_running_color) == &s);
        };
        const auto color = choose_color_to_steal(victim.legacy, movable);
        if (!color) return t;
        // construct_event_set + migrate
        const auto moved = rt.transfer_slot(rt.table.slot_of(*color), victim, me);
        t.colors = 1;
        t.events = moved.events;
        t.cycles = moved.cycles;
        return t;
      });
}

}  // namespace hue::internal
