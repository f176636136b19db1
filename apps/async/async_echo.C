// async_echo — an echo server in the libasync idiom: fdcb on the listening socket, one fdcb per
// connection, a suio per connection for what could not be written yet.
//   async_echo [port]      (0 or none: any free port; prints "listening on PORT")
// Written for this project; its arguments are parsed libasync-style (convertint), not with CLI11,
// because the point is to be a program in that idiom.
#include "aios.h"
#include "async.h"
#include "listen.h"
#include "parseopt.h"

struct conn {
  int fd;
  suio out;
  conn (int f) : fd (f) {}
  ~conn ()
  {
    fdcb (fd, selread, NULL);
    fdcb (fd, selwrite, NULL);
    close (fd);
  }
};

static void readable (conn *c);

static void
writable (conn *c)
{
  if (c->out.output (c->fd) < 0) {
    delete c;
    return;
  }
  if (!c->out.resid ()) {
    fdcb (c->fd, selwrite, NULL);
    fdcb (c->fd, selread, wrap (readable, c));  // drained: read again (flow control)
  }
}

static void
readable (conn *c)
{
  int n = c->out.input (c->fd, 65536);
  if (n == 0 || (n < 0 && errno != EAGAIN)) {
    delete c;
    return;
  }
  if (n < 0)
    return;
  if (c->out.output (c->fd) < 0) {
    delete c;
    return;
  }
  if (c->out.resid ()) {  // the peer is slow: stop reading until it catches up
    fdcb (c->fd, selread, NULL);
    fdcb (c->fd, selwrite, wrap (writable, c));
  }
}

static void
accept_one (int lfd)
{
  int fd = accept_client (lfd);
  if (fd < 0)
    return;
  make_async (fd);
  tcp_nodelay (fd);
  fdcb (fd, selread, wrap (readable, New conn (fd)));
}

int
main (int argc, char **argv)
{
  setprogname (argv[0]);
  u_int16_t port = 0;
  if (argc > 2 || (argc == 2 && !convertint (argv[1], &port)))
    fatal << "usage: " << progname << " [port]\n";
  listen_and_announce (port, accept_one);
  amain ();
}
