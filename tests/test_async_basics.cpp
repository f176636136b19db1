// The libasync compatibility layer's foundation headers, one behaviour per test: callbacks and
// wrap, reference counting, str/strbuf/mstr, warn and friends (through a child process, so the
// bytes that reach stderr are what is checked), suio, vec, qhash/ihash, rxx, convertint,
// file2str/str2file. Written in libasync's own spellings: that they compile is half the test.
#include "amisc.h"
#include "callback.h"
#include "err.h"
#include "ihash.h"
#include "parseopt.h"
#include "qhash.h"
#include "refcnt.h"
#include "rxx.h"
#include "serial.h"
#include "str.h"
#include "suio++.h"
#include "vec.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <string>
#include <thread>
#include <vector>

namespace {

// ---- callback.h ----

int sum3 (int a, int b, int c) { return a * 100 + b * 10 + c; }
void append (str *out, str what, int n) { *out = strbuf () << *out << what << n; }

TEST (async_callback, free_function_with_bound_and_call_time_arguments)
{
  callback<int, int, int, int>::ref c0 = wrap (sum3);
  callback<int, int, int>::ref c1 = wrap (sum3, 1);
  callback<int, int>::ref c2 = wrap (sum3, 1, 2);
  callback<int>::ref c3 = wrap (sum3, 1, 2, 3);
  EXPECT_EQ ((*c0) (4, 5, 6), 456);
  EXPECT_EQ ((*c1) (5, 6), 156);
  EXPECT_EQ (c2 (7), 127);         // cb (args) as well as (*cb) (args)
  EXPECT_EQ (c3->operator() (), 123);
  c3->trigger ();                  // trigger discards the result
}

TEST (async_callback, bound_arguments_are_copied_at_wrap_time)
{
  str out = "";
  str what = "a";
  int n = 1;
  cbv cb = wrap (append, &out, what, n);
  what = "changed";
  n = 99;
  (*cb) ();
  (*cb) ();
  EXPECT_EQ (out, "a1a1");
}

TEST (async_callback, char_pointer_bound_to_str_parameter_is_copied)
{
  str out = "";
  char buf[8] = "xy";
  cbv cb = wrap (append, &out, buf, 5);  // str parameter: a str is made now
  strcpy (buf, "ZZ");
  (*cb) ();
  EXPECT_EQ (out, "xy5");
}

struct counter {
  int hits = 0;
  int last = 0;
  void hit () { hits++; }
  void add (int a, int b) { last = a + b; hits++; }
  int get (int k) const { return hits * k; }
  void five (int a, int b, int c, int d, int e, int f) { last = a + b + c + d + e + f; }
};

TEST (async_callback, member_functions_on_raw_pointer_and_const_members)
{
  counter c;
  cbv h = wrap (&c, &counter::hit);
  cbi a = wrap (&c, &counter::add, 40);
  callback<int>::ref g = wrap (static_cast<const counter *> (&c), &counter::get, 10);
  callback<void, int>::ref f = wrap (&c, &counter::five, 1, 2, 3, 4, 5);  // five bound
  (*h) ();
  (*a) (2);
  EXPECT_EQ (c.last, 42);
  EXPECT_EQ ((*g) (), 20);
  (*f) (6);
  EXPECT_EQ (c.last, 21);
}

struct tracked : public virtual refcount {
  static int alive;
  int calls = 0;
  tracked () { alive++; }
  ~tracked () { alive--; }
  void poke (int n) { calls += n; }
  cbv self_cb () { return wrap (mkref (this), &tracked::poke, 1); }
};
int tracked::alive = 0;

TEST (async_callback, wrap_on_ref_ptr_and_refcounted_keeps_the_object_alive)
{
  {
    callback<void, int>::ptr keep;
    {
      ref<tracked> r = New refcounted<tracked>;
      keep = wrap (r, &tracked::poke);
    }
    EXPECT_EQ (tracked::alive, 1);
    (*keep) (3);
    keep = NULL;
    EXPECT_EQ (tracked::alive, 0);
  }
  {
    cbv c = wrap (New refcounted<tracked>, &tracked::poke, 2);  // neither leak nor dangle
    EXPECT_EQ (tracked::alive, 1);
    c ();
  }
  EXPECT_EQ (tracked::alive, 0);
  {
    ptr<tracked> p = New refcounted<tracked>;
    cbv c = p->self_cb ();
    p = NULL;
    EXPECT_EQ (tracked::alive, 1);
    c ();
  }
  EXPECT_EQ (tracked::alive, 0);
}

TEST (async_callback, wrap_of_a_callback_binds_its_first_arguments)
{
  callback<int, int, int>::ref two = wrap (sum3, 9);
  callback<int>::ref none = wrap (two, 8, 7);
  callback<int, int>::ptr p = wrap (two, 1);
  EXPECT_EQ ((*none) (), 987);
  EXPECT_EQ ((*wrap (p, 2)) (), 912);
}

TEST (async_callback, null_callbacks_and_the_do_nothing_ones)
{
  cbv::ptr p = NULL;
  EXPECT_FALSE (p);
  EXPECT_TRUE (p == NULL);
  p = cbv_null;
  EXPECT_TRUE (p);
  (*p) ();
  (*cbi_null) (1);
  (*cbs_null) ("x");
  (*cbb_null) (true);
}

// ---- refcnt.h ----

struct finalizing : public virtual refcount {
  static std::vector<std::string> *log;
  ~finalizing () { log->push_back ("destroyed"); }
  void finalize ()
  {
    log->push_back ("finalize");
    delete this;
  }
};
std::vector<std::string> *finalizing::log;

TEST (async_refcnt, finalize_runs_at_the_last_reference)
{
  std::vector<std::string> log;
  finalizing::log = &log;
  {
    ref<finalizing> a = New refcounted<finalizing>;
    ptr<finalizing> b = a;
    ref<finalizing> c = mkref (b.get ());
    EXPECT_EQ (a->refcount_getcnt (), 3u);
    b = NULL;
    EXPECT_TRUE (log.empty ());
  }
  EXPECT_EQ (log, (std::vector<std::string> {"finalize", "destroyed"}));
}

struct base_t {
  virtual ~base_t () = default;
  virtual int id () const { return 1; }
};
struct derived_t : base_t {
  int id () const override { return 2; }
};

struct self_registered {
  static self_registered *last;
  self_registered () { last = this; }
};
self_registered *self_registered::last;

TEST (async_refcnt, ptr_null_conversion_and_scalars)
{
  ptr<derived_t> none;
  EXPECT_TRUE (!none);
  EXPECT_TRUE (none == NULL);
  ptr<base_t> b = New refcounted<derived_t>;
  EXPECT_EQ (b->id (), 2);
  ref<const base_t> cb = New refcounted<derived_t>;
  EXPECT_EQ (cb->id (), 2);
  ref<bool> flag = New refcounted<bool> (false);
  *flag = true;
  EXPECT_TRUE (*flag);
  ref<int> n = New refcounted<int> (41);
  ++*n;
  EXPECT_EQ (*n, 42);
  // vNew: allocate and drop the pointer (the object registers itself somewhere, as the
  // tutorial's finger objects do).
  vNew self_registered;
  ASSERT_TRUE (self_registered::last);
  delete self_registered::last;
}

TEST (async_refcnt, counts_survive_two_threads_copying_at_once)
{
  ref<int> shared = New refcounted<int> (7);
  auto churn = [&] {
    for (int i = 0; i < 100000; i++) {
      ptr<int> copy = shared;
      ref<int> again = shared;
    }
  };
  std::thread t1 (churn), t2 (churn);
  t1.join ();
  t2.join ();
  EXPECT_EQ (*shared, 7);
}

TEST (async_refcnt, ref_from_null_ptr_dies)
{
  ptr<int> p;
  EXPECT_DEATH ({ ref<int> r (p); }, "null ptr");
}

// ---- str.h ----

TEST (async_str, null_empty_and_comparisons)
{
  str n;
  str e = "";
  str a = "abc";
  EXPECT_FALSE (n);
  EXPECT_TRUE (!n);
  EXPECT_TRUE (e);  // empty is not null
  EXPECT_EQ (n.cstr (), nullptr);
  EXPECT_TRUE (n == NULL);
  EXPECT_FALSE (e == NULL);
  EXPECT_EQ (a.len (), 3u);
  EXPECT_STREQ (a.cstr (), "abc");
  EXPECT_TRUE (a == "abc");
  EXPECT_TRUE ("abc" == a);
  EXPECT_TRUE (a != "ab");
  EXPECT_TRUE (a < str ("abd"));
  EXPECT_TRUE (str ("ab") < a);
  EXPECT_EQ (a[1], 'b');
  str z ("a\0b", 3);
  EXPECT_EQ (z.len (), 3u);
  EXPECT_TRUE (z != "a");  // bytes after '\0' count
  EXPECT_EQ (substr (a, 1), "bc");
  EXPECT_EQ (strlen (a), 3u);  // converts to const char * like SFS 0.8's str
}

TEST (async_str, mstr_becomes_a_str)
{
  mstr m (10);
  memcpy (m.cstr (), "hello, wor", 10);
  m.setlen (5);
  str s = m;
  EXPECT_EQ (s, "hello");
  EXPECT_EQ (s.cstr ()[5], '\0');
  EXPECT_EQ (m.cstr (), nullptr);
}

TEST (async_str, strbuf_streams_formats_and_copies_share_one_buffer)
{
  strbuf sb;
  sb << "n=" << 42 << " u=" << 7u << " l=" << -3L << " s=" << str ("x") << ' ';  // a char: its number
  sb.fmt ("%05.1f|%s", 2.5, "y");
  sb.cat ("!").cat (9);
  EXPECT_EQ (str (sb), "n=42 u=7 l=-3 s=x32002.5|y!9");  // as libasync: char promotes to int
  strbuf shared = sb;
  shared << "+";
  EXPECT_EQ (sb.len (), shared.len ());
  EXPECT_EQ (str (sb), str (shared));
  str built = strbuf () << "a" << 1;
  EXPECT_EQ (built, "a1");
  EXPECT_EQ (str (strbuf ("%d-%s", 3, "z")), "3-z");
  std::string big (5000, 'q');
  EXPECT_EQ (str (strbuf ("%s", big.c_str ())).len (), 5000u);
  EXPECT_EQ (str (strbuf () << hexdump ("\x01\xff", 2)), "01ff");
}

TEST (async_str, whole_string_number_conversions)
{
  int32_t i;
  uint32_t u;
  EXPECT_TRUE (str ("-12").to_int32 (&i));
  EXPECT_EQ (i, -12);
  EXPECT_FALSE (str ("12x").to_int32 (&i));
  EXPECT_FALSE (str (" 12").to_int32 (&i));
  EXPECT_FALSE (str ("").to_int32 (&i));
  EXPECT_FALSE (str ("4294967296").to_uint32 (&u));
  EXPECT_FALSE (str ("-1").to_uint32 (&u));
  EXPECT_TRUE (str ("ff").to_uint32 (&u, 16));
  EXPECT_EQ (u, 255u);
}

// ---- err.h, through a child process ----

struct child_result {
  int status;
  std::string err;
};

child_result
run_warn_child (const char *mode)
{
  const char *exe = getenv ("HUE_ASYNC_WARN_CHILD");
  if (!exe)
    ADD_FAILURE () << "HUE_ASYNC_WARN_CHILD is not set (run through meson test)";
  int p[2];
  if (!exe || pipe (p) != 0)
    return {-1, ""};
  pid_t pid = fork ();
  if (pid == 0) {
    dup2 (p[1], 2);
    close (p[0]);
    close (p[1]);
    execl (exe, "warnchild", mode, (char *) nullptr);
    _exit (127);
  }
  close (p[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read (p[0], buf, sizeof buf)) > 0)
    out.append (buf, size_t (n));
  close (p[0]);
  int status = 0;
  waitpid (pid, &status, 0);
  return {status, out};
}

TEST (async_err, partial_lines_wait_for_their_newline)
{
  child_result r = run_warn_child ("buffering");
  EXPECT_EQ (r.status, 0);
  EXPECT_EQ (r.err, "|MARK|abcdef\nwarnchild: n=7\n");
}

TEST (async_err, percent_m_prints_errno_and_errno_survives)
{
  child_result r = run_warn_child ("errno");
  EXPECT_TRUE (WIFEXITED (r.status) && WEXITSTATUS (r.status) == 0) << r.status;
  EXPECT_EQ (r.err, "warnchild: open x: No such file or directory\nwarnchild: after 2\n");
}

TEST (async_err, a_partial_line_is_flushed_at_exit)
{
  child_result r = run_warn_child ("tail");
  EXPECT_EQ (r.status, 0);
  EXPECT_EQ (r.err, "no newline");
}

TEST (async_err, fatal_flushes_and_exits_1_and_panic_aborts)
{
  child_result f = run_warn_child ("fatal");
  EXPECT_TRUE (WIFEXITED (f.status) && WEXITSTATUS (f.status) == 1) << f.status;
  EXPECT_EQ (f.err, "pending warnchild: fatal: bad config\n");
  child_result p = run_warn_child ("panic");
  EXPECT_TRUE (WIFSIGNALED (p.status) && WTERMSIG (p.status) == SIGABRT) << p.status;
  EXPECT_EQ (p.err, "warnchild: PANIC: broken 42\n");
}

TEST (async_err, lines_from_two_threads_never_interleave)
{
  child_result r = run_warn_child ("threads");
  EXPECT_EQ (r.status, 0);
  int lines[2] = {0, 0};
  size_t pos = 0;
  while (pos < r.err.size ()) {
    size_t nl = r.err.find ('\n', pos);
    ASSERT_NE (nl, std::string::npos);
    std::string line = r.err.substr (pos, nl - pos);
    int t, i;
    char tail[32];
    ASSERT_EQ (sscanf (line.c_str (), "thread %d line %d %31s", &t, &i, tail), 3) << line;
    ASSERT_TRUE (t == 0 || t == 1);
    EXPECT_EQ (i, lines[t]) << "lines of one thread stay in order";
    EXPECT_STREQ (tail, "xxxxxxxxxxxxxxxx");
    lines[t]++;
    pos = nl + 1;
  }
  EXPECT_EQ (lines[0], 2000);
  EXPECT_EQ (lines[1], 2000);
}

// ---- sysconf.h / amisc.h ----

class private_dtor {
public:
  int x = 1;
  PRIVDEST ~private_dtor () = default;  // expands to nothing: the destructor stays public
};

TEST (async_sysconf, bsd_types_min_max_fl_and_timespec_arithmetic)
{
  u_int32_t a = 7;
  u_int16_t b = 9;
  u_char c = 255;
  u_int d = min<u_int> (a, b);
  EXPECT_EQ (d, 7u);
  EXPECT_EQ (max (3, 5), 5);
  EXPECT_EQ (c, 255);
  EXPECT_TRUE (strstr (__FL__, "test_async_basics.cpp:")) << __FL__;
  private_dtor p;
  EXPECT_EQ (p.x, 1);
  char *dup = xstrdup ("abc");
  EXPECT_STREQ (dup, "abc");
  xfree (dup);

  timespec t1 {5, 900000000}, t2 {1, 200000000};
  timespec sum = t1 + t2;
  EXPECT_EQ (sum.tv_sec, 7);
  EXPECT_EQ (sum.tv_nsec, 100000000);
  timespec diff = t2 - t1;  // negative: seconds carry the sign, nanoseconds stay in [0, 1e9)
  EXPECT_EQ (diff.tv_sec, -5);
  EXPECT_EQ (diff.tv_nsec, 300000000);
  EXPECT_TRUE (t2 < t1);
  EXPECT_TRUE (t1 >= t1);
  EXPECT_EQ (tscmp (t1, t2), 1);
  EXPECT_TRUE (sum == (timespec {7, 100000000}));
}

// ---- suio++.h ----

TEST (async_suio, output_drains_to_a_pipe_and_input_reads_back)
{
  int p[2];
  ASSERT_EQ (pipe (p), 0);
  suio out;
  out.print ("hello ", 6);
  out.copy ("world\n", 6);
  out.fill ('!', 3);
  EXPECT_EQ (out.resid (), 15u);
  EXPECT_EQ (out.output (p[1]), 1);
  EXPECT_EQ (out.resid (), 0u);
  EXPECT_EQ (out.output (p[1]), 0);  // nothing pending: no progress
  suio in;
  EXPECT_EQ (in.input (p[0]), 15);
  EXPECT_EQ (in.linelen (), 12);
  EXPECT_EQ (suio_getline (&in), "hello world");
  EXPECT_EQ (str (in), "!!!");
  close (p[0]);
  EXPECT_EQ (out.output (p[1]), 0);
  out.copy ("x", 1);
  signal (SIGPIPE, SIG_IGN);
  EXPECT_EQ (out.output (p[1]), -1);  // reader gone: an error, errno EPIPE
  EXPECT_EQ (errno, EPIPE);
  close (p[1]);
}

TEST (async_suio, output_to_a_full_nonblocking_pipe_makes_partial_progress)
{
  int p[2];
  ASSERT_EQ (pipe (p), 0);
  fcntl (p[1], F_SETFL, O_NONBLOCK);
  suio out;
  std::string big (1 << 20, 'z');
  out.copy (big.data (), big.size ());
  EXPECT_EQ (out.output (p[1]), 1);  // some went, the rest waits (EAGAIN is not an error)
  EXPECT_GT (out.resid (), 0u);
  EXPECT_LT (out.resid (), big.size ());
  EXPECT_EQ (out.output (p[1]), 0);
  close (p[0]);
  close (p[1]);
}

// ---- vec.h ----

TEST (async_vec, fifo_use_keeps_order_and_destroys_at_once)
{
  vec<str> v;
  for (int i = 0; i < 100; i++)
    v.push_back (strbuf () << i);
  for (int i = 0; i < 50; i++)
    EXPECT_EQ (v.pop_front (), str (strbuf () << i));
  for (int i = 100; i < 300; i++)  // growth after pops compacts, order kept
    v.push_back () = strbuf () << i;
  ASSERT_EQ (v.size (), 250u);
  for (size_t i = 0; i < v.size (); i++)
    EXPECT_EQ (v[i], str (strbuf () << int (i + 50)));
  EXPECT_EQ (v.back (), "299");
  EXPECT_EQ (v.pop_back (), "299");
  v.push_back (v.front ());  // an element of v itself, while v may grow
  EXPECT_EQ (v.back (), "50");
  int n = 0;
  for (str &s : v)
    n += s ? 1 : 0;
  EXPECT_EQ (n, 250);
  v.clear ();
  EXPECT_TRUE (v.empty ());

  tracked::alive = 0;
  vec<ref<tracked>> refs;
  refs.push_back (New refcounted<tracked>);
  refs.push_back (New refcounted<tracked>);
  EXPECT_EQ (tracked::alive, 2);
  refs.pop_front ();
  EXPECT_EQ (tracked::alive, 1);  // the popped element was destroyed, not parked
}

// ---- qhash.h / ihash.h ----

void add_value (int *sum, const str &, int *val) { *sum += *val; }

TEST (async_qhash, insert_replace_lookup_remove)
{
  qhash<str, int> ages;
  ages.insert ("alice", 30);
  ages.insert ("bob", 40);
  ages.insert ("alice", 31);
  ASSERT_TRUE (ages["alice"]);
  EXPECT_EQ (*ages["alice"], 31);
  EXPECT_EQ (ages["carol"], nullptr);
  EXPECT_EQ (ages.size (), 2u);
  int v = 0;
  EXPECT_TRUE (ages.remove ("bob", &v));
  EXPECT_EQ (v, 40);
  EXPECT_FALSE (ages.remove ("bob", &v));
  for (int i = 0; i < 1000; i++)
    ages.insert (strbuf () << "k" << i, i);
  for (int i = 0; i < 1000; i++)
    ASSERT_EQ (*ages[strbuf () << "k" << i], i);
  qhash<str, int> copy = ages;
  ages.clear ();
  EXPECT_EQ (copy.size (), 1001u);
  int sum = 0;
  copy.traverse (wrap (add_value, &sum));
  EXPECT_EQ (sum, 31 + 999 * 1000 / 2);
  qhash_iterator_t<str, int> it (copy);
  int walked = 0, seen_value = 0;
  while (const str *k = it.next (&seen_value)) {
    EXPECT_EQ (*copy[*k], seen_value);
    walked++;
  }
  EXPECT_EQ (walked, 1001);

  qhash<int, ref<tracked>> objs;
  objs.insert (1, New refcounted<tracked>);
  ptr<tracked> t = objs[1];  // ref values come back as ptr
  EXPECT_TRUE (t);
  EXPECT_FALSE (objs[2]);

  bhash<str> seen;
  EXPECT_TRUE (seen.insert ("x"));
  EXPECT_FALSE (seen.insert ("x"));
  EXPECT_TRUE (seen["x"]);
  seen.remove ("x");
  EXPECT_FALSE (seen["x"]);
}

// Regression: deleteall restarted its bucket scan after every delete, so destroying a big table
// took minutes (quadratic in the bucket count); the suite's timeout catches a return of that.
TEST (async_qhash, destroying_a_large_table_is_linear)
{
  auto *big = new qhash<int, int>;
  for (int i = 0; i < 200000; i++)
    big->insert (i, i);
  EXPECT_EQ (big->size (), 200000u);
  delete big;
}

struct conn_t {
  int fd;
  str name;
  ihash_entry<conn_t> link;
  conn_t (int f, str n) : fd (f), name (n) {}
};

TEST (async_ihash, intrusive_table_by_member_key)
{
  ihash<int, conn_t, &conn_t::fd, &conn_t::link> byfd;
  std::vector<conn_t *> all;
  for (int i = 0; i < 500; i++) {
    all.push_back (new conn_t (i % 250, strbuf () << "c" << i));
    byfd.insert (all.back ());
  }
  EXPECT_EQ (byfd.size (), 500u);
  conn_t *c = byfd[7];
  ASSERT_TRUE (c);
  EXPECT_EQ (c->fd, 7);
  conn_t *twin = byfd.nextkeq (c);  // keys may repeat
  ASSERT_TRUE (twin);
  EXPECT_EQ (twin->fd, 7);
  EXPECT_NE (twin, c);
  EXPECT_EQ (byfd.nextkeq (twin), nullptr);
  byfd.remove (c);
  EXPECT_EQ (byfd[7], twin);
  EXPECT_EQ (byfd[1000], nullptr);
  size_t n = 0;
  for (conn_t *e = byfd.first (); e; e = byfd.next (e))
    n++;
  EXPECT_EQ (n, 499u);
  byfd.deleteall ();
  EXPECT_EQ (byfd.size (), 0u);
  delete c;
}

// ---- rxx.h ----

TEST (async_rxx, match_search_groups_options_and_split)
{
  rxx kv ("^(\\w+)\\s*=\\s*(.*)$");
  EXPECT_TRUE (kv.match ("port = 8080"));
  EXPECT_EQ (kv[1], "port");
  EXPECT_EQ (kv[2], "8080");
  EXPECT_EQ (kv.start (2), 7);
  EXPECT_EQ (kv.len (1), 4);
  EXPECT_FALSE (kv.match ("= 1"));
  EXPECT_FALSE (kv.success ());

  rxx digits ("[0-9]+");
  EXPECT_FALSE (digits.match ("ab12cd"));  // match: the whole string
  EXPECT_TRUE (digits.search ("ab12cd"));
  EXPECT_EQ (digits[0], "12");
  str line = "abc 42 def";
  EXPECT_TRUE (line / digits);
  EXPECT_EQ (str (line / digits), "42");

  rxx opt ("(x)?hello", "i");
  EXPECT_TRUE (opt.search ("say HeLLo"));
  EXPECT_FALSE (opt[1]);  // an unset group is a null str

  vec<str> parts;
  EXPECT_EQ (split (&parts, rxx (",\\s*"), "a, b,c,"), 3);
  ASSERT_EQ (parts.size (), 3u);
  EXPECT_EQ (parts[1], "b");
  parts.clear ();
  EXPECT_EQ (split (&parts, rxx (","), "a,b,c", 2), 2);
  EXPECT_EQ (parts[1], "b,c");
  EXPECT_EQ (join (str ("-"), parts), "a-b,c");

  rrxx bad;
  EXPECT_FALSE (bad.compile ("(unclosed"));
  EXPECT_TRUE (strstr (bad.geterr ().cstr (), "offset")) << bad.geterr ().cstr ();
  EXPECT_FALSE (bad.search ("x"));  // an uncompiled rrxx matches nothing
  EXPECT_DEATH ({ rxx broken ("("); }, "bad pattern");
  // Catastrophic backtracking ends with an error, not a hang.
  rxx evil ("^(a+)+$");
  std::string as (40, 'a');
  as += 'b';
  EXPECT_FALSE (evil.search (as.c_str ()));
}

// ---- parseopt.h / serial.h ----

TEST (async_parseopt, convertint_accepts_whole_numbers_and_rejects_the_rest)
{
  int i = -7;
  EXPECT_TRUE (convertint ("42", &i));
  EXPECT_EQ (i, 42);
  EXPECT_TRUE (convertint ("0x1f", &i));
  EXPECT_EQ (i, 31);
  EXPECT_TRUE (convertint (str ("-010"), &i));  // base 0: octal
  EXPECT_EQ (i, -8);
  i = -7;
  EXPECT_FALSE (convertint ("", &i));
  EXPECT_FALSE (convertint ("12abc", &i));
  EXPECT_FALSE (convertint (" 12", &i));
  EXPECT_FALSE (convertint ("99999999999", &i));  // does not fit an int
  EXPECT_EQ (i, -7);                             // untouched on failure
  u_int16_t port;
  EXPECT_FALSE (convertint ("70000", &port));
  EXPECT_FALSE (convertint ("-1", &port));
  EXPECT_TRUE (convertint ("65535", &port));
  u_int64_t big;
  EXPECT_TRUE (convertint ("18446744073709551615", &big));
  EXPECT_FALSE (convertint ("18446744073709551616", &big));
  EXPECT_FALSE (convertint (str ("1\0002", 3), &i));
}

TEST (async_serial, str2file_and_file2str_round_trip)
{
  char dir[] = "/tmp/hue-async-serialXXXXXX";
  ASSERT_TRUE (mkdtemp (dir));
  str path = strbuf () << dir << "/f";
  str data ("bin\0ary\n", 8);
  struct stat sb;
  ASSERT_TRUE (str2file (path, data, 0600, false, &sb));
  EXPECT_EQ (sb.st_mode & 0777, 0600u);
  EXPECT_EQ (file2str (path), data);
  ASSERT_TRUE (str2file (path, "replaced"));
  EXPECT_EQ (file2str (path), "replaced");
  EXPECT_FALSE (str2file (path, "x", 0666, true));  // excl: exists
  EXPECT_EQ (errno, EEXIST);
  EXPECT_FALSE (file2str (strbuf () << dir << "/missing"));
  EXPECT_EQ (errno, ENOENT);
  unlink (path);
  rmdir (dir);
}

}  // namespace
