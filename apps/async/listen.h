// apps/async/listen.h — what the example servers share: a listening socket announced on stdout,
// and one non-blocking accept. Plain libasync calls (inetsocket, make_async, close_on_exec,
// fdcb), so each example still reads as a libasync program; only the set-up is said once.
#pragma once

#include "async.h"

#include <netinet/in.h>

// Listens on `port` (0: any free one), says "listening on N" on stdout (the tests read it), and
// calls on_accept(lfd) whenever a client is waiting. Dies with a message on failure.
inline int
listen_and_announce (u_int16_t port, void (*on_accept) (int))
{
  int lfd = inetsocket (SOCK_STREAM, port);
  if (lfd < 0 || listen (lfd, 128) < 0)
    fatal ("port %d: %s\n", port, strerror (errno));
  make_async (lfd);
  close_on_exec (lfd);
  sockaddr_in sin;
  socklen_t len = sizeof sin;
  getsockname (lfd, (sockaddr *) &sin, &len);
  aout << "listening on " << ntohs (sin.sin_port) << "\n";
  fdcb (lfd, selread, wrap (on_accept, lfd));
  return lfd;
}

// One accepted client, close-on-exec; -1 when none is waiting (EAGAIN) or accept failed (warned).
inline int
accept_client (int lfd)
{
  int fd = accept (lfd, NULL, NULL);
  if (fd < 0) {
    if (errno != EAGAIN)
      warn ("accept: %s\n", strerror (errno));
    return -1;
  }
  close_on_exec (fd);
  return fd;
}
