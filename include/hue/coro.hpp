// hue/coro.hpp — coroutines on colors: thread-like code at event-loop cost.
//
//   hue::task<void> echo(hue::reactor& io, hue::async_socket s) {
//     char buf[4096];
//     while (std::size_t n = co_await s.read_some(buf, sizeof buf))  // suspends on EAGAIN
//       co_await s.write_all(buf, n);
//   }
//   hue::spawn(io, /*color*/ fd, echo(io, hue::async_socket(io, fd)));
//
// A coroutine always runs inside an event of some color: spawn() starts it on one, `co_await
// rt.on(c)` moves it, and every wake-up (readiness, a timer) is delivered as an event of the color
// it was waiting on. So between two suspension points it holds its color's mutual exclusion, and
// a coroutine's color can be stolen by another core like any other.
//
// Shutdown: spawn() records each detached coroutine in its reactor. Destroying the reactor
// destroys the frames of those still suspended (their awaiters cancel their timers and watches);
// because a frame may not be destroyed while it could be running, if any are left the reactor
// first stops its runtime and waits for the workers. Destroy the reactor outside its handlers.
#pragma once

#include <hue/net.hpp>
#include <hue/reactor.hpp>
#include <hue/task.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <memory>

namespace hue {

/// Runs `t` detached, starting as an event of `color`. An exception escaping it is reported like
/// one escaping a handler (config::on_error, and the error counters).
void spawn(reactor& io, color_t color, task<void> t);

/// The color of the calling handler or coroutine; throws std::logic_error outside one (an I/O or
/// timer wait must know where to resume: co_await rt.on(color) first).
color_t current_color_or_throw();

namespace detail {

/// Resumes the awaiting coroutine from a oneshot registration's handler, on the current color.
/// The registration lives in the awaiter, so a frame destroyed while waiting cancels it.
template <class Arm>
struct registration_awaiter {
  Arm arm;  ///< registration(color_t, std::function<void()> resume)
  registration reg;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { reg = arm(current_color_or_throw(), [h] { h.resume(); }); }
  void await_resume() const noexcept {}
};

}  // namespace detail

/// co_await sleep_for(io, 10ms): resumes on the same color, never earlier than `d` from now.
inline auto sleep_for(reactor& io, reactor::clock::duration d) {
  auto arm = [&io, d](color_t c, std::function<void()> resume) {
    return io.after(d, c, std::move(resume));
  };
  return detail::registration_awaiter<decltype(arm)>{arm, {}};
}

/// co_await readable(io, fd) / writable(io, fd): one level-triggered wait on any fd.
inline auto wait_for(reactor& io, int fd, io_events interest) {
  auto arm = [&io, fd, interest](color_t c, std::function<void()> resume) {
    return io.watch(fd, interest, c, [r = std::move(resume)](io_events) { r(); },
                    watch_mode::oneshot);
  };
  return detail::registration_awaiter<decltype(arm)>{arm, {}};
}
/// co_await readable_fd(io, fd): wait_for(io, fd, readable).
inline auto readable_fd(reactor& io, int fd) { return wait_for(io, fd, readable); }
/// co_await writable_fd(io, fd): wait_for(io, fd, writable).
inline auto writable_fd(reactor& io, int fd) { return wait_for(io, fd, writable); }

/// A non-blocking socket owned by a coroutine. Its fd stays registered with the reactor
/// (edge-triggered, read and write) for its whole life, so waiting costs no epoll_ctl; the
/// registration follows the coroutine's color if it moves. read_some/write_all throw
/// std::system_error when the peer resets (ECONNRESET, EPIPE) or on any other error.
class async_socket {
 public:
  async_socket() noexcept = default;
  async_socket(reactor& io, int fd) noexcept;  ///< takes ownership of `fd`
  async_socket(async_socket&&) noexcept;             ///< moves the fd and its registration
  async_socket& operator=(async_socket&&) noexcept;  ///< closes this one's fd first
  ~async_socket();

  int fd() const noexcept { return fd_; }                        ///< -1 when closed or empty
  explicit operator bool() const noexcept { return fd_ >= 0; }  ///< owns an open fd
  void close() noexcept;  ///< stops watching and closes the fd; waiting coroutines are resumed
  int release() noexcept;  ///< stops watching and gives the fd back, open, to the caller

  task<std::size_t> read_some(void* buf, std::size_t len);  ///< 0: the peer closed its side
  task<void> write_all(const void* buf, std::size_t len);  ///< all `len` bytes, waiting as needed
  /// Waits until the fd is ready (after an EAGAIN): what read_some and write_all use.
  task<void> wait(io_events interest);

  struct waiters;  ///< shared with the watch's handler, which may outlive a moved-from socket

 private:
  reactor* io_ = nullptr;
  int fd_ = -1;
  std::shared_ptr<waiters> w_;
  registration watch_;
  color_t watch_color_ = 0;
};

/// Accepts with the EMFILE policy of hue::net::acceptor (shed, back off, keep going).
class async_listener {
 public:
  /// Watches `listen_fd` (non-blocking, listening; owned from now on); after a descriptor
  /// shortage, waits `backoff` before accepting again.
  async_listener(reactor& io, int listen_fd,
                 std::chrono::milliseconds backoff = std::chrono::milliseconds(20));
  task<async_socket> accept();  ///< the next connection, non-blocking, waiting as needed
  int fd() const noexcept { return sock_.fd(); }  ///< the listening fd
  /// Connections accepted and closed at once for want of a descriptor (the EMFILE policy).
  std::uint64_t shed() const noexcept { return shed_.load(std::memory_order_relaxed); }

 private:
  reactor& io_;
  async_socket sock_;  ///< the listening fd, for its readiness
  net::spare_fd spare_;
  std::chrono::milliseconds backoff_;
  std::atomic<std::uint64_t> shed_{0};  ///< read by other threads (stats)
};

/// Connects to `to` without blocking the worker; throws std::system_error naming the address when
/// the connection fails.
task<async_socket> async_connect(reactor& io, net::endpoint to);

}  // namespace hue
