// lib/steal/schedulers.cpp — a runtime's steal configuration turned, once, into the color-queue
// scheduler compiled for it (policies.hpp).
#include "steal/policies.hpp"

#include "core/color_scheduler.hpp"

namespace hue::internal {

namespace {

template <template <bool> class Policy>
std::unique_ptr<scheduler> with_penalty(runtime_impl& rt, bool penalty, bool locality) {
  if (penalty) return std::make_unique<color_scheduler<Policy<true>>>(rt, locality);
  return std::make_unique<color_scheduler<Policy<false>>>(rt, locality);
}

}  // namespace

std::unique_ptr<scheduler> make_color_scheduler(runtime_impl& rt) {
  const steal_config& s = rt.cfg.steal;
  if (s.mode == steal_mode::off || rt.cfg.workers < 2)
    return std::make_unique<color_scheduler<no_stealing>>(rt);
  if (s.mode == steal_mode::base) return with_penalty<fig2_stealing>(rt, false, false);
  const heuristics_set& h = s.heuristics;
  if (h.time_left) return with_penalty<time_left_stealing>(rt, h.penalty, h.locality);
  return with_penalty<fig2_stealing>(rt, h.penalty, h.locality);
}

}  // namespace hue::internal
