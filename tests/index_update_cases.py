"""Index-update cases replayed by tests/test_index_updates.py against the results MLX
0.32.4 recorded in tests/data/mlx_index_updates.json (tests/data/gen_index_updates.py).
Cases that crash or misbehave in MLX (out-of-bounds index arrays, even beside ints, masks mixed with other
indices, a mask with no True entry and an empty source) are not recorded here."""


def setm(a, idx, v):
    a[idx] = v
    return a


_X = "mx.arange(12).reshape(3,4).astype(mx.float32)"
_IDX = {
    "int": "1", "negint": "-1", "slice": "slice(1,3)", "step": "slice(None,None,2)",
    "negstep": "slice(None,None,-1)", "tuple_int": "(1,2)", "tuple_slice": "(slice(None), 1)",
    "arr": "mx.array([0,2,0])", "arr2": "(mx.array([0,2]), mx.array([1,3]))",
    "none": "None", "ell": "Ellipsis", "ell_int": "(Ellipsis, 0)", "none_int": "(None, 1)",
    "list": "[0, 2]", "arr_slice": "(mx.array([0,2,2]), slice(1,3))",
    "slice_arr": "(slice(None), mx.array([0,0,3]))", "oob_slice": "slice(10,20)",
    "int_oob": "5", "tuple_oob": "(0, 9)", "empty_slice": "slice(2,1)",
}
CASES = []
for _i, _s in _IDX.items():
    for _op in ("add", "subtract", "multiply", "divide", "maximum", "minimum"):
        for _v, _vs in (("s", "2"), ("row", "mx.array([1.,2,3,4])"), ("bad", "mx.ones((5,))")):
            CASES.append((f"at[{_i}].{_op}({_v})", f"{_X}.at[{_s}].{_op}({_vs})"))
for _op in ("add", "subtract", "multiply", "divide", "maximum", "minimum"):
    CASES += [
        (f"int32.at.{_op}", f"mx.arange(6).at[mx.array([0,0,1])].{_op}(3)"),
        (f"int32.at.{_op}(float)", f"mx.arange(6).at[mx.array([0,0,1])].{_op}(2.5)"),
        (f"int32.at[None].{_op}(float)", f"mx.arange(4).at[None].{_op}(2.5)"),
        (f"bool.at.{_op}", f"(mx.arange(6)>2).at[mx.array([0,0,1])].{_op}(True)"),
        (f"bool.at[slice].{_op}", f"(mx.arange(6)>2).at[1:3].{_op}(True)"),
        (f"uint8.at.{_op}", f"mx.arange(6).astype(mx.uint8).at[mx.array([1])].{_op}(2)"),
        (f"c64.at.{_op}", f"mx.arange(6).astype(mx.complex64).at[mx.array([0,0,1])].{_op}(1+2j)"),
        (f"c64.at.{_op}(c)", f"mx.array([1+1j, 2+0j]).at[mx.array([0,1])].{_op}(mx.array([0+5j, 3-1j]))"),
        (f"f16.at.{_op}", f"mx.arange(6).astype(mx.float16).at[mx.array([0,0,1])].{_op}(1.5)"),
    ]
for _s, _ss in (("10:20", "slice(10,20)"), ("3:10", "slice(3,10)"), ("-10:2", "slice(-10,2)"),
                ("::2", "slice(None,None,2)"), ("::-1", "slice(None,None,-1)"),
                ("4:0:-2", "slice(4,0,-2)"), ("-2:", "slice(-2,None)"), ("1:1", "slice(1,1)"),
                ("10", "10"), ("-6", "-6"), ("3:1", "slice(3,1)")):
    for _v, _vs in (("s", "7"), ("1el", "mx.array([9])"), ("2el", "mx.array([8,9])"),
                    ("3el", "mx.array([7,8,9])"), ("2d", "mx.array([[8,9]])"),
                    ("2dbad", "mx.array([[8],[9]])"), ("f", "2.5")):
        CASES.append((f"x[{_s}]={_v}", f"setm(mx.arange(5), {_ss}, {_vs})"))
for _s, _ss in (("0", "0"), ("1:3", "slice(1,3)"), ("(1:3,::2)", "(slice(1,3), slice(None,None,2))"),
                ("...,1", "(Ellipsis, 1)"), ("None", "None"), ("(None,0)", "(None, 0)"),
                ("5:", "slice(5,None)"), ("arr", "mx.array([0,0])"),
                ("arr2", "(mx.array([0,1]), mx.array([1,1]))"), ("5", "5"), ("(5,0)", "(5, 0)"),
                ("(0,9)", "(0, 9)"), ("...,9", "(Ellipsis, 9)")):
    for _v, _vs in (("s", "7"), ("row", "mx.array([1,2,3,4])"), ("col", "mx.array([[1],[2]])"),
                    ("2x4", "mx.ones((2,4))"), ("3el", "mx.array([1,2,3])"),
                    ("4x4", "mx.ones((4,4))"), ("2x2", "mx.ones((2,2))")):
        CASES.append((f"x2[{_s}]={_v}", f"setm(mx.arange(12).reshape(3,4), {_ss}, {_vs})"))
# boolean masks
_M = "((mx.arange(12).reshape(3,4) % 3) == 0)"
_R = "mx.array([True,False,True])"
for _v, _vs in (("s", "7"), ("f", "7.5"), ("exact", "mx.array([10,20,30,40])"),
                ("more", "mx.arange(100,112)"), ("2d", "mx.arange(100,112).reshape(3,4)"),
                ("(4,)", "mx.array([1,2,3,4])"), ("(3,)", "mx.array([1,2,3])"),
                ("(1,)", "mx.array([5])"), ("0d", "mx.array(5)"), ("(1,4)", "mx.array([[1,2,3,4]])")):
    CASES.append((f"x2[mask]={_v}", f"setm(mx.arange(12).reshape(3,4), {_M}, {_vs})"))
for _v, _vs in (("s", "-1"), ("(4,)", "mx.array([1,2,3,4])"), ("(8,)", "mx.arange(8)"),
                ("(2,1)", "mx.array([[1],[2]])"), ("(2,4)", "mx.arange(8).reshape(2,4)"),
                ("(3,4)", "mx.arange(12).reshape(3,4)"), ("(1,4)", "mx.array([[1,2,3,4]])"),
                ("(1,)", "mx.array([5])"), ("(3,)", "mx.array([5,6,7])"),
                ("(1,2,4)", "mx.arange(8).reshape(1,2,4)"), ("(2,3)", "mx.ones((2,3))")):
    CASES.append((f"x2[rowmask]={_v}", f"setm(mx.arange(12).reshape(3,4), {_R}, {_vs})"))
_M3 = "mx.array([[True,False,True],[False,False,True]])"
for _v, _vs in (("(4,)", "mx.arange(4)"), ("(3,4)", "mx.arange(12).reshape(3,4)"),
                ("(3,1)", "mx.arange(3).reshape(3,1)"), ("(12,)", "mx.arange(12)"),
                ("(1,4)", "mx.arange(4).reshape(1,4)"), ("(2,3,4)", "mx.arange(24).reshape(2,3,4)")):
    CASES.append((f"x3[mask2d]={_v}", f"setm(mx.zeros((2,3,4)), {_M3}, {_vs})"))
CASES += [
    ("mask wrong len", "setm(mx.arange(12).reshape(3,4), mx.array([True,False]), 0)"),
    ("mask (1,4)", "setm(mx.arange(12).reshape(3,4), mx.array([[True,False,True,False]]), 0)"),
    ("mask (4,)", "setm(mx.arange(12).reshape(3,4), mx.array([True,False,True,False]), 0)"),
    ("mask 3d", "setm(mx.arange(12).reshape(3,4), mx.zeros((1,3,4), dtype=mx.bool_), 0)"),
    ("mask 0d True", "setm(mx.arange(12).reshape(3,4), mx.array(True), 0)"),
    ("mask 0d False", "setm(mx.arange(12).reshape(3,4), mx.array(False), 0)"),
    ("mask list", "setm(mx.arange(12).reshape(3,4), [True,False,True], 9)"),
    ("py True", "setm(mx.arange(12).reshape(3,4), True, 9)"),
    ("py False", "setm(mx.arange(12).reshape(3,4), False, 9)"),
    ("mask no true, src", "setm(mx.arange(12).reshape(3,4), mx.zeros((3,4), dtype=mx.bool_), mx.array([1,2]))"),
    ("mask int dtype", "setm(mx.arange(12).reshape(3,4), mx.array([1,0,1]), 9)"),
    ("mask bool x", "setm(mx.arange(12).reshape(3,4) > 3, " + _M + ", False)"),
    ("mask c64 x", "setm(mx.arange(12).reshape(3,4).astype(mx.complex64), " + _M + ", 1j)"),
    ("mask f16 x", "setm(mx.arange(12).reshape(3,4).astype(mx.float16), " + _M + ", mx.array([1.5,2,3,4]))"),
    ("read mask", "mx.arange(12).reshape(3,4)[" + _M + "]"),
]
