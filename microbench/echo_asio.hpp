// microbench/echo_asio.hpp — the Boost.Asio peer of microbench/echo: an echo server as Asio's
// examples write one, on one io_context run by `workers` threads pinned as hue pins its workers.
// Compiled in when meson finds Boost (HUE_BENCH_ASIO); `built` says whether it was.
//
//   echo_asio::server s(2);           // listening on a free port of 127.0.0.1, serving
//   s.acceptor.local_endpoint().port();
#pragma once

#include <pthread.h>
#include <sched.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>  // before Boost 1.74's asio, whose awaitable.hpp uses std::exchange unincluded
#include <vector>

#ifdef HUE_BENCH_ASIO
#include <boost/asio.hpp>
#endif

namespace echo_asio {

inline cpu_set_t allowed_cpus() {
  cpu_set_t s;
  CPU_ZERO(&s);
  sched_getaffinity(0, sizeof s, &s);
  return s;
}

#ifndef HUE_BENCH_ASIO
constexpr bool built = false;
#else
constexpr bool built = true;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace asio = boost::asio;
using asio::ip::tcp;

// Boost.Asio's echo server as its examples write it: the session keeps itself alive through the
// shared_ptr its pending handler holds; its socket is on a strand of its own, so its handlers never
// run on two threads at once, as a hue connection's color guarantees. 16 KiB buffer, as hue's.
class session : public std::enable_shared_from_this<session> {
 public:
  explicit session(tcp::socket s) : socket_(std::move(s)) {}
  void read() {
    socket_.async_read_some(asio::buffer(data_), [self = shared_from_this()](
                                                     boost::system::error_code ec, std::size_t n) {
      if (!ec)
        asio::async_write(self->socket_, asio::buffer(self->data_, n),
                          [self](boost::system::error_code ec, std::size_t) {
                            if (!ec) self->read();
                          });
    });
  }

 private:
  tcp::socket socket_;
  std::array<char, 16384> data_;
};

// Thread i pins itself to the i-th CPU this process may use, as hue pins worker i.
inline void pin_like_hue(unsigned i) {
  if (const char* p = std::getenv("HUE_PIN"); p != nullptr && std::string_view(p) == "0") return;
  const cpu_set_t allowed = allowed_cpus();
  for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &allowed) && seen++ == static_cast<int>(i % CPU_COUNT(&allowed))) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      return;
    }
}

// Teardown order: stop the io_context and join its threads (the destructor's body), then the
// acceptor, then the io_context, whose services destroy the pending handlers that hold the last
// references to the sessions.
struct server {
  asio::io_context ctx;
  tcp::acceptor acceptor{ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::vector<std::thread> threads;

  explicit server(unsigned workers) {
    accept();
    for (unsigned i = 0; i < workers; ++i)
      threads.emplace_back([this, i] {
        pin_like_hue(i);
        ctx.run();
      });
  }
  ~server() {
    ctx.stop();
    for (std::thread& t : threads) t.join();
  }
  void accept() {
    acceptor.async_accept(asio::make_strand(ctx), [this](boost::system::error_code ec,
                                                         tcp::socket s) {
      if (!ec) s.set_option(tcp::no_delay(true), ec);
      if (!ec) std::make_shared<session>(std::move(s))->read();
      if (ec != asio::error::operation_aborted) accept();
    });
  }
};
#endif  // HUE_BENCH_ASIO

}  // namespace echo_asio
