// lib/coro/coro.cpp — detached coroutines, and the coroutine side of sockets.
#include "coro/roots.hpp"

#include <hue/coro.hpp>

#include <cerrno>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace hue {

// --- detached roots ---

namespace {

constexpr handler_info coroutine_info{.name = "Coroutine"};

// The frame spawn() creates around the user's task: it lists itself in the reactor while alive,
// and turns an escaping exception into a handler error of the runtime.
struct root {
  struct promise_type : internal::coroutine_roots::node {
    internal::coroutine_roots& owner;
    color_t color;

    promise_type(reactor&, internal::coroutine_roots& roots, color_t c, task<void>&)
        : owner(roots), color(c) {
      frame = std::coroutine_handle<promise_type>::from_promise(*this);
      owner.track(this);
    }
    ~promise_type() { owner.untrack(this); }

    root get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }  // the frame frees itself
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept { std::terminate(); }  // run_root catches all
  };
  std::coroutine_handle<promise_type> h;
};

root run_root(reactor& io, internal::coroutine_roots&, color_t color, task<void> t) {
  std::exception_ptr error;
  try {
    co_await std::move(t);
  } catch (...) {
    error = std::current_exception();
  }
  // Rethrown from an event of the coroutine's color: the runtime reports it like a handler's.
  if (error) io.rt().post(color, [error] { std::rethrow_exception(error); }, coroutine_info);
}

}  // namespace

void spawn(reactor& io, color_t color, task<void> t) {
  if (!t.valid()) throw std::invalid_argument("hue: spawn of an empty task");
  const root r = run_root(io, internal::coroutine_roots::of(*io.core_), color, std::move(t));
  const std::coroutine_handle<> h = r.h;
  if (!io.rt().post(color, [h] { h.resume(); }, coroutine_info)) h.destroy();  // stopped
}

color_t current_color_or_throw() {
  if (const auto c = runtime::current_color()) return *c;
  throw std::logic_error(
      "hue: waiting for I/O or a timer outside a colored handler (co_await rt.on(color) first)");
}

// --- async_socket ---

struct async_socket::waiters {
  std::coroutine_handle<> reader, writer;

  // The watch's handler, on the socket's color: resumes whoever waits on what became ready.
  // Readiness nobody waits for is dropped: a coroutine always tries the syscall before waiting,
  // and only waits after an EAGAIN, which only a later edge can end.
  void ready(io_events ev) {
    if ((ev & readable) && reader) std::exchange(reader, {}).resume();
    if ((ev & writable) && writer) std::exchange(writer, {}).resume();
  }
};

async_socket::async_socket(reactor& io, int fd) noexcept : io_(&io), fd_(fd) {}

async_socket::async_socket(async_socket&& o) noexcept
    : io_(o.io_),
      fd_(std::exchange(o.fd_, -1)),
      w_(std::move(o.w_)),
      watch_(std::move(o.watch_)),
      watch_color_(o.watch_color_) {}

async_socket& async_socket::operator=(async_socket&& o) noexcept {
  if (this != &o) {
    close();
    io_ = o.io_;
    fd_ = std::exchange(o.fd_, -1);
    w_ = std::move(o.w_);
    watch_ = std::move(o.watch_);
    watch_color_ = o.watch_color_;
  }
  return *this;
}

async_socket::~async_socket() { close(); }

void async_socket::close() noexcept {
  watch_.reset();  // before close(): the fd number may be reused at once
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int async_socket::release() noexcept {
  watch_.reset();
  return std::exchange(fd_, -1);
}

task<void> async_socket::wait(io_events interest) {
  if (fd_ < 0) throw std::logic_error("hue: wait on a closed async_socket");
  const color_t color = current_color_or_throw();
  if (!w_) w_ = std::make_shared<waiters>();
  if (!watch_ || watch_color_ != color) {
    // Registered on the coroutine's color, so the handler and the coroutine are serialized. A
    // new registration reports the current readiness once: no edge is lost in the move.
    watch_.reset();
    watch_ = io_->watch(fd_, readable | writable, color,
                        [w = w_](io_events ev) { w->ready(ev); }, watch_mode::persistent,
                        coroutine_info);
    watch_color_ = color;
  }
  struct awaiter {
    std::coroutine_handle<>* slot;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) const noexcept { *slot = h; }
    void await_resume() const noexcept {}
  };
  if (interest & readable) co_await awaiter{&w_->reader};
  else co_await awaiter{&w_->writer};
}

task<std::size_t> async_socket::read_some(void* buf, std::size_t len) {
  for (;;) {
    const net::io_result r = net::read_some(fd_, buf, len);
    switch (r.status) {
      case net::io_status::ok: co_return r.bytes;
      case net::io_status::eof: co_return 0;
      case net::io_status::would_block: co_await wait(readable); continue;
      case net::io_status::closed:
      case net::io_status::error:
        throw std::system_error(r.err, std::generic_category(), "hue: read");
    }
  }
}

task<void> async_socket::write_all(const void* buf, std::size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    const net::io_result r = net::write_some(fd_, p, len);
    switch (r.status) {
      case net::io_status::ok:
        p += r.bytes;
        len -= r.bytes;
        break;
      case net::io_status::would_block: co_await wait(writable); break;
      case net::io_status::eof:
      case net::io_status::closed:
      case net::io_status::error:
        throw std::system_error(r.err, std::generic_category(), "hue: write");
    }
  }
}

// --- accept and connect ---

async_listener::async_listener(reactor& io, int listen_fd, std::chrono::milliseconds backoff)
    : io_(io), sock_(io, listen_fd), backoff_(backoff) {}

task<async_socket> async_listener::accept() {
  for (;;) {
    int fd, err;
    switch (spare_.accept(sock_.fd(), fd, err)) {
      case net::spare_fd::outcome::accepted: co_return async_socket(io_, fd);
      case net::spare_fd::outcome::would_block: co_await sock_.wait(readable); break;
      case net::spare_fd::outcome::shed:
        shed_.fetch_add(1, std::memory_order_relaxed);
        co_await sleep_for(io_, backoff_);
        break;
      case net::spare_fd::outcome::failed:
        throw std::system_error(err, std::generic_category(), "hue: accept");
    }
  }
}

task<async_socket> async_connect(reactor& io, net::endpoint to) {
  async_socket s(io, net::connect_tcp(to));
  co_await s.wait(writable);
  if (const int err = net::connect_error(s.fd()))
    throw std::system_error(err, std::generic_category(),
                            "hue: cannot connect to " + to.host + ":" + std::to_string(to.port));
  co_return s;
}

}  // namespace hue
