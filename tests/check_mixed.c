/* check_mixed.c: networks with transistor-level neurons in SPICE tiles,
 * co-simulated (each tile in its own worker and ngspice, the crossbar and
 * the synapses in C) against the same network as one deck
 * (ss_network_write_spice) run by `ngspice -b` itself; tiles holding
 * several populations, a designer's netlist as a tile, the experiment
 * file's and the program's tile inputs, and bad input. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/ss_circuits.h"
#include "cosim/experiment/ss_experiment.h"
#include "tests/ss_test.h"

Suite *mixed_suite(void);

#define MAXSPK 512

/* Spike times of every SPICE neuron of a reference deck run by `ngspice -b`
 * (wrdata of the saved vectors), in the order of `vec` (NULL entries
 * skipped: they get no spikes).  ref[k][...], nref[k]. */
static void run_ngspice(const char *dir, const ss_buf *deck, char **vec, const double *threshold,
                        size_t n, double (*ref)[MAXSPK], size_t *nref)
{
    ss_buf d = SS_BUF_INIT;
    const char *end = strstr(deck->data, "\n.end\n");
    ck_assert_ptr_nonnull(end);
    ck_assert_int_eq(ss_buf_add(&d, deck->data, (size_t)(end - deck->data) + 1), SS_OK);
    ck_assert_int_eq(ss_buf_printf(&d, ".control\nset num_threads=1\nrun\nwrdata %s/ref.txt", dir),
                     SS_OK);
    for (size_t k = 0; k < n; k++)
        if (vec[k])
            ck_assert_int_eq(ss_buf_printf(&d, " %s", vec[k]), SS_OK);
    ck_assert_int_eq(ss_buf_printf(&d, "\n.endc\n.end\n"), SS_OK);
    ss_test_write(dir, "ref.cir", d.data);
    ss_buf_release(&d);
    static char out[16384];
    /* ngspice -b exits 1 after a .control block with its own run: judge by the file */
    ss_test_sh(out, sizeof out, "cd %s && ngspice -b ref.cir", dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/ref.txt", dir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "ngspice -b wrote no data: %s", out);
    double *prev = calloc(n, sizeof *prev), t0 = 0;
    int first = 1;
    memset(nref, 0, n * sizeof *nref);
    char line[65536];
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        double t = 0;
        for (size_t k = 0; k < n; k++) {
            if (!vec[k])
                continue;
            double v;
            t = strtod(p, &p); /* wrdata: time, value for each vector */
            v = strtod(p, &p);
            if (!first && prev[k] < threshold[k] && v >= threshold[k] && nref[k] < MAXSPK)
                ref[k][nref[k]++] = t0 + (threshold[k] - prev[k]) / (v - prev[k]) * (t - t0);
            prev[k] = v;
        }
        t0 = t;
        first = 0;
    }
    fclose(f);
    free(prev);
}

/* Loads and runs an experiment file, writes its reference, runs that with
 * ngspice -b and compares every SPICE neuron: the same spike counts, each
 * spike within `tol` of the neuron's ISI.  Returns the largest difference
 * (in ISIs); *spikes counts the reference's spikes. */
static double against_ngspice(const char *dir, const char *yaml, double tol, size_t *spikes)
{
    const char *path = ss_test_write(dir, "net.yaml", yaml);
    ss_network *net;
    ss_experiment exp;
    ss_error err;
    ck_assert_msg(ss_experiment_load(path, -1, &net, &exp, &err) == SS_OK, "%s", err.msg);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.dt = exp.dt;
    ck_assert_msg(ss_network_run(net, exp.duration, &o, &err) == SS_OK, "%s", err.msg);
    ss_buf deck = SS_BUF_INIT;
    char **vec;
    ck_assert_msg(ss_network_write_spice(net, &deck, &vec, &err) == SS_OK, "%s", err.msg);
    size_t n = 0;
    for (size_t p = 0; p < ss_network_npops(net); p++)
        n += ss_network_pop_size(net, p);
    double(*ref)[MAXSPK] = calloc(n, sizeof *ref), *th = calloc(n, sizeof *th);
    size_t *nref = calloc(n, sizeof *nref);
    for (size_t p = 0, g = 0; p < ss_network_npops(net); g += ss_network_pop_size(net, p), p++)
        for (size_t i = 0; i < ss_network_pop_size(net, p); i++)
            th[g + i] = ss_network_spice_spec(net, p) ? ss_network_spice_spec(net, p)->threshold : 0;
    run_ngspice(dir, &deck, vec, th, n, ref, nref);
    double worst = 0;
    *spikes = 0;
    for (size_t p = 0, g = 0; p < ss_network_npops(net); g += ss_network_pop_size(net, p), p++) {
        if (!ss_network_spice_spec(net, p))
            continue;
        for (size_t i = 0; i < ss_network_pop_size(net, p); i++) {
            double co[MAXSPK];
            size_t nco = 0;
            for (size_t k = 0; k < ss_network_nspikes(net); k++) {
                double t;
                size_t pp, ii;
                ss_network_spike(net, k, &t, &pp, &ii);
                if (pp == p && ii == i && nco < MAXSPK)
                    co[nco++] = t;
            }
            const double *r = ref[g + i];
            size_t m = nref[g + i];
            ck_assert_msg(m == nco, "%s[%zu]: %zu spikes in ngspice -b, %zu co-simulated",
                          ss_network_pop_name(net, p), i, m, nco);
            double isi = m >= 2 ? (r[m - 1] - r[0]) / (double)(m - 1) : (m ? r[0] : 1);
            for (size_t q = 0; q < m; q++) {
                double d = fabs(r[q] - co[q]) / isi;
                ck_assert_msg(d < tol, "%s[%zu] spike %zu: %.7f s (ngspice -b) vs %.7f s "
                                       "(co-simulated), %.3f%% of the ISI",
                              ss_network_pop_name(net, p), i, q, r[q], co[q], 100 * d);
                worst = fmax(worst, d);
            }
            *spikes += m;
        }
    }
    for (size_t k = 0; k < n; k++)
        free(vec[k]);
    free(vec);
    free(ref);
    free(th);
    free(nref);
    ss_buf_release(&deck);
    ss_network_free(net);
    return worst;
}

static const char device[] =
    "    device: {model: vteam, params: \"r_on=10k r_off=1meg v_on=-0.2 v_off=0.3 k_on=-1.8e-5 "
    "k_off=9e-5 alpha_on=3 alpha_off=3 w_off=3n\"}\n";

/* A small mixed network: two transistor-level DPI neurons on constant
 * currents read a 2 x 2 VTEAM crossbar (each spike fires a read pulse
 * through a sample and hold of the time in the reference), two spike
 * trains add read pulses through plain synapses (PWL sources in the
 * reference; the input mirror's gain applies to them too), and the
 * bit-line currents drive two output neurons; every neuron in a tile of
 * its own. */
START_TEST(mixed_against_ngspice)
{
    const char *dir = ss_test_tmpdir();
    ss_test_write(dir, "trains.csv", "0,1.1e-3\n1,2.3e-3\n0,3.65e-3\n1,5.2e-3\n0,6.9e-3\n");
    ss_test_write(dir, "bias.txt", "150e-12\n300e-12\n");
    ss_buf y = SS_BUF_INIT;
    ck_assert_int_eq(ss_buf_printf(&y,
                                   "duration: 12m\ndt: 0.1m\npopulations:\n"
                                   "  - {name: src, kind: times, n: 2, times: trains.csv}\n"
                                   "  - name: pre\n    kind: spice\n    n: 2\n"
                                   "    circuit: {name: dpi-neuron, reltol: 1e-6}\n"
                                   "    bias: {file: bias.txt}\n"
                                   "  - name: post\n    kind: spice\n    n: 2\n"
                                   "    circuit: {name: dpi-neuron, reltol: 1e-6}\n"
                                   "    input: {shape: pulse, width: 0.2m, edge: 2u, gain: 1e-3}\n"
                                   "    bias: 20p\n"
                                   "projections:\n"
                                   "  - from: pre\n    to: post\n    kind: memristive\n%s"
                                   "    x0: 0.7\n    rwire: 2\n    rsense: 10\n"
                                   "    v_read: 0.15\n    t_read: 0.202m\n    delay: 0.1m\n"
                                   "  - {from: src, to: post, kind: all, weight: 1u, delay: 0.2m}\n",
                                   device),
                     SS_OK);
    size_t spikes;
    double worst = against_ngspice(dir, y.data, 0.0015, &spikes);
    ck_assert_uint_ge(spikes, 8);
    fprintf(stderr, "mixed_against_ngspice: %zu spikes, largest difference %.4f%% of the ISI\n",
            spikes, 100 * worst);
    ss_buf_release(&y);
}
END_TEST

/* Tiles as a designer needs them: one tile holding two populations (the
 * body `smallsim characterize --tile 2` writes, neuron 1 feeding the second
 * population), a designer's own netlist of the DPI neuron (pins renamed and
 * reordered, declared in its "* smallsim:" line) in tiles of its own, a
 * spike train into all of them (exponential synapses), current steps; all
 * against ngspice -b, and the designer's neuron spiking exactly as the
 * library's on the same input. */
START_TEST(several_tiles)
{
    const char *dir = ss_test_tmpdir();
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ss_circuit_find("dpi-neuron"));
    cfg.reltol = 1e-6;
    ss_buf body = SS_BUF_INIT;
    char **spk;
    ss_error err;
    ck_assert_msg(ss_circuit_tile(&cfg, 2, &body, &spk, &err) == SS_OK, "%s", err.msg);
    ck_assert_str_eq(spk[1], "v(vspk_1)");
    ss_test_write(dir, "pair.cir", body.data);
    for (int k = 0; k < 2; k++)
        free(spk[k]);
    free(spk);
    ss_buf_release(&body);
    /* the designer's copy: pins renamed and reordered */
    const char *lib = ss_circuit_text("dpi_neuron.sub");
    ss_buf my = SS_BUF_INIT;
    ck_assert_int_eq(ss_buf_printf(&my, "* smallsim: like=dpi-neuron vspk=out vss=gnd\n"), SS_OK);
    for (const char *p = lib; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        if (!strncmp(line, ".subckt ss_dpi_neuron", 21))
            snprintf(line, sizeof line, ".subckt my_dpi iin gnd vdd vmem out vtau vth vrefb vca "
                                        "vtauahp");
        else if (!strncmp(line, ".ends", 5))
            snprintf(line, sizeof line, ".ends my_dpi");
        else if (line[0] == 'm' || line[0] == 'c') { /* vss -> gnd, vspk -> out */
            char out[512] = "";
            for (char *save = NULL, *t = strtok_r(line, " ", &save); t; t = strtok_r(NULL, " ", &save))
                snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", *out ? " " : "",
                         !strcmp(t, "vss") ? "gnd" : !strcmp(t, "vspk") ? "out" : t);
            snprintf(line, sizeof line, "%s", out);
        }
        ck_assert_int_eq(ss_buf_printf(&my, "%s\n", line), SS_OK);
        p += len + (e != NULL);
    }
    ss_test_write(dir, "my_dpi.cir", my.data);
    ss_buf_release(&my);
    size_t spikes;
    double worst = against_ngspice(
        dir,
        "duration: 15m\ndt: 0.1m\npopulations:\n"
        "  - {name: in, kind: regular, n: 1, rate: 400, phase: 0.5m}\n"
        "  - {name: a, kind: spice, n: 1, body: pair.cir, tile: pair, spikes: [\"v(vspk_0)\"],"
        " tau_syn: 2m, bias: 60p}\n"
        "  - {name: b, kind: spice, n: 1, tile: pair, spikes: [\"v(vspk_1)\"], inputs: [iext1],"
        " tau_syn: 2m, bias: 60p}\n"
        "  - name: c\n    kind: spice\n    n: 2\n    circuit: {name: my_dpi.cir, reltol: 1e-6}\n"
        "    tau_syn: 2m\n    bias: 60p\n"
        "  - name: d\n    kind: spice\n    n: 1\n    circuit: {name: dpi-neuron, reltol: 1e-6}\n"
        "    tau_syn: 2m\n    bias: 60p\n"
        "projections:\n"
        "  - {from: in, to: a, kind: all, weight: 0.4n, delay: 0.1m}\n"
        "  - {from: in, to: b, kind: all, weight: 0.2n, delay: 0.1m}\n"
        "  - {from: in, to: c, kind: all, weight: 0.3n, delay: 0.1m}\n"
        "  - {from: in, to: d, kind: all, weight: 0.3n, delay: 0.1m}\n"
        "stimuli:\n  - {population: c, neurons: [1], start: 4.05m, stop: 9.05m, amplitude: 0.4n}\n",
        0.003, &spikes);
    ck_assert_uint_ge(spikes, 10);
    fprintf(stderr, "several_tiles: %zu spikes, largest difference %.4f%% of the ISI\n", spikes,
            100 * worst);
    /* the designer's neuron c[0] and the library's d[0]: one circuit, one input */
    const char *path = ss_test_write(dir, "same.yaml",
                                     "duration: 15m\npopulations:\n"
                                     "  - {name: in, kind: regular, n: 1, rate: 400, phase: 0.5m}\n"
                                     "  - {name: c, kind: spice, n: 1, circuit: {name: my_dpi.cir},"
                                     " tau_syn: 2m, bias: 60p}\n"
                                     "  - {name: d, kind: spice, n: 1, circuit: {name: dpi-neuron},"
                                     " tau_syn: 2m, bias: 60p}\n"
                                     "projections:\n"
                                     "  - {from: in, to: c, kind: all, weight: 0.3n, delay: 0.1m}\n"
                                     "  - {from: in, to: d, kind: all, weight: 0.3n, delay: 0.1m}\n");
    ss_network *net;
    ss_experiment exp;
    ck_assert_msg(ss_experiment_load(path, -1, &net, &exp, &err) == SS_OK, "%s", err.msg);
    ck_assert_uint_eq(ss_network_ntiles(net), 2);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    ck_assert_msg(ss_network_run(net, exp.duration, &o, &err) == SS_OK, "%s", err.msg);
    double tc[64], td[64];
    size_t nc = 0, nd = 0;
    for (size_t k = 0; k < ss_network_nspikes(net); k++) {
        double t;
        size_t p, i;
        ss_network_spike(net, k, &t, &p, &i);
        if (p == 1 && nc < 64)
            tc[nc++] = t;
        if (p == 2 && nd < 64)
            td[nd++] = t;
    }
    ck_assert_uint_ge(nc, 3);
    ck_assert_uint_eq(nc, nd);
    for (size_t q = 0; q < nc; q++)
        ck_assert_double_eq_tol(tc[q], td[q], 1e-12);
    ss_network_free(net);
}
END_TEST

/* Tiles through the program: characterize --tile writes a body (also for
 * a designer's netlist), an experiment file runs it; bodies are screened
 * like any netlist. */
START_TEST(tiles_cli)
{
    const char *dir = ss_test_tmpdir(), *prog = ss_test_program();
    static char out[8192];
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s characterize dpi-neuron --tile 2 -o tile.cir",
                                dir, prog), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"v(vspk_1)\""));
    ss_test_write(dir, "t.yaml",
                  "duration: 30m\npopulations:\n"
                  "  - {name: in, kind: regular, n: 1, rate: 50, phase: 2m}\n"
                  "  - {name: dpi, kind: spice, n: 2, body: tile.cir, spikes: [\"v(vspk_0)\", \"v(vspk_1)\"],"
                  " bias: 30p}\n"
                  "  - {name: out, kind: lif, n: 1}\nprojections:\n"
                  "  - {from: in, to: dpi, kind: all, weight: 2n, delay: 1m}\n"
                  "  - {from: dpi, to: out, kind: all, weight: 1n, delay: 1m}\n");
    ck_assert_msg(ss_test_sh(out, sizeof out, "cd %s && %s run t.yaml -o res -q && grep -c ',dpi,' res/spikes.csv "
                                              "&& grep -c ',out,' res/spikes.csv", dir, prog) == 0, "%s", out);
    long dpi = 0, lif = 0;
    ck_assert_int_eq(sscanf(out, "%ld %ld", &dpi, &lif), 2);
    ck_assert_int_gt(dpi, 4);
    ck_assert_int_gt(lif, 0); /* tile spikes reach behavioural neurons */
    /* a designer's axon-hillock as a tile */
    ss_test_write(dir, "ah.cir",
                  "* smallsim: like=axon-hillock vout=spk vss=gnd\n"
                  ".subckt my_ah vdd gnd vmem spk vpw params: cmem=400f cfb=100f\n"
                  "cm vmem gnd {cmem}\ncf spk vmem {cfb}\n"
                  "mi1n xa vmem gnd gnd ss_nch w=0.5u l=0.5u\nmi1p xa vmem vdd vdd ss_pch w=1u l=0.5u\n"
                  "mi2n spk xa gnd gnd ss_nch w=0.5u l=0.5u\nmi2p spk xa vdd vdd ss_pch w=1u l=0.5u\n"
                  "mr1 vmem spk xr gnd ss_nch w=1u l=1u\nmr2 xr vpw gnd gnd ss_nch w=1u l=1u\n"
                  ".ends my_ah\n");
    ck_assert_msg(ss_test_sh(out, sizeof out, "cd %s && %s characterize ah.cir --tile 1 -o ah_tile.cir",
                             dir, prog) == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "\"v(vout_0)\""));
    ss_test_write(dir, "ah.yaml",
                  "duration: 2m\ndt: 10u\npopulations:\n"
                  "  - {name: ah, kind: spice, n: 1, body: ah_tile.cir, spikes: [\"v(vout_0)\"], tmax: 1u,"
                  " bias: 2n}\n");
    ck_assert_msg(ss_test_sh(out, sizeof out, "cd %s && %s run ah.yaml -o res2 -q && grep -c ',ah,' "
                                              "res2/spikes.csv", dir, prog) == 0, "%s", out);
    ck_assert_int_gt(atol(out), 2);
    /* a body with a control block: refused unless --allow-control */
    ss_test_write(dir, "evil.cir", ".control\nshell touch pwned\n.endc\n");
    ss_test_write(dir, "e.yaml", "populations:\n  - {name: d, kind: spice, n: 1, body: evil.cir, "
                                 "spikes: [\"v(x0.vrst)\"]}\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run e.yaml -o res3 -q", dir, prog), 1);
    ck_assert_ptr_nonnull(strstr(out, ".control block refused"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "test -e %s/pwned", dir), 1);
}
END_TEST

/* Bad tiles, bad SPICE populations: file:line errors, never a crash. */
START_TEST(tile_bad_input)
{
    static const struct {
        const char *yaml, *want;
    } bad[] = {
        {"populations:\n  - {name: a, kind: spice, n: 1, circuit: {name: no-such-circuit}}\n",
         "net.yaml:2: 'no-such-circuit' is neither a library circuit nor a readable netlist"},
        {"populations:\n  - {name: a, kind: spice, n: 1, circuit: {name: dpi-synapse}}\n",
         "net.yaml:2: SPICE tiles are built from neuron circuits"},
        {"populations:\n  - {name: a, kind: spice, n: 1, circuit: {name: dpi-neuron, per_tile: 0}}\n",
         "net.yaml:2: 'per_tile' is a whole number"},
        {"populations:\n  - name: a\n    kind: spice\n    n: 1\n    circuit:\n      name: dpi-neuron\n"
         "      biases: {Inope: 1p}\n",
         "net.yaml:7:"},
        {"populations:\n  - {name: a, kind: spice, n: 1, circuit: {name: dpi-neuron, colour: red}}\n",
         "net.yaml:2: unknown key 'colour' in circuit"},
        {"populations:\n  - {name: a, kind: spice, n: 1, circuit: {name: dpi-neuron},\n"
         "     input: {shape: square}}\n",
         "net.yaml:3: input shape is 'exponential' or 'pulse'"},
        {"populations:\n  - {name: a, kind: spice, n: 1, body: b.cir, spikes: [v(x)], inputs: [inope]}\n",
         "tile 'a' has no EXTERNAL current source 'inope'"},
        {"populations:\n  - {name: a, kind: spice, n: 1, body: tran.cir, spikes: [v(x)]}\n",
         "tran.cir:3: a tile body has no analysis line"},
        {"populations:\n  - {name: a, kind: spice, n: 1, tile: nope, spikes: [v(x)]}\n",
         "net.yaml:2: population 'a' needs 'body: FILE'"},
        {"populations:\n  - {name: a, kind: spice, n: 2, body: b.cir, spikes: [v(x), v(y)],"
         " inputs: [iext0, iext0]}\n",
         "input 'iext0' feeds two neurons"},
        {"populations:\n  - {name: a, kind: spice, n: 1, circuit: {name: dpi-neuron}, body: b.cir}\n",
         "net.yaml:2: population 'a': 'circuit' builds its own tiles"},
        {"populations:\n  - {name: s, kind: lif, n: 1}\n"
         "  - {name: a, kind: spice, n: 1, circuit: {name: dpi-neuron}}\n"
         "projections:\n  - from: s\n    to: a\n    kind: memristive\n"
         "    device: {model: vteam}\n    plasticity: {v_set: -1, v_reset: 1, t_write: 1u}\n",
         "a plastic crossbar cannot end in the SPICE population 'a'"},
    };
    const char *dir = ss_test_tmpdir();
    ss_test_write(dir, "b.cir", "iext0 0 x external\nr1 x 0 1k\niext1 0 y external\nr2 y 0 1k\n");
    ss_test_write(dir, "tran.cir", "iext0 0 x external\nr1 x 0 1k\n.tran 1u 1m\n");
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *path = ss_test_write(dir, "net.yaml", bad[k].yaml);
        ss_network *net = NULL;
        ss_experiment exp;
        ss_error err;
        int rc = ss_experiment_load(path, -1, &net, &exp, &err);
        if (rc == SS_OK) { /* some errors show when the run starts */
            ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
            rc = ss_network_run(net, 1e-3, &o, &err);
            ss_network_free(net);
        }
        ck_assert_msg(rc != SS_OK, "case %zu accepted", k);
        ck_assert_msg(strstr(err.msg, bad[k].want), "case %zu: '%s' (want '%s')", k, err.msg,
                      bad[k].want);
    }
    /* the library API: tiles and neurons that do not fit */
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    ss_netlist nl = SS_NETLIST_INIT;
    ck_assert_int_eq(ss_netlist_read_string(&nl, "iext0 0 x external\nr1 x 0 1k\n", "t.cir", NULL,
                                            SS_NETLIST_BODY, &err), SS_OK);
    size_t t;
    ck_assert_int_eq(ss_network_add_tile(net, "bad name", &nl, 1e-6, &t, &err), SS_EINVAL);
    ck_assert_int_eq(ss_network_add_tile(net, "t", &nl, 0, &t, &err), SS_EINVAL);
    ck_assert_int_eq(ss_network_add_tile(net, "t", &nl, 1e-6, &t, &err), SS_OK);
    ck_assert_uint_eq(nl.n, 0); /* moved into the network */
    const char *in[1] = {"iext0"}, *sp[1] = {"v(x)"};
    size_t tiles[1] = {5}, pop;
    ss_network_spice s = SS_NETWORK_SPICE_DEFAULTS;
    s.tile = tiles, s.spike = sp, s.input = in;
    ck_assert_int_eq(ss_network_add_spice(net, "a", 1, &s, &pop, &err), SS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "no tile 5"));
    tiles[0] = t;
    s.shape = SS_INPUT_PULSE, s.edge = 0;
    ck_assert_int_eq(ss_network_add_spice(net, "a", 1, &s, &pop, &err), SS_EINVAL);
    s.edge = 1e-6;
    ck_assert_int_eq(ss_network_add_spice(net, "a", 1, &s, &pop, &err), SS_OK);
    /* a tile neuron's spike vector that is not in its circuit */
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    s.spike = (const char *[]){"v(nope)"};
    ss_network_free(net);
    net = ss_network_alloc(&err);
    ck_assert_int_eq(ss_netlist_read_string(&nl, "iext0 0 x external\nr1 x 0 1k\n", "t.cir", NULL,
                                            SS_NETLIST_BODY, &err), SS_OK);
    ck_assert_int_eq(ss_network_add_tile(net, "t", &nl, 1e-6, &t, &err), SS_OK);
    tiles[0] = t;
    ck_assert_int_eq(ss_network_add_spice(net, "a", 1, &s, &pop, &err), SS_OK);
    ck_assert_int_ne(ss_network_run(net, 1e-4, &o, &err), SS_OK);
    ck_assert_msg(strstr(err.msg, "SPICE tile 't'") && strstr(err.msg, "spike vectors"), "%s",
                  err.msg);
    /* a run with tiles cannot be continued */
    ss_network_free(net);
    net = ss_network_alloc(&err);
    ck_assert_int_eq(ss_netlist_read_string(&nl, "iext0 0 x external\nr1 x 0 1k\n", "t.cir", NULL,
                                            SS_NETLIST_BODY, &err), SS_OK);
    ck_assert_int_eq(ss_network_add_tile(net, "t", &nl, 1e-6, &t, &err), SS_OK);
    s.spike = sp;
    ck_assert_int_eq(ss_network_add_spice(net, "a", 1, &s, &pop, &err), SS_OK);
    ck_assert_msg(ss_network_run(net, 1e-4, &o, &err) == SS_OK, "%s", err.msg);
    ck_assert_int_eq(ss_network_run(net, 2e-4, &o, &err), SS_EINVAL);
    ss_network_free(net);
}
END_TEST

/* The configuration at its size: 8 spike trains through an 8 x 8
 * crossbar into 8 transistor-level DPI neurons, examples/network/mixed_a.yaml
 * at reltol 1e-6 over 20 ms (check-long; build/bench/mixed_network measured
 * 28 spikes, largest difference 0.169% of the ISI: at the file's reltol
 * 1e-5 the two runs' integration errors part by up to 5.6%). */
START_TEST(mixed_example_against_ngspice)
{
    if (!ss_test_long())
        return;
    const char *dir = ss_test_tmpdir();
    char *text = NULL, path[4096];
    size_t len;
    ss_error err;
    ck_assert_int_eq(ss_util_read_file("examples/network/mixed_a.yaml", &text, &len, &err), SS_OK);
    static const char *const data[] = {"mixed_inputs.csv", "mixed_x0_8.txt"};
    for (size_t k = 0; k < 2; k++) {
        char *d;
        snprintf(path, sizeof path, "examples/network/%s", data[k]);
        ck_assert_int_eq(ss_util_read_file(path, &d, &len, &err), SS_OK);
        ss_test_write(dir, data[k], d);
        free(d);
    }
    /* the tighter tolerance, the shorter run */
    for (char *r; (r = strstr(text, "reltol: 1e-5"));)
        r[11] = '6';
    char *d = strstr(text, "duration: 50m");
    ck_assert_ptr_nonnull(d);
    memcpy(d, "duration: 20m", 13);
    size_t spikes;
    double worst = against_ngspice(dir, text, 0.002, &spikes);
    ck_assert_uint_ge(spikes, 20);
    fprintf(stderr, "mixed_example_against_ngspice: %zu spikes, largest difference %.4f%% of the ISI\n",
            spikes, 100 * worst);
    free(text);
}
END_TEST

Suite *mixed_suite(void)
{
    Suite *s = suite_create("mixed");
    TCase *tc = tcase_create("mixed");
    tcase_set_timeout(tc, 3600);
    tcase_add_test(tc, mixed_against_ngspice);
    tcase_add_test(tc, several_tiles);
    tcase_add_test(tc, tiles_cli);
    tcase_add_test(tc, tile_bad_input);
    tcase_add_test(tc, mixed_example_against_ngspice);
    suite_add_tcase(s, tc);
    return s;
}
