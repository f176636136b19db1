// lib/core/run_loop.cpp — the mode-independent parts of the run loop (run_loop.hpp): a worker's
// set-up, running one event, and the park.
#include "run_loop.hpp"

#include "block_pool.hpp"

#include <pthread.h>

#include <chrono>
#include <cstdio>

namespace hue::internal {

thread_local worker_context current_worker;

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
  for (detail::event* e = chain; e;) {
    detail::event* next = e->next;  // read before run_event frees the block
    const handler_info* info = e->info;
    current_worker.color = e->color;
    const std::uint64_t t0 = cycles_now();
    tr.put(trace::kind::run_begin, t0, e->color, reinterpret_cast<std::uintptr_t>(info),
           static_cast<std::uint32_t>(e->trace_id), 0, static_cast<std::uint16_t>(e->trace_id >> 32));
    if (profile && (++me.profile_tick & 15) == 0 && (measured_only || info->cost == 0)) {
      run_event(rt, me, e);
      info->measured_cost.store(
          moving_average(info->measured_cost.load(std::memory_order_relaxed), cycles_now() - t0),
          std::memory_order_relaxed);
    } else {
      run_event(rt, me, e);
    }
    // Before the count: whoever sees the event counted (drain, a test) sees its run ended.
    if (!next) tr.put(trace::kind::run_end, cycles_now());
    me.stats.events_run.add();
    e = next;
  }
  me.stats.batches.add();
}

namespace {

// How long an idle worker spins with `pause` before it spins with sched_yield (spin_for_work).
constexpr std::uint64_t pause_spin_ns = 4'000;

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

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

bool spin_for_work(runtime_impl& rt, core& me, idle_poller* poller, bool (*steal)(void*),
                   void* arg) {
  // A post that arrives within the spin window is picked up without a syscall on either side.
  // The window's first microseconds spin with `pause`, which catches a cross-core hand-off at
  // once; after that the worker spins with sched_yield, which also returns at once when nothing
  // else wants this CPU but lets any other runnable thread run first. On a machine whose cores
  // are shared with other programs (a load generator beside a server, the race's set-up on two
  // cores) a pause-spinning worker took the CPU they needed: SWS served 51k requests/s under wrk
  // -c100 spinning with pause for the whole window, 56k with no spin at all, 82k with yields.
  const std::uint64_t start = now_ns(), deadline = start + rt.cfg.idle_spin_ns,
                      pause_until = start + pause_spin_ns;
  bool yielding = rt.oversubscribed;
  for (unsigned i = rt.cfg.idle_spin_ns ? 0 : 63;; ++i) {  // a zero spin checks once, then sleeps
    if (me.ready_hint.load(std::memory_order_relaxed) ||
        rt.stopping.load(std::memory_order_relaxed))
      return true;
    if (yielding) sched_yield(); else cpu_relax();
    if ((i & 63) == 63) {
      // I/O readiness is picked up while spinning too: a ping-pong peer must not wait for the
      // spin window to end. Its callbacks post, which sets our ready_hint if the work is ours.
      if (poller) poller->poll_now();
      // Work may appear on another core while we spin; a post only wakes sleepers.
      if (steal(arg)) return true;
      const std::uint64_t now = now_ns();
      if (now >= deadline) return false;
      yielding = yielding || now >= pause_until;
    }
  }
}

void sleep_until_woken(runtime_impl& rt, core& me, idle_poller* poller) {
  {
    spin_guard g(me.lock);
    me.note_lock_wait(g.waited);
    if (me.pending || rt.stopping.load(std::memory_order_relaxed)) return;
    me.sleeping = true;
    me.asleep.store(true, std::memory_order_relaxed);
  }
  // The last worker to fall asleep gives back what bursts needed. Not every sleeper: a thief that
  // naps between rounds would empty the depot that the busy core's next burst draws on.
  if (rt.sleepers.fetch_add(1, std::memory_order_relaxed) + 1 == rt.cfg.workers)
    detail::trim_block_pool();
  if (rt.draining.load(std::memory_order_relaxed)) {
    std::lock_guard l(rt.drain_mu);
    rt.drain_cv.notify_all();
  }
  me.stats.sleeps.add();
  trace::ring* const tr = me.trace.load(std::memory_order_acquire);
  if (tr) [[unlikely]] tr->put(trace::kind::sleep, cycles_now());
  if (poller)
    poller->block(me.park);  // epoll_wait, with the parker's eventfd among the watched fds
  else
    me.park.wait();
  rt.sleepers.fetch_sub(1, std::memory_order_relaxed);
  me.asleep.store(false, std::memory_order_relaxed);
  // A waker clears `sleeping`; a spurious return leaves it set and would cost every later post a
  // needless eventfd write.
  spin_guard g(me.lock);
  me.note_lock_wait(g.waited);
  // Every post, give-back or move that leaves work here while `sleeping` is set claims the wake
  // (and clears it). Still set with work pending: this sleep ended on the watchdog's timeout, and
  // the work would have waited for it. Counted, so a missed wake-up cannot hide.
  const bool rescue = me.sleeping && me.pending;
  if (rescue) me.stats.rescues.add();
  me.sleeping = false;
  if (tr) [[unlikely]] tr->put(trace::kind::wake, cycles_now(), 0, 0, 0, rescue);
}

}  // namespace hue::internal
