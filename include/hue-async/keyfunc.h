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

// unref_t<T> and its macros name the plain, const-reference and reference forms of a type that
// may itself be a reference; libasync's own templates and programs' templates spell parameters
// `typename CREF (T)` with them.
template<class T> struct unref_t {
  typedef T base_type;
  typedef T unref_type;
  typedef const T &ref_type;
  typedef T &ncref_type;
};
template<class T> struct unref_t<const T> {
  typedef T base_type;
  typedef const T unref_type;
  typedef const T &ref_type;
  typedef T &ncref_type;
};
template<class T> struct unref_t<T &> : unref_t<T> {};
template<class T> struct unref_t<const T &> : unref_t<const T> {};
#define CREF(T) unref_t<T>::ref_type
#define UNREF(T) unref_t<T>::unref_type
#define UNCREF(T) unref_t<T>::base_type
#define NCREF(T) unref_t<T>::ncref_type

// Bernstein's string hash (h = 33h ^ c from 5381), as libasync had it, seed argument included:
// programs chain calls through the seed, and some keep hash values on disk, so the values are
// libasync's, not just any well-mixed function's.
#define HASHSEED 5381
inline hash_t
hash_bytes (const void *p, size_t n, u_int seed = HASHSEED)
{
  const u_char *k = static_cast<const u_char *> (p);
  for (const u_char *e = k + n; k < e; k++)
    seed = ((seed << 5) + seed) ^ *k;
  return seed;
}
inline hash_t
hash_string (const void *p, u_int seed = HASHSEED)
{
  for (const u_char *k = static_cast<const u_char *> (p); *k; k++)
    seed = 33 * seed ^ *k;
  return seed;
}
inline u_int
hash_rotate (u_int val, u_int rot)
{
  rot %= 8 * sizeof (val);
  return rot ? (val << rot) | (val >> (8 * sizeof (val) - rot)) : val;
}

// Integers and enums hash to themselves, and so does anything that converts to hash_t (a key
// class with `operator hash_t ()`), as in libasync.
template<class T> struct hashfn {
  hashfn () {}
  hash_t operator() (const T &t) const
    requires (std::is_convertible_v<const T &, hash_t> || std::is_enum_v<T>)
  { return hash_t (t); }
};
// Pointers hash to their address. libasync declared no hashfn or compare for pointers at all
// ("don't compare pointers by accident"); a table keyed by object identity is useful enough here
// to keep. Character pointers are the exception, below: they are strings.
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

// const keys use the plain key's functions.
template<class T> struct hashfn<const T> : hashfn<T> {};
template<class T> struct equals<const T> : equals<T> {};
template<class T> struct compare<const T> : compare<T> {};

// Character pointers as keys are C strings, compared and hashed by content (libasync's rule): a
// qhash<const char *, V> finds "x" whatever buffer the lookup's "x" sits in. Hazard: the table
// stores the pointer, so the characters must outlive the entry.
template<class C>
  requires (std::is_same_v<std::remove_const_t<C>, char>
            || std::is_same_v<std::remove_const_t<C>, signed char>
            || std::is_same_v<std::remove_const_t<C>, unsigned char>)
struct hashfn<C *> {
  hashfn () {}
  hash_t operator() (const C *p) const { return hash_string (p); }
};
template<class C>
  requires (std::is_same_v<std::remove_const_t<C>, char>
            || std::is_same_v<std::remove_const_t<C>, signed char>
            || std::is_same_v<std::remove_const_t<C>, unsigned char>)
struct equals<C *> {
  equals () {}
  bool operator() (const C *a, const C *b) const
  {
    return !strcmp (reinterpret_cast<const char *> (a), reinterpret_cast<const char *> (b));
  }
};
template<class C>
  requires (std::is_same_v<std::remove_const_t<C>, char>
            || std::is_same_v<std::remove_const_t<C>, signed char>
            || std::is_same_v<std::remove_const_t<C>, unsigned char>)
struct compare<C *> {
  compare () {}
  int operator() (const C *a, const C *b) const
  {
    return strcmp (reinterpret_cast<const char *> (a), reinterpret_cast<const char *> (b));
  }
};

// Two keys hashed together.
template<class T1, class T2> struct hash2fn {
  hashfn<T1> h1;
  hashfn<T2> h2;
  hash2fn () {}
  hash_t operator() (const T1 &a, const T2 &b) const { return h1 (a) ^ h2 (b); }
};

// A key function applied to member `key` of a V: itree and ihash order or hash records by one
// of their fields with these.
template<class R, class V, class K, K V::*key, class F>
class keyfunc_1 {
public:
  const F kf;
  keyfunc_1 () {}
  keyfunc_1 (const F &f) : kf (f) {}
  R operator() (const V &a) const { return kf (a.*key); }
};
template<class R, class V, class K, K V::*key, class F>
class keyfunc_2 {
public:
  const F kf;
  keyfunc_2 () {}
  keyfunc_2 (const F &f) : kf (f) {}
  R operator() (const V &a, const V &b) const { return kf (a.*key, b.*key); }
};

#endif
