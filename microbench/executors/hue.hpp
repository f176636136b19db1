// microbench/executors/hue.hpp — the executor on hue: one runtime in the stealing mode and cost
// source of a table row; every other setting from HUE_* as for any hue program.
#pragma once

#include "executor.hpp"

namespace bench {

class hue_executor {
 public:
  using color = hue::color_t;
  static constexpr hue::color_t fork_color = 1;  // a fixed color, pinned to core 0
  static constexpr hue::handler_info fork_info{.name = "fork"};

  hue_executor(const configuration& c, const exec_params& p) : rt_(make(c, p)) {
    rt_.pin_color(fork_color, 0);
  }
  hue::runtime& runtime() { return rt_; }

  color new_color() noexcept { return rt_.new_color(); }
  color color_on(unsigned w) { return rt_.new_color_on(w); }
  // A color that stays on worker w: no steal moves it or lends its events (a hop measured between
  // two such colors crosses cores every time).
  color pinned_on(unsigned w) {
    const color c = rt_.new_color();
    rt_.pin_color(c, w);
    return c;
  }
  template <class F>
  void post(color c, F&& f, const hue::handler_info& info) {
    rt_.post(c, std::forward<F>(f), info);
  }
  template <class F>
  void post_fork(F&& f) {
    rt_.post(fork_color, std::forward<F>(f), fork_info);
  }
  template <class F>
  void start(F&& f) {
    post_fork(std::forward<F>(f));
  }
  static unsigned here() noexcept { return hue::runtime::current_core(); }
  hue::runtime_stats stats() const { return rt_.stats(); }

 private:
  static hue::config make(const configuration& c, const exec_params& p) {
    hue::config cfg;
    cfg.workers = p.workers;
    cfg.name = "bench";
    cfg.topology = p.topology;
    if (c.steal != "-") {  // "-": as configured by HUE_STEAL / HUE_COSTS (dispatch)
      cfg.steal = hue::steal_config::parse(c.steal);
      cfg.costs = c.costs;
    }
    return cfg;
  }
  hue::runtime rt_;
};

}  // namespace bench
