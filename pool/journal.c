/* journal.c: the durable results journal: a header line, then one row per
 * finished job, appended with write() and fdatasync'ed as each job ends, so
 * a killed run loses at most the jobs in flight; a resumed run reads which
 * jobs are done and cuts off a torn last row.  Failures also go to
 * PATH.log.  Both are regular files (ss_util_check_output): a device, a
 * pipe, a folder or a symbolic link is refused. */
#include "pool/pool_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct ss_pool_journal {
    int fd;
    FILE *log;
};

int ss_pool_journal_scan(const char *path, const char *header, unsigned char *done,
                         size_t njobs, long *valid_len, ss_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *valid_len = 0;
    struct stat st;
    if (stat(path, &st) && errno == ENOENT)
        return SS_OK;
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    /* offsets below count from the text; a byte order mark the reader
     * dropped still sits in the file */
    long skew = st.st_size == (off_t)len + 3 ? 3 : 0;
    size_t hlen = strlen(header), ncols = 1;
    for (const char *p = header; *p; p++)
        ncols += *p == ',';
    if (len == 0) {
        free(text);
        return SS_OK;
    }
    if (strncmp(text, header, hlen) || text[hlen] != '\n') {
        /* A torn header (killed while writing it) is only a prefix. */
        if (!memchr(text, '\n', len) && !strncmp(header, text, len)) {
            free(text);
            return SS_OK;
        }
        free(text);
        return ss_error_set(err, SS_EPARSE,
                            "%s:1: the header differs from this run's columns (%s)", path,
                            header);
    }
    size_t pos = hlen + 1;
    int line = 2;
    *valid_len = (long)pos + skew;
    while (pos < len) {
        char *nl = memchr(text + pos, '\n', len - pos);
        if (!nl)
            break; /* torn last line: dropped */
        *nl = '\0';
        const char *row = text + pos;
        size_t fields = 1;
        for (const char *p = row; *p; p++)
            fields += *p == ',';
        char *end;
        errno = 0;
        unsigned long long j = strtoull(row, &end, 10);
        if (fields != ncols || end == row || *end != ',' || errno) {
            free(text);
            return ss_error_set(err, SS_EPARSE, "%s:%d: malformed row", path, line);
        }
        if (j >= njobs) {
            free(text);
            return ss_error_set(err, SS_EPARSE, "%s:%d: job %llu is not in this run (%zu jobs)",
                                path, line, j, njobs);
        }
        done[j] = 1;
        pos = (size_t)(nl - text) + 1;
        *valid_len = (long)pos + skew;
        line++;
    }
    free(text);
    return SS_OK;
}

/* PATH.settings: what made the journal's rows.  Written when the journal
 * starts; a resume must present the same text, else it is refused naming
 * the first setting that differs. */
static int check_settings(const char *path, const char *settings, int fresh, ss_error *err)
{
    char spath[4096];
    snprintf(spath, sizeof spath, "%s.settings", path);
    if (fresh)
        return ss_util_write_file_atomic(spath, settings, strlen(settings), err);
    char *old = NULL;
    struct stat st;
    if (stat(spath, &st) != 0 && errno == ENOENT)
        return ss_error_set(err, SS_EINVAL,
                            "'%s' has rows but no '%s' to show what made them; --resume cannot "
                            "check that this run has the same settings (remove both files, or "
                            "use another results file)",
                            path, spath);
    int rc = ss_util_read_file(spath, &old, NULL, err);
    if (rc)
        return rc;
    const char *a = old, *b = settings;
    int line = 1;
    while (*a && *b && *a == *b) {
        line += *a == '\n';
        a++, b++;
    }
    if (*a || *b) {
        /* the differing lines, whole */
        while (a > old && a[-1] != '\n')
            a--, b--;
        int la = (int)strcspn(a, "\n"), lb = (int)strcspn(b, "\n");
        rc = ss_error_set(err, SS_EINVAL,
                          "%s:%d: the results were made with other settings ('%.*s'; this run: "
                          "'%.*s'); --resume would mix them: use another results file",
                          spath, line, la > 300 ? 300 : la, a, lb > 300 ? 300 : lb, b);
    }
    free(old);
    return rc;
}

ss_pool_journal *ss_pool_journal_open(const char *path, const char *header, const char *settings,
                                      int resume, unsigned char *done, size_t njobs,
                                      size_t *skipped, ss_error *err)
{
    long valid = 0;
    int rc = SS_OK;
    *skipped = 0;
    struct stat st;
    ss_pool_journal *r = malloc(sizeof *r);
    if (!r) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    r->log = NULL;
    if (ss_util_prepare_output(path, err)) {
        free(r);
        return NULL;
    }
    r->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (r->fd < 0) {
        ss_error_set(err, SS_EIO, "cannot open '%s': %s", path, strerror(errno));
        free(r);
        return NULL;
    }
    /* One run per journal: two sweeps appending to one file would tear each
     * other's rows.  The lock lasts while the file is open. */
    /* a run just killed may hold it a moment longer (its workers are still
     * being reaped): wait up to 3 s before calling the file busy */
    int locked = flock(r->fd, LOCK_EX | LOCK_NB) == 0;
    for (int k = 0; !locked && errno == EWOULDBLOCK && k < 60; k++) {
        usleep(50000);
        locked = flock(r->fd, LOCK_EX | LOCK_NB) == 0;
    }
    if (!locked) {
        ss_error_set(err, errno == EWOULDBLOCK ? SS_EBUSY : SS_EIO,
                     errno == EWOULDBLOCK
                         ? "'%s' is being written by another run (it holds the file's lock); "
                           "wait for that run to end or use another results file"
                         : "cannot lock '%s': %s",
                     path, strerror(errno));
        ss_pool_journal_close(r);
        return NULL;
    }
    if (fstat(r->fd, &st) != 0) {
        ss_error_set(err, SS_EIO, "'%s': %s", path, strerror(errno));
        ss_pool_journal_close(r);
        return NULL;
    }
    if (!resume && st.st_size > 0) {
        ss_error_set(err, SS_EINVAL,
                     "'%s' already exists; use --resume to continue it or remove it", path);
        ss_pool_journal_close(r);
        return NULL;
    }
    if (resume && (ss_pool_journal_scan(path, header, done, njobs, &valid, err) ||
                   (settings && check_settings(path, settings, valid == 0, err)))) {
        ss_pool_journal_close(r);
        return NULL;
    }
    if (!resume && settings && check_settings(path, settings, 1, err)) {
        ss_pool_journal_close(r);
        return NULL;
    }
    for (size_t j = 0; j < njobs; j++)
        *skipped += done[j];
    /* Drop a torn last row so new rows start on a line of their own. */
    if (ftruncate(r->fd, valid) || lseek(r->fd, 0, SEEK_END) < 0) {
        ss_error_set(err, SS_EIO, "cannot truncate '%s': %s", path, strerror(errno));
        ss_pool_journal_close(r);
        return NULL;
    }
    if (valid == 0) {
        ss_buf h = SS_BUF_INIT;
        if (ss_buf_printf(&h, "%s\n", header))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        else
            rc = ss_pool_journal_append(r, h.data, err);
        ss_buf_release(&h);
    }
    char logpath[4096];
    snprintf(logpath, sizeof logpath, "%s.log", path);
    if (!rc) {
        r->log = ss_util_open_output(logpath, resume ? "a" : "w", err);
        if (!r->log)
            rc = err && err->code ? err->code : SS_EIO;
    }
    if (rc) {
        ss_pool_journal_close(r);
        return NULL;
    }
    return r;
}

int ss_pool_journal_append(ss_pool_journal *r, const char *row, ss_error *err)
{
    return ss_util_write_durable(r->fd, row, strlen(row), "the results journal", err);
}

void ss_pool_journal_log(ss_pool_journal *r, uint64_t job, const char *status, const char *msg)
{
    if (!r || !r->log)
        return;
    fprintf(r->log, "job %llu: %s: %s\n", (unsigned long long)job, status, msg);
    fflush(r->log);
}

void ss_pool_journal_close(ss_pool_journal *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    if (r->log)
        fclose(r->log);
    free(r);
}

static int row_cmp(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    unsigned long long i = strtoull(*x, NULL, 10), j = strtoull(*y, NULL, 10);
    return i < j ? -1 : i > j ? 1 : (*x < *y ? -1 : *x > *y);
}

int ss_pool_journal_sort(const char *path, ss_error *err)
{
    char *text = NULL;
    size_t len = 0, n = 0;
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    char **rows = calloc(n + 1, sizeof *rows);
    char *hdr_end = memchr(text, '\n', len);
    if (!rows || !hdr_end) {
        free(rows);
        free(text);
        return rows ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    size_t nrows = 0;
    for (char *p = hdr_end + 1; p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        if (!nl)
            break; /* a torn last line stays out, as a resume would drop it */
        *nl = '\0';
        rows[nrows++] = p;
        p = nl + 1;
    }
    qsort(rows, nrows, sizeof *rows, row_cmp);
    ss_buf out = SS_BUF_INIT;
    rc = ss_buf_add(&out, text, (size_t)(hdr_end - text) + 1);
    for (size_t i = 0; !rc && i < nrows; i++)
        rc = ss_buf_printf(&out, "%s\n", rows[i]);
    if (rc)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    else
        rc = ss_util_write_file_atomic(path, out.data, out.len, err);
    ss_buf_release(&out);
    free(rows);
    free(text);
    return rc;
}
