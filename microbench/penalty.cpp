// microbench/penalty.cpp — the paper's *penalty* microbenchmark (§5.2, Table 5): is it better to
// steal the events that build a data set than the ones that keep using it?
//
// The paper's workload, as its text gives it: "a single core starts with many events of type A
// associated to different colors, while the other cores start with an empty event queue. When an
// event of type A is processed, an event of type B with the same color is created. Moreover, the
// event of type A creates an array fitting in the core cache. Each event of type B accesses an
// offset of its parent array and registers a new event of type B with the same color. This
// operation is repeated until the array has been completely accessed. [...] idle cores have more
// opportunities to steal events of type B but should preferably steal events of type A in order to
// preserve cache locality. [...] The penalty of events of type B was set to 1000." The result is
// the number of tasks (events, A and B alike) run per second.
//
// Note on the penalty: it is the B events, which use a large long-lived data set built by their
// color's A, that carry the penalty of 1000 (they are expensive to move: their data stays in the
// cache of the core that ran A). A events are cheap to move (penalty 1): their array does not exist
// yet, it is built wherever A runs. With penalties, a B color's time left is cost_B / 1000, close
// to nothing, so the time-left heuristic finds it never worth a steal, and penalty-aware stealing
// alone prefers A colors.
//
// What this program runs, round after round (fork/join, as the unbalanced benchmark, because the
// paper measures a rate and its setup is a one-shot imbalance):
//   fork   a handler on a color pinned to core 0 posts one A event on each of C fresh colors
//          (default 32) that core 0 owns at posting time, so the whole load starts on core 0;
//   A      builds its color's array (default 16 KiB = 256 cache lines): writes every line, linking
//          the lines into one cycle in a fixed pseudo-random order (a linked structure, so that a
//          walk over it is a chain of dependent loads that prefetchers cannot hide), plus W rounds
//          of integer mixing per line (default 32: events of ~1,000 and ~12,000 cycles rather than
//          ~200, so that per-event runtime overhead does not drown the cache effect); then posts B;
//   B      walks the next chunk of the cycle (default 16 lines), updating each line (W rounds of
//          mixing on its payload: the line ends dirty in the cache of the core running B), then
//          posts the next B of its color, until the whole cycle has been walked once (256 / 16 = 16
//          B events per color). The last B of the last color runs the join, which posts the next
//          fork.
// So a round is C x (1 + lines/chunk) events (32 x 17 = 544 by default).
//
// Sizes for this machine (the paper's is an 8-core Xeon E5410, pairs sharing a 6 MB L2): this VM
// has 2 cores, each with a private 1 MiB L2 (the "508 MB L3" hwloc reports per core is the
// hypervisor's fiction). A core runs its colors round-robin (each color has one pending event at a
// time, and a batch takes only the events pending when it starts), so every array it holds stays
// live at once: 32 x 16 KiB = 512 KiB fit one L2 even when core 0 holds them all. On this VM a
// dependent load of a line that is dirty in the other core's cache costs some 75 TSC cycles more
// than one in the local L2 (~10), with both cores busy (measured at start-up: "B walking an array
// built on the other core"; a vCPU that the hypervisor just moved pays ~200). A stolen B color pays
// it on every line left in its walk.
//
// What to expect from hue here: a core runs its colors round-robin, so core 0 runs every A of a
// round in its first pass over its queue; thieves can take A colors only during that pass (a thief
// then runs the stolen color's whole walk locally). From then on only B colors are left, and with
// time-left + penalty nothing is worth stealing: the thief idles, and whether that beats moving B
// colors depends on how much a remote walk costs on the machine (see the calibration line).
//
// Annotations: as the paper's programmer did ("set by the developer based on feedback from
// application profiling"), A and B are annotated with their cost measured at start-up (a warm,
// single-core run of the same handlers, one array at a time: the "calibration" printed first). The
// "measured costs" configuration ignores those and uses hue's run-time profiling instead.
//
// Each configuration is its own hue::runtime (workers = 2 unless --workers), created per
// repetition; repetitions interleave the configurations (A B C .. A B C ..) and medians are
// reported. Every repetition replays the same rounds (one seed), after --warmup untimed rounds.
//
// Peers (SPEC §8.5), in the same run, on the same rounds (the same handlers, arrays and window),
// each built only when meson found its library (bench_common.hpp, "Executors"):
//   asio  Boost.Asio: one io_context run by one pinned thread per worker, one strand per color
//         (made once per run); the fork is a handler on the io_context, which posts each A on its
//         color's strand, and each event posts the next on the same strand. Any run thread may take
//         any strand's next event: Asio has no notion of where a color's data lives.
//   tbb   oneTBB: a task_arena of one slot per worker and a task_group; each event is a task that
//         run()s its color's next one (no colors: a color never has two events pending). The fork
//         spawns the A tasks into its thread's deque and idle threads steal from the other end, so
//         TBB steals A events and keeps each B chain on the thread that built its array (a task
//         run() from a task goes to the front of its own thread's deque).
// They have no hue statistics ("-" in the lock, steal, core 0 and idle columns); "A stolen" is
// then an A that ran on another thread than its fork, "B away" as for hue.
//
// Columns, as in the paper's tables:
//   KTasks/s       thousands of events (A and B) per second (median [min..max])
//   locking time   cycles any thread spun on a core lock, over elapsed TSC cycles x workers
//   WS cost        steal_cycles / steal_successes (failed attempts included in the cycles;
//                  "steals ok/att" is printed next to it)
//   stolen time    stolen_time_cycles / steal_successes: expected run time moved by one steal
//   L2 miss/task   hardware cache misses per event where perf_event_open offers a counter, else
//                  "n/a" (this VM: the hypervisor exposes none). Never estimated.
//   B away         the share of B events that ran on another core than the one whose A built their
//                  array, i.e. that walked data sitting in another core's cache. Not a miss count,
//                  but it is what the paper's L2 misses measure the consequence of.
//   B cycles       mean cycles of a B handler (rdtsc around it), and that over the warm cost.
// and the ideal bound: the warm (calibrated) cycles of the events of a round spread perfectly over
// the workers, as events per second; efficiency = KTasks/s over it.
//
// A hang (no round completed for --stall seconds) is reported on stderr with the runtime's
// statistics; the run is then stopped, the other configurations still run, the table says
// which configuration hung, and the exit status is 1.
//
// The runtime's other settings (batch, idle spin, pinning) come from the HUE_* environment
// variables, as for any hue program; workers, steal, costs and topology are set here.
#include "bench_common.hpp"

#ifndef HUE_BENCH_HAVE_TSC
#error "penalty counts cycles on the TSC: x86 only"
#endif

namespace {

using namespace bench;

// ------------------------------------------------------------------------------------------------
// The workload.

struct options : table_options {
  unsigned colors = 32;       // A events per round
  unsigned array_kib = 16;    // per color
  unsigned chunk_lines = 16;  // lines walked by one B
  unsigned work = 32;         // mixing rounds per line
  unsigned penalty = 1000;    // of B

  unsigned lines() const { return array_kib * 1024 / 64; }
  unsigned chunks() const { return lines() / chunk_lines; }
  std::uint64_t events_per_round() const { return std::uint64_t{colors} * (1 + chunks()); }
};

struct alignas(64) line {
  std::uint32_t next;
  std::uint32_t visits;
  std::uint64_t payload;
  std::uint64_t pad[6];
};
static_assert(sizeof(line) == 64, "one element per cache line");

inline std::uint64_t mix(std::uint64_t x, unsigned rounds) noexcept {
  for (unsigned r = 0; r < rounds; ++r) x = (x ^ (x >> 29)) * 0xBF58476D1CE4E5B9ull;
  return x;
}

// One color's array. Touched by one handler at a time: its color's events run one after the
// other, each posted by the previous one (the post orders their writes).
struct array_state {
  std::unique_ptr<line[]> lines;
  std::uint32_t cursor = 0;  // where the next B starts walking
  std::uint32_t next_chunk = 0;
  unsigned creator = 0;        // the worker that ran A
  unsigned last_core = 0;      // the worker that ran the previous event of the color
  std::uint64_t checksum = 0;  // keeps the walk observable
};

// The fixed link order: one cycle through every line, in a pseudo-random order.
std::vector<std::uint32_t> make_cycle(unsigned n, std::uint64_t seed) {
  std::vector<std::uint32_t> order(n);
  for (unsigned i = 0; i < n; ++i) order[i] = i;
  prng r{seed};
  for (unsigned i = n - 1; i > 0; --i) std::swap(order[i], order[r.next() % (i + 1)]);
  std::vector<std::uint32_t> next(n);
  for (unsigned i = 0; i < n; ++i) next[order[i]] = order[(i + 1) % n];
  return next;
}

// Handler bodies, shared by the calibration and the runtime handlers.
void build(array_state& a, const std::vector<std::uint32_t>& cycle, std::uint64_t salt,
           unsigned work) noexcept {
  const std::size_t n = cycle.size();
  for (std::size_t i = 0; i < n; ++i) {
    a.lines[i].next = cycle[i];
    a.lines[i].visits = 0;
    a.lines[i].payload = mix(salt + i, work);
  }
  a.cursor = 0;
  a.next_chunk = 0;
}

void walk(array_state& a, unsigned chunk_lines, unsigned work) noexcept {
  std::uint32_t p = a.cursor;
  std::uint64_t sum = 0;
  for (unsigned j = 0; j < chunk_lines; ++j) {
    line& l = a.lines[p];
    l.payload = mix(l.payload + j, work);
    ++l.visits;
    sum += l.payload;
    p = l.next;
  }
  a.cursor = p;
  a.checksum += sum;
  ++a.next_chunk;
}

// Static storage: the runtime keeps pointers to them. Their costs are set by the calibration before
// any runtime exists; `measured_cost` is reset before every repetition, so that configurations
// measuring costs do not start from what an earlier one measured.
hue::handler_info a_info{.name = "A (builds the array)"};
hue::handler_info b_info{.name = "B (walks the array)"};

enum kind : unsigned { k_a, k_b, k_moved };

// ------------------------------------------------------------------------------------------------
// Calibration: warm single-core costs (annotations and the ideal bound), and what a B costs when
// its array was built on the other core (what stealing a B color costs on this machine).

struct calibration {
  double a = 0, b = 0;              // warm, one array at a time (medians)
  double b_round_robin = no_value;  // one core holding every array of a round, visited round-robin
  double b_remote = no_value;       // array built on one cpu, walked on another
  bool bound = false;
};

calibration calibrate(const options& o, const std::vector<std::uint32_t>& cycle) {
  std::vector<array_state> arrays(o.colors);
  for (array_state& a : arrays) a.lines.reset(new line[o.lines()]);
  calibration c;
  const std::vector<int>& cpus = allowed_cpus();
  constexpr unsigned passes = 5;  // the first is the cold one, dropped
  // Medians, not means: on a VM one preempted sample is worth thousands of normal ones.
  std::vector<double> sa, sb, sr, sx;

  on_cpu(cpus.empty() ? 0 : cpus[0], [&](bool bound) {
    c.bound = bound;
    for (unsigned pass = 0; pass < passes; ++pass) {
      for (unsigned i = 0; i < o.colors; ++i) {
        array_state& a = arrays[i];
        std::uint64_t t0 = tsc();
        build(a, cycle, o.seed + i, o.work);
        std::uint64_t t1 = tsc();
        if (pass) sa.push_back(static_cast<double>(t1 - t0));
        for (unsigned k = 0; k < o.chunks(); ++k) {
          t0 = tsc();
          walk(a, o.chunk_lines, o.work);
          t1 = tsc();
          if (pass) sb.push_back(static_cast<double>(t1 - t0));
        }
      }
    }
    // Round-robin: what one core holding the whole round does without stealing.
    for (unsigned pass = 0; pass < passes; ++pass) {
      for (unsigned i = 0; i < o.colors; ++i) build(arrays[i], cycle, o.seed + i, o.work);
      for (unsigned k = 0; k < o.chunks(); ++k)
        for (unsigned i = 0; i < o.colors; ++i) {
          const std::uint64_t t0 = tsc();
          walk(arrays[i], o.chunk_lines, o.work);
          if (pass) sr.push_back(static_cast<double>(tsc() - t0));
        }
    }
  });
  c.a = median(sa);
  c.b = median(sb);
  c.b_round_robin = median(sr);

  // Remote: arrays built on one cpu, walked on another.
  const bool two = across_cpus(
      passes,
      [&](unsigned) {
        for (unsigned i = 0; i < o.colors; ++i) build(arrays[i], cycle, o.seed + i, o.work);
      },
      [&](unsigned pass) {
        for (unsigned i = 0; i < o.colors; ++i)
          for (unsigned k = 0; k < o.chunks(); ++k) {
            const std::uint64_t t0 = tsc();
            walk(arrays[i], o.chunk_lines, o.work);
            if (pass) sx.push_back(static_cast<double>(tsc() - t0));
          }
      });
  if (two) c.b_remote = median(sx);
  return c;
}

// ------------------------------------------------------------------------------------------------
// One configuration, one repetition, on hue or a peer (Exec: bench_common.hpp, "Executors").

struct sample : window_sample {
  handler_ledger<3>::totals handlers;
};

// Destruction order: `rounds_` (which holds the executor) is declared last, so its threads are
// joined before the state they point into goes away.
template <class Exec>
class penalty_run {
 public:
  penalty_run(const configuration& c, const options& o, const std::vector<std::uint32_t>& cycle)
      : o_(o),
        cycle_(cycle),
        arrays_(o.colors),
        colors_(o.colors),
        rounds_(c, o, exec_params{o.workers, o.topology, "penalty", o.colors},
                o.events_per_round()) {
    for (array_state& a : arrays_) a.lines.reset(new line[o.lines()]);
  }

  bool run(sample& out) { return rounds_.run([this] { fork(); }, out); }
  hue::runtime_stats stats() const { return rounds_.stats(); }
  std::string where() const { return rounds_.where("colors"); }
  std::uint64_t events_run() const { return rounds_.events_run(); }

 private:
  Exec& exec() { return rounds_.exec(); }

  // The fork: one A on each of C fresh colors, all on core 0 (hue places them there; the peers
  // cannot place, their fork's thread is where the load starts).
  void fork() {
    rounds_.begin_round(o_.colors);
    for (unsigned i = 0; i < o_.colors; ++i) {
      colors_[i] = exec().fresh_color(0);
      exec().post(colors_[i], [this, i] { run_a(i); }, a_info);
    }
  }

  void run_a(unsigned i) {
    array_state& a = arrays_[i];
    const unsigned me = exec().here();
    const std::uint64_t t0 = tsc();
    build(a, cycle_, o_.seed + i + rounds_.window().round() * o_.colors, o_.work);
    // "away": an A that was stolen
    rounds_.ledger().add(me, k_a, tsc() - t0, me != rounds_.fork_worker());
    a.creator = a.last_core = me;
    exec().post(colors_[i], [this, i] { run_b(i); }, b_info);
  }

  void run_b(unsigned i) {
    array_state& a = arrays_[i];
    const unsigned me = exec().here();
    const std::uint64_t t0 = tsc();
    walk(a, o_.chunk_lines, o_.work);
    const std::uint64_t spent = tsc() - t0;
    rounds_.ledger().add(me, k_b, spent, me != a.creator);
    if (me != a.last_core) rounds_.ledger().add(me, k_moved, spent, true);  // moved mid-walk
    a.last_core = me;
    if (a.next_chunk < o_.chunks()) {
      exec().post(colors_[i], [this, i] { run_b(i); }, b_info);
    } else if (rounds_.unit_done()) {
      rounds_.end_round([this] { fork(); });
    }
  }

  const options& o_;
  const std::vector<std::uint32_t>& cycle_;
  std::vector<array_state> arrays_;
  std::vector<typename Exec::color> colors_;  // written by the fork before it posts each A
  fork_join_rounds<Exec, 3> rounds_;
};

// ------------------------------------------------------------------------------------------------
// Figures and output.

struct figures : common_figures {
  double core0_pct = no_value, a_stolen_pct = no_value, b_away_pct = no_value;
  double moves_per_round = no_value, b_cycles = no_value;
};

figures derive(const sample& s, const options& o, double ideal_kevents, bool peer) {
  figures f;
  derive_common(f, s, o.workers, ideal_kevents, peer);
  std::uint64_t run = 0;
  for (std::uint64_t e : s.events_per_core) run += e;
  f.core0_pct = run ? pct(s.events_per_core[0], run) : no_value;
  f.a_stolen_pct = pct(s.handlers.away[k_a], s.handlers.events[k_a]);
  f.b_away_pct = pct(s.handlers.away[k_b], s.handlers.events[k_b]);
  f.moves_per_round = ratio(s.handlers.events[k_moved], s.rounds);
  f.b_cycles = ratio(s.handlers.cycles[k_b], s.handlers.events[k_b]);
  return f;
}

using row = table_row<figures>;

void print_calibration(const options& o, const calibration& c, double tsc_hz,
                       const std::string& counters_why) {
  std::printf(
      "\npenalty: %u colors per round, each an A building a %u KiB array (%u lines) and %u B "
      "walking %u lines;\n  %llu events per round; B penalty %u; %u workers; %.1f s per "
      "repetition, median of %u [min..max]; TSC %.3f GHz\n",
      o.colors, o.array_kib, o.lines(), o.chunks(), o.chunk_lines,
      static_cast<unsigned long long>(o.events_per_round()), o.penalty, o.workers, o.seconds,
      o.reps, tsc_hz / 1e9);
  if (!o.topology.empty()) std::printf("  topology: %s (workers unpinned)\n", o.topology.c_str());
  std::printf(
      "\ncalibration (cycles per event, single thread%s): A %.0f, B %.0f (annotations and ideal "
      "bound);\n  B with one core holding all %u arrays, round-robin: %.0f; B walking an array "
      "built on the other core: %s\n",
      c.bound ? ", pinned" : "", c.a, c.b, o.colors, c.b_round_robin,
      std::isfinite(c.b_remote)
          ? (fixed(c.b_remote, 0) + " (x" + fixed(c.b_remote / c.b, 1) + ")").c_str()
          : "- (one cpu)");
  print_counter_note(counters_why, "task");
}

void print_table(const std::vector<row>& rows, const calibration& cal, double ideal_kevents) {
  std::printf("\n");
  paper_table<row>("KTasks/s", "task")
      .percent(7, "B away", FIG(b_away_pct))
      .column(15, "B cycles/event", "(x warm)",
              [&cal](const row& r) { return cycles_vs_warm(r.med(FIG(b_cycles)), cal.b); })
      .print(rows);
  print_calibrated_ideal(ideal_kevents, "KTasks");

  std::printf(
      "\nwhere the time went (medians): share of the events core 0 ran; idle time; A events "
      "stolen\n"
      "(run off core 0; for a peer: off its fork's thread); B colors moved in the middle of their "
      "walk,\nper round; events per steal\n\n");
  where_table<row>()
      .percent(11, "core 0 ran", FIG(core0_pct))
      .percent(8, "idle", FIG(idle_pct))
      .percent(10, "A stolen", FIG(a_stolen_pct))
      .number(15, "B moves/round", FIG(moves_per_round), 2)
      .number(13, "events/steal", FIG(events_per_steal), 2)
      .print(rows);
}

// The paper's headline for Table 5: penalty-aware over base WS (+53% there); then the peers.
const std::vector<named_ratio> ratios =
    table_ratios({{"ratio_penalty_over_base", "hue penalty / hue base WS", "penalty", "base"}},
                 {{"ratio_penalty_over_asio", "hue penalty / Boost.Asio", "penalty", "asio"},
                  {"ratio_penalty_over_tbb", "hue penalty / oneTBB", "penalty", "tbb"}});

void write_csv(const std::vector<row>& rows, double ideal, const calibration& cal,
               std::ostream& out) {
  out << csv_common_header("ktasks") << ",b_away_pct,b_cycles_per_event,"
         "b_cycles_over_warm,core0_events_pct,idle_pct,a_stolen_pct,b_moves_per_round,"
         "events_per_steal,hangs,system\n";
  for (const row& r : rows) {
    csv_common_cells(out, r, ideal);
    out << ',' << csv_num(r.med(FIG(b_away_pct)), 2) << ',' << csv_num(r.med(FIG(b_cycles)), 0)
        << ',' << csv_num(r.med(FIG(b_cycles)) / cal.b, 3) << ','
        << csv_num(r.med(FIG(core0_pct)), 2) << ',' << csv_num(r.med(FIG(idle_pct)), 2) << ','
        << csv_num(r.med(FIG(a_stolen_pct)), 2) << ',' << csv_num(r.med(FIG(moves_per_round)), 3)
        << ',' << csv_num(r.med(FIG(events_per_steal)), 2) << ',' << r.hangs << ','
        << r.cfg->system() << '\n';
  }
}

void print_keys(const std::vector<row>& rows, const options& o, const calibration& cal,
                double tsc_hz, double ideal, bool counters) {
  std::printf("\n");
  std::printf("penalty_colors=%u\n", o.colors);
  std::printf("penalty_array_kib=%u\n", o.array_kib);
  std::printf("penalty_chunk_lines=%u\n", o.chunk_lines);
  std::printf("penalty_b_penalty=%u\n", o.penalty);
  std::printf("penalty_workers=%u\n", o.workers);
  std::printf("penalty_seconds=%.3f\n", o.seconds);
  std::printf("penalty_reps=%u\n", o.reps);
  std::printf("penalty_tsc_ghz=%.4f\n", tsc_hz / 1e9);
  std::printf("penalty_calibrated_a_cycles=%.0f\n", cal.a);
  std::printf("penalty_calibrated_b_cycles=%.0f\n", cal.b);
  std::printf("penalty_calibrated_b_round_robin_cycles=%s\n",
              key_num(cal.b_round_robin, 0).c_str());
  std::printf("penalty_calibrated_b_remote_cycles=%s\n", key_num(cal.b_remote, 0).c_str());
  std::printf("penalty_ideal_ktasks=%.1f\n", ideal);
  std::printf("penalty_l2_counters=%s\n", counters ? "perf_generic_cache_misses" : "n/a");
  print_peer_keys("penalty");
  print_common_keys("penalty", rows, "ktasks", "task");
  print_row_keys("penalty", rows, "b_away_pct", FIG(b_away_pct), 2);
  print_row_keys("penalty", rows, "b_cycles", FIG(b_cycles), 0);
  print_ratio_keys(rows, ratios, "penalty");
  print_hang_keys("penalty", rows);
}

void usage(std::FILE* to) {
  std::fprintf(
      to,
      "usage: penalty [--seconds S] [--reps R] [--workers N] [--colors C] [--array-kib K]\n"
      "               [--chunk-lines L] [--work W] [--penalty P] [--seed X] [--warmup W]\n"
      "               [--timeout S] [--stall S] [--topology T] [--only KEY,...] [--csv FILE] "
      "[--stats]\n"
      "               [--help]\n"
      "\n"
      "The paper's penalty microbenchmark (Table 5): fork/join rounds; each round posts C events\n"
      "of type A on fresh colors owned by core 0. An A builds its color's array (K KiB, linked in\n"
      "a pseudo-random cycle) and posts a B; each B walks the next L lines and posts the next B,\n"
      "until the array has been walked once. B events carry the stealing penalty P: they use a\n"
      "long-lived data set that lives in the cache of the core that ran A. Reports tasks/s,\n"
      "locking time, WS cost and stolen time per steal, the share of B events that ran away from\n"
      "their array, and the efficiency against the ideal bound, for each configuration, and for\n"
      "the peers (on the same rounds; built only when meson found their library):\n");
  print_configurations(to, table_configurations());
  std::fprintf(
      to,
      "\n"
      "  --colors C      A events (colors, arrays) per round; default 32\n"
      "  --array-kib K   array per color, KiB (a multiple of L x 64 bytes); default 16\n"
      "  --chunk-lines L cache lines walked by one B; default 16\n"
      "  --work W        integer mixing rounds per line, in A and B; default 32\n"
      "  --penalty P     stealing penalty of B (A has 1); default 1000 (the paper's)\n");
  print_table_flags_help(to, options{}, true);
}

options parse(int argc, char** argv) {
  options o;
  cli c("penalty", usage);
  add_table_flags(c, o, table_configurations(), true);
  c.count("--colors", o.colors, 1, 100'000);
  c.count("--array-kib", o.array_kib, 1, 1 << 20);
  c.count("--chunk-lines", o.chunk_lines, 1, 1 << 24);
  c.count("--work", o.work, 0, 10'000);
  c.count("--penalty", o.penalty, 1, 1'000'000'000);
  c.parse(argc, argv);
  if (o.lines() % o.chunk_lines != 0 || o.lines() < o.chunk_lines)
    c.bad("--array-kib " + std::to_string(o.array_kib) + " is " + std::to_string(o.lines()) +
          " lines, not a multiple of --chunk-lines " + std::to_string(o.chunk_lines));
  after_table_flags(o);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::ofstream csv = begin(o.csv);
  if (!o.topology.empty()) {
    try {
      cache_map check(o.topology, o.workers);
    } catch (const std::exception& e) {
      cli::bad(std::string("--topology: ") + e.what());
    }
  }
  warn_if_oversubscribed(o.workers);

  const double tsc_hz = measure_tsc_hz();
  const std::vector<std::uint32_t> cycle = make_cycle(o.lines(), o.seed);
  const calibration cal = calibrate(o, cycle);
  a_info.cost = static_cast<std::uint64_t>(cal.a);
  b_info.cost = static_cast<std::uint64_t>(cal.b);
  b_info.penalty = o.penalty;
  const double round_cycles = o.colors * (cal.a + o.chunks() * cal.b);
  const double ideal_kevents =
      static_cast<double>(o.events_per_round()) / (round_cycles / o.workers / tsc_hz) / 1e3;
  const std::string counters_why = cache_miss_counter::probe();
  const bool counters = counters_why.empty();
  print_calibration(o, cal, tsc_hz, counters_why);
  std::fflush(stdout);

  std::vector<row> rows = make_rows<row>(selected_configurations(table_configurations(), o.only));
  try {
    run_interleaved(rows, o.reps, [&](row& r) -> std::optional<figures> {
      a_info.measured_cost.store(0, std::memory_order_relaxed);
      b_info.measured_cost.store(0, std::memory_order_relaxed);
      sample s;
      if (!measure_on_executor<penalty_run>(*r.cfg, counters, o, s, r.last_stats,
                                            [](const auto&) {}, o, cycle))
        return std::nullopt;
      return derive(s, o, ideal_kevents, r.cfg->peer());
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "penalty: %s\n", e.what());
    return 1;
  }

  print_table(rows, cal, ideal_kevents);
  const unsigned hangs = print_after_table(rows, ratios, "KTasks", o);
  if (csv.is_open()) write_csv(rows, ideal_kevents, cal, csv);
  if (!close_csv(csv, o.csv)) return 1;
  print_keys(rows, o, cal, tsc_hz, ideal_kevents, counters);
  return hangs ? 1 : 0;
}
