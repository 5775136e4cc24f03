#!/usr/bin/env python3
"""A Brian2-style network in smallsim.

An excitatory-inhibitory network of leaky integrate-and-fire neurons driven
by Poisson inputs, written the way a Brian2 script is: groups, random
synapses with a connection probability, spike and state monitors, and two
runs with a parameter changed in between.  The Brian2 line each step
corresponds to is in the comment above it.  Units are SI (smallsim has no
unit system): 20e-3 is 20*ms, 1e-12 is 1*pA.

    make python
    PYTHONPATH=build/python:python python3 examples/python/brian2_style.py -o brian2-out

prints rates and irregularity per group and run, and writes spikes.csv,
states.csv and (with gnuplot) raster.png to the output folder.
"""

import argparse
import os
import shutil
import subprocess
import sys

import numpy as np

import smallsim


def connect_p(net, pre, post, p, w, delay, rng):
    """Synapses(pre, post, on_pre='i_syn += w'); S.connect(p=p): every pair
    with probability p, as index arrays."""
    n_pre, n_post = len(pre), len(post)
    mask = rng.random((n_pre, n_post)) < p
    if pre is post:
        np.fill_diagonal(mask, False)            # condition='i != j'
    i, j = np.nonzero(mask)
    net.connect(pre, post, i, j, w=w, delay=delay)
    return len(i)


def irregularity(t, i, n):
    """Mean coefficient of variation of the inter-spike intervals."""
    cvs = []
    order = np.lexsort((t, i))
    t, i = t[order], i[order]
    for k in range(n):
        isi = np.diff(t[i == k])
        if len(isi) >= 3:
            cvs.append(np.std(isi) / np.mean(isi))
    return float(np.mean(cvs)) if cvs else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", default="brian2-out", help="output folder")
    ap.add_argument("--ne", type=int, default=800, help="excitatory neurons")
    ap.add_argument("--duration", type=float, default=0.5, help="seconds per run")
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    ne, ni = a.ne, a.ne // 4

    # defaultclock.dt = 0.1*ms (here: the exchange step, also the minimum delay)
    net = smallsim.Network(dt=1e-4, seed=a.seed)

    # P = PoissonGroup(200, rates=10*Hz)
    P = net.poisson("P", 200, 10.0)
    # eqs = 'dv/dt = (v_rest - v + R*(i_syn + I))/tau_m : volt (unless refractory)' ...
    # E = NeuronGroup(ne, eqs, threshold='v > -50*mV', reset='v = -60*mV', refractory=2*ms)
    E = net.lif("E", ne, tau_m=20e-3, v_rest=-70e-3, v_reset=-60e-3, v_th=-50e-3,
                tau_syn=5e-3, t_ref=2e-3, bias=rng.uniform(0.15e-9, 0.19e-9, ne))
    # I = NeuronGroup(ni, ...) with a shorter membrane time constant
    I = net.lif("I", ni, tau_m=10e-3, v_rest=-70e-3, v_reset=-60e-3, v_th=-50e-3,
                tau_syn=5e-3, t_ref=1e-3, bias=rng.uniform(0.15e-9, 0.19e-9, ni))

    # S = Synapses(src, dst, on_pre='i_syn += w'); S.connect(p=...); S.delay = ...
    nsyn = 0
    nsyn += connect_p(net, P, E, 0.1, 30e-12, 1e-3, rng)
    nsyn += connect_p(net, P, I, 0.1, 30e-12, 1e-3, rng)
    nsyn += connect_p(net, E, E, 0.05, 15e-12, 1.5e-3, rng)
    nsyn += connect_p(net, E, I, 0.05, 15e-12, 1e-3, rng)
    nsyn += connect_p(net, I, E, 0.1, -60e-12, 1e-3, rng)
    nsyn += connect_p(net, I, I, 0.1, -60e-12, 1e-3, rng)

    # M = StateMonitor(E, 'v', record=[0, 1, 2])
    M = E.record([0, 1, 2], dt=2e-4)

    # run(0.5*second)
    net.run(a.duration)
    # E.I = ...: stronger drive for the second run (a parameter changed between runs)
    E.set_bias(rng.uniform(0.19e-9, 0.23e-9, ne))
    # run(0.5*second)
    net.run(a.duration)

    # SpikeMonitor(E).t, .i
    print("%d neurons (%d E, %d I), %d synapses, %g s simulated; %d spikes"
          % (ne + ni, ne, ni, nsyn, net.t, len(net.spikes()[0])))
    print("group  run  rate (Hz)  CV of ISI")
    for pop in (E, I):
        t, i = pop.spikes
        for k, (t0, t1) in enumerate([(0, a.duration), (a.duration, 2 * a.duration)]):
            m = (t >= t0) & (t < t1)
            rate = m.sum() / (len(pop) * (t1 - t0))
            print("%-5s  %d    %8.2f   %8.3f" % (pop.name, k + 1, rate,
                                                irregularity(t[m], i[m], len(pop))))
    v = M.values
    print("E[0..2] v between %.1f and %.1f mV" % (1e3 * v.min(), 1e3 * v.max()))

    net.write_spikes(os.path.join(a.out, "spikes.csv"))
    net.write_states(os.path.join(a.out, "states.csv"))
    if shutil.which("gnuplot"):
        t, pop, idx = net.spikes()
        offset = np.array([0, len(P), len(P) + ne])[pop.astype(int)]
        np.savetxt(os.path.join(a.out, "raster.dat"), np.column_stack([t, idx + offset]),
                   fmt="%.6g")
        script = ("set terminal pngcairo size 900,500; set output '%s'\n"
                  "set xlabel 't (s)'; set ylabel 'neuron (P, E, I)'; unset key\n"
                  "set arrow from %g, graph 0 to %g, graph 1 nohead dt 2\n"
                  "plot '%s' using 1:2 with dots lc rgb 'black'\n"
                  % (os.path.join(a.out, "raster.png"), a.duration, a.duration,
                     os.path.join(a.out, "raster.dat")))
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
