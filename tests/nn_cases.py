"""mlx.nn cases replayed by tests/test_nn_layers_mlx.py against MLX 0.32.4's results in
tests/data/mlx_nn_reference.npz (recorded by tests/data/gen_nn_reference.py).

Each case is ``fn(mx, nn) -> {name: array}``: it seeds mx.random, builds layers (so the
initializer draws and the parameter names are part of the record) and runs them on inputs
drawn by numpy. ``NEEDS`` names the mlxc.core attributes a case depends on; the replay
skips a case while one of them is missing.
"""
import numpy as np

CASES = {}
NEEDS = {}


def case(*needs):
    def register(fn):
        CASES[fn.__name__] = fn
        NEEDS[fn.__name__] = needs
        return fn
    return register


def data(mx, seed, *shape, scale=1.0):
    rs = np.random.RandomState(seed)
    return mx.array((rs.standard_normal(shape) * scale).astype(np.float32))


def params(mx, module, prefix="p"):
    """The flattened parameters under their MLX names."""
    out = {}
    stack = [("", module.parameters())]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack += [(f"{path}.{k}" if path else k, v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(f"{path}.{i}" if path else str(i), v) for i, v in enumerate(node)]
        else:
            out[f"{prefix}:{path}"] = node
    return out


def layer_case(mx, nn, make, x, seed=3):
    mx.random.seed(seed)
    layer = make()
    out = params(mx, layer)
    out["y"] = layer(x)
    return out


# ----------------------------------------------------------------- activations
ACTIVATIONS = ["sigmoid", "relu", "relu2", "relu6", "leaky_relu", "log_softmax", "elu",
               "softmax", "softplus", "softsign", "softshrink", "celu", "silu",
               "log_sigmoid", "gelu", "gelu_approx", "gelu_fast_approx", "glu", "step",
               "selu", "mish", "hardswish", "hard_tanh", "hard_shrink", "softmin", "tanh"]
CLASSES = ["Sigmoid", "ReLU", "ReLU2", "ReLU6", "LeakyReLU", "LogSoftmax", "ELU",
           "Softmax", "Softplus", "Softsign", "Softshrink", "CELU", "SiLU", "LogSigmoid",
           "GELU", "GLU", "Step", "SELU", "Mish", "Hardswish", "HardTanh", "HardShrink",
           "Softmin", "Tanh", "PReLU"]


@case()
def activations(mx, nn):
    x = data(mx, 0, 4, 6, scale=3.0)
    out = {f"f:{name}": getattr(nn, name)(x) for name in ACTIVATIONS}
    out["f:prelu"] = nn.prelu(x, mx.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))
    out["f:elu2"] = nn.elu(x, 0.5)
    out["f:celu2"] = nn.celu(x, 2.0)
    out["f:leaky2"] = nn.leaky_relu(x, 0.2)
    out["f:step2"] = nn.step(x, 0.5)
    for name in CLASSES:
        out[f"c:{name}"] = getattr(nn, name)()(x)
    for approx in ("precise", "tanh", "fast"):
        out[f"c:GELU_{approx}"] = nn.GELU(approx)(x)
    # Gradients through every activation (kinks included at exact zeros).
    z = mx.array([-2.0, -0.5, 0.0, 0.5, 2.0, 6.0])
    for name in ACTIVATIONS:
        if name in ("glu", "step"):
            continue
        fn = getattr(nn, name)
        out[f"g:{name}"] = mx.grad(lambda v: fn(v).sum())(z)
    return out


# ----------------------------------------------------------------- initializers
@case()
def initializers(mx, nn):
    a = mx.zeros((5, 7))
    c = mx.zeros((4, 3, 3, 2))
    out = {}
    mx.random.seed(11)
    out["constant"] = nn.init.constant(0.5)(a)
    out["normal"] = nn.init.normal(1.0, 2.0)(a)
    out["uniform"] = nn.init.uniform(-3.0, 1.0)(a)
    out["identity"] = nn.init.identity()(mx.zeros((4, 4)))
    out["glorot_normal"] = nn.init.glorot_normal()(c)
    out["glorot_uniform"] = nn.init.glorot_uniform()(a, gain=2.0)
    out["he_normal"] = nn.init.he_normal()(c, mode="fan_out")
    out["he_uniform"] = nn.init.he_uniform()(a)
    out["sparse"] = nn.init.sparse(0.4, std=0.5)(a)
    out["normal_f16"] = nn.init.normal(dtype=mx.float16)(a)
    return out


@case("linalg.qr")
def init_orthogonal(mx, nn):
    mx.random.seed(12)
    return {"orthogonal": nn.init.orthogonal(gain=1.5)(mx.zeros((4, 6))),
            "orthogonal_tall": nn.init.orthogonal()(mx.zeros((5, 3)))}


# ----------------------------------------------------------------- linear family
@case()
def linear(mx, nn):
    x = data(mx, 1, 2, 3, 5)
    out = layer_case(mx, nn, lambda: nn.Linear(5, 4), x)
    nb = layer_case(mx, nn, lambda: nn.Linear(5, 4, bias=False), x, seed=4)
    out.update({f"nobias_{k}": v for k, v in nb.items()})
    return out


@case()
def bilinear(mx, nn):
    x1, x2 = data(mx, 2, 2, 3, 4), data(mx, 3, 2, 3, 5)
    mx.random.seed(5)
    layer = nn.Bilinear(4, 5, 6)
    out = params(mx, layer)
    out["y"] = layer(x1, x2)
    return out


@case()
def identity_embedding(mx, nn):
    out = {"id": nn.Identity(3, k=2)(data(mx, 4, 3))}
    mx.random.seed(6)
    emb = nn.Embedding(10, 4)
    out.update(params(mx, emb))
    out["y"] = emb(mx.array([[1, 2], [9, 0]]))
    out["as_linear"] = emb.as_linear(data(mx, 5, 3, 4))
    return out


@case()
def sequential(mx, nn):
    x = data(mx, 6, 3, 4)
    return layer_case(mx, nn, lambda: nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8, bias=False), nn.GELU(),
        nn.Linear(8, 2)), x, seed=7)


# ----------------------------------------------------------------- dropout
@case()
def dropout(mx, nn):
    out = {}
    x = data(mx, 7, 2, 4, 4, 3) + 5
    for name, cls, inp in (("d", nn.Dropout, x), ("d2", nn.Dropout2d, x),
                           ("d3", nn.Dropout3d, x[None])):
        mx.random.seed(21)
        layer = cls(0.3)
        out[name] = layer(inp)
        layer.eval()
        out[f"{name}_eval"] = layer(inp)
    mx.random.seed(22)
    out["d_default"] = nn.Dropout()(x)
    return out


# ----------------------------------------------------------------- normalization
@case()
def norms_plain(mx, nn):
    x = data(mx, 8, 2, 3, 4, 6, scale=2.0) + 1.0
    out = {}
    mx.random.seed(0)
    g = nn.GroupNorm(3, 6)
    g.weight = data(mx, 9, 6)
    g.bias = data(mx, 10, 6)
    out["group"] = g(x)
    out["group_noaffine"] = nn.GroupNorm(2, 6, affine=False)(x)
    bn = nn.BatchNorm(6)
    out["bn_train"] = bn(x)
    out["bn_mean"] = bn.running_mean
    out["bn_var"] = bn.running_var
    out["bn_train2"] = bn(x * 2)
    bn.eval()
    out["bn_eval"] = bn(x)
    bn2 = nn.BatchNorm(6, affine=False, track_running_stats=False, momentum=0.3)
    out["bn_nostats"] = bn2(x[:, 0])
    out["bn_2d"] = nn.BatchNorm(6)(x[:, 0, 0])
    return out


@case("fast.layer_norm")
def norms_fast_layer(mx, nn):
    x = data(mx, 11, 2, 3, 4, 6, scale=2.0) + 1.0
    ln = nn.LayerNorm(6)
    ln.weight = data(mx, 12, 6)
    ln.bias = data(mx, 13, 6)
    out = {"ln": ln(x), "ln_noaffine": nn.LayerNorm(6, affine=False)(x),
           "ln_nobias": nn.LayerNorm(6, bias=False, eps=1e-3)(x)}
    inorm = nn.InstanceNorm(6, affine=True)
    inorm.weight = data(mx, 14, 6)
    out["instance"] = inorm(x)
    out["instance_1d"] = nn.InstanceNorm(6)(x[:, 0])
    out["group_pt"] = nn.GroupNorm(3, 6, pytorch_compatible=True)(x)
    return out


@case("fast.rms_norm")
def norms_fast_rms(mx, nn):
    x = data(mx, 15, 3, 5, 8)
    r = nn.RMSNorm(8, eps=1e-4)
    r.weight = data(mx, 16, 8)
    return {"rms": r(x)}


# ----------------------------------------------------------------- pooling
@case()
def pooling(mx, nn):
    x1 = data(mx, 17, 2, 9, 3)
    x2 = data(mx, 18, 2, 7, 8, 3)
    x3 = data(mx, 19, 1, 5, 6, 4, 2)
    return {
        "max1": nn.MaxPool1d(3, 2, 1)(x1), "avg1": nn.AvgPool1d(3)(x1),
        "max1_tiled": nn.MaxPool1d(3)(x1),
        "max2": nn.MaxPool2d((3, 2), (2, 1), (1, 0))(x2), "avg2": nn.AvgPool2d(2)(x2),
        "avg2_pad": nn.AvgPool2d(3, 2, 1)(x2), "max2_tiled": nn.MaxPool2d((7, 4))(x2),
        "max3": nn.MaxPool3d(2, 1)(x3), "avg3": nn.AvgPool3d((2, 3, 2), (1, 2, 2), 1)(x3),
        # Gradients flow through the window views (overlapping windows add up).
        "g_max2": mx.grad(lambda v: (nn.MaxPool2d(3, 2, 1)(v) ** 2).sum())(x2),
        "g_avg1": mx.grad(lambda v: (nn.AvgPool1d(3, 2)(v) ** 2).sum())(x1),
    }


# ----------------------------------------------------------------- upsample
@case()
def upsample(mx, nn):
    x1 = data(mx, 20, 1, 5, 2)
    x2 = data(mx, 21, 2, 4, 3, 2)
    out = {}
    for mode in ("nearest", "linear", "cubic"):
        for ac in ((False, True) if mode != "nearest" else (False,)):
            tag = f"{mode}_{int(ac)}"
            out[f"{tag}_2"] = nn.Upsample(2, mode, ac)(x2)
            out[f"{tag}_frac"] = nn.Upsample((1.5, 2.5), mode, ac)(x2)
            out[f"{tag}_1d"] = nn.Upsample(3, mode, ac)(x1)
    out["nearest_down"] = nn.Upsample(0.5, "nearest")(x2)
    for mode in ("nearest", "linear", "cubic"):
        up = nn.Upsample((1.5, 2), mode, mode == "cubic")
        out[f"g_{mode}"] = mx.grad(lambda v: (up(v) ** 2).sum())(x2)
    for mode in ("linear", "cubic"):
        out[f"{mode}_aa_down"] = nn.Upsample((0.5, 0.75), mode, antialias=True)(x2)
        out[f"{mode}_aa_up"] = nn.Upsample(2, mode, antialias=True)(x1)
    return out


# ----------------------------------------------------------------- positional
@case()
def positional(mx, nn):
    pos = mx.arange(7, dtype=mx.float32)
    out = {"sin": nn.SinusoidalPositionalEncoding(8)(pos),
           "sin_cos_first": nn.SinusoidalPositionalEncoding(
               6, min_freq=0.01, max_freq=2, scale=1.0, cos_first=True,
               full_turns=True)(pos),
           "sin_2": nn.SinusoidalPositionalEncoding(2)(pos)}
    scores = data(mx, 22, 2, 6, 4, 5)
    out["alibi"] = nn.ALiBi()(scores)
    out["alibi_offset_mask"] = nn.ALiBi()(scores, offset=1, mask=data(mx, 23, 4, 5))
    out["alibi_slope6"] = nn.ALiBi.create_alibi_slope(6)
    out["causal"] = nn.MultiHeadAttention.create_additive_causal_mask(4)
    return out


@case("fast.rope")
def rope(mx, nn):
    x = data(mx, 24, 2, 3, 5, 8)
    return {"rope": nn.RoPE(8)(x), "rope_trad": nn.RoPE(6, traditional=True)(x, offset=2),
            "rope_base": nn.RoPE(4, base=500, scale=0.5)(x, offset=3)}


# ----------------------------------------------------------------- recurrent
@case()
def recurrent(mx, nn):
    x = data(mx, 25, 2, 4, 3)
    h0 = data(mx, 26, 2, 5)
    out = {}
    mx.random.seed(30)
    rnn = nn.RNN(3, 5)
    out.update(params(mx, rnn, "rnn"))
    out["rnn"] = rnn(x)
    out["rnn_h0"] = rnn(x, h0)
    out["rnn_relu_nobias"] = nn.RNN(3, 5, bias=False, nonlinearity=nn.relu)(x[0])
    gru = nn.GRU(3, 5)
    out.update(params(mx, gru, "gru"))
    out["gru"] = gru(x)
    out["gru_h0"] = gru(x, h0)
    out["gru_nobias"] = nn.GRU(3, 5, bias=False)(x)
    lstm = nn.LSTM(3, 5)
    out.update(params(mx, lstm, "lstm"))
    h, c = lstm(x)
    out["lstm_h"], out["lstm_c"] = h, c
    h, c = lstm(x, h0, h0 * 0.5)
    out["lstm_h0"], out["lstm_c0"] = h, c
    return out


# ----------------------------------------------------------------- conv
@case("conv1d", "conv2d", "conv3d")
def conv(mx, nn):
    out = {}
    for tag, make, x in (
        ("c1", lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), data(mx, 27, 2, 9, 4)),
        ("c2", lambda: nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=1, dilation=1),
         data(mx, 28, 2, 6, 5, 3)),
        ("c3", lambda: nn.Conv3d(2, 3, 2, bias=False), data(mx, 29, 1, 4, 4, 3, 2)),
    ):
        res = layer_case(mx, nn, make, x, seed=40)
        out.update({f"{tag}_{k}": v for k, v in res.items()})
    return out


@case("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
def conv_transpose(mx, nn):
    out = {}
    for tag, make, x in (
        ("t1", lambda: nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1, output_padding=1),
         data(mx, 30, 2, 5, 4)),
        ("t2", lambda: nn.ConvTranspose2d(3, 2, 3, stride=2), data(mx, 31, 1, 3, 4, 3)),
        ("t3", lambda: nn.ConvTranspose3d(2, 2, 2, bias=False), data(mx, 32, 1, 2, 3, 2, 2)),
    ):
        res = layer_case(mx, nn, make, x, seed=41)
        out.update({f"{tag}_{k}": v for k, v in res.items()})
    return out


# ----------------------------------------------------------------- attention
@case("fast.scaled_dot_product_attention", "fast.layer_norm")
def attention(mx, nn):
    q, kv = data(mx, 33, 2, 4, 8), data(mx, 34, 2, 5, 6)
    mx.random.seed(50)
    mha = nn.MultiHeadAttention(8, 2, key_input_dims=6, value_dims=4, bias=True)
    out = params(mx, mha, "mha")
    out["mha"] = mha(q, kv, kv)
    mask = nn.MultiHeadAttention.create_additive_causal_mask(4)
    out["mha_self_mask"] = mha(q, q[..., :6], q[..., :6], mask=mask)
    mx.random.seed(51)
    tr = nn.Transformer(8, 2, 1, 1, mlp_dims=12)
    out.update(params(mx, tr, "tr"))
    out["tr"] = tr(q, q * 0.5, None, mask, None)
    mx.random.seed(52)
    enc = nn.TransformerEncoder(2, 8, 2, norm_first=False, activation=nn.gelu)
    out["enc_post"] = enc(q, mask)
    mx.random.seed(52)
    enc_ckpt = nn.TransformerEncoder(2, 8, 2, norm_first=False, activation=nn.gelu,
                                     checkpoint=True)
    out["enc_ckpt"] = enc_ckpt(q, mask)
    _, g = nn.value_and_grad(enc_ckpt, lambda v: (enc_ckpt(v, mask) ** 2).sum())(q)
    out.update(params(mx, _Tree(g), "enc_grad"))
    return out


# ----------------------------------------------------------------- quantized
@case("quantize", "quantized_matmul", "dequantize")
def quantized(mx, nn):
    out = {}
    mx.random.seed(60)
    ql = nn.QuantizedLinear(64, 8)
    out.update(params(mx, ql, "ql"))
    x = data(mx, 35, 3, 64)
    out["ql"] = ql(x)
    mx.random.seed(61)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Embedding(16, 64))
    nn.quantize(model, group_size=32, bits=8)
    out.update(params(mx, model, "qm"))
    out["qm_lin"] = model.layers[0](x)
    out["qm_emb"] = model.layers[2](mx.array([1, 5, 15]))
    out["qm_emb_lin"] = model.layers[2].as_linear(x)
    mx.random.seed(62)
    qe = nn.QuantizedEmbedding(10, 32, bits=4, group_size=32)
    out.update(params(mx, qe, "qe"))
    out["qe"] = qe(mx.array([[0, 9], [3, 3]]))
    return out


@case("quantize", "dequantize")
def qqlinear(mx, nn):
    # MLX 0.32.4 has no CPU qqmm ("NYI for the general case"): only the weight
    # handling of QQLinear is recorded (float in training, quantized in eval).
    mx.random.seed(63)
    q = nn.QQLinear(64, 16)
    out = params(mx, q, "train")
    q.eval()
    out.update(params(mx, q, "q"))
    q.train()
    out.update(params(mx, q, "back"))
    mx.random.seed(64)
    lq = nn.Linear(64, 16, bias=False).to_quantized(mode="nvfp4", quantize_input=True)
    lq.eval()
    out.update(params(mx, lq, "from_linear"))
    return out


# ----------------------------------------------------------------- grads
@case()
def grads(mx, nn):
    mx.random.seed(70)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    model.layers[0].freeze(keys="bias")
    x, y = data(mx, 36, 5, 4), data(mx, 37, 5, 3)

    def loss(a, b):
        return ((model(a) - b) ** 2).mean()

    value, g = nn.value_and_grad(model, loss)(x, y)
    out = params(mx, model)
    out["value"] = value
    out.update(params(mx, _Tree(g), "g"))
    return out


class _Tree:
    """Lets ``params`` flatten a plain gradient tree."""

    def __init__(self, tree):
        self.tree = tree

    def parameters(self):
        return self.tree
