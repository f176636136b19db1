// rwfd.h: descriptors really cross a Unix socketpair (the received number is a new descriptor
// for the same open file), with and without one, and libasync's edge cases.
#include "rwfd.h"
#include "amisc.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

struct socket_pair {
  int fd[2] = {-1, -1};
  socket_pair (int type = SOCK_STREAM) { EXPECT_EQ (socketpair (AF_UNIX, type, 0, fd), 0); }
  ~socket_pair ()
  {
    for (int f : fd)
      if (f >= 0)
        close (f);
  }
};

bool
same_file (int a, int b)
{
  struct stat sa, sb;
  return fstat (a, &sa) == 0 && fstat (b, &sb) == 0 && sa.st_dev == sb.st_dev
         && sa.st_ino == sb.st_ino;
}

TEST (async_rwfd, a_pipe_end_crosses_and_carries_data_afterwards)
{
  socket_pair sp;
  int p[2];
  ASSERT_EQ (pipe (p), 0);
  ASSERT_EQ (writefd (sp.fd[0], "x", 1, p[1]), 1);
  close (p[1]);  // the sender's copy; the receiver's keeps the pipe open
  char c = 0;
  int got = -1;
  ASSERT_EQ (readfd (sp.fd[1], &c, 1, &got), 1);
  EXPECT_EQ (c, 'x');
  ASSERT_GE (got, 0);
  ASSERT_EQ (write (got, "hi", 2), 2);  // through the received end, into the original pipe
  close (got);
  char buf[4] = {};
  EXPECT_EQ (read (p[0], buf, sizeof buf), 2);
  EXPECT_STREQ (buf, "hi");
  EXPECT_EQ (read (p[0], buf, sizeof buf), 0);  // every write end closed: end of file
  close (p[0]);
}

TEST (async_rwfd, vectored_forms_and_a_message_without_a_descriptor)
{
  socket_pair sp (SOCK_DGRAM);
  int f = open ("/dev/null", O_RDONLY);
  ASSERT_GE (f, 0);
  iovec out[2] = {{const_cast<char *> ("ab"), 2}, {const_cast<char *> ("cde"), 3}};
  ASSERT_EQ (writevfd (sp.fd[0], out, 2, f), 5);
  char a[2], b[3];
  iovec in[2] = {{a, 2}, {b, 3}};
  int got = -1;
  ASSERT_EQ (readvfd (sp.fd[1], in, 2, &got), 5);
  EXPECT_EQ (std::string (a, 2) + std::string (b, 3), "abcde");
  ASSERT_GE (got, 0);
  EXPECT_TRUE (same_file (got, f));
  close (got);
  close (f);

  // Plain data: *rfdp says -1.
  ASSERT_EQ (write (sp.fd[0], "z", 1), 1);
  char c;
  got = 1234;
  EXPECT_EQ (readfd (sp.fd[1], &c, 1, &got), 1);
  EXPECT_EQ (got, -1);
}

// libasync's rule: a descriptor without data is not end of file; -1/EAGAIN, and the descriptor
// is delivered all the same (the caller must close it).
TEST (async_rwfd, a_descriptor_with_no_data_is_eagain_not_eof)
{
  socket_pair sp (SOCK_SEQPACKET);
  int f = open ("/dev/null", O_RDONLY);
  ASSERT_GE (f, 0);
  ASSERT_EQ (writefd (sp.fd[0], "", 0, f), 0);
  close (f);
  char c;
  int got = -1;
  errno = 0;
  EXPECT_EQ (readfd (sp.fd[1], &c, 1, &got), -1);
  EXPECT_EQ (errno, EAGAIN);
  ASSERT_GE (got, 0);
  close (got);
}

TEST (async_rwfd, errors_pass_through)
{
  socket_pair sp;
  EXPECT_EQ (writefd (sp.fd[0], "x", 1, -1), -1);  // not a descriptor: sendmsg's EBADF
  EXPECT_EQ (errno, EBADF);
  make_async (sp.fd[1]);
  char c;
  int got = 7;
  EXPECT_EQ (readfd (sp.fd[1], &c, 1, &got), -1);  // nothing to read on a non-blocking socket
  EXPECT_EQ (errno, EAGAIN);
  close (sp.fd[0]);
  sp.fd[0] = -1;
  EXPECT_EQ (readfd (sp.fd[1], &c, 1, &got), 0);  // peer gone: end of file, no descriptor
  EXPECT_EQ (got, -1);
}

}  // namespace
