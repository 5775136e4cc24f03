/* num.c: number parsing and formatting shared by every input path. */
#include "util/ss_util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ss_util_parse_double(const char *s, double *out)
{
    char *end;
    if (!s)
        return SS_EINVAL;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return SS_EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE)
        return SS_EINVAL;
    while (isspace((unsigned char)*end))
        end++;
    if (*end || !isfinite(v))
        return SS_EINVAL;
    *out = v;
    return SS_OK;
}

int ss_util_parse_spice_number(const char *s, double *out)
{
    char *end;
    if (!s)
        return SS_EINVAL;
    while (isspace((unsigned char)*s))
        s++;
    /* strtod would accept "inf", "nan" and hex: SPICE does not. */
    if (!*s || !(isdigit((unsigned char)*s) || *s == '.' || *s == '-' || *s == '+'))
        return SS_EINVAL;
    if (strchr(s, 'x') || strchr(s, 'X'))
        return SS_EINVAL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE)
        return SS_EINVAL;
    const char *mant_end = end;
    double scale = 1.0;
    int exp10 = 0;
    if (!strncasecmp(end, "meg", 3)) {
        exp10 = 6;
        end += 3;
    } else if (!strncasecmp(end, "mil", 3)) {
        scale = 25.4e-6;
        end += 3;
    } else {
        switch (tolower((unsigned char)*end)) {
        case 't': exp10 = 12; end++; break;
        case 'g': exp10 = 9; end++; break;
        case 'k': exp10 = 3; end++; break;
        case 'm': exp10 = -3; end++; break;
        case 'u': exp10 = -6; end++; break;
        case 'n': exp10 = -9; end++; break;
        case 'p': exp10 = -12; end++; break;
        case 'f': exp10 = -15; end++; break;
        default: break;
        }
    }
    /* Correctly rounded: "200n" is read as "200e-9" (2e-07), not as
     * 200 * 1e-9 (2.0000000000000002e-07). */
    size_t mlen = (size_t)(mant_end - s);
    if (exp10 && mlen < 64 && !memchr(s, 'e', mlen) && !memchr(s, 'E', mlen)) {
        char buf[96];
        snprintf(buf, sizeof buf, "%.*se%d", (int)mlen, s, exp10);
        v = strtod(buf, NULL);
    } else if (exp10) {
        scale = pow(10.0, exp10);
    }
    /* Anything after the scale factor must be a unit made of letters. */
    while (isalpha((unsigned char)*end))
        end++;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return SS_EINVAL;
    v *= scale;
    if (!isfinite(v))
        return SS_EINVAL;
    *out = v;
    return SS_OK;
}

void ss_util_format_double(char buf[32], double x)
{
    snprintf(buf, 32, "%.17g", x);
}
