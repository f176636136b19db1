// hue/detail/event.hpp — the in-memory form of a posted event (not part of the public API).
//
// An event is one fixed-size block: an intrusive link, the handler info, a type-erased operation
// and the callable itself stored inline. Callables that do not fit inline (or that could throw while
// being moved) are stored on the heap and the block keeps a pointer, so `post` works for every
// callable while the common case (a lambda capturing a few pointers) never calls the global heap.
// Blocks come from `allocate_block` (per-thread free lists, see lib/core/block_pool.cpp).
#pragma once

#include <hue/handler_info.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace hue::detail {

// One size for every runtime-owned block (events and color-queues): one allocator, one free list.
// 128 bytes leaves 80 bytes for an inline callable, enough for a lambda with ten captures.
inline constexpr std::size_t block_size = 128;

void* allocate_block();                  // never returns null; throws std::bad_alloc
void free_block(void* block) noexcept;

enum class event_op { run, discard };

struct event {
  event* next;
  const handler_info* info;
  // `run`: invoke the callable, then destroy it (also when it throws, then rethrows).
  // `discard`: destroy it without running (pending events at shutdown).
  void (*op)(event*, event_op);
  color_t color;
  // Expected cycles, fixed when the event is queued (annotation or measured average), so that a
  // color-queue's time left goes down by exactly what it went up by.
  std::uint32_t cost;
  priority_t priority;
  // Set by runtime::post while a trace window is open (lib/trace: poster and sequence), else 0.
  std::uint64_t trace_id;
  alignas(16) unsigned char storage[block_size - 48];
};
static_assert(sizeof(event) == block_size, "an event must fill exactly one block");

template <class Fn>
inline constexpr bool stored_inline = sizeof(Fn) <= sizeof(event::storage) &&
                                      alignof(Fn) <= 16 &&
                                      std::is_nothrow_move_constructible_v<Fn>;

template <class Fn>
void inline_op(event* e, event_op op) {
  Fn* fn = std::launder(reinterpret_cast<Fn*>(e->storage));
  struct destroy_on_exit {
    Fn* fn;
    ~destroy_on_exit() { std::destroy_at(fn); }
  } guard{fn};
  if (op == event_op::run) std::invoke(std::move(*fn));
}

template <class Fn>
void heap_op(event* e, event_op op) {
  std::unique_ptr<Fn> fn(*std::launder(reinterpret_cast<Fn**>(e->storage)));
  if (op == event_op::run) std::invoke(std::move(*fn));
}

// Builds an event around `f`. On exception (the callable's constructor threw, or no memory) nothing
// is leaked and the exception propagates to the caller of `post`.
template <class F>
event* make_event(F&& f, const handler_info* info, priority_t priority) {
  using Fn = std::decay_t<F>;
  static_assert(std::is_invocable_v<Fn&&>, "a posted handler must be callable with no arguments");
  void* block = allocate_block();
  auto* e = ::new (block) event;
  e->next = nullptr;
  e->info = info;
  e->color = 0;
  e->cost = 0;
  e->priority = priority;
  e->trace_id = 0;
  try {
    if constexpr (stored_inline<Fn>) {
      ::new (static_cast<void*>(e->storage)) Fn(std::forward<F>(f));
      e->op = &inline_op<Fn>;
    } else {
      Fn* heap = new Fn(std::forward<F>(f));
      ::new (static_cast<void*>(e->storage)) Fn*(heap);
      e->op = &heap_op<Fn>;
    }
  } catch (...) {
    free_block(block);
    throw;
  }
  return e;
}

}  // namespace hue::detail
