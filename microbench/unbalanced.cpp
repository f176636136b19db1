// microbench/unbalanced.cpp — the paper's unbalanced microbenchmark (Tables 3 and 4): fork/join
// rounds of --events independent events (50,000), all posted on core 0 by a fork on a color pinned
// there, each on a fresh color placed on core 0; 98% spin 100 cycles, 2% a uniform 10,000-50,000
// (TSC ticks, the runtime's cycles). The last event of a round posts the next fork. Every row
// replays the same event sequence (one seed), after --warmup untimed rounds.
//
// Rows: every stealing configuration of hue; Boost.Asio (a strand per event from a pool made once
// per run; asio_make_strand: a new strand per event) and oneTBB (a task per event), on the same
// rounds. Columns: KEvents/s; efficiency, against the ideal bound (the handler cycles of the events
// run in the window spread perfectly over the workers; it ignores the serial fork and every
// per-event cost of the runtime, so nothing reaches it); hue's locking time, WS cost and stolen
// time per steal. --workers-sweep runs all, asio and tbb at 1 .. --workers workers instead.
#include "bench.hpp"

namespace {

using namespace bench;

constexpr std::uint64_t small_cycles = 100, big_min = 10'000, big_max = 50'000;
// The big events' cost varies, an annotation is per handler: they carry the mean of their range.
// Hazard: measured_cost lives in the info, shared by every runtime of the process, so a
// configuration measuring costs starts from what earlier ones measured.
constexpr hue::handler_info small_info{.name = "small", .cost = small_cycles};
constexpr hue::handler_info big_info{.name = "big", .cost = (big_min + big_max) / 2};

struct options : common_options {
  std::uint64_t events = 50'000, seed = 42;
  bool sweep = false;
} opt;

// splitmix64: the same event sequence on every row.
struct prng {
  std::uint64_t s;
  std::uint64_t next() noexcept {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

template <class Exec>
class unbalanced_run {
 public:
  unbalanced_run(const configuration& c, const exec_params& p)
      : rng_{opt.seed}, rounds_(c, p, opt.warmup) {}
  auto run() {
    return rounds_.run([this] { fork(); }, opt.seconds, opt.stall);
  }

 private:
  void fork() {
    rounds_.begin_round(opt.events);
    Exec& e = rounds_.exec();
    for (std::uint64_t i = 0; i < opt.events; ++i) {
      const std::uint64_t r = rng_.next();
      const bool big = r % 10'000 < 200;  // 2%
      const std::uint64_t cycles =
          big ? big_min + (r >> 32) % (big_max - big_min + 1) : small_cycles;
      e.post(
          e.color_on(0), [this, cycles] { event(cycles); }, big ? big_info : small_info);
    }
  }
  void event(std::uint64_t cycles) {
    spin(cycles);
    rounds_.account(0, cycles, false);  // the target, not the measured time: the ideal bound's
    if (rounds_.unit_done()) rounds_.end_round([this] { fork(); });
  }
  prng rng_;
  fork_join_rounds<Exec, 1> rounds_;  // last
};

figures measure(row& r) {
  const unsigned workers = r.workers ? r.workers : opt.workers;
  figures f;
  with_executor(*r.cfg, [&]<class Exec>(std::type_identity<Exec>) {
    const auto s = std::make_unique<unbalanced_run<Exec>>(
                       *r.cfg, exec_params{workers, opt.topology, opt.events})
                       ->run();
    const double ideal = s.rounds * opt.events / (s.handlers.cycles(0) / tsc_hz() / workers) / 1e3;
    f = window_figures(s, "kevents", s.rounds * opt.events, workers, ideal);
    f["ideal_kevents"] = ideal;
  });
  return f;
}

int sweep(const std::vector<row>& rows) {
  print_table(
      "unbalanced --workers-sweep: KEvents/s, median [min..max] of " + std::to_string(opt.reps),
      rows, {{"KEvents/s", 24, [](const row& r) { return r.cell("kevents", 0); }}});
  std::printf("\nunbalanced_sweep_max_workers=%u\n", opt.workers);
  for (const row& r : rows)
    std::printf("unbalanced_sweep_%s_kevents=%s\n", r.key.c_str(),
                fixed(r.med("kevents"), 1).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "The paper's unbalanced microbenchmark: fork/join rounds of events posted on core 0, "
      "98% of 100 cycles and 2% of 10k-50k cycles, under every stealing configuration "
      "and the peers.",
      "unbalanced"};
  add_common(app, opt, configuration_keys(true));
  load::number(app, "--events", opt.events, std::uint64_t{1}, std::uint64_t{100'000'000},
               "events per round");
  load::number(app, "--seed", opt.seed, std::uint64_t{0}, ~std::uint64_t{0}, "event sequence");
  app.add_flag("--workers-sweep", opt.sweep, "all, asio and tbb at 1 .. --workers workers");
  CLI11_PARSE(app, argc, argv);
  machine();  // the process's cpuset, read before any thread is pinned
  std::vector<row> rows;
  if (opt.sweep) {
    if (opt.only.empty()) opt.only = {"all", "asio", "tbb"};
    for (unsigned w = 1; w <= opt.workers; ++w)
      for (row r : table_rows(opt))
        rows.push_back({r.key + "_w" + std::to_string(w),
                        r.label + ", " + std::to_string(w) + " w",
                        r.cfg,
                        w,
                        {},
                        0});
  } else {
    rows = table_rows(opt, true);
  }
  const unsigned failures = run_rows(argv, app, opt, rows, measure);
  if (opt.sweep) return sweep(rows) + (failures ? 1 : 0);
  std::vector<double> ideals;
  for (const row& r : rows) ideals.push_back(r.med("ideal_kevents"));
  const double ideal = median(ideals);
  table_spec t{"unbalanced", "kevents", "KEvents/s", "unbalanced: KEvents/s, ", {}, {}, {}};
  t.title += std::to_string(opt.workers) + " workers, " + std::to_string(opt.events) +
             " events per round; ideal bound " + fixed(ideal, 0) + " KEvents/s";
  t.own = {{"all", "asio_make_strand"}};
  return finish_table(t, rows, failures, [&] {
    std::printf(
        "\nunbalanced_events_per_round=%llu\nunbalanced_workers=%u\nunbalanced_seconds=%.3f\n"
        "unbalanced_reps=%u\nunbalanced_tsc_ghz=%.4f\nunbalanced_ideal_kevents=%.1f\n",
        static_cast<unsigned long long>(opt.events), opt.workers, opt.seconds, opt.reps,
        tsc_hz() / 1e9, ideal);
  });
}
