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

// The per-core counters, listed once. From this list come the fields of `core_stats`, the
// worker's own counters inside the runtime, the snapshot, `+=`/`-=`, the dump's columns and the
// Prometheus families SWS serves (`core_counter_fields` below walks it at run time).
// Each entry: X(field, kept, metric stem, dump heading, help), where `kept` says who writes it:
//   worker   the worker alone, on cache lines no other thread writes;
//   shared   any thread, on the core's shared line (a poster holding the lock, a lock waiter);
//   derived  computed when the snapshot is taken.
// The metric is `hue_core_<stem>_total`; stems are kept stable for dashboards (steal_successes
// is `hue_core_steals_total`). Every counter is monotonic.
#define HUE_CORE_COUNTERS(X)                                                                       \
  X(events_posted, shared, "events_posted", "posted", "Events queued on the core by any thread.")  \
  X(events_run, worker, "events_run", "run", "Events (handler runs) per core.")                    \
  X(batches, worker, "batches", "batches", "Color-queue turns (each runs 1..batch events).")       \
  X(handler_exceptions, worker, "handler_exceptions", "exc",                                       \
    "Handler exceptions reported on the core.")                                                    \
  X(steal_attempts, worker, "steal_attempts", "tried", "Steal attempts by the core.")              \
  X(steal_successes, worker, "steals", "stole", "Successful steals by the core.")                  \
  X(steal_failures, worker, "steal_failures", "failed", "Steal attempts that took nothing.")       \
  X(events_stolen, worker, "events_stolen", "ev stolen", "Events the core stole.")                 \
  X(colors_stolen, worker, "colors_stolen", "col stolen", "Colors the core stole (moved or lent).") \
  X(steal_cycles, worker, "steal_cycles", "steal cyc",                                             \
    "TSC cycles spent stealing, successful or not.")                                               \
  X(stolen_time_cycles, worker, "stolen_time_cycles", "stolen cyc",                                \
    "TSC cycles the stolen events ran for.")                                                       \
  X(regret_steals, worker, "regret_steals", "regret",                                              \
    "Colors stolen that their own core would have reached within one steal's cost.")               \
  X(colors_migrated, worker, "colors_migrated", "migrated",                                        \
    "Colors whose home moved to the core by a steal (lent colors go back and are not counted).")   \
  X(remote_posts, worker, "remote_posts", "remote posts",                                          \
    "Posts by the core's handlers to colors homed on another core (a remote lock, maybe a "        \
    "wake-up).")                                                                                   \
  X(lock_wait_cycles, shared, "lock_wait_cycles", "lock-wait cyc",                                 \
    "TSC cycles any thread spun on the core's lock.")                                              \
  X(busy_cycles, derived, "busy_cycles", "busy cyc",                                               \
    "TSC cycles neither idle nor stealing: handlers and queue work.")                              \
  X(idle_cycles, worker, "idle_cycles", "idle cyc",                                                \
    "TSC cycles the core spent idle (spinning or asleep).")                                        \
  X(spin_cycles, worker, "spin_cycles", "spin cyc",                                                \
    "TSC cycles of idle_cycles the core spent spinning (CPU used).")                               \
  X(sleeps, worker, "sleeps", "sleeps", "Times the core's worker slept in the kernel.")            \
  X(rescues, worker, "rescues", "rescues",                                                         \
    "Sleeps ended by the watchdog that found work waiting: a missed wake-up.")

/// One core's counters (HUE_CORE_COUNTERS lists them), as runtime::stats() copies them.
struct core_stats {
  unsigned core = 0;                 ///< the worker's index
  int os_cpu = -1;                   ///< first OS cpu the worker is pinned to; -1 when unpinned

#define HUE_CORE_STATS_FIELD(field, kept, stem, heading, help) std::uint64_t field = 0;
  HUE_CORE_COUNTERS(HUE_CORE_STATS_FIELD)
#undef HUE_CORE_STATS_FIELD

  core_stats& operator+=(const core_stats& o);  ///< counters summed (core and os_cpu are kept)
  /// Counters over an interval: later snapshot minus earlier one (core and os_cpu are kept).
  core_stats& operator-=(const core_stats& o);
};

/// Counters over an interval (see operator-=).
inline core_stats operator-(core_stats later, const core_stats& earlier) {
  return later -= earlier;
}

/// One entry of HUE_CORE_COUNTERS, for code that walks the counters (exporters, tables).
struct core_counter_field {
  const char* name;      ///< the field's name
  const char* metric;    ///< Prometheus family: hue_core_<stem>_total
  const char* heading;   ///< the dump's column heading
  const char* help;      ///< one line for humans (Prometheus HELP)
  std::uint64_t core_stats::*field;  ///< the field in core_stats
};

/// Every counter of core_stats, in HUE_CORE_COUNTERS order.
inline constexpr core_counter_field core_counter_fields[] = {
#define HUE_CORE_COUNTER_FIELD(field, kept, stem, heading, help) \
  {#field, "hue_core_" stem "_total", heading, help, &core_stats::field},
    HUE_CORE_COUNTERS(HUE_CORE_COUNTER_FIELD)
#undef HUE_CORE_COUNTER_FIELD
};

/// A snapshot of every core's counters (runtime::stats()).
struct runtime_stats {
  std::vector<core_stats> cores;         ///< one per worker, in worker order
  std::uint64_t posts_rejected = 0;      ///< posts refused because the runtime was stopped

  core_stats total() const;              ///< the cores' counters summed
  std::string dump() const;              ///< same text as operator<<
};

/// A readable table: one row per core, then the total (runtime_stats::dump).
std::ostream& operator<<(std::ostream& os, const runtime_stats& s);

}  // namespace hue
