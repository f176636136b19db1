// lib/coro/roots.cpp — see roots.hpp.
#include "coro/roots.hpp"

#include <cstdio>
#include <cstdlib>

namespace hue::internal {

coroutine_roots& coroutine_roots::of(reactor_core& r) {
  return static_cast<coroutine_roots&>(r.extend(
      [](reactor_core& owner) -> std::unique_ptr<reactor_core::extension> {
        return std::make_unique<coroutine_roots>(owner);
      }));
}

void coroutine_roots::track(node* n) noexcept {
  std::lock_guard l(mu_);
  roots_.push_front(n);
  n->listed = true;
}

void coroutine_roots::untrack(node* n) noexcept {
  std::lock_guard l(mu_);
  if (!n->listed) return;  // close() took it off already
  roots_.remove(n);
  n->listed = false;
}

void coroutine_roots::close() noexcept {
  {
    std::lock_guard l(mu_);
    if (roots_.empty()) return;
  }
  if (reactor_.host().on_own_worker()) {
    std::fprintf(stderr, "hue: a reactor with live coroutines destroyed from its own handler\n");
    std::abort();
  }
  reactor_.host().stop_and_join();
  for (;;) {
    node* n;
    {
      std::lock_guard l(mu_);
      n = roots_.pop_front();
      if (!n) return;
      n->listed = false;
    }
    n->frame.destroy();  // its awaiters cancel their registrations; the base is still alive
  }
}

}  // namespace hue::internal
