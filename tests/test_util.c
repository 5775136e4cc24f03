/* test_util.c: helpers shared by the test suites. */
#include "tests/ss_test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

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
