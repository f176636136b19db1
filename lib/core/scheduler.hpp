// lib/core/scheduler.hpp — a runtime's scheduling mode, chosen once when the runtime is built.
//
// Like Redis' ae.c picking its polling backend once, a runtime picks its mode once: hue's
// color-queues with one stealing policy or none (lib/steal), or the libasync-smp emulation
// (lib/legacy). The mode is a `scheduler`; `runtime::post` makes one virtual call into it and each
// worker makes one (`run`) for its whole life, so the post path and the run loop are compiled per
// mode and carry no test of which mode is on.
#pragma once

#include <hue/detail/event.hpp>

namespace hue::internal {

struct core;
struct color_slot;

class scheduler {
 public:
  virtual ~scheduler() = default;
  // Queues `e` on the owner of `color` (sets e->color). Throws std::bad_alloc only.
  virtual void post(color_t color, detail::event* e) = 0;
  // The worker of `me`: the run loop, until the runtime stops.
  virtual void run(core& me) = 0;
  // Moves every color of `slot` to core `to` (pin_color); waits while one of them is running.
  virtual void move_slot(color_slot& slot, unsigned to, bool pin) = 0;
  // True when the handler running on `me` has a color of `slot` (moving it would wait for itself).
  virtual bool runs_slot(const core& me, const color_slot& slot) const noexcept = 0;
  // After every worker has returned: destroys the events still queued, unrun.
  virtual void discard_pending() noexcept = 0;
};

}  // namespace hue::internal
