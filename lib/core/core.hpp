// lib/core/core.hpp — the state of one core: its lock, its core-queue, its sleep state, its
// reactor lease, its statistics. What a scheduling mode adds per core (a stealing-queue, a thief's
// scratch, the libasync-smp FIFO) lives with that mode, indexed by `core::index`.
//
// Layout (false sharing matters here): the first cache lines hold what posters from other cores
// touch on every post (lock, core-queue, sleeping flag); the parker has a line of its own because
// wakers hit it only when the worker sleeps; the worker-private counters come last, on lines no
// other thread writes.
#pragma once

#include "color_table.hpp"
#include "core_queue.hpp"
#include "park.hpp"
#include "poller.hpp"
#include "spinlock.hpp"
#include "trace/trace.hpp"

#include <hue/stats.hpp>

#include <atomic>
#include <cstdint>

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

// The counters HUE_CORE_COUNTERS marks `worker`: written by the worker only (and read by
// snapshots). The `shared` ones are members of `core` itself, on the line posters touch.
#define HUE_KEPT_worker(field) counter field;
#define HUE_KEPT_shared(field)
#define HUE_KEPT_derived(field)
#define HUE_WORKER_COUNTER(field, kept, stem, heading, help) HUE_KEPT_##kept(field)
struct core_counters {
  HUE_CORE_COUNTERS(HUE_WORKER_COUNTER)
};
#undef HUE_WORKER_COUNTER
#undef HUE_KEPT_worker
#undef HUE_KEPT_shared
#undef HUE_KEPT_derived

struct alignas(64) core {
  // --- shared with posters: guarded by `lock`. Ordered so that a post to a default-priority color
  // touches two lines: the lock, flags, counters, hints, the running batch and the lane on line 0;
  // the core-queue's counts, default level and spare list on line 1 (a cross-core hop moves each
  // line it touches, at ~30-200 ns each on these VMs). ---
  spinlock lock;
  // The worker is (about to be) asleep in the kernel; whoever leaves work here claims the wake
  // (idle.hpp). Written under the lock; read without it only by the wake-a-thief scan.
  std::atomic<bool> sleeping{false};
  // Non-zero while events are pending here. Written under the lock, read without it by the spinning
  // worker, so it can notice new work without taking the lock that posters need.
  std::atomic<std::uint32_t> ready_hint{0};
  counter events_posted;
  std::uint32_t pending = 0;               // events waiting in this core's queues, whatever the mode
  // Racy copies of `pending` and `time_left` for thieves choosing a victim without taking its lock.
  std::atomic<std::uint32_t> pending_hint{0};
  std::atomic<std::uint64_t> time_left_hint{0};
  // The sum of the pending events' weights (their colors' time left), kept by stealing policies.
  std::uint64_t time_left = 0;
  color_queue* running_queue = nullptr;    // the color-queue whose batch runs now, if any
  // Events of fresh colors, each the only one of its slot in flight, in posting order: a color with
  // one pending event needs no color-queue (color_scheduler.hpp, "the lane").
  event_fifo lane;
  // --- line 1: the core-queue's counts, default level and spare list (its higher levels after) ---
  core_queue ready;
  std::uint32_t lane_count = 0;
  std::uint64_t lane_time_left = 0;       // its share of `time_left`
  // Contended acquisitions are rare; any thread adds what it waited, hence a real RMW.
  std::atomic<std::uint64_t> lock_wait_cycles{0};

  alignas(64) parker park;
  poller_slot poll;                        // the reactor polling on this core, if any (poller.hpp)

  // --- worker-private ---
  alignas(64) unsigned index = 0;
  std::atomic<int> os_cpu{-1};     // written by the worker once pinned; read by snapshots
  unsigned profile_tick = 0;       // samples one event in 16 for cost profiling
  // A color-queue of another core whose batch this worker runs now (a loan: color_scheduler.hpp).
  // Read only by this worker (pin_color from that batch's handlers).
  const color_queue* loaned_queue = nullptr;
  // Lane events this worker runs now (own or lent), and the slots of those it ran last: their
  // marks are cleared in the next critical section on this core (color_scheduler::run_batch).
  bool in_lane = false;
  bool lane_next = false;          // the lane's turn alternates with the core-queue's
  std::uint32_t lane_ran = 0;
  static constexpr unsigned max_lane_chunk = 64;
  color_slot* lane_slots[max_lane_chunk];
  // Busy time is derived (lifetime - idle - stealing) rather than timed per batch: two TSC reads
  // per batch cost as much as the post of a small event.
  std::atomic<std::uint64_t> start_cycles{0};
  std::atomic<std::uint64_t> end_cycles{0};  // 0 while the worker runs
  core_counters stats;
  // This core's ring while a trace window is open, else null: the one flag every recording site
  // tests (lib/trace). Written by start_trace/stop_trace, read by this worker.
  std::atomic<trace::ring*> trace{nullptr};

  void note_lock_wait(std::uint64_t cycles) noexcept {
    if (cycles) lock_wait_cycles.fetch_add(cycles, std::memory_order_relaxed);
  }
  // Call with the lock held after changing `pending`.
  void update_hint() noexcept {
    ready_hint.store(pending != 0, std::memory_order_relaxed);
    pending_hint.store(pending, std::memory_order_relaxed);
    time_left_hint.store(time_left, std::memory_order_relaxed);
  }
  // Call with the lock held: true when the worker was asleep and the caller must wake it (after
  // unlocking, with park.wake()). At most one waker per sleep.
  bool claim_wake() noexcept {
    if (!sleeping.load(std::memory_order_relaxed)) return false;
    sleeping.store(false, std::memory_order_relaxed);
    return true;
  }

  core_stats snapshot() const;
};

// Holds two cores' locks, lower index first: the only order in which any thread holds two (a slot
// move, a steal), so two holders can never wait for each other. The same core twice is locked once.
class two_core_guard {
 public:
  two_core_guard(core& a, core& b) noexcept
      : lo_(a.index < b.index ? a : b), hi_(a.index < b.index ? b : a) {
    lo_.note_lock_wait(lo_.lock.lock());
    if (&hi_ != &lo_) hi_.note_lock_wait(hi_.lock.lock());
  }
  ~two_core_guard() {
    if (&hi_ != &lo_) hi_.lock.unlock();
    lo_.lock.unlock();
  }
  two_core_guard(const two_core_guard&) = delete;
  two_core_guard& operator=(const two_core_guard&) = delete;

 private:
  core& lo_;
  core& hi_;
};

}  // namespace hue::internal
