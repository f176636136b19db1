// microbench/executors/tbb.hpp — the executor on oneTBB: a task_arena of `workers` slots (slot 0
// for a thread of the benchmark, which runs the first fork) and one task_group; an event is a
// task. No colors: in these workloads a color never has two events pending (each event posts its
// color's next one), so a chain of tasks keeps their order and exclusion. A task run() by a task
// goes to the front of its own thread's deque and idle threads steal the oldest: depth-first
// placement, unasked. Slots are pinned as hue pins its workers. A global_control lets the arena
// have more workers than cores, and tbb::finalize waits for TBB's threads to exit: otherwise they
// outlive the run, spinning, and take CPU time from the configuration measured next.
#pragma once

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/task_scheduler_observer.h>

#include <optional>

#include "executor.hpp"

namespace bench {

class tbb_executor {
 public:
  using color = unsigned;

  tbb_executor(const configuration&, const exec_params& p)
      : scheduler_(tbb::attach{}), parts_(std::in_place, p.workers) {}
  ~tbb_executor() {
    if (entry_.joinable()) entry_.join();
    parts_.reset();
    if (!tbb::finalize(scheduler_, std::nothrow))
      std::fprintf(stderr, "bench: oneTBB's workers did not all exit after the run\n");
  }

  color new_color() { return 0; }
  color color_on(unsigned) { return 0; }
  template <class F>
  void post(color, F&& f, const hue::handler_info&) {
    tasks_->run(std::forward<F>(f));
  }
  template <class F>
  void post_fork(F&& f) {
    tasks_->run(std::forward<F>(f));
  }
  // The entry thread waits in the arena (running tasks meanwhile) until the group empties: a task
  // posts its successor before it ends, so that happens only after the last join.
  template <class F>
  void start(F f) {
    entry_ = std::thread([this, f] {
      parts_->arena.execute([this, &f] {
        tbb::task_group tasks;
        tasks_ = &tasks;
        tasks.run(f);
        tasks.wait();
      });
    });
  }
  static unsigned here() noexcept {
    const int slot = tbb::this_task_arena::current_thread_index();
    return slot >= 0 ? static_cast<unsigned>(slot) : hue::runtime::no_core;
  }
  hue::runtime_stats stats() const { return {}; }

 private:
  class pinner : public tbb::task_scheduler_observer {
   public:
    explicit pinner(tbb::task_arena& a) : tbb::task_scheduler_observer(a) { observe(true); }
    ~pinner() override { observe(false); }
    void on_scheduler_entry(bool) override {
      if (const int slot = tbb::this_task_arena::current_thread_index(); slot >= 0)
        pin_thread(static_cast<unsigned>(slot));
    }
  };
  struct parts_t {
    explicit parts_t(unsigned workers)
        : parallelism(tbb::global_control::max_allowed_parallelism, workers),
          arena(static_cast<int>(workers)),
          pin(arena) {
      arena.initialize();
    }
    tbb::global_control parallelism;
    tbb::task_arena arena;
    pinner pin;
  };
  tbb::task_scheduler_handle scheduler_;
  std::optional<parts_t> parts_;
  tbb::task_group* tasks_ = nullptr;  // set before the first task runs
  std::thread entry_;
};

}  // namespace bench
