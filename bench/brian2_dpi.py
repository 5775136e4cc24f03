#!/usr/bin/python3
"""brian2_dpi.py DIR DT TARGET: runs the network that bench/dpi_vs_brian2 wrote to DIR
(same neurons, biases, recurrent synapses, input spike trains, crossbar weights and
delays) in Brian2 at time step DT with code generation TARGET (numpy, or
cpp_standalone in a fresh build directory: a cold build), and prints
'brian2 spikes N build_s B run_s R' (N: spikes of the network, not the inputs; R: the
run loop's CPU time; B: the rest of the Python process's CPU time).  Debian's python3-brian.

model dpi: teili's DPI equations as cosim/network/integrate.c's neti_dpi_rhs (currents
dimensionless, in amperes), forward Euler as teili uses; model adlif: the adaptive LIF
of ss_lif_params, exponential Euler."""
import sys, time
import os, shutil, tempfile
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from brian2_common import weights_in_brian_order
from brian2 import (NeuronGroup, Synapses, SpikeMonitor, SpikeGeneratorGroup, Network,
                    defaultclock, prefs, set_device, device, second, volt, amp, ohm, siemens)

d = sys.argv[1]
dt = float(sys.argv[2])
target = sys.argv[3] if len(sys.argv) > 3 else "numpy"
meta = dict(l.split() for l in open(d + "/meta.txt"))
model = meta["model"]
N = int(meta["n"]); NIN = int(meta["nin"]); T = float(meta["tstop"])
P = {k: float(v) for k, v in meta.items() if k not in ("n", "nin", "model")}
build_dir = None
if target == "cpp_standalone":
    build_dir = tempfile.mkdtemp(prefix="ss-brian-standalone-")
    set_device("cpp_standalone", directory=build_dir, build_on_run=True)
else:
    prefs.codegen.target = target
defaultclock.dt = dt * second

def load(name, dtype):
    return np.fromfile(d + "/" + name, dtype=dtype)

pre, post, w = load("pre.bin", np.int32), load("post.bin", np.int32), load("w.bin", np.float64)
ipre, ipost, iw = load("ipre.bin", np.int32), load("ipost.bin", np.int32), load("iw.bin", np.float64)
in_i, in_t = load("in_i.bin", np.int32), load("in_t.bin", np.float64)
bias = load("bias.bin", np.float64)

if model == "dpi":
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
    unit, wdim, var = 1, "1", "Isyn"
else:
    eqs = """
dv/dt = (v_rest - v + r_m*(isyn + ibias - w))/tau_m : volt (unless refractory)
dw/dt = (a*(v - v_rest) - w)/tau_w : amp
disyn/dt = -isyn/tau_syn : amp
ibias : amp
"""
    ns = {"v_rest": P["v_rest"] * volt, "r_m": P["r_m"] * ohm, "tau_m": P["tau_m"] * second,
          "a": P["a"] * siemens, "tau_w": P["tau_w"] * second, "tau_syn": P["tau_syn"] * second,
          "v_th": P["v_th"] * volt, "v_reset": P["v_reset"] * volt, "b": P["b"] * amp}
    # (method "exact" does not finish for the coupled v, w: sympy; the usual
    # choice for such equations instead)
    G = NeuronGroup(N, eqs, threshold="v > v_th", reset="v = v_reset; w += b",
                    refractory=P["t_ref"] * second, method="exponential_euler", namespace=ns)
    G.v = P["v_rest"] * volt
    G.ibias = bias * amp
    unit, wdim, var = amp, "amp", "isyn"

S = Synapses(G, G, "wsyn : " + wdim, on_pre="%s += wsyn" % var)
S.connect(i=pre, j=post)
# (standalone arrays exist only after the run: there the weights go in the
# given order, which the numpy run checks Brian2 keeps)
S.wsyn = (w if build_dir else weights_in_brian_order(S, pre, post, w, "brian2_dpi")) * unit
S.delay = P["delay"] * second
In = SpikeGeneratorGroup(NIN, in_i, in_t * second)
X = Synapses(In, G, "wsyn : " + wdim, on_pre="%s += wsyn" % var)
X.connect(i=ipre, j=ipost)
X.wsyn = (iw if build_dir else weights_in_brian_order(X, ipre, ipost, iw, "brian2_dpi")) * unit
X.delay = P["delay"] * second
mon = SpikeMonitor(G, record=False)
net = Network(G, S, In, X, mon)
t0 = time.process_time()
net.run(T * second)
t_run = time.process_time() - t0
spikes = mon.num_spikes
if build_dir:  # (the binary times its loop with std::clock: CPU time too)
    run_loop = device._last_run_time
    shutil.rmtree(build_dir, ignore_errors=True)
else:
    run_loop = t_run
print("brian2 spikes %d build_s %.3f run_s %.3f" % (spikes, time.process_time() - run_loop, run_loop))
