// lib/legacy/legacy_scheduler.cpp — the libasync-smp emulation at run time: posting to a core's
// FIFO, running it one event at a time, and Fig. 2 stealing with its scans.
//
// Faithful in its decisions and in the work done under the victim's lock; deliberately not in one
// race: Fig. 2 releases the victim before locking the thief, which would let a post of the stolen
// color reach the thief before the stolen events do. The emulation holds both locks, as hue does,
// because every mode must keep the color invariants.
#include "legacy/legacy_scheduler.hpp"

#include "core/block_pool.hpp"
#include "core/run_loop.hpp"
#include "legacy/legacy_queue.hpp"
#include "steal/steal_loop.hpp"
#include "steal/victims.hpp"

#include <optional>
#include <utility>

namespace hue::internal {

namespace {

// What the emulation adds to each core, guarded by that core's lock.
struct legacy_core {
  legacy_queue fifo;              // the one FIFO of the core
  bool running = false;           // an event of `running_color` runs
  color_t running_color = 0;
};

template <bool Steal>
class legacy_scheduler final : public scheduler {
 public:
  explicit legacy_scheduler(runtime_impl& rt)
      : rt_(rt), cores_(new legacy_core[rt.cfg.workers]), measured_only_(rt.cfg.costs == cost_source::measured) {
    if constexpr (Steal) thieves_.emplace(rt);
  }

  void post(color_t color, detail::event* e) override {
    e->color = color;
    if constexpr (Steal) e->cost = expected_cost(*e->info, measured_only_);
    core* owner = nullptr;
    bool wake = false, call_thief = false;
    rt_.with_owner(rt_.table.slot_of(color), [&](core& c) {
      cores_[c.index].fifo.push(e);
      ++c.pending;
      c.events_posted.add();
      c.update_hint();
      wake = c.claim_wake();
      // Edge-triggered (as hue's Fig. 2 policy): the FIFO just got a second event.
      call_thief = Steal && c.pending == 2 && rt_.sleepers.load(std::memory_order_relaxed) > 0;
      owner = &c;
      return true;
    });
    note_remote_post(rt_, *owner);
    if (wake) owner->park.wake();
    if (call_thief) wake_thief(rt_, *owner);
  }

  void run(core& me) override { worker_main(rt_, me, *this); }

  void move_slot(color_slot& s, unsigned to, bool pin) override {
    rt_.move_slot_with(
        s, to, pin, [&](const core& from) { return runs_slot(from, s); },
        [&](core& from, core& dest) { return transfer(s, from, dest).events; });
  }

  bool runs_slot(const core& me, const color_slot& s) const noexcept override {
    const legacy_core& l = cores_[me.index];
    return l.running && &rt_.table.slot_of(l.running_color) == &s;
  }

  void discard_pending() noexcept override {
    for (unsigned k = 0; k < rt_.cfg.workers; ++k) {
      while (detail::event* e = cores_[k].fifo.pop()) {
        e->op(e, detail::event_op::discard);
        detail::free_block(e);
      }
    }
  }

  // Phase 1: runs the first event of the core's FIFO.
  bool run_batch(core& me) {
    legacy_core& l = cores_[me.index];
    detail::event* e;
    bool dormant;
    {
      spin_guard g(me.lock);
      me.note_lock_wait(g.waited);
      l.running = false;  // the previous event, if any, has finished
      e = l.fifo.pop();
      if (!e) return false;
      --me.pending;
      l.running = true;
      l.running_color = e->color;
      me.update_hint();
      dormant = std::exchange(me.poll.dormant, false);
    }
    resume_poller_if_dormant(me, dormant);
    current_worker.color = e->color;
    run_chain<Steal>(rt_, me, e, measured_only_);
    return true;
  }

  // Phase 2: Fig. 2.
  bool try_steal(core& me) {
    if constexpr (!Steal) {
      return false;
    } else {
      return thieves_->steal(
          rt_, me,
          [](thieves::thief& t, unsigned self) { most_loaded_then_successive(t.loads, self, t.victims); },
          [](const core&) { return true; },  // Fig. 2 decides under the locks, by its scans
          [&](core& victim) {
            steal_take got;
            const legacy_core& v = cores_[victim.index];
            if (!can_be_stolen(v.fifo)) return got;
            // A color may move unless it shares its mapping with the running color or is pinned.
            auto movable = [&](color_t c) {
              const color_slot& s = rt_.table.slot_of(c);
              return !s.pinned && !runs_slot(victim, s);
            };
            const std::optional<color_t> color = choose_color_to_steal(v.fifo, movable);
            if (!color) return got;
            const steal_take moved = transfer(rt_.table.slot_of(*color), victim, me);
            got.colors = 1;
            got.events = moved.events;
            got.cycles = moved.cycles;
            return got;
          });
    }
  }

  void finish(core& me) {
    spin_guard g(me.lock);
    cores_[me.index].running = false;
  }

 private:
  // construct_event_set + migrate: every event of the slot's colors, scanning the whole FIFO.
  steal_take transfer(color_slot& s, core& from, core& to) noexcept {
    steal_take t;
    detail::event* set = construct_event_set(
        cores_[from.index].fifo, [&](color_t c) { return &rt_.table.slot_of(c) == &s; }, t.events);
    for (const detail::event* e = set; e; e = e->next) t.cycles += e->cost;
    migrate(cores_[to.index].fifo, set);
    runtime_impl::hand_over(s, from, to, t.events);
    return t;
  }

  runtime_impl& rt_;
  std::unique_ptr<legacy_core[]> cores_;
  const bool measured_only_;
  std::optional<thieves> thieves_;
};

}  // namespace

std::unique_ptr<scheduler> make_legacy_scheduler(runtime_impl& rt) {
  if (rt.cfg.steal.mode == steal_mode::libasync_smp && rt.cfg.workers > 1)
    return std::make_unique<legacy_scheduler<true>>(rt);
  return std::make_unique<legacy_scheduler<false>>(rt);
}

}  // namespace hue::internal
