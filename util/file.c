/* file.c: whole-file reads, atomic writes, clocks and memory readings. */
#include "util/ss_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int ss_util_read_file(const char *path, char **out, size_t *len, ss_error *err)
{
    FILE *f = fopen(path, "rb");
    ss_buf b = SS_BUF_INIT;
    char chunk[65536];
    size_t n;
    if (!f)
        return ss_error_set(err, SS_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (ss_buf_add(&b, "", 0)) {
        fclose(f);
        return ss_error_set(err, SS_ENOMEM, "%s: out of memory", path);
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
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
    *out = b.data;
    if (len)
        *len = b.len;
    return SS_OK;
}

int ss_util_write_file_atomic(const char *path, const void *data, size_t len, ss_error *err)
{
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
