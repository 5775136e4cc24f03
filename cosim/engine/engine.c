/* engine.c: ngspice through its shared library, made safe to drive.
 *
 * The library is loaded with dlopen so that a copy broken by a fatal error
 * can be unloaded and loaded again.  All of ngspice's state is global, so
 * there is one engine per process.  See shared/references/ngspice-shared-api.md
 * for the measured behaviour this file is built on. */
#include "cosim/engine/engine_private.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ngspice/sharedspice.h>

/* ngspice keeps (and at unload leaks) memory of its own.  Under
 * LeakSanitizer, allocations made inside ngspice calls are not ours to
 * report: ng_enter/ng_leave bracket every call into the library. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
static void ng_enter(void) { __lsan_disable(); }
static void ng_leave(void) { __lsan_enable(); }
#else
static void ng_enter(void) {}
static void ng_leave(void) {}
#endif

#define NGSPICE_LIB "libngspice.so.0"
#define MAX_COMMAND 1000 /* ngspice copies commands into a 1024-byte buffer */

struct ss_engine {
    void *dl;
    int (*init)(SendChar *, SendStat *, ControlledExit *, SendData *, SendInitData *,
                BGThreadRunning *, void *);
    int (*init_sync)(GetVSRCData *, GetISRCData *, GetSyncData *, int *, void *);
    int (*command)(char *);
    pvector_info (*vec_info)(char *);
    int (*circ)(char **);
    char **(*all_plots)(void);
    char **(*all_vecs)(char *);
    NG_BOOL (*set_bkpt)(double);

    char workdir[PATH_MAX]; /* private folder with an empty .spiceinit */
    ss_buf transcript;
    size_t run_mark;      /* transcript offset where the current phase began */
    char first_error[512];
    int error_more;       /* continuation lines still to append to first_error */
    int dead;             /* a ControlledExit was seen: reload before use */
    int reloads;
    pid_t owner;          /* the process that made workdir (a forked child inherits it) */
    int ident;
    int running;

    /* the loaded circuit */
    int loaded;
    unsigned long serial;
    char title[96];       /* unique title sent to ngspice */
    char *user_title;     /* the netlist's own title */
    double tstop;         /* from .tran, NAN if unknown */
    int seen_title;       /* SendInitData reported our title */

    ss_engine_hooks hooks;
    double *bkpt;
    size_t nbkpt, capbkpt;

    /* accepted-point scratch for the accept hook */
    const char **pt_names;
    double *pt_values;
    size_t pt_cap;
    char scale[64];
    int hook_failed;
    ss_error hook_err;
};

static ss_engine *the_engine; /* the one per process */

ss_engine *engi_current_engine(void)
{
    return the_engine;
}

/* ---- transcript and error detection ------------------------------------ */

/* Lines that mean the run failed, whatever ngspice's return code says. */
static int is_error_line(const char *s)
{
    static const char *const pat[] = {
        "error",           "timestep too small", "aborted",   "not parsed",
        "can't find model", "unknown subckt",    "cannot recover", "singular matrix",
        "no such vector",  "could not find",     "unknown model",  "too few parameters",
        "iteration limit reached", "gmin stepping failed", "netlist line no.",
        "undefined parameter", "expression err",
    };
    char low[512];
    size_t n = 0;
    for (; s[n] && n + 1 < sizeof low; n++)
        low[n] = (char)tolower((unsigned char)s[n]);
    low[n] = '\0';
    /* notes and warnings on stderr are not failures */
    if (strstr(low, "warning") || !strncmp(low, "note:", 5))
        return 0;
    if (strstr(low, "gmin stepping") && !strstr(low, "failed"))
        return 0;
    for (size_t i = 0; i < sizeof pat / sizeof pat[0]; i++)
        if (strstr(low, pat[i]))
            return 1;
    return 0;
}

static int cb_send_char(char *text, int id, void *user)
{
    ss_engine *e = user;
    (void)id;
    if (!e || !text)
        return 0;
    const char *s = text;
    if (!strncmp(s, "stdout ", 7))
        s += 7;
    else if (!strncmp(s, "stderr ", 7))
        s += 7;
    if (e->transcript.len < (8u << 20)) { /* keep at most 8 MB of transcript */
        ss_buf_add(&e->transcript, s, strlen(s));
        ss_buf_add(&e->transcript, "\n", 1);
    }
    size_t len = strlen(e->first_error);
    while (len && isspace((unsigned char)e->first_error[len - 1]))
        e->first_error[--len] = '\0';
    if (!e->first_error[0] && is_error_line(s)) {
        snprintf(e->first_error, sizeof e->first_error, "%s", s);
        len = strlen(e->first_error);
        while (len && isspace((unsigned char)e->first_error[len - 1]))
            e->first_error[--len] = '\0';
        e->error_more = !(len && e->first_error[len - 1] == ':') ? 0
                        : strncasecmp(e->first_error, "netlist line no.", 16) ? 2 : 1;
    } else if (e->first_error[0] && e->error_more > 0) {
        /* "Error on line 2 ...:" and "Netlist line no. 2:" put the details
         * on the next lines */
        while (isspace((unsigned char)*s))
            s++;
        if (*s) {
            snprintf(e->first_error + len, sizeof e->first_error - len, " %s", s);
            e->error_more--;
        }
    }
    return 0;
}

static int cb_send_stat(char *text, int id, void *user)
{
    (void)text, (void)id, (void)user;
    return 0;
}

static int cb_exit(int status, NG_BOOL immediate, NG_BOOL quit, int id, void *user)
{
    ss_engine *e = user;
    (void)status, (void)immediate, (void)id;
    if (e && !quit)
        e->dead = 1;
    return 0;
}

static int cb_send_data(pvecvaluesall all, int count, int id, void *user)
{
    ss_engine *e = user;
    (void)id;
    if (!e || !all || e->hook_failed)
        return 0;
    size_t n = (size_t)(count > 0 ? count : all->veccount);
    double t = NAN;
    for (size_t i = 0; i < n; i++)
        if (all->vecsa[i]->is_scale) {
            t = all->vecsa[i]->creal;
            if (!e->scale[0])
                snprintf(e->scale, sizeof e->scale, "%s", all->vecsa[i]->name);
        }
    if (!e->hooks.accept)
        return 0;
    if (n > e->pt_cap) {
        const char **nn = realloc(e->pt_names, n * sizeof *nn);
        if (nn)
            e->pt_names = nn;
        double *vv = realloc(e->pt_values, n * sizeof *vv);
        if (vv)
            e->pt_values = vv;
        if (!nn || !vv) {
            e->hook_failed = 1;
            ss_error_set(&e->hook_err, SS_ENOMEM, "out of memory in the accept hook");
            return 0;
        }
        e->pt_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        e->pt_names[i] = all->vecsa[i]->name;
        e->pt_values[i] = all->vecsa[i]->creal;
    }
    ss_engine_point pt = {t, n, e->pt_names, e->pt_values};
    if (e->hooks.accept(e->hooks.user, &pt)) {
        e->hook_failed = 1;
        ss_error_set(&e->hook_err, SS_ESIM, "the accept hook failed at t = %g", t);
    }
    return 0;
}

static int cb_init_data(pvecinfoall info, int id, void *user)
{
    ss_engine *e = user;
    (void)id;
    if (e && info && info->title && !strcmp(info->title, e->title))
        e->seen_title = 1;
    return 0;
}

static int cb_bg(NG_BOOL finished, int id, void *user)
{
    (void)finished, (void)id, (void)user;
    return 0;
}

static int source_value(ss_engine *e, double *value, double t, const char *name)
{
    *value = 0.0;
    if (!e || e->hook_failed)
        return 0;
    if (!e->hooks.source) {
        e->hook_failed = 1;
        ss_error_set(&e->hook_err, SS_EINVAL,
                     "the netlist has an EXTERNAL source '%s' but no source hook is set", name);
        return 0;
    }
    if (e->hooks.source(e->hooks.user, name, t, value) || !isfinite(*value)) {
        e->hook_failed = 1;
        ss_error_set(&e->hook_err, SS_ESIM, "the source hook failed for '%s' at t = %g", name, t);
        *value = 0.0;
    }
    return 0;
}

static int cb_vsrc(double *value, double t, char *name, int id, void *user)
{
    (void)id;
    return source_value(user, value, t, name);
}

static int cb_isrc(double *value, double t, char *name, int id, void *user)
{
    (void)id;
    return source_value(user, value, t, name);
}

static int cb_sync(double t, double *delta, double olddelta, int redo, int id, int loc, void *user)
{
    ss_engine *e = user;
    (void)olddelta, (void)redo, (void)id;
    if (e && loc == 0 && e->hooks.max_step) {
        double h = e->hooks.max_step(e->hooks.user, t);
        if (h > 0 && h < *delta)
            *delta = h;
    }
    return 0;
}

/* ---- loading the library ----------------------------------------------- */

static int raw_command(ss_engine *e, const char *cmd)
{
    char buf[MAX_COMMAND + 24];
    snprintf(buf, sizeof buf, "%s", cmd);
    ng_enter();
    int rc = e->command(buf);
    ng_leave();
    return rc || e->dead;
}

static void unload(ss_engine *e)
{
    if (e->dl)
        dlclose(e->dl);
    e->dl = NULL;
}

static int load_library(ss_engine *e, ss_error *err)
{
    const char *lib = getenv("SS_NGSPICE_LIB");
    char cwd[PATH_MAX];
    if (!lib || !*lib)
        lib = NGSPICE_LIB;
    ng_enter();
    e->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    ng_leave();
    if (!e->dl)
        return ss_error_set(err, SS_EENGINE,
                            "cannot load ngspice (%s): %s; install libngspice0 and ngspice", lib,
                            dlerror());
#define SYM(field, name)                                                                      \
    do {                                                                                      \
        *(void **)&e->field = dlsym(e->dl, name);                                             \
        if (!e->field) {                                                                      \
            unload(e);                                                                        \
            return ss_error_set(err, SS_EENGINE, "ngspice library lacks '%s'", name);        \
        }                                                                                     \
    } while (0)
    SYM(init, "ngSpice_Init");
    SYM(init_sync, "ngSpice_Init_Sync");
    SYM(command, "ngSpice_Command");
    SYM(vec_info, "ngGet_Vec_Info");
    SYM(circ, "ngSpice_Circ");
    SYM(all_plots, "ngSpice_AllPlots");
    SYM(all_vecs, "ngSpice_AllVecs");
    SYM(set_bkpt, "ngSpice_SetBkpt");
#undef SYM
    /* ngspice parses numbers with the C library: force the C locale, and
     * start it from a private folder so no stray .spiceinit runs. */
    setlocale(LC_NUMERIC, "C");
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    if (chdir(e->workdir) != 0) {
        unload(e);
        return ss_error_set(err, SS_EENGINE, "cannot enter '%s': %s", e->workdir,
                            strerror(errno));
    }
    e->dead = 0;
    ng_enter();
    int rc = e->init(cb_send_char, cb_send_stat, cb_exit, cb_send_data, cb_init_data, cb_bg, e);
    if (!rc)
        rc = e->init_sync(cb_vsrc, cb_isrc, cb_sync, &e->ident, e);
    ng_leave();
    if (cwd[0] && chdir(cwd) != 0)
        rc = -1;
    static const char *const setup[] = {"set num_threads=1", "set nomoremode", "set noaskquit",
                                        "unset interactive"};
    for (size_t i = 0; !rc && i < sizeof setup / sizeof setup[0]; i++)
        rc = raw_command(e, setup[i]);
    if (rc || e->dead) {
        unload(e);
        return ss_error_set(err, SS_EENGINE, "ngspice failed to initialise");
    }
    return SS_OK;
}

/* Drops a copy of the library that hit a fatal error and loads a fresh one. */
static int reload(ss_engine *e, ss_error *err)
{
    /* "quit" first: ngspice then frees most of what it holds (a .param
     * syntax error, fatal in ngspice 39, cost 124 kB per reload without it
     * and 4-6 kB with it, measured over 100 reloads, each followed by a
     * correct run); the fresh copy initialises normally. */
    if (e->dl) {
        ng_enter();
        e->command((char *)"quit");
        ng_leave();
    }
    unload(e);
    e->reloads++;
    return load_library(e, err);
}

int ss_engine_open(ss_engine **out, ss_error *err)
{
    *out = NULL;
    if (the_engine)
        return ss_error_set(err, SS_EBUSY, "an ngspice engine is already open in this process");
    ss_engine *e = calloc(1, sizeof *e);
    if (!e)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    e->tstop = NAN;
    e->ident = 0;
    e->owner = getpid();
    const char *tmp = getenv("TMPDIR");
    snprintf(e->workdir, sizeof e->workdir, "%s/smallsim-ng-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(e->workdir)) {
        int code = ss_error_set(err, SS_EIO, "cannot create a private folder: %s", strerror(errno));
        free(e);
        return code;
    }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/.spiceinit", e->workdir);
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
    int rc = load_library(e, err);
    if (rc) {
        unlink(path);
        rmdir(e->workdir);
        free(e);
        return rc;
    }
    the_engine = e;
    *out = e;
    return SS_OK;
}

void ss_engine_free(ss_engine *e)
{
    char path[PATH_MAX + 16];
    if (!e)
        return;
    unload(e);
    if (e->owner == getpid()) {
        snprintf(path, sizeof path, "%s/.spiceinit", e->workdir);
        unlink(path);
        rmdir(e->workdir);
    }
    ss_buf_release(&e->transcript);
    free(e->user_title);
    free(e->bkpt);
    free(e->pt_names);
    free(e->pt_values);
    if (the_engine == e)
        the_engine = NULL;
    free(e);
}

int ss_engine_confine(ss_engine *e, const ss_netlist *nl, const char *run_dir,
                      const char *const *write, size_t nwrite, ss_error *err)
{
    char old[PATH_MAX], path[PATH_MAX + 16], real[PATH_MAX];
    if (nl && (nl->flags & SS_NETLIST_NO_SANDBOX))
        return SS_OK;
    if (!run_dir || !realpath(run_dir, real))
        return ss_error_set(err, SS_EIO, "sandbox: no run folder '%s'", run_dir ? run_dir : "");
    /* the engine works in run_dir from now on: its .spiceinit, ngspice's
     * own files and anything a trusted control block writes land there */
    snprintf(old, sizeof old, "%s", e->workdir);
    snprintf(path, sizeof path, "%s/.spiceinit", real);
    FILE *f = fopen(path, "w");
    if (!f || fclose(f) != 0)
        return ss_error_set(err, SS_EIO, "sandbox: cannot use '%s': %s", real, strerror(errno));
    if (strcmp(old, real) != 0) {
        if (e->owner == getpid()) { /* a parent's folder stays the parent's */
            snprintf(path, sizeof path, "%s/.spiceinit", old);
            unlink(path);
            rmdir(old);
        }
        snprintf(e->workdir, sizeof e->workdir, "%s", real);
        e->owner = 0; /* run_dir belongs to the caller */
    }
    const char **w = calloc(nwrite + 1, sizeof *w);
    if (!w)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    w[0] = e->workdir;
    for (size_t i = 0; i < nwrite; i++)
        w[i + 1] = write[i];
    ss_sandbox sb = {nl ? (const char *const *)nl->roots : NULL, nl ? nl->nroots : 0, w,
                     nwrite + 1};
    /* relative `write` folders name folders of the caller's working folder */
    int rc = ss_util_sandbox_enter(&sb, err);
    free(w);
    if (!rc && chdir(e->workdir) != 0)
        rc = ss_error_set(err, SS_EIO, "sandbox: cannot enter '%s': %s", e->workdir,
                          strerror(errno));
    return rc;
}

void ss_engine_set_hooks(ss_engine *e, const ss_engine_hooks *hooks)
{
    if (hooks)
        e->hooks = *hooks;
    else
        memset(&e->hooks, 0, sizeof e->hooks);
}

int ss_engine_breakpoint(ss_engine *e, double t)
{
    if (!isfinite(t) || t < 0)
        return SS_EINVAL;
    if (e->running)
        return e->set_bkpt(t) ? SS_OK : SS_ESIM; /* inside a run: already bracketed */
    if (e->nbkpt == e->capbkpt) {
        size_t cap = e->capbkpt ? 2 * e->capbkpt : 64;
        double *b = realloc(e->bkpt, cap * sizeof *b);
        if (!b)
            return SS_ENOMEM;
        e->bkpt = b;
        e->capbkpt = cap;
    }
    e->bkpt[e->nbkpt++] = t;
    return SS_OK;
}

const char *ss_engine_transcript(const ss_engine *e)
{
    return e && e->transcript.data ? e->transcript.data : "";
}

int ss_engine_reloads(const ss_engine *e)
{
    return e ? e->reloads : 0;
}

/* Removes every circuit and plot and clears ngspice's command memory, so
 * that nothing grows from run to run. */
static void cleanup(ss_engine *e)
{
    if (e->dead || !e->dl)
        return;
    raw_command(e, "destroy all");
    raw_command(e, "remcirc");
    ng_enter();
    e->command(NULL);
    ng_leave();
    e->loaded = 0;
}

static void begin_phase(ss_engine *e)
{
    e->transcript.len = 0;
    if (e->transcript.data)
        e->transcript.data[0] = '\0';
    e->first_error[0] = '\0';
    e->hook_failed = 0;
    ss_error_clear(&e->hook_err);
}

/* Turns ngspice's first error line into "file:line: message" when the line
 * names a deck line ("... on line N ...") we can trace to its origin. */
static int sim_error(ss_engine *e, const ss_netlist *nl, ss_error *err, const char *what)
{
    const char *msg = e->first_error[0] ? e->first_error : what;
    if (nl) {
        const char *p = strstr(msg, "line no. ");
        long k = p ? strtol(p + 9, NULL, 10) : 0;
        if (!p && (p = strstr(msg, "line ")))
            k = strtol(p + 5, NULL, 10);
        if (k >= 1 && (size_t)k <= nl->n) {
            /* the location is in front now: drop ngspice's "... line N ...:" */
            const char *colon = strchr(p, ':');
            if (colon && colon[1])
                msg = colon + 1;
            while (*msg == ' ')
                msg++;
            return ss_error_set(err, SS_ESIM, "%s:%d: %s", nl->lines[k - 1].file,
                                nl->lines[k - 1].line, msg);
        }
        /* Otherwise look for the first deck line whose instance name the
         * message quotes. */
        for (size_t i = 1; i + 1 < nl->n; i++) {
            char name[64];
            const char *t = nl->lines[i].text;
            while (*t == ' ' || *t == '\t')
                t++;
            size_t n = 0;
            while (t[n] && !isspace((unsigned char)t[n]) && n + 1 < sizeof name) {
                name[n] = (char)tolower((unsigned char)t[n]);
                n++;
            }
            name[n] = '\0';
            if (n < 2 || name[0] == '*' || name[0] == '.' || name[0] == '+')
                continue;
            char low[512];
            size_t m = 0;
            for (; msg[m] && m + 1 < sizeof low; m++)
                low[m] = (char)tolower((unsigned char)msg[m]);
            low[m] = '\0';
            const char *hit = strstr(low, name);
            if (hit && (hit == low || !isalnum((unsigned char)hit[-1])) &&
                !isalnum((unsigned char)hit[n]))
                return ss_error_set(err, SS_ESIM, "%s:%d: %s", nl->lines[i].file,
                                    nl->lines[i].line, msg);
        }
        return ss_error_set(err, SS_ESIM, "%s: %s", nl->lines[0].file, msg);
    }
    return ss_error_set(err, SS_ESIM, "%s", msg);
}

int ss_engine_load(ss_engine *e, const ss_netlist *nl, ss_error *err)
{
    int rc;
    if (!nl || nl->n < 2)
        return ss_error_set(err, SS_EINVAL, "empty netlist");
    if (e->dead && (rc = reload(e, err)))
        return rc;
    cleanup(e);
    begin_phase(e);
    e->serial++;
    snprintf(e->title, sizeof e->title, "smallsim-%ld-%lu", (long)getpid(), e->serial);
    free(e->user_title);
    e->user_title = strdup(nl->lines[0].text);
    char **deck = calloc(nl->n + 2, sizeof *deck);
    if (!deck || !e->user_title)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    deck[0] = e->title;
    for (size_t i = 1; i < nl->n; i++)
        deck[i] = nl->lines[i].text;
    if (strcasecmp(nl->lines[nl->n - 1].text, ".end") != 0)
        deck[nl->n] = ".end";
    ss_netlist_analysis(nl, &e->tstop);
    /* code models open relative file names (checked by the screen against
     * the netlist's folder) there, not in the engine's private folder */
    if (nl->dir && *nl->dir)
        setenv("NGSPICE_INPUT_DIR", nl->dir, 1);
    else
        unsetenv("NGSPICE_INPUT_DIR");
    ng_enter();
    rc = e->circ(deck);
    ng_leave();
    free(deck);
    if (rc || e->dead) {
        ss_error tmp;
        rc = sim_error(e, nl, &tmp, "ngspice hit a fatal error while loading the netlist");
        ss_error_set(err, rc, "%s (engine reloaded)", tmp.msg);
        reload(e, NULL);
        return rc;
    }
    if (e->first_error[0]) {
        rc = sim_error(e, nl, err, "");
        cleanup(e);
        return rc;
    }
    e->loaded = 1;
    return SS_OK;
}

static void vector_release(ss_vector *v)
{
    free(v->name);
    free(v->re);
    free(v->im);
}

static void plot_release(ss_plot *p)
{
    for (size_t i = 0; i < p->nvec; i++)
        vector_release(&p->vec[i]);
    free(p->vec);
    free(p->name);
    free(p->type);
    free(p->title);
}

void ss_result_release(ss_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->nplot; i++)
        plot_release(&res->plot[i]);
    free(res->plot);
    res->plot = NULL;
    res->nplot = 0;
}

static const char *plot_type_name(const char *plot)
{
    static const struct {
        const char *prefix, *type;
    } map[] = {{"tran", "Transient Analysis"},   {"ac", "AC Analysis"},
               {"dc", "DC transfer characteristic"}, {"op", "Operating Point"},
               {"noise", "Noise Spectral Density Curves"}, {"tf", "Transfer Function"},
               {"sens", "Sensitivity Analysis"}, {"pz", "Pole-Zero Analysis"},
               {"disto", "Distortion Analysis"}, {"sp", "S-Parameter Analysis"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t n = strlen(map[i].prefix);
        if (!strncmp(plot, map[i].prefix, n) && isdigit((unsigned char)plot[n]))
            return map[i].type;
    }
    return "Analysis";
}

static int is_scale_name(const char *name)
{
    static const char *const scales[] = {"time", "frequency", "v-sweep", "i-sweep",
                                         "temp-sweep", "res-sweep"};
    for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++)
        if (!strcasecmp(name, scales[i]))
            return 1;
    return 0;
}

/* Copies one ngspice plot out of the library. */
static int copy_plot(ss_engine *e, const char *name, ss_plot *p, ss_error *err)
{
    char full[512];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    p->type = strdup(plot_type_name(name));
    p->title = strdup(e->user_title ? e->user_title : "");
    if (!p->name || !p->type || !p->title)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    snprintf(full, sizeof full, "%s", name);
    ng_enter();
    char **vecs = e->all_vecs(full);
    ng_leave();
    size_t n = 0;
    while (vecs && vecs[n])
        n++;
    p->vec = calloc(n ? n : 1, sizeof *p->vec);
    if (!p->vec)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    /* ngspice reuses the array returned by all_vecs: copy the names first */
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!(names[i] = strdup(vecs[i]))) {
            for (size_t j = 0; j < i; j++)
                free(names[j]);
            free(names);
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        }
    int rc = SS_OK;
    /* the scale first, then the others in ngspice's order */
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (size_t i = 0; i < n && !rc; i++) {
            int scale = strncmp(name, "op", 2) != 0 &&
                        (is_scale_name(names[i]) || (e->scale[0] && !strcmp(names[i], e->scale)));
            if (scale != (pass == 0))
                continue;
            if (scale)
                p->has_scale = 1;
            snprintf(full, sizeof full, "%s.%s", name, names[i]);
            ng_enter();
            pvector_info vi = e->vec_info(full);
            ng_leave();
            if (!vi || vi->v_length < 0)
                continue;
            ss_vector *v = &p->vec[p->nvec];
            size_t len = (size_t)vi->v_length;
            v->name = strdup(names[i]);
            v->type = vi->v_type;
            v->n = len;
            v->re = malloc((len ? len : 1) * sizeof *v->re);
            if (vi->v_compdata)
                v->im = malloc((len ? len : 1) * sizeof *v->im);
            if (!v->name || !v->re || (vi->v_compdata && !v->im)) {
                vector_release(v);
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                break;
            }
            for (size_t k = 0; k < len; k++) {
                if (vi->v_compdata) {
                    v->re[k] = vi->v_compdata[k].cx_real;
                    v->im[k] = vi->v_compdata[k].cx_imag;
                } else {
                    v->re[k] = vi->v_realdata ? vi->v_realdata[k] : 0.0;
                }
            }
            p->nvec++;
        }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int collect(ss_engine *e, ss_result *res, ss_error *err)
{
    ng_enter();
    char **plots = e->all_plots();
    ng_leave();
    size_t n = 0;
    while (plots && plots[n])
        n++;
    char **names = calloc(n ? n : 1, sizeof *names);
    if (!names)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    size_t k = 0;
    /* ngspice lists the newest plot first; "const" is not a result */
    for (size_t i = n; i-- > 0;)
        if (strcmp(plots[i], "const") != 0)
            names[k++] = strdup(plots[i]);
    int rc = SS_OK;
    res->plot = calloc(k ? k : 1, sizeof *res->plot);
    if (!res->plot)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < k && !rc; i++) {
        if (!names[i]) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            break;
        }
        rc = copy_plot(e, names[i], &res->plot[res->nplot], err);
        res->nplot++;
    }
    for (size_t i = 0; i < k; i++)
        free(names[i]);
    free(names);
    return rc;
}

int ss_engine_run(ss_engine *e, ss_result *res, ss_error *err)
{
    int rc;
    ss_result_release(res);
    if (!e->loaded)
        return ss_error_set(err, SS_EINVAL, "no circuit loaded");
    begin_phase(e);
    e->seen_title = 0;
    e->scale[0] = '\0';
    for (size_t i = 0; i < e->nbkpt; i++) {
        ng_enter();
        e->set_bkpt(e->bkpt[i]);
        ng_leave();
    }
    e->nbkpt = 0;
    e->running = 1;
    rc = raw_command(e, "run");
    e->running = 0;
    if (rc || e->dead) {
        ss_error tmp;
        rc = sim_error(e, NULL, &tmp, "ngspice hit a fatal error during the run");
        ss_error_set(err, rc, "%s (engine reloaded)", tmp.msg);
        reload(e, NULL);
        e->loaded = 0;
        return rc;
    }
    if (e->hook_failed) {
        rc = ss_error_set(err, e->hook_err.code, "%s", e->hook_err.msg);
        goto fail;
    }
    if (e->first_error[0]) {
        rc = ss_error_set(err, SS_ESIM, "%s", e->first_error);
        goto fail;
    }
    rc = collect(e, res, err);
    if (rc)
        goto fail;
    if (res->nplot == 0) {
        rc = ss_error_set(err, SS_ESIM, "the run produced no results (no analysis line?)");
        goto fail;
    }
    if (!e->seen_title) {
        rc = ss_error_set(err, SS_ESIM, "ngspice did not simulate the loaded circuit");
        goto fail;
    }
    /* a transient must reach its stop time */
    const ss_plot *last = &res->plot[res->nplot - 1];
    if (isfinite(e->tstop) && !strncmp(last->name, "tran", 4) && last->nvec > 0) {
        const ss_vector *t = &last->vec[0];
        double tend = t->n ? t->re[t->n - 1] : -1;
        if (tend < e->tstop * (1 - 1e-9)) {
            rc = ss_error_set(err, SS_ESIM, "transient stopped at t = %g before tstop = %g", tend,
                              e->tstop);
            goto fail;
        }
    }
    cleanup(e);
    return SS_OK;
fail:
    ss_result_release(res);
    cleanup(e);
    return rc;
}

int ss_engine_run_file(ss_engine *e, const char *path, unsigned flags, ss_result *res,
                       ss_error *err)
{
    ss_netlist nl = SS_NETLIST_INIT;
    int rc = ss_netlist_read_file(&nl, path, flags, err);
    if (!rc && !ss_netlist_analysis(&nl, NULL) && !(flags & SS_NETLIST_ALLOW_CONTROL))
        rc = ss_error_set(err, SS_EPARSE,
                          "%s:%d: no analysis line (.tran, .ac, .dc, .op, .noise, ...)",
                          nl.lines[0].file, nl.lines[nl.n - 1].line);
    if (!rc)
        rc = ss_engine_load(e, &nl, err);
    if (!rc) {
        rc = ss_engine_run(e, res, err);
        if (rc == SS_ESIM)
            ss_error_prefix(err, rc, "%s", path);
    }
    ss_netlist_release(&nl);
    return rc;
}

int ss_engine_run_text(ss_engine *e, const char *text, const char *name, unsigned flags,
                       ss_result *res, ss_error *err)
{
    ss_netlist nl = SS_NETLIST_INIT;
    int rc = ss_netlist_read_string(&nl, text, name, NULL, flags, err);
    if (!rc)
        rc = ss_engine_load(e, &nl, err);
    if (!rc)
        rc = ss_engine_run(e, res, err);
    ss_netlist_release(&nl);
    return rc;
}

/* Refuses commands that run programs, load code or read or write files
 * unless the caller allows them.  ngspice's command parser
 * (frontend/parser/lexical.c, control.c) splits a line into several
 * commands at ';', redirects output at '>', '>>', '>&' and input at '<',
 * substitutes backquotes (running a shell) and history ('!'), and reads
 * standard input for '$<'; so besides a first word from the safe set, none
 * of those may appear anywhere in the line ('<=', '>=' and '!=' are
 * comparisons and stay allowed), and alter/altermod may not name a model
 * file. */
static int check_command(const char *cmd, int allow_unsafe, ss_error *err)
{
    static const char *const safe[] = {
        "alter", "altermod", "set",    "unset",  "option", "let",    "print", "destroy",
        "remcirc", "reset",  "run",    "resume", "stop",   "delete", "meas",  "measure",
        "display", "setplot", "show",  "showmod", "status", "tran",  "ac",    "dc",
        "op",      "noise",  "echo",   "listing", "linearize", "save"};
    char word[32];
    size_t n = 0;
    const char *s = cmd;
    if (!cmd)
        return ss_error_set(err, SS_EINVAL, "no command");
    if (strlen(cmd) > MAX_COMMAND)
        return ss_error_set(err, SS_EINVAL, "command longer than %d bytes", MAX_COMMAND);
    while (*s == ' ' || *s == '\t')
        s++;
    while (s[n] && !isspace((unsigned char)s[n]) && n + 1 < sizeof word) {
        word[n] = (char)tolower((unsigned char)s[n]);
        n++;
    }
    word[n] = '\0';
    if (allow_unsafe)
        return SS_OK;
    size_t i = 0;
    while (i < sizeof safe / sizeof safe[0] && strcmp(word, safe[i]))
        i++;
    if (i == sizeof safe / sizeof safe[0])
        return ss_error_set(err, SS_EDENIED, "ngspice command '%s' refused (not in the safe set)",
                            word);
    for (const char *p = cmd; *p; p++) {
        const char *what = NULL;
        if (*p == ';')
            what = "a second command after ';'";
        else if (*p == '`')
            what = "backquote command substitution";
        else if ((*p == '>' || *p == '<' || *p == '!') && p[1] != '=')
            what = *p == '!' ? "history substitution '!'" : "redirection with '<' or '>'";
        else if (*p == '&' && (p == cmd || p[-1] != '$'))
            what = "'&'";
        else if (*p == '$' && p[1] == '<')
            what = "reading standard input with '$<'";
        else if ((unsigned char)*p < ' ' && *p != '\t')
            what = "a control character";
        if (what)
            return ss_error_set(err, SS_EDENIED, "ngspice command '%s' refused: %s", word, what);
    }
    if (!strncmp(word, "alter", 5)) {
        for (const char *p = cmd; (p = strcasestr(p, "file")); p += 4) {
            const char *q = p + 4;
            while (*q == ' ' || *q == '\t')
                q++;
            if ((p == cmd || !isalnum((unsigned char)p[-1])) && (*q == '=' || !*q || *q == ' '))
                return ss_error_set(err, SS_EDENIED,
                                    "ngspice command '%s' refused: it would read a model file",
                                    word);
        }
    }
    return SS_OK;
}

int ss_engine_command(ss_engine *e, const char *cmd, int allow_unsafe, ss_error *err)
{
    int rc = check_command(cmd, allow_unsafe, err);
    if (rc)
        return rc;
    if (e->dead && (rc = reload(e, err)))
        return rc;
    begin_phase(e);
    e->running = 1;
    rc = raw_command(e, cmd);
    e->running = 0;
    if (rc || e->dead) {
        rc = sim_error(e, NULL, err, "ngspice hit a fatal error");
        reload(e, NULL);
        return rc;
    }
    if (e->first_error[0])
        return ss_error_set(err, SS_ESIM, "%s", e->first_error);
    return SS_OK;
}
