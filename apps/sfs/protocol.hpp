// apps/sfs/protocol.hpp — the SFS request protocol carried inside the secure channel's transport
// messages (docs/sfs-protocol.md §4): read-only and NFS-like (ROOT, LOOKUP, GETATTR, READDIR,
// READ, DIGEST). One transport message carries one request or one reply.
//
//   request  = op u8 | id u32be | body            (body per op, below)
//   reply    = id u32be | status u8 | body        (status 0: the op's result, else u16be len | message)
//
// Every multi-byte integer is big-endian. The decoder treats every byte as hostile: each read is
// bounds-checked, lengths are checked against their caps before use, and trailing bytes are an
// error; a request it refuses still yields its id when the first five bytes are there, so the
// client gets an error reply matched to its request rather than a dropped connection.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hue::sfs {

enum class op : std::uint8_t { root = 1, lookup = 2, getattr = 3, readdir = 4, read = 5, digest = 6 };

// Error codes of a reply (status != 0). Stable wire values.
enum class status : std::uint8_t {
  ok = 0,
  bad_request = 1,   // the request did not decode (length, field, trailing bytes, unknown op)
  bad_handle = 2,    // unknown or evicted handle (forged, from another run, dropped)
  not_found = 3,     // no such name
  not_dir = 4,       // LOOKUP/READDIR on a file
  is_dir = 5,        // READ/DIGEST on a directory
  refused = 6,       // the path leaves the export or meets a symlink, or is not a file/dir
  bad_name = 7,      // empty, absolute, "..", ".", NUL byte, too long
  io_error = 8,      // the file system failed (EIO, ...)
  too_large = 9,     // READ length over max_read, READDIR count over max_readdir
  busy = 10,         // the server is shutting down
  too_many_handles = 11,   // this client holds its quota of handles (--max-handles-per-client)
  too_many_requests = 12,  // this client has its quota of requests in flight (--max-requests-per-client)
  stale_handle = 13,       // the handle's path no longer leads to the file it named
};
const char* to_string(status s) noexcept;

using file_handle = std::array<std::uint8_t, 16>;

inline constexpr std::size_t max_read = 64 * 1024;       // READ length cap
inline constexpr std::size_t max_path = 4096;            // LOOKUP path cap (bytes)
inline constexpr std::size_t max_component = 255;        // one path component
inline constexpr std::uint16_t max_readdir = 1024;       // entries per READDIR reply
inline constexpr std::size_t max_error_message = 512;

enum class file_type : std::uint8_t { other = 0, regular = 1, directory = 2 };

struct attributes {
  file_type type = file_type::other;
  std::uint32_t mode = 0;       // permission bits (st_mode & 07777)
  std::uint64_t size = 0;
  std::uint64_t mtime_ns = 0;   // nanoseconds since the epoch
};

struct request {
  op what = op::root;
  std::uint32_t id = 0;
  file_handle handle{};         // all but ROOT
  std::string path;             // LOOKUP: relative path, components joined by '/'
  std::uint64_t cookie = 0;     // READDIR: 0 = start
  std::uint16_t count = 0;      // READDIR: entries wanted
  std::uint64_t offset = 0;     // READ
  std::uint32_t length = 0;     // READ
};

struct dir_entry {
  std::string name;
  file_type type = file_type::other;
};

struct reply {
  std::uint32_t id = 0;
  status code = status::ok;
  std::string message;                 // error replies
  file_handle handle{};                // ROOT, LOOKUP
  attributes attr;                     // ROOT, LOOKUP, GETATTR
  std::uint64_t next_cookie = 0;       // READDIR: 0 = no more
  std::vector<dir_entry> entries;      // READDIR
  bool eof = false;                    // READ: the block ends at the end of the file
  std::vector<std::uint8_t> data;      // READ
  std::array<std::uint8_t, 32> sha256{};  // DIGEST
  std::uint64_t digest_size = 0;       // DIGEST: the size the digest covers
};

// Decoding failure: `id` is set when the request's id could be read (answer with bad_request).
struct decode_error {
  std::optional<std::uint32_t> id;
  std::string reason;
};

struct decoded_request {
  std::optional<request> req;
  decode_error error;  // meaningful when !req
};

std::vector<std::uint8_t> encode_request(const request& r);
decoded_request decode_request(std::span<const std::uint8_t> bytes);

// Replies are encoded for the op they answer (the op is not repeated on the wire: the client
// knows it from the id).
std::vector<std::uint8_t> encode_reply(op what, const reply& r);
// Appends a READ reply's header and data without building a reply (the server's hot path).
void encode_read_reply(std::uint32_t id, bool eof, std::span<const std::uint8_t> data,
                       std::vector<std::uint8_t>& out);
std::vector<std::uint8_t> encode_error(std::uint32_t id, status code, std::string_view message);
// Throws std::runtime_error naming what was malformed.
reply decode_reply(op what, std::span<const std::uint8_t> bytes);
// The id of a reply (first four bytes), or nullopt.
std::optional<std::uint32_t> reply_id(std::span<const std::uint8_t> bytes);

}  // namespace hue::sfs
