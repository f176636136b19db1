// apps/sws/cache.cpp — building the pre-built responses from the document root.
#include "cache.hpp"

#include "validators.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <stdexcept>

namespace sws {

namespace fs = std::filesystem;

const char* reason(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 412: return "Precondition Failed";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

namespace {

// `length`: the Content-Length when the body is not held (a file sent from its descriptor).
response build(int status, std::string_view type, std::string body, std::string_view extra = {},
               std::uint64_t length = UINT64_MAX) {
  response r;
  r.status = status;
  if (length == UINT64_MAX) length = body.size();
  std::string common = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                       "\r\nServer: hue-sws\r\n" +
                       (type.empty() ? std::string() : "Content-Type: " + std::string(type) + "\r\n") +
                       "Content-Length: " + std::to_string(length) + "\r\n" +
                       std::string(extra);
  r.head_keep_alive = common + "Connection: keep-alive\r\n";
  r.head_close = common + "Connection: close\r\n";
  r.body = std::move(body);
  return r;
}

bool inside(const fs::path& root, const fs::path& p) {
  const auto [r, _] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return r == root.end();
}

}  // namespace

std::string_view content_type(std::string_view path) noexcept {
  const auto dot = path.rfind('.');
  if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos)
    return "application/octet-stream";
  const std::string_view ext = path.substr(dot + 1);
  struct entry {
    std::string_view ext, type;
  };
  static constexpr entry types[] = {
      {"html", "text/html"},         {"htm", "text/html"},        {"css", "text/css"},
      {"js", "text/javascript"},     {"txt", "text/plain"},       {"json", "application/json"},
      {"png", "image/png"},          {"jpg", "image/jpeg"},       {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},          {"svg", "image/svg+xml"},    {"ico", "image/x-icon"},
      {"pdf", "application/pdf"},    {"wasm", "application/wasm"}, {"xml", "application/xml"},
  };
  for (const entry& e : types)
    if (e.ext == ext) return e.type;
  return "application/octet-stream";
}

std::string_view date_line() noexcept {
  thread_local std::time_t last = 0;
  thread_local char buf[64];
  thread_local std::size_t len = 0;
  const std::time_t now = std::time(nullptr);
  if (now != last) {
    last = now;
    constexpr std::string_view head = "Date: ";
    head.copy(buf, head.size());
    len = head.size() + format_http_date(now, buf + head.size(), sizeof buf - head.size() - 2);
    buf[len++] = '\r';
    buf[len++] = '\n';
  }
  return {buf, len};
}

file_cache::file_cache(const std::string& root_arg, cache_limits lim, bool quiet) {
  std::error_code ec;
  const fs::path root = fs::canonical(root_arg, ec);
  if (ec || !fs::is_directory(root))
    throw std::runtime_error("document root '" + root_arg + "' is not a readable directory");
  auto warn = [&](const std::string& what) {
    if (!quiet) std::fprintf(stderr, "hue-sws: skipping %s\n", what.c_str());
  };
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::path& p = it->path();
    std::error_code e2;
    const fs::path real = fs::canonical(p, e2);
    if (e2 || !inside(root, real)) {
      warn(p.string() + " (outside the document root)");
      if (it->is_directory(e2)) it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(real, e2)) continue;  // directories, sockets, fifos, devices
    // One open() and fstat() for both kinds: the validators come from the same inode the bytes
    // are read from, even if the name is replaced meanwhile.
    const int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      if (fd >= 0) ::close(fd);
      warn(p.string() + " (unreadable)");
      continue;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::string rel = p.lexically_relative(root).generic_string();  // the name, links unresolved
    const std::string_view type = content_type(rel);
    response r;
    if (size > lim.max_file_bytes || bytes_ + size > lim.max_total_bytes) {
      if (fds_.size() >= lim.max_open_files) {
        ::close(fd);
        warn(p.string() + " (too many large files open)");
        continue;
      }
      fds_.push_back(fd);
      r = build(200, type, {}, {}, size);
      r.fd = fd;
    } else {
      std::string body;
      body.resize(size);
      std::size_t got = 0;
      while (got < size) {
        const ssize_t n = ::pread(fd, body.data() + got, size - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      ::close(fd);
      if (got != size) {
        warn(p.string() + " (unreadable, or changed while read)");
        continue;
      }
      bytes_ += size;
      r = build(200, type, std::move(body));
    }
    const std::int64_t mtime_ns =
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    r.etag = make_etag(st.st_ino, size, mtime_ns);
    r.mtime = st.st_mtim.tv_sec;
    r.last_modified = http_date(r.mtime);
    r.size = size;
    r.type = type;
    // Validators and Accept-Ranges go into both pre-built heads (RFC 9110 §8.8, §14.3).
    const std::string validators = "ETag: " + r.etag + "\r\nLast-Modified: " +
                                   r.last_modified + "\r\nAccept-Ranges: bytes\r\n";
    r.head_keep_alive.insert(r.head_keep_alive.rfind("Connection: "), validators);
    r.head_close.insert(r.head_close.rfind("Connection: "), validators);
    files_.emplace(rel, std::move(r));
  }
  if (ec) {
    for (int fd : fds_) ::close(fd);  // no destructor runs for a constructor that throws
    throw std::runtime_error("cannot scan '" + root_arg + "': " + ec.message());
  }
  for (int status : {400, 404, 405, 408, 412, 413, 414, 416, 417, 431, 501, 503, 505}) {
    const std::string body = std::to_string(status) + " " + reason(status) + "\n";
    // 405 must list the methods allowed (RFC 9110 §15.5.6).
    errors_.emplace(status, build(status, "text/plain", body,
                                  status == 405 ? "Allow: GET, HEAD, OPTIONS\r\n" : ""));
  }
  // OPTIONS: Allow, and Content-Length: 0 since there is no content (RFC 9110 §9.3.7).
  options_ = build(200, {}, {}, "Allow: GET, HEAD, OPTIONS\r\n");
}

file_cache::~file_cache() {
  for (int fd : fds_) ::close(fd);
}

const response* file_cache::find(std::string_view path) const {
  auto it = files_.find(path);
  if (it != files_.end()) return &it->second;
  // A directory: its index.html ("" is the root).
  std::string index(path);
  if (!index.empty() && index.back() != '/') index += '/';
  index += "index.html";
  it = files_.find(std::string_view(index));
  return it == files_.end() ? nullptr : &it->second;
}

const response& file_cache::error(int status) const {
  const auto it = errors_.find(status);
  return it != errors_.end() ? it->second : errors_.at(400);
}

}  // namespace sws
