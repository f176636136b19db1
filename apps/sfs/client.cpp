// apps/sfs/client.cpp — the blocking SFS client.
#include "client.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace hue::sfs {

namespace {
using sclock = std::chrono::steady_clock;

request rq(op w, const file_handle& h = {}) {
  request r;
  r.what = w;
  r.handle = h;
  return r;
}

int connect_to(const sfs_name& n, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(n.port);
  if (int e = ::getaddrinfo(n.host.c_str(), port.c_str(), &hints, &res); e != 0)
    throw client_failure(exit_code::connect, "cannot resolve " + n.host + ": " + ::gai_strerror(e));
  int fd = -1, err = 0;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    err = errno;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) throw client_failure(exit_code::connect, "cannot connect to " + format_location(n.host, n.port) +
                                                           ": " + std::strerror(err));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

std::string hex(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (std::uint8_t b : bytes) {
    s.push_back(digits[b >> 4]);
    s.push_back(digits[b & 15]);
  }
  return s;
}

client::client(const sfs_name& server, client_options o) {
  keys_ = o.keys ? *o.keys : generate_key_pair();
  fd_ = connect_to(server, o.timeout);
  channel_options co;
  co.transport = o.transport;
  ch_.emplace(channel::client(keys_, server, std::move(co)));
  std::vector<std::uint8_t> out;
  ch_->start(out);
  write_all(out);
  while (!ch_->established()) fill();
}

client::~client() {
  if (fd_ >= 0) ::close(fd_);
}

[[noreturn]] void client::channel_failed(const protocol_error& e) {
  if (e.kind() == error_kind::wrong_host)
    throw client_failure(exit_code::authentication,
                         std::string("the server's key does not match the HOSTID in its name; aborted "
                                     "before sending anything that identifies this client (") + e.what() + ")");
  throw client_failure(exit_code::channel, std::string("secure channel failed: ") + e.what());
}

void client::write_all(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t w = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        throw client_failure(exit_code::channel, "time-out writing to the server");
      throw client_failure(exit_code::channel, std::string("connection lost: ") + std::strerror(errno));
    }
    bytes = bytes.subspan(static_cast<std::size_t>(w));
  }
}

void client::fill() {
  std::uint8_t buf[64 * 1024];
  ssize_t n;
  do n = ::recv(fd_, buf, sizeof buf, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) throw client_failure(exit_code::channel, "time-out waiting for the server");
    throw client_failure(exit_code::channel, std::string("connection lost: ") + std::strerror(errno));
  }
  try {
    if (n == 0) {
      const bool in_handshake = !ch_->established();
      try {
        ch_->end_of_stream();
      } catch (const protocol_error& e) {
        throw client_failure(exit_code::channel,
                             in_handshake
                                 ? std::string("the server closed the connection during the handshake (it refuses "
                                               "a name whose HOSTID is not its key, and evicts stalled handshakes "
                                               "under a flood: retrying may work); nothing identifying this "
                                               "client was sent")
                             : next_id_ <= 2
                                 ? std::string("the server closed the connection without a reply (refused: is this "
                                               "client's key on its allow-list?)")
                                 : std::string("the server's stream ended without its authenticated close (truncated): ") +
                                       e.what());
      }
      closed_by_peer_ = true;
      throw client_failure(exit_code::channel, closed_message());
    }
    std::vector<std::uint8_t> out;
    auto r = ch_->receive({buf, static_cast<std::size_t>(n)}, out);
    if (!out.empty()) write_all(out);
    for (auto& m : r.messages) inbox_.push_back(std::move(m));
    if (r.closed) closed_by_peer_ = true;
  } catch (const protocol_error& e) {
    channel_failed(e);
  }
}

std::string client::closed_message() {
  const close_reason why = ch_->secure().receiver().peer_close_reason();
  if (why == close_reason::done) return "the server closed the connection";
  return std::string("the server closed the connection (") + to_string(why) + ")";
}

std::optional<close_reason> client::peer_close_reason() {
  if (!closed_by_peer_ || !ch_ || !ch_->established()) return std::nullopt;
  return ch_->secure().receiver().peer_close_reason();
}

std::uint32_t client::send(request r) {
  r.id = next_id_++;
  std::vector<std::uint8_t> out;
  try {
    ch_->secure().seal(encode_request(r), out);
  } catch (const protocol_error& e) {
    channel_failed(e);
  }
  write_all(out);
  return r.id;
}

std::vector<std::uint8_t> client::receive() {
  while (inbox_.empty()) {
    if (closed_by_peer_) throw client_failure(exit_code::channel, closed_message());
    fill();
  }
  auto m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

reply client::call(request r) {
  const op what = r.what;
  const std::uint32_t id = send(std::move(r));
  reply rep;
  try {
    rep = decode_reply(what, receive());
  } catch (const std::runtime_error& e) {
    if (dynamic_cast<const client_failure*>(&e)) throw;
    throw client_failure(exit_code::channel, e.what());
  }
  if (rep.id != id) throw client_failure(exit_code::channel, "reply to an unknown request id");
  if (rep.code != status::ok) {
    client_failure f(exit_code::remote, std::string(to_string(rep.code)) + ": " + rep.message);
    f.remote_status = rep.code;
    throw f;
  }
  return rep;
}

reply client::root() { return call(rq(op::root)); }
reply client::lookup(const file_handle& dir, const std::string& path) {
  request r = rq(op::lookup, dir);
  r.path = path;
  return call(std::move(r));
}
reply client::getattr(const file_handle& h) { return call(rq(op::getattr, h)); }
reply client::digest(const file_handle& h) { return call(rq(op::digest, h)); }

std::vector<dir_entry> client::readdir(const file_handle& dir) {
  std::vector<dir_entry> all;
  std::uint64_t cookie = 0;
  do {
    request q = rq(op::readdir, dir);
    q.cookie = cookie;
    q.count = max_readdir;
    reply r = call(std::move(q));
    for (auto& e : r.entries) all.push_back(std::move(e));
    cookie = r.next_cookie;
  } while (cookie != 0);
  return all;
}

std::array<std::uint8_t, 32> client::read_file(const file_handle& h, unsigned window,
                                               const std::function<void(std::span<const std::uint8_t>)>& sink,
                                               read_stats* stats, std::uint32_t block,
                                               const std::function<bool()>& keep_going) {
  if (window == 0) window = 1;
  const std::uint64_t size = getattr(h).attr.size;
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init(&sha);
  struct pending {
    std::uint64_t offset;
    sclock::time_point sent;
  };
  std::unordered_map<std::uint32_t, pending> outstanding;
  std::map<std::uint64_t, std::vector<std::uint8_t>> early;  // out-of-order blocks, by offset
  std::uint64_t next_send = 0, next_deliver = 0;
  bool eof_seen = false;
  auto deliver = [&](std::span<const std::uint8_t> d) {
    crypto_hash_sha256_update(&sha, d.data(), d.size());
    if (stats) stats->bytes += d.size();
    sink(d);
    next_deliver += d.size();
  };
  while (true) {
    while (!eof_seen && outstanding.size() < window && next_send < size && (!keep_going || keep_going())) {
      request q = rq(op::read, h);
      q.offset = next_send;
      q.length = block;
      const std::uint32_t id = send(std::move(q));
      outstanding.emplace(id, pending{next_send, sclock::now()});
      next_send += block;
    }
    if (outstanding.empty()) break;
    const auto msg = receive();
    const auto id = reply_id(msg);
    auto it = id ? outstanding.find(*id) : outstanding.end();
    if (it == outstanding.end()) throw client_failure(exit_code::channel, "reply to an unknown request id");
    reply r;
    try {
      r = decode_reply(op::read, msg);
    } catch (const std::runtime_error& e) {
      throw client_failure(exit_code::channel, e.what());
    }
    if (r.code != status::ok) {
      client_failure f(exit_code::remote, std::string("READ: ") + to_string(r.code) + ": " + r.message);
      f.remote_status = r.code;
      throw f;
    }
    if (stats)
      stats->latencies_us.push_back(
          std::chrono::duration<double, std::micro>(sclock::now() - it->second.sent).count());
    const std::uint64_t off = it->second.offset;
    outstanding.erase(it);
    if (r.data.size() < block) eof_seen = true;  // the file may have shrunk: stop issuing
    if (off == next_deliver) {
      deliver(r.data);
      for (auto e = early.begin(); e != early.end() && e->first == next_deliver; e = early.erase(e)) deliver(e->second);
    } else {
      early.emplace(off, std::move(r.data));
    }
  }
  // Blocks after a short one (a file that shrank) are dropped; the digest check catches that.
  std::array<std::uint8_t, 32> d{};
  crypto_hash_sha256_final(&sha, d.data());
  return d;
}

void client::close() {
  if (fd_ < 0 || !ch_ || !ch_->established()) return;
  std::vector<std::uint8_t> out;
  try {
    ch_->secure().seal_close(out);
    write_all(out);
    ::shutdown(fd_, SHUT_WR);
    while (!closed_by_peer_) fill();
  } catch (const std::exception&) {
    // Best effort: the server closes its side after our close either way.
  }
}

reply resolve(client& c, const std::string& path) {
  std::size_t i = 0;
  while (i < path.size() && path[i] == '/') ++i;
  std::string rest = path.substr(i);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  reply root = c.root();
  if (rest.empty()) return root;
  return c.lookup(root.handle, rest);
}

}  // namespace hue::sfs
