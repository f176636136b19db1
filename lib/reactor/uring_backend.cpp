// lib/reactor/uring_backend.cpp — the io_uring backend: not written yet, so a reactor asked for
// io_uring says so and polls with epoll.
#include "poll_backend.hpp"

namespace hue::internal {

std::unique_ptr<poll_backend> make_uring_backend(int, int, poll_sink&, std::string& why) {
  why = "hue was built without liburing";
  return nullptr;
}

}  // namespace hue::internal
