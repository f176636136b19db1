// rwfd.h — libasync's descriptor passing: send and receive an open file descriptor, with data,
// over a Unix-domain socket (SCM_RIGHTS).
//
//   int sv[2];  socketpair (AF_UNIX, SOCK_STREAM, 0, sv);
//   writefd (sv[0], "x", 1, fd);        // the peer gets its own descriptor for fd's file;
//   close (fd);                         // the sender's copy is still the sender's to close
//   char c;  int got;
//   if (readfd (sv[1], &c, 1, &got) == 1 && got >= 0) use (got);   // and close (got) later
//
// One descriptor per message, at most. Send at least one byte with it: a descriptor travels with
// data, and a zero-byte read is end of file.
//
// readfd/readvfd set *rfdp to the received descriptor, or -1 when the message carried none.
// Hazard, kept from libasync: a message that carried a descriptor but no data returns -1 with
// errno EAGAIN (so it is not taken for end of file) and *rfdp still holds the descriptor; the
// caller owns it and must close it even on that -1. Received descriptors are inheritable, as in
// libasync (programs hand them to children); a program that spawns while holding one sets
// FD_CLOEXEC itself.
// Descriptors beyond the first in one message (from a peer that is not libasync) are closed by
// the kernel, not delivered.
// (libasync's rwfd.h had no include guard; this one has a guard of its own.)
#ifndef _ASYNC_RWFD_H_
#define _ASYNC_RWFD_H_ 1

#include <sys/types.h>
#include <sys/uio.h>

extern "C" {
ssize_t readvfd (int fd, const struct iovec *iov, int iovcnt, int *rfdp);
ssize_t writevfd (int fd, const struct iovec *iov, int iovcnt, int wfd);
ssize_t readfd (int fd, void *buf, size_t len, int *rfdp);
ssize_t writefd (int fd, const void *buf, size_t len, int wfd);
}

#endif
