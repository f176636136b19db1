// lib/coro/roots.hpp — the detached coroutines of a reactor (hue::spawn), listed so that the
// reactor's destruction can destroy the ones still suspended.
//
// Hazard: a frame may be running on a worker, or be resumed by an event still queued, right up to
// the moment the runtime stops; only once every worker has returned is destroying frames safe.
// Hence `close` stops the runtime and joins its workers first, when any root is left. Events left
// queued hold only coroutine handles, which the runtime's destructor drops without resuming.
#pragma once

#include "core/intrusive_list.hpp"
#include "reactor/reactor_core.hpp"

#include <coroutine>
#include <mutex>

namespace hue::internal {

class coroutine_roots final : public reactor_core::extension {
 public:
  struct node {
    list_hook<node> hook;
    std::coroutine_handle<> frame;
    bool listed = false;
  };

  static coroutine_roots& of(reactor_core& r);

  void track(node* n) noexcept;
  void untrack(node* n) noexcept;  // a root finishing (its frame is being destroyed)
  // Stops the runtime if any root is left, then destroys their frames. Not from a handler.
  void close() noexcept override;

  explicit coroutine_roots(reactor_core& r) noexcept : reactor_(r) {}

 private:
  reactor_core& reactor_;
  std::mutex mu_;
  intrusive_list<node, &node::hook> roots_;
};

}  // namespace hue::internal
