"""mx.fast cases shared by gen_fast.py (run under real MLX: records fast_mlx.npz) and
tests/test_fast.py (runs them under mlxc and compares).  Each case is a function of the
array module `mx` returning a dict of numpy arrays; inputs come from a seeded numpy RNG
so both sides see the same numbers."""
import numpy as np


def _rng(i):
    return np.random.default_rng(1000 + i)


def _n(mx, rng, shape, dtype="float32"):
    return mx.array(rng.standard_normal(shape).astype(dtype))


def _grads(mx, f, args, ct):
    """vjp of f at args against cotangent ct, as numpy arrays."""
    out, g = mx.vjp(f, list(args), [ct])
    return [np.array(x) for x in g]


def case_rope(mx, i, traditional, dims, offset_kind, freqs):
    rng = _rng(i)
    x = _n(mx, rng, (2, 3, 6, 16))
    off = {"int": 3, "scalar": mx.array(5), "vector": mx.array([1, 4])}[offset_kind]
    kw = dict(traditional=traditional, base=None if freqs else 10000.0, scale=0.5,
              offset=off)
    if freqs:
        kw["freqs"] = mx.array(np.linspace(1.0, 40.0, dims // 2).astype("float32"))
    y = mx.fast.rope(x, dims, **kw)
    ct = _n(mx, rng, y.shape)
    g = _grads(mx, lambda a: mx.fast.rope(a, dims, **kw), [x], ct)
    return {"out": np.array(y), "gx": g[0]}


def case_norm(mx, i, kind):
    rng = _rng(i)
    x = _n(mx, rng, (3, 4, 37))
    w = _n(mx, rng, (37,))
    b = _n(mx, rng, (37,))
    if kind == "rms":
        f = lambda x, w: mx.fast.rms_norm(x, w, 1e-5)
        args = [x, w]
    else:
        f = lambda x, w, b: mx.fast.layer_norm(x, w, b, 1e-5)
        args = [x, w, b]
    y = f(*args)
    ct = _n(mx, rng, y.shape)
    g = _grads(mx, f, args, ct)
    return dict({"out": np.array(y)}, **{f"g{j}": a for j, a in enumerate(g)})


def case_sdpa(mx, i, mask_kind, sinks, shape=(2, 4, 2, 7, 9, 8)):
    rng = _rng(i)
    B, Hq, Hk, Lq, Lk, D = shape
    q, k, v = _n(mx, rng, (B, Hq, Lq, D)), _n(mx, rng, (B, Hk, Lk, D)), _n(mx, rng, (B, Hk, Lk, D))
    mask = None
    if mask_kind == "causal":
        mask = "causal"
    elif mask_kind == "additive":
        mask = _n(mx, rng, (Lq, Lk))
    elif mask_kind == "bool":
        m = rng.random((B, 1, Lq, Lk)) > 0.4
        m[0, 0, 1, :] = False            # a fully masked row
        mask = mx.array(m)
    s = _n(mx, rng, (Hq,)) if sinks else None
    f = lambda q, k, v: mx.fast.scaled_dot_product_attention(q, k, v, scale=0.35, mask=mask,
                                                             sinks=s)
    y = f(q, k, v)
    ct = _n(mx, rng, y.shape)
    g = _grads(mx, f, [q, k, v], ct)
    out = {"out": np.array(y), "gq": g[0], "gk": g[1], "gv": g[2]}
    if sinks:
        fs = lambda s_: mx.fast.scaled_dot_product_attention(q, k, v, scale=0.35, mask=mask,
                                                             sinks=s_)
        out["gs"] = _grads(mx, fs, [s], ct)[0]
    return out


def case_cross_entropy(mx, i):
    rng = _rng(i)
    x = _n(mx, rng, (4, 3, 11))
    t = mx.array(rng.integers(0, 11, (4, 3)).astype("int32"))
    y = mx.fast.cross_entropy(x, t)
    ct = _n(mx, rng, y.shape)
    g = _grads(mx, lambda a: mx.fast.cross_entropy(a, t), [x], ct)
    return {"out": np.array(y), "gx": g[0]}


def case_gdu(mx, i, gamma4, state, mask):
    rng = _rng(i)
    B, T, Hk, Hv, Dk, Dv = 2, 5, 1, 2, 4, 3
    q, k = _n(mx, rng, (B, T, Hk, Dk)), _n(mx, rng, (B, T, Hk, Dk)) * 0.5
    v = _n(mx, rng, (B, T, Hv, Dv))
    gshape = (B, T, Hv, Dk) if gamma4 else (B, T, Hv)
    g = mx.array(rng.uniform(0.5, 1.0, gshape).astype("float32"))
    b = mx.array(rng.uniform(0.0, 1.0, (B, T, Hv)).astype("float32"))
    s0 = _n(mx, rng, (B, Hv, Dv, Dk)) if state else None
    m = mx.array(rng.random((B, T)) > 0.3) if mask else None
    y, s = mx.fast.gated_delta_update(q, k, v, g, b, initial_state=s0, mask=m)
    return {"out": np.array(y), "state": np.array(s)}


def all_cases():
    """name -> function(mx) -> dict of numpy arrays."""
    c = {}
    i = 0
    for trad in (False, True):
        for dims in (16, 8):
            for off in ("int", "scalar", "vector"):
                c[f"rope_t{int(trad)}_d{dims}_{off}"] = (
                    lambda mx, i=i, t=trad, d=dims, o=off: case_rope(mx, i, t, d, o, False))
                i += 1
    c["rope_freqs"] = lambda mx, i=i: case_rope(mx, i, False, 12, "int", True)
    i += 1
    c["rope_freqs_trad"] = lambda mx, i=i: case_rope(mx, i, True, 16, "vector", True)
    i += 1
    for kind in ("rms", "layer"):
        c[f"norm_{kind}"] = lambda mx, i=i, k=kind: case_norm(mx, i, k)
        i += 1
    for mk in ("none", "causal", "additive", "bool"):
        for sk in (False, True):
            c[f"sdpa_{mk}_s{int(sk)}"] = lambda mx, i=i, m=mk, s=sk: case_sdpa(mx, i, m, s)
            i += 1
    c["sdpa_causal_long_q"] = lambda mx, i=i: case_sdpa(mx, i, "causal", False,
                                                        (1, 2, 1, 6, 3, 8))
    i += 1
    c["sdpa_mqa_blocks"] = lambda mx, i=i: case_sdpa(mx, i, "causal", True,
                                                    (1, 4, 1, 40, 70, 16))
    i += 1
    c["cross_entropy"] = lambda mx, i=i: case_cross_entropy(mx, i)
    i += 1
    for g4 in (False, True):
        for st in (False, True):
            for mk in (False, True):
                c[f"gdu_g{int(g4)}_s{int(st)}_m{int(mk)}"] = (
                    lambda mx, i=i, a=g4, b=st, m=mk: case_gdu(mx, i, a, b, m))
                i += 1
    return c
