// Configuration: program values win, environment fills unset fields, garbage is an error, and
// pinning that cannot be done is reported once while the runtime goes on unpinned.
#include <hue/hue.hpp>

#include <gtest/gtest.h>

#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

// Sets an environment variable for the scope of a test.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~scoped_env() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(Config, environment_fills_unset_fields) {
  scoped_env w("HUE_WORKERS", "3"), b("HUE_BATCH", "4");
  hue::runtime rt;
  EXPECT_EQ(rt.workers(), 3u);
  EXPECT_EQ(rt.batch(), 4u);
}

TEST(Config, program_values_win_over_the_environment) {
  scoped_env w("HUE_WORKERS", "3");
  hue::config cfg;
  cfg.workers = 2;
  hue::runtime rt(cfg);
  EXPECT_EQ(rt.workers(), 2u);
}

TEST(Config, malformed_environment_is_an_error_naming_the_variable) {
  for (const char* bad : {"abc", "0", "-1", "3x", "99999999"}) {
    scoped_env w("HUE_WORKERS", bad);
    try {
      hue::runtime rt;
      ADD_FAILURE() << "HUE_WORKERS=" << bad << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("HUE_WORKERS"), std::string::npos) << e.what();
    }
  }
  scoped_env p("HUE_PIN", "maybe");
  EXPECT_THROW(hue::runtime rt, std::invalid_argument);
}

// HUE_IO chooses the reactors' backend when neither the program's config nor the reactor's does;
// a value that names no backend is refused like any malformed variable.
TEST(Config, io_backend_from_the_environment_and_its_names) {
  EXPECT_EQ(hue::parse_io_backend("epoll"), hue::io_backend::epoll);
  EXPECT_EQ(hue::parse_io_backend("uring"), hue::io_backend::uring);
  EXPECT_EQ(hue::parse_io_backend("io_uring"), hue::io_backend::uring);
  EXPECT_THROW(hue::parse_io_backend("kqueue"), std::invalid_argument);
  {
    scoped_env io("HUE_IO", "epoll");
    hue::config cfg;
    cfg.workers = 1;
    hue::runtime rt(cfg);
    EXPECT_STREQ(hue::reactor(rt).backend(), "epoll");
  }
  scoped_env io("HUE_IO", "select");
  try {
    hue::runtime rt;
    ADD_FAILURE() << "HUE_IO=select was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("HUE_IO"), std::string::npos) << e.what();
  }
  hue::config cfg;
  cfg.workers = 1;
  cfg.io = hue::io_backend::epoll;  // the program's value wins: the environment is not read
  hue::runtime rt(cfg);
  EXPECT_STREQ(hue::reactor(rt).backend(), "epoll");
}

int cpus_in_affinity_mask() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  return CPU_COUNT(&set);
}

TEST(Config, default_worker_count_is_the_process_cpuset) {
  hue::runtime rt;  // one core per cpu on this VM (no SMT); run under `taskset -c 0` it is 1
  EXPECT_EQ(rt.workers(), static_cast<unsigned>(cpus_in_affinity_mask()));
}

TEST(Config, workers_are_pinned_to_distinct_cpus_when_possible) {
  hue::config cfg;
  cfg.workers = 2;
  hue::runtime rt(cfg);
  rt.post(1, [] {});
  rt.drain();
  const auto s = rt.stats();
  // Distinct cpus need two of them: under `taskset -c 0` (or a one-cpu container) there is nothing
  // to check, which is a property of the machine, not a failure.
  if (cpus_in_affinity_mask() < 2) GTEST_SKIP() << "needs two cpus";
  EXPECT_GE(s.cores[0].os_cpu, 0);
  EXPECT_GE(s.cores[1].os_cpu, 0);
  EXPECT_NE(s.cores[0].os_cpu, s.cores[1].os_cpu);
}

// A synthetic topology is not this machine: binding must fail, be reported once (not once per
// worker), and the runtime must run unpinned.
TEST(Config, pinning_refused_is_reported_once_and_the_runtime_runs_unpinned) {
  scoped_env synth("HWLOC_SYNTHETIC", "pack:2 core:2 pu:1");
  testing::internal::CaptureStderr();
  std::string err;
  {
    hue::runtime rt;
    EXPECT_EQ(rt.workers(), 4u);
    std::atomic<int> ran{0};
    for (hue::color_t c = 0; c < 100; ++c) rt.post(c, [&] { ++ran; });
    rt.drain();
    EXPECT_EQ(ran.load(), 100);
    for (const auto& c : rt.stats().cores) EXPECT_EQ(c.os_cpu, -1);
  }
  err = testing::internal::GetCapturedStderr();
  std::size_t reports = 0;
  for (std::size_t at = err.find("cannot pin"); at != std::string::npos;
       at = err.find("cannot pin", at + 1))
    ++reports;
  EXPECT_EQ(reports, 1u) << err;
}

TEST(Config, stats_dump_is_a_readable_table) {
  hue::config cfg;
  cfg.workers = 2;
  hue::runtime rt(cfg);
  rt.post(1, [] {});
  rt.drain();
  const std::string d = rt.stats().dump();
  EXPECT_NE(d.find("posted"), std::string::npos) << d;
  EXPECT_NE(d.find("total"), std::string::npos) << d;
  EXPECT_EQ(rt.stats().total().events_run, 1u);
}

}  // namespace
