// str, mstr and strbuf (include/hue-async/str.h): the counted string block, printf into a strbuf, and
// the whole-string number conversions.
#include "str.h"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <type_traits>
#include <new>

namespace hue_async_detail {

strobj *
strobj::alloc (size_t len)
{
  if (len > size_t (-1) / 2)
    throw std::bad_alloc ();
  void *mem = ::operator new (sizeof (strobj) + len + 1);
  strobj *o = ::new (mem) strobj;
  o->refs.store (0, std::memory_order_relaxed);
  o->len = len;
  o->dat ()[len] = '\0';
  return o;
}

strobj *
strobj::make (const char *p, size_t len)
{
  strobj *o = alloc (len);
  if (len)
    memcpy (o->dat (), p, len);
  return o;
}

}  // namespace hue_async_detail

str &
str::setiov (const iovec *iov, int cnt)
{
  size_t total = 0;
  for (int i = 0; i < cnt; i++)
    total += iov[i].iov_len;
  hue_async_detail::strobj *o = hue_async_detail::strobj::alloc (total);
  char *d = o->dat ();
  for (int i = 0; i < cnt; i++) {
    memcpy (d, iov[i].iov_base, iov[i].iov_len);
    d += iov[i].iov_len;
  }
  reset (o);
  return *this;
}

// strtoll and friends accept leading spaces, a sign on unsigned types and trailing junk; a
// whole-string conversion accepts none of that.
template<class T, class F>
static bool
convert_whole (const str &s, T *out, int base, F conv)
{
  if (!s || !s.len () || isspace (static_cast<u_char> (s[0])) || strlen (s.cstr ()) != s.len ())
    return false;
  if (std::is_unsigned_v<T> && s[0] == '-')
    return false;
  errno = 0;
  char *end;
  auto v = conv (s.cstr (), &end, base);
  if (errno == ERANGE || *end || end == s.cstr ())
    return false;
  if (v < std::numeric_limits<T>::min () || v > std::numeric_limits<T>::max ())
    return false;
  *out = T (v);
  return true;
}

bool str::to_int32 (int32_t *out, int base) const { return convert_whole (*this, out, base, strtoll); }
bool str::to_int64 (int64_t *out, int base) const { return convert_whole (*this, out, base, strtoll); }
bool str::to_uint32 (uint32_t *out, int base) const { return convert_whole (*this, out, base, strtoull); }
bool str::to_uint64 (uint64_t *out, int base) const { return convert_whole (*this, out, base, strtoull); }

bool
str::to_double (double *out) const
{
  if (!*this || !len () || isspace (static_cast<u_char> ((*this)[0])))
    return false;
  errno = 0;
  char *end;
  double d = strtod (cstr (), &end);
  if (errno == ERANGE || *end || end == cstr ())
    return false;
  *out = d;
  return true;
}

void
suio_print (suio *uio, const str &s)
{
  if (s)
    uio->copy (s.cstr (), s.len ());
}

str
suio_getline (suio *uio)
{
  ssize_t n = uio->linelen ();
  if (n < 0)
    return str ();
  str line (uio->data (), size_t (n - 1));
  uio->rembytes (size_t (n));
  return line;
}

strbuf::strbuf (const char *f, ...) : uio (New refcounted<suio>)
{
  va_list ap;
  va_start (ap, f);
  vfmt (f, ap);
  va_end (ap);
}

const strbuf &
strbuf::fmt (const char *f, ...) const
{
  va_list ap;
  va_start (ap, f);
  vfmt (f, ap);
  va_end (ap);
  return *this;
}

const strbuf &
strbuf::vfmt (const char *f, va_list ap) const
{
  // Format into a stack buffer; retry once at the exact size when it did not fit. errno is
  // restored before the retry so a %m prints the caller's error both times.
  int saved_errno = errno;
  char small[256];
  va_list ap2;
  va_copy (ap2, ap);
  int n = vsnprintf (small, sizeof small, f, ap2);
  va_end (ap2);
  if (n < 0) {
    errno = saved_errno;
    return *this;
  }
  if (size_t (n) < sizeof small) {
    uio->copy (small, size_t (n));
  } else {
    char *space = uio->getspace (size_t (n) + 1);
    errno = saved_errno;
    va_copy (ap2, ap);
    vsnprintf (space, size_t (n) + 1, f, ap2);
    va_end (ap2);
    uio->rembytes_tail (1);
  }
  errno = saved_errno;
  return *this;
}
