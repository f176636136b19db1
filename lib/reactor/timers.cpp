// lib/reactor/timers.cpp — the reactor's timer heap (timers.hpp).
#include "timers.hpp"

#include "core/cycles.hpp"
#include "reactor_core.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace hue::internal {

timer_heap::timer_heap() : fd_(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "hue: timerfd_create");
}

timer_heap::~timer_heap() { ::close(fd_); }

timer_entry& timer_heap::entry(registration_state* s) noexcept { return s->timer; }

bool timer_heap::before(std::uint32_t a, std::uint32_t b) const noexcept {
  const timer_entry& x = entry(heap_[a]);
  const timer_entry& y = entry(heap_[b]);
  return x.due_ns != y.due_ns ? x.due_ns < y.due_ns : x.seq < y.seq;
}

void timer_heap::place(std::uint32_t i, registration_state* s) noexcept {
  heap_[i] = s;
  entry(s).index = i;
}

void timer_heap::sift_up(std::uint32_t i) noexcept {
  while (i > 0) {
    const std::uint32_t parent = (i - 1) / 2;
    if (!before(i, parent)) break;
    registration_state* p = heap_[parent];
    place(parent, heap_[i]);
    place(i, p);
    i = parent;
  }
}

void timer_heap::sift_down(std::uint32_t i) noexcept {
  const auto n = static_cast<std::uint32_t>(heap_.size());
  for (;;) {
    std::uint32_t least = i;
    for (std::uint32_t c = 2 * i + 1; c <= 2 * i + 2 && c < n; ++c)
      if (before(c, least)) least = c;
    if (least == i) return;
    registration_state* s = heap_[least];
    place(least, heap_[i]);
    place(i, s);
    i = least;
  }
}

void timer_heap::erase_at(std::uint32_t i) noexcept {
  entry(heap_[i]).index = timer_entry::not_queued;
  registration_state* last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;
  place(i, last);
  sift_down(i);
  sift_up(entry(last).index);
}

void timer_heap::arm_locked(std::int64_t due_ns) noexcept {
  // A deadline at or before the clock's epoch would read as "disarm" (a zero it_value).
  if (due_ns < 1) due_ns = 1;
  itimerspec at{};
  at.it_value.tv_sec = static_cast<time_t>(due_ns / 1'000'000'000);
  at.it_value.tv_nsec = static_cast<long>(due_ns % 1'000'000'000);
  // Fails only for arguments out of range, which a steady_clock deadline is not.
  ::timerfd_settime(fd_, TFD_TIMER_ABSTIME, &at, nullptr);
  armed_ns_ = due_ns;
  ++arms_;
}

void timer_heap::add(registration_state* s) {
  std::lock_guard l(mu_);
  timer_entry& e = entry(s);
  e.seq = next_seq_++;
  heap_.push_back(s);  // may throw: nothing changed yet
  place(static_cast<std::uint32_t>(heap_.size() - 1), s);
  sift_up(e.index);
  if (heap_.front() == s && e.due_ns < armed_ns_) arm_locked(e.due_ns);
}

void timer_heap::remove(registration_state* s) noexcept {
  std::lock_guard l(mu_);
  if (entry(s).index != timer_entry::not_queued) erase_at(entry(s).index);
}

void timer_heap::expire() noexcept {
  std::uint64_t expirations;
  [[maybe_unused]] const ssize_t r = ::read(fd_, &expirations, sizeof expirations);  // EAGAIN: none
  std::lock_guard l(mu_);
  armed_ns_ = INT64_MAX;  // fired (or about to be re-armed below)
  const auto now = static_cast<std::int64_t>(steady_ns());
  while (!heap_.empty() && entry(heap_.front()).due_ns <= now) {
    registration_state* s = heap_.front();
    timer_entry& e = entry(s);
    if (e.period_ns > 0) {
      // Ticks are due one period after the previous due time (no drift); ticks missed while
      // the poller was late are merged into this one, as a tick queued behind another is.
      e.due_ns += e.period_ns;
      if (e.due_ns <= now) e.due_ns += ((now - e.due_ns) / e.period_ns + 1) * e.period_ns;
      e.seq = next_seq_++;
      sift_down(0);
    } else {
      erase_at(0);
    }
    s->ready(registration_state::tick);  // posts a delivery; takes no lock of ours
  }
  if (!heap_.empty()) arm_locked(entry(heap_.front()).due_ns);
}

std::uint64_t timer_heap::arms() const noexcept {
  std::lock_guard l(mu_);
  return arms_;
}

}  // namespace hue::internal
