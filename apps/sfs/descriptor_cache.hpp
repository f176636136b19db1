// apps/sfs/descriptor_cache.hpp — the export's open files: a bounded LRU of descriptors, keyed by
// handle. A handle costs no descriptor while idle; the export asks the cache for one when a
// request needs the file, reopens the file by its path on a miss, and hands the new descriptor
// back here, which closes the least recently used one when it is over its capacity.
//
//   descriptor_cache cache(1000);
//   int fd = cache.find(h);                 // -1: a miss; open the file, then:
//   if (fd < 0) cache.insert(h, fd = ...);  // may close the LRU descriptor
//   int fd2 = cache.open_with_room([&] { return ::openat(...); });  // EMFILE: evict, retry
//
// Capacity: hue-sfsd sizes it from RLIMIT_NOFILE, leaving room for its sockets (server.cpp).
// Descriptors the export holds outside the cache (DIGEST's duplicate, which another color reads
// from) are counted in `outside` and count against the capacity, so the total stays bounded.
//
// Threading: one color only (the server's file-system color), except `outside`, an atomic that a
// digest job decrements on whichever color closes its descriptor. Because every find, insert and
// eviction runs on that one color, a descriptor handed out by find() stays open until the
// handler that asked for it returns: nothing else can close it meanwhile, so no pin count is
// needed. A descriptor read on another color is a dup() of its own (digest_job), never one of
// the cache's.
#pragma once

#include "protocol.hpp"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <list>
#include <memory>
#include <unordered_map>
#include <utility>

namespace hue::sfs {

class descriptor_cache {
 public:
  explicit descriptor_cache(std::size_t capacity);
  ~descriptor_cache();  // closes every descriptor it holds
  descriptor_cache(const descriptor_cache&) = delete;
  descriptor_cache& operator=(const descriptor_cache&) = delete;

  // The handle's descriptor, marked most recently used (a hit), or -1 (a miss).
  int find(const file_handle& h);
  // Takes `fd` over for `h` (which must not be cached), then closes least recently used ones
  // (never `h`'s) while the cache and the outside descriptors exceed the capacity.
  void insert(const file_handle& h, int fd);
  // Closes `h`'s descriptor if it holds one.
  void erase(const file_handle& h);
  // Closes the least recently used descriptor other than `spare`'s; false when there is none.
  bool evict_one(const file_handle* spare = nullptr);

  // Calls `open` (anything returning a descriptor or -1 with errno); while it fails with EMFILE or
  // ENFILE and the cache holds a descriptor, closes the least recently used one and calls again.
  // So a request never fails for lack of a descriptor the cache could have freed. `spare`: the
  // handle whose descriptor `open` uses (a directory opened from, a file duplicated), never
  // closed here: its number could be reused at once by a socket another color accepts.
  template <class Open>
  int open_with_room(Open&& open, const file_handle* spare = nullptr) {
    for (;;) {
      const int fd = open();
      if (fd >= 0 || (errno != EMFILE && errno != ENFILE)) return fd;
      if (!evict_one(spare)) {
        errno = EMFILE;
        return -1;
      }
    }
  }

  bool contains(const file_handle& h) const { return index_.count(h) != 0; }  // no hit or miss counted
  std::size_t size() const noexcept { return index_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  // Descriptors held outside the cache (shared with their holders, who may outlive the cache).
  const std::shared_ptr<std::atomic<std::size_t>>& outside() const noexcept { return outside_; }

  // Read by other threads (statistics): relaxed atomics.
  std::atomic<std::uint64_t> hits{0}, misses{0}, evictions{0};

 private:
  struct handle_hash {
    std::size_t operator()(const file_handle& h) const noexcept;
  };
  using lru_list = std::list<std::pair<file_handle, int>>;  // front: most recently used
  std::size_t capacity_;
  lru_list lru_;
  std::unordered_map<file_handle, lru_list::iterator, handle_hash> index_;
  std::shared_ptr<std::atomic<std::size_t>> outside_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace hue::sfs
