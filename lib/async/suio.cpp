// suio: the byte queue behind strbuf, warn and aios (include/hue-async/suio++.h).
#include "suio++.h"

void
suio::compact ()
{
  // Drop consumed bytes once they are at least half the buffer, so a long-lived suio that is
  // written and drained in turn does not grow without bound, and the move stays amortised O(1).
  if (start_ == buf_.size ()) {
    buf_.clear ();
    start_ = 0;
  } else if (start_ > 4096 && start_ * 2 > buf_.size ()) {
    buf_.erase (0, start_);
    start_ = 0;
  }
}

void
suio::copyv (const iovec *iov, size_t cnt, size_t skip)
{
  for (size_t i = 0; i < cnt; i++) {
    size_t len = iov[i].iov_len;
    const char *base = static_cast<const char *> (iov[i].iov_base);
    if (skip >= len) {
      skip -= len;
      continue;
    }
    buf_.append (base + skip, len - skip);
    skip = 0;
  }
}

char *
suio::getspace (size_t n)
{
  size_t old = buf_.size ();
  buf_.resize (old + n);
  return buf_.data () + old;
}

void
suio::rembytes (size_t n)
{
  if (n > resid ())
    n = resid ();
  start_ += n;
  nrembytes_ += n;
  compact ();
}

const iovec *
suio::iov () const
{
  iov_.iov_base = const_cast<char *> (data ());
  iov_.iov_len = resid ();
  return &iov_;
}

size_t
suio::copyout (void *buf, size_t len) const
{
  size_t n = len < resid () ? len : resid ();
  memcpy (buf, data (), n);
  return n;
}

ssize_t
suio::linelen () const
{
  const void *nl = memchr (data (), '\n', resid ());
  return nl ? static_cast<const char *> (nl) - data () + 1 : -1;
}

int
suio::output (int fd, int)
{
  u_int64_t before = nrembytes_;
  ssize_t n = 0;
  while (resid () > 0) {
    n = ::write (fd, data (), resid ());
    if (n > 0)
      rembytes (size_t (n));
    else if (n < 0 && errno == EINTR)
      continue;
    else
      break;
  }
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    return -1;
  return nrembytes_ > before ? 1 : 0;
}

ssize_t
suio::input (int fd, size_t len)
{
  size_t old = buf_.size ();
  buf_.resize (old + len);
  ssize_t n;
  do
    n = ::read (fd, buf_.data () + old, len);
  while (n < 0 && errno == EINTR);
  buf_.resize (old + (n > 0 ? size_t (n) : 0));
  return n;
}
