// lib/core/park.hpp — putting an idle worker to sleep and waking it.
//
// The sleeper blocks on an eventfd, not a futex, so that a worker which polls the reactor
// (lib/reactor) can sleep in epoll on the very same wake-up: the reactor registers this eventfd in
// its event_base (poller.hpp), and a post wakes a worker asleep in epoll_wait exactly as one asleep in read().
// A write costs one syscall, like FUTEX_WAKE.
//
// Protocol: the decision to wake is made under the core lock (the `sleeping` flag in core.hpp), so
// a waker writes at most once per sleep. The eventfd counter is sticky: a write that lands between
// the sleeper's unlock and its read() makes the read return at once, so no wake-up is lost.
// Spurious returns are harmless: the worker loop re-checks its queues.
#pragma once

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace hue::internal {

class parker {
 public:
  parker() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "hue: eventfd");
  }
  ~parker() { ::close(fd_); }
  parker(const parker&) = delete;
  parker& operator=(const parker&) = delete;

  // The fd a reactor watches for readability while its worker sleeps in epoll.
  int fd() const noexcept { return fd_; }

  // Blocks until woken (or returns at once if a wake is already pending), or for at most a
  // second: a watchdog against a missed kernel wake-up (see the reactor's), which the worker loop
  // treats like any spurious return. Each one costs an idle worker a spin window (50 us), so
  // it is rare.
  void wait() noexcept {
    pollfd p{fd_, POLLIN, 0};
    while (::poll(&p, 1, 1000) < 0 && errno == EINTR) {
    }
    consume();
  }

  // Clears pending wake-ups (the reactor calls it when the eventfd polls readable).
  void consume() noexcept {
    std::uint64_t n;
    [[maybe_unused]] const ssize_t r = ::read(fd_, &n, sizeof n);  // EAGAIN: nothing pending
  }

  void wake() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t r = ::write(fd_, &one, sizeof one);  // cannot overflow: read
  }                                                                      // resets the counter

 private:
  int fd_;
};

}  // namespace hue::internal
