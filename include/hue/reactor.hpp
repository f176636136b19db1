// hue/reactor.hpp — readiness, timers and signals as colored events.
//
// A reactor owns a libevent event_base (epoll on Linux) and feeds what it reports into a runtime:
// each callback posts a colored event, so an fd's handler runs under its color's mutual exclusion
// on whichever core owns that color, and can be stolen like any other event.
//
//   hue::runtime rt;
//   hue::reactor io(rt);                                      // polls on worker 0
//   hue::registration tick = io.every(100ms, /*color*/ 7, [] { heartbeat(); });
//   hue::registration in = io.watch(fd, hue::readable, rt.new_color(), [&](hue::io_events) {
//     while (read_some(fd) > 0) {}                           // edge-triggered: read to EAGAIN
//   });
//
// Polling is scheduled like Mely's Epoll handler: it is an event of `reactor_config::color`
// (pinned to `reactor_config::core`) that re-posts itself while that core has other work, so
// readiness is picked up after at most one round of the core's queue (and no more often than
// `busy_poll_interval`); when the core runs out of work, its worker polls while it spins and then
// sleeps in epoll_wait instead of its usual wait on an eventfd, so an idle reactor uses no CPU and
// any post, steal request or readiness wakes it.
//
// Lifetimes: destroy the reactor before its runtime (declare it after). Registrations may outlive
// the reactor; they are then inert. A registration's handler is destroyed when the registration
// is cancelled or destroyed and no delivery of it is queued or running; do not capture a
// shared_ptr to the object that owns the registration (a cycle keeps both alive): capture a raw
// pointer and delete the object from its own handler, which is safe.
//
// Signals: libevent lets one event_base catch signals at a time, so the first reactor to watch a
// signal catches it for the whole process and fans it out to every reactor's subscribers, each in
// its own runtime; when that reactor is destroyed, another one with subscribers takes over. No
// runtime steals another's signals. Creating a reactor ignores SIGPIPE if it was at its default
// (killing the process), so a peer closing a socket never kills a hue program.
#pragma once

#include <hue/handler_info.hpp>
#include <hue/runtime.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace hue {

/// Readiness bits delivered to fd handlers. Errors and hang-ups are reported as both, as epoll does:
/// the next read or write returns the error.
using io_events = unsigned;
inline constexpr io_events readable = 1;  ///< the fd can be read (or has an error, or hung up)
inline constexpr io_events writable = 2;  ///< the fd can be written (or has an error)

/// How a watch delivers readiness.
enum class watch_mode {
  /// Edge-triggered: the handler runs once per change to ready, with the bits that became ready
  /// since its last run; it must read (or write) until EAGAIN, as with nginx's or tokio's pollers.
  /// Readiness that arrives while the handler is queued or running is merged into one more run.
  persistent,
  /// Level-triggered, once: the handler runs at most once, then the registration is spent.
  oneshot,
};

/// Where and how a reactor polls.
struct reactor_config {
  unsigned core = 0;   ///< the worker that polls; the reactor's color is pinned to it
  /// The color of the Epoll handler. Unset: a fresh color placed on `core` (runtime::new_color_on),
  /// so that no other handler is serialized with polling by accident.
  std::optional<color_t> color = std::nullopt;
  /// The Epoll handler's priority when polling starts or resumes after the core parked. While the
  /// core is busy a poll re-posts itself at the default priority, so that it cannot starve the
  /// core's default-priority events.
  priority_t priority = default_priority;
  /// While the polling core is busy, a non-blocking poll costs a syscall each time the Epoll
  /// handler's turn comes; this spaces them out. Readiness latency under load is bounded by
  /// max(this, one round of the polling core's queue).
  std::chrono::microseconds busy_poll_interval{20};
  /// The kernel interface it polls with. Unset: the runtime's (config::io, HUE_IO), else epoll.
  std::optional<io_backend> io = std::nullopt;
};

template <class T>
class task;

namespace internal {
class reactor_core;
struct registration_state;
}  // namespace internal

/// A watch, timer or signal subscription. Move-only; cancels itself when destroyed.
class [[nodiscard]] registration {
 public:
  registration() noexcept = default;
  /// Takes over `other`'s subscription; `other` becomes empty.
  registration(registration&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
  registration& operator=(registration&& other) noexcept;  ///< cancels this one's first
  registration(const registration&) = delete;
  registration& operator=(const registration&) = delete;
  ~registration() { reset(); }

  /// Stops deliveries. Returns true when this call stopped it: for a oneshot registration, true
  /// means its handler never ran and never will, false that it has begun (or was already
  /// cancelled). Once cancel() has returned, no new run of the handler begins; a run already
  /// begun on another core may still be finishing (none is, when cancel() is called from the
  /// registration's own color). Safe from any thread and from the handler itself.
  bool cancel() noexcept;
  /// Cancels and lets go of the registration.
  void reset() noexcept;
  explicit operator bool() const noexcept { return s_ != nullptr; }  ///< holds a subscription

 private:
  friend class internal::reactor_core;
  explicit registration(internal::registration_state* s) noexcept : s_(s) {}
  internal::registration_state* s_ = nullptr;
};

/// The event loop's I/O half: turns fd readiness, timers and signals into colored events of a
/// runtime. Its Epoll handler polls on one worker (reactor_config::core); the rules it keeps are
/// at the top of this file.
class reactor {
 public:
  using clock = std::chrono::steady_clock;  ///< the clock of after() and every()

  /// Attaches to `rt` and starts polling on `cfg.core`.
  explicit reactor(runtime& rt, reactor_config cfg = {});
  ~reactor();  ///< see "Lifetimes"; suspended coroutines spawned on it are destroyed here
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;

  /// Readiness of `fd` for `interest` (readable | writable) runs `handler(ready bits)` on `color`.
  /// The fd must stay open until the registration is cancelled.
  registration watch(int fd, io_events interest, color_t color,
                     std::function<void(io_events)> handler, watch_mode mode = watch_mode::persistent,
                     const handler_info& info = anonymous_handler,
                     priority_t priority = default_priority);

  /// Runs `handler` on `color` once, `delay` from now (never earlier).
  registration after(clock::duration delay, color_t color, std::function<void()> handler,
                     const handler_info& info = anonymous_handler,
                     priority_t priority = default_priority);
  /// Runs `handler` on `color` every `period`, the first time one period from now. Ticks are
  /// scheduled from the previous due time, not from when the handler ran, so the period does not
  /// drift; ticks due while the previous one is still queued or running are merged into it.
  registration every(clock::duration period, color_t color, std::function<void()> handler,
                     const handler_info& info = anonymous_handler,
                     priority_t priority = default_priority);
  /// Runs `handler(signo)` on `color` each time the process receives `signo` (see "Signals").
  registration on_signal(int signo, color_t color, std::function<void(int)> handler,
                         const handler_info& info = anonymous_handler,
                         priority_t priority = default_priority);

  /// The infos outlive the call (the runtime keeps a pointer): temporaries are refused.
  registration watch(int, io_events, color_t, std::function<void(io_events)>, watch_mode,
                     const handler_info&&, priority_t = default_priority) = delete;
  registration after(clock::duration, color_t, std::function<void()>, const handler_info&&,
                     priority_t = default_priority) = delete;
  registration every(clock::duration, color_t, std::function<void()>, const handler_info&&,
                     priority_t = default_priority) = delete;
  registration on_signal(int, color_t, std::function<void(int)>, const handler_info&&,
                         priority_t = default_priority) = delete;

  runtime& rt() const noexcept;  ///< the runtime it posts to
  /// The color of this reactor's Epoll handler (pinned to its polling core).
  color_t color() const noexcept;
  /// The backend in use: "epoll" (libevent's method name) or "io_uring".
  const char* backend() const noexcept;
  /// How many times the reactor polled: from the Epoll event while its core was busy, and from
  /// the worker's idle path (spinning, or asleep in the kernel); and how many times it armed its
  /// timerfd: when the earliest deadline moved earlier or a timer fired, never once per poll.
  struct poll_counts {
    std::uint64_t busy = 0;        ///< non-blocking polls by the Epoll event, its core busy
    std::uint64_t idle = 0;        ///< non-blocking polls from the idle worker's spin
    std::uint64_t blocking = 0;    ///< polls that slept in epoll_wait
    std::uint64_t timer_arms = 0;  ///< timerfd_settime calls
  };
  poll_counts polls() const noexcept;  ///< the counts so far

 private:
  /// spawn() lists its detached coroutines in the reactor, so destroying the reactor ends them.
  friend void spawn(reactor& io, color_t color, task<void> t);
  std::shared_ptr<internal::reactor_core> core_;
};

}  // namespace hue
