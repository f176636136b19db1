// The do-nothing callbacks of amisc.h and the small helpers with no better home.
#include "amisc.h"

namespace {
void ignore0 () {}
void ignore_int (int) {}
void ignore_str (str) {}
void ignore_bool (bool) {}
}  // namespace

cbv cbv_null (wrap (ignore0));
cbi cbi_null (wrap (ignore_int));
cbs cbs_null (wrap (ignore_str));
cbb cbb_null (wrap (ignore_bool));

char *
xstrsep (char **sp, const char *delim)
{
  return strsep (sp, delim);
}

char *
strnnsep (char **sp, const char *delim)
{
  char *tok;
  do
    tok = strsep (sp, delim);
  while (tok && !*tok);
  return tok;
}

char *
mempbrk (char *s, const char *accept, int len)
{
  for (char *e = s + (len > 0 ? len : 0); s < e; s++)
    if (*s && strchr (accept, *s))  // strchr would also find the terminating '\0'
      return s;
  return NULL;
}

bool
stat_unchanged (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_mtim.tv_sec == b->st_mtim.tv_sec
         && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_size == b->st_size;
}
