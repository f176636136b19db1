// lib/reactor/uring_backend.cpp — the io_uring backend: readiness as multishot polls
// (IORING_OP_POLL_ADD with IORING_POLL_ADD_MULTI) on a ring of the polling core's own.
//
// Why it can be cheaper than epoll: a poll that finds nothing reads the completion queue in memory
// and makes no syscall; a poll that has submissions and completions makes one (io_uring_enter),
// and the blocking poll submits and sleeps in the same one.
//
// One ring, one thread. Only the polling core's worker touches the ring (its submission and its
// completion queue). The ring is set up with IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN where the
// kernel accepts them: the kernel then runs completion work only when that thread enters it, and
// sets IORING_SQ_TASKRUN in the ring when there is some, so a non-blocking poll enters only then.
// SINGLE_ISSUER binds the ring to the thread that enables it, so the ring starts disabled and the
// worker enables it at its first poll (the reactor is made on another thread). Older kernels get
// COOP_TASKRUN, then a plain ring.
//
// Other threads never touch the ring: a watch added or removed on another core is a request in
// `requests_` (guarded by `mu_`), which the worker turns into submissions at its next poll; when
// the worker sleeps in the ring (`sleeping_`, under `mu_`), the requester writes `request_fd_`,
// an eventfd the ring polls, so the sleep ends.
//
// Cancellation. A watch is a slot of `slots_` (index and generation in the poll's user_data). The
// slot, not the registration, is what the kernel's completions name, and a slot is reused only
// after the final completion of its poll (no IORING_CQE_F_MORE). remove_watch clears the slot's
// registration under `mu_` and asks for IORING_OP_POLL_REMOVE; the worker reads completions of
// watches under `mu_` too, so once remove_watch returns no completion reaches the registration,
// which may then be freed while its poll's cancellation is still in flight.
//
// Signals: a process-wide handler writes the signal's number into a pipe of the catcher's
// backend, which the ring polls; the worker reads it and fans the signal out (fan_out_signal).
#include "poll_backend.hpp"

#ifdef HUE_HAVE_LIBURING

#include "reactor_core.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace hue::internal {

namespace {

// user_data: generation << 32 | slot index << 3 | kind.
enum kind : std::uint64_t {
  watch_kind = 0,
  wake_kind = 1,     // the parker's eventfd
  timer_kind = 2,    // the timer heap's timerfd
  request_kind = 3,  // request_fd_
  signal_kind = 4,   // the signal pipe
  ignore_kind = 5,   // completions of POLL_REMOVE; liburing's own timeout has all bits set
};
constexpr std::uint64_t kind_mask = 7;
constexpr unsigned ring_entries = 256;
// Each multishot poll may post a completion per wake-up; the kernel keeps overflowed ones
// (IORING_FEAT_NODROP), but a queue this size rarely overflows at thousands of connections.
constexpr unsigned cq_entries = 4096;

// The write end of the catching backend's signal pipe, read by the signal handler.
std::atomic<int> signal_pipe{-1};

extern "C" void hue_on_uring_signal(int signo) {
  const int saved = errno;
  const int fd = signal_pipe.load(std::memory_order_relaxed);
  const auto byte = static_cast<unsigned char>(signo);
  if (fd >= 0) [[maybe_unused]] const ssize_t r = ::write(fd, &byte, 1);  // full: already pending
  errno = saved;
}

struct caught_signal {
  int signo;
  struct sigaction before;
};

io_events bits_of(int revents, io_events interest) noexcept {
  // As epoll reports them: an error or a hang-up reads as both.
  io_events bits = 0;
  if (revents & (POLLERR | POLLHUP)) bits = readable | writable;
  if (revents & POLLIN) bits |= readable;
  if (revents & POLLOUT) bits |= writable;
  return bits & interest;
}

class uring_backend final : public poll_backend {
 public:
  uring_backend(int wake_fd, int timer_fd, poll_sink& sink, io_uring& ring, bool disabled)
      : ring_(ring), disabled_(disabled), sink_(sink), wake_fd_(wake_fd), timer_fd_(timer_fd) {
    request_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (request_fd_ < 0) {
      const int err = errno;
      io_uring_queue_exit(&ring_);
      throw std::system_error(err, std::generic_category(), "hue: eventfd");
    }
  }

  ~uring_backend() override {
    // Nothing polls any more (the reactor is detached from its core). Closing the ring cancels
    // whatever is still armed; its completions are never read.
    if (signal_pipe_[1] >= 0) {
      int mine = signal_pipe_[1];
      signal_pipe.compare_exchange_strong(mine, -1);
      ::close(signal_pipe_[0]);
      ::close(signal_pipe_[1]);
    }
    io_uring_queue_exit(&ring_);
    ::close(request_fd_);
  }

  const char* name() const noexcept override { return "io_uring"; }

  void add_watch(registration_state* s, int fd, io_events interest) override {
    std::lock_guard l(mu_);
    requests_.reserve(requests_.size() + 1);  // may throw: nothing changed yet
    std::uint32_t i;
    if (!free_.empty()) {
      i = free_.back();
      free_.pop_back();
    } else {
      if (slots_.size() >= (1u << 29)) throw std::system_error(ENOSPC, std::generic_category(), "hue: watches");
      slots_.emplace_back();
      i = static_cast<std::uint32_t>(slots_.size() - 1);
    }
    slot& w = slots_[i];
    w.s = s;
    w.fd = fd;
    w.interest = interest;
    w.oneshot = s->oneshot;
    w.st = slot::queued;
    ++w.gen;
    s->watch = key(i, w.gen);
    requests_.push_back({i, w.gen, false});
    announce_locked();
  }

  void remove_watch(registration_state* s) noexcept override {
    std::lock_guard l(mu_);
    slot* w = slot_of(s->watch);
    s->watch = 0;
    if (!w || w->s != s) return;
    w->s = nullptr;  // from here on no completion reaches `s`
    const auto i = static_cast<std::uint32_t>(w - slots_.data());
    switch (w->st) {
      case slot::queued: break;  // the worker finds it empty when it takes the request: freed then
      case slot::armed:
        w->st = slot::cancelling;
        try {
          requests_.push_back({i, w->gen, true});
        } catch (...) {
          // Out of memory: the poll stays armed in the kernel until the ring goes, and its slot
          // with it; its completions find the slot empty.
          return;
        }
        announce_locked();
        break;
      case slot::idle: release_locked(i); break;  // nothing in the kernel names it
      case slot::cancelling:
      case slot::free: break;
    }
  }

  void release_watch(registration_state* s) noexcept override {
    if (s->watch) remove_watch(s);
  }

  void poll(bool block) noexcept override {
    if (!started_) start();
    if (have_requests_.load(std::memory_order_acquire)) take_requests();
    if (block) {
      sleep();
    } else if (io_uring_sq_ready(&ring_) > 0 || needs_enter()) {
      io_uring_submit_and_get_events(&ring_);
    }
    reap();
    // A request announced while asleep: arm it before going back to the worker's loop.
    if (block && have_requests_.load(std::memory_order_acquire)) {
      take_requests();
      io_uring_submit(&ring_);
    }
  }

  void* catch_signal(int signo) override {
    {
      std::lock_guard l(mu_);
      if (signal_pipe_[0] < 0) {
        requests_.reserve(requests_.size() + 1);  // may throw: nothing changed yet
        if (::pipe2(signal_pipe_, O_NONBLOCK | O_CLOEXEC) != 0)
          throw std::system_error(errno, std::generic_category(), "hue: signal pipe");
        requests_.push_back({0, 0, false, true});
        announce_locked();
      }
    }
    signal_pipe.store(signal_pipe_[1], std::memory_order_release);
    auto* c = new caught_signal{signo, {}};
    struct sigaction sa {};
    sa.sa_handler = hue_on_uring_signal;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (::sigaction(signo, &sa, &c->before) != 0) {
      delete c;
      throw std::runtime_error("hue: cannot catch signal " + std::to_string(signo));
    }
    return c;
  }

  void release_signal(void* caught) noexcept override {
    auto* c = static_cast<caught_signal*>(caught);
    ::sigaction(c->signo, &c->before, nullptr);
    delete c;
  }

 private:
  struct slot {
    enum state : std::uint8_t {
      free,        // on free_
      queued,      // an add request waits in requests_
      armed,       // a poll is in the kernel
      cancelling,  // removed: its POLL_REMOVE is asked for or in flight; freed at the final completion
      idle,        // a oneshot that fired, or a poll that failed: nothing in the kernel
    };
    registration_state* s = nullptr;  // null once removed
    int fd = -1;
    io_events interest = 0;
    std::uint32_t gen = 0;
    bool oneshot = false;
    state st = free;
  };
  struct request {
    std::uint32_t index;
    std::uint32_t gen;
    bool cancel;
    bool signals = false;  // arm the signal pipe's poll
  };

  static std::uint64_t key(std::uint32_t i, std::uint32_t gen) noexcept {
    return (std::uint64_t{gen} << 32) | (std::uint64_t{i} << 3) | watch_kind;
  }

  slot* slot_of(std::uint64_t k) noexcept {  // under mu_
    if (!k) return nullptr;
    const auto i = static_cast<std::uint32_t>((k & 0xffffffffu) >> 3);
    if (i >= slots_.size() || slots_[i].gen != static_cast<std::uint32_t>(k >> 32)) return nullptr;
    return &slots_[i];
  }

  void release_locked(std::uint32_t i) noexcept {
    slots_[i].st = slot::free;
    slots_[i].s = nullptr;
    free_.push_back(i);  // cannot throw: free_ never holds more than slots_ had
  }

  void announce_locked() noexcept {
    have_requests_.store(true, std::memory_order_release);
    if (sleeping_) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t r = ::write(request_fd_, &one, sizeof one);
    }
  }

  // True when completions wait in the kernel for this thread to run them (DEFER_TASKRUN and
  // COOP_TASKRUN, which set IORING_SQ_TASKRUN) or overflowed the completion queue.
  bool needs_enter() const noexcept {
    return IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
  }

  io_uring_sqe* sqe() noexcept {
    io_uring_sqe* e = io_uring_get_sqe(&ring_);
    while (!e) {  // the submission queue is full: hand it to the kernel first
      io_uring_submit(&ring_);
      e = io_uring_get_sqe(&ring_);
    }
    return e;
  }

  void arm(int fd, unsigned mask, std::uint64_t data, bool multishot) noexcept {
    io_uring_sqe* e = sqe();
    if (multishot) io_uring_prep_poll_multishot(e, fd, mask);
    else io_uring_prep_poll_add(e, fd, mask);
    io_uring_sqe_set_data64(e, data);
  }

  void arm_watch(std::uint32_t i) noexcept {
    slot& w = slots_[i];
    unsigned mask = 0;
    if (w.interest & readable) mask |= POLLIN;
    if (w.interest & writable) mask |= POLLOUT;
    arm(w.fd, mask, key(i, w.gen), !w.oneshot);
    w.st = slot::armed;
  }

  void start() noexcept {
    started_ = true;
    // Binds the ring to this thread (SINGLE_ISSUER). Fails only if already enabled. A raw
    // io_uring_register: Debian's liburing 2.3 declares io_uring_enable_rings but does not export it.
    if (disabled_)
      ::syscall(__NR_io_uring_register, ring_.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
    arm(wake_fd_, POLLIN, wake_kind, true);
    arm(timer_fd_, POLLIN, timer_kind, true);
    arm(request_fd_, POLLIN, request_kind, true);
  }

  void take_requests() noexcept {
    {
      std::lock_guard l(mu_);
      taken_.swap(requests_);
      have_requests_.store(false, std::memory_order_relaxed);
      for (const request& r : taken_) {
        if (r.signals) {
          arm(signal_pipe_[0], POLLIN, signal_kind, true);
          continue;
        }
        slot& w = slots_[r.index];
        if (w.gen != r.gen) continue;  // its poll ended and the slot went to another watch
        if (!r.cancel) {
          if (w.st != slot::queued) continue;
          if (w.s) arm_watch(r.index);
          else release_locked(r.index);  // removed before it was ever armed
        } else if (w.st == slot::cancelling) {
          io_uring_sqe* e = sqe();
          io_uring_prep_poll_remove(e, key(r.index, r.gen));
          io_uring_sqe_set_data64(e, ignore_kind);
        }
      }
    }
    taken_.clear();
  }

  void sleep() noexcept {
    for (;;) {
      {
        std::lock_guard l(mu_);
        if (requests_.empty()) {
          sleeping_ = true;  // from here on a request writes request_fd_
          break;
        }
      }
      take_requests();  // announced since the last look: no write to request_fd_ comes for them
    }
    __kernel_timespec period{0, watchdog_period_us * 1000};
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &period, nullptr);
    std::lock_guard l(mu_);
    sleeping_ = false;
  }

  void reap() noexcept {
    bool signals = false;
    unsigned head, n = 0;
    io_uring_cqe* cqe;
    std::unique_lock<std::mutex> l(mu_, std::defer_lock);
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++n;
      const std::uint64_t data = io_uring_cqe_get_data64(cqe);
      const bool more = cqe->flags & IORING_CQE_F_MORE;
      switch (data & kind_mask) {
        case watch_kind:
          if (!l.owns_lock()) l.lock();
          on_watch(data, cqe->res, more);
          break;
        case wake_kind:
          sink_.woken();
          if (!more) arm(wake_fd_, POLLIN, wake_kind, true);
          break;
        case timer_kind:
          sink_.timers_due();
          if (!more) arm(timer_fd_, POLLIN, timer_kind, true);
          break;
        case request_kind: {
          std::uint64_t count;
          [[maybe_unused]] const ssize_t r = ::read(request_fd_, &count, sizeof count);
          if (!more) arm(request_fd_, POLLIN, request_kind, true);
          break;
        }
        case signal_kind:
          signals = true;
          if (!more) arm(signal_pipe_[0], POLLIN, signal_kind, true);
          break;
        default: break;
      }
    }
    io_uring_cq_advance(&ring_, n);
    if (l.owns_lock()) l.unlock();
    // Outside mu_: the fan-out takes the signal hub's lock, which is held while catching signals.
    if (signals) {
      unsigned char buf[64];
      ssize_t got;
      while ((got = ::read(signal_pipe_[0], buf, sizeof buf)) > 0)
        for (ssize_t k = 0; k < got; ++k) fan_out_signal(buf[k]);
    }
  }

  void on_watch(std::uint64_t data, int res, bool more) noexcept {  // under mu_
    slot* w = slot_of(data);
    if (!w) return;
    if (w->s && res > 0) {
      if (const io_events bits = bits_of(res, w->interest)) w->s->ready(bits);
    } else if (w->s && res < 0 && res != -ECANCELED) {
      w->s->ready(readable | writable);  // a bad fd: the handler's next read or write says why
    }
    if (more) return;
    const auto i = static_cast<std::uint32_t>(w - slots_.data());
    if (!w->s || w->st == slot::cancelling) {
      release_locked(i);  // the final completion of a removed watch: the slot may go
    } else if (w->oneshot || res < 0) {
      w->st = slot::idle;
    } else {
      arm_watch(i);  // the kernel ended a multishot poll (a full completion queue): again
    }
  }

  io_uring ring_;
  bool disabled_;  // IORING_SETUP_R_DISABLED: the worker enables it at its first poll
  bool started_ = false;
  poll_sink& sink_;
  int wake_fd_, timer_fd_;
  int request_fd_ = -1;
  int signal_pipe_[2] = {-1, -1};

  std::mutex mu_;
  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_;
  std::vector<request> requests_;
  std::vector<request> taken_;  // the worker's: requests_ swapped out, kept for its capacity
  std::atomic<bool> have_requests_{false};
  bool sleeping_ = false;  // the worker waits in the ring: a request must write request_fd_
};

// Sets up a ring with the best flags the kernel takes; a negative errno when none.
int setup(io_uring& ring, bool& disabled) {
  // Tests force the refusal path with a seccomp filter in a forked child.
  const unsigned tries[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
          IORING_SETUP_R_DISABLED,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      0,
  };
  int err = -EINVAL;
  for (const unsigned flags : tries) {
    io_uring_params p{};
    p.flags = flags | IORING_SETUP_CQSIZE;
    p.cq_entries = cq_entries;
    err = io_uring_queue_init_params(ring_entries, &ring, &p);
    if (err == 0) {
      disabled = flags & IORING_SETUP_R_DISABLED;
      return 0;
    }
    if (err != -EINVAL) return err;  // refused (ENOSYS, EPERM) or out of memory: no use trying on
  }
  return err;
}

}  // namespace

std::unique_ptr<poll_backend> make_uring_backend(int wake_fd, int timer_fd, poll_sink& sink,
                                                 std::string& why) {
  io_uring ring;
  bool disabled = false;
  // Set up on a thread of its own, which ends at once. The kernel lists the thread that creates a
  // ring among the ring's tasks, and when the ring goes it interrupts each of them (task work
  // with TWA_SIGNAL): a blocking call with a time-out (recv under SO_RCVTIMEO) in the thread that
  // made the reactor, often the program's main thread, would fail with EINTR. A thread that has
  // ended is skipped. The polling worker is listed too, and retries its waits on EINTR.
  int err = 0;
  std::thread([&] { err = setup(ring, disabled); }).join();
  if (err != 0) {
    why = std::string("io_uring_queue_init: ") + std::strerror(-err);
    return nullptr;
  }
  return std::make_unique<uring_backend>(wake_fd, timer_fd, sink, ring, disabled);
}

}  // namespace hue::internal

#else  // built without liburing

namespace hue::internal {

std::unique_ptr<poll_backend> make_uring_backend(int, int, poll_sink&, std::string& why) {
  why = "hue was built without liburing";
  return nullptr;
}

}  // namespace hue::internal

#endif
