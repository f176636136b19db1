// lib/core/poller.hpp — the poller protocol: how a reactor polls on a worker's core, and the
// narrow interface (`poll_host`) through which the reactor reaches a runtime at all.
//
// A reactor polls in two places on its core: as an event (the Epoll handler, which re-posts itself
// while the core has other work) and from the worker's park (it polls while spinning, then sleeps
// in epoll_wait instead of on the parker's eventfd, which the reactor watches). The second needs a
// protocol, because the reactor may be destroyed while its worker is parked:
//
//   attach   any thread: the core's next park calls the poller (the attacher wakes the worker).
//   lease    the worker, for the length of one park: marks the poller busy under the core lock.
//   detach   waits until no park holds a lease; the poller may be destroyed once it returns.
//   rest     the Epoll event, on its core: with nothing else pending it stops re-posting itself
//            and the core remembers (`dormant`) to resume it when it next takes work.
//
// Hazard: detach must not be called by the worker of that core while it parks (it never is:
// handlers run outside the park).
#pragma once

#include "park.hpp"

#include <hue/config.hpp>
#include <hue/handler_info.hpp>

#include <atomic>

namespace hue {
class runtime;
}

namespace hue::trace {
class ring;
}

namespace hue::internal {

struct core;
struct runtime_impl;

// Implemented by the reactor: what a worker does instead of plain sleeping when it polls I/O.
// Called by the worker thread only, between attach and detach.
class idle_poller {
 public:
  virtual void poll_now() noexcept = 0;          // non-blocking: dispatch whatever is ready
  virtual void block(parker& p) noexcept = 0;    // sleep in the kernel until I/O, a timer or a wake
  virtual void resume() noexcept = 0;            // the worker has work again: poll while busy
 protected:
  ~idle_poller() = default;
};

// Per core. `poller`, `busy` and `dormant` are guarded by the core lock; `attached` is a racy copy
// so that the parks of cores without a reactor skip the lock.
struct poller_slot {
  idle_poller* poller = nullptr;
  bool busy = false;       // a park holds the lease
  bool dormant = false;    // the Epoll event rests; resume it with the next batch taken
  std::atomic<bool> attached{false};
};

// The reactor polling on core `me` for the length of one park, or nullptr.
class poller_lease {
 public:
  explicit poller_lease(core& me);
  ~poller_lease();
  poller_lease(const poller_lease&) = delete;
  poller_lease& operator=(const poller_lease&) = delete;
  idle_poller* get() const noexcept { return p_; }

 private:
  core& me_;
  idle_poller* p_ = nullptr;
};

// The worker of `me`, when it takes work while its Epoll event rests: polling continues as an event.
void resume_poller_if_dormant(core& me, bool dormant) noexcept;

// What a reactor may do to the runtime it polls for: one core's wake-up fd and poller protocol,
// fresh colors, and stopping the runtime. Nothing else of the runtime is visible to lib/reactor.
class poll_host {
 public:
  poll_host(runtime_impl& rt, unsigned core);  // throws std::out_of_range for a core >= workers

  int wake_fd() const noexcept;                 // the core's parker eventfd
  void consume_wake() noexcept;                 // clears it after it polled readable
  void attach(idle_poller* p) noexcept;
  void detach(const idle_poller* p) noexcept;
  bool may_rest() noexcept;                     // from the Epoll event: nothing else is pending
  bool on_own_worker() const noexcept;          // called from a handler of this runtime
  // The current exception to the runtime's error hook, counted on this core, as thrown by `info`.
  void report_error(const handler_info& info, color_t color) noexcept;
  void stop_and_join();                         // stop the runtime and wait for its workers
  trace::ring* trace_ring() const noexcept;     // the core's ring while a window is open, else null
  io_backend io() const noexcept;               // the runtime's default backend for reactors

 private:
  runtime_impl& rt_;
  core& core_;
};

}  // namespace hue::internal
