// lib/core/spinlock.hpp — the per-core lock.
//
// As in Libasync-smp and Mely, each core has one lock that guards its core-queue and every
// color-queue it owns (a lock per color could not protect the core-queue itself). Critical sections
// are a few dozen instructions, so a test-and-test-and-set spinlock beats a mutex: no syscall, and
// an uncontended acquire is one atomic exchange.
//
// Hazard: a holder can be preempted (tests run 4-8 workers on 2 cores). After a short burst of
// spinning the waiter yields its time slice so the holder can finish, instead of burning the
// quantum. The burst length (128 pauses, a few microseconds) was picked without data; tune later.
#pragma once

#include "cycles.hpp"

#include <sched.h>

#include <atomic>
#include <cstdint>

namespace hue::internal {

class spinlock {
 public:
  // Returns the cycles spent waiting: 0 when the lock was free (the common case, which reads no
  // clock), so callers can account lock contention at no cost when there is none.
  std::uint64_t lock() noexcept {
    if (!locked_.exchange(true, std::memory_order_acquire)) return 0;
    return lock_contended();
  }

  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }

  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::uint64_t lock_contended() noexcept {
    const std::uint64_t start = cycles_now();
    for (;;) {
      // Spin on a plain load so waiters share the line instead of bouncing it with exchanges.
      for (unsigned spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 128) {
          cpu_relax();
        } else {
          sched_yield();
          spins = 0;
        }
      }
      if (!locked_.exchange(true, std::memory_order_acquire)) return cycles_now() - start;
    }
  }

  std::atomic<bool> locked_{false};
};

// Scoped holder; `waited` is the contention the acquisition cost, for the lock-wait statistics.
class spin_guard {
 public:
  explicit spin_guard(spinlock& l) noexcept : lock_(l), waited(l.lock()) {}
  ~spin_guard() { lock_.unlock(); }
  spin_guard(const spin_guard&) = delete;
  spin_guard& operator=(const spin_guard&) = delete;

 private:
  spinlock& lock_;

 public:
  const std::uint64_t waited;
};

}  // namespace hue::internal
