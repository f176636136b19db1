// aiod.h — libasync's asynchronous file system calls: open/read/write/fstat/fsync/ftrunc/close on
// file handles, readdir on directory handles, and stat/lstat/statvfs/unlink/link/symlink/rename/
// mkdir/readlink/getcwd by path. Each call returns at once; its callback gets the result later.
//
//   aiod *a = New aiod;                          // nproc helpers, buffer budget, as libasync
//   a->open ("f", O_RDWR | O_CREAT, 0666, wrap (opened));
//   void opened (ptr<aiofh> fh, int err) { ... fh->read (0, a->bufalloc (512), wrap (got)); }
//   void got (ptr<aiobuf> b, ssize_t n, int err) { ... }   // err: an errno, or 0
//
// How it runs on hue (lib/async/aiod.cpp says more): libasync forked `aiod` helper processes and
// talked to them through a shared-memory file; here each aiod has up to `nproc` helper threads of
// its own that make the blocking calls, so the loop thread never waits on the disk. Completions
// are delivered where the program expects them:
//   - a colored callback (cwrap, colorize) runs on its color;
//   - an uncolored callback given from inside a colored callback runs on that caller's color (so
//     an object kept on one color sees its completions on it, as a hue coroutine resumes on its
//     color);
//   - any other callback runs on the loop thread, at its next pass.
// With one helper (libasync's default) requests run in the order they were made; with more they
// may complete in any order, as with libasync's several daemons.
//
// Errors are reported as libasync reported them: an errno in the int argument, with NULL for the
// handle, buffer, stat pointer or string; a read or write that fails gives (NULL, -1, errno); a
// read or write on a closed handle gives (NULL, -1, EBADF), and closing twice gives EBADF.
// A `struct stat *` or `struct statvfs *` handed to a callback is valid only during that call.
//
// Differences kept on purpose (docs/libasync.md): `path` and `tmpdir` are accepted and ignored
// (there is no helper program and no shared-memory file); buffers come from the heap, bounded by
// `shmsize` as libasync's shared memory bounded them, so bufalloc still returns NULL when the
// budget is spent and bufwait's callback runs once a buffer is freed (from the loop's next pass
// or on its color, not inside the freeing aiobuf's destructor); a file is opened once and shared
// by the helpers (libasync's daemons each reopened it by path and answered ESTALE when it had
// been replaced meanwhile); closing a handle waits for its requests still in flight, so its
// descriptor is never reused under them.
#ifndef _ASYNC_AIOD_H_
#define _ASYNC_AIOD_H_ 1

#include "async.h"
#include "ihash.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

class aiod;
class aiofh;
namespace hue_async_detail {
struct aiod_state;
struct aiofh_state;
}  // namespace hue_async_detail

// A buffer for aiofh reads and writes, from one aiod's budget. Only aiod::bufalloc makes one.
class aiobuf {
  friend class aiod;
  friend class aiofh;

  char *const buf;
  const size_t len;
  aiod *const iod;
  const size_t charged;  // what it counts against the budget (a power of two, as a buddy block)

  aiobuf (const aiobuf &) = delete;
  aiobuf &operator= (const aiobuf &) = delete;

protected:
  aiobuf (aiod *d, char *b, size_t len, size_t charged);
  ~aiobuf ();

public:
  char *base () { return buf; }
  const char *base () const { return buf; }
  size_t size () const { return len; }
  char *lim () { return buf + len; }
  const char *lim () const { return buf + len; }
};

class aiod {
  friend class aiobuf;
  friend class aiofh;
  friend struct hue_async_detail::aiod_state;

public:
  typedef callback<void, ptr<aiobuf>>::ref cbb;
  typedef callback<void, str, int>::ref cbsi;
  typedef callback<void, struct stat *, int>::ref cbstat;
  typedef callback<void, struct statvfs *, int>::ref cbstatvfs;
  typedef callback<void, ptr<aiofh>, int>::ref cbopen;

  enum { minbuf = 0x40 };
  const size_t maxbuf;

  // nproc: helper threads (at most; started as requests arrive). shmsize: the buffer budget in
  // bytes (rounded up to a multiple of maxbuf). maxbuf: the largest single buffer.
  aiod (u_int nproc = 1, ssize_t shmsize = 0x200000, size_t maxbuf = 0x10000,
        bool shmpin = false, str path = NULL, str tmpdir = NULL);
  // The aiod is deleted once its last buffer, handle and request are gone. It is never deleted
  // otherwise (its destructor is private, as libasync's was).
  void finalize ();

  // NULL when the budget is spent: call bufwait, and bufalloc again from its callback.
  ptr<aiobuf> bufalloc (size_t len);
  void bufwait (cbv cb);

  void unlink (str path, cbi cb);
  void link (str from, str to, cbi cb);
  void symlink (str from, str to, cbi cb);
  void rename (str from, str to, cbi cb);
  void mkdir (str dir, int mode, cbi cb);
  void statvfs (str file, cbstatvfs cb);
  void readlink (str path, cbsi cb);
  void getcwd (str path, cbsi cb);  // the physical path of directory `path`
  void stat (str path, cbstat cb);
  void lstat (str path, cbstat cb);
  // Files are created with `mode` exactly, the process's umask not applied: libasync's helper
  // processes ran with umask 0, and programs chose their modes for that.
  void open (str path, int flags, int mode, cbopen cb);
  void opendir (str path, cbopen cb);

private:
  ~aiod ();
  void addref ();
  void delref ();

  hue_async_detail::aiod_state *const st;
};

// A file or directory handle from aiod::open or aiod::opendir. Dropping the last reference closes
// it (after the requests in flight on it).
class aiofh : public virtual refcount {
  friend class aiod;

public:
  typedef callback<void, ptr<aiobuf>, ssize_t, int>::ref cbrw;

  void close (cbi cb);
  void closedir (cbi cb) { close (cb); }
  void fsync (cbi cb);
  void ftrunc (off_t length, cbi cb);
  // pos -1: at the file's current offset (read(2)/write(2)); otherwise pread(2)/pwrite(2).
  // The callback gets the buffer and the byte count; the bytes are at base () + iostart.
  void read (off_t pos, ptr<aiobuf> buf, cbrw cb) { rw (false, pos, buf, 0, buf->size (), cb); }
  void sread (off_t pos, ptr<aiobuf> buf, u_int iostart, u_int iosize, cbrw cb)
  {
    rw (false, pos, buf, iostart, iosize, cb);
  }
  void write (off_t pos, ptr<aiobuf> buf, cbrw cb) { rw (true, pos, buf, 0, buf->size (), cb); }
  void swrite (off_t pos, ptr<aiobuf> buf, u_int iostart, u_int iosize, cbrw cb)
  {
    rw (true, pos, buf, iostart, iosize, cb);
  }
  // One `struct dirent` per call, copied into the buffer (count sizeof (dirent)); 0 at the end.
  void readdir (ptr<aiobuf> buf, cbrw cb) { sreaddir (0, buf, 0, buf->size (), cb); }
  void sreaddir (off_t pos, ptr<aiobuf> buf, u_int iostart, u_int iosize, cbrw cb);
  void fstat (aiod::cbstat cb);

protected:
  aiofh (aiod *iod, bool dir);
  ~aiofh ();

private:
  void rw (bool write, off_t pos, ptr<aiobuf> buf, u_int iostart, u_int iosize, cbrw cb);

  aiod *const iod;
  hue_async_detail::aiofh_state *const st;
};

#endif
