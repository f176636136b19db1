// lib/core/runtime_impl.cpp — the mode-independent parts of a runtime: its cores, waking them,
// quiescence, joining, and reporting what handlers throw.
#include "runtime_impl.hpp"

#include <cstdio>

namespace hue::internal {

runtime_impl::runtime_impl(runtime* s, const config& c)
    : self(s),
      topo(topology_description(c)),
      cfg(resolve(c, topo.cores())),
      table(cfg.color_slots, cfg.workers),
      cores(new core[cfg.workers]),
      oversubscribed(cfg.workers > topo.cores()) {
  for (unsigned i = 0; i < cfg.workers; ++i) cores[i].index = i;
}

void runtime_impl::wake_all() noexcept {
  for (unsigned i = 0; i < cfg.workers; ++i) {
    {
      spin_guard g(cores[i].lock);
      cores[i].sleeping = false;
    }
    cores[i].park.wake();
  }
}

void runtime_impl::wake_thief(const core& busy) noexcept {
  for (unsigned i = 0; i < cfg.workers; ++i) {
    core& k = cores[i];
    if (&k == &busy || !k.asleep.load(std::memory_order_relaxed)) continue;
    bool wake;
    {
      spin_guard g(k.lock);
      k.note_lock_wait(g.waited);
      wake = k.claim_wake();
    }
    if (wake) {
      k.park.wake();
      return;
    }
  }
}

// True when every event posted so far has finished running. `events_run` is read first: each
// handler's posts are counted before its own completion is (release/acquire in `counter`), so a
// run total that equals the posted total read afterwards leaves no event pending or running.
bool runtime_impl::quiescent() const noexcept {
  std::uint64_t run = 0, posted = 0;
  for (unsigned i = 0; i < cfg.workers; ++i) run += cores[i].stats.events_run.get();
  for (unsigned i = 0; i < cfg.workers; ++i) posted += cores[i].events_posted.get();
  return run == posted;
}

void runtime_impl::join() {
  std::lock_guard l(join_mu);
  if (joined) return;
  for (std::thread& t : threads) t.join();
  joined = true;
}

void runtime_impl::report_exception(core& c, const handler_info& info, color_t color) noexcept {
  c.stats.handler_exceptions.add();
  const handler_error err{&info, color, c.index, std::current_exception()};
  try {
    if (cfg.on_error) {
      cfg.on_error(err);
    } else {
      std::fprintf(stderr, "hue: handler '%s' (color %llu, core %u) threw: %s\n", info.name,
                   static_cast<unsigned long long>(color), c.index, err.what().c_str());
    }
  } catch (...) {
    std::fprintf(stderr, "hue: the error hook itself threw while reporting handler '%s'\n",
                 info.name);
  }
}

}  // namespace hue::internal
