/* hash.c: the one hash (FNV-1a) and the one seed mixer (splitmix64). */
#include "util/ss_util.h"

uint64_t ss_util_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * SS_UTIL_FNV_PRIME;
    return h;
}

uint64_t ss_util_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
