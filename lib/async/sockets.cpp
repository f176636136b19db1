// The socket helpers amisc.h declares: inetsocket, unixsocket[_connect], make_async/make_sync,
// close_on_exec, tcp_nodelay, tcp_abort. libasync's contracts: inetsocket takes a host-order
// address, sets SO_REUSEADDR on stream sockets, binds, does NOT listen and leaves the socket
// blocking; the caller decides. Errors come back as -1 with errno set, as from the system calls.
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "amisc.h"

in_addr inet_bindaddr = {INADDR_ANY};

int
inetsocket (int type, u_int16_t port, u_int32_t addr)
{
  int fd = socket (AF_INET, type, 0);
  if (fd < 0)
    return -1;
  if (type == SOCK_STREAM) {
    int one = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  sockaddr_in sin;
  memset (&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons (port);
  sin.sin_addr.s_addr = htonl (addr);
  if (addr == INADDR_ANY)
    sin.sin_addr = inet_bindaddr;
  if (bind (fd, reinterpret_cast<sockaddr *> (&sin), sizeof sin) < 0) {
    int e = errno;
    close (fd);
    errno = e;
    return -1;
  }
  return fd;
}

namespace {
bool
fill_sun (sockaddr_un *sun, const char *path)
{
  memset (sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  if (strlen (path) >= sizeof sun->sun_path) {
    errno = ENAMETOOLONG;
    return false;
  }
  strcpy (sun->sun_path, path);
  return true;
}

// A fresh unix stream socket and the address of `path` in `sun`; -1 (errno set) on failure.
int
unix_stream (sockaddr_un *sun, const char *path)
{
  if (!fill_sun (sun, path))
    return -1;
  return socket (AF_UNIX, SOCK_STREAM, 0);
}

// Closes fd and returns -1 with errno still saying why.
int
fail_closing (int fd, int e)
{
  close (fd);
  errno = e;
  return -1;
}
}  // namespace

// A bound (not listening) unix stream socket at path; a stale socket file is replaced only when
// nobody answers on it, so a running server is never unlinked from under it.
int
unixsocket (const char *path)
{
  sockaddr_un sun;
  int fd = unix_stream (&sun, path);
  if (fd < 0)
    return -1;
  if (bind (fd, reinterpret_cast<sockaddr *> (&sun), sizeof sun) < 0) {
    int e = errno;
    if (e == EADDRINUSE) {
      int probe = unixsocket_connect (path);
      if (probe < 0 && errno == ECONNREFUSED) {
        unlink (path);
        if (bind (fd, reinterpret_cast<sockaddr *> (&sun), sizeof sun) == 0)
          return fd;
      }
      if (probe >= 0)
        close (probe);
      e = EADDRINUSE;
    }
    return fail_closing (fd, e);
  }
  return fd;
}

int
unixsocket_connect (const char *path)
{
  sockaddr_un sun;
  int fd = unix_stream (&sun, path);
  if (fd < 0)
    return -1;
  if (connect (fd, reinterpret_cast<sockaddr *> (&sun), sizeof sun) < 0)
    return fail_closing (fd, errno);
  return fd;
}

bool
isunixsocket (int fd)
{
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  return getsockname (fd, reinterpret_cast<sockaddr *> (&ss), &len) == 0 && ss.ss_family == AF_UNIX;
}

void
close_on_exec (int fd, bool set)
{
  int fl = fcntl (fd, F_GETFD);
  if (fl < 0 || fcntl (fd, F_SETFD, set ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC)) < 0)
    warn ("close_on_exec (%d): %s\n", fd, strerror (errno));
}

int
_make_async (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  if (fl < 0)
    return -1;
  return fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

void
make_async (int fd)
{
  if (_make_async (fd) < 0)
    fatal ("make_async (%d): %s\n", fd, strerror (errno));
  // libasync also grew the socket buffers; the kernel's autotuning makes that unnecessary here.
}

void
make_sync (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  if (fl < 0 || fcntl (fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
    fatal ("make_sync (%d): %s\n", fd, strerror (errno));
}

void
tcp_nodelay (int fd)
{
  int one = 1;
  if (setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
    warn ("tcp_nodelay (%d): %s\n", fd, strerror (errno));
}

// Close-time reset instead of FIN: linger on with a zero timeout (the fd is not closed here).
void
tcp_abort (int fd)
{
  linger l = {1, 0};
  if (setsockopt (fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0)
    warn ("tcp_abort (%d): %s\n", fd, strerror (errno));
}

// fdwait: with poll, so a descriptor above FD_SETSIZE works and two threads may wait at once
// (libasync's kept select sets in statics).
int
fdwait (int rfd, int wfd, bool r, bool w, timeval *tvp)
{
  assert (rfd >= 0 && wfd >= 0);
  pollfd p[2];
  nfds_t n = 0;
  if (r)
    p[n++] = {rfd, POLLIN, 0};
  if (w) {
    if (n && wfd == rfd)
      p[0].events |= POLLOUT;
    else
      p[n++] = {wfd, POLLOUT, 0};
  }
  timespec ts, *tsp = nullptr;
  if (tvp) {
    ts = {tvp->tv_sec, tvp->tv_usec * 1000};
    tsp = &ts;
  }
  int res = ppoll (p, n, tsp, nullptr);
  if (res <= 0)
    return res;
  // select's count: a descriptor counts once for each set it is ready in.
  int ready = 0;
  for (nfds_t i = 0; i < n; i++) {
    ready += (p[i].events & POLLIN) && (p[i].revents & (POLLIN | POLLHUP | POLLERR));
    ready += (p[i].events & POLLOUT) && (p[i].revents & (POLLOUT | POLLHUP | POLLERR));
  }
  return ready;
}

int
fdwait (int fd, bool r, bool w, timeval *tvp)
{
  return fdwait (fd, fd, r, w, tvp);
}

int
fdwait (int fd, selop op, timeval *tvp)
{
  return op == selread ? fdwait (fd, true, false, tvp) : fdwait (fd, false, true, tvp);
}
