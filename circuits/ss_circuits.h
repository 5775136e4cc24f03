/* ss_circuits.h: transistor-level analog neuron circuits and their
 * characterization.
 *
 * The library ships ngspice subcircuits (Mead's Axon-Hillock, an Indiveri
 * DPI neuron, a DPI synapse) and a 180 nm-class BSIM3v3 card set, all
 * embedded in the library (circuits/lib/).  Biases are named currents; each
 * one drives a diode-connected unit transistor in the generated test bench,
 * whose gate voltage biases the circuit (I = I0 exp(kappa Vgs / UT) in weak
 * inversion, see ss_circuit_subthreshold).  Characterization runs the bench
 * on the engine (cosim/engine/) and measures spikes from the copied
 * vectors; campaigns of many points run on the worker pool (pool/).
 *
 * Typical use:
 *     ss_circuit_config cfg;  ss_circuit_config_init(&cfg, ss_circuit_find("dpi-neuron"));
 *     ss_circuit_point pt;
 *     ss_circuit_run_point(eng, &cfg, 1e-9, &pt, &err);    // rate, energy, ...
 */
#ifndef SS_CIRCUITS_H
#define SS_CIRCUITS_H

#include <stddef.h>
#include <stdint.h>

#include "cosim/crossbar/ss_crossbar.h"
#include "cosim/engine/ss_engine.h"
#include "cosim/network/ss_network.h"
#include "util/ss_util.h"

#define SS_CIRCUIT_MAX_BIAS 16

enum ss_circuit_kind { SS_CIRCUIT_NEURON = 0, SS_CIRCUIT_SYNAPSE };

/* One named bias.  A current bias drives a diode-connected unit device
 * whose gate is the bias node: `ptype` is 1 for a pFET diode (the current
 * is drawn out of the diode's drain towards ground), 0 for an nFET diode
 * (pushed into it from the bias supply).  A voltage bias drives the node
 * with an ideal source (the node's voltage to ground).  In a designer's
 * deck the biases are the deck's own DC sources (node: the source's name). */
typedef struct ss_circuit_bias {
    const char *name;  /* "Itau" */
    const char *node;  /* bench node it biases ("vtau"), or a deck's source */
    int ptype;
    double value;      /* default, A (V when `voltage`) */
    const char *help;
    int voltage;       /* 1: the default is a voltage */
} ss_circuit_bias;

/* A library circuit (static data, never freed). */
typedef struct ss_circuit_info {
    const char *name;    /* "dpi-neuron" */
    int kind;            /* enum ss_circuit_kind */
    const char *file;    /* embedded netlist, "dpi_neuron.sub" */
    const char *subckt;  /* "ss_dpi_neuron" */
    const char *ports;   /* instance port list in subcircuit order */
    const char *input;   /* name of the swept input current, "Iin" or "Iw" */
    double input_default;
    const char *spike;   /* node whose rising edge is a spike, "vspk" */
    const char *help;
    size_t nbias;
    ss_circuit_bias bias[SS_CIRCUIT_MAX_BIAS];
    /* A designer's circuit (ss_circuit_load): the library circuit whose
     * bench, biases and measurements it uses, and its subcircuit text.
     * NULL for the library's own circuits. */
    const char *like;
    const char *text;
    /* The file as read, lines with their origins (errors about it point
     * there); NULL for the library's circuits. */
    const ss_netlist *netlist;
    int deck;             /* 1: a whole deck with its own bench (the sources below) */
    int input_dir;        /* input current at its pin: +1 pushed in, -1 drawn out, 0 a bias */
    const char *membrane; /* bench node set to 0 V to kick a metastable start */
    const char *reset;    /* node whose release ends the refractory period (subcircuit
                           * mode: inside the subcircuit), NULL: the spike's width */
    /* decks: */
    const char *supply;   /* supply sources, comma-separated (energy, Vdd) */
    const char *pre, *output; /* synapses: the pulse source, the 0 V source carrying Isyn */
    double vdd;           /* the first supply's voltage (0: the config's) */
    double supply_v[4];   /* every supply's voltage, in the order of `supply` */
    double tmax;          /* the step of the deck's own transient (caps the bench's; 0: none) */
    int uic;              /* the deck's transient skips the operating point */
    double temp;          /* the deck's temperature, C (NAN: none set) */
} ss_circuit_info;

size_t ss_circuit_count(void);
const ss_circuit_info *ss_circuit_get(size_t i);
/* Finds a library circuit by name ("dpi-neuron", "axon-hillock",
 * "dpi-synapse"); NULL if there is none. */
const ss_circuit_info *ss_circuit_find(const char *name);
/* Text of an embedded file ("ptm180.lib", "dpi_neuron.sub"), NULL if none. */
const char *ss_circuit_text(const char *file);

/* A designer's circuit from a netlist file that declares its ports in a
 * comment line
 *     * smallsim: like=LIBRARY-CIRCUIT [subckt=NAME] [ROLE=PIN ...]
 * `like` names the library circuit whose test bench, bias currents, input
 * and measurements it takes (its ports are the roles: for dpi-neuron vdd
 * vss iin vmem vspk vtau vth vrefb vca vtauahp, see the .sub files in
 * circuits/lib/);
 * `subckt` picks the file's .subckt (default: the only one); ROLE=PIN maps
 * a role to a pin of that subcircuit, and a role not mapped is the pin of
 * the same name.  Every role needs a pin and every pin a role.  The file is
 * read and screened by the netlist reader (.control refused, includes
 * only inside its folder); its first line is the title, as in any SPICE
 * file; at the top level it may hold only .subckt blocks, .param, .model,
 * .func, .global and comments.  Transistors use the model names ss_nch and
 * ss_pch (or --nmos/--pmos); mismatch reads w= and l= from each device's
 * first line.  Errors read "file:line: what is wrong".  Returns a heap
 * object (free with ss_circuit_free), NULL on failure. */
ss_circuit_info *ss_circuit_load(const char *path, ss_error *err);
/* The same with declaration keys given apart from the file (`decl`, the
 * text after "smallsim:", e.g. "like=dpi-neuron input=Iin spike=out
 * supply=VDD"), added to the file's own line or instead of it; NULL: only
 * the file's. */
ss_circuit_info *ss_circuit_load_declared(const char *path, const char *decl, ss_error *err);
/* Frees a circuit from ss_circuit_load (NULL: nothing). */
void ss_circuit_free(ss_circuit_info *info);

/* What to simulate: a circuit, its biases, models, temperature, mismatch. */
typedef struct ss_circuit_config {
    const ss_circuit_info *info;
    double bias[SS_CIRCUIT_MAX_BIAS]; /* values of info->bias[], A */
    const char *models;  /* designer's card file (NULL: the shipped ptm180.lib);
                          * "FILE@SECTION" includes a .lib section */
    const char *nmos, *pmos; /* model names the cards define (NULL: ss_nch, ss_pch) */
    double temp;         /* Celsius */
    double vdd;          /* supply, V (1.8) */
    double avt;          /* Pelgrom AVT in mV*um (0: no mismatch) */
    uint64_t seed;       /* mismatch seed (with `sample`) */
    uint64_t sample;     /* 0: the nominal circuit (no shifts even with avt > 0) */
    double reltol;       /* 0: the circuit's default (1e-4 DPI, 1e-5 Axon-Hillock) */
    unsigned char voltage[SS_CIRCUIT_MAX_BIAS]; /* 1: bias[i] is a voltage (V) */
    int input_mirror;    /* 1: the input through a unit current mirror, whose transfer
                          * is measured (subcircuits; 0: an ideal source) */
} ss_circuit_config;

/* Defaults: the circuit's bias values, shipped cards, 27 C, 1.8 V, no mismatch. */
void ss_circuit_config_init(ss_circuit_config *cfg, const ss_circuit_info *info);
/* Sets bias `name` (case-insensitive) to `value` of the bias's own kind
 * (A for a current bias, V for a voltage bias); SS_ENOTFOUND if absent. */
int ss_circuit_set_bias(ss_circuit_config *cfg, const char *name, double value, ss_error *err);
/* Sets bias `name` from text with a unit: "20p" or "20pA" a current,
 * "0.45V" or "450mV" a voltage on the bias's node (the bench then drives
 * the node with an ideal source instead of a diode); without a unit the
 * kind the circuit gives the bias (its ss_circuit_bias.voltage).  A current
 * above 1 mA is refused as a forgotten 'V'. */
int ss_circuit_set_bias_text(ss_circuit_config *cfg, const char *name, const char *text,
                             ss_error *err);
/* Parses a bias value as above: *value and *voltage (1 for a V unit, 0 for
 * an A unit, `kind` without a unit). */
int ss_circuit_bias_parse(const char *text, int kind, double *value, int *voltage,
                          ss_error *err);

/* One transistor of a circuit, flattened through its subcircuit
 * instances, and its threshold shift in a mismatch sample. */
typedef struct ss_circuit_device {
    char name[96];   /* instance path as ngspice names it, lower case: "x1.min" */
    char where[160]; /* "file:line" of its statement */
    double w, l, m;  /* W and L in metres and the multiplier m=, evaluated with the
                      * netlist's .param and subcircuit parameters (NAN: unknown) */
    int varied;      /* 1: sizes known, the device gets a shift */
    char why[200];   /* why not */
    double sigma;    /* AVT / sqrt(W L m), V */
    double dvt;      /* this sample's shift, V (0 for sample 0 and unvaried devices) */
} ss_circuit_device;

/* Every transistor of the circuit (a subcircuit through all its instances,
 * a deck's whole top level) with sigma(dVT) = AVT / sqrt(W L m), W, L and
 * m evaluated from the netlist ({expressions} of .param and subcircuit
 * parameters included), and the shifts of one sample drawn with a GSL
 * mt19937 generator seeded from (seed, sample).  Sample 0 is the nominal
 * circuit: every dvt is 0.  *dev is a heap array (free()). */
int ss_circuit_mismatch(const ss_circuit_config *cfg, ss_circuit_device **dev, size_t *n,
                        ss_error *err);

/* Writes the test bench for input current `input` (A) simulated for
 * `tstop` seconds with steps of at most `tmax` into `out` (appended). */
int ss_circuit_bench(const ss_circuit_config *cfg, double input, double tstop, double tmax,
                     ss_buf *out, ss_error *err);

/* ---- measurements -------------------------------------------------------- */

/* What a measurement noticed (ss_circuit_point.flags, the rheobase's). */
enum ss_circuit_flag {
    SS_CIRCUIT_F_KICKED = 1 << 0,       /* metastable start: every node held still without
                                         * spikes; the run was repeated from the membrane
                                         * (or spike node) at 0 V, and fired */
    SS_CIRCUIT_F_SPIKE_LOW = 1 << 1,    /* no spike: the spike node never reached Vdd/2 */
    SS_CIRCUIT_F_SPIKE_HIGH = 1 << 2,   /* no spike: the spike node stayed above Vdd/2 */
    SS_CIRCUIT_F_TAU_FAILED = 1 << 3,   /* synapse: Isyn did not decay through 80%..20% */
    SS_CIRCUIT_F_GAIN_FAILED = 1 << 4,  /* synapse: no output current (gain 0 or none) */
    SS_CIRCUIT_F_TRANSFER = 1 << 5,     /* the input mirror delivers >1% off the nominal */
    SS_CIRCUIT_F_RHEO_FLOOR = 1 << 6,   /* rheobase: the circuit fires at the bracket's low end */
    SS_CIRCUIT_F_RHEO_CEILING = 1 << 7, /* rheobase: no repetitive firing at its high end */
    SS_CIRCUIT_F_FIRES_AT_ZERO = 1 << 8, /* rheobase: it fires with no input at all */
    /* found across a campaign's points: */
    SS_CIRCUIT_F_SILENT_ABOVE = 1 << 9, /* no spike, though a smaller input fires */
    SS_CIRCUIT_F_NEVER_FIRES = 1 << 10  /* no point fires and the spike node never rises */
};
/* Short names of the flags set ("kicked;spike-low"), into buf. */
const char *ss_circuit_flag_names(unsigned flags, char *buf, size_t size);

/* Everything measured at one input current.  NAN where not applicable or
 * where the measurement failed (flags say why). */
typedef struct ss_circuit_point {
    double input;       /* A */
    size_t nspikes;
    double tsim;        /* simulated time, s */
    double rate;        /* Hz, from the last half of the ISIs (0: fewer than 2 spikes) */
    double isi_first, isi_last; /* s */
    double cv;          /* std/mean of the ISIs after the first */
    double adaptation;  /* (ISI_last - ISI_first) / (ISI_last + ISI_first) */
    double refractory;  /* s: reset hold (DPI) or pulse width (Axon-Hillock) */
    double energy;      /* J per spike: Vdd * integral of the supply current over whole ISIs */
    double power;       /* W: average supply power over the same window */
    double tau, gain;   /* synapse: decay time constant (s), Isyn/Iw at the end of a long pulse */
    double seconds;     /* wall time of the simulations */
    unsigned flags;     /* enum ss_circuit_flag */
    double spike_lo, spike_hi; /* range of the spike node over the run, V */
    double transfer;    /* input mirror: mean delivered current / nominal (NAN: ideal) */
} ss_circuit_point;

/* Simulates the bench at one input and measures it.  Neurons: the run is
 * extended (x4, up to 1 s simulated) until it holds 8 spikes.  Synapses: a
 * 20 ms pulse then 30 ms of decay. */
int ss_circuit_run_point(ss_engine *eng, const ss_circuit_config *cfg, double input,
                         ss_circuit_point *pt, ss_error *err);

/* Upward crossings of `level` in (t, v), linearly interpolated, into
 * times[] (at most `max`); returns the number found. */
size_t ss_circuit_spike_times(const double *t, const double *v, size_t n, double level,
                              double *times, size_t max);

/* A rheobase search's outcome. */
typedef struct ss_circuit_rheo {
    double rheobase;  /* A; NAN when not found (flags say why) */
    double rate_zero; /* Hz at zero input, run when `lo` already fires (else NAN) */
    unsigned flags;   /* SS_CIRCUIT_F_RHEO_FLOOR, _RHEO_CEILING, _FIRES_AT_ZERO, _KICKED */
} ss_circuit_rheo;

/* Smallest input in [lo, hi] that fires repetitively (>= 3 spikes within
 * 1 s), by bisection in log space to a relative tolerance `rtol`.  When
 * `hi` does not fire or `lo` already does, the rheobase is NAN and the
 * flags say which (for `lo`, the circuit is also run at zero input). */
int ss_circuit_rheobase(ss_engine *eng, const ss_circuit_config *cfg, double lo, double hi,
                        double rtol, ss_circuit_rheo *out, ss_error *err);

/* Weak-inversion parameters of a W x L transistor (um) of the configured
 * cards, from an ngspice DC sweep of Vgs (0 .. 0.3 V, |Vds| = Vdd/2): a
 * least-squares line through ln(Id) gives kappa = UT * slope and the
 * current at Vgs = 0 gives I0.  `pfet` selects the pFET card. */
int ss_circuit_subthreshold(ss_engine *eng, const ss_circuit_config *cfg, int pfet, double w,
                            double l, double *i0, double *kappa, ss_error *err);

/* ---- compact model --------------------------------------------------------- */

/* Leaky integrate-and-fire with a refractory period behind a compressive
 * (power-law) input stage, as a log-domain input DPI with a subthreshold
 * mirror gives:
 *   x = (I / Irh)^beta,  f = 1 / (tref + tau ln(x / (x - 1)))
 * for I > Irh, else 0.  beta = 1 is the plain LIF with rheobase Irh. */
typedef struct ss_circuit_lif {
    double tau, irh, tref, beta;
    double rms_rel;   /* fit: rms relative rate error */
    double max_rel;   /* largest relative rate error */
} ss_circuit_lif;

double ss_circuit_lif_rate(const ss_circuit_lif *m, double input);
/* Fits the model to n (input, rate) pairs with rate > 0 (GSL
 * gsl_multifit_nlinear, trust region, residuals relative to the rate). */
int ss_circuit_fit_lif(const double *input, const double *rate, size_t n, ss_circuit_lif *m,
                       ss_error *err);
/* Writes the model as JSON to `path`: {"model": "lif", "circuit",
 * "fit_rms_rel", "fit_max_rel", "equation", "tau", "irh", "tref", "beta",
 * "params": {...}}, where params are the network LIF population's keys
 * (tau_m = tau, v_reset = v_rest, v_th - v_rest = r_m irh = 20 mV, t_ref =
 * tref, in_beta = beta, in_ref = irh) that give the same f-I; experiment
 * files load it with `params_file:`. */
int ss_circuit_lif_write(const ss_circuit_lif *m, const char *circuit, const char *path,
                         ss_error *err);

/* The network's DPI population (teili's first-order equations, see
 * ss_dpi_params) fitted to a transistor-level f-I curve.  Fitted, as
 * logarithms: itau, ith, t_ref and the input-stage exponent in_beta; in_ref
 * is the geometric mean of the fitted inputs (so in_beta and the gains are
 * nearly independent); cmem, kappa, ut, io, ireset, ispkthr and the
 * positive feedback (iagain, iath, ianorm) keep the values given in
 * `start`; adaptation is off (iahp_jump = 0, ithahp = io, so Iahp stays at
 * Io).  Rates come from ss_network_dpi_rate, the network's own equations. */
typedef struct ss_circuit_dpi {
    ss_dpi_params p;
    double rms_rel, max_rel; /* as for ss_circuit_lif */
} ss_circuit_dpi;

/* Fits n (input, rate) pairs with rate > 0; `start` gives the fixed
 * parameters and the first guess (NULL: SS_DPI_DEFAULTS with cmem = 1 pF,
 * the library neuron's). */
int ss_circuit_fit_dpi(const double *input, const double *rate, size_t n,
                       const ss_dpi_params *start, ss_circuit_dpi *m, ss_error *err);
/* Writes the model as JSON to `path`: {"model": "dpi", "circuit", "fit_rms_rel",
 * "fit_max_rel", "equation", "params": {the DPI population's keys}}, a file
 * experiment files load with `params_file:`. */
int ss_circuit_dpi_write(const ss_circuit_dpi *m, const char *circuit, const char *path,
                         ss_error *err);

/* ---- characterization campaigns -------------------------------------------
 * A campaign runs one circuit at every swept current (the input, or one
 * bias at a fixed input), temperature and mismatch sample as jobs on the
 * worker pool (pool/), each worker with its own engine; on request also one
 * rheobase bisection per temperature and sample.  Every finished job can
 * go to a results journal (the pool's: appended and synced per job, a
 * header "job,status,rate,...,config"); a resumed campaign keeps the
 * journal's ok rows and runs the rest.  Rows carry a hash of every setting
 * that shapes the results (circuit, biases, cards, supply, tolerances,
 * mismatch, the job list), so a resume with other settings is refused.
 * `smallsim characterize CIRCUIT ...` is ss_circuit_characterize.
 *
 * Job ids: point (value v, temperature t, sample s) is job
 * v + nvalues (t + ntemps s); the rheobase of (t, s) is job
 * nvalues ntemps nsamples + t + ntemps s. */

/* What a campaign reports (the CSV's columns, in this order). */
enum ss_circuit_measure {
    SS_CIRCUIT_M_RATE = 1 << 0,
    SS_CIRCUIT_M_ISI = 1 << 1,        /* two columns: isi_first, isi_last */
    SS_CIRCUIT_M_CV = 1 << 2,
    SS_CIRCUIT_M_ENERGY = 1 << 3,
    SS_CIRCUIT_M_POWER = 1 << 4,
    SS_CIRCUIT_M_RHEOBASE = 1 << 5,   /* adds the bisection jobs */
    SS_CIRCUIT_M_REFRACTORY = 1 << 6,
    SS_CIRCUIT_M_ADAPTATION = 1 << 7,
    SS_CIRCUIT_M_TAU = 1 << 8,
    SS_CIRCUIT_M_GAIN = 1 << 9
};

/* Parses a comma-separated list of measure names ("rate,isi,cv,energy,
 * power,rheobase,refractory,adaptation,tau,gain") into flags; NULL gives
 * the default of a circuit kind (neurons: rate,isi,cv,energy,power,
 * refractory,adaptation; synapses: tau,gain).  SS_EINVAL names an unknown
 * measure. */
int ss_circuit_measures_parse(const char *list, int kind, unsigned *flags, ss_error *err);

/* A finished job, for progress reports. */
typedef struct ss_circuit_progress {
    uint64_t job;
    int status;          /* SS_OK, the job's error, SS_ETIMEOUT, SS_ECRASH */
    const char *msg;     /* its message when it failed */
    size_t done, total;  /* jobs finished in this run, jobs this run runs */
    size_t failed;       /* of those, failed */
    int rheobase;        /* 1: a rheobase search, 0: a point */
    double value, temp;  /* the point's swept value (A or V) and temperature */
    uint64_t sample;
    double rate;         /* the point's rate or the rheobase (NAN when failed) */
    double gain, tau;    /* a synapse's (NAN otherwise) */
    unsigned flags;      /* enum ss_circuit_flag */
    double elapsed;      /* s since the campaign started */
} ss_circuit_progress;

typedef struct ss_circuit_campaign_spec {
    ss_circuit_config base;  /* circuit, biases, cards, seed; base.avt applies when mc > 0 */
    int bias;                /* index into base.info->bias of the swept bias, -1: the input */
    double input;            /* the input current while a bias is swept, A */
    const double *values;    /* the swept currents, A (borrowed) */
    size_t nvalues;
    const double *temps;     /* temperatures, C (borrowed; at least one) */
    size_t ntemps;
    size_t mc;               /* mismatch samples after the nominal circuit (sample 0) */
    unsigned measures;       /* enum ss_circuit_measure flags */
    double rheo_lo, rheo_hi; /* rheobase bracket, A */
    int jobs;                /* worker processes */
    double timeout;          /* wall-clock limit per job, s (0: none) */
    const char *journal;     /* results journal (NULL: none) */
    int resume;              /* keep the journal's ok rows and run the rest */
    const char *csv;         /* CSV file for ss_circuit_characterize (NULL: none) */
    const char *extract;     /* compact model to fit: "lif", "dpi" or NULL */
    const char *params;      /* its JSON file (NULL: CIRCUIT-MODEL.json) */
    const char *plot;        /* PNG: f-I, energy, membrane trace (NULL: none; neurons) */
    /* Called in the caller's process after every finished job.  May be NULL. */
    void (*progress)(void *user, const ss_circuit_progress *p);
    void *user;
} ss_circuit_campaign_spec;


/* Defaults for `info`: its biases and input, 27 C, no mismatch (avt 4
 * mV um once mc > 0), the neurons' or synapses' default measures, rheobase
 * bracket 1 pA .. 1 nA, one worker, 600 s per job. */
void ss_circuit_campaign_spec_init(ss_circuit_campaign_spec *spec, const ss_circuit_info *info);

typedef struct ss_circuit_campaign ss_circuit_campaign;

/* Runs the campaign's jobs (those not already in the journal).  Failed jobs
 * are counted (ss_circuit_campaign_failed), not errors; the return value is
 * SS_OK unless the campaign itself could not run.  *out (free with
 * ss_circuit_campaign_free) is NULL on failure. */
int ss_circuit_campaign_run(const ss_circuit_campaign_spec *spec, ss_circuit_campaign **out,
                            ss_error *err);
void ss_circuit_campaign_free(ss_circuit_campaign *c);

/* Jobs that failed in this run. */
size_t ss_circuit_campaign_failed(const ss_circuit_campaign *c);
/* Warnings about the results, each a sentence with the reason (metastable
 * starts, zero rates where the circuit fires at a smaller input, a spike
 * node that never rises, failed synapse measures, a rheobase at the search
 * floor, firing without input, an input mirror's transfer, transistors
 * without mismatch). */
size_t ss_circuit_campaign_nwarnings(const ss_circuit_campaign *c);
const char *ss_circuit_campaign_warning(const ss_circuit_campaign *c, size_t i);
/* Transistors of the circuit and how many of them mismatch varies (both 0
 * without --mc). */
void ss_circuit_campaign_devices(const ss_circuit_campaign *c, size_t *varied, size_t *total);
/* The point at value v, temperature t, sample s (pt->input is the swept
 * value).  SS_ENOTFOUND when its job failed. */
int ss_circuit_campaign_point(const ss_circuit_campaign *c, size_t v, size_t t, size_t s,
                              ss_circuit_point *pt);
/* The rheobase at temperature t, sample s (A); NAN when not measured or
 * its job failed. */
double ss_circuit_campaign_rheobase(const ss_circuit_campaign *c, size_t t, size_t s);
/* Appends the CSV: "<swept>,temp,sample,<measures>,notes" and one row per
 * point whose job ran ("%.6g"; nan for a measurement that failed, with the
 * reason's flag names in `notes`); rows of failed jobs are left out. */
int ss_circuit_campaign_csv(const ss_circuit_campaign *c, ss_buf *out);

/* A compact model fitted to the nominal sample's f-I at the first
 * temperature (points with a positive rate). */
typedef struct ss_circuit_extraction {
    const char *model;        /* "lif" or "dpi" */
    ss_circuit_lif lif;       /* model "lif" */
    ss_circuit_dpi dpi;       /* model "dpi" */
    size_t npoints;           /* points fitted */
    double rms_rel, max_rel;  /* rate errors of the fit */
    double rheobase_model;    /* the model's rheobase, A */
    double rheobase_measured; /* the circuit's (SS_CIRCUIT_M_RHEOBASE), else NAN */
    char path[1024];          /* the JSON file written */
    char warning[512];        /* a degenerate fit (a parameter at an implausible value,
                               * a large error), else "" */
} ss_circuit_extraction;

/* Fits `model` ("lif" or "dpi") and writes it as JSON to `path` (the file
 * experiment files load with `params_file:`). */
int ss_circuit_campaign_extract(const ss_circuit_campaign *c, const char *model,
                                const char *path, ss_circuit_extraction *x, ss_error *err);
/* Draws f-I (nominal, with the band over samples and temperatures), energy
 * per spike against rate and a membrane trace at the middle of the sweep
 * (one more simulation in this process) into a PNG with gnuplot.
 * Neurons only. */
int ss_circuit_campaign_plot(const ss_circuit_campaign *c, const char *png, ss_error *err);

/* The whole of `smallsim characterize`: runs the campaign, then writes
 * spec->csv, the spec->extract model (to spec->params or
 * CIRCUIT-MODEL.json; *x receives the fit) and spec->plot as asked.  *out
 * receives the campaign whenever its jobs ran, also when a later step
 * failed (the return value says so), for the caller to read or print. */
int ss_circuit_characterize(const ss_circuit_campaign_spec *spec, ss_circuit_campaign **out,
                            ss_circuit_extraction *x, ss_error *err);

/* ---- SPICE tiles for the network layer -------------------------------------- */

/* The body of a SPICE tile of n DPI neurons for ss_network_add_spice:
 * models, subcircuit, supplies and biases, and neuron k fed by the EXTERNAL
 * current source "iext<k>" (into its input, whose own unit mirror feeds the
 * tail); *spikes receives the n
 * spike vectors ("v(x<k>.vrst)", rising through Vdd/2 at each spike; free
 * each and the array). */
int ss_circuit_tile(const ss_circuit_config *cfg, size_t n, ss_buf *body, char ***spikes,
                    ss_error *err);

/* ---- a mixed network ------------------------------------------------------ */

/* n_in inputs drive an n_in x n_out crossbar of memristors whose bit-line
 * currents, each scaled by an ideal mirror of gain `gain`, are the input
 * currents of n_out transistor-level DPI output neurons.  The inputs are
 * either
 *   - n_in input DPI neurons on constant currents i_in: while input neuron i
 *     is refractory (its reset node vrst is high, about 0.2 ms after each
 *     spike), word line i carries v_read (a smooth comparator on vrst); or
 *   - spike trains (in_times != NULL): input i fires at in_times[i][0 ..
 *     in_count[i]-1] (increasing), each spike driving word line i with a
 *     trapezoid read pulse (rising over t_edge, v_read for t_pulse, falling
 *     over t_edge; pulses of one input must not overlap).  Only the output
 *     neurons are transistor-level then.
 * Reads must stay below the devices' thresholds (the co-simulation treats the
 * crossbar as linear at the states x0). */
typedef struct ss_circuit_mixed {
    size_t n_in, n_out;
    const double *i_in;     /* n_in input currents, A */
    const ss_device *cell;  /* every cell this device ... */
    const double *x0;       /* ... in these states (n_in x n_out; NULL: its x0) */
    ss_crossbar_spec xb;    /* rows = n_in, cols = n_out, line resistances */
    double v_read, gain;
    double tstop, tmax, reltol; /* transient; reltol 0: 1e-5 */
    const double *const *in_times; /* spike-train inputs (NULL: input neurons) */
    const size_t *in_count;
    double t_pulse, t_edge;
} ss_circuit_mixed;

typedef struct ss_circuit_mixed_result {
    size_t n, cap;
    double *t;       /* spike times, s */
    size_t *neuron;  /* 0 .. n_in-1: input neurons (none with spike-train
                        inputs); n_in ..: output neurons */
    long points;     /* accepted time points */
    double seconds;  /* wall time */
} ss_circuit_mixed_result;

enum { SS_MIXED_COSIM = 0, SS_MIXED_FULL = 1 };
/* Simulates the network entirely in ngspice (mode SS_MIXED_FULL) or as a
 * co-simulation (SS_MIXED_COSIM: all neurons in one ngspice circuit, the
 * crossbar in C through EXTERNAL sources fed by the input neurons' reset
 * nodes, committed at accepted points and extrapolated to the source's
 * time, or by the exact read pulses of spike-train inputs with breakpoints
 * at their corners; steps bounded by tmax).  The neurons share one bias generator, whose
 * lines their spikes kick, so they are not split into separate circuits
 * even though the crossbar couples them one way only (splitting moved input
 * spikes by up to 1% of the ISI).  cfg->info must be dpi-neuron. */
int ss_circuit_mixed_run(ss_engine *eng, const ss_circuit_config *cfg, const ss_circuit_mixed *spec,
                         int mode, ss_circuit_mixed_result *res, ss_error *err);
void ss_circuit_mixed_result_release(ss_circuit_mixed_result *res);

#endif
