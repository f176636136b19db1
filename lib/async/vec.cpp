// vec's growth policy (vec.h): the installed resizer, or libasync's power of two.
#include "vec.h"

#include <algorithm>
#include <atomic>

namespace {
// Read by every color's vec growth; written by set_vec_resizer (at start-up, see vec.h).
std::atomic<vec_resizer_t *> resizer {nullptr};
}  // namespace

void
set_vec_resizer (vec_resizer_t *v)
{
  delete resizer.exchange (v, std::memory_order_acq_rel);
}

size_t
vec_resize_fn (u_int nalloc, u_int nwanted, int objid)
{
  if (vec_resizer_t *r = resizer.load (std::memory_order_acquire))
    return std::max<size_t> (r->resize (nalloc, nwanted, objid), nwanted);
  // libasync's rule: the power of two strictly above both (so a full buffer always doubles).
  u_int top = std::max (nalloc, nwanted);
  return fls (top) >= 32 ? size_t (top) * 2 : size_t (1) << fls (top);
}
