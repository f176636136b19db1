// apps/sws/validators.cpp — the validators, preconditions and ranges declared in validators.hpp.
#include "validators.hpp"

#include "http_bytes.hpp"

#include <time.h>

#include <cstdio>
#include <cstring>

namespace sws {

namespace {

using http::is_ows;

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

using http::iequals;

// One entity-tag at the front of `s` (RFC 9110 §8.8.3): [W/] DQUOTE *etagc DQUOTE. On success
// `opaque` is the quoted part (quotes included) and `s` is advanced past it.
bool take_etag(std::string_view& s, bool& weak, std::string_view& opaque) {
  weak = false;
  if (s.size() >= 2 && s[0] == 'W' && s[1] == '/') {
    weak = true;
    s.remove_prefix(2);
  }
  if (s.empty() || s[0] != '"') return false;
  std::size_t k = 1;
  for (; k < s.size() && s[k] != '"'; ++k) {
    const auto u = static_cast<unsigned char>(s[k]);
    if (u < 0x21 || u == 0x7f) return false;  // etagc = %x21 / %x23-7E / obs-text
  }
  if (k == s.size()) return false;
  opaque = s.substr(0, k + 1);
  s.remove_prefix(k + 1);
  return true;
}

// A decimal number of at most 19 digits (so it fits); false if none or too long.
bool take_number(std::string_view& s, std::uint64_t& n) {
  std::size_t k = 0;
  n = 0;
  while (k < s.size() && s[k] >= '0' && s[k] <= '9') {
    if (k == 19) return false;
    n = n * 10 + static_cast<std::uint64_t>(s[k] - '0');
    ++k;
  }
  if (k == 0) return false;
  s.remove_prefix(k);
  return true;
}

}  // namespace

std::string make_etag(std::uint64_t inode, std::uint64_t size, std::int64_t mtime_ns) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64: spreads the three into 16 hex digits
  for (std::uint64_t v : {inode, size, static_cast<std::uint64_t>(mtime_ns)}) {
    for (int b = 0; b < 8; ++b) {
      h ^= (v >> (8 * b)) & 0xff;
      h *= 0x100000001b3ull;
    }
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

std::size_t format_http_date(std::time_t t, char* out, std::size_t cap) noexcept {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return std::strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

std::string http_date(std::time_t t) {
  char buf[64];
  return std::string(buf, format_http_date(t, buf, sizeof buf));
}

bool parse_http_date(std::string_view s, std::time_t& out) {
  s = trim(s);
  if (s.empty() || s.size() > 64) return false;
  char buf[72];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  // strptime with the "C" locale (SWS never calls setlocale): English day and month names.
  static constexpr const char* formats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850 (obsolete)
      "%a %b %e %H:%M:%S %Y",       // asctime (obsolete)
  };
  for (const char* f : formats) {
    std::tm tm{};
    const char* end = strptime(buf, f, &tm);
    if (end != nullptr && *end == '\0') {
      out = timegm(&tm);
      return true;
    }
  }
  return false;
}

bool etag_list_matches(std::string_view list, std::string_view etag, bool weak) {
  list = trim(list);
  if (list == "*") return true;  // any current representation; the file exists
  bool etag_weak = false;
  std::string_view mine = etag, theirs;
  if (!take_etag(mine, etag_weak, theirs)) return false;
  const std::string_view own = theirs;
  while (!list.empty()) {
    if (list[0] == ',' || is_ows(list[0])) {
      list.remove_prefix(1);
      continue;
    }
    bool w = false;
    std::string_view opaque;
    if (!take_etag(list, w, opaque)) return false;  // malformed: matches nothing
    // Strong comparison: both strong and equal; weak: the opaque parts equal (§8.8.3.2).
    if (opaque == own && (weak || (!w && !etag_weak))) return true;
    list = trim(list);
    if (!list.empty() && list[0] != ',') return false;
  }
  return false;
}

precondition evaluate(const request_conditions& c, std::string_view etag, std::time_t mtime) {
  std::time_t t;
  if (!c.if_match.empty()) {
    if (!etag_list_matches(c.if_match, etag, false)) return precondition::failed;
  } else if (!c.if_unmodified_since.empty() && parse_http_date(c.if_unmodified_since, t)) {
    if (mtime > t) return precondition::failed;
  }
  if (!c.if_none_match.empty()) {
    if (etag_list_matches(c.if_none_match, etag, true)) return precondition::not_modified;
  } else if (!c.if_modified_since.empty() && parse_http_date(c.if_modified_since, t)) {
    if (mtime <= t) return precondition::not_modified;
  }
  return precondition::proceed;
}

range_verdict evaluate_range(const request_conditions& c, std::string_view etag,
                             std::time_t mtime, std::uint64_t size, byte_range& out) {
  if (c.range.empty()) return range_verdict::whole;
  if (!c.if_range.empty()) {
    const std::string_view v = trim(c.if_range);
    if (!v.empty() && (v[0] == '"' || v[0] == 'W')) {
      std::string_view s = v, opaque;
      bool weak = false;
      // A weak tag never passes If-Range (§13.1.5: the strong comparison).
      if (!take_etag(s, weak, opaque) || !trim(s).empty() || weak || opaque != etag)
        return range_verdict::whole;
    } else {
      std::time_t t;
      if (!parse_http_date(v, t) || t != mtime) return range_verdict::whole;
    }
  }
  // ranges-specifier = range-unit "=" range-set (§14.1.1); the unit is case-insensitive.
  std::string_view s = trim(c.range);
  const std::size_t eq = s.find('=');
  if (eq == std::string_view::npos || !iequals(trim(s.substr(0, eq)), "bytes"))
    return range_verdict::whole;
  s.remove_prefix(eq + 1);
  if (size == 0) return range_verdict::whole;  // nothing to cut: the (empty) whole
  unsigned satisfiable = 0, specs = 0;
  byte_range found;
  while (!s.empty()) {
    if (s[0] == ',' || is_ows(s[0])) {
      s.remove_prefix(1);
      continue;
    }
    byte_range r;
    if (s[0] == '-') {  // suffix-range: the last N bytes
      s.remove_prefix(1);
      std::uint64_t n;
      if (!take_number(s, n)) return range_verdict::whole;
      if (n > 0) {
        r.first = n >= size ? 0 : size - n;
        r.last = size - 1;
        ++satisfiable;
        found = r;
      }
    } else {
      std::uint64_t first, last = UINT64_MAX;
      if (!take_number(s, first) || s.empty() || s[0] != '-') return range_verdict::whole;
      s.remove_prefix(1);
      if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
        if (!take_number(s, last) || last < first) return range_verdict::whole;  // invalid
      }
      if (first < size) {
        r.first = first;
        r.last = last >= size ? size - 1 : last;
        ++satisfiable;
        found = r;
      }
    }
    ++specs;
    s = trim(s);
    if (!s.empty() && s[0] != ',') return range_verdict::whole;
  }
  if (specs == 0) return range_verdict::whole;
  if (satisfiable == 0) return range_verdict::unsatisfiable;
  if (satisfiable > 1) return range_verdict::whole;  // SWS's choice: no multipart/byteranges
  out = found;
  return range_verdict::partial;
}

}  // namespace sws
