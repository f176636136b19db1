// lib/net/net.cpp — non-blocking TCP helpers and the EMFILE-proof acceptor.
#include <hue/net.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace hue::net {

namespace {

[[noreturn]] void fail(int err, const std::string& what, const endpoint& at) {
  throw std::system_error(err, std::generic_category(),
                          "hue: " + what + " " + at.host + ":" + std::to_string(at.port));
}

// Fills `ss` for a numeric IPv4 or IPv6 address; names are not resolved (no blocking DNS here).
socklen_t to_sockaddr(const endpoint& at, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  if (inet_pton(AF_INET, at.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(at.port);
    return sizeof(sockaddr_in);
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET6, at.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(at.port);
    return sizeof(sockaddr_in6);
  }
  throw std::invalid_argument("hue: not a numeric IP address: '" + at.host + "'");
}

io_status status_of(int err) noexcept {
  switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
      return io_status::would_block;
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
    case ETIMEDOUT:
      return io_status::closed;
    default:
      return io_status::error;
  }
}

}  // namespace

int listen_tcp(const endpoint& at, const listen_options& opts) {
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(at, ss);
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(errno, "socket for", at);
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      (opts.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)) {
    const int err = errno;
    ::close(fd);
    fail(err, "setsockopt on", at);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int err = errno;
    ::close(fd);
    fail(err, "cannot bind", at);
  }
  if (::listen(fd, opts.backlog) != 0) {
    const int err = errno;
    ::close(fd);
    fail(err, "cannot listen on", at);
  }
  return fd;
}

int connect_tcp(const endpoint& to) {
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(to, ss);
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail(errno, "socket for", to);
  int r;
  do {
    r = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
  } while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EINPROGRESS) {
    const int err = errno;
    ::close(fd);
    fail(err, "cannot connect to", to);
  }
  return fd;
}

int connect_error(int fd) noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    throw std::system_error(errno, std::generic_category(), "hue: getsockname");
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

io_result read_some(int fd, void* buf, std::size_t len) noexcept {
  for (;;) {
    const ssize_t n = ::read(fd, buf, len);
    if (n > 0) return {io_status::ok, static_cast<std::size_t>(n), 0};
    if (n == 0) return {len ? io_status::eof : io_status::ok, 0, 0};
    if (errno == EINTR) continue;
    return {status_of(errno), 0, errno};
  }
}

io_result write_some(int fd, const void* buf, std::size_t len) noexcept {
  for (;;) {
    ssize_t n = ::send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, buf, len);  // a pipe: SIGPIPE is ignored
    if (n >= 0) return {io_status::ok, static_cast<std::size_t>(n), 0};
    if (errno == EINTR) continue;
    return {status_of(errno), 0, errno};
  }
}

// --- accepting when out of fds ---

spare_fd::spare_fd() : fd_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "hue: spare fd");
}

spare_fd::~spare_fd() {
  if (fd_ >= 0) ::close(fd_);
}

spare_fd::outcome spare_fd::accept(int listen_fd, int& fd, int& err) noexcept {
  for (;;) {
    fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return outcome::accepted;
    err = errno;
    switch (err) {
      case EINTR:
      case ECONNABORTED:  // the peer gave up while queued: try the next one
      case EPROTO:
        continue;
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
        return outcome::would_block;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        // Level-triggered pollers would report the listener ready forever; an edge-triggered one
        // would leave the client hanging. Take the connection with the spare fd and close it.
        if (fd_ >= 0) {
          ::close(fd_);
          const int shed = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
          if (shed >= 0) ::close(shed);
          fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // may fail under ENFILE: retried next
        } else {
          fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
        return outcome::shed;
      default:
        return outcome::failed;
    }
  }
}

// --- the acceptor ---

namespace {
constexpr handler_info accept_info{.name = "Accept", .cost = 3'000};
}

acceptor::acceptor(reactor& io, int listen_fd, color_t color, std::function<void(int)> on_accept,
                   acceptor_options opts)
    : io_(io), fd_(listen_fd), color_(color), on_accept_(std::move(on_accept)), opts_(opts) {
  if (opts_.max_per_run == 0) opts_.max_per_run = 1;
  watch_ = io_.watch(fd_, readable, color_, [this](io_events) { accept_loop(); },
                     watch_mode::persistent, accept_info);
}

acceptor::~acceptor() {
  watch_.reset();
  backoff_timer_.reset();
  again_.reset();
  ::close(fd_);
}

void acceptor::pause() noexcept { paused_ = true; }

void acceptor::resume() {
  if (!paused_) return;
  paused_ = false;
  // Edge-triggered: connections that queued while paused raised no new edge. Look now.
  if (!backing_off_) accept_loop();
}

void acceptor::accept_loop() {
  if (paused_ || backing_off_) return;
  for (unsigned i = 0; i < opts_.max_per_run; ++i) {
    int fd, err;
    switch (spare_.accept(fd_, fd, err)) {
      case spare_fd::outcome::accepted:
        accepted_.fetch_add(1, std::memory_order_relaxed);
        on_accept_(fd);
        if (paused_) return;  // the handler reached a limit
        continue;
      case spare_fd::outcome::would_block:
        return;
      case spare_fd::outcome::shed:
      case spare_fd::outcome::failed:
        if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
          // Unexpected (EINVAL: not listening...): report it once per back-off, keep the loop.
          std::fprintf(stderr, "hue: accept on fd %d: %s\n", fd_, std::strerror(err));
        } else {
          shed_.fetch_add(1, std::memory_order_relaxed);
        }
        backing_off_ = true;
        backoff_timer_ = io_.after(opts_.backoff, color_, [this] {
          backing_off_ = false;
          accept_loop();
        }, accept_info);
        return;
    }
  }
  // More may be pending and no new edge will say so: continue after the color's other events.
  again_ = io_.after(std::chrono::nanoseconds(0), color_, [this] { accept_loop(); }, accept_info);
}

}  // namespace hue::net
