/* measure.c: simulation of a bench and the measurements on its vectors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/circuits_private.h"

size_t ss_circuit_spike_times(const double *t, const double *v, size_t n, double level,
                              double *times, size_t max)
{
    size_t k = 0;
    for (size_t i = 1; i < n && k < max; i++)
        if (v[i - 1] < level && v[i] >= level) {
            double f = (level - v[i - 1]) / (v[i] - v[i - 1]);
            times[k++] = t[i - 1] + f * (t[i] - t[i - 1]);
        }
    return k;
}

/* Trapezoidal integral of y over [a, b] (a, b inside t). */
static double integrate(const double *t, const double *y, size_t n, double a, double b)
{
    double s = 0;
    for (size_t i = 1; i < n; i++) {
        double t0 = fmax(t[i - 1], a), t1 = fmin(t[i], b);
        if (t1 <= t0)
            continue;
        double h = t[i] - t[i - 1];
        double y0 = y[i - 1] + (h > 0 ? (y[i] - y[i - 1]) * (t0 - t[i - 1]) / h : 0);
        double y1 = y[i - 1] + (h > 0 ? (y[i] - y[i - 1]) * (t1 - t[i - 1]) / h : 0);
        s += 0.5 * (y0 + y1) * (t1 - t0);
    }
    return s;
}

#define MAX_SPIKES 4096

const char *ss_circuit_flag_names(unsigned flags, char *buf, size_t size)
{
    static const char *const names[] = {"kicked",       "spike-low",     "spike-high",
                                        "tau-failed",   "gain-failed",   "mirror-transfer",
                                        "rheobase-floor", "rheobase-ceiling", "fires-at-zero",
                                        "silent-above-firing", "never-fires"};
    size_t n = 0;
    if (size)
        buf[0] = '\0';
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (flags & (1u << k) && n < size) {
            int w = snprintf(buf + n, size - n, "%s%s", n ? ";" : "", names[k]);
            n += w > 0 ? (size_t)w : 0;
        }
    return buf;
}

/* Range of a vector, into lo and hi. */
static void range(const ss_vector *v, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t k = 0; v && k < v->n; k++) {
        *lo = fmin(*lo, v->re[k]);
        *hi = fmax(*hi, v->re[k]);
    }
}

/* Supply charge over [a, b] times each supply's voltage: the energy drawn. */
static double supply_energy(const ss_circuit_config *cfg, const ss_result *res,
                            const ss_vector *t, double a, double b, int *ok)
{
    const ss_circuit_info *ci = cfg->info;
    double e = 0;
    *ok = 0;
    if (!ci->deck) {
        const ss_vector *i = ss_result_find(res, "i(vdd)");
        if (i) {
            /* The supply source's current is negative when it delivers power. */
            e = -cfg->vdd * integrate(t->re, i->re, t->n, a, b);
            *ok = 1;
        }
        return e;
    }
    char list[256], *save = NULL, name[80];
    snprintf(list, sizeof list, "%s", ci->supply ? ci->supply : "");
    size_t k = 0;
    for (char *p = strtok_r(list, ",", &save); p && k < 4; p = strtok_r(NULL, ",", &save), k++) {
        snprintf(name, sizeof name, "i(%s)", p);
        const ss_vector *i = ss_result_find(res, name);
        if (!i)
            return *ok = 0, NAN;
        e += -ci->supply_v[k] * integrate(t->re, i->re, t->n, a, b);
        *ok = 1;
    }
    return e;
}

static void neuron_measures(const ss_circuit_config *cfg, const ss_result *res, const char *rstv,
                            ss_circuit_point *pt)
{
    const ss_circuit_info *ci = cfg->info;
    const ss_vector *t = ss_result_find(res, "time");
    char name[160];
    snprintf(name, sizeof name, "v(%s)", ci->spike);
    const ss_vector *v = ss_result_find(res, name);
    const ss_vector *rst = rstv[0] ? ss_result_find(res, rstv) : NULL;
    if (!t || !v || !t->n)
        return;
    static double sp[MAX_SPIKES];
    double half = 0.5 * cfg->vdd;
    size_t ns = ss_circuit_spike_times(t->re, v->re, t->n, half, sp, MAX_SPIKES);
    pt->nspikes = ns;
    pt->tsim = t->re[t->n - 1];
    pt->rate = 0;
    range(v, &pt->spike_lo, &pt->spike_hi);
    if (ns == 0 && pt->spike_hi < half)
        pt->flags |= SS_CIRCUIT_F_SPIKE_LOW;
    if (ns == 0 && pt->spike_lo >= half)
        pt->flags |= SS_CIRCUIT_F_SPIKE_HIGH;
    const ss_vector *mir = cfg->input_mirror && !ci->deck ? ss_result_find(res, "i(vmir)") : NULL;
    if (mir && pt->input > 0) {
        /* the mirror's mean output over the measured window (the last half
         * of the ISIs, or of the run without spikes) */
        double a = ns >= 2 ? sp[(ns - 1) / 2] : 0.5 * pt->tsim, b = ns >= 2 ? sp[ns - 1] : pt->tsim;
        pt->transfer = integrate(t->re, mir->re, t->n, a, b) / (b - a) / pt->input;
        if (fabs(pt->transfer - 1) > 0.01)
            pt->flags |= SS_CIRCUIT_F_TRANSFER;
    }
    if (ns < 2)
        return;
    size_t nisi = ns - 1;
    pt->isi_first = sp[1] - sp[0];
    pt->isi_last = sp[ns - 1] - sp[ns - 2];
    pt->adaptation = (pt->isi_last - pt->isi_first) / (pt->isi_last + pt->isi_first);
    /* Rate from the last half of the ISIs (steady state). */
    size_t from = nisi / 2;
    pt->rate = (double)(nisi - from) / (sp[ns - 1] - sp[from]);
    if (nisi >= 3) {
        double m = 0, s2 = 0;
        size_t k = nisi - 1;
        for (size_t j = 2; j < ns; j++)
            m += sp[j] - sp[j - 1];
        m /= (double)k;
        for (size_t j = 2; j < ns; j++)
            s2 += (sp[j] - sp[j - 1] - m) * (sp[j] - sp[j - 1] - m);
        pt->cv = sqrt(s2 / (double)(k > 1 ? k - 1 : 1)) / m;
    }
    int ok;
    double e = supply_energy(cfg, res, t, sp[from], sp[ns - 1], &ok);
    if (ok) {
        pt->energy = e / (double)(nisi - from);
        pt->power = e / (sp[ns - 1] - sp[from]);
    }
    /* Refractory period: from the spike to the release of the reset (its
     * node falls through Vdd/2), or the spike's width. */
    const ss_vector *w = rst ? rst : v;
    double sum = 0;
    size_t cnt = 0;
    for (size_t j = from; j + 1 < ns; j++) {
        size_t k = 0;
        while (k < t->n && t->re[k] < sp[j])
            k++;
        for (k = k ? k : 1; k < t->n && t->re[k] < sp[j + 1]; k++)
            if (w->re[k - 1] >= half && w->re[k] < half) {
                double f = (w->re[k - 1] - half) / (w->re[k - 1] - w->re[k]);
                sum += t->re[k - 1] + f * (t->re[k] - t->re[k - 1]) - sp[j];
                cnt++;
                break;
            }
    }
    if (cnt)
        pt->refractory = sum / (double)cnt;
}

/* 1 when the run shows no movement at all: the spike node and the
 * membrane stayed within 1 mV from the start (an equilibrium held by the
 * implicit integrator, which a real circuit's noise would leave). */
static int frozen(const ss_circuit_config *cfg, const ss_result *res)
{
    const ss_circuit_info *ci = cfg->info;
    const char *nodes[2] = {ci->spike, ci->membrane};
    int seen = 0;
    for (int q = 0; q < 2; q++) {
        char name[160];
        if (!nodes[q])
            continue;
        snprintf(name, sizeof name, "v(%s)", nodes[q]);
        const ss_vector *v = ss_result_find(res, name);
        double lo, hi;
        if (!v)
            continue;
        range(v, &lo, &hi);
        if (!(hi - lo < 1e-3))
            return 0;
        seen = 1;
    }
    return seen;
}

static void synapse_measures(const ss_circuit_config *cfg, const ss_result *res, double iw,
                             ss_circuit_point *pt)
{
    const ss_circuit_info *ci = cfg->info;
    char name[160];
    snprintf(name, sizeof name, "i(%s)", ci->deck ? ci->output : "vmeas");
    const ss_vector *t = ss_result_find(res, "time"), *i = ss_result_find(res, name);
    if (!t || !i || t->n < 4) {
        pt->flags |= SS_CIRCUIT_F_GAIN_FAILED | SS_CIRCUIT_F_TAU_FAILED;
        return;
    }
    pt->tsim = t->re[t->n - 1];
    /* Gain: Isyn at the end of the pulse over Iw. */
    double iend = NAN;
    for (size_t k = 0; k < t->n; k++)
        if (t->re[k] <= 21e-3)
            iend = fabs(i->re[k]);
    pt->gain = iend / iw;
    if (!(iend > 0) || !(pt->gain > 1e-6)) {
        /* no output current: not a gain of 0 */
        pt->gain = NAN;
        pt->flags |= SS_CIRCUIT_F_GAIN_FAILED | SS_CIRCUIT_F_TAU_FAILED;
        return;
    }
    /* Decay: least-squares slope of ln Isyn while Isyn is between 80% and
     * 20% of its end value (Isyn >> Ith there: a pure exponential); the
     * window must span at least a halving. */
    double sx = 0, sy = 0, sxx = 0, sxy = 0, ymax = 0, ymin = INFINITY;
    size_t n = 0;
    for (size_t k = 0; k < t->n; k++) {
        double y = fabs(i->re[k]);
        if (t->re[k] > 21.05e-3 && y < 0.8 * iend && y > 0.2 * iend && y > 0) {
            double ly = log(y);
            sx += t->re[k];
            sy += ly;
            sxx += t->re[k] * t->re[k];
            sxy += t->re[k] * ly;
            ymax = fmax(ymax, y);
            ymin = fmin(ymin, y);
            n++;
        }
    }
    double slope = n >= 3 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : NAN;
    if (n >= 3 && slope < 0 && ymin < 0.5 * ymax)
        pt->tau = -1.0 / slope;
    else
        pt->flags |= SS_CIRCUIT_F_TAU_FAILED;
}

static void point_clear(ss_circuit_point *pt, double input)
{
    memset(pt, 0, sizeof *pt);
    pt->input = input;
    pt->isi_first = pt->isi_last = pt->cv = pt->adaptation = NAN;
    pt->refractory = pt->energy = pt->power = pt->tau = pt->gain = NAN;
    pt->spike_lo = pt->spike_hi = pt->transfer = NAN;
}

static int run_once(ss_engine *eng, const ss_circuit_config *cfg, double input, double tstop,
                    double tmax, int start, ss_result *res, ss_error *err)
{
    ss_netlist nl;
    int rc = circi_bench(cfg, input, tstop, tmax, start, &nl, err);
    if (!rc)
        rc = ss_engine_load(eng, &nl, err);
    if (!rc)
        rc = ss_engine_run(eng, res, err);
    ss_netlist_release(&nl);
    return rc;
}

int ss_circuit_run_point(ss_engine *eng, const ss_circuit_config *cfg, double input,
                         ss_circuit_point *pt, ss_error *err)
{
    const ss_circuit_info *ci = cfg->info;
    double t0 = ss_util_now();
    point_clear(pt, input);
    if (!ci)
        return ss_error_set(err, SS_EINVAL, "no circuit");
    ss_result res = SS_RESULT_INIT;
    int rc;
    if (ci->kind == SS_CIRCUIT_SYNAPSE) {
        rc = run_once(eng, cfg, input, 51e-3, 20e-6, CIRCI_START_PLAIN, &res, err);
        if (!rc)
            synapse_measures(cfg, &res, input, pt);
        goto out;
    }
    char rstv[200];
    if ((rc = circi_reset_vector(cfg, rstv, sizeof rstv, err)))
        goto out;
    /* First guess of the run length: about 8 spikes.  The Axon-Hillock
     * fires at Iin / (Cfb Vdd); the DPI neuron is tried for 20 ms first. */
    int ah = !strcmp(circi_base(ci), "axon-hillock");
    double first = ah ? fmin(1.0, 9.0 * 100e-15 * cfg->vdd / fmax(input, 1e-13) + 20e-6) : 20e-3;
    double tstop = first;
    int start = CIRCI_START_PLAIN;
    for (;;) {
        /* TMAX <= ISI/200 against false equilibria (reference pitfall 3). */
        double tmax = ah ? fmin(1e-6, tstop / 1800.0) : fmin(20e-6, tstop / 1000.0);
        ss_result_release(&res);
        rc = run_once(eng, cfg, input, tstop, tmax, start, &res, err);
        if (rc)
            goto out;
        point_clear(pt, input);
        neuron_measures(cfg, &res, rstv, pt);
        if (pt->nspikes < 2 && start == CIRCI_START_PLAIN && frozen(cfg, &res)) {
            /* a metastable start: begin again from the membrane at 0 V */
            start = CIRCI_START_KICK;
            tstop = first;
            continue;
        }
        if (pt->nspikes >= 8 || tstop >= 1.0)
            break;
        /* Extend by what the spikes so far suggest, at least x2, at most x8. */
        double want = pt->nspikes >= 2 ? 9.0 / pt->rate + 2e-3 : tstop * 8.0;
        tstop = fmin(1.0, fmax(2.0 * tstop, fmin(want, 8.0 * tstop)));
    }
    if (start == CIRCI_START_KICK && pt->nspikes >= 2)
        pt->flags |= SS_CIRCUIT_F_KICKED;
out:
    ss_result_release(&res);
    pt->seconds = ss_util_now() - t0;
    return rc;
}

int ss_circuit_rheobase(ss_engine *eng, const ss_circuit_config *cfg, double lo, double hi,
                        double rtol, ss_circuit_rheo *out, ss_error *err)
{
    out->rheobase = out->rate_zero = NAN;
    out->flags = 0;
    if (!(lo > 0) || !(hi > lo) || !(rtol > 0))
        return ss_error_set(err, SS_EINVAL, "rheobase needs 0 < lo < hi and rtol > 0");
    ss_circuit_point pt;
    int rc = ss_circuit_run_point(eng, cfg, hi, &pt, err);
    if (rc)
        return rc;
    out->flags |= pt.flags & SS_CIRCUIT_F_KICKED;
    if (pt.nspikes < 3) {
        out->flags |= SS_CIRCUIT_F_RHEO_CEILING;
        return SS_OK;
    }
    if ((rc = ss_circuit_run_point(eng, cfg, lo, &pt, err)))
        return rc;
    out->flags |= pt.flags & SS_CIRCUIT_F_KICKED;
    if (pt.nspikes >= 3) {
        /* the floor fires: does the circuit fire with no input at all? */
        out->flags |= SS_CIRCUIT_F_RHEO_FLOOR;
        if ((rc = ss_circuit_run_point(eng, cfg, 0.0, &pt, err)))
            return rc;
        out->rate_zero = pt.rate;
        if (pt.nspikes >= 3)
            out->flags |= SS_CIRCUIT_F_FIRES_AT_ZERO;
        return SS_OK;
    }
    while (hi / lo > 1.0 + rtol) {
        double mid = sqrt(lo * hi);
        if ((rc = ss_circuit_run_point(eng, cfg, mid, &pt, err)))
            return rc;
        out->flags |= pt.flags & SS_CIRCUIT_F_KICKED;
        if (pt.nspikes >= 3)
            hi = mid;
        else
            lo = mid;
    }
    out->rheobase = sqrt(lo * hi);
    return SS_OK;
}

int ss_circuit_subthreshold(ss_engine *eng, const ss_circuit_config *cfg, int pfet, double w,
                            double l, double *i0, double *kappa, ss_error *err)
{
    ss_buf b = SS_BUF_INIT;
    ss_result res = SS_RESULT_INIT;
    char model[64];
    int rc = circi_model_name(cfg, pfet, model, err);
    if (rc)
        return rc;
    if (ss_buf_printf(&b, "* smallsim: subthreshold extraction\n"))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    rc = circi_models(cfg, &b, err);
    if (!rc) {
        /* pFET: source and bulk at 0, gate and drain negative (same |Vgs|). */
        if (pfet)
            rc = ss_buf_printf(&b, "vg g 0 0\nvd d 0 %g\nm1 d g 0 0 %s w=%gu l=%gu\n"
                                   ".dc vg 0 -0.3 -0.01\n.end\n",
                               -0.5 * cfg->vdd, model, w, l);
        else
            rc = ss_buf_printf(&b, "vg g 0 0\nvd d 0 %g\nm1 d g 0 0 %s w=%gu l=%gu\n"
                                   ".dc vg 0 0.3 0.01\n.end\n",
                               0.5 * cfg->vdd, model, w, l);
        if (rc == SS_ENOMEM)
            rc = ss_error_set(err, rc, "out of memory");
    }
    if (!rc)
        rc = ss_engine_run_text(eng, b.data, "<subthreshold bench>", circi_flags(cfg), &res, err);
    ss_buf_release(&b);
    if (rc)
        return rc;
    const ss_vector *vg = res.nplot ? &res.plot[res.nplot - 1].vec[0] : NULL;
    const ss_vector *id = ss_result_find(&res, "i(vd)");
    if (!vg || !id || vg->n < 10) {
        ss_result_release(&res);
        return ss_error_set(err, SS_ESIM, "subthreshold sweep gave no current");
    }
    /* Fit ln|Id| = a + b |Vgs| over 0.05 .. 0.25 V (weak inversion). */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    size_t n = 0;
    for (size_t k = 0; k < vg->n; k++) {
        double x = fabs(vg->re[k]), y = fabs(id->re[k]);
        if (x >= 0.05 - 1e-9 && x <= 0.25 + 1e-9 && y > 0) {
            sx += x;
            sy += log(y);
            sxx += x * x;
            sxy += x * log(y);
            n++;
        }
    }
    ss_result_release(&res);
    if (n < 3)
        return ss_error_set(err, SS_ENUMERIC, "subthreshold sweep has too few points");
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    double a = (sy - slope * sx) / n;
    double ut = 8.617333262e-5 * (cfg->temp + 273.15);
    *kappa = slope * ut;
    *i0 = exp(a);
    return SS_OK;
}
