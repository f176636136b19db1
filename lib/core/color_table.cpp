#include "color_table.hpp"

#include <bit>
#include <stdexcept>

namespace hue::internal {

color_table::color_table(std::uint32_t slots, unsigned cores) {
  if (slots == 0 || slots > (1u << 30)) throw std::invalid_argument("hue: color_slots out of range");
  // At least two slots so the shift below stays under 64.
  const std::uint32_t n = std::bit_ceil(slots < 2 ? 2u : slots);
  slots_ = std::make_unique<color_slot[]>(n);
  mask_ = n - 1;
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(n));
  cores_ = cores;
  for (std::uint32_t i = 0; i < n; ++i) slots_[i].owner.store(i % cores, std::memory_order_relaxed);
}

}  // namespace hue::internal
