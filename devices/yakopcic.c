/* yakopcic.c: the Yakopcic models.
 *
 * "yakopcic" is the EDL 2011 / TCAD 2013 form as in Yakopcic's own LTspice
 * subcircuit (knowm/memristor-models-4-all, memristor_yakopcic.sub):
 *   I = a1 x sinh(b V) (V >= 0),  a2 x sinh(b V) (V < 0)
 *   g = Ap (e^V - e^Vp) (V > Vp),  -An (e^-V - e^Vn) (V < -Vn),  0 otherwise
 *   f = eta V >= 0: x >= xp     ? e^(-alphap (x - xp)) (1 - x)/(1 - xp) : 1
 *       eta V <  0: x <= 1 - xn ? e^( alphan (x + xn - 1)) x/(1 - xn)  : 1
 *   dx/dt = eta g f
 * with vp, vn positive magnitudes.  "yakopcic2020" is the TCAD 39(5):1084
 * generalised form (thomastiotto/Memristor-Models, memristor_yakopcic.sub):
 *   I = x gmax sinh(bmax V) + (1 - x) gmin sinh(bmin V), separate sets for
 *   V >= 0 (_p) and V < 0 (_n); vn is signed (V < vn with vn <= 0) and
 *   g = -An (e^-V - e^-vn); the SET window is x <= xn ? e^(alphan (x - xn)) x/xn : 1.
 *
 * Smooth mode: g = Ap e^Vp expm1(softplus(V - Vp)) (and the mirror for the
 * negative side), window switch points and the a1/a2 (_p/_n) selection use
 * logistic steps of width smooth_x and smooth_v; the windows vanish at the
 * bounds, so no extra bound is needed. */
#include <math.h>

#include "devices/dev_private.h"

/* ---- Yakopcic 2011/2013 --------------------------------------------------- */

enum {
    Y_A1, Y_A2, Y_B, Y_VP, Y_VN, Y_AP, Y_AN, Y_XP, Y_XN, Y_ALPHAP, Y_ALPHAN, Y_ETA, Y_X0,
    Y_SMOOTH_V, Y_SMOOTH_X, Y_COUNT
};

/* Defaults: the Ag-chalcogenide (Oblea) sine set of Yakopcic's subcircuit. */
static const ss_device_param yak_params[Y_COUNT] = {
    [Y_A1] = {"a1", "A", 0.17, "current scale for V >= 0", NULL},
    [Y_A2] = {"a2", "A", 0.17, "current scale for V < 0", NULL},
    [Y_B] = {"b", "1/V", 0.05, "sinh slope of the I-V relation", NULL},
    [Y_VP] = {"vp", "V", 0.16, "positive threshold (magnitude)", NULL},
    [Y_VN] = {"vn", "V", 0.15, "negative threshold (magnitude)", NULL},
    [Y_AP] = {"ap", "1/s", 4000, "state rate above vp", NULL},
    [Y_AN] = {"an", "1/s", 4000, "state rate below -vn", NULL},
    [Y_XP] = {"xp", "1", 0.3, "state where positive motion starts to decay", NULL},
    [Y_XN] = {"xn", "1", 0.5, "negative motion decays below x = 1 - xn", NULL},
    [Y_ALPHAP] = {"alphap", "1", 1, "decay rate of positive motion", NULL},
    [Y_ALPHAN] = {"alphan", "1", 5, "decay rate of negative motion", NULL},
    [Y_ETA] = {"eta", "1", 1, "direction of state motion relative to V (+1 or -1)", NULL},
    [Y_X0] = {"x0", "1", 0.11, "initial state", NULL},
    [Y_SMOOTH_V] = {"smooth_v", "V", 1e-3, "softplus width of the thresholds (smooth mode)",
                    NULL},
    [Y_SMOOTH_X] = {"smooth_x", "1", 0.01, "logistic width of the window switch (smooth mode)",
                    NULL},
};

static int check_eta(const ss_device *d, int idx, ss_error *err)
{
    if (d->p[idx] != 1.0 && d->p[idx] != -1.0)
        return ss_error_set(err, SS_EINVAL, "parameter 'eta' must be 1 or -1");
    return SS_OK;
}

static int yak_validate(const ss_device *d, ss_error *err)
{
    int rc;
    if ((rc = ssd_check_range(d, Y_A1, 0, INFINITY, 0, 1, err)) ||
        (rc = ssd_check_range(d, Y_A2, 0, INFINITY, 0, 1, err)) ||
        (rc = ssd_check_positive(d, Y_B, err)))
        return rc;
    if (d->p[Y_VP] < 0)
        return ss_error_set(err, SS_EINVAL, "parameter 'vp' must be >= 0 (a magnitude)");
    if (d->p[Y_VN] < 0)
        return ss_error_set(err, SS_EINVAL,
                            "parameter 'vn' must be >= 0 (a magnitude; the signed vn belongs "
                            "to model yakopcic2020)");
    if ((rc = ssd_check_range(d, Y_VP, 0, 10, 0, 0, err)) ||
        (rc = ssd_check_range(d, Y_VN, 0, 10, 0, 0, err)) ||
        (rc = ssd_check_range(d, Y_AP, 0, INFINITY, 0, 1, err)) ||
        (rc = ssd_check_range(d, Y_AN, 0, INFINITY, 0, 1, err)) ||
        (rc = ssd_check_range(d, Y_XP, 0, 1, 0, 1, err)) ||
        (rc = ssd_check_range(d, Y_XN, 0, 1, 0, 1, err)) ||
        (rc = ssd_check_range(d, Y_ALPHAP, 0, 1e3, 0, 0, err)) ||
        (rc = ssd_check_range(d, Y_ALPHAN, 0, 1e3, 0, 0, err)) || (rc = check_eta(d, Y_ETA, err)) ||
        (rc = ssd_check_range(d, Y_X0, 0, 1, 0, 0, err)) ||
        (rc = ssd_check_positive(d, Y_SMOOTH_V, err)) ||
        (rc = ssd_check_range(d, Y_SMOOTH_X, 0, 0.5, 1, 0, err)))
        return rc;
    return SS_OK;
}

/* Shared pieces.  `pos`: the smooth or hard selection of V >= 0. */
static ssd_num sel_pos(const ss_device *d, ssd_num v, double sv)
{
    return d->hard ? ssd_hstep(v, 0) : ssd_step(v, sv);
}

/* Positive-side rate Ap e^vp (e^(V - vp) - 1) above vp. */
static ssd_num rate_up(const ss_device *d, ssd_num vc, double ap, double vp, double sv)
{
    ssd_num z = ssd_addc(vc, -vp);
    if (d->hard)
        return vc.f > vp ? ssd_scale(ssd_lexpm1(z), ap * exp(vp)) : ssd_c(0.0);
    return ssd_scale(ssd_lexpm1(ssd_softplus(z, sv)), ap * exp(vp));
}

/* Negative-side rate -An e^(-vt) (e^(vt - V) - 1) below the signed threshold vt. */
static ssd_num rate_down(const ss_device *d, ssd_num vc, double an, double vt, double sv)
{
    ssd_num z = ssd_sub(ssd_c(vt), vc);
    if (d->hard)
        return vc.f < vt ? ssd_scale(ssd_lexpm1(z), -an * exp(-vt)) : ssd_c(0.0);
    return ssd_scale(ssd_lexpm1(ssd_softplus(z, sv)), -an * exp(-vt));
}

/* Window for motion toward x = 1: x >= xp ? e^(-alphap (x - xp)) (1 - x)/(1 - xp) : 1. */
static ssd_num win_up(const ss_device *d, ssd_num x, double xp, double alphap, double sx)
{
    ssd_num w = ssd_mul(ssd_lexp(ssd_scale(ssd_addc(x, -xp), -alphap)),
                        ssd_scale(ssd_sub(ssd_c(1.0), x), 1.0 / (1.0 - xp)));
    if (d->hard)
        return x.f >= xp ? w : ssd_c(1.0);
    ssd_num s = ssd_step(ssd_addc(x, -xp), sx);
    return ssd_addc(ssd_mul(s, ssd_addc(w, -1.0)), 1.0);
}

/* Window for motion toward x = 0: x <= xc ? e^(alphan (x - xc)) x/xc : 1
 * (xc = 1 - xn in the 2013 form, xn in the 2020 form). */
static ssd_num win_down(const ss_device *d, ssd_num x, double xc, double alphan, double sx)
{
    ssd_num w = ssd_mul(ssd_lexp(ssd_scale(ssd_addc(x, -xc), alphan)), ssd_scale(x, 1.0 / xc));
    if (d->hard)
        return x.f <= xc ? w : ssd_c(1.0);
    ssd_num s = ssd_step(ssd_sub(ssd_c(xc), x), sx);
    return ssd_addc(ssd_mul(s, ssd_addc(w, -1.0)), 1.0);
}

static ssd_num state_rate(ssd_num gp, ssd_num gn, ssd_num fup, ssd_num fdn, double eta)
{
    /* eta V >= 0 selects the "up" window: for eta = -1 the positive rate
     * drives x down. */
    ssd_num s = eta > 0 ? ssd_add(ssd_mul(gp, fup), ssd_mul(gn, fdn))
                        : ssd_add(ssd_mul(gp, fdn), ssd_mul(gn, fup));
    return ssd_scale(s, eta);
}

static void put(ss_device_eval *ev, ssd_num i, ssd_num dx)
{
    ev->i = i.f;
    ev->di_dv = i.v;
    ev->di_dx = i.x;
    ev->dxdt = dx.f;
    ev->ddxdt_dv = dx.v;
    ev->ddxdt_dx = dx.x;
}

static void yak_eval(const ss_device *d, double v_in, double x_in, ss_device_eval *ev)
{
    const double *p = d->p;
    ssd_num v = {v_in, 1.0, 0.0}, x = ssd_xclamp((ssd_num){x_in, 0.0, 1.0});
    ssd_num vc = ssd_vclamp(v);
    double sv = p[Y_SMOOTH_V], sx = p[Y_SMOOTH_X];

    ssd_num pos = sel_pos(d, vc, sv);
    ssd_num a = ssd_addc(ssd_scale(pos, p[Y_A1] - p[Y_A2]), p[Y_A2]);
    ssd_num i = ssd_mul(ssd_mul(a, x), ssd_lsinh(ssd_scale(vc, p[Y_B])));

    ssd_num gp = rate_up(d, vc, p[Y_AP], p[Y_VP], sv);
    ssd_num gn = rate_down(d, vc, p[Y_AN], -p[Y_VN], sv);
    ssd_num fup = win_up(d, x, p[Y_XP], p[Y_ALPHAP], sx);
    ssd_num fdn = win_down(d, x, 1.0 - p[Y_XN], p[Y_ALPHAN], sx);
    put(ev, i, state_rate(gp, gn, fup, fdn, p[Y_ETA]));
}

static double yak_x0(const ss_device *d) { return d->p[Y_X0]; }

/* SPICE twins of sel_pos, rate_up, rate_down, win_up, win_down.  ngspice 39
 * does not expand a .func call written right after '?' or ':', so such
 * branches are parenthesised. */
static int spice_common(const ss_device *d, ss_buf *out, double sv, double sx, double ap, double vp,
                        double an, double vt, double xp, double alphap, double xc, double alphan)
{
    int rc = SS_OK;
    if (d->hard) {
        rc |= ss_buf_printf(out, ".func ss_pos(v) = (v >= 0 ? 1 : 0)\n");
        rc |= ss_buf_printf(out, ".func ss_gp(v) = (v > (%.17g) ? (%.17g)*(ss_lexp(v - (%.17g)) - 1) : 0)\n",
                            vp, ap * exp(vp), vp);
        rc |= ss_buf_printf(out, ".func ss_gn(v) = (v < (%.17g) ? (%.17g)*(ss_lexp((%.17g) - v) - 1) : 0)\n",
                            vt, -an * exp(-vt), vt);
        rc |= ss_buf_printf(out,
                            ".func ss_fup(x) = (x >= (%.17g) ? (ss_lexp(-(%.17g)*(x - (%.17g)))*(1 - x)/(%.17g)) : 1)\n",
                            xp, alphap, xp, 1.0 - xp);
        rc |= ss_buf_printf(out,
                            ".func ss_fdn(x) = (x <= (%.17g) ? (ss_lexp((%.17g)*(x - (%.17g)))*x/(%.17g)) : 1)\n",
                            xc, alphan, xc, xc);
    } else {
        rc |= ss_buf_printf(out, ".func ss_pos(v) = ss_th(v, %.17g)\n", sv);
        rc |= ss_buf_printf(out, ".func ss_gp(v) = (%.17g)*(ss_lexp(ss_sp(v - (%.17g), %.17g)) - 1)\n",
                            ap * exp(vp), vp, sv);
        rc |= ss_buf_printf(out, ".func ss_gn(v) = (%.17g)*(ss_lexp(ss_sp((%.17g) - v, %.17g)) - 1)\n",
                            -an * exp(-vt), vt, sv);
        rc |= ss_buf_printf(out,
                            ".func ss_fup(x) = 1 + ss_th(x - (%.17g), %.17g)*(ss_lexp(-(%.17g)*(x - (%.17g)))*(1 - x)/(%.17g) - 1)\n",
                            xp, sx, alphap, xp, 1.0 - xp);
        rc |= ss_buf_printf(out,
                            ".func ss_fdn(x) = 1 + ss_th((%.17g) - x, %.17g)*(ss_lexp((%.17g)*(x - (%.17g)))*x/(%.17g) - 1)\n",
                            xc, sx, alphan, xc, xc);
    }
    return rc ? SS_ENOMEM : SS_OK;
}

static int spice_state(ss_buf *out, double eta, double x0)
{
    int rc = SS_OK;
    (void)x0; /* the subcircuit parameter x0 (ss_device_write_spice) */
    rc |= ss_buf_printf(out, "Cx xs 0 1 IC={x0}\n");
    if (eta > 0)
        rc |= ss_buf_printf(out, "Bx 0 xs I = ss_gp(ss_vc(V(te,be)))*ss_fup(ss_xc(V(xs))) + "
                                 "ss_gn(ss_vc(V(te,be)))*ss_fdn(ss_xc(V(xs)))\n");
    else
        rc |= ss_buf_printf(out, "Bx 0 xs I = -(ss_gp(ss_vc(V(te,be)))*ss_fdn(ss_xc(V(xs))) + "
                                 "ss_gn(ss_vc(V(te,be)))*ss_fup(ss_xc(V(xs))))\n");
    return rc ? SS_ENOMEM : SS_OK;
}

static int yak_spice_body(const ss_device *d, ss_buf *out)
{
    const double *p = d->p;
    int rc = spice_common(d, out, p[Y_SMOOTH_V], p[Y_SMOOTH_X], p[Y_AP], p[Y_VP], p[Y_AN],
                          -p[Y_VN], p[Y_XP], p[Y_ALPHAP], 1.0 - p[Y_XN], p[Y_ALPHAN]);
    if (rc || (rc = spice_state(out, p[Y_ETA], p[Y_X0])))
        return rc;
    if (ss_buf_printf(out,
                      "Bm te be I = ((%.17g)*ss_pos(ss_vc(V(te,be))) + (%.17g))*ss_xc(V(xs))*"
                      "ss_lsinh((%.17g)*ss_vc(V(te,be)))\n",
                      p[Y_A1] - p[Y_A2], p[Y_A2], p[Y_B]))
        return SS_ENOMEM;
    return SS_OK;
}

const ss_device_type ssd_yakopcic_type = {
    .name = "yakopcic",
    .title = "Yakopcic (IEEE EDL 32(10):1436, 2011; IEEE TCAD 32(8):1201, 2013)",
    .x_lrs = 1.0,
    .nparams = Y_COUNT,
    .params = yak_params,
    .validate = yak_validate,
    .eval = yak_eval,
    .x0 = yak_x0,
    .spice_body = yak_spice_body,
};

const ss_device_type *const ss_device_yakopcic = &ssd_yakopcic_type;

/* ---- Yakopcic 2020 ---------------------------------------------------------- */

enum {
    Z_GMAX_P, Z_BMAX_P, Z_GMAX_N, Z_BMAX_N, Z_GMIN_P, Z_BMIN_P, Z_GMIN_N, Z_BMIN_N, Z_VP, Z_VN,
    Z_AP, Z_AN, Z_XP, Z_XN, Z_ALPHAP, Z_ALPHAN, Z_ETA, Z_X0, Z_SMOOTH_V, Z_SMOOTH_X, Z_COUNT
};

/* Defaults: the Nb:SrTiO3 10 um fit (see presets). */
static const ss_device_param yak20_params[Z_COUNT] = {
    [Z_GMAX_P] = {"gmax_p", "A", 9e-5, "ON-state current scale, V >= 0", NULL},
    [Z_BMAX_P] = {"bmax_p", "1/V", 4.96, "ON-state sinh slope, V >= 0", NULL},
    [Z_GMAX_N] = {"gmax_n", "A", 1.7e-4, "ON-state current scale, V < 0", NULL},
    [Z_BMAX_N] = {"bmax_n", "1/V", 3.23, "ON-state sinh slope, V < 0", NULL},
    [Z_GMIN_P] = {"gmin_p", "A", 1.5e-5, "OFF-state current scale, V >= 0", NULL},
    [Z_BMIN_P] = {"bmin_p", "1/V", 6.91, "OFF-state sinh slope, V >= 0", NULL},
    [Z_GMIN_N] = {"gmin_n", "A", 4.4e-7, "OFF-state current scale, V < 0", NULL},
    [Z_BMIN_N] = {"bmin_n", "1/V", 2.6, "OFF-state sinh slope, V < 0", NULL},
    [Z_VP] = {"vp", "V", 0.5, "positive threshold (>= 0)", NULL},
    [Z_VN] = {"vn", "V", -0.5, "negative threshold, signed (<= 0)", NULL},
    [Z_AP] = {"ap", "1/s", 90, "state rate above vp", NULL},
    [Z_AN] = {"an", "1/s", 10, "state rate below vn", NULL},
    [Z_XP] = {"xp", "1", 0.1, "state where positive motion starts to decay", NULL},
    [Z_XN] = {"xn", "1", 0.242, "negative motion decays below x = xn", NULL},
    [Z_ALPHAP] = {"alphap", "1", 1, "decay rate of positive motion", NULL},
    [Z_ALPHAN] = {"alphan", "1", 1, "decay rate of negative motion", NULL},
    [Z_ETA] = {"eta", "1", 1, "direction of state motion relative to V (+1 or -1)", NULL},
    [Z_X0] = {"x0", "1", 0, "initial state", NULL},
    [Z_SMOOTH_V] = {"smooth_v", "V", 1e-3, "softplus width of the thresholds (smooth mode)",
                    NULL},
    [Z_SMOOTH_X] = {"smooth_x", "1", 0.01, "logistic width of the window switch (smooth mode)",
                    NULL},
};

static int yak20_validate(const ss_device *d, ss_error *err)
{
    int rc;
    for (int k = Z_GMAX_P; k <= Z_BMIN_N; k++)
        if ((rc = ssd_check_range(d, k, 0, INFINITY, 0, 1, err)))
            return rc;
    if (d->p[Z_VN] > 0)
        return ss_error_set(err, SS_EINVAL,
                            "parameter 'vn' must be <= 0 (signed in yakopcic2020; the magnitude "
                            "form belongs to model yakopcic)");
    if ((rc = ssd_check_range(d, Z_VP, 0, 10, 0, 0, err)) ||
        (rc = ssd_check_range(d, Z_VN, -10, 0, 0, 0, err)) ||
        (rc = ssd_check_range(d, Z_AP, 0, INFINITY, 0, 1, err)) ||
        (rc = ssd_check_range(d, Z_AN, 0, INFINITY, 0, 1, err)) ||
        (rc = ssd_check_range(d, Z_XP, 0, 1, 0, 1, err)) ||
        (rc = ssd_check_range(d, Z_XN, 0, 1, 1, 0, err)) ||
        (rc = ssd_check_range(d, Z_ALPHAP, 0, 1e3, 0, 0, err)) ||
        (rc = ssd_check_range(d, Z_ALPHAN, 0, 1e3, 0, 0, err)) || (rc = check_eta(d, Z_ETA, err)) ||
        (rc = ssd_check_range(d, Z_X0, 0, 1, 0, 0, err)) ||
        (rc = ssd_check_positive(d, Z_SMOOTH_V, err)) ||
        (rc = ssd_check_range(d, Z_SMOOTH_X, 0, 0.5, 1, 0, err)))
        return rc;
    return SS_OK;
}

static void yak20_eval(const ss_device *d, double v_in, double x_in, ss_device_eval *ev)
{
    const double *p = d->p;
    ssd_num v = {v_in, 1.0, 0.0}, x = ssd_xclamp((ssd_num){x_in, 0.0, 1.0});
    ssd_num vc = ssd_vclamp(v);
    double sv = p[Z_SMOOTH_V], sx = p[Z_SMOOTH_X];
    ssd_num xm = ssd_sub(ssd_c(1.0), x);

    ssd_num ip = ssd_add(ssd_mul(ssd_scale(x, p[Z_GMAX_P]), ssd_lsinh(ssd_scale(vc, p[Z_BMAX_P]))),
                         ssd_mul(ssd_scale(xm, p[Z_GMIN_P]), ssd_lsinh(ssd_scale(vc, p[Z_BMIN_P]))));
    ssd_num in = ssd_add(ssd_mul(ssd_scale(x, p[Z_GMAX_N]), ssd_lsinh(ssd_scale(vc, p[Z_BMAX_N]))),
                         ssd_mul(ssd_scale(xm, p[Z_GMIN_N]), ssd_lsinh(ssd_scale(vc, p[Z_BMIN_N]))));
    ssd_num pos = sel_pos(d, vc, sv);
    ssd_num i = ssd_add(in, ssd_mul(pos, ssd_sub(ip, in)));

    ssd_num gp = rate_up(d, vc, p[Z_AP], p[Z_VP], sv);
    ssd_num gn = rate_down(d, vc, p[Z_AN], p[Z_VN], sv);
    ssd_num fup = win_up(d, x, p[Z_XP], p[Z_ALPHAP], sx);
    ssd_num fdn = win_down(d, x, p[Z_XN], p[Z_ALPHAN], sx);
    put(ev, i, state_rate(gp, gn, fup, fdn, p[Z_ETA]));
}

static double yak20_x0(const ss_device *d) { return d->p[Z_X0]; }

static int yak20_spice_body(const ss_device *d, ss_buf *out)
{
    const double *p = d->p;
    int rc = spice_common(d, out, p[Z_SMOOTH_V], p[Z_SMOOTH_X], p[Z_AP], p[Z_VP], p[Z_AN],
                          p[Z_VN], p[Z_XP], p[Z_ALPHAP], p[Z_XN], p[Z_ALPHAN]);
    if (rc || (rc = spice_state(out, p[Z_ETA], p[Z_X0])))
        return rc;
    rc |= ss_buf_printf(out,
                        ".func ss_ip(v,x) = (%.17g)*x*ss_lsinh((%.17g)*v) + "
                        "(%.17g)*(1 - x)*ss_lsinh((%.17g)*v)\n",
                        p[Z_GMAX_P], p[Z_BMAX_P], p[Z_GMIN_P], p[Z_BMIN_P]);
    rc |= ss_buf_printf(out,
                        ".func ss_in(v,x) = (%.17g)*x*ss_lsinh((%.17g)*v) + "
                        "(%.17g)*(1 - x)*ss_lsinh((%.17g)*v)\n",
                        p[Z_GMAX_N], p[Z_BMAX_N], p[Z_GMIN_N], p[Z_BMIN_N]);
    rc |= ss_buf_printf(out, "Bm te be I = ss_in(ss_vc(V(te,be)), ss_xc(V(xs))) + "
                             "ss_pos(ss_vc(V(te,be)))*(ss_ip(ss_vc(V(te,be)), ss_xc(V(xs))) - "
                             "ss_in(ss_vc(V(te,be)), ss_xc(V(xs))))\n");
    return rc ? SS_ENOMEM : SS_OK;
}

const ss_device_type ssd_yakopcic2020_type = {
    .name = "yakopcic2020",
    .title = "Yakopcic generalised form (IEEE TCAD 39(5):1084, 2020)",
    .x_lrs = 1.0,
    .nparams = Z_COUNT,
    .params = yak20_params,
    .validate = yak20_validate,
    .eval = yak20_eval,
    .x0 = yak20_x0,
    .spice_body = yak20_spice_body,
};

const ss_device_type *const ss_device_yakopcic2020 = &ssd_yakopcic2020_type;
