// aios.h — buffered, callback-driven I/O on one fd: read a line or whatever has arrived, queue
// output, hear when it has drained, time out an idle peer.
//
//   ref<aios> a = aios::alloc (fd);
//   a->readline (wrap (got_line, a));          // got_line (ref<aios>, str line, int err)
//   a << "hello " << 42 << "\n";               // queued; written as the fd accepts it
//   a->setwcb (wrap (drained));                // once, when everything queued has been written
//
// Reads are one-shot: each readline/readany delivers one result, then asks are over until the next
// call. readline strips "\n" or "\r\n"; at end of file the callback gets a null str and err 0; on an
// error (or settimeout's ETIMEDOUT) a null str and the errno. The fd is made non-blocking on first
// use and closed when the last reference goes and the output has drained.
// Safe to use from colored callbacks: each aios has a mutex; callbacks run on the loop thread (or
// on their own color, when colored), never under it.
#ifndef _ASYNC_AIOS_H_
#define _ASYNC_AIOS_H_ 1

#include "async.h"

#include <mutex>
#include <string>

class aios : virtual public refcount {
public:
  typedef callback<void, str, int>::ptr rcb_t;
  typedef callback<void, int>::ptr wcb_t;
  enum { defrbufsize = 0x10000 };

  static ref<aios> alloc (int fd, size_t rbsz = defrbufsize)
  {
    return New refcounted<aios> (fd, rbsz);
  }
  aios (int fd, size_t rbsz);
  ~aios ();

  int fdno () const { return fd_; }
  void setdebug (str) {}
  void settimeout (time_t secs);
  time_t gettimeout () const { return timeout_; }
  void readline (rcb_t cb);
  void readany (rcb_t cb);
  void readcancel ();
  void write (const void *buf, size_t len);
  void write (const str &s) { write (s.cstr (), s.len ()); }
  void setwcb (wcb_t cb);  // once, when the output queue is empty (err 0) or has failed (errno)
  void sendeof ();         // shutdown(SHUT_WR) once the output has drained
  void abort ();           // drop everything; readers and writers are told ECONNABORTED
  int flush ();            // write what is queued now, waiting for the fd: 0 or an errno
  bool ateof () const { return eof_; }
  int geterr () const { return err_; }
  size_t outlen ();

private:
  enum rmode { rnone, rline, rany };
  int fd_;
  size_t rbsz_;
  std::mutex mu_;
  std::string in_;
  std::string out_;
  size_t outpos_ = 0;
  rmode mode_ = rnone;
  rcb_t rcb_;
  wcb_t wcb_;
  bool eof_ = false, weof_ = false, weof_sent_ = false, reading_fd_ = false, writing_fd_ = false;
  bool async_done_ = false;
  int err_ = 0;
  time_t timeout_ = 0;
  time_t last_ = 0;
  timecb_t *tmo_ = nullptr;

  void setreader (rmode m, rcb_t cb);
  void on_readable ();
  void on_writable ();
  void on_timer ();
  void deliver_pending ();  // hands a ready result to the reader, if any (outside the lock)
  bool take_result (str *s, int *e);
  void arm_locked ();
  void ensure_async_locked ();
  void fail_locked (int e);
};
typedef ref<aios> aios_t;

// `a << x << y`: one temporary collects the pieces and queues them on the aios when the statement
// ends (guaranteed copy elision: the constructor below is the only writer).
class aiosout : public strbuf {
  aios *a_;
  ref<aios> keep_;

public:
  template<class T> aiosout (const ref<aios> &a, const T &x) : a_ (a), keep_ (a) { *this << x; }
  aiosout (const aiosout &) = delete;
  ~aiosout () { a_->write (str (*this)); }
};
template<class T>
inline aiosout
operator<< (const ref<aios> &a, const T &x)
{
  return aiosout (a, x);
}
template<class T>
inline aiosout
operator<< (const ptr<aios> &a, const T &x)
{
  return aiosout (ref<aios> (a), x);
}

// Standard input and output (fds 0 and 1), made non-blocking only when first read or written.
extern aios_t ain, aout;

#endif
