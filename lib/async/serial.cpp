// file2str and str2file (include/hue-async/serial.h).
#include "serial.h"

#include <atomic>

str
file2str (str file)
{
  if (!file) {
    errno = EINVAL;
    return str ();
  }
  int fd = ::open (file.cstr (), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return str ();
  struct stat sb;
  if (fstat (fd, &sb) < 0) {
    int e = errno;
    ::close (fd);
    errno = e;
    return str ();
  }
  // Read until EOF rather than trusting st_size (files in /proc report 0 and grow).
  suio u;
  for (;;) {
    ssize_t n = u.input (fd, sb.st_size > 0 && u.resid () < size_t (sb.st_size)
                                 ? size_t (sb.st_size) - u.resid () + 1 : size_t (suio::blocksize));
    if (n == 0)
      break;
    if (n < 0) {
      int e = errno;
      ::close (fd);
      errno = e;
      return str ();
    }
  }
  ::close (fd);
  return str (u);
}

bool
str2file (str file, str s, int perm, bool excl, struct stat *sbp, bool, bool do_fsync)
{
  if (!file || !s) {
    errno = EINVAL;
    return false;
  }
  str target = file;
  str tmp;
  int fd;
  if (excl) {
    fd = ::open (file.cstr (), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, perm);
  } else {
    // Unique per process and per call: two colors saving one file must not share a temporary.
    static std::atomic<u_int> seq;
    tmp = strbuf () << file << ".tmp~" << int (getpid ()) << "." << seq.fetch_add (1);
    fd = ::open (tmp.cstr (), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, perm);
  }
  if (fd < 0)
    return false;
  const char *p = s.cstr ();
  size_t left = s.len ();
  bool ok = true;
  while (left && ok) {
    ssize_t n = ::write (fd, p, left);
    if (n > 0) {
      p += n;
      left -= size_t (n);
    } else if (!(n < 0 && errno == EINTR)) {
      ok = false;
    }
  }
  if (ok && do_fsync && fsync (fd) < 0)
    ok = false;
  if (ok && sbp && fstat (fd, sbp) < 0)
    ok = false;
  int e = errno;
  if (::close (fd) < 0 && ok) {
    ok = false;
    e = errno;
  }
  if (ok && tmp && rename (tmp.cstr (), target.cstr ()) < 0) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    ::unlink (tmp ? tmp.cstr () : target.cstr ());
    errno = e;
  }
  return ok;
}
