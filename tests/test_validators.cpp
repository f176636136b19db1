// tests/test_validators.cpp — validators, preconditions and ranges (apps/sws/validators.hpp) as
// plain functions: the edge cases the end-to-end tests (test_sws_rfc.cpp) do not spell out.
#include "validators.hpp"

#include <gtest/gtest.h>

namespace {

using namespace sws;

constexpr std::time_t t1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example)

TEST(HttpDate, the_three_formats_of_rfc9110_s5_6_7) {
  std::time_t t = 0;
  ASSERT_TRUE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", t));
  EXPECT_EQ(t, t1994);
  ASSERT_TRUE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", t));
  EXPECT_EQ(t, t1994);
  ASSERT_TRUE(parse_http_date("Sun Nov  6 08:49:37 1994", t));
  EXPECT_EQ(t, t1994);
  EXPECT_EQ(http_date(t1994), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpDate, anything_else_is_refused) {
  std::time_t t;
  for (const char* s : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 GMT x",
                        "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT",
                        "1994-11-06T08:49:37Z"})
    EXPECT_FALSE(parse_http_date(s, t)) << s;
}

TEST(Etag, strong_tag_from_inode_size_and_mtime) {
  const std::string a = make_etag(1, 2, 3);
  EXPECT_EQ(a.size(), 18u);
  EXPECT_EQ(a.front(), '"');
  EXPECT_EQ(a.back(), '"');
  EXPECT_EQ(a, make_etag(1, 2, 3));
  EXPECT_NE(a, make_etag(1, 2, 4));
  EXPECT_NE(a, make_etag(2, 2, 3));
  EXPECT_NE(a, make_etag(1, 3, 3));
}

TEST(Etag, list_matching_weak_and_strong) {
  const std::string e = "\"abc\"";
  EXPECT_TRUE(etag_list_matches("*", e, false));
  EXPECT_TRUE(etag_list_matches(" \"x\" , \"abc\"", e, false));
  EXPECT_TRUE(etag_list_matches("W/\"abc\"", e, true));
  EXPECT_FALSE(etag_list_matches("W/\"abc\"", e, false));  // strong comparison: weak never matches
  EXPECT_FALSE(etag_list_matches("\"ab\"", e, true));
  EXPECT_FALSE(etag_list_matches("abc", e, true));          // unquoted: malformed
  EXPECT_FALSE(etag_list_matches("\"abc", e, true));
  EXPECT_FALSE(etag_list_matches("", e, true));
}

request_conditions with_range(std::string range, std::string if_range = "") {
  request_conditions c;
  c.range = std::move(range);
  c.if_range = std::move(if_range);
  return c;
}

TEST(Range, forms_and_clamping) {
  byte_range r;
  EXPECT_EQ(evaluate_range(with_range("bytes=0-0"), "\"e\"", 0, 10, r), range_verdict::partial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.last, 0u);
  EXPECT_EQ(evaluate_range(with_range("bytes=5-"), "\"e\"", 0, 10, r), range_verdict::partial);
  EXPECT_EQ(r.first, 5u);
  EXPECT_EQ(r.last, 9u);
  EXPECT_EQ(evaluate_range(with_range("bytes=-3"), "\"e\"", 0, 10, r), range_verdict::partial);
  EXPECT_EQ(r.first, 7u);
  EXPECT_EQ(evaluate_range(with_range("bytes=8-99999999999999999"), "\"e\"", 0, 10, r),
            range_verdict::partial);
  EXPECT_EQ(r.last, 9u);
  // One satisfiable among unsatisfiable ones is still one range.
  EXPECT_EQ(evaluate_range(with_range("bytes=50-60, 2-3"), "\"e\"", 0, 10, r), range_verdict::partial);
  EXPECT_EQ(r.first, 2u);
}

TEST(Range, unsatisfiable_whole_and_ignored) {
  byte_range r;
  EXPECT_EQ(evaluate_range(with_range("bytes=10-"), "\"e\"", 0, 10, r), range_verdict::unsatisfiable);
  EXPECT_EQ(evaluate_range(with_range("bytes=-0"), "\"e\"", 0, 10, r), range_verdict::unsatisfiable);
  EXPECT_EQ(evaluate_range(with_range("bytes=0-1,3-4"), "\"e\"", 0, 10, r), range_verdict::whole);
  EXPECT_EQ(evaluate_range(with_range("bytes=0-1"), "\"e\"", 0, 0, r), range_verdict::whole);  // empty file
  for (const char* bad : {"bytes=3-1", "bytes", "bytes=", "bytes=a-", "bytes=1-2;", "lines=1-2",
                          "bytes=12345678901234567890-"})
    EXPECT_EQ(evaluate_range(with_range(bad), "\"e\"", 0, 10, r), range_verdict::whole) << bad;
  EXPECT_EQ(evaluate_range(with_range(""), "\"e\"", 0, 10, r), range_verdict::whole);
}

TEST(Range, if_range_by_tag_or_date) {
  byte_range r;
  EXPECT_EQ(evaluate_range(with_range("bytes=0-1", "\"e\""), "\"e\"", t1994, 10, r), range_verdict::partial);
  EXPECT_EQ(evaluate_range(with_range("bytes=0-1", "\"f\""), "\"e\"", t1994, 10, r), range_verdict::whole);
  EXPECT_EQ(evaluate_range(with_range("bytes=0-1", "W/\"e\""), "\"e\"", t1994, 10, r), range_verdict::whole);
  EXPECT_EQ(evaluate_range(with_range("bytes=0-1", "Sun, 06 Nov 1994 08:49:37 GMT"), "\"e\"", t1994, 10, r),
            range_verdict::partial);
  EXPECT_EQ(evaluate_range(with_range("bytes=0-1", "Sun, 06 Nov 1994 08:49:38 GMT"), "\"e\"", t1994, 10, r),
            range_verdict::whole);
  EXPECT_EQ(evaluate_range(with_range("bytes=0-1", "garbage"), "\"e\"", t1994, 10, r), range_verdict::whole);
}

TEST(Preconditions, order_of_rfc9110_s13_2_2) {
  request_conditions c;
  EXPECT_EQ(evaluate(c, "\"e\"", t1994), precondition::proceed);
  c.if_match = "\"x\"";
  c.if_none_match = "\"e\"";
  EXPECT_EQ(evaluate(c, "\"e\"", t1994), precondition::failed);  // If-Match first
  c.if_match = "\"e\"";
  EXPECT_EQ(evaluate(c, "\"e\"", t1994), precondition::not_modified);
  c = {};
  c.if_unmodified_since = "Sun, 06 Nov 1994 08:49:36 GMT";
  EXPECT_EQ(evaluate(c, "\"e\"", t1994), precondition::failed);
  c.if_match = "*";  // If-Match present: If-Unmodified-Since is not evaluated
  EXPECT_EQ(evaluate(c, "\"e\"", t1994), precondition::proceed);
  c = {};
  c.if_modified_since = "Sun, 06 Nov 1994 08:49:37 GMT";
  EXPECT_EQ(evaluate(c, "\"e\"", t1994), precondition::not_modified);
  c.if_none_match = "\"other\"";  // If-None-Match present: If-Modified-Since is not evaluated
  EXPECT_EQ(evaluate(c, "\"e\"", t1994), precondition::proceed);
  c = {};
  c.if_modified_since = "Sun, 06 Nov 1994 08:49:36 GMT";
  EXPECT_EQ(evaluate(c, "\"e\"", t1994), precondition::proceed);
}

}  // namespace
