// lib/core/run_loop.cpp — the mode-independent parts of the run loop (run_loop.hpp): a worker's
// set-up and running one event. The park's spinning and sleeping are in idle.cpp.
#include "run_loop.hpp"

#include "block_pool.hpp"
#include "idle.hpp"

#include <pthread.h>

#include <cstdio>

namespace hue::internal {

__attribute__((tls_model("initial-exec"))) thread_local worker_context current_worker;

void run_event(runtime_impl& rt, core& me, detail::event* e) noexcept {
  try {
    e->op(e, detail::event_op::run);
  } catch (...) {
    rt.report_exception(me, *e->info, e->color);
  }
  detail::free_block(e);
}

void run_chain_traced(runtime_impl& rt, core& me, detail::event* chain, trace::ring& tr,
                      bool profile, bool measured_only) {
  // Two TSC reads per batch, not one per run: the first run's start and the batch's end. The
  // runs between carry no time (flag trace::interpolated) and the exporter shares the batch's
  // time out among them.
  std::uint64_t t0 = cycles_now();
  for (detail::event* e = chain; e;) {
    detail::event* next = e->next;  // read before run_event frees the block
    const handler_info* info = e->info;
    current_worker.color = e->color;
    tr.put(trace::kind::run_begin, t0, e->color, reinterpret_cast<std::uintptr_t>(info),
           static_cast<std::uint32_t>(e->trace_id), t0 ? 0 : trace::interpolated,
           static_cast<std::uint16_t>(e->trace_id >> 32));
    run_sampled(rt, me, e, profile, measured_only, t0);
    t0 = 0;
    // Before the count: whoever sees the event counted (drain, a test) sees its run ended.
    if (!next) tr.put(trace::kind::run_end, cycles_now());
    me.stats.events_run.add();
    e = next;
  }
  me.stats.batches.add();
}

namespace {

void pin(runtime_impl& rt, core& me) {
  me.os_cpu.store(-1, std::memory_order_relaxed);
  if (!rt.cfg.pin) return;
  const unsigned machine_core = me.index % rt.topo.cores();
  const std::string why = rt.topo.bind_current_thread(machine_core);
  if (why.empty()) {
    me.os_cpu.store(rt.topo.first_os_cpu(machine_core), std::memory_order_relaxed);
  } else if (!rt.pin_warned.exchange(true)) {
    std::fprintf(stderr, "hue: cannot pin workers to cores (%s); running unpinned\n", why.c_str());
  }
}

}  // namespace

worker_scope::worker_scope(runtime_impl& rt, core& me) : me_(me) {
  me.start_cycles.store(cycles_now(), std::memory_order_relaxed);
  const std::string name = rt.cfg.name + "/" + std::to_string(me.index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());  // the kernel's limit
  pin(rt, me);
  current_worker = {&rt, &me};
}

worker_scope::~worker_scope() {
  current_worker = {};
  me_.end_cycles.store(cycles_now(), std::memory_order_relaxed);
}

}  // namespace hue::internal
