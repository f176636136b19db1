// lib/steal/policies.hpp — the stealing policies of hue's color-queue scheduler
// (core/color_policy.hpp says what a policy provides). One type per mode, so a runtime resolves
// its mode once, when it is built (make_scheduler in runtime/runtime.cpp):
//
//   no_stealing        mode off (and any mode with one worker): no time left kept, nothing stolen.
//   fig2_stealing      the Mely paper's Fig. 2 on hue's structures (mode base, and the heuristic
//                      sets without time-left): most loaded victim first, then successive numbers;
//                      a victim needs two colors (the running one cannot move); the first color,
//                      in core-queue order, holding fewer than half of the victim's events. With
//                      penalty-aware on, only worthy candidates (time left, cost / penalty,
//                      above the steal cost), the one with the most time left first; with
//                      locality-aware on, nearest victims first.
//   time_left_stealing a set in one lock hold: worthy colors (time left > measured steal cost)
//                      best first from the victim's stealing-queue, migrated when they can move;
//                      from a stuck victim only, a chunk of its lane and small colors, borrowed
//                      (color_scheduler::lend, lend_lane). Refused below the steal cost.
//
// Fig. 2 moves what it takes: the color's table slot, with every live color of the slot; the
// slot's owner becomes the thief, and later posts of those colors come to it. A slot with a
// running color, a pinned slot, or one with an event in a lane never moves. Borrowing (time-left,
// and Fig. 2 for lane events) moves nothing: the thief runs the events and gives the queues back.
#pragma once

#include "core/loan.hpp"
#include "steal/steal_loop.hpp"
#include "steal/stealing_queue.hpp"
#include "steal/victims.hpp"

#include <memory>

namespace hue::internal {

class no_stealing {
 public:
  static constexpr bool keeps_time_left = false;
  static constexpr bool measured_only = false;
  explicit no_stealing(runtime_impl&) noexcept {}
  std::uint32_t cost_of(const handler_info&) const noexcept { return 0; }
  std::uint64_t weight(const detail::event&) const noexcept { return 0; }
  void restage(core&, color_queue*) noexcept {}
  void unstage(core&, color_queue*) noexcept {}
  bool thief_wanted(const core&, const color_queue*, bool, int, std::uint64_t) const noexcept {
    return false;
  }
  bool lane_fits(const detail::event&) const noexcept { return true; }
  bool thief_wanted_lane(const core&, std::uint64_t) const noexcept { return false; }
  template <class Sched>
  bool try_steal(core&, Sched&) noexcept { return false; }
};

// What the stealing policies share: costs, the thieves, victim order, the slot move.
template <bool Penalty>
class stealing_policy {
 public:
  static constexpr bool keeps_time_left = true;

  stealing_policy(runtime_impl& rt, bool locality)
      : measured_only(rt.cfg.costs == cost_source::measured), rt_(rt), thieves_(rt),
        locality_(locality) {
    loan_sets_.reserve(rt.cfg.workers);
    for (unsigned i = 0; i < rt.cfg.workers; ++i) loan_sets_.emplace_back(max_loans);
  }

  const bool measured_only;

  std::uint32_t cost_of(const handler_info& info) const noexcept {
    return expected_cost(info, measured_only);
  }
  std::uint64_t weight(const detail::event& e) const noexcept {
    if constexpr (Penalty) return e.cost / (e.info->penalty ? e.info->penalty : 1);
    return e.cost;
  }

 protected:
  // A slot may move when it is not pinned, none of its colors is running and none has an event in
  // a lane (moving it would mean a walk of the lane, under the victim's lock).
  bool movable(const color_queue* q) const noexcept {
    const color_slot& s = rt_.table.slot_of(q->color);
    return !s.pinned && !s.lane_busy && !s.chain.find_if([](const color_queue* c) {
      return c->st == color_queue::state::running;
    });
  }

  // Colors with pending events in slot `s` (owner's lock held): what a slot move steals.
  static std::uint32_t count_colors(const color_slot& s) noexcept {
    std::uint32_t n = 0;
    s.chain.find_if([&](const color_queue* c) {
      n += c->count > 0;
      return false;  // visit them all
    });
    return n;
  }

  // One steal: victims in construct_core_set order that `worth` does not refuse from their hints,
  // each visited with both locks held by `take(victim, set)`, which returns what it took; what it
  // borrowed into `set`, the thief runs and gives back (color_scheduler::run_loans).
  template <class Sched, class Worth, class Take>
  bool steal_and_run(core& me, Sched& sched, Worth worth, Take take) {
    loan_set& set = loan_sets_[me.index];
    core* home = nullptr;
    const bool stolen = thieves_.steal(
        rt_, me, [this](thieves::thief& t, unsigned self) { order(t, self); }, worth,
        [&](core& victim) {
          const steal_take got = take(victim, set);
          if (!set.empty()) home = &victim;
          return got;
        });
    if (home) sched.run_loans(me, *home, set);
    return stolen;
  }

  // construct_core_set.
  void order(thieves::thief& t, unsigned self) const {
    if (locality_) nearest_first(t.loads, t.distance, self, t.victims);
    else most_loaded_then_successive(t.loads, self, t.victims);
  }

  // At most this many color-queues, and this many lane events, in one steal: a bound on the time
  // the victim's lock is held (the victim waits on it to post or to take its next batch).
  static constexpr std::size_t max_loans = 64;

  runtime_impl& rt_;
  thieves thieves_;
  std::vector<loan_set> loan_sets_;  // one per thief, reserved: no allocation on its path

 private:
  const bool locality_;
};

template <bool Penalty>
class fig2_stealing : public stealing_policy<Penalty> {
  using base = stealing_policy<Penalty>;

 public:
  using base::base;
  void restage(core&, color_queue*) noexcept {}
  void unstage(core&, color_queue*) noexcept {}

  // Edge-triggered, so a hot color that cannot be stolen does not wake a sleeper on every post:
  // the core just got its second color (the paper's can_be_stolen), counting the running one.
  // Penalty-aware takes only worthy colors, so what wakes a thief is a worthy color joining a
  // core that has another: the second color may be one no thief would take, and then nothing would
  // wake one for the third.
  bool thief_wanted(const core& c, const color_queue* q, bool was_queued, int,
                    std::uint64_t) const noexcept {
    if (was_queued || q->st != color_queue::state::queued ||
        this->rt_.sleepers.load(std::memory_order_relaxed) == 0)
      return false;
    if constexpr (Penalty)
      return colors(c) >= 2 && q->time_left > this->thieves_.steal_cost();
    return colors(c) == 2;
  }
  // Penalty-aware: the lane, borrowed from in chunks whatever their events, keeps only what the
  // penalty has no say over: events of penalty 1 worth less than a steal. An event worth a steal
  // on its own goes to a color-queue, so a steal moves its color and the events it posts to its
  // color follow it to the thief (borrowed from the lane, it would run on the thief and post them
  // home, away from the data it just built: the penalty benchmark's A). An event with a penalty
  // goes to a color-queue too, where its penalty keeps it from being taken.
  bool lane_fits(const detail::event& e) const noexcept {
    if constexpr (Penalty)
      return e.info->penalty <= 1 && this->weight(e) <= this->thieves_.steal_cost();
    return true;
  }
  bool thief_wanted_lane(const core& c, std::uint64_t) const noexcept {
    return colors(c) == 2 && this->rt_.sleepers.load(std::memory_order_relaxed) > 0;
  }

  // A steal moves the chosen color's whole slot to the thief; when the victim has no such color
  // but single-event colors in its lane, the thief borrows a chunk of them (up to max_loans: one
  // lock round trip per chunk; chunks of `batch` made the victim's lock the bottleneck).
  template <class Sched>
  bool try_steal(core& me, Sched& sched) {
    // Penalty-aware refuses a victim from its hints, without its lock, when all it holds (its
    // queues and its lane) is worth less than a steal: only worthy colors are taken, and an idle
    // thief retries every few microseconds (taking the lock each time cost the penalty
    // benchmark's busy core a fifth of its time in lock waits).
    auto worth = [this](const core& victim) {
      if constexpr (Penalty)
        return victim.time_left_hint.load(std::memory_order_relaxed) > this->thieves_.steal_cost();
      return true;
    };
    return this->steal_and_run(
        me, sched, worth, [&](core& victim, loan_set& set) {
      steal_take got;
      if (colors(victim) < 2) return got;
      if (color_queue* q = choose(victim)) {
        // Base takes one color. Penalty-aware takes worthy colors, most time left first, until
        // the thief holds as much time left as the victim keeps (both locks are held; at most
        // max_colors, a bound on the hold): one worthy color at a time, the thief came back for
        // each while the victim ran the rest itself, and kept a fraction of them.
        for (unsigned n = 0;;) {
          color_slot& s = this->rt_.table.slot_of(q->color);
          got.colors += this->count_colors(s);
          got.migrated += this->count_colors(s);
          const auto moved = sched.transfer_slot(s, victim, me);
          got.events += moved.events;
          got.cycles += moved.cycles;
          if constexpr (!Penalty) break;
          if (++n == max_colors || me.time_left >= victim.time_left || colors(victim) < 2 ||
              !(q = choose(victim)))
            break;
        }
      } else if (!victim.lane.empty()) {
        const unsigned max = base::max_loans;
        got.cycles = sched.lend_lane(victim, max, UINT64_MAX, set);
        got.events = got.colors = static_cast<std::uint32_t>(set.lane_slots.size());
      }
      return got;
    });
  }

 private:
  // Visits `victim`'s queued color-queues in core-queue order (highest priority, oldest first)
  // until `f` returns true; at most `limit` of them, to bound the time the victim's lock is held.
  template <class F>
  static color_queue* first_queued(core& victim, unsigned limit, F f) {
    color_queue* found = nullptr;
    victim.ready.for_each([&](color_queue* q) {
      if (limit-- == 0) return true;
      if (f(q)) found = q;
      return found != nullptr;
    });
    return found;
  }

  // Colors one penalty-aware steal may move (see try_steal).
  static constexpr unsigned max_colors = 16;

  // Colors a core holds: running, queued, and waiting in its lane. Lock held.
  static std::uint32_t colors(const core& c) noexcept {
    return c.ready.size() + c.lane_count + (c.running_queue ? 1 : 0);
  }

  // choose_color_to_steal, with `victim` locked and holding two colors (can_be_stolen).
  // nullptr: no color-queue to take.
  color_queue* choose(core& victim) const {
    auto small_enough = [&](const color_queue* q) { return 2 * q->count < victim.pending; };
    if constexpr (Penalty) {
      // Penalty-aware without time-left: among the Fig. 2 candidates, the *worthy* ones (time
      // left, each event's cost over its penalty, above the measured steal cost), the one with
      // the most time left. A color whose penalty makes it worth less than a steal is never
      // taken: with only such colors left, the thief stays idle rather than move a data set
      // (picking the best of them anyway moved the penalty benchmark's Bs as often as base did).
      // The scan is bounded.
      const std::uint64_t cost = this->thieves_.steal_cost();
      color_queue* pick = nullptr;
      first_queued(victim, 64, [&](color_queue* q) {
        if (q->time_left > cost && small_enough(q) && this->movable(q) &&
            (!pick || q->time_left > pick->time_left))
          pick = q;
        return false;
      });
      return pick;
    }
    return first_queued(victim, UINT32_MAX,
                        [&](color_queue* q) { return small_enough(q) && this->movable(q); });
  }
};

template <bool Penalty>
class time_left_stealing : public stealing_policy<Penalty> {
  using base = stealing_policy<Penalty>;

  struct scratch {
    stealing_queue worthy;                 // guarded by this core's lock
    std::vector<color_queue*> picks;       // the thief's
    // The thief's view of each victim's progress: its batch count, and when that last changed.
    std::vector<std::uint64_t> seen_batches, seen_at;
  };

 public:
  time_left_stealing(runtime_impl& rt, bool locality)
      : base(rt, locality), per_core_(new scratch[rt.cfg.workers]) {
    for (unsigned i = 0; i < rt.cfg.workers; ++i) {
      per_core_[i].picks.reserve(base::max_loans);
      per_core_[i].seen_batches.resize(rt.cfg.workers);
      per_core_[i].seen_at.resize(rt.cfg.workers);
    }
  }

  // The running color is never worthy: it cannot move until its batch ends; nor is a pinned one.
  void restage(core& c, color_queue* q) noexcept {
    const int interval =
        q->st == color_queue::state::queued && !this->rt_.table.slot_of(q->color).pinned
            ? stealing_queue::interval_for(q->time_left, this->thieves_.steal_cost())
            : -1;
    per_core_[c.index].worthy.restage(q, interval);
  }
  void unstage(core& c, color_queue* q) noexcept { per_core_[c.index].worthy.restage(q, -1); }

  // Only events worth less than a steal use the lane: a worthy one is better stolen on its own,
  // best first, as the stealing-queue does (and its penalty then counts).
  bool lane_fits(const detail::event& e) const noexcept {
    return e.cost <= this->thieves_.steal_cost();
  }

  // Edge-triggered, so that a busy core does not wake a sleeper on every post: the core's time
  // left just crossed a backlog, or a color worth a backlog on its own just became worthy. A
  // wake-up costs the poster a write and the sleeper a few microseconds before it can steal: for
  // less work than a backlog it costs more than it brings (a server of short handlers lost a
  // quarter of its throughput to such wakes, one per request).
  bool thief_wanted(const core& c, const color_queue* q, bool, int was_interval,
                    std::uint64_t was_time_left) const noexcept {
    // Only a post to a color a thief could take counts: posts to a running or pinned color (a hot
    // connection, a reactor's Epoll color) cross the threshold again after every batch, and
    // would wake a sleeper each time for nothing (the wake-storm regression test).
    return ((was_interval < 0 && q->interval >= 0 && q->time_left >= backlog) ||
            (crossed(c, was_time_left) && lendable(q))) &&
           this->rt_.sleepers.load(std::memory_order_relaxed) > 0;
  }
  bool thief_wanted_lane(const core& c, std::uint64_t was_time_left) const noexcept {
    return crossed(c, was_time_left) && this->rt_.sleepers.load(std::memory_order_relaxed) > 0;
  }

  // A steal lends the thief a set of the victim's work (color_scheduler::lend, lend_lane): first
  // the worthy colors, best interval first (the paper's stealing-queue); then a chunk off the
  // front of the lane (single-event colors, each worth less than a steal); then, from the back of
  // the victim's core-queue (what it would run last), small colors worth a steal only together.
  // It takes up to half of the victim's time left, within a budget that bounds how long the
  // victim's lock is held; a set whose time left does not exceed the steal cost is refused, as a
  // lone unworthy color is. The thief runs the set, then gives it back: the colors stay home, so
  // a color that the reactor feeds on the victim is not turned into cross-core posts by a steal.
  template <class Sched>
  bool try_steal(core& me, Sched& sched) {
    scratch& s = per_core_[me.index];
    // The first refusal below, read from the hints: an idle thief retries every few microseconds,
    // and taking a busy victim's lock each time only to refuse it slowed the victim (it waits for
    // its own lock to post or to take its next batch) and moved its lock's line back and forth.
    auto worth = [&](const core& victim) {
      return victim.time_left_hint.load(std::memory_order_relaxed) >= backlog ||
             stalled(s, victim);
    };
    return this->steal_and_run(me, sched, worth, [&](core& victim, loan_set& set) {
      steal_take got;
      const bool stuck = stalled(s, victim);
      if (victim.time_left < backlog && !stuck) return got;
      const std::uint64_t cost = this->thieves_.steal_cost();
      const std::uint64_t budget = std::min(victim.time_left / 2, max_loaned_cycles);
      if (budget <= cost) return got;
      std::uint64_t sum = 0;
      auto full = [&] { return sum >= budget || s.picks.size() == base::max_loans; };
      per_core_[victim.index].worthy.for_each_best([&](color_queue* q) {
        if (q->time_left > cost && lendable(q)) s.picks.push_back(q), sum += q->time_left;
        return full();
      });
      const std::size_t worthy = s.picks.size();
      // The lane's share is known before its walk: its time left, up to what the budget leaves.
      // Lane events and small colors are each worth less than what borrowing them costs per color
      // (a cold walk, a give-back under the victim's lock): taken only from a stuck victim, whose
      // queue would otherwise wait, never from one that drains it (the unbalanced benchmark lost
      // a third of its throughput to such borrowing). Lending them in bulk from any victim with a
      // large backlog was measured too: +10% on unbalanced with a 30 ns cross-core hop, -20% with
      // a 200 ns one (the walk of the victim's lane, under its lock, costs a hop per event).
      const std::uint64_t lane =
          stuck ? std::min(victim.lane_time_left, budget - std::min(budget, sum)) : 0;
      sum += lane;
      if (!full() && stuck) {
        victim.ready.for_each_reverse([&](color_queue* q) {
          if (q->interval < 0 && lendable(q)) s.picks.push_back(q), sum += q->time_left;
          return full();
        });
      }
      if (sum > cost) {
        // Regret: what the victim would have run before a lent color took less than a steal.
        // (Not counted for the lane's front, which both cores drain like one shared FIFO.)
        std::uint64_t ahead = victim.time_left;
        for (std::size_t i = 0; i < s.picks.size(); ++i) {
          color_queue* q = s.picks[i];
          color_slot& slot = this->rt_.table.slot_of(q->color);
          if (slot.owner.load(std::memory_order_relaxed) != victim.index) continue;  // moved below
          ahead -= std::min(ahead, q->time_left);
          if (ahead < cost) me.stats.regret_steals.add();
          if (i < worthy && this->movable(q)) {
            // A worthy color migrates (the paper's steal): one move, no give-back, and its later
            // events come to the thief. Colors that cannot move (another of the slot runs) or
            // that are small are borrowed.
            got.colors += this->count_colors(slot);
            got.migrated += this->count_colors(slot);
            const auto moved = sched.transfer_slot(slot, victim, me);
            got.events += moved.events;
            got.cycles += moved.cycles;
          } else {
            got.cycles += sched.lend(victim, q, set);
            got.events += set.loans.back().events;
            ++got.colors;
          }
          if (i + 1 == worthy && lane) got.cycles += lend_lane(sched, victim, lane, set, got);
        }
        if (worthy == 0 && lane) got.cycles += lend_lane(sched, victim, lane, set, got);
      }
      s.picks.clear();
      return got;
    });
  }

 private:
  // A loan needs less than a migration (movable): the slot's owner does not change, so its other
  // colors may be running; the lent queue itself must be waiting, and not pinned to its core.
  bool lendable(const color_queue* q) const noexcept {
    return q->st == color_queue::state::queued && !this->rt_.table.slot_of(q->color).pinned;
  }

  // A post just took the core's time left above a backlog.
  static bool crossed(const core& c, std::uint64_t was_time_left) noexcept {
    return was_time_left < backlog && c.time_left >= backlog;
  }

  // Whether `victim` has taken no batch for `stall_cycles`, as far as this thief has watched (an
  // idle thief retries every few microseconds). A victim that drains its queue will reach work
  // queued behind a short batch sooner than a thief could take it, run it cache-cold and give it
  // back: the victim's wait must outlast a steal and a remote wake-up before stealing pays (the
  // idea of Go's runnext back-off and of Linux's migration cost). A victim stuck in a long handler,
  // or descheduled, stalls and is robbed.
  bool stalled(scratch& s, const core& victim) const noexcept {
    const std::uint64_t now = cycles_now(), batches = victim.stats.batches.get();
    if (batches != s.seen_batches[victim.index]) {
      s.seen_batches[victim.index] = batches;
      s.seen_at[victim.index] = now;
      return false;
    }
    return now - s.seen_at[victim.index] >= stall_cycles;
  }

  template <class Sched>
  static std::uint64_t lend_lane(Sched& sched, core& victim, std::uint64_t budget, loan_set& set,
                                 steal_take& got) {
    const std::uint64_t cycles = sched.lend_lane(victim, base::max_loans, budget, set);
    got.events += static_cast<std::uint32_t>(set.lane_slots.size());
    got.colors += static_cast<std::uint32_t>(set.lane_slots.size());
    return cycles;
  }

  // One steal takes at most this much time left: with max_loans, a bound on how long the victim's
  // lock is held. A fixed figure rather than a multiple of the measured steal cost: the measured
  // cost grows with the set moved, and a budget that followed it would grow without bound. ~100 us
  // of work at a few GHz: a thief comes back for more well before a round of small events is over.
  static constexpr std::uint64_t max_loaned_cycles = 256'000;
  // Time left that a core cannot clear soon on its own (~50 us at a few GHz): a thief takes some
  // at once, and a sleeping one is woken for it. Below it, only a stalled core is robbed.
  static constexpr std::uint64_t backlog = 128'000;
  // How long a core with work must make no progress before a thief takes some: a steal and a
  // remote wake-up, a few microseconds (a steal measures 2-5k cycles here; a wake ~10k).
  static constexpr std::uint64_t stall_cycles = 10'000;

  std::unique_ptr<scratch[]> per_core_;
};

}  // namespace hue::internal
