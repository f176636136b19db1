// lib/steal/policies.hpp — the stealing policies of hue's color-queue scheduler
// (core/color_scheduler.hpp says what a policy provides). One type per mode, so a runtime resolves
// its mode once, when it is built (make_color_scheduler):
//
//   no_stealing        mode off (and any mode with one worker): no time left kept, nothing stolen.
//   fig2_stealing      the Mely paper's Fig. 2 on hue's structures (mode base, and the heuristic
//                      sets without time-left): most loaded victim first, then successive numbers;
//                      a victim needs two colors (the running one cannot move); the first color,
//                      in core-queue order, holding fewer than half of the victim's events. With
//                      penalty-aware on, the candidate with the most time left (cost / penalty)
//                      wins; with locality-aware on, nearest victims first.
//   time_left_stealing only worthy colors (time left > measured steal cost), from the best interval
//                      of the victim's stealing-queue; penalty-aware and locality-aware as above.
//
// On hue's structures construct_event_set is free: the color's events already sit in one
// color-queue. What moves is the color's table slot: every live color of the slot goes, the slot's
// owner becomes the thief, and later posts of those colors come to it. A slot with a running color,
// or a pinned slot, never moves.
#pragma once

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
        locality_(locality) {}

  const bool measured_only;

  std::uint32_t cost_of(const handler_info& info) const noexcept {
    return expected_cost(info, measured_only);
  }
  std::uint64_t weight(const detail::event& e) const noexcept {
    if constexpr (Penalty) return e.cost / (e.info->penalty ? e.info->penalty : 1);
    return e.cost;
  }

 protected:
  // A slot may move when it is not pinned and none of its colors is running.
  bool movable(const color_queue* q) const noexcept {
    const color_slot& s = rt_.table.slot_of(q->color);
    return !s.pinned && !s.chain.find_if([](const color_queue* c) {
      return c->st == color_queue::state::running;
    });
  }

  // Steals with `choose(victim)` picking a color-queue (victim locked), moving its whole slot.
  template <class Sched, class Choose>
  bool steal_with(core& me, Sched& sched, Choose choose) {
    return thieves_.steal(
        rt_, me, [this](thieves::thief& t, unsigned self) { order(t, self); },
        [&](core& victim) {
          steal_take got;
          color_queue* q = choose(victim);
          if (!q) return got;
          color_slot& s = rt_.table.slot_of(q->color);
          s.chain.find_if([&](const color_queue* c) {
            got.colors += c->count > 0;
            return false;  // visit them all
          });
          const auto moved = sched.transfer_slot(s, victim, me);
          got.events = moved.events;
          got.cycles = moved.cycles;
          return got;
        });
  }

  // construct_core_set.
  void order(thieves::thief& t, unsigned self) const {
    if (locality_) nearest_first(t.loads, t.distance, self, t.victims);
    else most_loaded_then_successive(t.loads, self, t.victims);
  }

  runtime_impl& rt_;
  thieves thieves_;

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
  bool thief_wanted(const core& c, const color_queue* q, bool was_queued, int,
                    std::uint64_t) const noexcept {
    return !was_queued && q->st == color_queue::state::queued &&
           c.ready.size() + (c.running_queue ? 1 : 0) == 2 &&
           this->rt_.sleepers.load(std::memory_order_relaxed) > 0;
  }

  template <class Sched>
  bool try_steal(core& me, Sched& sched) {
    return this->steal_with(me, sched, [this](core& victim) { return choose(victim); });
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

  // can_be_stolen + choose_color_to_steal, with `victim` locked. nullptr: nothing to take.
  color_queue* choose(core& victim) const {
    unsigned colors = victim.running_queue ? 1 : 0;
    first_queued(victim, 2, [&](color_queue*) { return ++colors >= 2; });
    if (colors < 2) return nullptr;
    auto small_enough = [&](const color_queue* q) { return 2 * q->count < victim.pending; };
    if constexpr (Penalty) {
      // Penalty-aware without time-left: among the Fig. 2 candidates, the one with the most time
      // left (cost / penalty), so high-penalty colors go last. The scan is bounded.
      color_queue* pick = nullptr;
      first_queued(victim, 64, [&](color_queue* q) {
        if (small_enough(q) && this->movable(q) && (!pick || q->time_left > pick->time_left))
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

 public:
  time_left_stealing(runtime_impl& rt, bool locality)
      : base(rt, locality), per_core_(new scratch[rt.cfg.workers]) {
    for (unsigned i = 0; i < rt.cfg.workers; ++i) {
      per_core_[i].loans.reserve(max_loans);   // no allocation on the thief's path
      per_core_[i].picks.reserve(max_loans);
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

  // Edge-triggered, so that a busy core does not wake a sleeper on every post: a color that just
  // became worthy, or the core's whole time left just crossed what a steal takes at most.
  bool thief_wanted(const core& c, const color_queue* q, bool, int was_interval,
                    std::uint64_t was_time_left) const noexcept {
    // Only a post to a color a thief could take counts: posts to a running or pinned color (a hot
    // connection, a reactor's Epoll color) cross the threshold again after every batch, and
    // would wake a sleeper each time for nothing (the wake-storm regression test).
    const std::uint64_t enough = 2 * this->thieves_.steal_cost();
    return ((was_interval < 0 && q->interval >= 0) ||
            (was_time_left <= enough && c.time_left > enough && lendable(q))) &&
           this->rt_.sleepers.load(std::memory_order_relaxed) > 0;
  }

  // A steal lends the thief a set of the victim's colors (color_scheduler::lend): first the worthy
  // ones, best interval first (the paper's stealing-queue), then, from the back of the victim's
  // core-queue (what it would run last), small ones that are worth a steal only together. It takes
  // up to half of the victim's time left, within a budget that bounds how long the victim's lock is
  // held; a set whose time left does not exceed the steal cost is refused, as a lone unworthy color
  // is. The thief runs the set, then gives it back; the colors stay at home.
  template <class Sched>
  bool try_steal(core& me, Sched& sched) {
    scratch& s = per_core_[me.index];
    s.loans.clear();
    core* home = nullptr;
    const bool stolen = this->thieves_.steal(
        this->rt_, me, [this](thieves::thief& t, unsigned self) { this->order(t, self); },
        [&](core& victim) {
          steal_take got;
          const std::uint64_t cost = this->thieves_.steal_cost();
          const std::uint64_t budget = std::min(victim.time_left / 2, max_loaned_cycles);
          if (budget <= cost) return got;
          std::uint64_t sum = 0;
          per_core_[victim.index].worthy.for_each_best([&](color_queue* q) {
            if (q->time_left > cost && lendable(q)) s.picks.push_back(q), sum += q->time_left;
            return sum >= budget || s.picks.size() == max_loans;
          });
          const std::size_t worthy = s.picks.size();
          if (sum < budget && worthy < max_loans) {
            victim.ready.for_each_reverse([&](color_queue* q) {
              if (q->interval < 0 && lendable(q)) s.picks.push_back(q), sum += q->time_left;
              return sum >= budget || s.picks.size() == max_loans;
            });
          }
          if (sum > cost) {
            // Regret: what the victim would have run before a lent color took less than a steal.
            std::uint64_t ahead = victim.time_left;
            for (color_queue* q : s.picks) {
              ahead -= std::min(ahead, q->time_left);
              if (ahead < cost) me.stats.regret_steals.add();
              s.loans.emplace_back();
              got.cycles += sched.lend(victim, q, s.loans.back());
              got.events += s.loans.back().events;
              ++got.colors;
            }
            home = &victim;
          }
          s.picks.clear();
          return got;
        });
    if (stolen) sched.run_loans(me, *home, s.loans.data(), s.loans.size());
    return stolen;
  }

 private:
  // A loan needs less than a migration (movable): the slot's owner does not change, so its other
  // colors may be running; the lent queue itself must be waiting, and not pinned to its core.
  bool lendable(const color_queue* q) const noexcept {
    return q->st == color_queue::state::queued && !this->rt_.table.slot_of(q->color).pinned;
  }

  // One steal takes at most this much time left, and this many colors: both bound the time the
  // victim's lock is held (the victim waits on it to post or to take its next batch). A fixed
  // figure rather than a multiple of the measured steal cost: the measured cost grows with the
  // set moved, and a budget that followed it would grow without bound. ~100 us of work at a few
  // GHz: a thief comes back for more well before a victim's round of small events is over.
  static constexpr std::uint64_t max_loaned_cycles = 256'000;
  static constexpr std::size_t max_loans = 64;

  struct scratch {
    stealing_queue worthy;                 // guarded by this core's lock
    std::vector<color_queue*> picks;       // the thief's
    std::vector<color_loan> loans;         // the thief's
  };
  std::unique_ptr<scratch[]> per_core_;
};

// The color-queue scheduler for `rt`'s steal configuration (mode off, base or heuristics).
std::unique_ptr<scheduler> make_color_scheduler(runtime_impl& rt);

}  // namespace hue::internal
