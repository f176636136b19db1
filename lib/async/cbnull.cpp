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
