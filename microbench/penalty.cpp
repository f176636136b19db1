// microbench/penalty.cpp — the paper's penalty microbenchmark (Table 5): is it better to steal the
// events that build a data set than the ones that keep using it?
//
// Fork/join rounds. The fork, on a color pinned to core 0, posts an A on each of --colors fresh
// colors (32) placed on core 0. A builds its color's array (--array-kib, 16 KiB: 256 cache lines
// linked into one cycle in a pseudo-random order, so that a walk is a chain of dependent loads no
// prefetcher hides, with --work rounds of integer mixing per line) and posts B on its color. Each B
// walks the next --chunk-lines lines (16), dirtying them, and posts the next B, until the array has
// been walked once (16 Bs). B carries the penalty (1000): its data lives in the cache of the core
// that ran A, so moving it is expensive; A's data does not exist yet, so A is cheap to move. With
// the penalty, a B color's time left is cost / 1000: time-left never finds it worth a steal, and
// penalty-aware stealing alone prefers A colors. The result is tasks (A and B) per second.
//
// Columns: KTasks/s; efficiency against the ideal bound (the warm cycles of a round, calibrated
// on one core before the runs, over the workers); hue's locking, WS cost and stolen time; then
// where the time went: Bs run away from the core that built their array, and B's cycles against
// the warm calibration. Rows: every stealing configuration, Boost.Asio (a strand per color) and
// oneTBB (a task per event; each runs its color's next), on the same rounds.
#include "bench.hpp"

namespace {

using namespace bench;

struct options : common_options {
  unsigned colors = 32, array_kib = 16, chunk_lines = 16, work = 32, penalty = 1000;
  std::uint64_t seed = 42;
  unsigned lines() const { return array_kib * 1024 / 64; }
  unsigned chunks() const { return lines() / chunk_lines; }
  std::uint64_t events_per_round() const { return std::uint64_t{colors} * (1 + chunks()); }
} opt;

struct alignas(64) line {
  std::uint32_t next, visits;
  std::uint64_t payload, pad[6];
};
static_assert(sizeof(line) == 64, "one element per cache line");

std::uint64_t mix(std::uint64_t x, unsigned rounds) noexcept {
  for (unsigned r = 0; r < rounds; ++r) x = (x ^ (x >> 29)) * 0xBF58476D1CE4E5B9ull;
  return x;
}

struct array_state {
  std::unique_ptr<line[]> lines;
  std::uint32_t cursor = 0, next_chunk = 0;
  unsigned creator = 0;  // the worker that ran A
  std::uint64_t checksum = 0;

  void build(const std::vector<std::uint32_t>& cycle, std::uint64_t salt) noexcept {
    for (std::size_t i = 0; i < cycle.size(); ++i)
      lines[i].next = cycle[i], lines[i].visits = 0, lines[i].payload = mix(salt + i, opt.work);
    cursor = next_chunk = 0;
  }
  void walk() noexcept {
    std::uint32_t p = cursor;
    for (unsigned j = 0; j < opt.chunk_lines; ++j) {
      line& l = lines[p];
      l.payload = mix(l.payload + j, opt.work);
      ++l.visits;
      checksum += l.payload;
      p = l.next;
    }
    cursor = p;
    ++next_chunk;
  }
};

// One cycle through n lines in a fixed pseudo-random order (a shuffle seeded by --seed).
std::vector<std::uint32_t> make_cycle(unsigned n) {
  std::vector<std::uint32_t> order(n), next(n);
  for (unsigned i = 0; i < n; ++i) order[i] = i;
  std::uint64_t s = opt.seed;
  for (unsigned i = n - 1; i > 0; --i) std::swap(order[i], order[(s = mix(s + i, 2)) % (i + 1)]);
  for (unsigned i = 0; i < n; ++i) next[order[i]] = order[(i + 1) % n];
  return next;
}

// Hazard: not constexpr, the costs are set from the calibration; runtimes keep pointers to them.
hue::handler_info a_info{.name = "A (builds the array)"};
hue::handler_info b_info{.name = "B (walks the array)"};
enum kind : unsigned { k_a, k_b };

template <class Exec>
class penalty_run {
 public:
  using rounds_t = fork_join_rounds<Exec, 2>;
  penalty_run(const configuration& c, const std::vector<std::uint32_t>& cycle)
      : cycle_(cycle),
        arrays_(opt.colors),
        colors_(opt.colors),
        rounds_(c, exec_params{opt.workers, opt.topology, opt.colors}, opt.warmup) {
    for (array_state& a : arrays_) a.lines.reset(new line[opt.lines()]);
  }
  auto run() {
    return rounds_.run([this] { fork(); }, opt.seconds, opt.stall);
  }

 private:
  void fork() {
    rounds_.begin_round(opt.colors);
    ++round_;
    for (unsigned i = 0; i < opt.colors; ++i) {
      colors_[i] = rounds_.exec().color_on(0);
      rounds_.exec().post(
          colors_[i], [this, i] { run_a(i); }, a_info);
    }
  }
  void run_a(unsigned i) {
    array_state& a = arrays_[i];
    const std::uint64_t spent = timed([&] { a.build(cycle_, opt.seed + i + round_ * opt.colors); });
    a.creator = Exec::here();
    rounds_.account(k_a, spent, a.creator != rounds_.fork_worker());  // a stolen A
    rounds_.exec().post(
        colors_[i], [this, i] { run_b(i); }, b_info);
  }
  void run_b(unsigned i) {
    array_state& a = arrays_[i];
    rounds_.account(k_b, timed([&] { a.walk(); }), Exec::here() != a.creator);
    if (a.next_chunk < opt.chunks())
      rounds_.exec().post(
          colors_[i], [this, i] { run_b(i); }, b_info);
    else if (rounds_.unit_done())
      rounds_.end_round([this] { fork(); });
  }
  const std::vector<std::uint32_t>& cycle_;
  std::vector<array_state> arrays_;
  std::vector<typename Exec::color> colors_;
  std::uint64_t round_ = 0;
  rounds_t rounds_;  // last
};

// Warm cycles of one A and one B: a round run serially on this thread, twice; the second counts.
struct calibration {
  double a = 0, b = 0;
} cal;
// Medians over passes 2-5 (the first one faults the pages in): robust to a noisy neighbour.
void calibrate(const std::vector<std::uint32_t>& cycle) {
  std::vector<array_state> arrays(opt.colors);
  for (array_state& a : arrays) a.lines.reset(new line[opt.lines()]);
  std::vector<double> ta, tb;
  for (int pass = 0; pass < 5; ++pass)
    for (unsigned i = 0; i < opt.colors; ++i) {
      const double a = timed([&] { arrays[i].build(cycle, opt.seed + i); });
      if (pass) ta.push_back(a);
      for (unsigned k = 0; k < opt.chunks(); ++k)
        if (const double b = timed([&] { arrays[i].walk(); }); pass) tb.push_back(b);
    }
  cal = {median(ta), median(tb)};
}
double ideal_ktasks() {
  const double round_cycles = opt.colors * (cal.a + opt.chunks() * cal.b);
  return opt.events_per_round() / (round_cycles / opt.workers / tsc_hz()) / 1e3;
}

figures measure(row& r) {
  static const std::vector<std::uint32_t> cycle = make_cycle(opt.lines());
  figures f;
  with_executor(*r.cfg, [&]<class Exec>(std::type_identity<Exec>) {
    const auto s = std::make_unique<penalty_run<Exec>>(*r.cfg, cycle)->run();
    f = window_figures(s, "ktasks", s.rounds * opt.events_per_round(), opt.workers, ideal_ktasks());
    const auto& h = s.handlers;
    f["b_away_pct"] = 100.0 * h.away(k_b) / std::max<std::uint64_t>(h.events(k_b), 1);
    f["b_cycles"] = static_cast<double>(h.cycles(k_b)) / std::max<std::uint64_t>(h.events(k_b), 1);
  });
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "The paper's penalty microbenchmark: rounds of colors whose A builds an array and "
      "whose Bs walk it, under every stealing configuration and the peers.",
      "penalty"};
  opt.seconds = 1.5;
  add_common(app, opt, configuration_keys());
  load::number(app, "--colors", opt.colors, 1u, 100'000u, "A events (colors) per round");
  load::number(app, "--array-kib", opt.array_kib, 1u, 1u << 20, "array per color, KiB");
  load::number(app, "--chunk-lines", opt.chunk_lines, 1u, 1u << 24, "lines walked by one B");
  load::number(app, "--work", opt.work, 0u, 100'000u, "mixing rounds per line");
  load::number(app, "--penalty", opt.penalty, 1u, 1'000'000u, "B's penalty");
  load::number(app, "--seed", opt.seed, std::uint64_t{0}, ~std::uint64_t{0}, "array order");
  CLI11_PARSE(app, argc, argv);
  if (opt.lines() % opt.chunk_lines) {
    std::fprintf(stderr, "penalty: --chunk-lines must divide the array's %u lines\n", opt.lines());
    return 2;
  }
  machine();  // the process's cpuset, read before any thread is pinned
  calibrate(make_cycle(opt.lines()));
  a_info.cost = static_cast<std::uint64_t>(cal.a);
  b_info.cost = static_cast<std::uint64_t>(cal.b);
  b_info.penalty = opt.penalty;
  std::vector<row> rows = table_rows(opt);
  const unsigned failures = run_rows(argv, app, opt, rows, measure);
  table_spec t{"penalty", "ktasks", "KTasks/s", "penalty: KTasks/s, ", {}, {}, {}};
  t.title += std::to_string(opt.workers) + " workers, " + std::to_string(opt.colors) +
             " colors x (1 A + " + std::to_string(opt.chunks()) + " Bs) per round; ideal " +
             fixed(ideal_ktasks(), 0) + " KTasks/s (warm A " + fixed(cal.a, 0) + " cycles, B " +
             fixed(cal.b, 0) + ")";
  t.extra.push_back(
      {"B away", 8, [](const row& r) { return fixed(r.med("b_away_pct"), 1) + "%"; }});
  t.extra.push_back({"B cycles (x warm)", 17,
                     [](const row& r) { return "x" + fixed(r.med("b_cycles") / cal.b, 2); }});
  t.own = {{"penalty", "base"}, {"penalty", "asio"}, {"penalty", "tbb"}};
  t.keys = {{"b_away_pct", 2}, {"b_cycles", 0}};
  return finish_table(t, rows, failures, [] {
    std::printf(
        "\npenalty_colors=%u\npenalty_array_kib=%u\npenalty_chunk_lines=%u\n"
        "penalty_b_penalty=%u\npenalty_workers=%u\npenalty_seconds=%.3f\npenalty_reps=%u\n"
        "penalty_tsc_ghz=%.4f\npenalty_calibrated_a_cycles=%.0f\n"
        "penalty_calibrated_b_cycles=%.0f\npenalty_ideal_ktasks=%.1f\npenalty_l2_counters=n/a\n",
        opt.colors, opt.array_kib, opt.chunk_lines, opt.penalty, opt.workers, opt.seconds, opt.reps,
        tsc_hz() / 1e9, cal.a, cal.b, ideal_ktasks());
  });
}
