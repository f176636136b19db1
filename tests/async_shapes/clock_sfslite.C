// A program of the later sfslite era (after 2007 async.h declared no tsnow/timenow): it defines
// a function `tsnow ()` of its own, and a global `timenow` of its own. Against a header that
// declares the globals it fails to build ("redeclared as different kind of entity"). Built with
// -DHUE_ASYNC_NO_CLOCK_GLOBALS, as such a program is built against hue; the source is the
// program's own, unchanged. Pins the second half of the clock regression, at link time too: no
// symbol of the library is named tsnow or timenow. Exits 0 when everything holds.
#include "async.h"

time_t timenow;  // the program's own, unrelated to the loop's cache

timespec
tsnow ()
{
  timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts;
}

static void
done (timespec start)
{
  timespec end = tsnow ();
  bool ok = end.tv_sec > start.tv_sec
            || (end.tv_sec == start.tv_sec && end.tv_nsec >= start.tv_nsec);
  timespec cached;
  sfs_get_tsnow (&cached);  // sfslite's accessor, in both of its forms
  time_t wall = time (NULL);
  ok = ok && cached.tv_sec >= wall - 1 && cached.tv_sec <= wall + 1;
  ok = ok && sfs_get_timenow () == cached.tv_sec;
  ok = ok && timenow == 42;  // the loop never wrote the program's variable
  exit (ok ? 0 : 1);
}

int
main ()
{
  timenow = 42;
  delaycb (0, 1000000, wrap (done, tsnow ()));
  amain ();
}
