// parseopt.h alone gives vec, ihash and amisc (the cb*_null callbacks, socket helpers), as
// libasync's did.
#include "parseopt.h"

size_t
pullin_parseopt_all ()
{
  vec<str> v;
  v.push_back ("x");
  cbv c = cbv_null;
  (void) c;
  return v.size ();
}
