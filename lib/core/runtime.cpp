// lib/core/runtime.cpp — the runtime's life: start, stop, drain, destroy, and the public API.
// Where posted events go is placement.cpp; the run loop is worker.cpp.
#include "runtime_impl.hpp"

#include <cstdio>
#include <exception>
#include <stdexcept>

namespace hue {
namespace internal {

runtime_impl::runtime_impl(runtime* s, const config& c)
    : self(s),
      topo(topology_description(c)),
      cfg(resolve(c, topo.cores())),
      table(cfg.color_slots, cfg.workers),
      cores(new core[cfg.workers]),
      oversubscribed(cfg.workers > topo.cores()),
      legacy(cfg.steal.mode == steal_mode::libasync_smp ||
             cfg.steal.mode == steal_mode::libasync_smp_off),
      stealing(cfg.steal.mode != steal_mode::off && cfg.steal.mode != steal_mode::libasync_smp_off &&
               cfg.workers > 1),
      profiling(stealing) {
  const unsigned n = cfg.workers, machine = topo.cores();
  for (unsigned i = 0; i < n; ++i) {
    core& k = cores[i];
    k.index = i;
    k.distance.resize(n);
    for (unsigned j = 0; j < n; ++j)
      k.distance[j] = static_cast<unsigned>(topo.between(i % machine, j % machine));
    k.victims.reserve(n);
    k.loads.resize(n);
  }
}

runtime_impl& impl_of(runtime& rt) noexcept { return *rt.impl_; }

void runtime_impl::wake_all() noexcept {
  for (unsigned i = 0; i < cfg.workers; ++i) {
    {
      spin_guard g(cores[i].lock);
      cores[i].sleeping = false;
    }
    cores[i].park.wake();
  }
}

// True when every event posted so far has finished running. `events_run` is read first: each
// handler's posts are counted before its own completion is (release/acquire in `counter`), so a
// run total that equals the posted total read afterwards leaves no event pending or running.
bool runtime_impl::quiescent() const noexcept {
  std::uint64_t run = 0, posted = 0;
  for (unsigned i = 0; i < cfg.workers; ++i) run += cores[i].events_run.get();
  for (unsigned i = 0; i < cfg.workers; ++i) posted += cores[i].events_posted.get();
  return run == posted;
}

void runtime_impl::join() {
  std::lock_guard l(join_mu);
  if (joined) return;
  for (std::thread& t : threads) t.join();
  joined = true;
}

// After join(): no worker runs, so no lock is needed. Destroying a callable may post (its
// destructor might): `accepting` is false by then, so such posts are refused, not queued.
void runtime_impl::discard_pending() noexcept {
  for (unsigned k = 0; k < cfg.workers; ++k) {
    while (detail::event* e = cores[k].legacy.pop()) {
      e->op(e, detail::event_op::discard);
      detail::free_block(e);
    }
  }
  for (std::uint32_t i = 0; i < table.size(); ++i) {
    color_slot& s = table.slot(i);
    while (color_queue* q = s.chain) {
      s.chain = q->slot_next;
      unsigned n;
      for (detail::event* e = q->take(~0u, n); e;) {
        detail::event* next = e->next;
        e->op(e, detail::event_op::discard);
        detail::free_block(e);
        e = next;
      }
      q->~color_queue();
      detail::free_block(q);
    }
  }
}

void runtime_impl::report_exception(core& c, const detail::event& e, color_t color) noexcept {
  c.handler_exceptions.add();
  const handler_error err{e.info, color, c.index, std::current_exception()};
  try {
    if (cfg.on_error) {
      cfg.on_error(err);
    } else {
      std::fprintf(stderr, "hue: handler '%s' (color %llu, core %u) threw: %s\n", e.info->name,
                   static_cast<unsigned long long>(color), c.index, err.what().c_str());
    }
  } catch (...) {
    std::fprintf(stderr, "hue: the error hook itself threw while reporting handler '%s'\n",
                 e.info->name);
  }
}

bool called_from_worker_of(const runtime_impl* rt) noexcept { return current_worker.rt == rt; }

}  // namespace internal

runtime::runtime(config cfg) : impl_(std::make_unique<internal::runtime_impl>(this, cfg)) {
  try {
    for (unsigned i = 0; i < impl_->cfg.workers; ++i)
      impl_->threads.emplace_back(internal::worker_main, std::ref(*impl_), std::ref(impl_->cores[i]));
  } catch (...) {
    stop();
    impl_->join();
    throw;
  }
}

runtime::~runtime() {
  if (internal::called_from_worker_of(impl_.get())) {
    std::fprintf(stderr, "hue: a runtime was destroyed by one of its own handlers\n");
    std::terminate();
  }
  stop();
  impl_->join();
  impl_->discard_pending();
}

bool runtime::post_event(color_t color, detail::event* e) {
  if (!impl_->accepting.load(std::memory_order_relaxed)) {
    impl_->posts_rejected.fetch_add(1, std::memory_order_relaxed);
    e->op(e, detail::event_op::discard);
    detail::free_block(e);
    return false;
  }
  try {
    impl_->enqueue(color, e);
  } catch (...) {
    e->op(e, detail::event_op::discard);
    detail::free_block(e);
    throw;
  }
  return true;
}

void runtime::pin_color(color_t color, unsigned core) {
  if (core >= impl_->cfg.workers) throw std::out_of_range("hue: pin_color to a core >= workers()");
  const internal::worker_context& w = internal::current_worker;
  const bool same_slot_runs =
      w.rt == impl_.get() &&
      ((w.me->running_queue && impl_->table.index_of(w.me->running_queue->color) ==
                                   impl_->table.index_of(color)) ||
       (w.me->legacy_running &&
        impl_->table.index_of(w.me->legacy_running_color) == impl_->table.index_of(color)));
  if (same_slot_runs) {
    // move_slot would wait for the running batch to end, which is this very handler.
    throw std::logic_error("hue: pin_color called from a handler of a color it would move");
  }
  impl_->move_slot(impl_->table.slot_of(color), core, true);
}

color_t runtime::new_color() noexcept {
  return impl_->next_fresh_color.fetch_add(1, std::memory_order_relaxed);
}

color_t runtime::new_color_on(unsigned core) {
  if (core >= impl_->cfg.workers) throw std::out_of_range("hue: new_color_on a core >= workers()");
  // Fresh colors hash uniformly over the slots, and slots are spread round-robin over the cores, so
  // about one draw in workers() lands home on `core`; the others are simply never used.
  for (;;) {
    const color_t c = new_color();
    if (impl_->table.home_of(impl_->table.index_of(c)) == core) return c;
  }
}

unsigned runtime::core_of(color_t color) const noexcept {
  return impl_->table.slot_of(color).owner.load(std::memory_order_relaxed);
}

void runtime::stop() noexcept {
  impl_->accepting.store(false, std::memory_order_relaxed);
  impl_->stopping.store(true, std::memory_order_relaxed);
  impl_->wake_all();
}

void runtime::drain() {
  if (internal::called_from_worker_of(impl_.get()))
    throw std::logic_error("hue: drain() called from a handler of the runtime it drains");
  impl_->draining.store(true, std::memory_order_relaxed);
  {
    // Workers notify when they go to sleep while draining; the timeout covers a worker that
    // is spinning, not yet asleep, when the last event completes.
    std::unique_lock l(impl_->drain_mu);
    while (!impl_->quiescent() && !impl_->stopping.load(std::memory_order_relaxed))
      impl_->drain_cv.wait_for(l, std::chrono::milliseconds(1));
  }
  stop();
  impl_->join();
}

void runtime::wait() {
  if (internal::called_from_worker_of(impl_.get()))
    throw std::logic_error("hue: wait() called from a handler of the runtime it waits for");
  impl_->join();
}

unsigned runtime::workers() const noexcept { return impl_->cfg.workers; }
unsigned runtime::batch() const noexcept { return impl_->cfg.batch; }

runtime_stats runtime::stats() const {
  runtime_stats s;
  s.cores.reserve(impl_->cfg.workers);
  for (unsigned i = 0; i < impl_->cfg.workers; ++i) s.cores.push_back(impl_->cores[i].snapshot());
  s.posts_rejected = impl_->posts_rejected.load(std::memory_order_relaxed);
  return s;
}

runtime* runtime::current() noexcept {
  return internal::current_worker.rt ? internal::current_worker.rt->self : nullptr;
}

unsigned runtime::current_core() noexcept {
  return internal::current_worker.me ? internal::current_worker.me->index : no_core;
}

std::optional<color_t> runtime::current_color() noexcept {
  if (!internal::current_worker.rt) return std::nullopt;
  return internal::current_worker.color;
}

}  // namespace hue
