// lib/core/runtime_impl.hpp — what a runtime is made of: its configuration, its cores, its color
// table, its life-cycle flags, and its scheduling mode (scheduler.hpp). Mode-independent.
#pragma once

#include "color_table.hpp"
#include "core.hpp"
#include "scheduler.hpp"
#include "topology/topology.hpp"

#include <hue/config.hpp>
#include <hue/runtime.hpp>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hue::internal {

// The config with every field decided (program value, else environment, else default).
struct resolved_config {
  unsigned workers;
  unsigned batch;
  bool pin;
  std::uint32_t color_slots;
  std::uint64_t idle_spin_ns;
  steal_config steal;
  cost_source costs;
  std::function<void(const handler_error&)> on_error;
  std::string name;
  std::string trace;              // empty: no window at start
  std::uint32_t trace_records;
  io_backend io;                  // the default of the runtime's reactors
};
resolved_config resolve(const config& cfg, unsigned machine_cores);
std::string topology_description(const config& cfg);  // program value, else HUE_TOPOLOGY

struct runtime_impl {
  runtime_impl(runtime* self, const config& cfg);

  runtime* const self;
  topology topo;              // before `cfg`: the default worker count comes from it
  const resolved_config cfg;
  color_table table;
  std::unique_ptr<core[]> cores;
  bool oversubscribed;        // more workers than cores: idle workers yield rather than spin
  unsigned max_spinning;      // idle workers allowed to spin past the first 4 us (idle.hpp)
  std::unique_ptr<scheduler> sched;  // set once by the runtime's constructor, before any worker

  // Read on every post and every batch, written once: a line of their own so they stay shared.
  alignas(64) std::atomic<bool> accepting{true};
  std::atomic<bool> stopping{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> pin_warned{false};
  std::atomic<bool> tracing{false};    // a trace window is open: posts take a post id
  alignas(64) std::atomic<std::uint64_t> posts_rejected{0};
  std::atomic<unsigned> sleepers{0};   // workers asleep in the kernel
  std::atomic<unsigned> spinning{0};   // idle workers past the first 4 us of a spin
  std::atomic<color_t> next_fresh_color{first_fresh_color};  // runtime::new_color

  std::vector<std::thread> threads;
  std::mutex join_mu;
  bool joined = false;
  std::mutex drain_mu;
  std::condition_variable drain_cv;

  // Tracing (lib/trace): the open window, and the closed ones, kept because a worker may still be
  // writing its last record into them.
  std::mutex trace_mu;
  std::unique_ptr<trace::session> trace_window;
  std::vector<std::unique_ptr<trace::session>> closed_windows;
  void start_trace(const std::string& file);
  std::size_t stop_trace();

  // Calls `f(c)` with the lock of the core `c` that owns `slot` held, re-checking the owner after
  // locking (a steal or pin_color may move the slot meanwhile: then it retries). The one way in
  // for every post, whatever the mode (color_table.hpp explains why one lock suffices). `f`
  // returns true when it is done, false to retry after the lock is released (it needed a block).
  template <class F>
  void with_owner(const color_slot& slot, F f) {
    for (;;) {
      const unsigned k = slot.owner.load(std::memory_order_acquire);
      core& c = cores[k];
      spin_guard g(c.lock);
      c.note_lock_wait(g.waited);
      // The re-check must be an acquire too: the owner may have gone k -> other -> k (a steal,
      // then the slot going home) since the first read, and the chain we are about to read was
      // last written by the other core before it released the slot. Found by ThreadSanitizer.
      if (slot.owner.load(std::memory_order_acquire) != k) continue;
      if (f(c)) return;
    }
  }

  // The last step of every slot move, both locks held: `events` pending events changed cores and
  // the slot now names `to`.
  static void hand_over(color_slot& s, core& from, core& to, std::uint32_t events) noexcept {
    from.pending -= events;
    to.pending += events;
    s.owner.store(to.index, std::memory_order_release);
    from.update_hint();
    to.update_hint();
  }

  // Moves `slot` to core `to` with both owners' locks held (two_core_guard). `busy(from)` says a
  // color of the slot is running there: then it waits and retries. `transfer(from, to)` moves the
  // queued events and returns how many.
  template <class Busy, class Transfer>
  void move_slot_with(color_slot& s, unsigned to, bool pin, Busy busy, Transfer transfer) {
    for (;;) {
      const unsigned from = s.owner.load(std::memory_order_acquire);
      bool done = false, wake = false;
      {
        const two_core_guard both(cores[from], cores[to]);
        if (s.owner.load(std::memory_order_acquire) == from && !busy(cores[from])) {
          const std::uint32_t moved = from == to ? 0 : transfer(cores[from], cores[to]);
          s.pinned = s.pinned || pin;
          wake = moved && cores[to].claim_wake();
          done = true;
        }
      }
      if (wake) cores[to].park.wake();
      if (done) return;
      sched_yield();  // a running color cannot change cores mid-batch; wait for its batch to end
    }
  }

  bool quiescent() const noexcept;
  // runtime::stop(): refuses further posts and wakes every worker to leave.
  void stop() noexcept;
  void join();
  // The current exception, thrown by a handler of `info` on `color`, to the error hook; counted
  // on `c` (the core that ran it, or the reactor's polling core for a delivery that failed).
  void report_exception(core& c, const handler_info& info, color_t color) noexcept;
};

// A window is open: gives `e` its post id, and records the post when a worker of `rt` makes it.
void trace_post(runtime_impl& rt, color_t color, detail::event* e) noexcept;

// Runs one event's handler, reporting what it throws; frees the event.
void run_event(runtime_impl& rt, core& me, detail::event* e) noexcept;

// The runtime and core whose handler is running on this thread, if any.
struct worker_context {
  runtime_impl* rt = nullptr;
  core* me = nullptr;
  color_t color = 0;    // of the running handler; meaningful only while one runs
};
// initial-exec: an access is one %fs-relative load. The library is built position-independent, and
// the default model made every access a call to __tls_get_addr: two per traced post, one per
// run. Hazard: a libhue built as a shared library and loaded by dlopen takes this from glibc's
// small static TLS reserve, and fails to load if another library used it up.
extern thread_local worker_context current_worker __attribute__((tls_model("initial-exec")));

// After a post queued an event on `owner`: counts it on the posting worker when it crossed cores
// (core_stats::remote_posts). Posts from outside the runtime's workers are not counted.
inline void note_remote_post(const runtime_impl& rt, const core& owner) noexcept {
  const worker_context& w = current_worker;
  if (w.rt == &rt && w.me && w.me != &owner) w.me->stats.remote_posts.add();
}

}  // namespace hue::internal
