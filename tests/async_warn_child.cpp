// A child process for test_async_basics: it writes to stderr through err.h in the way argv[1]
// names, so the test can read exactly what reached the file descriptor and in which order.
#include "err.h"

// %m is glibc's printf extension, which -Wpedantic reports on every use.
#pragma GCC diagnostic ignored "-Wformat"

#include <thread>
#include <vector>

int
main (int argc, char **argv)
{
  setprogname (argv[0]);
  str mode = argc > 1 ? argv[1] : "";
  if (mode == "buffering") {
    // A partial line must wait: the marker, written straight to fd 2, comes out first.
    warnx << "abc";
    if (::write (2, "|MARK|", 6) != 6)
      return 3;
    warnx << "def\n";
    warn ("n=%d\n", 7);
    return 0;
  }
  if (mode == "errno") {
    errno = ENOENT;
    warn ("open x: %m\n");
    errno = EACCES;
    warn << "after " << 2 << "\n";
    return errno == EACCES ? 0 : 4;  // errno survives a warn
  }
  if (mode == "tail") {
    warnx << "no newline";
    exit (0);  // the exit handler flushes the partial line
  }
  if (mode == "fatal") {
    warnx << "pending ";
    fatal ("bad %s\n", "config");
  }
  if (mode == "panic")
    panic << "broken " << 42 << "\n";
  if (mode == "threads") {
    // Two threads, each 2000 lines built from several << pieces: no line may be torn.
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; t++)
      ts.emplace_back ([t] {
        for (int i = 0; i < 2000; i++)
          warnx << "thread " << t << " line " << i << " " << str ("xxxxxxxxxxxxxxxx") << "\n";
      });
    for (auto &th : ts)
      th.join ();
    return 0;
  }
  return 2;
}
