/* main.c: the smallsim program: a table of subcommands. */
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "netlists/ss_netlist.h"
#include "pool/ss_pool.h"

struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct cmd commands[] = {
    {"spice", cmd_spice, "run ngspice netlists through the shared library (spice run)"},
    {"crossbar", cmd_crossbar, "solve memristive crossbars with line resistance (crossbar dc|tran)"},
    {"netlist", cmd_netlist, "generate ngspice netlists (netlist crossbar)"},
    {"run", cmd_run, "run a network experiment file (YAML): spikes, states, plots"},
    {"sweep", cmd_sweep, "batch parameter sweeps, Monte Carlo and corners on a worker pool"},
    {"device", cmd_device, "memristor models: list, I-V transients, ngspice subcircuits"},
    {"fit", cmd_fit, "fit a memristor model to measured I-V loops (one parameter set)"},
    {"l2l", cmd_l2l, "learning to learn: tune a task's parameters with CMA-ES, CE, GA (l2l eval)"},
    {"characterize", cmd_characterize, "f-I, energy, rheobase, Monte Carlo and compact models of neuron circuits"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: smallsim <command> [options]\n"
                 "       smallsim <command> --help\n"
                 "       smallsim --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].help);
}

void cli_msg(const char *fmt, ...)
{
    va_list ap;
    cli_progress_break();
    fputs("smallsim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

const char cli_trust_help[] =
    "  --include-dir DIR   trust DIR like the netlist's own folder: includes, .lib\n"
    "                      sections and model files there are read (repeatable;\n"
    "                      also " SS_NETLIST_INCLUDE_ENV "=DIR:DIR...)\n"
    "  --allow-control     let .control blocks, '*#' command lines, backquotes and\n"
    "                      a .spiceinit beside the netlist through; they still run\n"
    "                      in the sandbox\n"
    "  --no-sandbox        run ngspice without the sandbox (no programs, no files\n"
    "                      outside the netlist's folders): trusted netlists only\n";

int cli_include_dir(const char *dir)
{
    char real[PATH_MAX];
    if (!realpath(dir, real)) {
        cli_msg("--include-dir '%s': %s", dir, strerror(errno));
        return CLI_USAGE;
    }
    const char *old = getenv(SS_NETLIST_INCLUDE_ENV);
    size_t n = strlen(real) + (old ? strlen(old) : 0) + 2;
    char *v = malloc(n);
    if (!v) {
        cli_msg("out of memory");
        return CLI_FAIL;
    }
    snprintf(v, n, "%s%s%s", old && *old ? old : "", old && *old ? ":" : "", real);
    int rc = setenv(SS_NETLIST_INCLUDE_ENV, v, 1);
    free(v);
    if (rc) {
        cli_msg("--include-dir: %s", strerror(errno));
        return CLI_FAIL;
    }
    return -1;
}

int cli_mpi_end(int rc)
{
    size_t lost = ss_pool_mpi_lost();
    if (lost)
        cli_msg("%zu MPI rank%s stopped answering for %g s (%s); the jobs %s held ran on the "
                "other ranks, and the run ends every rank (MPI_Abort)",
                lost, lost == 1 ? "" : "s", ss_util_limit(SS_LIMIT_RANK_SILENCE),
                ss_util_limit_env(SS_LIMIT_RANK_SILENCE), lost == 1 ? "it" : "they");
    ss_pool_mpi_end(rc);
    return rc;
}

int cli_fail(const ss_error *err)
{
    if (err && err->msg[0])
        cli_msg("%s", err->msg);
    else
        cli_msg("%s", ss_strerror(err ? err->code : SS_EINVAL));
    return CLI_FAIL;
}

char **cli_split(const char *s, char sep, size_t *n)
{
    size_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == sep;
    char **list = calloc(count + 1, sizeof *list);
    if (!list)
        return NULL;
    size_t k = 0;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == sep || !*p) {
            list[k] = strndup(start, (size_t)(p - start));
            if (!list[k]) {
                cli_free_list(list);
                return NULL;
            }
            k++;
            start = p + 1;
            if (!*p)
                break;
        }
    }
    if (n)
        *n = k;
    return list;
}

void cli_free_list(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        free(*p);
    free(list);
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("smallsim %s\n", SS_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    cli_msg("unknown command '%s' (see 'smallsim --help')", argv[1]);
    return CLI_USAGE;
}
