// microbench/bench_common.hpp — what the four microbenchmarks share (dispatch.cpp, unbalanced.cpp,
// penalty.cpp, cache_efficient.cpp), so that each program holds only its workload and its own
// columns:
//   - the machine: TSC, PRNG, the process's cpus, pinning the benchmark's own threads;
//   - numbers and text: medians, ranges, cells, fixed-width text tables;
//   - the configurations of the paper's tables (SPEC §8.4) and the peers (§8.5);
//   - the command line (one parser; --csv opened before anything is measured);
//   - the fork/join programs' machinery: the timed window of a run, per-worker handler
//     accounting, the executors a workload runs on (hue, Boost.Asio, oneTBB), one repetition
//     with its hang handling, a hardware cache-miss counter where the kernel offers one, the cache
//     distance between workers;
//   - the paper-shaped table, its CSV columns, ratios and key=value lines.
//
// Header-only on purpose: each benchmark is one executable. The peers are compiled in only when
// meson found them (HUE_BENCH_ASIO: Boost, header-only; HUE_BENCH_TBB: oneTBB).
//
// A fork/join table program in four steps (penalty.cpp is the example to read):
//   template <class Exec> class my_run {         // the workload, written once for hue and peers
//     void fork() { rounds_.begin_round(n); rounds_.exec().post(rounds_.exec().fresh_color(0),
//                   [this] { handler(); }, info); }
//     void handler() { ...; if (rounds_.unit_done()) rounds_.end_round([this] { fork(); }); }
//     fork_join_rounds<Exec, kinds> rounds_;     // last member
//   };
//   run_interleaved(rows, o.reps, [&](row& r) {  // A B C .. A B C ..
//     measure_on_executor<my_run>(*r.cfg, counters, o, sample, r.last_stats, check, args..);
//     return derive(sample); });
//   paper_table<row>("KEvents/s", "event").column(..its own..).print(rows);
//   print_after_table(..); the CSV (csv_common_header / csv_common_cells); the key=value lines.
#pragma once

#include <hue/hue.hpp>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HUE_BENCH_HAVE_TSC 1
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
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef HUE_BENCH_ASIO
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#endif
#ifdef HUE_BENCH_TBB
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/task_scheduler_observer.h>
#endif

namespace bench {

#ifdef HUE_BENCH_ASIO
inline constexpr bool have_asio = true;
#else
inline constexpr bool have_asio = false;
#endif
#ifdef HUE_BENCH_TBB
inline constexpr bool have_tbb = true;
#else
inline constexpr bool have_tbb = false;
#endif

using bench_clock = std::chrono::steady_clock;

// The program's name, for its messages ("penalty: ..."). Set by cli.
inline std::string prog = "bench";

inline bench_clock::duration span(double seconds) {
  return std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(seconds));
}

// ------------------------------------------------------------------------------------------------
// The machine.

#ifdef HUE_BENCH_HAVE_TSC
// The programs that count cycles (unbalanced, penalty, cache_efficient) count them on the TSC, the
// runtime's own clock: x86 only. dispatch counts nanoseconds and builds anywhere.
inline std::uint64_t tsc() noexcept { return __rdtsc(); }
inline void cpu_pause() noexcept { _mm_pause(); }

// Busy-waits `cycles` TSC ticks.
inline void spin(std::uint64_t cycles) noexcept {
  const std::uint64_t start = tsc();
  while (tsc() - start < cycles) {
  }
}

// TSC ticks per second, measured once against steady_clock.
inline double measure_tsc_hz() {
  const auto t0 = bench_clock::now();
  const std::uint64_t c0 = tsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const auto t1 = bench_clock::now();
  const std::uint64_t c1 = tsc();
  return static_cast<double>(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
}
#else
inline void cpu_pause() noexcept {
#if defined(__aarch64__)
  asm volatile("yield");
#endif
}
#endif

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

// The OS cpus this process may run on, in OS order, read once: main() calls it before any thread
// of the process is pinned (a pinned thread would see only its own cpu). hue's topology uses the
// same set and order and puts worker i on core i % cores, so the benchmark's thread i pinned to
// cpus[i % size] shares worker i's cpu and neither side gains from the kernel scheduler's choices.
// (One PU per core on machines without SMT; with SMT hue binds to all of a core's PUs, we to its
// first one.)
inline const std::vector<int>& allowed_cpus() {
  static const std::vector<int> cpus = [] {
    std::vector<int> v;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
      for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) v.push_back(c);
    return v;
  }();
  return cpus;
}

inline bool bind_this_thread(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// Pins the calling thread where hue pins worker `index` (see allowed_cpus). Says once when the OS
// refuses; the thread then runs unpinned.
inline void pin_this_thread(unsigned index) {
  const std::vector<int>& cpus = allowed_cpus();
  static std::atomic<bool> warned{false};
  if (cpus.empty()) return;
  if (!bind_this_thread(cpus[index % cpus.size()]) && !warned.exchange(true))
    std::fprintf(stderr, "%s: cannot pin the benchmark's own threads; they run unpinned\n",
                 prog.c_str());
}

// HUE_PIN=0 unpins hue's workers; the peers' threads follow the same switch.
inline bool pin_peers() {
  const char* v = std::getenv("HUE_PIN");
  return !(v && std::string_view(v) == "0");
}

// Runs `f` on a thread bound to OS cpu `cpu` (unbound when binding fails: `f` gets false) and waits
// for it. Calibration uses it to place data on one core and touch it from another.
template <class F>
void on_cpu(int cpu, F&& f) {
  std::thread t([&] { f(bind_this_thread(cpu)); });
  t.join();
}

// Calibrations of data made on one core and used on another: producer(pass) on the first allowed
// cpu, then consumer(pass) on the second, pass after pass, both threads spinning all along (a vCPU
// that sleeps in between can be moved by the hypervisor, which makes a different number). False,
// and nothing run, when the process has one cpu.
template <class Producer, class Consumer>
bool across_cpus(unsigned passes, Producer&& producer, Consumer&& consumer) {
  const std::vector<int>& cpus = allowed_cpus();
  if (cpus.size() < 2) return false;
  std::atomic<unsigned> phase{0};
  std::thread first([&] {
    bind_this_thread(cpus[0]);
    for (unsigned pass = 0; pass < passes; ++pass) {
      while (phase.load(std::memory_order_acquire) != 2 * pass) cpu_pause();
      producer(pass);
      phase.store(2 * pass + 1, std::memory_order_release);
    }
  });
  std::thread second([&] {
    bind_this_thread(cpus[1]);
    for (unsigned pass = 0; pass < passes; ++pass) {
      while (phase.load(std::memory_order_acquire) != 2 * pass + 1) cpu_pause();
      consumer(pass);
      phase.store(2 * pass + 2, std::memory_order_release);
    }
  });
  first.join();
  second.join();
  return true;
}

inline void warn_if_oversubscribed(unsigned workers) {
  if (std::thread::hardware_concurrency() < workers)
    std::fprintf(stderr, "%s: %u workers on %u CPUs: workers share CPUs\n", prog.c_str(), workers,
                 std::thread::hardware_concurrency());
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

// Median and range over repetitions of one figure (NaN when no repetition has it).
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
  if (lo > hi) return {no_value, no_value};
  return {lo, hi};
}

// "median [min..max]", the figure of every table.
inline std::string med_range(double med, std::pair<double, double> range, int decimals) {
  return fixed(med, decimals) + " [" + fixed(range.first, decimals) + ".." +
         fixed(range.second, decimals) + "]";
}

// A table in fixed-width columns, as the paper's: the first column left-aligned, the others
// right-aligned, one space apart; one header line, or two when some column has a second one.
//
//   text_table<row>().column(24, "configuration", "", [](const row& r) { return r.name; })
//                    .column(10, "events/s", "", [](const row& r) { return fixed(r.rate, 0); })
//                    .print(rows);
template <class Row>
class text_table {
 public:
  using cell_fn = std::function<std::string(const Row&)>;

  text_table& column(int width, std::string head, std::string head2, cell_fn cell) {
    cols_.push_back({width, std::move(head), std::move(head2), std::move(cell)});
    return *this;
  }

  // Columns of a figure's median over a row's repetitions: a percentage, a number.
  template <class Get>
  text_table& percent(int width, std::string head, Get get, int decimals = 1) {
    return column(width, std::move(head), "",
                  [get, decimals](const Row& r) { return pct_cell(r.med(get), decimals); });
  }
  template <class Get>
  text_table& number(int width, std::string head, Get get, int decimals) {
    return column(width, std::move(head), "",
                  [get, decimals](const Row& r) { return fixed(r.med(get), decimals); });
  }

  void print(const std::vector<Row>& rows) const {
    line([](const col& c) { return c.head; });
    if (std::any_of(cols_.begin(), cols_.end(), [](const col& c) { return !c.head2.empty(); }))
      line([](const col& c) { return c.head2; });
    for (const Row& r : rows) line([&r](const col& c) { return c.cell(r); });
  }

 private:
  struct col {
    int width;
    std::string head, head2;
    cell_fn cell;
  };
  template <class Text>
  void line(Text text) const {
    for (std::size_t i = 0; i < cols_.size(); ++i)
      std::printf(i == 0 ? "%-*s" : " %*s", cols_[i].width, text(cols_[i]).c_str());
    std::printf("\n");
  }
  std::vector<col> cols_;
};

// ------------------------------------------------------------------------------------------------
// The configurations of the paper's tables (SPEC §8.4), each run as a fresh hue::runtime, and the
// peers (SPEC §8.5), each its own pool of threads, run on the same workload in the same run.

enum class runtime_kind : std::uint8_t { hue, asio, tbb };

struct configuration {
  std::string key;    // key=value and CSV name, --only
  std::string label;  // table name
  std::string steal;  // steal_config::parse text; "-" for the peers
  hue::cost_source costs = hue::cost_source::annotated;
  runtime_kind kind = runtime_kind::hue;
  bool asio_make_strand = false;  // unbalanced's second Asio row: a new strand per event

  bool peer() const { return kind != runtime_kind::hue; }
  bool built() const {
    return kind == runtime_kind::hue || (kind == runtime_kind::asio ? have_asio : have_tbb);
  }
  const char* system() const {
    return kind == runtime_kind::hue ? "hue" : kind == runtime_kind::asio ? "asio" : "tbb";
  }
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

// The paper's configurations, then the peers: Boost.Asio (one strand per color) and oneTBB;
// `asio_make_strand_row` adds unbalanced's "a new strand per event" Asio row.
inline const std::vector<configuration>& table_configurations(bool asio_make_strand_row = false) {
  auto make = [](bool make_strand) {
    std::vector<configuration> v = paper_configurations();
    v.push_back({"asio", "Boost.Asio", "-", hue::cost_source::annotated, runtime_kind::asio});
    if (make_strand)
      v.push_back({"asio_make_strand", "Asio, make_strand/event", "-", hue::cost_source::annotated,
                   runtime_kind::asio, true});
    v.push_back({"tbb", "oneTBB", "-", hue::cost_source::annotated, runtime_kind::tbb});
    return v;
  };
  static const std::vector<configuration> plain = make(false), with_make_strand = make(true);
  return asio_make_strand_row ? with_make_strand : plain;
}

inline bool steals(const configuration& c) {
  return !c.peer() && c.steal != "off" && c.steal != "libasync-smp-off";
}

inline const char* cost_name(const configuration& c) {
  return c.peer() ? "-" : c.costs == hue::cost_source::measured ? "measured" : "annotated";
}

// The lines of a usage text that list the configurations.
inline void print_configurations(std::FILE* to, const std::vector<configuration>& configs) {
  for (const configuration& c : configs) {
    if (c.peer())
      std::fprintf(to, "  %-16s %-26s peer%s\n", c.key.c_str(), c.label.c_str(),
                   c.built() ? "" : " (not built: library not found by meson)");
    else
      std::fprintf(to, "  %-16s %-26s steal=%s costs=%s\n", c.key.c_str(), c.label.c_str(),
                   c.steal.c_str(), cost_name(c));
  }
}

// The progress line of one repetition, on stderr.
inline void say_repetition(const configuration& c, unsigned rep, unsigned reps) {
  if (c.peer())
    std::fprintf(stderr, "%s: %s (peer), repetition %u/%u...\n", prog.c_str(), c.label.c_str(),
                 rep + 1, reps);
  else
    std::fprintf(stderr, "%s: %s (steal=%s, costs=%s), repetition %u/%u...\n", prog.c_str(),
                 c.label.c_str(), c.steal.c_str(), cost_name(c), rep + 1, reps);
}

// ------------------------------------------------------------------------------------------------
// Command line. Flags with a value accept "--flag value" and "--flag=value"; anything wrong prints
// a message naming the flag and exits with status 2.
//
//   options o;
//   cli c("penalty", usage);              // also names the program's messages (bench::prog)
//   c.seconds("--seconds", o.seconds, 0.001, 86'400);
//   c.count("--reps", o.reps, 1, 1000);
//   c.parse(argc, argv);

class cli {
 public:
  cli(std::string name, std::function<void(std::FILE*)> usage) : usage_(std::move(usage)) {
    prog = std::move(name);
  }

  [[noreturn]] static void bad(const std::string& why) {
    std::fprintf(stderr, "%s: %s\n(try --help)\n", prog.c_str(), why.c_str());
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

  std::function<void(std::FILE*)> usage_;
  std::vector<std::pair<std::string, std::function<void()>>> switches_;
  std::vector<std::pair<std::string, std::function<void(std::string_view, std::string_view)>>>
      valued_;
};

// The options of the fork/join table programs (unbalanced, penalty, cache_efficient); a program's
// options extend them and set its own defaults before add_table_flags.
struct table_options {
  double seconds = 1.5;
  unsigned reps = 3;
  unsigned workers = 2;
  std::uint64_t seed = 42;
  unsigned warmup = 2;
  double timeout = 0;  // 0: 60 s + 20 x --seconds
  double stall = 5;    // no round completed for this long: a hang
  std::string csv, only, topology;
  bool stats = false;
};

// --seconds --timeout --reps --workers --seed --warmup --only --csv --stats; `fork_join` adds
// --stall and --topology. after_table_flags() fills what depends on them.
inline void add_table_flags(cli& c, table_options& o, const std::vector<configuration>& configs,
                            bool fork_join) {
  c.seconds("--seconds", o.seconds, 0.001, 86'400);
  c.seconds("--timeout", o.timeout, 0.001, 86'400);
  c.count("--reps", o.reps, 1, 1000);
  c.count("--workers", o.workers, 1, 1024);
  c.count("--seed", o.seed, 0, std::numeric_limits<std::uint64_t>::max());
  c.count("--warmup", o.warmup, 0, 1000);
  c.only("--only", o.only, configs);
  c.text("--csv", o.csv);
  c.flag("--stats", o.stats);
  if (!fork_join) return;
  c.seconds("--stall", o.stall, 0.001, 86'400);
  c.text("--topology", o.topology);
}
inline void after_table_flags(table_options& o) {
  if (o.timeout == 0) o.timeout = 60 + 20 * o.seconds;
}

// The --help lines of add_table_flags' flags, with the program's defaults `d`, and the closing note.
inline void print_table_flags_help(std::FILE* to, const table_options& d, bool fork_join) {
  std::fprintf(
      to,
      "  --seconds S     timed window per repetition (whole rounds: the last one may overrun);\n"
      "                  default %s\n"
      "  --reps R        repetitions of each configuration, interleaved; median; default %u\n"
      "  --workers N     workers of each runtime, threads of each peer; default %u\n"
      "  --seed X        seed of the workload (the same in every repetition); default %llu\n"
      "  --warmup W      untimed rounds before the window; default %u\n"
      "  --timeout S     give up (report a hang, exit 1) when a repetition takes longer than S s;\n"
      "                  default 60 + 20 x --seconds\n",
      fixed(d.seconds, d.seconds == std::floor(d.seconds) ? 0 : 1).c_str(), d.reps, d.workers,
      static_cast<unsigned long long>(d.seed), d.warmup);
  if (fork_join)
    std::fprintf(
        to,
        "  --stall S       report a hang when no round completed for S s; default %s (the hung\n"
        "                  run is then stopped, the table marks it, the exit status is 1)\n"
        "  --topology T    hue::config::topology, e.g. \"synthetic:pack:2 l2:2 core:2 pu:1\" (the\n"
        "                  paper's machine; use --workers 8); hue's workers then run unpinned\n",
        fixed(d.stall, 0).c_str());
  std::fprintf(
      to,
      "  --only KEYS     run only these configurations (comma-separated keys from the list above)\n"
      "  --csv FILE      also write the table's rows to FILE as CSV\n"
      "  --stats         print hue's per-core statistics of each configuration's last repetition\n"
      "  --help          this text\n"
      "\n"
      "Other runtime settings come from the HUE_* environment variables (HUE_BATCH,\n"
      "HUE_IDLE_SPIN_US, HUE_PIN, ...). Output ends with key=value lines (%s_*) for scripts.\n",
      prog.c_str());
}

inline bool selected(const std::string& only, const configuration& c) {
  if (only.empty()) return true;
  for (std::string_view rest = only; !rest.empty();) {
    const std::size_t comma = rest.find(',');
    if (rest.substr(0, comma) == c.key) return true;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

// The configurations --only selected, less the peers that were not built (said once on stderr).
inline std::vector<const configuration*> selected_configurations(
    const std::vector<configuration>& configs, const std::string& only) {
  std::vector<const configuration*> v;
  for (const configuration& c : configs) {
    if (!selected(only, c)) continue;
    if (!c.built()) {
      std::fprintf(stderr,
                   "%s: %s peer not built (meson did not find %s): its rows are left out\n",
                   prog.c_str(), c.label.c_str(), c.kind == runtime_kind::asio ? "boost" : "tbb");
      continue;
    }
    v.push_back(&c);
  }
  return v;
}

// --csv FILE is opened before anything is measured, so that a bad path fails in a second rather
// than after minutes of runs (exit status 2). No path: `out` stays closed.
inline void open_csv(std::ofstream& out, const std::string& path) {
  if (path.empty()) return;
  out.open(path);
  if (!out) cli::bad("cannot open '" + path + "' for writing");
}

// The start of every program's main: the process's cpuset is read before any thread is pinned, and
// --csv opened before anything is measured.
inline std::ofstream begin(const std::string& csv_path) {
  allowed_cpus();
  std::ofstream csv;
  open_csv(csv, csv_path);
  return csv;
}

// After writing: false (and a message) when the file could not be written.
inline bool close_csv(std::ofstream& out, const std::string& path) {
  if (!out.is_open()) return true;
  out.flush();
  if (out) return true;
  std::fprintf(stderr, "%s: cannot write %s\n", prog.c_str(), path.c_str());
  return false;
}

#ifdef HUE_BENCH_HAVE_TSC
// ------------------------------------------------------------------------------------------------
// The timed window of a fork/join run. Rounds are strictly sequential (the join of round r posts
// the fork of round r + 1), so the fork and the join, which run in handlers, may touch this state
// without locks; the main thread reads it only after `finished` (acquire). `exec` is what the
// handlers run on: a hue::runtime, or an executor below (whose stats() are empty for the peers).
//
//   fork:  if (w.at_fork(exec)) { snapshot the benchmark's own counters }   then post the round
//   join:  if (w.at_join(exec)) { snapshot again; w.finish(); return; }     else post the next fork
//   main:  if (!w.wait(seconds, timeout, stall)) report a hang
class round_window {
 public:
  explicit round_window(unsigned warmup_rounds) : warmup_(warmup_rounds) {}

  bool timed() const noexcept { return round_ >= warmup_; }
  std::uint64_t round() const noexcept { return round_; }
  std::uint64_t progress() const noexcept { return progress_.load(std::memory_order_relaxed); }

  // In the fork, before the round's posts. True when this round opens the window.
  template <class Exec>
  bool at_fork(const Exec& exec) {
    round_start_tsc_ = tsc();
    if (round_ != warmup_) return false;
    start_stats_ = exec.stats();
    start_time_ = bench_clock::now();
    start_tsc_ = tsc();
    started_.store(true, std::memory_order_release);
    return true;
  }

  // In the join (the last event of the round). True when the window closes with this round: the
  // caller snapshots what it keeps, calls finish() and posts no further fork.
  template <class Exec>
  bool at_join(const Exec& exec) {
    const bool was_timed = timed();
    if (was_timed) {
      ++timed_rounds_;
      last_round_cycles_ = tsc() - round_start_tsc_;
      if (timed_rounds_ == 1) first_round_cycles_ = last_round_cycles_;
    }
    ++round_;
    progress_.store(round_, std::memory_order_relaxed);
    if (!was_timed || !stop_requested_.load(std::memory_order_relaxed)) return false;
    end_tsc_ = tsc();
    end_time_ = bench_clock::now();
    end_stats_ = exec.stats();
    return true;
  }
  void finish() { finished_.store(true, std::memory_order_release); }

  // Main thread: lets the window run `seconds` once it opened. False when the run did not get
  // there within `timeout` seconds, or when no round completed for `stall` seconds (a hang: rounds
  // take milliseconds).
  bool wait(double seconds, double timeout, double stall) {
    const auto now = [] { return bench_clock::now(); };
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
  std::uint64_t round_start_tsc() const { return round_start_tsc_; }  // of the current round
  std::uint64_t first_round_cycles() const { return first_round_cycles_; }
  std::uint64_t last_round_cycles() const { return last_round_cycles_; }
  const hue::runtime_stats& start_stats() const { return start_stats_; }
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
  std::uint64_t round_start_tsc_ = 0, first_round_cycles_ = 0, last_round_cycles_ = 0;
  std::atomic<std::uint64_t> progress_{0};
  hue::runtime_stats start_stats_, end_stats_;
  bench_clock::time_point start_time_{}, end_time_{};
  std::uint64_t start_tsc_ = 0, end_tsc_ = 0;
  std::atomic<bool> started_{false}, stop_requested_{false}, finished_{false};
};

// For at_fork / at_join where there are no hue statistics (a peer's own rounds).
struct no_stats {
  hue::runtime_stats stats() const { return {}; }
};

// What one repetition of a fork/join run measured in its window; programs extend it.
struct window_sample {
  double seconds = 0;
  std::uint64_t window_cycles = 0;  // elapsed TSC ticks of the window
  std::uint64_t rounds = 0, events = 0;
  std::uint64_t misplaced = 0;      // colors (or events) that could not be placed where asked
  hue::core_stats delta;            // hue's counters over the window, totals over cores (peers: 0)
  std::vector<std::uint64_t> events_per_core;  // hue only
  double misses_per_event = no_value;          // whole repetition; NaN when no counter

  void take(const round_window& w, std::uint64_t events_per_round) {
    seconds = w.seconds();
    window_cycles = w.cycles();
    rounds = w.timed_rounds();
    events = rounds * events_per_round;
    delta = w.delta();
    events_per_core = w.events_per_core();
  }
};
#endif  // HUE_BENCH_HAVE_TSC

// After a hang: destroys the run (its destructor stops and joins its threads, which is enough when
// they were only asleep, as in a lost wake-up) so that the other configurations can still be
// measured. When that does not return within `seconds` (a handler that never ends), the process
// exits with status 1: nothing else can be done with a thread that will not stop.
template <class T>
void destroy_or_exit(std::unique_ptr<T>& run, double seconds) {
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    const auto until = bench_clock::now() + span(seconds);
    while (!done.load()) {
      if (bench_clock::now() > until) {
        std::fprintf(stderr, "%s: the hung run did not stop within %.0f s either; giving up\n",
                     prog.c_str(), seconds);
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
// Per-worker handler accounting: cycles, events and "away" events (run on another worker than the
// one holding their data) per kind of handler. Each worker writes only its own line (indexed by
// the executor's here()), so a relaxed load + store is enough; the fork and the join read every
// line, and the round's countdown (acq_rel) orders those reads after the handlers' writes.
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

  void add(unsigned worker, unsigned kind, std::uint64_t cycles, bool away) noexcept {
    if (worker >= n_) return;  // not on a worker (calibration runs use their own counting)
    line& l = lines_[worker];
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
// The peers' thread pools. Their threads are pinned as hue pins its workers (thread i on
// allowed_cpus()[i % size]) unless HUE_PIN=0. Both run their usual way: idle Asio threads block on
// a condition variable; idle TBB workers spin a little, then sleep (hue spins HUE_IDLE_SPIN_US).

// The index of the benchmark thread running the caller (an Asio run thread), or no_core.
inline thread_local unsigned peer_thread_index = hue::runtime::no_core;

#ifdef HUE_BENCH_ASIO
namespace asio = boost::asio;

// One io_context (concurrency hint = threads) run by `threads` pinned threads, kept busy by a work
// guard until join(). Hazard, for owners: the threads run handlers that point into the owner, and
// a strand must be destroyed before its io_context, so an owner declares this first, makes its
// strands, calls start() last in its constructor and join() first in its destructor.
class asio_threads {
 public:
  explicit asio_threads(unsigned threads)
      : n_(threads), ctx_(static_cast<int>(threads)), guard_(asio::make_work_guard(ctx_)) {}
  ~asio_threads() { join(); }
  asio_threads(const asio_threads&) = delete;
  asio_threads& operator=(const asio_threads&) = delete;

  asio::io_context& context() { return ctx_; }

  void start() {
    const bool pin = pin_peers();
    for (unsigned i = 0; i < n_; ++i)
      threads_.emplace_back([this, i, pin] {
        peer_thread_index = i;
        if (pin) pin_this_thread(i);
        ctx_.run();
      });
  }
  // Lets the threads return once nothing is queued, and waits for them. Idempotent.
  void join() {
    guard_.reset();
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  const unsigned n_;
  asio::io_context ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};
#endif  // HUE_BENCH_ASIO

#ifdef HUE_BENCH_TBB
// A task_arena of `workers` slots, one of them for the thread that calls execute() (reserved for
// it, TBB's default), pinned slot by slot. A global_control lets the arena have more workers than
// the machine has CPUs (TBB's default caps them at the core count), and the destructor waits for
// TBB's worker threads to exit (tbb::finalize): otherwise they would outlive the run, spinning for
// a while, and take CPU time from the configuration measured next.
class tbb_arena {
 public:
  explicit tbb_arena(unsigned workers) : scheduler_(tbb::attach{}) { parts_.emplace(workers); }
  ~tbb_arena() {
    parts_.reset();
    if (!tbb::finalize(scheduler_, std::nothrow))
      std::fprintf(stderr, "%s: oneTBB's workers did not all exit after the run\n", prog.c_str());
  }
  tbb_arena(const tbb_arena&) = delete;
  tbb_arena& operator=(const tbb_arena&) = delete;

  // Runs f in the arena on the calling thread, which takes slot 0 (and is pinned there meanwhile:
  // its own affinity is given back afterwards).
  template <class F>
  void execute(F&& f) {
    cpu_set_t saved;
    const bool have_saved = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
    parts_->arena.execute(std::forward<F>(f));
    if (have_saved) pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
  }

 private:
  class pinner : public tbb::task_scheduler_observer {
   public:
    explicit pinner(tbb::task_arena& arena) : tbb::task_scheduler_observer(arena) { observe(true); }
    ~pinner() override { observe(false); }
    void on_scheduler_entry(bool) override {
      const int slot = tbb::this_task_arena::current_thread_index();
      if (slot >= 0) pin_this_thread(static_cast<unsigned>(slot));
    }
  };
  struct parts_t {
    explicit parts_t(unsigned workers)
        : parallelism(tbb::global_control::max_allowed_parallelism, workers),
          arena(static_cast<int>(workers)) {
      arena.initialize();
      if (pin_peers()) pin = std::make_unique<pinner>(arena);
    }
    tbb::global_control parallelism;
    tbb::task_arena arena;
    std::unique_ptr<pinner> pin;
  };
  tbb::task_scheduler_handle scheduler_;
  std::optional<parts_t> parts_;
};
#endif  // HUE_BENCH_TBB

#ifdef HUE_BENCH_HAVE_TSC
// ------------------------------------------------------------------------------------------------
// Executors: what a fork/join workload's handlers run on. A workload is written once against this
// interface (a template on Exec) and run on hue and on each peer, on the same rounds:
//
//   Exec(const configuration&, const exec_params&)
//   color fresh_color(unsigned worker)  a color for a new chain of events (run one at a time, in
//                                       order), owned by `worker` now where the executor can place
//                                       colors (`places`); callable from several handlers at once
//   post(color, f, info)                queues f on that color (info: hue's annotation)
//   post_fork(f)                        queues the round's fork: on hue a color pinned to core 0;
//                                       on Asio the io_context; on oneTBB a task
//   start(f)                            starts the threads and posts the first fork
//   unsigned here()                     the worker running the calling handler (0 .. workers-1)
//   hue::runtime_stats stats()          hue's statistics; empty for the peers
//   std::uint64_t misplaced()           colors fresh_color could not place where asked (hue)
//
// Destruction joins the executor's threads, so whatever holds one (fork_join_rounds, below) is
// declared after everything those threads touch.

struct exec_params {
  unsigned workers = 2;
  std::string topology;              // hue::config::topology ("" = this machine)
  std::string name = "bench";        // hue::config::name
  std::size_t colors_per_round = 1;  // Asio: the strands made once per run, one per color
};

constexpr hue::color_t fork_color = 0;
inline constexpr hue::handler_info fork_info{.name = "fork"};

// The runtime of a table row: its stealing mode and costs; the rest from HUE_* as for any program.
inline hue::config hue_config(const configuration& c, const exec_params& p) {
  hue::config cfg;
  cfg.workers = p.workers;
  cfg.steal = hue::steal_config::parse(c.steal);
  cfg.costs = c.costs;
  cfg.topology = p.topology;
  cfg.name = p.name;
  return cfg;
}

// hue: one runtime, configured as the table row says; the fork's color is pinned to core 0.
class hue_executor {
 public:
  using color = hue::color_t;
  static constexpr bool places = true;
  // How many color numbers fresh_color may skip (owned by another core) before it takes the next
  // one wherever it hashes. That happens when stealing has moved (nearly) every table slot away
  // from the core asked for: a steal moves the stolen color's whole slot.
  static constexpr std::uint64_t max_color_scan = 4096;

  hue_executor(const configuration& c, const exec_params& p) : rt_(hue_config(c, p)) {
    rt_.pin_color(fork_color, 0);
  }

  color fresh_color(unsigned worker) {
    for (std::uint64_t scanned = 0;; ++scanned) {
      const color c = next_color_.fetch_add(1, std::memory_order_relaxed);
      if (rt_.core_of(c) == worker) return c;
      if (scanned == max_color_scan) {
        misplaced_.fetch_add(1, std::memory_order_relaxed);
        return c;
      }
    }
  }
  template <class F>
  void post(color c, F&& f, const hue::handler_info& info) {
    rt_.post(c, std::forward<F>(f), info);
  }
  template <class F>
  void post_fork(F&& f) {
    rt_.post(fork_color, std::forward<F>(f), fork_info);
  }
  template <class F>
  void start(F&& f) {
    post_fork(std::forward<F>(f));
  }
  static unsigned here() noexcept { return hue::runtime::current_core(); }
  hue::runtime_stats stats() const { return rt_.stats(); }
  std::uint64_t misplaced() const { return misplaced_.load(); }

 private:
  std::atomic<color> next_color_{fork_color + 1};
  std::atomic<std::uint64_t> misplaced_{0};
  hue::runtime rt_;  // last: its workers are joined before the members they use go
};

#ifdef HUE_BENCH_ASIO
// Boost.Asio: one io_context run by one pinned thread per worker, one strand per color. Strands are
// made once per run, as an Asio program makes one per connection or object, and handed out in
// turn: a round uses exactly colors_per_round of them, so every color of a round has a strand of
// its own, idle when its first event is posted, as every fresh hue color is. The fork is a handler
// on the io_context itself (no strand: one fork at a time), and posts from inside the runtime, as
// the paper's first core does; Asio cannot pin it, or anything, to a thread.
class asio_executor {
 public:
  using color = std::size_t;
  static constexpr bool places = false;

  asio_executor(const configuration&, const exec_params& p) : threads_(p.workers) {
    strands_.reserve(p.colors_per_round);
    for (std::size_t i = 0; i < std::max<std::size_t>(p.colors_per_round, 1); ++i)
      strands_.push_back(asio::make_strand(threads_.context()));
  }
  ~asio_executor() { threads_.join(); }  // before the strands go

  color fresh_color(unsigned) {
    return next_.fetch_add(1, std::memory_order_relaxed) % strands_.size();
  }
  template <class F>
  void post(color c, F&& f, const hue::handler_info&) {
    asio::post(strands_[c], std::forward<F>(f));
  }
  template <class F>
  void post_fork(F&& f) {
    asio::post(threads_.context(), std::forward<F>(f));
  }
  template <class F>
  void start(F&& f) {
    threads_.start();
    post_fork(std::forward<F>(f));
  }
  static unsigned here() noexcept { return peer_thread_index; }
  hue::runtime_stats stats() const { return {}; }
  std::uint64_t misplaced() const { return 0; }

 private:
  asio_threads threads_;
  std::vector<asio::strand<asio::io_context::executor_type>> strands_;
  std::atomic<std::size_t> next_{0};
};
#endif  // HUE_BENCH_ASIO

#ifdef HUE_BENCH_TBB
// oneTBB: a task_arena of `workers` slots and one task_group; an event is a task. No colors: in
// these workloads a color never has two events pending (each event posts its color's next one), so
// a chain of tasks keeps the order. A thread of the benchmark enters the arena (slot 0) and runs
// the first fork; every later fork is run()ed by the previous round's last event, so it lands in
// that thread's deque and the round's load starts there; the others steal it.
class tbb_executor {
 public:
  using color = unsigned;
  static constexpr bool places = false;

  tbb_executor(const configuration&, const exec_params& p) : arena_(p.workers) {}
  ~tbb_executor() {
    if (entry_.joinable()) entry_.join();
  }

  color fresh_color(unsigned) { return 0; }
  template <class F>
  void post(color, F&& f, const hue::handler_info&) {
    tasks_->run(std::forward<F>(f));
  }
  template <class F>
  void post_fork(F&& f) {
    tasks_->run(std::forward<F>(f));
  }
  // The entry thread waits in the arena (running tasks meanwhile) until the last join posts no
  // fork: a task always posts its successor before it ends, so the group empties only then.
  template <class F>
  void start(F f) {
    entry_ = std::thread([this, f] {
      arena_.execute([this, &f] {
        tbb::task_group tasks;
        tasks_ = &tasks;
        tasks.run(f);
        tasks.wait();
      });
    });
  }
  static unsigned here() noexcept {
    const int slot = tbb::this_task_arena::current_thread_index();
    return slot >= 0 ? static_cast<unsigned>(slot) : hue::runtime::no_core;
  }
  hue::runtime_stats stats() const { return {}; }
  std::uint64_t misplaced() const { return 0; }

 private:
  tbb_arena arena_;
  tbb::task_group* tasks_ = nullptr;  // set before the first task runs
  std::thread entry_;
};
#endif  // HUE_BENCH_TBB

// What every fork/join workload (penalty, cache_efficient) needs around its own handlers: its
// executor, the timed window, the per-worker handler ledger and the round's countdown. A workload
// declares one as its last member (the executor's threads are then joined before the workload's
// own state goes) and writes only its fork and its handlers:
//
//   fork:   rounds_.begin_round(units);  then post the round's first events on rounds_.exec()
//   handler that ends a unit of the round:  if (rounds_.unit_done()) rounds_.end_round(fork);
//   main:   rounds_.run(fork, sample)  (Sample: a window_sample with `handlers`)
//
// A round is `units` chains of events (colors, arrays); the last chain to finish is the join.
template <class Exec, unsigned Kinds>
class fork_join_rounds {
 public:
  fork_join_rounds(const configuration& c, const table_options& o, const exec_params& p,
                   std::uint64_t events_per_round)
      : o_(o),
        events_per_round_(events_per_round),
        ledger_(p.workers),
        window_(o.warmup),
        exec_(c, p) {}

  Exec& exec() { return exec_; }
  handler_ledger<Kinds>& ledger() { return ledger_; }
  const round_window& window() const { return window_; }
  // The worker that ran this round's fork (written before the round's posts, which order it).
  unsigned fork_worker() const { return fork_worker_; }

  // Main thread: starts the rounds with `fork` and lets the window run. False on a hang.
  template <class Fork, class Sample>
  bool run(Fork fork, Sample& out) {
    exec_.start(std::move(fork));
    if (!window_.wait(o_.seconds, o_.timeout, o_.stall)) return false;
    out.take(window_, events_per_round_);
    out.misplaced = exec_.misplaced();
    out.handlers = end_ - start_;
    return true;
  }

  // The fork, before its first post: opens the window when due and arms the countdown.
  void begin_round(std::uint64_t units) {
    if (window_.at_fork(exec_)) start_ = ledger_.read();
    fork_worker_ = exec_.here();
    remaining_.store(units, std::memory_order_relaxed);
  }
  // A unit is done. True for the last one of the round (acq_rel: it sees every other unit's
  // writes), which then calls end_round.
  bool unit_done() { return remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  // The join: closes the window when its time is up, else posts the next fork.
  template <class Fork>
  void end_round(Fork fork) {
    if (window_.at_join(exec_)) {
      end_ = ledger_.read();
      window_.finish();
      return;
    }
    exec_.post_fork(std::move(fork));
  }

  hue::runtime_stats stats() const { return exec_.stats(); }
  std::string where(const char* units) const {
    return "round " + std::to_string(window_.progress()) + ", " +
           std::to_string(remaining_.load()) + " " + units + " of the round left";
  }
  std::uint64_t events_run() const { return window_.progress() * events_per_round_; }

 private:
  const table_options& o_;
  const std::uint64_t events_per_round_;
  handler_ledger<Kinds> ledger_;
  typename handler_ledger<Kinds>::totals start_, end_;
  round_window window_;
  unsigned fork_worker_ = 0;
  std::atomic<std::uint64_t> remaining_{0};
  Exec exec_;  // last: its threads are joined before the rest goes
};

// Calls f(std::type_identity<Exec>{}) with the executor of configuration `c`.
template <class F>
auto with_executor(const configuration& c, F&& f) {
  switch (c.kind) {
#ifdef HUE_BENCH_ASIO
    case runtime_kind::asio:
      return f(std::type_identity<asio_executor>{});
#endif
#ifdef HUE_BENCH_TBB
    case runtime_kind::tbb:
      return f(std::type_identity<tbb_executor>{});
#endif
    case runtime_kind::hue:
      return f(std::type_identity<hue_executor>{});
    default:
      throw std::logic_error(c.label + ": peer not built");
  }
}
#endif  // HUE_BENCH_HAVE_TSC

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

// ------------------------------------------------------------------------------------------------
// Rows of a paper-shaped table. A program's Figures (one repetition's derived numbers) extend
// common_figures; a row holds a configuration and the figures of its repetitions.

struct common_figures {
  double kevents = no_value, efficiency = no_value, lock_pct = no_value, idle_pct = no_value;
  double ws_cost = no_value, stolen = no_value, events_per_steal = no_value;
  double steals_ok = no_value, steal_attempts = no_value;
  double misses = no_value;  // hardware cache misses per event; NaN: no counter
};

#ifdef HUE_BENCH_HAVE_TSC
// Columns, as in the paper's tables:
//   kevents      thousands of events per second over the window
//   efficiency   kevents over the ideal bound
//   locking      cycles any thread spun on a core lock, over elapsed TSC cycles x workers
//   idle         idle cycles, over the same
//   WS cost      steal_cycles / steal_successes: cycles per successful steal (failed attempts
//                included in the cycles, hence "steals ok/att" next to it)
//   stolen time  stolen_time_cycles / steal_successes: the expected run time moved by one steal
// A peer has no hue statistics: its lock, idle and steal figures are NaN ("-"), its steals 0.
inline void derive_common(common_figures& f, const window_sample& s, unsigned workers,
                          double ideal_kevents, bool peer) {
  f.kevents = static_cast<double>(s.events) / s.seconds / 1e3;
  f.efficiency = f.kevents / ideal_kevents;
  const double available = static_cast<double>(s.window_cycles) * workers;
  f.lock_pct = 100.0 * static_cast<double>(s.delta.lock_wait_cycles) / available;
  f.idle_pct = 100.0 * static_cast<double>(s.delta.idle_cycles) / available;
  f.ws_cost = ratio(s.delta.steal_cycles, s.delta.steal_successes);
  f.stolen = ratio(s.delta.stolen_time_cycles, s.delta.steal_successes);
  f.events_per_steal = ratio(s.delta.events_stolen, s.delta.steal_successes);
  f.steals_ok = static_cast<double>(s.delta.steal_successes);
  f.steal_attempts = static_cast<double>(s.delta.steal_attempts);
  f.misses = s.misses_per_event;
  if (peer) f.lock_pct = f.idle_pct = no_value;
}

// One repetition of a fork/join run, made by `make()` (a std::unique_ptr to it), which must offer:
//   bool run(Sample&)                  runs the timed window and fills the sample; false: a hang
//   hue::runtime_stats stats() const   hue's statistics (peers: empty)
//   std::string where() const          for a hang report: the round, and what it had left to do
//   std::uint64_t events_run() const   events run so far, warm-up included
// The cache-miss counter (when `counters`) is opened before the run exists, so that it counts the
// run's threads too, and read after they are gone. `check(run)` looks at the run before it is
// destroyed. A hang is reported on stderr (with hue's statistics), the run destroyed, and false
// returned: the caller counts it and goes on with the other configurations.
template <class Sample, class Make, class Check>
bool measure_repetition(const configuration& c, bool counters, const table_options& o, Sample& s,
                        hue::runtime_stats& last_stats, Make make, Check check) {
  cache_miss_counter hw;
  std::string why;
  const bool hw_on = counters && hw.open(why);
  auto run = make();
  if (!run->run(s)) {
    std::fprintf(stderr, "%s: HANG: %s: no round completed for %.0f s (or over %.0f s in all), %s\n",
                 prog.c_str(), c.label.c_str(), o.stall, o.timeout, run->where().c_str());
    if (!c.peer()) std::cerr << run->stats() << '\n';
    destroy_or_exit(run, 30);
    return false;
  }
  if (!c.peer()) last_stats = run->stats();
  const std::uint64_t all_events = run->events_run();
  check(*run);
  run.reset();
  if (hw_on)
    if (const auto n = hw.close_and_read())
      s.misses_per_event = static_cast<double>(*n) / static_cast<double>(all_events);
  if (s.misplaced)
    std::fprintf(stderr, "%s: %s: %llu colors could not be placed on the core asked for\n",
                 prog.c_str(), c.label.c_str(), static_cast<unsigned long long>(s.misplaced));
  return true;
}

// measure_repetition of Run<Exec>(c, args...), Exec being the executor of configuration c.
template <template <class> class Run, class Sample, class Check, class... Args>
bool measure_on_executor(const configuration& c, bool counters, const table_options& o, Sample& s,
                         hue::runtime_stats& last_stats, Check check, const Args&... args) {
  return with_executor(c, [&](auto exec) {
    using run_t = Run<typename decltype(exec)::type>;
    return measure_repetition(
        c, counters, o, s, last_stats, [&] { return std::make_unique<run_t>(c, args...); }, check);
  });
}
#endif  // HUE_BENCH_HAVE_TSC

template <class Figures>
struct table_row {
  const configuration* cfg;
  std::vector<Figures> reps;      // the repetitions that completed
  unsigned hangs = 0;
  hue::runtime_stats last_stats;  // --stats: hue's last repetition, whole run

  template <class Get>
  double med(Get get) const {
    return med_of(reps, get);
  }
  template <class Get>
  std::pair<double, double> range(Get get) const {
    return range_of(reps, get);
  }
};

template <class Row>
std::vector<Row> make_rows(const std::vector<const configuration*>& configs) {
  std::vector<Row> rows;
  for (const configuration* c : configs) rows.push_back(Row{c, {}, 0, {}});
  return rows;
}

// The repetitions, interleaved (A B C .. A B C ..) so that the noise of a shared machine falls on
// every configuration alike. `one(row)` measures one repetition of the row's configuration: its
// figures, or nullopt after a hang (counted in the row).
template <class Row, class One>
void run_interleaved(std::vector<Row>& rows, unsigned reps, One one) {
  for (unsigned rep = 0; rep < reps; ++rep)
    for (Row& r : rows) {
      say_repetition(*r.cfg, rep, reps);
      if (auto f = one(r))
        r.reps.push_back(std::move(*f));
      else
        ++r.hangs;
    }
}

// A figure of the repetitions, for med() and range(): r.med(FIG(kevents)).
#define FIG(name) [](const auto& f) { return static_cast<double>(f.name); }

// The columns every paper-shaped table starts with; a program appends its own. `unit` heads the
// throughput column ("KEvents/s"), `per` the cache-miss one ("event").
struct paper_widths {
  int name = 24, kev = 24, eff = 7, lock = 8, ws = 11, ok_att = 15, stolen = 12, l2 = 9;
};

template <class Row>
text_table<Row> paper_table(const std::string& unit, const std::string& per,
                            const paper_widths& w = {}) {
  text_table<Row> t;
  t.column(w.name, "configuration", "", [](const Row& r) { return r.cfg->label; })
      .column(w.kev, unit, "",
              [](const Row& r) {
                return r.reps.empty() ? std::string("HANG")
                                      : med_range(r.med(FIG(kevents)), r.range(FIG(kevents)), 0);
              })
      .column(w.eff, "effic.", "",
              [](const Row& r) { return pct_cell(100 * r.med(FIG(efficiency)), 1); })
      .column(w.lock, "locking", "time", [](const Row& r) { return pct_cell(r.med(FIG(lock_pct)), 2); })
      .column(w.ws, "WS cost", "(cyc/steal)",
              [](const Row& r) { return fixed(r.med(FIG(ws_cost)), 0); })
      .column(w.ok_att, "steals ok/att", "",
              [](const Row& r) {
                return steals(*r.cfg) && !r.reps.empty()
                           ? fixed(r.med(FIG(steals_ok)), 0) + "/" +
                                 fixed(r.med(FIG(steal_attempts)), 0)
                           : std::string("-");
              })
      .column(w.stolen, "stolen time", "(cyc/steal)",
              [](const Row& r) { return fixed(r.med(FIG(stolen)), 0); })
      .column(w.l2, "L2 miss/", per, [](const Row& r) {
        const double m = r.med(FIG(misses));
        return std::isfinite(m) ? fixed(m, 1) : std::string("n/a");
      });
  return t;
}

// The first column of a "where the time went" table.
template <class Row>
text_table<Row> where_table() {
  text_table<Row> t;
  t.column(24, "configuration", "", [](const Row& r) { return r.cfg->label; });
  return t;
}

// "12345 (x1.07)": cycles of an event, and that over its warm (calibrated) cost; "-" when none ran.
inline std::string cycles_vs_warm(double cycles, double warm) {
  return std::isfinite(cycles) ? fixed(cycles, 0) + " (x" + fixed(cycles / warm, 2) + ")"
                               : std::string("-");
}

// The lines the calibrated programs print under their calibration and their table.
inline void print_counter_note(const std::string& counters_why, const char* per) {
  if (!counters_why.empty())
    std::printf("L2 miss/%s: n/a: no hardware cache counter here (%s)\n", per, counters_why.c_str());
  else
    std::printf(
        "L2 miss/%s: perf's generic cache-misses (usually last-level, not L2), whole "
        "repetition\n",
        per);
}
inline void print_calibrated_ideal(double ideal_kevents, const char* unit) {
  std::printf(
      "\nideal bound: %.0f %s/s (warm calibrated cycles of a round's events / workers, at the "
      "TSC rate;\n  no runtime overhead, no cache miss, no serial fork); efficiency = %s/s / "
      "ideal\n",
      ideal_kevents, unit, unit);
}

// The median ideal bound over every repetition of every row (repetitions replay the same rounds,
// so they differ only by how many whole rounds each window held).
template <class Row>
double median_ideal(const std::vector<Row>& rows) {
  std::vector<double> v;
  for (const Row& r : rows)
    for (const auto& f : r.reps) v.push_back(f.ideal_kevents);
  return median(v);
}

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

// The ratios between the paper's configurations every table program prints.
inline constexpr named_ratio paper_ratios[] = {
    {"ratio_all_over_base", "hue all heuristics / hue base WS", "all", "base"},
    {"ratio_all_over_libasync_smp_ws", "hue all heuristics / libasync-smp + WS", "all",
     "libasync_smp_ws"},
    {"ratio_measured_over_annotated", "hue all, measured costs / annotated", "all_measured", "all"},
    {"ratio_base_over_no_ws", "hue base WS / hue, no WS", "base", "no_ws"},
    {"ratio_libasync_smp_ws_over_libasync_smp", "libasync-smp + WS / libasync-smp",
     "libasync_smp_ws", "libasync_smp"},
};

// The ratios to the peers every table program prints.
inline constexpr named_ratio peer_ratios[] = {
    {"ratio_all_over_asio", "hue all heuristics / Boost.Asio", "all", "asio"},
    {"ratio_all_over_tbb", "hue all heuristics / oneTBB", "all", "tbb"},
    {"ratio_base_over_asio", "hue base WS / Boost.Asio", "base", "asio"},
    {"ratio_base_over_tbb", "hue base WS / oneTBB", "base", "tbb"},
};

// A program's ratios: its headline, the paper's, its own to the peers, the common peer ones.
inline std::vector<named_ratio> table_ratios(std::initializer_list<named_ratio> headline,
                                             std::initializer_list<named_ratio> to_peers = {}) {
  std::vector<named_ratio> v(headline);
  v.insert(v.end(), std::begin(paper_ratios), std::end(paper_ratios));
  v.insert(v.end(), to_peers);
  v.insert(v.end(), std::begin(peer_ratios), std::end(peer_ratios));
  return v;
}

template <class Row>
double throughput_ratio(const std::vector<Row>& rows, const named_ratio& nr) {
  const Row* a = find_row(rows, nr.num);
  const Row* b = find_row(rows, nr.den);
  if (!a || !b) return no_value;
  return a->med(FIG(kevents)) / b->med(FIG(kevents));
}

template <class Row>
void print_ratios(const std::vector<Row>& rows, const std::vector<named_ratio>& ratios,
                  const char* unit) {
  std::printf("\nratios of %s/s (medians):\n", unit);
  for (const named_ratio& nr : ratios)
    if (const double v = throughput_ratio(rows, nr); std::isfinite(v))
      std::printf("  %-44s %7.*fx\n", nr.text, v < 0.1 ? 4 : 2, v);
}

template <class Row>
void print_ratio_keys(const std::vector<Row>& rows, const std::vector<named_ratio>& ratios,
                      const char* prefix) {
  for (const named_ratio& nr : ratios)
    if (const double v = throughput_ratio(rows, nr); std::isfinite(v))
      std::printf("%s_%s=%.3f\n", prefix, nr.key, v);
}

// key=value lines "<prefix>_<configuration>_<suffix>=<median>", for every row or (hue_only) for
// hue's: the peers have no hue statistics. `missing` stands for a NaN.
template <class Row, class Get>
void print_row_keys(const char* prefix, const std::vector<Row>& rows, const char* suffix, Get get,
                    int decimals, bool hue_only = false, const char* missing = "nan") {
  for (const Row& r : rows) {
    if (hue_only && r.cfg->peer()) continue;
    const double v = r.med(get);
    std::printf("%s_%s_%s=%s\n", prefix, r.cfg->key.c_str(), suffix,
                std::isfinite(v) ? fixed(v, decimals).c_str() : missing);
  }
}

// The key=value lines of the columns every table has: throughput (`unit`: kevents, ktasks),
// efficiency, and hue's locking time, WS cost and stolen time; `l2_per` (task, event) adds the
// cache misses, "n/a" where not counted.
template <class Row>
void print_common_keys(const char* prefix, const std::vector<Row>& rows, const char* unit,
                       const char* l2_per = nullptr) {
  print_row_keys(prefix, rows, unit, FIG(kevents), 1);
  print_row_keys(prefix, rows, "efficiency", FIG(efficiency), 4);
  print_row_keys(prefix, rows, "lock_pct", FIG(lock_pct), 3, true);
  print_row_keys(prefix, rows, "ws_cycles_per_steal", FIG(ws_cost), 0, true);
  print_row_keys(prefix, rows, "stolen_cycles_per_steal", FIG(stolen), 0, true);
  if (l2_per)
    print_row_keys(prefix, rows, (std::string("l2_misses_per_") + l2_per).c_str(), FIG(misses), 2,
                   false, "n/a");
}

template <class Row>
void print_hang_keys(const char* prefix, const std::vector<Row>& rows) {
  for (const Row& r : rows) std::printf("%s_%s_hangs=%u\n", prefix, r.cfg->key.c_str(), r.hangs);
}

// After the tables: the rows some repetitions of which hung. Returns how many hung in all.
template <class Row>
unsigned print_hangs(const std::vector<Row>& rows, unsigned reps) {
  unsigned hangs = 0;
  for (const Row& r : rows) {
    hangs += r.hangs;
    if (r.hangs)
      std::printf(
          "\nHANG: %s: %u of %u repetitions hung (see stderr); its figures are the median "
          "of the others\n",
          r.cfg->label.c_str(), r.hangs, reps);
  }
  return hangs;
}

// --stats: hue's per-core statistics of each hue row's last repetition.
template <class Row>
void print_hue_stats(const std::vector<Row>& rows) {
  for (const Row& r : rows)
    if (!r.cfg->peer())
      std::cout << "\nhue stats, " << r.cfg->label << " (last repetition, whole run):\n"
                << r.last_stats;
  std::cout.flush();
}

// What every table program prints after its table: the ratios, the hangs, (--stats) hue's
// statistics. Returns how many repetitions hung.
template <class Row>
unsigned print_after_table(const std::vector<Row>& rows, const std::vector<named_ratio>& ratios,
                           const char* unit, const table_options& o) {
  print_ratios(rows, ratios, unit);
  const unsigned hangs = print_hangs(rows, o.reps);
  if (o.stats) print_hue_stats(rows);
  std::fflush(stdout);
  return hangs;
}

// The CSV columns every table shares, in this order; `unit` is "kevents" or "ktasks". A program
// appends its own columns, then `system` (hue, asio, tbb: tools/plot_bench.py colours by it).
inline std::string csv_common_header(const std::string& unit) {
  return "configuration,label,steal,costs," + unit + "_per_s," + unit + "_min," + unit + "_max,ideal_" +
         unit + ",efficiency,locking_time_pct,ws_cost_cycles_per_steal,steals_ok,steal_attempts,"
         "stolen_time_cycles_per_steal,l2_misses_per_" + (unit == "ktasks" ? "task" : "event");
}

template <class Row>
void csv_common_cells(std::ostream& out, const Row& r, double ideal) {
  const auto [lo, hi] = r.range(FIG(kevents));
  const double misses = r.med(FIG(misses));
  out << r.cfg->key << ",\"" << r.cfg->label << "\"," << r.cfg->steal << ',' << cost_name(*r.cfg)
      << ',' << csv_num(r.med(FIG(kevents)), 1) << ',' << csv_num(lo, 1) << ',' << csv_num(hi, 1)
      << ',' << csv_num(ideal, 1) << ',' << csv_num(r.med(FIG(efficiency)), 4) << ','
      << csv_num(r.med(FIG(lock_pct)), 3) << ',' << csv_num(r.med(FIG(ws_cost)), 0) << ','
      << csv_num(r.med(FIG(steals_ok)), 0) << ','
      << (r.cfg->peer() ? std::string() : csv_num(r.med(FIG(steal_attempts)), 0)) << ','
      << csv_num(r.med(FIG(stolen)), 0) << ','
      << (std::isfinite(misses) ? fixed(misses, 2) : std::string("n/a"));
}

// The key=value lines saying which peers this binary has.
inline void print_peer_keys(const char* prefix) {
  std::printf("%s_asio_available=%d\n", prefix, have_asio ? 1 : 0);
  std::printf("%s_tbb_available=%d\n", prefix, have_tbb ? 1 : 0);
}

}  // namespace bench
