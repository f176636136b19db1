// The two absolute guarantees of a color, under stress: handlers of one color never
// overlap, and one producer's events of one color run in the order posted.
#include "support.hpp"

#include <hue/hue.hpp>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace {

using hue_test::busy;
using hue_test::eventually;

using hue_test::workers;

// Many threads, hundreds of colors, ~10^6 events; handlers post follow-ups to other colors so
// events also cross cores from inside the runtime. Each handler marks its color busy and checks
// nobody else holds it.
void overlap_stress(unsigned n_workers) {
  constexpr unsigned colors = 307;        // prime: producers' strides cover all colors
  constexpr unsigned producers = 4;
  constexpr unsigned per_producer = 200'000;
  constexpr unsigned followups = 1;        // each producer event posts one more, elsewhere
  std::vector<std::atomic<int>> inside(colors);
  std::atomic<std::uint64_t> overlaps{0}, ran{0};

  hue::runtime rt(workers(n_workers));
  auto post = [&](unsigned color, unsigned hops) {
    rt.post(color, [&, color, hops] {
      if (inside[color].fetch_add(1, std::memory_order_acq_rel) != 0) overlaps.fetch_add(1);
      busy(50);
      if (hops) {
        const unsigned next = (color * 7 + 3) % colors;
        rt.post(next, [&, next] {
          if (inside[next].fetch_add(1, std::memory_order_acq_rel) != 0) overlaps.fetch_add(1);
          busy(50);
          inside[next].fetch_sub(1, std::memory_order_acq_rel);
          ran.fetch_add(1, std::memory_order_relaxed);
        });
      }
      inside[color].fetch_sub(1, std::memory_order_acq_rel);
      ran.fetch_add(1, std::memory_order_relaxed);
    });
  };

  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      for (unsigned i = 0; i < per_producer; ++i) post((p * 31 + i * 13) % colors, followups);
    });
  for (auto& t : threads) t.join();
  rt.drain();

  EXPECT_EQ(overlaps.load(), 0u);
  EXPECT_EQ(ran.load(), std::uint64_t{producers} * per_producer * (1 + followups));
  EXPECT_EQ(rt.stats().total().events_run, ran.load());
}

TEST(ColorInvariants, same_color_never_overlaps_on_two_workers) { overlap_stress(2); }
TEST(ColorInvariants, same_color_never_overlaps_with_more_workers_than_cores) { overlap_stress(6); }

// Plain (non-atomic) per-color state written by handlers: correct only if handlers of one color
// are serialized *and* each sees the previous one's writes. ThreadSanitizer flags any breach.
TEST(ColorInvariants, one_producer_events_of_a_color_run_in_posting_order) {
  constexpr unsigned colors = 64, events = 200'000;
  std::vector<std::uint64_t> next_seq(colors, 0);
  std::atomic<std::uint64_t> out_of_order{0}, ran{0};
  hue::runtime rt(workers(4));
  std::vector<std::uint64_t> posted(colors, 0);
  for (unsigned i = 0; i < events; ++i) {
    const unsigned c = (i * 2654435761u) % colors;
    const std::uint64_t seq = posted[c]++;
    rt.post(c, [&, c, seq] {
      if (next_seq[c] != seq) out_of_order.fetch_add(1);
      next_seq[c] = seq + 1;
      ran.fetch_add(1, std::memory_order_relaxed);
    });
  }
  rt.drain();
  EXPECT_EQ(out_of_order.load(), 0u);
  EXPECT_EQ(ran.load(), events);
  EXPECT_EQ(next_seq, posted);
}

// Several producers post to the same colors at once: the interleaving between producers is free,
// but each producer's own events of a color must keep their order.
TEST(ColorInvariants, concurrent_producers_each_keep_their_order_per_color) {
  constexpr unsigned colors = 8, producers = 4, events = 100'000;
  std::vector<std::array<std::uint64_t, producers>> last(colors);  // handler-private per color
  for (auto& l : last) l.fill(0);
  std::atomic<std::uint64_t> out_of_order{0}, ran{0};
  hue::runtime rt(workers(4));
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      for (unsigned i = 1; i <= events; ++i) {
        const unsigned c = i % colors;
        rt.post(c, [&, c, p, i] {
          if (last[c][p] >= i) out_of_order.fetch_add(1);
          last[c][p] = i;
          ran.fetch_add(1, std::memory_order_relaxed);
        });
      }
    });
  for (auto& t : threads) t.join();
  rt.drain();
  EXPECT_EQ(out_of_order.load(), 0u);
  EXPECT_EQ(ran.load(), std::uint64_t{producers} * events);
}

// Order also holds for chains built inside the runtime: a handler of color A posting to color B
// in a loop (cross-core posts from a worker).
TEST(ColorInvariants, posts_from_handlers_keep_order_across_cores) {
  constexpr unsigned colors = 32, per_color = 5'000;
  std::vector<unsigned> next(colors, 0);
  std::atomic<std::uint64_t> out_of_order{0};
  hue::runtime rt(workers(4));
  for (unsigned src = 0; src < 4; ++src)
    rt.post(1000 + src, [&, src] {
      for (unsigned i = 0; i < per_color; ++i)
        for (unsigned c = src; c < colors; c += 4)
          rt.post(c, [&, c, i] {
            if (next[c] != i) out_of_order.fetch_add(1);
            next[c] = i + 1;
          });
    });
  rt.drain();
  EXPECT_EQ(out_of_order.load(), 0u);
  for (unsigned c = 0; c < colors; ++c) EXPECT_EQ(next[c], per_color) << "color " << c;
}

}  // namespace
