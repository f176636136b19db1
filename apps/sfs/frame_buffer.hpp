// apps/sfs/frame_buffer.hpp — the buffer one reply travels in from the file to the socket: the
// server reads a READ's data straight into it, seals it where it lies and writes it as it is.
//
// A byte vector whose growth leaves the new bytes unset: std::vector's resize() to make room for
// the 64 KiB a pread() is about to fill would zero them first, a memset as long as the data on
// every READ. (A std::vector with an allocator whose construct() does nothing was tried: GCC 12
// then relocates byte by byte and warns of overflows on paths reserve() makes dead.)
// Hazard: bytes past what was written hold whatever the allocator left there (earlier replies,
// so earlier plaintext of this or another client): never send or seal more than was written.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

namespace hue::sfs {

class frame_buffer {
 public:
  frame_buffer() = default;
  explicit frame_buffer(std::span<const std::uint8_t> bytes) { append(bytes); }
  frame_buffer(frame_buffer&& o) noexcept
      : data_(std::move(o.data_)), size_(std::exchange(o.size_, 0)), capacity_(std::exchange(o.capacity_, 0)) {}
  frame_buffer& operator=(frame_buffer&& o) noexcept {
    data_ = std::move(o.data_);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    return *this;
  }
  frame_buffer(const frame_buffer&) = delete;  // 64 KiB: a copy is never what was meant
  frame_buffer& operator=(const frame_buffer&) = delete;

  std::uint8_t* data() noexcept { return data_.get(); }
  const std::uint8_t* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  std::uint8_t& operator[](std::size_t i) noexcept { return data_[i]; }
  std::uint8_t operator[](std::size_t i) const noexcept { return data_[i]; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data_.get(), size_}; }

  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    std::unique_ptr<std::uint8_t[]> bigger(new std::uint8_t[n]);  // default-initialised: unset
    if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = n;
  }
  // Grows without writing the new bytes (see the hazard above), or shrinks.
  void resize(std::size_t n) {
    if (n > capacity_) reserve(std::max(n, 2 * capacity_));
    size_ = n;
  }
  void append(std::span<const std::uint8_t> bytes) {
    const std::size_t at = size_;
    resize(size_ + bytes.size());
    if (!bytes.empty()) std::memcpy(data_.get() + at, bytes.data(), bytes.size());
  }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace hue::sfs
