// tools/load/options.hpp — strict numbers for CLI11 (Debian libcli11-dev), the command-line parser
// of hue-injector and microbench/echo.
//
// CLI11's own conversion takes "0x10" and "010" (octal: 8) for integers and "nan" for a double
// that then passes every range check; a load figure from a mistyped option is worse than no
// figure. These options take plain decimal text only, and a bad one is an error naming the option:
//
//   CLI::App app{"what it does"};
//   load::number(app, "--clients", clients, 1u, 1'000'000u, "virtual clients");
//   load::number(app, "--duration", seconds, 0.01, 86'400.0, "measured seconds");
#pragma once

#include <CLI/CLI.hpp>

#include <charconv>
#include <cmath>
#include <sstream>
#include <string>

namespace load {

// `text` as a T in [lo, hi], or a CLI::ValidationError naming `name`.
template <class T>
T strict(const std::string& name, const std::string& text, T lo, T hi) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  bool ok = !text.empty() && ec == std::errc() && end == text.data() + text.size();
  if constexpr (std::is_floating_point_v<T>) ok = ok && std::isfinite(v);
  if (!ok || v < lo || v > hi) {
    std::ostringstream why;
    why << "wants a decimal number in [" << lo << ", " << hi << "], got '" << text << "'";
    throw CLI::ValidationError(name, why.str());
  }
  return v;
}

template <class T>
CLI::Option* number(CLI::App& app, const std::string& name, T& value, T lo, T hi,
                    const std::string& help) {
  std::ostringstream range, def;
  range << " [" << lo << ", " << hi << "]";
  def << value;
  return app
      .add_option_function<std::string>(
          name, [&value, name, lo, hi](const std::string& s) { value = strict(name, s, lo, hi); },
          help + range.str())
      ->type_name(std::is_floating_point_v<T> ? "NUM" : "INT")
      ->default_str(def.str());
}

}  // namespace load
