// amisc.h's program running: spawn reports a failed exec as -1/errno and leaves no zombie,
// wires in/out/err, runs postforkcb in the child, passes env; aspawn reports on the child's
// stderr; find_program searches progdir and $PATH. AsyncSpawnColors.*: a spawned child's exit
// (chldcb) reaches a colored program on the right color; they also run in the 'concurrency'
// suite, under ThreadSanitizer, which reports the plain fields they share if it does not.
#include "amisc.h"
#include "async.h"
#include "async_support.hpp"

#include <gtest/gtest.h>

#include <hue/runtime.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace {

std::string
read_all (int fd)
{
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read (fd, buf, sizeof buf)) > 0)
    out.append (buf, size_t (n));
  return out;
}

int
exit_status (pid_t pid)
{
  int st = 0;
  EXPECT_EQ (waitpid (pid, &st, 0), pid);
  return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

// Runs argv with stdout into a pipe; returns what it printed and its exit status.
std::pair<std::string, int>
run_capture (const char *const *argv, cbv::ptr postfork = NULL, char *const *env = NULL)
{
  int p[2];
  EXPECT_EQ (pipe (p), 0);
  pid_t pid = spawn (argv[0], argv, 0, p[1], 2, postfork, env);
  close (p[1]);
  EXPECT_GT (pid, 0);
  std::string out = read_all (p[0]);
  close (p[0]);
  return {out, pid > 0 ? exit_status (pid) : -1};
}

TEST (async_spawn, output_goes_to_the_given_descriptor)
{
  const char *argv[] = {"/bin/sh", "-c", "echo hello; echo oops >&2; exit 3", nullptr};
  int out[2], err[2];
  ASSERT_EQ (pipe (out), 0);
  ASSERT_EQ (pipe (err), 0);
  pid_t pid = spawn (argv[0], argv, 0, out[1], err[1]);
  ASSERT_GT (pid, 0);
  close (out[1]);
  close (err[1]);
  EXPECT_EQ (read_all (out[0]), "hello\n");
  EXPECT_EQ (read_all (err[0]), "oops\n");
  close (out[0]);
  close (err[0]);
  EXPECT_EQ (exit_status (pid), 3);
}

TEST (async_spawn, a_failed_exec_is_minus_one_with_errno_and_no_zombie)
{
  const char *argv[] = {"/nonexistent/hue-spawn-test", nullptr};
  errno = 0;
  EXPECT_EQ (spawn (argv[0], argv), -1);
  EXPECT_EQ (errno, ENOENT);
  EXPECT_EQ (waitpid (-1, nullptr, WNOHANG), -1);  // nothing left to reap
  EXPECT_EQ (errno, ECHILD);
}

void
to_root ()
{
  if (chdir ("/") != 0)
    _exit (9);
}

TEST (async_spawn, postforkcb_runs_in_the_child_and_env_replaces_the_environment)
{
  const char *pwd[] = {"/bin/sh", "-c", "pwd", nullptr};
  auto r = run_capture (pwd, wrap (to_root));
  EXPECT_EQ (r.first, "/\n");
  EXPECT_EQ (r.second, 0);
  char *cwd = getcwd (nullptr, 0);  // the parent's stayed where it was
  ASSERT_NE (cwd, nullptr);
  EXPECT_STRNE (cwd, "/");
  free (cwd);

  const char *env_argv[] = {"/bin/sh", "-c", "echo \"$HUE_SPAWN_A\"", nullptr};
  char a[] = "HUE_SPAWN_A=one";
  char *env[] = {a, nullptr};
  r = run_capture (env_argv, NULL, env);
  EXPECT_EQ (r.first, "one\n");
}

TEST (async_spawn, aspawn_reports_a_failed_exec_on_the_childs_stderr)
{
  int err[2];
  ASSERT_EQ (pipe (err), 0);
  const char *argv[] = {"/nonexistent/hue-aspawn-test", nullptr};
  pid_t pid = aspawn (argv[0], argv, 0, 1, err[1]);
  ASSERT_GT (pid, 0);
  close (err[1]);
  EXPECT_EQ (read_all (err[0]), "/nonexistent/hue-aspawn-test: No such file or directory\n");
  close (err[0]);
  EXPECT_EQ (exit_status (pid), 1);
}

TEST (async_spawn, find_program_searches_path_and_checks_execute_permission)
{
  str sh = find_program ("sh");
  ASSERT_TRUE (sh);
  EXPECT_EQ (access (sh.cstr (), X_OK), 0);
  EXPECT_EQ (find_program ("/bin/sh"), "/bin/sh");
  EXPECT_FALSE (find_program ("/etc/passwd"));  // exists, not executable
  EXPECT_FALSE (find_program ("hue-no-such-program"));
  EXPECT_EQ (fix_exec_path ("/abs/prog"), "/abs/prog");
  EXPECT_EQ (fix_exec_path ("prog", "/opt/x"), "/opt/x/prog");
  EXPECT_EQ (fix_exec_path ("prog"), "prog");  // no execdir set
}

// ---- completions on colors ----

bool
run_until (std::function<bool ()> pred, double seconds = 10)
{
  return async_test::run_until (pred, seconds);
}

// An object kept on one color that runs children: its fields are plain, shared by its own
// callbacks and by the children's exits.
struct runner_on_color : async_test::kept_on_color {
  int exits = 0;       // plain on purpose
  int status_sum = 0;  // plain on purpose
  int own_runs = 0;    // plain on purpose

  // On the color: spawn children; half report through an uncolored callback (the caller's color
  // applies), half through one colored with this color.
  void start (int n)
  {
    check_color ();
    for (int i = 0; i < n; i++) {
      str code = strbuf () << "exit " << (i % 3);
      const char *argv[] = {"/bin/sh", "-c", code.cstr (), nullptr};
      pid_t pid = spawn (argv[0], argv);
      if (pid < 0) {
        wrong_color = true;
        ++finished;
        continue;
      }
      if (i % 2)
        chldcb (pid, wrap (this, &runner_on_color::exited));
      else
        chldcb (pid, cwrap (color, this, &runner_on_color::exited));
      cpucb (cwrap (color, this, &runner_on_color::own));
    }
  }
  void exited (int status)
  {
    check_color ();
    ++exits;
    status_sum += WIFEXITED (status) ? WEXITSTATUS (status) : 100;
    ++finished;
  }
  void own ()
  {
    check_color ();
    ++own_runs;
  }
};

TEST (AsyncSpawnColors, ChildExitsReachTheCallersColorAndTheCallbacksColor)
{
  runner_on_color objs[2];
  const int n = 6;
  for (auto &o : objs) {
    o.color = new_cbcolor ();
    cpucb (cwrap (o.color, &o, &runner_on_color::start, n));
  }
  ASSERT_TRUE (run_until ([&] { return objs[0].finished == n && objs[1].finished == n; }));
  std::atomic<int> fences {0};
  auto fence = [] (std::atomic<int> *f) { ++*f; };
  for (auto &o : objs)
    cpucb (cwrap (o.color, +fence, &fences));
  ASSERT_TRUE (run_until ([&] { return fences == 2; }));
  for (auto &o : objs) {
    EXPECT_FALSE (o.wrong_color);
    EXPECT_EQ (o.exits, n);
    EXPECT_EQ (o.status_sum, 0 + 1 + 2 + 0 + 1 + 2);
    EXPECT_EQ (o.own_runs, n);
  }
}

void exit_on_loop (std::atomic<bool> *on_color, std::atomic<int> *done, int)
{
  *on_color = hue::runtime::current_color ().has_value ();
  ++*done;
}

// Registered from the loop thread with an uncolored callback: it stays on the loop thread, as in
// libasync.
TEST (AsyncSpawnColors, AnUncoloredCallbackFromTheLoopStaysOnTheLoop)
{
  const char *argv[] = {"/bin/true", nullptr};
  pid_t pid = spawn (argv[0], argv);
  ASSERT_GT (pid, 0);
  std::atomic<bool> on_color {true};
  std::atomic<int> done {0};
  chldcb (pid, wrap (exit_on_loop, &on_color, &done));
  ASSERT_TRUE (run_until ([&] { return done == 1; }));
  EXPECT_FALSE (on_color);
}

}  // namespace
