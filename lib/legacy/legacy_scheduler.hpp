// lib/legacy/legacy_scheduler.hpp — the libasync-smp emulation as a runtime mode.
#pragma once

#include "core/runtime_impl.hpp"

#include <memory>

namespace hue::internal {

// steal_mode::libasync_smp (with Fig. 2 stealing when there are two workers or more) or
// steal_mode::libasync_smp_off.
std::unique_ptr<scheduler> make_legacy_scheduler(runtime_impl& rt);

}  // namespace hue::internal
