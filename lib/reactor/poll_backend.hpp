// lib/reactor/poll_backend.hpp — what the reactor asks of the kernel interface it polls with, so
// that the registrations, the Epoll handler, the timers and the signal hub above it are written
// once. Two backends: libevent over epoll (epoll_backend.cpp, the default) and io_uring
// (uring_backend.cpp, built when liburing is found). Each reactor has one, chosen when it is made.
//
// Threads: `add_watch`, `remove_watch`, `release_watch`, `catch_signal` and `release_signal` from
// any thread; `poll` from the polling core's worker only (one thread for the reactor's life: the
// Epoll event's color is pinned to that core, and the worker's park runs there too).
#pragma once

#include <hue/reactor.hpp>

#include <memory>
#include <string>

namespace hue::internal {

struct registration_state;

// What a backend reports besides fd readiness (which goes to registration_state::ready).
class poll_sink {
 public:
  virtual void woken() noexcept = 0;       // the parker's eventfd polled readable
  virtual void timers_due() noexcept = 0;  // the timer heap's timerfd polled readable

 protected:
  ~poll_sink() = default;
};

class poll_backend {
 public:
  virtual ~poll_backend() = default;

  virtual const char* name() const noexcept = 0;  // reactor::backend()

  // Watches `fd` for `interest` on behalf of `s` (fd kind): persistent is edge-triggered, oneshot
  // level-triggered once (s->oneshot). Readiness calls s->ready(bits). Keeps what it needs in
  // s->watch. Throws (std::system_error, std::bad_alloc) with nothing registered.
  virtual void add_watch(registration_state* s, int fd, io_events interest) = 0;
  // After this returns, no readiness reaches `s`, whatever is still in flight in the kernel.
  virtual void remove_watch(registration_state* s) noexcept = 0;
  // `s` is being destroyed (removed before, or never added).
  virtual void release_watch(registration_state* s) noexcept = 0;

  // Dispatches what is ready. `block`: waits first until something is (a watch, the parker's
  // eventfd, the timerfd) or until the watchdog period passes, then dispatches it.
  virtual void poll(bool block) noexcept = 0;

  // Catches `signo` for the whole process and calls fan_out_signal(signo) from `poll` each time
  // it arrives; throws std::runtime_error. The handle goes back to release_signal, which restores
  // the disposition that was there before.
  virtual void* catch_signal(int signo) = 0;
  virtual void release_signal(void* caught) noexcept = 0;
};

// A sleep in the kernel ends at least this often even if no wake-up arrives. On this project's
// VMs a sleeping epoll_wait was seen to miss readiness (an echo benchmark stalled with every
// socket readable and the poller asleep, Boost.Asio's too; a signal unblocked it). Ten wake-ups a
// second bound such a stall and cost an idle process nothing.
inline constexpr long watchdog_period_us = 100'000;

// The backends. `wake_fd` is the polling core's parker eventfd, `timer_fd` the timer heap's.
std::unique_ptr<poll_backend> make_epoll_backend(int wake_fd, int timer_fd, poll_sink& sink);
// nullptr when io_uring cannot be used here (not built in, or the kernel or a seccomp policy
// refuses it): `why` then says why, in a few words.
std::unique_ptr<poll_backend> make_uring_backend(int wake_fd, int timer_fd, poll_sink& sink,
                                                 std::string& why);

// The signal hub's fan-out (signals.cpp): every subscriber of `signo`, in every reactor.
void fan_out_signal(int signo) noexcept;

}  // namespace hue::internal
