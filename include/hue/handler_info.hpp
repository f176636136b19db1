// hue/handler_info.hpp — colors, priorities and the static description of a handler.
//
// Every event names a *color*: events of one color never run at the same time and run in the
// order they were posted; events of different colors may run in parallel on different cores.
// A `handler_info` describes a handler once for all of its events: a name (for errors, stats and
// traces), an expected cost in CPU cycles and a stealing penalty. The work-stealing heuristics read
// the cost and the penalty (a color's *time left* is the sum of `cost / penalty` over its events).
//
//   static constexpr hue::handler_info parse_request{.name = "ParseRequest", .cost = 2'000};
//   rt.post(fd, [c] { c->parse(); }, parse_request);
//
// Lifetime: the runtime keeps a pointer to the info, so it must outlive every event that names it.
// Give infos static storage duration, as above; `runtime::post` refuses temporaries at compile time.
// Handlers without a cost annotation get one measured at run time (see `measured_cost`).
#pragma once

#include <atomic>
#include <cstdint>

namespace hue {

/// A color is a 64-bit key. The space is split in two so that colors never collide by accident:
///   - fixed colors, [0, first_fresh_color): constants the program picks for its long-lived roles
///     (SWS's Accept is color 1). Color 0 is the default: posting everything to color 0 gives the
///     single-threaded semantics of a classic event loop.
///   - fresh colors, [first_fresh_color, 2^64): handed out by `runtime::new_color()`, one per object
///     (a connection, a file, a reactor's Epoll event), never handed out twice by one runtime.
/// A per-object color derived from something reusable (a socket fd) would collide with the fixed
/// colors and with the next object that gets the same fd; fresh colors cannot.
using color_t = std::uint64_t;
inline constexpr color_t first_fresh_color = color_t{1} << 32;  ///< the first fresh color

/// Priority of an event. A color-queue's priority is the highest priority among its pending events;
/// a core runs higher-priority color-queues first. Priorities never reorder events *within* a color.
using priority_t = std::uint8_t;
inline constexpr priority_t priority_levels = 8;  ///< valid priorities: 0 (default, lowest) .. 7
inline constexpr priority_t default_priority = 0;  ///< what post() uses unless told otherwise

/// What the runtime knows about a handler: its name (statistics, traces, error reports), its
/// expected cost and its stealing penalty. Give it static storage: the runtime keeps a pointer.
struct handler_info {
  const char* name = "anonymous";  ///< shown in traces and error reports
  /// Expected run time in CPU cycles (rdtsc ticks); 0 means "not annotated".
  std::uint64_t cost = 0;
  /// Stealing penalty, >= 1: the higher it is, the less attractive the handler's events are to
  /// thieves (use it for handlers that touch large, long-lived data sets).
  std::uint32_t penalty = 1;

  /// Filled in by the runtimes: a moving average of the cycles this handler's events take,
  /// sampled as they run. Used wherever `cost` is 0, or always with cost_source::measured.
  /// Mutable so that infos can be `static constexpr`; shared by every runtime in the process.
  mutable std::atomic<std::uint64_t> measured_cost{0};
};

/// The info used when a post names none.
inline constexpr handler_info anonymous_handler{};

}  // namespace hue
