// apps/sfs/export.hpp — the exported tree: confinement, the handle table and the open files.
//
// Confinement. Every name a client sends is resolved by openat2(2) relative to a directory fd the
// server opened itself (the export root, or a directory reached from it), with
//   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV:
// the kernel refuses, atomically with the lookup, any path that leaves the starting directory,
// any symlink (as the leaf or in the middle) and any magic link, so a symlink swapped in while a
// request runs is refused too (there is no check-then-use window: attributes come from fstat of
// the fd that was opened). The path is also checked by hand first (no '..', '.', empty
// components, leading '/', NUL bytes) so that a client gets a precise error rather than the
// kernel's ELOOP/EXDEV. glibc 2.36 has no openat2() wrapper: it is called with syscall(2) and
// <linux/openat2.h>. Files are opened O_NONBLOCK (a FIFO in the export would otherwise hang the
// server) and anything but regular files and directories is refused. Read-only: nothing here can
// write, create or delete.
//
// Handles are random 128-bit values (libsodium's randombytes_buf) keys of a table, not encodings
// of an index: unguessable without a MAC key to manage or rotate, revoked by erasing the entry,
// and a forged handle is just a failed map lookup. A file looked up twice gets the same handle
// (keyed by device and inode). The table is bounded (oldest evicted first, the root never); an
// evicted handle answers bad_handle and the client looks it up again.
//
// A handle costs no descriptor while idle. It names a file by device, inode and the path it was
// resolved by (from the export root); its descriptor lives in a bounded LRU cache
// (descriptor_cache.hpp) and, once closed there, is reopened by that path through the same
// openat2 confinement as a LOOKUP. If the path no longer leads to a regular file or directory
// with the same device and inode (the file was removed, renamed, or replaced by another), the
// handle is stale for good: it answers stale_handle, and a new LOOKUP of the path gets a new
// handle. While its descriptor is still cached a handle reads the file it opened, as before.
// So the descriptors the export holds are bounded by the cache, not by the files clients touch.
//
// Clients. The server passes each connection's id (client_id, never 0): a client holds every
// handle it was given by LOOKUP (the root is not counted), up to `max_handles_per_client`
// (LOOKUP past it answers too_many_handles); release() drops the client's holds when it leaves,
// and a handle no client holds any more is erased, its descriptor closed. Client 0 (tests, the
// fuzz target) holds nothing and is never refused.
//
// Threading: not locked. The server uses one export from one color only (its file-system color);
// the counters are atomics so that other threads may print them.
#pragma once

#include "descriptor_cache.hpp"
#include "frame_buffer.hpp"
#include "protocol.hpp"

#include <sodium.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

namespace hue::sfs {

// DIGEST's hashing, apart from the export: the file's own descriptor (a dup, so the handle
// table may evict the file meanwhile), the size and mtime it was started at, and the SHA-256
// state. step() may run on any thread, a piece at a time; it touches nothing of the export.
class digest_job {
 public:
  // `outside`: the descriptor cache's count of descriptors held elsewhere, decremented when `fd`
  // is closed (on whichever thread does it).
  digest_job(int fd, const file_handle& h, std::uint32_t id, std::uint64_t size, std::uint64_t mtime_ns,
             std::shared_ptr<std::atomic<std::size_t>> outside = nullptr);
  ~digest_job();
  digest_job(const digest_job&) = delete;
  digest_job& operator=(const digest_job&) = delete;

  // Hashes up to `budget` more bytes; true once the whole file (as large as it was at the start,
  // or less if it shrank) is hashed or reading failed.
  bool step(std::size_t budget);
  // After step() returned true: the encoded reply (the digest, or io_error).
  std::vector<std::uint8_t> encoded_reply() const;

 private:
  friend class export_root;
  void close_fd();
  int fd_;
  std::shared_ptr<std::atomic<std::size_t>> outside_;
  file_handle handle_;
  std::uint32_t id_;
  std::uint64_t size_, mtime_ns_, done_ = 0;
  int error_ = 0;
  bool finished_ = false;
  std::array<std::uint8_t, 32> sha256_{};
  crypto_hash_sha256_state state_{};
  std::vector<std::uint8_t> buffer_;
};

struct export_limits {
  std::size_t max_handles = 65536;
  std::size_t max_dir_entries = 1'000'000;
  // Descriptors the cache keeps open (hue-sfsd sizes it from RLIMIT_NOFILE). Picked without data
  // for library use: far below any default descriptor limit.
  std::size_t max_open = 128;
  std::size_t max_handles_per_client = 4096;  // 0: no quota
};

// The export's counters, each written once here: the member, its name in hue-sfsd's statistics
// line, and its help text for the metrics (server.cpp prints both from this list).
#define HUE_SFS_EXPORT_COUNTERS(X)                                                               \
  X(handle_evictions, "evicted-handles", "Handles dropped because the handle table was full.")   \
  X(stale_handles, "stale-handles", "Requests answered stale_handle (the file was replaced).")   \
  X(handle_quota_refusals, "handle-quota-refusals",                                              \
    "LOOKUPs answered too_many_handles (the client held its quota).")                            \
  X(released_handles, "released-handles", "Handles erased because no client held them any more.")

struct export_counters {
#define HUE_SFS_EXPORT_MEMBER(m, name, help) std::atomic<std::uint64_t> m{0};
  HUE_SFS_EXPORT_COUNTERS(HUE_SFS_EXPORT_MEMBER)
#undef HUE_SFS_EXPORT_MEMBER
};

using client_id = std::uint64_t;

class export_root {
 public:
  // Opens `dir` (must be a directory); throws std::runtime_error with the reason.
  explicit export_root(const std::filesystem::path& dir, export_limits limits = {});
  ~export_root();
  export_root(const export_root&) = delete;
  export_root& operator=(const export_root&) = delete;

  // ROOT, LOOKUP, GETATTR, READDIR, DIGEST: the reply (its id set from the request). `who`
  // holds the handle a LOOKUP returns (see above).
  reply serve(const request& r, client_id who = 0);
  // READ: appends the encoded reply (data or error) to `out`.
  void read(const request& r, std::vector<std::uint8_t>& out);
  // The same, read straight into `out` (pread writes the data where it will be sealed and
  // sent): what the server uses. Bytes of `out` before its size are kept.
  void read_into(const request& r, frame_buffer& out);
  // Any op: the encoded reply.
  std::vector<std::uint8_t> answer(const request& r, client_id who = 0);
  // The client left: drops its holds; handles nobody holds any more are erased.
  void release(client_id who);

  // DIGEST without hashing on the export's thread: either the encoded reply (cached digest, or
  // an error) or a job to run elsewhere; hand the finished job to digest_finish() (on the
  // export's thread again) to cache its result.
  struct digest_started {
    std::vector<std::uint8_t> reply;     // when !job
    std::shared_ptr<digest_job> job;
  };
  digest_started digest_start(const request& r);
  void digest_finish(const digest_job& job);

  std::size_t handles() const noexcept { return table_.size(); }
  std::uint64_t evictions() const noexcept { return counters_.handle_evictions.load(std::memory_order_relaxed); }
  const export_counters& counters() const noexcept { return counters_; }
  const descriptor_cache& descriptors() const noexcept { return cache_; }
  std::size_t held_by(client_id who) const;

  // Validates a LOOKUP path (relative, '/'-separated, no '.', '..', empty component or NUL, each
  // component <= 255 bytes, total <= max_path). Returns the reason, or nullopt when valid.
  static std::optional<std::string> check_path(std::string_view path);

 private:
  struct handle_hash {
    std::size_t operator()(const file_handle& h) const noexcept;
  };
  struct node {
    std::string path;  // from the export root, as resolved ("" for the root)
    dev_t dev = 0;
    ino_t ino = 0;
    file_type type = file_type::other;
    bool stale = false;       // its path led elsewhere once: stays stale
    std::size_t holders = 0;  // clients holding it
    // READDIR snapshot: sorted names, refreshed at cookie 0 when the directory changed.
    std::vector<dir_entry> listing;
    std::uint32_t generation = 0;
    std::uint64_t listed_mtime = ~0ull;
  };
  // A file's DIGEST, valid while its size and mtime are unchanged. Kept by inode, apart from the
  // handle table: a handle goes when its last holder leaves, and the next client of the same file
  // must not hash it again (the race's clients each begin with a DIGEST of the file they read).
  struct known_digest {
    std::array<std::uint8_t, 32> sha256{};
    std::uint64_t size = 0, mtime_ns = 0;
  };
  // Files whose digest is kept (48 bytes each, oldest forgotten first): picked without data.
  static constexpr std::size_t max_digests = 4096;

  node* find(const file_handle& h);
  // The node's descriptor (cached, or reopened by its path), or -1 with `fail` set to the reply.
  int descriptor(const file_handle& h, node& n, std::uint32_t id, reply& fail);
  file_handle insert(int fd, const struct stat& st, std::string path);
  void erase(const file_handle& h);
  reply lookup(const request& r, client_id who);
  reply readdir(const request& r);
  reply digest(const request& r);

  export_limits limits_;
  int root_fd_ = -1;  // always open, outside the cache: every reopen starts from it
  file_handle root_{};
  descriptor_cache cache_;
  std::unordered_map<file_handle, node, handle_hash> table_;
  std::map<std::pair<dev_t, ino_t>, file_handle> by_inode_;
  std::map<std::pair<dev_t, ino_t>, known_digest> digests_;
  std::deque<std::pair<dev_t, ino_t>> digest_order_;  // insertion order, for forgetting
  std::deque<file_handle> order_;  // insertion order, for eviction (erased entries skipped)
  std::unordered_map<client_id, std::unordered_set<file_handle, handle_hash>> held_;
  export_counters counters_;
};

attributes attributes_of(const struct stat& st);

}  // namespace hue::sfs
