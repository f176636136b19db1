// str.h — libasync's strings: str (immutable, shared, nullable), mstr (a buffer being filled
// that becomes a str), strbuf (a string being built with << and printf-style fmt).
//
//   str name = "alice";                 // copies the bytes once; copies of `name` share them
//   str none;                           // null: !none, none.cstr () == NULL
//   strbuf sb;  sb << "user " << name << " has " << 3 << " items";
//   sb.fmt (" (%.1f%%)", 99.5);
//   str line = sb;                      // or: str (strbuf () << ...)
//   mstr m (64);  size_t n = read (fd, m.cstr (), 64);  m.setlen (n);  str got = m;
//
// A str owns a counted block; copies share it. The count is atomic, so a str may travel between
// colors freely. Copies of a strbuf share one buffer (libasync: `strbuf b2 = b; b2 << "x"` appends
// to b too), which is why its operations are const. A strbuf itself is not synchronised.
#ifndef _ASYNC_STR_H_
#define _ASYNC_STR_H_ 1

#include "sysconf.h"
#include "keyfunc.h"
#include "refcnt.h"
#include "suio++.h"

#include <atomic>

class strbuf;
class mstr;

namespace hue_async_detail {
// One allocation per distinct string: count, length, bytes, '\0'.
struct strobj {
  std::atomic<uint32_t> refs;
  size_t len;
  char *dat () { return reinterpret_cast<char *> (this + 1); }
  static strobj *alloc (size_t len);  // refs = 0, dat ()[len] = '\0'
  static strobj *make (const char *p, size_t len);
  void inc () { refs.fetch_add (1, std::memory_order_relaxed); }
  void dec () {
    if (refs.fetch_sub (1, std::memory_order_acq_rel) == 1)
      ::operator delete (this);
  }
};
}  // namespace hue_async_detail

class str {
protected:
  hue_async_detail::strobj *b = nullptr;
  friend class mstr;
  void reset (hue_async_detail::strobj *n) {
    if (n)
      n->inc ();
    if (b)
      b->dec ();
    b = n;
  }

public:
  str () = default;
  str (const str &s) : b (s.b) { if (b) b->inc (); }
  str (str &&s) noexcept : b (s.b) { s.b = nullptr; }
  str (const char *p) { if (p) reset (hue_async_detail::strobj::make (p, strlen (p))); }
  str (const char *p, size_t len) { reset (hue_async_detail::strobj::make (p, len)); }
  str (const strbuf &sb);
  explicit str (const suio &u) { reset (hue_async_detail::strobj::make (u.data (), u.resid ())); }
  str (const iovec *iov, int cnt) { setiov (iov, cnt); }
  str (mstr &m);
  ~str () { if (b) b->dec (); }

  str &operator= (const str &s) { reset (s.b); return *this; }
  str &operator= (str &&s) noexcept {
    if (this != &s) {
      if (b)
        b->dec ();
      b = s.b;
      s.b = nullptr;
    }
    return *this;
  }
  str &operator= (const char *p) {
    if (p)
      setbuf (p, strlen (p));
    else
      reset (nullptr);
    return *this;
  }
  str &operator= (const strbuf &sb);
  str &operator= (mstr &m);
  str &setbuf (const char *buf, size_t len) {
    reset (hue_async_detail::strobj::make (buf, len));
    return *this;
  }
  str &setiov (const iovec *iov, int cnt);
  void swap (str &s) { std::swap (b, s.b); }

  // len() of a null str is 0 here (libasync dereferenced NULL).
  size_t len () const { return b ? b->len : 0; }
  const char *cstr () const { return b ? b->dat () : nullptr; }
  // SFS 0.8 programs pass a str where a const char * is wanted (open (path, ...)).
  operator const char * () const { return cstr (); }
  char operator[] (ptrdiff_t n) const {
    assert (b && size_t (n) <= b->len);
    return b->dat ()[n];
  }

  bool operator! () const { return !b; }
  explicit operator bool () const { return b; }

  int cmp (const str &s) const {
    size_t n = len () < s.len () ? len () : s.len ();
    if (n)
      if (int r = memcmp (cstr (), s.cstr (), n))
        return r;
    return len () < s.len () ? -1 : len () > s.len () ? 1 : 0;
  }
  int cmp (const char *p) const { return cmp (str (p)); }
  bool operator== (const str &s) const {
    if (!b || !s.b)
      return !b && !s.b;
    return len () == s.len () && !memcmp (cstr (), s.cstr (), len ());
  }
  bool operator!= (const str &s) const { return !(*this == s); }
  bool operator< (const str &s) const { return cmp (s) < 0; }
  bool operator<= (const str &s) const { return cmp (s) <= 0; }
  bool operator> (const str &s) const { return cmp (s) > 0; }
  bool operator>= (const str &s) const { return cmp (s) >= 0; }
  // A null str equals only a null pointer; otherwise the bytes must match up to p's '\0' and
  // the str must end there (a str with an embedded '\0' differs from the shorter C string).
  bool operator== (const char *p) const {
    if (!p || !b)
      return !p && !b;
    size_t n = strlen (p);
    return n == b->len && !memcmp (b->dat (), p, n);
  }
  bool operator!= (const char *p) const { return !(*this == p); }

  // Whole-string conversions (sfslite): false on empty, junk, or out of range.
  bool to_int32 (int32_t *out, int base = 10) const;
  bool to_int64 (int64_t *out, int base = 10) const;
  bool to_uint32 (uint32_t *out, int base = 10) const;
  bool to_uint64 (uint64_t *out, int base = 10) const;
  bool to_double (double *out) const;
};
inline bool operator== (const char *p, const str &s) { return s == p; }
inline bool operator!= (const char *p, const str &s) { return s != p; }

// A global str (libasync needed a separate type to dodge static-initialisation order; a str's
// constant-initialised null state does that by itself).
typedef str bssstr;

template<> struct hashfn<str> {
  hashfn () {}
  hash_t operator() (const str &s) const { return hash_bytes (s.cstr (), s.len ()); }
  hash_t operator() (const char *p) const { return hash_string (p); }
};
template<> struct equals<str> {
  equals () {}
  bool operator() (const str &a, const str &b) const { return a == b; }
  bool operator() (const str &a, const char *b) const { return a == b; }
};
template<> struct compare<str> {
  compare () {}
  int operator() (const str &a, const str &b) const { return a.cmp (b); }
};

// mstr: n writable bytes, then handed to a str (which takes them over; the mstr is empty after).
class mstr {
  friend class str;
  hue_async_detail::strobj *b;
  mstr (const mstr &) = delete;
  mstr &operator= (const mstr &) = delete;

public:
  explicit mstr (size_t n) : b (hue_async_detail::strobj::alloc (n)) { b->inc (); }
  ~mstr () { if (b) b->dec (); }
  // Shortens the string to n bytes (n no larger than it was made with).
  void setlen (size_t n) { assert (b && n <= b->len); b->len = n; }
  size_t len () const { return b ? b->len : 0; }
  char *cstr () { return b ? b->dat () : nullptr; }
  const char *cstr () const { return b ? b->dat () : nullptr; }
  operator char * () { return cstr (); }
  operator const char * () const { return cstr (); }
};

inline str::str (mstr &m) : b (m.b)
{
  m.b = nullptr;  // the reference moves from m to this str
  if (b)
    b->dat ()[b->len] = '\0';
}
inline str &
str::operator= (mstr &m)
{
  str t (m);
  swap (t);
  return *this;
}

void suio_print (suio *uio, const str &s);
str suio_getline (suio *uio);  // first line without its '\n', removed; null if none yet

class strbuf {
protected:
  const ref<suio> uio;
  strbuf &operator= (const strbuf &) = delete;

public:
  strbuf () : uio (New refcounted<suio>) {}
  strbuf (const str &s) : uio (New refcounted<suio>) { suio_print (uio, s); }
  strbuf (const strbuf &b) : uio (b.uio) {}
  explicit strbuf (const ref<suio> &u) : uio (u) {}
  explicit strbuf (const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

  // printf into the buffer; glibc's printf understands %m (errno's text), which warn relies on.
  const strbuf &fmt (const char *fmt, ...) const __attribute__ ((format (printf, 2, 3)));
  const strbuf &vfmt (const char *fmt, va_list ap) const;
  const strbuf &buf (const char *p, size_t len) const { uio->copy (p, len); return *this; }
  const strbuf &cat (const char *p, bool = true) const {
    if (p)
      uio->copy (p, strlen (p));
    else
      uio->copy ("(null)", 6);
    return *this;
  }
  template<class A1> const strbuf &cat (const A1 &a1) const;
  template<class A1, class A2> const strbuf &cat (const A1 &a1, const A2 &a2) const;

  const iovec *iov () const { return uio->iov (); }
  size_t iovcnt () const { return uio->iovcnt (); }
  suio *tosuio () const { return uio; }
  void clear () { uio->clear (); }
  size_t len () const { return uio->resid (); }
  void copy (const char *p, size_t l) { uio->copy (p, l); }
  void hold_onto (const str &) {}  // bytes are always copied here, nothing to hold
  const strbuf &take (strbuf &in) { uio->take (in.uio); return *this; }
};

inline str::str (const strbuf &sb)
{
  reset (hue_async_detail::strobj::make (sb.tosuio ()->data (), sb.len ()));
}
inline str &
str::operator= (const strbuf &sb)
{
  return setbuf (sb.tosuio ()->data (), sb.len ());
}

// strbuf_cat: how each type is appended. Numbers in decimal, doubles with %f, other pointers
// as %p, str and strbuf by their bytes.
inline const strbuf &strbuf_cat (const strbuf &b, const strbuf &b2)
{
  b.tosuio ()->copyu (b2.tosuio ());
  return b;
}
inline const strbuf &strbuf_cat (const strbuf &b, const str &s)
{
  suio_print (b.tosuio (), s);
  return b;
}
inline const strbuf &strbuf_cat (const strbuf &b, const char *p, bool copy = true)
{
  return b.cat (p, copy);
}
inline const strbuf &strbuf_cat (const strbuf &b, char *p) { return strbuf_cat (b, (const char *) p); }  // not b.cat (p): that recursed
inline const strbuf &strbuf_cat (const strbuf &b, int n) { return b.fmt ("%d", n); }
inline const strbuf &strbuf_cat (const strbuf &b, u_int n) { return b.fmt ("%u", n); }
inline const strbuf &strbuf_cat (const strbuf &b, long n) { return b.fmt ("%ld", n); }
inline const strbuf &strbuf_cat (const strbuf &b, u_long n) { return b.fmt ("%lu", n); }
inline const strbuf &strbuf_cat (const strbuf &b, long long n) { return b.fmt ("%lld", n); }
inline const strbuf &strbuf_cat (const strbuf &b, unsigned long long n)
{
  return b.fmt ("%llu", n);
}
inline const strbuf &strbuf_cat (const strbuf &b, const double &d) { return b.fmt ("%f", d); }
template<class T> inline const strbuf &strbuf_cat (const strbuf &b, T const *p)
{
  return b.fmt ("%p", static_cast<const void *> (p));
}

// cat (a, b): an object that appends a and b when streamed into a strbuf (libasync's helper for
// types whose strbuf_cat takes two arguments).
template<class A, class B = void> class strbufcatobj {
  const A &a;
  const B &b;

public:
  strbufcatobj (const A &aa, const B &bb) : a (aa), b (bb) {}
  const strbuf &cat (const strbuf &sb) const { return strbuf_cat (sb, a, b); }
};
template<class A> class strbufcatobj<A, void> {
  const A &a;

public:
  strbufcatobj (const A &aa) : a (aa) {}
  const strbuf &cat (const strbuf &sb) const { return strbuf_cat (sb, a); }
};
template<class A, class B>
inline const strbuf &strbuf_cat (const strbuf &sb, const strbufcatobj<A, B> &o)
{
  return o.cat (sb);
}
template<class A, class B> inline strbufcatobj<A, B> cat (const A &a, const B &b)
{
  return strbufcatobj<A, B> (a, b);
}
template<class A> inline strbufcatobj<A> cat (const A &a) { return strbufcatobj<A> (a); }

template<class A1> inline const strbuf &strbuf::cat (const A1 &a1) const
{
  return strbuf_cat (*this, a1);
}
template<class A1, class A2> inline const strbuf &strbuf::cat (const A1 &a1, const A2 &a2) const
{
  return strbuf_cat (*this, a1, a2);
}

// Bytes as lower-case hex: sb << hexdump (buf, len).
class hexdump {
  const void *const buf;
  const size_t len;
  friend const strbuf &strbuf_cat (const strbuf &, const hexdump &);

public:
  hexdump (const void *b, size_t l) : buf (b), len (l) {}
};
inline const strbuf &strbuf_cat (const strbuf &sb, const hexdump &hd)
{
  const u_char *p = static_cast<const u_char *> (hd.buf);
  for (size_t i = 0; i < hd.len; i++)
    sb.fmt ("%02x", p[i]);
  return sb;
}

template<class T> inline const strbuf &operator<< (const strbuf &sb, const T &a)
{
  return strbuf_cat (sb, a);
}
inline const strbuf &operator<< (const strbuf &sb, const str &s) { return strbuf_cat (sb, s); }
inline const strbuf &operator<< (const strbuf &sb, const char *a) { return sb.cat (a); }
inline const strbuf operator<< (const str &s, const char *a) { return strbuf (s).cat (a); }
inline const strbuf operator<< (const str &s1, const str &s2) { return strbuf (s1).cat (s2); }

inline str
substr (const str &s, size_t pos, size_t len = size_t (-1))
{
  if (pos >= s.len ())
    return "";
  if (len > s.len () - pos)
    len = s.len () - pos;
  return str (s.cstr () + pos, len);
}

#endif
