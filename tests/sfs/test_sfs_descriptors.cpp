// tests/sfs/test_sfs_descriptors.cpp — the export's descriptors (apps/sfs/descriptor_cache.hpp,
// export.hpp): handles cost no descriptor while idle, the cache stays within its capacity, a
// full descriptor table is relieved by closing cached descriptors, a replaced or removed file's
// handle is stale_handle, a handle whose path is longer than PATH_MAX is reopened, DIGEST's
// descriptor counts against the capacity, and a client's handles (and quota) go when it leaves.
//
// Pins the bug where every handle kept a descriptor open: under a limit of 256, one client's
// 600 lookups got 360 io_error "Too many open files", and lookups of files not already open kept
// failing after it left (test_sfsd.py's `descriptors` mode checks the same from outside).
#include "export.hpp"
#include "protocol.hpp"
#include "sfs/server_support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <climits>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace hue::sfs;
using handle_t = hue::sfs::file_handle;  // <fcntl.h> has a struct file_handle of its own
using namespace sfs_test;

namespace {

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

request req(op w, const handle_t& h = {}, std::string path = {}) {
  request r;
  r.what = w;
  r.handle = h;
  r.path = std::move(path);
  r.length = 100;
  return r;
}

std::string read_all(export_root& ex, const handle_t& h) {
  std::vector<std::uint8_t> out;
  ex.read(req(op::read, h), out);
  const reply r = decode_reply(op::read, out);
  if (r.code != status::ok) return "status " + std::to_string(static_cast<int>(r.code));
  return std::string(r.data.begin(), r.data.end());
}

// File i's name. Appended rather than `file_name(i)`, on which GCC 12 at -O2 warns
// of a memcpy overlap that cannot happen (-Wrestrict, a known false positive).
std::string file_name(int i) {
  std::string name = "f";
  name += std::to_string(i);
  return name;
}

void make_files(temp_tree& t, int n) {
  for (int i = 0; i < n; ++i) {
    std::string content = "file ";
    content += std::to_string(i);
    t.write("export/" + file_name(i), content);
  }
}

}  // namespace

TEST(SfsDescriptors, HandlesCostNoDescriptorBeyondTheCache) {
  temp_tree t;
  make_files(t, 300);
  export_root ex(t.exp(), {.max_open = 8});
  const std::size_t before = open_descriptors();
  const handle_t root = ex.serve(req(op::root)).handle;
  std::vector<handle_t> hs;
  for (int i = 0; i < 300; ++i) {
    const reply r = ex.serve(req(op::lookup, root, file_name(i)));
    ASSERT_EQ(r.code, status::ok) << i;
    hs.push_back(r.handle);
  }
  EXPECT_EQ(ex.handles(), 301u);
  EXPECT_LE(ex.descriptors().size(), 8u);
  EXPECT_LE(open_descriptors(), before + 8) << "the table holds 300 handles on at most 8 descriptors";
  for (int i = 0; i < 300; ++i) EXPECT_EQ(read_all(ex, hs[i]), "file " + std::to_string(i));
  EXPECT_GT(ex.descriptors().evictions.load(), 0u);
  EXPECT_GT(ex.descriptors().misses.load(), 0u);
  EXPECT_EQ(read_all(ex, hs[299]), "file 299");
  EXPECT_GT(ex.descriptors().hits.load(), 0u) << "the last file read is still open";
}

// The cache sized far above what the process may open: a full descriptor table (EMFILE) is
// relieved by closing cached descriptors, so no request fails for lack of one.
TEST(SfsDescriptors, FullDescriptorTableClosesCachedOnesInsteadOfFailing) {
  temp_tree t;
  make_files(t, 200);
  export_root ex(t.exp(), {.max_open = 100000});
  const handle_t root = ex.serve(req(op::root)).handle;
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = open_descriptors() + 20;  // room for 20 more, whatever the test runner holds
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<handle_t> hs;
  int failed = 0;
  for (int i = 0; i < 200; ++i) {
    const reply r = ex.serve(req(op::lookup, root, file_name(i)));
    if (r.code != status::ok) ++failed;
    hs.push_back(r.handle);
  }
  int wrong = 0;
  for (int i = 0; i < 200; ++i) wrong += read_all(ex, hs[i]) != "file " + std::to_string(i);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(wrong, 0);
  EXPECT_GT(ex.descriptors().evictions.load(), 0u);
}

TEST(SfsDescriptors, ReplacedOrRemovedFileIsStaleOnceItsDescriptorIsClosed) {
  temp_tree t;
  make_files(t, 4);
  export_root ex(t.exp(), {.max_open = 1});
  const handle_t root = ex.serve(req(op::root)).handle;
  const handle_t f0 = ex.serve(req(op::lookup, root, "f0")).handle;
  const handle_t f1 = ex.serve(req(op::lookup, root, "f1")).handle;
  const handle_t f2 = ex.serve(req(op::lookup, root, "f2")).handle;  // f0's and f1's descriptors closed
  t.write("export/f0.new", "replaced");
  fs::rename(t.exp() / "f0.new", t.exp() / "f0");
  fs::remove(t.exp() / "f1");
  EXPECT_EQ(read_all(ex, f0), "status 13") << "another inode at the path: stale_handle";
  EXPECT_EQ(ex.serve(req(op::getattr, f0)).code, status::stale_handle) << "and it stays stale";
  EXPECT_EQ(ex.serve(req(op::getattr, f1)).code, status::stale_handle) << "removed";
  EXPECT_EQ(ex.counters().stale_handles.load(), 3u);
  const reply again = ex.serve(req(op::lookup, root, "f0"));
  ASSERT_EQ(again.code, status::ok);
  EXPECT_NE(again.handle, f0) << "a new LOOKUP of the path is a new handle";
  EXPECT_EQ(read_all(ex, again.handle), "replaced");
  EXPECT_EQ(read_all(ex, f2), "file 2");
  // A file renamed away and back is the same inode at the same path: not stale.
  fs::rename(t.exp() / "f2", t.exp() / "f2.moved");
  fs::rename(t.exp() / "f2.moved", t.exp() / "f2");
  ex.serve(req(op::lookup, root, "f3"));  // closes f2's descriptor
  EXPECT_EQ(read_all(ex, f2), "file 2");
}

// A symlink put where a handle's directory was: the reopen is confined like a LOOKUP, so the
// handle is stale rather than reading through the link.
TEST(SfsDescriptors, ReopenThroughASwappedInSymlinkIsRefused) {
  temp_tree t;
  export_root ex(t.exp(), {.max_open = 1});
  const handle_t root = ex.serve(req(op::root)).handle;
  const handle_t leaf = ex.serve(req(op::lookup, root, "sub/deeper/leaf")).handle;
  ex.serve(req(op::lookup, root, "hello.txt"));  // closes leaf's descriptor
  t.write("outside/leaf", "OUTSIDE");
  fs::rename(t.exp() / "sub", t.base / "sub.away");
  fs::create_directories(t.base / "outside" / "deeper");
  t.write("outside/deeper/leaf", "OUTSIDE");
  fs::create_symlink(t.base / "outside", t.exp() / "sub");
  EXPECT_EQ(read_all(ex, leaf), "status 13");
}

// A handle's path is its directory's path plus the LOOKUP's, so it may pass PATH_MAX; the reopen
// then goes in steps, each confined.
TEST(SfsDescriptors, HandleWhosePathIsLongerThanPathMaxIsReopened) {
  temp_tree t;
  const std::string comp(200, 'd');
  // Made and removed a directory at a time (through descriptors): the whole path is too long
  // for mkdir(2) and for std::filesystem.
  std::vector<int> chain{::open(t.exp().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  std::string deep;
  while (deep.size() < 2 * PATH_MAX + 500) {  // three steps to reopen
    ASSERT_EQ(::mkdirat(chain.back(), comp.c_str(), 0700), 0);
    chain.push_back(::openat(chain.back(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    deep += (deep.empty() ? "" : "/") + comp;
  }
  const int f = ::openat(chain.back(), "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_EQ(::write(f, "deep file", 9), 9);
  ::close(f);
  std::string got;
  {
    export_root ex(t.exp(), {.max_open = 1});
    handle_t at = ex.serve(req(op::root)).handle;
    // In pieces of at most 2,000 bytes: a LOOKUP path is at most 4,096.
    std::string left = deep + "/file";
    while (!left.empty()) {
      const std::size_t cut = left.size() <= 2000 ? left.size() : left.rfind('/', 2000);
      const reply r = ex.serve(req(op::lookup, at, left.substr(0, cut)));
      ASSERT_EQ(r.code, status::ok) << r.message;
      at = r.handle;
      left = cut >= left.size() ? "" : left.substr(cut + 1);
    }
    ex.serve(req(op::lookup, ex.serve(req(op::root)).handle, "hello.txt"));  // closes the file's descriptor
    const std::uint64_t misses = ex.descriptors().misses.load();
    got = read_all(ex, at);
    EXPECT_EQ(ex.descriptors().misses.load(), misses + 1) << "reopened by its path";
  }
  ::unlinkat(chain.back(), "file", 0);
  for (std::size_t i = chain.size() - 1; i > 0; --i) {
    ::close(chain[i]);
    ::unlinkat(chain[i - 1], comp.c_str(), AT_REMOVEDIR);
  }
  ::close(chain[0]);
  EXPECT_EQ(got, "deep file");
}

// DIGEST's duplicate is read on another color and cannot be closed by the cache; it counts
// against the capacity until the job closes it.
TEST(SfsDescriptors, DigestDescriptorCountsAgainstTheCapacity) {
  temp_tree t;
  make_files(t, 10);
  export_root ex(t.exp(), {.max_open = 4});
  const handle_t root = ex.serve(req(op::root)).handle;
  const handle_t f0 = ex.serve(req(op::lookup, root, "f0")).handle;
  export_root::digest_started d1 = ex.digest_start(req(op::digest, f0));
  export_root::digest_started d2 = ex.digest_start(req(op::digest, f0));
  ASSERT_TRUE(d1.job && d2.job);
  EXPECT_EQ(ex.descriptors().outside()->load(), 2u);
  for (int i = 1; i < 10; ++i) ex.serve(req(op::lookup, root, file_name(i)));
  EXPECT_LE(ex.descriptors().size(), 2u) << "4 minus the 2 digests hold";
  while (!d1.job->step(1 << 20)) {}
  EXPECT_EQ(ex.descriptors().outside()->load(), 1u) << "a finished job closes its descriptor";
  d2.job.reset();
  EXPECT_EQ(ex.descriptors().outside()->load(), 0u) << "so does an abandoned one";
}

TEST(SfsDescriptors, ClientsHandlesAndQuotaGoWhenItLeaves) {
  temp_tree t;
  make_files(t, 10);
  export_root ex(t.exp(), {.max_open = 4, .max_handles_per_client = 3});
  const handle_t root = ex.serve(req(op::root), 1).handle;
  std::vector<handle_t> a;
  for (int i = 0; i < 3; ++i) a.push_back(ex.serve(req(op::lookup, root, file_name(i)), 1).handle);
  EXPECT_EQ(ex.serve(req(op::lookup, root, "f3"), 1).code, status::too_many_handles);
  EXPECT_EQ(ex.serve(req(op::lookup, root, "f0"), 1).code, status::ok) << "one it holds";
  EXPECT_EQ(ex.counters().handle_quota_refusals.load(), 1u);
  const handle_t shared = ex.serve(req(op::lookup, root, "f0"), 2).handle;
  EXPECT_EQ(shared, a[0]) << "one handle per file, whoever looks it up";
  EXPECT_EQ(ex.serve(req(op::lookup, root, "f5"), 2).code, status::ok) << "client 2 has its own quota";
  ex.release(1);
  EXPECT_EQ(ex.held_by(1), 0u);
  EXPECT_EQ(ex.serve(req(op::getattr, a[1])).code, status::bad_handle) << "held by nobody now: erased";
  EXPECT_EQ(ex.serve(req(op::getattr, shared)).code, status::ok) << "client 2 still holds it";
  EXPECT_EQ(ex.serve(req(op::getattr, root)).code, status::ok) << "the root stays";
  ex.release(2);
  EXPECT_EQ(ex.handles(), 1u) << "only the root is left";
  EXPECT_EQ(ex.descriptors().size(), 0u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(ex.serve(req(op::lookup, root, file_name(i + 6)), 1).code, status::ok)
        << "a client id seen again starts from nothing";
}

// Regression: a file's digest was kept on its handle, which goes when its last holder leaves, so
// every client that came after hashed the file again (the SFS race's clients each begin with a
// DIGEST: 16 of them hashed a 128 MiB file 16 times, and the server's CPU per GB doubled).
TEST(SfsDescriptors, DigestOutlivesTheHandleOfTheClientThatAskedForIt) {
  temp_tree t;
  make_files(t, 2);
  export_root ex(t.exp(), {.max_open = 4});
  const handle_t root = ex.serve(req(op::root), 1).handle;
  const handle_t first = ex.serve(req(op::lookup, root, "f0"), 1).handle;
  export_root::digest_started d = ex.digest_start(req(op::digest, first));
  ASSERT_TRUE(d.job) << "nothing known yet: the file is hashed";
  while (!d.job->step(1 << 20)) {}
  ex.digest_finish(*d.job);
  ex.release(1);
  EXPECT_EQ(ex.serve(req(op::getattr, first)).code, status::bad_handle) << "held by nobody: erased";
  const handle_t again = ex.serve(req(op::lookup, root, "f0"), 2).handle;
  const export_root::digest_started known = ex.digest_start(req(op::digest, again));
  EXPECT_FALSE(known.job) << "hashed again after its first client left";
  EXPECT_EQ(decode_reply(op::digest, known.reply).code, status::ok);
  // A changed file is hashed again.
  t.write("export/f0", "changed, and longer than before");
  d = ex.digest_start(req(op::digest, again));
  EXPECT_TRUE(d.job) << "a stale digest was served";
}
