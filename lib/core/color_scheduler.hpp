// lib/core/color_scheduler.hpp — hue's scheduling on color-queues, for any stealing policy: where
// a posted event goes, how a batch is taken and given back, how color-queues are created, recycled
// and moved between cores.
//
// The stealing policy is a template parameter, so each mode's post path and run loop are compiled
// for that mode alone (scheduler.hpp). What a policy provides is the concept `color_policy`
// (color_policy.hpp), checked by the compiler.
//
// The lane. A color-queue costs a block, a slot-chain link and a batch of its own; most colors
// of a fork/join round or of a request's short handlers have one event and die with it. So the
// first event of a color that has no color-queue goes, if it has the default priority, its slot
// is not pinned and the policy agrees (lane_fits), into its core's lane: one FIFO of such events,
// run in chunks of up to `batch` and stolen in chunks, like a plain FIFO scheduler's. The slot is
// marked (color_slot::lane_busy) from the post until the event has run and the mark is cleared,
// at most one lane event per slot; a second event of the same color meanwhile goes into a
// color-queue created `blocked`, which the clearing gives back to the core-queue. So a color's
// events never run out of order or at once, wherever the lane event runs. Since a slot has at most
// one event in the lanes, any chunk of a lane holds distinct colors, and a thief may take any.
//
// Locking rules, enforced here: a post holds exactly one core lock (the slot owner's, through
// runtime_impl::with_owner); moving a slot holds the old and the new owner's locks, lower index
// first; a slot whose last color dies goes home under the old owner's lock alone (color_table.hpp
// says why).
#pragma once

#include "block_pool.hpp"
#include "color_policy.hpp"
#include "loan.hpp"
#include "run_loop.hpp"

#include <utility>

namespace hue::internal {

template <color_policy Policy>
class color_scheduler final : public scheduler {
 public:
  template <class... Args>
  explicit color_scheduler(runtime_impl& rt, Args&&... args)
      : rt_(rt), policy_(rt, std::forward<Args>(args)...) {
    static_assert(color_policy_for<Policy, color_scheduler>, "the policy cannot steal for it");
  }

  // --- scheduler ---

  void post(color_t color, detail::event* e) override {
    e->color = color;
    if constexpr (Policy::keeps_time_left) e->cost = policy_.cost_of(*e->info);
    color_slot& s = rt_.table.slot_of(color);
    // A new color needs a block for its color-queue. It is allocated outside the lock (allocation
    // may throw, and must not lengthen the critical section), and only once the color was seen
    // absent.
    void* block = nullptr;
    core* owner = nullptr;
    bool wake = false, call_thief = false;
    for (;;) {
      bool need_block = false;
      rt_.with_owner(s, [&](core& c) {
        color_queue* q = color_table::find(s, color);
        if (!q && !s.lane_busy && !s.pinned && e->priority == default_priority &&
            policy_.lane_fits(*e)) {
          lane_push(c, s, e, wake, call_thief);
          owner = &c;
          return true;
        }
        if (!q) {
          q = new_queue(c, color, s, block);
          if (!q) return need_block = true;
          if (s.lane_busy && s.lane_color == color) q->st = color_queue::state::blocked;
        }
        enqueue(c, q, e, wake, call_thief);
        owner = &c;
        return true;
      });
      if (!need_block) break;
      block = detail::allocate_block();  // may throw: runtime::post frees the event
    }
    note_remote_post(rt_, *owner);
    if (wake) owner->park.wake();
    if (call_thief) wake_thief(rt_, *owner);
    if (block) detail::free_block(block);  // someone else created the color meanwhile
  }

  void run(core& me) override { worker_main(rt_, me, *this); }

  void move_slot(color_slot& s, unsigned to, bool pin) override {
    rt_.move_slot_with(
        s, to, pin,
        [&s](const core&) {
          return s.lane_running || s.chain.find_if([](const color_queue* q) {
            return q->st == color_queue::state::running;
          }) != nullptr;
        },
        [&](core& from, core& dest) { return transfer_slot(s, from, dest).events; });
  }

  bool runs_slot(const core& me, const color_slot& s) const noexcept override {
    if (me.in_lane) return &rt_.table.slot_of(current_worker.color) == &s;
    const color_queue* q = me.loaned_queue ? me.loaned_queue : me.running_queue;
    return q && &rt_.table.slot_of(q->color) == &s;
  }

  void discard_pending() noexcept override {
    for (unsigned i = 0; i < rt_.cfg.workers; ++i) {
      while (detail::event* e = rt_.cores[i].lane.pop()) {
        e->op(e, detail::event_op::discard);
        detail::free_block(e);
      }
    }
    for (std::uint32_t i = 0; i < rt_.table.size(); ++i) {
      color_slot& s = rt_.table.slot(i);
      while (color_queue* q = s.chain.pop_front()) {
        unsigned n;
        for (detail::event* e = q->take(~0u, n); e;) {
          detail::event* next = e->next;
          e->op(e, detail::event_op::discard);
          detail::free_block(e);
          e = next;
        }
        q->~color_queue();
        detail::free_block(q);
      }
    }
  }

  // --- the run loop's phases (run_loop.hpp) ---

  // Phase 1. Returns false when the core-queue is empty. The color-queue of the previous batch,
  // still marked running, is given back in the same critical section that takes the next batch:
  // one lock round trip per batch instead of two (a batch is often one event).
  bool run_batch(core& me) {
    color_queue* q = nullptr;
    detail::event* chain;
    bool dormant;
    {
      spin_guard g(me.lock);
      me.note_lock_wait(g.waited);
      if (me.running_queue) finish_batch(me);
      if (me.lane_ran) finish_lane(me, me.lane_slots, std::exchange(me.lane_ran, 0u));
      if (lane_turn(me)) {
        std::uint64_t cycles;
        chain = take_lane(me, std::min(rt_.cfg.batch, core::max_lane_chunk), UINT64_MAX,
                          me.lane_slots, me.lane_ran, cycles);
      } else {
        q = me.ready.pop_front();
        if (!q) return false;
        // From here until the batch is finished no other core may take this color (mutual
        // exclusion); posts to it append to `q` but leave it out of the core-queue.
        q->st = color_queue::state::running;
        me.running_queue = q;
        unsigned taken;
        chain = q->take(rt_.cfg.batch, taken);
        me.pending -= taken;
        if constexpr (Policy::keeps_time_left) {
          account_taken(me, q, chain);
          policy_.restage(me, q);  // out of the stealing-queue while it runs
        }
        me.update_hint();
      }
      dormant = std::exchange(me.poll.dormant, false);
    }
    resume_poller_if_dormant(me, dormant);
    me.in_lane = q == nullptr;
    run_chain<Policy::keeps_time_left>(rt_, me, chain, policy_.measured_only);
    me.in_lane = false;
    return true;
  }

  bool try_steal(core& me) { return policy_.try_steal(me, *this); }

  void finish(core& me) {
    spin_guard g(me.lock);
    if (me.running_queue) finish_batch(me);
    if (me.lane_ran) finish_lane(me, me.lane_slots, std::exchange(me.lane_ran, 0u));
  }

  // --- for stealing policies ---

  // A loan: a batch of a color-queue of `home` run by another core, without moving the color. The
  // queue stays owned by `home` and is marked running for the length of the loan, which keeps the
  // color's mutual exclusion and order exactly as a batch run at home would (posts meanwhile
  // append to it and wait); once the batch has run, the queue goes back into home's core-queue, or
  // onto home's spare list. Later events of the color are posted home as before: a color fed by
  // the reactor is not turned into a stream of cross-core posts and wake-ups by one steal, which
  // migrating it would do.
  // With `home` locked: takes the queued `q` out of home's core-queue and detaches up to `batch`
  // of its events. Returns the expected cycles of the events taken.
  std::uint64_t lend(core& home, color_queue* q, loan_set& set) noexcept {
    policy_.unstage(home, q);
    home.ready.remove(q);
    q->st = color_queue::state::running;
    color_loan& out = set.loans.emplace_back();  // reserved: no allocation
    out.q = q;
    out.chain = q->take(rt_.cfg.batch, out.events);
    if (trace::ring* tr = this_thread_ring()) [[unlikely]]
      tr->put(trace::kind::steal_color, cycles_now(), q->color, 0, out.events, 1);
    home.pending -= out.events;
    const std::uint64_t cycles = account_taken(home, q, out.chain);
    home.update_hint();
    return cycles;
  }

  // With `home` locked: detaches a chunk off the front of home's lane into `out`, at most `max`
  // events and about `budget` expected cycles (at least one event). Returns their expected cycles.
  std::uint64_t lend_lane(core& home, unsigned max, std::uint64_t budget, loan_set& out) noexcept {
    unsigned taken;
    std::uint64_t cycles;
    out.lane_slots.resize(max);  // reserved: no allocation
    out.lane = take_lane(home, max, budget, out.lane_slots.data(), taken, cycles);
    out.lane_slots.resize(taken);
    if (trace::ring* tr = this_thread_ring()) [[unlikely]] {
      for (const detail::event* e = out.lane; e; e = e->next)
        tr->put(trace::kind::steal_color, cycles_now(), e->color, 0, 1, 1);
    }
    return cycles;
  }

  // Runs what `set` borrowed on `me`, then gives it back to `home` in one critical section.
  void run_loans(core& me, core& home, loan_set& set) {
    for (const color_loan& l : set.loans) {
      me.loaned_queue = l.q;
      run_chain<Policy::keeps_time_left>(rt_, me, l.chain, policy_.measured_only);
    }
    me.loaned_queue = nullptr;
    if (set.lane) {
      me.in_lane = true;
      run_chain<Policy::keeps_time_left>(rt_, me, set.lane, policy_.measured_only);
      me.in_lane = false;
    }
    bool wake = false;
    {
      spin_guard g(home.lock);
      home.note_lock_wait(g.waited);
      for (const color_loan& l : set.loans) give_back(home, l.q);
      finish_lane(home, set.lane_slots.data(), static_cast<unsigned>(set.lane_slots.size()));
      home.update_hint();
      wake = home.pending && home.claim_wake();
    }
    if (wake) home.park.wake();
    set.clear();
  }

  struct transferred {
    std::uint32_t events = 0;
    std::uint64_t cycles = 0;  // expected run time of what moved (the "stolen time")
  };
  // Moves the color-queues of `s` (none running) and its lane event, if one waits, from `from` to
  // `to`, with both locks held, and points the slot at `to`.
  transferred transfer_slot(color_slot& s, core& from, core& to) noexcept {
    transferred t;
    // Recorded on the calling worker's ring: inside a steal it is the thief's (the export links
    // these to the colors' next runs); a slot moved by pin_color leaves records outside any steal.
    trace::ring* const tr = this_thread_ring();
    if (s.lane_busy) move_lane_event(s, from, to, t);
    s.chain.find_if([&](color_queue* q) {
      if (q->st == color_queue::state::queued) {
        policy_.unstage(from, q);
        from.ready.remove(q);
        to.ready.push_back(q);
        policy_.restage(to, q);
      } else if (q->st == color_queue::state::spare) {
        from.ready.take_spare(q);
        to.ready.keep_spare(q);
      }  // blocked: on no list; it follows its lane event
      if (tr && q->count) [[unlikely]]
        tr->put(trace::kind::steal_color, cycles_now(), q->color, 0, q->count, 0);
      t.events += q->count;
      t.cycles += q->cost_left;
      from.time_left -= q->time_left;
      to.time_left += q->time_left;
      return false;
    });
    runtime_impl::hand_over(s, from, to, t.events);
    return t;
  }

  runtime_impl& rt() noexcept { return rt_; }

 private:
  // Empty color-queues kept per core, least recently used first out. They are what keeps a stolen
  // color mapped to its thief after its queue drains (its slot goes home when the last spare of
  // it is freed), and their blocks serve new colors. Enough for the colors a core juggles at once
  // (its connections' colors in a server) at 8 KiB per core; picked without data, tune later.
  static constexpr unsigned max_spares = 64;

  // A color-queue for a color seen absent from `s`, on core `c` (lock held): a recycled spare of
  // the core, else `block` (taken), else nullptr (the caller allocates one and retries).
  color_queue* new_queue(core& c, color_t color, color_slot& s, void*& block) noexcept {
    color_queue* q = nullptr;
    if (color_queue* old = c.ready.oldest_spare()) {
      c.ready.take_spare(old);
      // The old slot may be `s` itself: it must not go home, the recycled queue is about to join.
      release_queue(old, &s);
      old->~color_queue();
      q = ::new (static_cast<void*>(old)) color_queue(color);
    } else if (block) {
      q = ::new (std::exchange(block, nullptr)) color_queue(color);
    }
    if (q) s.chain.push_back(q);
    return q;
  }

  void enqueue(core& c, color_queue* q, detail::event* e, bool& wake, bool& call_thief) noexcept {
    const bool was_queued = q->st == color_queue::state::queued;
    const int was_interval = q->interval;
    const std::uint64_t was_time_left = c.time_left;
    q->push(e);
    if constexpr (Policy::keeps_time_left) {
      const std::uint64_t w = policy_.weight(*e);
      q->time_left += w;
      q->cost_left += e->cost;
      c.time_left += w;
    }
    ++c.pending;
    c.events_posted.add();
    switch (q->st) {
      case color_queue::state::queued:
        c.ready.reprioritize(q);
        break;
      case color_queue::state::blocked:
        if (e->priority != default_priority) unblock(c, q);
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
    policy_.restage(c, q);
    c.update_hint();
    call_thief = policy_.thief_wanted(c, q, was_queued, was_interval, was_time_left);
    wake = c.claim_wake();
  }

  // --- the lane (see the top of this file) ---

  void lane_push(core& c, color_slot& s, detail::event* e, bool& wake, bool& call_thief) noexcept {
    s.lane_busy = true;
    s.lane_running = false;
    s.lane_color = e->color;
    const std::uint64_t was_time_left = c.time_left;
    c.lane.push(e);
    ++c.lane_count;
    ++c.pending;
    if constexpr (Policy::keeps_time_left) {
      c.time_left += policy_.weight(*e);
      c.lane_time_left += policy_.weight(*e);
    }
    c.events_posted.add();
    c.update_hint();
    call_thief = policy_.thief_wanted_lane(c, was_time_left);
    wake = c.claim_wake();
  }

  // Lock held: whether the next batch comes from the lane. Color-queues of a higher priority go
  // first; at the default priority the lane and the core-queue take turns, so neither starves.
  static bool lane_turn(core& me) noexcept {
    if (me.lane.empty()) return false;
    if (me.ready.empty()) return true;
    if (me.ready.above_default()) return false;
    return me.lane_next = !me.lane_next;
  }

  // Lock held: detaches up to `max` events off the front of `home`'s lane, and once their weights
  // reach `budget` no more; notes their slots (running from now on) in `slots`.
  detail::event* take_lane(core& home, unsigned max, std::uint64_t budget, color_slot** slots,
                           unsigned& taken, std::uint64_t& cycles) noexcept {
    std::uint64_t weight = 0;
    unsigned n = 0;
    cycles = 0;
    detail::event* chain = home.lane.take_while(max, taken, [&](const detail::event* e) {
      color_slot& s = rt_.table.slot_of(e->color);
      s.lane_running = true;
      slots[n++] = &s;
      if constexpr (!Policy::keeps_time_left) return true;
      weight += policy_.weight(*e);
      cycles += e->cost;
      return weight < budget;
    });
    home.lane_count -= taken;
    home.pending -= taken;
    if constexpr (Policy::keeps_time_left) {
      home.time_left -= weight;
      home.lane_time_left -= weight;
    }
    home.update_hint();
    return chain;
  }

  // Lock of `home` (the slots' owner) held: the lane events of `slots` have run. Clears their marks
  // and gives back the color-queues that waited behind them.
  void finish_lane(core& home, color_slot* const* slots, unsigned n) noexcept {
    for (unsigned i = 0; i < n; ++i) {
      color_slot& s = *slots[i];
      s.lane_busy = s.lane_running = false;
      color_queue* q = color_table::find(s, s.lane_color);
      if (q && q->st == color_queue::state::blocked) give_back(home, q);
    }
  }

  // Lock held: an urgent event joined `q`, blocked behind its color's lane event. A color-queue
  // has the priority of its most urgent event, so the lane event leaves the lane (a walk: only
  // when an urgent event follows a default one on a fresh color) for the front of `q`, and `q`
  // joins the core-queue at its new level. A lane event already running is waited for, as a
  // running batch would be.
  void unblock(core& c, color_queue* q) noexcept {
    color_slot& s = rt_.table.slot_of(q->color);
    if (s.lane_running) return;
    detail::event* e =
        c.lane.unlink_if([&](const detail::event* x) { return x->color == q->color; });
    if (!e) return;
    --c.lane_count;
    if constexpr (Policy::keeps_time_left) {
      const std::uint64_t w = policy_.weight(*e);
      c.lane_time_left -= w;
      q->time_left += w;
      q->cost_left += e->cost;
    }
    q->push_front(e);
    s.lane_busy = false;
    c.ready.push_back(q);
  }

  // Both locks held, the lane event of `s` not yet taken: it moves from `from`'s lane to `to`'s (a
  // walk of the lane; only pin_color and move_slot come here, stealing never moves such a slot).
  void move_lane_event(color_slot& s, core& from, core& to, transferred& t) noexcept {
    detail::event* e = from.lane.unlink_if(
        [&](const detail::event* x) { return x->color == s.lane_color; });
    if (!e) return;
    --from.lane_count;
    to.lane.push(e);
    ++to.lane_count;
    if constexpr (Policy::keeps_time_left) {
      from.time_left -= policy_.weight(*e);
      from.lane_time_left -= policy_.weight(*e);
      to.time_left += policy_.weight(*e);
      to.lane_time_left += policy_.weight(*e);
    }
    ++t.events;
    t.cycles += e->cost;
  }

  // Takes `q` out of its slot, sending the slot home if it was the last color there (unless it is
  // `keep`); the caller frees or reuses the block. Core lock held.
  void release_queue(color_queue* q, const color_slot* keep = nullptr) noexcept {
    const std::uint32_t index = rt_.table.index_of(q->color);
    color_slot& s = rt_.table.slot(index);
    s.chain.remove(q);
    if (s.chain.empty() && !s.pinned && &s != keep)
      s.owner.store(rt_.table.home_of(index), std::memory_order_release);
  }

  // With the lock held: `chain` (taken off `q` on core `c`) leaves their time left. Returns its
  // expected cycles.
  std::uint64_t account_taken(core& c, color_queue* q, const detail::event* chain) noexcept {
    std::uint64_t weight = 0, cycles = 0;
    for (const detail::event* e = chain; e; e = e->next) {
      weight += policy_.weight(*e);
      cycles += e->cost;
    }
    q->time_left -= weight;
    q->cost_left -= cycles;
    c.time_left -= weight;
    return cycles;
  }

  // With the lock held: the color-queue of the batch that just ran goes back to the end of its
  // level if it still has events (so other colors of that priority get their turn: batching), else
  // it becomes a spare. The spare's slot is owned by this core (all colors of a slot live on its
  // owner), so its chain is ours to edit.
  void finish_batch(core& me) noexcept { give_back(me, std::exchange(me.running_queue, nullptr)); }

  void give_back(core& me, color_queue* q) noexcept {
    if (!q->empty()) {
      me.ready.push_back(q);
      policy_.restage(me, q);
      return;
    }
    me.ready.keep_spare(q);
    if (me.ready.spare_count() > max_spares) {
      color_queue* old = me.ready.oldest_spare();
      me.ready.take_spare(old);
      release_queue(old);
      old->~color_queue();
      detail::free_block(old);
    }
  }

  runtime_impl& rt_;
  Policy policy_;
};

}  // namespace hue::internal
