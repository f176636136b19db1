// amisc.h — libasync's grab bag: the common callback types (cbv, cbi, cbs, cbb and their do-nothing
// _null values), timespec arithmetic and comparison, and the socket helpers' declarations.
//
//   void listen_done (int fd);
//   cbi cb = wrap (listen_done);
//   timespec later = now + timespec {1, 0};   if (later > now) ...
//
// The socket helpers (inetsocket, make_async, ...) are declared here, where libasync declared
// them, and implemented with the event loop in lib/async.
#ifndef _ASYNC_AMISC_H_
#define _ASYNC_AMISC_H_ 1

#include "sysconf.h"
#include "callback.h"
#include "err.h"
#include "keyfunc.h"
#include "rwfd.h"    // as libasync's amisc.h did: readfd/writefd without an include of their own
#include "serial.h"  // libasync's amisc.h brought file2str/str2file in; programs rely on it
#include "str.h"
#include "vec.h"

typedef callback<void>::ref cbv;
typedef callback<void, int>::ref cbi;
typedef callback<void, str>::ref cbs;
typedef callback<void, bool>::ref cbb;
// Callbacks that do nothing, for "no continuation" (defined in lib/async/cbnull.cpp).
extern cbv cbv_null;
extern cbi cbi_null;
extern cbs cbs_null;
extern cbb cbb_null;

// --- socket helpers (implemented with the event loop) ---
enum selop { selread = 0, selwrite = 1 };
extern in_addr inet_bindaddr;
// A socket of `type` bound to addr:port (host byte order, SO_REUSEADDR); not listening, blocking.
int inetsocket (int type, u_int16_t port = 0, u_int32_t addr = INADDR_ANY);
int unixsocket (const char *path);
int unixsocket_connect (const char *path);
bool isunixsocket (int fd);
void close_on_exec (int fd, bool set = true);
int _make_async (int fd);
void make_async (int fd);
void make_sync (int fd);
void tcp_nodelay (int fd);
void tcp_abort (int fd);
// fdwait: blocks until fd is readable (r) or writable (w), or *tvp has passed (NULL: no limit).
// Returns select's count (a descriptor ready for both counts twice), 0 on timeout, -1 on error.
// Outside the loop: for start-up and children, not for callbacks (it blocks the thread).
int fdwait (int fd, bool r, bool w, timeval *tvp);
int fdwait (int rfd, int wfd, bool r, bool w, timeval *tvp);
int fdwait (int fd, selop op, timeval *tvp = NULL);

// --- timespec arithmetic (tv_nsec kept in [0, 1e9)) ---
inline int
tscmp (const timespec &a, const timespec &b)
{
  if (a.tv_sec != b.tv_sec)
    return a.tv_sec < b.tv_sec ? -1 : 1;
  if (a.tv_nsec != b.tv_nsec)
    return a.tv_nsec < b.tv_nsec ? -1 : 1;
  return 0;
}
inline bool operator== (const timespec &a, const timespec &b) { return !tscmp (a, b); }
inline bool operator!= (const timespec &a, const timespec &b) { return tscmp (a, b) != 0; }
inline bool operator< (const timespec &a, const timespec &b) { return tscmp (a, b) < 0; }
inline bool operator<= (const timespec &a, const timespec &b) { return tscmp (a, b) <= 0; }
inline bool operator> (const timespec &a, const timespec &b) { return tscmp (a, b) > 0; }
inline bool operator>= (const timespec &a, const timespec &b) { return tscmp (a, b) >= 0; }
inline timespec
operator+ (const timespec &a, const timespec &b)
{
  timespec t;
  t.tv_sec = a.tv_sec + b.tv_sec;
  t.tv_nsec = a.tv_nsec + b.tv_nsec;
  if (t.tv_nsec >= 1000000000) {
    t.tv_nsec -= 1000000000;
    t.tv_sec++;
  }
  return t;
}
inline timespec
operator- (const timespec &a, const timespec &b)
{
  timespec t;
  t.tv_sec = a.tv_sec - b.tv_sec;
  t.tv_nsec = a.tv_nsec - b.tv_nsec;
  if (t.tv_nsec < 0) {
    t.tv_nsec += 1000000000;
    t.tv_sec--;
  }
  return t;
}

// --- address comparisons and hashes (qhash keys) ---
inline bool operator== (const in_addr &a, const in_addr &b) { return a.s_addr == b.s_addr; }
inline bool operator!= (const in_addr &a, const in_addr &b) { return a.s_addr != b.s_addr; }
template<> struct hashfn<in_addr> {
  hashfn () {}
  hash_t operator() (const in_addr &a) const { return a.s_addr; }
};
inline bool
operator== (const sockaddr_in &a, const sockaddr_in &b)
{
  return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
}
inline bool operator!= (const sockaddr_in &a, const sockaddr_in &b) { return !(a == b); }
template<> struct hashfn<sockaddr_in> {
  hashfn () {}
  hash_t operator() (const sockaddr_in &a) const
  {
    return hash_t (ntohs (a.sin_port)) << 16 ^ ntohl (a.sin_addr.s_addr);
  }
};

// --- small string helpers (straux) ---
// Splits *sp at the first of the delimiters, like strsep, but skipping empty fields.
char *strnnsep (char **sp, const char *delim);
char *xstrsep (char **sp, const char *delim);
// The first of len bytes at s that is one of the characters of accept, or NULL.
char *mempbrk (char *s, const char *accept, int len);
// Same file, same contents as far as stat can tell (device, inode, mtime, size): libasync's test
// that a file was not replaced between a stat and an open.
bool stat_unchanged (const struct stat *a, const struct stat *b);

template<class T> inline void rc_ignore (const T &) {}

// --- running programs (spawn.C in libasync) ---
// spawn: fork, make in/out/err the child's 0/1/2 (closing the originals above 2), run postforkcb
// in the child, then exec path with argv (and env when given, else this environment). Returns
// the child's pid once the exec has succeeded, or -1 with the exec's errno (the failed child is
// reaped here). aspawn: the same without waiting for the exec: a failure is a line on the
// child's stderr and exit status 1. The child is the caller's to reap (chldcb).
//
// Hazard: hue's workers are threads, and a forked child holds only the forking thread; a lock
// another thread held at the fork stays held in the child. So postforkcb must do only what is
// safe after fork in a threaded program (dup2, chdir, setsid, setrlimit, close: the
// async-signal-safe calls), not allocate or warn. The child gets SIGPIPE back at its default
// (hue ignores it in this process). afork () is the fork underneath, with the same rule for what
// its child may do before exec or _exit.
extern str execdir;  // where fix_exec_path looks for an unqualified name; null: nowhere
pid_t afork ();
// path unchanged when it has a '/' or no directory is known, else dir (or execdir) + "/" + path.
str fix_exec_path (str path, str dir = NULL);
// An executable regular file named program: as given if it has a '/', else in progdir, then
// along $PATH. A null str when there is none.
str find_program (const char *program);
str find_program_plus_libsfs (const char *program);  // fix_exec_path's, else find_program's
pid_t spawn (const char *path, char *const *argv, int in = 0, int out = 1, int err = 2,
             cbv::ptr postforkcb = NULL, char *const *env = NULL);
inline pid_t
spawn (const char *path, const char *const *av, int in = 0, int out = 1, int err = 2,
       cbv::ptr postforkcb = NULL, char *const *env = NULL)
{
  return spawn (path, const_cast<char *const *> (av), in, out, err, postforkcb, env);
}
pid_t aspawn (const char *path, char *const *argv, int in = 0, int out = 1, int err = 2,
              cbv::ptr postforkcb = NULL, char *const *env = NULL);
inline pid_t
aspawn (const char *path, const char *const *av, int in = 0, int out = 1, int err = 2,
        cbv::ptr postforkcb = NULL, char *const *env = NULL)
{
  return aspawn (path, const_cast<char *const *> (av), in, out, err, postforkcb, env);
}

#endif
