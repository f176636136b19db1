// lib/core/poller.cpp — the poller protocol (poller.hpp) and the reactor's view of a runtime.
#include "poller.hpp"

#include "runtime_impl.hpp"

#include <stdexcept>
#include <string>
#include <thread>

namespace hue::internal {

poller_lease::poller_lease(core& me) : me_(me) {
  if (!me.poll.attached.load(std::memory_order_acquire)) return;
  spin_guard g(me.lock);
  me.note_lock_wait(g.waited);
  p_ = me.poll.poller;
  me.poll.busy = p_ != nullptr;
}

poller_lease::~poller_lease() {
  if (!p_) return;
  spin_guard g(me_.lock);
  me_.note_lock_wait(g.waited);
  me_.poll.busy = false;
}

void resume_poller_if_dormant(core& me, bool dormant) noexcept {
  if (!dormant) return;
  const poller_lease poller(me);
  if (poller.get()) poller.get()->resume();
}

poll_host::poll_host(runtime_impl& rt, unsigned k)
    : rt_(rt), core_([&]() -> core& {
        if (k >= rt_.cfg.workers)
          throw std::out_of_range("hue: reactor_config::core " + std::to_string(k) +
                                  " >= workers " + std::to_string(rt_.cfg.workers));
        return rt_.cores[k];
      }()) {}

int poll_host::wake_fd() const noexcept { return core_.park.fd(); }
void poll_host::consume_wake() noexcept { core_.park.consume(); }

void poll_host::attach(idle_poller* p) noexcept {
  {
    spin_guard g(core_.lock);
    core_.poll.poller = p;
    core_.poll.attached.store(true, std::memory_order_release);
    core_.sleeping.store(false, std::memory_order_relaxed);
  }
  core_.park.wake();  // a worker asleep in read() starts polling at its next park
}

bool poll_host::may_rest() noexcept {
  spin_guard g(core_.lock);
  if (core_.pending) return false;
  core_.poll.dormant = true;
  return true;
}

void poll_host::detach(const idle_poller* p) noexcept {
  bool busy;
  {
    spin_guard g(core_.lock);
    if (core_.poll.poller != p) return;
    // No park starts using it from here on; wait only for the one in progress, if any.
    core_.poll.poller = nullptr;
    core_.poll.attached.store(false, std::memory_order_release);
    core_.poll.dormant = false;
    busy = core_.poll.busy;
    core_.sleeping.store(false, std::memory_order_relaxed);
  }
  while (busy) {
    core_.park.wake();  // out of epoll_wait, so the park ends
    std::this_thread::yield();
    spin_guard g(core_.lock);
    busy = core_.poll.busy;
  }
}

void poll_host::report_error(const handler_info& info, color_t color) noexcept {
  // Counted on the calling worker's core: a core's counters have one writer, its worker. The
  // failures reported here happen on workers (a libevent callback on the polling core, or the end
  // of a delivery on whichever core ran it).
  core& c = current_worker.rt == &rt_ ? *current_worker.me : core_;
  rt_.report_exception(c, info, color);
}

trace::ring* poll_host::trace_ring() const noexcept {
  return core_.trace.load(std::memory_order_acquire);
}

io_backend poll_host::io() const noexcept { return rt_.cfg.io; }

bool poll_host::on_own_worker() const noexcept { return current_worker.rt == &rt_; }

void poll_host::stop_and_join() {
  rt_.stop();
  rt_.join();
}

}  // namespace hue::internal
