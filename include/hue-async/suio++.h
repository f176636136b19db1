// suio++.h — libasync's scatter-gather output buffer, suio.
//
// A suio collects bytes to be written (copy, print, fill), hands them to a file descriptor with
// output() as far as the descriptor takes them, and can be filled from one with input():
//
//   suio u;
//   u.print ("HTTP/1.0 200 OK\r\n", 17);
//   while (u.resid () && u.output (fd) >= 0) ...   // 1: progress, 0: none (EAGAIN), -1: error
//
// libasync's suio kept pointers to the caller's memory for print() and copied only for copy();
// this one copies in both (one contiguous buffer), so print() of a temporary is never a dangling
// pointer. The cost is one memcpy per byte queued, which the echo benchmark compares against the
// real libasync. Not synchronised: one suio belongs to one color at a time.
#ifndef _ASYNC_SUIOXX_H_
#define _ASYNC_SUIOXX_H_ 1

#include "sysconf.h"
#include "callback.h"  // as libasync's suio++.h did (programs get wrap and vec from it)
#include "vec.h"

#include <string>

class suio {
  std::string buf_;    // bytes [start_, size) are pending
  size_t start_ = 0;
  u_int64_t nrembytes_ = 0;  // bytes ever removed (written out or rembytes'd)
  mutable iovec iov_ {};

  void compact ();

public:
  enum { blocksize = 8192 };

  suio () = default;
  suio (const suio &) = delete;
  suio &operator= (const suio &) = delete;

  // Queue bytes. print and copy both copy (see above).
  void copy (const void *p, size_t n) { buf_.append (static_cast<const char *> (p), n); }
  void print (const void *p, size_t n) { copy (p, n); }
  void fill (char c, ssize_t n) { if (n > 0) buf_.append (size_t (n), c); }
  void copyu (const suio *u) { buf_.append (u->buf_, u->start_, std::string::npos); }
  void copyv (const iovec *iov, size_t cnt, size_t skip = 0);
  // Moves all of src's bytes to the end of this one.
  void take (suio *src) { copyu (src); src->clear (); }
  // Room for n bytes at the end, to be filled by the caller now (before any other call).
  char *getspace (size_t n);

  size_t resid () const { return buf_.size () - start_; }
  u_int64_t iovno () const { return 0; }
  u_int64_t byteno () const { return nrembytes_ + resid (); }
  void rembytes (size_t n);
  // Drops the last n queued bytes (undoes part of a getspace).
  void rembytes_tail (size_t n) { buf_.resize (n < resid () ? buf_.size () - n : start_); }
  void clear () { nrembytes_ += resid (); buf_.clear (); start_ = 0; }

  // The pending bytes as an iovec array (always 0 or 1 entries here).
  const iovec *iov () const;
  size_t iovcnt () const { return resid () ? 1 : 0; }
  // Copies up to len pending bytes to buf without removing them; returns how many.
  size_t copyout (void *buf, size_t len) const;
  size_t copyout (void *buf) const { return copyout (buf, resid ()); }
  // Length of the first line including its '\n', or -1 if there is no '\n' yet.
  ssize_t linelen () const;

  // Writes pending bytes to fd until it would block or all are gone. Returns 1 if some bytes were
  // written, 0 if none could be (EAGAIN or nothing pending), -1 on an error (errno says which).
  // cnt (libasync: a number of iovecs) is accepted and ignored beyond "-1: everything".
  int output (int fd, int cnt = -1);
  // Reads up to len bytes from fd onto the end; returns read()'s result.
  ssize_t input (int fd, size_t len = blocksize);

  // The pending bytes as a string view (hue addition; used by str and strbuf).
  const char *data () const { return buf_.data () + start_; }
};

#endif
