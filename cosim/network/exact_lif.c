/* exact_lif.c: linear LIF populations (a = 0, no input stage) advanced by
 * their exact propagator between events; spike times from the closed form. */
#include "cosim/network/network_private.h"

#include <math.h>

void neti_exact_prepare(struct pop *p, double h)
{
        const ss_lif_params *q = &p->lif;
        p->em = exp(-h / q->tau_m);
        p->es = exp(-h / q->tau_syn);
        p->ew = exp(-h / q->tau_w);
        p->cs = q->tau_syn != q->tau_m ? q->r_m * q->tau_syn / (q->tau_syn - q->tau_m) * (p->es - p->em)
                                       : q->r_m * (h / q->tau_m) * p->em;
        p->cw = q->tau_w != q->tau_m ? q->r_m * q->tau_w / (q->tau_w - q->tau_m) * (p->ew - p->em)
                                     : q->r_m * (h / q->tau_m) * p->em;
}

/* ---- exactly integrated LIF ----------------------------------------------------
 * With a = 0 the LIF is linear between events, and over a time tau
 *   v(tau) = v_inf + (v0 - v_inf) e^(-tau/tau_m) + A_s (e^(-tau/tau_syn) - e^(-tau/tau_m))
 *                                                - A_w (e^(-tau/tau_w) - e^(-tau/tau_m))
 * with v_inf = v_rest + r_m i_bias, A_s = r_m i_syn0 tau_syn/(tau_syn - tau_m) and
 * A_w likewise (a limit of the same form when the time constants are equal). */

static double lif_coef(double r, double tau_x, double tau_m, double t)
{
    double em = exp(-t / tau_m);
    if (tau_x == tau_m)
        return r * (t / tau_m) * em;
    return r * tau_x / (tau_x - tau_m) * (exp(-t / tau_x) - em);
}

static double lif_v(const ss_lif_params *q, double vinf, const double *x, double t)
{
    return vinf + (x[0] - vinf) * exp(-t / q->tau_m) + lif_coef(q->r_m, q->tau_syn, q->tau_m, t) * x[1] -
           lif_coef(q->r_m, q->tau_w, q->tau_m, t) * x[2];
}

/* Advances state x over time t (no threshold). */
static void lif_advance(const ss_lif_params *q, double vinf, double *x, double t)
{
    x[0] = lif_v(q, vinf, x, t);
    x[1] *= exp(-t / q->tau_syn);
    x[2] *= exp(-t / q->tau_w);
}

/* First time in (0, t] at which v reaches the threshold, given v(t) >= v_th:
 * bisection safeguarded secant on the closed form. */
static double lif_crossing(const ss_lif_params *q, double vinf, const double *x, double t)
{
    double lo = 0, hi = t, flo = x[0] - q->v_th, fhi = lif_v(q, vinf, x, t) - q->v_th;
    for (int it = 0; it < 100 && hi - lo > 1e-15 * (1 + t); it++) {
        double m = flo < fhi ? lo - flo * (hi - lo) / (fhi - flo) : 0.5 * (lo + hi);
        if (!(m > lo && m < hi) || it % 3 == 2)
            m = 0.5 * (lo + hi);
        double fm = lif_v(q, vinf, x, m) - q->v_th;
        if (fm >= 0)
            hi = m, fhi = fm;
        else
            lo = m, flo = fm;
    }
    return hi;
}

int neti_advance_exact(ss_network *net, struct pop *p, double t0, double t1)
{
    const ss_lif_params *q = &p->lif;
    for (size_t i = 0; i < p->n; i++) {
        size_t gid = p->gid0 + i;
        double *x = net->xstate + p->soff + 3 * i, t = t0;
        double vinf = q->v_rest + q->r_m * p->bias[i];
        if (net->t_free[gid] <= t0) {
            /* the common case: a whole free step with the cached propagator */
            double v1 = vinf + (x[0] - vinf) * p->em + p->cs * x[1] - p->cw * x[2];
            if (v1 < q->v_th) {
                x[0] = v1;
                x[1] *= p->es;
                x[2] *= p->ew;
                continue;
            }
        }
        while (t < t1) {
            if (net->t_free[gid] > t) { /* refractory: v held, currents decay */
                double te = fmin(net->t_free[gid], t1);
                lif_advance(q, vinf, x, te - t);
                x[0] = q->v_reset;
                t = te;
                continue;
            }
            double dt = t1 - t;
            if (lif_v(q, vinf, x, dt) < q->v_th) {
                lif_advance(q, vinf, x, dt);
                break;
            }
            double tc = x[0] >= q->v_th ? 0 : lif_crossing(q, vinf, x, dt);
            lif_advance(q, vinf, x, tc);
            t += tc;
            if (neti_record_spike(net, t, gid))
                return SS_ENOMEM;
            p->nspikes++;
            x[0] = q->v_reset;
            x[2] += q->b;
            net->t_free[gid] = t + q->t_ref;
            if (q->t_ref == 0)
                t = nextafter(t, INFINITY); /* no zero-length loop */
        }
    }
    return SS_OK;
}
