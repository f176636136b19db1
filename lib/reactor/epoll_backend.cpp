// lib/reactor/epoll_backend.cpp — the default backend: a libevent event_base (epoll on Linux).
//
// Threads: libevent callbacks run only on the polling core's worker, inside event_base_loop.
// Adding and removing events happens on any thread: libevent's own locking (evthread_use_pthreads)
// covers that, and wakes the base if it sleeps. event_del from another thread waits for a running
// callback of that event to return; ours only post, so the wait is short and cannot deadlock (no
// callback waits for anything a canceller holds).
#include "poll_backend.hpp"

#include "reactor_core.hpp"

#include <event2/event.h>
#include <event2/thread.h>

#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>

namespace hue::internal {

namespace {

void use_threads_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (evthread_use_pthreads() != 0) throw std::runtime_error("hue: libevent without threads");
  });
}

event_base* make_base() {
  event_config* c = event_config_new();
  if (!c) throw std::bad_alloc();
  // No EVENT_BASE_FLAG_PRECISE_TIMER: with it libevent calls timerfd_settime on every pass of its
  // loop. The user's timers live in the reactor's own heap (timers.hpp), exact to the nanosecond;
  // libevent times only the watchdog, for which its coarse clock is precise enough.
  event_base* b = event_base_new_with_config(c);
  event_config_free(c);
  if (!b) throw std::runtime_error("hue: cannot create a libevent event_base");
  return b;
}

void on_fd_ready(evutil_socket_t, short what, void* arg) {
  std::uint32_t bits = 0;
  if (what & EV_READ) bits |= readable;
  if (what & EV_WRITE) bits |= writable;
  static_cast<registration_state*>(arg)->ready(bits);
}

void on_wake(evutil_socket_t, short, void* arg) { static_cast<poll_sink*>(arg)->woken(); }
void on_timers(evutil_socket_t, short, void* arg) { static_cast<poll_sink*>(arg)->timers_due(); }
void on_watchdog(evutil_socket_t, short, void*) {}  // ending the sleep is the job
void on_signal(evutil_socket_t signo, short, void*) { fan_out_signal(static_cast<int>(signo)); }

event* event_of(const registration_state* s) noexcept { return reinterpret_cast<event*>(s->watch); }

class epoll_backend final : public poll_backend {
 public:
  epoll_backend(int wake_fd, int timer_fd, poll_sink& sink) {
    use_threads_once();
    base_ = make_base();
    wake_ = event_new(base_, wake_fd, EV_READ | EV_PERSIST, on_wake, &sink);
    watchdog_ = event_new(base_, -1, EV_PERSIST, on_watchdog, nullptr);
    timers_ = event_new(base_, timer_fd, EV_READ | EV_PERSIST, on_timers, &sink);
    const timeval period{0, static_cast<suseconds_t>(watchdog_period_us)};
    if (!wake_ || !watchdog_ || !timers_ || event_add(wake_, nullptr) != 0 ||
        event_add(watchdog_, &period) != 0 || event_add(timers_, nullptr) != 0) {
      for (event* e : {wake_, watchdog_, timers_})
        if (e) event_free(e);
      event_base_free(base_);
      throw std::runtime_error("hue: cannot watch the worker's wake-up eventfd and the timerfd");
    }
  }

  ~epoll_backend() override {
    event_free(timers_);
    event_free(watchdog_);
    event_free(wake_);
    event_base_free(base_);
  }

  const char* name() const noexcept override { return event_base_get_method(base_); }

  void add_watch(registration_state* s, int fd, io_events interest) override {
    short flags = 0;
    if (interest & readable) flags |= EV_READ;
    if (interest & writable) flags |= EV_WRITE;
    flags |= s->oneshot ? 0 : (EV_PERSIST | EV_ET);
    event* ev = event_new(base_, fd, flags, on_fd_ready, s);
    if (!ev || event_add(ev, nullptr) != 0) {
      const int err = errno;
      if (ev) event_free(ev);
      throw std::system_error(err, std::generic_category(), "hue: cannot watch fd");
    }
    s->watch = reinterpret_cast<std::uintptr_t>(ev);
  }

  void remove_watch(registration_state* s) noexcept override {
    if (event* ev = event_of(s)) event_del(ev);  // after this, no callback of ours runs or will run
  }

  void release_watch(registration_state* s) noexcept override {
    // remove_watch deleted it already; event_free of a deleted event only frees.
    if (event* ev = event_of(s)) event_free(ev);
    s->watch = 0;
  }

  void poll(bool block) noexcept override {
    // Blocking returns once a callback of ours ran: readiness, a timer, the parker's eventfd or
    // the watchdog. libevent's internal notifications (another thread adding an event) do not end
    // EVLOOP_ONCE; they only make it re-arm epoll_wait with the new set.
    event_base_loop(base_, block ? EVLOOP_ONCE : EVLOOP_NONBLOCK);
  }

  void* catch_signal(int signo) override {
    event* ev = evsignal_new(base_, signo, on_signal, nullptr);
    if (!ev || evsignal_add(ev, nullptr) != 0) {
      if (ev) event_free(ev);
      throw std::runtime_error("hue: cannot catch signal " + std::to_string(signo));
    }
    return ev;
  }

  void release_signal(void* caught) noexcept override { event_free(static_cast<event*>(caught)); }

 private:
  event_base* base_ = nullptr;
  event* wake_ = nullptr;  // the polling core's parker eventfd, read while asleep in epoll
  event* watchdog_ = nullptr;
  event* timers_ = nullptr;  // the timer heap's timerfd
};

}  // namespace

std::unique_ptr<poll_backend> make_epoll_backend(int wake_fd, int timer_fd, poll_sink& sink) {
  return std::make_unique<epoll_backend>(wake_fd, timer_fd, sink);
}

}  // namespace hue::internal
