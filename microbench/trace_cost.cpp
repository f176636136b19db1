// microbench/trace_cost.cpp — what a trace window costs a worker, in its own CPU time, on
// dispatch's one-color load: a driver handler posts chunks of 10,000 events to one color and
// the chunk's last event re-posts the driver (1 worker, the runtime's default batch).
//
//   trace_cost [--rounds N] [--events N] [--records N]
//
// Each round builds two runtimes one after the other, one with a trace window open from the start
// (written to /dev/null at destruction, outside the measured time) and one without, the order
// alternating from round to round; each runs a warm-up and then 3 measured repetitions of
// --events events (default 1,000,000), and keeps their median. The figure is the worker thread's
// CPU time (CLOCK_THREAD_CPUTIME_ID) per event, read in the first and the last handler: unlike
// dispatch's wall time, it does not count the time other processes hold the CPU, which on a
// shared 2-core machine moves dispatch's rows by 2x between runs seconds apart. It still counts
// what they do to the caches. Prints each round, then the medians and the median of the rounds'
// on/off ratios. --records: ring size (default 4,194,304: no ring fills).
#include <hue/hue.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

namespace {

constexpr hue::handler_info tiny{.name = "tiny"};
constexpr std::uint64_t chunk = 10'000;

double thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// One repetition: returns the worker's CPU ns per event.
double chunked(hue::runtime& rt, std::uint64_t total) {
  struct state {
    hue::runtime& rt;
    hue::color_t color;
    std::uint64_t total, posted = 0, ran = 0, chunk_end = 0;
    double start = 0, end = 0;
    std::atomic<bool> done{false};
    void drive() {
      if (posted == 0) start = thread_cpu_ns();
      chunk_end = posted + std::min(chunk, total - posted);
      for (; posted < chunk_end; ++posted) rt.post(color, [this] { tick(); }, tiny);
    }
    void tick() {
      if (++ran != chunk_end) return;
      if (ran == total) {
        end = thread_cpu_ns();
        done.store(true, std::memory_order_release);
        done.notify_one();
      } else {
        rt.post(color, [this] { drive(); }, tiny);
      }
    }
  } s{rt, rt.new_color(), total};
  rt.post(s.color, [&s] { s.drive(); }, tiny);
  s.done.wait(false, std::memory_order_acquire);
  return (s.end - s.start) / static_cast<double>(total);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::uint64_t number(const char* flag, const char* text) {
  char* end = nullptr;
  const unsigned long long v = text ? std::strtoull(text, &end, 10) : 0;
  if (!text || *end || v == 0) {
    std::fprintf(stderr, "trace_cost: %s needs a positive number\n", flag);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t rounds = 8, events = 1'000'000, records = 1u << 22;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (!std::strcmp(a, "--rounds")) rounds = number(a, argv[++i < argc ? i : 0]);
    else if (!std::strcmp(a, "--events")) events = number(a, argv[++i < argc ? i : 0]);
    else if (!std::strcmp(a, "--records")) records = number(a, argv[++i < argc ? i : 0]);
    else {
      std::fprintf(stderr, "usage: trace_cost [--rounds N] [--events N] [--records N]\n");
      return 2;
    }
  }
  std::vector<double> off, on, ratio;
  for (std::uint64_t r = 0; r < rounds; ++r) {
    double ns[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      const bool traced = (k == 0) == (r % 2 == 1);
      hue::config cfg;
      cfg.workers = 1;
      cfg.name = "trace_cost";
      cfg.trace_records = static_cast<std::uint32_t>(records);
      if (traced) cfg.trace = "/dev/null";
      hue::runtime rt(cfg);
      chunked(rt, std::min<std::uint64_t>(events, 100'000));  // fills the allocators' free lists
      std::vector<double> reps;
      for (int rep = 0; rep < 3; ++rep) reps.push_back(chunked(rt, events));
      ns[traced] = median(reps);
    }
    off.push_back(ns[0]);
    on.push_back(ns[1]);
    ratio.push_back(ns[1] / ns[0]);
    std::printf("round %llu: off %.2f, on %.2f ns CPU/event, on/off %.3f\n",
                static_cast<unsigned long long>(r + 1), ns[0], ns[1], ns[1] / ns[0]);
  }
  std::printf("median: off %.2f, on %.2f ns CPU/event; median of the rounds' on/off: %.3fx\n",
              median(off), median(on), median(ratio));
}
