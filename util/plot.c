/* plot.c: runs gnuplot safely for every module that draws pictures: no
 * shell, the script on gnuplot's standard input, its error output captured
 * for the message. */
#include "util/ss_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int ss_util_gnuplot(const char *script, ss_error *err)
{
    /* A socket pair instead of a pipe: send(MSG_NOSIGNAL) cannot raise
     * SIGPIPE in the caller if gnuplot exits before reading everything. */
    int in[2], out[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in))
        return ss_error_set(err, SS_EIO, "cannot start gnuplot: socketpair: %s", strerror(errno));
    if (pipe2(out, O_CLOEXEC)) {
        close(in[0]);
        close(in[1]);
        return ss_error_set(err, SS_EIO, "cannot start gnuplot: pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        return ss_error_set(err, SS_EIO, "cannot start gnuplot: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (dup2(in[1], 0) < 0 || dup2(devnull >= 0 ? devnull : out[1], 1) < 0 ||
            dup2(out[1], 2) < 0)
            _exit(126);
        char *argv[] = {(char *)"gnuplot", NULL};
        execvp("gnuplot", argv);
        _exit(127);
    }
    close(in[1]);
    close(out[1]);
    const char *p = script;
    size_t n = strlen(script);
    while (n) {
        ssize_t k = send(in[0], p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break; /* gnuplot stopped reading; its status tells why */
        p += k;
        n -= (size_t)k;
    }
    close(in[0]);
    char msg[512];
    size_t got = 0;
    ssize_t k;
    char sink[256];
    while ((k = read(out[0], got < sizeof msg - 1 ? msg + got : sink,
                     got < sizeof msg - 1 ? sizeof msg - 1 - got : sizeof sink)) != 0) {
        if (k < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (got < sizeof msg - 1)
            got += (size_t)k;
    }
    msg[got] = '\0';
    close(out[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return ss_error_set(err, SS_EIO, "gnuplot: waitpid: %s", strerror(errno));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return ss_error_set(err, SS_EIO, "cannot run 'gnuplot' (install gnuplot-nox)");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        for (char *c = msg; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
        return ss_error_set(err, SS_EIO, "gnuplot failed: %s", got ? msg : "no message");
    }
    return SS_OK;
}
