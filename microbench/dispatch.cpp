// microbench/dispatch.cpp — what one event costs: post + run of a handler that does almost nothing,
// on hue and (when Boost is found) on Boost.Asio, each workload written once for both:
//
//   same_core_same_color    1 worker. A driver handler posts chunks of 10,000 events to ONE color;
//                           the last event of a chunk re-posts the driver. ns/event.
//   same_core_fresh_colors  the same, each event on a fresh color (hue: new_color(); Asio: a new
//                           strand), chunks of 50,000: what a color costs when it lives for one
//                           event.
//   same_core_many_colors   the same, events round-robin over 1024 colors.
//   cross_core_pingpong     2 workers, one color placed on each; A posts to B, B to A, --trips
//                           round trips; ns per hop. With its hardware floor, in the same run: two
//                           spinning threads passing one cache line between the same two CPUs.
//
// The clock starts in the first handler and stops in the last, so thread start-up and the main
// thread's wake-up are not measured; each repetition first runs an untimed warm-up that fills the
// allocators' free lists. Chaining the driver on a chunk's completion keeps one chunk in flight
// whatever the batch size: re-posting it right away would let the queue grow to every event, and
// the program would measure memory growth, not dispatch. hue runs with only `workers` set (HUE_*
// apply: HUE_BATCH=1 ./dispatch measures batch 1); Asio's threads sleep in run() when idle
// (--asio-spin: they busy-poll, the analogue of hue's idle spin).
#include "bench.hpp"

namespace {

using namespace bench;

constexpr hue::handler_info tiny{.name = "tiny"};
constexpr std::uint64_t chunk = 10'000, fresh_chunk = 50'000, many_colors = 1024;

struct options : common_options {
  std::uint64_t events = 2'000'000, trips = 100'000;
  bool asio_spin = false;
} opt;

using clock_type = std::chrono::steady_clock;

// The last handler stamps the end and raises the flag the main thread waits on.
struct finish_line {
  std::atomic<bool> raised{false};
  clock_type::time_point start, end;
  void cross() {
    end = clock_type::now();
    raised.store(true, std::memory_order_release);
    raised.notify_one();
  }
  double wait_ns() {
    raised.wait(false, std::memory_order_acquire);
    return std::chrono::duration<double, std::nano>(end - start).count();
  }
};

// A driver posts `total` events in chunks on `colors` colors (0: a fresh color per event). All
// handlers run on one thread, so the counters are plain integers.
template <class Exec>
double chunked(Exec& e, std::uint64_t colors, std::uint64_t total) {
  struct state {
    Exec& e;
    std::vector<typename Exec::color> colors;
    std::uint64_t total, per_chunk, posted = 0, ran = 0, chunk_end = 0, next = 0;
    finish_line done;
    void drive() {
      if (posted == 0) done.start = clock_type::now();
      chunk_end = posted + std::min(per_chunk, total - posted);
      for (; posted < chunk_end; ++posted) {
        e.post(
            colors.size() > 1 ? colors[next] : e.new_color(), [this] { tick(); }, tiny);
        if (++next == colors.size()) next = 0;  // no division per post: it shows at ~20 ns
      }
    }
    void tick() {
      if (++ran != chunk_end) return;
      if (ran == total)
        done.cross();
      else
        e.post(
            colors[0], [this] { drive(); }, tiny);
    }
  } s{e, {}, total, colors ? chunk : fresh_chunk, 0, 0, 0, 0, {}};
  for (std::uint64_t i = 0; i < std::max<std::uint64_t>(colors, 1); ++i)
    s.colors.push_back(e.new_color());
  if (colors == 1) s.colors.push_back(s.colors[0]);  // the driver's color is the events' color
  e.post(
      s.colors[0], [&s] { s.drive(); }, tiny);
  return s.done.wait_ns() / static_cast<double>(total);
}

// One event bounces between a color on worker 0 and one on worker 1: the latency of a cross-core
// post + wake-up + run. `returned` is written on side 1 only; the post carrying the ball orders it.
// On hue both colors are pinned: placed colors, each with one tiny event, were lent to the idle
// side by its steals, and the "hop" then ran both sides on one core (60 ns, a fifth of the floor).
template <class Exec>
typename Exec::color side_color(Exec& e, unsigned w) {
  if constexpr (requires { e.pinned_on(w); }) return e.pinned_on(w);
  else return e.color_on(w);
}
template <class Exec>
double pingpong(Exec& e, std::uint64_t trips) {
  struct state {
    Exec& e;
    typename Exec::color side[2];
    std::uint64_t trips, returned = 0;
    finish_line done;
    void ping() {
      if (returned == 0) done.start = clock_type::now();
      e.post(
          side[1], [this] { pong(); }, tiny);
    }
    void pong() {
      if (++returned == trips)
        done.cross();
      else
        e.post(
            side[0], [this] { ping(); }, tiny);
    }
  } s{e, {side_color(e, 0), side_color(e, 1)}, trips, 0, {}};
  e.post(
      s.side[0], [&s] { s.ping(); }, tiny);
  return s.done.wait_ns() / (2.0 * static_cast<double>(trips));
}

const configuration hue_row{"hue", "hue", "-"};  // "-": stealing as HUE_STEAL says
#ifdef HUE_BENCH_ASIO
const configuration asio_row{"asio", "Boost.Asio", "-", {}, runtime_kind::asio};
const configuration asio_fresh{"asio", "Boost.Asio", "-", {}, runtime_kind::asio, true};
#endif

// The cases, and the stem of their key=value names: dispatch_<stem>_ns, asio_<stem>_ns and
// ratio_<stem> (hue / Asio), as scripts know them.
constexpr std::pair<const char*, const char*> cases[] = {
    {"same_core_same_color", "same_core"},
    {"same_core_fresh_colors", "same_core_fresh_colors"},
    {"same_core_many_colors", "same_core_many_colors"},
    {"cross_core_pingpong", "cross_core"},
};

figures measure(row& r) {
  const std::string c = r.key.substr(r.key.find('/') + 1);
  if (r.key.starts_with("floor/")) return {{"ns", hop_floor_ns(opt.trips, pin_thread)}};
  const bool cross = c == "cross_core_pingpong", fresh = c == "same_core_fresh_colors";
  const std::uint64_t colors = fresh ? 0 : c == "same_core_many_colors" ? many_colors : 1;
  const exec_params p{cross ? 2u : 1u, "", colors, cross, opt.asio_spin};
  double ns = 0;
  auto once = [&]<class Exec>(std::type_identity<Exec>) {
    Exec e(*r.cfg, p);
    e.start([] {});
    if (cross) {
      pingpong(e, std::min<std::uint64_t>(opt.trips, 2'000));  // warm-up
      const hue::runtime_stats before = e.stats();
      ns = pingpong(e, opt.trips);
      const hue::runtime_stats after = e.stats();
      for (std::size_t k = 0; k < after.cores.size(); ++k)  // counted after the batch: allow 1
        if (after.cores[k].events_run - before.cores[k].events_run + 1 < opt.trips)
          std::fprintf(stderr, "dispatch: WARNING: a color left core %zu: no cross-core hop\n", k);
    } else {
      chunked(e, colors, std::min<std::uint64_t>(opt.events, 100'000));  // warm-up
      ns = chunked(e, colors, opt.events);
    }
  };
#ifdef HUE_BENCH_ASIO
  if (r.cfg->kind == runtime_kind::asio)
    once(std::type_identity<asio_executor>{});
  else
#endif
    once(std::type_identity<hue_executor>{});
  return {{"ns", ns}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "What one event costs: post + run of a tiny handler on one core (one color, 50,000 "
      "fresh colors per chunk, 1024 colors) and across two (ping-pong), on hue and "
      "Boost.Asio, with the cache-line floor of a cross-core hop.",
      "dispatch"};
  std::vector<std::string> names;
  for (auto [name, stem] : cases) names.push_back(name);
  opt.reps = 5;
  add_common(app, opt, names);
  load::number(app, "--events", opt.events, std::uint64_t{1}, std::uint64_t{1} << 40,
               "events per same-core repetition");
  load::number(app, "--trips", opt.trips, std::uint64_t{1}, std::uint64_t{1} << 40,
               "round trips per ping-pong repetition");
  app.add_flag("--asio-spin", opt.asio_spin, "Asio threads busy-poll instead of run()");
  CLI11_PARSE(app, argc, argv);
  machine();  // the process's cpuset, read before any thread is pinned
  std::vector<row> rows;
  for (const std::string& c : names) {
    if (!wanted(opt, c)) continue;
    if (c == "cross_core_pingpong") rows.push_back({"floor/" + c, "floor", nullptr, 0, {}, 0});
    rows.push_back({"hue/" + c, "hue", &hue_row, 0, {}, 0});
#ifdef HUE_BENCH_ASIO
    rows.push_back({"asio/" + c, "Boost.Asio",
                    c == "same_core_fresh_colors" ? &asio_fresh : &asio_row, 0, {}, 0});
#endif
  }
  const unsigned failures = run_rows(argv, app, opt, rows, measure);

  auto med = [&](const char* side, const char* c) {
    const row* r = find_row(rows, std::string(side) + "/" + c);
    return r ? r->med("ns") : nan_value;
  };
  std::printf("\ndispatch: ns per event, median of %u; %llu events per same-core repetition, %llu "
              "round trips per ping-pong; Asio threads %s\n%s\n\n%-24s %12s %12s %10s\n",
              opt.reps, static_cast<unsigned long long>(opt.events),
              static_cast<unsigned long long>(opt.trips),
              !HUE_BENCH_ASIO_BUILT ? "not built (no Boost)" : opt.asio_spin ? "busy-poll" : "run()",
              machine_line_now().c_str(), "benchmark", "hue ns", "asio ns", "hue/asio");
  for (auto [c, stem] : cases)
    if (find_row(rows, std::string("hue/") + c))
      std::printf("%-24s %12s %12s %10s\n", c, fixed(med("hue", c), 1).c_str(),
                  fixed(med("asio", c), 1).c_str(),
                  fixed(ratio(med("hue", c), med("asio", c)), 2).c_str());
  const double floor = med("floor", "cross_core_pingpong"), hop = med("hue", "cross_core_pingpong");
  if (std::isfinite(floor))
    std::printf("\ncache-line floor of a cross-core hop: %.1f ns; hue's hop costs %.1fx it\n",
                floor, hop / floor);

  std::printf("\nevents=%llu\ntrips=%llu\nreps=%u\nasio_available=%d\n",
              static_cast<unsigned long long>(opt.events),
              static_cast<unsigned long long>(opt.trips), opt.reps, HUE_BENCH_ASIO_BUILT);
  if (HUE_BENCH_ASIO_BUILT) std::printf("asio_mode=%s\n", opt.asio_spin ? "spin" : "run");
  auto key = [](const std::string& name, double v, int decimals) {
    if (std::isfinite(v)) std::printf("%s=%.*f\n", name.c_str(), decimals, v);
  };
  for (auto [c, stem] : cases) {
    key("dispatch_" + std::string(stem) + "_ns", med("hue", c), 2);
    key("asio_" + std::string(stem) + "_ns", med("asio", c), 2);
    key("ratio_" + std::string(stem), ratio(med("hue", c), med("asio", c)), 3);
  }
  key("floor_cross_core_ns", floor, 2);
  key("ratio_cross_core_over_floor", hop / floor, 3);
  key("ratio_50k_colors_over_one_color",
      ratio(med("hue", "same_core_fresh_colors"), med("hue", "same_core_same_color")), 3);
  return failures ? 1 : 0;
}
