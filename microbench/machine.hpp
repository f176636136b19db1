// microbench/machine.hpp — the line every benchmark table carries: what it was measured on, and the
// two figures of this VM that move under the measurements (the core's clock and the cross-core
// hop). Needs nothing of hue, so the echo and coarse programs print the same line.
#pragma once

#include <sys/utsname.h>
#include <unistd.h>
#include <x86intrin.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <limits>
#include <string>
#include <thread>

namespace bench {

// TSC ticks per second, measured once against steady_clock.
inline double tsc_hz() {
  static const double hz = [] {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = __rdtsc();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return static_cast<double>(__rdtsc() - c0) /
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }();
  return hz;
}

// The core's clock now, in GHz: a chain of dependent adds (one per cycle on any x86 of the last
// decade) timed with the TSC. The TSC's rate is fixed; the core's is not (boost, the host's load),
// and what the runtime itself spends per event is instructions, which go with the core's clock,
// while the benchmarks' handlers spin for TSC cycles, which do not.
inline double core_ghz() {
  constexpr std::uint64_t rounds = 20'000'000;  // 80 M adds, ~20 ms at 4 GHz
  std::uint64_t x = 0;
  const std::uint64_t t0 = __rdtsc();
  for (std::uint64_t i = 0; i < rounds; ++i)
    asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
  return 4.0 * rounds / static_cast<double>(__rdtsc() - t0) * tsc_hz() / 1e9;
}

// The floor under any cross-core ping-pong: two threads, pinned by `pin(0)` and `pin(1)` where
// workers 0 and 1 run, handing a counter through one cache line both spin on. On a VM this varies
// several-fold between runs (the host moves vCPUs: two vCPUs sharing an L3 hand a line over in
// ~30 ns, two on different L3s in ~200 ns), so a hop means little without it.
template <class Pin>
double hop_floor_ns(std::uint64_t trips, Pin pin) {
  alignas(64) std::atomic<std::uint64_t> ball{0};
  const std::uint64_t hops = 2 * trips;
  std::chrono::steady_clock::time_point start, end;
  auto side = [&](unsigned me) {
    pin(me);
    if (me == 0) start = std::chrono::steady_clock::now();
    for (std::uint64_t v = me; v < hops; v += 2) {
      while (ball.load(std::memory_order_acquire) != v) _mm_pause();
      ball.store(v + 1, std::memory_order_release);
    }
    if (me == 1) end = std::chrono::steady_clock::now();
  };
  std::thread b(side, 1), a(side, 0);
  a.join();
  b.join();
  return std::chrono::duration<double, std::nano>(end - start).count() / static_cast<double>(hops);
}

// Pins the calling thread to the i-th CPU this process may run on (for programs that do not place
// threads through hue's topology).
inline void pin_to_allowed_cpu(unsigned i) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  const int n = CPU_COUNT(&allowed);
  if (n == 0) return;
  for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed) || seen++ != static_cast<int>(i % static_cast<unsigned>(n)))
      continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    return;
  }
}

// On these VMs the hop floor moves between ~30 and ~240 ns as the host moves the vCPUs, and the
// figures move with it (a fork/join round that steals much gains or loses by the hop), so a table
// says which it had: the floor when its rows started (the program measures it) and at its end.
inline double& hop_floor_at_start() {
  static double ns = std::numeric_limits<double>::quiet_NaN();
  return ns;
}
constexpr std::uint64_t floor_trips = 20'000;

// What a table was measured on. On a shared VM the speed drifts under it: compare within a run.
// `floor_end`: the hop floor measured now (NaN: not measured).
inline std::string machine_line(double floor_end) {
  std::string model = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string l; std::getline(cpuinfo, l);)
    if (l.rfind("model name", 0) == 0) {
      model = l.substr(l.find(':') + 2);
      break;
    }
  auto kib = [](int name) {
    const long b = sysconf(name);
    return b <= 0           ? std::string("?")
           : b >= (1 << 20) ? std::to_string(b >> 20) + " MiB"
                            : std::to_string(b >> 10) + " KiB";
  };
  utsname u{};
  uname(&u);
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%FT%T%z", std::localtime(&now));
  char line[640];
  std::snprintf(line, sizeof line,
                "machine: %s x%u, TSC %.3f GHz, L2 %s, L3 %s, Linux %s, %s; core clock %.1f GHz, "
                "hop floor %.0f ns at start, %.0f ns at end",
                model.c_str(), std::thread::hardware_concurrency(), tsc_hz() / 1e9,
                kib(_SC_LEVEL2_CACHE_SIZE).c_str(), kib(_SC_LEVEL3_CACHE_SIZE).c_str(), u.release,
                date, core_ghz(), hop_floor_at_start(), floor_end);
  return line;
}

}  // namespace bench
