// lib/topology/topology.hpp — the machine as hwloc sees it: which cores the process may use, and
// how to pin a worker to one of them.
//
// hwloc is the only source of topology. A description ("synthetic:pack:2 l2:2 core:2 pu:1" or
// "xml:/path/machine.xml"; hwloc's own HWLOC_SYNTHETIC / HWLOC_XMLFILE work too) loads a machine
// this VM is not, so tests can check locality on the paper's Xeon E5410 or a NUMA box; such a
// topology is "not this system" and is never used for pinning.
//
// Distances between cores, for locality-aware stealing (the Mely paper): the level of the nearest
// thing two cores share, from a shared L2 (closest) to nothing but the machine.
#pragma once

#include <hwloc.h>

#include <string>
#include <vector>

namespace hue::internal {

class topology {
 public:
  // `description`: empty for this machine, else "synthetic:..." or "xml:...".
  explicit topology(const std::string& description = {});  // throws std::runtime_error
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

  enum class distance : unsigned { same_core, l2, l3, package, numa_node, machine };
  distance between(unsigned a, unsigned b) const;  // indices as for cores()

 private:
  hwloc_topology_t topo_ = nullptr;
  std::vector<hwloc_bitmap_t> core_sets_;
};

}  // namespace hue::internal
