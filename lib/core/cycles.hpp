// lib/core/cycles.hpp — the runtime's one cycle counter.
//
// Costs, steal times and statistics are kept in TSC ticks (the paper's "cycles"): reading the TSC
// costs ~20 cycles, far less than a clock_gettime, and on every x86-64 CPU of the last decade it is
// invariant (constant rate across cores and frequency changes), so differences taken on one core
// and compared on another are meaningful.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace hue::internal {

inline std::uint64_t cycles_now() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#elif defined(__aarch64__)
  std::uint64_t v;
  asm volatile("mrs %0, cntvct_el0" : "=r"(v));
  return v;
#else
#error "hue needs a cycle counter for this architecture"
#endif
}

// steady_clock in nanoseconds since its epoch (CLOCK_MONOTONIC): where a time must mean the same
// to the kernel or across processes (timer deadlines, trace windows), or where the TSC's rate is
// not known (spin windows given in microseconds).
inline std::uint64_t steady_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// Tells a spinning hardware thread to yield pipeline resources to its sibling.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace hue::internal
