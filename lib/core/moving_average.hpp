// lib/core/moving_average.hpp — the one averaging rule for measured costs (handlers and steals).
//
// An exponential moving average, new sample weighted 1/8: smooth enough to ignore one cache-cold
// run, quick enough to follow a cost that changes. Samples are TSC differences, so a worker that
// the OS preempts mid-measurement reports milliseconds for a microsecond handler (seen constantly
// on a loaded 2-core VM, where a fifth of the samples of a 200 us handler can be inflated that
// way); each sample is therefore clamped to 1.25x the current average before it counts. Samples
// below the average count in full, so the estimate leans to a handler's undisturbed cost. A real
// slowdown still shows: the average can grow by ~3% per sample (a 10x change in ~80 samples).
#pragma once

#include <cstdint>

namespace hue::internal {

inline std::uint64_t moving_average(std::uint64_t average, std::uint64_t sample) noexcept {
  if (average == 0) return sample ? sample : 1;  // first sample; 0 stays "never measured"
  if (sample > average + average / 4) sample = average + average / 4;
  const std::uint64_t next = average - average / 8 + sample / 8;
  return next ? next : 1;
}

}  // namespace hue::internal
