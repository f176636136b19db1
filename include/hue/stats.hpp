// hue/stats.hpp — per-core statistics.
//
// Each worker keeps its counters in its own cache line and only it writes most of them, so they
// stay on in production. `runtime::stats()` copies them into a snapshot; the snapshot is not an
// atomic cut across cores (counters keep moving while it is taken) but every counter is itself
// exact and monotonic.
//
//   auto s = rt.stats();
//   std::cout << s;                       // readable table, one row per core plus a total
//   auto events = s.total().events_run;
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace hue {

struct core_stats {
  unsigned core = 0;
  int os_cpu = -1;                   // first OS cpu the worker is pinned to; -1 when unpinned

  std::uint64_t events_posted = 0;   // events queued on this core by any thread
  std::uint64_t events_run = 0;
  std::uint64_t batches = 0;         // color-queue turns (each runs 1..batch events)
  std::uint64_t handler_exceptions = 0;

  std::uint64_t steal_attempts = 0;
  std::uint64_t steal_successes = 0;
  std::uint64_t steal_failures = 0;
  std::uint64_t events_stolen = 0;
  std::uint64_t colors_stolen = 0;
  std::uint64_t steal_cycles = 0;        // cycles spent in stealing, successful or not
  std::uint64_t stolen_time_cycles = 0;  // run time of the stolen events, in cycles
  // Colors stolen that their own core would have reached within one steal's cost (the work queued
  // ahead of them was smaller): a steal that bought nothing, and cost a cache-cold run.
  std::uint64_t regret_steals = 0;
  // Colors whose home moved to this core by a steal (borrowed colors go back and are not counted).
  std::uint64_t colors_migrated = 0;
  // Events this core's handlers posted to colors homed on another core: each costs the poster a
  // remote lock and may cost the other core a wake-up. Compared with colors_migrated across
  // stealing modes, it says what a migration costs later (a connection's color moved away from
  // the core its reactor polls on turns every readiness into one).
  std::uint64_t remote_posts = 0;

  std::uint64_t lock_wait_cycles = 0;    // cycles any thread spun on this core's lock
  std::uint64_t busy_cycles = 0;         // cycles not idle nor stealing: handlers and queue work
  std::uint64_t idle_cycles = 0;         // cycles spent spinning idle or asleep
  std::uint64_t spin_cycles = 0;         // the part of idle_cycles spent spinning (CPU burnt)
  std::uint64_t sleeps = 0;              // times the worker went to sleep in the kernel
  // Sleeps ended by the watchdog (no wake-up came) that found work waiting: a missed wake-up.
  std::uint64_t rescues = 0;

  core_stats& operator+=(const core_stats& o);
  // Counters over an interval: later snapshot minus earlier one (core and os_cpu are kept).
  core_stats& operator-=(const core_stats& o);
};

inline core_stats operator-(core_stats later, const core_stats& earlier) {
  return later -= earlier;
}

struct runtime_stats {
  std::vector<core_stats> cores;
  std::uint64_t posts_rejected = 0;      // posts refused because the runtime was stopped

  core_stats total() const;
  std::string dump() const;              // same text as operator<<
};

std::ostream& operator<<(std::ostream& os, const runtime_stats& s);

}  // namespace hue
