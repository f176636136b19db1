// helper_pool (helper_pool.hpp): threads started on demand up to the bound, FIFO jobs.
#include "helper_pool.hpp"

namespace hue_async_detail {

helper_pool::helper_pool (unsigned max_threads)
  : max_ (max_threads ? max_threads : 1), s_ (std::make_shared<shared> ())
{
}

helper_pool::~helper_pool ()
{
  std::vector<std::thread> ts;
  {
    std::lock_guard<std::mutex> g (s_->mu);
    s_->stopping = true;
    ts.swap (threads_);
  }
  s_->cv.notify_all ();
  for (std::thread &t : ts)
    if (t.get_id () == std::this_thread::get_id ())
      t.detach ();
    else
      t.join ();
}

void
helper_pool::submit (std::function<void ()> job)
{
  {
    std::lock_guard<std::mutex> g (s_->mu);
    s_->jobs.push_back (std::move (job));
    // A new thread only when none is waiting for work: a burst does not start more threads than
    // it keeps busy, and never more than the bound.
    if (s_->idle < s_->jobs.size () && threads_.size () < max_)
      threads_.emplace_back (work, s_);
  }
  s_->cv.notify_one ();
}

void
helper_pool::work (std::shared_ptr<shared> s)
{
  std::unique_lock<std::mutex> g (s->mu);
  for (;;) {
    if (s->jobs.empty ()) {
      if (s->stopping)
        return;
      ++s->idle;
      s->cv.wait (g, [&] { return !s->jobs.empty () || s->stopping; });
      --s->idle;
      continue;
    }
    std::function<void ()> job = std::move (s->jobs.front ());
    s->jobs.pop_front ();
    g.unlock ();
    job ();
    job = nullptr;
    g.lock ();
  }
}

}  // namespace hue_async_detail
