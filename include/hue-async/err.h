// err.h — libasync's diagnostics: warn, warnx, fatal, panic; setprogname and progname.
//
// Each is an object that collects a message and emits it when the statement ends. Two forms:
//
//   setprogname (argv[0]);
//   warn ("cannot open %s: %m\n", path);       // "prog: cannot open x: No such file ...\n"
//   warn << "connection " << id << " closed\n"; // << form, any type strbuf takes
//   warnx << "no prefix\n";                     // without "prog: "
//   fatal ("bad config\n");                     // "prog: fatal: bad config\n", then exit (1)
//   panic ("invariant broken\n");               // "prog: PANIC: ...", then abort ()
//
// %m prints strerror (errno) as of the warn statement (glibc's printf implements it). errno is
// preserved across a warn.
//
// Output is line-buffered, on errfd (2): complete lines go out at the end of the statement that
// completes them; a message without a trailing '\n' waits for the next one, and whatever is left
// is flushed at exit (and before fatal/panic end the program). Safe from two colors at once: one
// mutex guards the pending text and each flush of complete lines is a single write(2) call made
// under it, so lines from different colors never interleave. A non-blocking errfd is waited on
// with poll() rather than dropping text.
#ifndef _ASYNC_ERR_H_
#define _ASYNC_ERR_H_ 1

#include "str.h"

extern bssstr progname;
extern str progdir;
extern void (*fatalhook) ();  // runs before fatal exits
extern int errfd;

void setprogname (const char *argv0);
void setprogpid (int pid);
// Writes out any pending partial line now (hue addition; exit does it too).
void err_flush ();

// The C-style forms of old SFS code.
extern "C" {
void sfs_warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void sfs_warnx (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
void sfs_vwarn (const char *fmt, va_list ap);
void sfs_vwarnx (const char *fmt, va_list ap);
}

class warnobj : public strbuf {
protected:
  const int flags;
  int saved_errno;

public:
  enum { xflag = 1, fatalflag = 2, panicflag = 4, timeflag = 8 };
  explicit warnobj (int flags);
  ~warnobj ();
  const warnobj &operator() (const char *fmt, ...) const __attribute__ ((format (printf, 2, 3)));
};

// fatal and panic never return: the destructor of the temporary ends the program.
class fatalobj : public warnobj {
public:
  explicit fatalobj (int f) : warnobj (f) {}
  [[noreturn]] ~fatalobj ();
};

template<class T> inline const warnobj &operator<< (const warnobj &w, const T &a)
{
  strbuf_cat (w, a);
  return w;
}
inline const warnobj &operator<< (const warnobj &w, const str &s)
{
  if (s)
    strbuf_cat (w, s);
  else
    w.cat ("(null)");
  return w;
}
inline const warnobj &operator<< (const warnobj &w, const char *p)
{
  w.cat (p);
  return w;
}

#define warn warnobj (0)
#define warnx warnobj (int (::warnobj::xflag))
#define warnt warnobj (int (::warnobj::timeflag))
#define vwarn warn.vfmt
#define vwarnx warnx.vfmt
#define fatal fatalobj (int (::warnobj::fatalflag))
#define panic fatalobj (int (::warnobj::panicflag))

#endif
