"""Transposing copies (kernels/transpose.c through mlxc_copy): every element size,
ragged edges, batches, reversed rows, and casts that keep the old tiled path."""
import numpy as np
import pytest

import mlxc.core as mx
from helpers import to_np


@pytest.mark.parametrize("dtype", [np.int8, np.float16, np.float32, np.float64, np.complex64])
@pytest.mark.parametrize("shape", [(32, 32), (37, 53), (64, 48), (1000, 17), (17, 1000),
                                   (300, 300)])
def test_transpose_copy(dtype, shape):
    rng = np.random.default_rng(sum(shape))
    a = (rng.standard_normal(shape) * 50).astype(dtype)
    x = mx.array(a, dtype=mx.float64) if dtype == np.float64 else mx.array(a)
    got = mx.contiguous(x.T)
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(to_np(got, dtype), a.T)


def test_transpose_copy_batched_flipped_and_cast():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 70, 90)).astype(np.float32)
    x = mx.array(a)
    np.testing.assert_array_equal(to_np(mx.contiguous(x.transpose(0, 2, 1))), a.transpose(0, 2, 1))
    np.testing.assert_array_equal(to_np(mx.contiguous(x.transpose(2, 0, 1))), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(to_np(mx.contiguous(x[:, ::-1].transpose(0, 2, 1))),
                                  a[:, ::-1].transpose(0, 2, 1))
    np.testing.assert_array_equal(to_np(x.T.astype(mx.float16)), a.T.astype(np.float16))
    # a strided window of a bigger matrix (row pitch != width)
    big = rng.standard_normal((256, 512)).astype(np.float32)
    np.testing.assert_array_equal(to_np(mx.contiguous(mx.array(big)[3:200, 5:400].T)),
                                  big[3:200, 5:400].T)


def test_transpose_copy_threaded_size():
    a = np.arange(1 << 20, dtype=np.float32).reshape(1024, 1024)
    np.testing.assert_array_equal(to_np(mx.contiguous(mx.array(a).T)), a.T)
