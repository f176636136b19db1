// lib/steal/victims.hpp — construct_core_set: the order in which a thief visits the other cores.
//
// Fig. 2 (and the base policy): the most loaded core first, then the following core numbers,
// wrapping around. Locality-aware (the Mely paper): nearest cores in the cache hierarchy first
// (shared L2, then L3, package, NUMA node, machine), the most loaded first among equals.
// `loads` are racy snapshots of each core's pending events: only an ordering hint.
#pragma once

#include <cstddef>
#include <utility>
#include <cstdint>
#include <vector>

namespace hue::internal {

inline void most_loaded_then_successive(const std::vector<std::uint32_t>& loads, unsigned self,
                                        std::vector<unsigned>& order) {
  const unsigned n = static_cast<unsigned>(loads.size());
  order.clear();
  unsigned first = 0;
  for (unsigned i = 1; i < n; ++i)
    if (loads[i] > loads[first]) first = i;
  for (unsigned k = 0; k < n; ++k) {
    const unsigned c = (first + k) % n;
    if (c != self) order.push_back(c);
  }
}

// `distance[c]` is how far core c is from `self`.
inline void nearest_first(const std::vector<std::uint32_t>& loads,
                          const std::vector<unsigned>& distance, unsigned self,
                          std::vector<unsigned>& order) {
  // Insertion sort, not std::stable_sort: that one allocates a buffer, and a thief runs on the hot
  // path of an idle core (the no-heap test caught it). Core counts are small.
  auto before = [&](unsigned a, unsigned b) {
    return distance[a] != distance[b] ? distance[a] < distance[b] : loads[a] > loads[b];
  };
  order.clear();
  for (unsigned c = 0; c < loads.size(); ++c) {
    if (c == self) continue;
    order.push_back(c);  // capacity reserved by the caller
    for (std::size_t i = order.size() - 1; i > 0 && before(order[i], order[i - 1]); --i)
      std::swap(order[i], order[i - 1]);
  }
}

}  // namespace hue::internal
