// lib/core/worker.cpp — the run loop of one core.
//
// The loop is a sequence of named phases, described in the same order in the README:
//   1. run a batch: take the first color-queue of the core-queue, run at most `batch` of its events
//      (in the libasync-smp emulation: run the first event of the core's FIFO);
//   2. (reactor polling joins here with the reactor)
//   3. steal: when idle, take a whole color from another core (steal/steal.cpp);
//   4. park: spin briefly watching the core-queue (and retrying the steal), then sleep in the
//      kernel until a post wakes us.
//
// Shutdown, step by step: stop() clears `accepting` (posts are refused from then on), sets
// `stopping`, and wakes every core. A worker checks `stopping` between batches, so the batch it is
// running completes, then the thread returns. Events still queued stay in their color-queues until
// the runtime's destructor discards them, after every worker has been joined.
#include "block_pool.hpp"
#include "runtime_impl.hpp"

#include <pthread.h>

#include <chrono>
#include <thread>
#include <utility>
#include <cstdio>

namespace hue::internal {

thread_local worker_context current_worker;

void run_event(runtime_impl& rt, core& me, color_t color, detail::event* e) noexcept {
  try {
    e->op(e, detail::event_op::run);
  } catch (...) {
    rt.report_exception(me, *e, color);
  }
  detail::free_block(e);
}

// The reactor polling on this core for the length of one park (see core.hpp), or nullptr.
class poller_lease {
 public:
  explicit poller_lease(core& me) : me_(me) {
    if (!me.has_poller.load(std::memory_order_acquire)) return;
    spin_guard g(me.lock);
    me.note_lock_wait(g.waited);
    p_ = me.poller;
    me.poller_busy = p_ != nullptr;
  }
  ~poller_lease() {
    if (!p_) return;
    spin_guard g(me_.lock);
    me_.note_lock_wait(g.waited);
    me_.poller_busy = false;
  }
  poller_lease(const poller_lease&) = delete;
  poller_lease& operator=(const poller_lease&) = delete;
  idle_poller* get() const noexcept { return p_; }

 private:
  core& me_;
  idle_poller* p_ = nullptr;
};

// The core has work again after its Epoll event went to rest: polling continues as an event.
void resume_poller(core& me) noexcept {
  const poller_lease poller(me);
  if (poller.get()) poller.get()->resume();
}

namespace {

std::uint64_t now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// Empty color-queues kept per core, least recently used first out. They are what keeps a stolen
// color mapped to its thief after its queue drains (its slot goes home when the last spare of it
// is freed), and their blocks serve new colors. Enough for the colors a core juggles at once (its
// connections' colors in a server) at 8 KiB per core; picked without data, tune later.
constexpr unsigned max_spares = 64;

// Call with the core lock held. The spare's slot is owned by this core (all colors of a slot live
// on its owner), so its chain is ours to edit.
void free_spare(runtime_impl& rt, core& me, color_queue* q) noexcept {
  me.ready.take_spare(q);
  rt.release_queue(q);
  q->~color_queue();
  detail::free_block(q);
}

// With the lock held: the color-queue of the batch that just ran goes back to the end of its level
// if it still has events (so other colors of that priority get their turn: batching), else it
// becomes a spare.
void finish_batch(runtime_impl& rt, core& me, color_queue* q) noexcept {
  me.running_queue = nullptr;
  if (!q->empty()) {
    me.ready.push_back(q);
    rt.restage(me, q);
  } else {
    me.ready.keep_spare(q);
    if (me.ready.spare_count() > max_spares) free_spare(rt, me, me.ready.oldest_spare());
  }
}

// Phase 1. Returns false when the core-queue is empty. `finished` is the color-queue of the
// previous batch, still marked running: it is given back in the same critical section that takes
// the next batch, one lock round trip per batch instead of two (a batch is often one event).
bool run_batch(runtime_impl& rt, core& me, color_queue*& finished) {
  color_queue* q;
  detail::event* chain;
  unsigned taken;
  bool wake_poller;
  {
    spin_guard g(me.lock);
    me.note_lock_wait(g.waited);
    if (finished) {
      finish_batch(rt, me, finished);
      finished = nullptr;
    }
    q = me.ready.pop_front();
    if (!q) {
      me.update_hint();
      return false;
    }
    wake_poller = std::exchange(me.poll_dormant, false);
    // From here until the batch is finished no other core may take this color (mutual
    // exclusion); posts to it append to `q` but leave it out of the core-queue.
    q->st = color_queue::state::running;
    me.running_queue = q;
    chain = q->take(rt.cfg.batch, taken);
    me.pending -= taken;
    if (rt.stealing) {
      for (const detail::event* e = chain; e; e = e->next) {
        q->time_left -= rt.weight(*e);
        q->cost_left -= e->cost;
      }
      rt.restage(me, q);  // out of the stealing-queue while it runs
    }
    me.update_hint();
  }

  if (wake_poller) resume_poller(me);
  const color_t color = q->color;
  current_worker.color = color;
  for (detail::event* e = chain; e;) {
    detail::event* next = e->next;  // read before run_event frees the block
    // Cost profiling samples one event in 16: reading the TSC costs ~18 ns on this kind of VM,
    // and the average lives in the handler_info, a line every core running the handler shares.
    // Handlers whose annotation is in use are not measured at all.
    if (rt.profiling && (++me.profile_tick & 15) == 0 &&
        (rt.cfg.costs == cost_source::measured || e->info->cost == 0)) {
      const handler_info* info = e->info;
      const std::uint64_t t0 = cycles_now();
      run_event(rt, me, color, e);
      rt.record_cost(*info, cycles_now() - t0);
    } else {
      run_event(rt, me, color, e);
    }
    me.events_run.add();  // per event: counts trail a handler by one event, not by a batch
    e = next;
  }
  me.batches.add();
  finished = q;
  return true;
}

// Phase 4.
void park(runtime_impl& rt, core& me) {
  const std::uint64_t idle_start = cycles_now();
  const poller_lease poller(me);

  // Spin: a post that arrives within the spin window is picked up without a syscall on either side.
  const std::uint64_t deadline = now_ns() + rt.cfg.idle_spin_ns;
  for (unsigned i = rt.cfg.idle_spin_ns ? 0 : 63;; ++i) {  // a zero spin checks once, then sleeps
    if (me.ready_hint.load(std::memory_order_relaxed) ||
        rt.stopping.load(std::memory_order_relaxed)) {
      me.idle_cycles.add(cycles_now() - idle_start);
      return;
    }
    if (rt.oversubscribed) sched_yield(); else cpu_relax();
    if ((i & 63) == 63) {
      // I/O readiness is picked up while spinning too: a ping-pong peer must not wait for the
      // spin window to end. Its callbacks post, which sets our ready_hint if the work is ours.
      if (poller.get()) poller.get()->poll_now();
      // Work may appear on another core while we spin; a post only wakes sleepers.
      if (rt.stealing && (rt.legacy ? try_steal_legacy(rt, me) : try_steal(rt, me))) {
        me.idle_cycles.add(cycles_now() - idle_start);
        return;
      }
      if (now_ns() >= deadline) break;
    }
  }

  {
    spin_guard g(me.lock);
    me.note_lock_wait(g.waited);
    if (!me.ready.empty() || me.legacy.head || rt.stopping.load(std::memory_order_relaxed)) {
      me.idle_cycles.add(cycles_now() - idle_start);
      return;
    }
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
  me.sleeps.add();
  if (poller.get())
    poller.get()->block(me.park);  // epoll_wait, with the parker's eventfd among the watched fds
  else
    me.park.wait();
  rt.sleepers.fetch_sub(1, std::memory_order_relaxed);
  me.asleep.store(false, std::memory_order_relaxed);
  {
    // A waker clears `sleeping`; a spurious return leaves it set and would cost every later post a
    // needless eventfd write.
    spin_guard g(me.lock);
    me.note_lock_wait(g.waited);
    me.sleeping = false;
  }
  me.idle_cycles.add(cycles_now() - idle_start);
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

void attach_poller(core& k, idle_poller* p) noexcept {
  {
    spin_guard g(k.lock);
    k.poller = p;
    k.has_poller.store(true, std::memory_order_release);
    k.sleeping = false;
  }
  k.park.wake();  // a worker asleep in read() starts polling at its next park
}

bool poller_may_rest(core& k) noexcept {
  spin_guard g(k.lock);
  if (!k.ready.empty() || k.legacy.head) return false;
  k.poll_dormant = true;
  return true;
}

void detach_poller(core& k, const idle_poller* p) noexcept {
  bool busy;
  {
    spin_guard g(k.lock);
    if (k.poller != p) return;
    // No park starts using it from here on; wait only for the one in progress, if any.
    k.poller = nullptr;
    k.has_poller.store(false, std::memory_order_release);
    k.poll_dormant = false;
    busy = k.poller_busy;
    k.sleeping = false;
  }
  while (busy) {
    k.park.wake();  // out of epoll_wait, so the park ends
    std::this_thread::yield();
    spin_guard g(k.lock);
    busy = k.poller_busy;
  }
}

void worker_main(runtime_impl& rt, core& me) {
  me.start_cycles.store(cycles_now(), std::memory_order_relaxed);
  const std::string name = rt.cfg.name + "/" + std::to_string(me.index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());  // the kernel's limit
  pin(rt, me);
  current_worker = {&rt, &me};

  color_queue* finished = nullptr;  // see run_batch
  while (!rt.stopping.load(std::memory_order_relaxed)) {
    if (rt.legacy ? run_legacy_event(rt, me) : run_batch(rt, me, finished)) continue;
    if (rt.stealing && (rt.legacy ? try_steal_legacy(rt, me) : try_steal(rt, me))) continue;
    park(rt, me);
  }
  if (finished) {
    spin_guard g(me.lock);
    finish_batch(rt, me, finished);
  }

  current_worker = {};
  me.end_cycles.store(cycles_now(), std::memory_order_relaxed);
}

}  // namespace hue::internal
