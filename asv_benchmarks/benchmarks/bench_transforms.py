"""Function transforms on small models: value_and_grad of an MLP, per-example
gradients through vmap(grad)."""

from .common import W, mx

# name -> (workload, params)
_CASES = {
    "mlp_value_and_grad": (W.mlp_value_and_grad, {}),
    "per_example_grads": (W.per_example_grads, {"batch": 512, "dim": 256}),
}


class Transforms:
    params = [list(_CASES)]
    param_names = ["case"]
    timeout = 120

    def setup(self, case):
        wl, params = _CASES[case]
        self.run = wl(mx, **params)

    def time_transform(self, case):
        self.run()
