// apps/echo/main.cpp — hue-echo: the echo server, handler or coroutine style.
#include "command_line.hpp"
#include "echo_server.hpp"

#include <csignal>
#include <cstdio>
#include <optional>
#include <string>

int main(int argc, char** argv) {
  hue::config cfg;
  hue::net::endpoint at{"127.0.0.1", 7007};
  std::string style = "handlers";
  CLI::App app{"Echoes back what each client sends, over TCP.", "hue-echo"};
  hue_apps::init(app);
  hue_apps::add_number(app, "--port", at.port, "TCP port (0 picks a free one)");
  app.add_option("--address", at.host, "numeric address to listen on")
      ->type_name("A")
      ->capture_default_str();
  app.add_option("--style", style, "handlers or coroutines")
      ->check(CLI::IsMember({"handlers", "coroutines"}))
      ->type_name("S")
      ->capture_default_str();
  hue_apps::add_runtime_options(app, cfg);
  app.footer("Stops on SIGINT or SIGTERM.");
  if (const auto code = hue_apps::parse(app, argc, argv)) return *code;

  try {
    hue::runtime rt(cfg);
    hue::reactor io(rt);
    const int fd = hue::net::listen_tcp(at);
    std::optional<echo::handler_server> handlers;
    std::optional<echo::coro_server> coroutines;
    if (style == "handlers") handlers.emplace(io, fd); else coroutines.emplace(io, fd);
    auto stop = [&rt](int) { rt.stop(); };
    const hue::color_t signals = rt.new_color();
    hue::registration term = io.on_signal(SIGTERM, signals, stop);
    hue::registration intr = io.on_signal(SIGINT, signals, stop);
    std::printf("hue-echo: %s style on %s:%u, %u workers\n", style.c_str(), at.host.c_str(),
                hue::net::local_port(fd), rt.workers());
    std::fflush(stdout);
    rt.wait();
    const echo::counters& s = handlers ? handlers->stats() : coroutines->stats();
    std::printf("hue-echo: %llu connections, %llu bytes echoed\n",
                static_cast<unsigned long long>(s.accepted.load()),
                static_cast<unsigned long long>(s.bytes.load()));
    std::fputs(rt.stats().dump().c_str(), stderr);  // the runtime's counters, as hue-sws prints
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hue-echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
