// A million distinct colors: all run, they run in parallel (no false serialization),
// and memory returns to its baseline afterwards (color-queues exist only while colors are live).
#include "support.hpp"

#include <hue/hue.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <thread>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Exported by the ASan and TSan runtimes; gcc ships no header declaring it.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#define HUE_TEST_SANITIZER_HEAP 1
#elif defined(HUE_TEST_TCMALLOC)
#include <gperftools/malloc_extension_c.h>
#else
#include <malloc.h>
#endif

namespace {

// Bytes currently allocated by the process, from whichever allocator is in charge.
std::uint64_t allocated_bytes() {
#if defined(HUE_TEST_SANITIZER_HEAP)
  return __sanitizer_get_current_allocated_bytes();
#elif defined(HUE_TEST_TCMALLOC)
  size_t v = 0;
  MallocExtension_GetNumericProperty("generic.current_allocated_bytes", &v);
  return v;
#else
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}

constexpr std::uint64_t million = 1'000'000;

TEST(ManyColors, a_million_distinct_colors_run_in_parallel_and_memory_returns_to_baseline) {
  hue::config cfg;
  cfg.workers = 2;
  hue::runtime rt(cfg);
  std::atomic<std::uint64_t> ran{0};

  // Warm-up: let thread caches and the block depot reach their steady size before the baseline.
  for (hue::color_t c = 0; c < 100'000; ++c) rt.post(c, [&] { ++ran; });
  ASSERT_TRUE(hue_test::eventually([&] { return ran.load() == 100'000; }));
  ran = 0;
  const std::uint64_t baseline = allocated_bytes();

  std::uint64_t peak = 0;
  for (hue::color_t c = 0; c < million; ++c) {
    rt.post(million + c, [&] {
      hue_test::busy(20);
      ran.fetch_add(1, std::memory_order_relaxed);
    });
    if (c % 65536 == 0) peak = std::max(peak, allocated_bytes());
  }
  ASSERT_TRUE(hue_test::eventually([&] { return ran.load() == million; }));
  // Memory goes back once the workers fall idle (the block pool is trimmed when a worker sleeps).
  constexpr std::uint64_t slack = 8u << 20;
  hue_test::eventually([&] { return allocated_bytes() < baseline + slack; },
                       std::chrono::seconds(10));
  const std::uint64_t after = allocated_bytes();

  // Distinct colors run side by side: two handlers of colors homed on different cores wait for
  // each other (bounded). The check used to be "two of the million were seen running at once";
  // those handlers last ~20 ns, and on a loaded machine (the ASan pass beside other tests) a run
  // saw no overlap without anything being serialized.
  std::atomic<int> arrived{0}, met{0};
  const auto rendezvous = [&] {
    arrived.fetch_add(1);
    if (hue_test::eventually([&] { return arrived.load() == 2; }, std::chrono::seconds(30)))
      met.fetch_add(1);
  };
  rt.post(rt.new_color_on(0), rendezvous);
  rt.post(rt.new_color_on(1), rendezvous);
  ASSERT_TRUE(hue_test::eventually([&] { return arrived.load() == 2; }));
  ASSERT_TRUE(hue_test::eventually([&] { return met.load() == 2; }));
  const auto s = rt.stats();
  // Spread by hash: each core's queues received a fair share. Where they ran is not checked: when
  // the host deschedules one worker (a loaded CI machine), the other rightly borrows its events,
  // and a share of runs failed this test for that reason alone (core 0 ran 4% at load 28).
  EXPECT_GT(s.cores[0].events_posted, million / 4);
  EXPECT_GT(s.cores[1].events_posted, million / 4);
  // Each live color holds an event block and a color-queue block (256 B); a leak of color-queues
  // would leave ~128 MB behind. Allow the bounded caches (thread caches + 2 MiB idle depot).
  EXPECT_LT(after, baseline + slack) << "baseline " << baseline << " after " << after
                                     << " peak seen " << peak;
}

}  // namespace
