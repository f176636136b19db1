// apps/sfs/metrics_endpoint.hpp — hue-sfsd's statistics over HTTP for Prometheus
// (hue-sfsd --metrics 127.0.0.1:9464): `GET /metrics` answers the server's counters in the text
// exposition format (server::metrics_text), anything else 404 (405 for another method).
//
//   hue::sfs::metrics_endpoint m(io, {"127.0.0.1", 9464}, [&] { return srv.metrics_text(); });
//
// Loopback only: the constructor refuses any address outside 127.0.0.0/8 and ::1 (the numbers
// are for the operator on the machine, or a scraper it runs there; nothing here is
// authenticated, unlike the file service). One request per connection (Connection: close),
// read up to 8 KiB; the request line is all that is looked at, the headers are skipped. At
// most 8 connections at once: a new one closes the oldest, so a stuck scraper cannot pile up
// descriptors the export's cache counts on. Everything runs on one color of its own.
#pragma once

#include <hue/hue.hpp>

#include <functional>
#include <list>
#include <memory>
#include <string>

namespace hue::sfs {

// Whether `host` is a numeric loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104).
bool is_loopback(const std::string& host);

class metrics_endpoint {
 public:
  // Throws std::invalid_argument for an address that is not loopback, std::system_error when
  // the port cannot be bound.
  metrics_endpoint(hue::reactor& io, const hue::net::endpoint& at, std::function<std::string()> render);
  ~metrics_endpoint();
  metrics_endpoint(const metrics_endpoint&) = delete;
  metrics_endpoint& operator=(const metrics_endpoint&) = delete;

  std::uint16_t port() const noexcept { return port_; }

 private:
  struct scrape;
  void accept(int fd);
  void on_ready(const std::shared_ptr<scrape>& s);
  void finish(const std::shared_ptr<scrape>& s);

  hue::reactor& io_;
  hue::color_t color_;
  std::function<std::string()> render_;
  std::uint16_t port_ = 0;
  std::unique_ptr<hue::net::acceptor> acceptor_;
  std::list<std::shared_ptr<scrape>> open_;  // oldest first; the endpoint's color only
};

}  // namespace hue::sfs
