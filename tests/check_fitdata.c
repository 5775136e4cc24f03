/* check_fitdata.c: measured data for the fit module as instruments write
 * it: Keithley 4200, Keysight/Agilent, Rigol and Tektronix scope exports,
 * units in headers, DC sweeps without time, folding of multi-period
 * captures, current offsets, sense resistors; every error message of
 * these paths; the plausibility errors and warnings; parameter files. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fit/ss_fit.h"
#include "tests/ss_test.h"

static ss_fit_read_options ropt(const char *columns, double freq, double scale)
{
    ss_fit_read_options o = SS_FIT_READ_OPTIONS_INIT;
    o.columns = columns;
    o.freq = freq;
    o.current_scale = scale;
    return o;
}

static void parse_ok(ss_fit_data *d, const char *text, const ss_fit_read_options *o)
{
    ss_error err;
    ck_assert_msg(ss_fit_data_parse(d, text, "f.csv", o, &err) == SS_OK, "%s", err.msg);
}

static void expect_error(const char *text, const ss_fit_read_options *o, const char *msg)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_error err;
    ck_assert_int_ne(ss_fit_data_parse(&d, text, "m.csv", o, &err), 0);
    ck_assert_msg(strstr(err.msg, msg), "expected '%s' in '%s'", msg, err.msg);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_ptr_null(d.v);
}

/* ---- plain tables (the forms before instrument layouts) ------------------------- */

START_TEST(csv_formats)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_error err;
    /* Header, comments, CRLF, comma. */
    ss_fit_read_options o = ropt(NULL, 0, 1e-6);
    ck_assert_msg(ss_fit_data_parse(&d,
                                    "\xEF\xBB\xBF# measured\r\ntime (s),V (V),I (uA)\r\n"
                                    "0,0.1,2.385\r\n// note\r\n0.5,0.2,4.77\r\n\r\n1,0.3,7.155\r\n",
                                    "a.csv", &o, &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_double_eq_tol(d.t[1], 0.5, 1e-15);
    ck_assert_double_eq_tol(d.v[2], 0.3, 1e-15);
    ck_assert_double_eq_tol(d.i[0], 2.385e-6, 1e-18);
    /* Header order t,i,v is honoured. */
    o = ropt(NULL, 0, 1);
    ck_assert_int_eq(ss_fit_data_parse(&d, "t i v\n0 1e-6 0.5\n1 2e-6 0.7\n", "b", &o, &err), 0);
    ck_assert_double_eq_tol(d.v[1], 0.7, 1e-15);
    ck_assert_double_eq_tol(d.i[1], 2e-6, 1e-18);
    /* Semicolons with decimal commas; whitespace. */
    o = ropt("v,i", 10, 1);
    ck_assert_int_eq(ss_fit_data_parse(&d, "0,25;1,5e-6\n-0,25;-1e-6\n", "c", &o, &err), 0);
    ck_assert_double_eq_tol(d.v[0], 0.25, 1e-15);
    ck_assert_double_eq_tol(d.i[0], 1.5e-6, 1e-18);
    ck_assert_double_eq_tol(d.t[1], 1.0 / (2 * 10), 1e-15);
    o = ropt("i,x,v", 0.5, 1);
    ck_assert_int_eq(ss_fit_data_parse(&d, "  1e-6\t9  0.1\n2e-6 9 0.2\n3e-6 9 0.3\n4e-6 9 0.4\n",
                                       "d", &o, &err),
                     0);
    ck_assert_uint_eq(d.n, 4);
    ck_assert_double_eq_tol(d.v[3], 0.4, 1e-15);
    ck_assert_double_eq_tol(d.t[3], 3.0 / (4 * 0.5), 1e-15); /* t_k = k/(n f) */
    /* Time column shifted to start at 0; --columns wins over a header. */
    o = ropt("t,v,i", 0, 1);
    ck_assert_int_eq(ss_fit_data_parse(&d, "a,b,c\n5,0.1,1e-6\n6,0.2,2e-6\n", "e", &o, &err), 0);
    ck_assert_double_eq_tol(d.t[1], 1.0, 1e-15);
    /* Series resistance from the file. */
    o = ropt("v,vd,i", 1, 1);
    o.series_column = 1;
    ck_assert_int_eq(
        ss_fit_data_parse(&d, "0.5,0.4,1e-5\n0.6,0.5,1e-5\n-0.5,-0.4,-1e-5\n", "f", &o, &err), 0);
    ck_assert_double_eq_tol(d.series_r, 1e4, 1e-6);
    o = ropt("v,i,r", 1, 1);
    o.series_column = 1;
    ck_assert_int_eq(ss_fit_data_parse(&d, "0.5,1e-5,5k\n", "g", &o, &err), SS_EPARSE);
    ck_assert_int_eq(ss_fit_data_parse(&d, "0.5,1e-5,5000\n0.6,1e-5,5000\n", "g", &o, &err), 0);
    ck_assert_double_eq(d.series_r, 5000);
    ss_fit_data_release(&d);
}
END_TEST

START_TEST(csv_errors)
{
    ss_fit_read_options o = ropt(NULL, 1, 1);
    expect_error("0.1,1e-6\n0.2,nan\n", &o, "m.csv:2: 'nan' is not a finite number");
    expect_error("", &o, "m.csv: no data rows");
    expect_error("# only a comment\n\n", &o, "no data rows");
    expect_error("0.1\n0.2\n0.3\n", &o, "m.csv: one column only");
    expect_error("0.1,1\n0.2,x\n", &o, "m.csv:2: 'x' is not a number");
    expect_error("0.1,1\n0.2,1,3\n", &o, "m.csv:2: expected 2 values, found 3");
    o = ropt("t,v,i", 0, 1);
    expect_error("0,0.1,1\n0.2,0.2,1\n0.1,0.3,1\n", &o, "m.csv:3: time does not increase");
    o = ropt(NULL, 0, 1);
    expect_error("0.1,1\n0.2,1\n", &o, "no time column");
    expect_error("1,2,3,4\n", &o, "--columns");
    o = ropt("t,v", 0, 1);
    expect_error("0,1\n", &o, "no current column; columns found: 1 'column 1' (time), 2 'column 2' (voltage)");
    o = ropt("v,i,x", 1, 1);
    expect_error("1,2\n", &o, "3 columns named");
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_error err;
    o = ropt(NULL, 1, 1);
    ck_assert_int_eq(ss_fit_data_read(&d, "/nonexistent/x.csv", &o, &err), SS_EIO);
}
END_TEST

/* ---- instrument layouts ---------------------------------------------------------- */

/* Keithley 4200 (Clarius) export as the instrument writes it: CRLF, a
 * trailing comma on every row, Smu1.X[1][1] names, the R column (v/i, not
 * a series resistor), E-notation. */
START_TEST(keithley_4200)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = ropt(NULL, 0, 0);
    parse_ok(&d,
             "Item,Smu1.Time[1][1],Smu1.V[1][1],Smu1.I[1][1],Smu1.R[1][1],\r\n"
             "1,0,1.01621390058426E-06,-6.56658727393733E-10,-1547.55256907587,\r\n"
             "2,0.08309888,0.00999949034303427,4.4839021384746E-10,22300866.5983866,\r\n"
             "3,0.16585044,0.0199998784810305,9.71830615981162E-10,20579.2585,\r\n"
             "4,0.24997442,0.0299998745322227,1.49527590309617E-09,20062.9,\r\n",
             &o);
    ck_assert_uint_eq(d.n, 4);
    ck_assert_double_eq_tol(d.t[3], 0.24997442, 1e-15);
    ck_assert_double_eq_tol(d.v[1], 0.00999949034303427, 1e-17);
    ck_assert_double_eq_tol(d.i[2], 9.71830615981162e-10, 1e-24);
    ck_assert_double_eq(d.series_r, 0); /* Smu1.R is not a series resistor */
    ck_assert_msg(strstr(d.notes, "1 header line skipped"), "%s", d.notes);
    ss_fit_data_release(&d);
}
END_TEST

/* Keysight/Agilent InfiniiVision: two header rows, "x-axis,1,2" and the
 * units "second,Volt,Volt"; a current probe channel is in Ampere. */
START_TEST(keysight_scope)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = ropt(NULL, 0, 0);
    o.fold = SS_FIT_FOLD_OFF;
    const char *amp = "x-axis,1,2\r\nsecond,Volt,Ampere\r\n"
                      "-50.000000E-03,-2.087783E-03,+1.534234E-06\r\n"
                      "-49.993750E-03,-3.595320E-03,-3.490892E-06\r\n"
                      "-49.987500E-03,-5.730999E-03,-8.516017E-06\r\n";
    parse_ok(&d, amp, &o);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_double_eq_tol(d.t[2], 12.5e-6, 1e-15);
    ck_assert_double_eq_tol(d.v[1], -3.595320e-3, 1e-15);
    ck_assert_double_eq_tol(d.i[0], 1.534234e-6, 1e-18);
    /* Two voltage channels: which is the current cannot be known. */
    const char *volts = "x-axis,1,2\nsecond,Volt,Volt\n"
                        "-50.000000E-03,-2.087783E-03,+1.534234E-03\n"
                        "-49.993750E-03,-3.595320E-03,-3.490892E-03\n";
    expect_error(volts, &o,
                 "m.csv:1: two voltage channels and no current; columns found: 1 'x-axis' (time, "
                 "s), 2 '1' (channel, V), 3 '2' (channel, V)");
    expect_error(volts, &o, "--columns t,vsense,v --sense 1k");
    /* Named: channel 1 across a 1 kohm sense resistor. */
    o.columns = "t,vsense,v";
    o.sense_r = 1e3;
    parse_ok(&d, volts, &o);
    ck_assert_double_eq_tol(d.i[1], -3.595320e-6, 1e-18);
    ck_assert_double_eq_tol(d.v[1], -3.490892e-3, 1e-15);
    ck_assert_double_eq(d.series_r, 1e3);
    o.series_r = 50; /* more resistance in the loop */
    parse_ok(&d, volts, &o);
    ck_assert_double_eq(d.series_r, 1050);
    ss_fit_data_release(&d);
}
END_TEST

/* Rigol DS1000Z: "X,CH1,CH2,Start,Increment," and "Sequence,Volt,Volt,t0,dt",
 * the time is t0 + X dt; rows end with a comma. */
START_TEST(rigol_scope)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = ropt("x,v,vsense", 0, 0);
    o.sense_r = 100;
    o.fold = SS_FIT_FOLD_OFF;
    parse_ok(&d,
             "X,CH1,CH2,Start,Increment,\r\n"
             "Sequence,Volt,Volt,-5.999998e-02,2.000000e-05\r\n"
             "0,4.72e-01,2.40e-03,\r\n1,4.64e-01,3.20e-03,\r\n2,4.72e-01,3.20e-03,\r\n"
             "3,4.56e-01,2.40e-03,\r\n",
             &o);
    ck_assert_uint_eq(d.n, 4);
    ck_assert_double_eq_tol(d.t[3], 6e-5, 1e-15);
    ck_assert_double_eq_tol(d.v[2], 0.472, 1e-15);
    ck_assert_double_eq_tol(d.i[1], 3.2e-5, 1e-18);
    ck_assert_msg(strstr(d.notes, "Rigol"), "%s", d.notes);
    /* Without names: two voltage channels. */
    o.columns = NULL;
    expect_error("X,CH1,CH2,Start,Increment,\nSequence,Volt,Volt,0,1e-6\n0,1,2,\n1,2,3,\n", &o,
                 "1 'X' (sample index), 2 'CH1' (channel, V), 3 'CH2' (channel, V)");
    ss_fit_data_release(&d);
}
END_TEST

/* Tektronix MSO/MDO: a metadata block, "Vertical Units,V,A", then
 * "TIME,CH1,CH2". */
START_TEST(tektronix_scope)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = ropt(NULL, 0, 0);
    o.fold = SS_FIT_FOLD_OFF;
    parse_ok(&d,
             "Model,MSO46\r\nFirmware Version,1.28.1.9\r\n,,\r\n"
             "Waveform Type,ANALOG,ANALOG\r\nPoint Format,Y,Y\r\nHorizontal Units,s,s\r\n"
             "Horizontal Scale,0.0001,0.0001\r\nHorizontal Delay,0,0\r\n"
             "Sample Interval,8e-09,8e-09\r\nRecord Length,4,4\r\n"
             "Gating,0.0% to 100.0%,0.0% to 100.0%\r\n,,\r\nProbe Attenuation,1,1\r\n"
             "Vertical Units,V,A\r\nVertical Offset,0,0\r\nVertical Scale,0.5,0.001\r\n"
             "Vertical Position,0,0\r\n,,\r\n,,\r\n,,\r\nLabel,,\r\nTIME,CH1,CH2\r\n"
             "-4.0000000e-04,0.01,2.5e-05\r\n-3.9999200e-04,0.02,5.0e-05\r\n"
             "-3.9998400e-04,0.03,7.5e-05\r\n",
             &o);
    ck_assert_uint_eq(d.n, 3);
    ck_assert_double_eq_tol(d.t[2], 1.6e-8, 1e-15);
    ck_assert_double_eq_tol(d.v[2], 0.03, 1e-15);
    ck_assert_double_eq_tol(d.i[1], 5e-5, 1e-18);
    ss_fit_data_release(&d);
}
END_TEST

/* Units in names ([mA], (uA), /V, _s), applied; a contradicting option is
 * refused; a UTF-8 micro sign; tab-separated names with spaces. */
START_TEST(units_in_names)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = ropt(NULL, 0, 0);
    parse_ok(&d, "Time [ms],Voltage [V],Current [mA]\n0,0.1,2\n1,0.2,4\n2,0.3,6\n", &o);
    ck_assert_double_eq_tol(d.t[2], 2e-3, 1e-18);
    ck_assert_double_eq_tol(d.i[1], 4e-3, 1e-18);
    ck_assert_double_eq(d.i_scale, 1e-3);
    ck_assert_int_eq(d.i_scale_from, SS_FIT_SCALE_HEADER);
    ck_assert_msg(strstr(d.notes, "milliamps"), "%s", d.notes);
    parse_ok(&d, "\xEF\xBB\xBFt/s;V/V;I/\xC2\xB5" "A\r\n0;0,1;2,5\r\n1;0,2;5\r\n", &o);
    ck_assert_double_eq_tol(d.i[0], 2.5e-6, 1e-20);
    ck_assert_double_eq_tol(d.v[1], 0.2, 1e-15);
    parse_ok(&d, "time_s\tV (mV)\tI (nA)\n0\t100\t2\n1\t200\t4\n", &o);
    ck_assert_double_eq_tol(d.v[1], 0.2, 1e-15);
    ck_assert_double_eq_tol(d.i[1], 4e-9, 1e-22);
    parse_ok(&d, "Time (s)\tApplied Voltage (V)\tCurrent (uA)\n0\t0.1\t3\n1\t0.2\t5\n", &o);
    ck_assert_double_eq_tol(d.i[1], 5e-6, 1e-20);
    /* --current-scale agreeing with the header is fine; contradicting is not. */
    o.current_scale = 1e-3;
    parse_ok(&d, "Time [s],V,I [mA]\n0,0.1,2\n1,0.2,4\n", &o);
    o.current_scale = 1e-6;
    expect_error("Time [s],V,I [mA]\n0,0.1,2\n1,0.2,4\n", &o,
                 "m.csv: the header gives the current 'I [mA]' in units of 0.001 A; "
                 "--current-scale 1e-06 contradicts it");
    /* A current column in volts is refused. */
    o.current_scale = 0;
    expect_error("t,v,i [V]\n0,0.1,2\n1,0.2,4\n", &o, "column 3 'i [V]' is in V, not a current");
    ss_fit_data_release(&d);
}
END_TEST

/* DC sweeps without a time column: V1,I1,absI as a semiconductor analyser
 * exports them, with a step time or a sweep rate. */
START_TEST(dc_sweep_without_time)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    const char *text = "V1,I1,absI\r\n1,0.012732,0.012732\r\n0.99,0.012504,0.012504\r\n"
                       "0.98,0.012262,0.012262\r\n0.98,0.012250,0.012250\r\n"
                       "0.96,0.011800,0.011800\r\n";
    ss_fit_read_options o = ropt(NULL, 0, 0);
    expect_error(text, &o, "no time column: give the drive frequency (--freq F");
    expect_error(text, &o, "--sweep-rate V/s or --step-time s");
    o.step_time = 0.05;
    parse_ok(&d, text, &o);
    ck_assert_uint_eq(d.n, 5);
    ck_assert_double_eq_tol(d.t[4], 0.2, 1e-15);
    ck_assert_double_eq_tol(d.i[4], 0.0118, 1e-15); /* absI is skipped */
    o.step_time = 0;
    o.sweep_rate = 0.2; /* 10 mV per 0.05 s; the held point takes the median step */
    parse_ok(&d, text, &o);
    ck_assert_double_eq_tol(d.t[1], 0.05, 1e-12);
    ck_assert_double_eq_tol(d.t[3], 0.15, 1e-12);
    ck_assert_double_eq_tol(d.t[4], 0.25, 1e-12);
    ck_assert_msg(strstr(d.notes, "held points take the median step"), "%s", d.notes);
    expect_error("v,i\n0.5,1e-6\n0.5,2e-6\n0.5,3e-6\n", &o, "the voltage never changes");
    o.step_time = 0.05;
    expect_error(text, &o, "give a sweep rate or a step time, not both");
    o.sweep_rate = 0;
    expect_error("t,v,i\n0,0.1,1e-6\n1,0.2,2e-6\n", &o,
                 "the file has a time column ('t'); --sweep-rate and --step-time are for files "
                 "without one");
    ss_fit_data_release(&d);
}
END_TEST

/* Errors of the column logic name what was found. */
START_TEST(column_errors)
{
    ss_fit_read_options o = ropt(NULL, 1, 0);
    expect_error("Item,Smu1.Time[1][1],Smu1.V[1][1],Smu2.V[1][1],\n1,0,0.1,0.2,\n2,1,0.2,0.1,\n",
                 &o, "columns 3 and 4 both look like the voltage");
    expect_error("a,b,c\n1,2,3\n4,5,6\n", &o,
                 "no voltage and no current column; columns found: 1 'a', 2 'b', 3 'c'");
    expect_error("t,vsense,v\n0,1e-3,0.1\n1,2e-3,0.2\n", &o,
                 "column 2 'vsense' is the voltage across a sense resistor: give its resistance "
                 "with --sense R");
    o.sense_r = 1e3;
    expect_error("t,i,v\n0,1e-3,0.1\n1,2e-3,0.2\n", &o, "--sense given but no sense-voltage column");
    o.sense_r = 0;
    expect_error("t,i,v,current\n0,1e-3,0.1,1\n1,2e-3,0.2,1\n", &o,
                 "columns 2 and 4 both look like the current");
    /* A header row after the data started. */
    expect_error("v,i\n0.1,1e-6\nv,i\n", &o, "m.csv:3: 'v' is not a number");
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_error err;
    const char *dir = ss_test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/bin.csv", dir);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite("v,i\n\0\x01\x02", 1, 7, fp);
    fclose(fp);
    ck_assert_int_eq(ss_fit_data_read(&d, path, &o, &err), SS_EPARSE);
    ck_assert_msg(strstr(err.msg, "binary data"), "%s", err.msg);
}
END_TEST

/* ---- folding, decimation, offset ------------------------------------------------- */

/* A 1 kHz triangle over 12.4 periods, 6.25 us sampling (Keysight's), a
 * current that follows it with a 2 uA offset and a hysteresis: folded onto
 * 200 samples per period the loop is the one-period truth. */
START_TEST(fold_and_offset)
{
    const double f = 1000, dt = 2.5e-6, off = 2e-6;
    const size_t n = 4960; /* 12.4 periods */
    ss_buf b = SS_BUF_INIT;
    ss_buf_printf(&b, "x-axis,1,2\r\nsecond,Volt,Ampere\r\n");
    for (size_t k = 0; k < n; k++) {
        double t = -50e-3 + (double)k * dt, ph = fmod((double)k * dt * f, 1.0);
        double v = ph < 0.25 ? 4 * ph : ph < 0.75 ? 2 - 4 * ph : 4 * ph - 4; /* 1 V peak */
        double i = 1e-4 * v * (1 + 0.5 * sin(2 * M_PI * ph)) + off;
        ss_buf_printf(&b, "%+.6E,%+.6E,%+.6E\r\n", t, 0.2 * v, i);
    }
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = ropt(NULL, 0, 0);
    o.offset_mode = SS_FIT_OFFSET_AUTO;
    parse_ok(&d, b.data, &o);
    ck_assert_uint_eq(d.n, 200);
    ck_assert_double_eq_tol(d.freq, f, 1e-3 * f); /* the period from the crossings */
    ck_assert_msg(strstr(d.notes, "folded 12 periods"), "%s", d.notes);
    ck_assert_msg(strstr(d.notes, "current offset"), "%s", d.notes);
    double worst = 0;
    for (size_t k = 0; k < d.n; k++) {
        double ph = (double)k / 200 + 0.5 / 200; /* bin centre */
        double v = ph < 0.25 ? 4 * ph : ph < 0.75 ? 2 - 4 * ph : 4 * ph - 4;
        double i = 1e-4 * v * (1 + 0.5 * sin(2 * M_PI * ph));
        ck_assert_double_eq_tol(d.v[k], 0.2 * v, 2e-3);
        worst = fmax(worst, fabs(d.i[k] - i));
        ck_assert_double_eq_tol(d.t[k], (double)k / (200 * f), 1e-12);
    }
    ck_assert_msg(worst < 2e-6, "folded current off by %g A", worst); /* 1 % of the range */
    /* With the period given: the same; --fold off keeps the record;
     * --samples decimates it. */
    o.freq = f;
    parse_ok(&d, b.data, &o);
    ck_assert_uint_eq(d.n, 200);
    ck_assert_msg(strstr(d.notes, "from --freq"), "%s", d.notes);
    o.freq = 0;
    o.fold = SS_FIT_FOLD_OFF;
    o.offset_mode = SS_FIT_OFFSET_VALUE;
    o.offset = off;
    parse_ok(&d, b.data, &o);
    ck_assert_uint_eq(d.n, n);
    ck_assert_double_eq_tol(d.i[0], 0, 1e-12);
    o.samples = 100;
    parse_ok(&d, b.data, &o);
    ck_assert_uint_eq(d.n, 100); /* blocks of 50 */
    ck_assert_msg(strstr(d.notes, "averaged in blocks of 50"), "%s", d.notes);
    /* Too many bins for the sampling: clipped to the samples per period. */
    o.samples = 1000;
    o.fold = SS_FIT_FOLD_ON;
    parse_ok(&d, b.data, &o);
    ck_assert_uint_eq(d.n, 400);
    ss_buf_release(&b);
    /* Bad requests. */
    o = ropt(NULL, 0, 0);
    o.fold = SS_FIT_FOLD_ON;
    expect_error("t,v,i\n0,0,0\n1,1,1\n2,2,2\n3,3,3\n4,4,4\n5,5,5\n6,6,6\n7,7,7\n8,8,8\n", &o,
                 "--fold: the drive is not periodic");
    o.fold = SS_FIT_FOLD_AUTO;
    o.offset_mode = SS_FIT_OFFSET_AUTO;
    expect_error("t,v,i\n0,1,0\n1,2,1\n2,3,2\n3,4,3\n4,5,4\n5,6,5\n6,7,6\n7,8,7\n8,9,8\n", &o,
                 "--offset auto: the drive never crosses 0 V");
    ss_fit_data_release(&d);
}
END_TEST

/* ---- plausibility ----------------------------------------------------------------------- */

static void loop_data(ss_fit_data *d, double scale, double series, int from)
{
    double t[64], v[64], i[64];
    for (int k = 0; k < 64; k++) {
        t[k] = k * 1e-3;
        v[k] = 0.8 * sin(2 * M_PI * k / 64.0);
        i[k] = scale * v[k] / (series + 6e3); /* a 6 kohm device */
    }
    ss_error err;
    ck_assert_int_eq(ss_fit_data_set(d, "loop", 64, t, v, i, 0, series, &err), 0);
    d->i_scale_from = from;
}

START_TEST(scale_hints)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_error err;
    /* milli-amps read as amps: behind 5 kohm and without a resistor. */
    loop_data(&d, 1e3, 5e3, SS_FIT_SCALE_DEFAULT);
    ck_assert_int_eq(ss_fit_data_check(&d, &err), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "is the current in milli-amps? use --current-scale 1e-3"), "%s",
                  err.msg);
    loop_data(&d, 1e6, 5e3, SS_FIT_SCALE_DEFAULT);
    ck_assert_int_eq(ss_fit_data_check(&d, &err), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "is the current in micro-amps? use --current-scale 1e-6"), "%s",
                  err.msg);
    loop_data(&d, 1e9, 5e3, SS_FIT_SCALE_DEFAULT);
    ck_assert_int_eq(ss_fit_data_check(&d, &err), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "nano-amps? use --current-scale 1e-9"), "%s", err.msg);
    /* Without a resistor the unit cannot be told: all three are named. */
    loop_data(&d, 1e4, 0, SS_FIT_SCALE_DEFAULT);
    ck_assert_int_eq(ss_fit_data_check(&d, &err), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "--current-scale 1e-3 for milli-amps, 1e-6 for micro-amps or "
                                  "1e-9 for nano-amps"),
                  "%s", err.msg);
    /* A header unit: no scale hint, the resistor is suspect. */
    loop_data(&d, 1e3, 5e3, SS_FIT_SCALE_HEADER);
    ck_assert_int_eq(ss_fit_data_check(&d, &err), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "(the unit in the header)") && !strstr(err.msg, "use --current"),
                  "%s", err.msg);
    /* A few times too much: the resistor or the columns, not the unit. */
    loop_data(&d, 5, 5e3, SS_FIT_SCALE_DEFAULT);
    ck_assert_int_eq(ss_fit_data_check(&d, &err), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "check the series resistor and the columns"), "%s", err.msg);
    loop_data(&d, 1, 5e3, SS_FIT_SCALE_DEFAULT);
    ck_assert_int_eq(ss_fit_data_check(&d, &err), SS_OK);
    ss_fit_data_release(&d);
}
END_TEST

/* --series 47 for data measured behind 47 kohm; a device voltage measured
 * behind a resistor (snap-back): both warned about; a plain loop is not. */
START_TEST(data_warnings)
{
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = ropt(NULL, 10, 1e-6);
    ss_error err;
    char *notes = NULL;
    o.series_r = 47;
    ck_assert_msg(ss_fit_data_read(&d, "data/knowm-wsdc/r47k-0.8V-10Hz-M1.series.csv", &o, &err) ==
                      0,
                  "%s", err.msg);
    ck_assert_int_eq(ss_fit_data_check(&d, &err), SS_OK);
    ck_assert_int_eq(ss_fit_data_warnings(&d, &notes), 1);
    ck_assert_msg(strstr(notes, "did you mean --series 47k?"), "%s", notes);
    free(notes), notes = NULL;
    o.series_r = 47e3;
    ck_assert_int_eq(ss_fit_data_read(&d, "data/knowm-wsdc/r47k-0.8V-10Hz-M1.series.csv", &o, &err),
                     0);
    ck_assert_int_eq(ss_fit_data_warnings(&d, &notes), 0);
    /* The device-voltage file of the same measurement snaps back. */
    o.series_r = 0;
    ck_assert_int_eq(ss_fit_data_read(&d, "data/knowm-wsdc/r5k-0.8V-10Hz-M1.device.csv", &o, &err),
                     0);
    ck_assert_int_eq(ss_fit_data_warnings(&d, &notes), 1);
    ck_assert_msg(strstr(notes, "stays within 5 % of its extreme for 30 % of the record") &&
                      strstr(notes, "--series R"),
                  "%s", notes);
    free(notes), notes = NULL;
    /* A directly driven loop does not. */
    loop_data(&d, 1, 0, SS_FIT_SCALE_DEFAULT);
    ck_assert_int_eq(ss_fit_data_warnings(&d, &notes), 0);
    ck_assert_ptr_null(notes);
    ss_fit_data_release(&d);
}
END_TEST

/* ---- parameter files ------------------------------------------------------------------- */

START_TEST(params_files)
{
    ss_device d, e;
    int pol = 0;
    ss_error err;
    /* Exactly the doubles written (17 digits), choices by name. */
    ck_assert_int_eq(ss_device_apply_preset(&d, "vteam_5k200k", &err), 0);
    d.p[ss_device_param_index(d.type, "k_off")] = 1.0 / 3.0;
    d.p[ss_device_param_index(d.type, "r_on")] = 5123.456789012345;
    ss_fit_result r = SS_FIT_RESULT_INIT;
    r.device = d;
    r.polarity = -1;
    ss_buf b = SS_BUF_INIT;
    ck_assert_int_eq(ss_fit_result_json(&r, &b, &err), 0);
    ck_assert_msg(ss_fit_params_parse(b.data, "r.json", &e, &pol, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(pol, -1);
    ck_assert_ptr_eq(e.type, d.type);
    for (size_t k = 0; k < d.type->nparams; k++)
        ck_assert_msg(e.p[k] == d.p[k], "%s: %.17g vs %.17g", d.type->params[k].name, e.p[k],
                      d.p[k]);
    ss_buf_release(&b);
    /* Top-level keys, JSON without spaces, polarity words. */
    ck_assert_msg(ss_fit_params_parse("{\"model\":\"yakopcic\",\"polarity\":\"reversed\","
                                      "\"params\":{\"a1\":0.2,\"vp\":\"0.3\"}}",
                                      "p.json", &e, &pol, &err) == 0,
                  "%s", err.msg);
    ck_assert_int_eq(pol, -1);
    ck_assert_double_eq(ss_device_get(&e, "a1"), 0.2);
    ck_assert_double_eq(ss_device_get(&e, "vp"), 0.3);
    /* Bad files: named file and line. */
    const struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"device\": {\"model\": \"yakopcic\",\n \"params\": {\"a1\": 0.2,\n \"nosuch\": 1}}}",
         "p.json:3: unknown parameter 'nosuch' for model 'yakopcic'"},
        {"{\"device\": {\"params\": {}}}", "p.json:1: no \"model\""},
        {"{\"model\": \"hp\", \"params\": {}}", "p.json:1: unknown model 'hp'"},
        {"{\"model\": \"yakopcic\"}", "no \"params\" object"},
        {"{\"model\": \"yakopcic\", \"params\": {\"a1\": null}}", "parameter 'a1' has no value"},
        {"{\"model\": \"yakopcic\", \"polarity\": 2, \"params\": {}}",
         "polarity must be 1 or -1, not '2'"},
        {"{\"model\": \"yakopcic\", \"params\": {\"vn\": -0.5}}", "p.json:1: parameter 'vn'"},
        {"{\"model\": \"yakopcic\",\n \"params\": {\"a1\": [1, 2}}", "p.json:2:"},
        {"[1, 2]", "a parameter file is a JSON object"},
        {"", "p.json: empty file"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_int_ne(ss_fit_params_parse(bad[k].text, "p.json", &e, &pol, &err), 0);
        ck_assert_msg(strstr(err.msg, bad[k].msg), "%zu: expected '%s' in '%s'", k, bad[k].msg,
                      err.msg);
    }
    ck_assert_int_eq(ss_fit_params_load("/nonexistent/p.json", &e, &pol, &err), SS_EIO);
}
END_TEST

Suite *fitdata_suite(void)
{
    Suite *s = suite_create("fitdata");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, csv_formats);
    tcase_add_test(tc, csv_errors);
    tcase_add_test(tc, keithley_4200);
    tcase_add_test(tc, keysight_scope);
    tcase_add_test(tc, rigol_scope);
    tcase_add_test(tc, tektronix_scope);
    tcase_add_test(tc, units_in_names);
    tcase_add_test(tc, dc_sweep_without_time);
    tcase_add_test(tc, column_errors);
    tcase_add_test(tc, fold_and_offset);
    tcase_add_test(tc, scale_hints);
    tcase_add_test(tc, data_warnings);
    tcase_add_test(tc, params_files);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
