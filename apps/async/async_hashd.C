// async_hashd — a line server whose work is CPU-heavy: each line is answered with a hash of it
// iterated ROUNDS times. Written in the libasync idiom (aios readline, wrap); with --colored the
// line callback is wrapped with cwrap (one color per connection) instead of wrap, and nothing
// else changes: connections' lines are then hashed in parallel on hue's workers, while each
// connection's own lines stay in order (one color runs one callback at a time).
//   async_hashd [--colored] [--rounds N] [port]       prints "listening on PORT"
// Reply per line: 16 hex digits, then "\n".
#include "aios.h"
#include "async.h"
#include "listen.h"
#include "parseopt.h"

static bool colored;
static u_int32_t rounds = 200000;

// FNV-1a, iterated: cheap to write, costly to run, identical on every build (the test checks it).
static u_int64_t
hash_line (const str &s)
{
  u_int64_t h = 1469598103934665603ULL;
  for (u_int32_t r = 0; r < rounds; r++) {
    for (size_t i = 0; i < s.len (); i++) {
      h ^= u_char (s[i]);
      h *= 1099511628211ULL;
    }
    h ^= r;
    h *= 1099511628211ULL;
  }
  return h;
}

struct client : public virtual refcount {
  ref<aios> a;
  cbcolor_t color;
  client (int fd) : a (aios::alloc (fd)), color (colored ? new_cbcolor () : 0) {}
  void ask ();
  void line (str s, int err);
};

void
client::ask ()
{
  ref<client> self = mkref (this);
  if (colored)
    a->readline (cwrap (color, self, &client::line));  // the only difference: cwrap for wrap
  else
    a->readline (wrap (self, &client::line));
}

void
client::line (str s, int err)
{
  if (!s) {
    if (err)
      warn ("client %d: %s\n", a->fdno (), strerror (err));
    return;  // the last reference goes with this call: the aios closes the fd
  }
  char hex[17];
  snprintf (hex, sizeof hex, "%016llx", (unsigned long long) hash_line (s));
  a << hex << "\n";
  ask ();
}

static void
accept_one (int lfd)
{
  int fd = accept_client (lfd);
  if (fd < 0)
    return;
  tcp_nodelay (fd);
  ref<client> c = New refcounted<client> (fd);
  c->ask ();
}

int
main (int argc, char **argv)
{
  setprogname (argv[0]);
  u_int16_t port = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--colored"))
      colored = true;
    else if (!strcmp (argv[i], "--rounds") && i + 1 < argc && convertint (argv[i + 1], &rounds))
      i++;
    else if (!convertint (argv[i], &port))
      fatal << "usage: " << progname << " [--colored] [--rounds N] [port]\n";
  }
  listen_and_announce (port, accept_one);
  amain ();
}
