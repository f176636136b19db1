// The README's example, built with the tree so it cannot rot.
#include <hue/hue.hpp>
#include <cstdio>

static constexpr hue::handler_info checksum{.name = "Checksum", .cost = 40'000, .penalty = 1};
static constexpr hue::color_t log_color = 1;  // a fixed color: the program's own constant

int main() {
  hue::runtime rt;                       // one pinned worker per core of this process
  unsigned long sums[64] = {};
  for (unsigned file = 0; file < 64; ++file) {        // 64 fresh colors: spread over all cores
    const hue::color_t color = rt.new_color();
    for (unsigned block = 0; block < 100; ++block)    // one color: serial, in this order
      rt.post(color, [&sums, file, block] { sums[file] = sums[file] * 31 + block; }, checksum);
  }
  unsigned long log_lines = 0;           // log_color owns log_lines: no lock needed
  for (int i = 0; i < 10; ++i) rt.post(log_color, [&log_lines] { ++log_lines; });

  rt.drain();                            // run everything (and what it posts), then stop
  std::printf("sums[3]=%lu log_lines=%lu\n", sums[3], log_lines);
}
