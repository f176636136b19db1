// lib/topology/topology.hpp — the machine as hwloc sees it: which cores the process may use, and
// how to pin a worker to one of them.
//
// hwloc is the only source of topology. It honours HWLOC_XMLFILE and HWLOC_SYNTHETIC, so tests can
// load machines this VM is not; such a topology is "not this system" and is never used for pinning.
// Cache distances for locality-aware stealing will live here too.
#pragma once

#include <hwloc.h>

#include <string>
#include <vector>

namespace hue::internal {

class topology {
 public:
  topology();                          // throws std::runtime_error when hwloc cannot load
  ~topology();
  topology(const topology&) = delete;
  topology& operator=(const topology&) = delete;

  // Cores of the process's cpuset (sched_getaffinity of the constructing thread), in OS order.
  unsigned cores() const noexcept { return static_cast<unsigned>(core_sets_.size()); }
  bool is_this_system() const noexcept;

  // Binds the calling thread to the PUs of `core`. Returns an empty string on success, otherwise
  // why it failed (a restricted cpuset, a synthetic topology, a seccomp'd container).
  std::string bind_current_thread(unsigned core) const;

  int first_os_cpu(unsigned core) const noexcept;

 private:
  hwloc_topology_t topo_ = nullptr;
  std::vector<hwloc_bitmap_t> core_sets_;
};

}  // namespace hue::internal
