// lib/core/stats.cpp — snapshots of the per-core counters and their readable dump.
#include "core.hpp"

#include <algorithm>
#include <cstring>
#include <iomanip>
#include <iterator>
#include <ostream>
#include <sstream>

namespace hue {

namespace {

// Applies `op` to every counter of `a` and `b`.
template <class Op>
void each_counter(core_stats& a, const core_stats& b, Op op) {
  for (const core_counter_field& f : core_counter_fields) op(a.*f.field, b.*f.field);
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

// One row per core and a total, one column per counter of the list, each as wide as its heading
// or the total's digits (the widest of its values).
std::ostream& operator<<(std::ostream& os, const runtime_stats& s) {
  const core_stats total = s.total();
  int width[std::size(core_counter_fields)];
  for (std::size_t i = 0; i < std::size(core_counter_fields); ++i) {
    const core_counter_field& f = core_counter_fields[i];
    width[i] = 2 + static_cast<int>(
                       std::max(std::strlen(f.heading), std::to_string(total.*f.field).size()));
  }
  os << std::left << std::setw(7) << "core" << std::right << std::setw(5) << "cpu";
  for (std::size_t i = 0; i < std::size(core_counter_fields); ++i)
    os << std::setw(width[i]) << core_counter_fields[i].heading;
  os << '\n';
  auto row = [&](const std::string& who, const std::string& cpu, const core_stats& c) {
    os << std::left << std::setw(7) << who << std::right << std::setw(5) << cpu;
    for (std::size_t i = 0; i < std::size(core_counter_fields); ++i)
      os << std::setw(width[i]) << c.*core_counter_fields[i].field;
    os << '\n';
  };
  for (const core_stats& c : s.cores)
    row(std::to_string(c.core), c.os_cpu < 0 ? "-" : std::to_string(c.os_cpu), c);
  row("total", "", total);
  os << "posts rejected after stop: " << s.posts_rejected << '\n';
  return os;
}

namespace internal {

namespace {
std::uint64_t read(const counter& c) noexcept { return c.get(); }
std::uint64_t read(const std::atomic<std::uint64_t>& c) noexcept {
  return c.load(std::memory_order_relaxed);
}
}  // namespace

core_stats core::snapshot() const {
  core_stats s;
  s.core = index;
  s.os_cpu = os_cpu.load(std::memory_order_relaxed);
#define HUE_READ_worker(field) s.field = read(stats.field);
#define HUE_READ_shared(field) s.field = read(field);
#define HUE_READ_derived(field)
#define HUE_READ_COUNTER(field, kept, stem, heading, help) HUE_READ_##kept(field)
  HUE_CORE_COUNTERS(HUE_READ_COUNTER)
#undef HUE_READ_COUNTER
#undef HUE_READ_worker
#undef HUE_READ_shared
#undef HUE_READ_derived
  // Busy time is what the worker's lifetime leaves once idling and stealing are taken out.
  if (const std::uint64_t start = start_cycles.load(std::memory_order_relaxed)) {
    const std::uint64_t end = end_cycles.load(std::memory_order_relaxed);
    const std::uint64_t lifetime = (end ? end : cycles_now()) - start;
    const std::uint64_t other = s.idle_cycles + s.steal_cycles;
    s.busy_cycles = lifetime > other ? lifetime - other : 0;
  }
  return s;
}

}  // namespace internal
}  // namespace hue
