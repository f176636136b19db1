// parseopt.h — libasync's number parsing for command lines and config files: convertint.
//
//   int port;
//   if (!convertint (argv[2], &port) || port <= 0 || port > 65535)
//     fatal << "bad port: " << argv[2] << "\n";
//   u_int64_t size;  convertint (str ("0x10"), &size);     // base 0: 0x.. hex, 0.. octal
//
// convertint accepts the whole string or nothing: false on an empty string, trailing junk,
// leading space, or a value that does not fit T (libasync silently truncated to T; hue reports
// it, since a port of 70000 becoming 4464 is never what a program meant). *res is untouched on
// failure.
#ifndef _ASYNC_PARSEOPT_
#define _ASYNC_PARSEOPT_ 1

#include "amisc.h"  // libasync's parseopt.h pulled these four in, and programs lean on that
#include "ihash.h"
#include "str.h"
#include "vec.h"

#include <limits>
#include <type_traits>

// strtoll with libasync's name; sets errno = ERANGE on overflow like strtoll.
int64_t strtoi64 (const char *nptr, char **endptr = nullptr, int base = 0);

template<class T>
inline bool
convertint (const char *cp, T *resp, int base = 0)
{
  static_assert (std::is_integral_v<T> && sizeof (T) <= 8, "convertint converts to integer types");
  if (!cp || !*cp || isspace (static_cast<u_char> (*cp)))
    return false;
  char *end;
  int saved = errno;
  errno = 0;
  bool neg = *cp == '-';
  bool ok;
  T res;
  if (std::is_unsigned_v<T>) {
    unsigned long long v = strtoull (cp, &end, base);
    ok = !neg && errno != ERANGE && v <= std::numeric_limits<T>::max ();
    res = T (v);
  } else {
    long long v = strtoll (cp, &end, base);
    ok = errno != ERANGE && v >= (long long) std::numeric_limits<T>::min ()
         && v <= (long long) std::numeric_limits<T>::max ();
    res = T (v);
  }
  errno = saved;
  if (!ok || *end || end == cp)
    return false;
  *resp = res;
  return true;
}

template<class T>
inline bool
convertint (const str &s, T *resp, int base = 0)
{
  // A str with an embedded '\0' is not a number.
  if (!s || strlen (s.cstr ()) != s.len ())
    return false;
  return convertint (s.cstr (), resp, base);
}

void mytolower (char *dest, const char *src);
str mytolower (const str &in);

#endif
