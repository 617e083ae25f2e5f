"""Module semantics and error cases replayed by tests/test_nn_module_mlx.py against
MLX 0.32.4's results in tests/data/mlx_nn_module.json (recorded by
tests/data/gen_nn_module.py).

Each case is ``fn(mx, nn) -> JSON-able value``; an exception becomes
``["error", type name, message]``. ``CORE_MESSAGE`` lists the cases whose error comes
from an mlx.core op (only the exception type is compared for those)."""

CASES = {}
CORE_MESSAGE = set()


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def core_case(fn):
    CORE_MESSAGE.add(fn.__name__)
    return case(fn)


def flat(tree, prefix=""):
    """Sorted (name, shape-or-type) pairs of a nested dict/list tree."""
    out = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += flat(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += flat(v, f"{prefix}.{i}" if prefix else str(i))
    elif hasattr(tree, "shape"):
        out.append([prefix, list(tree.shape), str(tree.dtype).split(".")[-1]])
    else:
        out.append([prefix, type(tree).__name__])
    return sorted(out)


def model(mx, nn):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 3))]
            self.heads = {"a": nn.Linear(3, 1), "b": [nn.Linear(3, 2, bias=False)]}
            self.scale = mx.ones((1,))
            self._hidden = mx.zeros((2,))
            self.extra = [mx.zeros((1,)), {"x": mx.ones((2,))}]
            self.norm = nn.BatchNorm(3)
            self.name = "net"

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return self.heads["a"](self.norm(x)) * self.scale

    mx.random.seed(1)
    return Net()


@case
def trees(mx, nn):
    m = model(mx, nn)
    return {
        "parameters": flat(m.parameters()),
        "trainable": flat(m.trainable_parameters()),
        "children": flat(m.children()),
        "leaf_modules": flat(m.leaf_modules()),
        "named_modules": [[k, type(v).__name__] for k, v in m.named_modules()],
        "modules": [type(v).__name__ for v in m.modules()],
        "repr": repr(m),
        "keys": sorted(m.keys()),
        "state_is_self": m.state is m,
        "attr": [m.name, type(m.scale).__name__, m.layers[1].layers[1].weight.shape[0]],
    }


@case
def freezing(mx, nn):
    m = model(mx, nn)
    out = {}
    m.freeze()
    out["all"] = flat(m.trainable_parameters())
    m.unfreeze(keys="weight")
    out["unfreeze_weight"] = flat(m.trainable_parameters())
    m.unfreeze()
    m.freeze(keys=["bias", "scale"], recurse=True)
    out["freeze_bias_scale"] = flat(m.trainable_parameters())
    m.unfreeze()
    m.freeze(recurse=False)
    out["freeze_top_only"] = flat(m.trainable_parameters())
    m.unfreeze(recurse=False)
    m.layers[0].freeze(keys="weight", recurse=False)
    out["one_weight"] = flat(m.trainable_parameters())
    m.unfreeze()
    out["bn_after_unfreeze"] = flat(m.norm.trainable_parameters())
    return out


@case
def freeze_strict_missing(mx, nn):
    return model(mx, nn).freeze(keys="nope", strict=True)


@case
def freeze_strict_nonrecursive(mx, nn):
    return model(mx, nn).freeze(keys="weight", recurse=False, strict=True)


@case
def freeze_strict_recursive_ok(mx, nn):
    m = model(mx, nn).freeze(keys="weight", strict=True)
    return flat(m.trainable_parameters())


@case
def unfreeze_strict_missing(mx, nn):
    return model(mx, nn).unfreeze(keys=["weight", "nope"], strict=True)


@case
def update_ok(mx, nn):
    m = model(mx, nn)
    m.update({"layers": [{"weight": mx.zeros((3, 2))}], "scale": mx.full((1,), 2.0)})
    m.update({"unknown": mx.zeros((1,)), "layers": [{}, {}, {}, {}]}, strict=False)
    return [m.layers[0].weight.sum().item(), m.scale.item(), flat(m.parameters())]


@case
def update_unknown(mx, nn):
    return model(mx, nn).update({"unknown": mx.zeros((1,))})


@case
def update_nested_unknown(mx, nn):
    return model(mx, nn).update({"heads": {"a": {"gamma": mx.zeros((1,))}}})


@case
def update_list_too_long(mx, nn):
    return model(mx, nn).update({"layers": [{}, {}, {}]})


@case
def update_not_array(mx, nn):
    return model(mx, nn).update({"scale": 3.0})


@case
def update_not_dict(mx, nn):
    return model(mx, nn).update({"layers": "abc"})


@case
def update_modules_ok(mx, nn):
    m = model(mx, nn)
    m.update_modules({"layers": [nn.Identity(), {"layers": [{}, nn.Tanh()]}],
                      "heads": {"b": [nn.ReLU()]}})
    return [[k, type(v).__name__] for k, v in m.named_modules()]


@case
def update_modules_unknown(mx, nn):
    return model(mx, nn).update_modules({"nope": nn.ReLU()})


@case
def update_modules_invalid(mx, nn):
    return model(mx, nn).update_modules({"scale": nn.ReLU()})


@case
def apply_and_dtype(mx, nn):
    m = model(mx, nn)
    m.apply(lambda p: p * 2, filter_fn=lambda mod, k, v: k != "scale")
    out = [m.scale.item(), m.norm.running_var.tolist()]
    m.extra[0] = mx.array([1], dtype=mx.int32)
    m.set_dtype(mx.float16)
    out.append(flat(m.parameters()))
    m.set_dtype(mx.bfloat16, predicate=None)
    out.append(flat(m.parameters()))
    return out


@case
def train_eval(mx, nn):
    m = model(mx, nn)
    out = [m.training, m.layers[1].layers[0].training]
    m.eval()
    out += [m.training, m.layers[1].layers[0].training, m.heads["b"][0].training]
    m.layers[1].train()
    out += [m.training, m.layers[1].layers[1].training]
    return out


@case
def attributes(mx, nn):
    m = nn.Linear(2, 2)
    m.custom = 5
    m.arr = mx.zeros((1,))
    out = ["custom" in m, "arr" in m, m.custom]
    m.custom = mx.ones((2,))       # an array replaces the plain attribute
    out += ["custom" in m, m.custom.shape[0]]
    m.custom = 7                   # and a plain value replaces the entry
    out += ["custom" in m, m.custom]
    del m.arr
    out.append("arr" in m)
    return out


@case
def missing_attribute(mx, nn):
    return nn.Linear(2, 2).nope


def _weights_model(mx, nn):
    mx.random.seed(2)
    return nn.Sequential(nn.Linear(3, 2), nn.LayerNorm(2), nn.Linear(2, 1, bias=False))


@case
def load_weights_extra(mx, nn):
    m = _weights_model(mx, nn)
    w = [(k, v) for k, v in _flat_arrays(m.parameters())] + [("layers.5.weight", mx.zeros((1,)))]
    return m.load_weights(w)


@case
def load_weights_missing(mx, nn):
    m = _weights_model(mx, nn)
    return m.load_weights(_flat_arrays(m.parameters())[1:])


@case
def load_weights_shape(mx, nn):
    m = _weights_model(mx, nn)
    w = _flat_arrays(m.parameters())
    w[0] = (w[0][0], mx.zeros((7,)))
    return m.load_weights(w)


@case
def load_weights_not_array(mx, nn):
    m = _weights_model(mx, nn)
    w = _flat_arrays(m.parameters())
    w[0] = (w[0][0], 3.0)
    return m.load_weights(w)


@case
def load_weights_partial(mx, nn):
    m = _weights_model(mx, nn)
    m.load_weights([("layers.2.weight", mx.ones((1, 2))), ("bogus", mx.ones((3,)))],
                   strict=False)
    m.load_weights([], strict=False)
    return [m.layers[2].weight.tolist(), flat(m.parameters())]


@case
def save_bad_extension(mx, nn):
    return _weights_model(mx, nn).save_weights("weights.bin")


def _flat_arrays(tree, prefix=""):
    out = []
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _flat_arrays(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _flat_arrays(v, f"{prefix}.{i}" if prefix else str(i))
    else:
        out.append((prefix, tree))
    return out


# ---------------------------------------------------------------- constructor errors
for _name, _src in {
    "dropout_p1": "nn.Dropout(1.0)",
    "dropout_neg": "nn.Dropout2d(-0.1)",
    "gelu_approx": "nn.GELU('bad')",
    "groupnorm_div": "nn.GroupNorm(4, 6)",
    "groupnorm_groups": "nn.GroupNorm(0, 6)",
    "groupnorm_dims": "nn.GroupNorm(2, 0)",
    "layernorm_eps": "nn.LayerNorm(4, eps=0)",
    "rmsnorm_eps": "nn.RMSNorm(4, eps=-1)",
    "batchnorm_eps": "nn.BatchNorm(4, eps=0.0)",
    "instancenorm_eps": "nn.InstanceNorm(4, eps=0.0)",
    "maxpool_kernel": "nn.MaxPool2d(0)",
    "maxpool_tuple": "nn.MaxPool2d((2, 2, 2))",
    "avgpool_stride": "nn.AvgPool1d(2, stride=-1)",
    "avgpool_padding": "nn.AvgPool3d(2, padding=-1)",
    "pool_type": "nn.MaxPool1d(2.5)",
    "upsample_mode": "nn.Upsample(2, mode='area')",
    "upsample_aa_nearest": "nn.Upsample(2, antialias=True)",
    "upsample_aa_corners": "nn.Upsample(2, mode='linear', align_corners=True, antialias=True)",
    "mha_heads": "nn.MultiHeadAttention(10, 3)",
    "sinusoidal_odd": "nn.SinusoidalPositionalEncoding(5)",
    "rnn_nonlinearity": "nn.RNN(2, 3, nonlinearity=5)",
    "conv_groups": "nn.Conv1d(3, 4, 2, groups=2)",
    "conv2d_groups": "nn.Conv2d(4, 4, 2, groups=3)",
    "init_identity": "nn.init.identity()(mx.zeros((2, 3)))",
    "init_glorot_1d": "nn.init.glorot_uniform()(mx.zeros((3,)))",
    "init_he_mode": "nn.init.he_normal()(mx.zeros((3, 3)), mode='fan')",
    "init_orthogonal_3d": "nn.init.orthogonal()(mx.zeros((2, 2, 2)))",
    "init_sparse_1d": "nn.init.sparse(0.5)(mx.zeros((4,)))",
    "quant_mode": "nn.QuantizedLinear(64, 8, mode='int3')",
    "quantize_predicate": "nn.quantize(nn.Sequential(nn.Linear(64, 8)), class_predicate=lambda p, m: 'yes')",
    "quantize_unable": "nn.quantize(nn.Sequential(nn.ReLU()), class_predicate=lambda p, m: True)",
    "linear_quantize_input": "nn.Linear(64, 8).to_quantized(quantize_input=True)",
    "embedding_quantize_input": "nn.Embedding(4, 64).to_quantized(quantize_input=True)",
    "sharded_split": "nn.AllToShardedLinear(4, 3)",
}.items():
    CASES[_name] = (lambda src: lambda mx, nn: eval(src, {"mx": mx, "nn": nn}))(_src)

# ---------------------------------------------------------------- call-time errors
for _name, _src, _core in [
    ("dropout2d_rank", "nn.Dropout2d()(mx.zeros((2, 3)))", False),
    ("dropout3d_rank", "nn.Dropout3d()(mx.zeros((2, 3, 3)))", False),
    ("batchnorm_rank", "nn.BatchNorm(3)(mx.zeros((1, 2, 2, 2, 3)))", False),
    ("batchnorm_single", "nn.BatchNorm(3)(mx.zeros((1, 3)))", False),
    ("instancenorm_rank", "nn.InstanceNorm(3)(mx.zeros((2, 3)))", False),
    ("pool_rank", "nn.MaxPool1d(2)(mx.zeros((4, 3)))", False),
    ("pool_dims", "nn.MaxPool2d(2)(mx.zeros((1, 4, 3)))", False),
    ("upsample_rank", "nn.Upsample(2)(mx.zeros((4, 3)))", False),
    ("upsample_scales", "nn.Upsample((2, 2))(mx.zeros((1, 4, 3)))", False),
    ("linear_shape", "nn.Linear(4, 2)(mx.zeros((3, 5)))", True),
    ("bilinear_shape", "nn.Bilinear(4, 5, 2)(mx.zeros((3, 4)), mx.zeros((3, 4)))", True),
    ("glu_odd", "nn.glu(mx.zeros((2, 3)))", True),
    ("embedding_float_index", "nn.Embedding(4, 2)(mx.array([0.5]))", True),
    ("rnn_shape", "nn.RNN(3, 4)(mx.zeros((2, 5, 2)))", True),
]:
    CASES[_name] = (lambda src: lambda mx, nn: eval(src, {"mx": mx, "nn": nn}))(_src)
    if _core:
        CORE_MESSAGE.add(_name)


def run(mx, nn, fn):
    """The case's JSON-able result, or its error."""
    try:
        value = fn(mx, nn)
    except Exception as e:  # the replay compares type and message
        return ["error", type(e).__name__, str(e)]
    if hasattr(value, "shape") or hasattr(value, "parameters"):
        return ["value", type(value).__name__]
    return value


# ---------------------------------------------------------------- reprs
_REPRS = [
    "nn.Linear(3, 2)", "nn.Linear(3, 2, bias=False)", "nn.Bilinear(2, 3, 4)", "nn.Identity()",
    "nn.Embedding(5, 3)", "nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2)",
    "nn.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=1)", "nn.Conv3d(2, 3, 2, bias=False)",
    "nn.ConvTranspose1d(4, 3, 3, stride=2, output_padding=1)", "nn.ConvTranspose2d(3, 2, 3)",
    "nn.ConvTranspose3d(2, 2, 2, bias=False)", "nn.Dropout(0.25)", "nn.Dropout2d()",
    "nn.Dropout3d(0.1)", "nn.LayerNorm(4)", "nn.LayerNorm(4, affine=False)", "nn.RMSNorm(4)",
    "nn.GroupNorm(2, 4)", "nn.GroupNorm(2, 4, pytorch_compatible=True)", "nn.BatchNorm(4)",
    "nn.InstanceNorm(4, affine=True)", "nn.MaxPool1d(3)", "nn.AvgPool2d((2, 3), 1, (1, 0))",
    "nn.MaxPool3d(2, 1, 1)", "nn.Upsample(2)", "nn.Upsample((2, 1.5), 'cubic', True)",
    "nn.Upsample(0.5, 'linear', antialias=True)", "nn.RoPE(8, traditional=True)",
    "nn.SinusoidalPositionalEncoding(8)", "nn.ALiBi()", "nn.RNN(3, 4)", "nn.GRU(3, 4, bias=False)",
    "nn.LSTM(3, 4)", "nn.MultiHeadAttention(8, 2)", "nn.TransformerEncoderLayer(8, 2)",
    "nn.Transformer(8, 2, 1, 1)", "nn.PReLU(3)", "nn.GELU('tanh')", "nn.GLU()",
    "nn.LeakyReLU(0.2)", "nn.Step()", "nn.Softshrink()", "nn.AllToShardedLinear(4, 2)",
    "nn.ShardedToAllLinear(4, 2, bias=False)", "nn.QQLinear(32, 16)",
]


@case
def reprs(mx, nn):
    out = {}
    for src in _REPRS:
        layer = eval(src, {"mx": mx, "nn": nn})
        # The RNN's nonlinearity prints as a function object: keep its name only.
        out[src] = [repr(layer).split(" at 0x")[0], flat(layer.parameters()),
                    flat(layer.trainable_parameters())]
    return out


# ---------------------------------------------------------------- errors from ops built elsewhere
# name -> (source, mlx.core attributes it needs); the op raises, so only the type is compared.
NEEDS = {}
for _name, _src, _needs in [
    ("layernorm_shape", "nn.LayerNorm(4)(mx.zeros((2, 3)))", ("fast.layer_norm",)),
    ("rmsnorm_shape", "nn.RMSNorm(4)(mx.zeros((2, 3)))", ("fast.rms_norm",)),
    ("conv_channels", "nn.Conv2d(3, 4, 2)(mx.zeros((1, 5, 5, 2)))", ("conv2d",)),
    ("conv_rank", "nn.Conv1d(3, 4, 2)(mx.zeros((5, 3)))", ("conv1d",)),
    ("conv_too_small", "nn.Conv1d(3, 4, 7)(mx.zeros((1, 5, 3)))", ("conv1d",)),
    ("convt_channels", "nn.ConvTranspose2d(3, 4, 2)(mx.zeros((1, 5, 5, 2)))",
     ("conv_transpose2d",)),
    ("mha_shape", "nn.MultiHeadAttention(8, 2)(mx.zeros((1, 3, 8)), mx.zeros((1, 4, 6)), "
     "mx.zeros((1, 4, 8)))", ()),
    ("rope_dims", "nn.RoPE(8)(mx.zeros((2, 3, 6)))", ("fast.rope",)),
    ("qlinear_shape", "nn.QuantizedLinear(64, 8)(mx.zeros((2, 32)))",
     ("quantize", "quantized_matmul")),
    ("qlinear_group", "nn.QuantizedLinear(60, 8)", ("quantize",)),
    ("groupnorm_shape", "nn.GroupNorm(2, 4)(mx.zeros((2, 3, 6)))", ()),
]:
    CASES[_name] = (lambda src: lambda mx, nn: eval(src, {"mx": mx, "nn": nn}))(_src)
    CORE_MESSAGE.add(_name)
    NEEDS[_name] = _needs
