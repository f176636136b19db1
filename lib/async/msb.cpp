// libasync's byte tables for msb.h, computed from the same functions the header gives, so the two
// cannot disagree.
#include "msb.h"

#include <array>

namespace {
template<u_int (*F) (u_int32_t)>
constexpr std::array<char, 0x100>
byte_table ()
{
  std::array<char, 0x100> t {};
  for (u_int b = 0; b < 0x100; b++)
    t[b] = char (F (b));
  return t;
}
constexpr auto msb_table = byte_table<fls32> ();
constexpr auto lsb_table = byte_table<ffs32> ();
}  // namespace

// Arrays of unknown bound in the header, so they are defined here as plain arrays with the
// computed contents.
extern "C" {
const char bytemsb[0x100] = {
#define B(i) msb_table[i]
#define B8(i) B (i), B (i + 1), B (i + 2), B (i + 3), B (i + 4), B (i + 5), B (i + 6), B (i + 7)
#define B64(i) B8 (i), B8 (i + 8), B8 (i + 16), B8 (i + 24), B8 (i + 32), B8 (i + 40), B8 (i + 48), \
                 B8 (i + 56)
  B64 (0), B64 (64), B64 (128), B64 (192)};
#undef B
#define B(i) lsb_table[i]
const char bytelsb[0x100] = {B64 (0), B64 (64), B64 (128), B64 (192)};
#undef B
#undef B8
#undef B64
}
