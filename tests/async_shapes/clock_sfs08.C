// A program of the SFS 0.8 era: it reads the loop's cached clock through the globals async.h
// declared then, `timespec tsnow` and `const time_t &timenow`. Pins the first half of the clock
// regression: these globals stay available by default. Exits 0 when everything holds.
#include "async.h"

static int failures;

static void
check (bool ok, const char *what)
{
  if (!ok) {
    warn << "clock_sfs08: " << what << "\n";
    failures++;
  }
}

static void
tick (int *n)
{
  // Inside the loop the cache has been refreshed by the pass that ran this timer.
  time_t wall = time (NULL);
  check (timenow >= wall - 1 && timenow <= wall + 1, "timenow is the loop's wall clock");
  check (tsnow.tv_sec == timenow, "tsnow and timenow agree");
  check (tsnow.tv_nsec >= 0 && tsnow.tv_nsec < 1000000000, "tsnow.tv_nsec in range");
  const timespec *p = &tsnow;  // the address of the global, as SFS 0.8 code took it
  check (p->tv_sec == tsnow.tv_sec, "&tsnow");
  if (++*n < 2) {
    delaycb (0, 1000000, wrap (tick, n));
    return;
  }
  exit (failures ? 1 : 0);
}

int
main ()
{
  sfs_set_global_timestamp ();
  static int n;
  timecb (tsnow, wrap (tick, &n));  // "now" from the global: due at once
  amain ();
}
