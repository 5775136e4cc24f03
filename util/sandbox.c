/* sandbox.c: confining a process that runs untrusted input.
 *
 * Two kernel mechanisms, both irreversible for the calling process and its
 * children:
 *   - seccomp (through Debian's libseccomp): execve and execveat fail with
 *     EPERM, so no program can be started (ngspice's `shell`, backquotes,
 *     `edit`, rspice, system() all end there);
 *   - Landlock (Linux 5.13+, raw system calls as in the kernel's
 *     samples/landlock/sandboxer.c): the file system is reduced to the
 *     folders given (read, or read and write) plus what any process needs to
 *     run: the system's libraries and ngspice's own scripts and code models
 *     (/usr, /lib, /lib64 read-only), the dynamic loader's cache, its own
 *     /proc entry, and /dev/null and /dev/urandom.
 * A kernel without Landlock still gets the seccomp part;
 * ss_util_sandbox_level() says what a call would apply. */
#include "util/ss_util.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* mapping a library is not an execute in Landlock's sense, but the loader
 * may check; no program can be started anyway (seccomp) */
#define FS_EXEC LANDLOCK_ACCESS_FS_EXECUTE
#define FS_WRITE                                                                              \
    (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                         \
     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |                          \
     LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)
#define FS_FILE_RIGHTS                                                                        \
    (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                            \
     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)

static int landlock_abi(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v < 0 ? 0 : (int)v;
}

int ss_util_sandbox_level(void)
{
    return landlock_abi() > 0 ? 2 : 1;
}

/* Every file-system right the running kernel knows. */
static uint64_t handled_rights(int abi)
{
    uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */
    if (abi >= 2)
        r |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        r |= LANDLOCK_ACCESS_FS_TRUNCATE;
    return r;
}

/* Allows `rights` below `path`; a path that does not exist is skipped. */
static int allow_path(int ruleset, const char *path, uint64_t rights, uint64_t handled,
                      ss_error *err)
{
    struct stat st;
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR || errno == EACCES
                   ? SS_OK
                   : ss_error_set(err, SS_EIO, "sandbox: cannot open '%s': %s", path,
                                  strerror(errno));
    if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
        rights &= FS_FILE_RIGHTS;
    struct landlock_path_beneath_attr pb = {.allowed_access = rights & handled,
                                            .parent_fd = fd};
    long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    int e = errno;
    close(fd);
    if (rc)
        return ss_error_set(err, SS_EIO, "sandbox: cannot allow '%s': %s", path, strerror(e));
    return SS_OK;
}

static int enter_landlock(const ss_sandbox *sb, int abi, ss_error *err)
{
    static const char *const sys_read[] = {"/usr", "/lib", "/lib64", "/lib32", "/libx32",
                                           "/etc/ld.so.cache", "/etc/localtime",
                                           "/dev/urandom", "/sys/devices/system/cpu"};
    uint64_t handled = handled_rights(abi);
    struct landlock_ruleset_attr ra = {.handled_access_fs = handled};
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof ra, 0);
    if (ruleset < 0)
        return ss_error_set(err, SS_EIO, "sandbox: landlock: %s", strerror(errno));
    char self[64];
    snprintf(self, sizeof self, "/proc/%ld", (long)getpid());
    int rc = SS_OK;
    for (size_t i = 0; !rc && i < sizeof sys_read / sizeof sys_read[0]; i++)
        rc = allow_path(ruleset, sys_read[i], FS_READ | FS_EXEC, handled, err);
    if (!rc)
        rc = allow_path(ruleset, self, FS_READ, handled, err);
    if (!rc)
        rc = allow_path(ruleset, "/dev/null", FS_READ | LANDLOCK_ACCESS_FS_WRITE_FILE, handled,
                        err);
    for (size_t i = 0; !rc && i < sb->nread; i++)
        rc = allow_path(ruleset, sb->read[i], FS_READ, handled, err);
    for (size_t i = 0; !rc && i < sb->nwrite; i++)
        rc = allow_path(ruleset, sb->write[i], FS_READ | FS_WRITE, handled, err);
    if (!rc && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        rc = ss_error_set(err, SS_EIO, "sandbox: no_new_privs: %s", strerror(errno));
    if (!rc && syscall(SYS_landlock_restrict_self, ruleset, 0))
        rc = ss_error_set(err, SS_EIO, "sandbox: landlock: %s", strerror(errno));
    close(ruleset);
    return rc;
}

static int enter_seccomp(ss_error *err)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return ss_error_set(err, SS_ENOMEM, "sandbox: seccomp: out of memory");
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execve), 0);
    if (!rc)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execveat), 0);
    if (!rc)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc)
        return ss_error_set(err, SS_EIO, "sandbox: seccomp: %s", strerror(-rc));
    return SS_OK;
}

int ss_util_sandbox_enter(const ss_sandbox *sb, ss_error *err)
{
    static const ss_sandbox none = {NULL, 0, NULL, 0};
    if (!sb)
        sb = &none;
    int abi = landlock_abi();
    int rc = abi > 0 ? enter_landlock(sb, abi, err) : SS_OK;
    if (!rc)
        rc = enter_seccomp(err);
    return rc;
}

void ss_util_crash_by_signal(void)
{
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t k = 0; k < sizeof fatal / sizeof fatal[0]; k++)
        signal(fatal[k], SIG_DFL);
}
