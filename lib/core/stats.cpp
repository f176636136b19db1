// lib/core/stats.cpp — snapshots of the per-core counters and their readable dump.
#include "core.hpp"

#include <iomanip>
#include <ostream>
#include <sstream>

namespace hue {

core_stats& core_stats::operator+=(const core_stats& o) {
  events_posted += o.events_posted;
  events_run += o.events_run;
  batches += o.batches;
  handler_exceptions += o.handler_exceptions;
  steal_attempts += o.steal_attempts;
  steal_successes += o.steal_successes;
  steal_failures += o.steal_failures;
  events_stolen += o.events_stolen;
  colors_stolen += o.colors_stolen;
  steal_cycles += o.steal_cycles;
  stolen_time_cycles += o.stolen_time_cycles;
  lock_wait_cycles += o.lock_wait_cycles;
  busy_cycles += o.busy_cycles;
  idle_cycles += o.idle_cycles;
  sleeps += o.sleeps;
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
       << std::setw(15) << c.idle_cycles << std::setw(8) << c.sleeps << '\n';
  };
  os << std::left << std::setw(7) << "core" << std::right << std::setw(5) << "cpu" << std::setw(13)
     << "posted" << std::setw(13) << "run" << std::setw(11) << "batches" << std::setw(7) << "exc"
     << std::setw(19) << "steals ok/tried" << std::setw(9) << "stolen" << std::setw(14)
     << "lock-wait cyc" << std::setw(15) << "busy cyc" << std::setw(15) << "idle cyc"
     << std::setw(8) << "sleeps" << '\n';
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
  s.events_run = events_run.get();
  s.batches = batches.get();
  s.handler_exceptions = handler_exceptions.get();
  s.steal_attempts = steal_attempts.get();
  s.steal_successes = steal_successes.get();
  s.steal_failures = steal_failures.get();
  s.events_stolen = events_stolen.get();
  s.colors_stolen = colors_stolen.get();
  s.steal_cycles = steal_cycles.get();
  s.stolen_time_cycles = stolen_time_cycles.get();
  s.lock_wait_cycles = lock_wait_cycles.load(std::memory_order_relaxed);
  s.idle_cycles = idle_cycles.get();
  if (const std::uint64_t start = start_cycles.load(std::memory_order_relaxed)) {
    const std::uint64_t end = end_cycles.load(std::memory_order_relaxed);
    const std::uint64_t lifetime = (end ? end : cycles_now()) - start;
    const std::uint64_t other = s.idle_cycles + s.steal_cycles;
    s.busy_cycles = lifetime > other ? lifetime - other : 0;
  }
  s.sleeps = sleeps.get();
  return s;
}

}  // namespace internal
}  // namespace hue
