/* cli.h: private to the smallsim program.  Each subcommand is one function
 * `int cmd_<name>(int argc, char **argv)` returning the exit code:
 * 0 success, 1 runtime failure, 2 bad usage.  Only cli/ prints. */
#ifndef SS_CLI_H
#define SS_CLI_H

#include "util/ss_util.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_spice(int argc, char **argv);
int cmd_crossbar(int argc, char **argv);
int cmd_netlist(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_characterize(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_l2l(int argc, char **argv);

/* Prints "smallsim: <message>" to stderr (ending a progress line first). */
void cli_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress of a long command (cli/progress.c), the same on every command:
 * on a terminal one line redrawn in place at most five times a second, off
 * a terminal a plain line at most every 10 s; `final` always prints and
 * ends the line.  cli_progress_start(quiet) before the first (-q: none). */
void cli_progress_start(int quiet);
void cli_progress(int final, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_progress_quiet(void);
/* Ends a line drawn in place (before other output). */
void cli_progress_break(void);
/* Prints the error's message (or its code's text) and returns CLI_FAIL. */
int cli_fail(const ss_error *err);
/* Ends MPI use (ss_pool_mpi_end) with exit code rc, after saying so when a
 * rank stopped answering and was given up; returns rc. */
int cli_mpi_end(int rc);
/* Splits "a,b,c" into a NULL-terminated heap array (free with cli_free_list). */
char **cli_split(const char *s, char sep, size_t *n);
void cli_free_list(char **list);

/* --include-dir DIR: adds DIR to the trusted folders of every netlist this
 * program reads (SS_NETLIST_INCLUDE_ENV, which workers inherit).  Returns
 * -1 when done, else the exit code after printing the error. */
int cli_include_dir(const char *dir);
/* The help lines of the netlist trust options (--allow-control,
 * --include-dir, --no-sandbox), shared by every command that reads netlists. */
extern const char cli_trust_help[];

struct ss_device;
/* Builds a device from --params FILE (a model file: ss_device_load; NULL:
 * none) / --model / --preset / --param k=v ... / --hard (shared by the
 * device, crossbar and netlist commands).  Returns -1 when the device is
 * ready, else the exit code after printing the error. */
int cli_build_device_file(const char *file, const char *model, const char *preset,
                          char *const *params, size_t nparams, int hard, struct ss_device *d);
/* The same without a file. */
int cli_build_device(const char *model, const char *preset, char *const *params, size_t nparams,
                     int hard, struct ss_device *d);

#endif
