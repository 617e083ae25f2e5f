"""FFTs (kernels/fft.c): a power-of-two complex transform, batched and 2-D real transforms,
a smooth composite and a prime length (Bluestein)."""

from .common import W, _Case

# name -> params of the fft workload
_FFT = {
    "fft_c64_2^20": {"op": "fft", "shape": (1 << 20,)},
    "rfft_1024x4096": {"op": "rfft", "shape": (1024, 4096)},
    "rfft2_1024x1024": {"op": "rfft2", "shape": (1024, 1024)},
    "fft_c64_60060": {"op": "fft", "shape": (60060,)},
    "fft_c64_65521": {"op": "fft", "shape": (65521,)},
}


class FFT(_Case):
    params = [list(_FFT)]
    param_names = ["case"]

    def case(self, case):
        return W.fft_op, _FFT[case]
