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
    double scale = 1.0;
    if (!strncasecmp(end, "meg", 3)) {
        scale = 1e6;
        end += 3;
    } else if (!strncasecmp(end, "mil", 3)) {
        scale = 25.4e-6;
        end += 3;
    } else {
        switch (tolower((unsigned char)*end)) {
        case 't': scale = 1e12; end++; break;
        case 'g': scale = 1e9; end++; break;
        case 'k': scale = 1e3; end++; break;
        case 'm': scale = 1e-3; end++; break;
        case 'u': scale = 1e-6; end++; break;
        case 'n': scale = 1e-9; end++; break;
        case 'p': scale = 1e-12; end++; break;
        case 'f': scale = 1e-15; end++; break;
        default: break;
        }
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
