// async.h — libasync's event loop on hue: amain, fdcb, timecb, delaycb, sigcb, chldcb, lazycb,
// tcpconnect, the cached clock (timenow/tsnow), and libasync-smp style colors (cwrap, cpucb).
//
//   void readable (int fd) { ... }
//   int main () { make_async (0); fdcb (0, selread, wrap (readable, 0)); amain (); }
//
// How it runs (lib/async/core.cpp says more): amain() turns the calling thread into the *loop
// thread*, libasync's single thread. It waits with ppoll() over the fd table, the timer queue and a
// wake pipe, and runs every uncolored callback itself, so an unported program keeps the
// single-threaded semantics it was written for. A *colored* callback (cwrap, colorize) is posted
// to the hue runtime on its color when the loop fires it: callbacks of one color never run at the
// same time and run in order; different colors run in parallel on hue's workers. The loop's
// tables (fds, timers, signals, children, lazy callbacks) are guarded by one mutex, so fdcb,
// timecb, ... may be called from colored callbacks too.
//
// Both generations of fdcb: SFS 0.8's function `fdcb (fd, op, cb)` and sfslite's macro that
// records the caller's file and line (`_fdcb`). Every call `fdcb (a, b, c)` goes through the
// macro; `(fdcb)` names the plain function (e.g. to take its address).
#ifndef _ASYNC_ASYNC_H_
#define _ASYNC_ASYNC_H_ 1

#include "sysconf.h"
#include "amisc.h"
#include "callback.h"
#include "err.h"
#include "refcnt.h"
#include "str.h"
#include "suio++.h"
#include "vec.h"

#include <time.h>

struct timecb_t;
struct lazycb_t;
struct tcpconnect_t;

// --- the loop ---
void amain () __attribute__ ((noreturn));  // runs the loop forever; exit() from any callback
void acheck ();                            // one pass of the loop (may wait for the next event)

// fdcb: level-triggered, persistent until replaced or cleared with NULL. A callback may clear or
// replace itself, or drop the last reference to its own object, while it runs. An fd closed while
// a callback is still registered is reported: a warning naming the fd, and its callbacks cleared.
void _fdcb (int fd, selop op, cbv::ptr cb, const char *file = NULL, int line = -1);
void (fdcb) (int fd, selop op, cbv::ptr cb);
#define fdcb(f, s, c) _fdcb (f, s, c, __FILE__, __LINE__)

// timecb: at an absolute CLOCK_REALTIME time; never early; equal times run in the order added;
// a timer added while the loop is running timers waits for the next pass. timecb_remove cancels
// a timer that has not started running yet (for a colored one: until its color runs it); after the
// callback has started, the timecb_t is gone and must not be removed.
timecb_t *timecb (const timespec &ts, cbv cb);
timecb_t *delaycb (time_t sec, u_int32_t nsec, cbv cb);
void timecb_remove (timecb_t *t);
inline timecb_t *
timecb (time_t tm, cbv cb)
{
  timespec ts = {tm, 0};
  return timecb (ts, cb);
}
inline timecb_t *
delaycb (time_t sec, cbv cb)
{
  return delaycb (sec, 0, cb);
}

// sigcb: returns the previous callback; NULL restores the default action. Deliveries between two
// passes collapse into one call, made from the loop (never from the signal handler).
cbv::ptr sigcb (int sig, cbv::ptr cb, int flags = 0);
// chldcb: cb gets the child's wait status once, after it has been reaped. NULL unregisters. Only
// registered children are reaped (a child run by system() is left to its waiter). Where cb runs:
// a colored cb on its color; an uncolored cb registered from inside a colored callback on that
// caller's color (an object kept on one color sees its child's exit there, as aiod's completions
// do); any other on the loop thread.
void chldcb (pid_t pid, callback<void, int>::ptr cb);
// lazycb: runs cb from the loop at most once every min_interval seconds, until removed.
lazycb_t *lazycb (time_t min_interval, cbv cb);
void lazycb_remove (lazycb_t *l);

// --- the cached clock, refreshed at every pass of the loop ---
// Two generations disagree here. SFS 0.8's async.h declared the globals `timespec tsnow` and
// `const time_t &timenow`, and its programs read them. sfslite dropped both in 2007 (in favour of
// sfs_get_tsnow ()), and programs written after that often define a function of the same name,
// `timespec tsnow ()`, which no declaration scheme can reconcile with a global variable: a
// function and a variable of one name in one scope are ill-formed, and hiding the variable in a
// namespace pulled in by `using` makes every call `tsnow ()` ambiguous instead. So the globals
// are the default (SFS 0.8's shape) and a program of the later shape defines
// HUE_ASYNC_NO_CLOCK_GLOBALS before including async.h (or passes -DHUE_ASYNC_NO_CLOCK_GLOBALS);
// the sfs_get_* functions exist in both shapes.
//
// The globals are references to storage of the library's own name, so no symbol named `tsnow`
// or `timenow` comes from the library: a program of the later shape may define its own objects
// of those names without a clash at link time. timenow is read-only, as SFS 0.8 declared it.
// Hazard: the loop thread rewrites the storage at every pass; a colored callback on another
// worker that reads tsnow races with it, so colored code calls sfs_get_tsnow () instead.
namespace hue_async_detail {
extern timespec clock_ts;
extern time_t clock_sec;
}  // namespace hue_async_detail
#ifndef HUE_ASYNC_NO_CLOCK_GLOBALS
inline timespec &tsnow = hue_async_detail::clock_ts;
inline const time_t &timenow = hue_async_detail::clock_sec;
#endif
time_t sfs_get_timenow (bool refresh = false);
timespec sfs_get_tsnow (bool refresh = false);
void sfs_get_tsnow (timespec *ts, bool refresh = false);  // sfslite's second form
void sfs_set_global_timestamp ();

// --- tcpconnect: cb gets a connected, non-blocking fd or -1 (errno set). By name: resolved
// with getaddrinfo (so /etc/hosts and nsswitch apply) on a helper thread, never on the loop.
tcpconnect_t *tcpconnect (in_addr addr, u_int16_t port, cbi cb);
tcpconnect_t *tcpconnect (str hostname, u_int16_t port, cbi cb, bool dnssearch = true,
                          str *namep = NULL);
void tcpconnect_cancel (tcpconnect_t *tc);

// --- colors (libasync-smp) ---
// A color is hue's: callbacks of one color run one at a time, in order; different colors may run
// in parallel. Color 0 is hue's default color; uncolored callbacks run on the loop thread.
typedef u_int64_t cbcolor_t;

namespace hue_async_detail {
// Posts job to the hue runtime on `color` (the runtime is started on first use; its size is
// HUE_WORKERS or one worker per core).
void post_colored (cbcolor_t color, callback<void>::ref job);
// The color of the colored callback running on the calling thread (false on the loop thread, on
// any other thread, and in handlers of a runtime other than the layer's own).
bool running_color (cbcolor_t *c);

// What the loop looks for to know a callback is colored (so a level-triggered fd is not fired
// again while its colored callback is still queued).
class colored_base {
public:
  cbcolor_t cbcolor;
  virtual ~colored_base () = default;
  virtual callback<void>::ref bind_now () = 0;  // only for the zero-argument form
};

template<class... B>
class colored_closure : public callback_t<void, B...>, public colored_base {
  typename callback_t<void, B...>::ref inner_;

public:
  colored_closure (cbcolor_t c, typename callback_t<void, B...>::ref in) : inner_ (in)
  {
    cbcolor = c;
  }
  // Calling a colored callback posts it: the arguments are copied now, the call happens on the
  // color. A result cannot come back, hence void only.
  void operator() (B... b) override
  {
    post_colored (cbcolor, bind_args (b...));
  }
  callback<void>::ref bind_args (B... b)
  {
    auto in = inner_;
    return mkcallback<void> ([in, b...] () { (*in) (b...); });
  }
  callback<void>::ref bind_now () override
  {
    if constexpr (sizeof...(B) == 0)
      return bind_args ();
    else
      panic ("colored callback with arguments fired as a cbv\n");
  }
};
}  // namespace hue_async_detail

namespace hue_async_detail {
template<class Cb> struct colored_for;
template<> struct colored_for<callback<void>> { using type = colored_closure<>; };
template<class B1> struct colored_for<callback<void, B1>> { using type = colored_closure<B1>; };
template<class B1, class B2> struct colored_for<callback<void, B1, B2>> {
  using type = colored_closure<B1, B2>;
};
template<class B1, class B2, class B3> struct colored_for<callback<void, B1, B2, B3>> {
  using type = colored_closure<B1, B2, B3>;
};
}  // namespace hue_async_detail

// colorize (c, cb): the same callback, run on color c whenever it is called.
template<class Cb>
inline typename Cb::ref
colorize (cbcolor_t c, const ::ref<Cb> &cb)
{
  return New refcounted<typename hue_async_detail::colored_for<Cb>::type> (c, cb);
}
// cwrap (c, f, args...): wrap (f, args...) with a color.
template<class... A>
inline auto
cwrap (cbcolor_t c, A &&...a)
{
  return colorize (c, wrap (std::forward<A> (a)...));
}
// The color of cb, or 0 (and false) when it is uncolored.
bool cbcolor_of (const callback<void>::ptr &cb, cbcolor_t *c = NULL);
// cpucb: run cb soon. Colored: posted now on its color. Uncolored: run by the loop at its next
// pass, after I/O readiness has been checked (so a cpucb loop cannot starve I/O).
void cpucb (cbv cb);
// A fresh color from the runtime (never handed out twice), for per-object colors.
cbcolor_t new_cbcolor ();

#endif
