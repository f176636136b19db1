// hue/runtime.hpp — the colored event runtime.
//
// A runtime owns one worker thread per selected core. Each worker drains its core-queue: the
// color-queues it owns, highest priority first, at most `batch` events of one color in a row.
// Handlers are short and must not block; anything that waits belongs in the reactor.
//
//   hue::runtime rt;                                    // starts the workers
//   static constexpr hue::handler_info hash{.name = "Hash", .cost = 50'000};
//   for (std::uint64_t file = 0; file < 64; ++file)
//     rt.post(file, [file] { digest(file); }, hash);   // distinct colors: run in parallel
//   rt.post(7, [] { step1(); });                        // one color: step1 then step2,
//   rt.post(7, [] { step2(); });                        //   never at the same time
//   rt.drain();                                         // run everything, then stop
//
// Guarantees (tested under stress and ThreadSanitizer):
//   - two events of one color never run at the same time, on any core;
//   - events of one color posted by one thread run in the order they were posted;
//   - distinct colors are never serialized by a shared lock or table slot.
//
// Thread safety: every member function may be called from any thread, including from handlers,
// except `drain()`, `wait()` and the destructor, which wait for the workers and so throw
// std::logic_error (the destructor: terminates) when called from one of this runtime's handlers.
//
// Stopping: `stop()` makes each worker return after the batch it is running; pending events are
// destroyed unrun when the runtime is destroyed. `drain()` instead runs every pending event,
// including the ones posted while draining, and stops once the runtime is quiescent.
// After `stop()`, `post()` returns false and destroys the callable without running it; a post
// racing with `stop()` may either be refused or be queued and then discarded unrun.
#pragma once

#include <hue/config.hpp>
#include <hue/detail/event.hpp>
#include <hue/handler_info.hpp>
#include <hue/stats.hpp>

#include <coroutine>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

namespace hue {

class runtime;
class reactor;
namespace internal {
struct runtime_impl;  ///< opaque: the implementation (pimpl), defined in lib/core
}

/// The colored event runtime: one pinned worker per core draining color-queues (see the top of
/// this file for the guarantees, thread safety and stopping).
class runtime {
 public:
  /// Starts the workers. Throws std::invalid_argument for a bad configuration (or environment).
  explicit runtime(config cfg = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Queues `f` on `color`. Returns false (and destroys `f`) when the runtime has been stopped.
  /// Throws std::out_of_range for a priority >= priority_levels.
  template <class F>
  bool post(color_t color, F&& f, const handler_info& info = anonymous_handler,
            priority_t priority = default_priority) {
    if (priority >= priority_levels) throw std::out_of_range("hue: priority out of range");
    return post_event(color, detail::make_event(std::forward<F>(f), &info, priority));
  }
  /// The runtime keeps a pointer to the info: a temporary would dangle.
  template <class F>
  bool post(color_t, F&&, const handler_info&&, priority_t = default_priority) = delete;

  /// Shorthand for the default color 0.
  template <class F>
  bool post(F&& f) {
    return post(color_t{0}, std::forward<F>(f));
  }

  /// `co_await rt.on(color)` moves the calling coroutine onto `color`: the rest of it (up to its
  /// next suspension) runs as an event of that color, under its mutual exclusion, after the events
  /// already queued there. When the runtime has been stopped the coroutine is not resumed; its
  /// frame is destroyed with the reactor that spawned it (hue/coro.hpp).
  struct on_color {
    runtime* rt;               ///< where to post the resumption
    color_t color;             ///< the color it resumes on
    const handler_info* info;  ///< the resumption's handler info
    priority_t priority;       ///< and its priority
    bool await_ready() const noexcept { return false; }  ///< always suspends
    /// Posts the coroutine's resumption to `color`.
    void await_suspend(std::coroutine_handle<> h) const {
      rt->post(color, [h] { h.resume(); }, *info, priority);
    }
    void await_resume() const noexcept {}  ///< nothing to return
  };
  /// `co_await rt.on(color)`: see on_color. Throws std::out_of_range for a bad priority.
  on_color on(color_t color, const handler_info& info = anonymous_handler,
              priority_t priority = default_priority) {
    if (priority >= priority_levels) throw std::out_of_range("hue: priority out of range");
    return {this, color, &info, priority};
  }
  on_color on(color_t, const handler_info&&, priority_t = default_priority) = delete;

  /// A fresh color (>= first_fresh_color) that this runtime has never handed out before: one per
  /// connection, file or other object whose events must be serialized among themselves only. Thread
  /// safe, lock-free; 2^64 - 2^32 of them, so they do not run out.
  color_t new_color() noexcept;
  /// A fresh color whose initial placement is worker `core` (where its events run unless stolen):
  /// a connection accepted by a reactor polling on core k stays on core k. Throws
  /// std::out_of_range for a core >= workers().
  color_t new_color_on(unsigned core);

  /// Places `color` on worker `core` instead of where its hash would put it (SWS pins its Epoll
  /// and Accept colors). Pinned colors are never stolen. Colors that share the pinned color's
  /// table slot move with it (placement only: they are still never serialized with it).
  /// Throws std::out_of_range for a core >= workers().
  void pin_color(color_t color, unsigned core);

  /// The worker that owns `color` now (where its next event would be queued). Stealing may change
  /// it at any moment, so this is a hint, for placement decisions, tests and debugging.
  unsigned core_of(color_t color) const noexcept;

  void stop() noexcept;  ///< see "Stopping" at the top of this file; returns at once
  void drain();          ///< see "Stopping"; returns once quiescent and stopped
  void wait();  ///< blocks until some thread or handler has called stop()

  unsigned workers() const noexcept;  ///< worker threads (cores used)
  unsigned batch() const noexcept;    ///< most events of one color run in a row
  runtime_stats stats() const;        ///< a snapshot of every core's counters (hue/stats.hpp)

  /// Tracing (off by default). start_trace opens a capture window: every worker records its handler
  /// runs, steals, cross-core posts, parks, sleeps and reactor polls into a ring of its own, until
  /// stop_trace, which writes the window to `file` as Chrome trace-event JSON (ui.perfetto.dev and
  /// chrome://tracing open it: a track per core, flows from posts and steals to the runs they
  /// caused) and returns how many records it held. A full ring stops recording and counts drops
  /// (in the file's otherData). config::trace (HUE_TRACE) opens a window at start that the
  /// destructor closes. start_trace throws std::logic_error when a window is already open, and
  /// std::runtime_error when `file` cannot be created; stop_trace returns 0 when none is open, and
  /// throws std::runtime_error when the file cannot be written. stop_trace writes the file on the
  /// calling thread (from a handler, that core waits for it). Each window's rings (trace_records x
  /// 32 bytes per core) are kept until the runtime is destroyed: a worker may still be finishing a
  /// record in them.
  void start_trace(const std::string& file);
  std::size_t stop_trace();  ///< see start_trace

  /// The runtime whose handler is running on the calling thread, or nullptr.
  static runtime* current() noexcept;
  /// The worker index (0 .. workers()-1) of the calling handler's core, or `no_core` outside one.
  static constexpr unsigned no_core = ~0u;
  static unsigned current_core() noexcept;  ///< see no_core
  /// The color of the calling handler, or nullopt outside one (coroutines resume on it).
  static std::optional<color_t> current_color() noexcept;

 private:
  friend class reactor;  ///< attaches its polling to a core of this runtime
  bool post_event(color_t color, detail::event* e);  ///< takes ownership of e, even on throw
  std::unique_ptr<internal::runtime_impl> impl_;
};

}  // namespace hue
