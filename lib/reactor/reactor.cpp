// lib/reactor/reactor.cpp — the reactor: a libevent base polled by one worker, and registrations
// whose libevent callbacks post colored deliveries.
//
// Threads: libevent callbacks (on_fd_ready, on_timers, on_wake) run only on the polling core's
// worker, inside event_base_loop, called from the Epoll event or from the worker's park. Adding
// and removing events happens on any thread: libevent's own locking (evthread_use_pthreads) covers
// that, and wakes the base if it sleeps. event_del from another thread waits for a running
// callback of that event to return; ours only post, so the wait is short and cannot deadlock (no
// callback waits for anything a canceller holds).
#include "reactor_core.hpp"

#include "core/cycles.hpp"
#include "trace/trace.hpp"

#include <event2/thread.h>

#include <csignal>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <system_error>

namespace hue {
namespace internal {

namespace {

constexpr handler_info epoll_info{.name = "Epoll", .cost = 2'000};

void init_process_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (evthread_use_pthreads() != 0) throw std::runtime_error("hue: libevent without threads");
    // A write to a socket whose peer has gone raises SIGPIPE, whose default kills the process.
    // Sockets use MSG_NOSIGNAL too; this covers pipes and the user's own writes. A program that
    // installed its own SIGPIPE disposition keeps it.
    struct sigaction old {};
    if (sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
      struct sigaction ign {};
      ign.sa_handler = SIG_IGN;
      sigemptyset(&ign.sa_mask);
      sigaction(SIGPIPE, &ign, nullptr);
    }
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

}  // namespace

// --- registrations ---

registration_state::~registration_state() {
  if (ev) event_free(ev);  // cancel() removed it already; event_free of a deleted event only frees
}

namespace {
// Set by reactor_core::loop for the length of one traced poll, on the polling thread: the ring of
// the core it polls on (signals reach subscribers of other reactors, but on this thread), and how
// many registrations the poll made ready.
thread_local trace::ring* poll_ring = nullptr;
thread_local std::uint32_t poll_ready = 0;
}  // namespace

void registration_state::ready(std::uint32_t bits) noexcept {
  std::uint32_t s = state.load(std::memory_order_relaxed);
  for (;;) {
    if (s & cancelled) return;
    if (state.compare_exchange_weak(s, s | bits | inflight, std::memory_order_acq_rel)) break;
  }
  if (poll_ring) [[unlikely]] {
    ++poll_ready;
    poll_ring->put(trace::kind::delivery, cycles_now(), color, reinterpret_cast<std::uintptr_t>(info));
  }
  if (!(s & inflight)) post_delivery();
}

namespace {

// The reference a queued delivery holds. Released when the event is destroyed, run or not: a
// runtime destroyed with deliveries still queued discards them, and nothing leaks.
class delivery_ref {
 public:
  explicit delivery_ref(registration_state* s) noexcept : s_(s) { s->ref(); }
  delivery_ref(delivery_ref&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  delivery_ref& operator=(delivery_ref&&) = delete;
  ~delivery_ref() {
    if (s_) s_->unref();
  }
  void operator()() { s_->deliver(); }

 private:
  registration_state* s_;
};

}  // namespace

void registration_state::post_delivery() noexcept {
  bool posted = false;
  try {
    posted = owner->rt.post(color, delivery_ref(this), *info, priority);
  } catch (...) {
    // Out of memory for the event block (post throws nothing else here). The readiness stays in
    // `state`, so the next edge merges with it; an edge-triggered watch that gets no further edge
    // would never fire again, hence the report (counted, with the handler's name), never silence.
    owner->report(*info, color);
  }
  if (!posted) state.fetch_and(~inflight, std::memory_order_acq_rel);
}

void registration_state::deliver() {
  std::uint32_t s = state.load(std::memory_order_acquire);
  for (;;) {
    if (s & cancelled) {
      state.fetch_and(~inflight, std::memory_order_acq_rel);
      return;
    }
    const std::uint32_t next = (s & ~ready_mask) | (oneshot ? fired : 0);
    if (state.compare_exchange_weak(s, next, std::memory_order_acq_rel)) break;
  }
  const std::uint32_t bits = s & ready_mask;

  // Whatever the handler does (throw included), decide afterwards whether to run again.
  struct finish {
    registration_state* r;
    ~finish() {
      std::uint32_t s = r->state.load(std::memory_order_acquire);
      for (;;) {
        if ((s & (cancelled | fired)) || !(s & ready_mask)) {
          if (r->state.compare_exchange_weak(s, s & ~inflight, std::memory_order_acq_rel)) return;
        } else {
          r->post_delivery();  // bits arrived while the handler ran: one more run, at the back
          return;              // inflight stays set for it
        }
      }
    }
  } after{this};

  switch (what) {
    case kind::fd: handler(bits & (readable | writable)); break;
    case kind::signal: handler(static_cast<unsigned>(signo)); break;
    case kind::timer: handler(0); break;
  }
}

bool registration_state::cancel() noexcept {
  const std::uint32_t s = state.fetch_or(cancelled, std::memory_order_acq_rel);
  if (s & cancelled) return false;
  if (what == kind::signal) {
    unsubscribe_signal(this);
  } else if (what == kind::timer) {
    owner->timers().remove(this);  // after this, no expiry touches us
  } else if (ev) {
    event_del(ev);  // after this, no libevent callback of ours runs or will run
  }
  // The handler (and what it captures) goes with the last reference: the handle's, or that of a
  // delivery still queued or running.
  return !(s & fired);
}

void on_fd_ready(evutil_socket_t, short what, void* arg) {
  std::uint32_t bits = 0;
  if (what & EV_READ) bits |= readable;
  if (what & EV_WRITE) bits |= writable;
  static_cast<registration_state*>(arg)->ready(bits);
}


// --- the reactor core ---

reactor_core::reactor_core(runtime& r, runtime_impl& impl, const reactor_config& c)
    : rt(r), cfg(c), color(c.color ? *c.color : r.new_color_on(c.core)), host_(impl, c.core) {
  if (c.priority >= priority_levels) throw std::out_of_range("hue: priority out of range");
  init_process_once();
  base_ = make_base();
  wake_ = event_new(base_, host_.wake_fd(), EV_READ | EV_PERSIST, &reactor_core::on_wake, this);
  // The watchdog: a sleep in epoll_wait ends at least this often even if no wake-up arrives.
  // On this project's VMs a sleeping epoll_wait was seen to miss readiness (an echo benchmark
  // stalled with every socket readable and the poller asleep, Boost.Asio's too; a signal
  // unblocked it). Ten wake-ups a second bound such a stall and cost an idle process nothing.
  watchdog_ = event_new(base_, -1, EV_PERSIST, &reactor_core::on_watchdog, nullptr);
  timers_ev_ = event_new(base_, timers_.fd(), EV_READ | EV_PERSIST, &reactor_core::on_timers, this);
  const timeval period{0, static_cast<suseconds_t>(idle_watchdog.count())};
  if (!wake_ || !watchdog_ || !timers_ev_ || event_add(wake_, nullptr) != 0 ||
      event_add(watchdog_, &period) != 0 || event_add(timers_ev_, nullptr) != 0) {
    for (event* e : {wake_, watchdog_, timers_ev_})
      if (e) event_free(e);
    event_base_free(base_);
    throw std::runtime_error("hue: cannot watch the worker's wake-up eventfd and the timerfd");
  }
}

reactor_core::~reactor_core() {
  event_free(timers_ev_);
  event_free(watchdog_);
  event_free(wake_);
  event_base_free(base_);
}

void reactor_core::start() {
  rt.pin_color(color, cfg.core);
  host_.attach(this);
  post_poll(cfg.priority);
}

void reactor_core::close() {
  closed_.store(true, std::memory_order_release);
  host_.detach(this);  // from here on the worker's park no longer calls us
  reactor_closing(this);
}

void reactor_core::on_wake(evutil_socket_t, short, void* arg) {
  static_cast<reactor_core*>(arg)->host_.consume_wake();
}

void reactor_core::on_watchdog(evutil_socket_t, short, void*) {}  // ending the sleep is the job

void reactor_core::on_timers(evutil_socket_t, short, void* arg) {
  static_cast<reactor_core*>(arg)->timers_.expire();
}

void reactor_core::post_poll(priority_t priority) noexcept {
  if (closed() || poll_queued_.exchange(true, std::memory_order_acq_rel)) return;
  bool posted = false;
  try {
    posted = rt.post(
        color, [self = shared_from_this()] { self->poll_event(); }, epoll_info, priority);
  } catch (...) {
    report(epoll_info, color);  // out of memory: polling goes on from the worker's park only
  }
  if (!posted) poll_queued_.store(false, std::memory_order_release);
}

void reactor_core::poll_event() noexcept {
  poll_queued_.store(false, std::memory_order_release);
  if (closed()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_busy_poll_ >= cfg.busy_poll_interval) {
    last_busy_poll_ = now;
    busy_polls_.fetch_add(1, std::memory_order_relaxed);
    loop(EVLOOP_NONBLOCK);
  }
  // Keep polling while the core has other work; with nothing else queued the worker is about to
  // park, and its park polls (and then sleeps in epoll), so re-posting would only spin.
  // Hazard: the re-post goes at the default priority whatever the configured one. The core-queue
  // serves the highest priority first, so an Epoll event above the default that re-posted itself
  // at its own level would run forever and starve every default-priority event of this core
  // (regression test: epoll_above_default_priority_does_not_starve_the_polling_core). The
  // configured priority thus means "poll first when the core resumes"; under load a poll waits
  // one round of the core's queue, as busy_poll_interval's comment says.
  if (!host_.may_rest()) post_poll(default_priority);
}

void reactor_core::poll_now() noexcept {
  idle_polls_.fetch_add(1, std::memory_order_relaxed);
  loop(EVLOOP_NONBLOCK);
}

void reactor_core::block(parker&) noexcept {
  // Returns once a callback of ours ran: readiness, a timer, or the parker's eventfd (a post, a
  // thief call, detach). libevent's internal notifications (another thread adding an event) do
  // not end EVLOOP_ONCE; they only make it re-arm epoll_wait with the new set.
  blocking_polls_.fetch_add(1, std::memory_order_relaxed);
  loop(EVLOOP_ONCE);
}

void reactor_core::loop(int flags) noexcept {
  trace::ring* const tr = host_.trace_ring();
  if (!tr) {
    event_base_loop(base_, flags);
    return;
  }
  // Only polls that found something are recorded: an idle core polls every few microseconds.
  const std::uint64_t begin = cycles_now();
  poll_ring = tr;
  poll_ready = 0;
  event_base_loop(base_, flags);
  poll_ring = nullptr;
  if (poll_ready) tr->put(trace::kind::poll, cycles_now(), 0, begin, poll_ready);
}

void reactor_core::resume() noexcept { post_poll(cfg.priority); }

void reactor_core::report(const handler_info& info, color_t c) noexcept {
  host_.report_error(info, c);
}

reactor_core::extension& reactor_core::extend(std::unique_ptr<extension> (*make)(reactor_core&)) {
  std::lock_guard l(ext_mu_);
  if (!ext_) ext_ = make(*this);
  return *ext_;
}

void reactor_core::close_extension() noexcept {
  extension* e;
  {
    std::lock_guard l(ext_mu_);
    e = ext_.get();
  }
  if (e) e->close();
}

reactor::poll_counts reactor_core::counts() const noexcept {
  return {busy_polls_.load(std::memory_order_relaxed), idle_polls_.load(std::memory_order_relaxed),
          blocking_polls_.load(std::memory_order_relaxed), timers_.arms()};
}

}  // namespace internal

// --- public API ---

using internal::registration_state;

registration& registration::operator=(registration&& other) noexcept {
  if (this != &other) {
    reset();
    s_ = std::exchange(other.s_, nullptr);
  }
  return *this;
}

bool registration::cancel() noexcept { return s_ ? s_->cancel() : false; }

void registration::reset() noexcept {
  if (!s_) return;
  s_->cancel();
  std::exchange(s_, nullptr)->unref();
}

reactor::reactor(runtime& rt, reactor_config cfg)
    : core_(std::make_shared<internal::reactor_core>(rt, *rt.impl_, cfg)) {
  core_->start();
}

reactor::~reactor() {
  core_->close_extension();
  core_->close();
}

runtime& reactor::rt() const noexcept { return core_->rt; }
color_t reactor::color() const noexcept { return core_->color; }
const char* reactor::backend() const noexcept { return event_base_get_method(core_->base()); }
reactor::poll_counts reactor::polls() const noexcept { return core_->counts(); }

namespace {

registration_state* new_state(const std::shared_ptr<internal::reactor_core>& owner, color_t color,
                              const handler_info& info, priority_t priority) {
  if (priority >= priority_levels) throw std::out_of_range("hue: priority out of range");
  auto* s = new registration_state;
  s->owner = owner;
  s->color = color;
  s->info = &info;
  s->priority = priority;
  return s;
}

// Adds `s->ev`; on failure frees `s` and throws.
void add_or_throw(registration_state* s, const char* what) {
  if (!s->ev || event_add(s->ev, nullptr) != 0) {
    const int err = errno;
    s->unref();
    throw std::system_error(err, std::generic_category(), std::string("hue: ") + what);
  }
}

// Queues the timer `s`, due `delay` from now and then every `period` (zero: once); on failure
// frees `s` and rethrows.
void add_timer(internal::reactor_core& r, registration_state* s, reactor::clock::duration delay,
               reactor::clock::duration period) {
  using ns = std::chrono::nanoseconds;
  if (delay < reactor::clock::duration::zero()) delay = reactor::clock::duration::zero();
  s->timer.due_ns = std::chrono::duration_cast<ns>((reactor::clock::now() + delay).time_since_epoch())
                        .count();
  s->timer.period_ns = std::chrono::duration_cast<ns>(period).count();
  try {
    r.timers().add(s);
  } catch (...) {
    s->unref();
    throw;
  }
}

}  // namespace

registration reactor::watch(int fd, io_events interest, color_t color,
                            std::function<void(io_events)> handler, watch_mode mode,
                            const handler_info& info, priority_t priority) {
  if (fd < 0) throw std::invalid_argument("hue: watch of a negative fd");
  if (!(interest & (readable | writable)) || (interest & ~(readable | writable)))
    throw std::invalid_argument("hue: watch interest must be readable, writable or both");
  registration_state* s = new_state(core_, color, info, priority);
  s->what = registration_state::kind::fd;
  s->oneshot = mode == watch_mode::oneshot;
  s->handler = [h = std::move(handler)](unsigned bits) { h(bits); };
  short flags = 0;
  if (interest & readable) flags |= EV_READ;
  if (interest & writable) flags |= EV_WRITE;
  flags |= s->oneshot ? 0 : (EV_PERSIST | EV_ET);
  s->ev = event_new(core_->base(), fd, flags, internal::on_fd_ready, s);
  add_or_throw(s, "cannot watch fd");
  return core_->make(s);
}

registration reactor::after(clock::duration delay, color_t color, std::function<void()> handler,
                            const handler_info& info, priority_t priority) {
  registration_state* s = new_state(core_, color, info, priority);
  s->what = registration_state::kind::timer;
  s->oneshot = true;
  s->handler = [h = std::move(handler)](unsigned) { h(); };
  add_timer(*core_, s, delay, clock::duration::zero());
  return core_->make(s);
}

registration reactor::every(clock::duration period, color_t color, std::function<void()> handler,
                            const handler_info& info, priority_t priority) {
  if (period <= clock::duration::zero()) throw std::invalid_argument("hue: timer period <= 0");
  registration_state* s = new_state(core_, color, info, priority);
  s->what = registration_state::kind::timer;
  s->handler = [h = std::move(handler)](unsigned) { h(); };
  add_timer(*core_, s, period, period);  // the heap schedules each tick from the previous due time
  return core_->make(s);
}

registration reactor::on_signal(int signo, color_t color, std::function<void(int)> handler,
                                const handler_info& info, priority_t priority) {
  if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
    throw std::invalid_argument("hue: cannot watch signal " + std::to_string(signo));
  registration_state* s = new_state(core_, color, info, priority);
  s->what = registration_state::kind::signal;
  s->signo = signo;
  s->handler = [h = std::move(handler)](unsigned n) { h(static_cast<int>(n)); };
  try {
    internal::subscribe_signal(s);
  } catch (...) {
    s->unref();
    throw;
  }
  return core_->make(s);
}

}  // namespace hue
