// hue/config.hpp — how a runtime is set up.
//
// Every field has a "not set" value. A field the program sets always wins; a field left unset is
// taken from the environment when the matching variable is present (so benchmarks can switch a
// setting without rebuilding), and otherwise gets the built-in default:
//
//   field         environment           default
//   workers       HUE_WORKERS           one per core in the process's cpuset (read with hwloc)
//   batch         HUE_BATCH             10 (the paper's threshold)
//   pin           HUE_PIN (0/1)         true
//   color_slots   HUE_COLOR_SLOTS       131072 (40 bytes each: 5 MiB)
//   idle_spin     HUE_IDLE_SPIN_US      50 us
//   steal         HUE_STEAL             all heuristics (see steal_config::parse)
//   costs         HUE_COSTS             annotated (annotations win; measured where absent)
//   topology      HUE_TOPOLOGY          this machine, read by hwloc
//   trace         HUE_TRACE             none: no trace (a file name: trace from start to shutdown)
//   trace_records HUE_TRACE_RECORDS     262144 records (32 bytes each) per core and window
//   io            HUE_IO                epoll (the reactors' kernel interface: epoll or uring)
//
//   hue::config cfg;
//   cfg.workers = 4;                      // more workers than cores is allowed
//   cfg.on_error = [](const hue::handler_error& e) { log(e.info->name, e.what()); };
//   hue::runtime rt(cfg);
//
// A malformed environment value (HUE_WORKERS=abc) makes the runtime constructor throw
// std::invalid_argument naming the variable, rather than silently using a default.
#pragma once

#include <hue/handler_info.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>

namespace hue {

/// Work stealing: what an idle core does about busy ones.
enum class steal_mode : std::uint8_t {
  off,               ///< hue's color-queues, no stealing
  base,              ///< hue's color-queues, the libasync-smp policy of the paper's Fig. 2
  heuristics,        ///< hue's color-queues, the heuristics switched on in `heuristics_set`
  libasync_smp,      ///< emulation of the legacy runtime: one FIFO per core, Fig. 2 stealing
  libasync_smp_off,  ///< the same emulation without stealing
};

/// Which of the paper's heuristics a `steal_mode::heuristics` runtime uses (all by default).
struct heuristics_set {
  bool time_left = true;   ///< steal only colors whose time left exceeds the measured steal cost
  bool penalty = true;     ///< time left counts cost / penalty
  bool locality = true;    ///< try victims nearest in the cache hierarchy first
  bool operator==(const heuristics_set&) const = default;  ///< member-wise
};

/// How idle workers steal: a mode and, for `steal_mode::heuristics`, which heuristics.
struct steal_config {
  steal_mode mode = steal_mode::heuristics;  ///< the scheduling and stealing mode
  heuristics_set heuristics;                 ///< used when `mode` is `steal_mode::heuristics`

  /// Accepts "off", "base", "libasync-smp", "libasync-smp-off", "all", or a comma-separated list
  /// of "time-left", "penalty", "locality" (those heuristics only). Throws std::invalid_argument.
  static steal_config parse(const std::string& text);
  std::string name() const;  ///< the inverse of parse
};

/// What a reactor polls the kernel with (reactor_config::io, config::io, HUE_IO).
enum class io_backend : std::uint8_t {
  epoll,  ///< libevent over epoll: readiness, one epoll_wait per poll
  /// io_uring (when hue was built with liburing): readiness as multishot polls whose completions
  /// are read from the ring without a syscall. When the kernel or a seccomp policy refuses it, the
  /// reactor says so on stderr, once per process, and uses epoll.
  uring,
};

/// "epoll" or "uring" (also "io_uring"); throws std::invalid_argument.
io_backend parse_io_backend(const std::string& text);

/// Where the expected cost of a handler comes from.
enum class cost_source : std::uint8_t {
  annotated,  ///< handler_info::cost where given, the measured average elsewhere
  measured,   ///< the measured average always (to compare against the annotations)
};

/// What the error hook receives when a handler throws.
struct handler_error {
  const handler_info* info;     ///< the handler that threw
  color_t color;                ///< the color it ran on
  unsigned core;                ///< the worker that ran the handler
  std::exception_ptr exception; ///< what it threw
  std::string what() const;     ///< the exception's message, or a description of a non-std exception
};

/// A runtime's configuration. Every field left unset is taken from the environment (HUE_WORKERS,
/// HUE_BATCH, HUE_PIN, ...: README) and then from the defaults.
struct config {
  unsigned workers = 0;                            ///< 0: not set
  unsigned batch = 0;                              ///< 0: not set
  std::optional<bool> pin;                         ///< pin workers to cores with hwloc
  std::uint32_t color_slots = 0;                   ///< 0: not set; rounded up to a power of two
  std::optional<std::chrono::microseconds> idle_spin;  ///< spin this long before sleeping
  std::optional<steal_config> steal;              ///< HUE_STEAL; default: every heuristic
  std::optional<cost_source> costs;                ///< HUE_COSTS=annotated|measured
  /// Empty: this machine. "synthetic:<hwloc description>" or "xml:<file>" load another machine's
  /// topology (for tests of locality); workers then run unpinned.
  std::string topology;
  /// Called on the worker thread, after the handler's exception was caught. The default prints the
  /// handler name, color and message to stderr. Whatever the hook does, the color goes on.
  std::function<void(const handler_error&)> on_error;
  /// Prefix of worker thread names (shown by top -H, gdb, perf): "<name>/<core>".
  std::string name = "hue";
  /// Tracing (runtime::start_trace): when set, a trace window opens as the runtime starts and is
  /// written to this file, as Chrome trace-event JSON, when the runtime is destroyed.
  std::string trace;
  std::uint32_t trace_records = 0;                 ///< 0: not set; per core, per window
  /// The default of this runtime's reactors (reactor_config::io wins); unset: HUE_IO, else epoll.
  std::optional<io_backend> io;
};

}  // namespace hue
