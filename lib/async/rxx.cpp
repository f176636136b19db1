// rxx on PCRE2 (include/hue-async/rxx.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rxx.h"

#include "err.h"

str
rxx::init (const char *pat, const char *opt)
{
  uint32_t flags = 0;
  for (const char *o = opt ? opt : ""; *o; o++)
    switch (*o) {
    case 'i': flags |= PCRE2_CASELESS; break;
    case 's': flags |= PCRE2_DOTALL; break;
    case 'm': flags |= PCRE2_MULTILINE; break;
    case 'x': flags |= PCRE2_EXTENDED; break;
    case 'U': flags |= PCRE2_UNGREEDY; break;
    case '^': flags |= PCRE2_ANCHORED; break;
    case '8': flags |= PCRE2_UTF; break;
    case 'S': case 'X': break;  // libasync: "study" and "extra", optimisations PCRE2 does itself
    default: return strbuf ("rxx: unknown option '%c'", *o);
    }
  if (re_)
    pcre2_code_free (re_);
  if (md_)
    pcre2_match_data_free (md_);
  re_ = nullptr;
  md_ = nullptr;
  nsubpat_ = 0;
  int err;
  PCRE2_SIZE off;
  re_ = pcre2_compile (reinterpret_cast<PCRE2_SPTR> (pat), PCRE2_ZERO_TERMINATED, flags, &err, &off,
                       nullptr);
  if (!re_) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message (err, msg, sizeof msg);
    return strbuf ("rxx: bad pattern \"%s\" at offset %zu: %s", pat, size_t (off),
                   reinterpret_cast<const char *> (msg));
  }
  md_ = pcre2_match_data_create_from_pattern (re_, nullptr);
  if (!md_)
    throw std::bad_alloc ();
  return str ();
}

rxx::rxx (const char *pat, const char *opt)
{
  if (str e = init (pat, opt))
    panic ("%s\n", e.cstr ());
}

rxx::rxx (const rxx &r)
{
  *this = r;
}

rxx &
rxx::operator= (const rxx &r)
{
  if (this == &r)
    return *this;
  if (re_)
    pcre2_code_free (re_);
  if (md_)
    pcre2_match_data_free (md_);
  re_ = r.re_ ? pcre2_code_copy (r.re_) : nullptr;
  md_ = re_ ? pcre2_match_data_create_from_pattern (re_, nullptr) : nullptr;
  if (r.re_ && (!re_ || !md_))
    throw std::bad_alloc ();
  subj_ = nullptr;
  nsubpat_ = 0;
  errcode_ = 0;
  return *this;
}

rxx::~rxx ()
{
  if (md_)
    pcre2_match_data_free (md_);
  if (re_)
    pcre2_code_free (re_);
}

bool
rxx::exec (const char *p, size_t len, bool anchored, bool whole, size_t offset)
{
  nsubpat_ = 0;
  errcode_ = 0;
  if (!re_ || !p)
    return false;
  uint32_t opts = (anchored ? PCRE2_ANCHORED : 0) | (whole ? PCRE2_ENDANCHORED : 0);
  int rc = pcre2_match (re_, reinterpret_cast<PCRE2_SPTR> (p), len, offset, opts, md_, nullptr);
  if (rc < 0) {
    if (rc != PCRE2_ERROR_NOMATCH)
      errcode_ = rc;
    return false;
  }
  // rc == 0 means the ovector was too small; it is sized from the pattern, so it cannot be.
  nsubpat_ = rc > 0 ? rc : int (pcre2_get_ovector_count (md_));
  return true;
}

rxx::matchresult
rxx::search (str s, int)
{
  subj_ = s;
  exec (s.cstr (), s.len (), false, false);
  return *this;
}

rxx::matchresult
rxx::search_at (str s, size_t offset)
{
  subj_ = s;
  if (offset <= s.len ())
    exec (s.cstr (), s.len (), false, false, offset);
  else
    nsubpat_ = 0;
  return *this;
}

rxx::matchresult
rxx::match (str s, int)
{
  subj_ = s;
  exec (s.cstr (), s.len (), true, true);
  return *this;
}

rxx::matchresult
rxx::search_cstr (const char *p, size_t len, int)
{
  subj_ = str (p, len);
  exec (subj_.cstr (), len, false, false);
  return *this;
}

rxx::matchresult
rxx::match_cstr (const char *p, size_t len, int)
{
  subj_ = str (p, len);
  exec (subj_.cstr (), len, true, true);
  return *this;
}

int
rxx::start (int n) const
{
  if (n < 0 || n >= nsubpat_)
    return -1;
  PCRE2_SIZE v = pcre2_get_ovector_pointer (md_)[2 * n];
  return v == PCRE2_UNSET ? -1 : int (v);
}

int
rxx::end (int n) const
{
  if (n < 0 || n >= nsubpat_)
    return -1;
  PCRE2_SIZE v = pcre2_get_ovector_pointer (md_)[2 * n + 1];
  return v == PCRE2_UNSET ? -1 : int (v);
}

str
rxx::at (ptrdiff_t n) const
{
  if (n < 0 || n > INT_MAX)
    return str ();
  int s = start (int (n));
  if (s < 0)
    return str ();
  return str (subj_.cstr () + s, size_t (end (int (n)) - s));
}

int
split (vec<str> *out, rxx pat, str expr, size_t lim, bool emptylast)
{
  if (!expr || !lim)
    return 0;
  int n = 0;
  size_t pos = 0;
  const char *base = expr.cstr ();
  size_t total = expr.len ();
  while (size_t (n) + 1 < lim && pos <= total) {
    // Search the rest; an empty match at the piece's own start is skipped (one byte on), or the
    // split would never advance.
    size_t from = pos;
    bool found = false;
    int ms = 0, me = 0;
    while (from <= total) {
      if (!pat.search_at (expr, from))
        break;
      ms = pat.start (0);
      me = pat.end (0);
      if (me > ms || size_t (ms) > pos) {
        found = true;
        break;
      }
      from++;
    }
    if (!found)
      break;
    out->push_back (str (base + pos, size_t (ms) - pos));
    n++;
    pos = size_t (me);
  }
  if (pos < total || (emptylast && pos == total)) {
    out->push_back (str (base + pos, total - pos));
    n++;
  }
  return n;
}
