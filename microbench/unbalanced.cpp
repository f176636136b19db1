// microbench/unbalanced.cpp — the paper's *unbalanced* microbenchmark (§5.2, Tables 3 and 4).
//
// Fork/join rounds. Each round one handler, on a color pinned to core 0, posts E independent events
// (default 50,000), each on a color of its own that core 0 owns at posting time, so the whole load
// starts on the first core. 98% of the events spin 100 cycles, 2% spin a uniformly random
// 10,000..50,000 cycles (on the TSC, the runtime's "cycles"). The last event to finish (an atomic
// countdown) posts the next round's fork. Rounds go on for --seconds; the result is events per
// second over the whole rounds completed in that window.
//
// Each configuration is its own hue::runtime (workers = 2 unless --workers), created per
// repetition; repetitions interleave the configurations (A B C .. A B C ..) so that the noise of a
// shared machine falls on all of them alike, and the median is reported. Every repetition replays
// the same event sequence (one PRNG seed), after one untimed warm-up round.
//
// Columns, as in the paper's tables:
//   KEvents/s        thousands of events per second (median [min..max])
//   locking time     cycles any thread spun on a core lock (stats lock_wait_cycles), over the
//                    cycles available in the window (elapsed TSC cycles x workers)
//   WS cost          steal_cycles / steal_successes: cycles per successful steal. steal_cycles
//                    also holds the failed attempts, so "steals ok/att" is printed next to it
//   stolen time      stolen_time_cycles / steal_successes: expected run time (the events' cost as
//                    the runtime saw it: annotated, or measured) moved by one steal
//   L2 misses/event  n/a: hardware counters are not read by this benchmark
// and the ideal bound: the handler cycles of the events actually run (sum of their spin targets)
// spread perfectly over the workers, as events per second at the measured TSC rate; efficiency is
// a configuration's events/s over that bound. The bound ignores the serial fork (posting E events
// from one handler) and every per-event cost of the runtime, so no configuration can reach it.
//
// A second table says where the time went, because hue's placement drifts as a run goes on: a
// steal moves the stolen color's whole table slot to the thief for good (SPEC §2.6), so the slots
// core 0 owns, which are where the fork can put its events, dwindle round after round. It shows the
// share of events core 0 ran, idle time, events per steal, the events that had to be posted off
// core 0 (core 0 owned no slot any more), the rounds in which nothing was stolen, and the first and
// last round's length. --trace prints one line per round, with core 0's share of the table.
//
// The runtime's other settings (batch, idle spin, pinning) come from the HUE_* environment
// variables, as for any hue program; workers, steal and costs are set here and win over them.
//
// Peers (SPEC §8.5), in the same run, on the same rounds (the same event-cost sequence, warm-up
// and timed window), each built only when meson found its library:
//   asio  Boost.Asio (HUE_BENCH_ASIO): one io_context run by one thread per worker. The fork is a
//         handler on the io_context (Asio cannot pin a handler to a thread: any run thread may take
//         it) and posts every event on a strand of its own, the analogue of hue's one color per
//         event; the event that brings the countdown to zero posts the next fork, as in hue.
//   tbb   oneTBB (HUE_BENCH_TBB): a task_arena of N slots (the main thread, which forks, plus N-1
//         TBB workers) and a task_group: the fork run()s the round's events as tasks from inside
//         the arena and wait() is the join. No colors: the events are independent.
// Their threads are pinned as hue pins its workers (thread i on the i-th CPU of the process's
// cpuset, modulo its size) unless HUE_PIN=0. Both run their usual way: idle Asio threads block on a
// condition variable; idle TBB workers spin a little, then sleep (hue spins HUE_IDLE_SPIN_US).
// The table's steal columns do not apply to them ("-").
//
// --workers-sweep runs hue (all heuristics), Asio and oneTBB at 1, 2, .. --workers workers instead
// of the table, for a scaling plot: CSV rows workers,system,kevents_per_s,...
#include <hue/hue.hpp>

#include <pthread.h>
#include <sched.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#else
#error "unbalanced spins on the TSC: x86 only"
#endif

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
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

namespace {

#ifdef HUE_BENCH_ASIO
constexpr bool have_asio = true;
#else
constexpr bool have_asio = false;
#endif
#ifdef HUE_BENCH_TBB
constexpr bool have_tbb = true;
#else
constexpr bool have_tbb = false;
#endif

using bench_clock = std::chrono::steady_clock;

// The paper's workload.
constexpr std::uint64_t small_cycles = 100;
constexpr std::uint64_t big_min_cycles = 10'000, big_max_cycles = 50'000;
constexpr std::uint64_t big_per_10000 = 200;  // 2% of the events are big

// Static storage: the runtime keeps a pointer to the info for as long as an event names it. The
// big events' cost varies per event but an info is per handler, so they are annotated with the
// mean of their range. Note that `measured_cost` lives in the info and is therefore shared by every
// runtime of the process: a configuration measuring costs starts from what earlier ones measured.
constexpr hue::handler_info small_info{.name = "small", .cost = small_cycles};
constexpr hue::handler_info big_info{.name = "big", .cost = (big_min_cycles + big_max_cycles) / 2};
constexpr hue::handler_info fork_info{.name = "fork"};

// The fork's color, pinned to core 0. The events' colors are taken above it.
constexpr hue::color_t fork_color = 0;
// How many color numbers the fork may skip (owned by another core) before it gives up looking for
// one that core 0 owns. It then stops looking for the rest of the round and posts the remaining
// events on consecutive colors, wherever they hash (counted as "misplaced"). This happens when
// stealing has moved (nearly) every table slot away from core 0: a steal moves the stolen color's
// whole slot, and the slot stays with the thief until someone steals it back.
constexpr std::uint64_t max_color_scan = 4096;

inline std::uint64_t tsc() noexcept { return __rdtsc(); }

// Busy-waits `cycles` TSC ticks.
inline void spin(std::uint64_t cycles) noexcept {
  const std::uint64_t start = tsc();
  while (tsc() - start < cycles) {
  }
}

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

// The next event of the sequence: its spin target in cycles. Every configuration, hue's and the
// peers', draws its events from here, so with one seed they all run the same work.
inline std::uint64_t draw_cycles(prng& rng) noexcept {
  const std::uint64_t r = rng.next();
  if (r % 10'000 >= big_per_10000) return small_cycles;
  return big_min_cycles + (r >> 32) % (big_max_cycles - big_min_cycles + 1);
}

// TSC ticks per second, measured once against steady_clock.
double measure_tsc_hz() {
  const auto t0 = bench_clock::now();
  const std::uint64_t c0 = tsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const auto t1 = bench_clock::now();
  const std::uint64_t c1 = tsc();
  return static_cast<double>(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
}

// ------------------------------------------------------------------------------------------------
// One configuration.

enum class runtime_kind : std::uint8_t { hue, asio, tbb };

struct configuration {
  std::string key;    // key=value and CSV name
  std::string label;  // table name
  std::string steal;  // steal_config::parse text ("-" for the peers)
  hue::cost_source costs;
  runtime_kind kind = runtime_kind::hue;
  bool make_strand_per_event = false;  // Asio: post(make_strand(ctx), ..) instead of a pool

  bool peer() const { return kind != runtime_kind::hue; }
  bool built() const {
    return kind == runtime_kind::hue || (kind == runtime_kind::asio ? have_asio : have_tbb);
  }
  const char* system() const {
    return kind == runtime_kind::hue ? "hue" : kind == runtime_kind::asio ? "asio" : "tbb";
  }
};

const std::vector<configuration>& configurations() {
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
      {"asio", "Boost.Asio", "-", hue::cost_source::annotated, runtime_kind::asio},
      {"asio_make_strand", "Asio, make_strand/event", "-", hue::cost_source::annotated,
       runtime_kind::asio, true},
      {"tbb", "oneTBB", "-", hue::cost_source::annotated, runtime_kind::tbb},
  };
  return all;
}

// What one repetition measured.
struct sample {
  double seconds = 0;
  std::uint64_t window_cycles = 0;  // elapsed TSC ticks of the timed window
  std::uint64_t rounds = 0;
  std::uint64_t events = 0;
  std::uint64_t handler_cycles = 0;  // sum of the spin targets of those events
  std::uint64_t misplaced = 0;       // events whose color core 0 did not own (see max_color_scan)
  std::uint64_t rounds_without_steal = 0;
  std::uint64_t first_round_cycles = 0, last_round_cycles = 0;
  hue::core_stats delta;             // totals over cores, end - start
  std::vector<std::uint64_t> events_per_core;
};


// The fork/join rounds on one runtime. Round state is touched by one handler at a time: the fork
// writes it before posting the round's events, each event only decrements the countdown, and the
// event that brings it to zero (acq_rel: it sees every other event's decrement and, through them,
// the fork's writes) runs the join, which posts the next fork.
//
// Destruction order: `rt_` is declared last, so it is destroyed (its workers joined) first, while
// the state its handlers point into still exists.
class unbalanced_run {
 public:
  unbalanced_run(const configuration& c, unsigned workers, std::uint64_t events_per_round,
                 std::uint64_t seed, unsigned warmup_rounds, bool trace)
      : label_(c.label),
        events_per_round_(events_per_round),
        warmup_rounds_(warmup_rounds),
        trace_(trace),
        rng_{seed},
        rt_(make_config(c, workers)) {
    rt_.pin_color(fork_color, 0);
  }

  // Main thread. Runs rounds for `seconds` after the warm-up. Returns false when the rounds did not
  // finish within `timeout` (a hang, or a collapse that slow: the caller reports it).
  bool run(double seconds, double timeout, sample& out) {
    rt_.post(fork_color, [this] { fork(); }, fork_info);

    const auto give_up = bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(
                                                  std::chrono::duration<double>(timeout));
    // Wait for the timed window to open, then let it run for `seconds`.
    while (!started_.load(std::memory_order_acquire)) {
      if (bench_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto stop_at = start_time_ + std::chrono::duration_cast<bench_clock::duration>(
                                           std::chrono::duration<double>(seconds));
    std::this_thread::sleep_until(stop_at);
    stop_requested_.store(true, std::memory_order_relaxed);
    while (!finished_.load(std::memory_order_acquire)) {
      if (bench_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    out.seconds = std::chrono::duration<double>(end_time_ - start_time_).count();
    out.window_cycles = end_tsc_ - start_tsc_;
    out.rounds = timed_rounds_;
    out.events = timed_rounds_ * events_per_round_;
    out.handler_cycles = timed_handler_cycles_;
    out.misplaced = timed_misplaced_;
    out.rounds_without_steal = rounds_without_steal_;
    out.first_round_cycles = first_round_cycles_;
    out.last_round_cycles = last_round_cycles_;
    out.delta = end_stats_.total() - start_stats_.total();
    for (std::size_t i = 0; i < end_stats_.cores.size(); ++i)
      out.events_per_core.push_back(end_stats_.cores[i].events_run -
                                    start_stats_.cores[i].events_run);
    return true;
  }

  hue::runtime_stats stats() const { return rt_.stats(); }
  std::uint64_t round() const { return progress_round_.load(std::memory_order_relaxed); }
  std::uint64_t remaining() const { return remaining_.load(); }

 private:
  static hue::config make_config(const configuration& c, unsigned workers) {
    hue::config cfg;
    cfg.workers = workers;
    cfg.steal = hue::steal_config::parse(c.steal);
    cfg.costs = c.costs;
    cfg.name = "bench";
    return cfg;
  }

  bool timed() const noexcept { return round_ >= warmup_rounds_; }

  // The fork: E events on fresh colors that core 0 owns now.
  void fork() {
    if (trace_) {
      round_start_stats_ = rt_.stats();
      // Share of the color table core 0 owns, estimated from 4096 colors far from the ones used.
      prng sample{round_};
      unsigned owned = 0;
      for (unsigned k = 0; k < 4096; ++k) owned += rt_.core_of(sample.next() | (1ull << 63)) == 0;
      round_core0_slots_pct_ = 100.0 * owned / 4096;
    }
    round_start_tsc_ = tsc();
    if (round_ == warmup_rounds_) {
      start_stats_ = rt_.stats();
      start_time_ = bench_clock::now();
      start_tsc_ = tsc();
      last_steals_ = start_stats_.total().steal_successes;
      started_.store(true, std::memory_order_release);
    }
    round_cycles_ = 0;
    round_misplaced_ = 0;
    bool searching = true;
    remaining_.store(events_per_round_, std::memory_order_relaxed);  // before the first post
    for (std::uint64_t i = 0; i < events_per_round_; ++i) {
      // A fresh color that hashes to a slot core 0 owns. Stealing moves slots, so this is decided
      // per event, at posting time.
      std::uint64_t scanned = 0;
      while (searching && rt_.core_of(next_color_) != 0) {
        ++next_color_;
        if (++scanned == max_color_scan) searching = false;
      }
      if (!searching) ++round_misplaced_;
      const hue::color_t color = next_color_++;

      const std::uint64_t cycles = draw_cycles(rng_);
      round_cycles_ += cycles;
      if (cycles != small_cycles) {  // big ones are >= big_min_cycles
        rt_.post(color, [this, cycles] { work(cycles); }, big_info);
      } else {
        rt_.post(color, [this] { work(small_cycles); }, small_info);
      }
    }
  }

  void work(std::uint64_t cycles) {
    spin(cycles);
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) join();
  }

  // The join: the last event of the round.
  void join() {
    if (trace_) trace_round();
    if (timed()) {
      ++timed_rounds_;
      timed_handler_cycles_ += round_cycles_;
      timed_misplaced_ += round_misplaced_;
      // Per-round health: did anything get stolen since the previous join, and how long the
      // round took (first and last timed rounds), to show a run that degrades as it goes.
      const std::uint64_t steals = rt_.stats().total().steal_successes;
      if (steals == last_steals_) ++rounds_without_steal_;
      last_steals_ = steals;
      last_round_cycles_ = tsc() - round_start_tsc_;
      if (timed_rounds_ == 1) first_round_cycles_ = last_round_cycles_;
    }
    ++round_;
    progress_round_.store(round_, std::memory_order_relaxed);
    if (timed() && timed_rounds_ > 0 && stop_requested_.load(std::memory_order_relaxed)) {
      end_tsc_ = tsc();
      end_time_ = bench_clock::now();
      end_stats_ = rt_.stats();
      finished_.store(true, std::memory_order_release);
      return;
    }
    rt_.post(fork_color, [this] { fork(); }, fork_info);
  }

  // --trace: one line per round on stderr (the stats snapshots cost a little time per round).
  void trace_round() {
    const std::uint64_t cycles = tsc() - round_start_tsc_;
    const hue::runtime_stats now = rt_.stats();
    const hue::core_stats d = now.total() - round_start_stats_.total();
    std::string per_core;
    for (std::size_t i = 0; i < now.cores.size(); ++i)
      per_core += " " + std::to_string(now.cores[i].events_run -
                                       round_start_stats_.cores[i].events_run);
    std::fprintf(stderr,
                 "  [%s] round %llu%s: %.2f Mcycles, steals %llu/%llu, events stolen %llu, "
                 "steal cycles %llu, lock wait %.1f%%, misplaced %llu, core 0 owns ~%.1f%% of "
                 "the table, run per core:%s\n",
                 label_.c_str(), static_cast<unsigned long long>(round_),
                 timed() ? "" : " (warm-up)", static_cast<double>(cycles) / 1e6,
                 static_cast<unsigned long long>(d.steal_successes),
                 static_cast<unsigned long long>(d.steal_attempts),
                 static_cast<unsigned long long>(d.events_stolen),
                 static_cast<unsigned long long>(d.steal_cycles),
                 100.0 * static_cast<double>(d.lock_wait_cycles) /
                     (static_cast<double>(cycles) * static_cast<double>(now.cores.size())),
                 static_cast<unsigned long long>(round_misplaced_), round_core0_slots_pct_,
                 per_core.c_str());
  }

  const std::string label_;
  const std::uint64_t events_per_round_;
  const unsigned warmup_rounds_;
  const bool trace_;
  hue::runtime_stats round_start_stats_;
  std::uint64_t round_start_tsc_ = 0;
  double round_core0_slots_pct_ = 0;
  prng rng_;
  hue::color_t next_color_ = fork_color + 1;

  std::uint64_t round_ = 0;
  std::uint64_t round_cycles_ = 0, round_misplaced_ = 0;
  std::atomic<std::uint64_t> remaining_{0};
  std::atomic<std::uint64_t> progress_round_{0};  // round_, for the hang report of the main thread

  std::uint64_t timed_rounds_ = 0, timed_handler_cycles_ = 0, timed_misplaced_ = 0;
  std::uint64_t last_steals_ = 0, rounds_without_steal_ = 0;
  std::uint64_t first_round_cycles_ = 0, last_round_cycles_ = 0;
  hue::runtime_stats start_stats_, end_stats_;
  bench_clock::time_point start_time_{}, end_time_{};
  std::uint64_t start_tsc_ = 0, end_tsc_ = 0;
  std::atomic<bool> started_{false}, stop_requested_{false}, finished_{false};

  hue::runtime rt_;
};

// ------------------------------------------------------------------------------------------------
// Peers.

// Pinning the peers' threads where hue pins its workers. The CPUs this process may run on, in OS
// order, read once before any thread is pinned (main() calls it first): hue puts worker i on core
// i % cores of the same set, so peer thread i pinned to cpus[i % size] gets worker i's CPU.
const std::vector<int>& allowed_cpus() {
  static const std::vector<int> cpus = [] {
    std::vector<int> v;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
      for (int i = 0; i < CPU_SETSIZE; ++i)
        if (CPU_ISSET(i, &set)) v.push_back(i);
    return v;
  }();
  return cpus;
}

// HUE_PIN=0 unpins hue's workers; the peers follow the same switch.
bool pin_peers() {
  const char* v = std::getenv("HUE_PIN");
  return !(v && std::string_view(v) == "0");
}

void pin_this_thread(unsigned index) {
  const std::vector<int>& cpus = allowed_cpus();
  static std::atomic<bool> warned{false};
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus[index % cpus.size()], &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0 && !warned.exchange(true))
    std::fprintf(stderr, "unbalanced: cannot pin the peers' threads; they run unpinned\n");
}

// Back to the whole cpuset (the TBB peer's fork runs on the main thread, which it pins).
void unpin_this_thread() {
  const std::vector<int>& cpus = allowed_cpus();
  if (cpus.empty()) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// The rounds of a peer, as unbalanced_run keeps them for hue: the same event sequence, the same
// warm-up and the same timed window of whole rounds, without hue's statistics. The join checks the
// clock itself (hue's main thread instead sleeps and raises a flag: the same thing, since only
// whole rounds count either way). Touched by one thread at a time: the fork, then the join, which
// the round's events order as in hue (acq_rel countdown, or task_group::wait).
class peer_rounds {
 public:
  peer_rounds(std::uint64_t events_per_round, std::uint64_t seed, unsigned warmup, double seconds)
      : events_per_round_(events_per_round),
        warmup_rounds_(warmup),
        seconds_(seconds),
        rng_{seed} {}

  std::uint64_t events_per_round() const { return events_per_round_; }

  // The fork, before its first event.
  void begin_round() {
    round_start_tsc_ = tsc();
    if (round_ == warmup_rounds_) {
      start_time_ = bench_clock::now();
      start_tsc_ = tsc();
      stop_at_ = start_time_ + std::chrono::duration_cast<bench_clock::duration>(
                                   std::chrono::duration<double>(seconds_));
      started_.store(true, std::memory_order_release);
    }
    round_cycles_ = 0;
  }

  // The spin target of the round's next event.
  std::uint64_t next_cycles() {
    const std::uint64_t c = draw_cycles(rng_);
    round_cycles_ += c;
    return c;
  }

  // The join. Returns true when the run is over (no next fork).
  bool end_round() {
    const bool timed = round_ >= warmup_rounds_;
    if (timed) {
      ++timed_rounds_;
      timed_handler_cycles_ += round_cycles_;
      last_round_cycles_ = tsc() - round_start_tsc_;
      if (timed_rounds_ == 1) first_round_cycles_ = last_round_cycles_;
    }
    ++round_;
    progress_round_.store(round_, std::memory_order_relaxed);
    if (timed && bench_clock::now() >= stop_at_) {
      end_tsc_ = tsc();
      end_time_ = bench_clock::now();
      finished_.store(true, std::memory_order_release);
      return true;
    }
    return false;
  }

  // Main thread, when the rounds run on other threads: false when they did not finish in time.
  bool wait(double timeout) const {
    const auto give_up = bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(
                                                  std::chrono::duration<double>(timeout));
    while (!finished_.load(std::memory_order_acquire)) {
      if (bench_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  std::uint64_t round() const { return progress_round_.load(std::memory_order_relaxed); }

  void fill(sample& out) const {
    out.seconds = std::chrono::duration<double>(end_time_ - start_time_).count();
    out.window_cycles = end_tsc_ - start_tsc_;
    out.rounds = timed_rounds_;
    out.events = timed_rounds_ * events_per_round_;
    out.handler_cycles = timed_handler_cycles_;
    out.first_round_cycles = first_round_cycles_;
    out.last_round_cycles = last_round_cycles_;
  }

 private:
  const std::uint64_t events_per_round_;
  const unsigned warmup_rounds_;
  const double seconds_;
  prng rng_;
  std::uint64_t round_ = 0, round_cycles_ = 0, round_start_tsc_ = 0;
  std::uint64_t timed_rounds_ = 0, timed_handler_cycles_ = 0;
  std::uint64_t first_round_cycles_ = 0, last_round_cycles_ = 0;
  bench_clock::time_point start_time_{}, end_time_{}, stop_at_{};
  std::uint64_t start_tsc_ = 0, end_tsc_ = 0;
  std::atomic<bool> started_{false}, finished_{false};
  std::atomic<std::uint64_t> progress_round_{0};
};

#ifdef HUE_BENCH_ASIO
namespace asio = boost::asio;

// Boost.Asio: one io_context (concurrency hint = workers) run by `workers` pinned threads.
//
// Strands. hue's fork gives every event a fresh color; the Asio analogue of a color is a strand.
//   asio              (the peer of the ratios and the sweep) a pool of strands made once per run,
//                     event i of a round on strand i % K, K = --asio-strands, by default the
//                     events per round: every event of a round then has a strand of its own, idle
//                     when the event is posted, as every hue color is. Strands made once, as an
//                     Asio program makes one per connection or object, not one per message.
//   asio_make_strand  the literal `post(make_strand(ctx), ...)` per event. Measured ~25% slower
//                     than the pool on a 2-vCPU VM: each make_strand heap-allocates a strand_impl
//                     and links it, and its destruction unlinks it, in a list under the strand
//                     service's one mutex, which the fork and the run threads contend for. That is
//                     the price of creating strands, not of scheduling, hence not the main peer.
// A smaller pool is faster (1024 strands: ~3x the default there) but measures something else:
// ~50 events share each strand per round, so a strand's invoker runs them in one go and most posts
// find the strand already scheduled; hue's fresh colors get no such batching. --asio-strands shows
// it. The join posts the next fork on the io_context itself (no strand: one fork at a time).
class asio_unbalanced {
 public:
  asio_unbalanced(unsigned workers, std::uint64_t events, std::uint64_t seed, unsigned warmup,
                  double seconds, std::uint64_t strand_pool)
      : ctx_(static_cast<int>(workers)),
        guard_(asio::make_work_guard(ctx_)),
        book_(events, seed, warmup, seconds) {
    strands_.reserve(strand_pool);
    for (std::uint64_t i = 0; i < strand_pool; ++i) strands_.push_back(asio::make_strand(ctx_));
    const bool pin = pin_peers();
    for (unsigned i = 0; i < workers; ++i)
      threads_.emplace_back([this, i, pin] {
        if (pin) pin_this_thread(i);
        ctx_.run();
      });
  }
  // Joins the threads first: they point into the members. Strands go before the io_context.
  ~asio_unbalanced() {
    guard_.reset();
    for (std::thread& t : threads_) t.join();
  }

  bool run(double timeout, sample& out) {
    asio::post(ctx_, [this] { fork(); });
    if (!book_.wait(timeout)) return false;
    book_.fill(out);
    return true;
  }
  std::uint64_t round() const { return book_.round(); }
  std::uint64_t remaining() const { return remaining_.load(); }

 private:
  void fork() {
    book_.begin_round();
    const std::uint64_t n = book_.events_per_round();
    remaining_.store(n, std::memory_order_relaxed);
    const std::uint64_t pool = strands_.size();
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::uint64_t cycles = book_.next_cycles();
      if (pool == 0) {
        asio::post(asio::make_strand(ctx_), [this, cycles] { work(cycles); });
      } else {
        asio::post(strands_[i % pool], [this, cycles] { work(cycles); });
      }
    }
  }
  void work(std::uint64_t cycles) {
    spin(cycles);
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) join();
  }
  void join() {
    if (!book_.end_round()) asio::post(ctx_, [this] { fork(); });
  }

  asio::io_context ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<asio::strand<asio::io_context::executor_type>> strands_;
  peer_rounds book_;
  std::atomic<std::uint64_t> remaining_{0};
  std::vector<std::thread> threads_;  // last: started once everything they use exists
};
#endif  // HUE_BENCH_ASIO

#ifdef HUE_BENCH_TBB
// oneTBB: a task_arena of `workers` slots, one of them the main thread's (reserved for it, TBB's
// default), and a task_group. The main thread enters the arena and forks: it run()s the round's
// events as tasks into its own deque, from which the other workers steal, and wait() is the join
// (the main thread runs tasks too while it waits). So, as with hue, the load starts on the first
// thread and the others must take it. The task_group's wait count is the countdown.
//
// A global_control lets the arena have more workers than the machine has CPUs (TBB's default
// caps them at the core count), and the scheduler is finalized after each run, which waits for
// TBB's worker threads to exit: otherwise they would outlive the run, spinning for a while, and
// take CPU time from the configuration measured next.
class tbb_pinner : public tbb::task_scheduler_observer {
 public:
  explicit tbb_pinner(tbb::task_arena& arena) : tbb::task_scheduler_observer(arena) {
    observe(true);
  }
  ~tbb_pinner() override { observe(false); }
  void on_scheduler_entry(bool) override {
    const int slot = tbb::this_task_arena::current_thread_index();
    if (slot >= 0) pin_this_thread(static_cast<unsigned>(slot));
  }
};

class tbb_unbalanced {
 public:
  tbb_unbalanced(unsigned workers, std::uint64_t events, std::uint64_t seed, unsigned warmup,
                 double seconds)
      : workers_(workers), book_(events, seed, warmup, seconds) {}

  // Runs on the calling (main) thread, which is the arena's first worker. No timeout: a hang
  // would need a watchdog thread, and oneTBB's task_group is not the code under test.
  bool run(sample& out) {
    tbb::task_scheduler_handle scheduler{tbb::attach{}};
    {
      tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, workers_);
      tbb::task_arena arena(static_cast<int>(workers_));
      arena.initialize();
      std::unique_ptr<tbb_pinner> pinner;
      if (pin_peers()) pinner = std::make_unique<tbb_pinner>(arena);
      arena.execute([this] {
        tbb::task_group tasks;
        do {
          book_.begin_round();
          const std::uint64_t n = book_.events_per_round();
          for (std::uint64_t i = 0; i < n; ++i) {
            const std::uint64_t cycles = book_.next_cycles();
            tasks.run([cycles] { spin(cycles); });
          }
          tasks.wait();
        } while (!book_.end_round());
      });
    }
    unpin_this_thread();
    if (!tbb::finalize(scheduler, std::nothrow))
      std::fprintf(stderr, "unbalanced: oneTBB's workers did not all exit after the run\n");
    book_.fill(out);
    return true;
  }

 private:
  const unsigned workers_;
  peer_rounds book_;
};
#endif  // HUE_BENCH_TBB

// ------------------------------------------------------------------------------------------------
// Harness.

struct options {
  double seconds = 3;
  unsigned reps = 3;
  unsigned workers = 2;
  std::uint64_t events = 50'000;
  std::uint64_t seed = 42;
  unsigned warmup = 1;
  double timeout = 0;  // 0: 60 s + 20 x --seconds
  std::string csv;
  std::string only;  // comma-separated configuration keys; empty: all (sweep: all,asio,tbb)
  std::uint64_t asio_strands = 0;  // Asio's strand pool; 0: as many strands as events per round
  bool stats = false;
  bool trace = false;
  bool sweep = false;  // --workers-sweep
};

void usage(std::FILE* to) {
  std::fprintf(
      to,
      "usage: unbalanced [--seconds S] [--reps R] [--workers N] [--events E] [--seed X]\n"
      "                  [--warmup W] [--timeout S] [--only KEY,...] [--csv FILE] [--stats]\n"
      "                  [--trace] [--asio-strands K] [--workers-sweep] [--help]\n"
      "\n"
      "The paper's unbalanced microbenchmark (Tables 3 and 4): fork/join rounds; each round a\n"
      "handler pinned to core 0 posts E independent events, on fresh colors owned by core 0:\n"
      "98%% spin %llu cycles, 2%% spin %llu..%llu cycles. The last event posts the next round.\n"
      "Reports KEvents/s, locking time, WS cost and stolen time per steal, and the efficiency\n"
      "against the ideal bound (handler cycles / workers), for each configuration, and for the\n"
      "peers (on the same rounds; built only when meson found their library):\n",
      static_cast<unsigned long long>(small_cycles), static_cast<unsigned long long>(big_min_cycles),
      static_cast<unsigned long long>(big_max_cycles));
  for (const configuration& c : configurations()) {
    if (c.peer())
      std::fprintf(to, "  %-16s %-26s peer%s\n", c.key.c_str(), c.label.c_str(),
                   c.built() ? "" : " (not built: library not found by meson)");
    else
      std::fprintf(to, "  %-16s %-26s steal=%s costs=%s\n", c.key.c_str(), c.label.c_str(),
                   c.steal.c_str(),
                   c.costs == hue::cost_source::measured ? "measured" : "annotated");
  }
  std::fprintf(
      to,
      "\n"
      "  --seconds S   timed window per repetition (whole rounds; the last one may overrun);\n"
      "                default 3\n"
      "  --reps R      repetitions of each configuration, interleaved; median reported; default 3\n"
      "  --workers N   workers of each runtime; default 2\n"
      "  --events E    events per round; default 50000\n"
      "  --seed X      seed of the event-cost sequence (the same in every repetition); default 42\n"
      "  --warmup W    untimed rounds before the window; default 1\n"
      "  --timeout S   give up (report a hang, exit 1) when a repetition takes longer than S s;\n"
      "                default 60 + 20 x --seconds\n"
      "  --only KEYS   run only these configurations (comma-separated keys from the list above)\n"
      "  --csv FILE    also write the table's rows to FILE as CSV\n"
      "  --stats       print hue's per-core statistics of each configuration's last repetition\n"
      "  --trace       print one line per round on stderr (steals, lock wait, events per core)\n"
      "  --asio-strands K\n"
      "                Asio peer: post event i of a round on strand i %% K of a pool of K strands;\n"
      "                default (0) as many strands as events per round, so that each event has\n"
      "                one of its own, as each has a color of its own in the hue runs\n"
      "  --workers-sweep\n"
      "                instead of the table, run hue (all heuristics), Asio and oneTBB (or the\n"
      "                --only configurations) at 1, 2, .. --workers workers; --csv then gets rows\n"
      "                workers,system,kevents_per_s,... for a scaling plot\n"
      "  --help        this text\n"
      "\n"
      "Other runtime settings come from the HUE_* environment variables (HUE_BATCH,\n"
      "HUE_IDLE_SPIN_US, HUE_PIN, ...). Output ends with key=value lines (unbalanced_*) for\n"
      "scripts.\n");
}

[[noreturn]] void bad_usage(const std::string& why) {
  std::fprintf(stderr, "unbalanced: %s\n(try --help)\n", why.c_str());
  std::exit(2);
}

std::uint64_t parse_count(std::string_view flag, std::string_view text, std::uint64_t lo,
                          std::uint64_t hi) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
    bad_usage(std::string(flag) + " wants an integer in [" + std::to_string(lo) + ", " +
              std::to_string(hi) + "], got '" + std::string(text) + "'");
  return v;
}

double parse_seconds(std::string_view flag, std::string_view text, double lo, double hi) {
  // std::from_chars for double is in libstdc++ 11+; strtod keeps this portable.
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < lo || v > hi)
    bad_usage(std::string(flag) + " wants a number of seconds in [" + std::to_string(lo) + ", " +
              std::to_string(hi) + "], got '" + s + "'");
  return v;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      std::exit(0);
    }
    if (arg == "--stats" || arg == "--trace") {
      (arg == "--stats" ? o.stats : o.trace) = true;
      continue;
    }
    if (arg == "--workers-sweep") {
      o.sweep = true;
      continue;
    }
    // Flags with a value accept both "--flag value" and "--flag=value".
    std::string_view flag = arg, value;
    bool has_value = false;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    static constexpr std::string_view with_value[] = {"--seconds", "--reps",    "--workers",
                                                      "--events",  "--seed",    "--warmup",
                                                      "--timeout", "--only",    "--csv",
                                                      "--asio-strands"};
    if (std::find(std::begin(with_value), std::end(with_value), flag) == std::end(with_value))
      bad_usage("unknown argument '" + std::string(arg) + "'");
    if (!has_value) {
      if (i + 1 >= argc) bad_usage(std::string(flag) + " needs a value");
      value = argv[++i];
    }
    if (flag == "--seconds") {
      o.seconds = parse_seconds(flag, value, 0.001, 86'400);
    } else if (flag == "--timeout") {
      o.timeout = parse_seconds(flag, value, 0.001, 86'400);
    } else if (flag == "--reps") {
      o.reps = static_cast<unsigned>(parse_count(flag, value, 1, 1000));
    } else if (flag == "--workers") {
      o.workers = static_cast<unsigned>(parse_count(flag, value, 1, 1024));
    } else if (flag == "--events") {
      o.events = parse_count(flag, value, 1, 100'000'000);
    } else if (flag == "--seed") {
      o.seed = parse_count(flag, value, 0, std::numeric_limits<std::uint64_t>::max());
    } else if (flag == "--asio-strands") {
      o.asio_strands = parse_count(flag, value, 0, 10'000'000);
    } else if (flag == "--warmup") {
      o.warmup = static_cast<unsigned>(parse_count(flag, value, 0, 1000));
    } else if (flag == "--only") {
      std::string_view rest = value;
      if (rest.empty()) bad_usage("--only needs configuration keys");
      while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string_view word = rest.substr(0, comma);
        const auto& all = configurations();
        if (std::none_of(all.begin(), all.end(), [&](const configuration& c) { return c.key == word; }))
          bad_usage("--only: unknown configuration '" + std::string(word) + "'");
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
      o.only = value;
    } else {
      if (value.empty()) bad_usage("--csv needs a file name");
      o.csv = value;
    }
  }
  if (o.timeout == 0) o.timeout = 60 + 20 * o.seconds;
  if (o.sweep && o.only.empty()) o.only = "all,asio,tbb";
  return o;
}

bool selected(const options& o, const configuration& c) {
  if (o.only.empty()) return true;
  std::string_view rest = o.only;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    if (rest.substr(0, comma) == c.key) return true;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Median of the finite values; NaN when there is none.
double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return nan;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A percentage with its sign, or "-" when it does not apply (NaN).
std::string pct(double v, int decimals = 1) {
  return std::isfinite(v) ? fixed(v, decimals) + "%" : std::string("-");
}

double ratio(std::uint64_t a, std::uint64_t b) {
  return b ? static_cast<double>(a) / static_cast<double>(b) : nan;
}

// Per-repetition figures derived from a sample.
struct figures {
  double kevents, ideal_kevents, efficiency, lock_pct, ws_cost, stolen_per_steal;
  double events_per_steal, idle_pct, core0_pct, misplaced_pct;
  double no_steal_pct, first_round_mcycles, last_round_mcycles;
  std::uint64_t steals_ok, steal_attempts;
};

// A peer has no hue statistics: its lock, idle, steal and placement figures are NaN ("-").
figures derive(const sample& s, unsigned workers, double tsc_hz, bool peer) {
  figures f{};
  f.kevents = static_cast<double>(s.events) / s.seconds / 1e3;
  // Ideal: the events' handler cycles spread over the workers with no overhead at all.
  const double ideal_seconds = static_cast<double>(s.handler_cycles) / workers / tsc_hz;
  f.ideal_kevents = static_cast<double>(s.events) / ideal_seconds / 1e3;
  f.efficiency = f.kevents / f.ideal_kevents;
  const double available = static_cast<double>(s.window_cycles) * workers;
  f.lock_pct = 100.0 * static_cast<double>(s.delta.lock_wait_cycles) / available;
  f.idle_pct = 100.0 * static_cast<double>(s.delta.idle_cycles) / available;
  f.ws_cost = ratio(s.delta.steal_cycles, s.delta.steal_successes);
  f.stolen_per_steal = ratio(s.delta.stolen_time_cycles, s.delta.steal_successes);
  f.events_per_steal = ratio(s.delta.events_stolen, s.delta.steal_successes);
  f.steals_ok = s.delta.steal_successes;
  f.steal_attempts = s.delta.steal_attempts;
  f.misplaced_pct = 100.0 * static_cast<double>(s.misplaced) / static_cast<double>(s.events);
  f.no_steal_pct = 100.0 * static_cast<double>(s.rounds_without_steal) /
                   static_cast<double>(s.rounds);
  f.first_round_mcycles = static_cast<double>(s.first_round_cycles) / 1e6;
  f.last_round_mcycles = static_cast<double>(s.last_round_cycles) / 1e6;
  std::uint64_t run = 0;
  for (std::uint64_t e : s.events_per_core) run += e;
  f.core0_pct = run ? 100.0 * static_cast<double>(s.events_per_core[0]) / static_cast<double>(run)
                    : nan;
  if (peer) f.lock_pct = f.idle_pct = f.misplaced_pct = f.no_steal_pct = nan;
  return f;
}

struct row {
  const configuration* cfg;
  std::vector<figures> reps;
  hue::runtime_stats last_stats;  // for --stats

  template <class Get>
  double med(Get get) const {
    std::vector<double> v;
    for (const figures& f : reps) v.push_back(get(f));
    return median(v);
  }
  template <class Get>
  std::pair<double, double> range(Get get) const {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const figures& f : reps) {
      lo = std::min(lo, get(f));
      hi = std::max(hi, get(f));
    }
    return {lo, hi};
  }
  double kevents() const { return med([](const figures& f) { return f.kevents; }); }
  double efficiency() const { return med([](const figures& f) { return f.efficiency; }); }
  double ideal() const { return med([](const figures& f) { return f.ideal_kevents; }); }
  double lock_pct() const { return med([](const figures& f) { return f.lock_pct; }); }
  double ws_cost() const { return med([](const figures& f) { return f.ws_cost; }); }
  double stolen() const { return med([](const figures& f) { return f.stolen_per_steal; }); }
  double steals_ok() const {
    return med([](const figures& f) { return static_cast<double>(f.steals_ok); });
  }
  double steal_attempts() const {
    return med([](const figures& f) { return static_cast<double>(f.steal_attempts); });
  }
};

const row* find_row(const std::vector<row>& rows, std::string_view key) {
  for (const row& r : rows)
    if (r.cfg->key == key) return &r;
  return nullptr;
}

void print_table(const std::vector<row>& rows, const options& o, double tsc_hz) {
  std::printf(
      "\nunbalanced: %llu events per round, %u workers, %.1f s per repetition, median of %u "
      "[min..max]; TSC %.3f GHz\n\n",
      static_cast<unsigned long long>(o.events), o.workers, o.seconds, o.reps, tsc_hz / 1e9);
  std::printf("%-24s %26s %8s %9s %12s %19s %14s %10s\n", "configuration", "KEvents/s",
              "effic.", "locking", "WS cost", "steals ok/att", "stolen time", "L2 miss/");
  std::printf("%-24s %26s %8s %9s %12s %19s %14s %10s\n", "", "", "", "time", "(cyc/steal)", "",
              "(cyc/steal)", "event");
  for (const row& r : rows) {
    const auto [lo, hi] = r.range([](const figures& f) { return f.kevents; });
    const std::string kev = fixed(r.kevents(), 0) + " [" + fixed(lo, 0) + ".." + fixed(hi, 0) + "]";
    const bool steals = r.steal_attempts() > 0;
    const std::string ok_att =
        steals ? fixed(r.steals_ok(), 0) + "/" + fixed(r.steal_attempts(), 0) : "-";
    std::printf("%-24s %26s %8s %9s %12s %19s %14s %10s\n", r.cfg->label.c_str(), kev.c_str(),
                pct(100 * r.efficiency()).c_str(), pct(r.lock_pct(), 2).c_str(),
                fixed(r.ws_cost(), 0).c_str(), ok_att.c_str(), fixed(r.stolen(), 0).c_str(), "n/a");
  }

  // The ideal bound. Every repetition replays the same sequence, so the bounds differ only by the
  // number of whole rounds each window held; the median over every repetition is printed.
  std::vector<double> ideals;
  for (const row& r : rows)
    for (const figures& f : r.reps) ideals.push_back(f.ideal_kevents);
  std::printf(
      "\nideal bound: %.0f KEvents/s (handler cycles of the events run / %u workers, at the TSC "
      "rate;\n  no runtime overhead, no serial fork); efficiency = KEvents/s / ideal, per "
      "repetition\n",
      median(ideals), o.workers);
  const bool asio_row = find_row(rows, "asio") != nullptr;
  const bool tbb_row = find_row(rows, "tbb") != nullptr;
  if (asio_row || tbb_row) std::printf("\npeers (same rounds, same event sequence):\n");
  if (asio_row) {
    const std::uint64_t pool = o.asio_strands ? o.asio_strands : o.events;
    std::printf(
        "  Boost.Asio  one io_context, %u run() threads; event i of a round on strand i %% %llu of a\n"
        "              pool made once per run%s\n",
        o.workers, static_cast<unsigned long long>(pool),
        pool >= o.events ? " (a strand of its own per event)" : "");
  }
  if (find_row(rows, "asio_make_strand"))
    std::printf("  Asio, make_strand/event  the same, with a new strand per event: "
                "post(make_strand(ctx), ..)\n");
  if (tbb_row)
    std::printf("  oneTBB      task_arena of %u slots (main thread forks), task_group run/wait\n",
                o.workers);

  std::printf(
      "\nwhere the time went (medians): share of the events core 0 ran; idle time; events moved\n"
      "per steal; events posted off core 0 because stealing had left core 0 no table slot; timed\n"
      "rounds in which nothing was stolen; the first and the last timed round, in Mcycles\n\n");
  std::printf("%-24s %11s %8s %13s %14s %16s %14s\n", "configuration", "core 0 ran", "idle",
              "events/steal", "not on core 0", "rounds no steal", "round 1st/last");
  for (const row& r : rows) {
    const bool steals =
        !r.cfg->peer() && r.cfg->steal != "off" && r.cfg->steal != "libasync-smp-off";
    const std::string rounds =
        fixed(r.med([](const figures& f) { return f.first_round_mcycles; }), 0) + "/" +
        fixed(r.med([](const figures& f) { return f.last_round_mcycles; }), 0);
    std::printf("%-24s %11s %8s %13s %14s %16s %14s\n", r.cfg->label.c_str(),
                pct(r.med([](const figures& f) { return f.core0_pct; })).c_str(),
                pct(r.med([](const figures& f) { return f.idle_pct; })).c_str(),
                fixed(r.med([](const figures& f) { return f.events_per_steal; }), 2).c_str(),
                pct(r.med([](const figures& f) { return f.misplaced_pct; })).c_str(),
                steals ? pct(r.med([](const figures& f) { return f.no_steal_pct; })).c_str() : "-",
                rounds.c_str());
  }
}

struct named_ratio {
  const char* key;
  const char* text;
  const char* num;
  const char* den;
};
constexpr named_ratio ratios[] = {
    {"ratio_all_over_base", "hue all heuristics / hue base WS", "all", "base"},
    {"ratio_all_over_libasync_smp_ws", "hue all heuristics / libasync-smp + WS", "all",
     "libasync_smp_ws"},
    {"ratio_measured_over_annotated", "hue all, measured costs / annotated", "all_measured", "all"},
    {"ratio_base_over_no_ws", "hue base WS / hue, no WS", "base", "no_ws"},
    {"ratio_libasync_smp_ws_over_libasync_smp", "libasync-smp + WS / libasync-smp",
     "libasync_smp_ws", "libasync_smp"},
    {"ratio_all_over_asio", "hue all heuristics / Boost.Asio", "all", "asio"},
    {"ratio_all_over_tbb", "hue all heuristics / oneTBB", "all", "tbb"},
    {"ratio_base_over_asio", "hue base WS / Boost.Asio", "base", "asio"},
    {"ratio_base_over_tbb", "hue base WS / oneTBB", "base", "tbb"},
    {"ratio_all_over_asio_make_strand", "hue all heuristics / Asio, make_strand/event", "all",
     "asio_make_strand"},
};

void print_ratios(const std::vector<row>& rows) {
  std::printf("\nratios of KEvents/s (medians):\n");
  for (const named_ratio& nr : ratios) {
    const row* a = find_row(rows, nr.num);
    const row* b = find_row(rows, nr.den);
    if (!a || !b) continue;
    const double x = a->kevents() / b->kevents();
    std::printf("  %-44s %7.*fx\n", nr.text, x < 0.1 ? 4 : 2, x);
  }
}

bool write_csv(const std::vector<row>& rows, std::ofstream& out) {
  out << "configuration,label,steal,costs,kevents_per_s,kevents_min,kevents_max,ideal_kevents,"
         "efficiency,locking_time_pct,ws_cost_cycles_per_steal,steals_ok,steal_attempts,"
         "stolen_time_cycles_per_steal,l2_misses_per_event,core0_events_pct,not_on_core0_pct,"
         "rounds_without_steal_pct,first_round_mcycles,last_round_mcycles,system\n";
  for (const row& r : rows) {
    const auto [lo, hi] = r.range([](const figures& f) { return f.kevents; });
    auto num = [](double v, int d) { return std::isfinite(v) ? fixed(v, d) : std::string(); };
    const char* costs = r.cfg->peer()                                ? "-"
                        : r.cfg->costs == hue::cost_source::measured ? "measured"
                                                                     : "annotated";
    out << r.cfg->key << ",\"" << r.cfg->label << "\"," << r.cfg->steal << ',' << costs << ','
        << num(r.kevents(), 1) << ',' << num(lo, 1) << ',' << num(hi, 1) << ','
        << num(r.ideal(), 1) << ',' << num(r.efficiency(), 4) << ',' << num(r.lock_pct(), 3)
        << ',' << num(r.ws_cost(), 0) << ',' << num(r.steals_ok(), 0) << ','
        << (r.cfg->peer() ? std::string() : num(r.steal_attempts(), 0)) << ','
        << num(r.stolen(), 0) << ",n/a,"
        << num(r.med([](const figures& f) { return f.core0_pct; }), 2) << ','
        << num(r.med([](const figures& f) { return f.misplaced_pct; }), 2) << ','
        << num(r.med([](const figures& f) { return f.no_steal_pct; }), 2) << ','
        << num(r.med([](const figures& f) { return f.first_round_mcycles; }), 2) << ','
        << num(r.med([](const figures& f) { return f.last_round_mcycles; }), 2) << ','
        << r.cfg->system() << '\n';
  }
  out.flush();
  return static_cast<bool>(out);
}

void print_keys(const std::vector<row>& rows, const options& o, double tsc_hz) {
  std::printf("\n");
  std::printf("unbalanced_events_per_round=%llu\n", static_cast<unsigned long long>(o.events));
  std::printf("unbalanced_workers=%u\n", o.workers);
  std::printf("unbalanced_seconds=%.3f\n", o.seconds);
  std::printf("unbalanced_reps=%u\n", o.reps);
  std::printf("unbalanced_tsc_ghz=%.4f\n", tsc_hz / 1e9);
  std::vector<double> ideals;
  for (const row& r : rows)
    for (const figures& f : r.reps) ideals.push_back(f.ideal_kevents);
  std::printf("unbalanced_ideal_kevents=%.1f\n", median(ideals));
  auto key = [](const char* prefix, const row& r, const char* suffix, const std::string& v) {
    std::printf("%s%s_%s=%s\n", prefix, r.cfg->key.c_str(), suffix, v.c_str());
  };
  auto val = [](double v, int d) { return std::isfinite(v) ? fixed(v, d) : std::string("nan"); };
  std::printf("unbalanced_asio_available=%d\n", have_asio ? 1 : 0);
  std::printf("unbalanced_tbb_available=%d\n", have_tbb ? 1 : 0);
  if (have_asio)
    std::printf("unbalanced_asio_strands=%llu\n",
                static_cast<unsigned long long>(o.asio_strands ? o.asio_strands : o.events));
  for (const row& r : rows) key("unbalanced_", r, "kevents", val(r.kevents(), 1));
  for (const row& r : rows) key("unbalanced_", r, "efficiency", val(r.efficiency(), 4));
  // The rest is hue's statistics: the peers have none.
  for (const row& r : rows)
    if (!r.cfg->peer()) key("unbalanced_", r, "lock_pct", val(r.lock_pct(), 3));
  for (const row& r : rows)
    if (!r.cfg->peer()) key("unbalanced_", r, "ws_cycles_per_steal", val(r.ws_cost(), 0));
  for (const row& r : rows)
    if (!r.cfg->peer()) key("unbalanced_", r, "stolen_cycles_per_steal", val(r.stolen(), 0));
  for (const row& r : rows)
    if (!r.cfg->peer())
      key("unbalanced_", r, "rounds_without_steal_pct",
          val(r.med([](const figures& f) { return f.no_steal_pct; }), 1));
  for (const named_ratio& nr : ratios) {
    const row* a = find_row(rows, nr.num);
    const row* b = find_row(rows, nr.den);
    if (a && b) std::printf("unbalanced_%s=%.3f\n", nr.key, a->kevents() / b->kevents());
  }
}

// One repetition of configuration `c` at `workers` workers. Returns its figures; a hang (rounds not
// finished within --timeout) is reported and ends the process.
figures run_sample(const configuration& c, unsigned workers, const options& o, double tsc_hz,
                   hue::runtime_stats* last_stats) {
  sample s;
  auto hang = [&](std::uint64_t round, std::uint64_t remaining) {
    // Say where it stood, then leave without waiting for the threads (a stuck handler would make
    // the runtime's destructor wait forever).
    std::fprintf(stderr,
                 "unbalanced: HANG: %s did not finish within %.0f s (round %llu, %llu events of "
                 "the round left)\n",
                 c.label.c_str(), o.timeout, static_cast<unsigned long long>(round),
                 static_cast<unsigned long long>(remaining));
  };
  switch (c.kind) {
    case runtime_kind::hue: {
      auto run = std::make_unique<unbalanced_run>(c, workers, o.events, o.seed, o.warmup, o.trace);
      if (!run->run(o.seconds, o.timeout, s)) {
        hang(run->round(), run->remaining());
        std::cerr << run->stats() << '\n';
        std::fflush(nullptr);
        std::_Exit(1);
      }
      if (last_stats) *last_stats = run->stats();
      break;
    }
    case runtime_kind::asio: {
#ifdef HUE_BENCH_ASIO
      const std::uint64_t pool =
          c.make_strand_per_event ? 0 : o.asio_strands ? o.asio_strands : o.events;
      auto run = std::make_unique<asio_unbalanced>(workers, o.events, o.seed, o.warmup, o.seconds,
                                                   pool);
      if (!run->run(o.timeout, s)) {
        hang(run->round(), run->remaining());
        std::fflush(nullptr);
        std::_Exit(1);
      }
#endif
      break;
    }
    case runtime_kind::tbb: {
#ifdef HUE_BENCH_TBB
      tbb_unbalanced run(workers, o.events, o.seed, o.warmup, o.seconds);
      run.run(s);
#endif
      break;
    }
  }
  if (s.misplaced)
    std::fprintf(stderr, "unbalanced: %s: %llu events could not get a color owned by core 0\n",
                 c.label.c_str(), static_cast<unsigned long long>(s.misplaced));
  return derive(s, workers, tsc_hz, c.peer());
}

// The selected configurations, less the peers that were not built (said once on stderr).
std::vector<const configuration*> selected_configurations(const options& o) {
  std::vector<const configuration*> v;
  for (const configuration& c : configurations()) {
    if (!selected(o, c)) continue;
    if (!c.built()) {
      std::fprintf(stderr,
                   "unbalanced: %s peer not built (meson did not find %s): its rows are left "
                   "out\n",
                   c.label.c_str(), c.kind == runtime_kind::asio ? "boost" : "tbb");
      continue;
    }
    v.push_back(&c);
  }
  return v;
}

// --workers-sweep: every selected configuration at 1 .. --workers workers, repetitions interleaved
// over the whole grid (w1 A B C, w2 A B C, .., then again), medians reported.
int run_sweep(const options& o, double tsc_hz, std::ofstream& csv) {
  const std::vector<const configuration*> cfgs = selected_configurations(o);
  struct cell {
    unsigned workers;
    row r;
  };
  std::vector<cell> grid;
  for (unsigned w = 1; w <= o.workers; ++w)
    for (const configuration* c : cfgs) grid.push_back(cell{w, row{c, {}, {}}});
  for (unsigned rep = 0; rep < o.reps; ++rep)
    for (cell& g : grid) {
      std::fprintf(stderr, "unbalanced: sweep, %s at %u worker%s, repetition %u/%u...\n",
                   g.r.cfg->label.c_str(), g.workers, g.workers == 1 ? "" : "s", rep + 1, o.reps);
      g.r.reps.push_back(run_sample(*g.r.cfg, g.workers, o, tsc_hz, nullptr));
    }

  std::printf(
      "\nunbalanced, workers sweep: %llu events per round, %.1f s per repetition, median of %u "
      "KEvents/s;\nideal = handler cycles / workers at the TSC rate (%.3f GHz)\n\n",
      static_cast<unsigned long long>(o.events), o.seconds, o.reps, tsc_hz / 1e9);
  std::printf("%-8s", "workers");
  for (const configuration* c : cfgs) std::printf(" %20s", c->label.c_str());
  std::printf(" %12s\n", "ideal");
  for (unsigned w = 1; w <= o.workers; ++w) {
    std::printf("%-8u", w);
    std::vector<double> ideals;
    for (const cell& g : grid)
      if (g.workers == w) {
        std::printf(" %20s", fixed(g.r.kevents(), 0).c_str());
        for (const figures& f : g.r.reps) ideals.push_back(f.ideal_kevents);
      }
    std::printf(" %12s\n", fixed(median(ideals), 0).c_str());
  }

  if (csv.is_open()) {
    csv << "workers,system,label,kevents_per_s,kevents_min,kevents_max,ideal_kevents,efficiency\n";
    for (const cell& g : grid) {
      const auto [lo, hi] = g.r.range([](const figures& f) { return f.kevents; });
      csv << g.workers << ',' << g.r.cfg->key << ",\"" << g.r.cfg->label << "\","
          << fixed(g.r.kevents(), 1) << ',' << fixed(lo, 1) << ',' << fixed(hi, 1) << ','
          << fixed(g.r.ideal(), 1) << ',' << fixed(g.r.efficiency(), 4) << '\n';
    }
    csv.flush();
    if (!csv) {
      std::fprintf(stderr, "unbalanced: cannot write %s\n", o.csv.c_str());
      return 1;
    }
  }

  std::printf("\nunbalanced_sweep_max_workers=%u\n", o.workers);
  for (const cell& g : grid)
    std::printf("unbalanced_sweep_%s_w%u_kevents=%.1f\n", g.r.cfg->key.c_str(), g.workers,
                g.r.kevents());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  allowed_cpus();  // the process's cpuset, read before any peer thread is pinned
  // Opened before measuring, so a bad path fails in a second rather than after minutes of runs.
  std::ofstream csv;
  if (!o.csv.empty()) {
    csv.open(o.csv);
    if (!csv) bad_usage("cannot open '" + o.csv + "' for writing");
  }
  if (std::thread::hardware_concurrency() < o.workers)
    std::fprintf(stderr, "unbalanced: %u workers on %u CPUs: workers share CPUs\n", o.workers,
                 std::thread::hardware_concurrency());

  const double tsc_hz = measure_tsc_hz();

  try {
    if (o.sweep) return run_sweep(o, tsc_hz, csv);

    std::vector<row> rows;
    for (const configuration* c : selected_configurations(o)) rows.push_back(row{c, {}, {}});
    for (unsigned rep = 0; rep < o.reps; ++rep) {
      for (row& r : rows) {
        std::fprintf(stderr, "unbalanced: %s (%s%s), repetition %u/%u...\n",
                     r.cfg->label.c_str(), r.cfg->peer() ? "peer" : "steal=",
                     r.cfg->peer() ? "" : r.cfg->steal.c_str(), rep + 1, o.reps);
        r.reps.push_back(run_sample(*r.cfg, o.workers, o, tsc_hz, &r.last_stats));
      }
    }

    print_table(rows, o, tsc_hz);
    print_ratios(rows);
    if (o.stats)
      for (const row& r : rows)
        if (!r.cfg->peer())
          std::cout << "\nhue stats, " << r.cfg->label << " (last repetition, whole run):\n"
                    << r.last_stats;
    std::cout.flush();
    if (csv.is_open() && !write_csv(rows, csv)) {
      std::fprintf(stderr, "unbalanced: cannot write %s\n", o.csv.c_str());
      return 1;
    }
    print_keys(rows, o, tsc_hz);
  } catch (const std::exception& e) {
    // E.g. a malformed HUE_* variable: the runtime constructor names it.
    std::fprintf(stderr, "unbalanced: %s\n", e.what());
    return 1;
  }
  return 0;
}
