// tools/load/counters.hpp — what a load run measures (load_client.hpp): counters kept per thread
// without locks and merged once at the end, and their latency histogram, log-linear as
// HdrHistogram lays it out: exact below 128 ns, then every power-of-two range split into 64
// buckets, so any recorded value is known to within 1/64 (1.6%) of itself, from nanoseconds to
// hours, in ~30 KB.
//
//   latency_histogram h;
//   h.record(ns);                 // hot path: a bit_width, a shift, an increment
//   total.merge(h);
//   total.percentile(0.99);       // nanoseconds, the bucket's midpoint (clamped to the max seen)
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <string>

namespace load {

class latency_histogram {
 public:
  void record(std::uint64_t ns) {
    ++counts_[index(ns)];
    ++count_;
    sum_ += ns;
    max_ = std::max(max_, ns);
  }

  void merge(const latency_histogram& o) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
  }

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

  // The value below which a fraction q (0..1] of the recorded values fall: the bucket holding the
  // ceil(q * count)-th smallest value, reported as its midpoint. 0 when nothing was recorded.
  std::uint64_t percentile(double q) const {
    if (count_ == 0) return 0;
    std::uint64_t rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.999999);
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(midpoint(i), max_);
    }
    return max_;
  }

 private:
  static constexpr unsigned sub_bits = 6;  // 64 buckets per power of two: 1.6% resolution
  static constexpr std::uint64_t sub = 1u << sub_bits;
  // Values below 2*sub land in their own bucket; above, shift = bit_width - (sub_bits + 1) keeps
  // the top 7 bits (64..127), and each shift adds one row of 64 buckets: 58 rows cover 2^64.
  static constexpr std::size_t buckets = (64 - sub_bits) * sub + sub;

  static std::size_t index(std::uint64_t v) {
    if (v < 2 * sub) return static_cast<std::size_t>(v);
    const unsigned shift = static_cast<unsigned>(std::bit_width(v)) - (sub_bits + 1);
    return static_cast<std::size_t>((shift + 1) * sub + ((v >> shift) - sub));
  }
  static std::uint64_t midpoint(std::size_t i) {
    if (i < 2 * sub) return i;
    const unsigned shift = static_cast<unsigned>(i / sub) - 1;
    const std::uint64_t low = ((i % sub) + sub) << shift;
    return low + ((std::uint64_t{1} << shift) >> 1);
  }

  std::array<std::uint64_t, buckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

// What the threads measured. Errors count in the window only; earlier ones in warmup_errors.
struct counters {
  std::uint64_t ok = 0, bytes = 0, connections = 0;  // 2xx answers, their bytes, connects
  std::uint64_t connect_errors = 0, resets = 0, timeouts = 0, non_2xx = 0, bad_responses = 0;
  std::uint64_t server_closes = 0;  // the server closed, losing no request: not an error
  std::uint64_t warmup_errors = 0;
  std::uint64_t unanswered = 0;     // requests in flight when the run ended (a stall shows here)
  std::string first_error;          // the earliest error, for the report
  std::uint64_t first_error_at = UINT64_MAX;
  latency_histogram latency;        // queued request -> last byte of its 2xx answer

  std::uint64_t errors() const {
    return connect_errors + resets + timeouts + non_2xx + bad_responses;
  }
  void merge(const counters& o) {
    ok += o.ok, bytes += o.bytes, connections += o.connections;
    connect_errors += o.connect_errors, resets += o.resets, timeouts += o.timeouts;
    non_2xx += o.non_2xx, bad_responses += o.bad_responses, server_closes += o.server_closes;
    warmup_errors += o.warmup_errors, unanswered += o.unanswered;
    if (o.first_error_at < first_error_at) first_error = o.first_error;
    first_error_at = std::min(first_error_at, o.first_error_at);
    latency.merge(o.latency);
  }
};

}  // namespace load
