// apps/sws/main.cpp — hue-sws: the SWS static web server.
#include "server.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

void usage(std::FILE* to) {
  std::fprintf(to,
      "usage: hue-sws --root DIR [options]\n"
      "Serves the files under DIR (read once at start-up) over HTTP/1.1: GET and HEAD,\n"
      "keep-alive and pipelining.\n"
      "  --root DIR                document root (required)\n"
      "  --port N                  TCP port (default 8080; 0 picks a free one)\n"
      "  --address A               numeric address to listen on (default 127.0.0.1)\n"
      "  --workers N               worker threads (default: one per core)\n"
      "  --steal MODE              work stealing: off, base, all (default), time-left,penalty,...,\n"
      "                            libasync-smp, libasync-smp-off (see README)\n"
      "  --style S                 handlers (the paper's ten handlers, default) or coroutines\n"
      "  --max-clients N           simultaneous clients; more wait in the backlog (default 10000)\n"
      "  --reactors N              polling cores, each with its own SO_REUSEPORT listener\n"
      "                            (default 1: the paper's single Epoll handler on core 0)\n"
      "  --header-timeout MS       time allowed to send a request's headers (default 10000)\n"
      "  --keepalive-timeout MS    idle time allowed between requests (default 15000)\n"
      "  --shutdown-grace MS       on SIGTERM, time left to in-flight requests (default 10000)\n"
      "  --max-header-bytes N      larger request heads get 431 (default 8192)\n"
      "  --access-log FILE         append one line per request to FILE\n"
      "  --quiet                   no warnings and no statistics at exit (the start-up line stays)\n"
      "  --help                    this text\n"
      "Signals: SIGTERM or SIGINT stop gracefully (exit 0); SIGUSR1 prints statistics.\n");
}

unsigned long number(const std::string& opt, const std::string& v) {
  std::size_t used = 0;
  unsigned long n = 0;
  try {
    n = std::stoul(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || v[0] == '-')
    throw std::invalid_argument(opt + " needs a non-negative number, not '" + v + "'");
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  hue::config rcfg;
  sws::config cfg;
  std::string style = "handlers";
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--help" || a == "-h") { usage(stdout); return 0; }
      else if (a == "--root") cfg.root = value();
      else if (a == "--port") {
        const unsigned long p = number(a, value());
        if (p > 65535) throw std::invalid_argument("--port out of range");
        cfg.at.port = static_cast<std::uint16_t>(p);
      }
      else if (a == "--address") cfg.at.host = value();
      else if (a == "--workers") rcfg.workers = static_cast<unsigned>(number(a, value()));
      else if (a == "--steal") rcfg.steal = hue::steal_config::parse(value());
      else if (a == "--style") {
        style = value();
        if (style != "handlers" && style != "coroutines")
          throw std::invalid_argument("--style must be handlers or coroutines");
      }
      else if (a == "--reactors") cfg.reactors = static_cast<unsigned>(number(a, value()));
      else if (a == "--max-clients") cfg.max_clients = static_cast<unsigned>(number(a, value()));
      else if (a == "--header-timeout") cfg.header_timeout = std::chrono::milliseconds(number(a, value()));
      else if (a == "--keepalive-timeout") cfg.keepalive_timeout = std::chrono::milliseconds(number(a, value()));
      else if (a == "--shutdown-grace") cfg.shutdown_grace = std::chrono::milliseconds(number(a, value()));
      else if (a == "--max-header-bytes") cfg.limits.max_header_bytes = number(a, value());
      else if (a == "--access-log") cfg.access_log = value();
      else if (a == "--quiet") cfg.quiet = true;
      else throw std::invalid_argument("unknown option " + a);
    }
    if (cfg.root.empty()) throw std::invalid_argument("--root is required");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-sws: %s\n", e.what());
    usage(stderr);
    return 2;
  }

  try {
    rcfg.name = "sws";
    hue::runtime rt(rcfg);
    hue::reactor io(rt);  // the Epoll handler: color 0, core 0
    std::unique_ptr<sws::server> srv;
    if (style == "handlers") srv = std::make_unique<sws::handler_server>(io, cfg);
    else srv = std::make_unique<sws::coro_server>(io, cfg);
    auto stop = [&srv](int) { srv->shutdown(); };
    hue::registration term = io.on_signal(SIGTERM, sws::accept_color, stop);
    hue::registration intr = io.on_signal(SIGINT, sws::accept_color, stop);
    hue::registration usr1 = io.on_signal(SIGUSR1, 2, [&](int) {
      std::fputs(rt.stats().dump().c_str(), stderr);
      srv->stats().print(stderr);
    });
    {
      std::printf("hue-sws: listening on %s:%u (%s style, %u workers, stealing %s, %zu files)\n",
                  cfg.at.host.c_str(), srv->port(), style.c_str(), rt.workers(),
                  rcfg.steal ? rcfg.steal->name().c_str() : "HUE_STEAL or all",
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
    srv.reset();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-sws: %s\n", e.what());
    return 1;
  }
  return 0;
}
