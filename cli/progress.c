/* progress.c: the one progress line of the smallsim program.  On a
 * terminal the line is redrawn in place at most five times a second; off a
 * terminal (a log file, a CI job) it is a plain line at most every 10 s; the
 * final state is always shown.  Any other message (cli_msg) first ends a
 * line drawn in place, so messages never land in the middle of it. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"

static struct {
    int quiet, tty;
    double last;
    int open; /* a line drawn in place and not yet ended */
} bar = {1, 0, -1e300, 0};

void cli_progress_start(int quiet)
{
    bar.quiet = quiet;
    bar.tty = isatty(2);
    bar.last = -1e300;
    bar.open = 0;
}

int cli_progress_quiet(void)
{
    return bar.quiet;
}

void cli_progress_break(void)
{
    if (bar.open)
        fputc('\n', stderr);
    bar.open = 0;
}

void cli_progress(int final, const char *fmt, ...)
{
    if (bar.quiet)
        return;
    double now = ss_util_now();
    if (!final && now - bar.last < (bar.tty ? 0.2 : 10.0))
        return;
    bar.last = now;
    va_list ap;
    va_start(ap, fmt);
    fputs(bar.tty ? "\r\033[Ksmallsim: " : "smallsim: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (bar.tty && !final) {
        bar.open = 1;
    } else {
        fputc('\n', stderr);
        bar.open = 0;
    }
    fflush(stderr);
}
