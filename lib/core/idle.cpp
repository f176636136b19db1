// lib/core/idle.cpp — spinning, sleeping and waking (idle.hpp).
#include "idle.hpp"

#include "block_pool.hpp"
#include "cycles.hpp"

#include <sched.h>

#include <mutex>

namespace hue::internal {

namespace {

// How long a spin polls and retries its steal between two looks at the clock: 64 turns of
// `pause` (~2 us here). Each poll is an epoll_wait and each steal reads every core's hints.
// Once the spin yields, every turn looks: a sched_yield on a loaded machine gives the CPU away for
// a whole time slice, and 64 of them kept a polling worker from its timers for hundreds of
// milliseconds (Timers.PeriodicKeepsItsPeriod got 6 ticks of 20 while a build ran).
constexpr unsigned turns_per_check = 64;
// How long a spin uses `pause` before it spins with sched_yield. A worker spinning with pause for
// its whole window took the CPU that a client on the same two cores needed: SWS under wrk -c100
// served 51k requests/s so, 56k with no spin at all, 82k with yields after 4 us.
constexpr std::uint64_t pause_spin_ns = 4'000;

// One look, without spinning: this core's queues, the reactor, a steal.
bool look_once(runtime_impl& rt, core& me, idle_poller* poller, bool (*steal)(void*), void* arg) {
  if (poller) poller->poll_now();
  if (me.ready_hint.load(std::memory_order_relaxed) || rt.stopping.load(std::memory_order_relaxed))
    return true;
  return steal(arg);
}

// Takes a spinner's place if fewer than the cap spin.
bool begin_spin(runtime_impl& rt) noexcept {
  unsigned n = rt.spinning.load(std::memory_order_relaxed);
  do {
    if (n >= rt.max_spinning) return false;
  } while (!rt.spinning.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

}  // namespace

bool spin_for_work(runtime_impl& rt, core& me, idle_poller* poller, bool (*steal)(void*),
                   void* arg) {
  if (rt.cfg.idle_spin_ns == 0) return look_once(rt, me, poller, steal, arg);
  // `pause` first, sched_yield after pause_until (from the start when oversubscribed: the worker
  // whose post we wait for may need this CPU); only `max_spinning` workers go on past it, not
  // counting those that poll a reactor: their spin is what notices I/O at once (capped, the
  // reactor's core of an echo over one connection slept in epoll_wait between messages and served
  // 9k messages/s instead of 27k).
  bool yielding = rt.oversubscribed, counted = false;
  const std::uint64_t start = steady_ns(), deadline = start + rt.cfg.idle_spin_ns,
                      pause_until = start + pause_spin_ns;
  bool found = false;
  for (unsigned i = 0;; ++i) {
    if (me.ready_hint.load(std::memory_order_relaxed) ||
        rt.stopping.load(std::memory_order_relaxed)) {
      found = true;
      break;
    }
    if (yielding) sched_yield(); else cpu_relax();
    if (yielding || i % turns_per_check == turns_per_check - 1) {
      // I/O readiness is picked up while spinning too: a ping-pong peer must not wait for the
      // spin window to end. Its callbacks post, which sets our ready_hint if the work is ours.
      if (poller) poller->poll_now();
      // Work may appear on another core while we spin; a post only wakes sleepers.
      if (steal(arg)) {
        found = true;
        break;
      }
      const std::uint64_t now = steady_ns();
      if (now >= deadline) break;
      if (now >= pause_until && !counted) {
        if (!poller && !begin_spin(rt)) break;
        counted = !poller;
        yielding = true;
      }
    }
  }
  if (counted) rt.spinning.fetch_sub(1, std::memory_order_relaxed);
  return found;
}

void sleep_until_woken(runtime_impl& rt, core& me, idle_poller* poller) {
  {
    spin_guard g(me.lock);
    me.note_lock_wait(g.waited);
    if (me.pending || rt.stopping.load(std::memory_order_relaxed)) return;
    me.sleeping.store(true, std::memory_order_relaxed);
  }
  // The last worker to fall asleep gives back what bursts needed. Not every sleeper: a thief that
  // naps between rounds would empty the depot that the busy core's next burst draws on.
  if (rt.sleepers.fetch_add(1, std::memory_order_relaxed) + 1 == rt.cfg.workers)
    detail::trim_block_pool();
  if (rt.draining.load(std::memory_order_relaxed)) {
    std::lock_guard l(rt.drain_mu);
    rt.drain_cv.notify_all();
  }
  me.stats.sleeps.add();
  trace::ring* const tr = me.trace.load(std::memory_order_acquire);
  if (tr) [[unlikely]] tr->put(trace::kind::sleep, cycles_now());
  if (poller)
    poller->block(me.park);  // epoll_wait, with the parker's eventfd among the watched fds
  else
    me.park.wait();
  rt.sleepers.fetch_sub(1, std::memory_order_relaxed);
  // A waker clears `sleeping`; a spurious return leaves it set and would cost every later post a
  // needless eventfd write.
  spin_guard g(me.lock);
  me.note_lock_wait(g.waited);
  // Every post, give-back or move that leaves work here while `sleeping` is set claims the wake
  // (and clears it). Still set with work pending: this sleep ended on the watchdog's timeout, and
  // the work would have waited for it. Counted, so a missed wake-up cannot hide.
  const bool rescue = me.sleeping.load(std::memory_order_relaxed) && me.pending;
  if (rescue) me.stats.rescues.add();
  me.sleeping.store(false, std::memory_order_relaxed);
  if (tr) [[unlikely]] tr->put(trace::kind::wake, cycles_now(), 0, 0, 0, rescue);
}

void wake_thief(runtime_impl& rt, const core& busy) noexcept {
  for (unsigned i = 0; i < rt.cfg.workers; ++i) {
    core& k = rt.cores[i];
    if (&k == &busy || !k.sleeping.load(std::memory_order_relaxed)) continue;
    bool wake;
    {
      spin_guard g(k.lock);
      k.note_lock_wait(g.waited);
      wake = k.claim_wake();
    }
    if (wake) {
      k.park.wake();
      return;
    }
  }
}

void wake_all(runtime_impl& rt) noexcept {
  for (unsigned i = 0; i < rt.cfg.workers; ++i) {
    core& k = rt.cores[i];
    {
      spin_guard g(k.lock);
      k.sleeping.store(false, std::memory_order_relaxed);
    }
    k.park.wake();
  }
}

}  // namespace hue::internal
