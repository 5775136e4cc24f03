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
#include <sys/stat.h>
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

    /* callbacks the loaded copy was initialised with: ngspice cannot drop
     * them later, and each changes runs (SendData's per-point path
     * crashes on some decks; GetSyncData ends every transient 1.1 delmin
     * before tstop), so a copy has only those its runs need */
    int prof_data, prof_sync;
    char spiceinit[PATH_MAX]; /* the trusted .spiceinit sourced into this copy */

    /* the loaded circuit */
    int loaded;
    unsigned long serial;
    engi_deck deck;        /* what was sent (deck.c) */
    double tstop;         /* from .tran, NAN if unknown */
    int seen_title;       /* SendInitData announced a plot of the run */
    size_t nplots_loaded; /* plots the netlist's commands made while loading */

    /* what ngspice printed, sorted as it arrives */
    int phase;            /* enum phase */
    int in_meas;          /* inside the printout of .meas results */
    size_t meas_block;    /* first entry of the current block of results */
    ss_measure *meas;
    size_t nmeas, capmeas;
    ss_buf printout;      /* lines printed while the netlist's commands ran */
    int quit_seen, quit_status;
    int no_circuit;       /* remcirc found nothing to remove */
    struct plot_info *pinfo; /* facts SendInitData gave about each plot */
    size_t npinfo, cappinfo;

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

/* Which lines of ngspice's output can fail the run: while the circuit is
 * read and while the engine's own "run" runs, an error line fails it;
 * while the netlist's .control commands run, ngspice -b carries on after
 * an error, and so does the engine (the lines stay in the printout). */
enum phase { PH_LOAD, PH_CONTROL, PH_RUN };

/* A plot as SendInitData announced it. */
struct plot_info {
    char name[32];   /* "tran1" */
    char type[96];   /* "Transient Analysis" */
    char title[256]; /* the circuit's title, as ngspice -b has it */
    char scale[128]; /* its scale vector */
};

static ss_engine *the_engine; /* the one per process */
static pid_t the_engine_pid;  /* the process it belongs to */

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
    /* notes and warnings on stderr are not failures; neither are the
     * shared library's complaint about a plot without vectors (ngspice -b
     * does not make it) and the sensitivity analysis' parameter queries */
    if (strstr(low, "warning") || !strncmp(low, "note:", 5) ||
        strstr(low, "there are no vectors currently active") || !strncmp(low, "get error:", 10))
        return 0;
    if (strstr(low, "gmin stepping") && !strstr(low, "failed"))
        return 0;
    for (size_t i = 0; i < sizeof pat / sizeof pat[0]; i++)
        if (strstr(low, pat[i]))
            return 1;
    return 0;
}

/* ---- measurements: ngspice prints them, the engine reads them --------- */

static const char *skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Significant digits of the number at s ("9.9997152745822793e-01": 17). */
static int count_digits(const char *s)
{
    int n = 0, lead = 1;
    s = skip_blank(s);
    if (*s == '-' || *s == '+')
        s++;
    for (; *s && *s != 'e' && *s != 'E' && !isspace((unsigned char)*s); s++) {
        if (!isdigit((unsigned char)*s))
            continue;
        if (*s == '0' && lead)
            continue;
        lead = 0;
        n++;
    }
    return n ? n : 1;
}

static long meas_index(const ss_engine *e, const char *name)
{
    for (size_t m = 0; m < e->deck.nmeas; m++)
        if (!strcasecmp(e->deck.meas[m].name, name))
            return (long)m;
    return -1;
}

static void add_meas(ss_engine *e, long m, double value, int ok, int digits)
{
    if (e->nmeas == e->capmeas) {
        size_t cap = e->capmeas ? 2 * e->capmeas : 16;
        ss_measure *g = realloc(e->meas, cap * sizeof *g);
        if (!g)
            return;
        e->meas = g;
        e->capmeas = cap;
    }
    ss_measure *r = &e->meas[e->nmeas];
    r->name = strdup(e->deck.meas[m].name);
    r->analysis = strdup(e->deck.meas[m].analysis);
    if (!r->name || !r->analysis) {
        free(r->name);
        free(r->analysis);
        return;
    }
    r->value = ok ? value : NAN;
    r->ok = ok;
    r->digits = ok ? digits : 0;
    e->nmeas++;
}

/* Ends a block of results: failures are reported first (on stderr, in
 * ngspice's first pass), values after; the block is put in deck order. */
static void end_meas_block(ss_engine *e)
{
    if (!e->in_meas)
        return;
    e->in_meas = 0;
    for (size_t i = e->meas_block + 1; i < e->nmeas; i++) {
        ss_measure t = e->meas[i];
        long ti = meas_index(e, t.name);
        size_t j = i;
        while (j > e->meas_block && meas_index(e, e->meas[j - 1].name) > ti) {
            e->meas[j] = e->meas[j - 1];
            j--;
        }
        e->meas[j] = t;
    }
}

static void begin_meas_block(ss_engine *e)
{
    end_meas_block(e);
    e->in_meas = 1;
    e->meas_block = e->nmeas;
}

/* Reads one line of the measurement printout (measure.c, do_measure):
 *   "  Measurements for Transient Analysis"          (stdout, opens it)
 *   "vmax                =  9.999715e-01 at= ..."   (stdout, a value)
 *   "vx                  =   failed"               (stdout, PARAM failed)
 *   " .meas tran bad find v(2) at=200u failed!"    (stderr, failed)
 * and the companions' "smallsim_meas_K = <16 digits>".  Returns 1 when the
 * line belongs to the printout (it is then no error). */
static int meas_line(ss_engine *e, const char *s, int on_stderr)
{
    const char *t = skip_blank(s);
    if (!on_stderr && !strncmp(t, "Measurements for ", 17)) {
        begin_meas_block(e);
        return 1;
    }
    if (!e->in_meas)
        return 0;
    if (on_stderr)
        return 1;
    if (!*t)
        return 1;
    if (!strncmp(t, ENGI_MEAS_END, strlen(ENGI_MEAS_END)) &&
        isspace((unsigned char)t[strlen(ENGI_MEAS_END)])) {
        end_meas_block(e); /* deck.c's last line of the results */
        return 1;
    }
    char name[128];
    size_t n = 0;
    while (t[n] && !isspace((unsigned char)t[n]) && t[n] != '=' && n + 1 < sizeof name) {
        name[n] = (char)tolower((unsigned char)t[n]);
        n++;
    }
    name[n] = '\0';
    const char *v = skip_blank(t + n);
    long m = -1, comp = -1;
    size_t cl = strlen(ENGI_COMPANION);
    if (!strncmp(name, ENGI_COMPANION, cl) && isdigit((unsigned char)name[cl])) {
        comp = strtol(name + cl, NULL, 10);
        if (comp >= (long)e->deck.ncompanion)
            comp = -1;
    } else {
        m = meas_index(e, name);
    }
    if (*v != '=' || (m < 0 && comp < 0)) {
        end_meas_block(e); /* something else prints now */
        return 0;
    }
    v = skip_blank(v + 1);
    char *end;
    double value = strtod(v, &end);
    int ok = end != v && isfinite(value) && strncmp(v, "failed", 6) != 0;
    if (comp >= 0) {
        /* the 16-digit reading of the latest result of that measurement */
        const char *want = e->deck.meas[e->deck.companion[comp]].name;
        for (size_t i = e->nmeas; ok && i-- > e->meas_block;)
            if (!strcmp(e->meas[i].name, want)) {
                if (e->meas[i].ok && e->meas[i].digits < 16) {
                    e->meas[i].value = value;
                    e->meas[i].digits = 16;
                }
                break;
            }
        return 1;
    }
    add_meas(e, m, value, ok, ok ? count_digits(v) : 0);
    return 1;
}

/* " .meas tran bad find v(2) at=200u failed!": the measurement failed. */
static void meas_failed_line(ss_engine *e, const char *s)
{
    const char *t = skip_blank(s);
    size_t len = strlen(t);
    if (!e->in_meas || strncasecmp(t, ".meas", 5) || len < 7 || strcmp(t + len - 7, "failed!"))
        return;
    char an[32], name[128];
    if (sscanf(t, "%*s %31s %127s", an, name) != 2)
        return;
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    long m = meas_index(e, name);
    if (m >= 0)
        add_meas(e, m, NAN, 0, 0);
}

static int cb_send_char(char *text, int id, void *user)
{
    ss_engine *e = user;
    (void)id;
    if (!e || !text)
        return 0;
    const char *s = text;
    int on_stderr = 0;
    if (!strncmp(s, "stdout ", 7)) {
        s += 7;
    } else if (!strncmp(s, "stderr ", 7)) {
        s += 7;
        on_stderr = 1;
    }
    /* the markers deck.c puts into the commands */
    size_t ml = strlen(ENGI_MARK_CONTROLS), ql = strlen(ENGI_MARK_QUIT);
    if (!on_stderr && !strncmp(s, ENGI_MARK_CONTROLS, ml) && !s[ml]) {
        e->phase = PH_CONTROL;
        return 0;
    }
    if (!on_stderr && !strncmp(s, ENGI_MARK_QUIT, ql) && (!s[ql] || s[ql] == ' ')) {
        /* quit [N]: ngspice -b would exit with status N */
        e->quit_seen = 1;
        e->quit_status = (int)strtol(s + ql, NULL, 10);
        return 0;
    }
    if (on_stderr && strstr(s, "there is no circuit loaded"))
        e->no_circuit = 1;
    if (e->transcript.len < (8u << 20)) { /* keep at most 8 MB of transcript */
        ss_buf_add(&e->transcript, s, strlen(s));
        ss_buf_add(&e->transcript, "\n", 1);
    }
    int is_meas = meas_line(e, s, on_stderr);
    if (on_stderr && e->in_meas) {
        meas_failed_line(e, s);
        is_meas = 1;
    }
    if (e->phase == PH_CONTROL && e->printout.len < (8u << 20) &&
        strncmp(skip_blank(s), ENGI_COMPANION, strlen(ENGI_COMPANION)) != 0) {
        ss_buf_add(&e->printout, s, strlen(s));
        ss_buf_add(&e->printout, "\n", 1);
    }
    size_t len = strlen(e->first_error);
    while (len && isspace((unsigned char)e->first_error[len - 1]))
        e->first_error[--len] = '\0';
    if (e->first_error[0] && e->error_more > 0) {
        /* "Error on line 2 ...:" and "Netlist line no. 2:" put the details
         * on the next lines */
        while (isspace((unsigned char)*s))
            s++;
        if (*s) {
            snprintf(e->first_error + len, sizeof e->first_error - len, " %s", s);
            e->error_more--;
        }
        return 0;
    }
    /* errors come on stderr (what `echo` or `print` show is not one);
     * failed measurements are the measurements' business; errors of the
     * netlist's own commands do not stop ngspice -b */
    if (!on_stderr || is_meas || e->phase == PH_CONTROL || e->first_error[0] ||
        !is_error_line(s))
        return 0;
    snprintf(e->first_error, sizeof e->first_error, "%s", s);
    len = strlen(e->first_error);
    while (len && isspace((unsigned char)e->first_error[len - 1]))
        e->first_error[--len] = '\0';
    e->error_more = !(len && e->first_error[len - 1] == ':') ? 0
                    : strncasecmp(e->first_error, "netlist line no.", 16) ? 2 : 1;
    return 0;
}

/* ngspice reports each analysis it starts, and "meas" when it starts to
 * evaluate the .meas lines (measure.c, do_measure: SetAnalyse). */
static int cb_send_stat(char *text, int id, void *user)
{
    ss_engine *e = user;
    (void)id;
    if (!e || !text)
        return 0;
    if (!strcmp(text, "meas")) {
        if (!e->in_meas)
            begin_meas_block(e);
    } else if (strcmp(text, "--ready--") != 0) {
        end_meas_block(e);
    }
    return 0;
}

static int cb_exit(int status, NG_BOOL immediate, NG_BOOL quit, int id, void *user)
{
    ss_engine *e = user;
    (void)immediate, (void)id;
    if (!e)
        return 0;
    /* a fatal error; or a quit that got past the engine's alias, after
     * which ngspice has destroyed its plots and circuits: reload either way */
    e->dead = 1;
    if (quit) {
        e->quit_seen = 1;
        e->quit_status = status;
    }
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

/* Called for every new plot (sharedspice.c, sh_vecinit): its title, name
 * ("tran1", in info->type), type ("Transient Analysis", in info->name) and
 * which vector is its scale. */
static int cb_init_data(pvecinfoall info, int id, void *user)
{
    ss_engine *e = user;
    (void)id;
    if (!e || !info)
        return 0;
    e->seen_title = 1;
    if (!info->type)
        return 0;
    if (e->npinfo == e->cappinfo) {
        size_t cap = e->cappinfo ? 2 * e->cappinfo : 8;
        struct plot_info *g = realloc(e->pinfo, cap * sizeof *g);
        if (!g)
            return 0;
        e->pinfo = g;
        e->cappinfo = cap;
    }
    struct plot_info *p = &e->pinfo[e->npinfo++];
    snprintf(p->name, sizeof p->name, "%s", info->type);
    snprintf(p->type, sizeof p->type, "%s", info->name ? info->name : "");
    snprintf(p->title, sizeof p->title, "%s", info->title ? info->title : "");
    p->scale[0] = '\0';
    for (int i = 0; i < info->veccount; i++)
        if (info->vecs[i] && info->vecs[i]->pdvec == info->vecs[i]->pdvecscale &&
            info->vecs[i]->vecname)
            snprintf(p->scale, sizeof p->scale, "%s", info->vecs[i]->vecname);
    return 0;
}

static const struct plot_info *find_pinfo(const ss_engine *e, const char *name)
{
    for (size_t i = e->npinfo; i-- > 0;)
        if (!strcmp(e->pinfo[i].name, name))
            return &e->pinfo[i];
    return NULL;
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
    /* .meas results with 17 significant digits where ngspice takes a
     * precision (WHEN, RMS, INTEG, PARAM; com_measure2.c) */
    setenv("NGSPICE_MEAS_PRECISION", "16", 1);
    e->dead = 0;
    e->spiceinit[0] = '\0';
    ng_enter();
    int rc = e->init(cb_send_char, cb_send_stat, cb_exit, e->prof_data ? cb_send_data : NULL,
                     cb_init_data, cb_bg, e);
    /* EXTERNAL sources ask only when a netlist has one */
    if (!rc)
        rc = e->init_sync(cb_vsrc, cb_isrc, e->prof_sync ? cb_sync : NULL, &e->ident, e);
    ng_leave();
    if (cwd[0] && chdir(cwd) != 0)
        rc = -1;
    /* quit would make ngspice destroy every plot and circuit (misccoms.c,
     * com_quit, shared module): it prints a marker instead (deck.c) */
    static const char *const setup[] = {"set num_threads=1", "set nomoremode", "set noaskquit",
                                        "unset interactive", "alias quit echo " ENGI_MARK_QUIT};
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
     * correct run); the fresh copy initialises normally.  The engine
     * aliases quit for decks (setup below): the real one needs the alias
     * gone. */
    if (e->dl) {
        ng_enter();
        e->command((char *)"unalias quit");
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
    if (the_engine && the_engine_pid == getpid())
        return ss_error_set(err, SS_EBUSY, "an ngspice engine is already open in this process");
    if (the_engine) {
        /* a process forked from the engine's owner (a pool worker of a
         * program that holds an engine) takes over its copy, as isolated
         * runs do; the owner's folder stays the owner's */
        the_engine_pid = getpid();
        *out = the_engine;
        return SS_OK;
    }
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
    the_engine_pid = getpid();
    *out = e;
    return SS_OK;
}

void engi_drop_workdir(ss_engine *e)
{
    char path[PATH_MAX + 16];
    if (!e || e->owner != getpid())
        return;
    snprintf(path, sizeof path, "%s/.spiceinit", e->workdir);
    unlink(path);
    rmdir(e->workdir);
    e->owner = 0;
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
    ss_buf_release(&e->printout);
    engi_deck_release(&e->deck);
    for (size_t i = 0; i < e->nmeas; i++) {
        free(e->meas[i].name);
        free(e->meas[i].analysis);
    }
    free(e->meas);
    free(e->pinfo);
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
    /* a reloaded ngspice reads the .spiceinit of its folder: never one
     * that a run folder chosen by the user already holds */
    struct stat st;
    if (!lstat(path, &st) && (!S_ISREG(st.st_mode) || st.st_size > 0))
        return ss_error_set(err, SS_EINVAL,
                            "'%s' holds a .spiceinit that ngspice would run; use another folder",
                            real);
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
    /* every circuit (a .control block can load more than one), so that a
     * load that fails can never leave an older one to be run */
    size_t mark = e->transcript.len;
    raw_command(e, "destroy all");
    e->no_circuit = 0;
    for (int k = 0; k < 64 && !e->no_circuit; k++)
        raw_command(e, "remcirc");
    e->transcript.len = mark; /* not the run's */
    if (e->transcript.data)
        e->transcript.data[mark] = '\0';
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
    e->error_more = 0;
    e->hook_failed = 0;
    ss_error_clear(&e->hook_err);
}

/* Forgets everything ngspice printed about the previous circuit. */
static void forget_output(ss_engine *e)
{
    begin_phase(e);
    e->printout.len = 0;
    for (size_t i = 0; i < e->nmeas; i++) {
        free(e->meas[i].name);
        free(e->meas[i].analysis);
    }
    e->nmeas = 0;
    e->in_meas = 0;
    e->meas_block = 0;
    e->npinfo = 0;
    e->quit_seen = 0;
    e->quit_status = 0;
    e->phase = PH_LOAD;
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
        /* N counts the lines of the deck sent (deck.c adds a few) */
        size_t at = k >= 1 && (size_t)k <= e->deck.n ? e->deck.origin[k - 1] : SIZE_MAX;
        if (at < nl->n) {
            /* the location is in front now: drop ngspice's "... line N ...:" */
            const char *colon = strchr(p, ':');
            if (colon && colon[1])
                msg = colon + 1;
            while (*msg == ' ')
                msg++;
            return ss_error_set(err, SS_ESIM, "%s:%d: %s", nl->lines[at].file,
                                nl->lines[at].line, msg);
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

/* Counts ngspice's plots, "const" aside. */
static size_t count_plots(ss_engine *e)
{
    ng_enter();
    char **plots = e->all_plots();
    ng_leave();
    size_t n = 0;
    for (size_t i = 0; plots && plots[i]; i++)
        n += strcmp(plots[i], "const") != 0;
    return n;
}

/* The .spiceinit beside a netlist that may run commands: ngspice -b reads
 * the one in its working folder, so a designer keeps it with the netlist
 * (for example "set ngbehavior=ltpsa" for LTspice models).  It can hold
 * any command, so it follows the trust of .control (SS_NETLIST_ALLOW_CONTROL). */
static void trusted_spiceinit(const ss_netlist *nl, char *path, size_t size)
{
    struct stat st;
    path[0] = '\0';
    if (!(nl->flags & SS_NETLIST_ALLOW_CONTROL) || !nl->dir || !*nl->dir)
        return;
    if ((size_t)snprintf(path, size, "%s/.spiceinit", nl->dir) >= size || stat(path, &st) != 0 ||
        !S_ISREG(st.st_mode))
        path[0] = '\0';
}

int ss_engine_load(ss_engine *e, const ss_netlist *nl, ss_error *err)
{
    int rc;
    char init[PATH_MAX];
    if (!nl || nl->n < 2)
        return ss_error_set(err, SS_EINVAL, "empty netlist");
    trusted_spiceinit(nl, init, sizeof init);
    int need_data = e->hooks.accept != NULL, need_sync = e->hooks.max_step != NULL;
    /* a copy with other callbacks, or with another netlist's .spiceinit
     * (its settings stay in the copy), is replaced by a fresh one */
    if (e->dead || e->prof_data != need_data || e->prof_sync != need_sync ||
        (e->spiceinit[0] && strcmp(e->spiceinit, init) != 0)) {
        e->prof_data = need_data;
        e->prof_sync = need_sync;
        if ((rc = reload(e, err)))
            return rc;
    }
    cleanup(e);
    forget_output(e);
    e->serial++;
    engi_deck_release(&e->deck);
    if ((rc = engi_deck_build(&e->deck, nl, err)))
        return rc;
    if (init[0] && !e->spiceinit[0]) {
        char cmd[MAX_COMMAND + 1];
        /* the command parser splits at white space and acts on ;`<>&!$ */
        if (strlen(init) + 10 > MAX_COMMAND || strpbrk(init, " \t\"'\\;`<>&!$"))
            return ss_error_set(err, SS_EINVAL, "%s: cannot hand this path to ngspice", init);
        snprintf(cmd, sizeof cmd, "source %s", init);
        e->phase = PH_CONTROL; /* its errors do not stop ngspice -b */
        if (raw_command(e, cmd)) {
            rc = sim_error(e, NULL, err, "ngspice hit a fatal error in .spiceinit");
            ss_error_prefix(err, rc, "%s", init);
            reload(e, NULL);
            return rc;
        }
        snprintf(e->spiceinit, sizeof e->spiceinit, "%s", init);
        e->phase = PH_LOAD;
        e->printout.len = 0;
    }
    ss_netlist_analysis(nl, &e->tstop);
    /* code models open relative file names (checked by the screen against
     * the netlist's folder) there, not in the engine's private folder */
    if (nl->dir && *nl->dir)
        setenv("NGSPICE_INPUT_DIR", nl->dir, 1);
    else
        unsetenv("NGSPICE_INPUT_DIR");
    ng_enter();
    rc = e->circ(e->deck.lines);
    ng_leave();
    end_meas_block(e);
    if (rc || e->dead) {
        ss_error tmp;
        if (e->quit_seen)
            rc = ss_error_set(&tmp, SS_ESIM,
                              "the .control commands ran ngspice's own quit, which discards "
                              "every result in the shared library");
        else
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
    e->phase = PH_LOAD;
    e->nplots_loaded = count_plots(e);
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
    for (size_t i = 0; i < res->nmeas; i++) {
        free(res->meas[i].name);
        free(res->meas[i].analysis);
    }
    free(res->meas);
    free(res->printout);
    memset(res, 0, sizeof *res);
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
    const struct plot_info *pi = find_pinfo(e, name);
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    p->type = strdup(pi && pi->type[0] ? pi->type : plot_type_name(name));
    p->title = strdup(pi && pi->title[0] ? pi->title : e->deck.title ? e->deck.title : "");
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
    /* the scale first, then the others in the order ngspice made them (as
     * ngspice -b -r writes them; ngspice lists the newest first) */
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (size_t ii = n; ii-- > 0 && !rc;) {
            size_t i = ii;
            int scale = strncmp(name, "op", 2) != 0 &&
                        (pi ? pi->scale[0] && !strcmp(names[i], pi->scale)
                            : is_scale_name(names[i]) ||
                                  (e->scale[0] && !strcmp(names[i], e->scale)));
            if (scale != (pass == 0))
                continue;
            snprintf(full, sizeof full, "%s.%s", name, names[i]);
            ng_enter();
            pvector_info vi = e->vec_info(full);
            ng_leave();
            if (!vi || vi->v_length < 0)
                continue;
            /* one-point plots (tf, pz, integrated noise) have no sweep */
            if (scale && (is_scale_name(names[i]) || vi->v_length > 1))
                p->has_scale = 1;
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

/* Hands the measurements, the commands' printout and their quit over. */
static int collect_output(ss_engine *e, ss_result *res, ss_error *err)
{
    end_meas_block(e);
    if (e->nmeas && !(res->meas = calloc(e->nmeas, sizeof *res->meas)))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < e->nmeas; i++) {
        ss_measure *m = &res->meas[res->nmeas];
        *m = e->meas[i];
        m->name = strdup(e->meas[i].name);
        m->analysis = strdup(e->meas[i].analysis);
        res->nmeas++;
        if (!m->name || !m->analysis)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if (e->printout.len && !(res->printout = strndup(e->printout.data, e->printout.len)))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    res->quit = e->quit_seen;
    res->quit_status = e->quit_status;
    return SS_OK;
}

int ss_engine_run(ss_engine *e, ss_result *res, ss_error *err)
{
    int rc;
    ss_result_release(res);
    if (!e->loaded)
        return ss_error_set(err, SS_EINVAL, "no circuit loaded");
    /* What ngspice -b does after the netlist's commands (main.c): nothing
     * after a quit; with -r it runs the circuit's analyses (a deck without
     * commands always runs here, as with -r); otherwise only when the deck
     * has .print/.plot/.four/.meas/.op/.tf.  A deck whose commands made no
     * plot runs its analyses as with -r. */
    int do_run;
    if (!e->deck.commands)
        do_run = 1;
    else if (e->quit_seen)
        do_run = 0;
    else if (e->nplots_loaded == 0)
        do_run = e->deck.analysis;
    else
        do_run = e->deck.analysis && e->deck.dotargs;
    size_t before = e->nplots_loaded;
    if (do_run) {
        end_meas_block(e);
        e->phase = PH_RUN;
        e->first_error[0] = '\0';
        e->error_more = 0;
        e->seen_title = 0;
        e->scale[0] = '\0';
        for (size_t i = 0; i < e->nbkpt; i++) {
            ng_enter();
            e->set_bkpt(e->bkpt[i]);
            ng_leave();
        }
        e->running = 1;
        rc = raw_command(e, "run");
        e->running = 0;
        if (rc || e->dead) {
            ss_error tmp;
            rc = sim_error(e, NULL, &tmp, "ngspice hit a fatal error during the run");
            ss_error_set(err, rc, "%s (engine reloaded)", tmp.msg);
            reload(e, NULL);
            e->loaded = 0;
            e->nbkpt = 0;
            return rc;
        }
    }
    e->nbkpt = 0;
    if (e->hook_failed) {
        rc = ss_error_set(err, e->hook_err.code, "%s", e->hook_err.msg);
        goto fail;
    }
    if (e->first_error[0]) {
        rc = ss_error_set(err, SS_ESIM, "%s", e->first_error);
        goto fail;
    }
    rc = collect(e, res, err);
    if (!rc)
        rc = collect_output(e, res, err);
    if (rc)
        goto fail;
    if (res->nplot == 0 && !e->deck.commands) {
        rc = ss_error_set(err, SS_ESIM, "the run produced no results (no analysis line?)");
        goto fail;
    }
    if (do_run && !e->seen_title) {
        rc = ss_error_set(err, SS_ESIM, "ngspice made no plot for the loaded circuit");
        goto fail;
    }
    /* a transient of the engine's run must reach its stop time, unless
     * option autostop ended it after the last measurement */
    for (size_t i = before; do_run && !e->deck.autostop && i < res->nplot; i++) {
        const ss_plot *p = &res->plot[i];
        if (!isfinite(e->tstop) || strncmp(p->name, "tran", 4) || p->nvec == 0)
            continue;
        const ss_vector *t = &p->vec[0];
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
    e->phase = PH_RUN;
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
