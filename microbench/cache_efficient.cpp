// microbench/cache_efficient.cpp — the paper's *cache-efficient* microbenchmark (§5.2, Table 6):
// does a thief that steals from the cores it shares a cache with keep related handlers together?
//
// The paper's workload, as its text gives it: "This microbenchmark uses a fork/join pattern. At
// each round, half of the cores start with a hundred events of type A. The handlers for these
// events allocate an array fitting in their cache and register two events of type B associated to
// different colors. These events will sort the first and the last part of the array (this mimics
// the beginning of a merge sort). Once the handler of an event of type B has finished sorting its
// array, it registers a synchronization event of type C. When the two events of type C registered
// on each array have been processed, the final part of the merge sort occurs." The locality-aware
// heuristic wins there (+31% over base WS, 83% fewer L2 misses per event) because idle cores steal
// from a neighbour sharing their L2, so the two halves of an array and its merge stay in one cache.
//
// What this program runs, round after round:
//   fork   a handler on a color pinned to core 0 posts, for each loaded core, 100 A events
//          (--arrays) on fresh colors that core owns. The loaded cores are the even-numbered
//          workers (0, 2, 4, ...): "half of the cores", chosen so that on the paper's machine
//          (pairs of cores sharing an L2) every loaded core has an idle L2 neighbour;
//   A      fills its array (default 8 KiB = 2048 32-bit keys) with pseudo-random keys, then posts
//          B(first half) and B(second half) on two fresh colors owned by the core running A;
//   B      sorts its half (std::sort), then posts C on its own color;
//   C      synchronization: the first C of an array only counts; the second one runs the final
//          part of the merge sort (std::merge of the two halves, through a second buffer). The last
//          merge of the round runs the join, which posts the next fork.
// So a round is 5 events per array: 500 per loaded core by default.
//
// Sizes for this machine (the paper's: 8-core Xeon E5410, pairs of cores sharing a 6 MB L2): this
// VM has 2 cores with private 1 MiB L2s. A core runs its queued colors round-robin, so the arrays
// of all its pending A/B events are live at once: 100 x 8 KiB = 800 KiB fit in one L2. The arrays
// are allocated once and reused round after round (an allocator would hand the same memory back).
//
// Locality on this VM: hwloc shows two cores with private L1/L2 (and a private "L3" each, the
// hypervisor's fiction): every worker sees the other at the same distance, so the locality-aware
// heuristic has no choice to make, and "hue locality" can differ from "hue base WS" only by noise.
// The program says so in its output. --topology "synthetic:pack:2 l2:2 core:2 pu:1" --workers 8
// runs the paper's topology through hue's code path (workers then run unpinned, 8 threads on this
// machine's 2 cpus: the throughput means nothing, the "B away" columns show where sorts went).
//
// Annotations: A, B and C are annotated with costs measured at start-up (a warm single-core run,
// one array at a time, printed as "calibration"); C's annotation is the mean of a counting C and a
// merging one. The "measured costs" configuration uses hue's run-time profiling instead.
//
// Each configuration is its own hue::runtime (workers = 2 unless --workers), created per
// repetition; repetitions interleave the configurations and medians are reported. Every
// repetition replays the same rounds (one seed), after --warmup untimed rounds; the merges of the
// warm-up rounds are checked (the output must be sorted).
//
// Peers (SPEC §8.5), in the same run, on the same rounds (the same handlers, arrays and window),
// each built only when meson found its library (bench_common.hpp, "Executors"):
//   asio  Boost.Asio: one io_context run by one pinned thread per worker, one strand per color (3
//         per array: A's and the two Bs', made once per run); the fork is a handler on the
//         io_context. Asio cannot put an array's events on a chosen thread: any run thread takes
//         any strand's next event, so "half of the cores start loaded" becomes "the load starts in
//         the shared queue".
//   tbb   oneTBB: a task_arena of one slot per worker and a task_group; each event is a task (no
//         colors: a color never has two events pending). The fork spawns every A into its own
//         thread's deque (TBB cannot place them either: the load starts on that one thread), an A
//         spawns its two Bs into its own deque, and idle threads steal from the other end.
// They have no hue statistics ("-" in the lock, steal, loaded and idle columns); "A stolen" is
// then an A that ran on another thread than its fork, "sorts away" as for hue.
//
// Columns, as in the paper's tables:
//   KEvents/s      thousands of events (A, B and C) per second (median [min..max])
//   locking time   cycles any thread spun on a core lock, over elapsed TSC cycles x workers
//   WS cost        steal_cycles / steal_successes (failed attempts included in the cycles)
//   stolen time    stolen_time_cycles / steal_successes
//   L2 miss/event  hardware cache misses per event where perf_event_open offers a counter, else
//                  "n/a" (this VM: none). Never estimated.
//   sorts away     the share of B events (sorts) that ran on another core than the one whose A
//                  filled their array, and of those the share that ran on a core sharing an L2 with
//                  it ("near"); "merges split": arrays whose halves were sorted on two cores.
//   B cycles       mean cycles of a sort (rdtsc around it), and that over the warm cost.
// and the ideal bound: the warm (calibrated) cycles of a round's events spread perfectly over the
// workers, as events per second; efficiency = KEvents/s over it.
//
// A hang (no round completed for --stall seconds) is reported on stderr with the runtime's
// statistics; the runtime is then stopped, the other configurations still run, the table says
// which configuration hung, and the exit status is 1. So is a merge that leaves an array unsorted.
//
// The runtime's other settings (batch, idle spin, pinning) come from the HUE_* environment
// variables, as for any hue program; workers, steal, costs and topology are set here.
#include "bench_common.hpp"

#ifndef HUE_BENCH_HAVE_TSC
#error "cache_efficient counts cycles on the TSC: x86 only"
#endif

namespace {

using namespace bench;

struct options : table_options {
  unsigned arrays = 100;  // A events per loaded core and round
  unsigned array_kib = 8;

  unsigned keys() const { return array_kib * 1024 / 4; }
  unsigned loaded_cores() const { return (workers + 1) / 2; }  // workers 0, 2, 4, ...
  unsigned total_arrays() const { return arrays * loaded_cores(); }
  std::uint64_t events_per_round() const { return 5ull * total_arrays(); }
};

// One array. Its events are ordered: A posts the Bs (the posts order A's writes before them), each
// B writes its own half and `sorter[h]`, then posts its C, and the second C (acq_rel on `halves`)
// sees both halves before merging.
struct array_state {
  std::vector<std::int32_t> data, scratch;
  unsigned home = 0;       // the loaded core the fork meant A for
  unsigned creator = 0;    // the worker that ran A
  unsigned sorter[2] = {0, 0};
  std::atomic<unsigned> halves{0};
};

void fill(array_state& a, std::uint64_t salt) noexcept {
  prng r{salt};
  for (std::int32_t& k : a.data) k = static_cast<std::int32_t>(r.next() >> 33);
}
void sort_half(array_state& a, unsigned h) noexcept {
  const std::size_t mid = a.data.size() / 2;
  auto first = a.data.begin() + (h ? static_cast<std::ptrdiff_t>(mid) : 0);
  auto last = h ? a.data.end() : a.data.begin() + static_cast<std::ptrdiff_t>(mid);
  std::sort(first, last);
}
void merge_halves(array_state& a) noexcept {
  const auto mid = a.data.begin() + static_cast<std::ptrdiff_t>(a.data.size() / 2);
  std::merge(a.data.begin(), mid, mid, a.data.end(), a.scratch.begin());
  a.data.swap(a.scratch);
}

hue::handler_info a_info{.name = "A (fills the array)"};
hue::handler_info b_info{.name = "B (sorts a half)"};
hue::handler_info c_info{.name = "C (joins the halves, merges)"};

enum kind : unsigned { k_a, k_b, k_c, k_merge, k_b_near, kinds };

// ------------------------------------------------------------------------------------------------
// Calibration: warm single-core medians (annotations and the ideal bound), and a sort of a half
// filled on the other core (both threads running all along).

struct calibration {
  double a = 0, b = 0, c = 0, merge = 0;
  double b_remote = no_value;
  bool bound = false;
};

calibration calibrate(const options& o) {
  const unsigned n = std::min(o.arrays, 100u);
  std::vector<array_state> arrays(n);
  for (array_state& a : arrays) {
    a.data.resize(o.keys());
    a.scratch.resize(o.keys());
  }
  calibration cal;
  const std::vector<int>& cpus = allowed_cpus();
  constexpr unsigned passes = 5;  // the first one dropped
  std::vector<double> sa, sb, sc, sm, sx;
  on_cpu(cpus.empty() ? 0 : cpus[0], [&](bool bound) {
    cal.bound = bound;
    for (unsigned pass = 0; pass < passes; ++pass)
      for (unsigned i = 0; i < n; ++i) {
        array_state& a = arrays[i];
        std::uint64_t t0 = tsc();
        fill(a, o.seed + i + pass * n);
        std::uint64_t t1 = tsc();
        if (pass) sa.push_back(static_cast<double>(t1 - t0));
        for (unsigned h = 0; h < 2; ++h) {
          t0 = tsc();
          sort_half(a, h);
          t1 = tsc();
          if (pass) sb.push_back(static_cast<double>(t1 - t0));
        }
        t0 = tsc();
        a.halves.fetch_sub(1, std::memory_order_acq_rel);  // what a counting C does
        t1 = tsc();
        if (pass) sc.push_back(static_cast<double>(t1 - t0));
        t0 = tsc();
        merge_halves(a);
        t1 = tsc();
        if (pass) sm.push_back(static_cast<double>(t1 - t0));
      }
  });
  cal.a = median(sa);
  cal.b = median(sb);
  cal.c = median(sc);
  cal.merge = median(sm);

  const bool two = across_cpus(
      passes, [&](unsigned pass) { for (unsigned i = 0; i < n; ++i) fill(arrays[i], o.seed + i + pass * n); },
      [&](unsigned pass) {
        for (unsigned i = 0; i < n; ++i)
          for (unsigned h = 0; h < 2; ++h) {
            const std::uint64_t t0 = tsc();
            sort_half(arrays[i], h);
            if (pass) sx.push_back(static_cast<double>(tsc() - t0));
          }
      });
  if (two) cal.b_remote = median(sx);
  return cal;
}

// ------------------------------------------------------------------------------------------------
// One configuration, one repetition.

struct sample : window_sample {
  handler_ledger<kinds>::totals handlers;
};

// Destruction order: `rounds_` (which holds the executor) is declared last, so its threads are
// joined before the state they point into goes away.
template <class Exec>
class cache_run {
 public:
  cache_run(const configuration& c, const options& o, const cache_map& map)
      : o_(o),
        map_(map),
        arrays_(o.total_arrays()),
        rounds_(c, o, exec_params{o.workers, o.topology, "cache", 3ull * o.total_arrays()},
                o.events_per_round()) {
    for (unsigned i = 0; i < arrays_.size(); ++i) {
      array_state& a = arrays_[i];
      a.data.resize(o.keys());
      a.scratch.resize(o.keys());
      a.home = 2 * (i / o.arrays);
    }
  }

  bool run(sample& out) { return rounds_.run([this] { fork(); }, out); }
  hue::runtime_stats stats() const { return rounds_.stats(); }
  std::string where() const { return rounds_.where("arrays"); }
  std::uint64_t events_run() const { return rounds_.events_run(); }
  std::uint64_t unsorted() const { return unsorted_.load(); }

 private:
  Exec& exec() { return rounds_.exec(); }
  handler_ledger<kinds>& ledger() { return rounds_.ledger(); }

  // Where A of array i is meant to run: its loaded core on hue; the fork's thread on a peer, which
  // cannot place events.
  unsigned home(const array_state& a) const { return Exec::places ? a.home : rounds_.fork_worker(); }

  void fork() {
    rounds_.begin_round(arrays_.size());
    verify_ = !rounds_.window().timed();
    for (unsigned i = 0; i < arrays_.size(); ++i) {
      array_state& a = arrays_[i];
      a.halves.store(2, std::memory_order_relaxed);
      exec().post(exec().fresh_color(a.home), [this, i] { run_a(i); }, a_info);
    }
  }

  void run_a(unsigned i) {
    array_state& a = arrays_[i];
    const unsigned me = exec().here();
    const std::uint64_t t0 = tsc();
    fill(a, o_.seed + i + rounds_.window().round() * arrays_.size());
    ledger().add(me, k_a, tsc() - t0, me != home(a));  // "away": stolen before it ran
    a.creator = me;
    for (unsigned h = 0; h < 2; ++h) {
      const auto c = exec().fresh_color(me);
      exec().post(c, [this, i, h, c] { run_b(i, h, c); }, b_info);
    }
  }

  void run_b(unsigned i, unsigned h, typename Exec::color color) {
    array_state& a = arrays_[i];
    const unsigned me = exec().here();
    const std::uint64_t t0 = tsc();
    sort_half(a, h);
    const std::uint64_t spent = tsc() - t0;
    ledger().add(me, k_b, spent, me != a.creator);
    if (me != a.creator && map_.share_l2(me, a.creator)) ledger().add(me, k_b_near, spent, true);
    a.sorter[h] = me;
    exec().post(color, [this, i] { run_c(i); }, c_info);
  }

  void run_c(unsigned i) {
    array_state& a = arrays_[i];
    const unsigned me = exec().here();
    const std::uint64_t t0 = tsc();
    if (a.halves.fetch_sub(1, std::memory_order_acq_rel) != 1) {
      ledger().add(me, k_c, tsc() - t0, false);
      return;
    }
    merge_halves(a);
    const std::uint64_t spent = tsc() - t0;
    ledger().add(me, k_merge, spent, a.sorter[0] != a.sorter[1]);  // "away": halves in two caches
    if (verify_ && !std::is_sorted(a.data.begin(), a.data.end())) unsorted_.fetch_add(1);
    if (rounds_.unit_done()) rounds_.end_round([this] { fork(); });
  }

  const options& o_;
  const cache_map& map_;
  std::vector<array_state> arrays_;
  bool verify_ = true;  // written by the fork only, read by the round's merges (posts order it)
  std::atomic<std::uint64_t> unsorted_{0};
  fork_join_rounds<Exec, kinds> rounds_;
};

// ------------------------------------------------------------------------------------------------
// Figures and output.

struct figures : common_figures {
  double loaded_pct = no_value, a_stolen_pct = no_value, sorts_away_pct = no_value;
  double near_pct = no_value, split_pct = no_value, b_cycles = no_value, merge_cycles = no_value;
};

figures derive(const sample& s, const options& o, double ideal_kevents, bool peer) {
  figures f;
  derive_common(f, s, o.workers, ideal_kevents, peer);
  std::uint64_t run = 0, loaded = 0;
  for (std::size_t c = 0; c < s.events_per_core.size(); ++c) {
    run += s.events_per_core[c];
    if (c % 2 == 0) loaded += s.events_per_core[c];
  }
  f.loaded_pct = pct(loaded, run);
  const auto& h = s.handlers;
  f.a_stolen_pct = pct(h.away[k_a], h.events[k_a]);
  f.sorts_away_pct = pct(h.away[k_b], h.events[k_b]);
  f.near_pct = pct(h.events[k_b_near], h.away[k_b]);
  f.split_pct = pct(h.away[k_merge], h.events[k_merge]);
  f.b_cycles = ratio(h.cycles[k_b], h.events[k_b]);
  f.merge_cycles = ratio(h.cycles[k_merge], h.events[k_merge]);
  return f;
}

using row = table_row<figures>;

void print_header(const options& o, const calibration& c, double tsc_hz, const cache_map& map,
                  const std::string& counters_why) {
  std::printf(
      "\ncache-efficient: %u arrays of %u KiB (%u keys) per loaded core, loaded cores: the %u "
      "even-numbered of %u workers;\n  5 events per array (A, 2 x B, 2 x C), %llu per round; %.1f "
      "s "
      "per repetition, median of %u [min..max]; TSC %.3f GHz\n",
      o.arrays, o.array_kib, o.keys(), o.loaded_cores(), o.workers,
      static_cast<unsigned long long>(o.events_per_round()), o.seconds, o.reps, tsc_hz / 1e9);
  if (!o.topology.empty())
    std::printf(
        "  topology: %s (workers unpinned: %u threads on %u cpus, throughput meaningless)\n",
        o.topology.c_str(), o.workers, std::thread::hardware_concurrency());
  std::printf(
      "\ncalibration (cycles per event, single thread%s): A %.0f, B %.0f, counting C %.0f, merging "
      "C %.0f\n  (annotations: C = the mean of both); B sorting a half filled on the other core: "
      "%s\n",
      c.bound ? ", pinned" : "", c.a, c.b, c.c, c.merge,
      std::isfinite(c.b_remote)
          ? (fixed(c.b_remote, 0) + " (x" + fixed(c.b_remote / c.b, 2) + ")").c_str()
          : "- (one cpu)");
  std::printf("\ncache distances from worker 0: %s\n", map.describe().c_str());
  if (!map.locality_has_a_choice())
    std::printf(
        "locality: NO DIFFERENCE POSSIBLE HERE: every worker sees every other one at the same "
        "cache\n"
        "  distance (flat topology, private L2s), so locality-aware stealing visits victims in "
        "the\n"
        "  same order as base WS; 'hue locality' vs 'hue base WS' below is noise. Run with\n"
        "  --topology \"synthetic:pack:2 l2:2 core:2 pu:1\" --workers 8 to exercise the code "
        "path.\n");
  print_counter_note(counters_why, "event");
}

void print_table(const std::vector<row>& rows, const calibration& cal, double ideal_kevents) {
  std::printf("\n");
  paper_table<row>("KEvents/s", "event")
      .column(7, "sorts", "away", [](const row& r) { return pct_cell(r.med(FIG(sorts_away_pct)), 1); })
      .column(15, "B cycles/event", "(x warm)",
              [&cal](const row& r) { return cycles_vs_warm(r.med(FIG(b_cycles)), cal.b); })
      .print(rows);
  print_calibrated_ideal(ideal_kevents, "KEvents");

  std::printf(
      "\nwhere the time went (medians): share of the events the loaded (even) cores ran; idle "
      "time;\n"
      "A events stolen before they ran; sorts away from their array, and the share of those on a\n"
      "core sharing an L2 with it; arrays sorted on two cores; mean cycles of a merging C\n\n");
  where_table<row>()
      .percent(12, "loaded ran", FIG(loaded_pct))
      .percent(8, "idle", FIG(idle_pct))
      .percent(10, "A stolen", FIG(a_stolen_pct))
      .percent(12, "sorts away", FIG(sorts_away_pct))
      .percent(12, "away near", FIG(near_pct))
      .percent(14, "merges split", FIG(split_pct))
      .column(17, "merge cycles", "",
              [&cal](const row& r) { return cycles_vs_warm(r.med(FIG(merge_cycles)), cal.merge); })
      .print(rows);
}

// The paper's headline for Table 6: locality-aware over base WS (+31% there); then the peers.
const std::vector<named_ratio> ratios =
    table_ratios({{"ratio_locality_over_base", "hue locality / hue base WS", "locality", "base"}},
                 {{"ratio_locality_over_asio", "hue locality / Boost.Asio", "locality", "asio"},
                  {"ratio_locality_over_tbb", "hue locality / oneTBB", "locality", "tbb"}});


void write_csv(const std::vector<row>& rows, double ideal, const calibration& cal,
               std::ostream& out) {
  out << csv_common_header("kevents") << ",sorts_away_pct,sorts_away_near_pct,"
         "merges_split_pct,b_cycles_per_event,b_cycles_over_warm,merge_cycles,"
         "merge_cycles_over_warm,loaded_cores_events_pct,idle_pct,a_stolen_pct,events_per_steal,"
         "hangs,system\n";
  for (const row& r : rows) {
    csv_common_cells(out, r, ideal);
    out << ',' << csv_num(r.med(FIG(sorts_away_pct)), 2) << ','
        << csv_num(r.med(FIG(near_pct)), 2) << ',' << csv_num(r.med(FIG(split_pct)), 2) << ','
        << csv_num(r.med(FIG(b_cycles)), 0) << ',' << csv_num(r.med(FIG(b_cycles)) / cal.b, 3)
        << ',' << csv_num(r.med(FIG(merge_cycles)), 0) << ','
        << csv_num(r.med(FIG(merge_cycles)) / cal.merge, 3) << ','
        << csv_num(r.med(FIG(loaded_pct)), 2) << ',' << csv_num(r.med(FIG(idle_pct)), 2) << ','
        << csv_num(r.med(FIG(a_stolen_pct)), 2) << ',' << csv_num(r.med(FIG(events_per_steal)), 2)
        << ',' << r.hangs << ',' << r.cfg->system() << '\n';
  }
}

void print_keys(const std::vector<row>& rows, const options& o, const calibration& cal,
                double tsc_hz, double ideal, bool counters, const cache_map& map) {
  std::printf("\n");
  std::printf("cache_efficient_arrays_per_loaded_core=%u\n", o.arrays);
  std::printf("cache_efficient_array_kib=%u\n", o.array_kib);
  std::printf("cache_efficient_workers=%u\n", o.workers);
  std::printf("cache_efficient_topology=%s\n",
              o.topology.empty() ? "this_machine" : o.topology.c_str());
  std::printf("cache_efficient_locality_has_a_choice=%d\n", map.locality_has_a_choice() ? 1 : 0);
  std::printf("cache_efficient_seconds=%.3f\n", o.seconds);
  std::printf("cache_efficient_reps=%u\n", o.reps);
  std::printf("cache_efficient_tsc_ghz=%.4f\n", tsc_hz / 1e9);
  std::printf("cache_efficient_calibrated_a_cycles=%.0f\n", cal.a);
  std::printf("cache_efficient_calibrated_b_cycles=%.0f\n", cal.b);
  std::printf("cache_efficient_calibrated_c_cycles=%.0f\n", cal.c);
  std::printf("cache_efficient_calibrated_merge_cycles=%.0f\n", cal.merge);
  std::printf("cache_efficient_calibrated_b_remote_cycles=%s\n", key_num(cal.b_remote, 0).c_str());
  std::printf("cache_efficient_ideal_kevents=%.1f\n", ideal);
  std::printf("cache_efficient_l2_counters=%s\n", counters ? "perf_generic_cache_misses" : "n/a");
  print_peer_keys("cache_efficient");
  const char* p = "cache_efficient";
  print_common_keys(p, rows, "kevents", "event");
  print_row_keys(p, rows, "sorts_away_pct", FIG(sorts_away_pct), 2);
  print_row_keys(p, rows, "sorts_away_near_pct", FIG(near_pct), 2);
  print_row_keys(p, rows, "merges_split_pct", FIG(split_pct), 2);
  print_row_keys(p, rows, "b_cycles", FIG(b_cycles), 0);
  print_ratio_keys(rows, ratios, p);
  print_hang_keys(p, rows);
}

void usage(std::FILE* to) {
  std::fprintf(
      to,
      "usage: cache_efficient [--seconds S] [--reps R] [--workers N] [--arrays A]\n"
      "                       [--array-kib K] [--seed X] [--warmup W] [--timeout S] [--stall S]\n"
      "                       [--topology T] [--only KEY,...] [--csv FILE] [--stats] [--help]\n"
      "\n"
      "The paper's cache-efficient microbenchmark (Table 6): fork/join rounds; each round the\n"
      "even-numbered workers (half of them) get A events on fresh colors they own. An A fills a\n"
      "K KiB array and posts two B on two new colors; each B sorts one half and posts a C; the\n"
      "second C of an array merges the halves. Reports KEvents/s, locking time, WS cost and "
      "stolen\n"
      "time per steal, where the sorts ran relative to their array (and whether on a core sharing\n"
      "an L2 with it), and the efficiency against the ideal bound, for each configuration, and\n"
      "for the peers (on the same rounds; built only when meson found their library):\n");
  print_configurations(to, table_configurations());
  std::fprintf(
      to,
      "\n"
      "  --arrays A      A events (arrays) per loaded core and round; default 100 (the paper's)\n"
      "  --array-kib K   array size in KiB (2 x 256 keys at least); default 8\n");
  print_table_flags_help(to, options{}, true);
}

options parse(int argc, char** argv) {
  options o;
  cli c("cache_efficient", usage);
  add_table_flags(c, o, table_configurations(), true);
  c.count("--arrays", o.arrays, 1, 100'000);
  c.count("--array-kib", o.array_kib, 2, 1 << 20);
  c.parse(argc, argv);
  after_table_flags(o);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  std::ofstream csv = begin(o.csv);
  std::unique_ptr<cache_map> map;
  try {
    map = std::make_unique<cache_map>(o.topology, o.workers);
  } catch (const std::exception& e) {
    cli::bad(std::string("--topology: ") + e.what());
  }
  warn_if_oversubscribed(o.workers);

  const double tsc_hz = measure_tsc_hz();
  const calibration cal = calibrate(o);
  a_info.cost = static_cast<std::uint64_t>(cal.a);
  b_info.cost = static_cast<std::uint64_t>(cal.b);
  c_info.cost = static_cast<std::uint64_t>((cal.c + cal.merge) / 2);
  const double round_cycles = o.total_arrays() * (cal.a + 2 * cal.b + cal.c + cal.merge);
  const double ideal_kevents =
      static_cast<double>(o.events_per_round()) / (round_cycles / o.workers / tsc_hz) / 1e3;
  const std::string counters_why = cache_miss_counter::probe();
  const bool counters = counters_why.empty();
  print_header(o, cal, tsc_hz, *map, counters_why);
  std::fflush(stdout);

  std::vector<row> rows = make_rows<row>(selected_configurations(table_configurations(), o.only));
  std::uint64_t unsorted = 0;
  try {
    run_interleaved(rows, o.reps, [&](row& r) -> std::optional<figures> {
      for (hue::handler_info* info : {&a_info, &b_info, &c_info})
        info->measured_cost.store(0, std::memory_order_relaxed);
      sample s;
      auto check = [&](const auto& run) {
        if (const std::uint64_t bad = run.unsorted()) {
          std::fprintf(stderr, "cache_efficient: %s: %llu merged arrays were NOT sorted\n",
                       r.cfg->label.c_str(), static_cast<unsigned long long>(bad));
          unsorted += bad;
        }
      };
      if (!measure_on_executor<cache_run>(*r.cfg, counters, o, s, r.last_stats, check, o, *map))
        return std::nullopt;
      return derive(s, o, ideal_kevents, r.cfg->peer());
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cache_efficient: %s\n", e.what());
    return 1;
  }

  print_table(rows, cal, ideal_kevents);
  const unsigned hangs = print_after_table(rows, ratios, "KEvents", o);
  if (csv.is_open()) write_csv(rows, ideal_kevents, cal, csv);
  if (!close_csv(csv, o.csv)) return 1;
  print_keys(rows, o, cal, tsc_hz, ideal_kevents, counters, *map);
  if (unsorted) {
    std::fprintf(stderr, "cache_efficient: %llu merges produced unsorted arrays\n",
                 static_cast<unsigned long long>(unsorted));
    return 1;
  }
  return hangs ? 1 : 0;
}
