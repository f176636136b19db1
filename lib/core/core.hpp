// lib/core/core.hpp — the state of one core: its lock, its core-queue, its sleep state, its stats.
//
// Layout (false sharing matters here): the first cache lines hold what posters from other cores
// touch on every post (lock, core-queue, sleeping flag); the parker has a line of its own because
// wakers hit it only when the worker sleeps; the worker-private counters come last, on lines no
// other thread writes.
#pragma once

#include "core_queue.hpp"
#include "park.hpp"
#include "spinlock.hpp"
#include "legacy/legacy_queue.hpp"
#include "steal/stealing_queue.hpp"

#include <hue/stats.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

namespace hue::internal {

// A statistics counter. Each is written by one thread at a time (the worker, or a poster holding
// the core lock), so a load + store suffices: no locked instruction on the hot path. The store is a
// release and `get` an acquire (both plain moves on x86) because drain() relies on them: seeing a
// worker's `events_run` must also show the posts its handlers made (runtime.cpp, quiescent()).
class counter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  std::uint64_t get() const noexcept { return v_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

struct alignas(64) core {
  // --- shared with posters: guarded by `lock`. Ordered so that a post to a default-priority color
  // touches only this first cache line: lock, flags, counters, then the core-queue, whose level
  // bitmap and level 0 come first. ---
  spinlock lock;
  bool sleeping = false;           // the worker is (about to be) asleep in the kernel; a poster wakes it
  // Non-zero while `ready` is non-empty. Written under the lock, read without it by the spinning
  // worker, so it can notice new work without taking the lock that posters need.
  std::atomic<std::uint32_t> ready_hint{0};
  counter events_posted;
  // Contended acquisitions are rare; any thread adds what it waited, hence a real RMW.
  std::atomic<std::uint64_t> lock_wait_cycles{0};
  core_queue ready;
  std::uint32_t pending = 0;               // events waiting in this core's queues
  color_queue* running_queue = nullptr;    // the color-queue whose batch runs now, if any
  stealing_queue worthy;                   // time-left heuristic
  legacy_queue legacy;                     // steal_mode::libasync_smp: the one FIFO of the core
  bool legacy_running = false;             // legacy: an event of `legacy_running_color` runs
  color_t legacy_running_color = 0;
  // Racy copies for thieves choosing a victim without taking its lock.
  std::atomic<std::uint32_t> pending_hint{0};

  alignas(64) parker park;
  std::atomic<bool> asleep{false};         // mirrors `sleeping` for the wake-a-thief scan
  // The reactor polling on this core, if any (lib/reactor). `poller` and `poller_busy` are guarded
  // by `lock`: the worker marks the poller busy for the length of a park, and a reactor detaching
  // waits until it is not, so a worker never calls into a destroyed reactor.
  idle_poller* poller = nullptr;
  bool poller_busy = false;
  // The Epoll event stopped re-posting itself because the core had nothing else to do; the next
  // batch taken asks the poller to resume polling while busy. Guarded by `lock`.
  bool poll_dormant = false;
  std::atomic<bool> has_poller{false};     // racy copy: parks of poller-less cores skip the lock

  // --- worker-private ---
  alignas(64) unsigned index = 0;
  std::atomic<int> os_cpu{-1};     // written by the worker once pinned; read by snapshots
  unsigned profile_tick = 0;        // samples one event in 16 for cost profiling
  std::vector<unsigned> distance;   // distance[c]: how far core c is (locality-aware stealing)
  std::vector<unsigned> victims;    // scratch for construct_core_set
  std::vector<std::uint32_t> loads; // scratch for construct_core_set
  counter events_run;
  counter batches;
  counter handler_exceptions;
  // Busy time is derived (lifetime - idle - stealing) rather than timed per batch: two TSC reads
  // per batch cost as much as the post of a small event.
  std::atomic<std::uint64_t> start_cycles{0};
  std::atomic<std::uint64_t> end_cycles{0};  // 0 while the worker runs
  counter idle_cycles;
  counter sleeps;
  counter steal_attempts;
  counter steal_successes;
  counter steal_failures;
  counter events_stolen;
  counter colors_stolen;
  counter steal_cycles;
  counter stolen_time_cycles;

  void note_lock_wait(std::uint64_t cycles) noexcept {
    if (cycles) lock_wait_cycles.fetch_add(cycles, std::memory_order_relaxed);
  }
  // Call with the lock held after changing the queues.
  void update_hint() noexcept {
    ready_hint.store(ready.empty() && !legacy.head ? 0 : 1, std::memory_order_relaxed);
    pending_hint.store(pending, std::memory_order_relaxed);
  }

  core_stats snapshot() const;
};

}  // namespace hue::internal
