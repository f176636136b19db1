// microbench/coarse/coarse.cpp — coarse work from the reactor, the shape of a secure file server:
// each connection has its color, each request costs 200k-1M cycles (a file block's encryption),
// and readiness arrives unevenly over the cores: the reactor polls on core 0 and 80% of the
// connections are homed there (new_color_on(0)), the rest on core 1. Without stealing core 0 does
// ~80% of the work; with it, an idle core takes whole requests worth hundreds of steals each.
//
// The connections are socketpairs; a client thread keeps `--depth` one-byte requests outstanding
// on each and counts the one-byte replies. Rows: hue with stealing off, base, all. On Google
// Benchmark (repetitions interleaved at random; --benchmark_out=FILE for JSON), then key=value
// lines: coarse_<mode>_req_per_s, coarse_<mode>_kcycles_per_req, coarse_all_over_off,
// coarse_base_over_off (medians over the repetitions).
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
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/cycles.hpp"

namespace {

struct options {
  double seconds = 1.0;
  unsigned reps = 3, connections = 16, depth = 2, workers = 2;
  std::uint64_t min_cycles = 200'000, max_cycles = 1'000'000;
} opt;

struct figures {
  double req_per_s = 0, kcycles_per_req = 0, steals = 0;
};

// The work of one request: a deterministic pseudo-random cost in [min, max] cycles, spun on the
// TSC (a handler the runtime cannot see into, like a cipher over a block).
std::uint64_t spin_request(std::uint64_t& seed) {
  seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
  const std::uint64_t cost = opt.min_cycles + seed % (opt.max_cycles - opt.min_cycles + 1);
  const std::uint64_t until = hue::internal::cycles_now() + cost;
  while (hue::internal::cycles_now() < until) hue::internal::cpu_relax();
  return cost;
}

struct connection {
  int server = -1, client = -1;
  std::uint64_t seed = 0;
  hue::registration watch;
  ~connection() {
    watch.cancel();
    if (server >= 0) ::close(server);
    if (client >= 0) ::close(client);
  }
};

figures measure(const std::string& mode) {
  hue::config cfg;
  cfg.workers = opt.workers;
  cfg.steal = hue::steal_config::parse(mode);
  cfg.name = "coarse";
  hue::runtime rt(cfg);
  hue::reactor io(rt);  // polls on core 0
  std::atomic<std::uint64_t> work_cycles{0};
  std::vector<std::unique_ptr<connection>> conns;
  for (unsigned i = 0; i < opt.connections; ++i) {
    auto c = std::make_unique<connection>();
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
      throw std::runtime_error("socketpair failed");
    c->server = sv[0], c->client = sv[1], c->seed = 0x9E3779B97F4A7C15ull * (i + 1);
    // 80% homed on core 0, where the reactor also polls: the uneven arrival stealing must fix.
    const hue::color_t color = rt.new_color_on(i % 5 == 4 ? 1 % opt.workers : 0);
    connection* raw = c.get();
    c->watch = io.watch(raw->server, hue::readable, color, [raw, &work_cycles](hue::io_events) {
      char buf[64];
      for (;;) {  // edge-triggered: read to EAGAIN, one request per byte
        const ssize_t n = ::read(raw->server, buf, sizeof buf);
        if (n <= 0) break;
        for (ssize_t k = 0; k < n; ++k) {
          work_cycles.fetch_add(spin_request(raw->seed), std::memory_order_relaxed);
          const char reply = 'r';
          if (::write(raw->server, &reply, 1) != 1) return;  // the client is gone
        }
      }
    });
    conns.push_back(std::move(c));
  }
  // The client: `depth` requests outstanding per connection, a new one per reply.
  std::vector<pollfd> fds;
  for (auto& c : conns) {
    fds.push_back({c->client, POLLIN, 0});
    for (unsigned d = 0; d < opt.depth; ++d)
      if (::write(c->client, "q", 1) != 1) throw std::runtime_error("request write failed");
  }
  const hue::core_stats before = rt.stats().total();
  const std::uint64_t cycles_before = work_cycles.load();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(opt.seconds);
  std::uint64_t replies = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (::poll(fds.data(), fds.size(), 10) < 0) throw std::runtime_error("poll failed");
    for (pollfd& p : fds) {
      if (!(p.revents & POLLIN)) continue;
      char buf[64];
      const ssize_t n = ::read(p.fd, buf, sizeof buf);
      for (ssize_t k = 0; k < n; ++k, ++replies)
        if (::write(p.fd, "q", 1) != 1) throw std::runtime_error("request write failed");
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  figures f;
  f.req_per_s = replies / elapsed;
  const std::uint64_t done = std::max<std::uint64_t>(1, replies);
  f.kcycles_per_req = (work_cycles.load() - cycles_before) / 1e3 / static_cast<double>(done);
  hue::core_stats after = rt.stats().total();
  after -= before;
  f.steals = static_cast<double>(after.steal_successes);
  rt.stop();
  rt.wait();
  conns.clear();
  return f;
}

struct row {
  std::string mode;
  std::vector<figures> reps;
};
std::vector<row> rows;

double median(const row& r, double figures::*m) {
  std::vector<double> v;
  for (const figures& f : r.reps) v.push_back(f.*m);
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : (v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2;
}

void bench(benchmark::State& st, row* r) {
  for (auto _ : st) {
    const figures f = measure(r->mode);
    r->reps.push_back(f);
    st.SetIterationTime(opt.seconds);
    st.counters["req_per_s"] = f.req_per_s;
    st.counters["kcycles_per_req"] = f.kcycles_per_req;
    st.counters["steals"] = f.steals;
  }
}

int run(int argc, char** argv) {
  CLI::App app{
      "Coarse requests (200k-1M cycles) from the reactor, uneven over the cores: hue "
      "without stealing, base and all heuristics; requests/s.",
      "coarse"};
  app.option_defaults()->always_capture_default();
  app.allow_extras();  // --benchmark_* flags, for Google Benchmark
  app.add_option("--seconds", opt.seconds, "timed window per repetition")
      ->check(CLI::Range(0.05, 3600.0));
  app.add_option("--reps", opt.reps, "repetitions of each row, interleaved")
      ->check(CLI::Range(1u, 1000u));
  app.add_option("--connections", opt.connections, "connections (socketpairs)")
      ->check(CLI::Range(1u, 10000u));
  app.add_option("--depth", opt.depth, "requests outstanding per connection")
      ->check(CLI::Range(1u, 64u));
  app.add_option("--workers", opt.workers, "hue workers")->check(CLI::Range(1u, 1024u));
  app.add_option("--min-cycles", opt.min_cycles, "least cycles of a request")
      ->check(CLI::Range(1000ull, 1ull << 40));
  app.add_option("--max-cycles", opt.max_cycles, "most cycles of a request")
      ->check(CLI::Range(1000ull, 1ull << 40));
  app.footer(
      "Google Benchmark's --benchmark_* flags pass through (--benchmark_out=FILE for JSON).\n"
      "Ends with key=value lines (coarse_*).\n");
  try {
    app.parse(argc, argv);
    if (opt.max_cycles < opt.min_cycles)
      throw CLI::ValidationError("--max-cycles", "below --min-cycles");
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (const char* m : {"off", "base", "all"}) rows.push_back({m, {}});
  for (row& r : rows)
    benchmark::RegisterBenchmark(("coarse_" + r.mode).c_str(), bench, &r)
        ->Iterations(1)
        ->Repetitions(static_cast<int>(opt.reps))
        ->UseManualTime()
        ->Unit(benchmark::kSecond);
  std::vector<char*> gb{argv[0]};
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  gb.push_back(interleave.data());
  std::vector<std::string> rest = app.remaining();
  for (std::string& a : rest) gb.push_back(a.data());
  int gb_argc = static_cast<int>(gb.size());
  benchmark::Initialize(&gb_argc, gb.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  std::map<std::string, double> rps;
  for (const row& r : rows) {
    rps[r.mode] = median(r, &figures::req_per_s);
    std::printf("coarse_%s_req_per_s=%.1f\ncoarse_%s_kcycles_per_req=%.1f\ncoarse_%s_steals=%.0f\n",
                r.mode.c_str(), rps[r.mode], r.mode.c_str(), median(r, &figures::kcycles_per_req),
                r.mode.c_str(), median(r, &figures::steals));
  }
  std::printf("coarse_all_over_off=%.3f\ncoarse_base_over_off=%.3f\n", rps["all"] / rps["off"],
              rps["base"] / rps["off"]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
