// The non-template part of parseopt.h.
#include "parseopt.h"
#include "rxx.h"  // join

#include <algorithm>

int64_t
strtoi64 (const char *nptr, char **endptr, int base)
{
  return strtoll (nptr, endptr, base);
}

void
mytolower (char *dest, const char *src)
{
  while (*src)
    *dest++ = char (tolower (static_cast<u_char> (*src++)));
  *dest = '\0';
}

str
mytolower (const str &in)
{
  if (!in)
    return in;
  mstr m (in.len ());
  for (size_t i = 0; i < in.len (); i++)
    m.cstr ()[i] = char (tolower (static_cast<u_char> (in[i])));
  return m;
}

// ---- parseargs ----

namespace {
bool
blank (char c)
{
  return c == ' ' || c == '\t';
}
}  // namespace

parseargs::parseargs (str file, int fd) : filename (file)
{
  if (fd < 0 && (fd = open (file.cstr (), O_RDONLY | O_CLOEXEC)) < 0) {
    error (strerror (errno));
    return;
  }
  strbuf sb;
  char buf[8192];
  for (;;) {
    ssize_t n = read (fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      close (fd);
      errno = e;
      error (strerror (errno));
      return;
    }
    if (n == 0)
      break;
    sb.tosuio ()->copy (buf, size_t (n));
  }
  close (fd);
  text_ = sb;
  lineno = 1;
}

void
parseargs::error (str msg)
{
  strbuf pref;
  if (filename)
    pref << filename << ":";
  if (lineno)
    pref << lineno << ": ";
  else
    pref << " ";
  fatal << pref << msg << "\n";
}

// Between lines: blank lines, comment lines and continuations.
void
parseargs::skipblanks ()
{
  bool bol = true;  // a '#' is a comment only as a line's first character
  while (!at_end ()) {
    char c = at (p_);
    if (bol && c == '#') {
      while (!at_end () && at (p_) != '\n')
        p_++;
      if (!at_end ()) {
        lineno++;
        p_++;
      }
    } else if (blank (c)) {
      bol = false;
      p_++;
    } else if (c == '\n') {
      lineno++;
      p_++;
      bol = true;
    } else if (c == '\\' && at (p_ + 1) == '\n') {
      p_ += 2;
      lineno++;
      bol = false;
    } else {
      return;
    }
  }
}

// Within a line: blanks and continuations.
void
parseargs::skiplwsp ()
{
  while (!at_end ()) {
    if (blank (at (p_))) {
      p_++;
    } else if (at (p_) == '\\' && at (p_ + 1) == '\n') {
      p_ += 2;
      lineno++;
    } else {
      return;
    }
  }
}

// The next word of the current line, or a null str at the end of the line.
str
parseargs::getarg ()
{
  skiplwsp ();
  if (at_end () || at (p_) == '\n')
    return NULL;
  bool quoted = false;
  strbuf word;
  suio *u = word.tosuio ();
  for (;;) {
    if (at_end ()) {
      if (quoted)
        error ("closing '\"' missing");
      return word;
    }
    char c = at (p_);
    if (c == '\\') {
      if (p_ + 1 >= text_.len ()) {
        error ("invalid '\\' before end of file");
        return NULL;
      }
      if (at (p_ + 1) == '\n') {
        skiplwsp ();  // a continuation inside a word joins it to the next line's text
      } else {
        u->copy (&text_.cstr ()[p_ + 1], 1);
        p_ += 2;
      }
      continue;
    }
    if (c == '"')
      quoted = !quoted;
    else if (quoted || !(blank (c) || c == '\n'))
      u->copy (&c, 1);
    else
      return word;
    p_++;
  }
}

bool
parseargs::getline (vec<str> *args, int *linep)
{
  args->clear ();
  skipblanks ();
  if (linep)
    *linep = lineno;
  while (str s = getarg ())
    args->push_back (s);
  return args->size ();
}

// ---- conftab ----

bool
conftab_str::convert (const vec<str> &v, const str &loc, bool *e)
{
  if (dest_ || scb_) {
    // libasync read v[1] for a cbs without checking there was one; here a missing value is a
    // usage error like the str form's.
    if (dest_ ? !count_args (v, 2) : v.size () < 2)
      return false;
    value_ = v[1];
  } else {
    words_ = v;
  }
  loc_ = loc;
  errp_ = e;
  return true;
}

void
conftab_str::set ()
{
  if (dest_) {
    if (check_ && *dest_ && dest_->len ()) {
      warn << loc_ << ": " << name << ": variable already defined\n";
      *errp_ = true;
    } else {
      *dest_ = value_;
    }
  } else if (cnfcb_) {
    (*cnfcb_) (words_, loc_, errp_);
  } else {
    (*scb_) (value_);
  }
}

void
conftab_str::dump (strbuf &b) const
{
  str val;
  if (!dest_ && cnfcb_ && words_.size ())
    val = join (" ", words_);
  else if (dest_ && *dest_)
    val = *dest_;
  if (val)
    b << "\"" << val << "\"";
  else
    b << "(null)";
}

bool
conftab_bool::convert (const vec<str> &v, const str &, bool *)
{
  if (!count_args (v, 2))
    return false;
  err_ = false;
  if (v[1] == "1")
    tmp_ = true;
  else if (v[1] == "0")
    tmp_ = false;
  else
    err_ = true;
  return !err_;
}

bool
conftab_double::convert (const vec<str> &v, const str &, bool *)
{
  if (!count_args (v, 2))
    return false;
  char *end;
  tmp_ = strtod (v[1].cstr (), &end);
  return end != v[1].cstr ();
}

void
conftab_double::dump (strbuf &b) const
{
  b.fmt ("%g", *dest_);
}

conftab::~conftab ()
{
  for (conftab_el *e : v_) {
    tab_.remove (e);
    delete e;
  }
}

conftab &
conftab::insert (conftab_el *e)
{
  tab_.insert (e);
  v_.push_back (e);
  return *this;
}

bool
conftab::match (const vec<str> &av, const str &cf, int ln, bool *err)
{
  if (av.size () < 1)
    return false;
  conftab_el *el = tab_[mytolower (av[0])];
  if (!el)
    return false;
  str loc = strbuf () << cf << ":" << ln;
  if (!el->convert (av, loc, err)) {
    warn << loc << ": usage: " << el->name << " <value>\n";
    *err = true;
  } else if (!el->inbounds ()) {
    warn << loc << ": " << el->name << " out of range\n";
    *err = true;
  } else {
    el->set ();
    el->mark_set ();
  }
  return true;
}

void
conftab::reset ()
{
  for (conftab_el *e : v_)
    e->reset ();
}

void
conftab::apply_defaults ()
{
  for (conftab_el *e : v_)
    if (!e->was_set () && e->apply_default ()) {
      e->mark_set_by_default ();
      e->mark_set ();
    }
}

void
conftab::report (vec<str> *out)
{
  size_t width = 0;
  for (conftab_el *e : v_)
    width = std::max (width, e->get_name ().len ());
  width += 2;
  for (conftab_el *e : v_) {
    strbuf b;
    b << "'" << e->get_name () << "'";
    for (size_t i = e->get_name ().len (); i < width; i++)
      b << " ";
    b << "->  ";
    if (!e->was_set ()) {
      b << "(not set)";
    } else {
      e->dump (b);
      if (e->was_set_by_default ())
        b << " (by default)";
    }
    out->push_back (b);
  }
}

void
conftab::report ()
{
  vec<str> lines;
  report (&lines);
  for (const str &l : lines)
    warn << " " << l << "\n";
}

bool
conftab::run (const str &file, u_int opts, int fd, status_t *sp)
{
  bool errors = false, unknown = false;
  if (opts & (CONFTAB_APPLY_DEFAULTS | CONFTAB_VERBOSE))
    reset ();
  if (file) {
    parseargs pa (file, fd);
    if (opts & CONFTAB_VERBOSE)
      warn << "Parsing configuration file: " << file << "\n";
    vec<str> av;
    int line;
    while (pa.getline (&av, &line))
      if (!match (av, file, line, &errors)) {
        warn << file << ":" << line << ": unknown config parameter\n";
        unknown = true;
      }
  }
  if (opts & CONFTAB_APPLY_DEFAULTS)
    apply_defaults ();
  if (opts & CONFTAB_VERBOSE)
    report ();
  if (sp)
    *sp = errors ? ERROR : unknown ? UNKNOWN : OK;
  return !(errors || unknown);
}
