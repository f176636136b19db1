// apps/sws/metrics.hpp — SWS's numbers for monitoring, in Prometheus' text exposition format
// (version 0.0.4), served on an opt-in path (hue-sws --metrics PATH).
//
// What is exported: requests by status, bytes sent, open and accepted connections, time-outs,
// resets, reloads (the server's `counters`), and every per-core counter of the runtime
// (hue::core_counter_fields, the one list in hue/stats.hpp), each with a `core` label.
// The text is rendered on the requesting connection's color from relaxed loads: a scrape is not an
// atomic cut across cores, but every counter in it is exact and monotonic, as Prometheus expects.
#pragma once

#include <hue/stats.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace sws {

// Responses sent, by status code. One relaxed add per response; codes outside 100..599 (never
// sent) are counted as 599 rather than dropped.
class status_counts {
 public:
  void add(int status) noexcept {
    by_code_[index(status)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t get(int status) const noexcept {
    return by_code_[index(status)].load(std::memory_order_relaxed);
  }

 private:
  static std::size_t index(int status) noexcept {
    return status < 100 || status > 599 ? 499 : static_cast<std::size_t>(status - 100);
  }
  std::array<std::atomic<std::uint64_t>, 500> by_code_{};
};

struct counters;

// The whole exposition: server counters first, then one sample per core for each runtime counter.
std::string prometheus_text(const counters& c, const hue::runtime_stats& rt);

// The Content-Type Prometheus asks for with this format.
inline constexpr const char* prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace sws
