// microbench/executors/executor.hpp — what a workload runs on. Each workload is written once, as a
// template on an executor, and runs on hue (every stealing configuration, executors/hue.hpp) and on
// the peers, Boost.Asio (executors/asio.hpp) and oneTBB (executors/tbb.hpp), in the same run.
//
//   Exec(const configuration&, const exec_params&)
//   color new_color()          a fresh color: its events run one at a time, in posting order
//   color color_on(unsigned w) the same, placed on worker w where the executor can place colors
//   post(color, f, info)       queues f on the color (info: hue's annotation; the peers ignore it)
//   post_fork(f)               queues a round's fork: on hue a color pinned to core 0
//   start(f)                   starts the threads and posts f as the first fork
//   here()                     the worker running the calling handler (0 .. workers-1)
//   stats()                    hue's statistics; empty for the peers
// Destruction joins the executor's threads: whatever holds one declares it last.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdio>
#include <hue/hue.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/cycles.hpp"
#include "core/runtime_impl.hpp"
#include "topology/topology.hpp"

namespace bench {

using hue::internal::cpu_relax;
using hue::internal::cycles_now;

// The TSC ticks f() took.
template <class F>
std::uint64_t timed(F&& f) {
  const std::uint64_t t0 = cycles_now();
  f();
  return cycles_now() - t0;
}

inline void spin(std::uint64_t cycles) noexcept {
  for (const std::uint64_t end = cycles_now() + cycles; cycles_now() < end;) cpu_relax();
}

// The machine as hue sees it, read once (before any thread is pinned: a pinned thread would see
// its own cpu only).
inline const hue::internal::topology& machine() {
  static const hue::internal::topology t;
  return t;
}

// One pinning rule for hue and the peers: hue's own (HUE_PIN, resolved as the runtime resolves
// it), and thread i on core i % cores, where hue puts worker i. A refused binding is said once;
// the thread then runs wherever the kernel puts it.
inline bool pinning() {
  static const bool pin = hue::internal::resolve({}, machine().cores()).pin;
  return pin;
}
inline void pin_thread(unsigned i) {
  if (!pinning() || machine().cores() == 0) return;
  static std::atomic<bool> said{false};
  if (const std::string why = machine().bind_current_thread(i % machine().cores());
      !why.empty() && !said.exchange(true))
    std::fprintf(stderr, "bench: a thread runs unpinned: %s\n", why.c_str());
}

enum class runtime_kind : std::uint8_t { hue, asio, tbb };

struct configuration {
  std::string key;    // key=value name, --only, benchmark name
  std::string label;  // table name
  std::string steal;  // hue::steal_config::parse text; "-" for the peers
  hue::cost_source costs = hue::cost_source::annotated;
  runtime_kind kind = runtime_kind::hue;
  bool new_strand_per_color = false;  // Asio: make_strand for every color, not a pool

  bool peer() const { return kind != runtime_kind::hue; }
};

// The stealing configurations of the paper's tables, then the peers.
inline std::vector<configuration> configurations(bool asio_make_strand_row = false) {
  using hue::cost_source;
  std::vector<configuration> v = {
      {"libasync_smp", "libasync-smp", "libasync-smp-off"},
      {"libasync_smp_ws", "libasync-smp + WS", "libasync-smp"},
      {"no_ws", "hue, no WS", "off"},
      {"base", "hue base WS", "base"},
      {"time_left", "hue time-left", "time-left"},
      {"penalty", "hue penalty", "penalty"},
      {"locality", "hue locality", "locality"},
      {"all", "hue all heuristics", "all"},
      {"all_measured", "hue all, measured costs", "all", cost_source::measured},
  };
#ifdef HUE_BENCH_ASIO
  v.push_back({"asio", "Boost.Asio", "-", {}, runtime_kind::asio});
  if (asio_make_strand_row)
    v.push_back({"asio_make_strand", "Asio, make_strand/event", "-", {}, runtime_kind::asio, true});
#endif
#ifdef HUE_BENCH_TBB
  v.push_back({"tbb", "oneTBB", "-", {}, runtime_kind::tbb});
#endif
  (void)asio_make_strand_row;
  return v;
}

struct exec_params {
  unsigned workers = 2;
  std::string topology;              // hue::config::topology ("" = this machine)
  std::size_t colors_per_round = 1;  // Asio: strands made once per run and handed out in turn
  bool context_per_worker = false;   // Asio: an io_context per thread, so color_on() places
  bool spin = false;                 // Asio: threads busy-poll instead of sleeping in run()
};

template <class E>
concept executor = requires(E& e, typename E::color c, void (*f)(), const hue::handler_info& i) {
  { e.new_color() } -> std::same_as<typename E::color>;
  { e.color_on(0u) } -> std::same_as<typename E::color>;
  e.post(c, f, i);
  e.post_fork(f);
  e.start(f);
  { E::here() } -> std::convertible_to<unsigned>;
  { e.stats() } -> std::same_as<hue::runtime_stats>;
};

// Fork/join rounds, the shape of unbalanced, penalty and cache_efficient: a fork posts a round of
// `units` chains of events; the last chain to finish (the countdown) is the join, which posts the
// next fork, until the timed window is over. Rounds are strictly sequential, so the fork and the
// join touch the window's state without locks; the main thread reads it after `finished_`
// (acquire). Per-worker handler cycles and "away" events (run on another worker than the one
// holding their data) are kept per kind on one cache line per worker (one writer each).
// Declare it last in a workload: its executor's threads are joined before the rest goes.
template <executor Exec, unsigned Kinds>
class fork_join_rounds {
 public:
  struct totals {  // per kind of handler: cycles spent, events run, events run away
    std::uint64_t v[3][Kinds] = {};
    std::uint64_t cycles(unsigned k) const { return v[0][k]; }
    std::uint64_t events(unsigned k) const { return v[1][k]; }
    std::uint64_t away(unsigned k) const { return v[2][k]; }
  };
  struct sample {  // one repetition's window
    double seconds = 0;
    std::uint64_t cycles = 0, rounds = 0;
    hue::core_stats delta;  // hue's counters over the window (peers: zeros)
    totals handlers;
  };

  fork_join_rounds(const configuration& c, const exec_params& p, unsigned warmup_rounds)
      : lines_(new line[p.workers]), workers_(p.workers), warmup_(warmup_rounds), exec_(c, p) {}

  Exec& exec() { return exec_; }
  unsigned fork_worker() const { return fork_worker_; }

  void account(unsigned kind, std::uint64_t cycles, bool away) noexcept {
    const unsigned w = Exec::here();
    if (w >= workers_) return;
    auto bump = [](std::atomic<std::uint64_t>& a, std::uint64_t n) {
      a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    };
    bump(lines_[w].t[0][kind], cycles);
    bump(lines_[w].t[1][kind], 1);
    if (away) bump(lines_[w].t[2][kind], 1);
  }

  // Main thread: runs the rounds. A hang (no round completed for `stall` seconds) ends the
  // process with status 1: a hung runtime's threads cannot be joined.
  template <class Fork>
  sample run(Fork fork, double seconds, double stall) {
    exec_.start(std::move(fork));
    using clock = std::chrono::steady_clock;
    std::uint64_t seen = ~0ull;
    auto moved = clock::now(), stop_at = clock::time_point::max();
    while (!finished_.load(std::memory_order_acquire)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (const std::uint64_t r = round_.load(std::memory_order_relaxed); r != seen)
        seen = r, moved = clock::now();
      if (clock::now() - moved > std::chrono::duration<double>(stall)) {
        std::fprintf(stderr, "bench: HANG: no round completed for %.0f s\n", stall);
        std::fflush(nullptr);
        std::_Exit(1);
      }
      if (stop_at == clock::time_point::max() && started_.load(std::memory_order_acquire))
        stop_at = clock::now() + std::chrono::duration_cast<clock::duration>(
                                     std::chrono::duration<double>(seconds));
      if (clock::now() > stop_at) stop_.store(true, std::memory_order_relaxed);
    }
    sample out{std::chrono::duration<double>(end_t_ - start_t_).count(),
               end_c_ - start_c_,
               timed_rounds_,
               end_s_.total() - start_s_.total(),
               {}};
    for (int f = 0; f < 3; ++f)
      for (unsigned k = 0; k < Kinds; ++k) out.handlers.v[f][k] = end_h_.v[f][k] - start_h_.v[f][k];
    return out;
  }

  // The fork, before its first post: opens the window after the warm-up, arms the countdown.
  void begin_round(std::uint64_t units) {
    if (round_.load(std::memory_order_relaxed) == warmup_) {
      start_s_ = exec_.stats(), start_h_ = read(), start_c_ = cycles_now();
      start_t_ = std::chrono::steady_clock::now();
      started_.store(true, std::memory_order_release);
    }
    fork_worker_ = Exec::here();
    remaining_.store(units, std::memory_order_relaxed);
  }
  // A chain is done; true for the last of the round (acq_rel: it sees the others' writes).
  bool unit_done() { return remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1; }
  template <class Fork>
  void end_round(Fork fork) {
    const std::uint64_t r = round_.load(std::memory_order_relaxed);
    if (r >= warmup_) ++timed_rounds_;
    round_.store(r + 1, std::memory_order_relaxed);
    if (r >= warmup_ && stop_.load(std::memory_order_relaxed)) {
      end_c_ = cycles_now(), end_t_ = std::chrono::steady_clock::now();
      end_s_ = exec_.stats(), end_h_ = read();
      finished_.store(true, std::memory_order_release);
      return;
    }
    exec_.post_fork(std::move(fork));
  }

 private:
  struct alignas(64) line {
    std::atomic<std::uint64_t> t[3][Kinds] = {};
  };
  totals read() const {
    totals s;
    for (unsigned w = 0; w < workers_; ++w)
      for (int f = 0; f < 3; ++f)
        for (unsigned k = 0; k < Kinds; ++k)
          s.v[f][k] += lines_[w].t[f][k].load(std::memory_order_relaxed);
    return s;
  }
  std::unique_ptr<line[]> lines_;
  const unsigned workers_;
  const std::uint64_t warmup_;
  std::atomic<std::uint64_t> round_{0}, remaining_{0};
  std::uint64_t timed_rounds_ = 0, start_c_ = 0, end_c_ = 0;
  unsigned fork_worker_ = 0;
  std::chrono::steady_clock::time_point start_t_, end_t_;
  hue::runtime_stats start_s_, end_s_;
  totals start_h_, end_h_;
  std::atomic<bool> started_{false}, stop_{false}, finished_{false};
  Exec exec_;  // last: its threads are joined before the rest goes
};

}  // namespace bench
