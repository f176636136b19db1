// aiod.h on hue: libasync's asynchronous file system calls, made by helper threads.
//
// A request is a heap object with two halves: `work`, run by one of the aiod's helper threads
// (helper_pool.hpp), which makes the blocking call and records its result; and `done`, run where
// the completion belongs (aiod.h: the callback's color, the caller's color, or the loop thread),
// which calls the program's callback and then deletes the request. Ownership moves in one line:
// the caller's thread makes the request, the helper only ever holds a raw pointer to it, and the
// request (with the program's callbacks, handles and buffers it holds) dies where `done` ran, so
// no program object is ever released on a helper thread.
//
// An aiod counts its buffers, handles and requests; finalize() deletes it when the count reaches
// zero (libasync counted its buffers, which every request held). Its pool is destroyed with it,
// after running any handle closes still queued.
//
// Hazards: with colored callers, an aiod and its handles are used from several threads at once,
// so the budget, the wait queue, the counts and each handle's open/closed state are under
// mutexes; none is held while a program's callback runs. A handle's descriptor is closed only
// when no request on it is in flight (close waits for them), so a descriptor number is never
// reused under a pread still running.
#include "aiod.h"

#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "helper_pool.hpp"

namespace hue_async_detail {

// Where a completion runs.
struct aiod_target {
  bool colored = false;
  cbcolor_t color = 0;
};

struct aiod_request {
  aiod *iod;
  aiod_target target;
  std::function<void ()> work;  // on a helper thread
  std::function<void ()> done;  // on the target
};

struct aiofh_state {
  std::mutex mu;
  int fd = -1;
  DIR *dir = nullptr;  // a directory handle's stream (fd is then its dirfd)
  bool isdir;
  bool closed = false;  // by close(), or by the destructor
  unsigned inflight = 0;
  aiod_request *pending_close = nullptr;  // close() made while requests were in flight
  std::mutex dir_mu;                      // readdir on one stream, one at a time

  explicit aiofh_state (bool d) : isdir (d) {}
};

struct aiod_state {
  std::mutex mu;
  size_t budget;
  size_t used = 0;
  std::vector<std::pair<cbv, aiod_target>> waitq;  // bufwait callbacks and where they run
  size_t refs = 0;
  bool finalized = false;
  helper_pool pool;

  aiod_state (unsigned nproc, size_t b) : budget (b), pool (nproc) {}

  // The completion target of a request whose callback is cb.
  template<class Cb>
  static aiod_target target_for (const ref<Cb> &cb)
  {
    aiod_target t;
    if (auto *c = dynamic_cast<colored_base *> (cb.get ())) {
      t.colored = true;
      t.color = c->cbcolor;
    } else
      t.colored = running_color (&t.color);
    return t;
  }

  // Calls cb on the thread `done` runs on. A colored cb is already on its color there, so its
  // inner callback is called directly: going through the colored wrapper would post it once more,
  // after the request (and the stat buffer a pointer argument points into) had been deleted.
  template<class Cb, class... A>
  static void call (const ref<Cb> &cb, A... a)
  {
    using colored = typename colored_for<Cb>::type;
    if (auto *c = dynamic_cast<colored *> (cb.get ()))
      (*c->bind_args (a...)) ();
    else
      (*cb) (a...);
  }

  static aiod_request *make (aiod *iod, aiod_target t, std::function<void ()> work,
                             std::function<void ()> done)
  {
    iod->addref ();
    return new aiod_request {iod, t, std::move (work), std::move (done)};
  }

  // Runs a callback with no arguments where a completion would run: for bufwait.
  static void post_to (const cbv &cb, const aiod_target &t)
  {
    if (t.colored && !dynamic_cast<colored_base *> (cb.get ()))
      post_colored (t.color, cb);
    else
      cpucb (cb);  // colored: posted on its color; uncolored: the loop's next pass
  }

  static void deliver (aiod_request *r)
  {
    cbv run = mkcallback<void> ([r] () {
      r->done ();
      aiod *iod = r->iod;
      delete r;
      iod->delref ();
    });
    if (r->target.colored)
      post_colored (r->target.color, run);
    else
      cpucb (run);  // uncolored: queued for the loop thread, which is woken
  }

  static void submit (aiod_request *r)
  {
    r->iod->st->pool.submit ([r] () {
      r->work ();
      deliver (r);
    });
  }

  template<class Cb>
  static void submit (aiod *iod, const ref<Cb> &cb, std::function<void ()> work,
                      std::function<void ()> done)
  {
    submit (make (iod, target_for (cb), std::move (work), std::move (done)));
  }

  // A call by path whose result is an errno (0 on success).
  static void errop (aiod *iod, cbi cb, std::function<int ()> op)
  {
    auto err = std::make_shared<int> (0);
    submit (iod, cb, [op, err] () { *err = op (); }, [cb, err] () { call (cb, *err); });
  }

  static void statop (aiod *iod, aiod::cbstat cb, std::function<int (struct stat *)> op)
  {
    struct res {
      struct stat sb;
      int err = 0;
    };
    auto r = std::make_shared<res> ();
    submit (iod, cb, [op, r] () { r->err = op (&r->sb); }, [cb, r] () {
      if (r->err)
        call (cb, (struct stat *) nullptr, r->err);
      else
        call (cb, &r->sb, 0);
    });
  }

  static void strop (aiod *iod, aiod::cbsi cb, std::function<int (std::string *)> op)
  {
    struct res {
      std::string s;
      int err = 0;
    };
    auto r = std::make_shared<res> ();
    submit (iod, cb, [op, r] () { r->err = op (&r->s); }, [cb, r] () {
      if (r->err)
        call (cb, str (), r->err);
      else
        call (cb, str (r->s.data (), r->s.size ()), 0);
    });
  }

  // A request on a handle: counted in flight from now until its helper has made the call.
  // False (and nothing counted) when the handle is closed.
  static bool fh_begin (aiofh_state *s)
  {
    std::lock_guard<std::mutex> g (s->mu);
    if (s->closed)
      return false;
    ++s->inflight;
    return true;
  }
  // On the helper, after the call: the last request in flight releases a waiting close.
  static void fh_end (aiofh_state *s)
  {
    aiod_request *c = nullptr;
    {
      std::lock_guard<std::mutex> g (s->mu);
      if (--s->inflight == 0) {
        c = s->pending_close;
        s->pending_close = nullptr;
      }
    }
    if (c)
      submit (c);
  }
};

namespace {

constexpr int errno_or_zero (int rc) { return rc < 0 ? errno : 0; }

size_t
buddy_size (size_t len)
{
  size_t n = aiod::minbuf;
  while (n < len)
    n <<= 1;
  return n;
}

// The descriptor a handle's calls use (a directory's stream has one too).
int
fh_fd (const aiofh_state *s)
{
  return s->dir ? dirfd (s->dir) : s->fd;
}

// Opens like libasync's helpers, which ran with umask 0: a file this call creates gets `mode`
// exactly. O_CREAT without O_EXCL is split into "create exclusively, then chmod" and "open the
// existing file"; a file that appears or vanishes between the two is retried a few times, then
// opened plainly.
int
open_as_created (const char *path, int flags, int mode)
{
  flags |= O_CLOEXEC;  // in this process now, not in a helper's: never inherited by children
  if (!(flags & O_CREAT))
    return open (path, flags);
  for (int tries = 0; tries < 4; tries++) {
    int fd = open (path, flags | O_EXCL, mode);
    if (fd >= 0) {
      if (fchmod (fd, mode_t (mode) & 07777) < 0) {
        int e = errno;
        close (fd);
        errno = e;
        return -1;
      }
      return fd;
    }
    if (errno != EEXIST || (flags & O_EXCL))
      return -1;
    fd = open (path, flags & ~O_CREAT);
    if (fd >= 0 || errno != ENOENT)
      return fd;
  }
  return open (path, flags, mode);
}

}  // namespace
}  // namespace hue_async_detail

using hue_async_detail::aiod_state;
using hue_async_detail::aiofh_state;

// ---- aiobuf ----

aiobuf::aiobuf (aiod *d, char *b, size_t l, size_t c) : buf (b), len (l), iod (d), charged (c)
{
  iod->addref ();
}

aiobuf::~aiobuf ()
{
  free (buf);
  std::vector<std::pair<cbv, hue_async_detail::aiod_target>> wake;
  {
    std::lock_guard<std::mutex> g (iod->st->mu);
    iod->st->used -= charged;
    wake.swap (iod->st->waitq);
  }
  for (auto &w : wake)
    aiod_state::post_to (w.first, w.second);
  iod->delref ();
}

// ---- aiod ----

aiod::aiod (u_int nproc, ssize_t shmsize, size_t mb, bool shmpin, str path, str tmpdir)
  : maxbuf (mb), st (new aiod_state (nproc, 0))
{
  (void) shmpin;
  (void) path;
  (void) tmpdir;
  if (shmsize <= 0 || !mb)
    panic ("aiod: shmsize %zd and maxbuf %zu must be positive\n", shmsize, mb);
  st->budget = (size_t (shmsize) + mb - 1) / mb * mb;
}

aiod::~aiod ()
{
  delete st;
}

void
aiod::addref ()
{
  std::lock_guard<std::mutex> g (st->mu);
  ++st->refs;
}

void
aiod::delref ()
{
  bool last;
  {
    std::lock_guard<std::mutex> g (st->mu);
    last = --st->refs == 0 && st->finalized;
  }
  if (last)
    delete this;
}

void
aiod::finalize ()
{
  bool last;
  {
    std::lock_guard<std::mutex> g (st->mu);
    st->finalized = true;
    last = st->refs == 0;
  }
  if (last)
    delete this;
}

ptr<aiobuf>
aiod::bufalloc (size_t len)
{
  if (!len || len > maxbuf)
    panic ("aiod::bufalloc: %zu bytes (1 to maxbuf %zu)\n", len, maxbuf);
  size_t charged = hue_async_detail::buddy_size (len);
  {
    std::lock_guard<std::mutex> g (st->mu);
    if (st->used + charged > st->budget)
      return NULL;
    st->used += charged;
  }
  char *b = static_cast<char *> (aligned_alloc (minbuf, charged));
  if (!b)
    fatal ("aiod::bufalloc: out of memory\n");
  return New refcounted<aiobuf> (this, b, len, charged);
}

void
aiod::bufwait (cbv cb)
{
  hue_async_detail::aiod_target t = aiod_state::target_for (cb);
  {
    std::lock_guard<std::mutex> g (st->mu);
    // With nothing allocated no free is coming to wake it (a buffer freed on another color
    // between the failed bufalloc and this call): try again now.
    if (st->used) {
      st->waitq.emplace_back (cb, t);
      return;
    }
  }
  aiod_state::post_to (cb, t);
}

void
aiod::unlink (str path, cbi cb)
{
  aiod_state::errop (this, cb, [path] () {
    return hue_async_detail::errno_or_zero (::unlink (path.cstr ()));
  });
}

void
aiod::link (str from, str to, cbi cb)
{
  aiod_state::errop (this, cb, [from, to] () {
    return hue_async_detail::errno_or_zero (::link (from.cstr (), to.cstr ()));
  });
}

void
aiod::symlink (str from, str to, cbi cb)
{
  aiod_state::errop (this, cb, [from, to] () {
    return hue_async_detail::errno_or_zero (::symlink (from.cstr (), to.cstr ()));
  });
}

void
aiod::rename (str from, str to, cbi cb)
{
  aiod_state::errop (this, cb, [from, to] () {
    return hue_async_detail::errno_or_zero (::rename (from.cstr (), to.cstr ()));
  });
}

void
aiod::mkdir (str dir, int mode, cbi cb)
{
  aiod_state::errop (this, cb, [dir, mode] () {
    if (::mkdir (dir.cstr (), mode_t (mode)) < 0)
      return errno;
    // The mode exactly, as libasync's helpers (umask 0) created it.
    return hue_async_detail::errno_or_zero (::chmod (dir.cstr (), mode_t (mode) & 07777));
  });
}

void
aiod::statvfs (str file, cbstatvfs cb)
{
  struct res {
    struct statvfs sv;
    int err = 0;
  };
  auto r = std::make_shared<res> ();
  aiod_state::submit (
    this, cb,
    [file, r] () { r->err = hue_async_detail::errno_or_zero (::statvfs (file.cstr (), &r->sv)); },
    [cb, r] () {
      if (r->err)
        aiod_state::call (cb, (struct statvfs *) nullptr, r->err);
      else
        aiod_state::call (cb, &r->sv, 0);
    });
}

void
aiod::readlink (str path, cbsi cb)
{
  aiod_state::strop (this, cb, [path] (std::string *out) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink (path.cstr (), buf, sizeof buf);
    if (n < 0)
      return errno;
    out->assign (buf, size_t (n));
    return 0;
  });
}

void
aiod::getcwd (str path, cbsi cb)
{
  // libasync's helper chdir'ed there and asked getcwd; threads share one working directory, so
  // the same answer (the physical path) and the same errors (ENOENT, ENOTDIR, EACCES without
  // search permission) come from stat, access and realpath instead.
  aiod_state::strop (this, cb, [path] (std::string *out) {
    struct stat sb;
    if (::stat (path.cstr (), &sb) < 0)
      return errno;
    if (!S_ISDIR (sb.st_mode))
      return ENOTDIR;
    if (access (path.cstr (), X_OK) < 0)
      return errno;
    char *rp = realpath (path.cstr (), nullptr);
    if (!rp)
      return errno;
    out->assign (rp);
    free (rp);
    return 0;
  });
}

void
aiod::stat (str path, cbstat cb)
{
  aiod_state::statop (this, cb, [path] (struct stat *sb) {
    return hue_async_detail::errno_or_zero (::stat (path.cstr (), sb));
  });
}

void
aiod::lstat (str path, cbstat cb)
{
  aiod_state::statop (this, cb, [path] (struct stat *sb) {
    return hue_async_detail::errno_or_zero (::lstat (path.cstr (), sb));
  });
}

void
aiod::open (str path, int flags, int mode, cbopen cb)
{
  ref<aiofh> fh = New refcounted<aiofh> (this, false);
  auto err = std::make_shared<int> (0);
  aiod_state::submit (
    this, cb,
    [path, flags, mode, fh, err] () {
      int fd = hue_async_detail::open_as_created (path.cstr (), flags, mode);
      if (fd < 0)
        *err = errno;
      else
        fh->st->fd = fd;  // published to other threads by the pool's and the delivery's locks
    },
    [cb, fh, err] () {
      if (*err)
        aiod_state::call (cb, ptr<aiofh> (), *err);
      else
        aiod_state::call (cb, ptr<aiofh> (fh), 0);
    });
}

void
aiod::opendir (str path, cbopen cb)
{
  ref<aiofh> fh = New refcounted<aiofh> (this, true);
  auto err = std::make_shared<int> (0);
  aiod_state::submit (
    this, cb,
    [path, fh, err] () {
      DIR *d = ::opendir (path.cstr ());  // glibc opens it close-on-exec
      if (!d)
        *err = errno;
      else
        fh->st->dir = d;
    },
    [cb, fh, err] () {
      if (*err)
        aiod_state::call (cb, ptr<aiofh> (), *err);
      else
        aiod_state::call (cb, ptr<aiofh> (fh), 0);
    });
}

// ---- aiofh ----

aiofh::aiofh (aiod *d, bool dir) : iod (d), st (new aiofh_state (dir))
{
  iod->addref ();
}

aiofh::~aiofh ()
{
  // Dropped without close: closed by a helper, as libasync sent its helpers a close. Nothing is
  // in flight (every request holds a reference to the handle).
  bool open;
  {
    std::lock_guard<std::mutex> g (st->mu);
    open = !st->closed && (st->fd >= 0 || st->dir);
    st->closed = true;
  }
  if (open) {
    int fd = st->fd;
    DIR *dir = st->dir;
    iod->st->pool.submit ([fd, dir] () {
      if (dir)
        ::closedir (dir);
      else
        ::close (fd);
    });
  }
  delete st;
  iod->delref ();
}

void
aiofh::close (cbi cb)
{
  auto err = std::make_shared<int> (0);
  aiofh_state *s = st;
  ref<aiofh> self = mkref (this);
  hue_async_detail::aiod_request *r;
  {
    std::lock_guard<std::mutex> g (s->mu);
    if (s->closed) {
      // Checked and set under one lock, so two racing closes see one EBADF.
      r = nullptr;
    } else {
      s->closed = true;
      r = aiod_state::make (
        iod, aiod_state::target_for (cb),
        [self, s, err] () {
          int rc = s->dir ? ::closedir (s->dir) : ::close (s->fd);
          *err = hue_async_detail::errno_or_zero (rc);
          s->dir = nullptr;
          s->fd = -1;
        },
        [cb, err] () { aiod_state::call (cb, *err); });
      if (s->inflight) {
        s->pending_close = r;  // submitted by the last request in flight
        r = nullptr;
        return;
      }
    }
  }
  if (r)
    aiod_state::submit (r);
  else
    (*cb) (EBADF);
}

void
aiofh::fsync (cbi cb)
{
  if (!aiod_state::fh_begin (st)) {
    (*cb) (EBADF);
    return;
  }
  ref<aiofh> self = mkref (this);
  auto err = std::make_shared<int> (0);
  aiod_state::submit (
    iod, cb,
    [self, err] () {
      *err = hue_async_detail::errno_or_zero (::fsync (hue_async_detail::fh_fd (self->st)));
      aiod_state::fh_end (self->st);
    },
    [cb, err] () { aiod_state::call (cb, *err); });
}

void
aiofh::ftrunc (off_t length, cbi cb)
{
  if (!aiod_state::fh_begin (st)) {
    (*cb) (EBADF);
    return;
  }
  ref<aiofh> self = mkref (this);
  auto err = std::make_shared<int> (0);
  aiod_state::submit (
    iod, cb,
    [self, err, length] () {
      *err = hue_async_detail::errno_or_zero (
        ::ftruncate (hue_async_detail::fh_fd (self->st), length));
      aiod_state::fh_end (self->st);
    },
    [cb, err] () { aiod_state::call (cb, *err); });
}

void
aiofh::fstat (aiod::cbstat cb)
{
  if (!aiod_state::fh_begin (st)) {
    (*cb) (NULL, EBADF);
    return;
  }
  ref<aiofh> self = mkref (this);
  aiod_state::statop (iod, cb, [self] (struct stat *sb) {
    int e = hue_async_detail::errno_or_zero (::fstat (hue_async_detail::fh_fd (self->st), sb));
    aiod_state::fh_end (self->st);
    return e;
  });
}

namespace {
struct rw_result {
  ssize_t n = -1;
  int err = 0;
};

void
rw_done (const aiofh::cbrw &cb, const ptr<aiobuf> &buf, const rw_result &r)
{
  if (r.err)
    aiod_state::call (cb, ptr<aiobuf> (), ssize_t (-1), r.err);
  else
    aiod_state::call (cb, buf, r.n, 0);
}
}  // namespace

void
aiofh::rw (bool write, off_t pos, ptr<aiobuf> buf, u_int iostart, u_int iosize, cbrw cb)
{
  // libasync asserted these; a wrong buffer is a bug in the program, not an I/O error.
  if (!buf || buf->iod != iod || iostart >= buf->size () || !iosize ||
      iosize > buf->size () - iostart)
    panic ("aiofh::%s: buffer of another aiod, or range %u+%u outside its %zu bytes\n",
           write ? "write" : "read", iostart, iosize, buf ? buf->size () : size_t (0));
  if (!aiod_state::fh_begin (st)) {
    (*cb) (NULL, -1, EBADF);
    return;
  }
  ref<aiofh> self = mkref (this);
  auto r = std::make_shared<rw_result> ();
  aiod_state::submit (
    iod, cb,
    [self, buf, iostart, iosize, pos, write, r] () {
      int fd = hue_async_detail::fh_fd (self->st);
      char *p = buf->base () + iostart;
      if (write)
        r->n = pos == -1 ? ::write (fd, p, iosize) : ::pwrite (fd, p, iosize, pos);
      else
        r->n = pos == -1 ? ::read (fd, p, iosize) : ::pread (fd, p, iosize, pos);
      r->err = r->n < 0 ? errno : 0;
      aiod_state::fh_end (self->st);
    },
    [cb, buf, r] () { rw_done (cb, buf, *r); });
}

void
aiofh::sreaddir (off_t pos, ptr<aiobuf> buf, u_int iostart, u_int iosize, cbrw cb)
{
  (void) pos;  // libasync ignored it too: a directory is read in order
  if (!buf || buf->iod != iod || iostart >= buf->size () || !iosize ||
      iosize > buf->size () - iostart)
    panic ("aiofh::readdir: buffer of another aiod, or range %u+%u outside its %zu bytes\n",
           iostart, iosize, buf ? buf->size () : size_t (0));
  if (!aiod_state::fh_begin (st)) {
    (*cb) (NULL, -1, EBADF);
    return;
  }
  ref<aiofh> self = mkref (this);
  auto r = std::make_shared<rw_result> ();
  aiod_state::submit (
    iod, cb,
    [self, buf, iostart, iosize, r] () {
      aiofh_state *s = self->st;
      if (!s->dir)
        r->err = ENOTDIR;  // libasync's helper tried opendir on the file's path
      else if (iosize < sizeof (dirent))
        r->err = EINVAL;  // libasync copied a whole dirent whatever the size (an overrun)
      else {
        std::lock_guard<std::mutex> g (s->dir_mu);
        errno = 0;
        dirent *d = ::readdir (s->dir);
        if (d) {
          memcpy (buf->base () + iostart, d, sizeof (dirent));
          r->n = sizeof (dirent);
        } else if (errno)
          r->err = errno;
        else
          r->n = 0;
      }
      aiod_state::fh_end (s);
    },
    [cb, buf, r] () { rw_done (cb, buf, *r); });
}
