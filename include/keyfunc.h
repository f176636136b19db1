// keyfunc.h — libasync's key functions for its hash tables: hash_t, hashfn<K>, equals<K>,
// compare<K>. qhash<K, V> and ihash<...> find a key's bucket with hashfn<K> and confirm it with
// equals<K>; str.h specialises both for str, this file for the integer types and pointers.
//
//   template<> struct hashfn<myid> { hash_t operator() (const myid &k) const { return k.n; } };
#ifndef _KEYFUNC_H_
#define _KEYFUNC_H_ 1

#include "sysconf.h"

#include <string_view>
#include <type_traits>

typedef u_int hash_t;

// Bytes to a hash: the standard library's string hash, folded to hash_t (libasync used its own
// FNV variant; any well-mixed function will do, and nothing may depend on the values).
inline hash_t
hash_bytes (const void *p, size_t n)
{
  size_t h = std::hash<std::string_view> {} (std::string_view (static_cast<const char *> (p), n));
  return hash_t (h ^ (h >> 32));
}
inline hash_t
hash_string (const char *s)
{
  return hash_bytes (s, strlen (s));
}

// Integers and enums hash to themselves, pointers to their address: what libasync did.
template<class T> struct hashfn {
  hashfn () {}
  hash_t operator() (const T &t) const
    requires (std::is_integral_v<T> || std::is_enum_v<T>)
  { return hash_t (t); }
};
template<class T> struct hashfn<T *> {
  hashfn () {}
  hash_t operator() (T *p) const { return hash_t (reinterpret_cast<uintptr_t> (p)); }
};

template<class T> struct equals {
  equals () {}
  bool operator() (const T &a, const T &b) const { return a == b; }
};

template<class T> struct compare {
  compare () {}
  int operator() (const T &a, const T &b) const { return a < b ? -1 : b < a ? 1 : 0; }
};

#endif
