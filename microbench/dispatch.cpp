// microbench/dispatch.cpp — what one event costs: post + run of a handler that does almost nothing.
//
// Three workloads, each run on hue and (when Boost is found) on Boost.Asio as the peer:
//
//   same_core_same_color   1 worker. A driver handler, running on the runtime, posts events in
//                          chunks of 10,000 to ONE color; ns/event = elapsed / events.
//   same_core_many_colors  the same, with the events spread round-robin over 1024 colors.
//   cross_core_pingpong    2 workers, color A pinned to core 0 and color B to core 1; A posts to B,
//                          B posts to A, for T round trips (--trips); ns/event = elapsed / (2T).
//                          Printed with its hardware floor: two spinning threads passing one
//                          cache line between the same two CPUs.
//
// The clock starts in the first handler and stops in the last one, so thread start-up, the main
// thread's post and its wake-up are not measured. Every measurement is repeated (--reps) and the
// median is reported; hue and Asio repetitions are interleaved so that the noise of a shared
// machine (frequency changes, a neighbour's burst) falls on both sides of each ratio alike. One
// short, untimed warm-up per side first fills the allocators' free lists and faults in their pages.
//
// The runtime is used as configured by default (idle_spin, batch, pin): only `workers` is set. The
// HUE_* environment variables therefore still apply (HUE_BATCH=1 ./dispatch measures batch 1).
// Asio is run the usual way (run(), idle threads sleep); --asio-spin makes it busy-poll instead.
//
// Build: meson defines HUE_BENCH_ASIO when Boost is found; without it only the hue column is
// filled.
#include "bench_common.hpp"

namespace {

using namespace bench;

constexpr std::uint64_t chunk_events = 10'000;  // events a driver posts per turn
constexpr std::uint64_t many_colors = 1024;
constexpr std::uint64_t warmup_events = 100'000;  // capped by --events
constexpr std::uint64_t warmup_trips = 2'000;     // capped by --trips

// Static storage: the runtime keeps a pointer to the info for as long as an event names it.
constexpr hue::handler_info tiny_info{.name = "tiny"};

// ------------------------------------------------------------------------------------------------
// Completion: the last handler stamps the end time and raises a flag the main thread waits on.
//
// Hazard: `cross()` still touches the flag (notify) after the main thread may have seen it set, so
// the flag must outlive the runtime's workers / the io_context's threads, not just one repetition.
// Each workload therefore owns its finish_line for its whole life, and the fixtures below tear
// their threads down before the workload is destroyed.
class finish_line {
 public:
  void reset() noexcept { raised_.store(false, std::memory_order_relaxed); }
  void cross() noexcept {
    end_ = bench_clock::now();
    raised_.store(true, std::memory_order_release);
    raised_.notify_one();
  }
  bench_clock::time_point wait() noexcept {
    raised_.wait(false, std::memory_order_acquire);
    return end_;
  }

 private:
  std::atomic<bool> raised_{false};
  bench_clock::time_point end_{};
};

double ns_between(bench_clock::time_point a, bench_clock::time_point b) {
  return std::chrono::duration<double, std::nano>(b - a).count();
}

// ------------------------------------------------------------------------------------------------
// Workload 1 and 2: a driver posts chunks of tiny events, from a handler, to `colors` colors.
//
// `Target::post(color, f)` queues `f` on color `color` (0 <= color < colors). The driver itself
// runs on color 0. All handlers run on one thread (one worker / one io_context thread), so the
// counters are plain integers; the main thread only touches them before posting (the post publishes
// them) and after finish_line::wait() (an acquire).
//
// Why the last event of a chunk re-posts the driver, instead of the driver re-posting itself right
// after its chunk: with the latter, whether the chunk has run before the driver's next turn depends
// on the scheduler (hue's batch size, Asio's strand invokers). If it has not, every turn adds
// 10,000 pending events and the queue grows towards all N events (2M x 128 B blocks): the benchmark
// would measure memory growth, not dispatch. Chaining on completion keeps at most one chunk in
// flight on both sides, whatever HUE_BATCH says, at the price of one extra event per 10,000.
template <class Target>
class chunked_workload {
 public:
  chunked_workload(Target target, std::uint64_t colors) : target_(target), colors_(colors) {}

  // Main thread. Runs `total` events; returns ns per event.
  double run(std::uint64_t total) {
    total_ = total;
    posted_ = ran_ = chunk_end_ = 0;
    next_color_ = 0;
    finish_.reset();
    target_.post(0, [this] { drive(); });
    const bench_clock::time_point end = finish_.wait();
    return ns_between(start_, end) / static_cast<double>(total);
  }

 private:
  void drive() {
    if (posted_ == 0) start_ = bench_clock::now();
    chunk_end_ = posted_ + std::min(chunk_events, total_ - posted_);
    for (; posted_ < chunk_end_; ++posted_) {
      target_.post(next_color_, [this] { tick(); });
      // Round-robin without a division per post (a 64-bit div is a visible share of ~20 ns).
      if (++next_color_ == colors_) next_color_ = 0;
    }
  }

  // The tiny event: one increment and one compare, except once per chunk.
  void tick() {
    if (++ran_ != chunk_end_) return;
    if (ran_ == total_) {
      finish_.cross();
    } else {
      target_.post(0, [this] { drive(); });
    }
  }

  Target target_;
  const std::uint64_t colors_;
  std::uint64_t total_ = 0, posted_ = 0, ran_ = 0, chunk_end_ = 0, next_color_ = 0;
  bench_clock::time_point start_{};
  finish_line finish_;
};

// ------------------------------------------------------------------------------------------------
// Workload 3: one event bounces between side 0 and side 1 (two cores), so this measures the latency
// of a cross-core post + wake-up + run, not throughput: only one event is ever in flight.
//
// `returned_` is written only on side 1 and read on side 0; each such read follows, through the
// post that carried the ball, the write it must see. The first ping sees 0 and starts the clock.
template <class Target>
class pingpong_workload {
 public:
  explicit pingpong_workload(Target target) : target_(target) {}

  double run(std::uint64_t trips) {
    trips_ = trips;
    returned_ = 0;
    finish_.reset();
    target_.post(0, [this] { ping(); });
    const bench_clock::time_point end = finish_.wait();
    return ns_between(start_, end) / (2.0 * static_cast<double>(trips));
  }

 private:
  void ping() {
    if (returned_ == 0) start_ = bench_clock::now();
    target_.post(1, [this] { pong(); });
  }
  void pong() {
    if (++returned_ == trips_) {
      finish_.cross();
    } else {
      target_.post(0, [this] { ping(); });
    }
  }

  Target target_;
  std::uint64_t trips_ = 0, returned_ = 0;
  bench_clock::time_point start_{};
  finish_line finish_;
};

// ------------------------------------------------------------------------------------------------
// hue side.

struct hue_colors_target {  // color i of the workload is hue color i
  hue::runtime* rt;
  template <class F>
  void post(std::uint64_t color, F&& f) {
    rt->post(color, std::forward<F>(f), tiny_info);
  }
};

struct hue_pair_target {  // side 0 / 1 of the ping-pong are two pinned colors
  hue::runtime* rt;
  hue::color_t color[2];
  template <class F>
  void post(std::uint64_t side, F&& f) {
    rt->post(color[side], std::forward<F>(f), tiny_info);
  }
};

hue::config hue_config(unsigned workers) {
  hue::config cfg;
  cfg.workers = workers;  // everything else as a user would get it, environment included
  cfg.name = "bench";
  return cfg;
}

// Destruction order matters (see finish_line): `rt_` is declared last, so it is destroyed first and
// its workers are joined while the workload they point into still exists.
class hue_chunked {
 public:
  explicit hue_chunked(std::uint64_t colors)
      : work_(hue_colors_target{&rt_}, colors), rt_(hue_config(1)) {}
  double run(std::uint64_t events) { return work_.run(events); }
  hue::runtime_stats stats() const { return rt_.stats(); }

 private:
  chunked_workload<hue_colors_target> work_;  // holds &rt_ only; not used before rt_ is built
  hue::runtime rt_;
};

class hue_pingpong {
 public:
  // Colors 1 and 2 hash to different slots of the default table, so pinning one does not drag the
  // other along; check_placement() verifies it rather than trusting the hash (HUE_COLOR_SLOTS=1
  // would put both in one slot).
  static constexpr hue::color_t color_a = 1, color_b = 2;

  hue_pingpong() : work_(hue_pair_target{&rt_, {color_a, color_b}}), rt_(hue_config(2)) {
    rt_.pin_color(color_a, 0);
    rt_.pin_color(color_b, 1);
  }
  double run(std::uint64_t trips) { return work_.run(trips); }
  hue::runtime_stats stats() const { return rt_.stats(); }

  // Runs a few trips and returns an explanation if they did not alternate between the two cores.
  std::string check_placement() {
    constexpr std::uint64_t trips = 1000;
    const hue::runtime_stats before = rt_.stats();
    work_.run(trips);
    // A worker counts its batch after the batch's last handler returns, so the final pong is
    // counted only after the main thread has been woken: wait (briefly) for the totals to settle.
    hue::runtime_stats after;
    const auto deadline = bench_clock::now() + std::chrono::seconds(1);
    do {
      after = rt_.stats();
      if (after.total().events_run - before.total().events_run >= 2 * trips) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } while (bench_clock::now() < deadline);
    std::string why;
    for (unsigned c = 0; c < 2; ++c) {
      const std::uint64_t ran = after.cores[c].events_run - before.cores[c].events_run;
      if (ran != trips)
        why += "core " + std::to_string(c) + " ran " + std::to_string(ran) + " events, expected " +
               std::to_string(trips) + "; ";
    }
    return why;
  }

 private:
  pingpong_workload<hue_pair_target> work_;
  hue::runtime rt_;
};

// ------------------------------------------------------------------------------------------------
// The hardware floor of the ping-pong.

// The floor under any cross-core ping-pong: two threads pinned where the two workers are (see
// bench::allowed_cpus), handing
// a counter back and forth through one cache line they both spin on. No queue, lock, allocation or
// sleep: each hop is the cache-line transfer and little else. Printed next to the ping-pong row,
// because on a VM that transfer varies several-fold from one run to the next (the host moves the
// vCPUs between cores and chiplets), and hue's number means little without it.
double atomic_pingpong(std::uint64_t trips) {
  struct alignas(64) line {
    std::atomic<std::uint64_t> ball{0};
  } shared;
  std::atomic<bool> b_ready{false};
  const std::uint64_t hops = 2 * trips;
  bench_clock::time_point start, end;
  // Side 1 answers odd values with the next even one and stamps the end after the last hop.
  std::thread b([&] {
    pin_this_thread(1);
    b_ready.store(true, std::memory_order_release);
    for (std::uint64_t v = 1; v < hops; v += 2) {
      while (shared.ball.load(std::memory_order_acquire) != v) cpu_pause();
      shared.ball.store(v + 1, std::memory_order_release);
    }
    end = bench_clock::now();
  });
  std::thread a([&] {
    pin_this_thread(0);
    while (!b_ready.load(std::memory_order_acquire)) cpu_pause();
    start = bench_clock::now();
    for (std::uint64_t v = 0; v < hops; v += 2) {
      while (shared.ball.load(std::memory_order_acquire) != v) cpu_pause();
      shared.ball.store(v + 1, std::memory_order_release);
    }
  });
  a.join();
  b.join();
  return ns_between(start, end) / static_cast<double>(hops);
}

// ------------------------------------------------------------------------------------------------
// Boost.Asio side, run the usual way: io_contexts built with concurrency hint 1 (one thread runs
// each, which enables Asio's thread-private fast path for posts made from inside a handler), their
// threads pinned like hue's workers. Idle run threads block in the kernel on a condition variable:
// Asio's normal behaviour, with no equivalent of hue's idle spin.

#ifdef HUE_BENCH_ASIO
using strand_t = asio::strand<asio::io_context::executor_type>;

// An io_context kept alive between repetitions by a work guard and run by one pinned thread.
//
// Spin mode (--asio-spin): during a repetition the thread calls poll() in a loop and never
// sleeps. Not how Asio is usually run, but the closest analogue of hue's idle spin; it tells how
// much of a cross-core gap is the kernel wake-up (futex + the idle vCPU leaving its halt state,
// tens of us on a VM) rather than dispatch. Hazard: a thread polling in a loop holds its
// io_context's mutex much of the time, so cross-thread posts into it contend for that mutex (and
// may sleep on it): this mode is a probe, not a tuned Asio. Between repetitions the thread blocks
// in run_one() instead: a thread spinning while hue is measured would take one of the machine's two
// CPUs from hue's workers (hue likewise spins only briefly after its queue empties, then sleeps).
class asio_loop {
 public:
  asio_loop(unsigned cpu_index, bool spin)
      : spin_(spin),
        guard_(asio::make_work_guard(ctx_)),
        thread_([this, cpu_index] { body(cpu_index); }) {}
  ~asio_loop() { join(); }

  // Lets the thread return once nothing is queued (every repetition has ended) and waits for it.
  // Idempotent. The io_context itself lives on until the destructor.
  void join() {
    guard_.reset();
    if (thread_.joinable()) thread_.join();
  }
  asio::io_context& context() { return ctx_; }

  // Main thread, around each repetition. Without spin mode these do nothing.
  void begin_repetition() { spinning_.store(spin_, std::memory_order_relaxed); }
  void end_repetition() { spinning_.store(false, std::memory_order_relaxed); }

  // One repetition of a workload run by this loop alone.
  template <class Workload>
  double repetition(Workload& work, std::uint64_t count) {
    begin_repetition();
    const double ns = work.run(count);
    end_repetition();
    return ns;
  }

 private:
  void body(unsigned cpu_index) {
    pin_this_thread(cpu_index);
    if (!spin_) {
      ctx_.run();
      return;
    }
    // run_one() returns 0 only once the context has stopped: the guard was reset and the queue
    // drained, i.e. join() is waiting for us.
    while (!ctx_.stopped()) {
      if (spinning_.load(std::memory_order_relaxed)) {
        ctx_.poll();
      } else if (ctx_.run_one() == 0) {
        break;
      }
    }
  }

  const bool spin_;
  std::atomic<bool> spinning_{false};
  asio::io_context ctx_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;  // last: starts once everything it uses exists
};

struct asio_context_target {  // one color: a one-thread io_context already serializes everything
  asio::io_context* ctx;
  template <class F>
  void post(std::uint64_t, F&& f) {
    asio::post(*ctx, std::forward<F>(f));
  }
};

struct asio_strand_target {  // color i is strand i (Asio's way of saying "serialize these")
  std::vector<strand_t>* strands;
  template <class F>
  void post(std::uint64_t color, F&& f) {
    asio::post((*strands)[color], std::forward<F>(f));
  }
};

// The ping-pong analogue of two pinned colors is two io_contexts, one pinned thread each: every
// event of side 0 runs on core 0 and every event of side 1 on core 1, as with hue's pinned colors.
// The alternative, two strands on one io_context run by two threads, is the analogue of *unpinned*
// colors sharing one queue: either thread may run either strand (often the poster itself, making
// the "cross-core" hop same-core), so it would not measure the same thing.
struct asio_pair_target {
  asio::io_context* ctx[2];
  template <class F>
  void post(std::uint64_t side, F&& f) {
    asio::post(*ctx[side], std::forward<F>(f));
  }
};

// Teardown order, two hazards: the run threads must be joined while the workload they point into
// still exists (see finish_line), and every strand must be destroyed before its io_context (a
// strand's destructor locks a mutex of the context's strand service). So each fixture joins its
// threads first thing in its destructor, and declares its loops first so that the io_contexts
// are the last members destroyed.
class asio_chunked {
 public:
  asio_chunked(std::uint64_t colors, bool spin)
      : loop_(0, spin), work_(asio_context_target{&loop_.context()}, colors) {}
  ~asio_chunked() { loop_.join(); }
  double run(std::uint64_t events) { return loop_.repetition(work_, events); }

 private:
  asio_loop loop_;
  chunked_workload<asio_context_target> work_;
};

class asio_strands {
 public:
  asio_strands(std::uint64_t colors, bool spin)
      : loop_(0, spin),
        strands_(make_strands(loop_.context(), colors)),
        work_(asio_strand_target{&strands_}, colors) {}
  ~asio_strands() { loop_.join(); }
  double run(std::uint64_t events) { return loop_.repetition(work_, events); }

 private:
  static std::vector<strand_t> make_strands(asio::io_context& ctx, std::uint64_t n) {
    std::vector<strand_t> v;
    v.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) v.push_back(asio::make_strand(ctx));
    return v;
  }
  asio_loop loop_;
  std::vector<strand_t> strands_;
  chunked_workload<asio_strand_target> work_;
};

class asio_pingpong {
 public:
  explicit asio_pingpong(bool spin)
      : a_(0, spin), b_(1, spin), work_(asio_pair_target{{&a_.context(), &b_.context()}}) {}
  ~asio_pingpong() {
    a_.join();
    b_.join();
  }
  double run(std::uint64_t trips) {
    a_.begin_repetition();
    b_.begin_repetition();
    const double ns = work_.run(trips);
    a_.end_repetition();
    b_.end_repetition();
    return ns;
  }

 private:
  asio_loop a_, b_;
  pingpong_workload<asio_pair_target> work_;
};
#endif  // HUE_BENCH_ASIO

// ------------------------------------------------------------------------------------------------
// Harness.

struct options {
  std::uint64_t events = 2'000'000;
  // Round trips of the ping-pong. Not --events: one trip is two full cross-core latencies, and
  // Asio's idle threads sleep in the kernel, so on a VM a trip costs 20-120 us; 2M trips x
  // (reps + 1) would take from minutes to most of an hour.
  std::uint64_t trips = 100'000;
  unsigned reps = 5;
  std::string csv;
  bool stats = false;
  bool asio_spin = false;
};

void usage(std::FILE* to) {
  std::fprintf(
      to,
      "usage: dispatch [--events N] [--trips T] [--reps R] [--csv FILE] [--stats]\n"
      "                [--asio-spin] [--help]\n"
      "\n"
      "Cost of post + run of a tiny handler, in ns per event, for hue and Boost.Asio:\n"
      "  same_core_same_color   1 worker, events posted in chunks of %llu to one color\n"
      "  same_core_many_colors  1 worker, events spread round-robin over %llu colors\n"
      "  cross_core_pingpong    2 workers, one event bounced between a color pinned to\n"
      "                         core 0 and one pinned to core 1; T round trips = 2T events\n"
      "\n"
      "  --events N   events per repetition of the same-core rows; default 2000000\n"
      "  --trips T    round trips per repetition of the ping-pong; default 100000\n"
      "  --reps R     repetitions of each measurement; the median is reported; default 5\n"
      "  --csv FILE   also write the table's rows to FILE as CSV\n"
      "  --stats      print hue's per-core statistics after each hue workload\n"
      "  --asio-spin  run Asio's threads as busy poll() loops instead of run(), the\n"
      "               analogue of hue's idle spin (default: run(), Asio's usual way)\n"
      "  --help       this text\n"
      "\n"
      "The runtime's own settings come from the HUE_* environment variables (HUE_BATCH,\n"
      "HUE_IDLE_SPIN_US, HUE_PIN, ...), as for any hue program. Output ends with key=value\n"
      "lines (dispatch_*_ns, asio_*_ns, ratio_*) for scripts.\n",
      static_cast<unsigned long long>(chunk_events), static_cast<unsigned long long>(many_colors));
}

options parse(int argc, char** argv) {
  options o;
  cli c("dispatch", usage);
  c.count("--events", o.events, 1, 1'000'000'000'000ull);
  c.count("--trips", o.trips, 1, 1'000'000'000'000ull);
  c.count("--reps", o.reps, 1, 1000);
  c.text("--csv", o.csv);
  c.flag("--stats", o.stats);
  c.flag("--asio-spin", o.asio_spin);
  c.parse(argc, argv);
  return o;
}

struct row {
  row(std::string n, std::string hk, std::string ak, std::string rk)
      : name(std::move(n)),
        hue_key(std::move(hk)),
        asio_key(std::move(ak)),
        ratio_key(std::move(rk)) {}

  std::string name;     // table name, e.g. same_core_many_colors
  std::string hue_key;  // key=value names
  std::string asio_key;
  std::string ratio_key;
  std::vector<double> hue, asio;  // ns/event of each repetition
  std::vector<double> floor;      // cross-core row only: atomic_pingpong, ns per hop
};

using run_fn = std::function<double(std::uint64_t)>;

// Warms up each side once with `warm` units, then interleaves repetitions of `count` units:
// (floor,) hue, asio, (floor,) hue, asio, ...
void measure(row& r, unsigned reps, std::uint64_t count, std::uint64_t warm, const run_fn& hue_run,
             const run_fn& asio_run, const run_fn& floor_run = {}) {
  warm = std::min(count, warm);
  hue_run(warm);
  if (asio_run) asio_run(warm);
  for (unsigned i = 0; i < reps; ++i) {
    if (floor_run) r.floor.push_back(floor_run(count));
    r.hue.push_back(hue_run(count));
    if (asio_run) r.asio.push_back(asio_run(count));
  }
}

void print_table(const std::vector<row>& rows, const options& o) {
  std::printf(
      "\nns per event, median of %u [min..max]; %llu events per same-core repetition, "
      "%llu round trips per ping-pong; Asio threads %s\n\n",
      o.reps, static_cast<unsigned long long>(o.events), static_cast<unsigned long long>(o.trips),
      !have_asio    ? "not built (no Boost)"
      : o.asio_spin ? "busy-poll"
                    : "run()");
  auto cell = [](const std::vector<double>& v) -> std::string {
    if (v.empty()) return "n/a";
    return med_range(median(v), range_of(v, [](double x) { return x; }), 1);
  };
  text_table<row>()
      .column(24, "benchmark", "", [](const row& r) { return r.name; })
      .column(24, "hue ns/event", "", [&](const row& r) { return cell(r.hue); })
      .column(24, "asio ns/event", "", [&](const row& r) { return cell(r.asio); })
      .column(10, "hue/asio", "",
              [](const row& r) {
                return r.asio.empty() ? std::string("n/a")
                                      : fixed(median(r.hue) / median(r.asio), 2);
              })
      .print(rows);
  for (const row& r : rows)
    if (!r.floor.empty())
      std::printf(
          "\n%s floor (two spinning threads passing one cache line): %s ns per hop;\n"
          "hue's hop costs %.1fx the floor\n",
          r.name.c_str(), cell(r.floor).c_str(), median(r.hue) / median(r.floor));
}

void write_csv(const std::vector<row>& rows, std::ostream& out) {
  out << "benchmark,hue_ns_per_event,asio_ns_per_event,ratio_hue_over_asio,"
         "hue_min,hue_max,asio_min,asio_max,floor_ns_per_hop\n";
  for (const row& r : rows) {
    out << r.name << ',' << fixed(median(r.hue), 2) << ',';
    if (r.asio.empty()) {
      out << ",,";
    } else {
      out << fixed(median(r.asio), 2) << ',' << fixed(median(r.hue) / median(r.asio), 4) << ',';
    }
    out << fixed(*std::min_element(r.hue.begin(), r.hue.end()), 2) << ','
        << fixed(*std::max_element(r.hue.begin(), r.hue.end()), 2) << ',';
    if (!r.asio.empty())
      out << fixed(*std::min_element(r.asio.begin(), r.asio.end()), 2) << ','
          << fixed(*std::max_element(r.asio.begin(), r.asio.end()), 2);
    else
      out << ',';
    out << ',';
    if (!r.floor.empty()) out << fixed(median(r.floor), 2);
    out << '\n';
  }
}

void print_keys(const std::vector<row>& rows, const options& o) {
  std::printf("\n");
  std::printf("events=%llu\n", static_cast<unsigned long long>(o.events));
  std::printf("trips=%llu\n", static_cast<unsigned long long>(o.trips));
  std::printf("reps=%u\n", o.reps);
  std::printf("asio_available=%d\n", have_asio ? 1 : 0);
  if (have_asio) std::printf("asio_mode=%s\n", o.asio_spin ? "spin" : "run");
  for (const row& r : rows) std::printf("%s=%.2f\n", r.hue_key.c_str(), median(r.hue));
  for (const row& r : rows)
    if (!r.asio.empty()) std::printf("%s=%.2f\n", r.asio_key.c_str(), median(r.asio));
  for (const row& r : rows)
    if (!r.asio.empty())
      std::printf("%s=%.3f\n", r.ratio_key.c_str(), median(r.hue) / median(r.asio));
  for (const row& r : rows)
    if (!r.floor.empty()) {
      std::printf("floor_cross_core_ns=%.2f\n", median(r.floor));
      std::printf("ratio_cross_core_over_floor=%.3f\n", median(r.hue) / median(r.floor));
    }
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  allowed_cpus();  // the process's cpuset, read before any thread is pinned
  std::ofstream csv;
  open_csv(csv, o.csv);

  if (std::thread::hardware_concurrency() < 2)
    std::fprintf(stderr, "dispatch: fewer than 2 CPUs; cross_core_pingpong shares one core\n");

  std::vector<row> rows;
  auto say = [](const char* what) { std::fprintf(stderr, "dispatch: running %s...\n", what); };
  try {
    {
      say("same_core_same_color");
      row r("same_core_same_color", "dispatch_same_core_ns", "asio_same_core_ns",
            "ratio_same_core");
      hue_chunked h(1);
      run_fn asio_run;
#ifdef HUE_BENCH_ASIO
      asio_chunked a(1, o.asio_spin);
      asio_run = [&a](std::uint64_t n) { return a.run(n); };
#endif
      measure(
          r, o.reps, o.events, warmup_events, [&h](std::uint64_t n) { return h.run(n); }, asio_run);
      if (o.stats) std::cout << "hue stats, same_core_same_color:\n" << h.stats() << '\n';
      rows.push_back(std::move(r));
    }
    {
      say("same_core_many_colors");
      row r("same_core_many_colors", "dispatch_same_core_many_colors_ns",
            "asio_same_core_many_colors_ns", "ratio_same_core_many_colors");
      hue_chunked h(many_colors);
      run_fn asio_run;
#ifdef HUE_BENCH_ASIO
      asio_strands a(many_colors, o.asio_spin);
      asio_run = [&a](std::uint64_t n) { return a.run(n); };
#endif
      measure(
          r, o.reps, o.events, warmup_events, [&h](std::uint64_t n) { return h.run(n); }, asio_run);
      if (o.stats) std::cout << "hue stats, same_core_many_colors:\n" << h.stats() << '\n';
      rows.push_back(std::move(r));
    }
    {
      say("cross_core_pingpong");
      row r("cross_core_pingpong", "dispatch_cross_core_ns", "asio_cross_core_ns",
            "ratio_cross_core");
      hue_pingpong h;
      if (const std::string why = h.check_placement(); !why.empty())
        std::fprintf(stderr,
                     "dispatch: WARNING: hue did not keep the ping-pong colors on cores 0 and 1 "
                     "(%s); cross_core_pingpong does not measure a cross-core hop\n",
                     why.c_str());
      run_fn asio_run;
#ifdef HUE_BENCH_ASIO
      asio_pingpong a(o.asio_spin);
      asio_run = [&a](std::uint64_t n) { return a.run(n); };
#endif
      measure(
          r, o.reps, o.trips, warmup_trips, [&h](std::uint64_t n) { return h.run(n); }, asio_run,
          atomic_pingpong);
      if (o.stats) std::cout << "hue stats, cross_core_pingpong:\n" << h.stats() << '\n';
      rows.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    // E.g. a malformed HUE_* variable: the runtime constructor names it.
    std::fprintf(stderr, "dispatch: %s\n", e.what());
    return 1;
  }

  print_table(rows, o);
  if (csv.is_open()) write_csv(rows, csv);
  if (!close_csv(csv, o.csv)) return 1;
  print_keys(rows, o);
  return 0;
}
