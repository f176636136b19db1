// lib/steal/steal.cpp — phase 3 of the run loop: an idle core takes a whole color from a busy one.
//
// The skeleton is the paper's Fig. 2: construct_core_set orders the victims; for each, with its
// lock held, can_be_stolen / choose_color_to_steal pick a color-queue; migrate moves it. On hue's
// structures construct_event_set is free: the color's events already sit in one color-queue.
//
//   base       Fig. 2 as is: most loaded core first, then successive numbers; a victim needs two
//              colors (the running one cannot move); the first color, in core-queue order, holding
//              fewer than half of the victim's events.
//   heuristics time-left: only worthy colors (time left > measured steal cost), best interval of
//              the victim's stealing-queue first; penalty-aware: time left counts cost / penalty
//              (and, without time-left, the candidate with the most of it wins); locality-aware:
//              victims nearest in the cache hierarchy first.
//
// What moves is the color's table slot: every live color of the slot goes, the slot's owner
// becomes the thief, and later posts of those colors come here (SPEC §2.6). A slot with a running
// color, or a pinned slot, never moves.
//
// Locking: see steal_loop.hpp.
#include "steal/steal_loop.hpp"
#include "steal/victims.hpp"

namespace hue::internal {
namespace {

// A slot may move when it is not pinned and none of its colors is running.
bool slot_can_move(const color_slot& s) noexcept {
  if (s.pinned) return false;
  for (const color_queue* q = s.chain; q; q = q->slot_next)
    if (q->st == color_queue::state::running) return false;
  return true;
}

// Visits `victim`'s queued color-queues in core-queue order (highest priority, oldest first) until
// `f` returns true; at most `limit` of them, to bound the time the victim's lock is held.
template <class F>
color_queue* first_queued(core& victim, unsigned limit, F f) {
  color_queue* found = nullptr;
  victim.ready.for_each([&](color_queue* q) {
    if (limit-- == 0) return true;
    if (f(q)) {
      found = q;
      return true;
    }
    return false;
  });
  return found;
}

// can_be_stolen + choose_color_to_steal, with `victim` locked. nullptr: nothing to take.
color_queue* choose(runtime_impl& rt, core& victim) {
  const heuristics_set& h = rt.cfg.steal.heuristics;
  const bool heur = rt.cfg.steal.mode == steal_mode::heuristics;
  auto movable = [&](const color_queue* q) { return slot_can_move(rt.table.slot_of(q->color)); };

  if (heur && h.time_left) {
    const std::uint64_t cost = rt.steal_cost.load(std::memory_order_relaxed);
    // Intervals were computed with the steal cost of the time; re-check worthiness now.
    return victim.worthy.best([&](const color_queue* q) { return q->time_left > cost && movable(q); });
  }

  // Fig. 2: two colors at least, counting the running one.
  unsigned colors = victim.running_queue ? 1 : 0;
  first_queued(victim, 2, [&](color_queue*) { return ++colors >= 2; });
  if (colors < 2) return nullptr;
  auto small_enough = [&](const color_queue* q) { return 2 * q->count < victim.pending; };

  if (heur && h.penalty) {
    // Penalty-aware without time-left: among the base candidates, the one whose time left (cost /
    // penalty) is largest, so high-penalty colors go last. The scan is bounded.
    color_queue* pick = nullptr;
    first_queued(victim, 64, [&](color_queue* q) {
      if (small_enough(q) && movable(q) && (!pick || q->time_left > pick->time_left)) pick = q;
      return false;
    });
    return pick;
  }
  return first_queued(victim, UINT32_MAX, [&](color_queue* q) { return small_enough(q) && movable(q); });
}

}  // namespace

bool try_steal(runtime_impl& rt, core& me) {
  const bool locality =
      rt.cfg.steal.mode == steal_mode::heuristics && rt.cfg.steal.heuristics.locality;
  return steal_loop(
      rt, me,
      [&](core& self) {
        if (locality) nearest_first(self.loads, self.distance, self.index, self.victims);
        else most_loaded_then_successive(self.loads, self.index, self.victims);
      },
      [&](core& victim) {
        steal_take t;
        color_queue* q = choose(rt, victim);
        if (!q) return t;
        color_slot& s = rt.table.slot_of(q->color);
        for (const color_queue* c = s.chain; c; c = c->slot_next) t.colors += c->count > 0;
        const auto moved = rt.transfer_slot(s, victim, me);
        t.events = moved.events;
        t.cycles = moved.cycles;
        return t;
      });
}

}  // namespace hue::internal
