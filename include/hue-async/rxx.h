// rxx.h — libasync's regular expressions (Perl syntax), on PCRE2 as libasync was on PCRE.
//
//   static rxx kv ("^(\\w+)\\s*=\\s*(.*)$");
//   if (kv.match (line)) set (kv[1], kv[2]);     // match: the whole string; kv[n]: group n
//   rxx word ("[a-z]+", "i");                     // options: i s m x U ^ (anchored)
//   if (line / word) warn << "first word " << word[0] << "\n";   // str / rxx: search
//   vec<str> parts;  split (&parts, rxx (",\\s*"), "a, b,c");       // 3 parts
//
// A bad pattern in the constructor is a panic (libasync's rule: patterns are program text);
// rrxx compiles patterns that come from input and reports the error instead. A match whose
// backtracking exceeds PCRE2's match limit fails (errcode () says why) instead of running for
// ever. One rxx holds the results of its last match, so it belongs to one color at a time;
// copies are independent.
#ifndef _RXX_H_
#define _RXX_H_ 1

#include "str.h"
#include "vec.h"

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;

class rxx {
  pcre2_real_code_8 *re_ = nullptr;
  pcre2_real_match_data_8 *md_ = nullptr;
  str subj_;
  int nsubpat_ = 0;   // groups set by the last successful match + 1; 0: no match
  int errcode_ = 0;   // PCRE2's code for the last failure other than "no match"
  bool whole_ = false;

protected:
  // Compiles; returns the error text, or a null str on success.
  str init (const char *pat, const char *opt);
  rxx () = default;
  bool exec (const char *p, size_t len, bool anchored, bool whole, size_t offset = 0);

public:
  class matchresult {
    const rxx &r;

  public:
    matchresult (const rxx &rr) : r (rr) {}
    operator bool () const { return r.success (); }
    operator str () const { return r.at (0); }
    str operator[] (ptrdiff_t n) const { return r.at (n); }
  };

  // Implicit, as in libasync: split (&out, "/", path) converts the literal, and programs rely
  // on it. (rrxx's constructors stay explicit, as libasync had them.)
  rxx (const char *pat, const char *opt = "");
  rxx (const str &pat, const char *opt = "") : rxx (pat.cstr (), opt) {}
  rxx (const rxx &r);
  rxx &operator= (const rxx &r);
  ~rxx ();

  // search: anywhere in s; match: all of s.
  matchresult search (str s, int = 0);
  matchresult match (str s, int = 0);
  matchresult search_cstr (const char *p, size_t len, int = 0);
  matchresult match_cstr (const char *p, size_t len, int = 0);
  // Search starting at byte offset of s, with ^ and lookbehind still seeing all of s (hue
  // addition; split uses it).
  matchresult search_at (str s, size_t offset);

  void clear () { nsubpat_ = 0; subj_ = nullptr; }
  // libasync ran pcre_study here; PCRE2 needs no such pass, so there is never an error.
  str study () { return str (); }
  bool success () const { return nsubpat_ > 0; }
  int errcode () const { return errcode_; }
  // Group n of the last match (0: the whole match); a null str if it did not take part.
  str at (ptrdiff_t n) const;
  str operator[] (ptrdiff_t n) const { return at (n); }
  int start (int n) const;  // offsets into the subject, -1 if group n is unset
  int end (int n) const;
  int len (int n) const { return start (n) < 0 ? -1 : end (n) - start (n); }
};

// A regular expression from input: compile () reports errors instead of panicking.
class rrxx : public rxx {
  str err_ = "uninitialized";

public:
  rrxx () = default;
  explicit rrxx (const char *pat, const char *opt = "") { compile (pat, opt); }
  explicit rrxx (const str &pat, const char *opt = "") { compile (pat.cstr (), opt); }
  rrxx (const rxx &r) : rxx (r), err_ () {}
  bool compile (const char *pat, const char *opt = "") { err_ = init (pat, opt); return !err_; }
  bool compile (const str &pat, const char *opt = "") { return compile (pat.cstr (), opt); }
  const str &geterr () const { return err_; }
};

inline rxx::matchresult operator/ (const str &s, rxx &r) { return r.search (s); }

// s / "pattern" and s / "pattern" / "options": a one-off search, compiled each time the result is
// read, as libasync's was (a loop should keep an rxx). Hazard: the result refers to s and to the
// pattern text, so it is for use inside the expression (`if (line / "^#")`), not to be stored.
class strstrmatch {
  const str &s_;
  const char *const pat_;

protected:
  mutable const char *opt_ = "";

public:
  strstrmatch (const str &s, const char *pat) : s_ (s), pat_ (pat) {}
  operator bool () const { rxx r (pat_, opt_); return r.search (s_); }
  operator str () const { rxx r (pat_, opt_); return r.search (s_)[0]; }
  str operator[] (ptrdiff_t n) const { rxx r (pat_, opt_); return r.search (s_)[n]; }
};
class strstroptmatch : public strstrmatch {
public:
  strstroptmatch (const str &s, const char *pat) : strstrmatch (s, pat) {}
  const strstrmatch &operator/ (const char *opt) const { opt_ = opt; return *this; }
};
inline strstroptmatch operator/ (const str &s, const char *pat) { return strstroptmatch (s, pat); }

// Splits expr at each match of pat into *out (appended); at most lim pieces, the last holding
// the rest. A trailing empty piece is kept only with emptylast. Returns the number appended.
int split (vec<str> *out, rxx pat, str expr, size_t lim = size_t (-1), bool emptylast = false);

template<class T>
str
join (str sep, const vec<T> &v)
{
  strbuf sb;
  for (size_t i = 0; i < v.size (); i++) {
    if (i)
      sb << sep;
    sb << v[i];
  }
  return sb;
}

#endif
