// async_kv — a line-based key-value server in the libasync idiom: aios readline per connection,
// a qhash for the store, replies with aios's <<.
//   async_kv [port]        prints "listening on PORT"
// Protocol, one command per line: "SET key value" -> "OK", "GET key" -> "VALUE value" or
// "NOTFOUND", "DEL key" -> "OK" or "NOTFOUND", "QUIT" -> closes; anything else -> "ERR ...".
#include "aios.h"
#include "async.h"
#include "parseopt.h"
#include "qhash.h"
#include "rxx.h"

static qhash<str, str> store;

static void
got_line (ref<aios> a, str line, int err)
{
  if (!line) {  // EOF or error: dropping `a` closes the connection
    if (err)
      warn ("connection %d: %s\n", a->fdno (), strerror (err));
    return;
  }
  static rxx set_rx ("^SET (\\S+) (.*)$");
  static rxx get_rx ("^GET (\\S+)$");
  static rxx del_rx ("^DEL (\\S+)$");
  if (set_rx.match (line)) {
    store.insert (set_rx[1], set_rx[2]);
    a << "OK\n";
  } else if (get_rx.match (line)) {
    if (str *v = store[get_rx[1]])
      a << "VALUE " << *v << "\n";
    else
      a << "NOTFOUND\n";
  } else if (del_rx.match (line)) {
    if (store[del_rx[1]]) {
      store.remove (del_rx[1]);
      a << "OK\n";
    } else
      a << "NOTFOUND\n";
  } else if (line == "QUIT") {
    return;
  } else
    a << "ERR unknown command\n";
  a->readline (wrap (got_line, a));
}

static void
accept_one (int lfd)
{
  int fd = accept (lfd, NULL, NULL);
  if (fd < 0) {
    if (errno != EAGAIN)
      warn ("accept: %s\n", strerror (errno));
    return;
  }
  close_on_exec (fd);
  ref<aios> a = aios::alloc (fd);
  a->settimeout (300);  // an idle client is dropped after five minutes
  a->readline (wrap (got_line, a));
}

int
main (int argc, char **argv)
{
  setprogname (argv[0]);
  u_int16_t port = 0;
  if (argc > 2 || (argc == 2 && !convertint (argv[1], &port)))
    fatal << "usage: " << progname << " [port]\n";
  int lfd = inetsocket (SOCK_STREAM, port);
  if (lfd < 0 || listen (lfd, 128) < 0)
    fatal ("port %d: %s\n", port, strerror (errno));
  make_async (lfd);
  sockaddr_in sin;
  socklen_t len = sizeof sin;
  getsockname (lfd, (sockaddr *) &sin, &len);
  aout << "listening on " << ntohs (sin.sin_port) << "\n";
  fdcb (lfd, selread, wrap (accept_one, lfd));
  amain ();
}
