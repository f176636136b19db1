// tests/support.hpp — small helpers shared by the runtime tests.
#pragma once

#include <hue/config.hpp>
#include <hue/runtime.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <thread>

namespace hue_test {

// A config with `n` workers, everything else as the environment or the defaults say.
inline hue::config workers(unsigned n) {
  hue::config c;
  c.workers = n;
  return c;
}

// Two workers stealing with every heuristic: what the server tests run under.
inline hue::config stealing_workers(unsigned n) {
  hue::config c = workers(n);
  c.steal = hue::steal_config::parse("all");
  return c;
}

// Polls `pred` until it holds or `limit` passes. Tests assert on the result, so a broken runtime
// fails with a message instead of hanging the suite.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// A handler that blocks its core until opened: lets a test queue events behind it and so control
// exactly what is pending when the core next picks work.
class gate {
 public:
  void hold() const {
    entered_.store(true);
    while (!open_.load()) std::this_thread::yield();
  }
  bool entered() const { return entered_.load(); }
  void open() { open_.store(true); }

 private:
  mutable std::atomic<bool> entered_{false};
  std::atomic<bool> open_{false};
};

// Counts its live copies in a shared counter: proves that pending events are destroyed, not
// leaked, when a runtime stops or is destroyed.
struct tracked {
  std::shared_ptr<std::atomic<int>> alive;
  explicit tracked(std::shared_ptr<std::atomic<int>> a) : alive(std::move(a)) { ++*alive; }
  tracked(const tracked& o) : alive(o.alive) { ++*alive; }
  tracked(tracked&& o) noexcept : alive(o.alive) { ++*alive; }
  ~tracked() { --*alive; }
};

// Stops the runtime and waits for its workers when the test's scope ends. Declare it after
// everything the test's handlers touch: destroyed first, it guarantees that no handler is still
// running (a cancelled registration does not wait for a run already begun on another core) when
// those locals die. Found by ASan: a watch handler decremented a counter the test had freed.
class stop_at_exit {
 public:
  explicit stop_at_exit(hue::runtime& rt) : rt_(rt) {}
  ~stop_at_exit() {
    rt_.stop();
    rt_.wait();
  }
  stop_at_exit(const stop_at_exit&) = delete;
  stop_at_exit& operator=(const stop_at_exit&) = delete;

 private:
  hue::runtime& rt_;
};

// Busy work of roughly `n` iterations that the optimizer cannot remove: widens the window in which
// a broken runtime would let two handlers of one color overlap.
inline void busy(unsigned n) {
  volatile std::uint64_t x = 0;
  for (unsigned i = 0; i < n; ++i) x = x + i;
}

}  // namespace hue_test
