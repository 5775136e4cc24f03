/* rk.c: the per-neuron integrator of the network's nonlinear populations
 * (see rk.h for the contract).
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
 * and exponentials, so NL neurons ("lanes") are stepped side by side, in
 * vector types whose operations the kernels below compile to AVX-512, AVX2
 * or baseline instructions (target clones).  A lane takes the next neuron
 * when its neuron reaches the end of the epoch. */
#include "cosim/network/rk.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NL 16

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

/* A value per lane: GCC's vector extension (also clang's); subscripts give
 * the lanes.  Never passed by value (without AVX-512 that changes the ABI):
 * helpers take pointers and are inlined. */
typedef double vd __attribute__((vector_size(NL * sizeof(double))));
typedef long long vl __attribute__((vector_size(NL * sizeof(long long))));
typedef unsigned long long vul __attribute__((vector_size(NL * sizeof(long long))));

/* NL neurons in flight. */
struct lanes {
    size_t i[NL];
    int busy[NL], fsal[NL], rej[NL], trunc[NL];
    vd t, h, hn, stop, en, fac; /* fac: 0.9 en^(-1/5), the next step's factor */
    vd y0[2], y1[2], k[7][2];
    vd s0, s1; /* synaptic current at t, at t + h */
    vd a0, a1; /* Iahp (DPI) */
    vd bias;
    size_t c[NL], cend[NL]; /* inputs still to come */
    double tin[NL], tfree[NL]; /* the next one's time; the end of refractoriness */
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

/* ---- right-hand sides, eight lanes at a time --------------------------------- */

/* The helpers of the kernels below: inlined, so each kernel's clone compiles them for its target. */
#define INLINE static inline __attribute__((always_inline))
/* Selections lane by lane.  Comparisons of whole vectors wider than the
 * target's registers are compiled element by element with branches; these
 * loops become compares and blends (or min and max). */
INLINE void vsel_lt(vd *r, const vd *a, const vd *b, const vd *x, const vd *y) /* a < b ? x : y */
{
    for (int l = 0; l < NL; l++)
        (*r)[l] = (*a)[l] < (*b)[l] ? (*x)[l] : (*y)[l];
}
INLINE void vmax(vd *r, const vd *a, const vd *b)
{
    for (int l = 0; l < NL; l++)
        (*r)[l] = (*a)[l] > (*b)[l] ? (*a)[l] : (*b)[l];
}
INLINE void vmin(vd *r, const vd *a, const vd *b)
{
    for (int l = 0; l < NL; l++)
        (*r)[l] = (*a)[l] < (*b)[l] ? (*a)[l] : (*b)[l];
}
#define VABS(x) ((vd)((vl)(x) & 0x7fffffffffffffffLL))

/* e^x, |x| <= 600 (callers clamp): x = k ln2 + r, |r| <= ln2/2, e^r by its
 * Taylor polynomial of degree 12 (truncation 2e-16), times 2^k built in the
 * exponent bits.  A few ulp, like libm, but on every lane at once. */
INLINE void vexp(vd *out, const vd *xp)
{
    const double shift = 0x1.8p52; /* x * log2(e) + shift rounds to an integer */
    vd x = *xp, kd = x * 1.4426950408889634 + shift;
    vl k = (vl)kd - (vl)((vd){0} + shift);
    kd -= shift;
    vd r = x - kd * 6.93147180369123816490e-01 - kd * 1.90821492927058770002e-10;
    /* Estrin's scheme: a short dependency chain */
    vd r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    vd p01 = 1 + r, p23 = 1.0 / 2 + r * (1.0 / 6), p45 = 1.0 / 24 + r * (1.0 / 120);
    vd p67 = 1.0 / 720 + r * (1.0 / 5040), p89 = 1.0 / 40320 + r * (1.0 / 362880);
    vd pab = 1.0 / 3628800 + r * (1.0 / 39916800);
    vd p03 = p01 + r2 * p23, p47 = p45 + r2 * p67, p8b = p89 + r2 * pab;
    vd e = p03 + r4 * p47 + r8 * (p8b + r4 * (1.0 / 479001600));
    *out = e * (vd)((k + 1023) << 52);
}

/* The parameters the right-hand sides use, broadcast to every lane once per
 * kernel call (and local, so stores to the lanes cannot alias them). */
struct kconst {
    vd io, one, lo600, hi600;
    vd A, ith, iath, iagain, inv_ianorm, inv_itau, inv_tau_hi, inv_tau_lo; /* DPI */
    vd v_rest, r_m, a, inv_tm, inv_tw;                                   /* LIF */
};

INLINE void kconst_init(const neti_rk *r, struct kconst *c)
{
    vd one = (vd){0} + 1.0;
    c->one = one;
    c->lo600 = one * -600.0;
    c->hi600 = one * 600.0;
    c->io = one * r->dpi.io;
    c->A = one * r->A;
    c->ith = one * r->dpi.ith;
    c->iath = one * r->dpi.iath;
    c->iagain = one * r->dpi.iagain;
    c->inv_ianorm = one * r->inv_ianorm;
    c->inv_itau = one * r->inv_itau;
    c->inv_tau_hi = one * r->inv_tau_hi;
    c->inv_tau_lo = one * r->inv_tau_lo;
    c->v_rest = one * r->lif.v_rest;
    c->r_m = one * r->lif.r_m;
    c->a = one * r->lif.a;
    c->inv_tm = one * r->inv_tm;
    c->inv_tw = one * r->inv_tw;
}

/* Synaptic plus bias current through the input stage (a power law, lane by
 * lane; the identity by default). */
INLINE void input_stage(const neti_rk *r, vd *iin)
{
    double beta = r->kind == SS_POP_DPI ? r->dpi.in_beta : r->lif.in_beta;
    double ref = r->kind == SS_POP_DPI ? r->dpi.in_ref : r->lif.in_ref;
    for (int l = 0; l < NL; l++)
        (*iin)[l] = ss_network_input_stage((*iin)[l], beta, ref);
}

/* dImem/dt of the DPI outside refractoriness (teili's equations as
 * integrate.c's neti_dpi_rhs, with Iahp >= Io); iin is synaptic plus bias
 * current. */
INLINE void dpi_f(const neti_rk *r, const struct kconst *c, vd *dy, const vd *imemp,
                  const vd *iinp, const vd *iahpp)
{
    vd imem = *imemp, iin = *iinp, iahp = *iahpp, io = c->io, one = c->one;
    if (r->stage)
        input_stage(r, &iin);
    vmax(&iin, &iin, &io);
    vmin(&iin, &iin, &one);
    /* Ia = Iagain / (1 + e^x) enters as N0 + Ia (A + Imem/Itau); one
     * division for the whole right-hand side (e^600 is far from overflow) */
    vd x = (c->iath - imem) * c->inv_ianorm, e;
    vmax(&x, &x, &c->lo600);
    vmin(&x, &x, &c->hi600);
    vexp(&e, &x);
    vd n0 = c->A * (iin - iahp) - c->ith - (one + iahp * c->inv_itau) * imem;
    vd num_hi = (n0 * (one + e) + c->iagain * (c->A + imem * c->inv_itau)) * c->inv_tau_hi;
    vd den_hi = (c->ith + imem + io) * (one + e);
    /* below Io, teili clips Itau and Ith to Io, Ia to 2 Io and Iahp to Io */
    vd num_lo = iin * c->inv_tau_lo, den_lo = io + io + imem, num, den;
    vsel_lt(&num, &io, &imem, &num_hi, &num_lo);
    vsel_lt(&den, &io, &imem, &den_hi, &den_lo);
    *dy = num * (imem + io) / den;
}

/* dv/dt and dw/dt of the LIF outside refractoriness. */
INLINE void lif_f(const neti_rk *r, const struct kconst *c, vd *dv, vd *dw, const vd *v,
                  const vd *w, const vd *iinp)
{
    vd iin = *iinp;
    if (r->stage)
        input_stage(r, &iin);
    *dv = (c->v_rest - *v + c->r_m * (iin - *w)) * c->inv_tm;
    *dw = (c->a * (*v - c->v_rest) - *w) * c->inv_tw;
}

/* Stage values of an exponential decay e^(z u), z = -h/tau, as the method
 * itself computes them (P[0] = 1). */
INLINE void decay_stages(const vd *zp, vd *P)
{
    vd z = *zp;
    P[0] = (vd){0} + 1;
    P[1] = 1 + z * A21;
    P[2] = 1 + z * (A31 + A32 * P[1]);
    P[3] = 1 + z * (A41 + A42 * P[1] + A43 * P[2]);
    P[4] = 1 + z * (A51 + A52 * P[1] + A53 * P[2] + A54 * P[3]);
    P[5] = 1 + z * (A61 + A62 * P[1] + A63 * P[2] + A64 * P[3] + A65 * P[4]);
}

/* ---- one attempted step of every lane ------------------------------------------
 * Compiled for AVX-512, AVX2 and the baseline; the loader picks one. */
#define KERNEL __attribute__((target_clones("avx512f", "avx2", "default")))

/* The derivative at the lanes' states (into k[0], for lanes without one). */
KERNEL static void derivs(neti_rk *r, struct lanes *L)
{
    struct kconst c;
    kconst_init(r, &c);
    vd iin = L->bias + L->s0, dv, dw;
    if (r->kind == SS_POP_DPI) {
        dpi_f(r, &c, &dv, &L->y0[0], &iin, &L->a0);
        dw = (vd){0};
    } else
        lif_f(r, &c, &dv, &dw, &L->y0[0], &L->y0[1], &iin);
    for (int l = 0; l < NL; l++)
        if (L->busy[l] && !L->fsal[l]) {
            L->k[0][0][l] = dv[l];
            L->k[0][1][l] = dw[l];
            L->fsal[l] = 1;
            r->evals++;
        }
}

/* Stages 2 to 7, the order-5 solution y1 and the normalised error en. */
KERNEL static void stages(neti_rk *r, struct lanes *L)
{
    int dpi = r->kind == SS_POP_DPI, ms = dpi ? 1 : 2;
    struct kconst c;
    kconst_init(r, &c);
    vd io = c.io;
    vd h = L->h, z = -h * r->inv_tsyn, za = -h * r->inv_tahp, P[6], Q[6], e;
    vmax(&z, &z, &c.lo600); /* e^-600: gone */
    vmax(&za, &za, &c.lo600);
    decay_stages(&z, P);
    vexp(&e, &z);
    L->s1 = L->s0 * e;
    if (dpi && r->adapt) {
        decay_stages(&za, Q);
        vexp(&e, &za);
        e *= L->a0;
        vmax(&L->a1, &e, &io);
    } else
        L->a1 = L->a0;
    vd(*k)[2] = L->k;
    static const double a[6][5] = {{0},
                                   {A21},
                                   {A31, A32},
                                   {A41, A42, A43},
                                   {A51, A52, A53, A54},
                                   {A61, A62, A63, A64, A65}};
    for (int s = 1; s < 6; s++) {
        vd y[2], iin = L->bias + L->s0 * P[s];
        for (int m = 0; m < ms; m++) {
            vd acc = a[s][0] * k[0][m];
            for (int j = 1; j < s; j++)
                acc += a[s][j] * k[j][m];
            y[m] = L->y0[m] + h * acc;
        }
        if (dpi) {
            vd iahp = L->a0;
            if (r->adapt) {
                iahp *= Q[s];
                vmax(&iahp, &iahp, &io);
            }
            dpi_f(r, &c, &k[s][0], &y[0], &iin, &iahp);
        } else
            lif_f(r, &c, &k[s][0], &k[s][1], &y[0], &y[1], &iin);
    }
    for (int m = 0; m < ms; m++)
        L->y1[m] = L->y0[m] + h * (B1 * k[0][m] + B3 * k[2][m] + B4 * k[3][m] + B5 * k[4][m] +
                                   B6 * k[5][m]);
    vd iin = L->bias + L->s1, en = (vd){0};
    if (dpi)
        dpi_f(r, &c, &k[6][0], &L->y1[0], &iin, &L->a1);
    else
        lif_f(r, &c, &k[6][0], &k[6][1], &L->y1[0], &L->y1[1], &iin);
    for (int m = 0; m < ms; m++) {
        vd err = h * (E1 * k[0][m] + E3 * k[2][m] + E4 * k[3][m] + E5 * k[4][m] + E6 * k[5][m] +
                      E7 * k[6][m]);
        vd y0 = VABS(L->y0[m]), y1 = VABS(L->y1[m]), ym;
        vmax(&ym, &y0, &y1);
        vd q = VABS(err) / (r->atol[m] + r->rtol * ym);
        for (int l = 0; l < NL; l++) /* NaN stays NaN: rejected */
            en[l] = q[l] != q[l] || q[l] > en[l] ? q[l] : en[l];
    }
    /* the decaying currents' stage values are the method's own: their local
     * error counts too, against the scale of the neuron's currents */
    double atol = r->atol[dpi ? 0 : 1];
    for (int j = 0; j < (dpi && r->adapt ? 2 : 1); j++) {
        const vd *S = j ? Q : P;
        vd zz = j ? za : z, cur = VABS(j ? L->a0 : L->s0);
        vd R = 1 + zz * (B1 + B3 * S[2] + B4 * S[3] + B5 * S[4] + B6 * S[5]);
        vd rel = zz * (E1 + E3 * S[2] + E4 * S[3] + E5 * S[4] + E6 * S[5] + E7 * R);
        vd q = cur * VABS(rel) / (atol + r->rtol * cur);
        for (int l = 0; l < NL; l++)
            en[l] = q[l] > en[l] ? q[l] : en[l];
    }
    L->en = en;
    /* 0.9 en^(-1/5) = 0.9 e^(-0.2 ln2 log2 en), log2 from the exponent bits
     * and a quadratic in the mantissa (0.5% is plenty for a step size) */
    vl bits = (vl)en;
    vd m = (vd)((bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL);
    vd lg = __builtin_convertvector(((bits >> 52) & 0x7ff) - 1023, vd) +
            ((-0.34484843 * m + 2.02466578) * m - 1.67487759);
    lg *= -0.2 * 0.69314718055994531;
    vmin(&lg, &lg, &c.hi600);
    vexp(&L->fac, &lg);
    L->fac *= 0.9;
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
 * threshold, given y0 < th <= y(hi) on the continuous extension: bisection. */
static double crossing(const neti_rk *r, const struct lanes *L, int l, double hi)
{
    double lo = 0;
    for (int it = 0; it < 60 && hi - lo > 4 * DBL_EPSILON; it++) {
        double mid = 0.5 * (lo + hi);
        if (dense(L, l, 0, mid) < r->th)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* Where the first state of lane l's last step, ending below threshold,
 * touched it in between (a maximum inside the step: the derivative falls
 * from positive to negative), as a fraction of the step, or 0: the maximum
 * of the continuous extension by golden-section search. */
static double grazing(const neti_rk *r, const struct lanes *L, int l)
{
    if (!(L->k[0][0][l] > 0 && L->k[6][0][l] < 0))
        return 0;
    const double g = 0.6180339887498949;
    double a = 0, b = 1, c = b - g * (b - a), d = a + g * (b - a);
    double fc = dense(L, l, 0, c), fd = dense(L, l, 0, d);
    for (int it = 0; it < 40 && fmax(fc, fd) < r->th; it++) {
        if (fc > fd) {
            b = d, d = c, fd = fc;
            c = b - g * (b - a), fc = dense(L, l, 0, c);
        } else {
            a = c, c = d, fc = fd;
            d = a + g * (b - a), fd = dense(L, l, 0, d);
        }
    }
    return fc >= r->th ? c : fd >= r->th ? d : 0;
}

/* The step-size factor of lane l (computed by stages()), bounded. */
static double step_factor(const struct lanes *L, int l, double lo, double hi)
{
    double f = L->fac[l];
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
    L->tin[l] = L->c[l] < L->cend[l] ? in->t[L->c[l]] : INFINITY;
    L->tfree[l] = r->t_free[i];
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
        L->tfree[l] = r->t_free[L->i[l]] = tc + r->dpi.t_ref;
    } else {
        L->y0[0][l] = r->lif.v_reset;
        L->y0[1][l] += r->lif.b;
        L->tfree[l] = r->t_free[L->i[l]] = tc + r->lif.t_ref;
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
static double first_step(const neti_rk *r, const struct lanes *L, int l, double span)
{
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
 * end and loads the next.  Returns 1 with L->stop[l] set (where the next
 * step must end at the latest), 0 when no neuron is left for the lane. */
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
            if (L->y0[0][l] >= r->th && L->t[l] >= L->tfree[l]) { /* at threshold already */
                if ((*rc = lane_spike(r, L, l, L->t[l], out, err)))
                    return 0;
            }
        }
        size_t i = L->i[l];
        double t = L->t[l];
        while (L->tin[l] <= t) {
            L->s0[l] += in->w[L->c[l]++];
            L->tin[l] = L->c[l] < L->cend[l] ? in->t[L->c[l]] : INFINITY;
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
        double stop = L->tin[l] < tend ? L->tin[l] : tend;
        if (L->wk[l] != LONG_MAX && (double)L->wk[l] * h < stop)
            stop = (double)L->wk[l] * h;
        if (t < L->tfree[l]) { /* refractory: the state is held, the currents decay */
            double te = L->tfree[l] < stop ? L->tfree[l] : stop;
            lane_coast(r, L, l, te - t);
            L->t[l] = te;
            L->fsal[l] = 0;
            continue;
        }
        /* (y0 is below threshold: a crossing ends in a reset, coasting
         * starts from one, an input is a kink, not a jump) */
        L->stop[l] = stop;
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
        L->hn[l] = isnan(en) ? 0.25 * h : h * step_factor(L, l, 0.2, 1);
        L->rej[l] = 1;
        if (!(L->hn[l] > 4 * DBL_EPSILON * fmax(fabs(t), 1e-6)))
            return ss_error_set(err, SS_ENUMERIC,
                                "network: the step size of neuron %zu collapsed at t = %.9g s",
                                L->i[l], t);
        return SS_OK;
    }
    r->steps++;
    double hnew = h * step_factor(L, l, 0.2, L->rej[l] ? 1 : 5);
    L->rej[l] = 0;
    /* a step cut short by an event says little about the natural step */
    L->hn[l] = L->trunc[l] && hnew < L->hn[l] ? L->hn[l] : hnew;
    double top = L->y1[0][l] >= r->th ? 1 : grazing(r, L, l);
    if (top > 0) {
        double theta = crossing(r, L, l, top), tc = t + theta * h;
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
        int busy = 0, fresh = 0;
        for (int l = 0; l < NL; l++) {
            busy += lane_prepare(r, &L, l, &next, bias, k0, k1, h, in, out, err, &rc);
            if (rc)
                return rc;
            fresh |= L.busy[l] && !L.fsal[l];
        }
        if (!busy)
            break;
        if (fresh)
            derivs(r, &L);
        for (int l = 0; l < NL; l++) {
            if (!L.busy[l])
                continue;
            double span = L.stop[l] - L.t[l];
            if (!(L.hn[l] > 0))
                L.hn[l] = first_step(r, &L, l, span);
            L.trunc[l] = L.hn[l] >= span;
            L.h[l] = L.trunc[l] ? span : L.hn[l];
        }
        stages(r, &L);
        for (int l = 0; l < NL; l++)
            if (L.busy[l] && (rc = lane_finish(r, &L, l, out, err)))
                return rc;
    }
    r->ksync = k1;
    return SS_OK;
}
