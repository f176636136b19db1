// lib/trace/trace.hpp — what the runtime records when a trace is on: fixed-size records in one
// ring per core, and a capture window (a session) that owns the rings.
//
// The lowest layer of lib/: it includes nothing of the runtime, so core, steal and reactor can all
// write into it. Callers pass the timestamp (lib/core/cycles.hpp's TSC), which keeps the clock in
// one place and lets a caller reuse a reading it took anyway.
//
// Single writer: a core's ring is written only by that core's worker thread (its handlers, its
// steals, its park, the reactor polling on it). No lock and no read-modify-write: the writer stores
// the record, then publishes `head` with a release store; the exporter reads `head` with an acquire
// and only the records below it, which no writer touches again.
//
// Ring full: the writer stops and counts drops, it never overwrites. Overwriting the oldest would
// (1) race with an exporter reading those records while workers go on after a window stops, and
// (2) cut the front of the window, leaving run ends without begins and steals without their flows;
// a full ring keeps an exact, consistent prefix of the window and says how much it lost.
//
// One ring per core, sized for the window, written in place: no smaller ring drained by another
// thread. On a one-color loop of empty handlers, a ring that stays in L1 or L2 cost no less than
// one of 128 MiB (docs/design.md, Tracing): a record's cost is its stores, not where they land.
//
// Off: a core's `trace` pointer (lib/core/core.hpp) is null and every recording site is one branch
// on it, taken the same way every time.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace hue::trace {

enum class kind : std::uint8_t {
  run_begin,    // color; a = handler_info*; b, x = the event's sequence and poster (0: untraced post);
                // flags `interpolated`: not the batch's first run, tsc not read
  run_end,      // the last run of a batch ends (a run otherwise ends where its core's next begins)
  post,         // to another core's color; color; a = post id; b = that core
  steal_begin,  // a thief's attempt starts
  steal_end,    // b = victim (or ~0u when none gave anything); a = events << 32 | colors; flags 1: success
  steal_color,  // inside a steal: color taken (migrated or lent); b = its events; flags 1: lent
  park_begin,   // the worker has nothing to run or steal
  park_end,
  sleep,        // going to sleep in the kernel (epoll_wait when a reactor polls here)
  wake,         // back from the kernel; flags 1: the watchdog ended the sleep with work waiting (a rescue)
  poll,         // a reactor poll that found I/O ready; b = registrations made ready; a = begin TSC
  delivery,     // a registration made ready in that poll; color; a = handler_info* of the delivery
};

// A batch's runs after its first carry no timestamp: reading the TSC costs about as much as a
// small handler on these VMs. The exporter gives each run of a batch an equal share of the
// batch's time, between its first run's start and the batch-end record, both read exactly. What
// is lost: the length of each run inside a batch (per-handler times in a trace are batch
// averages; the handlers' measured costs, from the profiler's own sampled reads, are not), and a
// post's exact time when it falls outside its run's share (it is moved into the share, so the
// flow still starts from the run that made it). Kept exactly: batch boundaries, so no two runs of
// a color ever appear to overlap, and every order (runs on a core, a color's runs, post ids).
inline constexpr std::uint8_t interpolated = 2;

// 32 bytes: two records per cache line. The core is the ring's. Written by ring::put as four
// 64-bit words (tsc, color, a, then b | k << 32 | flags << 40 | x << 48: the layout of the last
// four fields on a little-endian machine), read back field by field.
struct alignas(32) record {
  std::uint64_t tsc;
  std::uint64_t color;
  std::uint64_t a;
  std::uint32_t b;
  kind k;
  std::uint8_t flags;
  std::uint16_t x;
};
static_assert(sizeof(record) == 32);
static_assert(offsetof(record, b) == 24 && offsetof(record, k) == 28 &&
              offsetof(record, flags) == 29 && offsetof(record, x) == 30);
static_assert(std::endian::native == std::endian::little, "ring::put packs the last word");

class ring {
 public:
  ring(std::size_t capacity, unsigned core);
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;

  void put(kind k, std::uint64_t tsc, std::uint64_t color = 0, std::uint64_t a = 0,
           std::uint32_t b = 0, std::uint8_t flags = 0, std::uint16_t x = 0) noexcept {
    const std::size_t h = head_.load(std::memory_order_relaxed);
    if (h == capacity_) [[unlikely]] {
      dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return;
    }
    store(records_.get() + h, tsc, color, a,
          std::uint64_t{b} | std::uint64_t{static_cast<std::uint8_t>(k)} << 32 |
              std::uint64_t{flags} << 40 | std::uint64_t{x} << 48);
    head_.store(h + 1, std::memory_order_release);
  }

  // For the exporter, any thread: the records published so far (stable: never rewritten).
  std::size_t size() const noexcept { return head_.load(std::memory_order_acquire); }
  const record& operator[](std::size_t i) const noexcept { return records_[i]; }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  unsigned core() const noexcept { return core_; }

 private:
  // The record as two 16-byte stores of words built in registers. Field by field, the compiler
  // wrote the last word as four narrow stores and spilled the first two through the stack: eight
  // stores for one record, on a path (a worker's run loop) that is bound by its stores. In a
  // one-color loop of empty handlers those stores were most of what a record cost; where the
  // record lands (a ring kept in L1 or L2, or one of hundreds of MiB) made no difference there.
  static void store(record* r, std::uint64_t w0, std::uint64_t w1, std::uint64_t w2,
                    std::uint64_t w3) noexcept {
#if defined(__SSE2__)
    _mm_store_si128(reinterpret_cast<__m128i*>(r), _mm_set_epi64x(static_cast<long long>(w1),
                                                                  static_cast<long long>(w0)));
    _mm_store_si128(reinterpret_cast<__m128i*>(r) + 1,
                    _mm_set_epi64x(static_cast<long long>(w3), static_cast<long long>(w2)));
#else
    const std::uint64_t w[4] = {w0, w1, w2, w3};
    std::memcpy(static_cast<void*>(r), w, sizeof w);
#endif
  }

  // The writer's fields on a line of their own: the cores' rings are allocated one after the
  // other (40 bytes each before), and every record stores `head_`; on a shared line, two workers
  // would pass it back and forth at each record.
  alignas(64) std::unique_ptr<record[]> records_;
  const std::size_t capacity_;
  const std::uint16_t core_;
  std::atomic<std::size_t> head_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

// One capture window: a ring per core and the two clock readings that convert TSC to time.
struct session {
  session(std::string file, unsigned cores, std::size_t records_per_core, std::uint64_t tsc,
          std::uint64_t ns);

  std::string file;
  std::vector<std::unique_ptr<ring>> rings;
  std::uint64_t start_tsc, start_ns;   // TSC and steady-clock ns read together at start
  std::uint64_t stop_tsc = 0, stop_ns = 0;

  std::uint64_t dropped() const noexcept;
  std::size_t records() const noexcept;
};

// Post ids: `poster << 32 | sequence`, per posting thread (16 bits of poster), never 0. The exported
// slice's args carry both, so a checker can verify that one poster's events of a color ran in
// posting order.
std::uint64_t next_post_id() noexcept;

// Writes `s` (stopped: stop_tsc and stop_ns set) as Chrome trace-event JSON, which
// ui.perfetto.dev and chrome://tracing open. Throws std::runtime_error when the file cannot be
// written. Reads handler names through the recorded handler_info pointers: their static storage
// (hue/handler_info.hpp) keeps them valid.
void write_chrome_json(const session& s);

}  // namespace hue::trace
