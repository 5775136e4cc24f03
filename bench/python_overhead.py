"""The Python side of bench/python_overhead.c (run by it).

    python_overhead.py network DIR N NSYN TSTOP
        reads the arrays, builds the network through smallsim, runs it and
        reads every spike as arrays; prints "CPU IMPORT SPIKES SUM_T"
        (seconds of CPU for build + run + spikes, and for the imports).
    python_overhead.py engine RUNS
        runs the RC netlist RUNS times; prints the CPU seconds per run.
"""

import resource
import sys


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


t_start = cpu()
import numpy as np  # noqa: E402

import smallsim  # noqa: E402

t_import = cpu() - t_start

RC = ("rc\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\nR1 in out 1k\nC1 out 0 100n\n"
      ".tran 10u 200u\n.end\n")


def network(folder, n, nsyn, tstop):
    bias = np.fromfile(folder + "/bias.f64")
    w = np.fromfile(folder + "/w.f64")
    d = np.fromfile(folder + "/d.f64")
    pre = np.fromfile(folder + "/pre.u64", dtype=np.uint64)
    post = np.fromfile(folder + "/post.u64", dtype=np.uint64)
    assert bias.size == n and w.size == nsyn
    t0 = cpu()
    net = smallsim.Network()
    lif = net.lif("lif", n, bias=bias)
    net.connect(lif, lif, pre, post, w=w, delay=d)
    net.run(tstop)
    t, pop, idx = net.spikes()
    used = cpu() - t0
    print("%.6f %.6f %d %.17g" % (used, t_import, len(t), float(np.sum(t))))


def engine(runs):
    eng = smallsim.engine()
    eng.run_text(RC)
    t0 = cpu()
    for _ in range(runs):
        v = eng.run_text(RC, name="rc.cir")["v(out)"]
    print("%.9f %g" % ((cpu() - t0) / runs, v[-1]))


if __name__ == "__main__":
    if sys.argv[1] == "network":
        network(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
    else:
        engine(int(sys.argv[2]))
