// Tracing: a stress run with a trace window open, its Chrome trace-event JSON loaded back and
// checked — a track per core, a slice per handler run (exactly as many as ran), flows whose two
// ends match by id and land on real slices — and the color guarantees re-checked from the trace
// alone: no two slices of one color overlap in time, and one poster's events of a color ran in the
// order of their sequence numbers.
//
// The JSON is read with nlohmann::json (Debian's nlohmann-json3-dev), in the test itself rather
// than by a Python script: the checks then run in the same process under ThreadSanitizer, against
// the runtime's own statistics for the same run.
#include "support.hpp"

#include <hue/hue.hpp>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using hue_test::busy;
using json = nlohmann::json;

std::string temp_file(const char* tag) {
  return testing::TempDir() + "hue_trace_" + tag + "_" + std::to_string(::getpid()) + ".json";
}

json load(const std::string& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << file;
  return json::parse(in);  // throws on malformed JSON: the test fails with the parser's message
}

std::int64_t ns(const json& v) { return std::llround(v.get<double>() * 1000.0); }

struct slice {
  unsigned tid;
  std::int64_t begin, end;
  std::string color;
  std::uint64_t poster, seq;
};

static constexpr hue::handler_info producer_info{.name = "Produce"};
static constexpr hue::handler_info followup_info{.name = "FollowUp"};

struct checked {
  std::size_t handler_slices = 0, steal_slices = 0, attempt_slices = 0;
  std::size_t post_flows = 0, steal_flows = 0;
  std::size_t unsequenced = 0;  // runs of events posted before the window opened
};

// Everything the trace must satisfy whatever the workload; returns counts for the caller's checks.
checked check_trace(const json& doc, unsigned workers) {
  checked out;
  EXPECT_TRUE(doc.contains("traceEvents") && doc["traceEvents"].is_array());
  EXPECT_GT(doc["otherData"]["tsc_per_us"].get<double>(), 0.0);
  std::set<unsigned> tracks;
  std::vector<slice> runs;
  std::map<unsigned, std::vector<std::pair<std::int64_t, std::int64_t>>> slices_by_tid;
  std::map<std::pair<std::string, std::uint64_t>, std::vector<const json*>> flows;
  for (const json& e : doc["traceEvents"]) {
    const std::string ph = e.at("ph");
    if (ph == "M") {
      if (e["name"] == "thread_name") tracks.insert(e["tid"].get<unsigned>());
      continue;
    }
    const unsigned tid = e.at("tid");
    EXPECT_LT(tid, workers);
    if (ph == "X") {
      const std::int64_t b = ns(e.at("ts")), d = ns(e.at("dur"));
      EXPECT_GE(d, 0);
      slices_by_tid[tid].emplace_back(b, b + d);
      const std::string cat = e.at("cat");
      if (cat == "handler") {
        const json& a = e.at("args");
        runs.push_back({tid, b, b + d, a.at("color").get<std::string>(), a.at("poster"), a.at("seq")});
      } else if (cat == "steal") {
        (e["name"] == "steal" ? out.steal_slices : out.attempt_slices)++;
      }
    } else if (ph == "s" || ph == "f") {
      flows[{e.at("cat"), e.at("id")}].push_back(&e);
    }
  }
  for (unsigned c = 0; c < workers; ++c) EXPECT_TRUE(tracks.count(c)) << "no track for core " << c;
  out.handler_slices = runs.size();

  // Flows: one start and one finish per id; the finish no earlier than the start, at the start of
  // a handler slice of its track; a post flow crosses cores.
  std::set<std::pair<unsigned, std::int64_t>> run_starts;
  for (const slice& s : runs) run_starts.insert({s.tid, s.begin});
  for (const auto& [key, ends] : flows) {
    EXPECT_EQ(ends.size(), 2u) << key.first << " flow " << key.second;
    if (ends.size() != 2) continue;
    const json& s = (*ends[0])["ph"] == "s" ? *ends[0] : *ends[1];
    const json& f = (*ends[0])["ph"] == "f" ? *ends[0] : *ends[1];
    EXPECT_EQ(s["ph"], "s");
    EXPECT_EQ(f["ph"], "f");
    EXPECT_EQ(f["bp"], "e");
    EXPECT_LE(ns(s["ts"]), ns(f["ts"]));
    EXPECT_TRUE(run_starts.count({f["tid"].get<unsigned>(), ns(f["ts"])}))
        << "a flow ends on no handler slice";
    // The start lies within a slice of its own track (the posting handler, or the steal).
    const auto& own = slices_by_tid[s["tid"].get<unsigned>()];
    EXPECT_TRUE(std::any_of(own.begin(), own.end(), [&](const auto& x) {
      return x.first <= ns(s["ts"]) && ns(s["ts"]) <= x.second;
    })) << "a flow starts outside every slice";
    if (key.first == "post") {
      EXPECT_NE(s["tid"], f["tid"]) << "post flows are drawn only across cores";
      ++out.post_flows;
    } else {
      EXPECT_EQ(key.first, "steal");
      ++out.steal_flows;
    }
  }

  // The color invariant, from the trace alone.
  std::map<std::string, std::vector<const slice*>> by_color;
  std::map<std::pair<std::uint64_t, std::string>, std::vector<const slice*>> by_poster;
  for (const slice& s : runs) {
    out.unsequenced += s.seq == 0;
    by_color[s.color].push_back(&s);
    if (s.seq) by_poster[{s.poster, s.color}].push_back(&s);  // 0: posted before the window
  }
  std::size_t overlaps = 0, out_of_order = 0;
  for (auto& [color, list] : by_color) {
    std::sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < list.size(); ++i) overlaps += list[i]->begin < list[i - 1]->end;
  }
  // A later event of a poster and color must not start before an earlier one. Equal starts are
  // not counted: two runs on different cores can land on the same nanosecond once each core's TSC
  // is converted (the suite once saw one such pair under heavy load), and exclusion is checked
  // above by the overlap test anyway.
  std::string first_bad;
  for (auto& [key, list] : by_poster) {
    std::sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    for (std::size_t i = 1; i < list.size(); ++i) {
      if (list[i]->begin >= list[i - 1]->begin) continue;
      if (!out_of_order++)
        first_bad = "seq " + std::to_string(list[i - 1]->seq) + " began at " +
                    std::to_string(list[i - 1]->begin) + " on track " +
                    std::to_string(list[i - 1]->tid) + ", seq " + std::to_string(list[i]->seq) +
                    " at " + std::to_string(list[i]->begin) + " on track " +
                    std::to_string(list[i]->tid);
    }
  }
  EXPECT_EQ(overlaps, 0u) << "two slices of one color overlap";
  EXPECT_EQ(out_of_order, 0u) << "one poster's events of a color ran out of order: " << first_bad;
  return out;
}

// Two producers flood colors homed on core 0 (so the other core steals), each event posting a
// follow-up to a color of the other core (cross-core posts from handlers).
TEST(Trace, StressRunExportsAConsistentTrace) {
  const std::string file = temp_file("stress");
  constexpr unsigned producers = 2, per_producer = 6000, colors = 24;
  hue::config cfg = hue_test::stealing_workers(2);
  cfg.trace = file;
  cfg.trace_records = 1u << 20;
  hue::runtime_stats stats;
  std::atomic<std::uint64_t> ran{0};
  {
    hue::runtime rt(cfg);
    std::vector<hue::color_t> home0, home1;
    for (unsigned i = 0; i < colors; ++i) home0.push_back(rt.new_color_on(0));
    for (unsigned i = 0; i < colors; ++i) home1.push_back(rt.new_color_on(1));
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        for (unsigned i = 0; i < per_producer; ++i) {
          const unsigned c = (i * 7 + p) % colors;
          rt.post(home0[c], [&, c] {
            busy(200);
            ran.fetch_add(1, std::memory_order_relaxed);
            rt.post(home1[c], [&] {
              busy(50);
              ran.fetch_add(1, std::memory_order_relaxed);
            }, followup_info);
          }, producer_info);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    rt.drain();
    stats = rt.stats();
  }  // the destructor closes the window and writes the file
  ASSERT_EQ(ran.load(), 2ull * producers * per_producer);

  const json doc = load(file);
  ASSERT_EQ(doc["otherData"]["dropped"], 0u);
  const checked c = check_trace(doc, 2);
  EXPECT_EQ(c.unsequenced, 0u) << "every event was posted in the window: each has a sequence number";
  const hue::core_stats total = stats.total();
  std::printf("trace: %zu handler slices, %zu steals, %zu failed attempts, %zu post flows, "
              "%zu steal flows\n",
              c.handler_slices, c.steal_slices, c.attempt_slices, c.post_flows, c.steal_flows);
  EXPECT_EQ(c.handler_slices, total.events_run) << "one slice per event run";
  EXPECT_EQ(c.steal_slices, total.steal_successes);
  EXPECT_EQ(c.steal_slices + c.attempt_slices, total.steal_attempts);
  EXPECT_GT(c.post_flows, 0u) << "follow-ups cross cores";
  if (total.steal_successes) {
    EXPECT_GE(c.steal_flows, total.steal_successes);
  }
  std::remove(file.c_str());
}

// The checker itself catches what it checks: two slices of one color overlapping on two cores, and
// a poster's later event of a color starting first.
TEST(Trace, CheckerCatchesBrokenInvariants) {
  auto doc = [](double second_ts, std::uint64_t second_seq) {
    json events = json::array();
    for (unsigned c = 0; c < 2; ++c)
      events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", c}});
    events.push_back({{"name", "A"}, {"cat", "handler"}, {"ph", "X"}, {"pid", 1}, {"tid", 0},
                      {"ts", 10.0}, {"dur", 5.0},
                      {"args", {{"color", "7"}, {"poster", 1}, {"seq", 2}, {"cycles", 1}}}});
    events.push_back({{"name", "A"}, {"cat", "handler"}, {"ph", "X"}, {"pid", 1}, {"tid", 1},
                      {"ts", second_ts}, {"dur", 5.0},
                      {"args", {{"color", "7"}, {"poster", 1}, {"seq", second_seq}, {"cycles", 1}}}});
    return json{{"otherData", {{"tsc_per_us", 2000.0}}}, {"traceEvents", events}};
  };
  check_trace(doc(15.0, 3), 2);  // back to back, in order: clean
  EXPECT_NONFATAL_FAILURE(check_trace(doc(12.0, 3), 2), "two slices of one color overlap");
  EXPECT_NONFATAL_FAILURE(check_trace(doc(20.0, 1), 2), "ran out of order");
}

// A window opened and closed on a running runtime; the calls' error cases.
TEST(Trace, WindowStartsAndStopsAtRunTime) {
  const std::string file = temp_file("window");
  hue::runtime rt(hue_test::workers(2));
  EXPECT_EQ(rt.stop_trace(), 0u) << "no window open";
  EXPECT_THROW(rt.start_trace("/nonexistent-dir/trace.json"), std::runtime_error);
  rt.start_trace(file);
  EXPECT_THROW(rt.start_trace(file), std::logic_error);
  std::atomic<unsigned> ran{0};
  for (unsigned i = 0; i < 500; ++i)
    rt.post(i % 17, [&] { ran.fetch_add(1); }, producer_info);
  // Waits on the runtime's count, not on `ran`: a run's end is recorded after its handler returns,
  // and before the worker counts it.
  ASSERT_TRUE(hue_test::eventually([&] { return rt.stats().total().events_run == 500; }));
  EXPECT_GE(rt.stop_trace(), 500u) << "a record per run";
  const checked c = check_trace(load(file), 2);
  EXPECT_EQ(c.handler_slices, 500u);
  // A second window after the first: only its own runs.
  rt.start_trace(file);
  for (unsigned i = 0; i < 100; ++i) rt.post(i % 5, [&] { ran.fetch_add(1); }, followup_info);
  ASSERT_TRUE(hue_test::eventually([&] { return rt.stats().total().events_run == 600; }));
  rt.stop_trace();
  EXPECT_EQ(check_trace(load(file), 2).handler_slices, 100u);
  std::remove(file.c_str());
}

}  // namespace
