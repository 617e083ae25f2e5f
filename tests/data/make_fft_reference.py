"""Record MLX 0.32.4's stft / istft outputs for tests/test_fft.py.

Run with the reference interpreter:  /work/mlxref/bin/python tests/data/make_fft_reference.py
Writes tests/data/fft_reference.npz (inputs are regenerated from the seed in the test).
"""
import os

import mlx.core as mx
import numpy as np

from fft_cases import STFT_CASES, signal

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    x, xc, hann = signal()
    out = {}
    for name, kw in STFT_CASES:
        kw = dict(kw)
        if kw.get("window") == "hann":
            kw["window"] = mx.array(hann)
        s = mx.fft.stft(mx.array(x), **kw)
        out["stft_" + name] = np.array(s)
        ikw = {k: v for k, v in kw.items() if k not in ("pad_mode",)}
        if "onesided" not in ikw:
            out["istft_" + name] = np.array(mx.fft.istft(s, **ikw))
    out["stft_complex"] = np.array(mx.fft.stft(mx.array(xc), n_fft=8))
    out["istft_complex"] = np.array(mx.fft.istft(mx.fft.stft(mx.array(xc), n_fft=8), n_fft=8,
                                                 onesided=False))
    out["istft_length"] = np.array(mx.fft.istft(mx.fft.stft(mx.array(x), n_fft=16), length=45))
    out["istft_long"] = np.array(mx.fft.istft(mx.fft.stft(mx.array(x), n_fft=16), length=70))
    out["istft_long_nocenter"] = np.array(mx.fft.istft(
        mx.fft.stft(mx.array(x), n_fft=16, center=False), center=False, length=70))
    np.savez(os.path.join(HERE, "fft_reference.npz"), **out)


if __name__ == "__main__":
    main()
