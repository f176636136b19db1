// The libasync compatibility layer's foundation headers, one behaviour per test: callbacks and
// wrap, reference counting, str/strbuf/mstr, warn and friends (through a child process, so the
// bytes that reach stderr are what is checked), suio, vec, qhash/ihash, rxx, convertint,
// file2str/str2file. Written in libasync's own spellings: that they compile is half the test.
#include "amisc.h"
#include "callback.h"
#include "err.h"
#include "refcnt.h"
#include "str.h"

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
  vNew refcounted<int> (0);  // libasync's "allocate, ignore the result": a leak it accepted
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

}  // namespace
