// The libasync event loop on hue: fdcb, timecb, sigcb, chldcb, lazycb, cpucb, amain and acheck.
//
// Design (docs/design.md, "libasync's loop on hue"): the thread that calls amain() is the *loop
// thread*. It waits in ppoll() on the registered fds plus a wake eventfd, with the timeout of the
// earliest timer, and runs uncolored callbacks itself: an unported program sees libasync's one
// thread. Colored callbacks (async.h: cwrap/colorize) are posted to a hue runtime on their color.
//
// Why poll() and not hue's reactor: libasync's fdcb is level-triggered and must notice an fd that
// was closed while still registered. poll() is level-triggered by nature and reports such an fd
// as POLLNVAL; hue's reactor is edge-style epoll, where a closed fd silently leaves the interest
// set. The price is O(registered fds) per pass, libasync's own price with select().
//
// Hazards: the tables below are touched by colored callbacks on hue's worker threads, so one mutex
// guards them; it is never held while a user callback runs (callbacks re-enter fdcb/timecb). The
// state is allocated once and never destroyed: exit() may come from any callback, on any thread,
// while other threads are still inside the loop's tables.
#include <hue/runtime.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "async.h"

namespace hue_async_detail {
timespec clock_ts;  // tsnow and timenow in async.h refer to these
time_t clock_sec;
}  // namespace hue_async_detail

struct timecb_t {
  timespec ts;
  u_int64_t seq;  // FIFO among equal times, and "added during this pass"
  cbv cb;
  enum { queued, posted, running, removed } state = queued;
  timecb_t (const timespec &t, u_int64_t s, cbv c) : ts (t), seq (s), cb (c) {}
};

struct lazycb_t {
  time_t interval;
  time_t last;
  cbv cb;
  bool removed = false;
  lazycb_t (time_t i, time_t l, cbv c) : interval (i), last (l), cb (c) {}
};

namespace {

struct timer_order {
  bool operator() (const timecb_t *a, const timecb_t *b) const
  {
    int c = tscmp (a->ts, b->ts);
    return c ? c < 0 : a->seq < b->seq;
  }
};

struct fdslot {
  cbv::ptr cb[2];
  bool busy[2] = {false, false};  // a colored callback for it is queued or running
  const char *file[2] = {nullptr, nullptr};
  int line[2] = {-1, -1};
};

struct loop_state {
  std::mutex mu;
  std::vector<fdslot> fds;
  std::set<timecb_t *, timer_order> timers;
  u_int64_t next_seq = 0;
  std::vector<cbv> cpuq;
  // A child's callback and where it runs: an uncolored callback registered from a colored one
  // runs on that caller's color (as aiod's completions do), any other as it is.
  struct child_waiter {
    callback<void, int>::ref cb;
    bool on_caller_color;
    cbcolor_t color;
  };
  std::map<pid_t, child_waiter> children;
  bool chld_check = false;
  std::vector<lazycb_t *> lazies;
  cbv::ptr sigcbs[NSIG];
  int wakefd = -1;
  std::atomic<bool> asleep {false};

  loop_state ()
  {
    wakefd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakefd < 0)
      fatal ("eventfd: %s\n", strerror (errno));
  }
};

// Allocated once, never freed (see the header comment).
loop_state &
L ()
{
  static loop_state *s = new loop_state;
  return *s;
}

// Set by the signal handler, read and cleared by the loop thread. Atomic, not volatile
// sig_atomic_t: the handler runs on whichever thread the kernel picks (a hue worker, when SIGCHLD
// arrives while the loop sleeps), and volatile orders nothing between threads (ThreadSanitizer,
// async_spawn_colors). Lock-free atomics are safe in a signal handler.
std::atomic<int> sig_pending[NSIG];
static_assert (std::atomic<int>::is_always_lock_free);
std::atomic<int> wake_fd_for_signals {-1};

void
wake_loop ()
{
  loop_state &l = L ();
  if (l.asleep.load (std::memory_order_acquire)) {
    u_int64_t one = 1;
    ssize_t r = write (l.wakefd, &one, sizeof one);
    (void) r;  // EAGAIN: the counter is already non-zero, the loop wakes anyway
  }
}

void
drain_wake ()
{
  u_int64_t v;
  ssize_t r = read (L ().wakefd, &v, sizeof v);
  (void) r;
}

extern "C" void
async_sighandler (int sig)
{
  int saved = errno;
  sig_pending[sig] = 1;
  int fd = wake_fd_for_signals.load (std::memory_order_relaxed);
  if (fd >= 0) {
    u_int64_t one = 1;
    ssize_t r = write (fd, &one, sizeof one);
    (void) r;
  }
  errno = saved;
}

void
install_handler (int sig)
{
  wake_fd_for_signals.store (L ().wakefd);
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = async_sighandler;
  sigemptyset (&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction (sig, &sa, nullptr) < 0)
    fatal ("sigaction (%d): %s\n", sig, strerror (errno));
}

std::once_flag rt_once;
// Never destroyed, like the loop state. Atomic: running_color reads it from threads that may not
// have gone through rt_once.
std::atomic<hue::runtime *> rt {nullptr};

hue::runtime &
runtime ()
{
  std::call_once (rt_once, [] { rt.store (new hue::runtime (), std::memory_order_release); });
  return *rt.load (std::memory_order_acquire);
}

constexpr hue::handler_info colored_info {.name = "libasync colored callback"};

void
clock_refresh ()
{
  clock_gettime (CLOCK_REALTIME, &hue_async_detail::clock_ts);
  hue_async_detail::clock_sec = hue_async_detail::clock_ts.tv_sec;
}

hue_async_detail::colored_base *
colored (const callback<void>::ptr &cb)
{
  return dynamic_cast<hue_async_detail::colored_base *> (cb.get ());
}

}  // namespace

// ---- colors ----
void
hue_async_detail::post_colored (cbcolor_t color, callback<void>::ref job)
{
  runtime ().post (color, [job] () mutable { (*job) (); }, colored_info);
}

bool
hue_async_detail::running_color (cbcolor_t *c)
{
  hue::runtime *cur = hue::runtime::current ();
  if (!cur || cur != rt.load (std::memory_order_acquire))
    return false;
  std::optional<hue::color_t> col = hue::runtime::current_color ();
  if (!col)
    return false;
  *c = cbcolor_t (*col);
  return true;
}

bool
cbcolor_of (const callback<void>::ptr &cb, cbcolor_t *c)
{
  auto *cb_col = cb ? colored (cb) : nullptr;
  if (c)
    *c = cb_col ? cb_col->cbcolor : 0;
  return cb_col;
}

cbcolor_t
new_cbcolor ()
{
  return runtime ().new_color ();
}

void
cpucb (cbv cb)
{
  if (colored (cb)) {
    (*cb) ();
    return;
  }
  loop_state &l = L ();
  {
    std::lock_guard<std::mutex> g (l.mu);
    l.cpuq.push_back (cb);
  }
  wake_loop ();
}

// ---- clock ----
void
sfs_set_global_timestamp ()
{
  clock_refresh ();
}

time_t
sfs_get_timenow (bool refresh)
{
  if (refresh || !timenow)
    clock_refresh ();
  return timenow;
}

timespec
sfs_get_tsnow (bool refresh)
{
  if (refresh || !timenow)
    clock_refresh ();
  return tsnow;
}

void
sfs_get_tsnow (timespec *ts, bool refresh)
{
  *ts = sfs_get_tsnow (refresh);
}

// ---- fdcb ----
void
_fdcb (int fd, selop op, cbv::ptr cb, const char *file, int line)
{
  if (fd < 0 || (op != selread && op != selwrite))
    panic ("fdcb: bad fd %d or op %d\n", fd, int (op));
  loop_state &l = L ();
  {
    std::lock_guard<std::mutex> g (l.mu);
    if (size_t (fd) >= l.fds.size ()) {
      if (!cb)
        return;
      l.fds.resize (fd + 1);
    }
    fdslot &s = l.fds[fd];
    s.cb[op] = cb;
    s.file[op] = file;
    s.line[op] = line;
  }
  wake_loop ();
}

void (fdcb) (int fd, selop op, cbv::ptr cb)
{
  _fdcb (fd, op, cb, nullptr, -1);
}

// ---- timecb ----
timecb_t *
timecb (const timespec &ts, cbv cb)
{
  loop_state &l = L ();
  timecb_t *t;
  {
    std::lock_guard<std::mutex> g (l.mu);
    t = new timecb_t (ts, l.next_seq++, cb);
    l.timers.insert (t);
  }
  wake_loop ();
  return t;
}

timecb_t *
delaycb (time_t sec, u_int32_t nsec, cbv cb)
{
  timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  timespec d = {sec + time_t (nsec / 1000000000), long (nsec % 1000000000)};
  return timecb (now + d, cb);
}

void
timecb_remove (timecb_t *t)
{
  if (!t)
    return;
  loop_state &l = L ();
  std::lock_guard<std::mutex> g (l.mu);
  switch (t->state) {
  case timecb_t::queued:
    l.timers.erase (t);
    delete t;
    break;
  case timecb_t::posted:  // colored, not started: the queued job sees this and drops it
    t->state = timecb_t::removed;
    break;
  default:  // running: removing oneself from inside the callback is harmless
    break;
  }
}

// ---- lazycb ----
lazycb_t *
lazycb (time_t min_interval, cbv cb)
{
  loop_state &l = L ();
  lazycb_t *z;
  {
    std::lock_guard<std::mutex> g (l.mu);
    z = new lazycb_t (min_interval, sfs_get_timenow (true), cb);
    l.lazies.push_back (z);
  }
  wake_loop ();
  return z;
}

void
lazycb_remove (lazycb_t *z)
{
  if (!z)
    return;
  loop_state &l = L ();
  std::lock_guard<std::mutex> g (l.mu);
  auto it = std::find (l.lazies.begin (), l.lazies.end (), z);
  if (it != l.lazies.end ())
    l.lazies.erase (it);
  z->removed = true;
  delete z;
}

// ---- signals and children ----
cbv::ptr
sigcb (int sig, cbv::ptr cb, int flags)
{
  (void) flags;
  if (sig <= 0 || sig >= NSIG)
    panic ("sigcb: bad signal %d\n", sig);
  loop_state &l = L ();
  cbv::ptr old;
  {
    std::lock_guard<std::mutex> g (l.mu);
    old = l.sigcbs[sig];
    l.sigcbs[sig] = cb;
  }
  if (cb)
    install_handler (sig);
  else if (sig != SIGCHLD || L ().children.empty ()) {
    sig_pending[sig] = 0;
    signal (sig, SIG_DFL);
  }
  return old;
}

void
chldcb (pid_t pid, callback<void, int>::ptr cb)
{
  loop_state &l = L ();
  {
    std::lock_guard<std::mutex> g (l.mu);
    if (cb) {
      loop_state::child_waiter w {callback<void, int>::ref (cb), false, 0};
      if (!dynamic_cast<hue_async_detail::colored_base *> (cb.get ()))
        w.on_caller_color = hue_async_detail::running_color (&w.color);
      l.children.insert_or_assign (pid, w);
      l.chld_check = true;  // it may have exited before we were told about it
    } else
      l.children.erase (pid);
  }
  if (cb)
    install_handler (SIGCHLD);
  wake_loop ();
}

// ---- the pass ----
namespace {

// Runs a fired fd callback: uncolored here; colored on its color, with the fd left out of poll()
// until it has run (level-triggered readiness would otherwise post it again on every pass).
void
run_fd (int fd, int op, cbv::ptr cb)
{
  if (auto *c = colored (cb)) {
    loop_state &l = L ();
    {
      std::lock_guard<std::mutex> g (l.mu);
      l.fds[fd].busy[op] = true;
    }
    callback<void>::ref job = c->bind_now ();
    hue_async_detail::post_colored (c->cbcolor, mkcallback<void> ([job, fd, op] () {
                                      (*job) ();
                                      loop_state &l = L ();
                                      {
                                        std::lock_guard<std::mutex> g (l.mu);
                                        l.fds[fd].busy[op] = false;
                                      }
                                      wake_loop ();
                                    }));
    return;
  }
  (*cb) ();
}

void
run_timer (timecb_t *t)
{
  loop_state &l = L ();
  if (auto *c = colored (t->cb)) {
    callback<void>::ref job = c->bind_now ();
    hue_async_detail::post_colored (c->cbcolor, mkcallback<void> ([t, job] () {
                                      loop_state &l = L ();
                                      {
                                        std::lock_guard<std::mutex> g (l.mu);
                                        if (t->state == timecb_t::removed) {
                                          delete t;
                                          return;
                                        }
                                        t->state = timecb_t::running;
                                      }
                                      (*job) ();
                                      std::lock_guard<std::mutex> g (l.mu);
                                      delete t;
                                    }));
    return;
  }
  (*t->cb) ();
  std::lock_guard<std::mutex> g (l.mu);
  delete t;
}

// Timers due now that were added before this timer phase began; FIFO among equal times.
void
timers_check ()
{
  loop_state &l = L ();
  clock_refresh ();
  u_int64_t limit;
  {
    std::lock_guard<std::mutex> g (l.mu);
    limit = l.next_seq;
  }
  for (;;) {
    timecb_t *t = nullptr;
    {
      std::lock_guard<std::mutex> g (l.mu);
      for (auto it = l.timers.begin (); it != l.timers.end () && (*it)->ts <= tsnow; ++it)
        if ((*it)->seq < limit) {
          t = *it;
          l.timers.erase (it);
          t->state = colored (t->cb) ? timecb_t::posted : timecb_t::running;
          break;
        }
    }
    if (!t)
      return;
    run_timer (t);
  }
}

void
fds_poll (int timeout_ms_unused, const timespec *timeout)
{
  (void) timeout_ms_unused;
  loop_state &l = L ();
  // Reused across passes (only the loop thread polls): no allocation per pass.
  // Never destroyed, like the rest of the loop's state: exit() from a colored callback runs the
  // static destructors on that worker while this thread may still be in ppoll() on these entries
  // (ThreadSanitizer caught it in AsyncColors.ExitFromAColoredCallbackIsSafe).
  static std::vector<pollfd>& pfds = *new std::vector<pollfd>;
  pfds.clear ();
  timespec zero = {0, 0};
  {
    std::lock_guard<std::mutex> g (l.mu);
    pfds.push_back ({l.wakefd, POLLIN, 0});
    for (size_t fd = 0; fd < l.fds.size (); fd++) {
      fdslot &s = l.fds[fd];
      short ev = 0;
      if (s.cb[selread] && !s.busy[selread])
        ev |= POLLIN;
      if (s.cb[selwrite] && !s.busy[selwrite])
        ev |= POLLOUT;
      if (ev)
        pfds.push_back ({int (fd), ev, 0});
    }
    l.asleep.store (true, std::memory_order_release);
    // Re-checked under the lock: anything queued before `asleep` was set must not wait for poll.
    if (!l.cpuq.empty () || l.chld_check)
      timeout = &zero;
  }
  for (int s = 1; s < NSIG; s++)
    if (sig_pending[s])
      timeout = &zero;
  int n = ppoll (pfds.data (), pfds.size (), timeout, nullptr);
  l.asleep.store (false, std::memory_order_release);
  if (n < 0) {
    if (errno != EINTR)
      warn ("ppoll: %s\n", strerror (errno));
    return;
  }
  clock_refresh ();
  if (pfds[0].revents)
    drain_wake ();
  for (size_t i = 1; i < pfds.size () && n > 0; i++) {
    const pollfd &p = pfds[i];
    if (!p.revents)
      continue;
    if (p.revents & POLLNVAL) {
      // Closed while registered: epoll would forget it silently; libasync programs expect the
      // loop to notice. Report and clear, so the loop does not spin on it.
      const char *f;
      int ln;
      {
        std::lock_guard<std::mutex> g (l.mu);
        fdslot &s = l.fds[p.fd];
        f = s.file[selread] ? s.file[selread] : s.file[selwrite];
        ln = s.file[selread] ? s.line[selread] : s.line[selwrite];
        s.cb[selread] = s.cb[selwrite] = nullptr;
      }
      if (f)
        warn ("fdcb: fd %d was closed with callbacks registered (%s:%d); cleared them\n", p.fd, f,
              ln);
      else
        warn ("fdcb: fd %d was closed with callbacks registered; cleared them\n", p.fd);
      continue;
    }
    for (int op = selread; op <= selwrite; op++) {
      short want = op == selread ? (POLLIN | POLLHUP | POLLERR) : (POLLOUT | POLLHUP | POLLERR);
      if (!(p.revents & want) || !(p.events & (op == selread ? POLLIN : POLLOUT)))
        continue;
      cbv::ptr cb;
      {
        // An earlier callback of this pass may have cleared or replaced it.
        std::lock_guard<std::mutex> g (l.mu);
        fdslot &s = l.fds[p.fd];
        if (s.busy[op])
          continue;
        cb = s.cb[op];
      }
      if (cb)
        run_fd (p.fd, op, cb);  // our reference keeps it alive if it clears itself
    }
  }
}

void
signals_check ()
{
  loop_state &l = L ();
  for (int s = 1; s < NSIG; s++) {
    if (!sig_pending[s])
      continue;
    sig_pending[s] = 0;
    cbv::ptr cb;
    {
      std::lock_guard<std::mutex> g (l.mu);
      cb = l.sigcbs[s];
      if (s == SIGCHLD)
        l.chld_check = true;
    }
    if (cb)
      (*cb) ();
  }
}

void
children_check ()
{
  loop_state &l = L ();
  std::vector<std::pair<loop_state::child_waiter, int>> done;
  {
    std::lock_guard<std::mutex> g (l.mu);
    if (!l.chld_check)
      return;
    l.chld_check = false;
    for (auto it = l.children.begin (); it != l.children.end ();) {
      int status;
      pid_t r = waitpid (it->first, &status, WNOHANG);
      if (r == it->first || (r < 0 && errno == ECHILD)) {
        if (r == it->first)
          done.emplace_back (it->second, status);
        else
          warn ("chldcb: pid %d is not our child (or was reaped elsewhere)\n", int (it->first));
        it = l.children.erase (it);
      } else
        ++it;
    }
  }
  for (auto &d : done) {
    const loop_state::child_waiter &w = d.first;
    if (w.on_caller_color) {
      callback<void, int>::ref cb = w.cb;
      int status = d.second;
      hue_async_detail::post_colored (w.color, mkcallback<void> ([cb, status] () { (*cb) (status); }));
    } else
      (*w.cb) (d.second);  // a colored callback posts itself on its color
  }
}

void
lazies_check ()
{
  loop_state &l = L ();
  std::vector<lazycb_t *> due;
  {
    std::lock_guard<std::mutex> g (l.mu);
    for (lazycb_t *z : l.lazies)
      if (timenow >= z->last + z->interval)
        due.push_back (z);
  }
  for (lazycb_t *z : due) {
    cbv::ptr cb;
    {
      std::lock_guard<std::mutex> g (l.mu);
      if (std::find (l.lazies.begin (), l.lazies.end (), z) == l.lazies.end ())
        continue;  // removed by an earlier one
      z->last = timenow;
      cb = z->cb;
    }
    (*cb) ();
  }
}

void
cpuq_run ()
{
  loop_state &l = L ();
  std::vector<cbv> q;
  {
    std::lock_guard<std::mutex> g (l.mu);
    q.swap (l.cpuq);
  }
  for (cbv &cb : q)
    (*cb) ();
}

// How long the next poll may wait: until the earliest timer or lazy callback; zero when work is
// already queued; a day when there is nothing (libasync's own bound).
timespec
next_wait ()
{
  loop_state &l = L ();
  clock_refresh ();
  timespec wait = {86400, 0};
  std::lock_guard<std::mutex> g (l.mu);
  if (!l.cpuq.empty () || l.chld_check)
    return {0, 0};
  if (!l.timers.empty ()) {
    const timespec &ts = (*l.timers.begin ())->ts;
    if (ts <= tsnow)
      return {0, 0};
    timespec d = ts - tsnow;
    if (d < wait)
      wait = d;
  }
  for (lazycb_t *z : l.lazies) {
    time_t due = z->last + z->interval;
    timespec d = due <= timenow ? timespec {0, 0} : timespec {due - timenow, 0};
    if (d < wait)
      wait = d;
  }
  return wait;
}

}  // namespace

void
acheck ()
{
  timespec wait = next_wait ();
  fds_poll (0, &wait);
  signals_check ();
  children_check ();
  timers_check ();
  lazies_check ();
  cpuq_run ();
}

void
amain ()
{
  clock_refresh ();
  for (;;)
    acheck ();
}
