// tools/load/loopback.hpp — where the load client connects, and what it needs of the process.
// Loopback only: resolve_loopback refuses any other address, so neither hue-injector nor
// microbench/echo can be pointed at someone else's machine.
#pragma once

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace load {

struct target {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // 127.0.0.1:8080 or [::1]:8080, for reports and Host headers
};

inline bool is_loopback(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in&>(ss).sin_addr.s_addr) >> 24) == 127;
  if (ss.ss_family != AF_INET6) return false;
  const auto& a = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
  return IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127);
}

// host:port, where every address `host` resolves to must be loopback, or it throws.
inline target resolve_loopback(const std::string& host, unsigned port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); rc)
    throw std::runtime_error("cannot resolve '" + host + "': " + gai_strerror(rc));
  const std::unique_ptr<addrinfo, void (*)(addrinfo*)> hold(res, freeaddrinfo);
  target t;
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    char name[NI_MAXHOST] = "?";
    getnameinfo(ai->ai_addr, ai->ai_addrlen, name, sizeof name, nullptr, 0, NI_NUMERICHOST);
    if (!is_loopback(ss))
      throw std::runtime_error("refusing '" + host + "' (" + name + "): not a loopback address; "
                               "only servers on this machine (127.0.0.0/8, ::1) are loaded");
    if (t.len != 0) continue;
    t.addr = ss;
    t.len = static_cast<socklen_t>(ai->ai_addrlen);
    t.text = (ss.ss_family == AF_INET6 ? "[" + std::string(name) + "]" : std::string(name)) + ":" +
             std::to_string(port);
  }
  if (t.len == 0) throw std::runtime_error("'" + host + "' resolves to no address");
  return t;
}

// Each connection is an fd here (and one at the server, when it runs in this process).
inline void raise_fd_limit(unsigned fds) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= fds + 64) return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? fds + 64 : std::min<rlim_t>(fds + 64, rl.rlim_max);
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < fds + 64)
    std::fprintf(stderr, "warning: the fd limit (%llu) is below the %u connections\n",
                 static_cast<unsigned long long>(rl.rlim_cur), fds);
}

}  // namespace load
