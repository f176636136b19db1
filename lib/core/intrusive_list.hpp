// lib/core/intrusive_list.hpp — the one doubly-linked intrusive list of the library.
//
// Every list of runtime objects (a core-queue level, the spare color-queues, a table slot's chain,
// a stealing-queue interval, a reactor's coroutine roots) is an `intrusive_list` over a
// `list_hook` member of the element: no allocation on insert, O(1) removal from anywhere, and an
// element knows nothing of which list it is on. An element may sit on several lists at once
// through several hooks; on one list per hook.
//
//   struct color_queue { list_hook<color_queue> link; ... };
//   intrusive_list<color_queue, &color_queue::link> ready;
//   ready.push_back(q); ready.remove(q); color_queue* first = ready.pop_front();
//
// Hazards: nothing checks that an element is on this list when it is removed (a debug build could;
// the callers keep a state field saying which list an element is on), and the list does not own its
// elements. Events are the exception, on a singly-linked `event_fifo`
// (event_fifo.hpp): their block is public layout, and a second pointer would take 8 bytes
// from every event's inline storage for an operation (removal from the middle) events never need.
//
// Not thread-safe: each list is guarded by the lock of whoever owns it.
#pragma once

#include <cstddef>

namespace hue::internal {

template <class T>
struct list_hook {
  T* prev = nullptr;
  T* next = nullptr;
};

template <class T, list_hook<T> T::*Hook>
class intrusive_list {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  T* front() const noexcept { return head_; }
  T* back() const noexcept { return tail_; }
  static T* next(const T* x) noexcept { return (x->*Hook).next; }
  static T* prev(const T* x) noexcept { return (x->*Hook).prev; }

  void push_back(T* x) noexcept {
    list_hook<T>& h = x->*Hook;
    h.next = nullptr;
    h.prev = tail_;
    if (tail_) (tail_->*Hook).next = x; else head_ = x;
    tail_ = x;
    ++size_;
  }

  void push_front(T* x) noexcept {
    list_hook<T>& h = x->*Hook;
    h.prev = nullptr;
    h.next = head_;
    if (head_) (head_->*Hook).prev = x; else tail_ = x;
    head_ = x;
    ++size_;
  }

  void remove(T* x) noexcept {
    list_hook<T>& h = x->*Hook;
    if (h.prev) (h.prev->*Hook).next = h.next; else head_ = h.next;
    if (h.next) (h.next->*Hook).prev = h.prev; else tail_ = h.prev;
    h.prev = h.next = nullptr;
    --size_;
  }

  T* pop_front() noexcept {
    T* x = head_;
    if (x) remove(x);
    return x;
  }

  // Calls f(x) on each element in order until f returns true; f may remove x itself.
  template <class F>
  T* find_if(F f) const {
    for (T* x = head_; x;) {
      T* n = next(x);
      if (f(x)) return x;
      x = n;
    }
    return nullptr;
  }
  // The same from the back.
  template <class F>
  T* find_if_reverse(F f) const {
    for (T* x = tail_; x;) {
      T* p = prev(x);
      if (f(x)) return x;
      x = p;
    }
    return nullptr;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace hue::internal
