// lib/core/park.hpp — putting an idle worker to sleep and waking it.
//
// A futex on a sequence number, written by hand because the decision to wake is already made under
// the core lock (the `sleeping` flag in core.hpp), so a waker needs exactly one FUTEX_WAKE and a
// sleeper one FUTEX_WAIT. std::atomic::wait would do the same job with its own spinning and a
// process-wide waiter table in front of it.
//
// Protocol: the sleeper reads `prepare()` while holding the core lock and after seeing the queues
// empty; a waker bumps the sequence after releasing that lock. If the bump lands between the
// sleeper's unlock and its FUTEX_WAIT, the kernel sees a changed value and returns at once: no lost
// wake-up. Spurious returns are harmless: the worker loop re-checks its queues.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace hue::internal {

class parker {
 public:
  std::uint32_t prepare() const noexcept { return seq_.load(std::memory_order_acquire); }

  void wait(std::uint32_t seen) noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&seq_), FUTEX_WAIT_PRIVATE, seen, nullptr,
            nullptr, 0);
  }

  void wake() noexcept {
    seq_.fetch_add(1, std::memory_order_release);
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&seq_), FUTEX_WAKE_PRIVATE, 1, nullptr,
            nullptr, 0);
  }

 private:
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  std::atomic<std::uint32_t> seq_{0};
};

}  // namespace hue::internal
