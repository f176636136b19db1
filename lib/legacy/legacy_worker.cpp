// lib/legacy/legacy_worker.cpp — the libasync-smp emulation at run time: posting to a core's FIFO,
// running it one event at a time, and Fig. 2 stealing with its scans.
//
// Faithful in its decisions and in the work done under the victim's lock; deliberately not in one
// race: Fig. 2 releases the victim before locking the thief, which would let a post of the stolen
// color reach the thief before the stolen events do. The emulation holds both locks, as hue does,
// because every mode must keep the color invariants.
#include "core/runtime_impl.hpp"
#include "steal/victims.hpp"

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
      if (s.owner.load(std::memory_order_relaxed) != k) continue;  // stolen or pinned meanwhile
      c.legacy.push(e);
      ++c.pending;
      c.events_posted.add();
      c.update_hint();
      if (c.sleeping) {
        c.sleeping = false;
        wake = true;
      }
      call_thief = stealing && sleepers.load(std::memory_order_relaxed) > 0 && c.pending > 1;
    }
    if (wake) c.park.wake();
    if (call_thief) wake_thief(c);
    return;
  }
}

bool run_legacy_event(runtime_impl& rt, core& me) {
  detail::event* e;
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
  }
  const handler_info* info = e->info;
  const std::uint64_t start = cycles_now();
  run_event(rt, me, e->color, e);
  const std::uint64_t spent = cycles_now() - start;
  me.busy_cycles.add(spent);
  if (rt.profiling) rt.record_cost(*info, spent);
  me.events_run.add();
  me.batches.add();
  return true;
}

bool try_steal_legacy(runtime_impl& rt, core& me) {
  const unsigned n = rt.cfg.workers;
  bool any = false;
  for (unsigned i = 0; i < n; ++i) {
    me.loads[i] = i == me.index ? 0 : rt.cores[i].pending_hint.load(std::memory_order_relaxed);
    any |= me.loads[i] > 0;
  }
  if (!any) return false;

  const std::uint64_t start = cycles_now();
  me.steal_attempts.add();
  most_loaded_then_successive(me.loads, me.index, me.victims);  // construct_core_set
  for (unsigned v : me.victims) {
    core& victim = rt.cores[v];
    core& lo = v < me.index ? victim : me;
    core& hi = v < me.index ? me : victim;
    lo.note_lock_wait(lo.lock.lock());
    hi.note_lock_wait(hi.lock.lock());
    std::uint32_t events = 0;
    std::uint64_t stolen_cycles = 0;
    if (can_be_stolen(victim.legacy)) {
      // A color may move unless it shares its mapping with the running color or is pinned.
      auto movable = [&](color_t c) {
        const color_slot& s = rt.table.slot_of(c);
        return !s.pinned && !(victim.legacy_running &&
                              &rt.table.slot_of(victim.legacy_running_color) == &s);
      };
      if (const auto color = choose_color_to_steal(victim.legacy, movable)) {
        color_slot& s = rt.table.slot_of(*color);
        for (const detail::event* e = victim.legacy.head; e; e = e->next)
          if (&rt.table.slot_of(e->color) == &s) stolen_cycles += e->cost;
        events = rt.transfer_slot(s, victim, me);  // construct_event_set + migrate
      }
    }
    hi.lock.unlock();
    lo.lock.unlock();
    if (events) {
      const std::uint64_t spent = cycles_now() - start;
      me.steal_successes.add();
      me.events_stolen.add(events);
      me.colors_stolen.add(1);
      me.stolen_time_cycles.add(stolen_cycles);
      me.steal_cycles.add(spent);
      return true;
    }
  }
  me.steal_failures.add();
  me.steal_cycles.add(cycles_now() - start);
  return false;
}

}  // namespace hue::internal
