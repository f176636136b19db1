// apps/sws/metrics.cpp — renders metrics.hpp's exposition.
//
// Written by hand rather than with a client library: Debian 12 packages none for C++
// (prometheus-cpp is absent), and the format is a few lines of `name{labels} value`. The test suite
// checks the output with the reference parser (python3-prometheus-client).
#include "metrics.hpp"

#include "server.hpp"

#include <string_view>

namespace sws {

namespace {

class exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view label, std::string_view value,
              std::uint64_t v) {
    out_ += name;
    if (!label.empty()) {
      out_ += '{';
      out_ += label;
      out_ += "=\"";
      out_ += value;  // numbers only: nothing to escape
      out_ += "\"}";
    }
    out_ += ' ';
    out_ += std::to_string(v);
    out_ += '\n';
  }
  void single(std::string_view name, std::string_view type, std::string_view help,
              std::uint64_t v) {
    family(name, type, help);
    sample(name, {}, {}, v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::uint64_t load(const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); }

}  // namespace

std::string prometheus_text(const counters& c, const hue::runtime_stats& rt) {
  exposition x;
  x.family("sws_requests_total", "counter", "Responses sent, by status code.");
  for (int code = 100; code < 600; ++code)
    if (const std::uint64_t n = c.by_status.get(code))
      x.sample("sws_requests_total", "code", std::to_string(code), n);
  x.single("sws_sent_bytes_total", "counter",
           "Bytes written to clients, counted when their connection closes.", load(c.bytes_out));
  const std::uint64_t accepted = load(c.accepted), closed = load(c.closed);
  x.single("sws_connections_accepted_total", "counter", "Connections accepted.", accepted);
  x.single("sws_connections_open", "gauge", "Connections accepted and not yet closed.",
           accepted > closed ? accepted - closed : 0);
  x.single("sws_timeouts_total", "counter",
           "Connections closed by the header, keep-alive or write time-out.", load(c.timeouts));
  x.single("sws_resets_total", "counter", "Connections closed on a reset or a write error.",
           load(c.resets));
  x.single("sws_paused_at_max_clients_total", "counter",
           "Times accepting paused at the client limit.", load(c.paused_at_max));
  x.single("sws_reloads_total", "counter", "Document-root rescans swapped in (SIGHUP).",
           load(c.reloads));
  x.single("sws_reload_failures_total", "counter", "Rescans that failed; the old files stayed.",
           load(c.failed_reloads));

  struct per_core {
    const char* name;
    const char* help;
    std::uint64_t hue::core_stats::*field;
  };
  static constexpr per_core fields[] = {
      {"hue_core_events_run_total", "Events (handler runs) per core.", &hue::core_stats::events_run},
      {"hue_core_events_posted_total", "Events queued on the core by any thread.",
       &hue::core_stats::events_posted},
      {"hue_core_batches_total", "Color-queue turns per core.", &hue::core_stats::batches},
      {"hue_core_steals_total", "Successful steals by the core.", &hue::core_stats::steal_successes},
      {"hue_core_steal_attempts_total", "Steal attempts by the core.",
       &hue::core_stats::steal_attempts},
      {"hue_core_events_stolen_total", "Events the core stole.", &hue::core_stats::events_stolen},
      {"hue_core_regret_steals_total", "Steals the victim would have reached within a steal's cost.",
       &hue::core_stats::regret_steals},
      {"hue_core_remote_posts_total", "Posts by the core's handlers to another core's colors.",
       &hue::core_stats::remote_posts},
      {"hue_core_idle_cycles_total", "TSC cycles the core spent idle (spinning or asleep).",
       &hue::core_stats::idle_cycles},
      {"hue_core_spin_cycles_total", "TSC cycles of idle_cycles the core spent spinning (CPU used).",
       &hue::core_stats::spin_cycles},
      {"hue_core_busy_cycles_total", "TSC cycles the core spent on handlers and queue work.",
       &hue::core_stats::busy_cycles},
      {"hue_core_lock_wait_cycles_total", "TSC cycles threads spun on the core's lock.",
       &hue::core_stats::lock_wait_cycles},
      {"hue_core_sleeps_total", "Times the core's worker slept in the kernel.",
       &hue::core_stats::sleeps},
      {"hue_core_rescues_total", "Watchdog wake-ups that found work (a missed wake-up).",
       &hue::core_stats::rescues},
      {"hue_core_handler_exceptions_total", "Handler exceptions reported on the core.",
       &hue::core_stats::handler_exceptions},
  };
  for (const per_core& f : fields) {
    x.family(f.name, "counter", f.help);
    for (const hue::core_stats& s : rt.cores)
      x.sample(f.name, "core", std::to_string(s.core), s.*(f.field));
  }
  return x.take();
}

}  // namespace sws
