/* ss_engine.h: ngspice driven through its shared library (libngspice), and
 * the results it produces.
 *
 * One engine per process, used from one owner thread.  Every run is verified
 * (unique title, transcript scan, final time reached) and its vectors are
 * copied out, so results never alias ngspice memory and never belong to a
 * previous circuit.  A fatal ngspice error is recovered by reloading the
 * library.  Untrusted netlists are screened by netlists/ before loading.
 * This module is the only one that includes ngspice's headers.
 *
 * Typical use:
 *     ss_engine *eng;  ss_result res = SS_RESULT_INIT;  ss_error err;
 *     if (ss_engine_open(&eng, &err)) ...;
 *     if (ss_engine_run_file(eng, "rc.cir", 0, &res, &err)) ...;
 *     const ss_vector *v = ss_result_find(&res, "v(out)");
 *     ss_result_release(&res);  ss_engine_free(eng);
 */
#ifndef SS_ENGINE_H
#define SS_ENGINE_H

#include <stddef.h>

#include "netlists/ss_netlist.h"
#include "util/ss_util.h"

/* ---- results ------------------------------------------------------------ */

/* ngspice vector types (sim.h); ss_vector_type_name() gives the raw-file name. */
enum ss_vector_type {
    SS_VT_NOTYPE = 0, SS_VT_TIME, SS_VT_FREQUENCY, SS_VT_VOLTAGE, SS_VT_CURRENT
};

typedef struct ss_vector {
    char *name;     /* as ngspice names it: "time", "v(out)", "i(v1)", "out" */
    int type;       /* enum ss_vector_type or another ngspice type number */
    size_t n;       /* number of points */
    double *re;     /* n values */
    double *im;     /* n imaginary parts, or NULL for a real vector */
} ss_vector;

/* One analysis' output ("tran1", "ac1", "op1"). */
typedef struct ss_plot {
    char *name;       /* "tran1" */
    char *type;       /* "Transient Analysis" */
    char *title;      /* the circuit title */
    int has_scale;    /* vec[0] is the scale (time, frequency, sweep); not for .op */
    size_t nvec;
    ss_vector *vec;
} ss_plot;

/* One result of a .meas line, as ngspice evaluated it. */
typedef struct ss_measure {
    char *name;     /* lower case, as ngspice prints it */
    char *analysis; /* "tran", "ac", "dc" or "sp" */
    double value;   /* NAN when it failed */
    int ok;         /* 0: ngspice reported the measurement as failed */
    int digits;     /* significant digits of `value`: 16 or 17 (ngspice's own
                     * printout of FIND, TRIG/TARG, AVG, MIN, MAX, PP has 7) */
} ss_measure;

typedef struct ss_result {
    size_t nplot;
    ss_plot *plot;    /* in the order ngspice created them; the last is the main one */
    size_t nmeas;
    ss_measure *meas; /* every .meas result in the order ngspice printed them
                       * (analyses that a .control block runs again repeat them) */
    char *printout;   /* what the netlist's .control commands printed (NULL: none) */
    int quit;         /* 1 when the .control commands ended with quit (or exit) */
    int quit_status;  /* its status: ngspice -b would exit with it */
} ss_result;

#define SS_RESULT_INIT {0, NULL, 0, NULL, NULL, 0, 0}

/* ngspice's name of vector type `type` ("voltage", "current", "time",
 * "voltage-density", "temp-sweep", ...). */
const char *ss_vector_type_name(int type);
/* The name ngspice -b writes into a raw file for a vector stored under
 * `name` with type `type`: "v(2)" for "V(2)", "v(out)" for "out",
 * "i(v1)" for "v1#branch" (outitf.c, fileInit_pass2).  Written into buf. */
const char *ss_vector_raw_name(const char *name, int type, char *buf, size_t size);
/* The last result of measurement `name` (case-insensitive), or NULL. */
const ss_measure *ss_result_measure(const ss_result *res, const char *name);
/* Writes the measurements as CSV "name,analysis,value,status" (status "ok"
 * or "failed"; value "%.17g", empty when failed) or, for a path ending in
 * ".json", as a JSON array of {"name", "analysis", "value", "ok"}. */
int ss_result_write_measures(const ss_result *res, const char *path, ss_error *err);
/* Finds a vector of the last plot by name, case-insensitively; "out",
 * "v(out)" and "V(out)" find the same node voltage.  NULL if absent. */
const ss_vector *ss_result_find(const ss_result *res, const char *name);
const ss_vector *ss_plot_find(const ss_plot *plot, const char *name);
void ss_result_release(ss_result *res);

/* Writes `plot` as CSV: a header row with the scale and vector names, then
 * one row per point ("%.17g"; complex vectors as name.re,name.im columns).
 * `names` (NULL for all vectors) selects and orders the columns. */
int ss_result_write_csv(const ss_plot *plot, const char *const *names, size_t nnames,
                        const char *path, ss_error *err);
/* Writes every plot of `res` (or only the selected vectors, the scale always
 * first) as an ngspice binary raw file, readable by ngspice's `load`. */
int ss_result_write_raw(const ss_result *res, const char *const *names, size_t nnames,
                        const char *path, ss_error *err);

/* ---- the engine --------------------------------------------------------- */

typedef struct ss_engine ss_engine;

/* Values at one accepted time point: names[i], values[i] for i < n.  The
 * arrays belong to the engine and are valid during the callback only. */
typedef struct ss_engine_point {
    double t;
    size_t n;
    const char *const *names;
    const double *values;
} ss_engine_point;

/* Co-simulation hooks; any member may be NULL.  All of them are called on the
 * engine's owner thread from inside ss_engine_run.  A non-zero return from
 * a hook aborts the run with SS_ESIM and the hook's message. */
typedef struct ss_engine_hooks {
    /* Value of an EXTERNAL source (V or I) named `name` (lowercase, e.g.
     * "i1") at time t.  Called at the operating point, on every Newton
     * iteration and at rejected trial times, so it must be a pure function
     * of t and host state committed in `accept`. */
    int (*source)(void *user, const char *name, double t, double *value);
    /* Called once per accepted time point with every vector's value. */
    int (*accept)(void *user, const ss_engine_point *pt);
    /* Upper bound for the next step after the accepted time t; return 0 or
     * a negative value for "no bound". */
    double (*max_step)(void *user, double t);
    void *user;
} ss_engine_hooks;

/* Loads libngspice, initialises it safely (LC_NUMERIC=C, one thread, no
 * prompts, from a private folder with an empty .spiceinit) and returns the
 * process's engine.  A second open while one exists fails with SS_EBUSY.
 * In a process forked from one that holds an engine (a pool worker), open
 * returns that engine's copy, which then belongs to the child. */
int ss_engine_open(ss_engine **eng, ss_error *err);
/* Unloads the library; NULL is fine. */
void ss_engine_free(ss_engine *eng);

/* Hooks for the following runs (copied; NULL removes them). */
void ss_engine_set_hooks(ss_engine *eng, const ss_engine_hooks *hooks);
/* Adds a breakpoint at time t: before a run (kept for the next run) or from
 * inside a hook (takes effect at once).  Breakpoints make ngspice land on
 * host-side discontinuities and reset its integration order there. */
int ss_engine_breakpoint(ss_engine *eng, double t);

/* Loads a netlist (already read and screened by netlists/), replacing every
 * earlier circuit.  Its .control commands (allowed by the screen) run now,
 * as in ngspice -b; with SS_NETLIST_ALLOW_CONTROL a .spiceinit beside the
 * netlist is read first.  Errors in the circuit fail the load; errors of
 * the commands do not (ngspice -b carries on), they stay in the printout. */
int ss_engine_load(ss_engine *eng, const ss_netlist *nl, ss_error *err);
/* Runs the loaded circuit in the calling thread, verifies it and copies all
 * plots into `res` (released first), with the .meas results, the
 * commands' printout and their quit.  After .control commands the circuit's
 * own analyses run as ngspice -b runs them: not after a quit; when the
 * commands made no plot; or when the netlist has .print/.plot/.four/.meas/
 * .op/.tf lines.  A failed .meas is a result (ok = 0), not a failed run.
 * On failure `res` is empty, the message names the first error line, and
 * ss_engine_transcript() holds ngspice's output.  The circuit is removed
 * afterwards either way. */
int ss_engine_run(ss_engine *eng, ss_result *res, ss_error *err);
/* Reads, screens, loads and runs a netlist file (flags: SS_NETLIST_...). */
int ss_engine_run_file(ss_engine *eng, const char *path, unsigned flags, ss_result *res,
                       ss_error *err);
/* Reads and screens netlist text (`name` is the file name its messages
 * use), loads and runs it. */
int ss_engine_run_text(ss_engine *eng, const char *text, const char *name, unsigned flags,
                       ss_result *res, ss_error *err);
/* Sends one ngspice command (for `alter` and the like).  Commands that run
 * programs or write files (shell, write, wrdata, source, ...) are refused
 * unless `allow_unsafe` is set. */
int ss_engine_command(ss_engine *eng, const char *cmd, int allow_unsafe, ss_error *err);

/* ngspice's output during the last load and run (never NULL). */
const char *ss_engine_transcript(const ss_engine *eng);
/* How many times the library was reloaded after a fatal error. */
int ss_engine_reloads(const ss_engine *eng);

/* Confines the calling process (ss_util_sandbox_enter) to running netlists
 * read like `nl`: it can start no programs, can read only nl's folders
 * (nl->roots: the netlist's own and the trusted ones) and the system's
 * libraries, and can write only `run_dir` and the `write` folders.  The
 * engine moves into `run_dir` (which must exist; the caller creates and
 * later removes it).  Irreversible: call it in a process made for the runs
 * (a forked child, a pool worker).  Does nothing when nl was read with
 * SS_NETLIST_NO_SANDBOX. */
int ss_engine_confine(ss_engine *eng, const ss_netlist *nl, const char *run_dir,
                      const char *const *write, size_t nwrite, ss_error *err);

/* Runs one netlist in a forked child process with its own engine, so that a
 * hang (SIGKILL after `timeout` seconds, 0 = none) or a crash of ngspice
 * costs only that child, which is confined by ss_engine_confine to a fresh
 * run folder (removed afterwards).  Status SS_ETIMEOUT or SS_ECRASH in
 * those cases. */
int ss_engine_run_isolated(const ss_netlist *nl, double timeout, ss_result *res, ss_error *err);

typedef struct ss_engine_child_options {
    double timeout;   /* seconds; 0 = no limit */
    char **transcript; /* if not NULL, receives ngspice's output of the run
                        * (heap string, also on failure; caller frees) */
    const char *run_dir; /* the child's working folder, where files that the
                          * netlist's commands write land (created if
                          * missing, kept); NULL: a fresh one, removed */
    size_t files;     /* out: files the run left in its folder (.spiceinit aside) */
} ss_engine_child_options;
/* ss_engine_run_isolated with options (NULL: defaults). */
int ss_engine_run_child(const ss_netlist *nl, ss_engine_child_options *opt, ss_result *res,
                        ss_error *err);

#endif
