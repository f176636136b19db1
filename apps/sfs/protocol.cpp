// apps/sfs/protocol.cpp — encoding and the hostile-input decoders of the request protocol.
// Hand-written (no serialization library) because the format is a dozen fixed fields and the
// decoder must be small enough to audit and fuzz; every read goes through `reader`, which checks
// bounds before touching a byte.
#include "protocol.hpp"

#include <cstring>
#include <stdexcept>

namespace hue::sfs {

const char* to_string(status s) noexcept {
  switch (s) {
    case status::ok: return "ok";
    case status::bad_request: return "bad request";
    case status::bad_handle: return "bad handle";
    case status::not_found: return "not found";
    case status::not_dir: return "not a directory";
    case status::is_dir: return "is a directory";
    case status::refused: return "refused";
    case status::bad_name: return "bad name";
    case status::io_error: return "i/o error";
    case status::too_large: return "too large";
    case status::busy: return "busy";
    case status::too_many_handles: return "too many handles";
    case status::too_many_requests: return "too many requests";
    case status::stale_handle: return "stale handle";
  }
  return "unknown status";
}

namespace {

class reader {
 public:
  explicit reader(std::span<const std::uint8_t> b) : b_(b) {}
  bool u8(std::uint8_t& v) {
    if (left() < 1) return false;
    v = b_[pos_++];
    return true;
  }
  bool u16(std::uint16_t& v) {
    if (left() < 2) return false;
    v = static_cast<std::uint16_t>(b_[pos_] << 8 | b_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) {
    if (left() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | b_[pos_++];
    return true;
  }
  bool u64(std::uint64_t& v) {
    if (left() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | b_[pos_++];
    return true;
  }
  bool bytes(std::uint8_t* to, std::size_t n) {
    if (left() < n) return false;
    std::memcpy(to, b_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool text(std::string& s, std::size_t n) {
    if (left() < n) return false;
    s.assign(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::size_t left() const noexcept { return b_.size() - pos_; }

 private:
  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
};

void put8(std::vector<std::uint8_t>& o, std::uint8_t v) { o.push_back(v); }
void put16(std::vector<std::uint8_t>& o, std::uint16_t v) {
  o.push_back(static_cast<std::uint8_t>(v >> 8));
  o.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& o, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) o.push_back(static_cast<std::uint8_t>(v >> s));
}
void put64(std::vector<std::uint8_t>& o, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) o.push_back(static_cast<std::uint8_t>(v >> s));
}
void put_bytes(std::vector<std::uint8_t>& o, std::span<const std::uint8_t> b) {
  o.insert(o.end(), b.begin(), b.end());
}
void put_attr(std::vector<std::uint8_t>& o, const attributes& a) {
  put8(o, static_cast<std::uint8_t>(a.type));
  put32(o, a.mode);
  put64(o, a.size);
  put64(o, a.mtime_ns);
}
bool get_attr(reader& r, attributes& a) {
  std::uint8_t t = 0;
  if (!r.u8(t) || t > 2 || !r.u32(a.mode) || !r.u64(a.size) || !r.u64(a.mtime_ns)) return false;
  a.type = static_cast<file_type>(t);
  return true;
}

decoded_request fail(std::optional<std::uint32_t> id, std::string why) {
  return {std::nullopt, {id, std::move(why)}};
}

}  // namespace

std::vector<std::uint8_t> encode_request(const request& r) {
  std::vector<std::uint8_t> o;
  put8(o, static_cast<std::uint8_t>(r.what));
  put32(o, r.id);
  if (r.what != op::root) put_bytes(o, r.handle);
  switch (r.what) {
    case op::lookup:
      put16(o, static_cast<std::uint16_t>(r.path.size()));
      o.insert(o.end(), r.path.begin(), r.path.end());
      break;
    case op::readdir:
      put64(o, r.cookie);
      put16(o, r.count);
      break;
    case op::read:
      put64(o, r.offset);
      put32(o, r.length);
      break;
    default:
      break;
  }
  return o;
}

decoded_request decode_request(std::span<const std::uint8_t> bytes) {
  reader in(bytes);
  std::uint8_t code = 0;
  request r;
  if (!in.u8(code)) return fail(std::nullopt, "empty request");
  if (!in.u32(r.id)) return fail(std::nullopt, "request shorter than its 5-byte header");
  if (code < 1 || code > 6) return fail(r.id, "unknown operation " + std::to_string(code));
  r.what = static_cast<op>(code);
  if (r.what != op::root && !in.bytes(r.handle.data(), r.handle.size()))
    return fail(r.id, "request cut short inside its handle");
  switch (r.what) {
    case op::lookup: {
      std::uint16_t n = 0;
      if (!in.u16(n)) return fail(r.id, "LOOKUP cut short before its path length");
      // A path over max_path decodes (its u16 length bounds it to 64 KiB): the export refuses it
      // with bad_name like every other invalid path, so a client sees one status for it.
      if (!in.text(r.path, n)) return fail(r.id, "LOOKUP path shorter than its length");
      break;
    }
    case op::readdir:
      if (!in.u64(r.cookie) || !in.u16(r.count)) return fail(r.id, "READDIR cut short");
      if (r.count == 0) return fail(r.id, "READDIR of 0 entries");
      break;
    case op::read:
      if (!in.u64(r.offset) || !in.u32(r.length)) return fail(r.id, "READ cut short");
      if (r.length == 0) return fail(r.id, "READ of 0 bytes");
      break;
    default:
      break;
  }
  if (in.left() != 0)
    return fail(r.id, std::to_string(in.left()) + " bytes after the end of the request");
  return {std::move(r), {}};
}

std::vector<std::uint8_t> encode_reply(op what, const reply& r) {
  if (r.code != status::ok) return encode_error(r.id, r.code, r.message);
  std::vector<std::uint8_t> o;
  put32(o, r.id);
  put8(o, 0);
  switch (what) {
    case op::root:
    case op::lookup:
      put_bytes(o, r.handle);
      put_attr(o, r.attr);
      break;
    case op::getattr:
      put_attr(o, r.attr);
      break;
    case op::readdir:
      put64(o, r.next_cookie);
      put16(o, static_cast<std::uint16_t>(r.entries.size()));
      for (const dir_entry& e : r.entries) {
        put8(o, static_cast<std::uint8_t>(e.type));
        put8(o, static_cast<std::uint8_t>(e.name.size()));  // names are <= 255 bytes (NAME_MAX)
        o.insert(o.end(), e.name.begin(), e.name.end());
      }
      break;
    case op::read:
      o.clear();
      encode_read_reply(r.id, r.eof, r.data, o);
      break;
    case op::digest:
      put64(o, r.digest_size);
      put_bytes(o, r.sha256);
      break;
  }
  return o;
}

void encode_read_reply(std::uint32_t id, bool eof, std::span<const std::uint8_t> data,
                       std::vector<std::uint8_t>& o) {
  put32(o, id);
  put8(o, 0);
  put8(o, eof ? 1 : 0);
  put32(o, static_cast<std::uint32_t>(data.size()));
  put_bytes(o, data);
}

std::vector<std::uint8_t> encode_error(std::uint32_t id, status code, std::string_view message) {
  if (message.size() > max_error_message) message = message.substr(0, max_error_message);
  std::vector<std::uint8_t> o;
  put32(o, id);
  put8(o, static_cast<std::uint8_t>(code));
  put16(o, static_cast<std::uint16_t>(message.size()));
  o.insert(o.end(), message.begin(), message.end());
  return o;
}

std::optional<std::uint32_t> reply_id(std::span<const std::uint8_t> bytes) {
  reader in(bytes);
  std::uint32_t id = 0;
  if (!in.u32(id)) return std::nullopt;
  return id;
}

reply decode_reply(op what, std::span<const std::uint8_t> bytes) {
  reader in(bytes);
  reply r;
  std::uint8_t code = 0;
  auto bad = [](const char* why) { return std::runtime_error(std::string("malformed reply: ") + why); };
  if (!in.u32(r.id) || !in.u8(code)) throw bad("shorter than its header");
  if (code > static_cast<std::uint8_t>(status::stale_handle)) throw bad("unknown status");
  r.code = static_cast<status>(code);
  if (r.code != status::ok) {
    std::uint16_t n = 0;
    if (!in.u16(n) || n > max_error_message || !in.text(r.message, n)) throw bad("error message");
  } else {
    switch (what) {
      case op::root:
      case op::lookup:
        if (!in.bytes(r.handle.data(), r.handle.size()) || !get_attr(in, r.attr)) throw bad("handle/attributes");
        break;
      case op::getattr:
        if (!get_attr(in, r.attr)) throw bad("attributes");
        break;
      case op::readdir: {
        std::uint16_t n = 0;
        if (!in.u64(r.next_cookie) || !in.u16(n) || n > max_readdir) throw bad("READDIR header");
        for (std::uint16_t i = 0; i < n; ++i) {
          dir_entry e;
          std::uint8_t t = 0, len = 0;
          if (!in.u8(t) || t > 2 || !in.u8(len) || len == 0 || !in.text(e.name, len)) throw bad("READDIR entry");
          e.type = static_cast<file_type>(t);
          r.entries.push_back(std::move(e));
        }
        break;
      }
      case op::read: {
        std::uint8_t eof = 0;
        std::uint32_t n = 0;
        if (!in.u8(eof) || eof > 1 || !in.u32(n) || n > max_read || in.left() != n) throw bad("READ data length");
        r.eof = eof == 1;
        auto d = in.take(n);
        r.data.assign(d.begin(), d.end());
        break;
      }
      case op::digest:
        if (!in.u64(r.digest_size) || !in.bytes(r.sha256.data(), r.sha256.size())) throw bad("DIGEST");
        break;
    }
  }
  if (in.left() != 0) throw bad("trailing bytes");
  return r;
}

}  // namespace hue::sfs
