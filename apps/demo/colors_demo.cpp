// hue-demo — colors and parallelism at work.
//
// Posts the same CPU-bound jobs twice: once with one color per job (they spread over the workers
// and run in parallel), once all on one color (they run one at a time, in posting order). It
// watches how many handlers of each color run at once, prints the timings and the per-core stats.
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

  const auto start = std::chrono::steady_clock::now();
  for (int j = 0; j < jobs; ++j) {
    const hue::color_t color = one_color ? 1000 : 1000 + static_cast<hue::color_t>(j);
    rt.post(color, [&, j, color] {
      auto& in = inside[color - 1000];
      const int now = in.fetch_add(1) + 1;  // handlers of this color running right now
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

int main() {
  hue::runtime rt;
  const int jobs = 8, ms = 40;
  std::printf("hue demo: %u workers, %d jobs of ~%d ms each\n\n", rt.workers(), jobs, ms);

  const round_result many = run_round(rt, jobs, ms, false);
  const round_result one = run_round(rt, jobs, ms, true);

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
