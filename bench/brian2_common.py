"""brian2_common.py: shared by bench/brian2_net.py and bench/brian2_dpi.py."""
import sys
import numpy as np


def weights_in_brian_order(S, pre, post, w, what):
    """Brian2 may store synapses in its own order: returns w (given for the
    (pre, post) pairs in file order) reordered to S's synapses, after checking
    that both hold the same set of pairs."""
    order = np.lexsort((post, pre))
    si, sj = np.asarray(S.i[:]), np.asarray(S.j[:])
    sorder = np.lexsort((sj, si))
    if not (np.array_equal(si[sorder], pre[order]) and np.array_equal(sj[sorder], post[order])):
        sys.exit(what + ": synapse sets differ")
    wsorted = np.empty_like(w)
    wsorted[sorder] = w[order]
    return wsorted
