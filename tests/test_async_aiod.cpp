// aiod.h: libasync's asynchronous file system calls on hue's helper threads. Calls on a temporary
// folder with the results and errors libasync's callbacks got; requests in order with one helper;
// the buffer budget and bufwait; the loop kept running while a call blocks; completions on the
// loop thread, on a colored callback's color and on the calling color. AsyncAiodColors.* also run
// in the 'concurrency' suite (under ThreadSanitizer): an object kept on one color shares plain
// fields with its aiod completions, which is a race unless they run on that color.
#include <gtest/gtest.h>

#include <hue/runtime.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>

#include "aiod.h"
#include "async_support.hpp"

namespace {

using async_test::guard;

bool
run_until (std::function<bool ()> pred, double seconds = 10)
{
  return async_test::run_until (pred, seconds);
}

struct tmpdir {
  std::string path;
  tmpdir ()
  {
    char t[] = "/tmp/hue-aiod-XXXXXX";
    EXPECT_NE (mkdtemp (t), nullptr);
    path = t;
  }
  ~tmpdir () { EXPECT_EQ (system (("rm -rf '" + path + "'").c_str ()), 0); }
  str operator() (const char *name) const { return str ((path + "/" + name).c_str ()); }
};

// What a callback got, and on which thread.
struct got {
  bool done = false;
  int err = -1;
  ptr<aiofh> fh;
  ptr<aiobuf> buf;
  ssize_t n = -2;
  bool have_stat = false;
  struct stat sb {};
  str s;
  std::thread::id thread;
  void mark () { done = true; thread = std::this_thread::get_id (); }
};
void on_err (got *g, int err) { g->err = err; g->mark (); }
void on_open (got *g, ptr<aiofh> fh, int err) { g->fh = fh; g->err = err; g->mark (); }
void on_rw (got *g, ptr<aiobuf> b, ssize_t n, int err) { g->buf = b; g->n = n; g->err = err; g->mark (); }
void on_stat (got *g, struct stat *sb, int err)
{
  g->have_stat = sb;
  if (sb)
    g->sb = *sb;
  g->err = err;
  g->mark ();
}
void on_str (got *g, str s, int err) { g->s = s; g->err = err; g->mark (); }

bool wait (got &g) { return run_until ([&] { return g.done; }); }

TEST (AsyncAiod, OpenWriteReadFstatStatCloseOnATempDir)
{
  tmpdir d;
  aiod *a = New aiod;
  mode_t old = umask (077);  // libasync's helpers created with the mode as given (umask 0)
  got o;
  a->open (d ("f"), O_CREAT | O_RDWR | O_TRUNC, 0664, wrap (on_open, &o));
  ASSERT_TRUE (wait (o));
  umask (old);
  ASSERT_EQ (o.err, 0);
  ASSERT_TRUE (o.fh);
  EXPECT_EQ (o.thread, std::this_thread::get_id ());  // uncolored: on the loop thread

  ptr<aiobuf> b = a->bufalloc (6);
  ASSERT_TRUE (b);
  EXPECT_EQ (b->size (), 6u);
  EXPECT_EQ (b->lim () - b->base (), 6);
  memcpy (b->base (), "hello\n", 6);
  got w;
  o.fh->write (0, b, wrap (on_rw, &w));
  ASSERT_TRUE (wait (w));
  EXPECT_EQ (w.err, 0);
  EXPECT_EQ (w.n, 6);
  EXPECT_EQ (w.buf.get (), b.get ());

  // sread: 3 bytes from offset 2, into the buffer at 1.
  ptr<aiobuf> r = a->bufalloc (8);
  memset (r->base (), '.', 8);
  got rd;
  o.fh->sread (2, r, 1, 3, wrap (on_rw, &rd));
  ASSERT_TRUE (wait (rd));
  EXPECT_EQ (rd.err, 0);
  EXPECT_EQ (rd.n, 3);
  EXPECT_EQ (std::string (r->base (), 8), ".llo....");

  got fs;
  o.fh->fstat (wrap (on_stat, &fs));
  ASSERT_TRUE (wait (fs));
  EXPECT_EQ (fs.err, 0);
  EXPECT_TRUE (fs.have_stat);
  EXPECT_EQ (fs.sb.st_size, 6);
  EXPECT_EQ (fs.sb.st_mode & 07777, 0664u);

  got st;
  a->stat (d ("f"), wrap (on_stat, &st));
  ASSERT_TRUE (wait (st));
  EXPECT_EQ (st.err, 0);
  EXPECT_EQ (st.sb.st_ino, fs.sb.st_ino);

  got tr, sy;
  o.fh->ftrunc (2, wrap (on_err, &tr));
  o.fh->fsync (wrap (on_err, &sy));
  ASSERT_TRUE (wait (tr) && wait (sy));
  EXPECT_EQ (tr.err, 0);
  EXPECT_EQ (sy.err, 0);
  struct stat sb;
  ASSERT_EQ (::stat (d ("f").cstr (), &sb), 0);
  EXPECT_EQ (sb.st_size, 2);

  got c1, c2;
  o.fh->close (wrap (on_err, &c1));
  ASSERT_TRUE (wait (c1));
  EXPECT_EQ (c1.err, 0);
  o.fh->close (wrap (on_err, &c2));  // libasync: EBADF, at once
  EXPECT_TRUE (c2.done);
  EXPECT_EQ (c2.err, EBADF);
  got late;
  o.fh->read (0, r, wrap (on_rw, &late));  // a closed handle: (NULL, -1, EBADF), at once
  EXPECT_TRUE (late.done);
  EXPECT_EQ (late.err, EBADF);
  EXPECT_EQ (late.n, -1);
  EXPECT_FALSE (late.buf);
  a->finalize ();
}

TEST (AsyncAiod, ErrorsAreReportedAsLibasyncReportedThem)
{
  tmpdir d;
  aiod *a = New aiod;
  got o, s, u, m1, m2, rl, gc, rn, wr;
  a->open (d ("missing"), O_RDONLY, 0, wrap (on_open, &o));
  a->stat (d ("missing"), wrap (on_stat, &s));
  a->unlink (d ("missing"), wrap (on_err, &u));
  a->mkdir (d ("dir"), 0755, wrap (on_err, &m1));
  ASSERT_TRUE (wait (m1));
  a->mkdir (d ("dir"), 0755, wrap (on_err, &m2));
  a->readlink (d ("dir"), wrap (on_str, &rl));      // not a link
  a->getcwd (d ("missing"), wrap (on_str, &gc));
  a->rename (d ("missing"), d ("x"), wrap (on_err, &rn));
  ASSERT_TRUE (wait (o) && wait (s) && wait (u) && wait (m2) && wait (rl) && wait (gc) && wait (rn));
  EXPECT_EQ (o.err, ENOENT);
  EXPECT_FALSE (o.fh);  // (NULL, errno)
  EXPECT_EQ (s.err, ENOENT);
  EXPECT_FALSE (s.have_stat);  // (NULL, errno)
  EXPECT_EQ (u.err, ENOENT);
  EXPECT_EQ (m1.err, 0);
  EXPECT_EQ (m2.err, EEXIST);
  EXPECT_EQ (rl.err, EINVAL);
  EXPECT_FALSE (rl.s);  // (NULL, errno)
  EXPECT_EQ (gc.err, ENOENT);
  EXPECT_EQ (rn.err, ENOENT);

  // A write on a read-only handle: (NULL, -1, EBADF) from the helper.
  got f;
  ASSERT_EQ (system (("touch '" + d.path + "/ro'").c_str ()), 0);
  a->open (d ("ro"), O_RDONLY, 0, wrap (on_open, &f));
  ASSERT_TRUE (wait (f));
  ASSERT_TRUE (f.fh);
  ptr<aiobuf> b = a->bufalloc (4);
  f.fh->write (0, b, wrap (on_rw, &wr));
  ASSERT_TRUE (wait (wr));
  EXPECT_EQ (wr.err, EBADF);
  EXPECT_EQ (wr.n, -1);
  EXPECT_FALSE (wr.buf);
  // readdir on a file handle, getcwd of a file.
  got rdf, gcf;
  ptr<aiobuf> db = a->bufalloc (sizeof (dirent));
  f.fh->readdir (db, wrap (on_rw, &rdf));
  a->getcwd (d ("ro"), wrap (on_str, &gcf));
  ASSERT_TRUE (wait (rdf) && wait (gcf));
  EXPECT_EQ (rdf.err, ENOTDIR);
  EXPECT_EQ (gcf.err, ENOTDIR);
  a->finalize ();
}

TEST (AsyncAiod, PathCallsLinksAndDirectories)
{
  tmpdir d;
  aiod *a = New aiod;
  ASSERT_EQ (system (("echo hi > '" + d.path + "/a'").c_str ()), 0);
  got ln, sl, rn, rl, ls, gc, sv;
  a->link (d ("a"), d ("b"), wrap (on_err, &ln));
  a->symlink ("b", d ("s"), wrap (on_err, &sl));
  ASSERT_TRUE (wait (ln) && wait (sl));
  a->rename (d ("b"), d ("c"), wrap (on_err, &rn));
  a->readlink (d ("s"), wrap (on_str, &rl));
  a->lstat (d ("s"), wrap (on_stat, &ls));
  a->getcwd (str (d.path.c_str ()), wrap (on_str, &gc));
  struct sv_got {
    bool done = false;
    int err = -1;
    bool have = false;
  } svg;
  a->statvfs (str (d.path.c_str ()), mkcallback<void, struct statvfs *, int> (
                                        [&] (struct statvfs *v, int e) {
                                          svg.have = v && v->f_bsize > 0;
                                          svg.err = e;
                                          svg.done = true;
                                        }));
  ASSERT_TRUE (wait (rn) && wait (rl) && wait (ls) && wait (gc));
  ASSERT_TRUE (run_until ([&] { return svg.done; }));
  EXPECT_EQ (ln.err, 0);
  EXPECT_EQ (sl.err, 0);
  EXPECT_EQ (rn.err, 0);
  EXPECT_EQ (rl.err, 0);
  EXPECT_EQ (rl.s, "b");
  EXPECT_EQ (ls.err, 0);
  EXPECT_TRUE (S_ISLNK (ls.sb.st_mode));
  char *real = realpath (d.path.c_str (), nullptr);
  EXPECT_EQ (gc.s, real);
  free (real);
  EXPECT_EQ (svg.err, 0);
  EXPECT_TRUE (svg.have);

  // opendir/readdir: every entry once, then 0.
  got od;
  a->opendir (str (d.path.c_str ()), wrap (on_open, &od));
  ASSERT_TRUE (wait (od));
  ASSERT_TRUE (od.fh);
  std::set<std::string> names;
  for (int i = 0; i < 20; i++) {
    got e;
    ptr<aiobuf> b = a->bufalloc (sizeof (dirent));
    od.fh->readdir (b, wrap (on_rw, &e));
    ASSERT_TRUE (wait (e));
    ASSERT_EQ (e.err, 0);
    if (e.n == 0)
      break;
    ASSERT_EQ (e.n, ssize_t (sizeof (dirent)));
    names.insert (reinterpret_cast<dirent *> (b->base ())->d_name);
  }
  EXPECT_EQ (names, (std::set<std::string> {".", "..", "a", "c", "s"}));
  got cd;
  od.fh->closedir (wrap (on_err, &cd));
  ASSERT_TRUE (wait (cd));
  EXPECT_EQ (cd.err, 0);
  a->finalize ();
}

// One helper (libasync's default): requests run in the order made, so a read queued right after a
// write sees it, with no wait in between.
TEST (AsyncAiod, OneHelperKeepsRequestOrder)
{
  tmpdir d;
  aiod *a = New aiod (1);
  got o;
  a->open (d ("f"), O_CREAT | O_RDWR, 0600, wrap (on_open, &o));
  ASSERT_TRUE (wait (o));
  ASSERT_TRUE (o.fh);
  const int n = 16;
  got w[n], r[n];
  ptr<aiobuf> rb[n];
  for (int i = 0; i < n; i++) {
    ptr<aiobuf> b = a->bufalloc (1);
    b->base ()[0] = char ('a' + i);
    o.fh->write (i, b, wrap (on_rw, &w[i]));
    rb[i] = a->bufalloc (1);
    o.fh->read (i, rb[i], wrap (on_rw, &r[i]));
  }
  ASSERT_TRUE (run_until ([&] { return r[n - 1].done; }));
  for (int i = 0; i < n; i++) {
    EXPECT_EQ (r[i].n, 1) << i;
    EXPECT_EQ (rb[i]->base ()[0], char ('a' + i)) << i;
  }
  a->finalize ();
}

void waited (bool *f) { *f = true; }

// libasync's budget was its shared-memory file: bufalloc answers NULL when it is spent, and
// bufwait's callback runs after a buffer is freed.
TEST (AsyncAiod, BufallocBudgetAndBufwait)
{
  aiod *a = New aiod (1, 0x100, 0x40);  // four 64-byte blocks
  ptr<aiobuf> b[4];
  for (auto &x : b) {
    x = a->bufalloc (40);  // charged as 64, a buddy block
    ASSERT_TRUE (x);
  }
  EXPECT_FALSE (a->bufalloc (1));
  bool woke = false;
  a->bufwait (wrap (waited, &woke));
  {
    guard g (1000000);
    acheck ();
  }
  EXPECT_FALSE (woke);
  b[2] = nullptr;
  ASSERT_TRUE (run_until ([&] { return woke; }));
  EXPECT_TRUE (a->bufalloc (64));
  a->finalize ();
}

void open_writer (str fifo, int *fd) { *fd = open (fifo.cstr (), O_RDWR | O_NONBLOCK); }
void tick (int *n) { ++*n; }

// A call that blocks (opening a FIFO with no writer) holds a helper, not the loop: timers keep
// firing, and one of them opens the writer that lets the call finish.
TEST (AsyncAiod, TheLoopRunsWhileACallBlocks)
{
  tmpdir d;
  ASSERT_EQ (mkfifo (d ("fifo").cstr (), 0600), 0);
  aiod *a = New aiod;
  got o;
  a->open (d ("fifo"), O_RDONLY, 0, wrap (on_open, &o));
  int ticks = 0;
  for (int i = 1; i <= 5; i++)
    delaycb (0, 20000000 * i, wrap (tick, &ticks));
  ASSERT_TRUE (run_until ([&] { return ticks == 5; }));
  EXPECT_FALSE (o.done);  // still blocked in open(2), on a helper
  int wfd = -1;
  delaycb (0, 1000000, wrap (open_writer, d ("fifo"), &wfd));
  ASSERT_TRUE (wait (o));
  EXPECT_GE (wfd, 0);
  EXPECT_EQ (o.err, 0);
  EXPECT_TRUE (o.fh);
  close (wfd);
  a->finalize ();
}

// The shape of sfslite's tests/test_aiod.C: many aiods, each finalized at once while its
// requests are still outstanding; the last one's completion exits. Finalize must keep each aiod
// until its requests have completed.
struct aio_user : public virtual refcount {
  aiod *a;
  str path;
  ptr<aiobuf> buf;
  int *left;
  aio_user (aiod *a, str p, int *l) : a (a), path (p), left (l) {}
  void start ()
  {
    str msg = strbuf () << "This is " << path << ".\n";
    buf = a->bufalloc (msg.len () + 1);
    ASSERT_TRUE (buf);
    strcpy (buf->base (), msg.cstr ());
    a->open (path, O_CREAT | O_RDWR | O_TRUNC, 0666, wrap (mkref (this), &aio_user::opened));
    a->finalize ();
  }
  void opened (ptr<aiofh> fh, int err)
  {
    ASSERT_TRUE (fh) << strerror (err);
    fh->write (0, buf, wrap (mkref (this), &aio_user::written));
  }
  void written (ptr<aiobuf>, ssize_t, int err)
  {
    ASSERT_EQ (err, 0);
    a->unlink (path, wrap (mkref (this), &aio_user::unlinked));
  }
  void unlinked (int err) { ASSERT_EQ (err, 0); }
  ~aio_user () { --*left; }
};

TEST (AsyncAiod, FinalizedAiodsFinishTheirRequests)
{
  tmpdir d;
  int left = 32;
  for (int i = 0; i < 32; i++) {
    std::string name = "aio." + std::to_string (i) + "~";
    ref<aio_user> u = New refcounted<aio_user> (New aiod (1, 0x10000, 0x10000), d (name.c_str ()),
                                                &left);
    u->start ();
  }
  ASSERT_TRUE (run_until ([&] { return left == 0; }));
  struct stat sb;
  EXPECT_EQ (::stat (d ("aio.0~").cstr (), &sb), -1);  // unlinked
}

// ---- colors ----

// An object kept on one color: its fields are plain, touched by its own colored callbacks and by
// its aiod completions. ThreadSanitizer reports a race if a completion runs anywhere else.
struct on_one_color : async_test::kept_on_color {
  aiod *a;
  str path;
  int completions = 0;  // plain on purpose
  int own_runs = 0;     // plain on purpose

  // On the color: stat with an uncolored callback (the caller's color applies) and with a
  // colored one (its own color, the same here), plus an own callback.
  void start (int rounds)
  {
    check_color ();
    for (int i = 0; i < rounds; i++) {
      a->stat (path, wrap (this, &on_one_color::stat_done));
      a->lstat (path, cwrap (color, this, &on_one_color::stat_done));
      cpucb (cwrap (color, this, &on_one_color::own));
    }
  }
  void stat_done (struct stat *sb, int err)
  {
    check_color ();
    if (!sb || err)
      wrong_color = true;
    ++completions;
    ++finished;
  }
  void own ()
  {
    check_color ();
    ++own_runs;
  }
};

TEST (AsyncAiodColors, CompletionsRunOnTheCallersColorAndOnTheCallbacksColor)
{
  tmpdir d;
  ASSERT_EQ (system (("touch '" + d.path + "/f'").c_str ()), 0);
  aiod *a = New aiod (2);  // two helpers: completions arrive from two threads
  on_one_color objs[3];
  const int rounds = 40;
  for (auto &o : objs) {
    o.color = new_cbcolor ();
    o.a = a;
    o.path = d ("f");
    cpucb (cwrap (o.color, &o, &on_one_color::start, rounds));
  }
  ASSERT_TRUE (run_until ([&] {
    for (auto &o : objs)
      if (o.finished < 2 * rounds)
        return false;
    return true;
  }));
  // A fence on each color, so its last callbacks are seen here.
  std::atomic<int> fences {0};
  auto fence = [] (std::atomic<int> *f) { ++*f; };
  for (auto &o : objs)
    cpucb (cwrap (o.color, +fence, &fences));
  ASSERT_TRUE (run_until ([&] { return fences == 3; }));
  for (auto &o : objs) {
    EXPECT_FALSE (o.wrong_color);
    EXPECT_EQ (o.completions, 2 * rounds);
    EXPECT_EQ (o.own_runs, rounds);
  }
  a->finalize ();
}

void colored_open_done (std::atomic<int> *bad, cbcolor_t want, std::atomic<bool> *done,
                        ptr<aiofh> fh, int err)
{
  std::optional<hue::color_t> c = hue::runtime::current_color ();
  if (!c || *c != want || !fh || err)
    ++*bad;
  *done = true;
}

// Called from the loop thread with a colored callback: it runs on its color, not on the loop.
TEST (AsyncAiodColors, AColoredCallbackFromTheLoopRunsOnItsColor)
{
  tmpdir d;
  aiod *a = New aiod;
  cbcolor_t c = new_cbcolor ();
  std::atomic<int> bad {0};
  std::atomic<bool> done {false};
  a->open (d ("f"), O_CREAT | O_WRONLY, 0600, cwrap (c, colored_open_done, &bad, c, &done));
  ASSERT_TRUE (run_until ([&] { return done.load (); }));
  EXPECT_EQ (bad, 0);
  a->finalize ();
}

struct bufwait_on_color {
  cbcolor_t color;
  aiod *a;
  std::atomic<int> bad {0};
  std::atomic<bool> woke {false};
  void start ()
  {
    ptr<aiobuf> b = a->bufalloc (0x40);  // the whole budget
    if (!b || a->bufalloc (1))
      ++bad;
    a->bufwait (wrap (this, &bufwait_on_color::wake));
  }  // b freed here: the waiter is woken, on this color
  void wake ()
  {
    std::optional<hue::color_t> c = hue::runtime::current_color ();
    if (!c || *c != color)
      ++bad;
    woke = true;
  }
};

// bufwait with an uncolored callback from inside a colored one: woken on the caller's color.
TEST (AsyncAiodColors, BufwaitFromAColorWakesOnIt)
{
  bufwait_on_color w;
  w.color = new_cbcolor ();
  w.a = New aiod (1, 0x40, 0x40);
  cpucb (cwrap (w.color, &w, &bufwait_on_color::start));
  ASSERT_TRUE (run_until ([&] { return w.woke.load (); }));
  EXPECT_EQ (w.bad, 0);
  w.a->finalize ();
}

}  // namespace
