// hue/net.hpp — non-blocking TCP helpers for handlers.
//
// Plain functions over fds, so that handler-style code, the coroutine helpers (hue/coro.hpp) and
// the servers share one implementation of the error cases:
//   - EINTR is retried; EAGAIN/EWOULDBLOCK is `would_block`, never an error;
//   - a peer that reset or closed (ECONNRESET, EPIPE) is `closed`, never a signal: sends use
//     MSG_NOSIGNAL, and creating a reactor ignores SIGPIPE;
//   - accept survives running out of fds (EMFILE, ENFILE): the acceptor keeps a spare fd, and when
//     the table is full it frees the spare, accepts the pending connection and closes it at once
//     (shedding it rather than leaving it to spin the poller), takes the spare back, and pauses
//     accepting for a back-off period; then it accepts again.
#pragma once

#include <hue/reactor.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace hue::net {

/// A TCP address: where to listen or connect.
struct endpoint {
  std::string host = "127.0.0.1";  ///< numeric IPv4 or IPv6 address
  std::uint16_t port = 0;          ///< 0: any free port (see local_port)
};

/// How listen_tcp sets up its socket.
struct listen_options {
  int backlog = 4096;       ///< listen(2)'s backlog
  bool reuse_port = false;  ///< SO_REUSEPORT: one listener per reactor at many cores
};

/// A listening TCP socket, non-blocking and close-on-exec, with SO_REUSEADDR. Throws
/// std::system_error naming the address on failure.
int listen_tcp(const endpoint& at, const listen_options& opts = {});
/// Starts a non-blocking connect; the fd becomes writable when it has finished, and then
/// connect_error() tells how. Throws std::system_error when it fails at once.
int connect_tcp(const endpoint& to);
int connect_error(int fd) noexcept;  ///< SO_ERROR: 0 when connected
std::uint16_t local_port(int fd);      ///< the port a socket is bound to
void set_nodelay(int fd) noexcept;     ///< TCP_NODELAY on

/// How a read_some or write_some ended.
enum class io_status {
  ok,           ///< `bytes` moved (> 0)
  would_block,  ///< EAGAIN: wait for readiness
  eof,          ///< read: the peer closed its side
  closed,       ///< the peer reset or went away (ECONNRESET, EPIPE, ENOTCONN)
  error,        ///< anything else: `err` says what
};
/// What a read_some or write_some did.
struct io_result {
  io_status status;        ///< how it ended
  std::size_t bytes = 0;   ///< bytes moved, when `status` is ok
  int err = 0;             ///< errno, when `status` is closed or error
};
/// One read(2) on a non-blocking fd, its outcome classified (EINTR retried).
io_result read_some(int fd, void* buf, std::size_t len) noexcept;
/// One send(2) on a non-blocking fd without SIGPIPE (write(2) on a pipe), its outcome classified
/// (EINTR retried).
io_result write_some(int fd, const void* buf, std::size_t len) noexcept;

/// The accept half of EMFILE handling, shared by the acceptor below and the coroutine one.
class spare_fd {
 public:
  spare_fd();
  ~spare_fd();
  spare_fd(const spare_fd&) = delete;
  spare_fd& operator=(const spare_fd&) = delete;
  /// What one accept did (see accept()).
  enum class outcome { accepted, would_block, shed, failed };
  /// One accept4 on `listen_fd` (non-blocking, close-on-exec): `accepted` sets `fd`; `shed` means
  /// the fd table was full and one pending connection was closed to make progress.
  outcome accept(int listen_fd, int& fd, int& err) noexcept;

 private:
  int fd_;
};

/// How an acceptor paces itself.
struct acceptor_options {
  unsigned max_per_run = 64;  ///< accepts per run before yielding the color (fairness)
  std::chrono::milliseconds backoff{20};  ///< wait after a descriptor shortage
};

/// Accepts connections on `listen_fd` (which it closes when destroyed) and hands each new,
/// non-blocking fd to `on_accept`, on `color` (SWS: color 1, with DecClientAccepted).
class acceptor {
 public:
  /// Starts accepting at once; `on_accept` runs on `color` and owns the fd it is given.
  acceptor(reactor& io, int listen_fd, color_t color, std::function<void(int fd)> on_accept,
           acceptor_options opts = {});
  ~acceptor();
  acceptor(const acceptor&) = delete;
  acceptor& operator=(const acceptor&) = delete;

  /// Stop / start taking connections (a maximum number of clients). Call from the acceptor's color.
  void pause() noexcept;
  void resume();  ///< see pause()

  int fd() const noexcept { return fd_; }  ///< the listening fd
  /// Connections handed to `on_accept` so far.
  std::uint64_t accepted() const noexcept { return accepted_.load(std::memory_order_relaxed); }
  /// Connections closed at once for want of a descriptor (the EMFILE policy).
  std::uint64_t shed() const noexcept { return shed_.load(std::memory_order_relaxed); }

 private:
  void accept_loop();

  reactor& io_;
  int fd_;
  color_t color_;
  std::function<void(int)> on_accept_;
  acceptor_options opts_;
  spare_fd spare_;
  bool paused_ = false;
  bool backing_off_ = false;
  std::atomic<std::uint64_t> accepted_{0}, shed_{0};
  registration watch_, backoff_timer_, again_;
};

}  // namespace hue::net
