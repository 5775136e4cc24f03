/* text.c: the text formats of l2l/: checkpoint lines "key values..." that
 * round-trip doubles and RNG states exactly (best.json goes through the
 * library's JSON reader and writer, util/json.c). */
#include "l2l/l2l_private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a from an offset basis that lost its last digit (1469598103934665603
 * for 14695981039346656037): kept, because checkpoint seals, task families
 * and lookup keys of earlier runs depend on it. */
uint64_t l2li_fnv(const void *data, size_t len)
{
    return ss_util_fnv1a(1469598103934665603ULL, data, len);
}

/* splitmix64 of a + gamma b (the finaliser of a + gamma (b + 1)). */
uint64_t l2li_mix(uint64_t a, uint64_t b)
{
    return ss_util_mix64(a + 0x9e3779b97f4a7c15ULL * b);
}

/* ---- sealed texts: a closing "end <hash>" line ----------------------------------------- */

int l2li_seal(ss_buf *b)
{
    return ss_buf_printf(b, "end %016llx\n", (unsigned long long)l2li_fnv(b->data, b->len));
}

int l2li_check_seal(const char *text, size_t len, const char *magic, const char *kind,
                    const char *what, ss_error *err)
{
    size_t ml = strlen(magic);
    if (len < ml + 1 || strncmp(text, magic, ml) || text[ml] != '\n')
        return ss_error_set(err, SS_EPARSE, "%s:1: not %s", what, kind);
    /* last line: "end <16 hex digits>" */
    const char *end = len >= 21 ? text + len - 21 : NULL;
    if (!end || strncmp(end, "end ", 4) || end[20] != '\n' || (end > text && end[-1] != '\n'))
        return ss_error_set(err, SS_EPARSE, "%s: no 'end' line: the file is truncated", what);
    char want[17];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)l2li_fnv(text, (size_t)(end - text)));
    if (strncmp(end + 4, want, 16))
        return ss_error_set(err, SS_EPARSE, "%s: checksum mismatch: the file is damaged or was "
                            "edited", what);
    return SS_OK;
}

/* ---- key-value lines ------------------------------------------------------------- */

int l2li_kv_parse(l2li_kv *kv, const char *text, const char *what, ss_error *err)
{
    memset(kv, 0, sizeof *kv);
    kv->what = what;
    kv->text = strdup(text);
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    kv->lines = calloc(cap, sizeof *kv->lines);
    if (!kv->text || !kv->lines) {
        l2li_kv_release(kv);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    char *p = kv->text;
    for (size_t line = 1; *p; line++) {
        char *end = strchr(p, '\n');
        if (end)
            *end = '\0';
        if (*p && *p != '#') {
            char *sp = p + strcspn(p, " \t");
            if (sp == p) {
                int rc = ss_error_set(err, SS_EPARSE, "%s:%zu: line starts with a blank", what,
                                      line);
                l2li_kv_release(kv);
                return rc;
            }
            if (*sp)
                *sp++ = '\0';
            sp += strspn(sp, " \t");
            kv->lines[kv->n++] = (l2li_kv_line){p, sp, line};
        }
        if (!end)
            break;
        p = end + 1;
    }
    return SS_OK;
}

void l2li_kv_release(l2li_kv *kv)
{
    free(kv->text);
    free(kv->lines);
    memset(kv, 0, sizeof *kv);
}

static const l2li_kv_line *kv_find(const l2li_kv *kv, const char *key)
{
    for (size_t i = 0; i < kv->n; i++)
        if (!strcmp(kv->lines[i].key, key))
            return &kv->lines[i];
    return NULL;
}

int l2li_kv_str(const l2li_kv *kv, const char *key, const char **val, ss_error *err)
{
    const l2li_kv_line *l = kv_find(kv, key);
    if (!l)
        return ss_error_set(err, SS_EPARSE, "%s: no '%s' line (file truncated or not a "
                            "checkpoint)", kv->what, key);
    *val = l->val;
    return SS_OK;
}

int l2li_kv_u64(const l2li_kv *kv, const char *key, uint64_t *v, ss_error *err)
{
    const l2li_kv_line *l = kv_find(kv, key);
    if (!l)
        return l2li_kv_str(kv, key, &(const char *){NULL}, err);
    char *end;
    errno = 0;
    unsigned long long x = strtoull(l->val, &end, 10);
    if (end == l->val || *end || errno || l->val[0] == '-')
        return ss_error_set(err, SS_EPARSE, "%s:%zu: '%s' is not a count", kv->what, l->line,
                            l->val);
    *v = x;
    return SS_OK;
}

int l2li_kv_size(const l2li_kv *kv, const char *key, size_t *v, ss_error *err)
{
    uint64_t x;
    int rc = l2li_kv_u64(kv, key, &x, err);
    if (rc)
        return rc;
    const l2li_kv_line *l = kv_find(kv, key);
    if (x > (1u << 30))
        return ss_error_set(err, SS_EPARSE, "%s:%zu: %s %llu is too large", kv->what, l->line,
                            key, (unsigned long long)x);
    *v = (size_t)x;
    return SS_OK;
}

int l2li_kv_doubles(const l2li_kv *kv, const char *key, double *v, size_t n, ss_error *err)
{
    const l2li_kv_line *l = kv_find(kv, key);
    if (!l)
        return l2li_kv_str(kv, key, &(const char *){NULL}, err);
    const char *p = l->val;
    for (size_t i = 0; i < n; i++) {
        char *end;
        p += strspn(p, " \t");
        v[i] = strtod(p, &end);
        if (end == p || (*end && *end != ' ' && *end != '\t'))
            return ss_error_set(err, SS_EPARSE, "%s:%zu: %s: value %zu of %zu is missing or "
                                "not a number", kv->what, l->line, key, i + 1, n);
        p = end;
    }
    p += strspn(p, " \t");
    if (*p)
        return ss_error_set(err, SS_EPARSE, "%s:%zu: %s: more than %zu values", kv->what,
                            l->line, key, n);
    return SS_OK;
}

int l2li_kv_double(const l2li_kv *kv, const char *key, double *v, ss_error *err)
{
    return l2li_kv_doubles(kv, key, v, 1, err);
}

int l2li_put_doubles(ss_buf *b, const char *key, const double *v, size_t n)
{
    int rc = ss_buf_printf(b, "%s", key);
    for (size_t i = 0; !rc && i < n; i++) {
        char s[32];
        ss_util_format_double(s, v[i]);
        rc = ss_buf_printf(b, " %s", s);
    }
    return rc ? rc : ss_buf_add(b, "\n", 1);
}

int l2li_put_u64(ss_buf *b, const char *key, uint64_t v)
{
    return ss_buf_printf(b, "%s %llu\n", key, (unsigned long long)v);
}

int l2li_put_rng(ss_buf *b, const char *key, const gsl_rng *r)
{
    const unsigned char *s = gsl_rng_state(r);
    size_t n = gsl_rng_size(r);
    int rc = ss_buf_printf(b, "%s %s ", key, gsl_rng_name(r));
    for (size_t i = 0; !rc && i < n; i++)
        rc = ss_buf_printf(b, "%02x", s[i]);
    return rc ? rc : ss_buf_add(b, "\n", 1);
}

int l2li_kv_rng(const l2li_kv *kv, const char *key, gsl_rng *r, ss_error *err)
{
    const char *val;
    int rc = l2li_kv_str(kv, key, &val, err);
    if (rc)
        return rc;
    const l2li_kv_line *l = kv_find(kv, key);
    size_t nl = strlen(gsl_rng_name(r)), n = gsl_rng_size(r);
    if (strncmp(val, gsl_rng_name(r), nl) || val[nl] != ' ' || strlen(val + nl + 1) != 2 * n)
        return ss_error_set(err, SS_EPARSE, "%s:%zu: %s: not a %s state of %zu bytes", kv->what,
                            l->line, key, gsl_rng_name(r), n);
    unsigned char *s = gsl_rng_state(r);
    const char *h = val + nl + 1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = h[2 * i + (size_t)k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return ss_error_set(err, SS_EPARSE, "%s:%zu: %s: '%c' is not a hex digit",
                                    kv->what, l->line, key, c);
            v = v * 16 + (unsigned)d;
        }
        s[i] = (unsigned char)v;
    }
    return SS_OK;
}
