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
//   tbb   oneTBB (HUE_BENCH_TBB): a task_arena of N slots (a thread of the benchmark, which
//         forks, plus N-1 TBB workers) and a task_group: the fork run()s the round's events as
//         tasks from inside the arena and wait() is the join. No colors: the events are
//         independent.
// Their threads are pinned as hue pins its workers (thread i on the i-th CPU of the process's
// cpuset, modulo its size) unless HUE_PIN=0 (bench_common.hpp: asio_threads, tbb_arena). Both run
// their usual way: idle Asio threads block on a condition variable; idle TBB workers spin a little,
// then sleep (hue spins HUE_IDLE_SPIN_US). The table's steal columns do not apply to them ("-").
//
// --workers-sweep runs hue (all heuristics), Asio and oneTBB at 1, 2, .. --workers workers instead
// of the table, for a scaling plot: CSV rows workers,system,kevents_per_s,...
#include "bench_common.hpp"

#ifndef HUE_BENCH_HAVE_TSC
#error "unbalanced spins on the TSC: x86 only"
#endif

namespace {

using namespace bench;

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

// The fork's color (bench::fork_color) is pinned to core 0. The events' colors are taken above it.
// How many color numbers the fork may skip (owned by another core) before it gives up looking for
// one that core 0 owns. It then stops looking for the rest of the round and posts the remaining
// events on consecutive colors, wherever they hash (counted as "misplaced"). This happens when
// stealing has moved (nearly) every table slot away from core 0: a steal moves the stolen color's
// whole slot, and the slot stays with the thief until someone steals it back.
constexpr std::uint64_t max_color_scan = 4096;

// The next event of the sequence: its spin target in cycles. Every configuration, hue's and the
// peers', draws its events from here, so with one seed they all run the same work.
inline std::uint64_t draw_cycles(prng& rng) noexcept {
  const std::uint64_t r = rng.next();
  if (r % 10'000 >= big_per_10000) return small_cycles;
  return big_min_cycles + (r >> 32) % (big_max_cycles - big_min_cycles + 1);
}

// The table's rows: the paper's configurations, then Boost.Asio (a strand per event, from a pool),
// Asio with make_strand per event, and oneTBB.
const std::vector<configuration>& configurations() { return table_configurations(true); }

// What one repetition measured.
struct sample : window_sample {
  std::uint64_t handler_cycles = 0;  // sum of the spin targets of the events run in the window
  // misplaced: events whose color core 0 did not own (see max_color_scan)
  std::uint64_t rounds_without_steal = 0;
  std::uint64_t first_round_cycles = 0, last_round_cycles = 0;

  void take(const round_window& w, std::uint64_t events_per_round) {
    window_sample::take(w, events_per_round);
    first_round_cycles = w.first_round_cycles();
    last_round_cycles = w.last_round_cycles();
  }
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
        trace_(trace),
        rng_{seed},
        window_(warmup_rounds),
        rt_(hue_config(c, exec_params{workers, "", "bench", 1})) {
    rt_.pin_color(fork_color, 0);
  }

  // Main thread. Runs rounds for `seconds` after the warm-up. Returns false when the rounds did not
  // finish within `timeout` (a hang, or a collapse that slow: the caller reports it).
  bool run(double seconds, double timeout, sample& out) {
    rt_.post(fork_color, [this] { fork(); }, fork_info);
    if (!window_.wait(seconds, timeout, timeout)) return false;
    out.take(window_, events_per_round_);
    out.handler_cycles = timed_handler_cycles_;
    out.misplaced = timed_misplaced_;
    out.rounds_without_steal = rounds_without_steal_;
    return true;
  }

  hue::runtime_stats stats() const { return rt_.stats(); }
  std::uint64_t round() const { return window_.progress(); }
  std::uint64_t remaining() const { return remaining_.load(); }

 private:
  // The fork: E events on fresh colors that core 0 owns now.
  void fork() {
    if (trace_) {
      round_start_stats_ = rt_.stats();
      // Share of the color table core 0 owns, estimated from 4096 colors far from the ones used.
      prng sample{window_.round()};
      unsigned owned = 0;
      for (unsigned k = 0; k < 4096; ++k) owned += rt_.core_of(sample.next() | (1ull << 63)) == 0;
      round_core0_slots_pct_ = 100.0 * owned / 4096;
    }
    if (window_.at_fork(rt_)) last_steals_ = window_.start_stats().total().steal_successes;
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
    if (window_.timed()) {
      timed_handler_cycles_ += round_cycles_;
      timed_misplaced_ += round_misplaced_;
      // Per-round health: did anything get stolen since the previous join (and, in the window,
      // how long the first and the last round took), to show a run that degrades as it goes.
      const std::uint64_t steals = rt_.stats().total().steal_successes;
      if (steals == last_steals_) ++rounds_without_steal_;
      last_steals_ = steals;
    }
    if (window_.at_join(rt_)) {
      window_.finish();
      return;
    }
    rt_.post(fork_color, [this] { fork(); }, fork_info);
  }

  // --trace: one line per round on stderr (the stats snapshots cost a little time per round).
  void trace_round() {
    const std::uint64_t cycles = tsc() - window_.round_start_tsc();
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
                 label_.c_str(), static_cast<unsigned long long>(window_.round()),
                 window_.timed() ? "" : " (warm-up)", static_cast<double>(cycles) / 1e6,
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
  const bool trace_;
  hue::runtime_stats round_start_stats_;
  double round_core0_slots_pct_ = 0;
  prng rng_;
  hue::color_t next_color_ = fork_color + 1;

  round_window window_;
  std::uint64_t round_cycles_ = 0, round_misplaced_ = 0;
  std::atomic<std::uint64_t> remaining_{0};
  std::uint64_t timed_handler_cycles_ = 0, timed_misplaced_ = 0;
  std::uint64_t last_steals_ = 0, rounds_without_steal_ = 0;

  hue::runtime rt_;
};

// ------------------------------------------------------------------------------------------------
// Peers.

// The rounds of a peer, as unbalanced_run keeps them for hue: the same event sequence, the same
// warm-up and the same timed window of whole rounds, without hue's statistics. Touched by one
// thread at a time: the fork, then the join, which the round's events order as in hue (acq_rel
// countdown, or task_group::wait).
class peer_rounds {
 public:
  peer_rounds(std::uint64_t events_per_round, std::uint64_t seed, unsigned warmup)
      : events_per_round_(events_per_round), rng_{seed}, window_(warmup) {}

  std::uint64_t events_per_round() const { return events_per_round_; }

  // The fork, before its first event.
  void begin_round() {
    window_.at_fork(no_stats{});
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
    if (window_.timed()) timed_handler_cycles_ += round_cycles_;
    if (!window_.at_join(no_stats{})) return false;
    window_.finish();
    return true;
  }

  // Main thread, while the rounds run on the peer's threads: false when they did not finish within
  // `timeout` seconds.
  bool wait(double seconds, double timeout) { return window_.wait(seconds, timeout, timeout); }
  std::uint64_t round() const { return window_.progress(); }

  void fill(sample& out) const {
    out.take(window_, events_per_round_);
    out.handler_cycles = timed_handler_cycles_;
  }

 private:
  const std::uint64_t events_per_round_;
  prng rng_;
  round_window window_;
  std::uint64_t round_cycles_ = 0, timed_handler_cycles_ = 0;
};

#ifdef HUE_BENCH_ASIO
// Boost.Asio: one io_context (concurrency hint = workers) run by `workers` pinned threads
// (bench::asio_threads).
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
                  std::uint64_t strand_pool)
      : threads_(workers), book_(events, seed, warmup) {
    strands_.reserve(strand_pool);
    for (std::uint64_t i = 0; i < strand_pool; ++i)
      strands_.push_back(asio::make_strand(threads_.context()));
    threads_.start();
  }
  // Joins the threads first: they point into the members. Strands go before the io_context.
  ~asio_unbalanced() { threads_.join(); }

  bool run(double seconds, double timeout, sample& out) {
    asio::post(threads_.context(), [this] { fork(); });
    if (!book_.wait(seconds, timeout)) return false;
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
        asio::post(asio::make_strand(threads_.context()), [this, cycles] { work(cycles); });
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
    if (!book_.end_round()) asio::post(threads_.context(), [this] { fork(); });
  }

  asio_threads threads_;
  std::vector<asio::strand<asio::io_context::executor_type>> strands_;
  peer_rounds book_;
  std::atomic<std::uint64_t> remaining_{0};
};
#endif  // HUE_BENCH_ASIO

#ifdef HUE_BENCH_TBB
// oneTBB: a task_arena of `workers` slots (bench::tbb_arena) and a task_group. A thread of the
// benchmark enters the arena (slot 0) and forks: it run()s the round's events as tasks into its own
// deque, from which the other workers steal, and wait() is the join (it runs tasks too while it
// waits). So, as with hue, the load starts on the first thread and the others must take it. The
// task_group's wait count is the countdown.
class tbb_unbalanced {
 public:
  tbb_unbalanced(unsigned workers, std::uint64_t events, std::uint64_t seed, unsigned warmup)
      : arena_(workers), book_(events, seed, warmup) {}
  ~tbb_unbalanced() {
    if (forker_.joinable()) forker_.join();
  }

  bool run(double seconds, double timeout, sample& out) {
    forker_ = std::thread([this] {
      arena_.execute([this] {
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
    });
    if (!book_.wait(seconds, timeout)) return false;
    book_.fill(out);
    return true;
  }
  std::uint64_t round() const { return book_.round(); }
  std::uint64_t remaining() const { return 0; }

 private:
  tbb_arena arena_;
  peer_rounds book_;
  std::thread forker_;
};
#endif  // HUE_BENCH_TBB

// ------------------------------------------------------------------------------------------------
// Harness.

// --only empty: all configurations (the sweep: all,asio,tbb).
struct options : table_options {
  options() {
    seconds = 3;
    warmup = 1;
  }
  std::uint64_t events = 50'000;
  std::uint64_t asio_strands = 0;  // Asio's strand pool; 0: as many strands as events per round
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
  print_configurations(to, configurations());
  std::fprintf(
      to,
      "\n"
      "  --events E      events per round; default 50000\n"
      "  --trace         print one line per round on stderr (steals, lock wait, events per core)\n"
      "  --asio-strands K\n"
      "                  Asio peer: post event i of a round on strand i %% K of a pool of K\n"
      "                  strands; default (0) as many strands as events per round, so that each\n"
      "                  event has one of its own, as each has a color of its own in the hue runs\n"
      "  --workers-sweep\n"
      "                  instead of the table, run hue (all heuristics), Asio and oneTBB (or the\n"
      "                  --only configurations) at 1, 2, .. --workers workers; --csv then gets\n"
      "                  rows workers,system,kevents_per_s,... for a scaling plot\n");
  print_table_flags_help(to, options{}, false);
}

options parse(int argc, char** argv) {
  options o;
  cli c("unbalanced", usage);
  add_table_flags(c, o, configurations(), false);
  c.count("--events", o.events, 1, 100'000'000);
  c.count("--asio-strands", o.asio_strands, 0, 10'000'000);
  c.flag("--trace", o.trace);
  c.flag("--workers-sweep", o.sweep);
  c.parse(argc, argv);
  after_table_flags(o);
  if (o.sweep && o.only.empty()) o.only = "all,asio,tbb";
  return o;
}

// Per-repetition figures derived from a sample.
struct figures : common_figures {
  double ideal_kevents = no_value, core0_pct = no_value, misplaced_pct = no_value;
  double no_steal_pct = no_value, first_round_mcycles = no_value, last_round_mcycles = no_value;
};

// The ideal bound: the events' handler cycles spread over the workers with no overhead at all.
// A peer has no hue statistics: its lock, idle, steal and placement figures are NaN ("-").
figures derive(const sample& s, unsigned workers, double tsc_hz, bool peer) {
  figures f;
  const double ideal_seconds = static_cast<double>(s.handler_cycles) / workers / tsc_hz;
  f.ideal_kevents = static_cast<double>(s.events) / ideal_seconds / 1e3;
  derive_common(f, s, workers, f.ideal_kevents, peer);
  f.misplaced_pct = 100.0 * static_cast<double>(s.misplaced) / static_cast<double>(s.events);
  f.no_steal_pct =
      100.0 * static_cast<double>(s.rounds_without_steal) / static_cast<double>(s.rounds);
  f.first_round_mcycles = static_cast<double>(s.first_round_cycles) / 1e6;
  f.last_round_mcycles = static_cast<double>(s.last_round_cycles) / 1e6;
  std::uint64_t run = 0;
  for (std::uint64_t e : s.events_per_core) run += e;
  f.core0_pct = run ? pct(s.events_per_core[0], run) : no_value;
  if (peer) f.misplaced_pct = f.no_steal_pct = no_value;
  return f;
}

using row = table_row<figures>;

void print_table(const std::vector<row>& rows, const options& o, double tsc_hz) {
  std::printf(
      "\nunbalanced: %llu events per round, %u workers, %.1f s per repetition, median of %u "
      "[min..max]; TSC %.3f GHz\n\n",
      static_cast<unsigned long long>(o.events), o.workers, o.seconds, o.reps, tsc_hz / 1e9);
  paper_table<row>("KEvents/s", "event", paper_widths{24, 26, 8, 9, 12, 19, 14, 10}).print(rows);

  // The ideal bound. Every repetition replays the same sequence, so the bounds differ only by the
  // number of whole rounds each window held; the median over every repetition is printed.
  std::printf(
      "\nideal bound: %.0f KEvents/s (handler cycles of the events run / %u workers, at the TSC "
      "rate;\n  no runtime overhead, no serial fork); efficiency = KEvents/s / ideal, per "
      "repetition\n",
      median_ideal(rows), o.workers);
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
    std::printf("  oneTBB      task_arena of %u slots (a benchmark thread forks), task_group "
                "run/wait\n",
                o.workers);

  std::printf(
      "\nwhere the time went (medians): share of the events core 0 ran; idle time; events moved\n"
      "per steal; events posted off core 0 because stealing had left core 0 no table slot; timed\n"
      "rounds in which nothing was stolen; the first and the last timed round, in Mcycles\n\n");
  where_table<row>()
      .percent(11, "core 0 ran", FIG(core0_pct))
      .percent(8, "idle", FIG(idle_pct))
      .number(13, "events/steal", FIG(events_per_steal), 2)
      .percent(14, "not on core 0", FIG(misplaced_pct))
      .column(16, "rounds no steal", "",
              [](const row& r) {
                return steals(*r.cfg) ? pct_cell(r.med(FIG(no_steal_pct)), 1) : std::string("-");
              })
      .column(14, "round 1st/last", "",
              [](const row& r) {
                return fixed(r.med(FIG(first_round_mcycles)), 0) + "/" +
                       fixed(r.med(FIG(last_round_mcycles)), 0);
              })
      .print(rows);
}

const std::vector<named_ratio> ratios = [] {
  std::vector<named_ratio> v = table_ratios({});
  v.push_back({"ratio_all_over_asio_make_strand", "hue all heuristics / Asio, make_strand/event",
               "all", "asio_make_strand"});
  return v;
}();

void write_csv(const std::vector<row>& rows, std::ostream& out) {
  out << csv_common_header("kevents")
      << ",core0_events_pct,not_on_core0_pct,rounds_without_steal_pct,first_round_mcycles,"
         "last_round_mcycles,system\n";
  for (const row& r : rows) {
    csv_common_cells(out, r, r.med(FIG(ideal_kevents)));
    out << ',' << csv_num(r.med(FIG(core0_pct)), 2) << ','
        << csv_num(r.med(FIG(misplaced_pct)), 2) << ',' << csv_num(r.med(FIG(no_steal_pct)), 2)
        << ',' << csv_num(r.med(FIG(first_round_mcycles)), 2) << ','
        << csv_num(r.med(FIG(last_round_mcycles)), 2) << ',' << r.cfg->system() << '\n';
  }
}

void print_keys(const std::vector<row>& rows, const options& o, double tsc_hz) {
  std::printf("\n");
  std::printf("unbalanced_events_per_round=%llu\n", static_cast<unsigned long long>(o.events));
  std::printf("unbalanced_workers=%u\n", o.workers);
  std::printf("unbalanced_seconds=%.3f\n", o.seconds);
  std::printf("unbalanced_reps=%u\n", o.reps);
  std::printf("unbalanced_tsc_ghz=%.4f\n", tsc_hz / 1e9);
  std::printf("unbalanced_ideal_kevents=%.1f\n", median_ideal(rows));
  print_peer_keys("unbalanced");
  if (have_asio)
    std::printf("unbalanced_asio_strands=%llu\n",
                static_cast<unsigned long long>(o.asio_strands ? o.asio_strands : o.events));
  const char* p = "unbalanced";
  print_common_keys(p, rows, "kevents");
  print_row_keys(p, rows, "rounds_without_steal_pct", FIG(no_steal_pct), 1, true);
  print_ratio_keys(rows, ratios, p);
}

// One repetition of configuration `c` at `workers` workers. Returns its figures; a hang (rounds not
// finished within --timeout) is reported and ends the process.
figures run_sample(const configuration& c, unsigned workers, const options& o, double tsc_hz,
                   hue::runtime_stats* last_stats) {
  sample s;
  // Says where it stood, then leaves without waiting for the threads (a stuck handler would make
  // the runtime's destructor wait forever).
  auto hang = [&](std::uint64_t round, std::uint64_t remaining) {
    std::fprintf(stderr,
                 "unbalanced: HANG: %s did not finish within %.0f s (round %llu, %llu events of "
                 "the round left)\n",
                 c.label.c_str(), o.timeout, static_cast<unsigned long long>(round),
                 static_cast<unsigned long long>(remaining));
  };
  auto measure = [&](auto& run) {
    if (!run->run(o.seconds, o.timeout, s)) {
      hang(run->round(), run->remaining());
      if constexpr (requires { run->stats(); }) std::cerr << run->stats() << '\n';
      std::fflush(nullptr);
      std::_Exit(1);
    }
  };
  switch (c.kind) {
    case runtime_kind::hue: {
      auto run = std::make_unique<unbalanced_run>(c, workers, o.events, o.seed, o.warmup, o.trace);
      measure(run);
      if (last_stats) *last_stats = run->stats();
      break;
    }
    case runtime_kind::asio: {
#ifdef HUE_BENCH_ASIO
      const std::uint64_t pool =
          c.asio_make_strand ? 0 : o.asio_strands ? o.asio_strands : o.events;
      auto run = std::make_unique<asio_unbalanced>(workers, o.events, o.seed, o.warmup, pool);
      measure(run);
#endif
      break;
    }
    case runtime_kind::tbb: {
#ifdef HUE_BENCH_TBB
      auto run = std::make_unique<tbb_unbalanced>(workers, o.events, o.seed, o.warmup);
      measure(run);
#endif
      break;
    }
  }
  if (s.misplaced)
    std::fprintf(stderr, "unbalanced: %s: %llu events could not get a color owned by core 0\n",
                 c.label.c_str(), static_cast<unsigned long long>(s.misplaced));
  return derive(s, workers, tsc_hz, c.peer());
}

// --workers-sweep: every selected configuration at 1 .. --workers workers, repetitions interleaved
// over the whole grid (w1 A B C, w2 A B C, .., then again), medians reported.
int run_sweep(const options& o, double tsc_hz, std::ofstream& csv) {
  const std::vector<const configuration*> cfgs = selected_configurations(configurations(), o.only);
  struct cell {
    unsigned workers;
    row r;
  };
  std::vector<cell> grid;
  for (unsigned w = 1; w <= o.workers; ++w)
    for (const configuration* c : cfgs) grid.push_back(cell{w, row{c, {}, 0, {}}});
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
        std::printf(" %20s", fixed(g.r.med(FIG(kevents)), 0).c_str());
        for (const figures& f : g.r.reps) ideals.push_back(f.ideal_kevents);
      }
    std::printf(" %12s\n", fixed(median(ideals), 0).c_str());
  }

  if (csv.is_open()) {
    csv << "workers,system,label,kevents_per_s,kevents_min,kevents_max,ideal_kevents,efficiency\n";
    for (const cell& g : grid) {
      const auto [lo, hi] = g.r.range(FIG(kevents));
      csv << g.workers << ',' << g.r.cfg->key << ",\"" << g.r.cfg->label << "\","
          << fixed(g.r.med(FIG(kevents)), 1) << ',' << fixed(lo, 1) << ',' << fixed(hi, 1) << ','
          << fixed(g.r.med(FIG(ideal_kevents)), 1) << ',' << fixed(g.r.med(FIG(efficiency)), 4)
          << '\n';
    }
  }
  if (!close_csv(csv, o.csv)) return 1;

  std::printf("\nunbalanced_sweep_max_workers=%u\n", o.workers);
  for (const cell& g : grid)
    std::printf("unbalanced_sweep_%s_w%u_kevents=%.1f\n", g.r.cfg->key.c_str(), g.workers,
                g.r.med(FIG(kevents)));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::ofstream csv = begin(o.csv);
  warn_if_oversubscribed(o.workers);

  const double tsc_hz = measure_tsc_hz();

  try {
    if (o.sweep) return run_sweep(o, tsc_hz, csv);

    std::vector<row> rows = make_rows<row>(selected_configurations(configurations(), o.only));
    run_interleaved(rows, o.reps, [&](row& r) -> std::optional<figures> {
      return run_sample(*r.cfg, o.workers, o, tsc_hz, &r.last_stats);
    });

    print_table(rows, o, tsc_hz);
    print_after_table(rows, ratios, "KEvents", o);
    if (csv.is_open()) write_csv(rows, csv);
    if (!close_csv(csv, o.csv)) return 1;
    print_keys(rows, o, tsc_hz);
  } catch (const std::exception& e) {
    // E.g. a malformed HUE_* variable: the runtime constructor names it.
    std::fprintf(stderr, "unbalanced: %s\n", e.what());
    return 1;
  }
  return 0;
}
