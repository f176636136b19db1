// apps/sws/target.cpp — normalize_target (http.hpp): a request-target turned into a path under
// the document root, or refused.
#include "http.hpp"
#include "http_bytes.hpp"

#include <string>

namespace sws::http {

namespace {

// Where the path of `target` starts and ends; false if the target is in neither origin-form nor
// http(s) absolute-form. `end` stops at the query, which is dropped.
bool locate_path(std::string_view t, std::size_t& begin, std::size_t& end) {
  begin = 0;
  if (t.empty()) return false;
  if (t[0] != '/') {
    std::size_t scheme;
    if (t.size() >= 7 && iequals(t.substr(0, 7), "http://")) scheme = 7;
    else if (t.size() >= 8 && iequals(t.substr(0, 8), "https://")) scheme = 8;
    else return false;  // "*", authority-form, other schemes, relative paths
    std::size_t k = scheme;
    while (k < t.size() && t[k] != '/' && t[k] != '?') ++k;
    if (k == scheme) return false;  // "http:///x": an http URI must name a host (RFC 9110 §4.2.1)
    begin = k;  // at the path's '/', or at '?' / the end: the root
  }
  end = begin;
  while (end < t.size() && t[end] != '?') ++end;
  return true;
}

}  // namespace

target_status normalize_target(std::string_view target, std::string& path) {
  auto refuse = [&path](target_status st) {
    path.clear();  // never leave a half-built path behind for a caller to use by mistake
    return st;
  };
  path.clear();
  // Raw bytes the wire grammar forbids anywhere, query included. parse_request never passes them;
  // this keeps normalize_target safe on its own. '#' (a fragment) is never sent by a client.
  for (char c : target) {
    if (!is(c, target_byte) || c == '#') return refuse(target_status::bad_request);
  }
  std::size_t begin, end;
  if (!locate_path(target, begin, end)) return refuse(target_status::bad_request);
  path.reserve(end - begin);

  // One pass: decode into `path`, and close a segment at each '/' (raw or decoded — a decoded
  // '/' is a separator, so "..%2f" is ".." followed by a separator, never a smuggled name).
  // `seg` is where the open segment starts in `path`; segments are joined by single slashes, so
  // repeated slashes collapse and there is never a leading or trailing '/'.
  std::size_t seg = 0;
  auto close_segment = [&]() -> bool {
    const std::string_view s = std::string_view(path).substr(seg);
    if (s.empty() || s == "." || s == "..") {
      const bool up = s == "..";
      path.resize(seg);  // drop the segment ...
      if (!path.empty()) path.pop_back();  // ... and the '/' that joined it
      if (up) {
        if (seg == 0) return false;  // above the root
        const std::size_t slash = path.rfind('/');
        path.resize(slash == std::string::npos ? 0 : slash);
      }
    }
    if (!path.empty()) path.push_back('/');
    seg = path.size();
    return true;
  };

  for (std::size_t k = begin; k < end; ++k) {
    char c = target[k];
    if (c == '%') {
      if (end - k < 3) return refuse(target_status::bad_request);
      const int hi = hex_digit(target[k + 1]), lo = hex_digit(target[k + 2]);
      if (hi < 0 || lo < 0) return refuse(target_status::bad_request);
      c = static_cast<char>(hi * 16 + lo);
      k += 2;
      // NUL would cut the path short in open(); other controls have no place in a file name.
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) return refuse(target_status::bad_request);
    }
    // A backslash, raw or %5C, is an ordinary byte: URLs (RFC 3986) and POSIX paths both give it
    // no meaning, so "..\..\etc" is one harmless segment with that literal name.
    if (c == '/') {
      if (!close_segment()) return refuse(target_status::not_found);
    } else {
      path.push_back(c);
    }
  }
  if (!close_segment()) return refuse(target_status::not_found);
  if (!path.empty()) path.pop_back();  // the '/' close_segment left for a next segment
  return target_status::ok;
}

}  // namespace sws::http
