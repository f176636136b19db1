// msb.h — libasync's bit scans: the most and least significant set bit of an integer.
//
//   fls (0x50u) == 7        // "find last set": 1-based position of the highest 1 bit, 0 for 0
//   ffs (0x50u) == 5        // "find first set": 1-based position of the lowest 1 bit, 0 for 0
//   log2c (17u) == 5        // ceiling of log2; log2c (1) == 0, log2c (0) == -1
//
// fls32/fls64, ffs32/ffs64 and log2c32/log2c64 take the width explicitly; fls, ffs and log2c
// pick it from the argument's size, as libasync's macros did. Here they are templates instead of
// macros, so they do not rewrite every later `ffs` token (glibc's <strings.h> declares
// `int ffs (int)`; for an int argument overload resolution picks glibc's, which gives the same
// answer). A negative argument is read as its bit pattern at its own width.
//
// One deliberate difference: libasync's ffs64 answered with the *highest* set bit of the low word
// (it called fls32 there); this one answers what its name says for all 64 bits.
//
// bytemsb[b] and bytelsb[b] are libasync's byte tables (fls and ffs of one byte), kept for
// programs that index them directly.
#ifndef _MSB_H_
#define _MSB_H_ 1

#include "sysconf.h"

#include <type_traits>

extern "C" const char bytemsb[];
extern "C" const char bytelsb[];

constexpr u_int
fls32 (u_int32_t v)
{
  return v ? 32 - __builtin_clz (v) : 0;
}
constexpr u_int
fls64 (u_int64_t v)
{
  return v ? 64 - __builtin_clzll (v) : 0;
}
constexpr int
log2c32 (u_int32_t v)
{
  return v ? int (fls32 (v - 1)) : -1;
}
constexpr int
log2c64 (u_int64_t v)
{
  return v ? int (fls64 (v - 1)) : -1;
}
constexpr u_int
ffs32 (u_int32_t v)
{
  return v ? __builtin_ctz (v) + 1 : 0;
}
constexpr u_int
ffs64 (u_int64_t v)
{
  return v ? __builtin_ctzll (v) + 1 : 0;
}

// The width-generic forms. The cast goes through the unsigned type of the argument's own width,
// so fls (-1) is 32 for an int and 64 for a long, as the macros gave.
template<class T>
constexpr u_int
fls (T v)
{
  static_assert (std::is_integral_v<T>, "fls: an integer");
  if constexpr (sizeof (T) > 4)
    return fls64 (u_int64_t (std::make_unsigned_t<T> (v)));
  else
    return fls32 (u_int32_t (std::make_unsigned_t<T> (v)));
}
template<class T>
constexpr int
log2c (T v)
{
  static_assert (std::is_integral_v<T>, "log2c: an integer");
  if constexpr (sizeof (T) > 4)
    return log2c64 (u_int64_t (std::make_unsigned_t<T> (v)));
  else
    return log2c32 (u_int32_t (std::make_unsigned_t<T> (v)));
}
template<class T>
constexpr u_int
ffs (T v)
{
  static_assert (std::is_integral_v<T>, "ffs: an integer");
  if constexpr (sizeof (T) > 4)
    return ffs64 (u_int64_t (std::make_unsigned_t<T> (v)));
  else
    return ffs32 (u_int32_t (std::make_unsigned_t<T> (v)));
}

#endif
