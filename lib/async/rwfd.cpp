// Descriptor passing (rwfd.h): one SCM_RIGHTS control message beside the data.
#include "rwfd.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

namespace {
// Control buffer for exactly one int, aligned as cmsghdr needs.
union one_fd_control {
  char buf[CMSG_SPACE (sizeof (int))];
  cmsghdr align;
};
}  // namespace

extern "C" ssize_t
writevfd (int fd, const struct iovec *iov, int iovcnt, int wfd)
{
  msghdr mh;
  memset (&mh, 0, sizeof mh);
  one_fd_control ctl;
  memset (&ctl, 0, sizeof ctl);
  mh.msg_iov = const_cast<iovec *> (iov);
  mh.msg_iovlen = iovcnt;
  mh.msg_control = ctl.buf;
  mh.msg_controllen = sizeof ctl.buf;
  cmsghdr *cmh = CMSG_FIRSTHDR (&mh);
  cmh->cmsg_level = SOL_SOCKET;
  cmh->cmsg_type = SCM_RIGHTS;
  cmh->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmh), &wfd, sizeof wfd);
  // MSG_NOSIGNAL: a peer that went away is an EPIPE for the caller, not a SIGPIPE for the
  // process (libasync programs ignore SIGPIPE anyway; this keeps those that do not alive).
  return sendmsg (fd, &mh, MSG_NOSIGNAL);
}

extern "C" ssize_t
writefd (int fd, const void *buf, size_t len, int wfd)
{
  iovec iov = {const_cast<void *> (buf), len};
  return writevfd (fd, &iov, 1, wfd);
}

extern "C" ssize_t
readvfd (int fd, const struct iovec *iov, int iovcnt, int *rfdp)
{
  msghdr mh;
  memset (&mh, 0, sizeof mh);
  one_fd_control ctl;
  mh.msg_iov = const_cast<iovec *> (iov);
  mh.msg_iovlen = iovcnt;
  mh.msg_control = ctl.buf;
  mh.msg_controllen = sizeof ctl.buf;
  ssize_t n = recvmsg (fd, &mh, 0);
  if (n < 0)
    return n;
  *rfdp = -1;
  for (cmsghdr *cmh = CMSG_FIRSTHDR (&mh); cmh; cmh = CMSG_NXTHDR (&mh, cmh))
    if (cmh->cmsg_level == SOL_SOCKET && cmh->cmsg_type == SCM_RIGHTS
        && cmh->cmsg_len >= CMSG_LEN (sizeof (int)))
      memcpy (rfdp, CMSG_DATA (cmh), sizeof (int));
  if (n == 0 && *rfdp >= 0) {
    // A descriptor with no data is not end of file; *rfdp still belongs to the caller.
    errno = EAGAIN;
    return -1;
  }
  return n;
}

extern "C" ssize_t
readfd (int fd, void *buf, size_t len, int *rfdp)
{
  iovec iov = {buf, len};
  return readvfd (fd, &iov, 1, rfdp);
}
