// apps/sfs/export.cpp — confinement with openat2, the handle table, and the read-only operations.
#include "export.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>  // struct open_how, RESOLVE_*: glibc 2.36 has no openat2() wrapper
#include <sodium.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>  // PATH_MAX
#include <cstring>
#include <stdexcept>

namespace hue::sfs {

namespace {

// `directory_only`: an O_PATH descriptor of a directory (opens nothing else, so no device is ever
// opened for real on the way).
int openat2_beneath(int dirfd, const std::string& path, bool directory_only = false) {
  open_how how{};
  how.flags = directory_only ? O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
                             : O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  for (int attempt = 0;; ++attempt) {
    const long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
    // EAGAIN: a concurrent rename raced the lookup (the kernel refuses to guess); retry a little.
    if (fd < 0 && (errno == EAGAIN || errno == EINTR) && attempt < 8) continue;
    return static_cast<int>(fd);
  }
}

// The kernel takes at most PATH_MAX - 1 bytes (PATH_MAX counts the NUL), but a LOOKUP path of
// max_path bytes is valid and a handle's path (its directory's path, '/', the LOOKUP's) may be
// longer still. Such a path is resolved in steps: the directories up to its last '/' that keeps
// the step under PATH_MAX (an O_PATH descriptor), then the rest beneath that, and so on. Every
// step carries the same RESOLVE_* rules and no part holds '..' (check_path), so the chain stays
// beneath `dirfd` exactly as one call would. The O_PATH steps are closed at once.
int open_beneath(int dirfd, std::string_view path) {
  int at = dirfd;
  int result = -1;
  while (true) {
    if (path.size() < PATH_MAX) {
      result = openat2_beneath(at, std::string(path));
      break;
    }
    const std::size_t cut = path.rfind('/', PATH_MAX - 1);
    if (cut == std::string_view::npos || cut == 0) {
      errno = ENAMETOOLONG;
      break;
    }
    const int mid = openat2_beneath(at, std::string(path.substr(0, cut)), true);
    if (at != dirfd) ::close(at);
    at = -1;
    if (mid < 0) break;
    at = mid;
    path.remove_prefix(cut + 1);
  }
  const int e = errno;
  if (at != dirfd && at >= 0) ::close(at);
  errno = e;
  return result;
}

reply error(std::uint32_t id, status code, std::string message) {
  reply r;
  r.id = id;
  r.code = code;
  r.message = std::move(message);
  return r;
}

std::uint64_t mtime_ns(const struct stat& st) {
  return static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
}

}  // namespace

attributes attributes_of(const struct stat& st) {
  attributes a;
  a.type = S_ISREG(st.st_mode) ? file_type::regular
           : S_ISDIR(st.st_mode) ? file_type::directory
                                 : file_type::other;
  a.mode = st.st_mode & 07777;
  a.size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  a.mtime_ns = mtime_ns(st);
  return a;
}

std::size_t export_root::handle_hash::operator()(const file_handle& h) const noexcept {
  std::size_t v;  // the handles are uniformly random: any 8 of their bytes are a good hash
  std::memcpy(&v, h.data(), sizeof v);
  return v;
}

export_root::export_root(const std::filesystem::path& dir, export_limits limits)
    : limits_(limits), cache_(limits.max_open) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open export '" + dir.string() + "': " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot stat export '" + dir.string() + "'");
  }
  // Probe openat2 once, so a kernel without it (< 5.6) fails at start-up, not per request.
  const int probe = openat2_beneath(fd, ".");
  if (probe < 0 && errno == ENOSYS) {
    ::close(fd);
    throw std::runtime_error("this kernel has no openat2(2) (Linux 5.6 or later is needed)");
  }
  if (probe >= 0) ::close(probe);
  root_fd_ = fd;
  root_ = insert(-1, st, "");
}

export_root::~export_root() {
  ::close(root_fd_);  // the cache closes its own
}

std::optional<std::string> export_root::check_path(std::string_view path) {
  if (path.empty()) return "empty path";
  if (path.size() > max_path) return "path longer than 4096 bytes";
  if (path.find('\0') != std::string_view::npos) return "NUL byte in path";
  if (path.front() == '/') return "absolute path";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view c = path.substr(start, end - start);
    if (c.empty()) return "empty path component";
    if (c == ".") return "'.' component";
    if (c == "..") return "'..' component";
    if (c.size() > max_component) return "component longer than 255 bytes";
    start = end + 1;
  }
  return std::nullopt;
}

export_root::node* export_root::find(const file_handle& h) {
  auto it = table_.find(h);
  return it == table_.end() ? nullptr : &it->second;
}

int export_root::descriptor(const file_handle& h, node& n, std::uint32_t id, reply& fail) {
  auto refuse = [&](status code, std::string why) {
    fail = error(id, code, std::move(why));
    return -1;
  };
  if (n.stale) {
    counters_.stale_handles.fetch_add(1, std::memory_order_relaxed);
    return refuse(status::stale_handle, "stale handle: the file was removed, renamed or replaced");
  }
  if (h == root_) return root_fd_;
  if (const int fd = cache_.find(h); fd >= 0) return fd;
  const int fd = cache_.open_with_room([&] { return open_beneath(root_fd_, n.path); });
  struct stat st{};
  const bool opened = fd >= 0;
  const int e = errno;
  if (opened && ::fstat(fd, &st) != 0) {
    const int fe = errno;
    ::close(fd);
    return refuse(status::io_error, std::strerror(fe));
  }
  if (!opened && (e == EMFILE || e == ENFILE || e == ENOMEM || e == EIO))
    return refuse(status::io_error, std::strerror(e));  // the file may still be there: not stale
  if (!opened || st.st_dev != n.dev || st.st_ino != n.ino || attributes_of(st).type != n.type) {
    if (opened) ::close(fd);
    // Stale for good: the inode the client looked up is no longer where it was. The by-inode
    // entry goes, so a new LOOKUP of the path (or of the old file by another path) gets a new
    // handle; this one keeps answering stale_handle until its holders leave.
    n.stale = true;
    if (auto it = by_inode_.find({n.dev, n.ino}); it != by_inode_.end() && it->second == h) by_inode_.erase(it);
    counters_.stale_handles.fetch_add(1, std::memory_order_relaxed);
    return refuse(status::stale_handle, "stale handle: the file was removed, renamed or replaced");
  }
  cache_.insert(h, fd);
  return fd;
}

// `fd` (-1 for the root, whose descriptor is root_fd_) goes to the cache under the new handle.
file_handle export_root::insert(int fd, const struct stat& st, std::string path) {
  while (table_.size() >= limits_.max_handles && !order_.empty()) {
    const file_handle old = order_.front();
    order_.pop_front();
    if (old == root_) {
      order_.push_back(old);
      if (order_.size() == 1) break;
      continue;
    }
    if (table_.count(old) == 0) continue;  // released meanwhile
    erase(old);
    counters_.handle_evictions.fetch_add(1, std::memory_order_relaxed);
  }
  // Released handles leave their entries in order_: compact it before it outgrows the table.
  if (order_.size() > 2 * table_.size() + 64)
    std::erase_if(order_, [this](const file_handle& h) { return table_.count(h) == 0; });
  file_handle h;
  do randombytes_buf(h.data(), h.size());
  while (table_.count(h) != 0);
  node n;
  n.path = std::move(path);
  n.dev = st.st_dev;
  n.ino = st.st_ino;
  n.type = attributes_of(st).type;
  table_.emplace(h, std::move(n));
  by_inode_[{st.st_dev, st.st_ino}] = h;
  order_.push_back(h);
  if (fd >= 0) cache_.insert(h, fd);
  return h;
}

// The handle leaves the table (evicted, or held by no client). Clients' holds on it stay in
// held_ until they leave: release() tolerates handles already gone.
void export_root::erase(const file_handle& h) {
  auto it = table_.find(h);
  if (it == table_.end()) return;
  if (auto b = by_inode_.find({it->second.dev, it->second.ino}); b != by_inode_.end() && b->second == h)
    by_inode_.erase(b);
  cache_.erase(h);
  table_.erase(it);
}

void export_root::release(client_id who) {
  auto it = held_.find(who);
  if (it == held_.end()) return;
  for (const file_handle& h : it->second) {
    node* n = find(h);
    if (!n || --n->holders != 0 || h == root_) continue;
    erase(h);
    counters_.released_handles.fetch_add(1, std::memory_order_relaxed);
  }
  held_.erase(it);
}

std::size_t export_root::held_by(client_id who) const {
  auto it = held_.find(who);
  return it == held_.end() ? 0 : it->second.size();
}

std::vector<std::uint8_t> export_root::answer(const request& r, client_id who) {
  if (r.what == op::read) {
    std::vector<std::uint8_t> out;
    read(r, out);
    return out;
  }
  return encode_reply(r.what, serve(r, who));
}

reply export_root::serve(const request& r, client_id who) {
  switch (r.what) {
    case op::root: {
      struct stat st{};
      if (::fstat(root_fd_, &st) != 0) return error(r.id, status::io_error, "export root unavailable");
      reply out;
      out.id = r.id;
      out.handle = root_;
      out.attr = attributes_of(st);
      return out;
    }
    case op::lookup: return lookup(r, who);
    case op::getattr: {
      node* n = find(r.handle);
      if (!n) return error(r.id, status::bad_handle, "unknown handle");
      reply fail;
      const int fd = descriptor(r.handle, *n, r.id, fail);
      if (fd < 0) return fail;
      struct stat st{};
      if (::fstat(fd, &st) != 0) return error(r.id, status::io_error, std::strerror(errno));
      reply out;
      out.id = r.id;
      out.attr = attributes_of(st);
      return out;
    }
    case op::readdir: return readdir(r);
    case op::digest: return digest(r);
    case op::read: break;
  }
  return error(r.id, status::bad_request, "READ goes through export_root::read");
}

reply export_root::lookup(const request& r, client_id who) {
  node* dir = find(r.handle);
  if (!dir) return error(r.id, status::bad_handle, "unknown handle");
  if (dir->type != file_type::directory) return error(r.id, status::not_dir, "LOOKUP from a file handle");
  if (auto why = check_path(r.path)) return error(r.id, status::bad_name, *why);
  reply fail;
  const int dfd = descriptor(r.handle, *dir, r.id, fail);
  if (dfd < 0) return fail;
  // `dfd` stays open through the open below: it is open_with_room's spare.
  const int fd = cache_.open_with_room([&] { return open_beneath(dfd, r.path); }, &r.handle);
  if (fd < 0) {
    switch (errno) {
      case ENOENT: return error(r.id, status::not_found, "no such file or directory");
      case ENOTDIR: return error(r.id, status::not_dir, "a component is not a directory");
      case ELOOP: return error(r.id, status::refused, "symbolic link in path (not followed)");
      case EXDEV: return error(r.id, status::refused, "path leaves the export");
      case EACCES:
      case EPERM: return error(r.id, status::refused, "permission denied");
      case ENAMETOOLONG: return error(r.id, status::bad_name, "name too long");
      default: return error(r.id, status::io_error, std::strerror(errno));
    }
  }
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return error(r.id, status::io_error, std::strerror(e));
  }
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    ::close(fd);
    return error(r.id, status::refused, "not a regular file or directory");
  }
  file_handle h;
  auto known = by_inode_.find({st.st_dev, st.st_ino});
  std::unordered_set<file_handle, handle_hash>* holds = nullptr;
  if (who != 0) {
    holds = &held_[who];
    const bool already = known != by_inode_.end() && holds->count(known->second) != 0;
    if (!already && limits_.max_handles_per_client != 0 && holds->size() >= limits_.max_handles_per_client) {
      ::close(fd);
      counters_.handle_quota_refusals.fetch_add(1, std::memory_order_relaxed);
      return error(r.id, status::too_many_handles,
                   "this client holds " + std::to_string(holds->size()) + " handles, its quota");
    }
  }
  if (known != by_inode_.end()) {
    h = known->second;  // one handle per file: its descriptor, if cached, serves both
    if (!cache_.contains(h)) cache_.insert(h, fd);
    else ::close(fd);
  } else {
    std::string path = dir->path.empty() ? r.path : dir->path + "/" + r.path;
    h = insert(fd, st, std::move(path));  // may evict `dir`: not used after this
  }
  if (holds && holds->insert(h).second) ++table_.at(h).holders;
  reply out;
  out.id = r.id;
  out.attr = attributes_of(st);
  out.handle = h;
  return out;
}

reply export_root::readdir(const request& r) {
  node* n = find(r.handle);
  if (!n) return error(r.id, status::bad_handle, "unknown handle");
  if (n->type != file_type::directory) return error(r.id, status::not_dir, "READDIR of a file");
  if (r.count > max_readdir) return error(r.id, status::too_large, "READDIR count over 1024");
  reply fail;
  const int fd = descriptor(r.handle, *n, r.id, fail);
  if (fd < 0) return fail;
  struct stat st{};
  if (::fstat(fd, &st) != 0) return error(r.id, status::io_error, std::strerror(errno));
  if (r.cookie == 0 && mtime_ns(st) != n->listed_mtime) {
    // A new snapshot. Its own fd: fdopendir takes the fd over and moves its offset.
    const int dfd = cache_.open_with_room([&] { return ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }, &r.handle);
    if (dfd < 0) return error(r.id, status::io_error, std::strerror(errno));
    DIR* d = ::fdopendir(dfd);
    if (!d) {
      ::close(dfd);
      return error(r.id, status::io_error, "fdopendir failed");
    }
    std::vector<dir_entry> list;
    bool too_many = false;
    while (dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      if (list.size() >= limits_.max_dir_entries) {
        too_many = true;
        break;
      }
      const file_type t = e->d_type == DT_REG ? file_type::regular
                          : e->d_type == DT_DIR ? file_type::directory
                                                : file_type::other;
      list.push_back({std::string(name), t});
    }
    ::closedir(d);
    if (too_many) return error(r.id, status::too_large, "directory has too many entries");
    std::sort(list.begin(), list.end(), [](const dir_entry& a, const dir_entry& b) { return a.name < b.name; });
    n->listing = std::move(list);
    n->listed_mtime = mtime_ns(st);
    ++n->generation;
  }
  // cookie = generation << 32 | index of the next entry (0 only for "start").
  std::uint64_t index = 0;
  if (r.cookie != 0) {
    if ((r.cookie >> 32) != n->generation)
      return error(r.id, status::bad_request, "stale READDIR cookie (the directory changed): start again from 0");
    index = r.cookie & 0xffffffffu;
    if (index > n->listing.size()) return error(r.id, status::bad_request, "READDIR cookie out of range");
  }
  reply out;
  out.id = r.id;
  // Fit the reply in one transport message: 64 KiB of names is far below its cap.
  std::size_t bytes = 0;
  while (index < n->listing.size() && out.entries.size() < r.count && bytes < 64 * 1024) {
    bytes += 2 + n->listing[index].name.size();
    out.entries.push_back(n->listing[index++]);
  }
  out.next_cookie = index < n->listing.size() ? (std::uint64_t{n->generation} << 32 | index) : 0;
  return out;
}

digest_job::digest_job(int fd, const file_handle& h, std::uint32_t id, std::uint64_t size,
                       std::uint64_t mtime_ns, std::shared_ptr<std::atomic<std::size_t>> outside)
    : fd_(fd), outside_(std::move(outside)), handle_(h), id_(id), size_(size), mtime_ns_(mtime_ns) {
  crypto_hash_sha256_init(&state_);
}

digest_job::~digest_job() { close_fd(); }

void digest_job::close_fd() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  if (outside_) outside_->fetch_sub(1, std::memory_order_relaxed);
}

bool digest_job::step(std::size_t budget) {
  crypto_hash_sha256_state* h = &state_;
  if (finished_) return true;
  if (buffer_.empty()) buffer_.resize(256 * 1024);
  std::size_t hashed = 0;
  while (done_ < size_ && hashed < budget) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), size_ - done_));
    const ssize_t got = ::pread(fd_, buffer_.data(), want, static_cast<off_t>(done_));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      error_ = errno;
      break;
    }
    if (got == 0) {  // the file shrank: the digest covers what is there
      size_ = done_;
      break;
    }
    crypto_hash_sha256_update(h, buffer_.data(), static_cast<unsigned long long>(got));
    done_ += static_cast<std::uint64_t>(got);
    hashed += static_cast<std::size_t>(got);
  }
  if (error_ == 0 && done_ < size_) return false;
  crypto_hash_sha256_final(h, sha256_.data());
  finished_ = true;
  buffer_ = {};
  close_fd();
  return true;
}

std::vector<std::uint8_t> digest_job::encoded_reply() const {
  if (error_ != 0) return encode_error(id_, status::io_error, std::strerror(error_));
  reply out;
  out.id = id_;
  out.sha256 = sha256_;
  out.digest_size = done_;
  return encode_reply(op::digest, out);
}

export_root::digest_started export_root::digest_start(const request& r) {
  digest_started out;
  auto refuse = [&](status code, std::string_view why) {
    out.reply = encode_error(r.id, code, why);
    return std::move(out);
  };
  node* n = find(r.handle);
  if (!n) return refuse(status::bad_handle, "unknown handle");
  if (n->type != file_type::regular) return refuse(status::is_dir, "DIGEST of a directory");
  reply fail;
  const int nfd = descriptor(r.handle, *n, r.id, fail);
  if (nfd < 0) return refuse(fail.code, fail.message);
  struct stat st{};
  if (::fstat(nfd, &st) != 0) return refuse(status::io_error, std::strerror(errno));
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  if (auto known = digests_.find({n->dev, n->ino});
      known != digests_.end() && known->second.size == size && known->second.mtime_ns == mtime_ns(st)) {
    reply cached;
    cached.id = r.id;
    cached.sha256 = known->second.sha256;
    cached.digest_size = size;
    out.reply = encode_reply(op::digest, cached);
    return out;
  }
  // Its own descriptor, read on another color: the cache may close the node's meanwhile. It
  // counts against the cache's capacity until the job closes it (descriptor_cache.hpp).
  const int fd = cache_.open_with_room([&] { return ::fcntl(nfd, F_DUPFD_CLOEXEC, 0); }, &r.handle);
  if (fd < 0) return refuse(status::io_error, std::strerror(errno));
  cache_.outside()->fetch_add(1, std::memory_order_relaxed);
  out.job = std::make_shared<digest_job>(fd, r.handle, r.id, size, mtime_ns(st), cache_.outside());
  return out;
}

void export_root::digest_finish(const digest_job& job) {
  node* n = find(job.handle_);
  if (!n || job.error_ != 0 || !job.finished_) return;  // evicted meanwhile, or failed: not cached
  // Cached under the size and mtime the hashing started from: a file changed since is hashed
  // again on the next DIGEST (its size or mtime no longer match).
  const std::pair<dev_t, ino_t> key{n->dev, n->ino};
  auto [it, added] = digests_.insert_or_assign(key, known_digest{job.sha256_, job.done_, job.mtime_ns_});
  if (!added) return;
  digest_order_.push_back(key);
  if (digests_.size() > max_digests) {
    digests_.erase(digest_order_.front());
    digest_order_.pop_front();
  }
}

// The whole DIGEST at once, on the caller's thread (tests, fuzzing; the server splits it).
reply export_root::digest(const request& r) {
  digest_started d = digest_start(r);
  if (d.job) {
    while (!d.job->step(std::size_t{1} << 30)) {}
    digest_finish(*d.job);
    return decode_reply(op::digest, d.job->encoded_reply());
  }
  return decode_reply(op::digest, d.reply);
}

void export_root::read(const request& r, std::vector<std::uint8_t>& out) {
  frame_buffer b;
  read_into(r, b);
  out.insert(out.end(), b.data(), b.data() + b.size());
}

void export_root::read_into(const request& r, frame_buffer& out) {
  const std::size_t head = out.size();
  auto refuse = [&out, head, &r](status code, std::string_view why) {
    out.resize(head);
    const std::vector<std::uint8_t> err = encode_error(r.id, code, why);
    out.append(err);
  };
  node* n = find(r.handle);
  if (!n) return refuse(status::bad_handle, "unknown handle");
  if (n->type != file_type::regular) return refuse(status::is_dir, "READ of a directory");
  if (r.length > max_read) return refuse(status::too_large, "READ over 65536 bytes");
  reply fail;
  const int fd = descriptor(r.handle, *n, r.id, fail);
  if (fd < 0) return refuse(fail.code, fail.message);
  // The 10-byte header (id, status 0, eof, length) now; eof and length patched below.
  out.resize(head + 10);
  std::uint8_t* h = out.data() + head;
  for (int i = 0; i < 4; ++i) h[i] = static_cast<std::uint8_t>(r.id >> (24 - 8 * i));
  h[4] = 0;
  h[5] = 1;
  h[6] = h[7] = h[8] = h[9] = 0;
  // No file reaches past INT64_MAX (off_t), and pread refuses (EINVAL) a range that would: an
  // offset that far is past the end of any file, which is 0 bytes and eof.
  if (r.offset > static_cast<std::uint64_t>(INT64_MAX) - r.length - 1) return;
  // One byte more than asked tells whether the block ends exactly at the end of the file: then
  // eof is 1 on this READ rather than on an extra, empty one. Read straight into `out`: its
  // growth does not zero the bytes pread is about to write (frame_buffer.hpp).
  out.resize(head + 10 + r.length + 1);
  ssize_t got;
  do got = ::pread(fd, out.data() + head + 10, r.length + 1, static_cast<off_t>(r.offset));
  while (got < 0 && errno == EINTR);
  if (got < 0) return refuse(status::io_error, std::strerror(errno));
  const bool eof = static_cast<std::size_t>(got) <= r.length;
  const std::size_t len = eof ? static_cast<std::size_t>(got) : r.length;
  out.resize(head + 10 + len);
  out[head + 5] = eof ? 1 : 0;
  const auto n32 = static_cast<std::uint32_t>(len);
  for (int i = 0; i < 4; ++i) out[head + 6 + i] = static_cast<std::uint8_t>(n32 >> (24 - 8 * i));
}

}  // namespace hue::sfs
