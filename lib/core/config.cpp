// lib/core/config.cpp — deciding each setting: program value, else environment, else default.
#include "runtime_impl.hpp"

#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hue {

std::string handler_error::what() const {
  try {
    if (exception) std::rethrow_exception(exception);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
  return "no exception";
}

io_backend parse_io_backend(const std::string& text) {
  if (text == "epoll") return io_backend::epoll;
  if (text == "uring" || text == "io_uring") return io_backend::uring;
  throw std::invalid_argument("hue: unknown io backend '" + text + "' (epoll or uring)");
}

steal_config steal_config::parse(const std::string& text) {
  steal_config c;
  if (text == "off") {
    c.mode = steal_mode::off;
  } else if (text == "base") {
    c.mode = steal_mode::base;
  } else if (text == "libasync-smp") {
    c.mode = steal_mode::libasync_smp;
  } else if (text == "libasync-smp-off") {
    c.mode = steal_mode::libasync_smp_off;
  } else if (text == "all") {
    c.mode = steal_mode::heuristics;
  } else {
    c.mode = steal_mode::heuristics;
    c.heuristics = {false, false, false};
    std::string_view rest = text;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view word = rest.substr(0, comma);
      if (word == "time-left") c.heuristics.time_left = true;
      else if (word == "penalty") c.heuristics.penalty = true;
      else if (word == "locality") c.heuristics.locality = true;
      else
        throw std::invalid_argument(
            "hue: stealing mode '" + text +
            "' is not off, base, libasync-smp, libasync-smp-off, all, or a comma-separated list "
            "of time-left, penalty, locality");
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  return c;
}

std::string steal_config::name() const {
  switch (mode) {
    case steal_mode::off: return "off";
    case steal_mode::base: return "base";
    case steal_mode::libasync_smp: return "libasync-smp";
    case steal_mode::libasync_smp_off: return "libasync-smp-off";
    case steal_mode::heuristics: break;
  }
  if (heuristics == heuristics_set{}) return "all";
  std::string n;
  if (heuristics.time_left) n += "time-left,";
  if (heuristics.penalty) n += "penalty,";
  if (heuristics.locality) n += "locality,";
  if (n.empty()) return "base";  // no heuristic at all is the base policy
  n.pop_back();
  return n;
}

namespace internal {
namespace {

// The value of `var` as an integer in [lo, hi], or `fallback` when unset. Garbage is an error:
// a benchmark run with HUE_WORKERS=tow must not silently measure the default.
std::uint64_t env_number(const char* var, std::uint64_t fallback, std::uint64_t lo,
                         std::uint64_t hi) {
  const char* raw = std::getenv(var);
  if (!raw || !*raw) return fallback;
  const std::string_view s(raw);
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi)
    throw std::invalid_argument("hue: " + std::string(var) + "='" + std::string(s) +
                                "' is not an integer in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "]");
  return v;
}

bool env_flag(const char* var, bool fallback) {
  const char* raw = std::getenv(var);
  if (!raw || !*raw) return fallback;
  const std::string_view s(raw);
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  throw std::invalid_argument("hue: " + std::string(var) + "='" + std::string(s) +
                              "' is not a boolean (0/1, true/false, yes/no, on/off)");
}

constexpr unsigned max_workers = 4096;  // a sanity bound, far above any machine hue runs on

}  // namespace

resolved_config resolve(const config& c, unsigned machine_cores) {
  resolved_config r;
  if (c.workers > max_workers) throw std::invalid_argument("hue: config.workers is above 4096");
  r.workers = c.workers ? c.workers
                        : static_cast<unsigned>(env_number("HUE_WORKERS", machine_cores, 1,
                                                           max_workers));
  r.batch = c.batch ? c.batch : static_cast<unsigned>(env_number("HUE_BATCH", 10, 1, 1u << 20));
  r.pin = c.pin ? *c.pin : env_flag("HUE_PIN", true);
  // 131,072 slots (5 MiB): a core owns slots / workers of them, and the live fresh colors placed on
  // it beyond that share slots; a shared slot sends a color's first event to a color-queue instead
  // of the lane. At 65,536, the unbalanced benchmark's 50,000 colors on core 0 (of 2) shared a
  // third of their slots: no stealing -12% and all heuristics -25% against 131,072, where no
  // stealing catches up with libasync-smp's plain FIFO.
  r.color_slots = c.color_slots ? c.color_slots
                                : static_cast<std::uint32_t>(
                                      env_number("HUE_COLOR_SLOTS", 131072, 1, 1u << 30));
  // 50 us: long enough to catch the next post of a busy ping-pong without a syscall on either
  // side, short enough that an idle runtime's CPU use is nil. Picked without data; tune later.
  r.idle_spin_ns = c.idle_spin ? static_cast<std::uint64_t>(c.idle_spin->count()) * 1000
                               : env_number("HUE_IDLE_SPIN_US", 50, 0, 1'000'000) * 1000;
  if (c.steal) {
    r.steal = *c.steal;
  } else if (const char* v = std::getenv("HUE_STEAL"); v && *v) {
    r.steal = steal_config::parse(v);
  }
  // A heuristics mode with every heuristic off is exactly the base policy.
  if (r.steal.mode == steal_mode::heuristics && r.steal.heuristics == heuristics_set{false, false, false})
    r.steal.mode = steal_mode::base;
  if (c.costs) {
    r.costs = *c.costs;
  } else if (const char* v = std::getenv("HUE_COSTS"); v && *v) {
    const std::string_view s(v);
    if (s == "annotated") r.costs = cost_source::annotated;
    else if (s == "measured") r.costs = cost_source::measured;
    else throw std::invalid_argument("hue: HUE_COSTS='" + std::string(s) + "' is not annotated or measured");
  } else {
    r.costs = cost_source::annotated;
  }
  r.on_error = c.on_error;
  r.name = c.name.empty() ? "hue" : c.name;
  if (!c.trace.empty()) r.trace = c.trace;
  else if (const char* f = std::getenv("HUE_TRACE")) r.trace = f;
  r.trace_records = c.trace_records
                        ? c.trace_records
                        : static_cast<std::uint32_t>(env_number("HUE_TRACE_RECORDS", 1u << 18, 1024,
                                                                1u << 26));
  if (c.io) {
    r.io = *c.io;
  } else if (const char* v = std::getenv("HUE_IO"); v && *v) {
    try {
      r.io = parse_io_backend(v);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument("hue: HUE_IO='" + std::string(v) + "' is not epoll or uring");
    }
  } else {
    r.io = io_backend::epoll;
  }
  return r;
}

std::string topology_description(const config& c) {
  if (!c.topology.empty()) return c.topology;
  const char* v = std::getenv("HUE_TOPOLOGY");
  return v ? v : "";
}

}  // namespace internal
}  // namespace hue
