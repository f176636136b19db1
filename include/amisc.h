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

template<class T> inline void rc_ignore (const T &) {}

#endif
