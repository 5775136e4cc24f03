"""Builds the compiled binding `_smallsim` with cffi in API (out-of-line) mode.

The declarations below are checked by the C compiler against the library's
public headers when the module is built: every struct declared with all its
members must match the header's size and member offsets, every enum value
must equal the header's, and every function must take the declared types
(incompatible pointer types are errors), so the binding cannot drift from the
headers unnoticed.  Structs of which the binding reads only some members end
in `...;` and take their layout from the compiler.

Usage:
    python3 python/smallsim/_build.py --root . --lib build --out build/python
(`make python` does this), or through setup.py (`pip install ./python`).
"""

import os
import subprocess
import sys

import cffi

CDEF = r"""
/* ---- util ---------------------------------------------------------------- */
enum ss_status {
    SS_OK, SS_EINVAL, SS_ENOMEM, SS_EIO, SS_EPARSE, SS_EDENIED, SS_ESIM, SS_ETIMEOUT,
    SS_ECRASH, SS_EENGINE, SS_EBUSY, SS_ENOTFOUND, SS_ENUMERIC, SS_ESTATUS_MAX
};
#define SS_ERROR_MSG_MAX ...
typedef struct ss_error { int code; char msg[...]; } ss_error;
const char *ss_strerror(int code);
int ss_error_set(ss_error *err, int code, const char *fmt, ...);
void ss_error_clear(ss_error *err);
typedef struct ss_buf { char *data; size_t len, cap; } ss_buf;
void ss_buf_release(ss_buf *b);
void free(void *);
int ss_util_parse_spice_number(const char *s, double *out);
double ss_util_cpu_time(void);
long ss_util_rss_kb(void);
static const char *const ss_py_version;

/* ---- gsl random numbers (the devices' samplers take a generator) --------- */
typedef ... gsl_rng_type;
typedef ... gsl_rng;
extern const gsl_rng_type *gsl_rng_mt19937;
gsl_rng *gsl_rng_alloc(const gsl_rng_type *T);
void gsl_rng_set(const gsl_rng *r, unsigned long int s);
void gsl_rng_free(gsl_rng *r);

/* ---- netlists ------------------------------------------------------------- */
enum ss_netlist_flags {
    SS_NETLIST_ALLOW_CONTROL, SS_NETLIST_ALLOW_ANY_INCLUDE, SS_NETLIST_NO_SANDBOX,
    SS_NETLIST_BODY, ...
};
typedef struct ss_netlist { size_t n; ...; } ss_netlist;
int ss_netlist_read_file(ss_netlist *nl, const char *path, unsigned flags, ss_error *err);
int ss_netlist_read_string(ss_netlist *nl, const char *text, const char *name,
                           const char *dir, unsigned flags, ss_error *err);
int ss_netlist_measures(const ss_netlist *nl, char ***names, size_t *n, ss_error *err);
void ss_netlist_names_free(char **names, size_t n);
void ss_netlist_release(ss_netlist *nl);

/* ---- engine --------------------------------------------------------------- */
enum ss_vector_type { SS_VT_NOTYPE, SS_VT_TIME, SS_VT_FREQUENCY, SS_VT_VOLTAGE, SS_VT_CURRENT };
typedef struct ss_vector {
    char *name; int type; size_t n; double *re; double *im;
} ss_vector;
typedef struct ss_plot {
    char *name; char *type; char *title; int has_scale; size_t nvec; ss_vector *vec;
} ss_plot;
typedef struct ss_measure {
    char *name; char *analysis; double value; int ok; int digits;
} ss_measure;
typedef struct ss_result {
    size_t nplot; ss_plot *plot; size_t nmeas; ss_measure *meas; char *printout; int quit;
    int quit_status;
} ss_result;
const ss_measure *ss_result_measure(const ss_result *res, const char *name);
const char *ss_vector_type_name(int type);
const ss_vector *ss_result_find(const ss_result *res, const char *name);
const ss_vector *ss_plot_find(const ss_plot *plot, const char *name);
void ss_result_release(ss_result *res);
int ss_result_write_csv(const ss_plot *plot, const char *const *names, size_t nnames,
                        const char *path, ss_error *err);
int ss_result_write_raw(const ss_result *res, const char *const *names, size_t nnames,
                        const char *path, ss_error *err);

typedef struct ss_engine ss_engine;
typedef struct ss_engine_point {
    double t; size_t n; const char *const *names; const double *values;
} ss_engine_point;
typedef struct ss_engine_hooks {
    int (*source)(void *user, const char *name, double t, double *value);
    int (*accept)(void *user, const ss_engine_point *pt);
    double (*max_step)(void *user, double t);
    void *user;
} ss_engine_hooks;
int ss_engine_open(ss_engine **eng, ss_error *err);
void ss_engine_free(ss_engine *eng);
void ss_engine_set_hooks(ss_engine *eng, const ss_engine_hooks *hooks);
int ss_engine_breakpoint(ss_engine *eng, double t);
int ss_engine_load(ss_engine *eng, const ss_netlist *nl, ss_error *err);
int ss_engine_run(ss_engine *eng, ss_result *res, ss_error *err);
int ss_engine_command(ss_engine *eng, const char *cmd, int allow_unsafe, ss_error *err);
const char *ss_engine_transcript(const ss_engine *eng);
int ss_engine_reloads(const ss_engine *eng);
typedef struct ss_engine_child_options {
    double timeout; char **transcript; const char *run_dir; size_t files;
} ss_engine_child_options;
int ss_engine_run_child(const ss_netlist *nl, ss_engine_child_options *opt,
                        ss_result *res, ss_error *err);

/* ---- devices -------------------------------------------------------------- */
typedef struct ss_device_param {
    const char *name; const char *unit; double def; const char *description;
    const char *const *choices;
} ss_device_param;
typedef struct ss_device_type {
    const char *name; const char *title; double x_lrs; size_t nparams;
    const ss_device_param *params; ...;
} ss_device_type;
typedef struct ss_device { const ss_device_type *type; double p[...]; int hard; int polarity; } ss_device;
typedef struct ss_device_eval {
    double i, di_dv, di_dx; double dxdt, ddxdt_dv, ddxdt_dx;
} ss_device_eval;
extern const ss_device_type *const ss_device_types[];
const ss_device_type *ss_device_type_find(const char *name);
void ss_device_init(ss_device *d, const ss_device_type *type);
int ss_device_param_index(const ss_device_type *type, const char *name);
double ss_device_get(const ss_device *d, const char *name);
int ss_device_set_param(ss_device *d, const char *name, const char *value, ss_error *err);
int ss_device_set_list(ss_device *d, const char *list, ss_error *err);
int ss_device_validate(const ss_device *d, ss_error *err);
void ss_device_evaluate(const ss_device *d, double v, double x, ss_device_eval *ev);
double ss_device_x0(const ss_device *d);
double ss_device_conductance(const ss_device *d, double x, double v_read);
typedef struct ss_device_preset {
    const char *name; const char *model; const char *params; const char *drive;
    const char *source; int unverified;
} ss_device_preset;
extern const ss_device_preset ss_device_presets[];
int ss_device_apply_preset(ss_device *d, const char *name, ss_error *err);
int ss_device_write_spice(const ss_device *d, const char *name, ss_buf *out, ss_error *err);
enum ss_device_fault { SS_DEVICE_FAULT_NONE, SS_DEVICE_FAULT_STUCK_ON, SS_DEVICE_FAULT_STUCK_OFF };
typedef struct ss_device_variation {
    size_t nspread; double p_stuck_on; double p_stuck_off; double c2c_sigma; int levels;
    double v_read; double read_sigma; double retention_tau, retention_x; ...;
} ss_device_variation;
void ss_device_variation_init(ss_device_variation *var);
void ss_device_variation_literature(ss_device_variation *var, const ss_device_type *type);
int ss_device_variation_set(ss_device_variation *var, const char *assignment, ss_error *err);
int ss_device_variation_validate(const ss_device_variation *var, const ss_device_type *type,
                                 ss_error *err);
int ss_device_sample(const ss_device *nominal, const ss_device_variation *var, gsl_rng *rng,
                     ss_device *out, enum ss_device_fault *fault, ss_error *err);
double ss_device_fault_state(const ss_device *d, enum ss_device_fault fault, double x);
double ss_device_program(const ss_device *d, const ss_device_variation *var, gsl_rng *rng,
                         enum ss_device_fault fault, double x_target);
double ss_device_read(const ss_device *d, const ss_device_variation *var, gsl_rng *rng,
                      enum ss_device_fault fault, double v, double x);

/* ---- devsim ---------------------------------------------------------------- */
typedef struct ss_wave { int kind; ...; } ss_wave;
int ss_wave_parse(ss_wave *w, const char *spec, ss_error *err);
double ss_wave_value(const ss_wave *w, double t);
double ss_wave_duration(const ss_wave *w);
typedef struct ss_pwl { size_t n; double *t, *v; } ss_pwl;
typedef struct ss_devsim_options {
    double series_r; size_t points; double rtol, atol; double max_step;
} ss_devsim_options;
typedef struct ss_devsim_trace {
    size_t n; double *t, *vs, *v, *i, *x; long steps, rhs_evals;
} ss_devsim_trace;
int ss_devsim_run(const ss_device *d, const ss_wave *w, const ss_devsim_options *opt,
                  ss_devsim_trace *tr, ss_error *err);
void ss_devsim_trace_release(ss_devsim_trace *tr);
int ss_devsim_netlist(const ss_device *d, const ss_wave *w, const ss_devsim_options *opt,
                      ss_buf *out, ss_error *err);
int ss_devsim_run_spice(ss_engine *eng, const ss_device *d, const ss_wave *w,
                        const ss_devsim_options *opt, ss_devsim_trace *tr, ss_error *err);

/* ---- crossbar --------------------------------------------------------------- */
typedef struct ss_crossbar_spec { size_t rows, cols; double rwire, rsource, rsense; } ss_crossbar_spec;
typedef struct ss_crossbar ss_crossbar;
ss_crossbar *ss_crossbar_alloc(const ss_crossbar_spec *spec, ss_error *err);
void ss_crossbar_free(ss_crossbar *xb);
int ss_crossbar_dc(ss_crossbar *xb, const double *g, const double *v, double *iout,
                   ss_error *err);
int ss_crossbar_solve_devices(ss_crossbar *xb, const ss_device *cells, int shared,
                              const double *x, const double *v, double *iout, ss_error *err);
void ss_crossbar_cell_voltages(const ss_crossbar *xb, double *vcell);
int ss_crossbar_iterations(const ss_crossbar *xb);
typedef struct ss_device_integration_stats { long steps; long rejected; long solves; } ss_device_integration_stats;
typedef struct ss_crossbar_tran_options {
    const ss_pwl *bit; const unsigned char *frozen; double rtol; ss_device_integration_stats stats;
} ss_crossbar_tran_options;
int ss_crossbar_tran(ss_crossbar *xb, const ss_device *cells, int shared, const ss_pwl *word,
                     double tstop, ss_crossbar_tran_options *opt, double *x, ss_error *err);

/* ---- network ----------------------------------------------------------------- */
typedef struct ss_network ss_network;
typedef struct ss_lif_params {
    double tau_m, v_rest, v_reset, v_th, r_m, tau_syn, t_ref, i_bias, a, b, tau_w;
    double in_beta, in_ref;
} ss_lif_params;
typedef struct ss_dpi_params {
    double cmem, itau, ith, io, ispkthr, ireset, kappa, ut, iagain, iath, ianorm;
    double cahp, itauahp, ithahp, iahp_jump, tau_syn, t_ref, i_bias;
    double in_beta, in_ref;
} ss_dpi_params;
static const ss_lif_params ss_py_lif_defaults;
static const ss_dpi_params ss_py_dpi_defaults;
int ss_network_dpi_rate(const ss_dpi_params *p, double i_in, double *rate, ss_error *err);
enum ss_network_pop_kind { SS_POP_LIF, SS_POP_DPI, SS_POP_POISSON, SS_POP_REGULAR, SS_POP_TIMES,
                           SS_POP_SPICE };
ss_network *ss_network_alloc(ss_error *err);
void ss_network_free(ss_network *net);
int ss_network_add_lif(ss_network *net, const char *name, size_t n, const ss_lif_params *p,
                       size_t *pop, ss_error *err);
int ss_network_add_dpi(ss_network *net, const char *name, size_t n, const ss_dpi_params *p,
                       size_t *pop, ss_error *err);
int ss_network_add_poisson(ss_network *net, const char *name, size_t n, double rate, size_t *pop,
                           ss_error *err);
int ss_network_add_regular(ss_network *net, const char *name, size_t n, double rate, double phase,
                           double stagger, size_t *pop, ss_error *err);
int ss_network_add_times(ss_network *net, const char *name, size_t n, const size_t *ids,
                         const double *times, size_t count, size_t *pop, ss_error *err);
int ss_network_add_tile(ss_network *net, const char *name, ss_netlist *body, double tmax,
                        size_t *tile, ss_error *err);
size_t ss_network_ntiles(const ss_network *net);
const char *ss_network_tile_name(const ss_network *net, size_t tile);
enum ss_network_input_shape { SS_INPUT_EXPONENTIAL = 0, SS_INPUT_PULSE = 1 };
typedef struct ss_network_spice {
    const size_t *tile; const char *const *spike; const char *const *input;
    double threshold; int shape; double tau_syn; double width, edge; double gain;
} ss_network_spice;
int ss_network_add_spice(ss_network *net, const char *name, size_t n, const ss_network_spice *spec,
                         size_t *pop, ss_error *err);
void ss_network_tile_stats(const ss_network *net, size_t tile, long *points, double *cpu);
int ss_network_set_bias(ss_network *net, size_t pop, const double *i_bias, ss_error *err);
size_t ss_network_npops(const ss_network *net);
const char *ss_network_pop_name(const ss_network *net, size_t pop);
size_t ss_network_pop_size(const ss_network *net, size_t pop);
int ss_network_pop_kind(const ss_network *net, size_t pop);
int ss_network_connect(ss_network *net, size_t pre, size_t post, size_t nsyn,
                       const size_t *pre_idx, const size_t *post_idx, const double *weight,
                       const double *delay, ss_error *err);
int ss_network_connect_crossbar(ss_network *net, size_t pre, size_t post,
                                const ss_crossbar_spec *spec, const double *g, double v_read,
                                double t_read, double delay, ss_error *err);
typedef struct ss_network_plasticity {
    double v_set, v_reset, t_write, tau_plus, tau_minus;
    double half_select; double t_edge; double rtol;
} ss_network_plasticity;
int ss_network_connect_memristive(ss_network *net, size_t pre, size_t post,
                                  const ss_crossbar_spec *spec, const ss_device *nominal,
                                  const ss_device_variation *var, const double *x0, double v_read,
                                  double t_read, double delay, const ss_network_plasticity *rule,
                                  unsigned long seed, size_t *proj, ss_error *err);
size_t ss_network_nmemristive(const ss_network *net);
void ss_network_crossbar_states(const ss_network *net, size_t proj, double *x, double *g,
                                size_t *pre, size_t *post);
int ss_network_add_step(ss_network *net, size_t pop, size_t idx, double t_on, double t_off,
                        double amp, ss_error *err);
int ss_network_record_state(ss_network *net, size_t pop, const size_t *idx, size_t n, double dt,
                            ss_error *err);
enum ss_network_solver { SS_NETWORK_ADAMS, SS_NETWORK_BDF };
typedef struct ss_network_options {
    double dt; double rtol; unsigned long seed;
    int (*progress)(void *user, double t, double tstop, size_t spikes);
    void *user; ss_engine *engine; int solver;
} ss_network_options;
static const ss_network_options ss_py_network_defaults;
int ss_network_run(ss_network *net, double tstop, const ss_network_options *opt, ss_error *err);
double ss_network_time(const ss_network *net);
size_t ss_network_nspikes(const ss_network *net);
size_t ss_network_spikes(const ss_network *net, size_t first, size_t n, double *t, size_t *pop,
                         size_t *idx);
size_t ss_network_pop_spikes(const ss_network *net, size_t pop);
size_t ss_network_nsamples(const ss_network *net);
size_t ss_network_samples(const ss_network *net, size_t first, size_t n, double *t, size_t *pop,
                          size_t *idx, double *value);
void ss_network_stats(const ss_network *net, long *steps, long *rhs_evals, long *restarts);
int ss_network_write_spikes(const ss_network *net, const char *path, ss_error *err);
int ss_network_write_states(const ss_network *net, const char *path, ss_error *err);
int ss_network_write_summary(const ss_network *net, const char *path, double seconds,
                             ss_error *err);

/* ---- experiment -------------------------------------------------------------- */
typedef struct ss_experiment {
    double duration, dt, rtol; unsigned long seed; int solver;
} ss_experiment;
int ss_experiment_load(const char *path, long seed, ss_network **net, ss_experiment *exp,
                       ss_error *err);

/* ---- fit ------------------------------------------------------------------------ */
typedef struct ss_fit_data {
    char *name; size_t n; double *t; double *v; double *i; double series_r; double freq;
    double i_scale; int i_scale_from; char *notes;
} ss_fit_data;
typedef struct ss_fit_read_options {
    const char *columns; double freq; double current_scale; double series_r; int series_column;
    double sweep_rate; double step_time; double sense_r; int fold; size_t samples;
    int offset_mode; double offset; int drive_only;
} ss_fit_read_options;
int ss_fit_data_read(ss_fit_data *d, const char *path, const ss_fit_read_options *opt,
                     ss_error *err);
int ss_fit_data_set(ss_fit_data *d, const char *name, size_t n, const double *t, const double *v,
                    const double *i, double freq, double series_r, ss_error *err);
int ss_fit_data_check(const ss_fit_data *d, ss_error *err);
void ss_fit_data_release(ss_fit_data *d);
typedef ss_devsim_trace ss_fit_trace;
int ss_fit_simulate(const ss_device *d, int polarity, const ss_fit_data *data, double x0,
                    double tol, ss_fit_trace *tr, ss_error *err);
typedef struct ss_fit ss_fit;
typedef struct ss_fit_progress {
    const char *phase; int iteration; int start; long evals; double best; double seconds;
} ss_fit_progress;
typedef int (*ss_fit_progress_fn)(const ss_fit_progress *p, void *user);
typedef struct ss_fit_options {
    unsigned long seed; int threads; int population; int generations; int starts; int max_iter;
    double global_tol; double tol; int polarity; ss_fit_progress_fn progress; void *user;
    int objective; double log_floor;
} ss_fit_options;
ss_fit *ss_fit_alloc(const ss_device_type *type, ss_error *err);
void ss_fit_free(ss_fit *f);
int ss_fit_add_data(ss_fit *f, const ss_fit_data *d, ss_error *err);
int ss_fit_set_device(ss_fit *f, const ss_device *d, ss_error *err);
int ss_fit_fix(ss_fit *f, const char *name, double value, ss_error *err);
int ss_fit_set_bounds(ss_fit *f, const char *name, double lo, double hi, ss_error *err);
void ss_fit_set_options(ss_fit *f, const ss_fit_options *opt);
typedef struct ss_fit_param {
    const char *name, *unit; double value; double stderr_; double lo, hi; int free;
    int at_bound; int identifiable; char partner[24]; double corr;
} ss_fit_param;
typedef struct ss_fit_file {
    char *name; double x0, x0_stderr; int x0_free; double nrmse; double log_rmse;
    double log_floor; double series_r; ss_fit_trace model;
} ss_fit_file;
typedef struct ss_fit_result {
    ss_device device; int polarity; size_t nparams; ss_fit_param *params; size_t nfiles;
    ss_fit_file *files; double nrmse; double cond; size_t nfree; long evals; double seconds;
    double global_nrmse; int objective; double log_rmse; double cost; char *notes;
} ss_fit_result;
void ss_fit_result_release(ss_fit_result *r);
int ss_fit_run(ss_fit *f, ss_fit_result *res, ss_error *err);
int ss_fit_result_json(const ss_fit_result *r, ss_buf *out, ss_error *err);
int ss_fit_result_spice(const ss_fit_result *r, const char *name, size_t file, ss_buf *out,
                        ss_error *err);
int ss_fit_run_spice(ss_engine *eng, const ss_fit_result *r, size_t file,
                     const ss_fit_data *data, ss_fit_trace *tr, ss_error *err);
int ss_fit_plot(const ss_fit_result *r, const ss_fit_data *data, const char *png,
                const char *title, int log_current, ss_error *err);

/* ---- sweep ------------------------------------------------------------------------ */
enum ss_sweep_axis_kind { SS_SWEEP_AXIS_VALUES, SS_SWEEP_AXIS_DIST };
typedef struct ss_sweep_axis {
    char *name; int kind; double *values; size_t n; int dist; double a, b;
} ss_sweep_axis;
int ss_sweep_axis_parse(ss_sweep_axis *ax, const char *arg, ss_error *err);
void ss_sweep_axis_release(ss_sweep_axis *ax);
enum ss_sweep_mode { SS_SWEEP_GRID, SS_SWEEP_ZIP, SS_SWEEP_LHS, SS_SWEEP_MC };
enum ss_sweep_status { SS_SWEEP_OK, SS_SWEEP_SIM_ERROR, SS_SWEEP_TIMEOUT, SS_SWEEP_CRASH,
                       SS_SWEEP_MEAS_FAILED, SS_SWEEP_STATUS_MAX };
const char *ss_sweep_status_name(int status);
typedef struct ss_sweep_spec {
    const char *netlist; unsigned netlist_flags; const char *const *params; size_t nparams;
    int mode; size_t samples; uint64_t seed; const char *const *measures; size_t nmeasures;
} ss_sweep_spec;
typedef struct ss_sweep ss_sweep;
ss_sweep *ss_sweep_alloc(const ss_sweep_spec *spec, ss_error *err);
void ss_sweep_free(ss_sweep *sw);
size_t ss_sweep_njobs(const ss_sweep *sw);
const char *ss_sweep_header(const ss_sweep *sw);
typedef struct ss_sweep_progress {
    size_t done, failed, total; size_t skipped; double elapsed, rate, eta; uint64_t job;
    int status; const char *msg;
} ss_sweep_progress;
typedef struct ss_sweep_options {
    const char *out; int jobs; double timeout; int resume; size_t shard_index, shard_count;
    const char *raw_dir; void (*progress)(void *user, const ss_sweep_progress *p); void *user;
} ss_sweep_options;
static const ss_sweep_options ss_py_sweep_options_defaults;
typedef struct ss_sweep_summary {
    size_t total, ran, skipped; size_t count[...]; double seconds;
} ss_sweep_summary;
int ss_sweep_run(ss_sweep *sw, const ss_sweep_options *opt, ss_sweep_summary *sum,
                 ss_error *err);

/* ---- circuits ------------------------------------------------------------------------ */
enum ss_circuit_kind { SS_CIRCUIT_NEURON, SS_CIRCUIT_SYNAPSE };
typedef struct ss_circuit_bias {
    const char *name; const char *node; int ptype; double value; const char *help; int voltage;
} ss_circuit_bias;
typedef struct ss_circuit_info {
    const char *name; int kind; const char *input; double input_default; const char *help;
    size_t nbias; ss_circuit_bias bias[...]; const char *like; ...;
} ss_circuit_info;
size_t ss_circuit_count(void);
const ss_circuit_info *ss_circuit_get(size_t i);
const ss_circuit_info *ss_circuit_find(const char *name);
ss_circuit_info *ss_circuit_load(const char *path, ss_error *err);
void ss_circuit_free(ss_circuit_info *info);
typedef struct ss_circuit_config {
    const ss_circuit_info *info; double bias[...]; const char *models; const char *nmos, *pmos;
    double temp; double vdd; double avt; uint64_t seed; uint64_t sample; double reltol;
    unsigned char voltage[...]; int input_mirror;
} ss_circuit_config;
void ss_circuit_config_init(ss_circuit_config *cfg, const ss_circuit_info *info);
int ss_circuit_set_bias(ss_circuit_config *cfg, const char *name, double value, ss_error *err);
typedef struct ss_circuit_point {
    double input; size_t nspikes; double tsim; double rate; double isi_first, isi_last;
    double cv; double adaptation; double refractory; double energy; double power;
    double tau, gain; double seconds; unsigned flags; double spike_lo, spike_hi; double transfer;
} ss_circuit_point;
int ss_circuit_run_point(ss_engine *eng, const ss_circuit_config *cfg, double input,
                         ss_circuit_point *pt, ss_error *err);
typedef struct ss_circuit_lif { double tau, irh, tref, beta; double rms_rel; double max_rel; } ss_circuit_lif;
double ss_circuit_lif_rate(const ss_circuit_lif *m, double input);
typedef struct ss_circuit_dpi { ss_dpi_params p; double rms_rel, max_rel; } ss_circuit_dpi;
int ss_circuit_measures_parse(const char *list, int kind, unsigned *flags, ss_error *err);
typedef struct ss_circuit_progress {
    uint64_t job; int status; const char *msg; size_t done, total; size_t failed; int rheobase;
    double value, temp; uint64_t sample; double rate; double gain, tau; unsigned flags;
    double elapsed;
} ss_circuit_progress;
typedef struct ss_circuit_campaign_spec {
    ss_circuit_config base; int bias; double input; const double *values; size_t nvalues;
    const double *temps; size_t ntemps; size_t mc; unsigned measures; double rheo_lo, rheo_hi;
    int jobs; double timeout; const char *journal; int resume; const char *csv;
    const char *extract; const char *params; const char *plot;
    void (*progress)(void *user, const ss_circuit_progress *p);
    void *user;
} ss_circuit_campaign_spec;
void ss_circuit_campaign_spec_init(ss_circuit_campaign_spec *spec, const ss_circuit_info *info);
typedef struct ss_circuit_campaign ss_circuit_campaign;
void ss_circuit_campaign_free(ss_circuit_campaign *c);
size_t ss_circuit_campaign_failed(const ss_circuit_campaign *c);
int ss_circuit_campaign_point(const ss_circuit_campaign *c, size_t v, size_t t, size_t s,
                              ss_circuit_point *pt);
double ss_circuit_campaign_rheobase(const ss_circuit_campaign *c, size_t t, size_t s);
int ss_circuit_campaign_csv(const ss_circuit_campaign *c, ss_buf *out);
typedef struct ss_circuit_extraction {
    const char *model; ss_circuit_lif lif; ss_circuit_dpi dpi; size_t npoints;
    double rms_rel, max_rel; double rheobase_model; double rheobase_measured; char path[...];
} ss_circuit_extraction;
int ss_circuit_characterize(const ss_circuit_campaign_spec *spec, ss_circuit_campaign **out,
                            ss_circuit_extraction *x, ss_error *err);

/* ---- l2l ------------------------------------------------------------------------------- */
enum ss_l2l_param_flags { SS_L2L_LOG, SS_L2L_FIXED };
typedef struct ss_l2l_param { char name[...]; double lo, hi; double init; unsigned flags; } ss_l2l_param;
int ss_l2l_space_check(const ss_l2l_param *p, size_t n, ss_error *err);
typedef struct ss_l2l_opt_type ss_l2l_opt_type;
const ss_l2l_opt_type *ss_l2l_opt_type_find(const char *name);
const char *ss_l2l_opt_type_name(const ss_l2l_opt_type *t);
typedef struct ss_l2l_opt_settings {
    size_t pop; double sigma0; double rho; double smoothing; double noise; double noise_decay;
    size_t tournament; double cx_prob; double mut_prob; double mut_sigma; size_t elite;
    size_t grid_points; size_t restarts; double tolfun, tolx;
} ss_l2l_opt_settings;
static const ss_l2l_opt_settings ss_py_l2l_settings_defaults;
int ss_l2l_opt_settings_check(const ss_l2l_opt_type *t, size_t dim, const ss_l2l_opt_settings *s,
                              ss_error *err);
typedef struct ss_l2l_opt ss_l2l_opt;
ss_l2l_opt *ss_l2l_opt_alloc(const ss_l2l_opt_type *t, size_t dim, const double *u0,
                             const ss_l2l_opt_settings *s, uint64_t seed, ss_error *err);
void ss_l2l_opt_free(ss_l2l_opt *o);
size_t ss_l2l_opt_pop(const ss_l2l_opt *o);
size_t ss_l2l_opt_restarts(const ss_l2l_opt *o);
size_t ss_l2l_opt_dim(const ss_l2l_opt *o);
uint64_t ss_l2l_opt_generation(const ss_l2l_opt *o);
double ss_l2l_opt_spread(const ss_l2l_opt *o);
int ss_l2l_opt_ask(ss_l2l_opt *o, double *u, size_t *n, ss_error *err);
int ss_l2l_opt_tell(ss_l2l_opt *o, const double *u, const double *f, size_t n, ss_error *err);
int ss_l2l_opt_save(const ss_l2l_opt *o, ss_buf *out, ss_error *err);
ss_l2l_opt *ss_l2l_opt_load(const char *text, const char *what, ss_error *err);
typedef struct ss_l2l_task ss_l2l_task;
struct ss_l2l_task {
    char name[...]; const char *metric; ss_l2l_param *params; size_t nparams;
    size_t ntrain, nval, ntest;
    int (*start)(const ss_l2l_task *t, void **state, ss_error *err);
    int (*evaluate)(const ss_l2l_task *t, void *state, const double *x, uint64_t seed,
                    double *metric, ss_error *err);
    void (*stop)(const ss_l2l_task *t, void *state);
    void *data; void (*destroy)(ss_l2l_task *t); const char *cache_dir;
    int (*set_device)(ss_l2l_task *t, const ss_device *d, ss_error *err);
    int has_device; ss_device device;
};
ss_l2l_task *ss_l2l_task_alloc(const char *name, ss_error *err);
void ss_l2l_task_free(ss_l2l_task *t);
const char *ss_l2l_task_family(size_t i);
int ss_l2l_task_fix(ss_l2l_task *t, const char *name, double value, ss_error *err);
enum ss_l2l_set { SS_L2L_TRAIN, SS_L2L_VAL, SS_L2L_TEST };
enum { SS_L2L_SELECT_AUTO, SS_L2L_SELECT_BEST, SS_L2L_SELECT_CENTER };
uint64_t ss_l2l_task_seed(int set, uint64_t run_seed, uint64_t generation, uint64_t k);
enum ss_l2l_event_kind { SS_L2L_EV_EVAL, SS_L2L_EV_GENERATION, SS_L2L_EV_POLISH };
typedef struct ss_l2l_event {
    int kind; uint64_t generation; uint64_t generations; const char *set; size_t index;
    int status; int attempt; int final; const char *msg; double metric; double seconds;
    double gen_best; double gen_val; double best_val; size_t failed; uint64_t evals;
    double elapsed; size_t pop; size_t restarts;
} ss_l2l_event;
typedef struct ss_l2l_options {
    const char *rundir; const ss_l2l_opt_type *optimizer; ss_l2l_opt_settings settings;
    uint64_t generations; uint64_t seed; int jobs; double timeout; int retries;
    size_t ntrain, nval; size_t polish_evals; int resume; int plot;
    void (*progress)(void *user, const ss_l2l_event *ev); void *user; int select;
} ss_l2l_options;
static const ss_l2l_options ss_py_l2l_options_defaults;
typedef struct ss_l2l_summary {
    uint64_t generations; uint64_t evals; uint64_t failed; double best_val; uint64_t best_gen;
    int polished; double seconds; char plot_msg[...];
} ss_l2l_summary;
int ss_l2l_run(const ss_l2l_task *task, const ss_l2l_options *opt, ss_l2l_summary *sum,
               ss_error *err);
int ss_l2l_best_read(const char *path, const ss_l2l_task *task, double *x, ss_error *err);
int ss_l2l_test(const ss_l2l_task *task, const double *x, size_t ntest, int jobs,
                double timeout, double *metric, ss_error *err);

/* ---- callbacks into Python ---------------------------------------------------------------- */
extern "Python" int _py_engine_source(void *user, const char *name, double t, double *value);
extern "Python" int _py_engine_accept(void *user, const ss_engine_point *pt);
extern "Python" double _py_engine_max_step(void *user, double t);
extern "Python" int _py_network_progress(void *user, double t, double tstop, size_t spikes);
extern "Python" int _py_fit_progress(const ss_fit_progress *p, void *user);
extern "Python" void _py_sweep_progress(void *user, const ss_sweep_progress *p);
extern "Python" void _py_campaign_progress(void *user, const ss_circuit_progress *p);
extern "Python" int _py_l2l_evaluate(const ss_l2l_task *t, void *state, const double *x,
                                     uint64_t seed, double *metric, ss_error *err);
extern "Python" void _py_l2l_progress(void *user, const ss_l2l_event *ev);
"""

SOURCE = r"""
#include "util/ss_util.h"
#include "netlists/ss_netlist.h"
#include "devices/ss_devices.h"
#include "cosim/engine/ss_engine.h"
#include "cosim/devsim/ss_devsim.h"
#include "cosim/crossbar/ss_crossbar.h"
#include "cosim/network/ss_network.h"
#include "cosim/experiment/ss_experiment.h"
#include "fit/ss_fit.h"
#include "sweep/ss_sweep.h"
#include "circuits/ss_circuits.h"
#include "l2l/ss_l2l.h"
#include <gsl/gsl_rng.h>

/* The headers' initialisers, so that Python starts from the same defaults. */
static const char *const ss_py_version = SS_VERSION;
static const ss_lif_params ss_py_lif_defaults = SS_LIF_DEFAULTS;
static const ss_dpi_params ss_py_dpi_defaults = SS_DPI_DEFAULTS;
static const ss_network_options ss_py_network_defaults = SS_NETWORK_OPTIONS_DEFAULT;
static const ss_sweep_options ss_py_sweep_options_defaults = SS_SWEEP_OPTIONS_INIT;
static const ss_l2l_opt_settings ss_py_l2l_settings_defaults = SS_L2L_OPT_SETTINGS_INIT;
static const ss_l2l_options ss_py_l2l_options_defaults = SS_L2L_OPTIONS_INIT;
"""


def _pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.split()


def make_ffibuilder(root=None, libdir=None, rpath=True):
    """An FFI builder for `_smallsim`.  `root`: the source tree (headers);
    `libdir`: the folder holding libsmallsim.so.  Without them: the clone
    this file sits in (python/smallsim/../..) and its build/ folder (or
    $SMALLSIM_BUILD), else an installed library found by pkg-config."""
    here = os.path.dirname(os.path.abspath(__file__))
    clone = os.path.dirname(os.path.dirname(here))
    include_dirs, library_dirs, extra_link = [], [], []
    if root is None and os.path.exists(os.path.join(clone, "util", "ss_util.h")):
        root = clone
    if libdir is None and root is not None:
        libdir = os.environ.get("SMALLSIM_BUILD") or os.path.join(root, "build")
        if not os.path.isabs(libdir):
            libdir = os.path.join(root, libdir)
    if root is not None and libdir is not None and os.path.exists(
            os.path.join(libdir, "libsmallsim.so")):
        include_dirs.append(os.path.abspath(root))
        library_dirs.append(os.path.abspath(libdir))
        if rpath:
            extra_link.append("-Wl,-rpath," + os.path.abspath(libdir))
    else:
        flags = _pkg_config("--cflags", "--libs", "smallsim")
        if flags is None:
            raise SystemExit("smallsim: neither a built clone (make) nor an installed library "
                             "(make install; pkg-config smallsim) was found")
        for f in flags:
            if f.startswith("-I"):
                include_dirs.append(f[2:])
            elif f.startswith("-L"):
                library_dirs.append(f[2:])
                extra_link.append("-Wl,-rpath," + f[2:])
    include_dirs += [f[2:] for f in (_pkg_config("--cflags", "gsl") or []) if f.startswith("-I")]
    ffibuilder = cffi.FFI()
    ffibuilder.cdef(CDEF)
    ffibuilder.set_source(
        "_smallsim", SOURCE,
        include_dirs=include_dirs,
        library_dirs=library_dirs,
        libraries=["smallsim", "gsl", "gslcblas", "m"],
        extra_link_args=extra_link,
        # a declaration that does not match the header is an error, not a warning
        extra_compile_args=["-std=gnu11", "-D_GNU_SOURCE",
                            "-Werror=incompatible-pointer-types", "-Werror=int-conversion",
                            "-Werror=implicit-function-declaration",
                            "-Werror=discarded-qualifiers"])
    return ffibuilder


# setup.py (cffi_modules) picks up this name.
ffibuilder = make_ffibuilder() if __name__ != "__main__" else None


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", required=True, help="source tree (the headers)")
    ap.add_argument("--lib", required=True, help="folder of libsmallsim.so")
    ap.add_argument("--out", required=True, help="folder for the compiled module")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    b = make_ffibuilder(os.path.abspath(a.root), os.path.abspath(a.lib))
    b.compile(tmpdir=a.out, verbose=False)


if __name__ == "__main__":
    main(sys.argv[1:])
