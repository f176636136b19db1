// A small program in libasync's idiom, built by scripts/test.sh the way a user builds one:
//   c++ async_pkgconfig_prog.C $(pkg-config --cflags --libs hue-async)
// against an installed hue and against the build tree's uninstalled .pc file. It uses only the
// foundation headers (callbacks, refcounting, strings, warn, tables, regexps, convertint) and
// prints one line the script compares; any other outcome exits non-zero.
#include "amisc.h"
#include "parseopt.h"
#include "qhash.h"
#include "rxx.h"

class tally : public virtual refcount {
  qhash<str, int> counts;
  int total;
public:
  tally () : total (0) {}
  void add (str word, int n) {
    if (int *c = counts[word])
      *c += n;
    else
      counts.insert (word, n);
    total += n;
  }
  int get (str word) const { const int *c = counts[word]; return c ? *c : 0; }
  int sum () const { return total; }
};

static void
report (ref<tally> t, str word, cbi done)
{
  (*done) (t->get (word) * 100 + t->sum ());
}

static void
finish (int *out, int v)
{
  *out = v;
}

int
main (int argc, char **argv)
{
  setprogname (argv[0]);
  ref<tally> t = New refcounted<tally> ();
  rxx item ("^(\\w+)=(\\d+)$");
  const char *input[] = { "apple=2", "pear=5", "apple=3", "bogus", NULL };
  for (const char **p = input; *p; p++) {
    int n;
    if (item.match (*p) && convertint (item[2], &n))
      wrap (t, &tally::add, item[1])->trigger (n);
    else
      warnx << "skipping " << *p << "\n";
  }
  int result = 0;
  cbv cb = wrap (report, t, str ("apple"), wrap (finish, &result));
  (*cb) ();
  if (result != 510)
    fatal ("expected 510, got %d\n", result);
  warnx << "async pkg-config example: ok " << result << "\n";
  return 0;
}
