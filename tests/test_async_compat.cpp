// Where the libasync layer must look like libasync to a program's *compiler*, not only behave
// like it: the include-guard macros programs test, conversions that libasync left implicit,
// and what each header pulls in. Each test names the regression it pins; most of the checking
// is that this file (and tests/async_shapes/) compiles at all.
#include "callback.h"
#include "async_shapes/guarded_list.h"  // after callback.h: its traverse () needs the guard

#include "aiod.h"
#include "aios.h"
#include "amisc.h"
#include "async.h"
#include "backoff.h"
#include "err.h"
#include "ihash.h"
#include "itree.h"
#include "keyfunc.h"
#include "msb.h"
#include "parseopt.h"
#include "qhash.h"
#include "rctree.h"
#include "refcnt.h"
#include "rwfd.h"
#include "rxx.h"
#include "serial.h"
#include "str.h"
#include "suio++.h"
#include "sysconf.h"
#include "vec.h"

#include <gtest/gtest.h>

// Regression: the headers had guards of hue's own naming, so `#ifdef _CALLBACK_H_INCLUDED_`
// in a program was false after including callback.h. Each name is the original header's.
#if !defined(_ASYNC_AIOS_H_) || !defined(_ASYNC_AMISC_H_) || !defined(_ASYNC_ASYNC_H_)      \
    || !defined(_BACKOFF_H_) || !defined(_CALLBACK_H_INCLUDED_)                             \
    || !defined(_CALLBACK1_H_INCLUDED_) || !defined(_ASYNC_ERR_H_) || !defined(_IHASH_H_)   \
    || !defined(_ITREE_H_) || !defined(_KEYFUNC_H_) || !defined(_MSB_H_)                   \
    || !defined(_ASYNC_PARSEOPT_) || !defined(_ASYNC_RWFD_H_)                              \
    || !defined(_QHASH_H_) || !defined(_REFCNT_H_INCLUDED_) || !defined(_RXX_H_)            \
    || !defined(_ASYNC_SERIAL_H_) || !defined(_ASYNC_STR_H_) || !defined(_ASYNC_SUIOXX_H_)  \
    || !defined(_ASYNC_SYSCONF_H_) || !defined(_VECTOR_H_INCLUDED_)                         \
    || !defined(_ASYNC_AIOD_H_) || !defined(_ASYNC_RCTREE_H_INCLUDED_)
#error a compatibility header does not define its libasync include guard
#endif

// Defined in tests/async_shapes/pullin_*.C, each of which includes one header only.
extern ssize_t (*const pullin_amisc_readfd) (int, void *, size_t, int *);
size_t pullin_ihash_vec ();
size_t pullin_parseopt_all ();
int pullin_suio_wrap_and_vec ();

namespace {

void
collect (vec<int> *out, int v)
{
  out->push_back (v);
}

TEST (async_compat, method_compiled_under_the_callback_guard_exists)
{
  static_assert (requires (const guarded_list<int> &l, callback<void, int>::ref cb) {
    l.traverse (cb);
  });
  guarded_list<int> l;
  l.insert (3);
  l.insert (1);
  l.insert (2);
  vec<int> seen;
  l.traverse (wrap (collect, &seen));
  ASSERT_EQ (seen.size (), 3u);
  EXPECT_EQ (seen[0], 1);
  EXPECT_EQ (seen[1], 2);
  EXPECT_EQ (seen[2], 3);
}

// Regression: rxx's constructors were explicit, so split (&out, "/", path) did not compile.
TEST (async_compat, split_takes_a_string_literal_pattern)
{
  str path ("usr/local/lib");
  vec<str> parts;
  EXPECT_EQ (split (&parts, "/", path), 3);
  ASSERT_EQ (parts.size (), 3u);
  EXPECT_EQ (parts[0], "usr");
  EXPECT_EQ (parts[2], "lib");
  vec<str> more;
  str sep (",\\s*");
  EXPECT_EQ (split (&more, sep, "a, b,c"), 3);  // from a str too
}

TEST (async_compat, str_slash_pattern_searches_once)
{
  str s ("Hello, World");
  EXPECT_TRUE (s / "W.r");
  EXPECT_FALSE (s / "w.r");
  EXPECT_TRUE (s / "w.r" / "i");
  str word = s / "[A-Z][a-z]+";
  EXPECT_EQ (word, "Hello");
  EXPECT_EQ ((s / "(\\w+), (\\w+)")[2], "World");
}

TEST (async_compat, rrxx_from_a_compiled_rxx_and_study)
{
  rxx digits ("[0-9]+");
  EXPECT_FALSE (digits.study ());  // no error: PCRE2 has no separate study step
  rrxx r (digits);
  EXPECT_FALSE (r.geterr ());
  EXPECT_TRUE (r.search ("ab12"));
  EXPECT_EQ (r[0], "12");
}

// qhash's iterators convert from the table implicitly, as libasync's did.
TEST (async_compat, qhash_iterators_built_by_copy_initialisation)
{
  qhash<str, int> q;
  q.insert ("a", 1);
  q.insert ("b", 2);
  qhash_iterator_t<str, int> it = q;
  int sum = 0, v;
  while (it.next (&v))
    sum += v;
  EXPECT_EQ (sum, 3);
  const qhash<str, int> &cq = q;
  qhash_const_iterator_t<str, int> cit = cq;
  EXPECT_TRUE (cit.next ());
}

// What a header pulls in, as libasync's did: the pullin_*.C files each include one header only
// and use what the original made available through it; that they built is the test.
TEST (async_compat, single_headers_pull_in_what_libasync_pulled_in)
{
  EXPECT_EQ (pullin_amisc_readfd, &readfd);
  EXPECT_EQ (pullin_ihash_vec (), 1u);
  EXPECT_EQ (pullin_parseopt_all (), 1u);
  EXPECT_EQ (pullin_suio_wrap_and_vec (), 1);
}

// SFS 0.8 declared timenow as `const time_t &`: reading compiles, assigning must not.
TEST (async_compat, timenow_is_read_only_and_tsnow_writable)
{
  static_assert (std::is_const_v<std::remove_reference_t<decltype (timenow)>>);
  static_assert (!std::is_const_v<std::remove_reference_t<decltype (tsnow)>>);
  timespec a;
  sfs_get_tsnow (&a, true);
  EXPECT_EQ (a.tv_sec, timenow);
  EXPECT_EQ (a, tsnow);
}

struct shape : virtual refcount {
  virtual ~shape () = default;
  virtual int sides () const = 0;
};
struct square : shape {
  int sides () const override { return 4; }
};
int
count_sides (ref<shape> s)
{
  return s->sides ();
}

// refcnt.h: ref<T> from ptr<U> was explicit here, implicit in libasync.
TEST (async_compat, a_ptr_converts_to_a_ref_implicitly)
{
  ptr<square> p = New refcounted<square>;
  ref<shape> r = p;
  EXPECT_EQ (r->sides (), 4);
  EXPECT_EQ (count_sides (p), 4);
}

// keyfunc.h: character-pointer keys are strings (libasync's rule), so a lookup through a
// different buffer finds the entry; before, they hashed and compared by address.
TEST (async_compat, char_pointer_keys_compare_and_hash_by_content)
{
  qhash<const char *, int> q;
  q.insert ("alpha", 1);
  char other[] = "alpha";
  ASSERT_TRUE (q[other]);
  EXPECT_EQ (*q[other], 1);
  EXPECT_EQ (compare<const char *> () ("a", "b"), -1);
  EXPECT_TRUE (equals<char *> () (other, other));
  EXPECT_EQ (hashfn<const char *> () ("alpha"), hashfn<str> () (str ("alpha")));
}

struct convertible_key {
  u_int id;
  operator hash_t () const { return id; }
  bool operator== (const convertible_key &o) const { return id == o.id; }
};
struct kv {
  int k;
  int v;
};

TEST (async_compat, keyfunc_seeds_rotations_and_member_key_functions)
{
  // libasync's hash values and its seed argument: chaining through the seed is one hash.
  EXPECT_EQ (hash_bytes ("ab", 2), hash_bytes ("b", 1, hash_bytes ("a", 1)));
  EXPECT_EQ (hash_string ("ab"), hash_bytes ("ab", 2));
  EXPECT_EQ (hash_bytes ("", 0), hash_t (HASHSEED));
  EXPECT_EQ (hash_rotate (0x80000001u, 1), 3u);
  EXPECT_EQ (hash_rotate (5u, 32), 5u);
  EXPECT_EQ (hashfn<convertible_key> () (convertible_key {7}), 7u);
  static_assert (std::is_same_v<unref_t<const int &>::base_type, int>);
  static_assert (std::is_same_v<CREF (str), const str &>);
  keyfunc_2<int, kv, int, &kv::k, compare<int>> by_k;
  EXPECT_LT (by_k (kv {1, 9}, kv {2, 0}), 0);
  keyfunc_1<hash_t, kv, int, &kv::k, hashfn<int>> hash_k;
  EXPECT_EQ (hash_k (kv {4, 0}), 4u);
  hash2fn<int, int> h2;
  EXPECT_EQ (h2 (1, 3), 2u);
}

// amisc.h helpers libasync programs call: fdwait, mempbrk, stat_unchanged.
TEST (async_compat, fdwait_mempbrk_and_stat_unchanged)
{
  int p[2];
  ASSERT_EQ (pipe (p), 0);
  timeval zero = {0, 0};
  EXPECT_EQ (fdwait (p[0], selread, &zero), 0);  // nothing to read yet
  EXPECT_EQ (fdwait (p[1], selwrite, &zero), 1);
  ASSERT_EQ (write (p[1], "x", 1), 1);
  timeval second = {1, 0};
  EXPECT_EQ (fdwait (p[0], selread, &second), 1);
  EXPECT_EQ (fdwait (p[0], p[1], true, true, &zero), 2);
  close (p[0]);
  close (p[1]);

  char buf[] = "key=value;x";
  EXPECT_EQ (mempbrk (buf, "=;", sizeof buf - 1), buf + 3);
  EXPECT_EQ (mempbrk (buf, "=;", 3), nullptr);  // only the first len bytes are searched
  EXPECT_EQ (mempbrk (buf, "#", sizeof buf), nullptr);  // the terminating '\0' never matches

  struct stat a, b;
  ASSERT_EQ (stat ("/", &a), 0);
  ASSERT_EQ (stat ("/", &b), 0);
  EXPECT_TRUE (stat_unchanged (&a, &b));
  b.st_size++;
  EXPECT_FALSE (stat_unchanged (&a, &b));
}

}  // namespace
