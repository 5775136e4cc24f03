/* net_rk.c: the per-neuron integrator of the network's nonlinear
 * populations (see net_rk.h for the contract).
 *
 * Every neuron carries its own state, step size and error control; the
 * only ODE states are Imem (DPI) or v and w (LIF): the synaptic current,
 * and the DPI's adaptation current Iahp, decay exponentially between
 * events and are advanced in closed form (Iahp obeys
 * tauahp (1 + Ithahp/Iahp) dIahp/dt = -Ithahp - Iahp above Io, which is
 * dIahp/dt = -Iahp/tauahp, and is held at Io from below: it is
 * max(Io, Iahp0 e^(-t/tauahp))).  Within a step the stages see these
 * currents through the method's own stage values for an exponential
 * decay, the end of the step through the exact exponential.
 *
 * The method is Dormand and Prince's 5(4) pair with its order-4
 * continuous extension (Hairer, Norsett and Wanner, Solving ODEs I,
 * section II.5 and II.6): FSAL, so an accepted step costs six evaluations
 * of the right-hand side.  A step never crosses an input, the end of an
 * epoch, the end of refractoriness or a sampled exchange point: it ends on
 * them, and the next step starts there at full order with the same step
 * size (an input changes the derivative, not the state).
 *
 * Throughput: the stages of one neuron form a chain of dependent divisions
 * and exponentials, so NL neurons ("lanes") are stepped side by side and
 * the processor overlaps their chains.  A lane takes the next neuron when
 * its neuron reaches the end of the epoch. */
#include "cosim/net_rk.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NL 8

/* Dormand-Prince 5(4): stage coefficients, the order-5 weights (the last
 * stage row), the error weights b - b^ and the dense-output weights. */
static const double A21 = 1.0 / 5;
static const double A31 = 3.0 / 40, A32 = 9.0 / 40;
static const double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9;
static const double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561,
                    A54 = -212.0 / 729;
static const double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247, A64 = 49.0 / 176,
                    A65 = -5103.0 / 18656;
static const double B1 = 35.0 / 384, B3 = 500.0 / 1113, B4 = 125.0 / 192, B5 = -2187.0 / 6784,
                    B6 = 11.0 / 84;
static const double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920,
                    E5 = -17253.0 / 339200, E6 = 22.0 / 525, E7 = -1.0 / 40;
static const double D1 = -12715105075.0 / 11282082432.0, D3 = 87487479700.0 / 32700410799.0,
                    D4 = -10690763975.0 / 1880347072.0, D5 = 701980252875.0 / 199316789632.0,
                    D6 = -1453857185.0 / 822651844.0, D7 = 69997945.0 / 29380423.0;

struct neti_rk {
    int kind;      /* SS_POP_DPI or SS_POP_LIF */
    int adapt;     /* DPI: Iahp jumps at spikes (else it stays at Io) */
    int stage;     /* the input stage is not the identity */
    size_t n;
    ss_lif_params lif;
    ss_dpi_params dpi;
    double rtol, atol[2];
    double th, inv_tsyn, inv_tw, inv_tahp, inv_tm;
    double A, inv_ianorm, inv_itau, inv_tau_hi, inv_tau_lo; /* DPI */
    /* per neuron */
    double *y, *k1;      /* 2 per neuron: the state and its derivative */
    unsigned char *fsal; /* k1 belongs to y */
    double *isyn, *iahp, *hnext, *t_free;
    /* watched neurons: their first state at every exchange point */
    size_t *watch;       /* n: 1 + watch index, 0 if not watched */
    size_t nwatch;
    long wpoints;
    double *wval;
    long wk0, ksync;
    long steps, rejected, evals, restarts;
};

/* NL neurons in flight. */
struct lanes {
    size_t i[NL];
    int busy[NL], fsal[NL], rej[NL], trunc[NL];
    double t[NL], h[NL], hn[NL], stop[NL], en[NL];
    double y0[2][NL], y1[2][NL], k[7][2][NL];
    double s0[NL], s1[NL]; /* synaptic current at t, at t + h */
    double a0[NL], a1[NL]; /* Iahp (DPI) */
    double bias[NL];
    size_t c[NL], cend[NL]; /* inputs still to come */
    long wk[NL];            /* next sampled exchange point, or LONG_MAX */
};

neti_rk *neti_rk_alloc(int kind, size_t n, const ss_lif_params *lif, const ss_dpi_params *dpi,
                       double rtol, long max_steps, ss_error *err)
{
    neti_rk *r = calloc(1, sizeof *r);
    if (!r) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    r->kind = kind;
    r->n = n;
    r->rtol = rtol;
    r->wpoints = max_steps + 1;
    r->y = malloc(2 * n * sizeof *r->y);
    r->k1 = calloc(2 * n, sizeof *r->k1);
    r->fsal = calloc(n, 1);
    r->isyn = calloc(n, sizeof *r->isyn);
    r->iahp = malloc(n * sizeof *r->iahp);
    r->hnext = calloc(n, sizeof *r->hnext);
    r->t_free = calloc(n, sizeof *r->t_free);
    r->watch = calloc(n, sizeof *r->watch);
    if (!r->y || !r->k1 || !r->fsal || !r->isyn || !r->iahp || !r->hnext || !r->t_free ||
        !r->watch) {
        neti_rk_free(r);
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    if (kind == SS_POP_DPI) {
        const ss_dpi_params *p = dpi;
        r->dpi = *p;
        r->adapt = p->iahp_jump > 0;
        r->stage = p->in_beta != 1.0;
        r->th = p->ispkthr;
        r->atol[0] = r->atol[1] = rtol * p->io;
        r->inv_tsyn = 1 / p->tau_syn;
        r->inv_tahp = p->kappa * p->itauahp / (p->cahp * p->ut);
        r->A = p->ith / p->itau;
        r->inv_ianorm = 1 / p->ianorm;
        r->inv_itau = 1 / p->itau;
        r->inv_tau_hi = p->kappa * p->itau / (p->cmem * p->ut);
        r->inv_tau_lo = p->kappa * p->io / (p->cmem * p->ut);
        for (size_t i = 0; i < n; i++) {
            r->y[2 * i] = p->io;
            r->y[2 * i + 1] = 0;
            r->iahp[i] = p->io;
        }
    } else {
        const ss_lif_params *q = lif;
        r->lif = *q;
        r->stage = q->in_beta != 1.0;
        r->th = q->v_th;
        r->atol[0] = rtol * fabs(q->v_th - q->v_reset);
        r->atol[1] = r->atol[0] / q->r_m;
        r->inv_tsyn = 1 / q->tau_syn;
        r->inv_tw = 1 / q->tau_w;
        r->inv_tm = 1 / q->tau_m;
        for (size_t i = 0; i < n; i++) {
            r->y[2 * i] = q->v_rest;
            r->y[2 * i + 1] = 0;
            r->iahp[i] = 0;
        }
    }
    return r;
}

void neti_rk_free(neti_rk *r)
{
    if (!r)
        return;
    free(r->y);
    free(r->k1);
    free(r->fsal);
    free(r->isyn);
    free(r->iahp);
    free(r->hnext);
    free(r->t_free);
    free(r->watch);
    free(r->wval);
    free(r);
}

int neti_rk_watch(neti_rk *r, size_t i, ss_error *err)
{
    if (r->watch[i])
        return SS_OK;
    double *w = realloc(r->wval, (r->nwatch + 1) * (size_t)r->wpoints * sizeof *w);
    if (!w)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    r->wval = w;
    r->watch[i] = ++r->nwatch;
    return SS_OK;
}

void neti_rk_input(neti_rk *r, size_t i, double w)
{
    r->isyn[i] += w;
    r->fsal[i] = 0;
    r->restarts += w != 0;
}

double neti_rk_value(const neti_rk *r, size_t i, long k)
{
    if (k != r->ksync && r->watch[i] && k >= r->wk0 && k < r->wk0 + r->wpoints)
        return r->wval[(r->watch[i] - 1) * (size_t)r->wpoints + (size_t)(k - r->wk0)];
    return r->y[2 * i];
}

void neti_rk_stats(const neti_rk *r, long *steps, long *rejected, long *evals, long *restarts)
{
    *steps = r->steps;
    *rejected = r->rejected;
    *evals = r->evals;
    *restarts = r->restarts;
}

/* ---- right-hand sides ------------------------------------------------------ */

/* dImem/dt of the DPI (teili's equations as cosim/network.c's dpi_rhs, with
 * Iahp >= Io), outside refractoriness; iin is synaptic plus bias current. */
static inline double dpi_f(const neti_rk *r, double imem, double iin, double iahp)
{
    const ss_dpi_params *p = &r->dpi;
    double io = p->io;
    if (r->stage)
        iin = ss_network_input_stage(iin, p->in_beta, p->in_ref);
    iin = iin < io ? io : (iin > 1.0 ? 1.0 : iin);
    if (imem > io) {
        double ia = p->iagain / (1 + exp((p->iath - imem) * r->inv_ianorm));
        return (r->A * (iin + ia - iahp) - p->ith - (1 + (iahp - ia) * r->inv_itau) * imem) *
               (imem + io) * r->inv_tau_hi / (p->ith + imem + io);
    }
    /* below Io, teili clips Itau and Ith to Io, Ia to 2 Io and Iahp to Io */
    return iin * (imem + io) * r->inv_tau_lo / (2 * io + imem);
}

/* dv/dt and dw/dt of the LIF outside refractoriness. */
static inline void lif_f(const neti_rk *r, double v, double w, double iin, double *dv, double *dw)
{
    const ss_lif_params *q = &r->lif;
    if (r->stage)
        iin = ss_network_input_stage(iin, q->in_beta, q->in_ref);
    *dv = (q->v_rest - v + q->r_m * (iin - w)) * r->inv_tm;
    *dw = (q->a * (v - q->v_rest) - w) * r->inv_tw;
}

/* Stage values of an exponential decay e^(z u), z = -h/tau, as the method
 * itself computes them (P[0] = 1). */
static inline void decay_stages(double z, double *P)
{
    P[0] = 1;
    P[1] = 1 + z * A21;
    P[2] = 1 + z * (A31 + A32 * P[1]);
    P[3] = 1 + z * (A41 + A42 * P[1] + A43 * P[2]);
    P[4] = 1 + z * (A51 + A52 * P[1] + A53 * P[2] + A54 * P[3]);
    P[5] = 1 + z * (A61 + A62 * P[1] + A63 * P[2] + A64 * P[3] + A65 * P[4]);
}

/* ---- one attempted step of every busy lane ------------------------------------ */

static void attempt_dpi(neti_rk *r, struct lanes *L)
{
    double P[NL][6], Q[NL][6];
    double io = r->dpi.io;
    for (int l = 0; l < NL; l++) {
        double z = -L->h[l] * r->inv_tsyn;
        decay_stages(z, P[l]);
        L->s1[l] = L->s0[l] * exp(z);
        if (r->adapt) {
            double za = -L->h[l] * r->inv_tahp;
            decay_stages(za, Q[l]);
            L->a1[l] = fmax(io, L->a0[l] * exp(za));
        } else
            L->a1[l] = L->a0[l];
    }
#define IAHP(l, s) (r->adapt ? fmax(io, L->a0[l] * Q[l][s]) : L->a0[l])
#define IIN(l, s) (L->bias[l] + L->s0[l] * P[l][s])
    double(*k)[2][NL] = L->k;
    for (int l = 0; l < NL; l++)
        if (L->busy[l] && !L->fsal[l]) {
            k[0][0][l] = dpi_f(r, L->y0[0][l], IIN(l, 0), L->a0[l]);
            r->evals++;
        }
    for (int l = 0; l < NL; l++)
        k[1][0][l] = dpi_f(r, L->y0[0][l] + L->h[l] * A21 * k[0][0][l], IIN(l, 1), IAHP(l, 1));
    for (int l = 0; l < NL; l++)
        k[2][0][l] = dpi_f(r, L->y0[0][l] + L->h[l] * (A31 * k[0][0][l] + A32 * k[1][0][l]),
                           IIN(l, 2), IAHP(l, 2));
    for (int l = 0; l < NL; l++)
        k[3][0][l] = dpi_f(r,
                           L->y0[0][l] + L->h[l] * (A41 * k[0][0][l] + A42 * k[1][0][l] +
                                                    A43 * k[2][0][l]),
                           IIN(l, 3), IAHP(l, 3));
    for (int l = 0; l < NL; l++)
        k[4][0][l] = dpi_f(r,
                           L->y0[0][l] + L->h[l] * (A51 * k[0][0][l] + A52 * k[1][0][l] +
                                                    A53 * k[2][0][l] + A54 * k[3][0][l]),
                           IIN(l, 4), IAHP(l, 4));
    for (int l = 0; l < NL; l++)
        k[5][0][l] = dpi_f(r,
                           L->y0[0][l] + L->h[l] * (A61 * k[0][0][l] + A62 * k[1][0][l] +
                                                    A63 * k[2][0][l] + A64 * k[3][0][l] +
                                                    A65 * k[4][0][l]),
                           IIN(l, 5), IAHP(l, 5));
    for (int l = 0; l < NL; l++) {
        double y0 = L->y0[0][l], h = L->h[l];
        double y1 = y0 + h * (B1 * k[0][0][l] + B3 * k[2][0][l] + B4 * k[3][0][l] +
                              B5 * k[4][0][l] + B6 * k[5][0][l]);
        L->y1[0][l] = y1;
        k[6][0][l] = dpi_f(r, y1, L->bias[l] + L->s1[l], L->a1[l]);
        double e = h * (E1 * k[0][0][l] + E3 * k[2][0][l] + E4 * k[3][0][l] + E5 * k[4][0][l] +
                        E6 * k[5][0][l] + E7 * k[6][0][l]);
        L->en[l] = fabs(e) / (r->atol[0] + r->rtol * fmax(fabs(y0), fabs(y1)));
    }
#undef IAHP
#undef IIN
}

static void attempt_lif(neti_rk *r, struct lanes *L)
{
    double P[NL][6];
    double(*k)[2][NL] = L->k;
    for (int l = 0; l < NL; l++) {
        double z = -L->h[l] * r->inv_tsyn;
        decay_stages(z, P[l]);
        L->s1[l] = L->s0[l] * exp(z);
    }
#define IIN(l, s) (L->bias[l] + L->s0[l] * P[l][s])
#define STAGE(s, expr_v, expr_w)                                                                   \
    for (int l = 0; l < NL; l++) {                                                                 \
        double h = L->h[l];                                                                        \
        lif_f(r, L->y0[0][l] + h * (expr_v), L->y0[1][l] + h * (expr_w), IIN(l, s), &k[s][0][l],  \
              &k[s][1][l]);                                                                        \
    }
    for (int l = 0; l < NL; l++)
        if (L->busy[l] && !L->fsal[l]) {
            lif_f(r, L->y0[0][l], L->y0[1][l], IIN(l, 0), &k[0][0][l], &k[0][1][l]);
            r->evals++;
        }
#define K(s, m) k[s][m][l]
    STAGE(1, A21 * K(0, 0), A21 * K(0, 1))
    STAGE(2, A31 * K(0, 0) + A32 * K(1, 0), A31 * K(0, 1) + A32 * K(1, 1))
    STAGE(3, A41 * K(0, 0) + A42 * K(1, 0) + A43 * K(2, 0),
          A41 * K(0, 1) + A42 * K(1, 1) + A43 * K(2, 1))
    STAGE(4, A51 * K(0, 0) + A52 * K(1, 0) + A53 * K(2, 0) + A54 * K(3, 0),
          A51 * K(0, 1) + A52 * K(1, 1) + A53 * K(2, 1) + A54 * K(3, 1))
    STAGE(5, A61 * K(0, 0) + A62 * K(1, 0) + A63 * K(2, 0) + A64 * K(3, 0) + A65 * K(4, 0),
          A61 * K(0, 1) + A62 * K(1, 1) + A63 * K(2, 1) + A64 * K(3, 1) + A65 * K(4, 1))
    for (int l = 0; l < NL; l++) {
        double h = L->h[l], en = 0;
        for (int m = 0; m < 2; m++) {
            double y0 = L->y0[m][l];
            L->y1[m][l] = y0 + h * (B1 * K(0, m) + B3 * K(2, m) + B4 * K(3, m) + B5 * K(4, m) +
                                    B6 * K(5, m));
        }
        lif_f(r, L->y1[0][l], L->y1[1][l], L->bias[l] + L->s1[l], &k[6][0][l], &k[6][1][l]);
        for (int m = 0; m < 2; m++) {
            double e = h * (E1 * K(0, m) + E3 * K(2, m) + E4 * K(3, m) + E5 * K(4, m) +
                            E6 * K(5, m) + E7 * K(6, m));
            double sc = r->atol[m] + r->rtol * fmax(fabs(L->y0[m][l]), fabs(L->y1[m][l]));
            en = fmax(en, fabs(e) / sc);
            if (isnan(e))
                en = e;
        }
        L->en[l] = en;
    }
#undef K
#undef STAGE
#undef IIN
}

/* ---- lanes --------------------------------------------------------------------- */

/* Component m of the continuous extension of lane l's last step at theta. */
static double dense(const struct lanes *L, int l, int m, double theta)
{
    double h = L->h[l], y0 = L->y0[m][l], y1 = L->y1[m][l];
#define K(s) L->k[s][m][l]
    double dy = y1 - y0, bspl = h * K(0) - dy;
    double r4 = dy - h * K(6) - bspl;
    double r5 = h * (D1 * K(0) + D3 * K(2) + D4 * K(3) + D5 * K(4) + D6 * K(5) + D7 * K(6));
#undef K
    double u = 1 - theta;
    return y0 + theta * (dy + u * (bspl + theta * (r4 + u * r5)));
}

/* The fraction of lane l's last step at which its first state reaches the
 * threshold (y0 < th <= y1): bisection on the continuous extension. */
static double crossing(const neti_rk *r, const struct lanes *L, int l)
{
    double lo = 0, hi = 1;
    for (int it = 0; it < 60 && hi - lo > 4 * DBL_EPSILON; it++) {
        double mid = 0.5 * (lo + hi);
        if (dense(L, l, 0, mid) < r->th)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* The step-size factor from a normalised error (0.9 en^(-1/5), bounded). */
static double step_factor(double en, double lo, double hi)
{
    if (!(en > 0))
        return hi;
    double f = 0.9 * exp(-0.2 * log(en));
    return f < lo ? lo : (f > hi ? hi : f);
}

static void lane_load(neti_rk *r, struct lanes *L, int l, size_t i, const double *bias, long k0,
                      double h, const neti_rk_inputs *in)
{
    L->i[l] = i;
    L->busy[l] = 1;
    L->t[l] = (double)k0 * h;
    L->y0[0][l] = r->y[2 * i];
    L->y0[1][l] = r->y[2 * i + 1];
    L->k[0][0][l] = r->k1[2 * i];
    L->k[0][1][l] = r->k1[2 * i + 1];
    L->fsal[l] = r->fsal[i];
    L->rej[l] = 0;
    L->s0[l] = r->isyn[i];
    L->a0[l] = r->iahp[i];
    L->hn[l] = r->hnext[i];
    L->bias[l] = bias[i];
    L->c[l] = in ? in->off[i] : 0;
    L->cend[l] = in ? in->off[i + 1] : 0;
    L->wk[l] = r->watch[i] ? k0 : LONG_MAX;
}

static void lane_store(neti_rk *r, struct lanes *L, int l)
{
    size_t i = L->i[l];
    r->y[2 * i] = L->y0[0][l];
    r->y[2 * i + 1] = L->y0[1][l];
    r->k1[2 * i] = L->k[0][0][l];
    r->k1[2 * i + 1] = L->k[0][1][l];
    r->fsal[i] = (unsigned char)L->fsal[l];
    r->isyn[i] = L->s0[l];
    r->iahp[i] = L->a0[l];
    r->hnext[i] = L->hn[l];
    L->busy[l] = 0;
    L->h[l] = 0; /* an idle lane computes nothing that matters */
}

/* Moves lane l's closed-form currents (and, refractory, its state) over dt. */
static void lane_coast(const neti_rk *r, struct lanes *L, int l, double dt)
{
    L->s0[l] *= exp(-dt * r->inv_tsyn);
    if (r->kind == SS_POP_DPI) {
        if (r->adapt)
            L->a0[l] = fmax(r->dpi.io, L->a0[l] * exp(-dt * r->inv_tahp));
    } else { /* v held at v_reset: w relaxes to a (v_reset - v_rest) */
        const ss_lif_params *q = &r->lif;
        double winf = q->a * (q->v_reset - q->v_rest);
        L->y0[1][l] = winf + (L->y0[1][l] - winf) * exp(-dt * r->inv_tw);
    }
}

/* A spike of lane l at time tc: recorded, state reset, refractory. */
static int lane_spike(neti_rk *r, struct lanes *L, int l, double tc, neti_rk_spikes *out,
                      ss_error *err)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? 2 * out->cap : 1024;
        neti_rk_spike *s = realloc(out->s, cap * sizeof *s);
        if (!s)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        out->s = s;
        out->cap = cap;
    }
    out->s[out->n++] = (neti_rk_spike){tc, L->i[l]};
    if (r->kind == SS_POP_DPI) {
        L->y0[0][l] = r->dpi.ireset;
        L->a0[l] += r->dpi.iahp_jump;
        r->t_free[L->i[l]] = tc + r->dpi.t_ref;
    } else {
        L->y0[0][l] = r->lif.v_reset;
        L->y0[1][l] += r->lif.b;
        r->t_free[L->i[l]] = tc + r->lif.t_ref;
    }
    L->t[l] = tc;
    L->fsal[l] = 0;
    L->hn[l] = 0; /* a fresh first step from the reset state */
    r->restarts++;
    return SS_OK;
}

/* A first step size from the derivative at the lane's state (Hairer,
 * Norsett and Wanner II.4): 1% of the time the state would take to move by
 * its own size. */
static double first_step(neti_rk *r, struct lanes *L, int l, double span)
{
    if (!L->fsal[l]) {
        if (r->kind == SS_POP_DPI)
            L->k[0][0][l] = dpi_f(r, L->y0[0][l], L->bias[l] + L->s0[l], L->a0[l]);
        else
            lif_f(r, L->y0[0][l], L->y0[1][l], L->bias[l] + L->s0[l], &L->k[0][0][l], &L->k[0][1][l]);
        L->fsal[l] = 1;
        r->evals++;
    }
    int ms = r->kind == SS_POP_DPI ? 1 : 2;
    double d0 = 0, d1 = 0;
    for (int m = 0; m < ms; m++) {
        double sc = r->atol[m] + r->rtol * fabs(L->y0[m][l]);
        d0 = fmax(d0, fabs(L->y0[m][l]) / sc);
        d1 = fmax(d1, fabs(L->k[0][m][l]) / sc);
    }
    double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
    return h0 < span ? h0 : span;
}

/* Brings lane l to its next step: applies inputs, samples and resets due at
 * its time, coasts through refractoriness, stores a neuron that reached the
 * end and loads the next.  Returns 1 with L->h[l] set, 0 when no neuron is
 * left for the lane. */
static int lane_prepare(neti_rk *r, struct lanes *L, int l, size_t *next, const double *bias,
                        long k0, long k1, double h, const neti_rk_inputs *in, neti_rk_spikes *out,
                        ss_error *err, int *rc)
{
    double tend = (double)k1 * h;
    for (;;) {
        if (!L->busy[l]) {
            if (*next >= r->n)
                return 0;
            lane_load(r, L, l, (*next)++, bias, k0, h, in);
        }
        size_t i = L->i[l];
        double t = L->t[l];
        while (L->c[l] < L->cend[l] && in->t[L->c[l]] <= t) {
            L->s0[l] += in->w[L->c[l]++];
            L->fsal[l] = 0;
            r->restarts++;
        }
        if (L->wk[l] != LONG_MAX && t >= (double)L->wk[l] * h) {
            r->wval[(r->watch[i] - 1) * (size_t)r->wpoints + (size_t)(L->wk[l] - k0)] = L->y0[0][l];
            L->wk[l] = L->wk[l] < k1 ? L->wk[l] + 1 : LONG_MAX;
            continue;
        }
        if (t >= tend) {
            lane_store(r, L, l);
            continue;
        }
        double stop = tend;
        if (L->c[l] < L->cend[l] && in->t[L->c[l]] < stop)
            stop = in->t[L->c[l]];
        if (L->wk[l] != LONG_MAX && (double)L->wk[l] * h < stop)
            stop = (double)L->wk[l] * h;
        if (t < r->t_free[i]) { /* refractory: the state is held, the currents decay */
            double te = r->t_free[i] < stop ? r->t_free[i] : stop;
            lane_coast(r, L, l, te - t);
            L->t[l] = te;
            L->fsal[l] = 0;
            continue;
        }
        if (L->y0[0][l] >= r->th) { /* at threshold already (an initial state) */
            if ((*rc = lane_spike(r, L, l, t, out, err)))
                return 0;
            continue;
        }
        if (!(L->hn[l] > 0))
            L->hn[l] = first_step(r, L, l, stop - t);
        L->stop[l] = stop;
        L->trunc[l] = L->hn[l] >= stop - t;
        L->h[l] = L->trunc[l] ? stop - t : L->hn[l];
        return 1;
    }
}

/* Accepts or rejects lane l's attempted step. */
static int lane_finish(neti_rk *r, struct lanes *L, int l, neti_rk_spikes *out, ss_error *err)
{
    double h = L->h[l], en = L->en[l], t = L->t[l];
    L->fsal[l] = 1; /* k[0] is the derivative at y0, whatever happens */
    r->evals += 6;
    if (!(en <= 1)) {
        r->rejected++;
        L->hn[l] = isnan(en) ? 0.25 * h : h * step_factor(en, 0.2, 1);
        L->rej[l] = 1;
        if (!(L->hn[l] > 4 * DBL_EPSILON * fmax(fabs(t), 1e-6)))
            return ss_error_set(err, SS_ENUMERIC,
                                "network: the step size of neuron %zu collapsed at t = %.9g s",
                                L->i[l], t);
        return SS_OK;
    }
    r->steps++;
    double hnew = h * step_factor(en, 0.2, L->rej[l] ? 1 : 5);
    L->rej[l] = 0;
    /* a step cut short by an event says little about the natural step */
    L->hn[l] = L->trunc[l] && hnew < L->hn[l] ? L->hn[l] : hnew;
    if (L->y1[0][l] >= r->th) {
        double theta = crossing(r, L, l), tc = t + theta * h;
        if (r->kind == SS_POP_LIF) /* w at the crossing, from the continuous extension */
            L->y0[1][l] = dense(L, l, 1, theta);
        L->s0[l] *= exp(-(tc - t) * r->inv_tsyn);
        if (r->kind == SS_POP_DPI && r->adapt)
            L->a0[l] = fmax(r->dpi.io, L->a0[l] * exp(-(tc - t) * r->inv_tahp));
        return lane_spike(r, L, l, tc, out, err);
    }
    L->t[l] = L->trunc[l] ? L->stop[l] : t + h;
    for (int m = 0; m < 2; m++) {
        L->y0[m][l] = L->y1[m][l];
        L->k[0][m][l] = L->k[6][m][l];
    }
    L->s0[l] = L->s1[l];
    L->a0[l] = L->a1[l];
    return SS_OK;
}

int neti_rk_advance(neti_rk *r, const double *bias, long k0, long k1, double h,
                    const neti_rk_inputs *in, neti_rk_spikes *out, ss_error *err)
{
    struct lanes L;
    memset(&L, 0, sizeof L);
    for (int l = 0; l < NL; l++)
        L.y0[0][l] = r->kind == SS_POP_DPI ? r->dpi.io : r->lif.v_rest;
    size_t next = 0;
    int rc = SS_OK;
    r->wk0 = k0;
    for (;;) {
        int busy = 0;
        for (int l = 0; l < NL; l++) {
            busy += lane_prepare(r, &L, l, &next, bias, k0, k1, h, in, out, err, &rc);
            if (rc)
                return rc;
        }
        if (!busy)
            break;
        if (r->kind == SS_POP_DPI)
            attempt_dpi(r, &L);
        else
            attempt_lif(r, &L);
        for (int l = 0; l < NL; l++)
            if (L.busy[l] && (rc = lane_finish(r, &L, l, out, err)))
                return rc;
    }
    r->ksync = k1;
    return SS_OK;
}
