// lib/legacy/legacy_queue.hpp — Libasync-smp's per-core event list and the decisions of its naive
// work stealing (the Mely paper's Fig. 2), emulated for comparison (steal_mode::libasync_smp).
//
// In the legacy runtime a core has ONE FIFO of events of every color. Colors are mapped to cores
// by hashing (here: hue's color table, so the mapping unit is a table slot), a core runs its list
// in order, and a thief scans a victim's list to find a color and to collect that color's events.
// Those scans, done while holding the victim's lock, are why legacy stealing hurts fine-grained
// loads, and the emulation keeps them on purpose. The functions are pure so that tests can check
// each decision against Fig. 2 on hand-built lists.
#pragma once

#include "core/event_fifo.hpp"

#include <cstdint>
#include <optional>

namespace hue::internal {

struct legacy_queue : event_fifo {
  std::uint32_t count = 0;

  void push(detail::event* e) noexcept {
    event_fifo::push(e);
    ++count;
  }
  detail::event* pop() noexcept {
    detail::event* e = event_fifo::pop();
    count -= e != nullptr;
    return e;
  }
};

// can_be_stolen: the list holds events of at least two colors (the running color cannot move, so
// a victim needs another one).
inline bool can_be_stolen(const legacy_queue& q) noexcept {
  if (!q.head) return false;
  for (const detail::event* e = q.head->next; e; e = e->next)
    if (e->color != q.head->color) return true;
  return false;
}

// choose_color_to_steal: in list order, the first color that `movable` accepts (not the running
// color, nor one mapped with it) and that holds fewer than half of the list's events. One pass per
// candidate, as the legacy runtime counts by scanning: the cost is part of what is emulated.
template <class Movable>
std::optional<color_t> choose_color_to_steal(const legacy_queue& q, Movable movable) {
  for (const detail::event* cand = q.head; cand; cand = cand->next) {
    bool seen_before = false;
    for (const detail::event* e = q.head; e != cand; e = e->next)
      if (e->color == cand->color) { seen_before = true; break; }
    if (seen_before || !movable(cand->color)) continue;
    std::uint32_t n = 0;
    for (const detail::event* e = q.head; e; e = e->next) n += e->color == cand->color;
    if (2 * n < q.count) return cand->color;
  }
  return std::nullopt;
}

// construct_event_set: unlinks, in order, every event that `goes` accepts (the chosen color and
// the colors that share its mapping), scanning the whole list.
template <class Goes>
detail::event* construct_event_set(legacy_queue& q, Goes goes, std::uint32_t& taken) {
  detail::event* first = nullptr;
  detail::event* last = nullptr;
  detail::event* prev = nullptr;
  taken = 0;
  for (detail::event* e = q.head; e;) {
    detail::event* next = e->next;
    if (goes(e->color)) {
      if (prev) prev->next = next; else q.head = next;
      if (q.tail == e) q.tail = prev;
      e->next = nullptr;
      if (last) last->next = e; else first = e;
      last = e;
      ++taken;
    } else {
      prev = e;
    }
    e = next;
  }
  q.count -= taken;
  return first;
}

// migrate: appends a set built by construct_event_set, order kept.
inline void migrate(legacy_queue& to, detail::event* set) noexcept {
  for (detail::event* e = set; e;) {
    detail::event* next = e->next;
    to.push(e);
    e = next;
  }
}

}  // namespace hue::internal
