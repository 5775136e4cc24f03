/* json.c: the library's one JSON reader and writer, Jansson underneath
 * (util/ss_util.h, ss_json_...): files in with "file:line: what" errors,
 * the line of a value for messages about its meaning, numbers out with 17
 * significant digits (they read back as the same double). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/ss_util.h"

int ss_json_parse(const char *text, const char *name, json_t **root, ss_error *err)
{
    json_error_t je;
    *root = NULL;
    if (!name)
        name = "JSON";
    if (!text)
        return ss_error_set(err, SS_EINVAL, "%s: no text", name);
    *root = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!*root)
        return ss_error_set(err, SS_EPARSE, "%s:%d: %s", name, je.line > 0 ? je.line : 1, je.text);
    return SS_OK;
}

int ss_json_load(const char *path, json_t **root, char **text, ss_error *err)
{
    char *t = NULL;
    size_t len = 0;
    *root = NULL;
    if (text)
        *text = NULL;
    int rc = ss_util_read_file(path, &t, &len, err);
    if (rc)
        return rc;
    rc = ss_json_parse(t, path, root, err);
    if (!rc && text)
        *text = t;
    else
        free(t);
    return rc;
}

/* ---- the line of a value -----------------------------------------------------
 * A scanner of JSON text that follows the keys of the objects it is in. */

enum { MAXDEPTH = 64 };

int ss_json_line(const char *text, const char *const *keys, size_t nkeys)
{
    if (!text)
        return 1;
    int line = 1;
    struct {
        int object, want_key;
        const char *key;
        size_t klen;
    } st[MAXDEPTH];
    int depth = -1;
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '\n': line++; break;
        case '{':
        case '[':
            if (depth + 1 >= MAXDEPTH)
                return 1;
            depth++;
            st[depth].object = *p == '{';
            st[depth].want_key = *p == '{';
            st[depth].key = NULL;
            st[depth].klen = 0;
            break;
        case '}':
        case ']':
            if (depth >= 0)
                depth--;
            break;
        case ',':
            if (depth >= 0 && st[depth].object)
                st[depth].want_key = 1;
            break;
        case '"': {
            const char *s = ++p;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                if (*p == '\n')
                    line++;
                p++;
            }
            if (depth >= 0 && st[depth].object && st[depth].want_key) {
                st[depth].key = s;
                st[depth].klen = (size_t)(p - s);
                st[depth].want_key = 0;
                /* the object levels from the top, against the keys */
                size_t k = 0;
                int match = 1;
                for (int d = 0; d <= depth && match; d++) {
                    if (!st[d].object)
                        continue;
                    if (k >= nkeys || strlen(keys[k]) != st[d].klen ||
                        strncmp(keys[k], st[d].key, st[d].klen))
                        match = 0;
                    k++;
                }
                if (match && k == nkeys)
                    return line;
            }
            if (!*p)
                return 1;
            break;
        }
        default: break;
        }
    }
    return 1;
}

/* ---- writing ---------------------------------------------------------------- */

json_t *ss_json_number(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *ss_json_string(const char *s, size_t n)
{
    if (!s)
        s = "", n = 0;
    json_t *v = json_stringn(s, n);
    if (v)
        return v;
    /* not UTF-8 (a file name, a user's word): '?' for every byte above ASCII */
    char *c = malloc(n + 1);
    if (!c)
        return NULL;
    for (size_t k = 0; k < n; k++)
        c[k] = (unsigned char)s[k] < 0x80 ? s[k] : '?';
    v = json_stringn(c, n);
    free(c);
    return v;
}

int ss_json_set_string(json_t *obj, const char *key, const char *s)
{
    json_t *v = ss_json_string(s, s ? strlen(s) : 0);
    return v && !json_object_set_new(obj, key, v) ? SS_OK : SS_ENOMEM;
}

int ss_json_set_number(json_t *obj, const char *key, double x)
{
    json_t *v = ss_json_number(x);
    return v && !json_object_set_new(obj, key, v) ? SS_OK : SS_ENOMEM;
}

int ss_json_dump(const json_t *root, ss_buf *out, ss_error *err)
{
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    int rc = s ? ss_buf_add(out, s, strlen(s)) : SS_ENOMEM;
    if (!rc)
        rc = ss_buf_add(out, "\n", 1);
    free(s);
    return rc ? ss_error_set(err, SS_ENOMEM, "out of memory writing JSON") : SS_OK;
}

int ss_json_write(const json_t *root, const char *path, ss_error *err)
{
    ss_buf b = SS_BUF_INIT;
    int rc = ss_json_dump(root, &b, err);
    if (!rc)
        rc = ss_util_write_file_atomic(path, b.data, b.len, err);
    ss_buf_release(&b);
    return rc;
}
