// suio++.h alone gives callbacks and vec, as libasync's did (its suio took callbacks).
#include "suio++.h"

static void
pullin_suio_add (int *n)
{
  ++*n;
}

int
pullin_suio_wrap_and_vec ()
{
  int n = 0;
  callback<void>::ref c = wrap (pullin_suio_add, &n);
  (*c) ();
  vec<int> v;
  v.push_back (n);
  return v[0];
}
