#!/usr/bin/python3
"""brian2_net.py DIR [DT [TARGET]]: runs the network that bench/network_vs_brian2 wrote to
DIR (same neurons, biases, synapses, weights and delays) in Brian2 and prints
'brian2 spikes N build_s B run_s R'.  Debian's python3-brian, numpy target."""
import sys, time
t_start = time.time()
import os
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brian2_common import weights_in_brian_order
from brian2 import (NeuronGroup, Synapses, SpikeMonitor, Network, defaultclock, prefs,
                    second, ms, volt, amp, ohm)

d = sys.argv[1]
meta = dict(l.split() for l in open(d + "/meta.txt"))
N = int(meta["n"]); T = float(meta["tstop"])
dt = float(sys.argv[2]) if len(sys.argv) > 2 else float(meta["dt"])
prefs.codegen.target = sys.argv[3] if len(sys.argv) > 3 else "numpy"
defaultclock.dt = dt * second
pre = np.fromfile(d + "/pre.bin", dtype=np.int32)
post = np.fromfile(d + "/post.bin", dtype=np.int32)
w = np.fromfile(d + "/w.bin", dtype=np.float64)
bias = np.fromfile(d + "/bias.bin", dtype=np.float64)
tau_m = float(meta["tau_m"]) * second; v_rest = float(meta["v_rest"]) * volt
v_reset = float(meta["v_reset"]) * volt; v_th = float(meta["v_th"]) * volt
r_m = float(meta["r_m"]) * ohm; tau_syn = float(meta["tau_syn"]) * second
t_ref = float(meta["t_ref"]) * second; delay = float(meta["delay"]) * second

eqs = """dv/dt = (v_rest - v + r_m*(isyn + ibias))/tau_m : volt (unless refractory)
disyn/dt = -isyn/tau_syn : amp
ibias : amp"""
G = NeuronGroup(N, eqs, threshold="v > v_th", reset="v = v_reset", refractory=t_ref,
                method="exact")
G.v = v_rest
G.ibias = bias * amp
S = Synapses(G, G, "wsyn : amp", on_pre="isyn += wsyn")
S.connect(i=pre, j=post)
S.wsyn = weights_in_brian_order(S, pre, post, w, "brian2_net") * amp

S.delay = delay
mon = SpikeMonitor(G)
net = Network(G, S, mon)
t_build = time.time() - t_start
t0 = time.time()
net.run(T * second)
t_run = time.time() - t0
print("brian2 spikes %d build_s %.3f run_s %.3f" % (mon.num_spikes, t_build, t_run))
