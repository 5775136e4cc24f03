/* check_cli.c: the smallsim program as a user runs it. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ss_test.h"
#include "util/ss_util.h"

static char out[65536];

START_TEST(help_version_usage)
{
    const char *p = ss_test_program();
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s --version", p), 0);
    ck_assert_ptr_nonnull(strstr(out, "smallsim 0."));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s --help", p), 0);
    ck_assert_ptr_nonnull(strstr(out, "spice"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run --help", p), 0);
    ck_assert_ptr_nonnull(strstr(out, "--allow-control"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s", p), 2);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s nosuch", p), 2);
    ck_assert_ptr_nonnull(strstr(out, "smallsim: unknown command 'nosuch'"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run", p), 2);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run x.cir --timeout -1", p), 2);
}
END_TEST

/* Every command's help, found by walking the program's own help (commands
 * from `smallsim --help`, subcommands from each usage line): each exits 0,
 * prints no printf escape ("%%"), takes -q (the same option on every
 * command), and where it has --jobs the default is every CPU. */
START_TEST(help_walk_consistent_options)
{
    const char *p = ss_test_program();
    static char top[8192], help[16384];
    ck_assert_int_eq(ss_test_sh(top, sizeof top, "%s --help", p), 0);
    const char *c = strstr(top, "commands:\n");
    ck_assert_ptr_nonnull(c);
    size_t leaves = 0;
    for (c = strchr(c, '\n') + 1; *c == ' '; c = strchr(c, '\n') + 1) {
        char cmd[64], sub[64], leaf[160];
        ck_assert_int_eq(sscanf(c, " %63s", cmd), 1);
        ck_assert_int_eq(ss_test_sh(help, sizeof help, "%s %s --help", p, cmd), 0);
        /* subcommands: "smallsim CMD SUB" on the usage lines */
        char subs[8][64];
        size_t nsub = 0;
        char pat[80];
        snprintf(pat, sizeof pat, "smallsim %s ", cmd);
        for (const char *u = strstr(help, pat); u && nsub < 8; u = strstr(u + 1, pat)) {
            if (sscanf(u + strlen(pat), "%63[a-z]", sub) != 1 ||
                !strchr(" \n", u[strlen(pat) + strlen(sub)]))
                continue;
            int seen = 0;
            for (size_t k = 0; k < nsub; k++)
                seen |= !strcmp(subs[k], sub);
            if (!seen)
                snprintf(subs[nsub++], sizeof subs[0], "%s", sub);
        }
        /* the command itself is run too when a usage line does not name a
         * subcommand ("smallsim l2l --task", "smallsim run EXPERIMENT") */
        int itself = 0;
        for (const char *u = strstr(help, pat); u; u = strstr(u + 1, pat)) {
            char next = u[strlen(pat)];
            itself |= next == '-' || next == '[' || (next >= 'A' && next <= 'Z');
        }
        for (size_t k = 0; k <= nsub; k++) {
            if (k == nsub && !itself)
                break; /* the command only dispatches */
            snprintf(leaf, sizeof leaf, "%s%s%s", cmd, k < nsub ? " " : "", k < nsub ? subs[k] : "");
            ck_assert_msg(ss_test_sh(help, sizeof help, "%s %s --help", p, leaf) == 0, "%s", leaf);
            ck_assert_msg(!strstr(help, "%%"), "smallsim %s --help prints %%%%", leaf);
            ck_assert_msg(strstr(help, "-q, --quiet"), "smallsim %s --help: no -q", leaf);
            const char *j = strstr(help, "  --jobs K");
            if (j)
                ck_assert_msg(strstr(j, "default: the number of CPUs"), "smallsim %s --jobs: %s",
                              leaf, j);
            /* -q is taken (then --help answers) */
            ck_assert_msg(ss_test_sh(help, sizeof help, "%s %s -q --help", p, leaf) == 0,
                          "smallsim %s -q: %s", leaf, help);
            leaves++;
        }
    }
    /* spice run, crossbar dc, crossbar tran, netlist crossbar, run, sweep,
     * device list, iv, spice, fit, l2l, l2l eval, characterize */
    ck_assert_uint_ge(leaves, 13);
}
END_TEST

/* run --timeout: a run far longer than its limit stops soon after it with
 * exit 1 and says where it was; a negative limit is a usage error. */
START_TEST(run_timeout)
{
    const char *dir = ss_test_tmpdir(), *p = ss_test_program();
    ss_test_write(dir, "long.yaml",
                  "duration: 10000\ndt: 1e-4\npopulations:\n"
                  "  - {name: a, kind: dpi, n: 2000, bias: 1e-9}\n");
    double t0 = ss_util_now();
    int rc = ss_test_sh(out, sizeof out, "cd %s && %s run long.yaml -o out --timeout 1 -q", dir, p);
    double wall = ss_util_now() - t0;
    ck_assert_msg(rc == 1 && strstr(out, "long.yaml: stopped by --timeout 1 s at t = "), "%d: %s",
                  rc, out);
    ck_assert_msg(wall < 30, "took %g s", wall);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run long.yaml --timeout -1", dir, p),
                     2);
    ck_assert_msg(strstr(out, "--timeout: '-1'"), "%s", out);
}
END_TEST

START_TEST(spice_run_csv)
{
    const char *dir = ss_test_tmpdir();
    const char *cir = ss_test_write(dir, "rc.cir",
                                    "rc\nV1 in 0 DC 1\nR1 in out 1k\nC1 out 0 100n IC=0\n"
                                    ".tran 1u 300u uic\n.end\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s --vectors 'v(out),i(v1)' -o %s/o.csv",
                                ss_test_program(), cir, dir),
                     0);
    char path[700], line[256];
    snprintf(path, sizeof path, "%s/o.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "time,v(out),i(v1)\n");
    double t = 0, v = 0, i = 0, maxerr = 0;
    int rows = 0;
    while (fscanf(f, "%lf,%lf,%lf", &t, &v, &i) == 3) {
        maxerr = fmax(maxerr, fabs(v - (1 - exp(-t / 1e-4))));
        ck_assert_double_eq_tol(i, -(1 - v) / 1e3, 1e-9);
        rows++;
    }
    fclose(f);
    ck_assert_int_gt(rows, 100);
    ck_assert_double_eq_tol(t, 300e-6, 1e-12);
    ck_assert_double_lt(maxerr, 1e-3);
    /* raw output and the timeout path */
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s --timeout 30 -o %s/o.raw",
                                ss_test_program(), cir, dir),
                     0);
    snprintf(path, sizeof path, "%s/o.raw", dir);
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "Title: rc\n");
    fclose(f);
}
END_TEST

START_TEST(spice_run_errors)
{
    const char *dir = ss_test_tmpdir();
    const char *bad = ss_test_write(dir, "bad.cir", "t\nV1 a 0 1\n.control\nshell touch pwned\n.endc\n.end\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s spice run bad.cir", dir, ss_test_program()), 1);
    ck_assert_ptr_nonnull(strstr(out, "smallsim: bad.cir:3: .control block refused"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "test -e %s/pwned", dir), 1);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s/none.cir", ss_test_program(), dir), 1);
    ck_assert_ptr_nonnull(strstr(out, "cannot open"));
    const char *ok = ss_test_write(dir, "ok.cir", "t\nV1 a 0 1\nR1 a 0 2k\n.op\n.end\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s --vectors 'v(zz)'", ss_test_program(), ok), 1);
    ck_assert_ptr_nonnull(strstr(out, "no vector 'v(zz)'"));
    /* allowed control blocks run, in the netlist's folder */
    (void)bad;
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s --vectors 'i(v1)'", ss_test_program(), ok), 0);
    ck_assert_ptr_nonnull(strstr(out, "-0.0005"));
}
END_TEST

/* Measurements printed and written; a .control deck's printout, files and
 * quit status; the .spiceinit note; bad --meas and --outdir paths. */
START_TEST(spice_run_measures_and_commands)
{
    const char *dir = ss_test_tmpdir(), *p = ss_test_program();
    ss_test_write(dir, "m.cir",
                  "meas\nV1 1 0 pulse(0 1 0 1u 1u 10u 20u)\nR1 1 2 1k\nC1 2 0 1n\n"
                  ".tran 0.1u 100u\n.meas tran vend FIND v(2) AT=100u\n"
                  ".meas tran vmax MAX v(2)\n.meas tran nope FIND v(2) AT=1\n.end\n");
    /* with -o the report goes to stdout */
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s spice run m.cir -o m.csv --meas m.json 2>/dev/null", dir,
                                p),
                     0);
    double vend = 0, vmax = 0;
    char *q = strstr(out, "vend");
    ck_assert_msg(q && sscanf(strchr(q, '=') + 1, "%lf", &vend) == 1, "%s", out);
    q = strstr(out, "vmax");
    ck_assert_msg(q && sscanf(strchr(q, '=') + 1, "%lf", &vmax) == 1, "%s", out);
    ck_assert_msg(strstr(out, "nope") && strstr(out, "failed"), "%s", out);
    /* 1 - exp(-1u/1us) ... the pulse's last high phase ends at 91 us */
    ck_assert_double_gt(vmax, 0.9999);
    ck_assert_double_gt(vend, 0.0);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cat %s/m.json", dir), 0);
    ck_assert_msg(strstr(out, "\"name\": \"vend\"") && strstr(out, "\"ok\": false"), "%s", out);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s spice run m.cir --meas m.csv -o x.csv"
                                " >/dev/null && cat m.csv", dir, p), 0);
    ck_assert_msg(!strncmp(out, "name,analysis,value,status\nvend,tran,", 37) &&
                      strstr(out, "nope,tran,,failed"),
                  "%s", out);
    /* the file's value has all the digits the report has */
    char want[64];
    snprintf(want, sizeof want, "vend,tran,%.17g", vend);
    ck_assert_msg(strstr(out, want), "%s lacks %s", out, want);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s spice run m.cir --meas m.cir/m.csv",
                                dir, p), 1);

    /* a .control deck: its printout, a file it writes into --outdir, quit 3 */
    ss_test_write(dir, "c.cir",
                  "ctl\nV1 1 0 1\nR1 1 2 1k\nR2 2 0 1k\n.control\nop\nprint v(2)\n"
                  "wrdata vout v(2)\nif v(2) > 0.4\n  quit 3\nend\necho not here\n.endc\n.end\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s spice run --allow-control c.cir --outdir runs -o c.csv",
                                dir, p),
                     1);
    ck_assert_msg(strstr(out, "v(2) = 5.0") && !strstr(out, "not here") &&
                      strstr(out, "ended with 'quit 3'"),
                  "%s", out);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cat %s/runs/vout && cat %s/c.csv", dir, dir),
                     0);
    ck_assert_msg(strstr(out, "5.00000000e-01") && strstr(out, "v(2)"), "%s", out);
    /* without --outdir the file is gone, and the user is told */
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s spice run --allow-control c.cir", dir, p),
                     1);
    ck_assert_msg(strstr(out, "wrote 1 file into a temporary folder"), "%s", out);
    /* an untrusted netlist's .spiceinit is not read, and the user is told */
    ss_test_write(dir, ".spiceinit", "set ngbehavior=ltpsa\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s spice run m.cir -o m.csv", dir, p), 0);
    ck_assert_msg(strstr(out, ".spiceinit is not read"), "%s", out);
    /* an --outdir whose .spiceinit ngspice would run is refused */
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s spice run --allow-control c.cir --outdir .",
                                dir, p),
                     1);
    ck_assert_msg(strstr(out, "holds a .spiceinit"), "%s", out);
}
END_TEST

Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("spice");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, help_version_usage);
    tcase_add_test(tc, help_walk_consistent_options);
    tcase_add_test(tc, run_timeout);
    tcase_add_test(tc, spice_run_csv);
    tcase_add_test(tc, spice_run_errors);
    tcase_add_test(tc, spice_run_measures_and_commands);
    suite_add_tcase(s, tc);
    return s;
}
