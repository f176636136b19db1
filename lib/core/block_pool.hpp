// lib/core/block_pool.hpp — the runtime's side of the block pool (allocation itself is declared in
// hue/detail/event.hpp, where the post template needs it).
#pragma once

namespace hue::detail {

// Gives the pool's surplus back to the heap; called when a runtime's last worker goes to sleep.
void trim_block_pool() noexcept;

}  // namespace hue::detail
