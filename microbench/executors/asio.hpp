// microbench/executors/asio.hpp — the executor on Boost.Asio, used the usual way: an io_context
// run by one thread per worker (pinned as hue pins its workers), a strand per color. Strands are
// made once per run, as a program makes one per connection, and handed out in turn: a round uses
// colors_per_round of them, so each color of a round has one of its own, idle when first posted,
// as a fresh hue color is (new_strand_per_color: make_strand for every color instead). A color on
// a one-thread io_context that is the only color needs no strand: the thread serializes it.
// context_per_worker gives each thread an io_context of its own (Asio's io_context-per-core
// pattern), the only way Asio places work on a thread: color_on(w) is then thread w's context.
// Idle threads block in the kernel (run()); with spin they busy-poll, like hue's idle spin.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <deque>
#include <optional>

#include "executor.hpp"

namespace bench {

class asio_executor {
  using strand_t = boost::asio::strand<boost::asio::io_context::executor_type>;

 public:
  struct color {
    unsigned ctx = 0;
    const strand_t* strand = nullptr;  // null: the context itself (one thread serializes it)
    std::shared_ptr<strand_t> own;     // new_strand_per_color
  };

  asio_executor(const configuration& c, const exec_params& p)
      : workers_(p.workers), spin_(p.spin), make_each_(c.new_strand_per_color) {
    const unsigned contexts = p.context_per_worker ? p.workers : 1;
    for (unsigned i = 0; i < contexts; ++i)
      ctx_.emplace_back(p.context_per_worker ? 1 : int(workers_));
    for (auto& x : ctx_) guards_.emplace_back(boost::asio::make_work_guard(x));
    lone_ = p.colors_per_round == 1 && p.workers / contexts == 1;
    if (!lone_ && !make_each_)
      for (std::size_t i = 0; i < p.colors_per_round; ++i)
        pool_.push_back(boost::asio::make_strand(ctx_[i % contexts]));
  }
  ~asio_executor() {  // threads first: their handlers point into the owner, strands into ctx_
    guards_.clear();
    done_.store(true);
    for (std::thread& t : threads_) t.join();
  }

  color new_color() {
    if (lone_) return {};
    if (make_each_)
      return {0, nullptr, std::make_shared<strand_t>(boost::asio::make_strand(ctx_[0]))};
    return {0, &pool_[next_++ % pool_.size()], {}};
  }
  color color_on(unsigned w) {
    if (ctx_.size() > 1) return {w % static_cast<unsigned>(ctx_.size()), nullptr, {}};
    return new_color();
  }
  template <class F>
  void post(const color& c, F&& f, const hue::handler_info&) {
    if (c.own)
      boost::asio::post(*c.own, std::forward<F>(f));
    else if (c.strand)
      boost::asio::post(*c.strand, std::forward<F>(f));
    else
      boost::asio::post(ctx_[c.ctx], std::forward<F>(f));
  }
  template <class F>
  void post_fork(F&& f) {  // on the io_context: any thread may take it (Asio cannot pin it)
    boost::asio::post(ctx_[0], std::forward<F>(f));
  }
  template <class F>
  void start(F&& f) {
    for (unsigned i = 0; i < workers_; ++i)
      threads_.emplace_back([this, i] {
        index_ = i;
        pin_thread(i);
        auto& ctx = ctx_[i % ctx_.size()];
        while (spin_ && !done_.load(std::memory_order_relaxed)) ctx.poll();
        ctx.run();
      });
    post_fork(std::forward<F>(f));
  }
  static unsigned here() noexcept { return index_; }
  hue::runtime_stats stats() const { return {}; }

 private:
  static inline thread_local unsigned index_ = hue::runtime::no_core;
  const unsigned workers_;
  const bool spin_, make_each_;
  bool lone_ = false;
  std::deque<boost::asio::io_context> ctx_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::vector<strand_t> pool_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> done_{false};
  std::vector<std::thread> threads_;
};

}  // namespace bench
