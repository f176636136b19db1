// lib/core/block_pool.cpp — fixed-size blocks for events and color-queues.
//
// Why not just `new`: the post/run hot path allocates one block per event and often one per
// color-queue, and frees it on another core. Even tcmalloc costs a function call plus size-class
// work there; a per-thread cache is an array pop. The design is a two-level magazine allocator
// (as in tcmalloc's own thread caches): each thread keeps up to `cache_max` free blocks; a thread
// that frees more than that (a worker running events posted from elsewhere) hands a batch to a
// shared depot, and a thread that runs dry takes a batch back before asking the heap. The depot
// keeps what a burst needs while work goes on (a fork handler that posts 50,000 events before any
// runs would otherwise send every block through tcmalloc and back, ~20% of the unbalanced
// benchmark's instructions), and is trimmed when a runtime falls idle (its last worker goes to
// sleep): an idle runtime gives memory back, so a million colors posted and run do not pin a
// million blocks.
//
// Free blocks are kept as arrays of pointers, never as a list threaded through the blocks. A list
// makes every allocation a dependent load of the popped block's first line, and that line is
// cold: a fork's blocks come back from the depot after a burst (evicted from L2) or were freed by
// the core that ran them (modified in that core's cache, so the load is a cross-core transfer).
// That load was 16% of the unbalanced benchmark's time, about 260 cycles per post. With arrays an
// allocation touches only the thread's own array, and the block's first write goes through the
// store buffer, overlapping with the next posts; a free does not write the block at all.
//
// Under AddressSanitizer the pool is a pass-through to the heap, so use-after-free of an event
// is reported instead of being hidden by recycling.
#include "block_pool.hpp"

#include <hue/detail/event.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>

namespace hue::detail {
namespace {

constexpr std::align_val_t block_alignment{64};  // an event spans exactly two cache lines
constexpr unsigned batch_size = 256;               // blocks moved to or from the depot at once
constexpr unsigned cache_max = 2 * batch_size;     // per-thread free blocks kept
constexpr std::size_t depot_max_batches = 4096;    // 4096 x 256 x 128 B = 128 MiB while busy
constexpr std::size_t depot_idle_batches = 64;     // 64 x 256 x 128 B = 2 MiB kept while idle

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

// A batch of free blocks, as moved between a thread cache and the depot.
using batch = std::array<void*, batch_size>;

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
    while (count_ > depot_idle_batches) release(batches_[--count_]);
  }
  // Copies a batch into `out` (batch_size pointers); false when the depot is empty.
  bool take(void** out) {
    std::lock_guard g(mu_);
    if (count_ == 0) return false;
    const batch& b = batches_[--count_];
    std::copy(b.begin(), b.end(), out);
    return true;
  }
  void give(const batch& b) noexcept {
    {
      std::lock_guard g(mu_);
      if (count_ < depot_max_batches) {
        batches_[count_++] = b;
        return;
      }
    }
    release(b);
  }
  static void release(const batch& b) noexcept {
    for (void* p : b) heap_free(p);
  }

 private:
  // Room for the most batches the depot ever holds, made once: `give` runs in free_block, which
  // must not throw. Default-initialized, so only the pages that batches reach are ever touched
  // (8 MiB of address space, a few KiB resident in a typical run).
  depot() : batches_(new batch[depot_max_batches]) {}
  std::mutex mu_;
  std::unique_ptr<batch[]> batches_;
  std::size_t count_ = 0;
};

struct thread_cache {
  void* blocks[cache_max];
  unsigned count = 0;

  ~thread_cache() {
    // Thread exit: hand everything back so a pool of short-lived posting threads does not leak.
    while (count >= batch_size) depot::instance().give(split());
    for (unsigned i = 0; i < count; ++i) heap_free(blocks[i]);
  }

  // Detaches the `batch_size` oldest blocks, the coldest: the recently freed ones, still in this
  // core's cache, stay for its next posts.
  batch split() noexcept {
    batch b;
    std::copy_n(blocks, batch_size, b.begin());
    std::copy(blocks + batch_size, blocks + count, blocks);
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
  if (c.count == 0) {
    if (!depot::instance().take(c.blocks)) return heap_block();
    c.count = batch_size;
  }
  // The next allocation's block, fetched for writing now: a post writes its event into a block
  // that is often cold (a burst's blocks come back from the depot), and the core lock's xchg
  // then waits for those stores to drain. One post later the lines are here.
  if (c.count > 1) {
    const char* next = static_cast<const char*>(c.blocks[c.count - 2]);
    __builtin_prefetch(next, 1);
    __builtin_prefetch(next + 64, 1);
  }
  return c.blocks[--c.count];
#endif
}

void free_block(void* block) noexcept {
#ifdef HUE_POOL_PASSTHROUGH
  heap_free(block);
#else
  thread_cache& c = cache;
  if (c.count == cache_max) depot::instance().give(c.split());
  c.blocks[c.count++] = block;
#endif
}

}  // namespace hue::detail
