// fuzz/fuzz_sfs_request.cpp — libFuzzer target for SFS's post-handshake request decoder
// (apps/sfs/protocol.hpp) and the export behind it (apps/sfs/export.hpp).
//
// Input: one transport message's plaintext, as a client would send it after the handshake.
// Harness convention: a handle of 16 zero bytes is replaced by the export root's handle (real
// handles are random and unguessable, so without this the fuzzer would only ever reach
// bad_handle); every handle a LOOKUP returns is remembered, and a handle whose first byte is
// 0xEE and second byte k is replaced by the k-th remembered one.
//
// Checks, aborting on a violation:
//   - a decoded request re-encodes to exactly the input (one spelling per request: no bytes
//     ignored, no field read twice);
//   - a refused request names an id exactly when the input holds the 5-byte header;
//   - the export's reply decodes as a reply to that op, carries the request's id, and a READ
//     reply holds at most the bytes asked for;
//   - a LOOKUP whose path has a '..' or '.' component, a NUL byte or a leading '/', or names the
//     symlinks of the test tree, never succeeds.
#include "export.hpp"
#include "protocol.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace hue::sfs;

void fail(const char* why) {
  std::fprintf(stderr, "fuzz_sfs_request: %s\n", why);
  std::abort();
}

struct tree {
  std::filesystem::path base;
  std::unique_ptr<export_root> ex;
  file_handle root{};
  std::vector<file_handle> seen;
  tree() {
    char t[] = "/tmp/hue-sfs-fuzz-XXXXXX";
    if (!::mkdtemp(t)) fail("mkdtemp");
    base = t;
    namespace fs = std::filesystem;
    fs::create_directories(base / "export" / "dir" / "sub");
    fs::create_directories(base / "outside");
    std::ofstream(base / "outside" / "secret") << "OUTSIDE";
    std::ofstream(base / "export" / "a") << "alpha";
    std::ofstream(base / "export" / "dir" / "b") << std::string(70'000, 'b');
    fs::create_symlink(base / "outside" / "secret", base / "export" / "link");
    fs::create_symlink(base / "outside", base / "export" / "dlink");
    ex = std::make_unique<export_root>(base / "export", export_limits{.max_handles = 64});
    request r;
    r.what = op::root;
    root = ex->serve(r).handle;
    seen.push_back(root);
  }
  ~tree() {
    ex.reset();
    std::error_code ec;
    std::filesystem::remove_all(base, ec);
  }
};

bool escape_spelling(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\0') != std::string::npos) return true;
  std::size_t s = 0;
  while (s <= p.size()) {
    std::size_t e = p.find('/', s);
    if (e == std::string::npos) e = p.size();
    const std::string c = p.substr(s, e - s);
    if (c == ".." || c == "." || c.empty()) return true;
    if ((c == "link" || c == "dlink")) return true;
    s = e + 1;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tree t;
  const std::span<const std::uint8_t> in(data, size);
  const decoded_request d = decode_request(in);
  if (!d.req) {
    if (d.error.reason.empty()) fail("refusal without a reason");
    if (d.error.id.has_value() != (size >= 5)) fail("refusal names an id exactly when 5 bytes are there");
    return 0;
  }
  if (encode_request(*d.req) != std::vector<std::uint8_t>(in.begin(), in.end())) fail("re-encoding differs from the input");
  request r = *d.req;
  if (r.handle == file_handle{}) r.handle = t.root;
  else if (r.handle[0] == 0xEE) r.handle = t.seen[r.handle[1] % t.seen.size()];
  const std::vector<std::uint8_t> out = t.ex->answer(r);
  reply rep;
  try {
    rep = decode_reply(r.what, out);
  } catch (const std::exception&) {
    fail("the export's reply does not decode");
  }
  if (rep.id != r.id) fail("reply id differs from the request's");
  if (r.what == op::read && rep.code == status::ok && rep.data.size() > r.length) fail("READ returned more than asked");
  if (r.what == op::lookup && rep.code == status::ok) {
    if (escape_spelling(r.path)) fail("LOOKUP of an escaping path succeeded");
    if (t.seen.size() < 64) t.seen.push_back(rep.handle);
  }
  return 0;
}
