// microbench/coarse/coarse.cpp — coarse work from the reactor, the shape of a secure file server:
// each connection has its own color, each request costs 200k-1M cycles (a file block's
// encryption), and readiness arrives unevenly over the cores. The reactor polls on core 0 and
// `--home-share` (80%) of the connections are homed there (new_color_on(0)), the rest spread over
// the other cores. Without stealing core 0 does most of the work and the other cores wait, also
// for the readiness of their own connections, which core 0's reactor only sees between two
// requests; with stealing an idle core takes whole colors, each worth hundreds of steal costs.
// Without stealing core 0 bounds the rate, so the most stealing can buy here is workers x share
// (1.6x with 2 workers and 80%); each request is one event, so no event holds a core for long.
//
// The connections are socketpairs; the benchmark thread is the client: it keeps `--depth`
// one-byte requests outstanding on each connection and sends a new one per one-byte reply.
// Rows: hue without stealing (no_ws), base stealing (the libasync-smp policy) and all heuristics.
// On Google Benchmark (one iteration per repetition, repetitions interleaved at random so that a
// shared machine's drift falls on every row alike; --json FILE or --benchmark_out=FILE for JSON),
// then a table of medians [min..max] and key=value lines for scripts:
//   coarse.<row>.req_per_s, .kcycles_per_req, .machine_kcycles_per_req, .steals,
//   .colors_migrated, .remote_posts, .core<k>_share
//   coarse.base_over_no_ws, coarse.all_over_no_ws (ratios of the req_per_s medians)
#include <benchmark/benchmark.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <hue/hue.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../machine.hpp"
#include "core/cycles.hpp"

namespace {

struct options {
  double seconds = 2.0, warmup = 0.2, home_share = 0.8;
  unsigned reps = 3, connections = 16, depth = 2, workers = 2;
  std::uint64_t min_cycles = 200'000, max_cycles = 1'000'000;
  std::string json;
} opt;

// One repetition of one row. kcycles_per_req is the handlers' own work per request (the same in
// every row: a check that the rows did the same work); machine_kcycles_per_req is what the whole
// runtime paid per request (window x workers / requests), which stealing should bring down.
struct figures {
  double req_per_s = 0, kcycles_per_req = 0, machine_kcycles_per_req = 0, steals = 0;
  // Colors whose home a steal moved, and posts by handlers to another core's colors: their
  // ratio across rows is what a migration costs later (core_stats::remote_posts).
  double migrated = 0, remote_posts = 0;
  std::vector<double> core_share;   // fraction of the requests run on each worker
  std::vector<double> core_events;  // events_run per worker (requests and the reactor's polls)
};

// The handlers' infos, named for errors and stats; static, as the runtime keeps a pointer. The
// request carries no cost annotation: the runtime measures it, as it would for a server whose
// request costs depend on the file; that average is shared by the runtimes of every row (the
// same workload). The read is a syscall and a few posts.
constexpr hue::handler_info read_requests{.name = "CoarseRead"};
constexpr hue::handler_info serve_request{.name = "CoarseRequest"};

// The work of one request: a pseudo-random cost in [min, max] cycles (xorshift, seeded per
// connection so every row draws the same costs), spun on the TSC: work the runtime cannot see
// into, like a cipher over a block.
std::uint64_t spin_request(std::uint64_t& seed) {
  seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
  const std::uint64_t cost = opt.min_cycles + seed % (opt.max_cycles - opt.min_cycles + 1);
  const std::uint64_t until = hue::internal::cycles_now() + cost;
  while (hue::internal::cycles_now() < until) hue::internal::cpu_relax();
  return cost;
}

// Per-worker counters, each on its own cache line: the workers bump them once per request, and a
// shared line would add cross-core traffic to exactly the effect being measured.
struct alignas(64) per_core {
  std::atomic<std::uint64_t> requests{0}, work_cycles{0};
};

struct connection {
  int server = -1, client = -1;
  std::uint64_t seed = 0;
  hue::registration watch;
  // Hazard: the watch must be cancelled before the fds close (the reactor may still poll them),
  // hence the explicit order here rather than member destruction order.
  ~connection() {
    watch.cancel();
    if (server >= 0) ::close(server);
    if (client >= 0) ::close(client);
  }
};

// The worker connection i is homed on: a running error keeps exactly round(share x n) of the
// first n connections on core 0 whatever n is; the rest go round the other workers.
unsigned home_of(unsigned i, unsigned workers) {
  if (workers == 1) return 0;
  const auto on0 = [](unsigned n) {
    return static_cast<unsigned>(std::lround(opt.home_share * n));
  };
  return on0(i + 1) > on0(i) ? 0 : 1 + (i - on0(i + 1)) % (workers - 1);
}

std::chrono::steady_clock::duration in_seconds(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(s));
}

figures measure(const std::string& steal) {
  hue::config cfg;
  cfg.workers = opt.workers;
  cfg.steal = hue::steal_config::parse(steal);
  cfg.name = "coarse";
  hue::runtime rt(cfg);
  hue::reactor io(rt, hue::reactor_config{.core = 0});  // after rt: destroyed before it
  std::vector<per_core> cores(rt.workers());
  std::vector<std::unique_ptr<connection>> conns;
  for (unsigned i = 0; i < opt.connections; ++i) {
    auto c = std::make_unique<connection>();
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
      throw std::runtime_error("socketpair failed");
    c->server = sv[0], c->client = sv[1], c->seed = 0x9E3779B97F4A7C15ull * (i + 1);
    const hue::color_t color = rt.new_color_on(home_of(i, rt.workers()));
    connection* raw = c.get();
    // Each request is an event of its own on the connection's color: serving requests inside the
    // read handler until EAGAIN would never end (the client refills the socket while it spins),
    // one event would hold the color and its core for the whole window, and the reactor polling
    // on that core would starve every other connection. Reading first and posting bounds each
    // event to one request; data that arrives later is a new edge and a new read.
    auto serve = [raw, &cores] {
      per_core& me = cores[hue::runtime::current_core()];
      me.work_cycles.fetch_add(spin_request(raw->seed), std::memory_order_relaxed);
      me.requests.fetch_add(1, std::memory_order_relaxed);
      const char reply = 'r';
      (void)!::write(raw->server, &reply, 1);  // fails only once the client is gone
    };
    c->watch = io.watch(
        raw->server, hue::readable, color,
        [raw, color, serve, &rt](hue::io_events) {
          char buf[64];
          ssize_t n;
          while ((n = ::read(raw->server, buf, sizeof buf)) > 0)  // edge-triggered: to EAGAIN
            for (ssize_t k = 0; k < n; ++k) rt.post(color, serve, serve_request);
        },
        hue::watch_mode::persistent, read_requests);
    conns.push_back(std::move(c));
  }
  std::vector<pollfd> fds;
  for (auto& c : conns) {
    fds.push_back({c->client, POLLIN, 0});
    for (unsigned d = 0; d < opt.depth; ++d)
      if (::write(c->client, "q", 1) != 1) throw std::runtime_error("request write failed");
  }
  // The client: a new request per reply. The socket buffers hold far more than `depth` bytes, so
  // neither side's one-byte writes can meet EAGAIN. Returns the replies seen before `until`.
  auto client = [&](std::chrono::steady_clock::time_point until) {
    std::uint64_t replies = 0;
    while (std::chrono::steady_clock::now() < until) {
      if (::poll(fds.data(), fds.size(), 10) < 0) throw std::runtime_error("poll failed");
      for (pollfd& p : fds) {
        if (!(p.revents & POLLIN)) continue;
        char buf[64];
        const ssize_t n = ::read(p.fd, buf, sizeof buf);
        for (ssize_t k = 0; k < n; ++k, ++replies)
          if (::write(p.fd, "q", 1) != 1) throw std::runtime_error("request write failed");
      }
    }
    return replies;
  };
  // Warm-up: the first steals move colors (time-left migrates them for good) and the handler's
  // measured cost settles; the window measures the steady state after that.
  client(std::chrono::steady_clock::now() + in_seconds(opt.warmup));
  auto snapshot = [&cores] {
    std::vector<std::uint64_t> v;
    for (const per_core& c : cores) v.push_back(c.requests.load(std::memory_order_relaxed));
    for (const per_core& c : cores) v.push_back(c.work_cycles.load(std::memory_order_relaxed));
    return v;
  };
  const hue::runtime_stats stats_before = rt.stats();
  const std::vector<std::uint64_t> before = snapshot();
  const std::uint64_t tsc_start = hue::internal::cycles_now();
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t replies = client(start + in_seconds(opt.seconds));
  const std::uint64_t tsc_window = hue::internal::cycles_now() - tsc_start;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::vector<std::uint64_t> after = snapshot();
  const hue::runtime_stats stats_after = rt.stats();
  rt.stop();
  rt.wait();
  conns.clear();

  // Requests are counted where they ran (handler side) for the shares and the work cycles, and
  // where they were answered (client side) for the rate; the two differ by at most the requests
  // in flight at either edge of the window.
  const std::size_t w = cores.size();
  std::uint64_t ran = 0, work = 0;
  for (std::size_t k = 0; k < w; ++k)
    ran += after[k] - before[k], work += after[w + k] - before[w + k];
  figures f;
  f.req_per_s = static_cast<double>(replies) / elapsed;
  f.kcycles_per_req =
      static_cast<double>(work) / 1e3 / static_cast<double>(std::max<std::uint64_t>(1, ran));
  f.machine_kcycles_per_req = static_cast<double>(tsc_window) * static_cast<double>(w) / 1e3 /
                              static_cast<double>(std::max<std::uint64_t>(1, replies));
  for (std::size_t k = 0; k < w; ++k) {
    const hue::core_stats d = stats_after.cores[k] - stats_before.cores[k];
    f.steals += static_cast<double>(d.steal_successes);
    f.migrated += static_cast<double>(d.colors_migrated);
    f.remote_posts += static_cast<double>(d.remote_posts);
    f.core_events.push_back(static_cast<double>(d.events_run));
    f.core_share.push_back(static_cast<double>(after[k] - before[k]) /
                           static_cast<double>(std::max<std::uint64_t>(1, ran)));
  }
  return f;
}

struct row {
  std::string name, steal;  // the row's name in keys and tables; its steal_config::parse text
  std::vector<figures> reps;
};
std::vector<row> rows = {{"no_ws", "off", {}}, {"base", "base", {}}, {"all", "all", {}}};

struct spread {
  double median = NAN, min = NAN, max = NAN;
};
template <class Get>
spread over_reps(const row& r, Get get) {
  std::vector<double> v;
  for (const figures& f : r.reps) v.push_back(get(f));
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  return {(v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2, v.front(), v.back()};
}
double median(const row& r, double figures::*m) {
  return over_reps(r, [m](const figures& f) { return f.*m; }).median;
}

void bench(benchmark::State& st, row* r) {
  for (auto _ : st) {
    const figures f = measure(r->steal);
    r->reps.push_back(f);
    st.SetIterationTime(opt.seconds);
    st.counters["req_per_s"] = f.req_per_s;
    st.counters["kcycles_per_req"] = f.kcycles_per_req;
    st.counters["machine_kcycles_per_req"] = f.machine_kcycles_per_req;
    st.counters["steals"] = f.steals;
    st.counters["colors_migrated"] = f.migrated;
    st.counters["remote_posts"] = f.remote_posts;
    for (std::size_t k = 0; k < f.core_events.size(); ++k) {
      st.counters["events_core" + std::to_string(k)] = f.core_events[k];
      st.counters["req_share_core" + std::to_string(k)] = f.core_share[k];
    }
  }
}

void print_results() {
  std::printf(
      "\ncoarse: %u connections (%.0f%% homed on core 0, the reactor's), depth %u, "
      "%llu-%llu cycles per request, %u workers, %u x %.1f s\n",
      opt.connections, opt.home_share * 100, opt.depth,
      static_cast<unsigned long long>(opt.min_cycles),
      static_cast<unsigned long long>(opt.max_cycles), opt.workers, opt.reps, opt.seconds);
  std::printf("%-6s | %-24s | %-11s | %-19s | %-6s | %s\n", "row", "req/s median [min..max]",
              "Kcycles/req", "machine Kcycles/req", "steals", "requests on core 0");
  for (const row& r : rows) {
    if (r.reps.empty()) continue;  // filtered out by --benchmark_filter
    const spread rps = over_reps(r, [](const figures& f) { return f.req_per_s; });
    std::printf("%-6s | %7.0f [%6.0f..%6.0f] | %11.1f | %19.1f | %6.0f | %.0f%%\n", r.name.c_str(),
                rps.median, rps.min, rps.max, median(r, &figures::kcycles_per_req),
                median(r, &figures::machine_kcycles_per_req), median(r, &figures::steals),
                100 * over_reps(r, [](const figures& f) { return f.core_share[0]; }).median);
  }
  std::printf("\n");
  for (const row& r : rows) {
    if (r.reps.empty()) continue;
    auto key = [&r](const std::string& name, double v, int decimals) {
      std::printf("coarse.%s.%s=%.*f\n", r.name.c_str(), name.c_str(), decimals, v);
    };
    key("req_per_s", median(r, &figures::req_per_s), 1);
    key("kcycles_per_req", median(r, &figures::kcycles_per_req), 1);
    key("machine_kcycles_per_req", median(r, &figures::machine_kcycles_per_req), 1);
    key("steals", median(r, &figures::steals), 0);
    key("colors_migrated", median(r, &figures::migrated), 0);
    key("remote_posts", median(r, &figures::remote_posts), 0);
    for (unsigned k = 0; k < opt.workers; ++k)
      key("core" + std::to_string(k) + "_share",
          over_reps(r, [k](const figures& f) { return f.core_share[k]; }).median, 3);
  }
  const double no_ws = median(rows[0], &figures::req_per_s);
  for (const row& r : rows)
    if (r.name != "no_ws" && !r.reps.empty() && !rows[0].reps.empty())
      std::printf("coarse.%s_over_no_ws=%.3f\n", r.name.c_str(),
                  median(r, &figures::req_per_s) / no_ws);
}

int run(int argc, char** argv) {
  CLI::App app{
      "Coarse requests (200k-1M cycles) from the reactor, uneven over the cores: hue "
      "without stealing, with base stealing and with all heuristics; requests/s.",
      "coarse"};
  app.option_defaults()->always_capture_default();
  app.allow_extras();  // --benchmark_* flags, for Google Benchmark
  app.add_option("--seconds", opt.seconds, "timed window per repetition")
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--warmup", opt.warmup, "untimed load before each window, seconds")
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--reps", opt.reps, "repetitions of each row, interleaved")
      ->check(CLI::Range(1u, 1000u));
  app.add_option("--connections", opt.connections, "connections (socketpairs), one color each")
      ->check(CLI::Range(1u, 10000u));
  app.add_option("--home-share", opt.home_share, "fraction of the connections homed on core 0")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--depth", opt.depth, "requests outstanding per connection")
      ->check(CLI::Range(1u, 64u));
  app.add_option("--workers", opt.workers, "hue workers")->check(CLI::Range(1u, 1024u));
  app.add_option("--min-cycles", opt.min_cycles, "least cycles of a request")
      ->check(CLI::Range(std::uint64_t{1000}, std::uint64_t{1} << 40));
  app.add_option("--max-cycles", opt.max_cycles, "most cycles of a request")
      ->check(CLI::Range(std::uint64_t{1000}, std::uint64_t{1} << 40));
  app.add_option("--json", opt.json, "Google Benchmark's JSON report to this file");
  app.footer(
      "Google Benchmark's --benchmark_* flags pass through.\n"
      "Ends with a table of medians and key=value lines (coarse.*).\n");
  try {
    app.parse(argc, argv);
    if (opt.max_cycles < opt.min_cycles)
      throw CLI::ValidationError("--max-cycles", "below --min-cycles");
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (row& r : rows)
    benchmark::RegisterBenchmark(("coarse/" + r.name).c_str(), bench, &r)
        ->Iterations(1)
        ->Repetitions(static_cast<int>(opt.reps))
        ->UseManualTime()
        ->Unit(benchmark::kSecond);
  std::vector<std::string> args{argv[0], "--benchmark_enable_random_interleaving=true"};
  if (!opt.json.empty())
    args.insert(args.end(), {"--benchmark_out=" + opt.json, "--benchmark_out_format=json"});
  for (const std::string& a : app.remaining()) args.push_back(a);
  std::vector<char*> gb;
  for (std::string& a : args) gb.push_back(a.data());
  int gb_argc = static_cast<int>(gb.size());
  benchmark::Initialize(&gb_argc, gb.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb.data())) return 2;
  bench::hop_floor_at_start() = bench::hop_floor_ns(bench::floor_trips, bench::pin_to_allowed_cpu);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::printf("\n%s\n",
              bench::machine_line(bench::hop_floor_ns(bench::floor_trips, bench::pin_to_allowed_cpu))
                  .c_str());
  print_results();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
