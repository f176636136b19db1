// hue/task.hpp — hue::task<T>, a lazy coroutine that another coroutine awaits.
//
//   hue::task<int> answer() { co_return 42; }
//   hue::task<void> caller() { int x = co_await answer(); ... }
//
// Lazy: the body starts when awaited, on the awaiting coroutine's thread and color, and resumes
// its awaiter by symmetric transfer when it finishes, so chains of tasks neither grow the stack nor
// go through the runtime's queues. Exceptions thrown by the body propagate out of `co_await`.
// The only allocation is the coroutine frame. A task that is never awaited is destroyed unrun;
// a task destroyed while suspended destroys its frame (and with it the frames it awaits).
// To run a task on its own, detached, see hue::spawn (hue/coro.hpp).
#pragma once

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <utility>
#include <variant>

namespace hue {

template <class T = void>
class task;

namespace detail {

template <class Promise>
struct final_transfer {
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
    std::coroutine_handle<> next = h.promise().continuation;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct task_promise_base {
  std::coroutine_handle<> continuation;
  std::suspend_always initial_suspend() const noexcept { return {}; }
};

template <class T>
struct task_promise : task_promise_base {
  std::variant<std::monostate, T, std::exception_ptr> result;
  task<T> get_return_object() noexcept;
  final_transfer<task_promise> final_suspend() const noexcept { return {}; }
  template <class U>
  void return_value(U&& v) {
    result.template emplace<1>(std::forward<U>(v));
  }
  void unhandled_exception() noexcept { result.template emplace<2>(std::current_exception()); }
  T take() {
    if (result.index() == 2) std::rethrow_exception(std::get<2>(result));
    return std::move(std::get<1>(result));
  }
};

template <>
struct task_promise<void> : task_promise_base {
  std::exception_ptr error;
  task<void> get_return_object() noexcept;
  final_transfer<task_promise> final_suspend() const noexcept { return {}; }
  void return_void() const noexcept {}
  void unhandled_exception() noexcept { error = std::current_exception(); }
  void take() const {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

/// A lazily started coroutine returning T, awaited by one caller (see the top of this file).
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;         ///< what makes it a coroutine type
  using handle = std::coroutine_handle<promise_type>;  ///< the frame it owns

  task() noexcept = default;
  explicit task(handle h) noexcept : h_(h) {}  ///< owns `h` (made by the promise)
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}  ///< `o` becomes empty
  /// Destroys this one's frame, if any, and takes `o`'s.
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (h_) h_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(h_); }  ///< owns a frame

  auto operator co_await() && noexcept {
    struct awaiter {
      handle h;
      bool await_ready() const noexcept { return !h || h.done(); }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
        h.promise().continuation = caller;
        return h;  ///< start (or continue) the body now, on this thread
      }
      T await_resume() {
        if (!h) throw std::logic_error("hue: co_await of an empty task");
        return h.promise().take();
      }
    };
    return awaiter{h_};
  }

  /// For hue::spawn: hands the frame over.
  handle release() noexcept { return std::exchange(h_, {}); }

 private:
  handle h_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace hue
