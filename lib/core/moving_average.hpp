// lib/core/moving_average.hpp — the one averaging rule for measured costs (handlers and steals).
//
// An exponential moving average, new sample weighted 1/8: smooth enough to ignore one cache-cold
// run, quick enough to follow a cost that changes. Samples are TSC differences, so a worker that
// the OS preempts mid-measurement reports milliseconds for a microsecond handler (seen constantly
// on a loaded 2-core VM); each sample is therefore clamped to twice the current average before it
// counts. A real slowdown still shows: the average can grow by 1/8 per sample.
#pragma once

#include <cstdint>

namespace hue::internal {

inline std::uint64_t moving_average(std::uint64_t average, std::uint64_t sample) noexcept {
  if (average == 0) return sample ? sample : 1;  // first sample; 0 stays "never measured"
  if (sample > 2 * average) sample = 2 * average;
  const std::uint64_t next = average - average / 8 + sample / 8;
  return next ? next : 1;
}

}  // namespace hue::internal
