// The non-template part of parseopt.h.
#include "parseopt.h"

int64_t
strtoi64 (const char *nptr, char **endptr, int base)
{
  return strtoll (nptr, endptr, base);
}

void
mytolower (char *dest, const char *src)
{
  while (*src)
    *dest++ = char (tolower (static_cast<u_char> (*src++)));
  *dest = '\0';
}

str
mytolower (const str &in)
{
  if (!in)
    return in;
  mstr m (in.len ());
  for (size_t i = 0; i < in.len (); i++)
    m.cstr ()[i] = char (tolower (static_cast<u_char> (in[i])));
  return m;
}
