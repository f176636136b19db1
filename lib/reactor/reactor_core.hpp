// lib/reactor/reactor_core.hpp — what a reactor is made of, shared by the files of lib/reactor
// (and by lib/coro, which keeps its coroutine roots in a reactor's extension slot). The runtime is
// reached only through `poll_host` (core/poller.hpp).
#pragma once

#include "core/poller.hpp"
#include "poll_backend.hpp"
#include "timers.hpp"

#include <hue/reactor.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

namespace hue::internal {

// One watch, timer or signal subscription. Shared by the user's handle, the deliveries queued in
// the runtime, and (signals) the process-wide signal hub; the backend holds no reference:
// cancel() removes the watch (poll_backend::remove_watch) before the handle lets go.
struct registration_state {
  enum class kind : std::uint8_t { fd, timer, signal };

  // `state` packs who may do what next. The poll thread sets ready bits and `inflight` (a delivery
  // is queued or running: at most one is); the delivery clears the bits it hands to the handler,
  // and `inflight` when no new bits arrived meanwhile; cancel() sets `cancelled`; a oneshot
  // delivery sets `fired` with a CAS that fails if `cancelled` won, so exactly one of the two
  // happens.
  static constexpr std::uint32_t ready_mask = 0xff;
  static constexpr std::uint32_t tick = 0x10;  // a timer or signal is due (no fd bits)
  static constexpr std::uint32_t inflight = 1u << 29;
  static constexpr std::uint32_t fired = 1u << 30;
  static constexpr std::uint32_t cancelled = 1u << 31;

  std::atomic<std::uint32_t> refs{1};
  std::atomic<std::uint32_t> state{0};
  std::shared_ptr<reactor_core> owner;  // keeps the backend alive
  std::uintptr_t watch = 0;             // fd kind: the backend's word for the watch
  timer_entry timer;                    // timer kind: its place in the reactor's timer heap
  kind what = kind::fd;
  bool oneshot = false;
  int signo = 0;
  color_t color = 0;
  const handler_info* info = &anonymous_handler;
  priority_t priority = default_priority;
  std::function<void(unsigned)> handler;  // ready bits (fd), signal number, or nothing (timer)

  ~registration_state();
  void ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void unref() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // Poll thread: `bits` became ready. Posts a delivery unless one is in flight (then merged).
  void ready(std::uint32_t bits) noexcept;
  // Runs on `color`: hands the pending bits to the handler.
  void deliver();
  bool cancel() noexcept;

 private:
  void post_delivery() noexcept;
};

class reactor_core final : public idle_poller,
                           private poll_sink,
                           public std::enable_shared_from_this<reactor_core> {
 public:
  // `impl` is `rt`'s implementation: the reactor polls on one of its cores.
  reactor_core(runtime& rt, runtime_impl& impl, const reactor_config& cfg);
  ~reactor_core();
  void start();  // attaches to the polling core; after construction (needs shared_from_this)
  void close();  // the reactor object is going away: stop polling, hand signals over

  runtime& rt;
  const reactor_config cfg;
  const color_t color;  // of the Epoll handler: cfg.color, else a fresh one placed on cfg.core

  poll_backend& backend() const noexcept { return *backend_; }
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  registration make(registration_state* s) const noexcept { return registration(s); }
  static registration_state* state_of(const registration& r) noexcept { return r.s_; }

  // idle_poller, called by the polling core's worker from its park.
  void poll_now() noexcept override;
  void block(parker& p) noexcept override;
  void resume() noexcept override;

  reactor::poll_counts counts() const noexcept;

  poll_host& host() noexcept { return host_; }
  timer_heap& timers() noexcept { return timers_; }

  // Reports an exception that no handler is there to catch (a delivery that could not be posted)
  // to the runtime's error hook, as a failure of the handler `info` on `color`.
  void report(const handler_info& info, color_t color) noexcept;

  // State an upper layer keeps per reactor (lib/coro: its suspended coroutines) and must tear down
  // first when the reactor goes: `close` runs at the start of the reactor's destructor.
  class extension {
   public:
    virtual ~extension() = default;
    virtual void close() noexcept = 0;
  };
  // The extension made by `make` on first use; thread-safe. One kind per process (lib/coro's).
  extension& extend(std::unique_ptr<extension> (*make)(reactor_core&));
  void close_extension() noexcept;

 private:
  std::mutex ext_mu_;
  std::unique_ptr<extension> ext_;

  // Queues one Epoll event unless one is queued. `priority` is the configured one when polling
  // starts or resumes after a park, the default one when a poll re-posts itself (see poll_event).
  void post_poll(priority_t priority) noexcept;
  void poll_event() noexcept;  // the Epoll handler
  void loop(bool block) noexcept;  // the backend's poll, recorded while a trace window is open
  void woken() noexcept override;
  void timers_due() noexcept override;

  poll_host host_;
  timer_heap timers_;
  // After timers_ and host_: it watches their fds, so it goes first.
  std::unique_ptr<poll_backend> backend_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> poll_queued_{false};
  std::chrono::steady_clock::time_point last_busy_poll_{};
  std::atomic<std::uint64_t> busy_polls_{0}, idle_polls_{0}, blocking_polls_{0};
};

// The process-wide signal hub (signals.cpp).
void subscribe_signal(registration_state* s);
void unsubscribe_signal(registration_state* s) noexcept;
void reactor_closing(reactor_core* r) noexcept;  // hands the signals it catches to another one

}  // namespace hue::internal
