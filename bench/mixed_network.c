/* mixed_network.c: a network of transistor-level neurons in SPICE tiles
 * (an experiment file, e.g. examples/network/mixed_a.yaml) run two ways in
 * the same process:
 *   - co-simulated: `smallsim run`'s path, every tile in its own worker
 *     process with its own ngspice, the crossbar solved in C;
 *   - full SPICE: the same network as one ngspice deck
 *     (ss_network_write_spice: the tiles' circuits, the crossbar with its
 *     devices, read pulses, mirrors), run on this process's engine.
 * Prints the CPU time of each (co-simulation: this process and every worker,
 * from getrusage), their ratio, the spike counts per neuron and the largest
 * spike-time difference relative to each neuron's ISI.
 *
 * usage: mixed_network [EXPERIMENT.yaml...] [--tstop T] [--ref-reltol R]
 *   (default: examples/network/mixed_a.yaml, mixed_b.yaml, mixed_c.yaml)
 *   --tstop T        simulated time (default: the file's duration)
 *   --ref-reltol R   run the full-SPICE reference at reltol R instead of the
 *                    tiles' own (a tighter reference)
 * Exit status 1 when the spike counts differ. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "circuits/ss_circuits.h"
#include "cosim/experiment/ss_experiment.h"

static double cpu_self(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec +
           (double)u.ru_stime.tv_sec + 1e-6 * (double)u.ru_stime.tv_usec;
}

static double cpu_children(void)
{
    struct rusage u;
    getrusage(RUSAGE_CHILDREN, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec +
           (double)u.ru_stime.tv_sec + 1e-6 * (double)u.ru_stime.tv_usec;
}

/* Replaces reltol=... in the deck's .options lines. */
static void set_reltol(ss_buf *deck, double reltol)
{
    ss_buf out = SS_BUF_INIT;
    for (const char *p = deck->data; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
        const char *r = strstr(p, "reltol=");
        if (!strncmp(p, ".options", 8) && r && r < p + len) {
            ss_buf_add(&out, p, (size_t)(r - p));
            ss_buf_printf(&out, "reltol=%g", reltol);
            const char *after = r + 7 + strcspn(r + 7, " \t\n");
            ss_buf_add(&out, after, (size_t)(p + len - after));
        } else {
            ss_buf_add(&out, p, len);
        }
        p += len;
    }
    ss_buf_release(deck);
    *deck = out;
}

static int bench(const char *path, double tstop, double ref_reltol, ss_engine *eng)
{
    ss_error err;
    ss_network *net;
    ss_experiment exp;
    if (ss_experiment_load(path, -1, &net, &exp, &err))
        return fprintf(stderr, "mixed_network: %s\n", err.msg), 1;
    if (tstop > 0)
        exp.duration = tstop;
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.dt = exp.dt;
    o.seed = exp.seed;
    o.engine = eng; /* the workers inherit the loaded library */
    double c0 = cpu_self(), k0 = cpu_children(), w0 = ss_util_now();
    if (ss_network_run(net, exp.duration, &o, &err))
        return fprintf(stderr, "mixed_network: %s\n", err.msg), 1;
    double co_self = cpu_self() - c0, co_kids = cpu_children() - k0, co_wall = ss_util_now() - w0;
    long co_points = 0;
    for (size_t t = 0; t < ss_network_ntiles(net); t++) {
        long pts;
        ss_network_tile_stats(net, t, &pts, NULL);
        co_points += pts;
    }
    /* the reference */
    ss_buf deck = SS_BUF_INIT;
    char **vec;
    if (ss_network_write_spice(net, &deck, &vec, &err))
        return fprintf(stderr, "mixed_network: %s\n", err.msg), 1;
    if (ref_reltol > 0)
        set_reltol(&deck, ref_reltol);
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    c0 = cpu_self();
    w0 = ss_util_now();
    if (ss_netlist_read_string(&nl, deck.data, "reference.cir", NULL, 0, &err) ||
        ss_engine_load(eng, &nl, &err) || ss_engine_run(eng, &res, &err))
        return fprintf(stderr, "mixed_network: reference: %s\n", err.msg), 1;
    double ref_cpu = cpu_self() - c0, ref_wall = ss_util_now() - w0;
    const ss_vector *tv = ss_result_find(&res, "time");
    printf("mixed_network: %s, %g ms, %zu tiles\n", path, exp.duration * 1e3, ss_network_ntiles(net));
    printf("  full ngspice : %8.2f s CPU (%.2f s wall), %zu time points%s\n", ref_cpu, ref_wall,
           tv ? tv->n : 0, ref_reltol > 0 ? " (reltol changed)" : "");
    printf("  co-simulation: %8.2f s CPU (%.2f in this process, %.2f in the workers; %.2f s wall), "
           "%ld time points in all tiles (CPU ratio %.1fx)\n",
           co_self + co_kids, co_self, co_kids, co_wall, co_points, ref_cpu / (co_self + co_kids));
    /* spikes per SPICE neuron */
    int same = 1;
    double worst = 0;
    size_t gid = 0, nref = 0, nco = 0;
    printf("  spikes per neuron (full / co-sim):");
    for (size_t p = 0; p < ss_network_npops(net); p++) {
        size_t n = ss_network_pop_size(net, p);
        const ss_network_spice *sp = ss_network_spice_spec(net, p);
        for (size_t i = 0; sp && i < n; i++) {
            const ss_vector *v = ss_result_find(&res, vec[gid + i]);
            double a[4096], b[4096];
            size_t na = v && tv ? ss_circuit_spike_times(tv->re, v->re, tv->n, sp->threshold, a, 4096)
                                : 0, nb = 0;
            for (size_t k = 0; k < ss_network_nspikes(net) && nb < 4096; k++) {
                double t;
                size_t pp, ii;
                ss_network_spike(net, k, &t, &pp, &ii);
                if (pp == p && ii == i)
                    b[nb++] = t;
            }
            printf(" %zu/%zu", na, nb);
            nref += na;
            nco += nb;
            same &= na == nb;
            double isi = na >= 2 ? (a[na - 1] - a[0]) / (double)(na - 1) : (na ? a[0] : 1);
            for (size_t q = 0; q < na && q < nb; q++)
                worst = fmax(worst, fabs(a[q] - b[q]) / isi);
        }
        gid += n;
    }
    printf("\n  same spike counts: %s (%zu / %zu); largest spike-time difference: %.4f%% of the ISI\n",
           same ? "yes" : "NO", nref, nco, 100 * worst);
    for (size_t k = 0; k < gid; k++)
        free(vec[k]);
    free(vec);
    ss_result_release(&res);
    ss_netlist_release(&nl);
    ss_buf_release(&deck);
    ss_network_free(net);
    return same ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const char *const dflt[] = {"examples/network/mixed_a.yaml",
                                       "examples/network/mixed_b.yaml",
                                       "examples/network/mixed_c.yaml"};
    double tstop = -1, ref_reltol = -1;
    const char *files[64];
    int nfiles = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--tstop") && a + 1 < argc)
            ss_util_parse_spice_number(argv[++a], &tstop);
        else if (!strcmp(argv[a], "--ref-reltol") && a + 1 < argc)
            ss_util_parse_spice_number(argv[++a], &ref_reltol);
        else if (argv[a][0] == '-' || nfiles == 64)
            return fprintf(stderr, "usage: mixed_network [EXPERIMENT.yaml...] [--tstop T] "
                                   "[--ref-reltol R]\n"), 2;
        else
            files[nfiles++] = argv[a];
    }
    for (int k = 0; !nfiles && k < 3; k++)
        files[k] = dflt[k];
    if (!nfiles)
        nfiles = 3;
    ss_error err;
    ss_engine *eng;
    if (ss_engine_open(&eng, &err))
        return fprintf(stderr, "mixed_network: %s\n", err.msg), 1;
    int rc = 0;
    for (int k = 0; k < nfiles; k++)
        rc |= bench(files[k], tstop, ref_reltol, eng);
    ss_engine_free(eng);
    return rc;
}
