"""float64 numpy references for the convolution tests, written from the definitions:
conv_general as a sum over kernel taps of strided input patches (einsum per tap), and
the transposed convolution as the scatter it is (each input element adds its kernel
copy into the output)."""
import itertools

import numpy as np


def conv_general_ref(x, w, stride, lo, hi, kdil, idil, groups, flip):
    """x (N, *sp, C_in), w (C_out, *k, C_in / groups); paddings may be negative (crop)."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    nsp = x.ndim - 2
    N, cin, cout = x.shape[0], x.shape[-1], w.shape[0]
    G = groups
    cig, cog = cin // G, cout // G
    # dilate
    dsp = [(s - 1) * i + 1 for s, i in zip(x.shape[1:-1], idil)]
    xd = np.zeros((N,) + tuple(dsp) + (cin,))
    xd[(slice(None),) + tuple(slice(None, None, i) for i in idil)] = x
    # pad (positive) then crop (negative)
    xd = np.pad(xd, [(0, 0)] + [(max(l, 0), max(h, 0)) for l, h in zip(lo, hi)] + [(0, 0)])
    xd = xd[(slice(None),) + tuple(slice(max(-l, 0), xd.shape[d + 1] - max(-h, 0))
                                   for d, (l, h) in enumerate(zip(lo, hi)))]
    if flip:
        w = w[(slice(None),) + (slice(None, None, -1),) * nsp]
    ks = w.shape[1:-1]
    osp = [(xd.shape[d + 1] - (ks[d] - 1) * kdil[d] - 1) // stride[d] + 1 for d in range(nsp)]
    out = np.zeros((N,) + tuple(osp) + (G, cog))
    for t in itertools.product(*[range(k) for k in ks]):
        sl = tuple(slice(t[d] * kdil[d], t[d] * kdil[d] + (osp[d] - 1) * stride[d] + 1,
                         stride[d]) for d in range(nsp))
        patch = xd[(slice(None),) + sl].reshape((N,) + tuple(osp) + (G, cig))
        wt = w[(slice(None),) + t].reshape(G, cog, cig)
        out += np.einsum("...gc,goc->...go", patch, wt)
    return out.reshape((N,) + tuple(osp) + (cout,))


def conv_transpose_ref(x, w, stride, padding, dilation, output_padding, groups):
    """Each input position i scatters x[i] * w[k] to output i*stride + k*dilation - padding;
    the output length is (L-1)*stride - 2*padding + dilation*(K-1) + output_padding + 1."""
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    nsp = x.ndim - 2
    N, cin, cout = x.shape[0], x.shape[-1], w.shape[0]
    G = groups
    cig, cog = cin // G, cout // G
    sp, ks = x.shape[1:-1], w.shape[1:-1]
    full = [(sp[d] - 1) * stride[d] + dilation[d] * (ks[d] - 1) + 1 + output_padding[d]
            for d in range(nsp)]
    acc = np.zeros((N,) + tuple(full) + (G, cog))
    xg = x.reshape((N,) + tuple(sp) + (G, cig))
    for t in itertools.product(*[range(k) for k in ks]):
        wt = w[(slice(None),) + t].reshape(G, cog, cig)
        contrib = np.einsum("...gc,goc->...go", xg, wt)
        sl = tuple(slice(t[d] * dilation[d], t[d] * dilation[d] + (sp[d] - 1) * stride[d] + 1,
                         stride[d]) for d in range(nsp))
        acc[(slice(None),) + sl] += contrib
    out = acc[(slice(None),) + tuple(slice(padding[d], full[d] - padding[d])
                                     for d in range(nsp))]
    return out.reshape(out.shape[:-2] + (cout,))
