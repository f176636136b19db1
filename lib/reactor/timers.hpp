// lib/reactor/timers.hpp — a reactor's timers: a min-heap of deadlines on steady_clock, and one
// timerfd in the reactor's epoll set armed at the earliest of them.
//
// Why not libevent's timers. They are exact only with EVENT_BASE_FLAG_PRECISE_TIMER, and then
// libevent re-arms a timerfd with timerfd_settime on every pass of its loop, non-blocking passes
// included: under load, one syscall every three requests of SWS for timers that had not changed.
// Without the flag libevent reads CLOCK_MONOTONIC_COARSE, whose tick (4 ms on these VMs) lets a
// timer fire up to a tick early. Here the timerfd is armed (an absolute CLOCK_MONOTONIC time,
// the clock steady_clock reads) only when the earliest deadline moves earlier, and after it
// fires. A cancelled earliest timer leaves the timerfd armed: its expiry finds nothing due and
// re-arms for the next one, one spurious wake-up instead of a syscall per cancel.
//
// Never early: the kernel fires the timerfd no sooner than its absolute time, and `expire` runs a
// timer only once steady_clock has reached its deadline.
//
// Threads: `add` and `remove` from any thread, `expire` on the polling thread (a libevent callback
// of the timerfd). `mu_` guards the heap and is held while `expire` hands a due timer to its
// registration, so `remove` (called by cancel) returns only once no expiry is touching it: after
// that the registration may be freed.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace hue::internal {

struct registration_state;

// What a timer registration keeps for the heap; guarded by the heap's mutex.
struct timer_entry {
  static constexpr std::uint32_t not_queued = UINT32_MAX;
  std::int64_t due_ns = 0;     // steady_clock, nanoseconds since its epoch
  std::int64_t period_ns = 0;  // 0: fires once
  std::uint64_t seq = 0;       // ties between equal deadlines go in the order they were added
  std::uint32_t index = not_queued;
};

class timer_heap {
 public:
  timer_heap();  // throws std::system_error when no timerfd can be made
  ~timer_heap();
  timer_heap(const timer_heap&) = delete;
  timer_heap& operator=(const timer_heap&) = delete;

  int fd() const noexcept { return fd_; }

  // Queues `s` (its timer entry's due_ns and period_ns set). Throws std::bad_alloc.
  void add(registration_state* s);
  // Takes `s` out if it is queued; afterwards no expiry touches it.
  void remove(registration_state* s) noexcept;
  // The timerfd polled readable: hands every due timer to its registration (ready), queues the
  // periodic ones again, and arms the timerfd for what remains.
  void expire() noexcept;

  std::uint64_t arms() const noexcept;  // timerfd_settime calls so far (tests pin the count)

 private:
  static timer_entry& entry(registration_state* s) noexcept;
  bool before(std::uint32_t a, std::uint32_t b) const noexcept;
  void place(std::uint32_t i, registration_state* s) noexcept;
  void sift_up(std::uint32_t i) noexcept;
  void sift_down(std::uint32_t i) noexcept;
  void erase_at(std::uint32_t i) noexcept;
  void arm_locked(std::int64_t due_ns) noexcept;

  mutable std::mutex mu_;
  std::vector<registration_state*> heap_;
  std::int64_t armed_ns_ = INT64_MAX;  // the timerfd's expiry; INT64_MAX: disarmed or fired
  std::uint64_t next_seq_ = 0;
  std::uint64_t arms_ = 0;
  int fd_;
};

}  // namespace hue::internal
