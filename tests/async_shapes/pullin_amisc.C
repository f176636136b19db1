// amisc.h alone gives readfd/writefd, as libasync's did (it included rwfd.h).
#include "amisc.h"

extern ssize_t (*const pullin_amisc_readfd) (int, void *, size_t, int *) = readfd;
