// tests/async_support.hpp — driving the libasync loop from a test, one pass at a time.
#pragma once

#include <chrono>
#include <functional>

#include "async.h"

namespace async_test {

// A guard timer keeps a pass short; it is removed only if it has not fired (a fired timecb_t is
// gone, as in libasync: removing it then would be a use after free).
inline void guard_fired (bool *f) { *f = true; }
struct guard {
  bool fired = false;
  timecb_t *t;
  explicit guard (u_int32_t ns) : t (delaycb (0, ns, wrap (guard_fired, &fired))) {}
  ~guard ()
  {
    if (!fired)
      timecb_remove (t);
  }
};

// Runs passes of the loop until pred() or the deadline (a 10 ms guard timer keeps each pass short).
inline bool
run_until (std::function<bool ()> pred, double seconds)
{
  auto end = std::chrono::steady_clock::now () + std::chrono::duration<double> (seconds);
  while (!pred ()) {
    if (std::chrono::steady_clock::now () > end)
      return false;
    guard g (10000000);
    acheck ();
  }
  return true;
}

}  // namespace async_test
