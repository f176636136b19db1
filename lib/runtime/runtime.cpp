// lib/runtime/runtime.cpp — the public runtime: its life (start, stop, drain, destroy), posting,
// colors, and the choice of its scheduling mode, made once here. The layers below: lib/core (what
// every mode shares), lib/steal (hue's stealing policies), lib/legacy (the libasync-smp emulation).
#include "core/color_scheduler.hpp"
#include "core/idle.hpp"
#include "core/runtime_impl.hpp"
#include "legacy/legacy_scheduler.hpp"
#include "steal/policies.hpp"

#include <cstdio>
#include <exception>
#include <stdexcept>

namespace hue {
namespace internal {

namespace {

template <template <bool> class Policy>
std::unique_ptr<scheduler> with_penalty(runtime_impl& rt, bool penalty, bool locality) {
  if (penalty) return std::make_unique<color_scheduler<Policy<true>>>(rt, locality);
  return std::make_unique<color_scheduler<Policy<false>>>(rt, locality);
}

// Every mode, in one place: the libasync-smp emulation, or hue's color-queues compiled for one
// stealing policy (steal/policies.hpp).
std::unique_ptr<scheduler> make_scheduler(runtime_impl& rt) {
  const steal_config& s = rt.cfg.steal;
  const heuristics_set& h = s.heuristics;
  switch (s.mode) {
    case steal_mode::libasync_smp:
    case steal_mode::libasync_smp_off:
      return make_legacy_scheduler(rt);
    case steal_mode::off:
      break;
    case steal_mode::base:
      if (rt.cfg.workers < 2) break;
      return with_penalty<fig2_stealing>(rt, false, false);
    case steal_mode::heuristics:
      if (rt.cfg.workers < 2) break;
      if (h.time_left) return with_penalty<time_left_stealing>(rt, h.penalty, h.locality);
      return with_penalty<fig2_stealing>(rt, h.penalty, h.locality);
  }
  return std::make_unique<color_scheduler<no_stealing>>(rt);  // off, or one worker: no thief
}

}  // namespace

bool called_from_worker_of(const runtime_impl* rt) noexcept { return current_worker.rt == rt; }

}  // namespace internal

runtime::runtime(config cfg) : impl_(std::make_unique<internal::runtime_impl>(this, cfg)) {
  impl_->sched = internal::make_scheduler(*impl_);
  if (!impl_->cfg.trace.empty()) impl_->start_trace(impl_->cfg.trace);  // before the first worker
  try {
    for (unsigned i = 0; i < impl_->cfg.workers; ++i)
      impl_->threads.emplace_back([this, i] { impl_->sched->run(impl_->cores[i]); });
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
  impl_->sched->discard_pending();
  try {
    impl_->stop_trace();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());  // a destructor cannot throw; the run itself went well
  }
}

bool runtime::post_event(color_t color, detail::event* e) {
  if (!impl_->accepting.load(std::memory_order_relaxed)) {
    impl_->posts_rejected.fetch_add(1, std::memory_order_relaxed);
    e->op(e, detail::event_op::discard);
    detail::free_block(e);
    return false;
  }
  if (impl_->tracing.load(std::memory_order_relaxed)) [[unlikely]]
    internal::trace_post(*impl_, color, e);
  try {
    impl_->sched->post(color, e);
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
  internal::color_slot& slot = impl_->table.slot_of(color);
  if (w.rt == impl_.get() && impl_->sched->runs_slot(*w.me, slot)) {
    // move_slot would wait for the running batch to end, which is this very handler.
    throw std::logic_error("hue: pin_color called from a handler of a color it would move");
  }
  impl_->sched->move_slot(slot, core, true);
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

void runtime::stop() noexcept { impl_->stop(); }

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

void runtime::start_trace(const std::string& file) { impl_->start_trace(file); }
std::size_t runtime::stop_trace() { return impl_->stop_trace(); }

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
