// microbench/bench_common.hpp — what the paper's fork/join microbenchmarks share (penalty.cpp,
// cache_efficient.cpp): TSC, PRNG, statistics deltas, medians, the configurations of the paper's
// tables, option parsing, the timed window of a fork/join run, per-core handler accounting, a
// hardware cache-miss counter where the kernel offers one, and the cache distance between workers.
//
// Header-only on purpose: each benchmark is one executable, and dispatch.cpp / unbalanced.cpp keep
// their own copies of some of this until someone migrates them.
#pragma once

#include <hue/hue.hpp>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#else
#error "the microbenchmarks count cycles on the TSC: x86 only"
#endif

#include <hwloc.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace bench {

using bench_clock = std::chrono::steady_clock;

inline std::uint64_t tsc() noexcept { return __rdtsc(); }

// splitmix64: small, fast, and the same sequence on every platform.
struct prng {
  std::uint64_t s;
  std::uint64_t next() noexcept {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

// TSC ticks per second, measured once against steady_clock.
inline double measure_tsc_hz() {
  const auto t0 = bench_clock::now();
  const std::uint64_t c0 = tsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const auto t1 = bench_clock::now();
  const std::uint64_t c1 = tsc();
  return static_cast<double>(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
}


inline void cpu_pause() noexcept { _mm_pause(); }

// The OS cpus this process may run on (sched_getaffinity), in order.
inline std::vector<int> allowed_cpus() {
  std::vector<int> v;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return v;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) v.push_back(c);
  return v;
}

// Runs `f` on a thread bound to OS cpu `cpu` (unbound when binding fails: `f` gets false) and waits
// for it. Calibration uses it to place data on one core and touch it from another.
template <class F>
void on_cpu(int cpu, F&& f) {
  std::thread t([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    const bool bound = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
    f(bound);
  });
  t.join();
}

// ------------------------------------------------------------------------------------------------
// Numbers and text.

inline constexpr double no_value = std::numeric_limits<double>::quiet_NaN();

// Median of the finite values; NaN when there is none.
inline double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return no_value;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// "-" for NaN (a ratio with nothing to divide by: no steal, no event of that kind).
inline std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A table cell holding a percentage: "12.3%", or "-" when there is nothing to divide by.
inline std::string pct_cell(double v, int decimals) {
  return std::isfinite(v) ? fixed(v, decimals) + "%" : std::string("-");
}

// For CSV (empty) and key=value lines ("nan").
inline std::string csv_num(double v, int decimals) {
  return std::isfinite(v) ? fixed(v, decimals) : std::string();
}
inline std::string key_num(double v, int decimals) {
  return std::isfinite(v) ? fixed(v, decimals) : std::string("nan");
}

inline double ratio(std::uint64_t a, std::uint64_t b) {
  return b ? static_cast<double>(a) / static_cast<double>(b) : no_value;
}
inline double pct(std::uint64_t a, std::uint64_t b) { return 100.0 * ratio(a, b); }

// Median and range over repetitions of one figure.
template <class Rep, class Get>
double med_of(const std::vector<Rep>& reps, Get get) {
  std::vector<double> v;
  for (const Rep& r : reps) v.push_back(get(r));
  return median(v);
}
template <class Rep, class Get>
std::pair<double, double> range_of(const std::vector<Rep>& reps, Get get) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Rep& r : reps) {
    const double x = get(r);
    if (!std::isfinite(x)) continue;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  return {lo, hi};
}

// ------------------------------------------------------------------------------------------------
// The configurations of the paper's tables (SPEC §8.4), each run as a fresh hue::runtime.

struct configuration {
  std::string key;    // key=value and CSV name, --only
  std::string label;  // table name
  std::string steal;  // steal_config::parse text
  hue::cost_source costs;
};

inline const std::vector<configuration>& paper_configurations() {
  static const std::vector<configuration> all = {
      {"libasync_smp", "libasync-smp", "libasync-smp-off", hue::cost_source::annotated},
      {"libasync_smp_ws", "libasync-smp + WS", "libasync-smp", hue::cost_source::annotated},
      {"no_ws", "hue, no WS", "off", hue::cost_source::annotated},
      {"base", "hue base WS", "base", hue::cost_source::annotated},
      {"time_left", "hue time-left", "time-left", hue::cost_source::annotated},
      {"penalty", "hue penalty", "penalty", hue::cost_source::annotated},
      {"locality", "hue locality", "locality", hue::cost_source::annotated},
      {"all", "hue all heuristics", "all", hue::cost_source::annotated},
      {"all_measured", "hue all, measured costs", "all", hue::cost_source::measured},
  };
  return all;
}

inline bool steals(const configuration& c) {
  return c.steal != "off" && c.steal != "libasync-smp-off";
}

inline const char* cost_name(hue::cost_source c) {
  return c == hue::cost_source::measured ? "measured" : "annotated";
}

// ------------------------------------------------------------------------------------------------
// Command line. Flags with a value accept "--flag value" and "--flag=value"; anything wrong prints
// a message naming the flag and exits with status 2.

class cli {
 public:
  cli(std::string prog, std::function<void(std::FILE*)> usage)
      : prog_(std::move(prog)), usage_(std::move(usage)) {}

  [[noreturn]] void bad(const std::string& why) const {
    std::fprintf(stderr, "%s: %s\n(try --help)\n", prog_.c_str(), why.c_str());
    std::exit(2);
  }

  void flag(std::string name, bool& v) {
    switches_.push_back({std::move(name), [&v] { v = true; }});
  }
  template <class Int>
  void count(std::string name, Int& v, std::uint64_t lo, std::uint64_t hi) {
    valued_.push_back({std::move(name), [this, &v, lo, hi](std::string_view f, std::string_view t) {
                         v = static_cast<Int>(parse_count(f, t, lo, hi));
                       }});
  }
  void seconds(std::string name, double& v, double lo, double hi) {
    valued_.push_back({std::move(name), [this, &v, lo, hi](std::string_view f, std::string_view t) {
                         v = parse_seconds(f, t, lo, hi);
                       }});
  }
  void text(std::string name, std::string& v) {
    valued_.push_back({std::move(name), [this, &v](std::string_view f, std::string_view t) {
                         if (t.empty()) bad(std::string(f) + " needs a value");
                         v = std::string(t);
                       }});
  }
  // --only: comma-separated keys from `configs`, each checked.
  void only(std::string name, std::string& v, const std::vector<configuration>& configs) {
    valued_.push_back(
        {std::move(name), [this, &v, &configs](std::string_view f, std::string_view t) {
           if (t.empty()) bad(std::string(f) + " needs configuration keys");
           for (std::string_view rest = t; !rest.empty();) {
             const std::size_t comma = rest.find(',');
             const std::string_view word = rest.substr(0, comma);
             if (std::none_of(configs.begin(), configs.end(),
                              [&](const configuration& c) { return c.key == word; }))
               bad(std::string(f) + ": unknown configuration '" + std::string(word) + "'");
             rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
           }
           v = std::string(t);
         }});
  }

  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        usage_(stdout);
        std::exit(0);
      }
      std::string_view name = arg, value;
      bool has_value = false;
      if (const auto eq = arg.find('='); eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        has_value = true;
      }
      if (auto s = std::find_if(switches_.begin(), switches_.end(),
                                [&](const auto& e) { return e.first == name; });
          s != switches_.end()) {
        if (has_value) bad(std::string(name) + " takes no value");
        s->second();
        continue;
      }
      auto v = std::find_if(valued_.begin(), valued_.end(),
                            [&](const auto& e) { return e.first == name; });
      if (v == valued_.end()) bad("unknown argument '" + std::string(arg) + "'");
      if (!has_value) {
        if (i + 1 >= argc) bad(std::string(name) + " needs a value");
        value = argv[++i];
      }
      v->second(name, value);
    }
  }

 private:
  std::uint64_t parse_count(std::string_view flag, std::string_view t, std::uint64_t lo,
                            std::uint64_t hi) const {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size() || v < lo || v > hi)
      bad(std::string(flag) + " wants an integer in [" + std::to_string(lo) + ", " +
          std::to_string(hi) + "], got '" + std::string(t) + "'");
    return v;
  }
  double parse_seconds(std::string_view flag, std::string_view t, double lo, double hi) const {
    const std::string s(t);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < lo || v > hi)
      bad(std::string(flag) + " wants a number of seconds in [" + fixed(lo, 3) + ", " +
          fixed(hi, 0) + "], got '" + s + "'");
    return v;
  }

  std::string prog_;
  std::function<void(std::FILE*)> usage_;
  std::vector<std::pair<std::string, std::function<void()>>> switches_;
  std::vector<std::pair<std::string, std::function<void(std::string_view, std::string_view)>>>
      valued_;
};

inline bool selected(const std::string& only, const configuration& c) {
  if (only.empty()) return true;
  for (std::string_view rest = only; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    if (rest.substr(0, comma) == c.key) return true;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

// ------------------------------------------------------------------------------------------------
// The timed window of a fork/join run. Rounds are strictly sequential (the join of round r posts
// the fork of round r + 1), so the fork and the join, which run in handlers, may touch this state
// without locks; the main thread reads it only after `finished` (acquire).
//
//   fork:  if (w.at_fork(rt)) { snapshot the benchmark's own counters }   then post the round
//   join:  if (w.at_join(rt)) { snapshot again; w.finish(); return; }     else post the next fork
//   main:  if (!w.wait(seconds, timeout)) report a hang
class round_window {
 public:
  explicit round_window(unsigned warmup_rounds) : warmup_(warmup_rounds) {}

  bool timed() const noexcept { return round_ >= warmup_; }
  std::uint64_t round() const noexcept { return round_; }
  std::uint64_t progress() const noexcept { return progress_.load(std::memory_order_relaxed); }

  // In the fork, before the round's posts. True when this round opens the window.
  bool at_fork(const hue::runtime& rt) {
    if (round_ != warmup_) return false;
    start_stats_ = rt.stats();
    start_time_ = bench_clock::now();
    start_tsc_ = tsc();
    started_.store(true, std::memory_order_release);
    return true;
  }

  // In the join (the last event of the round). True when the window closes with this round: the
  // caller snapshots what it keeps, calls finish() and posts no further fork.
  bool at_join(const hue::runtime& rt) {
    const bool was_timed = timed();
    if (was_timed) ++timed_rounds_;
    ++round_;
    progress_.store(round_, std::memory_order_relaxed);
    if (!was_timed || !stop_requested_.load(std::memory_order_relaxed)) return false;
    end_tsc_ = tsc();
    end_time_ = bench_clock::now();
    end_stats_ = rt.stats();
    return true;
  }
  void finish() { finished_.store(true, std::memory_order_release); }

  // Main thread: lets the window run `seconds` once it opened. False when the run did not get
  // there within `timeout` seconds, or when no round completed for `stall` seconds (a hang: rounds
  // take milliseconds).
  bool wait(double seconds, double timeout, double stall) {
    const auto now = [] { return bench_clock::now(); };
    const auto span = [](double s) {
      return std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(s));
    };
    const auto give_up = now() + span(timeout);
    std::uint64_t seen = progress();
    auto moved_at = now();
    auto stalled = [&] {
      const std::uint64_t p = progress();
      if (p != seen) {
        seen = p;
        moved_at = now();
      }
      return now() > give_up || now() - moved_at > span(stall);
    };
    while (!started_.load(std::memory_order_acquire)) {
      if (stalled()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto stop_at = start_time_ + span(seconds);
    while (now() < stop_at) {
      if (stalled()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    stop_requested_.store(true, std::memory_order_relaxed);
    while (!finished_.load(std::memory_order_acquire)) {
      if (stalled()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  // Valid after wait() returned true.
  double seconds() const { return std::chrono::duration<double>(end_time_ - start_time_).count(); }
  std::uint64_t cycles() const { return end_tsc_ - start_tsc_; }
  std::uint64_t timed_rounds() const { return timed_rounds_; }
  hue::core_stats delta() const { return end_stats_.total() - start_stats_.total(); }
  std::vector<std::uint64_t> events_per_core() const {
    std::vector<std::uint64_t> v;
    for (std::size_t i = 0; i < end_stats_.cores.size(); ++i)
      v.push_back(end_stats_.cores[i].events_run - start_stats_.cores[i].events_run);
    return v;
  }

 private:
  const unsigned warmup_;
  std::uint64_t round_ = 0, timed_rounds_ = 0;
  std::atomic<std::uint64_t> progress_{0};
  hue::runtime_stats start_stats_, end_stats_;
  bench_clock::time_point start_time_{}, end_time_{};
  std::uint64_t start_tsc_ = 0, end_tsc_ = 0;
  std::atomic<bool> started_{false}, stop_requested_{false}, finished_{false};
};

// After a hang: destroys the run (its runtime's destructor stops and joins the workers, which is
// enough when they were only asleep, as in a lost wake-up) so that the other configurations can
// still be measured. When that does not return within `seconds` (a handler that never ends), the
// process exits with status 1: nothing else can be done with a thread that will not stop.
template <class T>
void destroy_or_exit(std::unique_ptr<T>& run, double seconds, const char* prog) {
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    const auto until = bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(
                                                std::chrono::duration<double>(seconds));
    while (!done.load()) {
      if (bench_clock::now() > until) {
        std::fprintf(stderr, "%s: the hung runtime did not stop within %.0f s either; giving up\n",
                     prog, seconds);
        std::fflush(nullptr);
        std::_Exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  run.reset();
  done.store(true);
  watchdog.join();
}

// ------------------------------------------------------------------------------------------------
// Per-worker handler accounting: cycles, events and "away" events (run on another core than the
// one holding their data) per kind of handler. Each worker writes only its own line (indexed by
// hue::runtime::current_core()), so a relaxed load + store is enough; the fork and the join read
// every line, and the round's countdown (acq_rel) orders those reads after the handlers' writes.
template <unsigned Kinds>
class handler_ledger {
 public:
  struct totals {
    std::uint64_t cycles[Kinds] = {}, events[Kinds] = {}, away[Kinds] = {};
    totals operator-(const totals& o) const {
      totals d;
      for (unsigned k = 0; k < Kinds; ++k) {
        d.cycles[k] = cycles[k] - o.cycles[k];
        d.events[k] = events[k] - o.events[k];
        d.away[k] = away[k] - o.away[k];
      }
      return d;
    }
  };

  explicit handler_ledger(unsigned workers) : lines_(new line[workers]), n_(workers) {}

  void add(unsigned kind, std::uint64_t cycles, bool away) noexcept {
    const unsigned c = hue::runtime::current_core();
    if (c >= n_) return;  // not on a worker (calibration runs use their own counting)
    line& l = lines_[c];
    bump(l.cycles[kind], cycles);
    bump(l.events[kind], 1);
    if (away) bump(l.away[kind], 1);
  }

  totals read() const noexcept {
    totals t;
    for (unsigned i = 0; i < n_; ++i)
      for (unsigned k = 0; k < Kinds; ++k) {
        t.cycles[k] += lines_[i].cycles[k].load(std::memory_order_relaxed);
        t.events[k] += lines_[i].events[k].load(std::memory_order_relaxed);
        t.away[k] += lines_[i].away[k].load(std::memory_order_relaxed);
      }
    return t;
  }

 private:
  struct alignas(64) line {
    std::atomic<std::uint64_t> cycles[Kinds] = {}, events[Kinds] = {}, away[Kinds] = {};
  };
  static void bump(std::atomic<std::uint64_t>& a, std::uint64_t n) noexcept {
    a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  std::unique_ptr<line[]> lines_;
  unsigned n_;
};

// ------------------------------------------------------------------------------------------------
// Hardware cache misses (the paper's "L2 misses / event"), through perf_event_open. The generic
// PERF_COUNT_HW_CACHE_MISSES event is used: on most CPUs it counts last-level-cache misses, not L2
// misses, which the column says when it is filled. Where the kernel or the hypervisor offers no
// such counter (this VM: `perf stat -e cache-misses` says <not supported>), every figure is "n/a":
// nothing is estimated in its place.
//
// The counter is opened on the main thread with `inherit`, before the runtime is created, so it
// also counts the workers (threads created later); their counts are folded into the parent's when
// they exit, so it is read after the runtime is destroyed. It therefore covers a whole repetition
// (warm-up round, window, shutdown), and is divided by every event that repetition ran.
class cache_miss_counter {
 public:
  // Empty when the counter works here, otherwise why not.
  static std::string probe() {
    cache_miss_counter c;
    std::string why;
    if (!c.open(why)) return why;
    std::vector<char> junk(8 << 20);
    for (std::size_t i = 0; i < junk.size(); i += 64) junk[i] = static_cast<char>(i);
    const auto n = c.close_and_read();
    if (!n) return "perf_event_open: the counter could not be read";
    if (*n == 0) return "perf_event_open: the cache-miss counter stays at 0 here";
    return {};
  }

  bool open(std::string& why) {
    perf_event_attr a{};
    a.size = sizeof a;
    a.type = PERF_TYPE_HARDWARE;
    a.config = PERF_COUNT_HW_CACHE_MISSES;
    a.inherit = 1;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    fd_ = static_cast<int>(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
    if (fd_ < 0) {
      why = std::string("perf_event_open(PERF_COUNT_HW_CACHE_MISSES): ") + std::strerror(errno);
      return false;
    }
    return true;
  }
  std::optional<std::uint64_t> close_and_read() {
    if (fd_ < 0) return std::nullopt;
    std::uint64_t v = 0;
    const bool ok = ::read(fd_, &v, sizeof v) == static_cast<ssize_t>(sizeof v);
    ::close(fd_);
    fd_ = -1;
    if (!ok) return std::nullopt;
    return v;
  }
  ~cache_miss_counter() {
    if (fd_ >= 0) ::close(fd_);
  }
  cache_miss_counter() = default;
  cache_miss_counter(const cache_miss_counter&) = delete;
  cache_miss_counter& operator=(const cache_miss_counter&) = delete;

 private:
  int fd_ = -1;
};

// ------------------------------------------------------------------------------------------------
// How far apart workers are in the cache hierarchy, read with hwloc the way the runtime reads it
// (lib/topology): one worker per core of the process's cpuset (every core of a synthetic or xml
// topology), worker i on core i % cores. Used only to *describe* where handlers ran and whether
// locality-aware stealing has any choice to make here.
class cache_map {
 public:
  enum level : unsigned { same_core, l2, l3, package, machine };

  // Empty description: this machine. Throws std::runtime_error when hwloc refuses it.
  cache_map(const std::string& description, unsigned workers) : workers_(workers) {
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0) throw std::runtime_error("hwloc_topology_init failed");
    int rc = 0;
    if (description.rfind("synthetic:", 0) == 0)
      rc = hwloc_topology_set_synthetic(t, description.c_str() + 10);
    else if (description.rfind("xml:", 0) == 0)
      rc = hwloc_topology_set_xml(t, description.c_str() + 4);
    else if (!description.empty())
      rc = -1;
    if (rc != 0 || hwloc_topology_load(t) != 0) {
      hwloc_topology_destroy(t);
      throw std::runtime_error("hwloc rejected the topology '" + description + "'");
    }
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
    if (!hwloc_topology_is_thissystem(t) ||
        hwloc_get_cpubind(t, allowed, HWLOC_CPUBIND_THREAD) != 0 || hwloc_bitmap_iszero(allowed))
      hwloc_bitmap_copy(allowed, hwloc_topology_get_topology_cpuset(t));
    const hwloc_obj_type_t unit =
        hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
    std::vector<hwloc_bitmap_t> sets;
    for (hwloc_obj_t o = hwloc_get_next_obj_by_type(t, unit, nullptr); o;
         o = hwloc_get_next_obj_by_type(t, unit, o)) {
      hwloc_bitmap_t s = hwloc_bitmap_alloc();
      hwloc_bitmap_and(s, o->cpuset, allowed);
      if (hwloc_bitmap_iszero(s))
        hwloc_bitmap_free(s);
      else
        sets.push_back(s);
    }
    hwloc_bitmap_free(allowed);
    cores_ = static_cast<unsigned>(sets.size());
    level_.assign(static_cast<std::size_t>(workers) * workers, machine);
    for (unsigned a = 0; a < workers && cores_; ++a)
      for (unsigned b = 0; b < workers; ++b) {
        const unsigned ca = a % cores_, cb = b % cores_;
        level d = machine;
        if (ca == cb) {
          d = same_core;
        } else {
          hwloc_bitmap_t both = hwloc_bitmap_alloc();
          hwloc_bitmap_or(both, sets[ca], sets[cb]);
          const hwloc_obj_t cache = hwloc_get_cache_covering_cpuset(t, both);
          if (cache && cache->attr->cache.depth <= 2) {
            d = l2;
          } else if (cache && cache->attr->cache.depth == 3) {
            d = l3;
          } else {
            for (hwloc_obj_t o = hwloc_get_obj_covering_cpuset(t, both); o; o = o->parent)
              if (o->type == HWLOC_OBJ_PACKAGE) d = package;
          }
          hwloc_bitmap_free(both);
        }
        level_[static_cast<std::size_t>(a) * workers + b] = d;
      }
    for (hwloc_bitmap_t s : sets) hwloc_bitmap_free(s);
    hwloc_topology_destroy(t);
  }

  unsigned cores() const noexcept { return cores_; }
  level between(unsigned a, unsigned b) const noexcept {
    return a < workers_ && b < workers_ ? level_[static_cast<std::size_t>(a) * workers_ + b]
                                        : machine;
  }
  // True when workers a and b share an L1 or L2 cache (or run on the same core).
  bool share_l2(unsigned a, unsigned b) const noexcept { return between(a, b) <= l2; }

  // Locality-aware stealing only reorders victims; it can change a decision only when some worker
  // sees other workers at two different distances.
  bool locality_has_a_choice() const noexcept {
    for (unsigned a = 0; a < workers_; ++a) {
      int first = -1;
      for (unsigned b = 0; b < workers_; ++b) {
        if (b == a) continue;
        const int d = static_cast<int>(between(a, b));
        if (first < 0)
          first = d;
        else if (d != first)
          return true;
      }
    }
    return false;
  }
  std::string describe() const {
    static const char* names[] = {"same core", "shared L2", "shared L3", "same package",
                                  "machine only"};
    std::string s;
    for (unsigned b = 1; b < workers_; ++b) {
      if (!s.empty()) s += ", ";
      s += "0-" + std::to_string(b) + ": " + names[between(0, b)];
    }
    return s;
  }

 private:
  unsigned workers_;
  unsigned cores_ = 0;
  std::vector<level> level_;
};

// --- rows of a paper-shaped table (penalty, cache_efficient) ---
// A Row has `cfg` (a configuration*), `reps` (per-repetition figures with the members used below)
// and `med(get)`; the helpers are generic over the figures each program adds.

template <class Row>
const Row* find_row(const std::vector<Row>& rows, std::string_view key) {
  for (const Row& r : rows)
    if (r.cfg->key == key) return &r;
  return nullptr;
}

// A headline ratio of two configurations' throughput, printed and emitted as key=value.
struct named_ratio {
  const char* key;
  const char* text;
  const char* num;
  const char* den;
};

template <class Row>
double throughput_ratio(const std::vector<Row>& rows, const named_ratio& nr) {
  const Row* a = find_row(rows, nr.num);
  const Row* b = find_row(rows, nr.den);
  if (!a || !b) return no_value;
  auto kev = [](const auto& f) { return f.kevents; };
  return a->med(kev) / b->med(kev);
}

template <class Row, std::size_t N>
void print_ratios(const std::vector<Row>& rows, const named_ratio (&ratios)[N], const char* unit) {
  std::printf("\nratios of %s/s (medians):\n", unit);
  for (const named_ratio& nr : ratios)
    if (const double v = throughput_ratio(rows, nr); std::isfinite(v))
      std::printf("  %-44s %7.2fx\n", nr.text, v);
}

template <class Row, std::size_t N>
void print_ratio_keys(const std::vector<Row>& rows, const named_ratio (&ratios)[N],
                      const char* prefix) {
  for (const named_ratio& nr : ratios)
    if (const double v = throughput_ratio(rows, nr); std::isfinite(v))
      std::printf("%s_%s=%.3f\n", prefix, nr.key, v);
}

// The CSV columns every table shares, in this order; `unit` is "kevents" or "ktasks".
inline std::string csv_common_header(const std::string& unit) {
  return "configuration,label,steal,costs," + unit + "_per_s," + unit + "_min," + unit + "_max,ideal_" +
         unit + ",efficiency,locking_time_pct,ws_cost_cycles_per_steal,steals_ok,steal_attempts,"
         "stolen_time_cycles_per_steal,l2_misses_per_" + (unit == "ktasks" ? "task" : "event");
}

template <class Row>
void csv_common_cells(std::ostream& out, const Row& r, double ideal) {
  auto fig = [&r](auto get) { return r.med(get); };
  auto kev = [](const auto& f) { return f.kevents; };
  const auto [lo, hi] = range_of(r.reps, kev);
  const double misses = fig([](const auto& f) { return f.misses; });
  out << r.cfg->key << ",\"" << r.cfg->label << "\"," << r.cfg->steal << ','
      << cost_name(r.cfg->costs) << ',' << csv_num(fig(kev), 1) << ',' << csv_num(lo, 1) << ','
      << csv_num(hi, 1) << ',' << csv_num(ideal, 1) << ','
      << csv_num(fig([](const auto& f) { return f.efficiency; }), 4) << ','
      << csv_num(fig([](const auto& f) { return f.lock_pct; }), 3) << ','
      << csv_num(fig([](const auto& f) { return f.ws_cost; }), 0) << ','
      << csv_num(fig([](const auto& f) { return f.steals_ok; }), 0) << ','
      << csv_num(fig([](const auto& f) { return f.steal_attempts; }), 0) << ','
      << csv_num(fig([](const auto& f) { return f.stolen; }), 0) << ','
      << (std::isfinite(misses) ? fixed(misses, 2) : std::string("n/a"));
}

}  // namespace bench
