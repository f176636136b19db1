// The failure path of refcnt.h and the never-NULL allocators of sysconf.h.
#include "refcnt.h"

#include "err.h"

void
refcnt_null_panic (const char *what)
{
  panic ("%s\n", what);
}

void *
xmalloc (size_t size)
{
  void *p = malloc (size ? size : 1);
  if (!p)
    fatal ("out of memory (%zu bytes)\n", size);
  return p;
}

void *
xrealloc (void *old, size_t size)
{
  void *p = realloc (old, size ? size : 1);
  if (!p)
    fatal ("out of memory (%zu bytes)\n", size);
  return p;
}

char *
xstrdup (const char *s)
{
  size_t n = strlen (s) + 1;
  return static_cast<char *> (memcpy (xmalloc (n), s, n));
}
