// async_timer — timers in the libasync idiom: a delaycb chain ticks every INTERVAL ms, an absolute
// timecb marks the end, SIGINT/SIGTERM (sigcb) end early, a lazycb reports once a second.
//   async_timer COUNT INTERVAL_MS
// Prints "tick N" per tick and "done N" at the end (exit 0), or "interrupted N" (exit 1).
#include "aios.h"
#include "async.h"
#include "parseopt.h"

static int ticks, count;
static u_int32_t interval_ms;
static timespec start;

// Tick n is due at start + n * interval: absolute times do not drift, and the end (one interval
// after the last tick) cannot overtake it, since timecb never fires early and keeps time order.
static timespec
due (u_int64_t n)
{
  u_int64_t ms = n * interval_ms;
  return start + timespec {time_t (ms / 1000), long (ms % 1000) * 1000000};
}

static void
tick ()
{
  aout << "tick " << ++ticks << "\n";
  if (ticks < count)
    timecb (due (ticks), wrap (tick));
}

static void
finish ()
{
  aout << "done " << ticks << "\n";
  aout->flush ();
  exit (ticks == count ? 0 : 2);
}

static void
interrupted ()
{
  aout << "interrupted " << ticks << "\n";
  aout->flush ();
  exit (1);
}

static void
report ()
{
  warn << "still running, " << ticks << " ticks so far\n";
}

int
main (int argc, char **argv)
{
  setprogname (argv[0]);
  if (argc != 3 || !convertint (argv[1], &count) || count < 1 ||
      !convertint (argv[2], &interval_ms))
    fatal << "usage: " << progname << " COUNT INTERVAL_MS\n";
  start = sfs_get_tsnow (true);
  timecb (due (0), wrap (tick));
  timecb (due (count), wrap (finish));
  sigcb (SIGINT, wrap (interrupted));
  sigcb (SIGTERM, wrap (interrupted));
  lazycb (1, wrap (report));
  amain ();
}
