// microbench/bench.hpp — what the programs share around their workloads, on Google Benchmark as
// echo.cpp uses it: each row (a configuration) is a benchmark of one iteration per repetition,
// --reps repetitions interleaved at random so that a shared machine's drift falls on every row
// alike; Google Benchmark's table shows each repetition and their statistics, --benchmark_out=FILE
// writes its JSON (tools/bench_report.py reads it), --csv FILE its CSV. Then the program's own
// table in the paper's shape (medians [min..max] over the repetitions) under a machine line, and
// key=value lines with the headline figures (medians), whose names scripts rely on.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>

#include "executors/hue.hpp"
#include "machine.hpp"
#include "options.hpp"
#ifdef HUE_BENCH_ASIO
#include "executors/asio.hpp"
#endif
#ifdef HUE_BENCH_TBB
#include "executors/tbb.hpp"
#endif

#ifdef HUE_BENCH_ASIO
#define HUE_BENCH_ASIO_BUILT 1
#else
#define HUE_BENCH_ASIO_BUILT 0
#endif
#ifdef HUE_BENCH_TBB
#define HUE_BENCH_TBB_BUILT 1
#else
#define HUE_BENCH_TBB_BUILT 0
#endif

namespace bench {

inline constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

// The machine line with the hop floor measured now, between threads placed as hue's workers.
inline std::string machine_line_now() { return machine_line(hop_floor_ns(floor_trips, pin_thread)); }

inline double median(std::vector<double> v) {
  std::erase_if(v, [](double x) { return !std::isfinite(x); });
  if (v.empty()) return nan_value;
  std::sort(v.begin(), v.end());
  return (v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2;
}
inline std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "-";
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", decimals, v);
  return b;
}
inline double ratio(double a, double b) { return b > 0 ? a / b : nan_value; }

using figures = std::map<std::string, double>;  // one repetition's named figures

struct row {
  std::string key, label;
  const configuration* cfg = nullptr;  // the table programs'
  unsigned workers = 0;                // 0: --workers (unbalanced's sweep sets it)
  std::vector<figures> reps;
  unsigned failures = 0;
  double med(const std::string& f) const {
    std::vector<double> v;
    for (const figures& r : reps)
      if (auto it = r.find(f); it != r.end()) v.push_back(it->second);
    return median(v);
  }
  std::string cell(const std::string& f, int decimals) const {  // "median [min..max]"
    double lo = INFINITY, hi = -INFINITY;
    for (const figures& r : reps)
      if (auto it = r.find(f); it != r.end() && std::isfinite(it->second))
        lo = std::min(lo, it->second), hi = std::max(hi, it->second);
    if (!std::isfinite(lo)) return "-";
    if (reps.size() < 2) return fixed(med(f), decimals);
    return fixed(med(f), decimals) + " [" + fixed(lo, decimals) + ".." + fixed(hi, decimals) + "]";
  }
};

inline const row* find_row(const std::vector<row>& rows, std::string_view key) {
  for (const row& r : rows)
    if (r.key == key) return &r;
  return nullptr;
}
inline double ratio_of(const std::vector<row>& rows, std::string_view a, std::string_view b,
                       const std::string& f) {
  const row *x = find_row(rows, a), *y = find_row(rows, b);
  return x && y ? ratio(x->med(f), y->med(f)) : nan_value;
}

// The options every program has; a program adds its own to `app` before parse().
struct common_options {
  // A hang is a minute without a round: the libasync-smp + WS row's rounds of unbalanced take 5 to
  // 11 s each (its steals scan the victim's FIFO under its lock), and 10 s ended a default run.
  double seconds = 1.5, stall = 60;
  unsigned reps = 3, workers = 2, warmup = 1;
  std::vector<std::string> only;
  std::string csv, topology;
};

inline void add_common(CLI::App& app, common_options& o, const std::vector<std::string>& rows) {
  app.option_defaults()->always_capture_default();
  app.allow_extras();  // --benchmark_* flags, for Google Benchmark
  load::number(app, "--seconds", o.seconds, 0.001, 86'400.0, "timed window per repetition");
  load::number(app, "--reps", o.reps, 1u, 1000u, "repetitions of each row, interleaved");
  load::number(app, "--workers", o.workers, 1u, 1024u, "hue workers, peer threads");
  load::number(app, "--warmup", o.warmup, 0u, 1000u, "untimed rounds before the window");
  load::number(app, "--stall", o.stall, 0.1, 86'400.0, "seconds without a round: a hang");
  app.add_option("--topology", o.topology, "hwloc description for hue (synthetic:...)");
  app.add_option("--only", o.only, "rows, comma-separated")
      ->delimiter(',')
      ->check(CLI::IsMember(rows));
  app.add_option("--csv", o.csv, "also write the runs to this file as CSV (Google Benchmark's)");
  app.footer(
      "Google Benchmark's --benchmark_* flags pass through (--benchmark_out=FILE for JSON).\n"
      "HUE_* variables configure hue as for any program (HUE_PIN=0 unpins hue and the peers).\n");
}

inline bool wanted(const common_options& o, const std::string& key) {
  return o.only.empty() || std::find(o.only.begin(), o.only.end(), key) != o.only.end();
}

// Runs every row `reps` times on Google Benchmark, interleaved; `measure` returns one repetition's
// figures or throws (the repetition then counts as failed). Returns the failures. `rows` must not
// grow meanwhile: the benchmarks hold pointers into it.
inline unsigned run_rows(char** argv, const CLI::App& app, const common_options& o,
                         std::vector<row>& rows, std::function<figures(row&)> measure) {
  hop_floor_at_start() = hop_floor_ns(floor_trips, pin_thread);
  for (row& r : rows)
    benchmark::RegisterBenchmark(
        r.key.c_str(),
        [&r, &measure, argv](benchmark::State& st) {
          for (auto _ : st) try {
              const auto t0 = std::chrono::steady_clock::now();
              figures f = measure(r);
              st.SetIterationTime(
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
              for (const auto& [k, v] : f)
                if (std::isfinite(v)) st.counters[k] = v;
              r.reps.push_back(std::move(f));
            } catch (const std::exception& e) {
              ++r.failures;
              std::fprintf(stderr, "%s: %s: FAILED: %s\n", argv[0], r.key.c_str(), e.what());
              st.SkipWithError("failed (the message is above)");
            }
        })
        ->Iterations(1)
        ->Repetitions(static_cast<int>(o.reps))
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  std::vector<std::string> args{argv[0], "--benchmark_enable_random_interleaving=true"};
  for (const std::string& a : app.remaining()) args.push_back(a);
  if (!o.csv.empty())
    args.insert(args.end(), {"--benchmark_out=" + o.csv, "--benchmark_out_format=csv"});
  std::vector<char*> gb;
  for (std::string& a : args) gb.push_back(a.data());
  int gb_argc = static_cast<int>(gb.size());
  benchmark::Initialize(&gb_argc, gb.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb.data())) std::exit(2);
  benchmark::RunSpecifiedBenchmarks();
  unsigned failures = 0;
  for (const row& r : rows) failures += r.failures;
  return failures;
}

// The paper-shaped table: a title, the machine line, the first column left-aligned.
struct column {
  const char* head;
  int width;
  std::function<std::string(const row&)> cell;
};
inline void print_table(const std::string& title, const std::vector<row>& rows,
                        const std::vector<column>& cols) {
  std::printf("\n%s\n%s\n\n%-26s", title.c_str(), machine_line_now().c_str(), "configuration");
  for (const column& c : cols) std::printf(" %*s", c.width, c.head);
  std::printf("\n");
  for (const row& r : rows) {
    std::printf("%-26s", r.label.c_str());
    for (const column& c : cols) std::printf(" %*s", c.width, c.cell(r).c_str());
    std::printf("\n");
  }
}

// key=value lines "<prefix>_<row>_<name>=<median>" ("nan" where a row has no such figure).
inline void print_keys(const char* prefix, const std::vector<row>& rows, const std::string& f,
                       const char* name, int decimals, bool hue_only = false) {
  for (const row& r : rows)
    if (!hue_only || !r.cfg || !r.cfg->peer()) {
      const double v = r.med(f);
      std::printf("%s_%s_%s=%s\n", prefix, r.key.c_str(), name,
                  std::isfinite(v) ? fixed(v, decimals).c_str() : "nan");
    }
}

// Calls f(std::type_identity<Exec>{}) with the executor of configuration `c`.
template <class F>
void with_executor(const configuration& c, F&& f) {
#ifdef HUE_BENCH_ASIO
  if (c.kind == runtime_kind::asio) return f(std::type_identity<asio_executor>{});
#endif
#ifdef HUE_BENCH_TBB
  if (c.kind == runtime_kind::tbb) return f(std::type_identity<tbb_executor>{});
#endif
  f(std::type_identity<hue_executor>{});
}

// The table programs' rows: the configurations --only selected.
inline std::vector<row> table_rows(const common_options& o, bool asio_make_strand_row = false) {
  static const std::vector<configuration> all = configurations(asio_make_strand_row);
  std::vector<row> rows;
  for (const configuration& c : all)
    if (wanted(o, c.key)) rows.push_back({c.key, c.label, &c, 0, {}, 0});
  return rows;
}
inline std::vector<std::string> configuration_keys(bool asio_make_strand_row = false) {
  std::vector<std::string> v{"asio", "asio_make_strand", "tbb"};  // accepted even when not built
  for (const configuration& c : configurations(asio_make_strand_row)) v.push_back(c.key);
  return v;
}

// The figures every fork/join table has, from one window: throughput (`unit`: kevents, ktasks),
// efficiency against `ideal` (same unit), and hue's locking time (share of the cycles the workers
// had), WS cost (cycles per successful steal; failed attempts included) and stolen time (expected
// run time moved by one steal).
template <class Sample>
figures window_figures(const Sample& s, const char* unit, std::uint64_t events, unsigned workers,
                       double ideal) {
  const hue::core_stats& d = s.delta;
  const double per_steal = d.steal_successes ? static_cast<double>(d.steal_successes) : nan_value;
  const double k = events / s.seconds / 1e3;
  return {{unit, k},
          {"efficiency", ratio(k, ideal)},
          {"lock_pct", 100.0 * d.lock_wait_cycles / (static_cast<double>(s.cycles) * workers)},
          {"ws_cycles_per_steal", d.steal_cycles / per_steal},
          {"stolen_cycles_per_steal", d.stolen_time_cycles / per_steal},
          {"steals_ok", static_cast<double>(d.steal_successes)},
          {"steal_attempts", static_cast<double>(d.steal_attempts)}};
}

// The columns and key=value lines every fork/join table has, and its ratios: the paper's, to the
// peers, and the program's own (`extra`, "ratio_<a>_over_<b>").
inline std::vector<column> window_columns(const char* unit, const char* head) {
  const std::string u = unit;
  return {
      {head, 24, [u](const row& r) { return r.cell(u, 0); }},
      {"efficiency", 10, [](const row& r) { return fixed(100 * r.med("efficiency"), 1) + "%"; }},
      {"locking", 8,
       [](const row& r) { return r.cfg->peer() ? "-" : fixed(r.med("lock_pct"), 1) + "%"; }},
      {"WS cyc/steal", 12, [](const row& r) { return fixed(r.med("ws_cycles_per_steal"), 0); }},
      {"stolen cyc/steal", 16,
       [](const row& r) { return fixed(r.med("stolen_cycles_per_steal"), 0); }}};
}
// The ratios of throughput every table prints: the program's own (`own`), the paper's, to the
// peers. As text after the table, and as "<prefix>_ratio_<a>_over_<b>" key=value lines.
using ratio_list = std::vector<std::pair<std::string, std::string>>;
inline ratio_list table_ratios(ratio_list own) {
  for (auto [a, b] : {std::pair{"all", "base"},
                      {"all", "libasync_smp_ws"},
                      {"base", "no_ws"},
                      {"libasync_smp_ws", "libasync_smp"},
                      {"all", "asio"},
                      {"all", "tbb"},
                      {"base", "asio"},
                      {"base", "tbb"}})
    own.emplace_back(a, b);
  return own;
}

// The end of a fork/join table program: the table (the common columns, then `extra`), the ratios
// as text, `notes_and_params` (its notes and its <prefix>_<parameter> key=value lines), then the
// key=value lines of every row's figures (`keys` are the program's own: figure, decimals), of the
// ratios and of the failures. Returns the exit status.
struct table_spec {
  const char *prefix, *unit, *head;
  std::string title;
  std::vector<column> extra;
  ratio_list own;
  std::vector<std::pair<const char*, int>> keys;
};
inline int finish_table(const table_spec& t, const std::vector<row>& rows, unsigned failures,
                        const std::function<void()>& notes_and_params) {
  std::vector<column> cols = window_columns(t.unit, t.head);
  cols.insert(cols.end(), t.extra.begin(), t.extra.end());
  print_table(t.title + "; median [min..max] of the repetitions", rows, cols);
  const ratio_list list = table_ratios(t.own);
  std::printf("\nratios (medians of %s):\n", t.unit);
  for (const auto& [a, b] : list)
    if (const double v = ratio_of(rows, a, b, t.unit); std::isfinite(v))
      std::printf("  %s / %s: %.2fx\n", find_row(rows, a)->label.c_str(),
                  find_row(rows, b)->label.c_str(), v);
  notes_and_params();
  const char* p = t.prefix;
  for (auto [f, decimals] : t.keys) print_keys(p, rows, f, f, decimals);
  print_keys(p, rows, t.unit, t.unit, 1);
  print_keys(p, rows, "efficiency", "efficiency", 4);
  print_keys(p, rows, "lock_pct", "lock_pct", 3, true);
  print_keys(p, rows, "ws_cycles_per_steal", "ws_cycles_per_steal", 0, true);
  print_keys(p, rows, "stolen_cycles_per_steal", "stolen_cycles_per_steal", 0, true);
  std::printf("%s_asio_available=%d\n%s_tbb_available=%d\n", p, HUE_BENCH_ASIO_BUILT, p,
              HUE_BENCH_TBB_BUILT);
  if (const double v = ratio_of(rows, "all_measured", "all", t.unit); std::isfinite(v))
    std::printf("%s_ratio_measured_over_annotated=%.3f\n", p, v);
  for (const auto& [a, b] : list)
    if (const double v = ratio_of(rows, a, b, t.unit); std::isfinite(v))
      std::printf("%s_ratio_%s_over_%s=%.3f\n", p, a.c_str(), b.c_str(), v);
  std::printf("%s_failures=%u\n", p, failures);
  return failures ? 1 : 0;
}

}  // namespace bench
