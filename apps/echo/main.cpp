// apps/echo/main.cpp — hue-echo: the echo server, handler or coroutine style.
//   hue-echo [--port N] [--address A] [--style handlers|coroutines] [--workers N] [--steal MODE]
#include "echo_server.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

namespace {

void usage(std::FILE* to) {
  std::fprintf(to,
               "usage: hue-echo [options]\n"
               "  --port N          TCP port (default 7007; 0 picks a free one)\n"
               "  --address A       numeric address to listen on (default 127.0.0.1)\n"
               "  --style S         handlers (default) or coroutines\n"
               "  --workers N       worker threads (default: one per core)\n"
               "  --steal MODE      work stealing: off, base, all, ... (see HUE_STEAL)\n"
               "  --help            this text\n"
               "Stops on SIGINT or SIGTERM.\n");
}

}  // namespace

int main(int argc, char** argv) {
  hue::config cfg;
  hue::net::endpoint at{"127.0.0.1", 7007};
  std::string style = "handlers";
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--help" || a == "-h") {
        usage(stdout);
        return 0;
      } else if (a == "--port") {
        const int p = std::stoi(value());
        if (p < 0 || p > 65535) throw std::invalid_argument("--port out of range");
        at.port = static_cast<std::uint16_t>(p);
      } else if (a == "--address") {
        at.host = value();
      } else if (a == "--style") {
        style = value();
        if (style != "handlers" && style != "coroutines")
          throw std::invalid_argument("--style must be handlers or coroutines");
      } else if (a == "--workers") {
        cfg.workers = static_cast<unsigned>(std::stoul(value()));
      } else if (a == "--steal") {
        cfg.steal = hue::steal_config::parse(value());
      } else {
        throw std::invalid_argument("unknown option " + a);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-echo: %s\n", e.what());
    usage(stderr);
    return 2;
  }

  try {
    hue::runtime rt(cfg);
    hue::reactor io(rt);
    const int fd = hue::net::listen_tcp(at);
    std::optional<echo::handler_server> handlers;
    std::optional<echo::coro_server> coroutines;
    if (style == "handlers") handlers.emplace(io, fd); else coroutines.emplace(io, fd);
    auto stop = [&rt](int) { rt.stop(); };
    hue::registration term = io.on_signal(SIGTERM, 2, stop);
    hue::registration intr = io.on_signal(SIGINT, 2, stop);
    std::printf("hue-echo: %s style on %s:%u, %u workers\n", style.c_str(), at.host.c_str(),
                hue::net::local_port(fd), rt.workers());
    std::fflush(stdout);
    rt.wait();
    const echo::counters& s = handlers ? handlers->stats() : coroutines->stats();
    std::printf("hue-echo: %llu connections, %llu bytes echoed\n",
                static_cast<unsigned long long>(s.accepted.load()),
                static_cast<unsigned long long>(s.bytes.load()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
