#include "topology.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace hue::internal {

topology::topology(const std::string& description) {
  if (hwloc_topology_init(&topo_) != 0) throw std::runtime_error("hue: hwloc_topology_init failed");
  int rc = 0;
  if (description.rfind("synthetic:", 0) == 0) {
    rc = hwloc_topology_set_synthetic(topo_, description.c_str() + 10);
  } else if (description.rfind("xml:", 0) == 0) {
    rc = hwloc_topology_set_xml(topo_, description.c_str() + 4);
  } else if (!description.empty()) {
    rc = -1;
  }
  if (rc != 0) {
    hwloc_topology_destroy(topo_);
    throw std::invalid_argument("hue: topology '" + description +
                                "' is neither 'synthetic:<hwloc description>' nor 'xml:<file>', "
                                "or hwloc rejected it");
  }
  if (hwloc_topology_load(topo_) != 0) {
    hwloc_topology_destroy(topo_);
    throw std::runtime_error("hue: hwloc_topology_load failed");
  }

  // The cpus this thread may run on: taskset, cgroup cpusets and container limits all show here.
  hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
  if (!is_this_system() || hwloc_get_cpubind(topo_, allowed, HWLOC_CPUBIND_THREAD) != 0 ||
      hwloc_bitmap_iszero(allowed)) {
    hwloc_bitmap_copy(allowed, hwloc_topology_get_topology_cpuset(topo_));
  }

  // One worker slot per core (not per hardware thread, as in the paper). Machines that expose no
  // core objects fall back to processing units.
  hwloc_obj_type_t unit = hwloc_get_nbobjs_by_type(topo_, HWLOC_OBJ_CORE) > 0 ? HWLOC_OBJ_CORE
                                                                               : HWLOC_OBJ_PU;
  for (hwloc_obj_t o = hwloc_get_next_obj_by_type(topo_, unit, nullptr); o;
       o = hwloc_get_next_obj_by_type(topo_, unit, o)) {
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    hwloc_bitmap_and(set, o->cpuset, allowed);
    if (hwloc_bitmap_iszero(set)) {
      hwloc_bitmap_free(set);
      continue;
    }
    core_sets_.push_back(set);
  }
  hwloc_bitmap_free(allowed);
  if (core_sets_.empty()) {
    hwloc_topology_destroy(topo_);
    throw std::runtime_error("hue: hwloc found no usable core");
  }
}

topology::~topology() {
  for (hwloc_bitmap_t s : core_sets_) hwloc_bitmap_free(s);
  hwloc_topology_destroy(topo_);
}

bool topology::is_this_system() const noexcept { return hwloc_topology_is_thissystem(topo_) != 0; }

std::string topology::bind_current_thread(unsigned core) const {
  if (!is_this_system()) return "the topology is not this machine's (HWLOC_XMLFILE/SYNTHETIC)";
  if (hwloc_set_cpubind(topo_, core_sets_.at(core), HWLOC_CPUBIND_THREAD) != 0)
    return std::string("hwloc_set_cpubind: ") + std::strerror(errno);
  return {};
}

int topology::first_os_cpu(unsigned core) const noexcept {
  return hwloc_bitmap_first(core_sets_[core]);
}

topology::distance topology::between(unsigned a, unsigned b) const {
  if (a == b) return distance::same_core;
  hwloc_bitmap_t both = hwloc_bitmap_alloc();
  hwloc_bitmap_or(both, core_sets_.at(a), core_sets_.at(b));
  distance d = distance::machine;
  // The smallest cache holding both cores, else the smallest object holding both: a package on the
  // way up from it, or a NUMA node attached on the way (hwloc 2 hangs memory off CPU-side objects).
  const hwloc_obj_t cache = hwloc_get_cache_covering_cpuset(topo_, both);
  if (cache && cache->attr->cache.depth <= 2) {
    d = distance::l2;
  } else if (cache && cache->attr->cache.depth == 3) {
    d = distance::l3;
  } else {
    bool package = false, numa = false;
    for (hwloc_obj_t o = hwloc_get_obj_covering_cpuset(topo_, both); o; o = o->parent) {
      package |= o->type == HWLOC_OBJ_PACKAGE;
      numa |= o->memory_arity > 0;
    }
    d = package ? distance::package : numa ? distance::numa_node : distance::machine;
  }
  hwloc_bitmap_free(both);
  return d;
}

}  // namespace hue::internal
