// ihash.h alone gives vec, as libasync's did.
#include "ihash.h"

size_t
pullin_ihash_vec ()
{
  vec<int> v;
  v.push_back (1);
  return v.size ();
}
