// tcpconnect: a non-blocking TCP connect whose result (a connected non-blocking fd, or -1 with
// errno) reaches the callback from the loop.
//
// Host names are resolved with getaddrinfo (so /etc/hosts, nsswitch and the resolver's search list
// apply, as libasync's own DNS code honoured /etc/hosts) on a short-lived helper thread: the call
// blocks, and the loop thread must not. The result comes back to the loop with cpucb. Each IPv4
// address is tried in turn until one connects (libasync tried the first only).
#include <netdb.h>
#include <sys/socket.h>

#include <thread>
#include <vector>

#include "async.h"

struct tcpconnect_t : public virtual refcount {
  u_int16_t port;  // host order
  cbi::ptr cb;     // NULL once delivered or cancelled
  std::vector<in_addr> addrs;
  size_t next = 0;
  int fd = -1;
  str *namep = nullptr;

  tcpconnect_t (u_int16_t p, cbi c) : port (p), cb (c) {}

  void deliver (int r, int err)
  {
    cbi::ptr c = cb;
    cb = nullptr;
    if (!c)
      return;
    errno = err;
    (*c) (r);
  }

  void try_next (ref<tcpconnect_t> self, int lasterr)
  {
    while (next < addrs.size ()) {
      sockaddr_in sin;
      memset (&sin, 0, sizeof sin);
      sin.sin_family = AF_INET;
      sin.sin_port = htons (port);
      sin.sin_addr = addrs[next++];
      fd = socket (AF_INET, SOCK_STREAM, 0);
      if (fd < 0) {
        lasterr = errno;
        break;
      }
      make_async (fd);
      close_on_exec (fd);
      if (connect (fd, reinterpret_cast<sockaddr *> (&sin), sizeof sin) == 0 ||
          errno == EINPROGRESS) {
        fdcb (fd, selwrite, mkcallback<void> ([self] () { self->connected (self); }));
        return;
      }
      lasterr = errno;
      close (fd);
      fd = -1;
    }
    deliver (-1, lasterr ? lasterr : EHOSTUNREACH);
  }

  void connected (ref<tcpconnect_t> self)
  {
    fdcb (fd, selwrite, NULL);
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
      err = errno;
    if (err) {
      close (fd);
      fd = -1;
      try_next (self, err);
      return;
    }
    int r = fd;
    fd = -1;
    deliver (r, 0);
  }
};

namespace {
// What the loop keeps between the call and the callback, so the caller may drop its pointer.
void
start (ref<tcpconnect_t> tc)
{
  tc->try_next (tc, 0);
}
}  // namespace

tcpconnect_t *
tcpconnect (in_addr addr, u_int16_t port, cbi cb)
{
  ref<tcpconnect_t> tc = New refcounted<tcpconnect_t> (port, cb);
  tc->addrs.push_back (addr);
  // Deliver from the loop, never from inside tcpconnect itself (callers assume that).
  cpucb (mkcallback<void> ([tc] () { start (tc); }));
  return tc;
}

tcpconnect_t *
tcpconnect (str hostname, u_int16_t port, cbi cb, bool dnssearch, str *namep)
{
  ref<tcpconnect_t> tc = New refcounted<tcpconnect_t> (port, cb);
  tc->namep = namep;
  in_addr a;
  if (hostname && inet_aton (hostname.cstr (), &a)) {
    tc->addrs.push_back (a);
    cpucb (mkcallback<void> ([tc] () { start (tc); }));
    return tc;
  }
  std::string name = hostname ? std::string (hostname.cstr ()) : std::string ();
  std::thread ([tc, name, dnssearch] () {
    addrinfo hints;
    memset (&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    // A trailing dot or no search: ask for the name as given (getaddrinfo applies the search
    // list only to names without dots anyway).
    std::string q = name;
    if (!dnssearch && !q.empty () && q.back () != '.')
      q += '.';
    addrinfo *res = nullptr;
    int rc = name.empty () ? EAI_NONAME : getaddrinfo (q.c_str (), nullptr, &hints, &res);
    std::vector<in_addr> found;
    std::string canon;
    if (rc == 0) {
      for (addrinfo *ai = res; ai; ai = ai->ai_next)
        found.push_back (reinterpret_cast<sockaddr_in *> (ai->ai_addr)->sin_addr);
      if (res && res->ai_canonname)
        canon = res->ai_canonname;
      freeaddrinfo (res);
    }
    cpucb (mkcallback<void> ([tc, found, name] () {
      if (!tc->cb)
        return;  // cancelled meanwhile
      if (found.empty ()) {
        tc->deliver (-1, ENOENT);
        return;
      }
      if (tc->namep)
        *tc->namep = name.c_str ();
      tc->addrs = found;
      start (tc);
    }));
  }).detach ();
  return tc;
}

void
tcpconnect_cancel (tcpconnect_t *tc)
{
  tc->cb = nullptr;
  if (tc->fd >= 0) {
    fdcb (tc->fd, selwrite, NULL);
    close (tc->fd);
    tc->fd = -1;
  }
}
