// apps/sfs/metrics_endpoint.cpp — the loopback /metrics port (metrics_endpoint.hpp).
#include "metrics_endpoint.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string_view>

namespace hue::sfs {

namespace {
constexpr hue::handler_info scrape_info{.name = "MetricsScrape"};
constexpr std::size_t max_request = 8 * 1024;
constexpr std::size_t max_open = 8;  // picked without data: a scraper or two, and an operator's curl
}  // namespace

bool is_loopback(const std::string& host) {
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) != 1) return false;
  static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6.s6_addr, mapped, 12) == 0) return v6.s6_addr[12] == 127;
  return IN6_IS_ADDR_LOOPBACK(&v6);
}

struct metrics_endpoint::scrape {
  int fd = -1;
  hue::registration watch;
  std::string in, out;
  std::size_t sent = 0;
  bool answered = false;
};

metrics_endpoint::metrics_endpoint(hue::reactor& io, const hue::net::endpoint& at,
                                   std::function<std::string()> render)
    : io_(io), color_(io.rt().new_color()), render_(std::move(render)) {
  if (!is_loopback(at.host))
    throw std::invalid_argument("--metrics: " + at.host +
                                " is not a loopback address (127.0.0.0/8 or ::1): the metrics are "
                                "not authenticated and are served on this machine only");
  const int fd = hue::net::listen_tcp(at);
  port_ = hue::net::local_port(fd);
  acceptor_ = std::make_unique<hue::net::acceptor>(io_, fd, color_, [this](int c) { accept(c); });
}

metrics_endpoint::~metrics_endpoint() {
  acceptor_.reset();
  for (auto& s : open_) {
    s->watch.reset();
    ::close(s->fd);
  }
}

void metrics_endpoint::accept(int fd) {
  if (open_.size() >= max_open) {
    const std::shared_ptr<scrape> oldest = open_.front();  // a copy: finish() erases the entry
    finish(oldest);
  }
  auto s = std::make_shared<scrape>();
  s->fd = fd;
  open_.push_back(s);
  std::weak_ptr<scrape> w = s;
  s->watch = io_.watch(fd, hue::readable | hue::writable, color_, [this, w](hue::io_events) {
    if (auto p = w.lock()) on_ready(p);
  }, hue::watch_mode::persistent, scrape_info);
}

void metrics_endpoint::on_ready(const std::shared_ptr<scrape>& s) {
  if (s->fd < 0) return;
  while (!s->answered) {
    char buf[2048];
    const hue::net::io_result r = hue::net::read_some(s->fd, buf, sizeof buf);
    if (r.status == hue::net::io_status::would_block) return;
    if (r.status != hue::net::io_status::ok) return finish(s);
    s->in.append(buf, r.bytes);
    const bool whole = s->in.find("\r\n\r\n") != std::string::npos;
    if (!whole && s->in.size() < max_request) continue;
    // The request line only: "GET /metrics HTTP/1.1" (a query string is allowed and ignored).
    const std::string_view line = std::string_view(s->in).substr(0, s->in.find("\r\n"));
    std::string status = "404 Not Found", body = "not found: only GET /metrics is served here\n";
    std::string type = "text/plain; charset=utf-8";
    if (!whole) {
      status = "431 Request Header Fields Too Large";
      body = "request over 8 KiB\n";
    } else if (line.rfind("GET ", 0) != 0) {
      status = "405 Method Not Allowed";
      body = "only GET\n";
    } else if (line.rfind("GET /metrics ", 0) == 0 || line.rfind("GET /metrics?", 0) == 0) {
      status = "200 OK";
      body = render_();
      type = "text/plain; version=0.0.4; charset=utf-8";  // what Prometheus asks for this format
    }
    s->out = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    s->answered = true;
  }
  while (s->sent < s->out.size()) {
    const hue::net::io_result r = hue::net::write_some(s->fd, s->out.data() + s->sent, s->out.size() - s->sent);
    if (r.status == hue::net::io_status::would_block) return;  // the writable edge comes back here
    if (r.status != hue::net::io_status::ok) return finish(s);
    s->sent += r.bytes;
  }
  finish(s);
}

void metrics_endpoint::finish(const std::shared_ptr<scrape>& s) {
  if (s->fd < 0) return;
  s->watch.reset();  // before close(): the number may be reused at once
  ::close(s->fd);
  s->fd = -1;
  open_.remove(s);
}

}  // namespace hue::sfs
