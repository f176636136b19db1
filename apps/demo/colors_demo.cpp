// hue-demo — colors and parallelism at work.
//
// Posts the same CPU-bound jobs twice: once with one color per job (they spread over the workers
// and run in parallel), once all on one color (they run one at a time, in posting order). It
// watches how many handlers of each color run at once, prints the timings and the per-core stats.
#include "command_line.hpp"

#include <hue/hue.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// ~`ms` milliseconds of integer hashing: stands in for a handler's real work.
std::uint64_t burn(int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  std::uint64_t h = 1469598103934665603ull;
  while (std::chrono::steady_clock::now() < until)
    for (int i = 0; i < 1000; ++i) h = (h ^ static_cast<std::uint64_t>(i)) * 1099511628211ull;
  return h;
}

constexpr hue::handler_info job_info{.name = "Job", .cost = 100'000'000};

struct round_result {
  double wall_ms;
  int max_same_color_overlap;
  std::string order;
};

round_result run_round(hue::runtime& rt, int jobs, int ms, bool one_color) {
  std::vector<std::atomic<int>> inside(static_cast<std::size_t>(jobs));
  std::atomic<int> worst{0};
  std::mutex order_mu;
  std::string order;
  std::atomic<std::uint64_t> sink{0};
  std::atomic<int> left{jobs};

  // Fresh colors: a job's color is its own, shared with nothing else the runtime runs.
  std::vector<hue::color_t> colors(one_color ? 1 : static_cast<std::size_t>(jobs));
  for (hue::color_t& c : colors) c = rt.new_color();
  const auto start = std::chrono::steady_clock::now();
  for (int j = 0; j < jobs; ++j) {
    const std::size_t k = one_color ? 0 : static_cast<std::size_t>(j);
    rt.post(colors[k], [&, j, k] {
      auto& in = inside[k];  // handlers of this color running right now
      const int now = in.fetch_add(1) + 1;
      int w = worst.load();
      while (now > w && !worst.compare_exchange_weak(w, now)) {}
      sink += burn(ms);
      {
        std::lock_guard l(order_mu);
        order += std::to_string(j) + " ";
      }
      in.fetch_sub(1);
      left.fetch_sub(1);
    }, job_info);
  }
  while (left.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::chrono::duration<double, std::milli> wall = std::chrono::steady_clock::now() - start;
  return {wall.count(), worst.load(), order};
}

}  // namespace

int main(int argc, char** argv) {
  hue::config cfg;
  unsigned jobs = 8, ms = 40;
  CLI::App app{"Colors and parallelism at work: the same CPU-bound jobs, one color per job and\n"
               "then all on one color.",
               "hue-demo"};
  hue_apps::init(app);
  // Bounded so that a typo cannot keep the demo busy for hours.
  hue_apps::add_number(app, "--jobs", jobs, "jobs per round")->check(CLI::Range(1, 10'000));
  hue_apps::add_number(app, "--ms", ms, "milliseconds of work per job")->check(CLI::Range(0, 10'000));
  hue_apps::add_runtime_options(app, cfg);
  if (const auto code = hue_apps::parse(app, argc, argv)) return *code;

  hue::runtime rt(cfg);
  std::printf("hue demo: %u workers, %u jobs of ~%u ms each\n\n", rt.workers(), jobs, ms);

  const round_result many = run_round(rt, static_cast<int>(jobs), static_cast<int>(ms), false);
  const round_result one = run_round(rt, static_cast<int>(jobs), static_cast<int>(ms), true);

  std::printf("one color per job : %7.1f ms wall, speed-up x%.2f over one color\n", many.wall_ms,
              one.wall_ms / many.wall_ms);
  std::printf("                    completion order (any): %s\n", many.order.c_str());
  std::printf("all on one color  : %7.1f ms wall (serial, as the color requires)\n", one.wall_ms);
  std::printf("                    completion order (posting order): %s\n", one.order.c_str());
  std::printf("most handlers of one color ever running at once: %d\n\n",
              std::max(many.max_same_color_overlap, one.max_same_color_overlap));

  rt.drain();
  std::cout << rt.stats();
  return 0;
}
