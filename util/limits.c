/* limits.c: the bounds on input sizes, counts and durations that keep a
 * hostile or mistyped input from growing without end, each raisable with
 * an environment variable (which worker processes inherit). */
#include "util/ss_util.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *env;
    double def;
    const char *what; /* completes "the limit of N ..." */
} limits[SS_LIMIT_COUNT] = {
    [SS_LIMIT_FILE_SIZE] = {"SMALLSIM_MAX_FILE_SIZE", 256e6, "bytes for an input file"},
    [SS_LIMIT_NETLIST_SIZE] = {"SMALLSIM_MAX_NETLIST_SIZE", 64e6,
                               "bytes for a netlist with its includes expanded"},
    [SS_LIMIT_INCLUDES] = {"SMALLSIM_MAX_INCLUDES", 10000,
                           "include and library lines expanded in one netlist"},
    [SS_LIMIT_JOBS] = {"SMALLSIM_MAX_JOBS", 1e6, "jobs in one run"},
    [SS_LIMIT_NEURONS] = {"SMALLSIM_MAX_NEURONS", 1e7, "neurons in one population"},
    [SS_LIMIT_SYNAPSES] = {"SMALLSIM_MAX_SYNAPSES", 1e8,
                           "synapses and crossbar cells in one network"},
    [SS_LIMIT_SPICE_NEURONS] = {"SMALLSIM_MAX_SPICE_NEURONS", 1e4,
                                "transistor-level neurons in one SPICE tile"},
    [SS_LIMIT_EVENTS] = {"SMALLSIM_MAX_EVENTS", 1e7, "scheduled stimulus steps"},
    [SS_LIMIT_STEPS] = {"SMALLSIM_MAX_STEPS", 1e9, "time steps or points in one run"},
    [SS_LIMIT_DURATION] = {"SMALLSIM_MAX_DURATION", 1e5, "seconds of simulated time"},
    [SS_LIMIT_SAMPLES] = {"SMALLSIM_MAX_SAMPLES", 1e6,
                          "samples in one measured trace (a fit needs far fewer: keep every "
                          "k-th row)"},
    [SS_LIMIT_WORKER_RSS] = {"SMALLSIM_MAX_WORKER_RSS", 512e6,
                             "bytes of memory a worker may hold before it is replaced"},
    [SS_LIMIT_RANK_SILENCE] = {"SMALLSIM_RANK_DEADLINE", 30,
                               "seconds an MPI rank may stay silent before it is given up"},
};

/* "256e6", "256M", "1.5G", "10k": k, M, G, T multiply by 1e3 ... 1e12. */
static int parse_limit(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    switch (tolower((unsigned char)*end)) {
    case 'k': v *= 1e3, end++; break;
    case 'm': v *= 1e6, end++; break;
    case 'g': v *= 1e9, end++; break;
    case 't': v *= 1e12, end++; break;
    default: break;
    }
    if (*end || !(v > 0) || isnan(v))
        return -1;
    *out = v;
    return 0;
}

double ss_util_limit(int which)
{
    if (which < 0 || which >= SS_LIMIT_COUNT)
        return INFINITY;
    const char *s = getenv(limits[which].env);
    double v;
    if (s && *s && !parse_limit(s, &v))
        return v;
    return limits[which].def;
}

const char *ss_util_limit_env(int which)
{
    return which >= 0 && which < SS_LIMIT_COUNT ? limits[which].env : "";
}

int ss_util_limit_check(int which, double value, ss_error *err, const char *fmt, ...)
{
    double lim = ss_util_limit(which);
    if (value <= lim)
        return SS_OK;
    char what[SS_ERROR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *env = ss_util_limit_env(which), *s = getenv(env);
    double v;
    int bad = s && *s && parse_limit(s, &v);
    return ss_error_set(err, SS_EINVAL, "%s: %.15g is above the limit of %.15g %s (raise it with %s=N%s%s%s)",
                        what, value, lim, which >= 0 && which < SS_LIMIT_COUNT ? limits[which].what : "",
                        env, bad ? "; its value '" : "", bad ? s : "",
                        bad ? "' is not a positive number and was ignored" : "");
}
