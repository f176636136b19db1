// microbench/cache_efficient.cpp — the paper's cache-efficient microbenchmark (Table 6): does a
// thief that steals from the cores it shares a cache with keep related handlers together?
//
// Fork/join rounds. The fork, on a color pinned to core 0, posts --arrays A events (100) for each
// loaded core, the even workers (0, 2, ..: half of the cores, so that on a machine of L2 pairs each
// has an idle neighbour), on fresh colors placed there. A fills its array (--array-kib, 8 KiB of
// 32-bit keys) and posts two Bs on fresh colors placed on its own core; each B sorts a half
// (std::sort) and posts C on its color; the second C of an array merges the halves (the end of a
// merge sort). The last merge of a round is the join. 5 events per array; the arrays are made once
// and reused, and the warm-up rounds' merges are checked (the output must be sorted).
//
// Columns: KEvents/s; efficiency against the ideal bound (warm cycles of a round, calibrated on one
// core, over the workers); hue's locking, WS cost and stolen time; then where the time went: sorts
// run away from the core that filled their array (and of those, the share on a core sharing its
// L2), merges of halves sorted on two cores, B's cycles against the warm calibration. When every
// worker sees the others at one distance (private L2s, as on a 2-core VM), locality has no choice
// to make and can differ from base WS only by noise: the program says so. --topology "synthetic:
// pack:2 l2:2 core:2 pu:1" --workers 8 runs the paper's machine through hue's code path (workers
// then run unpinned: the throughput means nothing, the columns show where sorts went).
#include "bench.hpp"

namespace {

using namespace bench;

struct options : common_options {
  unsigned arrays = 100, array_kib = 8;
  std::uint64_t seed = 42;
  unsigned keys() const { return array_kib * 1024 / 4; }
  unsigned total_arrays() const { return arrays * ((workers + 1) / 2); }
  std::uint64_t events_per_round() const { return 5ull * total_arrays(); }
} opt;

// One array. A's writes reach the Bs through its posts; the second C (acq_rel on `halves`) sees
// both halves before merging.
struct array_state {
  std::vector<std::int32_t> data, scratch;
  unsigned home = 0, creator = 0, sorter[2] = {0, 0};
  std::atomic<unsigned> halves{0};

  void fill(std::uint64_t salt) noexcept {
    for (std::int32_t& k : data) {
      salt = (salt ^ (salt >> 29)) * 0xBF58476D1CE4E5B9ull + 0x9E3779B97F4A7C15ull;
      k = static_cast<std::int32_t>(salt >> 33);
    }
  }
  void sort_half(unsigned h) noexcept {
    const auto mid = data.begin() + static_cast<std::ptrdiff_t>(data.size() / 2);
    h ? std::sort(mid, data.end()) : std::sort(data.begin(), mid);
  }
  void merge() noexcept {
    const auto mid = data.begin() + static_cast<std::ptrdiff_t>(data.size() / 2);
    std::merge(data.begin(), mid, mid, data.end(), scratch.begin());
    data.swap(scratch);
  }
};

// Hazard: not constexpr, the costs are set from the calibration; runtimes keep pointers to them.
hue::handler_info a_info{.name = "A (fills the array)"};
hue::handler_info b_info{.name = "B (sorts a half)"};
hue::handler_info c_info{.name = "C (joins the halves, merges)"};
enum kind : unsigned { k_a, k_b, k_c, k_merge, k_b_near, kinds };

// Which workers share an L2 (worker i on core i % cores, as hue places them).
struct cache_map {
  std::vector<std::vector<bool>> near;
  bool choice = false;  // some worker has a nearer and a farther victim
  explicit cache_map(const hue::internal::topology& t) : near(opt.workers) {
    for (unsigned a = 0; a < opt.workers; ++a) {
      std::vector<hue::internal::topology::distance> d;
      for (unsigned b = 0; b < opt.workers; ++b) {
        d.push_back(t.between(a % t.cores(), b % t.cores()));
        near[a].push_back(d.back() <= hue::internal::topology::distance::l2);
      }
      d.erase(d.begin() + a);
      choice |=
          !d.empty() && std::adjacent_find(d.begin(), d.end(), std::not_equal_to{}) != d.end();
    }
  }
};
const cache_map& map() {
  static const hue::internal::topology t(opt.topology);
  static const cache_map m(t);
  return m;
}

template <class Exec>
class cache_run {
 public:
  using rounds_t = fork_join_rounds<Exec, kinds>;
  explicit cache_run(const configuration& c)
      : arrays_(opt.total_arrays()),
        rounds_(c, exec_params{opt.workers, opt.topology, 3ull * opt.total_arrays()}, opt.warmup) {
    for (unsigned i = 0; i < arrays_.size(); ++i) {
      arrays_[i].data.resize(opt.keys());
      arrays_[i].scratch.resize(opt.keys());
      arrays_[i].home = 2 * (i / opt.arrays);
    }
  }
  auto run() {
    return rounds_.run([this] { fork(); }, opt.seconds, opt.stall);
  }
  std::uint64_t unsorted() const { return unsorted_.load(); }

 private:
  Exec& exec() { return rounds_.exec(); }
  void fork() {
    rounds_.begin_round(arrays_.size());
    verify_ = ++round_ <= opt.warmup;
    for (unsigned i = 0; i < arrays_.size(); ++i) {
      arrays_[i].halves.store(2, std::memory_order_relaxed);
      exec().post(
          exec().color_on(arrays_[i].home), [this, i] { run_a(i); }, a_info);
    }
  }
  void run_a(unsigned i) {
    array_state& a = arrays_[i];
    const std::uint64_t t0 = cycles_now();
    a.fill(opt.seed + i + round_ * arrays_.size());
    a.creator = Exec::here();
    rounds_.account(k_a, cycles_now() - t0, a.creator != a.home);
    for (unsigned h = 0; h < 2; ++h) {
      const auto c = exec().color_on(a.creator);
      exec().post(
          c, [this, i, h, c] { run_b(i, h, c); }, b_info);
    }
  }
  void run_b(unsigned i, unsigned h, typename Exec::color color) {
    array_state& a = arrays_[i];
    const std::uint64_t t0 = cycles_now();
    a.sort_half(h);
    const std::uint64_t spent = cycles_now() - t0;
    const unsigned me = Exec::here();
    rounds_.account(k_b, spent, me != a.creator);
    if (me != a.creator && me < opt.workers && map().near[me][a.creator])
      rounds_.account(k_b_near, spent, true);
    a.sorter[h] = me;
    exec().post(
        color, [this, i] { run_c(i); }, c_info);
  }
  void run_c(unsigned i) {
    array_state& a = arrays_[i];
    const std::uint64_t t0 = cycles_now();
    if (a.halves.fetch_sub(1, std::memory_order_acq_rel) != 1) {
      rounds_.account(k_c, cycles_now() - t0, false);
      return;
    }
    a.merge();
    rounds_.account(k_merge, cycles_now() - t0, a.sorter[0] != a.sorter[1]);  // halves split
    if (verify_ && !std::is_sorted(a.data.begin(), a.data.end())) unsorted_.fetch_add(1);
    if (rounds_.unit_done()) rounds_.end_round([this] { fork(); });
  }
  std::vector<array_state> arrays_;
  std::uint64_t round_ = 0;
  bool verify_ = true;  // written by the fork, read by the round's merges (the posts order it)
  std::atomic<std::uint64_t> unsorted_{0};
  rounds_t rounds_;  // last
};

// Warm cycles of A, B, a counting C and a merge: the arrays of one loaded core, serially, twice.
struct calibration {
  double a = 0, b = 0, c = 0, merge = 0;
} cal;
// Medians over passes 2-5 (the first one faults the pages in): robust to a noisy neighbour.
void calibrate() {
  std::vector<array_state> arrays(opt.arrays);
  std::vector<double> t[4];
  for (int pass = 0; pass < 5; ++pass)
    for (unsigned i = 0; i < opt.arrays; ++i) {
      array_state& a = arrays[i];
      a.data.resize(opt.keys());
      a.scratch.resize(opt.keys());
      a.halves.store(2);
      const double ta = timed([&] { a.fill(opt.seed + i); });
      const double tb = timed([&] { a.sort_half(0), a.sort_half(1); }) / 2.0;
      const double tc = timed([&] { a.halves.fetch_sub(1); });
      const double tm = timed([&] { a.merge(); });
      if (pass) t[0].push_back(ta), t[1].push_back(tb), t[2].push_back(tc), t[3].push_back(tm);
    }
  cal = {median(t[0]), median(t[1]), median(t[2]), median(t[3])};
}
double ideal_kevents() {
  const double round_cycles = opt.total_arrays() * (cal.a + 2 * cal.b + cal.c + cal.merge);
  return opt.events_per_round() / (round_cycles / opt.workers / tsc_hz()) / 1e3;
}

figures measure(row& r) {
  figures f;
  with_executor(*r.cfg, [&]<class Exec>(std::type_identity<Exec>) {
    auto run = std::make_unique<cache_run<Exec>>(*r.cfg);
    const auto s = run->run();
    if (run->unsorted()) throw std::runtime_error("a merge left its array unsorted");
    f = window_figures(s, "kevents", s.rounds * opt.events_per_round(), opt.workers,
                       ideal_kevents());
    const auto& h = s.handlers;
    const double bs = std::max<std::uint64_t>(h.events(k_b), 1);
    f["sorts_away_pct"] = 100.0 * h.away(k_b) / bs;
    f["sorts_away_near_pct"] = 100.0 * h.events(k_b_near) / std::max<std::uint64_t>(h.away(k_b), 1);
    f["merges_split_pct"] = 100.0 * h.away(k_merge) / std::max<std::uint64_t>(h.events(k_merge), 1);
    f["b_cycles"] = h.cycles(k_b) / bs;
  });
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "The paper's cache-efficient microbenchmark: rounds of arrays filled by A, their "
      "halves sorted by two Bs and merged by the second C, under every stealing "
      "configuration and the peers.",
      "cache_efficient"};
  add_common(app, opt, configuration_keys());
  load::number(app, "--arrays", opt.arrays, 1u, 100'000u, "A events per loaded core and round");
  load::number(app, "--array-kib", opt.array_kib, 1u, 1u << 20, "array size, KiB");
  load::number(app, "--seed", opt.seed, std::uint64_t{0}, ~std::uint64_t{0}, "keys");
  CLI11_PARSE(app, argc, argv);
  machine();  // the process's cpuset, read before any thread is pinned
  map();
  calibrate();
  a_info.cost = static_cast<std::uint64_t>(cal.a);
  b_info.cost = static_cast<std::uint64_t>(cal.b);
  c_info.cost = static_cast<std::uint64_t>((cal.c + cal.merge) / 2);
  std::vector<row> rows = table_rows(opt);
  const unsigned failures = run_rows(argv, app, opt, rows, measure);
  auto pct = [](const char* f) { return [f](const row& r) { return fixed(r.med(f), 1) + "%"; }; };
  table_spec t{
      "cache_efficient", "kevents", "KEvents/s", "cache_efficient: KEvents/s, ", {}, {}, {}};
  t.title += std::to_string(opt.workers) + " workers, " + std::to_string(opt.total_arrays()) +
             " arrays of " + std::to_string(opt.array_kib) + " KiB per round; ideal " +
             fixed(ideal_kevents(), 0) + " KEvents/s";
  t.extra = {{"sorts away", 10, pct("sorts_away_pct")},
             {"of them near", 12, pct("sorts_away_near_pct")},
             {"merges split", 12, pct("merges_split_pct")}};
  t.extra.push_back({"sort cycles (x warm)", 20,
                     [](const row& r) { return "x" + fixed(r.med("b_cycles") / cal.b, 2); }});
  t.own = {{"locality", "base"}, {"locality", "asio"}, {"locality", "tbb"}};
  t.keys = {
      {"sorts_away_pct", 2}, {"sorts_away_near_pct", 2}, {"merges_split_pct", 2}, {"b_cycles", 0}};
  return finish_table(t, rows, failures, [] {
    if (!map().choice)
      std::printf(
          "\nevery worker sees the others at one cache distance: locality has no choice to make "
          "here\n");
    std::printf(
        "\ncache_efficient_arrays_per_loaded_core=%u\ncache_efficient_array_kib=%u\n"
        "cache_efficient_workers=%u\ncache_efficient_topology=%s\n"
        "cache_efficient_locality_has_a_choice=%d\ncache_efficient_seconds=%.3f\n"
        "cache_efficient_reps=%u\ncache_efficient_tsc_ghz=%.4f\n"
        "cache_efficient_calibrated_a_cycles=%.0f\ncache_efficient_calibrated_b_cycles=%.0f\n"
        "cache_efficient_calibrated_c_cycles=%.0f\ncache_efficient_calibrated_merge_cycles=%.0f\n"
        "cache_efficient_ideal_kevents=%.1f\ncache_efficient_l2_counters=n/a\n",
        opt.arrays, opt.array_kib, opt.workers,
        opt.topology.empty() ? "this_machine" : opt.topology.c_str(), map().choice, opt.seconds,
        opt.reps, tsc_hz() / 1e9, cal.a, cal.b, cal.c, cal.merge, ideal_kevents());
  });
}
