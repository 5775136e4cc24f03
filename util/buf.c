/* buf.c: a growable, always NUL-terminated string buffer. */
#include "util/ss_util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(ss_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return SS_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return SS_ENOMEM;
    b->data = p;
    b->cap = cap;
    return SS_OK;
}

int ss_buf_add(ss_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n))
        return SS_ENOMEM;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SS_OK;
}

int ss_buf_printf(ss_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SS_EINVAL;
    if (buf_reserve(b, (size_t)n))
        return SS_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SS_OK;
}

void ss_buf_release(ss_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
