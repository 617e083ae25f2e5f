"""Convolutions (float32, channels last): conv2d and conv1d forward, the gradient of a
conv2d wrt input and weight, and a stride-2 conv_transpose2d."""

from .common import W, _ComputeBound


class Conv(_ComputeBound):
    params = [["conv2d", "conv1d", "conv2d_grad", "conv_transpose2d"]]
    param_names = ["case"]
    timeout = 120

    def case(self, case):
        return W.conv, {"case": case}
