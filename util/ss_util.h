/* ss_util.h: status codes, error reporting and small shared helpers of smallsim.
 *
 * Every library call returns an int status: 0 (SS_OK) on success, a positive
 * SS_E... code on failure.  Calls that can fail take an optional `ss_error *`
 * that receives the code and a one-line message ("file:line: what is wrong"
 * for input errors).  The library never prints and never exits. */
#ifndef SS_UTIL_H
#define SS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SS_VERSION "0.1.0"

enum ss_status {
    SS_OK = 0,
    SS_EINVAL,    /* bad argument or option value */
    SS_ENOMEM,    /* out of memory */
    SS_EIO,       /* file or pipe could not be read or written */
    SS_EPARSE,    /* malformed input file */
    SS_EDENIED,   /* input refused by screening (control blocks, includes) */
    SS_ESIM,      /* the simulator reported an error */
    SS_ETIMEOUT,  /* a run exceeded its wall-clock limit */
    SS_ECRASH,    /* a worker or engine died */
    SS_EENGINE,   /* the ngspice library could not be loaded or is unusable */
    SS_EBUSY,     /* the one-per-process resource is in use */
    SS_ENOTFOUND, /* a named item (vector, model, preset) does not exist */
    SS_ENUMERIC,  /* a numerical method failed (non-finite values, no convergence) */
    SS_ESTATUS_MAX
};

#define SS_ERROR_MSG_MAX 1024

/* Error report filled by library calls.  The caller owns it; it may live on
 * the stack.  A NULL `ss_error *` is accepted everywhere and means "only the
 * code is wanted". */
typedef struct ss_error {
    int code;
    char msg[SS_ERROR_MSG_MAX];
} ss_error;

/* Text for a status code ("out of memory"); never NULL. */
const char *ss_strerror(int code);

/* Records `code` and a printf-style message in `err` (if not NULL) and
 * returns `code`.  Every error in the library goes through here, so one
 * debugger breakpoint catches them all. */
int ss_error_set(ss_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in `err` (if not NULL) with "prefix: " (for
 * context such as a file and line) and records `code`, the status of the
 * failure being reported.  Returns `code` whether or not `err` is NULL, so
 * `return ss_error_prefix(err, rc, ...)` never turns a failure into
 * success. */
int ss_error_prefix(ss_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears `err` to SS_OK and an empty message. */
void ss_error_clear(ss_error *err);

/* ---- growable string buffer ---------------------------------------- */

typedef struct ss_buf {
    char *data; /* always NUL-terminated once anything was added */
    size_t len, cap;
} ss_buf;

#define SS_BUF_INIT {NULL, 0, 0}
/* Appends bytes / a formatted string.  Returns SS_OK or SS_ENOMEM. */
int ss_buf_add(ss_buf *b, const char *s, size_t n);
int ss_buf_printf(ss_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ss_buf_release(ss_buf *b);

/* ---- numbers ----------------------------------------------------------- */

/* Parses a SPICE number: "2.385", "1e-6", "10k", "4.7u", "3meg", "5ms",
 * "1.5mil"; trailing letters after a scale factor are units and ignored
 * ("10pF").  The whole string must be used.  Returns SS_OK or SS_EINVAL. */
int ss_util_parse_spice_number(const char *s, double *out);

/* Parses a plain double (strtod, C locale, whole string, finite). */
int ss_util_parse_double(const char *s, double *out);

/* Formats a double so that it reads back exactly ("%.17g"). */
void ss_util_format_double(char buf[32], double x);

/* ---- hashing and seeds ------------------------------------------------- */

#define SS_UTIL_FNV_INIT 0xcbf29ce484222325ULL
#define SS_UTIL_FNV_PRIME 0x100000001b3ULL
/* FNV-1a (64 bit) of `len` bytes, continuing from `h` (SS_UTIL_FNV_INIT
 * for a new hash): the library's one hash for identities of settings and
 * checksums of files. */
uint64_t ss_util_fnv1a(uint64_t h, const void *data, size_t len);
/* splitmix64 (Steele, Lea and Flood 2014): x plus the golden gamma, then
 * its finaliser.  The library's one seed mixer: derives well-spread seeds
 * from (seed, index) pairs, e.g. ss_util_mix64(seed ^ f(index)). */
uint64_t ss_util_mix64(uint64_t x);

/* ---- JSON (json.c; Jansson underneath) ------------------------------------
 * The library's one JSON reader and writer: every JSON file smallsim reads
 * or writes goes through these and Jansson's own API (jansson.h) for the
 * values.  Numbers are written with 17 significant digits, so a double
 * reads back unchanged; non-finite numbers are written as null. */

struct json_t;
/* Parses text (`name` in messages); *root is a new reference.  Syntax
 * errors: "name:line: what", SS_EPARSE. */
int ss_json_parse(const char *text, const char *name, struct json_t **root, ss_error *err);
/* Reads and parses a file; *text (may be NULL) receives its text for
 * ss_json_line (the caller frees it). */
int ss_json_load(const char *path, struct json_t **root, char **text, ss_error *err);
/* The line (from 1) where the value of the object keys keys[0..n) starts,
 * the outermost first ("device", "params", "r_on"); 1 if not found.  For
 * "file:line:" in messages about a value that parsed but means nothing. */
int ss_json_line(const char *text, const char *const *keys, size_t n);
/* A JSON number for x (a real, or null if x is not finite); NULL if out of
 * memory. */
struct json_t *ss_json_number(double x);
/* A JSON string of s[0..n) (NULL: ""); bytes that are not UTF-8 become
 * '?', so a file name or a user's word never fails the write.  NULL if out
 * of memory. */
struct json_t *ss_json_string(const char *s, size_t n);
/* obj[key] = ss_json_string(s, strlen(s)).  SS_OK or SS_ENOMEM. */
int ss_json_set_string(struct json_t *obj, const char *key, const char *s);
/* obj[key] = ss_json_number(x).  SS_OK or SS_ENOMEM. */
int ss_json_set_number(struct json_t *obj, const char *key, double x);
/* Appends root as indented JSON and a newline. */
int ss_json_dump(const struct json_t *root, ss_buf *out, ss_error *err);
/* Writes root to path (atomically), as ss_json_dump. */
int ss_json_write(const struct json_t *root, const char *path, ss_error *err);

/* ---- limits (limits.c) ------------------------------------------------- */

/* Bounds that keep a hostile or mistyped input from growing without end.
 * Each has a default and an environment variable that raises (or lowers)
 * it: a number with an optional k, M, G or T (1e3 .. 1e12), e.g.
 * SMALLSIM_MAX_FILE_SIZE=1G.  docs/engine.md lists them. */
enum ss_util_limit {
    SS_LIMIT_FILE_SIZE,     /* bytes of one input file (256e6) */
    SS_LIMIT_NETLIST_SIZE,  /* bytes of a netlist with its includes expanded (64e6) */
    SS_LIMIT_INCLUDES,      /* include/library lines expanded in one netlist (10000) */
    SS_LIMIT_JOBS,          /* jobs of one sweep or campaign, sweep points (1e6) */
    SS_LIMIT_NEURONS,       /* neurons of one network population (1e7) */
    SS_LIMIT_SYNAPSES,      /* synapses and crossbar cells of one network (1e8) */
    SS_LIMIT_SPICE_NEURONS, /* transistor-level neurons of one SPICE tile (1e4) */
    SS_LIMIT_EVENTS,        /* stimulus steps of one experiment (1e7) */
    SS_LIMIT_STEPS,         /* time steps of a run: duration / dt, recorded samples (1e9) */
    SS_LIMIT_DURATION,      /* simulated seconds of one run (1e5) */
    SS_LIMIT_SAMPLES,       /* samples of one measured trace to fit (1e6) */
    SS_LIMIT_WORKER_RSS,    /* resident bytes after which a pool worker retires (512e6) */
    SS_LIMIT_RANK_SILENCE,  /* seconds an MPI rank may stay silent before it is given up (30) */
    SS_LIMIT_COUNT
};
/* The limit in force (the environment variable's value if it is a valid
 * positive number, else the default). */
double ss_util_limit(int which);
/* The environment variable that sets it ("SMALLSIM_MAX_JOBS"). */
const char *ss_util_limit_env(int which);
/* SS_OK when value <= the limit; else SS_EINVAL with "WHAT: VALUE is above
 * the limit of N ... (raise it with ENV=N)", WHAT formatted from fmt. */
int ss_util_limit_check(int which, double value, ss_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- files ------------------------------------------------------------- */

/* Reads a whole file into a NUL-terminated heap buffer (*out, *len).
 * Refuses what is not a regular file (a named pipe, a device such as
 * /dev/zero, a folder: SS_EIO, without blocking), files larger than
 * SS_LIMIT_FILE_SIZE (SS_EINVAL, naming the limit and how to raise it) and
 * files with NUL bytes (SS_EPARSE).  A UTF-8 byte order mark at the start
 * is dropped (*len is then the file's size - 3).  The caller frees *out. */
int ss_util_read_file(const char *path, char **out, size_t *len, ss_error *err);

/* Writes `len` bytes to `path` atomically (temporary file + rename). */
int ss_util_write_file_atomic(const char *path, const void *data, size_t len, ss_error *err);

/* Output files never replace what is not a regular file: a device (such as
 * /dev/null), a named pipe, a socket or a folder is refused, and so is a
 * symbolic link unless SS_UTIL_FOLLOW_ENV is "1" (then its target is
 * written).  ss_util_check_output checks `path` (a missing file is fine);
 * ss_util_open_output opens it with fopen-style `mode` ("w", "a") after
 * checking the opened file itself; ss_util_write_file_atomic checks too.
 * Missing parent folders are created ("-o runs/today/x.csv"), also by
 * ss_util_prepare_output (check + folders, for writers that open files
 * themselves). */
#define SS_UTIL_FOLLOW_ENV "SMALLSIM_FOLLOW_SYMLINKS"
int ss_util_check_output(const char *path, ss_error *err);
int ss_util_prepare_output(const char *path, ss_error *err);
FILE *ss_util_open_output(const char *path, const char *mode, ss_error *err);

/* Writes all `len` bytes to the open file `fd` (retrying short writes and
 * interrupts) and syncs them to disk (fdatasync; file systems that cannot
 * sync are accepted): the one durable append, used by the results journal
 * (pool/) and the run logs of l2l/.  `what` names the file in messages. */
int ss_util_write_durable(int fd, const void *data, size_t len, const char *what, ss_error *err);

/* Reads a plain numeric CSV file without header: one row per line, values
 * separated by commas, semicolons or white space; blank lines and lines
 * starting with '#' or '*' are skipped.  Every row must have the same number
 * of values.  *data (row-major, caller frees) has *rows x *cols values.
 * Errors name the file and line ("g.csv:3: 'x1' is not a number").
 * With `spice_numbers`, values may use SPICE suffixes ("10k"). */
int ss_util_read_matrix(const char *path, int spice_numbers, double **data, size_t *rows,
                        size_t *cols, ss_error *err);

/* Monotonic wall clock in seconds. */
/* ---- sandbox (sandbox.c) --------------------------------------------- */

/* Folders (or single files) a confined process may read, and folders it
 * may also write; paths that do not exist are skipped. */
typedef struct ss_sandbox {
    const char *const *read;
    size_t nread;
    const char *const *write;
    size_t nwrite;
} ss_sandbox;

/* Confines the calling process for the rest of its life (and its
 * children): it cannot start programs (seccomp: execve fails), and with
 * Landlock it sees only `sb`'s folders, the system's libraries (/usr, /lib)
 * read-only, its own /proc entry, /dev/null and /dev/urandom.  Call it in a
 * process made for the job (a forked child or worker), never in a caller's
 * own process.  NULL `sb` allows no folders of its own. */
int ss_util_sandbox_enter(const ss_sandbox *sb, ss_error *err);
/* What ss_util_sandbox_enter applies on this kernel: 2 = Landlock and
 * seccomp, 1 = seccomp only (no Landlock: file access is not confined). */
int ss_util_sandbox_level(void);
/* In a forked child that runs ngspice: SIGSEGV, SIGBUS, SIGFPE, SIGILL and
 * SIGABRT back to their default action, so a crash ends the child by its
 * signal whatever handlers the parent installed (a sanitizer's, Python's
 * faulthandler) and the parent reports it as a crash. */
void ss_util_crash_by_signal(void);

/* Creates a new private folder "$TMPDIR/STEM-XXXXXX" (or under /tmp);
 * its path goes to `out` (4096 bytes). */
int ss_util_temp_dir(char out[4096], const char *stem, ss_error *err);
/* Removes `path` and everything below it (symbolic links are removed, not
 * followed); errors are ignored. */
void ss_util_remove_tree(const char *path);

double ss_util_now(void);
/* CPU time used by this process (user + system), seconds. */
double ss_util_cpu_time(void);
/* Resident set size of this process in kB (from /proc/self/status), or -1. */
long ss_util_rss_kb(void);

/* ---- plots ------------------------------------------------------------- */

/* Runs gnuplot (found on PATH; no shell) with `script` on its standard
 * input and waits for it.  The script sets its own terminal and output
 * file.  Fails with SS_EIO naming gnuplot's first error line, or saying
 * that gnuplot is missing. */
int ss_util_gnuplot(const char *script, ss_error *err);

#endif
