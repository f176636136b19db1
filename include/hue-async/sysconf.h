// sysconf.h — what every libasync compatibility header includes first.
//
// SFS-era programs never include <unistd.h>, <sys/socket.h> or <string.h> themselves: libasync's
// own configuration header pulled the usual system headers in, and defined the BSD integer
// names (u_int, u_int32_t ...), min/max templates, PRIVDEST and __FL__. Programs rely on all of
// that transitively, so this header provides the same set; nothing here is hue-specific.
//
//   #include "str.h"      // brings in sysconf.h: memcpy, read, sockaddr_in, u_int32_t ...
//   u_int32_t n = min<u_int32_t> (a, b);
//
// Hazard: min and max are templates in the global namespace, as in libasync. A program that also
// says `using namespace std;` gets ambiguous calls with two arguments of one type; libasync had
// the same rule, so such programs did not exist.
#ifndef _ASYNC_SYSCONF_H_
#define _ASYNC_SYSCONF_H_ 1

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/param.h>  // MAXPATHLEN and friends (also MIN/MAX macros: upper case, no clash)
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <new>
#include <utility>

// The BSD names (u_char, u_short, u_int, u_long, u_int8_t .. u_int64_t, quad_t, u_quad_t) come
// from glibc's <sys/types.h> under _DEFAULT_SOURCE, which g++ turns on.

// "file:line" as a string literal, for messages (libasync's assert and panic use it).
#define HUE_ASYNC_STR2(x) #x
#define HUE_ASYNC_STR1(x) HUE_ASYNC_STR2 (x)
#define __FL__ __FILE__ ":" HUE_ASYNC_STR1 (__LINE__)

// PRIVDEST sits in front of destructors that only refcounted<> should run
// (`PRIVDEST virtual ~foo ();`). libasync made it expand to nothing once compilers stopped
// accepting a private destructor there; it does the same here, so it never changes the access of
// the members that follow it.
#define PRIVDEST

// As in libasync: templates, so min(a, b) works for any type with operator<. The
// const-reference form keeps min(x, y) = ... an error, as it was.
template<class T> inline const T &min (const T &a, const T &b) { return b < a ? b : a; }
template<class T> inline const T &max (const T &a, const T &b) { return a < b ? b : a; }

#ifndef NELEM
#define NELEM(array) (sizeof (array) / sizeof ((array)[0]))
#endif

// libasync's spelling for the allocation operator (its debug builds routed New through a
// file/line-recording operator new). `New refcounted<C> (args)` is how every program allocates.
#ifndef New
#define New new
#endif
#define vNew (void) New

// libasync's allocation helpers: they never return NULL (out of memory ends the program with a
// message, as in libasync), so callers do not check. Defined in lib/async/xmalloc.cpp.
void *xmalloc (size_t size);
void *xrealloc (void *p, size_t size);
char *xstrdup (const char *s);
#define xfree free
#define txmalloc(size) xmalloc (size)
#define xoffsetof(type, member) offsetof (type, member)

#endif
