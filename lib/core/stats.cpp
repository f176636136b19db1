// lib/core/stats.cpp — snapshots of the per-core counters and their readable dump.
#include "core.hpp"

#include <iomanip>
#include <ostream>
#include <sstream>

namespace hue {

namespace {

// Applies `op` to every counter of `a` and `b`: one list of fields for += and -=.
template <class Op>
void each_counter(core_stats& a, const core_stats& b, Op op) {
  op(a.events_posted, b.events_posted);
  op(a.events_run, b.events_run);
  op(a.batches, b.batches);
  op(a.handler_exceptions, b.handler_exceptions);
  op(a.steal_attempts, b.steal_attempts);
  op(a.steal_successes, b.steal_successes);
  op(a.steal_failures, b.steal_failures);
  op(a.events_stolen, b.events_stolen);
  op(a.colors_stolen, b.colors_stolen);
  op(a.steal_cycles, b.steal_cycles);
  op(a.stolen_time_cycles, b.stolen_time_cycles);
  op(a.regret_steals, b.regret_steals);
  op(a.colors_migrated, b.colors_migrated);
  op(a.remote_posts, b.remote_posts);
  op(a.lock_wait_cycles, b.lock_wait_cycles);
  op(a.busy_cycles, b.busy_cycles);
  op(a.idle_cycles, b.idle_cycles);
  op(a.spin_cycles, b.spin_cycles);
  op(a.sleeps, b.sleeps);
  op(a.rescues, b.rescues);
}

}  // namespace

core_stats& core_stats::operator+=(const core_stats& o) {
  each_counter(*this, o, [](std::uint64_t& x, std::uint64_t y) { x += y; });
  return *this;
}

core_stats& core_stats::operator-=(const core_stats& o) {
  each_counter(*this, o, [](std::uint64_t& x, std::uint64_t y) { x -= y; });
  return *this;
}

core_stats runtime_stats::total() const {
  core_stats t;
  for (const core_stats& c : cores) t += c;
  return t;
}

std::string runtime_stats::dump() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const runtime_stats& s) {
  auto row = [&os](const std::string& who, const std::string& cpu, const core_stats& c) {
    os << std::left << std::setw(7) << who << std::right << std::setw(5) << cpu
       << std::setw(13) << c.events_posted << std::setw(13) << c.events_run << std::setw(11)
       << c.batches << std::setw(7) << c.handler_exceptions << std::setw(9) << c.steal_successes
       << '/' << std::left << std::setw(9) << c.steal_attempts << std::right << std::setw(9)
       << c.events_stolen << std::setw(14) << c.lock_wait_cycles << std::setw(15) << c.busy_cycles
       << std::setw(15) << c.idle_cycles << std::setw(15) << c.spin_cycles << std::setw(8) << c.sleeps << std::setw(8)
       << c.regret_steals << std::setw(9) << c.colors_migrated << std::setw(13) << c.remote_posts
       << std::setw(9) << c.rescues << '\n';
  };
  os << std::left << std::setw(7) << "core" << std::right << std::setw(5) << "cpu" << std::setw(13)
     << "posted" << std::setw(13) << "run" << std::setw(11) << "batches" << std::setw(7) << "exc"
     << std::setw(19) << "steals ok/tried" << std::setw(9) << "stolen" << std::setw(14)
     << "lock-wait cyc" << std::setw(15) << "busy cyc" << std::setw(15) << "idle cyc"
     << std::setw(15) << "spin cyc"
     << std::setw(8) << "sleeps" << std::setw(8) << "regret" << std::setw(9) << "migrated"
     << std::setw(13) << "remote posts" << std::setw(9) << "rescues"
     << '\n';
  for (const core_stats& c : s.cores)
    row(std::to_string(c.core), c.os_cpu < 0 ? "-" : std::to_string(c.os_cpu), c);
  row("total", "", s.total());
  os << "posts rejected after stop: " << s.posts_rejected << '\n';
  return os;
}

namespace internal {

core_stats core::snapshot() const {
  core_stats s;
  s.core = index;
  s.os_cpu = os_cpu.load(std::memory_order_relaxed);
  s.events_posted = events_posted.get();
  s.events_run = stats.events_run.get();
  s.batches = stats.batches.get();
  s.handler_exceptions = stats.handler_exceptions.get();
  s.steal_attempts = stats.steal_attempts.get();
  s.steal_successes = stats.steal_successes.get();
  s.steal_failures = stats.steal_failures.get();
  s.events_stolen = stats.events_stolen.get();
  s.colors_stolen = stats.colors_stolen.get();
  s.steal_cycles = stats.steal_cycles.get();
  s.stolen_time_cycles = stats.stolen_time_cycles.get();
  s.lock_wait_cycles = lock_wait_cycles.load(std::memory_order_relaxed);
  s.idle_cycles = stats.idle_cycles.get();
  s.spin_cycles = stats.spin_cycles.get();
  if (const std::uint64_t start = start_cycles.load(std::memory_order_relaxed)) {
    const std::uint64_t end = end_cycles.load(std::memory_order_relaxed);
    const std::uint64_t lifetime = (end ? end : cycles_now()) - start;
    const std::uint64_t other = s.idle_cycles + s.steal_cycles;
    s.busy_cycles = lifetime > other ? lifetime - other : 0;
  }
  s.sleeps = stats.sleeps.get();
  s.regret_steals = stats.regret_steals.get();
  s.colors_migrated = stats.colors_migrated.get();
  s.remote_posts = stats.remote_posts.get();
  s.rescues = stats.rescues.get();
  return s;
}

}  // namespace internal
}  // namespace hue
