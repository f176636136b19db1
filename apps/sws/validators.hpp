// apps/sws/validators.hpp — conditional and range requests (RFC 9110 §8.8, §13, §14) as plain
// functions over strings, so that both styles of the server and the unit tests share them.
//
// What SWS chooses where the RFCs leave a choice:
//   - ETags are strong: a hash of the file's inode, size and modification time (nanoseconds),
//     fixed when the document root is scanned. A file changed in place keeps its old ETag until
//     the next scan (SIGHUP), exactly as its cached bytes do.
//   - If-None-Match uses the weak comparison (§13.1.2), If-Match and If-Range the strong one.
//   - Several ranges in one Range field are answered with 200 and the whole file, not with
//     multipart/byteranges (§14.2 lets a server ignore Range): one satisfiable range gives 206,
//     none gives 416. Overlapping or many small ranges thus cost nothing more than a plain GET.
//   - A Range field that does not parse, or names another unit, is ignored (200), as §14.2 asks.
#pragma once

#include <cstdint>
#include <cstddef>
#include <ctime>
#include <string>
#include <string_view>

namespace sws {

// `"<16 hex digits>"`, quotes included: FNV-1a over inode, size and mtime.
std::string make_etag(std::uint64_t inode, std::uint64_t size, std::int64_t mtime_ns);

// IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". The first writes it into `out`
// (29 bytes; 0 if `cap` is too small), for callers that must not allocate.
std::size_t format_http_date(std::time_t t, char* out, std::size_t cap) noexcept;
std::string http_date(std::time_t t);
// Any of the three HTTP-date formats a recipient must accept (IMF-fixdate, RFC 850, asctime);
// false for anything else (then the field carrying it is ignored).
bool parse_http_date(std::string_view s, std::time_t& out);

// If-None-Match / If-Match: "*" or a list of entity-tags. True if `etag` (a strong tag, quotes
// included) is in the list under the weak (`weak` true) or strong comparison. A malformed list
// matches nothing.
bool etag_list_matches(std::string_view list, std::string_view etag, bool weak);

// The request fields that make a GET or HEAD conditional or partial, as field_values collected
// them (empty: absent).
struct request_conditions {
  std::string if_match, if_none_match, if_modified_since, if_unmodified_since, range, if_range;
  bool any() const noexcept {
    return !if_match.empty() || !if_none_match.empty() || !if_modified_since.empty() ||
           !if_unmodified_since.empty() || !range.empty();
  }
  void clear() noexcept {
    if_match.clear(), if_none_match.clear(), if_modified_since.clear();
    if_unmodified_since.clear(), range.clear(), if_range.clear();
  }
};

enum class precondition { proceed, not_modified, failed };

// RFC 9110 §13.2.2, steps 1-4, for a GET or HEAD of a file that exists: If-Match (412), else
// If-Unmodified-Since (412); then If-None-Match (304), else If-Modified-Since (304). An
// unparsable date makes its field ignored.
precondition evaluate(const request_conditions& c, std::string_view etag, std::time_t mtime);

struct byte_range {
  std::uint64_t first = 0, last = 0;  // inclusive
  std::uint64_t length() const noexcept { return last - first + 1; }
};
enum class range_verdict { whole, partial, unsatisfiable };

// Step 5 of §13.2.2 and §14.2 for a GET: If-Range (an entity-tag compared strongly, or a date
// equal to Last-Modified) and the Range field, against a representation of `size` bytes.
// partial: `out` is the one range to send (206); unsatisfiable: 416; whole: 200.
range_verdict evaluate_range(const request_conditions& c, std::string_view etag,
                             std::time_t mtime, std::uint64_t size, byte_range& out);

}  // namespace sws
