// lib/core/runtime_impl.hpp — what a runtime is made of, shared by the files of lib/core.
#pragma once

#include "color_table.hpp"
#include "core.hpp"
#include "topology/topology.hpp"

#include <hue/config.hpp>
#include <hue/runtime.hpp>

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
  bool legacy;                // steal_mode::libasync_smp*: one FIFO per core
  bool stealing;              // any mode that steals
  bool profiling;             // sample handler costs (the stealing modes use them)

  // Read on every post and every batch, written once: a line of their own so they stay shared.
  alignas(64) std::atomic<bool> accepting{true};
  std::atomic<bool> stopping{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> pin_warned{false};
  alignas(64) std::atomic<std::uint64_t> posts_rejected{0};
  // Cycles one successful steal costs, a moving average measured by the thieves. The first guess
  // is the order of magnitude the paper reports for Mely (a few thousand cycles).
  std::atomic<std::uint64_t> steal_cost{2000};
  std::atomic<unsigned> sleepers{0};   // workers asleep in the kernel
  std::atomic<color_t> next_fresh_color{first_fresh_color};  // runtime::new_color

  std::vector<std::thread> threads;
  std::mutex join_mu;
  bool joined = false;
  std::mutex drain_mu;
  std::condition_variable drain_cv;

  // Queues `e` on the owner of its color. The caller has checked `accepting`.
  void enqueue(color_t color, detail::event* e);  // throws std::bad_alloc only
  void enqueue_legacy(color_t color, detail::event* e) noexcept;
  // Moves every color of `slot` from its owner to core `to`. Waits while one of them is running.
  void move_slot(color_slot& slot, unsigned to, bool pin);
  // Moves the color-queues of `slot` (none running) from `from` to `to`, with both locks held,
  // and points the slot at `to`. Returns the events moved and their expected cycles.
  struct transferred {
    std::uint32_t events = 0;
    std::uint64_t cycles = 0;
  };
  transferred transfer_slot(color_slot& slot, core& from, core& to) noexcept;

  // Takes `q` (spare, detached) out of its slot, sending the slot home if it was the last color
  // there; the caller frees or reuses the block. Core lock held.
  void release_queue(color_queue* q, const color_slot* keep = nullptr) noexcept;
  // A spare of `c` turned into a color-queue for `color`, or nullptr. Saves a block allocation
  // for every fresh color (a server's new connections). Core lock held.
  color_queue* recycle_spare(core& c, color_t color, const color_slot& into) noexcept;

  // --- costs and time left (stealing) ---
  std::uint32_t cost_of(const handler_info& info) const noexcept;
  std::uint64_t weight(const detail::event& e) const noexcept;
  // Re-files `q` in its core's stealing-queue after its time left or state changed (lock held).
  void restage(core& c, color_queue* q) noexcept;
  void record_cost(const handler_info& info, std::uint64_t cycles) noexcept;
  // After a post made `busy` worth stealing from: wake one sleeping worker to come and steal.
  void wake_thief(const core& busy) noexcept;
  void wake_all() noexcept;
  bool quiescent() const noexcept;
  void join();
  void discard_pending() noexcept;
  void report_exception(core& c, const detail::event& e, color_t color) noexcept;
};

// The worker thread body (worker.cpp).
void worker_main(runtime_impl& rt, core& me);
// Phase 3 of the run loop (steal/steal.cpp): one attempt; true when something was stolen.
bool try_steal(runtime_impl& rt, core& me);
// Phase 1 in the libasync-smp emulation (legacy/legacy_worker.cpp): runs one event.
bool run_legacy_event(runtime_impl& rt, core& me);
bool try_steal_legacy(runtime_impl& rt, core& me);
// Runs one event's handler, reporting what it throws; frees the event.
void run_event(runtime_impl& rt, core& me, color_t color, detail::event* e) noexcept;

// The runtime and core whose handler is running on this thread, if any.
struct worker_context {
  runtime_impl* rt = nullptr;
  core* me = nullptr;
  color_t color = 0;    // of the running handler; meaningful only while one runs
};

// The worker calls `p` instead of sleeping plainly from now on (lib/reactor). attach: any thread;
// the worker picks the poller up at its next park (the caller wakes it). detach: waits until the
// worker has left the park it is in, if any; the poller may be destroyed once it returns. Neither
// may be called by the worker of `k` itself while it parks (it never does: handlers run outside).
void attach_poller(core& k, idle_poller* p) noexcept;
void detach_poller(core& k, const idle_poller* p) noexcept;
// Called by the Epoll event on its core: true (and the core remembers to resume polling when it
// next takes work) when nothing else is queued there, false when it should re-post itself.
bool poller_may_rest(core& k) noexcept;
// The worker of `me`, after taking work while its Epoll event rested (core.hpp `poll_dormant`).
void resume_poller(core& me) noexcept;
extern thread_local worker_context current_worker;

}  // namespace hue::internal
