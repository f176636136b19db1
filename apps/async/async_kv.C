// async_kv — a line-based key-value server in the libasync idiom: aios readline per connection,
// a qhash for the store, replies with aios's <<.
//   async_kv [port]        prints "listening on PORT"
// Protocol, one command per line: "SET key value" -> "OK", "GET key" -> "VALUE value" or
// "NOTFOUND", "DEL key" -> "OK" or "NOTFOUND", "QUIT" -> closes; anything else -> "ERR ...".
#include "aios.h"
#include "async.h"
#include "listen.h"
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
  int fd = accept_client (lfd);
  if (fd < 0)
    return;
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
  listen_and_announce (port, accept_one);
  amain ();
}
