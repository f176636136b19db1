// lib/core/runtime.cpp — the public runtime: start, post, pin, stop, drain, destroy.
#include "runtime_impl.hpp"
#include "moving_average.hpp"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <stdexcept>

namespace hue {
namespace internal {

runtime_impl::runtime_impl(runtime* s, const config& c)
    : self(s),
      topo(topology_description(c)),
      cfg(resolve(c, topo.cores())),
      table(cfg.color_slots, cfg.workers),
      cores(new core[cfg.workers]),
      oversubscribed(cfg.workers > topo.cores()),
      legacy(cfg.steal.mode == steal_mode::libasync_smp ||
             cfg.steal.mode == steal_mode::libasync_smp_off),
      stealing(cfg.steal.mode != steal_mode::off && cfg.steal.mode != steal_mode::libasync_smp_off &&
               cfg.workers > 1),
      profiling(stealing) {
  const unsigned n = cfg.workers, machine = topo.cores();
  for (unsigned i = 0; i < n; ++i) {
    core& k = cores[i];
    k.index = i;
    k.distance.resize(n);
    for (unsigned j = 0; j < n; ++j)
      k.distance[j] = static_cast<unsigned>(topo.between(i % machine, j % machine));
    k.victims.reserve(n);
    k.loads.resize(n);
  }
}

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

std::uint32_t runtime_impl::cost_of(const handler_info& info) const noexcept {
  const std::uint64_t c = cfg.costs == cost_source::annotated && info.cost
                              ? info.cost
                              : info.measured_cost.load(std::memory_order_relaxed);
  return c > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(c);
}

std::uint64_t runtime_impl::weight(const detail::event& e) const noexcept {
  if (!cfg.steal.heuristics.penalty || cfg.steal.mode != steal_mode::heuristics) return e.cost;
  return e.cost / (e.info->penalty ? e.info->penalty : 1);
}

void runtime_impl::restage(core& c, color_queue* q) noexcept {
  if (cfg.steal.mode != steal_mode::heuristics || !cfg.steal.heuristics.time_left) return;
  // The running color is never worthy: it cannot move until its batch ends; nor is a pinned one.
  const int interval = q->st == color_queue::state::queued && !table.slot_of(q->color).pinned
                           ? stealing_queue::interval_for(
                                 q->time_left, steal_cost.load(std::memory_order_relaxed))
                           : -1;
  c.worthy.restage(q, interval);
}

// Racy by design: two workers updating at once lose one sample, which an average can afford.
void runtime_impl::record_cost(const handler_info& info, std::uint64_t cycles) noexcept {
  const std::uint64_t old = info.measured_cost.load(std::memory_order_relaxed);
  info.measured_cost.store(moving_average(old, cycles), std::memory_order_relaxed);
}

void runtime_impl::wake_thief(const core& busy) noexcept {
  for (unsigned i = 0; i < cfg.workers; ++i) {
    core& k = cores[i];
    if (&k == &busy || !k.asleep.load(std::memory_order_relaxed)) continue;
    bool wake = false;
    {
      spin_guard g(k.lock);
      k.note_lock_wait(g.waited);
      if (k.sleeping) {
        k.sleeping = false;
        wake = true;
      }
    }
    if (wake) {
      k.park.wake();
      return;
    }
  }
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

void runtime_impl::wake_all() noexcept {
  for (unsigned i = 0; i < cfg.workers; ++i) {
    {
      spin_guard g(cores[i].lock);
      cores[i].sleeping = false;
    }
    cores[i].park.wake();
  }
}

// True when every event posted so far has finished running. `events_run` is read first: each
// handler's posts are counted before its own completion is (release/acquire in `counter`), so a
// run total that equals the posted total read afterwards leaves no event pending or running.
bool runtime_impl::quiescent() const noexcept {
  std::uint64_t run = 0, posted = 0;
  for (unsigned i = 0; i < cfg.workers; ++i) run += cores[i].events_run.get();
  for (unsigned i = 0; i < cfg.workers; ++i) posted += cores[i].events_posted.get();
  return run == posted;
}

void runtime_impl::join() {
  std::lock_guard l(join_mu);
  if (joined) return;
  for (std::thread& t : threads) t.join();
  joined = true;
}

// After join(): no worker runs, so no lock is needed. Destroying a callable may post (its
// destructor might): `accepting` is false by then, so such posts are refused, not queued.
void runtime_impl::discard_pending() noexcept {
  for (unsigned k = 0; k < cfg.workers; ++k) {
    while (detail::event* e = cores[k].legacy.pop()) {
      e->op(e, detail::event_op::discard);
      detail::free_block(e);
    }
  }
  for (std::uint32_t i = 0; i < table.size(); ++i) {
    color_slot& s = table.slot(i);
    while (color_queue* q = s.chain) {
      s.chain = q->slot_next;
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

void runtime_impl::report_exception(core& c, const detail::event& e, color_t color) noexcept {
  c.handler_exceptions.add();
  const handler_error err{e.info, color, c.index, std::current_exception()};
  try {
    if (cfg.on_error) {
      cfg.on_error(err);
    } else {
      std::fprintf(stderr, "hue: handler '%s' (color %llu, core %u) threw: %s\n", e.info->name,
                   static_cast<unsigned long long>(color), c.index, err.what().c_str());
    }
  } catch (...) {
    std::fprintf(stderr, "hue: the error hook itself threw while reporting handler '%s'\n",
                 e.info->name);
  }
}

bool called_from_worker_of(const runtime_impl* rt) noexcept { return current_worker.rt == rt; }

}  // namespace internal

runtime::runtime(config cfg) : impl_(std::make_unique<internal::runtime_impl>(this, cfg)) {
  try {
    for (unsigned i = 0; i < impl_->cfg.workers; ++i)
      impl_->threads.emplace_back(internal::worker_main, std::ref(*impl_), std::ref(impl_->cores[i]));
  } catch (...) {
    stop();
    impl_->join();
    throw;
  }
}

runtime::~runtime() {
  if (internal::called_from_worker_of(impl_.get())) {
    std::fprintf(stderr, "hue: a runtime was destroyed by one of its own handlers\n");
    std::terminate();
  }
  stop();
  impl_->join();
  impl_->discard_pending();
}

bool runtime::post_event(color_t color, detail::event* e) {
  if (!impl_->accepting.load(std::memory_order_relaxed)) {
    impl_->posts_rejected.fetch_add(1, std::memory_order_relaxed);
    e->op(e, detail::event_op::discard);
    detail::free_block(e);
    return false;
  }
  try {
    impl_->enqueue(color, e);
  } catch (...) {
    e->op(e, detail::event_op::discard);
    detail::free_block(e);
    throw;
  }
  return true;
}

void runtime::pin_color(color_t color, unsigned core) {
  if (core >= impl_->cfg.workers) throw std::out_of_range("hue: pin_color to a core >= workers()");
  const internal::worker_context& w = internal::current_worker;
  const bool same_slot_runs =
      w.rt == impl_.get() &&
      ((w.me->running_queue && impl_->table.index_of(w.me->running_queue->color) ==
                                   impl_->table.index_of(color)) ||
       (w.me->legacy_running &&
        impl_->table.index_of(w.me->legacy_running_color) == impl_->table.index_of(color)));
  if (same_slot_runs) {
    // move_slot would wait for the running batch to end, which is this very handler.
    throw std::logic_error("hue: pin_color called from a handler of a color it would move");
  }
  impl_->move_slot(impl_->table.slot_of(color), core, true);
}

unsigned runtime::core_of(color_t color) const noexcept {
  return impl_->table.slot_of(color).owner.load(std::memory_order_relaxed);
}

void runtime::stop() noexcept {
  impl_->accepting.store(false, std::memory_order_relaxed);
  impl_->stopping.store(true, std::memory_order_relaxed);
  impl_->wake_all();
}

void runtime::drain() {
  if (internal::called_from_worker_of(impl_.get()))
    throw std::logic_error("hue: drain() called from a handler of the runtime it drains");
  impl_->draining.store(true, std::memory_order_relaxed);
  {
    // Workers notify when they go to sleep while draining; the timeout covers a worker that
    // is spinning, not yet asleep, when the last event completes.
    std::unique_lock l(impl_->drain_mu);
    while (!impl_->quiescent() && !impl_->stopping.load(std::memory_order_relaxed))
      impl_->drain_cv.wait_for(l, std::chrono::milliseconds(1));
  }
  stop();
  impl_->join();
}

void runtime::wait() {
  if (internal::called_from_worker_of(impl_.get()))
    throw std::logic_error("hue: wait() called from a handler of the runtime it waits for");
  impl_->join();
}

unsigned runtime::workers() const noexcept { return impl_->cfg.workers; }
unsigned runtime::batch() const noexcept { return impl_->cfg.batch; }

runtime_stats runtime::stats() const {
  runtime_stats s;
  s.cores.reserve(impl_->cfg.workers);
  for (unsigned i = 0; i < impl_->cfg.workers; ++i) s.cores.push_back(impl_->cores[i].snapshot());
  s.posts_rejected = impl_->posts_rejected.load(std::memory_order_relaxed);
  return s;
}

runtime* runtime::current() noexcept {
  return internal::current_worker.rt ? internal::current_worker.rt->self : nullptr;
}

unsigned runtime::current_core() noexcept {
  return internal::current_worker.me ? internal::current_worker.me->index : no_core;
}

}  // namespace hue
