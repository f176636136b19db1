// microbench/echo.cpp — echo ping-pong over loopback: messages/s and round-trip latency of the echo
// server of apps/echo written with colored handlers, the same server written with coroutines, and
// a Boost.Asio echo server, all driven by the load client hue-injector uses (tools/load), on
// Google Benchmark: --reps repetitions of each row, interleaved at random; its table shows each
// one and their mean, median, stddev and cv; --benchmark_out=FILE writes JSON, --csv FILE CSV.
// Then key=value lines (echo_<row>_msgs_per_s, _p50_us, _p99_us, ratios): medians, for scripts.
//
// Rows (a fresh server for every repetition):
//   handlers    echo::handler_server: colored handlers, one color per connection
//   coroutines  echo::coro_server: the same server as coroutines on colors
//   asio        Boost.Asio as its examples write an echo server: one io_context run by one pinned
//               thread per worker, a session per connection on a strand of its own (built when
//               meson finds Boost: HUE_BENCH_ASIO)
//   loaded      handlers on 1 connection while background colors keep every worker busy:
//               --load-colors colors pinned round-robin to the workers, each event ~--load-us of
//               busy-waiting that re-posts itself. No worker parks, so readiness reaches the
//               server only through the reactor's Epoll event, which polls from its busy core (at
//               most every reactor_config::busy_poll_interval, 20 us by default), and the handler
//               then waits behind its core's background colors (one round: ceil(colors / workers)
//               x --load-us). That is the p99 bound. p50 is often far lower: a handler reads to
//               EAGAIN, and when the client answers an echo before that last read, the next
//               message is served in the same run, without the reactor.
// The first three run once per --connections count. The client is one thread, not pinned (it
// shares the CPUs with the server, as a client on the same machine does); each connection keeps
// one --size message in flight, checked byte for byte. After an untimed --warmup the window lasts
// --seconds; p50 and p99 have the histogram's 1.6% resolution.
//
// At 1 connection hue's figures depend on where the connection's color runs: on the reactor's
// core no hop; on the other a post and often a wake-up per message; with stealing on, the lone
// color may move between repetitions (HUE_STEAL=off ./echo shows the steady case). A repetition
// fails (exit status 1) when an echo differs, a connection is lost or no round trip completes.
// hue gets --workers and otherwise its defaults, environment included (HUE_STEAL, ...); Asio gets
// --workers threads pinned as hue pins its workers (HUE_PIN=0: neither is pinned).
#include "echo_asio.hpp"
#include "machine.hpp"
#include "echo_server.hpp"
#include "load_client.hpp"
#include "options.hpp"

#include <benchmark/benchmark.h>

#include <cmath>
#include <future>
#include <sstream>

namespace {

using clock_type = std::chrono::steady_clock;  // load::now_ns() reads this clock too

struct options {
  std::vector<unsigned> connections{1, 64};
  unsigned size = 64, reps = 3, load_colors = 8, load_us = 20;
  unsigned workers = static_cast<unsigned>(std::max(1, [] {
    const cpu_set_t s = echo_asio::allowed_cpus();
    return CPU_COUNT(&s);
  }()));
  double seconds = 2, warmup = 0.3;
  std::vector<std::string> only;
  std::string csv;
} opt;

// One echo connection of the load client: the message in flight, numbered in its first 8 bytes,
// and the check of its echo as it comes back. One message in flight (pipeline 1), so request()
// is called only once the previous echo is whole.
class echo_session {
 public:
  static constexpr const char* bad_answer = "the echo differs from the message sent";
  explicit echo_session(unsigned client) : message_(opt.size, '\0') {
    for (std::size_t b = 0; b < message_.size(); ++b)
      message_[b] = static_cast<char>(b * 7 + client * 13 + 1);
  }
  void request(std::string& out) {
    ++number_;
    std::memcpy(message_.data(), &number_, std::min(message_.size(), sizeof number_));
    out += message_;
  }
  load::result feed(const char*& p, const char* end) {
    const std::size_t n = std::min<std::size_t>(end - p, message_.size() - matched_);
    if (std::memcmp(p, message_.data() + matched_, n) != 0) return load::result::error;
    p += n;
    if ((matched_ += n) < message_.size()) return load::result::need_more;
    matched_ = 0;
    return load::result::complete;
  }
  load::result finish_at_eof() { return matched_ ? load::result::error : load::result::need_more; }
  void reset() { matched_ = 0; }
  const load::answer& last() const { return done_; }

 private:
  std::string message_;
  std::uint64_t number_ = 0;
  std::size_t matched_ = 0;
  load::answer done_{200, false, opt.size};
};

struct figures {
  double msgs_per_s = NAN, p50_us = NAN, p99_us = NAN;
  double busy_polls_per_s = NAN;  // hue: polls by the Epoll event while its core was busy
  double load = NAN;              // loaded: background busy-wait / (window x workers)
};

// Runs the client against 127.0.0.1:port; edge(0) and edge(1) are called (on this thread) at the
// window's opening and closing, for the figures a server keeps itself. Throws on a failure.
template <class Edge>
figures drive(std::uint16_t port, unsigned conns, Edge&& edge) {
  const load::target t = load::resolve_loopback("127.0.0.1", port);
  const std::uint64_t warm_end = load::now_ns() + static_cast<std::uint64_t>(opt.warmup * 1e9);
  const load::window w{warm_end, warm_end + static_cast<std::uint64_t>(opt.seconds * 1e9)};
  std::atomic<bool> stop{false};
  auto client = std::async(std::launch::async, [&] {
    return load::run<echo_session>(t, {0, 1, 5'000'000'000}, conns, 1, w,
                                   [](unsigned c) { return echo_session(c); }, stop);
  });
  for (int i = 0; i < 2; ++i) {
    std::this_thread::sleep_until(clock_type::time_point(std::chrono::nanoseconds(
        i == 0 ? w.warm_end : w.end)));
    edge(i);
  }
  load::counters c = client.get();
  if (c.errors() + c.warmup_errors + c.server_closes > 0)
    throw std::runtime_error(c.first_error.empty() ? "the server closed a connection"
                                                   : c.first_error);
  if (c.ok == 0)
    throw std::runtime_error("no round trip completed in the window (" +
                             std::to_string(c.unanswered) + " messages wait for their echo)");
  return {c.ok / opt.seconds, c.latency.percentile(0.5) / 1e3, c.latency.percentile(0.99) / 1e3};
}

// The loaded row's background: chains of busy events on colors pinned round-robin to the workers
// (so never stolen: every worker keeps its share whatever happens to the connection's color).
// Each chain has one event queued or running at a time, which re-posts itself.
class background_load {
 public:
  background_load(hue::runtime& rt, unsigned colors) : rt_(rt), counts_(colors) {}
  void start() {
    for (unsigned i = 0; i < counts_.size(); ++i) {
      const hue::color_t c = rt_.new_color();
      rt_.pin_color(c, i % rt_.workers());
      rt_.post(c, [this, c, i] { step(c, i); }, info);
    }
  }
  // The chains end at their next event. Call before the runtime stops (the events hold `this`).
  void stop() noexcept { stopping_.store(true, std::memory_order_relaxed); }
  std::uint64_t events() const noexcept {
    std::uint64_t n = 0;
    for (const count& c : counts_) n += c.n.load(std::memory_order_relaxed);
    return n;
  }

 private:
  static constexpr hue::handler_info info{.name = "Background"};
  // One writer per line (a chain's color runs one event at a time): a relaxed load and store.
  struct alignas(64) count {
    std::atomic<std::uint64_t> n{0};
  };
  void step(hue::color_t c, unsigned i) {
    if (stopping_.load(std::memory_order_relaxed)) return;
    const auto until = clock_type::now() + std::chrono::microseconds(opt.load_us);
    while (clock_type::now() < until) {
    }
    counts_[i].n.store(counts_[i].n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    rt_.post(c, [this, c, i] { step(c, i); }, info);
  }
  hue::runtime& rt_;
  std::vector<count> counts_;
  std::atomic<bool> stopping_{false};
};

// hue: a fresh runtime and reactor, a listener on a free port, the server, and the documented
// teardown (stop and wait for the runtime, then the server, then the reactor, then the runtime).
template <class Server>
figures measure_hue(unsigned conns, bool loaded) {
  hue::config cfg;
  cfg.workers = opt.workers;
  cfg.name = "echo";
  hue::runtime rt(cfg);
  hue::reactor io(rt);
  const int listen_fd = hue::net::listen_tcp({});
  Server server(io, listen_fd);
  background_load bg(rt, opt.load_colors);
  // Declared last, so it runs first, also when something throws: no handler may run once the
  // server and the background are gone.
  struct stop_first {
    hue::runtime& rt;
    background_load& bg;
    ~stop_first() {
      bg.stop();
      rt.stop();
      rt.wait();
    }
  } stopper{rt, bg};
  if (loaded) bg.start();
  std::uint64_t polls[2], bg_events[2];
  clock_type::time_point at[2];
  figures f;
  try {
    f = drive(hue::net::local_port(listen_fd), conns, [&](int i) {
      polls[i] = io.polls().busy, bg_events[i] = bg.events(), at[i] = clock_type::now();
    });
  } catch (const std::exception& e) {
    std::ostringstream why;
    why << e.what() << "; the server accepted " << server.stats().accepted.load() << " and echoed "
        << server.stats().bytes.load() << " bytes; its runtime:\n" << rt.stats();
    throw std::runtime_error(why.str());
  }
  const double secs = std::chrono::duration<double>(at[1] - at[0]).count();
  f.busy_polls_per_s = (polls[1] - polls[0]) / secs;
  if (loaded) f.load = (bg_events[1] - bg_events[0]) * opt.load_us / 1e6 / (secs * opt.workers);
  return f;
}

#ifdef HUE_BENCH_ASIO
figures measure_asio(unsigned conns) {
  echo_asio::server server(opt.workers);
  return drive(server.acceptor.local_endpoint().port(), conns, [](int) {});
}
#endif  // HUE_BENCH_ASIO

// Rows on Google Benchmark (one iteration per repetition), then the table, key=value lines, CSV.

struct row {
  std::string server;  // handlers, coroutines, asio, loaded (--only)
  unsigned conns;
  std::string key, label;  // key=value and CSV name (handlers_c1); table name
  std::vector<figures> reps;
  unsigned failures = 0;
};
std::vector<row> rows;  // complete before the benchmarks are registered: they hold pointers

void bench(benchmark::State& st, row* r) {
  for (auto _ : st) try {
      const figures f = r->server == "coroutines" ? measure_hue<echo::coro_server>(r->conns, false)
#ifdef HUE_BENCH_ASIO
                        : r->server == "asio" ? measure_asio(r->conns)
#endif
                        : measure_hue<echo::handler_server>(r->conns, r->server == "loaded");
      r->reps.push_back(f);
      st.SetIterationTime(opt.seconds);
      st.counters["msgs_per_s"] = f.msgs_per_s;
      st.counters["p50_us"] = f.p50_us;
      st.counters["p99_us"] = f.p99_us;
      if (std::isfinite(f.busy_polls_per_s)) st.counters["busy_polls_per_s"] = f.busy_polls_per_s;
      if (std::isfinite(f.load)) st.counters["bg_load"] = f.load;
    } catch (const std::exception& e) {
      ++r->failures;
      std::fprintf(stderr, "echo: %s, %u conns: FAILED: %s\n", r->label.c_str(), r->conns,
                   e.what());
      st.SkipWithError("failed (the message is above)");
    }
}

// The median of a figure over a row's repetitions; NaN without any.
double over_reps(const row* r, double figures::*m) {
  std::vector<double> v;
  for (const figures& f : r ? r->reps : std::vector<figures>{}) v.push_back(f.*m);
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : (v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2;
}
const row* find(const std::string& key) {
  for (const row& r : rows)
    if (r.key == key) return &r;
  return nullptr;
}
double ratio(const std::string& a, const std::string& b, double figures::*m) {
  return over_reps(find(a), m) / over_reps(find(b), m);
}

// The headline figures, medians over the repetitions, for scripts (the names are kept stable).
void print_keys() {
  std::printf("\n");
  std::printf("echo_workers=%u\necho_size_bytes=%u\necho_asio_available=%d\n", opt.workers,
              opt.size, echo_asio::built);
  auto key = [](const row& r, const char* name, double figures::*m, int decimals) {
    std::printf("echo_%s_%s=%.*f\n", r.key.c_str(), name, decimals, over_reps(&r, m));
  };
  for (const row& r : rows) {
    key(r, "msgs_per_s", &figures::msgs_per_s, 0);
    key(r, "p50_us", &figures::p50_us, 1);
    key(r, "p99_us", &figures::p99_us, 1);
    if (r.server == "loaded") {
      key(r, "background_load", &figures::load, 3);
      key(r, "busy_polls_per_s", &figures::busy_polls_per_s, 0);
    }
    std::printf("echo_%s_failures=%u\n", r.key.c_str(), r.failures);
  }
  for (unsigned c : opt.connections)
    for (const char* pair :
         {"coroutines_over_handlers", "handlers_over_asio", "coroutines_over_asio"}) {
      const std::string p = pair, c_ = "_c" + std::to_string(c);
      const std::size_t over = p.find("_over_");
      const double v = ratio(p.substr(0, over) + c_, p.substr(over + 6) + c_, &figures::msgs_per_s);
      if (std::isfinite(v)) std::printf("echo_ratio_%s%s=%.3f\n", pair, c_.c_str(), v);
    }
  if (const double v = ratio("loaded_c1", "handlers_c1", &figures::p99_us); std::isfinite(v))
    std::printf("echo_ratio_loaded_over_unloaded_p99_c1=%.3f\n", v);
}

int run(int argc, char** argv) {
  CLI::App app{
      "Echo ping-pong over loopback: hue handlers, hue coroutines, Boost.Asio and hue "
      "handlers with every worker busy (loaded); messages/s and round-trip p50/p99.",
      "echo"};
  app.option_defaults()->always_capture_default();
  app.allow_extras();  // --benchmark_* flags, for Google Benchmark
  std::string conns;
  app.add_option("--connections", conns, "comma-separated connection counts, one scenario each")
      ->default_str("1,64");
  load::number(app, "--size", opt.size, 1u, 64u << 20, "message size in bytes");
  load::number(app, "--seconds", opt.seconds, 0.01, 86'400.0, "timed window per repetition");
  load::number(app, "--warmup", opt.warmup, 0.0, 86'400.0, "untimed round trips before it");
  load::number(app, "--reps", opt.reps, 1u, 1000u, "repetitions of each row, interleaved");
  load::number(app, "--workers", opt.workers, 1u, 1024u, "hue workers, Asio threads");
  load::number(app, "--load-colors", opt.load_colors, 1u, 1'000'000u, "loaded: background colors");
  load::number(app, "--load-us", opt.load_us, 1u, 1'000'000u, "loaded: busy-wait per event, us");
  app.add_option("--only", opt.only, "rows among handlers,coroutines,asio,loaded")
      ->default_str("all")
      ->delimiter(',')
      ->check(CLI::IsMember({"handlers", "coroutines", "asio", "loaded"}));
  app.add_option("--csv", opt.csv, "also write the runs to this file as CSV (Google Benchmark's)");
  app.footer(
      "Google Benchmark's --benchmark_* flags pass through (--benchmark_out=FILE for JSON).\n"
      "Ends with key=value lines (echo_*). Exit 1 when a repetition failed.\n");
  try {
    app.parse(argc, argv);
    if (!conns.empty()) opt.connections.clear();
    for (std::size_t at = 0; at < conns.size();) {
      const std::size_t comma = std::min(conns.find(',', at), conns.size());
      opt.connections.push_back(
          load::strict("--connections", conns.substr(at, comma - at), 1u, 10'000u));
      at = comma + 1;
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto add = [](const char* server, unsigned c, const char* label) {
    const bool wanted =
        opt.only.empty() || std::find(opt.only.begin(), opt.only.end(), server) != opt.only.end();
    if (wanted && (echo_asio::built || std::string_view(server) != "asio"))
      rows.push_back({server, c, server + ("_c" + std::to_string(c)), label, {}, 0});
  };
  for (unsigned c : opt.connections) {
    add("handlers", c, "hue handlers");
    add("coroutines", c, "hue coroutines");
    add("asio", c, "Boost.Asio");
  }
  add("loaded", 1, "hue handlers, loaded");
  // Each connection is two fds here: the client's and the server's end.
  load::raise_fd_limit(2 * *std::max_element(opt.connections.begin(), opt.connections.end()));
  for (row& r : rows)
    benchmark::RegisterBenchmark(r.key.c_str(), bench, &r)
        ->Iterations(1)->Repetitions(static_cast<int>(opt.reps))->UseManualTime()
        ->Unit(benchmark::kSecond);
  std::vector<char*> gb{argv[0]};
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  gb.push_back(interleave.data());
  std::vector<std::string> rest = app.remaining();  // kept: gb points into it
  if (!opt.csv.empty())
    rest.insert(rest.end(), {"--benchmark_out=" + opt.csv, "--benchmark_out_format=csv"});
  for (std::string& a : rest) gb.push_back(a.data());
  int gb_argc = static_cast<int>(gb.size());
  benchmark::Initialize(&gb_argc, gb.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb.data())) return 2;
  bench::hop_floor_at_start() = bench::hop_floor_ns(bench::floor_trips, bench::pin_to_allowed_cpu);
  benchmark::RunSpecifiedBenchmarks();
  std::printf("\n%s\n",
              bench::machine_line(bench::hop_floor_ns(bench::floor_trips, bench::pin_to_allowed_cpu))
                  .c_str());
  print_keys();
  unsigned failures = 0;
  for (const row& r : rows) failures += r.failures;
  std::printf("echo_failures=%u\n", failures);
  std::fflush(stdout);
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
