// helper_pool — a bounded set of threads that make blocking system calls for the libasync layer
// (aiod.h), so that neither the loop thread nor hue's workers ever wait on the disk.
//
// Why a pool of its own: hue has no executor for blocking work (its workers run short handlers and
// must not block; tcpconnect's name lookups use one short-lived thread per lookup). aiod needs
// many small calls and libasync's `nproc` bound on how many run at once, so each aiod owns one
// pool of at most that many threads, started only as requests arrive and kept until the pool is
// destroyed. Jobs run in the order submitted; with one thread they also finish in that order.
//
// Hazards: a job's function object is destroyed on the helper thread, so it must not hold the last
// reference to anything that must die elsewhere (aiod's jobs hold a raw pointer to their request,
// which the completion deletes on the loop or on a color). The destructor runs every job still
// queued (a handle's close may be among them) and then joins the threads; called from one of the
// pool's own threads it detaches that one instead, which the shared state makes safe.
#ifndef HUE_ASYNC_HELPER_POOL_HPP
#define HUE_ASYNC_HELPER_POOL_HPP

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace hue_async_detail {

class helper_pool {
public:
  explicit helper_pool (unsigned max_threads);
  ~helper_pool ();
  helper_pool (const helper_pool &) = delete;
  helper_pool &operator= (const helper_pool &) = delete;

  void submit (std::function<void ()> job);

private:
  struct shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void ()>> jobs;
    unsigned idle = 0;
    bool stopping = false;
  };
  static void work (std::shared_ptr<shared> s);

  const unsigned max_;
  std::shared_ptr<shared> s_;
  std::vector<std::thread> threads_;  // touched under s_->mu
};

}  // namespace hue_async_detail

#endif
