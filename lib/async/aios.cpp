// aios: buffered fd I/O for the libasync loop (include/hue-async/aios.h has the contract).
//
// Ownership: while the aios waits on its fd (a reader is set, or output is queued) the fdcb it
// registered holds a reference to it, so `aios::alloc (fd)->readline (cb)` with no other owner
// works, as in libasync; when neither is pending the fdcbs are cleared and the last user reference
// closes the fd. The idle timer likewise holds a reference only while it is armed.
// Hazard: user callbacks are always called with mu_ released (they call back into the aios).
#include <poll.h>
#include <sys/socket.h>

#include "aios.h"

aios_t ain = aios::alloc (0);
aios_t aout = aios::alloc (1);

aios::aios (int fd, size_t rbsz) : fd_ (fd), rbsz_ (rbsz ? rbsz : size_t (defrbufsize)) {}

aios::~aios ()
{
  if (tmo_)
    timecb_remove (tmo_);
  if (fd_ > 2)
    close (fd_);
}

void
aios::ensure_async_locked ()
{
  if (!async_done_) {
    async_done_ = true;
    _make_async (fd_);
  }
}

// Registers or clears the fd callbacks (and the idle timer) to match what is pending.
void
aios::arm_locked ()
{
  bool want_read = mode_ != rnone && !eof_ && !err_;
  bool want_write = !err_ && (outpos_ < out_.size () || (weof_ && !weof_sent_));
  ref<aios> self = mkref (this);
  if (want_read != reading_fd_) {
    reading_fd_ = want_read;
    if (want_read)
      fdcb (fd_, selread, mkcallback<void> ([self] () { self->on_readable (); }));
    else
      fdcb (fd_, selread, NULL);
  }
  if (want_write != writing_fd_) {
    writing_fd_ = want_write;
    if (want_write)
      fdcb (fd_, selwrite, mkcallback<void> ([self] () { self->on_writable (); }));
    else
      fdcb (fd_, selwrite, NULL);
  }
  bool want_timer = timeout_ > 0 && (want_read || want_write);
  if (want_timer && !tmo_) {
    last_ = sfs_get_timenow (true);
    tmo_ = delaycb (timeout_, 0, mkcallback<void> ([self] () { self->on_timer (); }));
  } else if (!want_timer && tmo_) {
    timecb_remove (tmo_);
    tmo_ = nullptr;
  }
}

void
aios::fail_locked (int e)
{
  if (!err_)
    err_ = e;
  out_.clear ();
  outpos_ = 0;
}

void
aios::settimeout (time_t secs)
{
  std::lock_guard<std::mutex> g (mu_);
  timeout_ = secs;
  last_ = sfs_get_timenow (true);
  if (tmo_) {
    timecb_remove (tmo_);
    tmo_ = nullptr;
  }
  arm_locked ();
}

void
aios::on_timer ()
{
  {
    std::lock_guard<std::mutex> g (mu_);
    tmo_ = nullptr;
    time_t now = sfs_get_timenow (true);
    if (timeout_ > 0 && now < last_ + timeout_) {
      ref<aios> self = mkref (this);
      tmo_ = delaycb (last_ + timeout_ - now, 0, mkcallback<void> ([self] () { self->on_timer (); }));
      return;
    }
    if (timeout_ > 0)
      fail_locked (ETIMEDOUT);
  }
  deliver_pending ();
  wcb_t w;
  {
    std::lock_guard<std::mutex> g (mu_);
    if (err_ == ETIMEDOUT)
      w = wcb_;
    wcb_ = nullptr;
    arm_locked ();
  }
  if (w)
    (*w) (ETIMEDOUT);
}

void
aios::setreader (rmode m, rcb_t cb)
{
  {
    std::lock_guard<std::mutex> g (mu_);
    mode_ = cb ? m : rnone;
    rcb_ = cb;
    ensure_async_locked ();
    last_ = sfs_get_timenow (true);
    arm_locked ();
  }
  // A result may be ready already (a buffered line, EOF seen): deliver it from the loop, never
  // from inside readline itself.
  ref<aios> self = mkref (this);
  cpucb (mkcallback<void> ([self] () { self->deliver_pending (); }));
}

void aios::readline (rcb_t cb) { setreader (rline, cb); }
void aios::readany (rcb_t cb) { setreader (rany, cb); }

void
aios::readcancel ()
{
  std::lock_guard<std::mutex> g (mu_);
  mode_ = rnone;
  rcb_ = nullptr;
  arm_locked ();
}

// Under mu_: is there a result for the current reader? Consumes it.
bool
aios::take_result (str *s, int *e)
{
  *e = 0;
  if (mode_ == rnone || !rcb_)
    return false;
  if (mode_ == rline) {
    size_t nl = in_.find ('\n');
    if (nl != std::string::npos) {
      size_t len = nl && in_[nl - 1] == '\r' ? nl - 1 : nl;
      *s = str (in_.data (), len);
      in_.erase (0, nl + 1);
      return true;
    }
    if (in_.size () >= rbsz_) {  // a line longer than the buffer: an error, as in libasync
      *s = str ();
      *e = E2BIG;
      return true;
    }
  } else if (!in_.empty ()) {
    *s = str (in_.data (), in_.size ());
    in_.clear ();
    return true;
  }
  if (err_) {
    *s = str ();
    *e = err_;
    return true;
  }
  if (eof_) {
    if (mode_ == rline && !in_.empty ()) {  // an unterminated last line is still a line
      *s = str (in_.data (), in_.size ());
      in_.clear ();
    } else
      *s = str ();
    return true;
  }
  return false;
}

void
aios::deliver_pending ()
{
  rcb_t cb;
  str s;
  int e;
  {
    std::lock_guard<std::mutex> g (mu_);
    if (!take_result (&s, &e))
      return;
    cb = rcb_;
    rcb_ = nullptr;  // one-shot: the callback may ask again
    mode_ = rnone;
    arm_locked ();
  }
  (*cb) (s, e);
}

void
aios::on_readable ()
{
  {
    std::lock_guard<std::mutex> g (mu_);
    if (mode_ == rnone || eof_ || err_)
      return;
    size_t room = rbsz_ > in_.size () ? rbsz_ - in_.size () : 0;
    if (room) {
      char buf[8192];
      ssize_t n = read (fd_, buf, std::min (room, sizeof buf));
      if (n > 0) {
        in_.append (buf, n);
        last_ = timenow;
      } else if (n == 0)
        eof_ = true;
      else if (errno != EAGAIN && errno != EINTR)
        fail_locked (errno);
    }
  }
  deliver_pending ();
}

void
aios::write (const void *buf, size_t len)
{
  std::lock_guard<std::mutex> g (mu_);
  if (err_ || weof_ || !len)
    return;
  ensure_async_locked ();
  if (outpos_ == out_.size ()) {
    out_.clear ();
    outpos_ = 0;
  }
  out_.append (static_cast<const char *> (buf), len);
  arm_locked ();
}

size_t
aios::outlen ()
{
  std::lock_guard<std::mutex> g (mu_);
  return out_.size () - outpos_;
}

void
aios::on_writable ()
{
  wcb_t w;
  int e = 0;
  bool tell_reader = false;
  {
    std::lock_guard<std::mutex> g (mu_);
    while (outpos_ < out_.size ()) {
      ssize_t n = ::write (fd_, out_.data () + outpos_, out_.size () - outpos_);
      if (n > 0) {
        outpos_ += n;
        last_ = timenow;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
      fail_locked (n < 0 ? errno : EPIPE);
      tell_reader = true;
      break;
    }
    if (!err_) {
      out_.clear ();
      outpos_ = 0;
      if (weof_ && !weof_sent_) {
        weof_sent_ = true;
        shutdown (fd_, SHUT_WR);
      }
    }
    e = err_;
    w = wcb_;
    wcb_ = nullptr;
    arm_locked ();
  }
  if (tell_reader)
    deliver_pending ();
  if (w)
    (*w) (e);
}

void
aios::setwcb (wcb_t cb)
{
  bool now;
  int e;
  {
    std::lock_guard<std::mutex> g (mu_);
    now = err_ || outpos_ == out_.size ();
    e = err_;
    if (!now)
      wcb_ = cb;
  }
  if (now && cb) {
    ref<aios> self = mkref (this);
    cpucb (mkcallback<void> ([cb, e, self] () { (*cb) (e); }));
  }
}

void
aios::sendeof ()
{
  std::lock_guard<std::mutex> g (mu_);
  weof_ = true;
  arm_locked ();
}

void
aios::abort ()
{
  {
    std::lock_guard<std::mutex> g (mu_);
    fail_locked (ECONNABORTED);
  }
  deliver_pending ();
  wcb_t w;
  {
    std::lock_guard<std::mutex> g (mu_);
    w = wcb_;
    wcb_ = nullptr;
    arm_locked ();
  }
  if (w)
    (*w) (ECONNABORTED);
}

int
aios::flush ()
{
  std::unique_lock<std::mutex> g (mu_);
  while (!err_ && outpos_ < out_.size ()) {
    ssize_t n = ::write (fd_, out_.data () + outpos_, out_.size () - outpos_);
    if (n > 0) {
      outpos_ += n;
    } else if (n < 0 && errno == EAGAIN) {
      pollfd p = {fd_, POLLOUT, 0};
      g.unlock ();
      poll (&p, 1, -1);
      g.lock ();
    } else if (!(n < 0 && errno == EINTR))
      fail_locked (n < 0 ? errno : EPIPE);
  }
  return err_;
}
