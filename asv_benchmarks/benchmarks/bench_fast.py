"""mx.fast: flash attention (causal prefill, its vjp wrt q, k, v, one-query decoding), the
norms and rope."""

from .common import W, _Case

# name -> params of the fast workload
_FAST = {
    "sdpa_causal_1x16x1024x64": {"op": "sdpa_causal", "b": 1, "h": 16, "l": 1024, "d": 64},
    "grad_sdpa_causal_1x16x1024x64": {"op": "sdpa_causal_grad", "b": 1, "h": 16, "l": 1024,
                                      "d": 64},
    "sdpa_decode_1x16x1_kv4096x128": {"op": "sdpa_decode", "b": 1, "h": 16, "d": 128,
                                      "n": 4096},
    "layer_norm_4096^2": {"op": "layer_norm", "n": 4096},
    "rms_norm_4096^2": {"op": "rms_norm", "n": 4096},
    "rope_1x32x1024x128": {"op": "rope", "b": 1, "h": 32, "l": 1024, "d": 128},
}


class Fast(_Case):
    params = [list(_FAST)]
    param_names = ["case"]
    timeout = 120

    def case(self, case):
        return W.fast_op, _FAST[case]
