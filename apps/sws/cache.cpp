// apps/sws/cache.cpp — building the pre-built responses from the document root.
#include "cache.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace sws {

namespace fs = std::filesystem;

namespace {

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
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

response build(int status, std::string_view type, std::string body, std::string_view extra = {}) {
  response r;
  r.status = status;
  std::string common = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                       "\r\nServer: hue-sws\r\nContent-Type: " + std::string(type) +
                       "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
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
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
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
    const std::uintmax_t size = fs::file_size(real, e2);
    if (e2 || size > lim.max_file_bytes || bytes_ + size > lim.max_total_bytes) {
      warn(p.string() + " (too large for the cache)");
      continue;
    }
    std::ifstream in(real, std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      warn(p.string() + " (unreadable)");
      continue;
    }
    const std::string rel = p.lexically_relative(root).generic_string();  // the name, links unresolved
    bytes_ += body.size();
    files_.emplace(rel, build(200, content_type(rel), std::move(body)));
  }
  if (ec) throw std::runtime_error("cannot scan '" + root_arg + "': " + ec.message());
  for (int status : {400, 404, 405, 408, 413, 414, 431, 501, 503, 505}) {
    const std::string body = std::to_string(status) + " " + reason(status) + "\n";
    errors_.emplace(status, build(status, "text/plain", body,
                                  status == 405 ? "Allow: GET, HEAD\r\n" : ""));
  }
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
