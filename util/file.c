/* file.c: whole-file reads, atomic writes, clocks and memory readings. */
#include "util/ss_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *kind_of(mode_t m);

int ss_util_read_file(const char *path, char **out, size_t *len, ss_error *err)
{
    /* O_NONBLOCK: opening a named pipe without a writer must not hang; the
     * file type is checked on the open descriptor */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return ss_error_set(err, SS_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(fd);
        return S_ISREG(st.st_mode)
                   ? ss_error_set(err, SS_EIO, "%s: %s", path, strerror(e))
                   : ss_error_set(err, SS_EIO, "%s: is %s, not a regular file; input refused", path,
                                  kind_of(st.st_mode));
    }
    double cap = ss_util_limit(SS_LIMIT_FILE_SIZE);
    int rc = ss_util_limit_check(SS_LIMIT_FILE_SIZE, (double)st.st_size, err, "%s", path);
    if (rc || fcntl(fd, F_SETFL, 0) != 0) {
        close(fd);
        return rc ? rc : ss_error_set(err, SS_EIO, "%s: %s", path, strerror(errno));
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    }
    ss_buf b = SS_BUF_INIT;
    char chunk[65536];
    size_t n;
    if (ss_buf_add(&b, "", 0)) {
        fclose(f);
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        /* a file that grows while it is read stops at the limit too */
        if ((double)(b.len + n) > cap) {
            fclose(f);
            ss_buf_release(&b);
            return ss_util_limit_check(SS_LIMIT_FILE_SIZE, (double)(b.len + n), err,
                                       "%s (still growing)", path);
        }
        if (ss_buf_add(&b, chunk, n)) {
            fclose(f);
            ss_buf_release(&b);
            return ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        ss_buf_release(&b);
        return ss_error_set(err, SS_EIO, "%s: read error", path);
    }
    if (memchr(b.data, '\0', b.len)) {
        size_t off = (size_t)((char *)memchr(b.data, '\0', b.len) - b.data);
        int line = 1;
        for (size_t i = 0; i < off; i++)
            line += b.data[i] == '\n';
        ss_buf_release(&b);
        return ss_error_set(err, SS_EPARSE, "%s:%d: binary data (NUL byte) in a text file", path, line);
    }
    /* a UTF-8 byte order mark (some editors write one) is not text */
    if (b.len >= 3 && !memcmp(b.data, "\xEF\xBB\xBF", 3)) {
        memmove(b.data, b.data + 3, b.len - 2);
        b.len -= 3;
    }
    *out = b.data;
    if (len)
        *len = b.len;
    return SS_OK;
}

static int follow_symlinks(void)
{
    const char *v = getenv(SS_UTIL_FOLLOW_ENV);
    return v && !strcmp(v, "1");
}

static const char *kind_of(mode_t m)
{
    return S_ISCHR(m) || S_ISBLK(m) ? "a device"
           : S_ISFIFO(m)           ? "a named pipe"
           : S_ISSOCK(m)           ? "a socket"
           : S_ISDIR(m)            ? "a folder"
           : S_ISLNK(m)            ? "a symbolic link"
                                   : "not a regular file";
}

static int refuse_output(const char *path, mode_t m, ss_error *err)
{
    if (S_ISLNK(m))
        return ss_error_set(err, SS_EDENIED,
                            "%s: is a symbolic link; output refused (write to its target, or set "
                            SS_UTIL_FOLLOW_ENV "=1)",
                            path);
    return ss_error_set(err, SS_EDENIED, "%s: is %s, not a regular file; output refused", path,
                        kind_of(m));
}

/* Creates the folders leading to `path` ("mkdir -p" of its dirname). */
static int make_parents(const char *path, ss_error *err)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return ss_error_set(err, SS_EINVAL, "%s: path too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return SS_OK;
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST)
                return ss_error_set(err, SS_EIO, "%s: cannot create the folder '%s': %s", path,
                                    dir, strerror(errno));
            if (!(*p = c))
                break;
        }
    }
    return SS_OK;
}

int ss_util_check_output(const char *path, ss_error *err)
{
    struct stat st;
    int follow = follow_symlinks();
    if ((follow ? stat(path, &st) : lstat(path, &st)) != 0)
        return errno == ENOENT ? SS_OK
                               : ss_error_set(err, SS_EIO, "%s: %s", path, strerror(errno));
    return S_ISREG(st.st_mode) ? SS_OK : refuse_output(path, st.st_mode, err);
}

int ss_util_prepare_output(const char *path, ss_error *err)
{
    int rc = ss_util_check_output(path, err);
    return rc ? rc : make_parents(path, err);
}

FILE *ss_util_open_output(const char *path, const char *mode, ss_error *err)
{
    int append = strchr(mode, 'a') != NULL;
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | (append ? O_APPEND : 0) |
                (follow_symlinks() ? 0 : O_NOFOLLOW);
    struct stat st;
    if (make_parents(path, err))
        return NULL;
    int fd = open(path, flags, 0666);
    if (fd < 0) {
        int e = errno;
        /* a link (ELOOP), a folder (EISDIR), a pipe without reader (ENXIO) */
        if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
            refuse_output(path, st.st_mode, err);
        else
            ss_error_set(err, SS_EIO, "%s: cannot write: %s", path, strerror(e));
        return NULL;
    }
    /* checked on the open file, so nothing can be swapped in between */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        refuse_output(path, st.st_mode, err);
        return NULL;
    }
    if ((!append && ftruncate(fd, 0) != 0) || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        ss_error_set(err, SS_EIO, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, append ? "a" : "w");
    if (!f) {
        ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
        close(fd);
    }
    return f;
}

int ss_util_write_file_atomic(const char *path, const void *data, size_t len, ss_error *err)
{
    char real[4096];
    int rc = ss_util_prepare_output(path, err);
    if (rc)
        return rc;
    /* with links followed, the link stays and its target is replaced */
    if (follow_symlinks() && realpath(path, real))
        path = real;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        int e = errno;
        free(tmp);
        return ss_error_set(err, SS_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    int bad = fwrite(data, 1, len, f) != len;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return ss_error_set(err, SS_EIO, "%s: cannot write: %s", path, strerror(e));
    }
    free(tmp);
    return SS_OK;
}

double ss_util_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double ss_util_cpu_time(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

long ss_util_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

int ss_util_temp_dir(char out[4096], const char *stem, ss_error *err)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, 4096, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", stem);
    if (!mkdtemp(out))
        return ss_error_set(err, SS_EIO, "cannot create a folder in '%s': %s",
                            tmp && *tmp ? tmp : "/tmp", strerror(errno));
    return SS_OK;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

void ss_util_remove_tree(const char *path)
{
    if (path && *path)
        nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int ss_util_write_durable(int fd, const void *data, size_t len, const char *what, ss_error *err)
{
    const char *p = data;
    while (len) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return ss_error_set(err, SS_EIO, "%s: cannot write: %s", what,
                                k < 0 ? strerror(errno) : "no space written");
        p += k;
        len -= (size_t)k;
    }
    if (fdatasync(fd) && errno != EINVAL && errno != EROFS)
        return ss_error_set(err, SS_EIO, "%s: cannot sync: %s", what, strerror(errno));
    return SS_OK;
}
