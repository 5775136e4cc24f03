/* check_sweep.c: sweep axes and designs, netlist sweeps with every job
 * status, kill -9 + --resume, MPI. */
#include <check.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cosim/engine/ss_engine.h"
#include "sweep/ss_sweep.h"
#include "tests/ss_test.h"

Suite *sweep_suite(void);

/* ---- axes and designs ------------------------------------------------------- */

static void axis_ok(const char *arg, const double *want, size_t n)
{
    ss_sweep_axis ax;
    ss_error err;
    ck_assert_msg(ss_sweep_axis_parse(&ax, arg, &err) == SS_OK, "%s: %s", arg, err.msg);
    ck_assert_uint_eq(ax.kind, SS_SWEEP_AXIS_VALUES);
    ck_assert_msg(ax.n == n, "%s: %zu values, want %zu", arg, ax.n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(ax.values[i] == want[i], "%s: value %zu is %.17g, want %.17g", arg, i,
                      ax.values[i], want[i]);
    ss_sweep_axis_release(&ax);
}

START_TEST(test_axis_values)
{
    axis_ok("r=lin:0:1:5", (double[]){0, 0.25, 0.5, 0.75, 1}, 5);
    axis_ok("r=lin:0:1:11", (double[]){0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}, 11);
    axis_ok("r=lin:1k:2k:3", (double[]){1000, 1500, 2000}, 3);
    axis_ok("r=lin:2.385:2.385:1", (double[]){2.385}, 1);
    axis_ok("r=log:1:1k:4", (double[]){1, 10, 100, 1000}, 4);
    axis_ok("r=log:-1m:-1:4", (double[]){-1e-3, -1e-2, -1e-1, -1}, 4);
    axis_ok("r=dec:1:1k:1", (double[]){1, 10, 100, 1000}, 4);
    axis_ok("r=dec:10:100k:1", (double[]){10, 100, 1000, 1e4, 1e5}, 5);
    axis_ok("R1:w=list:200n,4.7u,1meg,10pF,3", (double[]){2e-7, 4.7e-6, 1e6, 1e-11, 3}, 5);
    axis_ok("x=-2.385", (double[]){-2.385}, 1);
    const char *dir = ss_test_tmpdir();
    char arg[1200];
    snprintf(arg, sizeof arg, "c=file:%s",
             ss_test_write(dir, "v.txt", "* values\n1n, 2.2n\n# more\n4.7n 10n\n"));
    axis_ok(arg, (double[]){1e-9, 2.2e-9, 4.7e-9, 1e-8}, 4);

    ss_sweep_axis ax;
    ss_error err;
    /* Between decades: within rounding of 10^(k/PER_DECADE). */
    ck_assert_int_eq(ss_sweep_axis_parse(&ax, "r=dec:10:1k:2", &err), SS_OK);
    ck_assert_uint_eq(ax.n, 5);
    ck_assert(ax.values[0] == 10 && ax.values[2] == 100 && ax.values[4] == 1000);
    ck_assert_double_eq_tol(ax.values[3], sqrt(10) * 100, 1e-12);
    ss_sweep_axis_release(&ax);
    ck_assert_int_eq(ss_sweep_axis_parse(&ax, "g=gauss:1k:50", &err), SS_OK);
    ck_assert_int_eq(ax.kind, SS_SWEEP_AXIS_DIST);
    ck_assert_double_eq_tol(ss_sweep_axis_quantile(&ax, 0.5), 1000, 1e-9);
    ck_assert_double_eq_tol(ss_sweep_axis_quantile(&ax, 0.8413447460685429), 1050, 1e-6);
    ss_sweep_axis_release(&ax);
    ck_assert_int_eq(ss_sweep_axis_parse(&ax, "g=lognorm:1k:0.1", &err), SS_OK);
    ck_assert_double_eq_tol(ss_sweep_axis_quantile(&ax, 0.5), 1000, 1e-9);
    ss_sweep_axis_release(&ax);

    static const char *const bad[] = {"r", "=lin:0:1:2", "r=lin:0:1", "r=lin:0:1:0", "r=foo:1",
                                      "r=log:-1:1:3", "r=log:0:1:3", "r=list:1,x",
                                      "r=unif:2:1", "r=gauss:1:-1", "r=file:/nonexistent/x",
                                      "r=lin:1:2:3x", "r=1k2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(ss_sweep_axis_parse(&ax, bad[i], &err) != SS_OK, "'%s' accepted", bad[i]);
        ck_assert_ptr_null(ax.values);
        ck_assert_msg(err.msg[0], "no message for '%s'", bad[i]);
        /* the same failure without an error struct */
        ck_assert_msg(ss_sweep_axis_parse(&ax, bad[i], NULL) != SS_OK, "'%s' accepted", bad[i]);
        ck_assert_ptr_null(ax.values);
    }
}
END_TEST

static void build(ss_sweep_design *d, const char *const *args, size_t n, int mode, size_t N,
                  uint64_t seed)
{
    ss_sweep_axis ax[8];
    ss_error err;
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(ss_sweep_axis_parse(&ax[k], args[k], &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_sweep_design_build(d, ax, n, mode, N, seed, &err) == SS_OK, "%s", err.msg);
    for (size_t k = 0; k < n; k++)
        ss_sweep_axis_release(&ax[k]);
}

START_TEST(test_grid_zip)
{
    ss_sweep_design d;
    build(&d, (const char *[]){"a=list:1,2", "b=list:10,20,30"}, 2, SS_SWEEP_GRID, 0, 1);
    ck_assert_uint_eq(d.njobs, 6);
    /* First axis slowest. */
    static const double want[] = {1, 10, 1, 20, 1, 30, 2, 10, 2, 20, 2, 30};
    for (size_t i = 0; i < 12; i++)
        ck_assert(d.values[i] == want[i]);
    ss_sweep_design_release(&d);
    build(&d, (const char *[]){"a=list:1,2,3", "b=list:10,20,30"}, 2, SS_SWEEP_ZIP, 0, 1);
    ck_assert_uint_eq(d.njobs, 3);
    ck_assert(d.values[4] == 3 && d.values[5] == 30);
    ss_sweep_design_release(&d);

    ss_sweep_axis ax[2];
    ss_error err;
    ck_assert_int_eq(ss_sweep_axis_parse(&ax[0], "a=list:1,2", &err), SS_OK);
    ck_assert_int_eq(ss_sweep_axis_parse(&ax[1], "b=gauss:1:1", &err), SS_OK);
    ck_assert_int_eq(ss_sweep_design_build(&d, ax, 2, SS_SWEEP_GRID, 0, 1, &err), SS_EINVAL);
    ck_assert_int_eq(ss_sweep_design_build(&d, ax, 1, SS_SWEEP_MC, 5, 1, &err), SS_EINVAL);
    ck_assert_int_eq(ss_sweep_design_build(&d, ax, 2, SS_SWEEP_MC, 5, 1, &err), SS_OK);
    ck_assert_uint_eq(d.njobs, 10); /* 2 grid points x 5 samples */
    ck_assert(d.values[0] == 1 && d.values[2 * 5] == 2);
    ss_sweep_design_release(&d);
    ss_sweep_axis_release(&ax[0]);
    ss_sweep_axis_release(&ax[1]);
}
END_TEST

START_TEST(test_lhs_stratified)
{
    enum { N = 97 };
    ss_sweep_design d;
    build(&d, (const char *[]){"u=unif:-1:3", "g=gauss:5:2", "l=lognorm:1k:0.3"}, 3,
          SS_SWEEP_LHS, N, 2385);
    ck_assert_uint_eq(d.njobs, N);
    /* Every axis puts exactly one sample in each of the N strata. */
    for (int k = 0; k < 3; k++) {
        int hit[N] = {0};
        for (size_t j = 0; j < N; j++) {
            double v = d.values[j * 3 + k];
            double p = k == 0 ? (v + 1) / 4
                       : k == 1 ? gsl_cdf_gaussian_P(v - 5, 2)
                                : gsl_cdf_gaussian_P(log(v / 1000), 0.3);
            int s = (int)floor(p * N);
            ck_assert_msg(s >= 0 && s < N, "axis %d sample %zu outside (0,1): %g", k, j, p);
            hit[s]++;
        }
        for (int s = 0; s < N; s++)
            ck_assert_msg(hit[s] == 1, "axis %d stratum %d has %d samples", k, s, hit[s]);
    }
    ss_sweep_design_release(&d);
}
END_TEST

START_TEST(test_seeds_reproducible)
{
    const char *args[] = {"a=list:1,2", "g=gauss:0:1"};
    ss_sweep_design d1, d2, d3, d4;
    build(&d1, args, 2, SS_SWEEP_MC, 10, 42);
    build(&d2, args, 2, SS_SWEEP_MC, 10, 42);
    build(&d3, args, 2, SS_SWEEP_MC, 10, 43);
    ck_assert_mem_eq(d1.values, d2.values, d1.njobs * 2 * sizeof(double));
    ck_assert_mem_eq(d1.seeds, d2.seeds, d1.njobs * sizeof(uint64_t));
    ck_assert(memcmp(d1.values, d3.values, d1.njobs * 2 * sizeof(double)) != 0);
    for (size_t j = 0; j < d1.njobs; j++) {
        ck_assert(d1.seeds[j] == ss_sweep_job_seed(42, j));
        ck_assert(d1.seeds[j] >= 1 && d1.seeds[j] < 0x7fffffffULL);
        for (size_t k = 0; k < j; k++)
            ck_assert(d1.seeds[j] != d1.seeds[k]);
    }
    /* A Monte Carlo sample depends only on the seed and its job number. */
    build(&d4, (const char *[]){"g=gauss:0:1"}, 1, SS_SWEEP_MC, 20, 42);
    ss_sweep_design d5;
    build(&d5, (const char *[]){"g=gauss:0:1"}, 1, SS_SWEEP_MC, 10, 42);
    ck_assert_mem_eq(d4.values, d5.values, 10 * sizeof(double));
    ss_sweep_design_release(&d1);
    ss_sweep_design_release(&d2);
    ss_sweep_design_release(&d3);
    ss_sweep_design_release(&d4);
    ss_sweep_design_release(&d5);
}
END_TEST

/* ---- netlist sweeps ---------------------------------------------------------------- */

/* mode 0: ok; 1: unknown model (sim-error); 2: EXTERNAL source with dc,
 * which segfaults ngspice 39 (crash); 3: ln(-1) (sim-error); 4: 1 ps max
 * step over 10 ms (timeout); 5: stops at 50 us so v100 fails (meas-failed). */
static const char status_deck[] =
    "status sweep\n"
    ".param mode=0 rr=1k\n"
    ".param tmax={mode == 4 ? 1e-12 : 1e-6} tstop={mode == 5 ? 50e-6 : 200e-6}\n"
    "V1 in 0 PULSE(0 1 0 1n 1n 1 2)\n"
    "R1 in out {rr}\n"
    "C1 out 0 100n\n"
    ".if (mode == 1)\n"
    "R2 out 0 nosuchmodel\n"
    ".elseif (mode == 2)\n"
    "I2 0 out dc 0 external\n"
    ".elseif (mode == 3)\n"
    "B3 x 0 V=ln(-1)\n"
    ".endif\n"
    ".tran 1u {tstop} 0 {tmax}\n"
    ".meas tran v20 FIND v(out) AT=20u\n"
    ".end\n";

/* Splits "a,b,c" into at most max fields (in place). */
static int fields(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

START_TEST(test_netlist_statuses)
{
    const char *dir = ss_test_tmpdir();
    const char *deck = ss_test_write(dir, "st.cir", status_deck);
    char out[1024], rawdir[1024];
    snprintf(out, sizeof out, "%s/r.csv", dir);
    snprintf(rawdir, sizeof rawdir, "%s/raw", dir);
    const char *params[] = {"mode=list:0,1,2,3,4,5", "rr=list:1k,2.385k"};
    const char *meas[] = {"tran v100 FIND v(out) AT=100u"};
    ss_sweep_spec spec = SS_SWEEP_SPEC_INIT;
    spec.netlist = deck;
    spec.params = params;
    spec.nparams = 2;
    spec.measures = meas;
    spec.nmeasures = 1;
    ss_error err;
    ss_sweep *sw = ss_sweep_alloc(&spec, &err);
    ck_assert_msg(sw != NULL, "%s", err.msg);
    ck_assert_str_eq(ss_sweep_header(sw), "job,status,mode,rr,seed,v20,v100,seconds");
    ck_assert_uint_eq(ss_sweep_njobs(sw), 12);
    ss_sweep_options opt = SS_SWEEP_OPTIONS_INIT;
    opt.out = out;
    opt.jobs = 2;
    opt.timeout = 1.0;
    opt.raw_dir = rawdir;
    ss_sweep_summary sum;
    ck_assert_msg(ss_sweep_run(sw, &opt, &sum, &err) == SS_OK, "%s", err.msg);
    ck_assert_uint_eq(sum.ran, 12);
    ck_assert_uint_eq(sum.count[SS_SWEEP_OK], 2);
    ck_assert_uint_eq(sum.count[SS_SWEEP_SIM_ERROR], 4);
    ck_assert_uint_eq(sum.count[SS_SWEEP_CRASH], 2);
    ck_assert_uint_eq(sum.count[SS_SWEEP_TIMEOUT], 2);
    ck_assert_uint_eq(sum.count[SS_SWEEP_MEAS_FAILED], 2);

    static const char *const want[] = {"ok", "sim-error", "crash", "sim-error", "timeout",
                                       "meas-failed"};
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    char line[1024], *c[16];
    int seen[12] = {0}, row = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        ck_assert_int_eq(fields(line, c, 16), 8);
        int job = atoi(c[0]), mode = atoi(c[2]);
        ck_assert(job >= 0 && job < 12);
        ck_assert_int_eq(job, row++); /* the finished file is in job order */
        seen[job]++;
        ck_assert_int_eq(mode, job / 2);
        ck_assert_str_eq(c[1], want[mode]);
        double rr = atof(c[3]);
        ck_assert(rr == (job % 2 ? 2385.0 : 1000.0));
        ck_assert(strtoull(c[4], NULL, 10) == ss_sweep_job_seed(1, (uint64_t)job));
        if (mode == 0) {
            /* RC charging: 1 - exp(-t / RC) (to ngspice's integration
             * error); the values carry 16 significant digits, not the 7 of
             * ngspice's printout */
            ck_assert_double_eq_tol(atof(c[5]), 1 - exp(-20e-6 / (rr * 100e-9)), 2e-4);
            ck_assert_double_eq_tol(atof(c[6]), 1 - exp(-100e-6 / (rr * 100e-9)), 2e-4);
            ck_assert_msg(strlen(c[5]) >= 17 && strlen(c[6]) >= 17, "%s %s", c[5], c[6]);
            char raw[1200];
            snprintf(raw, sizeof raw, "%s/job-%d.raw", rawdir, job);
            ck_assert_msg(access(raw, R_OK) == 0, "no %s", raw);
        } else if (mode == 5) {
            ck_assert_str_ne(c[5], ""); /* v20 worked */
            ck_assert_str_eq(c[6], ""); /* v100 failed: empty, never 0 */
        } else {
            ck_assert_str_eq(c[5], "");
            ck_assert_str_eq(c[6], "");
        }
    }
    fclose(f);
    for (int j = 0; j < 12; j++)
        ck_assert_int_eq(seen[j], 1);
    /* Failures carry their first error line in the log. */
    char log[1100], text[8192];
    snprintf(log, sizeof log, "%s.log", out);
    ck_assert_int_eq(ss_test_sh(text, sizeof text, "cat '%s'", log), 0);
    ck_assert_ptr_nonnull(strstr(text, "nosuchmodel"));
    ck_assert_ptr_nonnull(strstr(text, "crash: worker"));
    ck_assert_ptr_nonnull(strstr(text, "measurement 'v100' failed"));
    ss_sweep_free(sw);
}
END_TEST

START_TEST(test_sweep_errors)
{
    const char *dir = ss_test_tmpdir();
    const char *deck = ss_test_write(dir, "st.cir", status_deck);
    ss_sweep_spec spec = SS_SWEEP_SPEC_INIT;
    ss_error err;
    spec.netlist = deck;
    spec.params = (const char *[]){"nosuch=list:1,2"};
    spec.nparams = 1;
    ck_assert_ptr_null(ss_sweep_alloc(&spec, &err));
    ck_assert_int_eq(err.code, SS_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "st.cir: no top-level") && strstr(err.msg, "'nosuch'"), "%s",
                  err.msg);
    spec.params = (const char *[]){"V1=list:1,2"};
    ck_assert_ptr_null(ss_sweep_alloc(&spec, &err));
    ck_assert_msg(strstr(err.msg, "st.cir:4: source 'V1' has no DC value"), "%s", err.msg);
    spec.params = (const char *[]){"rr=lin:1:2"};
    ck_assert_ptr_null(ss_sweep_alloc(&spec, &err));
    spec.params = (const char *[]){"rr=list:1,2"};
    /* a name twice is fine with ngspice (the last result counts): one column */
    spec.measures = (const char *[]){"tran v20 FIND v(out) AT=1u"};
    spec.nmeasures = 1;
    ss_sweep *sw = ss_sweep_alloc(&spec, &err);
    ck_assert_msg(sw != NULL, "%s", err.msg);
    ck_assert_str_eq(ss_sweep_header(sw), "job,status,rr,seed,v20,seconds");
    ss_sweep_free(sw);
    /* but not the name of a swept parameter */
    spec.measures = (const char *[]){"tran rr FIND v(out) AT=1u"};
    ck_assert_ptr_null(ss_sweep_alloc(&spec, &err));
    ck_assert_msg(strstr(err.msg, "'rr' has the name of a swept parameter"), "%s", err.msg);
}
END_TEST

/* ---- kill -9 and --resume -------------------------------------------------------- */

static const char slow_deck[] =
    "resume test\n"
    ".param rr=1k cc=100n\n"
    "V1 in 0 PULSE(0 1 0 1n 1n 1 2)\n"
    "R1 in out {rr}\n"
    "C1 out 0 {cc}\n"
    ".tran 1u 2m 0 20n\n"
    ".end\n";

/* Sorted rows without the seconds column. */
static char *normalized_rows(const char *path)
{
    char buf[1 << 16];
    ck_assert_int_eq(ss_test_sh(buf, sizeof buf,
                                "tail -n +2 '%s' | sed 's/,[^,]*$//' | sort -t, -k1,1n", path),
                     0);
    return strdup(buf);
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    if (!f)
        return 0;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

START_TEST(test_kill_resume)
{
    const char *dir = ss_test_tmpdir();
    const char *deck = ss_test_write(dir, "slow.cir", slow_deck);
    const char *prog = ss_test_program();
    char a[1024], b[1024], text[4096];
    snprintf(a, sizeof a, "%s/a.csv", dir);
    snprintf(b, sizeof b, "%s/b.csv", dir);
    /* Reference: an uninterrupted run. */
    ck_assert_int_eq(ss_test_sh(text, sizeof text,
                                "%s sweep %s --param rr=lin:1k:3k:6 --param cc=list:100n,220n,470n,1u "
                                "--measure 'tran vend FIND v(out) AT=1m' --jobs 2 -q -o %s",
                                prog, deck, a),
                     0);
    ck_assert_int_eq(count_lines(a), 25);
    /* The same sweep, killed with SIGKILL part way. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl(prog, prog, "sweep", deck, "--param", "rr=lin:1k:3k:6", "--param",
              "cc=list:100n,220n,470n,1u", "--measure", "tran vend FIND v(out) AT=1m", "--jobs",
              "2", "-q", "-o", b, (char *)NULL);
        _exit(127);
    }
    double t0 = ss_util_now();
    while (count_lines(b) < 6 && ss_util_now() - t0 < 20)
        usleep(2000);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    int before = count_lines(b);
    ck_assert_msg(before >= 6 && before < 25, "%d lines before resume", before);
    /* A torn row, as if the power went off mid-write. */
    FILE *f = fopen(b, "a");
    fputs("23,o", f);
    fclose(f);
    ck_assert_msg(ss_test_sh(text, sizeof text,
                             "%s sweep %s --param rr=lin:1k:3k:6 --param cc=list:100n,220n,470n,1u "
                             "--measure 'tran vend FIND v(out) AT=1m' --jobs 2 -o %s --resume",
                             prog, deck, b) == 0,
                  "%s", text);
    ck_assert_msg(strstr(text, "already done"), "%s", text);
    char *ra = normalized_rows(a), *rb = normalized_rows(b);
    ck_assert_str_eq(ra, rb);
    ck_assert_int_eq(count_lines(b), 25);
    free(ra);
    free(rb);
    /* Resuming a complete file runs nothing; a different sweep is refused. */
    ck_assert_int_eq(ss_test_sh(text, sizeof text,
                                "%s sweep %s --param rr=lin:1k:3k:6 --param cc=list:100n,220n,470n,1u "
                                "--measure 'tran vend FIND v(out) AT=1m' -o %s --resume",
                                prog, deck, b),
                     0);
    ck_assert_msg(strstr(text, "sweep: 0 jobs"), "%s", text);
    ck_assert_int_ne(ss_test_sh(text, sizeof text,
                                "%s sweep %s --param rr=lin:1k:3k:6 -o %s --resume", prog, deck,
                                b),
                     0);
    ck_assert_msg(strstr(text, "header differs"), "%s", text);
    ck_assert_int_ne(ss_test_sh(text, sizeof text, "%s sweep %s --param rr=lin:1k:3k:6 -o %s",
                                prog, deck, b),
                     0);
    ck_assert_msg(strstr(text, "already exists"), "%s", text);
}
END_TEST

/* --resume continues only the sweep that made the file: every setting that
 * shapes the rows is in FILE.settings and checked; a file another run is
 * writing is refused; usage errors exit 2. */
START_TEST(test_resume_settings_and_lock)
{
    const char *dir = ss_test_tmpdir(), *prog = ss_test_program();
    char text[4096], path[1024], cmd[4096];
    const char *deck = ss_test_write(dir, "r.cir",
                                     "t\n.param r=1k\nV1 a 0 1\nR1 a b {r}\nR2 b 0 1k\n"
                                     ".tran 1u 10u\n.meas tran vb FIND v(b) AT=5u\n.end\n");
    snprintf(path, sizeof path, "%s/r.csv", dir);
    /* "%s" of these formats: the distribution, the sample count, the seed */
#define RUN(dist, mc, seed, more)                                                                 \
    (snprintf(cmd, sizeof cmd, "%s sweep %s --param r=%s --mc %s -q -o %s --seed %s %s", prog,   \
              deck, dist, mc, path, seed, more),                                                   \
     ss_test_sh(text, sizeof text, "%s", cmd))
    ck_assert_int_eq(RUN("gauss:1k:10", "4", "3", ""), 0);
    ck_assert_int_eq(RUN("gauss:1k:10", "4", "4", "--resume"), 1);
    ck_assert_msg(strstr(text, "r.csv.settings:5:") && strstr(text, "'seed: 3'; this run: 'seed: 4'") &&
                      strstr(text, "use another results file"),
                  "%s", text);
    ck_assert_int_eq(RUN("gauss:1k:20", "4", "3", "--resume"), 1);
    ck_assert_msg(strstr(text, "'param: r=gauss:1k:10'; this run: 'param: r=gauss:1k:20'"), "%s",
                  text);
    ck_assert_int_eq(RUN("gauss:1k:10", "5", "3", "--resume"), 1);
    ck_assert_msg(strstr(text, "'design: mc 4'; this run: 'design: mc 5'"), "%s", text);
    /* the same settings: nothing to do */
    ck_assert_int_eq(RUN("gauss:1k:10", "4", "3", "--resume"), 0);
    ck_assert_msg(strstr(text, "4 already done"), "%s", text);
    /* the netlist's text changed */
    ss_test_write(dir, "r.cir",
                  "t\n.param r=1k\nV1 a 0 2\nR1 a b {r}\nR2 b 0 1k\n"
                  ".tran 1u 10u\n.meas tran vb FIND v(b) AT=5u\n.end\n");
    ck_assert_int_eq(RUN("gauss:1k:10", "4", "3", "--resume"), 1);
    ck_assert_msg(strstr(text, "r.csv.settings:2:") && strstr(text, "'netlist:"), "%s", text);
    /* a file another run holds */
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    ck_assert_int_eq(RUN("gauss:1k:10", "4", "3", "--resume"), 1);
    ck_assert_msg(strstr(text, "being written by another run"), "%s", text);
    close(fd);
    /* no settings file: the rows cannot be checked */
    char spath[1100];
    snprintf(spath, sizeof spath, "%s.settings", path);
    ck_assert_int_eq(unlink(spath), 0);
    ck_assert_int_eq(RUN("gauss:1k:10", "4", "3", "--resume"), 1);
    ck_assert_msg(strstr(text, "but no '") && strstr(text, "r.csv.settings"), "%s", text);
#undef RUN
    /* --raw-dir naming a file is a usage error, and nothing runs */
    ss_test_write(dir, "afile", "x\n");
    ck_assert_int_eq(ss_test_sh(text, sizeof text,
                                "cd %s && %s sweep r.cir --param r=list:1k -q -o n.csv --raw-dir afile",
                                dir, prog),
                     2);
    ck_assert_msg(strstr(text, "'afile' is a file, not a folder"), "%s", text);
    snprintf(spath, sizeof spath, "%s/n.csv", dir);
    ck_assert_int_ne(access(spath, F_OK), 0);
    /* a measurement name with a comma would break the columns */
    ss_test_write(dir, "c.cir", "t\n.param r=1k\nV1 a 0 1\nR1 a 0 {r}\n.tran 1u 10u\n"
                                ".meas tran v,b FIND v(a) AT=5u\n.end\n");
    ck_assert_int_eq(ss_test_sh(text, sizeof text,
                                "cd %s && %s sweep c.cir --param r=list:1k -q -o c.csv", dir, prog),
                     2);
    ck_assert_msg(strstr(text, "c.cir:6: the measurement name 'v,b' holds a comma"), "%s", text);
}
END_TEST

START_TEST(test_shards)
{
    const char *dir = ss_test_tmpdir();
    ss_test_write(dir, "st.cir", status_deck);
    const char *prog = ss_test_program();
    char text[4096];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(ss_test_sh(text, sizeof text,
                                    "cd %s && %s sweep st.cir --param rr=lin:1k:2k:7 --jobs 1 -q "
                                    "--shard %d/3 -o s%d.csv",
                                    dir, prog, i, i),
                         0);
    ck_assert_int_eq(ss_test_sh(text, sizeof text,
                                "cd %s && cat s0.csv s1.csv s2.csv | grep -v '^job' | cut -d, -f1 "
                                "| sort -n | tr '\\n' ' '",
                                dir),
                     0);
    ck_assert_str_eq(text, "0 1 2 3 4 5 6 ");
    ck_assert_int_eq(ss_test_sh(text, sizeof text, "cd %s && cut -d, -f1 s1.csv | tr '\\n' ' '", dir),
                     0);
    ck_assert_str_eq(text, "job 1 4 ");
}
END_TEST

/* ---- MPI ---------------------------------------------------------------------------- */

START_TEST(test_mpi_same_as_local)
{
    if (!ss_pool_mpi_built()) {
        fprintf(stderr, "check_sweep: MPI test skipped: not built with MPI (make MPI=1)\n");
        return;
    }
    char text[8192];
    if (ss_test_sh(text, sizeof text, "command -v mpirun") != 0) {
        fprintf(stderr, "check_sweep: MPI test skipped: no mpirun\n");
        return;
    }
    const char *dir = ss_test_tmpdir();
    const char *deck = ss_test_write(dir, "st.cir", status_deck);
    const char *prog = ss_test_program();
    char a[1024], b[1024];
    snprintf(a, sizeof a, "%s/local.csv", dir);
    snprintf(b, sizeof b, "%s/mpi.csv", dir);
    const char *sweep = "--param mode=list:0,1,3,5 --param rr=gauss:1k:100 --mc 4 "
                        "--measure 'tran v100 FIND v(out) AT=100u' --jobs 1 -q";
    ck_assert_int_eq(ss_test_sh(text, sizeof text, "%s sweep %s %s -o %s", prog, deck, sweep, a),
                     0);
    int rc = ss_test_sh(text, sizeof text,
                        "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                        "mpirun -n 2 --oversubscribe %s sweep %s %s -o %s",
                        prog, deck, sweep, b);
    ck_assert_msg(rc == 0, "mpirun failed: %s", text);
    char *ra = normalized_rows(a), *rb = normalized_rows(b);
    ck_assert_str_eq(ra, rb);
    ck_assert_int_eq(count_lines(b), 17);
    free(ra);
    free(rb);
}
END_TEST

/* Runs `sweep` over `deck_text` locally and under mpirun -n 3 with
 * SMALLSIM_RANK_DEADLINE=2, stopping rank 2 (SIGSTOP: alive, so MPI
 * reports nothing) once the MPI run's results file has `min_lines` lines.
 * Asserts that mpirun ends with status 0 and takes the stopped rank with
 * it, that the program says a rank was given up, and that the rows (`rows`
 * lines with the header) equal the local run's. */
static void stopped_rank_run(const char *deck_text, const char *sweep, int min_lines, int rows)
{
    char text[8192];
    const char *dir = ss_test_tmpdir(), *prog = ss_test_program();
    const char *deck = ss_test_write(dir, "slow.cir", deck_text);
    char a[1024], b[1024], log[1100];
    snprintf(a, sizeof a, "%s/local.csv", dir);
    snprintf(b, sizeof b, "%s/mpi.csv", dir);
    snprintf(log, sizeof log, "%s/mpi.log", dir);
    ck_assert_int_eq(ss_test_sh(text, sizeof text, "%s sweep %s %s -o %s", prog, deck, sweep, a),
                     0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd,
                 "SMALLSIM_RANK_DEADLINE=2 OMPI_ALLOW_RUN_AS_ROOT=1 "
                 "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 300 mpirun -n 3 --oversubscribe "
                 "%s sweep %s %s -o %s > %s 2>&1",
                 prog, deck, sweep, b, log);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    long stopped = ss_test_stop_rank(prog, 2, b, min_lines, 120);
    int st;
    waitpid(pid, &st, 0);
    ss_test_sh(text, sizeof text, "cat %s", log);
    ck_assert_msg(stopped > 0, "rank 2 was not found: %s", text);
    /* mpirun's end kills it (give the kernel a moment to reap it) */
    int alive = 1;
    for (int k = 0; k < 500 && alive; k++) {
        char stat[64], buf[256] = "";
        snprintf(stat, sizeof stat, "/proc/%ld/stat", stopped);
        FILE *f = fopen(stat, "r");
        alive = f && fgets(buf, sizeof buf, f) && !strstr(buf, ") Z ");
        if (f)
            fclose(f);
        if (alive)
            usleep(20000);
    }
    if (alive)
        kill((pid_t)stopped, SIGKILL);
    ck_assert_msg(!alive, "the stopped rank %ld outlived mpirun", stopped);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "mpirun: status %d: %s", st, text);
    ck_assert_msg(strstr(text, "1 MPI rank stopped answering"), "%s", text);
    char *ra = normalized_rows(a), *rb = normalized_rows(b);
    ck_assert_str_eq(ra, rb);
    ck_assert_int_eq(count_lines(b), rows);
    free(ra);
    free(rb);
}

/* A rank stopped while it has jobs is given up after the deadline without
 * a heartbeat; its jobs run on the other ranks and every job gets its row. */
START_TEST(test_mpi_stopped_rank)
{
    if (!ss_pool_mpi_built()) {
        fprintf(stderr, "check_sweep: MPI test skipped: not built with MPI (make MPI=1)\n");
        return;
    }
    char text[256];
    if (ss_test_sh(text, sizeof text, "command -v mpirun") != 0)
        return;
    stopped_rank_run(slow_deck,
                     "--param rr=lin:1k:3k:8 --param cc=list:100n,220n,470n "
                     "--measure 'tran vend FIND v(out) AT=1m' --jobs 1 -q",
                     4, 25);
}
END_TEST

/* A rank stopped while idle (one job, which rank 0's own worker takes)
 * does not answer the end of the run within the deadline: it is given up
 * and mpirun ends instead of waiting for it in MPI_Finalize. */
START_TEST(test_mpi_stopped_idle_rank)
{
    if (!ss_pool_mpi_built())
        return; /* said once by test_mpi_stopped_rank */
    char text[256];
    if (ss_test_sh(text, sizeof text, "command -v mpirun") != 0)
        return;
    static const char long_deck[] = "one long job\n"
                                    ".param rr=1k cc=100n\n"
                                    "V1 in 0 PULSE(0 1 0 1n 1n 1 2)\n"
                                    "R1 in out {rr}\n"
                                    "C1 out 0 {cc}\n"
                                    ".tran 1u 10m 0 20n\n"
                                    ".end\n";
    stopped_rank_run(long_deck,
                     "--param rr=list:1k --measure 'tran vend FIND v(out) AT=1m' --jobs 1 -q", 1,
                     2);
}
END_TEST

/* A program that holds an engine and then runs a sweep: its forked
 * workers take over their copy of the engine (one per process), so the
 * jobs run; the measured 50 % times are tau ln 2. */
START_TEST(test_sweep_with_engine_open)
{
    const char *dir = ss_test_tmpdir();
    const char *cir = ss_test_write(dir, "rc.cir",
                                    "rc\n.param rr=1k\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\n"
                                    "R1 in out {rr}\nC1 out 0 100n\n.tran 1u 500u\n"
                                    ".meas tran t50 WHEN v(out)=0.5 RISE=1\n.end\n");
    ss_error err;
    ss_engine *eng;
    ck_assert_msg(ss_engine_open(&eng, &err) == SS_OK, "%s", err.msg);
    ck_assert_int_eq(ss_engine_open(&(ss_engine *){NULL}, &err), SS_EBUSY);
    const char *params[] = {"rr=list:1k,2k"};
    ss_sweep_spec spec = SS_SWEEP_SPEC_INIT;
    spec.netlist = cir;
    spec.params = params;
    spec.nparams = 1;
    ss_sweep *sw = ss_sweep_alloc(&spec, &err);
    ck_assert_msg(sw != NULL, "%s", err.msg);
    char out[600];
    snprintf(out, sizeof out, "%s/with-engine.csv", dir);
    ss_sweep_options opt = SS_SWEEP_OPTIONS_INIT;
    opt.out = out;
    opt.jobs = 2;
    ss_sweep_summary sum;
    ck_assert_msg(ss_sweep_run(sw, &opt, &sum, &err) == SS_OK, "%s", err.msg);
    ck_assert_uint_eq(sum.count[SS_SWEEP_OK], 2);
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        char *fl[8];
        ck_assert_int_eq(fields(line, fl, 8), 6); /* job,status,rr,seed,t50,seconds */
        ck_assert_str_eq(fl[1], "ok");
        ck_assert_double_eq_tol(atof(fl[4]), atof(fl[2]) * 100e-9 * log(2),
                                1e-4 * atof(fl[4]));
    }
    fclose(f);
    ss_sweep_free(sw);
    /* the parent's engine still runs */
    ss_result res = SS_RESULT_INIT;
    ck_assert_msg(ss_engine_run_file(eng, cir, 0, &res, &err) == SS_OK, "%s", err.msg);
    ss_result_release(&res);
    ss_engine_free(eng);
}
END_TEST

Suite *sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("design");
    tcase_add_test(tc, test_axis_values);
    tcase_add_test(tc, test_grid_zip);
    tcase_add_test(tc, test_lhs_stratified);
    tcase_add_test(tc, test_seeds_reproducible);
    suite_add_tcase(s, tc);
    tc = tcase_create("netlist");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_netlist_statuses);
    tcase_add_test(tc, test_sweep_errors);
    tcase_add_test(tc, test_kill_resume);
    tcase_add_test(tc, test_resume_settings_and_lock);
    tcase_add_test(tc, test_shards);
    tcase_add_test(tc, test_sweep_with_engine_open);
    tcase_add_test(tc, test_mpi_same_as_local);
    tcase_add_test(tc, test_mpi_stopped_rank);
    tcase_add_test(tc, test_mpi_stopped_idle_rank);
    suite_add_tcase(s, tc);
    return s;
}
