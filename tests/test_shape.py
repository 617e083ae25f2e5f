"""Shape and view ops against numpy."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import mlxc.core as mx
from helpers import to_np

N = np.arange(24).reshape(2, 3, 4)


def A():
    return mx.array(N)


def check(r, want):
    assert isinstance(r, mx.array)
    assert r.shape == want.shape
    np.testing.assert_array_equal(to_np(r), want)


@pytest.mark.parametrize("shape", [(-1, 4), (6, -1), (4, 6), (-1,), (24,), (2, 12), (1, 24, 1), (2, 2, 2, 3)])
def test_reshape(shape):
    check(mx.reshape(A(), shape), N.reshape(shape))
    check(A().reshape(shape), N.reshape(shape))
    check(A().reshape(*shape), N.reshape(shape))
    check(mx.reshape(A(), shape=shape), N.reshape(shape))


def test_reshape_of_transposed_is_row_major():
    check(A().T.reshape(-1), N.T.reshape(-1))


def test_reshape_errors():
    with pytest.raises(ValueError):
        A().reshape(-1, -1)
    with pytest.raises(ValueError):
        A().reshape(5, 5)
    with pytest.raises(ValueError):
        mx.zeros((0, 3)).reshape(-1, 0)


@pytest.mark.parametrize("start,end", [(0, -1), (1, -1), (0, 1), (-2, -1), (1, 1), (0, 2)])
def test_flatten(start, end):
    s, e = start % 3, end % 3
    want = N.reshape(N.shape[:s] + (-1,) + N.shape[e + 1:])
    check(mx.flatten(A(), start, end), want)
    check(mx.flatten(A(), start_axis=start, end_axis=end), want)
    check(A().flatten(start, end), want)


def test_flatten_defaults_and_errors():
    check(mx.flatten(A()), N.reshape(-1))
    check(mx.flatten(mx.array(3)), np.array([3]))
    with pytest.raises(ValueError):
        mx.flatten(A(), 2, 1)


def test_unflatten():
    check(mx.unflatten(A(), 1, (3, 1)), N.reshape(2, 3, 1, 4))
    check(mx.unflatten(A(), -1, (2, -1)), N.reshape(2, 3, 2, 2))
    check(mx.unflatten(A(), axis=0, shape=[1, 2]), N.reshape(1, 2, 3, 4))
    with pytest.raises(ValueError):
        mx.unflatten(A(), -1, (3, -1))


def test_squeeze_expand_dims():
    n = np.zeros((1, 2, 1))
    a = mx.zeros((1, 2, 1))
    check(mx.squeeze(a), np.squeeze(n))
    check(mx.squeeze(a, 0), np.squeeze(n, 0))
    check(mx.squeeze(a, axis=(0, -1)), np.squeeze(n, (0, -1)))
    check(a.squeeze(2), np.squeeze(n, 2))
    check(mx.expand_dims(A(), (0, 4)), np.expand_dims(N, (0, 4)))
    check(mx.expand_dims(A(), -1), np.expand_dims(N, -1))
    check(mx.expand_dims(A(), axis=1), np.expand_dims(N, 1))
    with pytest.raises(ValueError):
        mx.squeeze(a, 1)
    with pytest.raises(IndexError):
        mx.expand_dims(mx.zeros((2, 3)), 4)
    with pytest.raises(ValueError):
        mx.expand_dims(mx.zeros((2, 3)), (0, 0))


@pytest.mark.parametrize("axes", [None, (1, 0, 2), [2, 0, 1], (0, 2, 1), (-1, 0, 1)])
def test_transpose(axes):
    want = np.transpose(N, axes)
    check(mx.transpose(A(), axes), want)
    check(mx.transpose(A(), axes=axes), want)
    check(mx.permute_dims(A(), axes), want)
    if axes is not None:
        check(A().transpose(*axes), want)
        check(A().transpose(axes), want)


def test_transpose_errors():
    with pytest.raises(ValueError):
        mx.transpose(A(), (0, 1))
    with pytest.raises(ValueError):
        mx.transpose(A(), (0, 0, 1))


@pytest.mark.parametrize("a1,a2", [(0, 1), (0, -1), (2, 1), (1, 1)])
def test_swapaxes(a1, a2):
    check(mx.swapaxes(A(), a1, a2), np.swapaxes(N, a1, a2))
    check(A().swapaxes(a1, a2), np.swapaxes(N, a1, a2))


@pytest.mark.parametrize("src,dst", [(0, -1), (-1, 0), (1, 2), (2, 2)])
def test_moveaxis(src, dst):
    check(mx.moveaxis(A(), src, dst), np.moveaxis(N, src, dst))
    check(mx.moveaxis(A(), source=src, destination=dst), np.moveaxis(N, src, dst))
    check(A().moveaxis(src, dst), np.moveaxis(N, src, dst))
    with pytest.raises(IndexError):
        mx.moveaxis(A(), 3, 0)


def test_broadcast_to():
    check(mx.broadcast_to(mx.array([1, 2]), (3, 2)), np.broadcast_to([1, 2], (3, 2)))
    check(mx.broadcast_to(mx.array([[1], [2]]), shape=(2, 2, 3)),
          np.broadcast_to([[1], [2]], (2, 2, 3)))
    r = mx.broadcast_to(1.5, (2,))
    assert r.dtype == mx.float32 and r.tolist() == [1.5, 1.5]
    with pytest.raises(ValueError):
        mx.broadcast_to(mx.array([1, 2]), (3,))


def test_broadcast_arrays_and_shapes():
    x, y = mx.broadcast_arrays(mx.array([1, 2]), mx.array([[1], [2]]))
    check(x, np.array([[1, 2], [1, 2]]))
    check(y, np.array([[1, 1], [2, 2]]))
    assert mx.broadcast_shapes((1, 2), (3, 1)) == (3, 2)
    assert mx.broadcast_shapes((1, 2), (3, 1), (5, 1, 1)) == (5, 3, 2)
    assert mx.broadcast_shapes([2, 1], [2]) == (2, 2)
    assert isinstance(mx.broadcast_shapes((2,), (2,)), tuple)
    with pytest.raises(ValueError):
        mx.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError):
        mx.broadcast_shapes()


def test_atleast():
    for f, g in [(mx.atleast_1d, np.atleast_1d), (mx.atleast_2d, np.atleast_2d),
                 (mx.atleast_3d, np.atleast_3d)]:
        for n in [np.array(1), np.array([1, 2]), np.zeros((2, 3)), np.zeros((1, 2, 3, 4))]:
            check(f(mx.array(n)), g(n))
    r = mx.atleast_1d(mx.array(1), mx.array([1, 2]))
    assert isinstance(r, list) and [x.shape for x in r] == [(1,), (2,)]


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_concatenate(axis):
    x, y = np.arange(6).reshape(2, 3), np.arange(6, 12).reshape(2, 3)
    want = np.concatenate([x, y], axis=axis)
    check(mx.concatenate([mx.array(x), mx.array(y)], axis=axis), want)
    check(mx.concat((mx.array(x), mx.array(y)), axis), want)


def test_concatenate_misc():
    check(mx.concatenate([mx.ones((2, 3)), mx.zeros((1, 3))]), np.concatenate([np.ones((2, 3)), np.zeros((1, 3))]))
    assert mx.concat([mx.ones((2,)), mx.zeros((2,), mx.int32)]).dtype == mx.float32
    assert mx.concatenate([mx.ones(2, mx.int8), mx.ones(2, mx.uint8)]).dtype == mx.int16
    with pytest.raises(ValueError):
        mx.concatenate([mx.ones((2, 3)), mx.zeros((2, 1))])
    with pytest.raises(ValueError):
        mx.concatenate([])
    with pytest.raises(ValueError):
        mx.concatenate([mx.ones(2), mx.ones((2, 2))])


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis):
    x, y = np.arange(6).reshape(2, 3), np.arange(6, 12).reshape(2, 3)
    check(mx.stack([mx.array(x), mx.array(y)], axis=axis), np.stack([x, y], axis=axis))
    with pytest.raises(ValueError):
        mx.stack([mx.ones(2), mx.zeros(3)])
    with pytest.raises(ValueError):
        mx.stack([])


def test_stack_default_axis():
    check(mx.stack([mx.array([1, 2]), mx.array([3, 4])]), np.array([[1, 2], [3, 4]]))


@pytest.mark.parametrize("ind,axis", [(3, 0), ([1, 4], 0), ([4, 1], 0), ([10], 0),
                                      (2, 1), ([1], -1), ([], 0)])
def test_split(ind, axis):
    n = np.arange(24).reshape(6, 4)
    got = mx.split(mx.array(n), ind, axis=axis)
    want = np.split(n, ind, axis=axis)
    assert isinstance(got, list) and len(got) == len(want)
    for g, w in zip(got, want):
        check(g, w)


def test_split_errors_and_method():
    with pytest.raises(ValueError):
        mx.split(mx.arange(6), 4)
    parts = mx.arange(6).split(3)
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3], [4, 5]]


def test_unstack():
    parts = mx.unstack(mx.array(N))
    assert isinstance(parts, tuple) and len(parts) == 2
    for i, p in enumerate(parts):
        check(p, N[i])
    parts = mx.unstack(mx.array(N), axis=-1)
    assert len(parts) == 4
    for i, p in enumerate(parts):
        check(p, N[..., i])


@pytest.mark.parametrize("width", [1, (1, 2), [(0, 1), (2, 0)], ((1, 0),), [(1, 1)], [1, 2]])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad(width, mode):
    n = np.arange(1, 7).reshape(2, 3)
    np_width = width
    if isinstance(width, list) and width and isinstance(width[0], int):
        np_width = tuple(width)
    check(mx.pad(mx.array(n), width, mode=mode), np.pad(n, np_width, mode=mode))


def test_pad_constant_values_and_errors():
    check(mx.pad(mx.array([1, 2, 3]), 1, constant_values=9), np.pad([1, 2, 3], 1, constant_values=9))
    r = mx.pad(mx.array([1.0, 2]), (1, 1), constant_values=mx.array(2.5))
    assert r.tolist() == [2.5, 1.0, 2.0, 2.5]
    check(mx.pad(mx.array([1, 2, 3]), 3, mode="reflect"), np.pad([1, 2, 3], 3, mode="reflect"))
    with pytest.raises(ValueError):
        mx.pad(mx.array([1, 2, 3]), 1, mode="wrap")
    with pytest.raises(ValueError):
        mx.pad(mx.array([1, 2, 3]), -1)


@pytest.mark.parametrize("reps", [2, (2, 1), (2,), (1, 2, 3), (3, 1, 1, 2)])
def test_tile(reps):
    n = np.arange(6).reshape(2, 3)
    check(mx.tile(mx.array(n), reps), np.tile(n, reps))


@pytest.mark.parametrize("rep,axis", [(2, None), (2, 0), (3, 1), (2, -1), (0, 0), (1, None)])
def test_repeat(rep, axis):
    n = np.arange(6).reshape(2, 3)
    check(mx.repeat(mx.array(n), rep, axis=axis), np.repeat(n, rep, axis=axis))
    check(mx.repeat(mx.array(n), rep, axis), np.repeat(n, rep, axis=axis))


def test_repeat_errors():
    with pytest.raises(ValueError):
        mx.repeat(mx.array([1, 2]), -1)
    with pytest.raises(TypeError):
        mx.repeat(mx.array([1, 2]), [1, 2])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (0, 1, 2)])
def test_flip(axis):
    check(mx.flip(A(), axis=axis), np.flip(N, axis=axis))
    check(mx.flip(A(), axis), np.flip(N, axis=axis))


@pytest.mark.parametrize("shift,axis", [(1, None), (-1, 1), ((1, 1), (0, 1)), (7, 2),
                                        (-5, None), ((1, 2), 0), (3, -1)])
def test_roll(shift, axis):
    want = np.roll(N, shift, axis=axis) if not (isinstance(shift, tuple) and not isinstance(axis, tuple)) \
        else np.roll(N, sum(shift), axis=axis)
    check(mx.roll(A(), shift, axis), want)


def test_roll_keyword_shift():
    check(mx.roll(A(), shift=2), np.roll(N, 2))


def test_as_strided():
    a = mx.arange(12)
    check(mx.as_strided(a, (3, 3), (1, 1)), np.lib.stride_tricks.sliding_window_view(np.arange(12), 3)[:3])
    check(mx.as_strided(a, (3, 2), (4, 1), offset=1), np.arange(12).reshape(3, 4)[:, 1:3])
    check(mx.as_strided(a, shape=(2,), strides=(2,), offset=5), np.array([5, 7]))
    check(mx.as_strided(mx.arange(6).reshape(2, 3)), np.arange(6).reshape(2, 3))


def test_contiguous():
    t = A().transpose(2, 0, 1)
    check(mx.contiguous(t), np.transpose(N, (2, 0, 1)))
    check(mx.contiguous(t, allow_col_major=True), np.transpose(N, (2, 0, 1)))


def test_view():
    n = np.array([1.0, -2.5, 3.0], np.float32)
    check(mx.view(mx.array(n), mx.int32), n.view(np.int32))
    check(mx.array(n).view(mx.uint32), n.view(np.uint32))
    check(mx.view(mx.array([1, 2], mx.int16), mx.int32), np.array([1, 2], np.int16).view(np.int32))
    check(mx.view(mx.array([1], mx.int32), mx.int16), np.array([1], np.int32).view(np.int16))
    check(mx.view(mx.array([1.5], mx.float16), mx.uint16), np.array([1.5], np.float16).view(np.uint16))
    check(mx.view(mx.array([True, False]), mx.uint8), np.array([1, 0], np.uint8))
    m = np.array([[1, 2], [3, 4]], np.int16)
    check(mx.view(mx.array(m).T, mx.int32), np.ascontiguousarray(m.T).view(np.int32))
    assert mx.view(1.0, mx.int32).item() == np.float32(1.0).view(np.int32)
    with pytest.raises(ValueError):
        mx.view(mx.array([1, 2, 3], mx.int8), mx.int16)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_transpose_reshape_property(shape, rnd):
    n = np.arange(int(np.prod(shape))).reshape(shape)
    perm = list(range(len(shape)))
    rnd.shuffle(perm)
    t = mx.transpose(mx.array(n), perm)
    check(t, np.transpose(n, perm))
    check(t.reshape(-1), np.transpose(n, perm).reshape(-1))
    check(mx.flip(t, 0)[::-1], np.transpose(n, perm))
