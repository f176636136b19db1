// apps/sws/http_bytes.hpp — the byte-level vocabulary shared by the request parser (http.cpp)
// and the target normalizer (target.cpp): byte classes, hex digits, case-insensitive compares.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sws::http {

// Byte classes from RFC 9110 §5.6.2 (tchar), §5.5 (field-vchar / obs-text) and RFC 3986 (what a
// request-target may carry on the wire; its meaning is normalize_target's business).
enum : std::uint8_t {
  tchar = 1,         // token character: methods, field names, Connection options
  field_byte = 2,    // allowed inside a field value: VCHAR, obs-text, SP, HTAB
  target_byte = 4,   // allowed in a request-target: VCHAR and obs-text (no SP, no CTL)
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0x21; c <= 0x7e; ++c) t[c] = field_byte | target_byte;
  for (int c = 0x80; c <= 0xff; ++c) t[c] = field_byte | target_byte;  // obs-text: UTF-8 names
  t[' '] = t['\t'] = field_byte;
  for (int c = '0'; c <= '9'; ++c) t[c] |= tchar;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= tchar;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= tchar;
  for (char c : {'!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~'})
    t[static_cast<unsigned char>(c)] |= tchar;
  return t;
}
inline constexpr std::array<std::uint8_t, 256> classes = make_classes();

inline bool is(char c, std::uint8_t cls) {
  return (classes[static_cast<unsigned char>(c)] & cls) != 0;
}
inline bool is_ows(char c) { return c == ' ' || c == '\t'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// ASCII case-insensitive equality against a lower-case literal (field names, options, schemes).
inline bool iequals(std::string_view s, std::string_view lower) noexcept {
  if (s.size() != lower.size()) return false;
  for (std::size_t k = 0; k < s.size(); ++k) {
    char c = s[k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[k]) return false;
  }
  return true;
}

}  // namespace sws::http
