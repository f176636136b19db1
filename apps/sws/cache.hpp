// apps/sws/cache.hpp — the pre-built responses of SWS (the paper's CheckInCache map).
//
// At start-up every regular file under the document root is read once and turned into ready-made
// responses: status line and headers (one variant with `Connection: keep-alive`, one with
// `Connection: close`) and the body. A request then costs a hash lookup and a writev; the file
// system is never touched again, which is also why no request can reach a file outside the root:
// only what the start-up scan accepted is in the map. The scan refuses symlinks that resolve
// outside the root, special files, and unreadable files (with a warning).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sws {

struct response {
  std::string head_keep_alive;  // status line + headers, without Date and the final CRLF
  std::string head_close;
  std::string body;
  int status = 200;
  const std::string& head(bool keep_alive) const { return keep_alive ? head_keep_alive : head_close; }
};

struct cache_limits {
  std::uint64_t max_file_bytes = 256ull << 20;    // larger files are skipped with a warning
  std::uint64_t max_total_bytes = 2ull << 30;     // the whole cache
};

class file_cache {
 public:
  // Scans `root` (throws std::runtime_error if it is not a readable directory).
  file_cache(const std::string& root, cache_limits lim = {}, bool quiet = false);

  // `path` as normalize_target returns it ("" is the root; "dir" may name a directory, answered
  // with its index.html). nullptr: not found.
  const response* find(std::string_view path) const;
  // Pre-built error responses: 400, 404, 405, 408, 413, 414, 431, 501, 503, 505.
  const response& error(int status) const;

  std::size_t files() const noexcept { return files_.size(); }
  std::uint64_t bytes() const noexcept { return bytes_; }

 private:
  struct sv_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, response, sv_hash, std::equal_to<>> files_;
  std::unordered_map<int, response> errors_;
  std::uint64_t bytes_ = 0;
};

// "text/html" for "a/b.html", ...; "application/octet-stream" when unknown.
std::string_view content_type(std::string_view path) noexcept;

// "Date: Sun, 22 Nov 2026 10:38:46 GMT\r\n", formatted at most once a second per thread.
std::string_view date_line() noexcept;

}  // namespace sws
