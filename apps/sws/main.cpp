// apps/sws/main.cpp — hue-sws: the SWS static web server.
#include "command_line.hpp"
#include "server.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

int main(int argc, char** argv) {
  hue::config rcfg;
  sws::config cfg;
  std::string style = "handlers";
  CLI::App app{"Serves the files under DIR (scanned at start-up and on SIGHUP) over HTTP/1.1: GET,\n"
               "HEAD and OPTIONS, keep-alive and pipelining, conditional and range requests.",
               "hue-sws"};
  hue_apps::init(app);
  app.add_option("--root", cfg.root, "document root")->required()->type_name("DIR");
  hue_apps::add_number(app, "--port", cfg.at.port, "TCP port (0 picks a free one)");
  app.add_option("--address", cfg.at.host, "numeric IPv4 or IPv6 address to listen on (:: for all)")
      ->type_name("A")
      ->capture_default_str();
  hue_apps::add_runtime_options(app, rcfg);
  app.add_option("--style", style,
                 "handlers (the paper's ten handlers) or coroutines (one per connection)")
      ->check(CLI::IsMember({"handlers", "coroutines"}))
      ->type_name("S")
      ->capture_default_str();
  hue_apps::add_number(app, "--max-clients", cfg.max_clients,
                       "simultaneous clients; more wait in the listen backlog");
  hue_apps::add_number(app, "--reactors", cfg.reactors,
                       "polling cores, each with its own SO_REUSEPORT listener (1: the paper's "
                       "single Epoll handler on core 0)");
  hue_apps::add_millis(app, "--header-timeout", cfg.header_timeout,
                       "time allowed to send a request's headers");
  hue_apps::add_millis(app, "--keepalive-timeout", cfg.keepalive_timeout,
                       "idle time allowed between requests");
  hue_apps::add_millis(app, "--shutdown-grace", cfg.shutdown_grace,
                       "on SIGTERM, time left to in-flight requests");
  hue_apps::add_number(app, "--max-header-bytes", cfg.limits.max_header_bytes,
                       "larger request heads get 431");
  hue_apps::add_number(app, "--max-request-line-bytes", cfg.limits.max_request_line_bytes,
                       "longer request lines (method, target, version) get 414; the default is "
                       "RFC 9112's recommended minimum");
  hue_apps::add_number(app, "--max-body-bytes", cfg.limits.max_body_bytes,
                       "request content skipped up to this; larger gets 413 and a close");
  hue_apps::add_number(app, "--cache-file-bytes", cfg.cache.max_file_bytes,
                       "files up to this are pre-built in memory; larger ones are sent from an "
                       "open descriptor with sendfile");
  hue_apps::add_number(app, "--cache-total-bytes", cfg.cache.max_total_bytes,
                       "memory for pre-built files; files past it are sent from descriptors");
  app.add_option("--access-log", cfg.access_log, "append one line per request to FILE")
      ->type_name("FILE");
  app.add_option("--metrics", cfg.metrics_path,
                 "answer GET PATH (e.g. /metrics) with Prometheus' text format: requests by "
                 "status, bytes, connections, time-outs, the runtime's per-core counters")
      ->type_name("PATH")
      ->check([](const std::string& v) {
        return v.size() > 1 && v[0] == '/' ? std::string() : std::string("must start with '/'");
      });
  app.add_flag("--quiet", cfg.quiet,
               "no warnings and no statistics at exit (the start-up line stays)");
  app.footer("Signals: SIGTERM or SIGINT stop gracefully (exit 0); SIGUSR1 prints statistics;\n"
             "SIGHUP rescans the document root (a failed rescan keeps the previous files).");
  if (const auto code = hue_apps::parse(app, argc, argv)) return *code;

  try {
    rcfg.name = "sws";
    // Spin 4 us (the `pause` part only) rather than the runtime's 50 us: beside a load generator
    // on the same cores, in the race's set-up (the server in a session of its own), the yielding
    // part of the spin cost CPU and served fewer requests. Under wrk -c100, three interleaved
    // runs: 4 us used 0.91-0.97x the CPU per request of 50 us and served 2-9% more requests/s.
    if (!rcfg.idle_spin && !std::getenv("HUE_IDLE_SPIN_US"))
      rcfg.idle_spin = std::chrono::microseconds(4);
    hue::runtime rt(rcfg);
    hue::reactor io(rt);  // the paper's Epoll handler: a fresh color pinned to core 0
    std::unique_ptr<sws::server> srv;
    if (style == "handlers") srv = std::make_unique<sws::handler_server>(io, cfg);
    else srv = std::make_unique<sws::coro_server>(io, cfg);
    auto stop = [&srv](int) { srv->shutdown(); };
    hue::registration term = io.on_signal(SIGTERM, sws::accept_color, stop);
    hue::registration intr = io.on_signal(SIGINT, sws::accept_color, stop);
    // Statistics print on a color of their own: a dump never delays Accept.
    hue::registration usr1 = io.on_signal(SIGUSR1, rt.new_color(), [&](int) {
      std::fputs(rt.stats().dump().c_str(), stderr);
      srv->stats().print(stderr);
    });
    // Reload on a color of its own too: the rescan reads files and must not delay Accept or
    // any connection (they keep answering from the current snapshot meanwhile).
    hue::registration hup = io.on_signal(SIGHUP, rt.new_color(), [&](int) { srv->reload(); });
    {
      const bool v6 = cfg.at.host.find(':') != std::string::npos;
      std::printf("hue-sws: listening on %s%s%s:%u (%s style, %u workers, stealing %s, io %s, %zu files)\n",
                  v6 ? "[" : "", cfg.at.host.c_str(), v6 ? "]" : "", srv->port(), style.c_str(), rt.workers(),
                  rcfg.steal ? rcfg.steal->name().c_str() : "HUE_STEAL or all", io.backend(),
                  srv->cached_files());
      std::fflush(stdout);
    }
    rt.wait();
    if (!cfg.quiet) {
      std::fputs(rt.stats().dump().c_str(), stderr);
      srv->stats().print(stderr);
    }
    term.reset();
    intr.reset();
    usr1.reset();
    hup.reset();
    srv.reset();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-sws: %s\n", e.what());
    return 1;
  }
  return 0;
}
