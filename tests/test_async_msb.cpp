// msb.h: libasync's bit scans, against a bit-by-bit count over edge values of every width, and
// the byte tables against the functions.
#include "msb.h"

#include <gtest/gtest.h>

#include <vector>

namespace {

u_int
slow_fls (u_int64_t v)
{
  u_int n = 0;
  for (; v; v >>= 1)
    n++;
  return n;
}

u_int
slow_ffs (u_int64_t v)
{
  if (!v)
    return 0;
  u_int n = 1;
  for (; !(v & 1); v >>= 1)
    n++;
  return n;
}

std::vector<u_int64_t>
edge_values ()
{
  std::vector<u_int64_t> vs = {0, 1, 2, 3, 0x50, 0xff, 0x100, 0xffffffffull, 0x100000000ull,
                               ~0ull};
  for (int b = 0; b < 64; b++) {
    vs.push_back (1ull << b);
    vs.push_back ((1ull << b) - 1);
    vs.push_back ((1ull << b) + 1);
    vs.push_back (~0ull << b);
  }
  return vs;
}

TEST (async_msb, fls_ffs_log2c_match_a_bit_by_bit_count)
{
  for (u_int64_t v : edge_values ()) {
    EXPECT_EQ (fls64 (v), slow_fls (v)) << v;
    EXPECT_EQ (ffs64 (v), slow_ffs (v)) << v;
    EXPECT_EQ (log2c64 (v), v ? int (slow_fls (v - 1)) : -1) << v;
    u_int32_t w = u_int32_t (v);
    EXPECT_EQ (fls32 (w), slow_fls (w)) << w;
    EXPECT_EQ (ffs32 (w), slow_ffs (w)) << w;
    EXPECT_EQ (log2c32 (w), w ? int (slow_fls (w - 1)) : -1) << w;
  }
}

TEST (async_msb, generic_forms_pick_the_width_of_the_argument)
{
  static_assert (fls (0x50u) == 7 && ffs (0x50u) == 5 && log2c (17u) == 5);
  EXPECT_EQ (fls (-1), 32u);    // an int's bit pattern, at an int's width
  EXPECT_EQ (fls (-1L), 64u);
  EXPECT_EQ (fls (u_int64_t (1) << 40), 41u);
  EXPECT_EQ (ffs (u_int64_t (1) << 40), 41u);
  EXPECT_EQ (ffs (u_int64_t (6)), 2u);  // the lowest bit; libasync's ffs64 answered 3 here
  EXPECT_EQ (ffs (8), 4);                // an int: glibc's ffs, the same answer
  EXPECT_EQ (log2c (1), 0);
  EXPECT_EQ (log2c (0), -1);
  EXPECT_EQ (log2c (u_int64_t (1) << 40), 40);
}

TEST (async_msb, byte_tables_agree_with_the_functions)
{
  for (u_int b = 0; b < 0x100; b++) {
    EXPECT_EQ (u_int (bytemsb[b]), fls32 (b)) << b;
    EXPECT_EQ (u_int (bytelsb[b]), ffs32 (b)) << b;
  }
}

}  // namespace
