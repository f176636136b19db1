// lib/core/run_loop.hpp — the run loop of one core, the same in every scheduling mode.
//
// `worker_main` is a sequence of named phases, described in the same order in docs/design.md:
//   1. run a batch: the mode takes work off this core's queues and runs it (hue: at most `batch`
//      events of the first color-queue of the core-queue; libasync-smp: the first event of the
//      core's FIFO). The reactor's polling is one of these events (its Epoll handler).
//   2. steal: when the core has nothing to run, the mode's stealing policy (none, in mode `off`)
//      tries to take a whole color from another core;
//   3. park: spin briefly watching this core's queues, polling the reactor if one polls here and
//      retrying the steal; then sleep in the kernel (in epoll_wait when a reactor polls here) until
//      a post, a thief call or I/O wakes the core.
// The loop ends when the runtime stops; `finish` gives back the last batch's color-queue.
//
// Shutdown, step by step: stop() clears `accepting` (posts are refused from then on), sets
// `stopping`, and wakes every core. A worker checks `stopping` between batches, so the batch it is
// running completes, then the thread returns. Events still queued stay in their queues until the
// runtime's destructor discards them, after every worker has been joined.
//
// `Mode` provides: bool run_batch(core&), bool try_steal(core&), void finish(core&).
#pragma once

#include "idle.hpp"
#include "moving_average.hpp"
#include "runtime_impl.hpp"

namespace hue::internal {

// Thread name, pinning, current_worker and the worker's lifetime in cycles, for one worker's life.
class worker_scope {
 public:
  worker_scope(runtime_impl& rt, core& me);
  ~worker_scope();
  worker_scope(const worker_scope&) = delete;
  worker_scope& operator=(const worker_scope&) = delete;

 private:
  core& me_;
};

template <class Steal>
void park(runtime_impl& rt, core& me, Steal& steal) {
  const std::uint64_t idle_start = cycles_now();
  std::uint64_t spun_until = 0;
  trace::ring* const tr = me.trace.load(std::memory_order_acquire);
  if (tr) [[unlikely]] tr->put(trace::kind::park_begin, idle_start);
  {
    const poller_lease poller(me);
    auto call = [](void* s) { return (*static_cast<Steal*>(s))(); };
    // The spin's end is read only when a sleep follows: a TSC read on the hand-off path of a
    // ping-pong costs it ~20 ns a hop.
    if (!spin_for_work(rt, me, poller.get(), call, &steal)) {
      spun_until = cycles_now();
      sleep_until_woken(rt, me, poller.get());
    }
  }
  const std::uint64_t idle_end = cycles_now();
  me.stats.spin_cycles.add((spun_until ? spun_until : idle_end) - idle_start);
  if (tr) [[unlikely]] tr->put(trace::kind::park_end, idle_end);
  me.stats.idle_cycles.add(idle_end - idle_start);
}

// The ring of the worker running on this thread while a window is open, else null. For sites that
// do not know their core (a slot move may run on any thread).
inline trace::ring* this_thread_ring() noexcept {
  return current_worker.me ? current_worker.me->trace.load(std::memory_order_acquire) : nullptr;
}

// Runs `e` and, for one event in 16 whose handler's cost is measured (`measured_only`, or no
// cost annotated), folds its run time into the handler's measured cost. Reading the TSC costs
// ~18 ns on this kind of VM and the average lives in the handler_info, a line every core running
// the handler shares: hence the sampling, and no TSC read for annotated handlers. `t0`: the run's
// start when the caller already read it (tracing), else 0.
inline void run_sampled(runtime_impl& rt, core& me, detail::event* e, bool profile,
                        bool measured_only, std::uint64_t t0 = 0) {
  const handler_info* info = e->info;
  if (!profile || (++me.profile_tick & 15) != 0 || !(measured_only || info->cost == 0)) {
    run_event(rt, me, e);
    return;
  }
  if (!t0) t0 = cycles_now();
  run_event(rt, me, e);
  // Racy by design: two workers updating at once lose one sample, which an average affords.
  info->measured_cost.store(
      moving_average(info->measured_cost.load(std::memory_order_relaxed), cycles_now() - t0),
      std::memory_order_relaxed);
}

// run_chain while a window is open. One record per event and two TSC reads per batch (a read
// costs ~20 ns here, half of a small event): the first run's start and the batch's end record;
// the exporter divides the batch's time evenly among its runs (trace.hpp says what is lost).
void run_chain_traced(runtime_impl& rt, core& me, detail::event* chain, trace::ring& tr,
                      bool profile, bool measured_only);

template <class Mode>
void worker_main(runtime_impl& rt, core& me, Mode& mode) {
  const worker_scope scope(rt, me);
  auto steal = [&] { return mode.try_steal(me); };
  while (!rt.stopping.load(std::memory_order_relaxed)) {
    if (mode.run_batch(me)) continue;   // 1
    if (steal()) continue;              // 2
    park(rt, me, steal);                // 3
  }
  mode.finish(me);
}

// Runs a chain of events taken off one color. With `Profile`, samples them for the automatic cost
// profiling (run_sampled).
template <bool Profile>
void run_chain(runtime_impl& rt, core& me, detail::event* chain, bool measured_only) {
  // Tracing off costs one branch per batch.
  if (trace::ring* const tr = me.trace.load(std::memory_order_acquire)) [[unlikely]] {
    run_chain_traced(rt, me, chain, *tr, Profile, measured_only);
    return;
  }
  for (detail::event* e = chain; e;) {
    detail::event* next = e->next;  // read before run_event frees the block
    current_worker.color = e->color;  // one color per batch, but a lane chunk has many
    run_sampled(rt, me, e, Profile, measured_only);
    me.stats.events_run.add();  // per event: counts trail a handler by one event, not by a batch
    e = next;
  }
  me.stats.batches.add();
}

}  // namespace hue::internal
