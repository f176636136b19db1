// apps/sws/cache.hpp — the pre-built responses of SWS (the paper's CheckInCache map).
//
// At start-up (and at each reload, SIGHUP) every regular file under the document root is read
// once and turned into ready-made responses: status line and headers (one variant with
// `Connection: keep-alive`, one with `Connection: close`, both with ETag, Last-Modified and
// Accept-Ranges) and the body. A request then costs a hash lookup and a writev; the file system
// is never touched again, which is also why no request can reach a file outside the root: only
// what the scan accepted is in the map. The scan refuses symlinks that resolve outside the root,
// special files, and unreadable files (with a warning).
//
// Files above `cache_limits::max_file_bytes` (or past `max_total_bytes`) are not read: the scan
// opens them and keeps the descriptor, and they are sent from it with sendfile in steps
// (session.hpp), so a file larger than memory costs no memory. The descriptor lives as long as
// the snapshot (a file_cache is shared through shared_ptr: requests in flight keep theirs after
// a reload), and sendfile with an explicit offset lets any number of connections share it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sws {

struct response {
  std::string head_keep_alive;  // status line + headers, without Date and the final CRLF
  std::string head_close;
  std::string body;  // empty for a file served from `fd`
  int status = 200;
  // Files only (status 200):
  std::string etag;           // strong, quotes included
  std::string last_modified;  // IMF-fixdate
  std::time_t mtime = 0;
  std::uint64_t size = 0;     // the file's length (== body.size() when cached)
  std::string_view type;      // Content-Type
  int fd = -1;                // >= 0: not cached, sent from this descriptor
  const std::string& head(bool keep_alive) const { return keep_alive ? head_keep_alive : head_close; }
};

struct cache_limits {
  std::uint64_t max_file_bytes = 1ull << 20;   // larger files are sent from a descriptor
  std::uint64_t max_total_bytes = 1ull << 30;  // bytes cached in all; later files: descriptors
  std::size_t max_open_files = 4096;           // descriptors kept; more large files are skipped
};

class file_cache {
 public:
  // Scans `root` (throws std::runtime_error if it is not a readable directory).
  file_cache(const std::string& root, cache_limits lim = {}, bool quiet = false);
  ~file_cache();
  file_cache(const file_cache&) = delete;
  file_cache& operator=(const file_cache&) = delete;

  // `path` as normalize_target returns it ("" is the root; "dir" may name a directory, answered
  // with its index.html). nullptr: not found.
  const response* find(std::string_view path) const;
  // Pre-built error responses: 400, 404, 405, 408, 412, 413, 414, 416, 417, 431, 501, 503, 505.
  const response& error(int status) const;
  // The answer to OPTIONS: 200, Allow, no content.
  const response& options() const noexcept { return options_; }

  std::size_t files() const noexcept { return files_.size(); }
  std::uint64_t bytes() const noexcept { return bytes_; }          // cached bytes
  std::size_t open_files() const noexcept { return fds_.size(); }  // files sent from descriptors

 private:
  struct sv_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, response, sv_hash, std::equal_to<>> files_;
  std::unordered_map<int, response> errors_;
  response options_;
  std::vector<int> fds_;
  std::uint64_t bytes_ = 0;
};

// The reason phrase of a status SWS sends ("Partial Content", ...).
const char* reason(int status) noexcept;

// "text/html" for "a/b.html", ...; "application/octet-stream" when unknown.
std::string_view content_type(std::string_view path) noexcept;

// "Date: Sun, 22 Nov 2026 10:38:46 GMT\r\n", formatted at most once a second per thread.
std::string_view date_line() noexcept;

}  // namespace sws
