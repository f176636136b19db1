// apps/common/prometheus.hpp — Prometheus' text exposition format (0.0.4), for the services'
// /metrics (SWS, SFS).
//
// Written by hand rather than with a client library: Debian 12 packages none for C++
// (prometheus-cpp is absent), and the format is a few lines of `name{labels} value`. The test
// suites check each service's output with the reference parser (python3-prometheus-client).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace apps {

class exposition {
 public:
  // A family's HELP and TYPE lines; its samples follow.
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
  // One sample, with at most one label (empty: none); label values are numbers or fixed names,
  // so nothing needs escaping.
  void sample(std::string_view name, std::string_view label, std::string_view value,
              std::uint64_t v) {
    out_ += name;
    if (!label.empty()) {
      out_ += '{';
      out_ += label;
      out_ += "=\"";
      out_ += value;
      out_ += "\"}";
    }
    out_ += ' ';
    out_ += std::to_string(v);
    out_ += '\n';
  }
  // A family of one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help,
              std::uint64_t v) {
    family(name, type, help);
    sample(name, {}, {}, v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace apps
