// lib/trace/trace.cpp — the rings, post ids, and the export of a window to Chrome trace-event JSON.
//
// The export pairs each core's records back into spans (a handler run, a steal, a park, a sleep, a
// poll) and links them with flows: a post to the run it caused when the two happened on different
// cores, and a successful steal to the first run of each color it took. Flow ids are renumbered
// densely from 1, so they stay exact as JSON numbers (doubles) in the viewers.
//
// Written by hand rather than through a JSON library: the output is a flat list of small objects
// of a fixed shape, and the runtime library then needs no new dependency.
#include "trace.hpp"

#include <hue/handler_info.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace hue::trace {

ring::ring(std::size_t capacity, unsigned core)
    : records_(new record[capacity]), capacity_(capacity), core_(static_cast<std::uint16_t>(core)) {
  // Touched now, by the thread opening the window: on a VM, the first write to a fresh page can
  // cost tens of microseconds, which would otherwise land on the workers' hot path (measured: a
  // 40 ns event took 700 ns while its ring was being faulted in).
  std::fill_n(reinterpret_cast<unsigned char*>(records_.get()), capacity * sizeof(record), 0);
}

session::session(std::string f, unsigned cores, std::size_t per_core, std::uint64_t tsc,
                 std::uint64_t ns)
    : file(std::move(f)), start_tsc(tsc), start_ns(ns) {
  rings.reserve(cores);
  for (unsigned i = 0; i < cores; ++i) rings.push_back(std::make_unique<ring>(per_core, i));
}

std::uint64_t session::dropped() const noexcept {
  std::uint64_t n = 0;
  for (const auto& r : rings) n += r->dropped();
  return n;
}

std::size_t session::records() const noexcept {
  std::size_t n = 0;
  for (const auto& r : rings) n += r->size();
  return n;
}

std::uint64_t next_post_id() noexcept {
  static std::atomic<std::uint64_t> posters{0};
  // initial-exec, as current_worker (lib/core/runtime_impl.hpp): no call on each post.
  __attribute__((tls_model("initial-exec"))) thread_local std::uint64_t poster = 0, sequence = 0;
  if (poster == 0) poster = (posters.fetch_add(1, std::memory_order_relaxed) & 0xffff) + 1;
  return poster << 32 | (++sequence & 0xffffffff);
}

namespace {

struct run {
  unsigned core;
  std::uint64_t begin, end, color, id;
  const handler_info* info;
};
struct steal {
  unsigned core;
  std::uint64_t begin, end;
  std::uint32_t victim, colors, events;
  bool ok;
  std::vector<std::uint64_t> taken;  // colors, in the order they were taken
};
struct span {  // park, sleep, poll
  unsigned core;
  std::uint64_t begin, end;
  const char* name;
  std::uint32_t n;
  bool flag;
};
struct mark {  // a delivery or a rescue
  unsigned core;
  std::uint64_t tsc, color;
  const handler_info* info;  // null for a rescue
};
struct post {
  unsigned core;
  std::uint64_t tsc;
};

class writer {
 public:
  explicit writer(const session& s) : s_(s), f_(std::fopen(s.file.c_str(), "w")) {
    if (!f_) throw std::runtime_error("hue: cannot write the trace file '" + s.file + "'");
    const std::uint64_t dt = s.stop_tsc > s.start_tsc ? s.stop_tsc - s.start_tsc : 1;
    const std::uint64_t dn = s.stop_ns > s.start_ns ? s.stop_ns - s.start_ns : 1;
    ns_per_tick_ = static_cast<long double>(dn) / static_cast<long double>(dt);
  }
  ~writer() {
    if (f_) std::fclose(f_);
  }

  // Nanoseconds since the window started: one monotonic mapping for every timestamp, so spans that
  // do not overlap in TSC do not overlap in the file either.
  std::uint64_t ns(std::uint64_t tsc) const {
    if (tsc <= s_.start_tsc) return 0;
    return static_cast<std::uint64_t>(static_cast<long double>(tsc - s_.start_tsc) * ns_per_tick_);
  }
  double tsc_per_us() const { return 1000.0 / static_cast<double>(ns_per_tick_); }

  void raw(const char* text) { std::fputs(text, f_); }
  void event_start() {
    std::fputs(first_ ? "\n" : ",\n", f_);
    first_ = false;
  }
  void time(const char* key, std::uint64_t ns) {
    std::fprintf(f_, "\"%s\":%" PRIu64 ".%03" PRIu64, key, ns / 1000, ns % 1000);
  }
  void string(const char* text) {
    std::fputc('"', f_);
    for (const char* p = text ? text : "?"; *p; ++p) {
      const unsigned char c = static_cast<unsigned char>(*p);
      if (c == '"' || c == '\\') std::fprintf(f_, "\\%c", c);
      else if (c < 0x20) std::fprintf(f_, "\\u%04x", c);
      else std::fputc(c, f_);
    }
    std::fputc('"', f_);
  }
  // A complete slice ("X"), its args left open for the caller to close with "}}".
  void slice(const char* name, const char* cat, unsigned core, std::uint64_t b, std::uint64_t e) {
    event_start();
    std::fputs("{\"name\":", f_);
    string(name);
    std::fprintf(f_, ",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,", cat, core);
    const std::uint64_t nb = ns(b), ne = ns(e);
    time("ts", nb);
    std::fputc(',', f_);
    time("dur", ne - nb);
    std::fputs(",\"args\":{", f_);
  }
  void flow(const char* ph, const char* cat, std::uint64_t id, unsigned core, std::uint64_t tsc) {
    event_start();
    std::fprintf(f_, "{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"%s\",\"id\":%" PRIu64
                     ",\"pid\":1,\"tid\":%u,",
                 cat, cat, ph, id, core);
    time("ts", ns(tsc));
    std::fputs(ph[0] == 'f' ? ",\"bp\":\"e\"}" : "}", f_);
  }
  std::FILE* file() { return f_; }
  bool close() {
    const bool ok = std::ferror(f_) == 0;
    return std::fclose(std::exchange(f_, nullptr)) == 0 && ok;
  }

 private:
  const session& s_;
  std::FILE* f_;
  long double ns_per_tick_ = 1;
  bool first_ = true;
};

// The runs of one batch as they are read: only the first has a start; the batch's end (or the
// next batch's start, when a full ring lost the end) closes them all. Each gets an equal share
// of the batch's time, and each post made inside a run is moved into that run's share, so a
// flow starts from the slice that made it (trace.hpp says what this loses).
class batch_of_runs {
 public:
  bool open() const noexcept { return !runs_.empty(); }
  void begin(const run& first) {
    runs_.clear();
    posts_.clear();
    runs_.push_back(first);
  }
  void add(const run& next) { runs_.push_back(next); }
  void posted(std::uint64_t id) { posts_.push_back({runs_.size() - 1, id}); }
  void close(std::uint64_t end, std::vector<run>& out,
             std::unordered_map<std::uint64_t, post>& posts) {
    const std::uint64_t start = runs_.front().begin, n = runs_.size();
    const std::uint64_t length = end > start ? end - start : 0;
    for (std::uint64_t k = 0; k < n; ++k) {
      runs_[k].begin = start + length * k / n;
      runs_[k].end = start + length * (k + 1) / n;
      out.push_back(runs_[k]);
    }
    for (const auto& [k, id] : posts_) {
      const auto p = posts.find(id);
      if (p != posts.end())
        p->second.tsc = std::clamp(p->second.tsc, runs_[k].begin, runs_[k].end);
    }
    runs_.clear();
    posts_.clear();
  }

 private:
  std::vector<run> runs_;
  std::vector<std::pair<std::size_t, std::uint64_t>> posts_;  // run index in the batch, post id
};

// One core's records back into spans. Unmatched halves (a window that starts or stops inside a
// span, or a ring that filled) are dropped: a span is exported only with both ends.
void pair_records(const ring& r, std::vector<run>& runs, std::vector<steal>& steals,
                  std::vector<span>& spans, std::vector<mark>& marks,
                  std::unordered_map<std::uint64_t, post>& posts) {
  const unsigned core = r.core();
  bool in_steal = false, in_park = false, in_sleep = false;
  batch_of_runs batch;
  steal st{};
  std::uint64_t park_begin = 0, sleep_begin = 0;
  const std::size_t n = r.size();
  for (std::size_t i = 0; i < n; ++i) {
    const record& x = r[i];
    switch (x.k) {
      case kind::run_begin: {
        const run next{core, x.tsc, 0, x.color, std::uint64_t{x.x} << 32 | x.b,
                       reinterpret_cast<const handler_info*>(x.a)};
        if (x.flags & interpolated) {
          if (batch.open()) batch.add(next);  // else the window opened inside this batch: dropped
          break;
        }
        if (batch.open()) batch.close(x.tsc, runs, posts);
        batch.begin(next);
        break;
      }
      case kind::run_end:
        if (batch.open()) batch.close(x.tsc, runs, posts);
        break;
      case kind::post:
        posts.emplace(x.a, post{core, x.tsc});
        if (batch.open()) batch.posted(x.a);
        break;
      case kind::steal_begin:
        st = {core, x.tsc, 0, 0, 0, 0, false, {}};
        in_steal = true;
        break;
      case kind::steal_color:
        if (in_steal) st.taken.push_back(x.color);
        break;
      case kind::steal_end:
        if (in_steal) {
          st.end = x.tsc;
          st.victim = x.b;
          st.colors = static_cast<std::uint32_t>(x.a);
          st.events = static_cast<std::uint32_t>(x.a >> 32);
          st.ok = x.flags & 1;
          steals.push_back(std::move(st));
        }
        in_steal = false;
        break;
      case kind::park_begin:
        park_begin = x.tsc;
        in_park = true;
        break;
      case kind::park_end:
        if (in_park) spans.push_back({core, park_begin, x.tsc, "park", 0, false});
        in_park = false;
        break;
      case kind::sleep:
        sleep_begin = x.tsc;
        in_sleep = true;
        break;
      case kind::wake:
        if (in_sleep) spans.push_back({core, sleep_begin, x.tsc, "sleep", 0, (x.flags & 1) != 0});
        if (x.flags & 1) marks.push_back({core, x.tsc, 0, nullptr});
        in_sleep = false;
        break;
      case kind::poll:
        spans.push_back({core, x.a, x.tsc, "poll", x.b, false});
        break;
      case kind::delivery:
        marks.push_back({core, x.tsc, x.color, reinterpret_cast<const handler_info*>(x.a)});
        break;
    }
  }
}

}  // namespace

void write_chrome_json(const session& s) {
  std::vector<run> runs;
  std::vector<steal> steals;
  std::vector<span> spans;
  std::vector<mark> marks;
  std::unordered_map<std::uint64_t, post> posts;
  for (const auto& r : s.rings) pair_records(*r, runs, steals, spans, marks, posts);

  writer w(s);
  std::fprintf(w.file(), "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"clock\":\"TSC\","
                         "\"tsc_per_us\":%.3f,\"workers\":%zu,\"records\":%zu,\"dropped\":%" PRIu64
                         "},\n\"traceEvents\":[",
               w.tsc_per_us(), s.rings.size(), s.records(), s.dropped());
  w.event_start();
  w.raw("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"hue\"}}");
  for (const auto& r : s.rings) {
    w.event_start();
    std::fprintf(w.file(),
                 "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"args\":{\"name\":"
                 "\"core %u\",\"dropped\":%" PRIu64 "}}",
                 r->core(), r->core(), r->dropped());
  }

  for (const run& x : runs) {
    w.slice(x.info ? x.info->name : "?", "handler", x.core, x.begin, x.end);
    std::fprintf(w.file(), "\"color\":\"%" PRIu64 "\",\"poster\":%" PRIu64 ",\"seq\":%" PRIu64
                           ",\"cycles\":%" PRIu64 "}}",
                 x.color, x.id >> 32, x.id & 0xffffffff, x.end - x.begin);
  }
  for (const steal& x : steals) {
    w.slice(x.ok ? "steal" : "steal attempt", "steal", x.core, x.begin, x.end);
    if (x.ok)
      std::fprintf(w.file(), "\"victim\":%u,\"colors\":%u,\"events\":%u,\"cycles\":%" PRIu64 "}}",
                   x.victim, x.colors, x.events, x.end - x.begin);
    else
      std::fprintf(w.file(), "\"cycles\":%" PRIu64 "}}", x.end - x.begin);
  }
  for (const span& x : spans) {
    w.slice(x.name, x.name[0] == 'p' && x.name[1] == 'o' ? "reactor" : "idle", x.core, x.begin,
            x.end);
    if (x.name[0] == 'p' && x.name[1] == 'o') std::fprintf(w.file(), "\"ready\":%u}}", x.n);
    else if (x.name[0] == 's') std::fprintf(w.file(), "\"rescue\":%s}}", x.flag ? "true" : "false");
    else w.raw("}}");
  }
  for (const mark& x : marks) {
    w.event_start();
    std::fputs("{\"name\":", w.file());
    w.string(x.info ? x.info->name : "watchdog rescue");
    std::fprintf(w.file(), ",\"cat\":\"%s\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%u,",
                 x.info ? "delivery" : "rescue", x.core);
    w.time("ts", w.ns(x.tsc));
    if (x.info) std::fprintf(w.file(), ",\"args\":{\"color\":\"%" PRIu64 "\"}}", x.color);
    else w.raw("}");
  }

  // Flows. Posts: from the post, inside the poster's slice, to the run on another core.
  std::uint64_t next_id = 1;
  for (const run& x : runs) {
    if (!x.id) continue;
    const auto p = posts.find(x.id);
    if (p == posts.end() || p->second.core == x.core || p->second.tsc > x.begin) continue;
    w.flow("s", "post", next_id, p->second.core, p->second.tsc);
    w.flow("f", "post", next_id, x.core, x.begin);
    ++next_id;
  }
  // Steals: to the first run of each color taken that began after the steal did.
  std::unordered_map<std::uint64_t, std::vector<const run*>> by_color;
  for (const run& x : runs) by_color[x.color].push_back(&x);
  for (auto& [color, list] : by_color)
    std::sort(list.begin(), list.end(), [](const run* a, const run* b) { return a->begin < b->begin; });
  for (const steal& x : steals) {
    if (!x.ok) continue;
    for (std::uint64_t color : x.taken) {
      const auto it = by_color.find(color);
      if (it == by_color.end()) continue;
      const auto first = std::lower_bound(it->second.begin(), it->second.end(), x.begin,
                                          [](const run* r, std::uint64_t t) { return r->begin < t; });
      if (first == it->second.end()) continue;
      w.flow("s", "steal", next_id, x.core, x.begin);
      w.flow("f", "steal", next_id, (*first)->core, (*first)->begin);
      ++next_id;
    }
  }
  w.raw("\n]}\n");
  if (!w.close()) throw std::runtime_error("hue: error writing the trace file '" + s.file + "'");
}

}  // namespace hue::trace
