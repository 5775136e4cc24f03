#!/usr/bin/python3
"""brian2_dpi.py DIR DT: runs the DPI network that bench/dpi_vs_brian2 wrote to DIR
(same neurons, biases, synapses, weights and delays; the equations of
cosim/network/integrate.c's neti_dpi_rhs, with teili's clipping at Io) in Brian2 with forward
Euler at DT and prints 'brian2 spikes N build_s B run_s R'.  Debian's python3-brian,
numpy target.  Currents are dimensionless (amperes), times in seconds."""
import sys, time
t_start = time.time()
import os
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brian2_common import weights_in_brian_order
from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, defaultclock, prefs, second)

d = sys.argv[1]
meta = dict(l.split() for l in open(d + "/meta.txt"))
N = int(meta["n"]); T = float(meta["tstop"]); dt = float(sys.argv[2])
prefs.codegen.target = "numpy"
defaultclock.dt = dt * second
pre = np.fromfile(d + "/pre.bin", dtype=np.int32)
post = np.fromfile(d + "/post.bin", dtype=np.int32)
w = np.fromfile(d + "/w.bin", dtype=np.float64)
bias = np.fromfile(d + "/bias.bin", dtype=np.float64)
P = {k: float(v) for k, v in meta.items() if k not in ("n",)}

eqs = """
dImem/dt = ((Ith_e/Itau_e)*(Iin + Ia_c - Iahp_c) - Ith_e - (1 + (Iahp_c - Ia_c)/Itau_e)*Imem) / (tau_e*(Ith_e/(Imem + io) + 1)) : 1 (unless refractory)
dIahp/dt = (-Ithahp_e - Iahp + 2*io*int(Iahp <= io)) / (tauahp*(Ithahp_e/clip(Iahp, 1e-30, 1e30) + 1)) : 1
dIsyn/dt = -Isyn/tau_syn : 1
above = int(Imem > io) : 1
Itau_e = above*itau + (1 - above)*io : 1
Ith_e = above*ith + (1 - above)*io : 1
Ia = iagain/(1 + exp(-(Imem - iath)/ianorm)) : 1
Ia_c = above*Ia + (1 - above)*2*io : 1
Iahp_c = above*Iahp + (1 - above)*io : 1
Iin = clip(Isyn + Ibias, io, 1) : 1
tau_e = cmem*ut/(kappa*Itau_e)*second : second
Ithahp_e = int(Iahp > io)*ithahp + int(Iahp <= io)*io : 1
Ibias : 1
"""
ns = dict(P)
ns["tauahp"] = P["cahp"] * P["ut"] / (P["kappa"] * P["itauahp"]) * second
ns["tau_syn"] = P["tau_syn"] * second
G = NeuronGroup(N, eqs, threshold="Imem >= ispkthr", reset="Imem = ireset; Iahp += iahp_jump",
                refractory=P["t_ref"] * second, method="euler", namespace=ns)
G.Imem = P["io"]
G.Iahp = P["io"]
G.Isyn = 0
G.Ibias = bias
S = Synapses(G, G, "wsyn : 1", on_pre="Isyn += wsyn", namespace=ns)
S.connect(i=pre, j=post)
S.wsyn = weights_in_brian_order(S, pre, post, w, "brian2_dpi")
S.delay = P["delay"] * second
mon = SpikeMonitor(G)
net = Network(G, S, mon)
t_build = time.time() - t_start
t0 = time.time()
net.run(T * second)
t_run = time.time() - t0
print("brian2 spikes %d build_s %.3f run_s %.3f" % (mon.num_spikes, t_build, t_run))
