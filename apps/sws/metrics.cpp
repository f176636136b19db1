// apps/sws/metrics.cpp — renders metrics.hpp's exposition (the format: apps/common/prometheus.hpp).
#include "metrics.hpp"

#include "prometheus.hpp"
#include "server.hpp"

#include <string_view>

namespace sws {

namespace {

using apps::exposition;

std::uint64_t load(const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); }

}  // namespace

std::string prometheus_text(const counters& c, const hue::runtime_stats& rt) {
  exposition x;
  x.family("sws_requests_total", "counter", "Responses sent, by status code.");
  for (int code = 100; code < 600; ++code)
    if (const std::uint64_t n = c.by_status.get(code))
      x.sample("sws_requests_total", "code", std::to_string(code), n);
  x.single("sws_sent_bytes_total", "counter",
           "Bytes written to clients, counted at each write.", load(c.bytes_out));
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

  // Every runtime counter, from the one list of them (hue/stats.hpp).
  for (const hue::core_counter_field& f : hue::core_counter_fields) {
    x.family(f.metric, "counter", f.help);
    for (const hue::core_stats& s : rt.cores)
      x.sample(f.metric, "core", std::to_string(s.core), s.*(f.field));
  }
  x.single("hue_posts_rejected_total", "counter", "Posts refused because the runtime had stopped.",
           rt.posts_rejected);
  return x.take();
}

}  // namespace sws
