// apps/common/command_line.hpp — what every program of apps/ shares on its command line: the
// parser (CLI11), strict numbers, the runtime's options and how a parse ends.
//
//   CLI::App app{"Echoes what each client sends.", "hue-echo"};
//   hue_apps::init(app);
//   hue_apps::add_number(app, "--port", at.port, "TCP port (0 picks a free one)");
//   hue_apps::add_runtime_options(app, cfg);
//   if (const auto code = hue_apps::parse(app, argc, argv)) return *code;
//
// Behaviour every program keeps:
//   - `--help` (or -h) prints the options with their defaults on stdout and exits 0;
//   - a usage error (unknown option, missing value, malformed number, bad choice) prints one line
//     naming the option on stderr and exits 2;
//   - an option given twice takes its last value, so a wrapper script can put defaults first and
//     pass the user's arguments after them (scripts/demo.sh does).
#pragma once

#include <hue/config.hpp>

#include <CLI/CLI.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace hue_apps {

// A number on the command line is decimal digits and nothing else, and fits the option's type.
// CLI11 alone converts with strtoull/strtoll in base 0, which takes "010" as 8, "0x50" as 80,
// " 80" and "+80" as 80, and "-1" as 2^64-1 for a 64-bit option. This transform refuses all of
// those with a message naming the option, and hands CLI11 the value without leading zeros so that
// base 0 cannot read it as octal.
template <class T>
CLI::Validator decimal() {
  static_assert(std::is_unsigned_v<T>, "options are counts, sizes, ports and times: unsigned");
  return CLI::Validator(
      [](std::string& v) -> std::string {
        T n{};
        const char* end = v.data() + v.size();
        const auto [stop, err] = std::from_chars(v.data(), end, n);
        if (err == std::errc::invalid_argument || stop != end)  // from_chars takes no sign or space
          return "'" + v + "' is not a non-negative decimal number";
        if (err == std::errc::result_out_of_range)
          return v + " is out of range (at most " + std::to_string(std::numeric_limits<T>::max()) + ")";
        v = std::to_string(n);
        return {};
      },
      "", "decimal");
}

// Sets the behaviour listed above; call it before adding options (it sets their defaults).
inline void init(CLI::App& app) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.failure_message([](const CLI::App* a, const CLI::Error& e) {
    return a->get_name() + ": " + CLI::FailureMessage::simple(a, e);
  });
}

// An unsigned option bound to `into`, strict as `decimal` says; its current value is the default
// that --help shows.
template <class T>
CLI::Option* add_number(CLI::App& app, const std::string& name, T& into, const std::string& help) {
  return app.add_option(name, into, help)->transform(decimal<T>())->type_name("N")->capture_default_str();
}

// A duration in milliseconds (time-outs).
template <class Duration>
CLI::Option* add_millis(CLI::App& app, const std::string& name, Duration& into,
                        const std::string& help) {
  return app
      .add_option_function<std::uint32_t>(
          name, [&into](std::uint32_t ms) { into = std::chrono::milliseconds(ms); }, help)
      ->transform(decimal<std::uint32_t>())
      ->type_name("MS")
      ->default_str(std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(into).count()));
}

// --workers, --steal, --idle-spin, --io and --trace, into the runtime's configuration. Unset, the
// runtime reads HUE_WORKERS, HUE_STEAL, HUE_IDLE_SPIN_US, HUE_IO and HUE_TRACE, else uses its
// defaults.
inline void add_runtime_options(CLI::App& app, hue::config& cfg) {
  app.add_option("--workers", cfg.workers, "worker threads (default: HUE_WORKERS, else one per core)")
      ->transform(decimal<unsigned>())
      ->type_name("N");
  app.add_option_function<std::string>(
         "--steal",
         [&cfg](const std::string& mode) {
           try {
             cfg.steal = hue::steal_config::parse(mode);
           } catch (const std::invalid_argument& e) {
             std::string why = e.what();
             if (why.rfind("hue: ", 0) == 0) why.erase(0, 5);  // the program's name comes first
             throw CLI::ValidationError("--steal", why);
           }
         },
         "work stealing: off, base, all, time-left,penalty,locality (any of them), libasync-smp, "
         "libasync-smp-off (default: HUE_STEAL, else all)")
      ->type_name("MODE");
  app.add_option_function<unsigned>(
         "--idle-spin",
         [&cfg](unsigned us) { cfg.idle_spin = std::chrono::microseconds(us); },
         "microseconds an idle worker spins before it sleeps (default: HUE_IDLE_SPIN_US, else "
         "the program's)")
      ->transform(decimal<unsigned>())
      ->type_name("US");
  app.add_option_function<std::string>(
         "--io",
         [&cfg](const std::string& name) {
           try {
             cfg.io = hue::parse_io_backend(name);
           } catch (const std::invalid_argument& e) {
             std::string why = e.what();
             if (why.rfind("hue: ", 0) == 0) why.erase(0, 5);
             throw CLI::ValidationError("--io", why);
           }
         },
         "the reactors' kernel interface: epoll or uring (io_uring; where the kernel refuses it, "
         "epoll, said once on stderr) (default: HUE_IO, else epoll)")
      ->type_name("BACKEND");
  app.add_option("--trace", cfg.trace,
                 "record a trace from start to exit into FILE (Chrome trace-event JSON: "
                 "ui.perfetto.dev; tools/trace/summary.py) (default: HUE_TRACE, else none)")
      ->type_name("FILE");
}

// Parses the command line into the options bound to `app`. nullopt: go on. Otherwise the program
// ends here with the code returned (0 after --help, 2 after a usage error), the text printed.
inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
}

}  // namespace hue_apps
