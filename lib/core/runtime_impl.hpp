// lib/core/runtime_impl.hpp — what a runtime is made of, shared by the files of lib/core.
#pragma once

#include "color_table.hpp"
#include "core.hpp"
#include "../topology/topology.hpp"

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
  std::function<void(const handler_error&)> on_error;
  std::string name;
};
resolved_config resolve(const config& cfg, unsigned machine_cores);

struct runtime_impl {
  runtime_impl(runtime* self, const config& cfg);

  runtime* const self;
  topology topo;              // before `cfg`: the default worker count comes from it
  const resolved_config cfg;
  color_table table;
  std::unique_ptr<core[]> cores;
  bool oversubscribed;        // more workers than cores: idle workers yield rather than spin

  // Read on every post and every batch, written once: a line of their own so they stay shared.
  alignas(64) std::atomic<bool> accepting{true};
  std::atomic<bool> stopping{false};
  std::atomic<bool> draining{false};
  std::atomic<bool> pin_warned{false};
  alignas(64) std::atomic<std::uint64_t> posts_rejected{0};

  std::vector<std::thread> threads;
  std::mutex join_mu;
  bool joined = false;
  std::mutex drain_mu;
  std::condition_variable drain_cv;

  // Queues `e` on the owner of its color. The caller has checked `accepting`.
  void enqueue(color_t color, detail::event* e);  // throws std::bad_alloc only
  // Moves every color of `slot` from its owner to core `to`. Waits while one of them is running.
  void move_slot(color_slot& slot, unsigned to, bool pin);
  void wake_all() noexcept;
  bool quiescent() const noexcept;
  void join();
  void discard_pending() noexcept;
  void report_exception(core& c, const detail::event& e, color_t color) noexcept;
};

// The worker thread body (worker.cpp).
void worker_main(runtime_impl& rt, core& me);

// The runtime and core whose handler is running on this thread, if any.
struct worker_context {
  runtime_impl* rt = nullptr;
  core* me = nullptr;
};
extern thread_local worker_context current_worker;

}  // namespace hue::internal
