// lib/core/runtime_impl.cpp — the mode-independent parts of a runtime: its cores, quiescence,
// joining, and reporting what handlers throw. Waking them is idle.cpp's.
#include "runtime_impl.hpp"

#include "cycles.hpp"
#include "idle.hpp"

#include <cstdio>
#include <stdexcept>

namespace hue::internal {

runtime_impl::runtime_impl(runtime* s, const config& c)
    : self(s),
      topo(topology_description(c)),
      cfg(resolve(c, topo.cores())),
      table(cfg.color_slots, cfg.workers),
      cores(new core[cfg.workers]),
      oversubscribed(cfg.workers > topo.cores()),
      max_spinning(std::max(1u, cfg.workers / 2)) {
  for (unsigned i = 0; i < cfg.workers; ++i) cores[i].index = i;
}

// True when every event posted so far has finished running. `events_run` is read first: each
// handler's posts are counted before its own completion is (release/acquire in `counter`), so a
// run total that equals the posted total read afterwards leaves no event pending or running.
bool runtime_impl::quiescent() const noexcept {
  std::uint64_t run = 0, posted = 0;
  for (unsigned i = 0; i < cfg.workers; ++i) run += cores[i].stats.events_run.get();
  for (unsigned i = 0; i < cfg.workers; ++i) posted += cores[i].events_posted.get();
  return run == posted;
}

void runtime_impl::stop() noexcept {
  accepting.store(false, std::memory_order_relaxed);
  stopping.store(true, std::memory_order_relaxed);
  wake_all(*this);
}

void runtime_impl::join() {
  std::lock_guard l(join_mu);
  if (joined) return;
  for (std::thread& t : threads) t.join();
  joined = true;
}

void runtime_impl::report_exception(core& c, const handler_info& info, color_t color) noexcept {
  c.stats.handler_exceptions.add();
  const handler_error err{&info, color, c.index, std::current_exception()};
  try {
    if (cfg.on_error) {
      cfg.on_error(err);
    } else {
      std::fprintf(stderr, "hue: handler '%s' (color %llu, core %u) threw: %s\n", info.name,
                   static_cast<unsigned long long>(color), c.index, err.what().c_str());
    }
  } catch (...) {
    std::fprintf(stderr, "hue: the error hook itself threw while reporting handler '%s'\n",
                 info.name);
  }
}

void runtime_impl::start_trace(const std::string& file) {
  if (file.empty()) throw std::invalid_argument("hue: start_trace needs a file name");
  std::lock_guard l(trace_mu);
  if (trace_window) throw std::logic_error("hue: a trace window is already open");
  // Created now, so that a bad path fails here rather than after the run it was meant to capture.
  if (std::FILE* f = std::fopen(file.c_str(), "w")) std::fclose(f);
  else throw std::runtime_error("hue: cannot create the trace file '" + file + "'");
  auto s = std::make_unique<trace::session>(file, cfg.workers, cfg.trace_records, cycles_now(),
                                            steady_ns());
  for (unsigned i = 0; i < cfg.workers; ++i)
    cores[i].trace.store(s->rings[i].get(), std::memory_order_release);
  tracing.store(true, std::memory_order_relaxed);
  trace_window = std::move(s);
}

std::size_t runtime_impl::stop_trace() {
  std::lock_guard l(trace_mu);
  if (!trace_window) return 0;
  tracing.store(false, std::memory_order_relaxed);
  for (unsigned i = 0; i < cfg.workers; ++i) cores[i].trace.store(nullptr, std::memory_order_relaxed);
  trace::session& s = *closed_windows.emplace_back(std::move(trace_window));
  s.stop_tsc = cycles_now();
  s.stop_ns = steady_ns();
  trace::write_chrome_json(s);
  if (const std::uint64_t lost = s.dropped())
    std::fprintf(stderr, "hue: trace '%s': rings full, %llu records dropped (raise HUE_TRACE_RECORDS)\n",
                 s.file.c_str(), static_cast<unsigned long long>(lost));
  return s.records();
}

void trace_post(runtime_impl& rt, color_t color, detail::event* e) noexcept {
  e->trace_id = trace::next_post_id();
  const worker_context& w = current_worker;
  if (w.rt != &rt) return;  // another thread, or a handler of another runtime: no ring of ours
  trace::ring* r = w.me->trace.load(std::memory_order_acquire);
  if (!r) return;
  // Only posts to another core's color are recorded (and pay for a TSC read): those are the flows.
  const unsigned owner = rt.table.slot_of(color).owner.load(std::memory_order_relaxed);
  if (owner != w.me->index) r->put(trace::kind::post, cycles_now(), color, e->trace_id, owner);
}

}  // namespace hue::internal
