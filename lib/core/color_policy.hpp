// lib/core/color_policy.hpp — what a stealing policy must provide to color_scheduler<Policy>
// (lib/steal/policies.hpp has the three: none, Fig. 2, time-left). The compiler checks it: a
// policy missing a member, or with one of another shape, fails where the scheduler is built
// rather than deep inside its post path.
#pragma once

#include "color_queue.hpp"
#include "core.hpp"

#include <hue/handler_info.hpp>

#include <concepts>
#include <cstdint>
#include <type_traits>

namespace hue::internal {

// `c` is a core whose lock the caller holds unless said otherwise; `q` one of its color-queues.
template <class P>
concept color_policy = requires(P p, const P cp, core& c, const core& cc, color_queue* q,
                                const color_queue* cq, const handler_info& info,
                                const detail::event& e, bool b, int i, std::uint64_t u) {
  // Whether posts and batches keep each color-queue's time left (and each core's): a compile-time
  // constant, so a policy that needs none pays for none on the post path.
  typename std::bool_constant<P::keeps_time_left>;
  // Profile every handler and ignore the annotated costs.
  { cp.measured_only } -> std::convertible_to<bool>;
  // An event's expected cycles, from its annotation or from measurements.
  { cp.cost_of(info) } -> std::same_as<std::uint32_t>;
  // What an event adds to its color's time left (the penalty-aware policy divides by the penalty).
  { cp.weight(e) } -> std::same_as<std::uint64_t>;
  // q's time left or state changed: re-file it for thieves; or take it off their view while it
  // runs or moves.
  { p.restage(c, q) } noexcept;
  { p.unstage(c, q) } noexcept;
  // A post to a color-queue just made c worth a thief's visit (was_queued, was_interval: q's
  // state before it; was_time_left: c's time left before it).
  { cp.thief_wanted(cc, cq, b, i, u) } noexcept -> std::same_as<bool>;
  // Whether a fresh color's first event may go into the lane, and whether a lane post made c worth
  // a thief's visit.
  { cp.lane_fits(e) } noexcept -> std::same_as<bool>;
  { cp.thief_wanted_lane(cc, u) } noexcept -> std::same_as<bool>;
};

// Phase 2 of the run loop, checked once the scheduler type `S` is complete: `me` has no work and
// tries to take some (lock not held).
template <class P, class S>
concept color_policy_for = color_policy<P> && requires(P p, core& me, S& sched) {
  { p.try_steal(me, sched) } -> std::same_as<bool>;
};

}  // namespace hue::internal
