"""Inputs and stft cases shared by make_fft_reference.py (run under MLX) and test_fft.py."""
import numpy as np


def signal():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 50)).astype(np.float32)
    xc = (rng.standard_normal(40) + 1j * rng.standard_normal(40)).astype(np.complex64)
    hann = np.hanning(10).astype(np.float32)
    return x, xc, hann


# (name, stft kwargs); window "hann" stands for the Hann window of signal()
STFT_CASES = [
    ("default", dict(n_fft=16)),
    ("hop_win", dict(n_fft=16, hop_length=5, win_length=10, window="hann")),
    ("nocenter", dict(n_fft=12, hop_length=4, center=False)),
    ("constant", dict(n_fft=8, pad_mode="constant", norm="ortho")),
    ("edge", dict(n_fft=9, hop_length=3, pad_mode="edge", norm="forward")),
    ("twosided", dict(n_fft=8, onesided=False)),
]
