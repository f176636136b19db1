// tests/async_support.hpp — driving the libasync loop from a test, one pass at a time.
#pragma once

#include <hue/runtime.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

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

// What a test object kept on one color shares: its color, and whether any of its callbacks ran on
// another (each calls check_color() first); `finished` counts what the test waits for.
struct kept_on_color {
  cbcolor_t color = 0;
  bool wrong_color = false;
  std::atomic<int> finished {0};

  void check_color ()
  {
    std::optional<hue::color_t> c = hue::runtime::current_color ();
    if (!c || *c != color)
      wrong_color = true;
  }
};

}  // namespace async_test
