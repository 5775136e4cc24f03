/* test_util.c: helpers shared by the test suites. */
#include "tests/ss_test.h"

#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int ss_test_long(void)
{
    const char *s = getenv("SS_LONG");
    return s && *s == '1';
}

const char *ss_test_tmpdir(void)
{
    static char dir[8][512];
    static int k;
    char *d = dir[k++ % 8];
    const char *base = getenv("TMPDIR");
    snprintf(d, 512, "%s/ss-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(d))
        abort();
    return d;
}

const char *ss_test_write(const char *dir, const char *name, const char *text)
{
    static char path[8][1024];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 1024, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
    return p;
}

const char *ss_test_program(void)
{
    static char abs[4096];
    if (abs[0]) /* resolved once, so tests may cd elsewhere afterwards */
        return abs;
    const char *s = getenv("SS_TEST_PROGRAM");
    if (!s || !*s)
        s = "build/smallsim";
    /* absolute, so tests may cd elsewhere first */
    return realpath(s, abs) ? abs : s;
}

int ss_test_sh(char *out, size_t outsz, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = 0;
    char tmp[4096];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, p)) > 0) {
        if (out && n + 1 < outsz) {
            size_t take = got < outsz - 1 - n ? got : outsz - 1 - n;
            memcpy(out + n, tmp, take);
            n += take;
        }
    }
    if (out && outsz)
        out[n] = '\0';
    int st = pclose(p);
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

/* Lines in a file (0 if it cannot be read). */
static int lines_of(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    if (!f)
        return 0;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* 1 if process `pid` runs `exe` with OMPI_COMM_WORLD_RANK=rank. */
static int is_rank(long pid, const char *exe, int rank)
{
    char path[64], link[4096], want[64];
    snprintf(path, sizeof path, "/proc/%ld/exe", pid);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0)
        return 0;
    link[n] = '\0';
    if (strcmp(link, exe))
        return 0;
    snprintf(path, sizeof path, "/proc/%ld/environ", pid);
    snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    static char env[1 << 16];
    size_t len = fread(env, 1, sizeof env - 1, f);
    fclose(f);
    env[len] = '\0';
    for (size_t k = 0; k < len; k += strlen(env + k) + 1)
        if (!strcmp(env + k, want))
            return 1;
    return 0;
}

long ss_test_stop_rank(const char *exe, int rank, const char *file, int min_lines,
                       double timeout)
{
    char real[4096];
    if (!realpath(exe, real))
        return -1;
    for (double waited = 0; waited < timeout; waited += 0.01) {
        if (lines_of(file) >= min_lines) {
            DIR *d = opendir("/proc");
            struct dirent *e;
            long found = -1;
            while (d && (e = readdir(d))) {
                long pid = strtol(e->d_name, NULL, 10), ppid = 0;
                if (pid <= 0 || !is_rank(pid, real, rank))
                    continue;
                /* the rank itself, not one of its forked workers */
                char path[64];
                snprintf(path, sizeof path, "/proc/%ld/stat", pid);
                FILE *f = fopen(path, "r");
                if (f && fscanf(f, "%*d (%*[^)]) %*c %ld", &ppid) == 1 && !is_rank(ppid, real, rank))
                    found = pid;
                if (f)
                    fclose(f);
            }
            if (d)
                closedir(d);
            if (found > 0)
                return kill((pid_t)found, SIGSTOP) == 0 ? found : -1;
        }
        usleep(10000);
    }
    return -1;
}

