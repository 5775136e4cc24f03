/* vteam.c: the VTEAM model (Kvatinsky, Ramadan, Friedman, Kolodny,
 * IEEE TCAS-II 62(8):786, 2015) with its windows and both I-V relations.
 *
 * w in [w_on, w_off] metres, normalised x = (w - w_on)/(w_off - w_on), so
 * x = 0 is ON (r_on).  Textbook state equation (k in m/s):
 *   dw/dt = k_off (v/v_off - 1)^alpha_off f_off(w)   v > v_off > 0
 *         = k_on  (v/v_on  - 1)^alpha_on  f_on(w)    v < v_on  < 0
 *         = 0 otherwise,
 * and dx/dt = (dw/dt)/(w_off - w_on).  Smooth mode replaces the ramps
 * max(v - v_off, 0) and max(v_on - v, 0) with softplus ramps of width
 * smooth_v, and bounds x with smootherstep factors of width smooth_x; hard
 * mode uses the if-statements and stops x at 0 and 1. */
#include <math.h>

#include "devices/dev_private.h"

enum {
    P_R_ON, P_R_OFF, P_V_ON, P_V_OFF, P_K_ON, P_K_OFF, P_ALPHA_ON, P_ALPHA_OFF, P_W_ON,
    P_W_OFF, P_W0, P_WINDOW, P_P, P_IV, P_J, P_A_ON, P_A_OFF, P_W_C, P_SMOOTH_V, P_SMOOTH_X,
    P_COUNT
};

enum { WIN_NONE, WIN_JOGLEKAR, WIN_BIOLEK, WIN_PRODROMAKIS, WIN_KVATINSKY };
enum { IV_LINEAR, IV_EXPONENTIAL };

static const char *const window_names[] = {"none", "joglekar", "biolek", "prodromakis",
                                           "kvatinsky", NULL};
static const char *const iv_names[] = {"linear", "exponential", NULL};

/* Defaults: the Technion Verilog-A demonstration set (see presets). */
static const ss_device_param vteam_params[P_COUNT] = {
    [P_R_ON] = {"r_on", "ohm", 50, "resistance at w = w_on (ON)", NULL},
    [P_R_OFF] = {"r_off", "ohm", 1e3, "resistance at w = w_off (OFF)", NULL},
    [P_V_ON] = {"v_on", "V", -0.2, "SET threshold (negative)", NULL},
    [P_V_OFF] = {"v_off", "V", 0.02, "RESET threshold (positive)", NULL},
    [P_K_ON] = {"k_on", "m/s", -10, "SET rate (negative)", NULL},
    [P_K_OFF] = {"k_off", "m/s", 5e-4, "RESET rate (positive)", NULL},
    [P_ALPHA_ON] = {"alpha_on", "1", 3, "SET nonlinearity exponent", NULL},
    [P_ALPHA_OFF] = {"alpha_off", "1", 1, "RESET nonlinearity exponent", NULL},
    [P_W_ON] = {"w_on", "m", 0, "state variable at ON", NULL},
    [P_W_OFF] = {"w_off", "m", 3e-9, "state variable at OFF", NULL},
    [P_W0] = {"w0", "m", 0, "initial state variable", NULL},
    [P_WINDOW] = {"window", "", WIN_NONE,
                  "window function: none, joglekar, biolek, prodromakis, kvatinsky",
                  window_names},
    [P_P] = {"p", "1", 2, "window exponent (joglekar, biolek, prodromakis), >= 1", NULL},
    [P_IV] = {"iv", "", IV_LINEAR, "current-voltage relation: linear, exponential", iv_names},
    [P_J] = {"j", "1", 1, "prodromakis window scale", NULL},
    [P_A_ON] = {"a_on", "m", 0, "kvatinsky window: f_on cut-off position", NULL},
    [P_A_OFF] = {"a_off", "m", 3e-9, "kvatinsky window: f_off cut-off position", NULL},
    [P_W_C] = {"w_c", "m", 107e-12, "kvatinsky window: cut-off width", NULL},
    [P_SMOOTH_V] = {"smooth_v", "V", 1e-3, "softplus width of the thresholds (smooth mode)",
                    NULL},
    [P_SMOOTH_X] = {"smooth_x", "1", 0.01, "width of the state bounds (smooth mode)", NULL},
};

static int vteam_validate(const ss_device *d, ss_error *err)
{
    const double *p = d->p;
    int rc;
    if ((rc = ssd_check_positive(d, P_R_ON, err)) || (rc = ssd_check_positive(d, P_R_OFF, err)) ||
        (rc = ssd_check_negative(d, P_V_ON, err)) || (rc = ssd_check_positive(d, P_V_OFF, err)) ||
        (rc = ssd_check_negative(d, P_K_ON, err)) || (rc = ssd_check_positive(d, P_K_OFF, err)) ||
        (rc = ssd_check_range(d, P_ALPHA_ON, 0, 50, 1, 0, err)) ||
        (rc = ssd_check_range(d, P_ALPHA_OFF, 0, 50, 1, 0, err)) ||
        (rc = ssd_check_range(d, P_P, 1, 1e3, 0, 0, err)) ||
        (rc = ssd_check_positive(d, P_J, err)) || (rc = ssd_check_positive(d, P_W_C, err)) ||
        (rc = ssd_check_positive(d, P_SMOOTH_V, err)) ||
        (rc = ssd_check_range(d, P_SMOOTH_X, 0, 0.5, 1, 0, err)))
        return rc;
    if (!(p[P_R_OFF] > p[P_R_ON]))
        return ss_error_set(err, SS_EINVAL, "parameter 'r_off' must be greater than r_on (%g ohm)",
                            p[P_R_ON]);
    if (!(p[P_W_OFF] > p[P_W_ON]))
        return ss_error_set(err, SS_EINVAL, "parameter 'w_off' must be greater than w_on (%g m)",
                            p[P_W_ON]);
    if (!(p[P_W0] >= p[P_W_ON] && p[P_W0] <= p[P_W_OFF]))
        return ss_error_set(err, SS_EINVAL,
                            "parameter 'w0' must lie between w_on and w_off (%g to %g m)",
                            p[P_W_ON], p[P_W_OFF]);
    return SS_OK;
}

static double vteam_x0(const ss_device *d)
{
    return (d->p[P_W0] - d->p[P_W_ON]) / (d->p[P_W_OFF] - d->p[P_W_ON]);
}

/* Window functions of x (f_off for RESET, f_on for SET). */
static void vteam_windows(const ss_device *d, ssd_num x, ssd_num *f_off, ssd_num *f_on)
{
    const double *p = d->p;
    double pp = p[P_P];
    switch ((int)p[P_WINDOW]) {
    case WIN_JOGLEKAR: {
        ssd_num u = ssd_addc(ssd_scale(x, 2.0), -1.0);
        *f_off = *f_on = ssd_sub(ssd_c(1.0), ssd_pow(ssd_mul(u, u), pp));
        break;
    }
    case WIN_BIOLEK: {
        /* 1 - (x - stp(-v))^2p: RESET (v > 0) moves x up, SET moves it down. */
        ssd_num u = ssd_addc(x, -1.0);
        *f_off = ssd_sub(ssd_c(1.0), ssd_pow(ssd_mul(x, x), pp));
        *f_on = ssd_sub(ssd_c(1.0), ssd_pow(ssd_mul(u, u), pp));
        break;
    }
    case WIN_PRODROMAKIS: {
        ssd_num u = ssd_addc(x, -0.5);
        ssd_num f = ssd_scale(ssd_sub(ssd_c(1.0), ssd_pow(ssd_addc(ssd_mul(u, u), 0.75), pp)),
                              p[P_J]);
        *f_off = *f_on = f;
        break;
    }
    case WIN_KVATINSKY: {
        double D = p[P_W_OFF] - p[P_W_ON];
        ssd_num w = ssd_addc(ssd_scale(x, D), p[P_W_ON]);
        ssd_num zo = ssd_scale(ssd_addc(w, -p[P_A_OFF]), 1.0 / p[P_W_C]);
        ssd_num zn = ssd_scale(ssd_addc(w, -p[P_A_ON]), -1.0 / p[P_W_C]);
        *f_off = ssd_exp(ssd_scale(ssd_lexp(zo), -1.0));
        *f_on = ssd_exp(ssd_scale(ssd_lexp(zn), -1.0));
        break;
    }
    default:
        *f_off = *f_on = ssd_c(1.0);
        break;
    }
}

static void vteam_eval(const ss_device *d, double v_in, double x_in, ss_device_eval *ev)
{
    const double *p = d->p;
    ssd_num v = {v_in, 1.0, 0.0}, x = {x_in, 0.0, 1.0};
    ssd_num vc = ssd_vclamp(v);
    double D = p[P_W_OFF] - p[P_W_ON];

    /* Current: the state is clamped to [0, 1] so R stays positive. */
    ssd_num xe = x_in < 0 ? ssd_c(0.0) : x_in > 1 ? ssd_c(1.0) : x;
    ssd_num i;
    if ((int)p[P_IV] == IV_EXPONENTIAL) {
        double lam = log(p[P_R_OFF] / p[P_R_ON]);
        i = ssd_scale(ssd_mul(v, ssd_exp(ssd_scale(xe, -lam))), 1.0 / p[P_R_ON]);
    } else {
        ssd_num r = ssd_addc(ssd_scale(xe, p[P_R_OFF] - p[P_R_ON]), p[P_R_ON]);
        double g = 1.0 / r.f;
        /* v/r: d = dv/r - v dr/r^2 */
        i = (ssd_num){v.f * g, v.v * g - v.f * r.v * g * g, v.x * g - v.f * r.x * g * g};
    }

    /* Rates in m/s before the window. */
    ssd_num r_off, r_on, b_up, b_dn;
    if (d->hard) {
        r_off = vc.f > p[P_V_OFF]
                    ? ssd_scale(ssd_pow(ssd_addc(ssd_scale(vc, 1.0 / p[P_V_OFF]), -1.0),
                                        p[P_ALPHA_OFF]),
                                p[P_K_OFF])
                    : ssd_c(0.0);
        r_on = vc.f < p[P_V_ON]
                   ? ssd_scale(ssd_pow(ssd_addc(ssd_scale(vc, 1.0 / p[P_V_ON]), -1.0),
                                       p[P_ALPHA_ON]),
                               p[P_K_ON])
                   : ssd_c(0.0);
        b_up = ssd_c(x_in < 1.0);
        b_dn = ssd_c(x_in > 0.0);
    } else {
        double sv = p[P_SMOOTH_V], sx = p[P_SMOOTH_X];
        ssd_num ro = ssd_scale(ssd_softplus(ssd_addc(vc, -p[P_V_OFF]), sv), 1.0 / p[P_V_OFF]);
        ssd_num rn = ssd_scale(ssd_softplus(ssd_sub(ssd_c(p[P_V_ON]), vc), sv), -1.0 / p[P_V_ON]);
        r_off = ssd_scale(ssd_pow(ro, p[P_ALPHA_OFF]), p[P_K_OFF]);
        r_on = ssd_scale(ssd_pow(rn, p[P_ALPHA_ON]), p[P_K_ON]);
        b_up = ssd_sstep(ssd_scale(ssd_sub(ssd_c(1.0), x), 1.0 / sx));
        b_dn = ssd_sstep(ssd_scale(x, 1.0 / sx));
    }
    ssd_num f_off, f_on;
    vteam_windows(d, ssd_xclamp(x), &f_off, &f_on);
    ssd_num dx = ssd_add(ssd_mul(ssd_mul(r_off, f_off), b_up), ssd_mul(ssd_mul(r_on, f_on), b_dn));
    dx = ssd_scale(dx, 1.0 / D);

    ev->i = i.f;
    ev->di_dv = i.v;
    ev->di_dx = i.x;
    ev->dxdt = dx.f;
    ev->ddxdt_dv = dx.v;
    ev->ddxdt_dx = dx.x;
}

/* ---- SPICE ---------------------------------------------------------------- */

#define X "V(xs)"
#define VC "ss_vc(V(te,be))"

static int vteam_windows_spice(const ss_device *d, ss_buf *out)
{
    const double *p = d->p;
    double pp = p[P_P];
    int rc = SS_OK;
    switch ((int)p[P_WINDOW]) {
    case WIN_JOGLEKAR:
        rc |= ss_buf_printf(out, ".func ss_foff(x) = 1 - ss_pw((2*x - 1)*(2*x - 1), %.17g)\n", pp);
        rc |= ss_buf_printf(out, ".func ss_fon(x) = 1 - ss_pw((2*x - 1)*(2*x - 1), %.17g)\n", pp);
        break;
    case WIN_BIOLEK:
        rc |= ss_buf_printf(out, ".func ss_foff(x) = 1 - ss_pw(x*x, %.17g)\n", pp);
        rc |= ss_buf_printf(out, ".func ss_fon(x) = 1 - ss_pw((x - 1)*(x - 1), %.17g)\n", pp);
        break;
    case WIN_PRODROMAKIS:
        rc |= ss_buf_printf(out,
                            ".func ss_foff(x) = (%.17g)*(1 - ss_pw((x - 0.5)*(x - 0.5) + 0.75, "
                            "%.17g))\n",
                            p[P_J], pp);
        rc |= ss_buf_printf(out, ".func ss_fon(x) = ss_foff(x)\n");
        break;
    case WIN_KVATINSKY: {
        double D = p[P_W_OFF] - p[P_W_ON];
        rc |= ss_buf_printf(out,
                            ".func ss_foff(x) = exp(-ss_lexp(((x*(%.17g) + (%.17g)) - (%.17g))"
                            "/(%.17g)))\n",
                            D, p[P_W_ON], p[P_A_OFF], p[P_W_C]);
        rc |= ss_buf_printf(out,
                            ".func ss_fon(x) = exp(-ss_lexp(-((x*(%.17g) + (%.17g)) - (%.17g))"
                            "/(%.17g)))\n",
                            D, p[P_W_ON], p[P_A_ON], p[P_W_C]);
        break;
    }
    default:
        rc |= ss_buf_printf(out, ".func ss_foff(x) = 1\n.func ss_fon(x) = 1\n");
        break;
    }
    return rc ? SS_ENOMEM : SS_OK;
}

static int vteam_spice_body(const ss_device *d, ss_buf *out)
{
    const double *p = d->p;
    double D = p[P_W_OFF] - p[P_W_ON];
    int rc = SS_OK;
    rc |= ss_buf_printf(out, ".func ss_x01(x) = (x < 0 ? 0 : (x > 1 ? 1 : x))\n");
    if (vteam_windows_spice(d, out))
        return SS_ENOMEM;
    if (d->hard) {
        rc |= ss_buf_printf(out,
                            ".func ss_roff(v) = (v > (%.17g) ? (%.17g)*ss_pw(v/(%.17g) - 1, "
                            "%.17g) : 0)\n",
                            p[P_V_OFF], p[P_K_OFF], p[P_V_OFF], p[P_ALPHA_OFF]);
        rc |= ss_buf_printf(out,
                            ".func ss_ron(v) = (v < (%.17g) ? (%.17g)*ss_pw(v/(%.17g) - 1, "
                            "%.17g) : 0)\n",
                            p[P_V_ON], p[P_K_ON], p[P_V_ON], p[P_ALPHA_ON]);
        rc |= ss_buf_printf(out, ".func ss_bup(x) = (x < 1 ? 1 : 0)\n"
                                 ".func ss_bdn(x) = (x > 0 ? 1 : 0)\n");
    } else {
        rc |= ss_buf_printf(out,
                            ".func ss_roff(v) = (%.17g)*ss_pw(ss_sp(v - (%.17g), %.17g)/(%.17g), "
                            "%.17g)\n",
                            p[P_K_OFF], p[P_V_OFF], p[P_SMOOTH_V], p[P_V_OFF], p[P_ALPHA_OFF]);
        rc |= ss_buf_printf(out,
                            ".func ss_ron(v) = (%.17g)*ss_pw(ss_sp((%.17g) - v, %.17g)/(%.17g), "
                            "%.17g)\n",
                            p[P_K_ON], p[P_V_ON], p[P_SMOOTH_V], -p[P_V_ON], p[P_ALPHA_ON]);
        rc |= ss_buf_printf(out,
                            ".func ss_bup(x) = ss_sst((1 - x)/(%.17g))\n"
                            ".func ss_bdn(x) = ss_sst(x/(%.17g))\n",
                            p[P_SMOOTH_X], p[P_SMOOTH_X]);
    }
    rc |= ss_buf_printf(out, "Cx xs 0 1 IC={x0}\n");
    rc |= ss_buf_printf(out,
                        "Bx 0 xs I = (ss_roff(" VC ")*ss_foff(ss_xc(" X "))*ss_bup(" X
                        ") + ss_ron(" VC ")*ss_fon(ss_xc(" X "))*ss_bdn(" X "))/(%.17g)\n",
                        D);
    if ((int)p[P_IV] == IV_EXPONENTIAL)
        rc |= ss_buf_printf(out, "Bm te be I = V(te,be)*exp(-(%.17g)*ss_x01(" X "))/(%.17g)\n",
                            log(p[P_R_OFF] / p[P_R_ON]), p[P_R_ON]);
    else
        rc |= ss_buf_printf(out, "Bm te be I = V(te,be)/((%.17g) + (%.17g)*ss_x01(" X "))\n",
                            p[P_R_ON], p[P_R_OFF] - p[P_R_ON]);
    return rc ? SS_ENOMEM : SS_OK;
}

const ss_device_type ssd_vteam_type = {
    .name = "vteam",
    .title = "VTEAM (Kvatinsky et al., IEEE TCAS-II 62(8):786, 2015)",
    .x_lrs = 0.0,
    .nparams = P_COUNT,
    .params = vteam_params,
    .validate = vteam_validate,
    .eval = vteam_eval,
    .x0 = vteam_x0,
    .spice_body = vteam_spice_body,
};

const ss_device_type *const ss_device_vteam = &ssd_vteam_type;
