// Running programs (amisc.h): afork, spawn, aspawn, find_program. Everything a child does between
// fork and exec is async-signal-safe (write, dup2, close, sigaction, _exit): the parent has
// worker threads, and a lock one of them held at the fork would never be released in the child.
#include "amisc.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

str execdir;

namespace {

bool
execok (const char *path)
{
  struct stat sb;
  return !stat (path, &sb) && S_ISREG (sb.st_mode) && (sb.st_mode & 0111);
}

// In the child: in/out/err onto 0/1/2. An original above 2 is closed once nothing else needs it
// (one descriptor may serve as two of the three).
void
setstdfds (int in, int out, int err)
{
  if (in != 0) {
    dup2 (in, 0);
    if (in > 2 && in != out && in != err)
      close (in);
  }
  if (out != 1) {
    dup2 (out, 1);
    if (out > 2 && out != err)
      close (out);
  }
  if (err != 2) {
    dup2 (err, 2);
    if (err > 2)
      close (err);
  }
}

void
write_all (int fd, const void *p, size_t n)
{
  const char *c = static_cast<const char *> (p);
  while (n) {
    ssize_t w = write (fd, c, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    c += w;
    n -= size_t (w);
  }
}

}  // namespace

pid_t
afork ()
{
  pid_t pid = fork ();
  if (pid != 0)
    return pid;
  // A program run from here expects SIGPIPE to kill it; hue's reactor set it to SIG_IGN, which
  // exec would keep.
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  sigaction (SIGPIPE, &sa, nullptr);
  return 0;
}

str
fix_exec_path (str path, str dir)
{
  if (!path || strchr (path.cstr (), '/'))
    return path;
  if (!dir)
    dir = execdir;
  if (!dir)
    return path;
  return strbuf () << dir << "/" << path;
}

str
find_program (const char *program)
{
  if (strchr (program, '/'))
    return execok (program) ? str (program) : str ();
  if (progdir) {
    str r = strbuf () << progdir << program;  // progdir ends in '/'
    if (execok (r.cstr ()))
      return r;
  }
  const char *path = getenv ("PATH");
  if (!path)
    return NULL;
  for (const char *p = path; *p;) {
    const char *colon = strchrnul (p, ':');
    if (colon > p) {  // empty components are skipped, as libasync did
      str r = strbuf () << str (p, size_t (colon - p)) << "/" << program;
      if (execok (r.cstr ()))
        return r;
    }
    p = *colon ? colon + 1 : colon;
  }
  return NULL;
}

str
find_program_plus_libsfs (const char *program)
{
  str s = fix_exec_path (program);
  if (!s || !execok (s.cstr ()))
    s = find_program (program);
  return s;
}

pid_t
spawn (const char *path, char *const *argv, int in, int out, int err, cbv::ptr postforkcb,
       char *const *env)
{
  // The child reports a failed exec's errno through this pipe; a successful exec closes it
  // (O_CLOEXEC), so end of file means the program is running.
  int fds[2];
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = afork ();
  if (pid < 0) {
    int e = errno;
    close (fds[0]);
    close (fds[1]);
    errno = e;
    return -1;
  }
  if (pid == 0) {
    close (fds[0]);
    setstdfds (in, out, err);
    if (postforkcb)
      (*postforkcb) ();
    if (env)
      execve (path, argv, env);
    else
      execv (path, argv);
    int e = errno;
    write_all (fds[1], &e, sizeof e);
    _exit (1);
  }
  close (fds[1]);
  int child_errno;
  ssize_t n;
  while ((n = read (fds[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
    ;
  close (fds[0]);
  if (n != ssize_t (sizeof child_errno))
    return pid;
  // libasync left the failed child for the program to reap, which it never knew to do.
  while (waitpid (pid, nullptr, 0) < 0 && errno == EINTR)
    ;
  errno = child_errno;
  return -1;
}

pid_t
aspawn (const char *path, char *const *argv, int in, int out, int err, cbv::ptr postforkcb,
        char *const *env)
{
  pid_t pid = afork ();
  if (pid != 0)
    return pid;
  setstdfds (in, out, err);
  if (postforkcb)
    (*postforkcb) ();
  if (env)
    execve (path, argv, env);
  else
    execv (path, argv);
  // warn () takes a lock; strerror is not async-signal-safe in general but glibc's reads a
  // constant table for known errnos. The line is libasync's "path: error".
  const char *msg = strerror (errno);
  write_all (2, path, strlen (path));
  write_all (2, ": ", 2);
  write_all (2, msg, strlen (msg));
  write_all (2, "\n", 1);
  _exit (1);
}
