// parseopt.h — libasync's command-line and config-file parsing: convertint, parseargs (a config
// file split into lines of words) and conftab (a table of directives that fills variables).
//
//   int port;
//   if (!convertint (argv[2], &port) || port <= 0 || port > 65535)
//     fatal << "bad port: " << argv[2] << "\n";
//   u_int64_t size;  convertint (str ("0x10"), &size);     // base 0: 0x.. hex, 0.. octal
//
//   conftab ct;                                   // a config file of "Directive value" lines
//   ct.add ("TopDir", &topdir)                    // a str
//     .add ("Port", &port, 1, 65535)              // an integer within bounds
//     .add ("Verbose", &verbose)                  // a bool: 1 or 0
//     .add ("Listen", wrap (got_listen))          // a callback (vec<str> words, str loc, bool *err)
//     .ignore ("Legacy");                         // accepted and dropped
//   if (!ct.run (file, CONFTAB_APPLY_DEFAULTS)) exit (1);
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

// parseargs: a whole file read at construction, handed out a line of words at a time. The rules
// are libasync's: words are separated by blanks; "double quotes" group blanks (and newlines) into
// one word and are dropped; a backslash takes the next character literally; backslash-newline
// continues a line; a line whose first character is '#' is a comment ('#' later in a line starts
// an ordinary word, which conftab reads as a trailing comment). getline skips blank lines,
// returns false at end of file, and sets *linep to the number of the line the words began on.
// An unreadable file or a bad escape goes to error (), which by default is fatal (libasync's
// rule: a program cannot run on a config it could not read); a subclass may override it for the
// parsing errors, but not for an unreadable file: that one is reported from the constructor,
// where the subclass's override is not yet in force.
class parseargs {
  str text_;
  size_t p_ = 0;  // read position in text_

  bool at_end () const { return p_ >= text_.len (); }
  char at (size_t i) const { return i < text_.len () ? text_[i] : '\0'; }
  void skipblanks ();
  void skiplwsp ();
  str getarg ();

protected:
  str filename;
  int lineno = 0;
  virtual void error (str msg);

public:
  // Reads fd when it is given (and closes it), else opens file.
  parseargs (str file, int fd = -1);
  virtual ~parseargs () {}
  parseargs (const parseargs &) = delete;
  parseargs &operator= (const parseargs &) = delete;
  bool getline (vec<str> *args, int *linep = NULL);
};

// --- conftab: directives of a config file, matched case-insensitively by their first word ---
class conftab_el {
public:
  conftab_el (const str &n) : name (n), lcname (mytolower (n)) {}
  virtual ~conftab_el () {}
  // convert: parse the words into a pending value (false: wrong usage); inbounds: the pending
  // value is acceptable; set: store it.
  virtual bool convert (const vec<str> &v, const str &loc, bool *e) = 0;
  virtual bool inbounds () = 0;
  virtual void set () = 0;
  virtual bool apply_default () = 0;
  virtual void dump (strbuf &b) const = 0;
  // Exactly l words, or more when word l starts a '#' comment.
  bool count_args (const vec<str> &v, u_int l)
  {
    return v.size () == l || (v.size () > l && v[l][0] == '#');
  }
  const str &get_name () const { return name; }
  bool was_set () const { return was_set_; }
  void reset () { was_set_ = set_by_default_ = false; }
  void mark_set () { was_set_ = true; }
  void mark_set_by_default () { set_by_default_ = true; }
  bool was_set_by_default () const { return set_by_default_; }

  const str name;
  const str lcname;
  ihash_entry<conftab_el> lnk;

private:
  bool was_set_ = false, set_by_default_ = false;
};

class conftab_ignore : public conftab_el {
public:
  conftab_ignore (const str &n) : conftab_el (n) {}
  bool convert (const vec<str> &, const str &, bool *) override { return true; }
  bool inbounds () override { return true; }
  void set () override {}
  bool apply_default () override { return false; }
  void dump (strbuf &b) const override { b << "IGNORED"; }
};

// A directive handled by the program: all its words (the directive first), "file:line", and
// the error flag to set.
typedef callback<void, vec<str>, str, bool *>::ref confcb;

// A string directive: into a str (with `check`, a second definition is an error), or handed to a
// confcb (all words) or a cbs (the one value).
class conftab_str : public conftab_el {
public:
  conftab_str (const str &n, str *d, bool c) : conftab_el (n), dest_ (d), check_ (c) {}
  conftab_str (const str &n, confcb c) : conftab_el (n), cnfcb_ (c) {}
  conftab_str (cbs c, const str &n) : conftab_el (n), scb_ (c) {}  // order as libasync's
  conftab_str (const str &n, str *d, const str &def, bool c)
    : conftab_el (n), dest_ (d), check_ (c), default_ (def), has_default_ (true) {}
  bool convert (const vec<str> &v, const str &loc, bool *e) override;
  bool inbounds () override { return true; }
  void set () override;
  bool apply_default () override
  {
    if (has_default_)
      *dest_ = default_;
    return has_default_;
  }
  void dump (strbuf &b) const override;

private:
  str *const dest_ = nullptr;
  confcb::ptr cnfcb_;
  cbs::ptr scb_;
  const bool check_ = false;
  vec<str> words_;
  str value_;
  str loc_;
  bool *errp_ = nullptr;
  const str default_;
  const bool has_default_ = false;
};

template<class T>
class conftab_int : public conftab_el {
public:
  conftab_int (const str &n, T *d, T l, T u) : conftab_el (n), dest_ (d), lb_ (l), ub_ (u) {}
  conftab_int (const str &n, T *d, T l, T u, T def)
    : conftab_el (n), dest_ (d), lb_ (l), ub_ (u), default_ (def), has_default_ (true) {}
  bool convert (const vec<str> &v, const str &, bool *) override
  {
    return count_args (v, 2) && convertint (v[1], &tmp_);
  }
  bool inbounds () override { return tmp_ >= lb_ && tmp_ <= ub_; }
  void set () override { *dest_ = tmp_; }
  bool apply_default () override
  {
    if (has_default_)
      *dest_ = default_;
    return has_default_;
  }
  void dump (strbuf &b) const override { b << *dest_; }

private:
  T *const dest_;
  const T lb_, ub_;
  T tmp_ {};
  const T default_ {};
  const bool has_default_ = false;
};

// A bool directive: the value is 1 or 0, nothing else (libasync's rule).
class conftab_bool : public conftab_el {
public:
  conftab_bool (const str &n, bool *b) : conftab_el (n), dest_ (b) {}
  conftab_bool (const str &n, bool *b, bool def)
    : conftab_el (n), dest_ (b), default_ (def), has_default_ (true) {}
  bool convert (const vec<str> &v, const str &loc, bool *e) override;
  bool inbounds () override { return !err_; }
  void set () override { *dest_ = tmp_; }
  bool apply_default () override
  {
    if (has_default_)
      *dest_ = default_;
    return has_default_;
  }
  void dump (strbuf &b) const override { b << (*dest_ ? "True" : "False"); }

private:
  bool *const dest_;
  bool tmp_ = false;
  bool err_ = false;
  const bool default_ = false;
  const bool has_default_ = false;
};

class conftab_double : public conftab_el {
public:
  conftab_double (const str &n, double *d, double l, double u)
    : conftab_el (n), dest_ (d), lb_ (l), ub_ (u) {}
  conftab_double (const str &n, double *d, double l, double u, double def)
    : conftab_el (n), dest_ (d), lb_ (l), ub_ (u), default_ (def), has_default_ (true) {}
  bool convert (const vec<str> &v, const str &loc, bool *e) override;
  bool inbounds () override { return tmp_ >= lb_ && tmp_ <= ub_; }
  void set () override { *dest_ = tmp_; }
  bool apply_default () override
  {
    if (has_default_)
      *dest_ = default_;
    return has_default_;
  }
  void dump (strbuf &b) const override;

private:
  double *const dest_;
  const double lb_, ub_;
  double tmp_ = 0;
  const double default_ = 0;
  const bool has_default_ = false;
};

enum { CONFTAB_VERBOSE = 0x1, CONFTAB_APPLY_DEFAULTS = 0x2 };

// The table owns its elements. Directive names are matched case-insensitively; adding one name
// twice makes the first added win (libasync's, through its hash table's first match).
class conftab {
public:
  conftab () {}
  ~conftab ();
  conftab (const conftab &) = delete;
  conftab &operator= (const conftab &) = delete;

  typedef enum { OK = 0, ERROR = 1, UNKNOWN = 2 } status_t;
  // Parses file (or fd) and applies every line; unknown directives and bad values are warned
  // about with file:line. Options: CONFTAB_APPLY_DEFAULTS gives unset directives their default,
  // CONFTAB_VERBOSE reports every value after. True when there was neither an error nor an
  // unknown directive; *sp tells which. A null file applies defaults only.
  bool run (const str &file, u_int opts = 0, int fd = -1, status_t *sp = NULL);

  // The bounds are not deduced (std::type_identity_t), so add ("Port", &port, 1, 65535) takes
  // its T from &port alone, as libasync's WEAK_TMPL did.
  template<typename T>
  conftab &add (const str &nm, T *dp, std::type_identity_t<T> lb, std::type_identity_t<T> ub)
  {
    return insert (New conftab_int<T> (nm, dp, lb, ub));
  }
  template<typename T>
  conftab &add (const str &nm, T *dp, std::type_identity_t<T> lb, std::type_identity_t<T> ub,
                std::type_identity_t<T> def)
  {
    return insert (New conftab_int<T> (nm, dp, lb, ub, def));
  }
  template<class A> conftab &add (const str &nm, A a) { return insert (New conftab_str (nm, a)); }
  conftab &ads (const str &nm, cbs c) { return insert (New conftab_str (c, nm)); }
  conftab &add (const str &nm, str *s) { return insert (New conftab_str (nm, s, false)); }
  conftab &add_check (const str &nm, str *s) { return insert (New conftab_str (nm, s, true)); }
  conftab &add (const str &nm, str *s, const str &def)
  {
    return insert (New conftab_str (nm, s, def, false));
  }
  conftab &add_check (const str &nm, str *s, const str &def)
  {
    return insert (New conftab_str (nm, s, def, true));
  }
  conftab &add (const str &nm, bool *b) { return insert (New conftab_bool (nm, b)); }
  conftab &add (const str &nm, bool *b, bool def) { return insert (New conftab_bool (nm, b, def)); }
  conftab &add (const str &nm, double *d, double lb, double ub)
  {
    return insert (New conftab_double (nm, d, lb, ub));
  }
  conftab &add (const str &nm, double *d, double lb, double ub, double def)
  {
    return insert (New conftab_double (nm, d, lb, ub, def));
  }
  conftab &ignore (const str &m) { return insert (New conftab_ignore (m)); }
  conftab &insert (conftab_el *e);

  // One line's words: false when the first word is no directive of the table (the caller
  // decides whether that is an error); a wrong value is warned about and sets *err.
  bool match (const vec<str> &s, const str &cf, int ln, bool *err);
  void apply_defaults ();
  void report ();                // to warn, one directive a line
  void report (vec<str> *out);
  void reset ();                 // forget which directives were set

private:
  ihash<const str, conftab_el, &conftab_el::lcname, &conftab_el::lnk> tab_;
  vec<conftab_el *> v_;  // in the order added: report's order, and ownership
};

#endif
