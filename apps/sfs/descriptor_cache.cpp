// apps/sfs/descriptor_cache.cpp — the bounded LRU of open descriptors (descriptor_cache.hpp).
#include "descriptor_cache.hpp"

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <cstring>

namespace hue::sfs {

std::size_t descriptor_cache::handle_hash::operator()(const file_handle& h) const noexcept {
  std::size_t v;  // handles are uniformly random: any 8 of their bytes are a good hash
  std::memcpy(&v, h.data(), sizeof v);
  return v;
}

descriptor_cache::descriptor_cache(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

descriptor_cache::~descriptor_cache() {
  for (auto& [h, fd] : lru_) ::close(fd);
}

int descriptor_cache::find(const file_handle& h) {
  auto it = index_.find(h);
  if (it == index_.end()) {
    misses.fetch_add(1, std::memory_order_relaxed);
    return -1;
  }
  hits.fetch_add(1, std::memory_order_relaxed);
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void descriptor_cache::insert(const file_handle& h, int fd) {
  lru_.emplace_front(h, fd);
  index_[h] = lru_.begin();
  // `h` is at the front, so evict_one() reaches it only once it is the last one left.
  while (index_.size() > 1 && index_.size() + outside_->load(std::memory_order_relaxed) > capacity_)
    evict_one();
}

void descriptor_cache::erase(const file_handle& h) {
  auto it = index_.find(h);
  if (it == index_.end()) return;
  ::close(it->second->second);
  lru_.erase(it->second);
  index_.erase(it);
}

bool descriptor_cache::evict_one(const file_handle* spare) {
  if (lru_.empty()) return false;
  auto victim = std::prev(lru_.end());
  if (spare && victim->first == *spare) {
    if (victim == lru_.begin()) return false;
    --victim;
  }
  ::close(victim->second);
  index_.erase(victim->first);
  lru_.erase(victim);
  evictions.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace hue::sfs
