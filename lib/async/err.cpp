// warn, fatal, panic and the line-buffered error output behind them (include/hue-async/err.h).
#include "err.h"

#include <poll.h>

#include <mutex>
#include <string>

#undef warn
#undef warnx
#undef warnt
#undef vwarn
#undef vwarnx
#undef fatal
#undef panic

bssstr progname;
str progdir;
void (*fatalhook) ();
int errfd = 2;

namespace {

// The pending text of every color's warnings. Allocated once and never freed: warnings from
// static destructors must still find it after exit's handlers ran.
struct err_sink {
  std::mutex mu;
  std::string pending;
  bool at_exit = false;  // after the exit flush: write everything straight away

  // Writes all of [p, p+n) to errfd. Called with mu held, so one flush is one uninterrupted run
  // of write() calls (one call for anything a pipe takes atomically).
  static void write_all (const char *p, size_t n) {
    while (n) {
      ssize_t w = ::write (errfd, p, n);
      if (w > 0) {
        p += w;
        n -= size_t (w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd pfd {errfd, POLLOUT, 0};
        ::poll (&pfd, 1, 1000);
      } else {
        return;  // closed or broken stderr: nowhere left to report to
      }
    }
  }

  void add (const char *p, size_t n, bool everything) {
    std::lock_guard<std::mutex> lock (mu);
    pending.append (p, n);
    size_t upto = everything || at_exit ? pending.size () : pending.rfind ('\n');
    if (upto == std::string::npos)
      return;
    if (!everything && !at_exit)
      upto++;  // include the '\n'
    write_all (pending.data (), upto);
    pending.erase (0, upto);
  }
};

err_sink &
sink ()
{
  static err_sink *s = [] {
    auto *n = new err_sink;
    atexit ([] {
      err_sink &k = sink ();
      std::lock_guard<std::mutex> lock (k.mu);
      k.at_exit = true;
      err_sink::write_all (k.pending.data (), k.pending.size ());
      k.pending.clear ();
    });
    return n;
  }();
  return *s;
}

// Registers the exit flush before main runs, so it exists even if the first warn comes late.
[[maybe_unused]] const bool sink_ready = (sink (), true);

bssstr progpid;

}  // namespace

void
err_flush ()
{
  sink ().add ("", 0, true);
}

void
setprogname (const char *argv0)
{
  const char *slash = strrchr (argv0, '/');
  const char *base = slash ? slash + 1 : argv0;
  // libtool's wrapper scripts run the real binary as lt-<name>.
  if (!strncmp (base, "lt-", 3))
    base += 3;
  progname = base;
  if (slash)
    progdir.setbuf (argv0, size_t (slash + 1 - argv0));
  else
    progdir = nullptr;
}

void
setprogpid (int pid)
{
  progpid = strbuf ("%d", pid);
}

warnobj::warnobj (int f) : flags (f), saved_errno (errno)
{
  if (flags & timeflag) {
    timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    fmt ("%ld.%06ld ", long (ts.tv_sec), long (ts.tv_nsec / 1000));
  }
  if (!(flags & xflag) && progname) {
    cat (progname);
    if (progpid)
      cat ("[").cat (progpid).cat ("]");
    cat (": ");
  }
  if (flags & panicflag)
    cat ("PANIC: ");
  else if (flags & fatalflag)
    cat ("fatal: ");
  errno = saved_errno;
}

const warnobj &
warnobj::operator() (const char *f, ...) const
{
  errno = saved_errno;  // %m: the error as of the warn statement
  va_list ap;
  va_start (ap, f);
  vfmt (f, ap);
  va_end (ap);
  return *this;
}

warnobj::~warnobj ()
{
  suio *u = tosuio ();
  bool ending = flags & (fatalflag | panicflag);
  sink ().add (u->data (), u->resid (), ending);
  u->clear ();
  errno = saved_errno;
}

fatalobj::~fatalobj ()
{
  // ~warnobj has not run yet (it runs after this body), so emit here.
  suio *u = tosuio ();
  sink ().add (u->data (), u->resid (), true);
  u->clear ();
  if (flags & panicflag)
    abort ();
  if (fatalhook)
    fatalhook ();
  exit (1);
}

extern "C" void
sfs_vwarn (const char *f, va_list ap)
{
  warnobj w (0);
  w.vfmt (f, ap);
}

extern "C" void
sfs_vwarnx (const char *f, va_list ap)
{
  warnobj w (warnobj::xflag);
  w.vfmt (f, ap);
}

extern "C" void
sfs_warn (const char *f, ...)
{
  va_list ap;
  va_start (ap, f);
  sfs_vwarn (f, ap);
  va_end (ap);
}

extern "C" void
sfs_warnx (const char *f, ...)
{
  va_list ap;
  va_start (ap, f);
  sfs_vwarnx (f, ap);
  va_end (ap);
}
