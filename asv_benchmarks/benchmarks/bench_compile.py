"""mx.compile: fused elementwise chains (gelu, a 12-op chain), the call overhead of a
compiled 100-op chain, the first call (trace + simplify + fuse), and a call with many
traces cached; a hand-written layer norm (row programs) and the MLP's
value_and_grad step."""

from .common import W, mx

# name -> (workload, params)
_CASES = {
    "gelu_2^22": (W.compile_wl, {"fun": "gelu", "n": 1 << 22}),
    "gelu_2^22_uncompiled": (W.compile_wl, {"fun": "gelu", "n": 1 << 22, "compiled": False}),
    "chain12_2^22": (W.compile_wl, {"fun": "chain12", "n": 1 << 22}),
    "chain100_16": (W.compile_scalar_chain, {"steps": 100, "n": 16}),
    "first_call_100": (W.compile_first_call, {"steps": 100, "n": 16}),
    "call_2000_cached": (W.compile_cache, {"shapes": 2000}),
    "layer_norm_4096x1024": (W.compile_layer_norm, {"kind": "compiled"}),
    "layer_norm_4096x1024_fast": (W.compile_layer_norm, {"kind": "fast"}),
    "mlp_step_256": (W.compile_mlp_step, {}),
}


class Compile:
    params = [list(_CASES)]
    param_names = ["case"]
    timeout = 120

    def setup(self, case):
        wl, params = _CASES[case]
        self.run = wl(mx, **params)

    def time_compile(self, case):
        self.run()
