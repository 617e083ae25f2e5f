"""Tests for mlxc._core.printing: MLX's array text, and the print options.

CASES were obtained by building each array in MLX 0.32.4 (numpy values, then
``mx.array(values, dtype=...)``; bfloat16 via ``astype`` from float32) and
recording ``repr(a)`` (``str(a)`` was checked to be identical) under the
given ``mx.set_printoptions(precision=...)`` (None: the default).
"""

import numpy as np
import pytest

from helpers import internal

# mlxc-internal module: a broken import fails here (under the MLX reference the
# names are stand-ins and the tests that need them are mlxc_only).
(PrintOptions, format_array, format_scalar, get_printoptions, printoptions,
 set_printoptions) = internal("mlxc._core.printing", "PrintOptions", "format_array", "format_scalar",
                              "get_printoptions", "printoptions", "set_printoptions")
pytestmark = pytest.mark.mlxc_only


@pytest.fixture(autouse=True)
def _default_options():
    set_printoptions()
    yield
    set_printoptions()


# (id, numpy expression for the values, MLX dtype name, precision, MLX repr)
CASES = [
    ('int32_1d', 'np.array([1, 2, 3], np.int32)', 'int32', None,
     'array([1, 2, 3], dtype=int32)'),
    ('int32_0d', 'np.array(7, np.int32)', 'int32', None,
     'array(7, dtype=int32)'),
    ('int32_negative', 'np.array([-1, 0, -250, 3], np.int32)', 'int32', None,
     'array([-1, 0, -250, 3], dtype=int32)'),
    ('int8', 'np.array([-128, -1, 0, 65, 127], np.int8)', 'int8', None,
     'array([-128, -1, 0, 65, 127], dtype=int8)'),
    ('uint8', 'np.array([0, 1, 65, 255], np.uint8)', 'uint8', None,
     'array([0, 1, 65, 255], dtype=uint8)'),
    ('int16', 'np.array([-32768, 32767], np.int16)', 'int16', None,
     'array([-32768, 32767], dtype=int16)'),
    ('uint16', 'np.array([0, 65535], np.uint16)', 'uint16', None,
     'array([0, 65535], dtype=uint16)'),
    ('uint32', 'np.array([0, 4294967295], np.uint32)', 'uint32', None,
     'array([0, 4294967295], dtype=uint32)'),
    ('int64_extremes', 'np.array([2**63 - 1, -2**63], np.int64)', 'int64', None,
     'array([9223372036854775807, -9223372036854775808], dtype=int64)'),
    ('uint64_extremes', 'np.array([2**64 - 1, 2**63], np.uint64)', 'uint64', None,
     'array([18446744073709551615, 9223372036854775808], dtype=uint64)'),
    ('uint8_0d', 'np.array(5, np.uint8)', 'uint8', None,
     'array(5, dtype=uint8)'),
    ('bool_1d', 'np.array([True, False, True])', 'bool', None,
     'array([True, False, True], dtype=bool)'),
    ('bool_0d_true', 'np.array(True)', 'bool', None,
     'array(True, dtype=bool)'),
    ('bool_0d_false', 'np.array(False)', 'bool', None,
     'array(False, dtype=bool)'),
    ('bool_2d', 'np.array([[True, False], [False, True]])', 'bool', None,
     'array([[True, False],\n       [False, True]], dtype=bool)'),
    ('bool_summarized', 'np.arange(10) % 3 == 0', 'bool', None,
     'array([True, False, False, ..., False, False, True], dtype=bool)'),
    ('float32_0d', 'np.array(1.5, np.float32)', 'float32', None,
     'array(1.5, dtype=float32)'),
    ('float32_whole_numbers', 'np.array([1.0, 2.0], np.float32)', 'float32', None,
     'array([1, 2], dtype=float32)'),
    ('float32_mixed', 'np.array([1.5, 2, 3], np.float32)', 'float32', None,
     'array([1.5, 2, 3], dtype=float32)'),
    ('float32_digits', 'np.array([0.1, 0.123456789, 1e-05], np.float32)', 'float32', None,
     'array([0.1, 0.123457, 1e-05], dtype=float32)'),
    ('float32_huge', 'np.array([1e10, 1], np.float32)', 'float32', None,
     'array([1e+10, 1], dtype=float32)'),
    ('float32_sci_boundaries', 'np.array([1e-7, 1e7, 123456789.0, 0.000123456789], np.float32)', 'float32', None,
     'array([1e-07, 1e+07, 1.23457e+08, 0.000123457], dtype=float32)'),
    ('float32_around_1e6', 'np.array([999999.0, 1000000.0, 0.0001, 0.00009999], np.float32)', 'float32', None,
     'array([999999, 1e+06, 0.0001, 9.999e-05], dtype=float32)'),
    ('float32_tiny', 'np.array([1.17549435e-38, 1e-45, 3.0e38, -3.4028235e38], np.float32)', 'float32', None,
     'array([1.17549e-38, 1.4013e-45, 3e+38, -3.40282e+38], dtype=float32)'),
    ('float32_nan_inf', 'np.array([np.nan, np.inf, -np.inf], np.float32)', 'float32', None,
     'array([nan, inf, -inf], dtype=float32)'),
    ('float32_negative_nan', 'np.array([-np.nan, np.nan], np.float32)', 'float32', None,
     'array([-nan, nan], dtype=float32)'),
    ('float32_negative_zero', 'np.array([-0.0, 0.0], np.float32)', 'float32', None,
     'array([-0, 0], dtype=float32)'),
    ('float32_negative', 'np.array([-1.5, -0.25, -1e-08, -123456.7], np.float32)', 'float32', None,
     'array([-1.5, -0.25, -1e-08, -123457], dtype=float32)'),
    ('float32_2d_wide', 'np.array([[1.5, -2], [3, 40000.25]], np.float32)', 'float32', None,
     'array([[1.5, -2],\n       [3, 40000.2]], dtype=float32)'),
    ('float32_0d_nan', 'np.array(np.nan, np.float32)', 'float32', None,
     'array(nan, dtype=float32)'),
    ('float32_0d_neg_inf', 'np.array(-np.inf, np.float32)', 'float32', None,
     'array(-inf, dtype=float32)'),
    ('float16', 'np.array([1.1, 65504, 0.00006103515625, 5.96e-08, -2.5], np.float16)', 'float16', None,
     'array([1.09961, 65504, 6.10352e-05, 5.96046e-08, -2.5], dtype=float16)'),
    ('float16_0d', 'np.array(0.333, np.float16)', 'float16', None,
     'array(0.333008, dtype=float16)'),
    ('bfloat16_whole', 'np.array([1, 2, 3], np.float32)', 'bfloat16', None,
     'array([1, 2, 3], dtype=bfloat16)'),
    ('bfloat16_rounding', 'np.array([1.1, 3.14159, 1e38, 1e-38, -7.7], np.float32)', 'bfloat16', None,
     'array([1.10156, 3.14062, 9.96921e+37, 1.00101e-38, -7.6875], dtype=bfloat16)'),
    ('bfloat16_ties', 'np.array([1.00390625, 1.01171875, 257.0, 259.0], np.float32)', 'bfloat16', None,
     'array([1, 1.01562, 256, 260], dtype=bfloat16)'),
    ('bfloat16_nan_inf', 'np.array([np.nan, -np.inf, np.inf, -0.0], np.float32)', 'bfloat16', None,
     'array([nan, -inf, inf, -0], dtype=bfloat16)'),
    ('float64', 'np.array([1.0, 2.0, 1 / 3, 1e-300], np.float64)', 'float64', None,
     'array([1, 2, 0.333333, 1e-300], dtype=float64)'),
    ('complex_basic', 'np.array([1 + 2j, 3 - 4j], np.complex64)', 'complex64', None,
     'array([1+2j, 3-4j], dtype=complex64)'),
    ('complex_0d', 'np.array(1 + 2j, np.complex64)', 'complex64', None,
     'array(1+2j, dtype=complex64)'),
    ('complex_zero_2d', 'np.zeros((2, 2), np.complex64)', 'complex64', None,
     'array([[0+0j, 0+0j],\n       [0+0j, 0+0j]], dtype=complex64)'),
    ('complex_parts', 'np.array([1.5 + 0j, -1j, -1 - 1j, 1.25 + 2.5j, 0.1 + 0.2j, 1e10 + 1e-10j], np.complex64)', 'complex64', None,
     'array([1.5+0j, -0-1j, -1-1j, 1.25+2.5j, 0.1+0.2j, 1e+10+1e-10j], dtype=complex64)'),
    ('complex_signed_zero', 'np.array([complex(0, -0.0), complex(-0.0, 0)], np.complex64)', 'complex64', None,
     'array([0+-0j, -0+0j], dtype=complex64)'),
    ('complex_nan_inf', 'np.array([complex(np.nan, 1), complex(1, np.inf), complex(1, -np.inf), complex(1, np.nan), complex(1, -np.nan), complex(np.nan, -np.inf)], np.complex64)', 'complex64', None,
     'array([nan+1j, 1+infj, 1-infj, 1+nanj, 1+-nanj, nan-infj], dtype=complex64)'),
    ('empty_1d', 'np.zeros((0,), np.float32)', 'float32', None,
     'array([], dtype=float32)'),
    ('empty_int', 'np.zeros((0,), np.int32)', 'int32', None,
     'array([], dtype=int32)'),
    ('empty_bool', 'np.zeros((0,), np.bool_)', 'bool', None,
     'array([], dtype=bool)'),
    ('empty_complex', 'np.zeros((0,), np.complex64)', 'complex64', None,
     'array([], dtype=complex64)'),
    ('empty_2_0', 'np.zeros((2, 0), np.float32)', 'float32', None,
     'array([[],\n       []], dtype=float32)'),
    ('empty_0_3', 'np.zeros((0, 3), np.float32)', 'float32', None,
     'array([], dtype=float32)'),
    ('empty_0_0', 'np.zeros((0, 0), np.int32)', 'int32', None,
     'array([], dtype=int32)'),
    ('empty_1_0', 'np.zeros((1, 0), np.float32)', 'float32', None,
     'array([[]], dtype=float32)'),
    ('empty_3_0_2', 'np.zeros((3, 0, 2), np.int32)', 'int32', None,
     'array([[],\n       [],\n       []], dtype=int32)'),
    ('empty_2_3_0', 'np.zeros((2, 3, 0), np.float32)', 'float32', None,
     'array([[[],\n        [],\n        []],\n       [[],\n        [],\n        []]], dtype=float32)'),
    ('empty_0_2_3', 'np.zeros((0, 2, 3), np.int32)', 'int32', None,
     'array([], dtype=int32)'),
    ('empty_8_0_summarized', 'np.zeros((8, 0), np.int32)', 'int32', None,
     'array([[],\n       [],\n       [],\n       ...,\n       [],\n       [],\n       []], dtype=int32)'),
    ('float16_empty', 'np.zeros((0,), np.float16)', 'float16', None,
     'array([], dtype=float16)'),
    ('int_2d', 'np.array([[1, 2], [3, 4]], np.int32)', 'int32', None,
     'array([[1, 2],\n       [3, 4]], dtype=int32)'),
    ('int_3d', 'np.arange(24, dtype=np.int32).reshape(2, 3, 4)', 'int32', None,
     'array([[[0, 1, 2, 3],\n        [4, 5, 6, 7],\n        [8, 9, 10, 11]],\n       [[12, 13, 14, 15],\n        [16, 17, 18, 19],\n        [20, 21, 22, 23]]], dtype=int32)'),
    ('int_4d', 'np.arange(16, dtype=np.int32).reshape(2, 2, 2, 2)', 'int32', None,
     'array([[[[0, 1],\n         [2, 3]],\n        [[4, 5],\n         [6, 7]]],\n       [[[8, 9],\n         [10, 11]],\n        [[12, 13],\n         [14, 15]]]], dtype=int32)'),
    ('unit_dims', 'np.zeros((1, 1, 1), np.int32)', 'int32', None,
     'array([[[0]]], dtype=int32)'),
    ('len6_not_summarized', 'np.arange(6, dtype=np.int32)', 'int32', None,
     'array([0, 1, 2, 3, 4, 5], dtype=int32)'),
    ('len7_summarized', 'np.arange(7, dtype=np.int32)', 'int32', None,
     'array([0, 1, 2, ..., 4, 5, 6], dtype=int32)'),
    ('len2000_summarized', 'np.arange(2000, dtype=np.int32)', 'int32', None,
     'array([0, 1, 2, ..., 1997, 1998, 1999], dtype=int32)'),
    ('summarized_7x7', 'np.arange(49, dtype=np.int32).reshape(7, 7)', 'int32', None,
     'array([[0, 1, 2, ..., 4, 5, 6],\n       [7, 8, 9, ..., 11, 12, 13],\n       [14, 15, 16, ..., 18, 19, 20],\n       ...,\n       [28, 29, 30, ..., 32, 33, 34],\n       [35, 36, 37, ..., 39, 40, 41],\n       [42, 43, 44, ..., 46, 47, 48]], dtype=int32)'),
    ('summarized_rows_only', 'np.arange(102, dtype=np.int32).reshape(34, 3)', 'int32', None,
     'array([[0, 1, 2],\n       [3, 4, 5],\n       [6, 7, 8],\n       ...,\n       [93, 94, 95],\n       [96, 97, 98],\n       [99, 100, 101]], dtype=int32)'),
    ('summarized_cols_only', 'np.arange(102, dtype=np.int32).reshape(3, 34)', 'int32', None,
     'array([[0, 1, 2, ..., 31, 32, 33],\n       [34, 35, 36, ..., 65, 66, 67],\n       [68, 69, 70, ..., 99, 100, 101]], dtype=int32)'),
    ('summarized_6x167', 'np.arange(1002, dtype=np.int32).reshape(6, 167)', 'int32', None,
     'array([[0, 1, 2, ..., 164, 165, 166],\n       [167, 168, 169, ..., 331, 332, 333],\n       [334, 335, 336, ..., 498, 499, 500],\n       [501, 502, 503, ..., 665, 666, 667],\n       [668, 669, 670, ..., 832, 833, 834],\n       [835, 836, 837, ..., 999, 1000, 1001]], dtype=int32)'),
    ('summarized_3d_outer', 'np.arange(28, dtype=np.int32).reshape(7, 2, 2)', 'int32', None,
     'array([[[0, 1],\n        [2, 3]],\n       [[4, 5],\n        [6, 7]],\n       [[8, 9],\n        [10, 11]],\n       ...,\n       [[16, 17],\n        [18, 19]],\n       [[20, 21],\n        [22, 23]],\n       [[24, 25],\n        [26, 27]]], dtype=int32)'),
    ('summarized_3d_middle', 'np.arange(28, dtype=np.int32).reshape(2, 7, 2)', 'int32', None,
     'array([[[0, 1],\n        [2, 3],\n        [4, 5],\n        ...,\n        [8, 9],\n        [10, 11],\n        [12, 13]],\n       [[14, 15],\n        [16, 17],\n        [18, 19],\n        ...,\n        [22, 23],\n        [24, 25],\n        [26, 27]]], dtype=int32)'),
    ('summarized_3d_inner', 'np.arange(28, dtype=np.int32).reshape(2, 2, 7)', 'int32', None,
     'array([[[0, 1, 2, ..., 4, 5, 6],\n        [7, 8, 9, ..., 11, 12, 13]],\n       [[14, 15, 16, ..., 18, 19, 20],\n        [21, 22, 23, ..., 25, 26, 27]]], dtype=int32)'),
    ('summarized_4d', 'np.arange(7, dtype=np.int32).reshape(7, 1, 1, 1)', 'int32', None,
     'array([[[[0]]],\n       [[[1]]],\n       [[[2]]],\n       ...,\n       [[[4]]],\n       [[[5]]],\n       [[[6]]]], dtype=int32)'),
    ('summarized_float', 'np.linspace(-1, 1, 11).astype(np.float32)', 'float32', None,
     'array([-1, -0.8, -0.6, ..., 0.6, 0.8, 1], dtype=float32)'),
    ('summarized_complex', '(np.arange(8) + 1j * np.arange(8)).astype(np.complex64)', 'complex64', None,
     'array([0+0j, 1+1j, 2+2j, ..., 5+5j, 6+6j, 7+7j], dtype=complex64)'),
    ('not_summarized_5x5x5', 'np.arange(125, dtype=np.int32).reshape(5, 5, 5)', 'int32', None,
     'array([[[0, 1, 2, 3, 4],\n        [5, 6, 7, 8, 9],\n        [10, 11, 12, 13, 14],\n        [15, 16, 17, 18, 19],\n        [20, 21, 22, 23, 24]],\n       [[25, 26, 27, 28, 29],\n        [30, 31, 32, 33, 34],\n        [35, 36, 37, 38, 39],\n        [40, 41, 42, 43, 44],\n        [45, 46, 47, 48, 49]],\n       [[50, 51, 52, 53, 54],\n        [55, 56, 57, 58, 59],\n        [60, 61, 62, 63, 64],\n        [65, 66, 67, 68, 69],\n        [70, 71, 72, 73, 74]],\n       [[75, 76, 77, 78, 79],\n        [80, 81, 82, 83, 84],\n        [85, 86, 87, 88, 89],\n        [90, 91, 92, 93, 94],\n        [95, 96, 97, 98, 99]],\n       [[100, 101, 102, 103, 104],\n        [105, 106, 107, 108, 109],\n        [110, 111, 112, 113, 114],\n        [115, 116, 117, 118, 119],\n        [120, 121, 122, 123, 124]]], dtype=int32)'),
    ('float32_3d', '(np.arange(8, dtype=np.float32).reshape(2, 2, 2) - 3.5) / 3', 'float32', None,
     'array([[[-1.16667, -0.833333],\n        [-0.5, -0.166667]],\n       [[0.166667, 0.5],\n        [0.833333, 1.16667]]], dtype=float32)'),
    ('precision_0', 'np.array([0.1, 1 / 3, 123456.789, -2.5, 1.5, 2.5], np.float32)', 'float32', 0,
     'array([0, 0, 123457, -2, 2, 2], dtype=float32)'),
    ('precision_1', 'np.array([0.1, 1 / 3, 123456.789, 1e-05, -2.5], np.float32)', 'float32', 1,
     'array([0.1, 0.3, 123456.8, 0.0, -2.5], dtype=float32)'),
    ('precision_2', 'np.array([0.1, 1 / 3, 123456.789, 1e-05, -2.5], np.float32)', 'float32', 2,
     'array([0.10, 0.33, 123456.79, 0.00, -2.50], dtype=float32)'),
    ('precision_3', 'np.array([0.1, 1 / 3, 123456.789, 1e-05, -2.5], np.float32)', 'float32', 3,
     'array([0.100, 0.333, 123456.789, 0.000, -2.500], dtype=float32)'),
    ('precision_8', 'np.array([0.1, 1 / 3, 123456.789, 1e-05, -2.5], np.float32)', 'float32', 8,
     'array([0.10000000, 0.33333334, 123456.78906250, 0.00001000, -2.50000000], dtype=float32)'),
    ('precision_20', 'np.array([0.1, 1 / 3, 3e38], np.float32)', 'float32', 20,
     'array([0.10000000149011611938, 0.33333334326744079590, 300000000549775575777803994281145270272.00000000000000000000], dtype=float32)'),
    ('precision_3_special', 'np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0], np.float32)', 'float32', 3,
     'array([nan, -nan, inf, -inf, -0.000], dtype=float32)'),
    ('precision_3_int_unaffected', 'np.array([1, 2], np.int32)', 'int32', 3,
     'array([1, 2], dtype=int32)'),
    ('precision_3_bool_unaffected', 'np.array([True, False])', 'bool', 3,
     'array([True, False], dtype=bool)'),
    ('precision_2_complex', 'np.array([1.5 + 2.25j, -1 - 0.5j], np.complex64)', 'complex64', 2,
     'array([1.50+2.25j, -1.00-0.50j], dtype=complex64)'),
    ('precision_0_complex', 'np.array([1.5 + 2.25j], np.complex64)', 'complex64', 0,
     'array([2+2j], dtype=complex64)'),
    ('precision_8_bfloat16', 'np.array([1 / 3], np.float32)', 'bfloat16', 8,
     'array([0.33398438], dtype=bfloat16)'),
    ('precision_8_float16', 'np.array([1 / 3], np.float16)', 'float16', 8,
     'array([0.33325195], dtype=float16)'),
    ('precision_10_float64', 'np.array([1 / 3], np.float64)', 'float64', 10,
     'array([0.3333333333], dtype=float64)'),
    ('precision_minus1_is_default', 'np.array([1 / 3, 1e-07, 1e10], np.float32)', 'float32', -1,
     'array([0.333333, 1e-07, 1e+10], dtype=float32)'),
    ('precision_minus2_fixed_6', 'np.array([1 / 3, 1e-07, 1e10, -0.0], np.float32)', 'float32', -2,
     'array([0.333333, 0.000000, 10000000000.000000, -0.000000], dtype=float32)'),
    ('precision_minus5_fixed_6_complex', 'np.array([1 / 3 + 1j], np.complex64)', 'complex64', -5,
     'array([0.333333+1.000000j], dtype=complex64)'),
    ('precision_minus2_float64', 'np.array([1 / 3, 1e-07], np.float64)', 'float64', -2,
     'array([0.333333, 0.000000], dtype=float64)'),
    ('float16_signed_nan', 'np.array([0xFE00, 0x7E00], np.uint16).view(np.float16)', 'float16', None,
     'array([-nan, nan], dtype=float16)'),
    ('precision_2_0d', 'np.array(2 / 3, np.float32)', 'float32', 2,
     'array(0.67, dtype=float32)'),
    ('precision_4_2d', 'np.array([[1, 2.5], [1e-06, 1e6]], np.float32)', 'float32', 4,
     'array([[1.0000, 2.5000],\n       [0.0000, 1000000.0000]], dtype=float32)'),
]


def _render(expr, dtype_name, precision, for_repr=True):
    values = eval(expr, {"np": np})
    if precision is not None:
        set_printoptions(precision=precision)
    return format_array(values, dtype_name, values.shape, for_repr)


@pytest.mark.parametrize(
    "expr, dtype_name, precision, expected",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_matches_mlx_repr(expr, dtype_name, precision, expected):
    assert _render(expr, dtype_name, precision) == expected


@pytest.mark.parametrize(
    "expr, dtype_name, precision, expected",
    [case[1:] for case in CASES[::7]],
    ids=[case[0] for case in CASES[::7]],
)
def test_str_equals_repr(expr, dtype_name, precision, expected):
    assert _render(expr, dtype_name, precision, for_repr=False) == expected


def test_precision_argument_overrides_global():
    values = np.array([1 / 3], np.float32)
    set_printoptions(precision=1)
    assert format_array(values, "float32", (1,), True, precision=3) == (
        "array([0.333], dtype=float32)"
    )
    assert format_array(values, "float32", (1,), True) == "array([0.3], dtype=float32)"


def test_flat_values_are_reshaped():
    values = np.arange(6, dtype=np.int32)
    assert format_array(values, "int32", (2, 3), True) == (
        "array([[0, 1, 2],\n       [3, 4, 5]], dtype=int32)"
    )


def test_size_mismatch_raises():
    with pytest.raises(ValueError):
        format_array(np.arange(5), "int32", (2, 3), True)


def test_exact_bfloat16_values_print_unchanged():
    # What the engine passes: float32 values that already are bfloat16.
    values = np.array([1.1015625, 3.140625, -7.6875], np.float32)
    assert format_array(values, "bfloat16", (3,), True) == (
        "array([1.10156, 3.14062, -7.6875], dtype=bfloat16)"
    )


def test_bfloat16_nan_keeps_its_sign():
    # MLX: mx.array(np.array([0xFFC0, 0x7FC0, 0xFF81, 0x7F81], np.uint16))
    # .view(mx.bfloat16) prints array([-nan, nan, -nan, nan], dtype=bfloat16).
    # (MLX's float -> bfloat16 cast makes every NaN positive; that is the
    # engine's business, the formatter prints the sign bit it is given.)
    bits = np.array([0xFFC0, 0x7FC0, 0xFF81, 0x7F81], np.uint32) << 16
    values = bits.view(np.float32)
    assert format_array(values, "bfloat16", (4,), True) == (
        "array([-nan, nan, -nan, nan], dtype=bfloat16)"
    )


def test_summarized_large_array_touches_only_edges():
    # A (1000, 1000) array prints like MLX: 3 rows and columns at each end.
    values = np.arange(10**6, dtype=np.int64).reshape(1000, 1000)
    text = format_array(values, "int64", values.shape, True)
    assert text == (
        "array([[0, 1, 2, ..., 997, 998, 999],\n"
        "       [1000, 1001, 1002, ..., 1997, 1998, 1999],\n"
        "       [2000, 2001, 2002, ..., 2997, 2998, 2999],\n"
        "       ...,\n"
        "       [997000, 997001, 997002, ..., 997997, 997998, 997999],\n"
        "       [998000, 998001, 998002, ..., 998997, 998998, 998999],\n"
        "       [999000, 999001, 999002, ..., 999997, 999998, 999999]], dtype=int64)"
    )


def test_format_scalar():
    assert format_scalar(np.float32(0.1), "float32") == "0.1"
    assert format_scalar(np.complex64(1 - 2j), "complex64") == "1-2j"
    assert format_scalar(True, "bool") == "True"
    assert format_scalar(np.float32(2 / 3), "float32", precision=2) == "0.67"


# --- print options (behaviour observed in MLX 0.32.4) -----------------------


def test_default_precision():
    assert get_printoptions().precision == -1
    assert PrintOptions().precision == -1


def test_set_and_get():
    set_printoptions(precision=3)
    assert get_printoptions().precision == 3
    set_printoptions(4)
    assert get_printoptions().precision == 4
    set_printoptions()
    assert get_printoptions().precision == -1


def test_negative_precision_is_kept():
    # Only -1 means %g; other negative values mean fixed with 6 decimals.
    set_printoptions(precision=-5)
    assert get_printoptions().precision == -5
    values = np.array([1 / 3, 1e-07], np.float32)
    assert format_array(values, "float32", (2,), True) == (
        "array([0.333333, 0.000000], dtype=float32)"
    )
    set_printoptions(precision=-1)
    assert format_array(values, "float32", (2,), True) == (
        "array([0.333333, 1e-07], dtype=float32)"
    )


def test_get_printoptions_returns_a_copy():
    opts = get_printoptions()
    assert isinstance(opts, PrintOptions)
    opts.precision = 2
    assert get_printoptions().precision == -1
    assert get_printoptions() is not get_printoptions()


def test_print_options_constructor():
    assert PrintOptions(3).precision == 3
    assert PrintOptions(precision=7).precision == 7
    opts = PrintOptions()
    opts.precision = 5
    assert opts.precision == 5


def test_precision_type_checks():
    for bad in (1.5, "3", None):
        with pytest.raises(TypeError):
            set_printoptions(precision=bad)
        with pytest.raises(TypeError):
            printoptions(precision=bad)
        with pytest.raises(TypeError):
            PrintOptions().precision = bad
    with pytest.raises(TypeError):
        set_printoptions(precision=2**31)
    set_printoptions(precision=2**31 - 1)
    assert get_printoptions().precision == 2**31 - 1
    set_printoptions(precision=-(2**31))
    assert get_printoptions().precision == -(2**31)
    # bool and numpy integers are accepted as ints.
    set_printoptions(precision=True)
    assert get_printoptions().precision == 1
    set_printoptions(precision=np.int64(3))
    assert get_printoptions().precision == 3
    assert type(get_printoptions().precision) is int


def test_printoptions_context():
    set_printoptions(precision=4)
    ctx = printoptions(precision=2)
    # Nothing changes before the block is entered.
    assert get_printoptions().precision == 4
    with ctx:
        assert get_printoptions().precision == 2
        values = np.array([1 / 3], np.float32)
        assert format_array(values, "float32", (1,), True) == (
            "array([0.33], dtype=float32)"
        )
    assert get_printoptions().precision == 4


def test_printoptions_default_argument_sets_minus_one():
    set_printoptions(precision=4)
    with printoptions():
        assert get_printoptions().precision == -1
    assert get_printoptions().precision == 4


def test_printoptions_restores_value_at_enter():
    ctx = printoptions(precision=2)
    ctx.__enter__()
    set_printoptions(5)
    assert ctx.__exit__(None, None, None) is None
    assert get_printoptions().precision == -1


def test_printoptions_restores_on_exception():
    with pytest.raises(KeyError):
        with printoptions(precision=3):
            raise KeyError("x")
    assert get_printoptions().precision == -1


def test_printoptions_reentered_keeps_one_saved_slot():
    # MLX saves the options on each __enter__ into one slot: entering the same
    # object twice leaves the inner options in place after both exits.
    ctx = printoptions(precision=7)
    with ctx:
        with ctx:
            assert get_printoptions().precision == 7
        assert get_printoptions().precision == 7
    assert get_printoptions().precision == 7


def test_nested_printoptions():
    with printoptions(precision=1):
        with printoptions(precision=3):
            assert get_printoptions().precision == 3
        assert get_printoptions().precision == 1
    assert get_printoptions().precision == -1
