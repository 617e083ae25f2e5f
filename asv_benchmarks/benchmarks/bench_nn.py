"""mlxc.nn: an MLP training step through nn.value_and_grad, an LSTM forward pass,
max pooling (reshape and as_strided paths) and linear upsampling."""

from .common import W, mx

# name -> (workload, params)
_CASES = {
    "mlp_train_step": (W.nn_mlp_train_step, {}),
    "lstm": (W.nn_lstm, {}),
    "maxpool2d_k3s2": (W.nn_maxpool2d, {}),
    "maxpool2d_k2s2": (W.nn_maxpool2d, {"kernel": 2, "stride": 2}),
    "upsample_linear": (W.nn_upsample_linear, {}),
}


class NN:
    params = [list(_CASES)]
    param_names = ["case"]
    timeout = 120

    def setup(self, case):
        wl, params = _CASES[case]
        self.run = wl(mx, **params)

    def time_nn(self, case):
        self.run()
