// lib/core/block_pool.cpp — fixed-size blocks for events and color-queues.
//
// Why not just `new`: the post/run hot path allocates one block per event and often one per
// color-queue, and frees it on another core. Even tcmalloc costs a function call plus size-class
// work there; a per-thread free list is a pointer pop. The design is a two-level magazine
// allocator (as in tcmalloc's own thread caches): each thread keeps up to `cache_max` free blocks;
// a thread that frees more than that (a worker running events posted from elsewhere) hands a
// batch to a shared depot, and a thread that runs dry takes a batch back before asking the heap.
// The depot keeps what a burst needs while work goes on (a fork handler that posts 50,000 events
// before any runs would otherwise send every block through tcmalloc and back, ~20% of the
// unbalanced benchmark's instructions), and is trimmed when a runtime falls idle (its last worker
// goes to sleep): an idle runtime gives memory back, so a million colors posted and run do not pin a million blocks.
//
// Under AddressSanitizer the pool is a pass-through to the heap, so use-after-free of an event
// is reported instead of being hidden by recycling.
#include "block_pool.hpp"

#include <hue/detail/event.hpp>

#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

namespace hue::detail {
namespace {

constexpr std::align_val_t block_alignment{64};  // an event spans exactly two cache lines
constexpr unsigned batch_size = 256;               // blocks moved to or from the depot at once
constexpr unsigned cache_max = 2 * batch_size;     // per-thread free blocks kept
constexpr std::size_t depot_max_batches = 4096;    // 4096 x 256 x 128 B = 128 MiB while busy
constexpr std::size_t depot_idle_batches = 64;     // 64 x 256 x 128 B = 2 MiB kept while idle

struct free_block_node {
  free_block_node* next;
};

void* heap_block() { return ::operator new(block_size, block_alignment); }
void heap_free(void* b) noexcept { ::operator delete(b, block_size, block_alignment); }

#if defined(__SANITIZE_ADDRESS__)
#define HUE_POOL_PASSTHROUGH 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HUE_POOL_PASSTHROUGH 1
#endif
#endif

#ifndef HUE_POOL_PASSTHROUGH

struct batch {
  free_block_node* head;
  unsigned count;
};

// Process-wide and never destroyed: thread caches flush into it from thread_local destructors,
// which may run after static destructors at exit. Blocks parked here stay reachable, so
// LeakSanitizer does not report them.
class depot {
 public:
  static depot& instance() {
    static depot* d = new depot;
    return *d;
  }
  // Releases what an idle process does not need. Frees under the lock: it runs only when a worker
  // is about to sleep, and holding the lock keeps this allocation-free.
  void trim() noexcept {
    std::lock_guard g(mu_);
    while (batches_.size() > depot_idle_batches) {
      release(batches_.back().head);
      batches_.pop_back();
    }
  }
  bool take(batch& out) {
    std::lock_guard g(mu_);
    if (batches_.empty()) return false;
    out = batches_.back();
    batches_.pop_back();
    return true;
  }
  void give(batch b) noexcept {
    {
      std::lock_guard g(mu_);
      if (batches_.size() < depot_max_batches) {
        batches_.push_back(b);  // capacity reserved up front: never throws
        return;
      }
    }
    release(b.head);
  }
  static void release(free_block_node* n) noexcept {
    while (n) {
      free_block_node* next = n->next;
      heap_free(n);
      n = next;
    }
  }

 private:
  depot() { batches_.reserve(depot_max_batches); }
  std::mutex mu_;
  std::vector<batch> batches_;
};

struct thread_cache {
  free_block_node* head = nullptr;
  unsigned count = 0;

  ~thread_cache() {
    // Thread exit: hand everything back so a pool of short-lived posting threads does not leak.
    while (count >= batch_size) depot::instance().give(split());
    depot::release(head);
  }

  // Detaches `batch_size` blocks from the front of the list.
  batch split() noexcept {
    batch b{head, batch_size};
    free_block_node* last = head;
    for (unsigned i = 1; i < batch_size; ++i) last = last->next;
    head = last->next;
    last->next = nullptr;
    count -= batch_size;
    return b;
  }
};

thread_local thread_cache cache;

#endif

}  // namespace

void trim_block_pool() noexcept {
#ifndef HUE_POOL_PASSTHROUGH
  depot::instance().trim();
#endif
}

void* allocate_block() {
#ifdef HUE_POOL_PASSTHROUGH
  return heap_block();
#else
  thread_cache& c = cache;
  if (!c.head) {
    batch b;
    if (!depot::instance().take(b)) return heap_block();
    c.head = b.head;
    c.count = b.count;
  }
  free_block_node* n = c.head;
  c.head = n->next;
  --c.count;
  return n;
#endif
}

void free_block(void* block) noexcept {
#ifdef HUE_POOL_PASSTHROUGH
  heap_free(block);
#else
  thread_cache& c = cache;
  auto* n = static_cast<free_block_node*>(block);
  n->next = c.head;
  c.head = n;
  if (++c.count > cache_max) depot::instance().give(c.split());
#endif
}

}  // namespace hue::detail
