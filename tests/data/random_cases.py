"""The mx.random calls recorded from MLX (make_random_reference.py) and replayed by
tests/test_random.py.  `cases(mx)` yields (name, thunk) pairs; the same code runs on
MLX and on mlxc, so each name denotes the same call in both."""

SHAPES = [(), (0,), (7,), (3, 5), (1025,)]


def _name(x):
    return str(x).replace(" ", "")


def cases(mx):
    r = mx.random
    keys = {"k0": lambda: r.key(0), "k42": lambda: r.key(42),
            "kbig": lambda: r.key(2 ** 63 + 12345),
            "kraw": lambda: mx.array([0xDEADBEEF, 0x12345678], dtype=mx.uint32)}
    f32, f16, bf16 = mx.float32, mx.float16, mx.bfloat16

    for kn, k in keys.items():
        yield f"key_{kn}", k
        for num in (0, 1, 2, 3, 5, 8):
            yield f"split_{kn}_{num}", lambda k=k, num=num: r.split(k(), num)
    yield "split_default", lambda: r.split(r.key(7))

    for s in SHAPES:
        for dt in (f32, f16, bf16):
            dn = str(dt).split(".")[-1]
            yield f"uniform_{_name(s)}_{dn}", lambda s=s, dt=dt: r.uniform(shape=s, dtype=dt,
                                                                           key=r.key(1))
            yield f"normal_{_name(s)}_{dn}", lambda s=s, dt=dt: r.normal(s, dt, key=r.key(2))
            yield f"gumbel_{_name(s)}_{dn}", lambda s=s, dt=dt: r.gumbel(s, dt, key=r.key(3))
            yield f"laplace_{_name(s)}_{dn}", lambda s=s, dt=dt: r.laplace(s, dt, key=r.key(4))
            yield (f"trunc_{_name(s)}_{dn}",
                   lambda s=s, dt=dt: r.truncated_normal(-1.5, 0.7, s, dt, key=r.key(5)))
        yield f"randint_{_name(s)}", lambda s=s: r.randint(-7, 300, s, key=r.key(6))
        yield f"bernoulli_{_name(s)}", lambda s=s: r.bernoulli(0.3, s, key=r.key(7))
    big = 40003  # above the size at which the kernel starts threads
    yield "uniform_big", lambda: r.uniform(shape=(big,), key=r.key(11))
    yield "normal_big", lambda: r.normal((big,), key=r.key(12))
    yield "randint_big", lambda: r.randint(0, 1000, (big,), key=r.key(13))
    yield "normal_f64", lambda: r.normal((9,), mx.float64, key=r.key(14))
    yield "normal_f64_loc_scale", lambda: r.normal((5,), mx.float64, 0.3, 0.1, key=r.key(14))
    yield "normal_c64", lambda: r.normal((3, 3), mx.complex64, key=r.key(15))
    yield "normal_c64_locscale", lambda: r.normal((5,), mx.complex64, loc=1.0, scale=2.0,
                                                  key=r.key(15))

    # bounds: scalars, arrays, broadcasting
    lo_arr = lambda: mx.array([-1.0, 0.0, 2.5, 10.0, -100.0])
    yield "uniform_bounds", lambda: r.uniform(-2, 3, (4, 5), key=r.key(20))
    yield "uniform_bounds_f", lambda: r.uniform(0.1, 0.7, (9,), key=r.key(20))
    yield "uniform_arr_lo", lambda: r.uniform(lo_arr(), 11.0, (3, 5), key=r.key(21))
    yield "uniform_arr_both", lambda: r.uniform(mx.zeros((3, 1)), mx.array([1.0, 2.0, 3.0, 4.0]),
                                                (3, 4), key=r.key(22))
    yield "uniform_arr_f16", lambda: r.uniform(lo_arr(), 11.0, (2, 5), f16, key=r.key(23))
    yield "uniform_arr_bf16", lambda: r.uniform(-3, lo_arr(), (5,), bf16, key=r.key(24))
    yield "normal_loc_scale", lambda: r.normal((6,), loc=1.5, scale=0.25, key=r.key(25))
    yield "normal_loc", lambda: r.normal((6,), loc=-3.0, key=r.key(25))
    yield "normal_scale", lambda: r.normal((6,), scale=3.0, key=r.key(25))
    yield "normal_loc_arr", lambda: r.normal((2, 5), loc=lo_arr(), scale=mx.array(2.0),
                                             key=r.key(26))
    yield "normal_f16_loc_scale", lambda: r.normal((7,), f16, 0.5, 2.0, key=r.key(27))
    yield "normal_bf16_loc_scale", lambda: r.normal((7,), bf16, 0.5, 2.0, key=r.key(27))
    for dt in (mx.int32, mx.int8, mx.uint8, mx.int16, mx.uint32, mx.int64, mx.bool_):
        dn = str(dt).split(".")[-1]
        yield f"randint_{dn}", lambda dt=dt: r.randint(-3, 120, (40,), dt, key=r.key(30))
    yield "randint_wide", lambda: r.randint(-2 ** 31, 2 ** 31 - 1, (50,), key=r.key(31))
    yield "randint_arr", lambda: r.randint(mx.array([0, 10, 100]), 1000, (4, 3), key=r.key(32))
    yield "randint_arr_hi", lambda: r.randint(5, mx.array([[6], [60], [600]]), (3, 4),
                                              key=r.key(33))
    yield "bernoulli_default", lambda: r.bernoulli(key=r.key(40))
    yield "bernoulli_arr", lambda: r.bernoulli(mx.array([0.0, 0.25, 0.5, 0.75, 1.0]), (3, 5),
                                               key=r.key(41))
    yield "bernoulli_pshape", lambda: r.bernoulli(mx.array([[0.1, 0.9], [0.5, 0.5]]),
                                                  key=r.key(42))
    yield "bernoulli_f16", lambda: r.bernoulli(mx.array([0.2, 0.8], f16), (5, 2), key=r.key(43))
    yield "trunc_arr", lambda: r.truncated_normal(mx.array([-2.0, 0.0, 1.0]), 2.5, (4, 3),
                                                  key=r.key(50))
    yield "trunc_noshape", lambda: r.truncated_normal(mx.array([-2.0, 0.0, 1.0]),
                                                      mx.array([[3.0], [1.5]]), key=r.key(51))
    yield "laplace_loc_scale", lambda: r.laplace((9,), loc=2.0, scale=0.5, key=r.key(52))
    yield "laplace_f16_loc_scale", lambda: r.laplace((9,), f16, 2.0, 0.5, key=r.key(52))

    logits = lambda: mx.array([[0.0, 1.0, -2.0, 0.5, 3.0],
                               [1.0, 1.0, 1.0, 1.0, 1.0],
                               [-5.0, 0.0, 5.0, 0.0, -5.0]])
    yield "cat_default", lambda: r.categorical(logits(), key=r.key(60))
    yield "cat_axis0", lambda: r.categorical(logits(), axis=0, key=r.key(61))
    yield "cat_num", lambda: r.categorical(logits(), num_samples=6, key=r.key(62))
    yield "cat_shape", lambda: r.categorical(logits(), shape=(4, 3), key=r.key(63))
    yield "cat_1d", lambda: r.categorical(mx.array([0.1, 0.2, 0.7]), num_samples=20,
                                          key=r.key(64))
    yield "cat_row", lambda: r.categorical(logits()[1:2] * 0.7, key=r.key(65))
    yield "cat_row_num", lambda: r.categorical(logits()[2:3], num_samples=9, key=r.key(66))
    yield "cat_row_big", lambda: r.categorical(mx.array([((i * 37) % 101) / 25.0 for i in range(1000)]), shape=(40,),
                                              key=r.key(67))
    yield "cat_row_inf", lambda: r.categorical(mx.array([[0.0, float("inf"), 1.0, float("inf")]]),
                                              num_samples=5, key=r.key(68))
    yield "cat_scalar", lambda: r.categorical(mx.array([0.3, -0.2, 0.9]), key=r.key(69))
    yield "perm_int", lambda: r.permutation(10, key=r.key(70))
    yield "perm_int_big", lambda: r.permutation(1025, key=r.key(71))
    yield "perm_arr", lambda: r.permutation(mx.arange(12).reshape(4, 3), key=r.key(72))
    yield "perm_arr_axis1", lambda: r.permutation(mx.arange(12).reshape(3, 4), axis=1,
                                                  key=r.key(73))

    # the global state: seed, then calls without a key, then the state itself
    def seeded(seed):
        r.seed(seed)
        out = [r.uniform(shape=(3,)), r.normal((2, 2)), r.randint(0, 9, (4,)),
               r.split(r.state[0], 3), r.bernoulli(0.5, (5,)), r.gumbel((2,)),
               r.permutation(6), r.categorical(mx.zeros((4,)), num_samples=3)]
        out.append(r.state[0])
        return mx.concatenate([mx.reshape(o, (-1,)).astype(mx.float32) for o in out])
    for sd in (0, 1, 2 ** 40 + 3):
        yield f"seeded_{sd}", lambda sd=sd: seeded(sd)

    # vmap over keys: one block per key
    yield "vmap_uniform", lambda: mx.vmap(lambda k: r.uniform(shape=(3,), key=k))(
        r.split(r.key(80), 4))
    yield "vmap_normal", lambda: mx.vmap(lambda k: r.normal((2, 3), key=k))(
        r.split(r.key(81), 3))
    yield "vmap_bits_axis1", lambda: mx.vmap(lambda k: r.split(k, 2), in_axes=1)(
        mx.transpose(r.split(r.key(82), 5)))

    # errors: the exception type is recorded
    k = lambda: r.key(1)
    errors = {
        "err_key_dtype": lambda: r.uniform(key=mx.array([1, 2])),
        "err_key_shape": lambda: r.uniform(key=mx.array([1, 2, 3], dtype=mx.uint32)),
        "err_key_2d": lambda: r.split(mx.array([[1, 2]], dtype=mx.uint32)),
        "err_uniform_int": lambda: r.uniform(shape=(2,), dtype=mx.int32, key=k()),
        "err_uniform_bcast": lambda: r.uniform(mx.zeros((3,)), 1, shape=(2,), key=k()),
        "err_uniform_shape": lambda: r.uniform(mx.zeros((3,)), 1, key=k()),
        "err_randint_float": lambda: r.randint(0, 5, dtype=mx.float32, key=k()),
        "err_normal_int": lambda: r.normal(dtype=mx.int32, key=k()),
        "err_split_neg": lambda: r.split(k(), -1),
        "err_shape_neg": lambda: r.uniform(shape=(-1,), key=k()),
        "err_cat_both": lambda: r.categorical(mx.zeros((3, 4)), shape=(2,), num_samples=2,
                                              key=k()),
        "err_cat_axis": lambda: r.categorical(mx.zeros((3, 4)), axis=2, key=k()),
        "err_cat_bcast": lambda: r.categorical(mx.zeros((3, 4)), shape=(2,), key=k()),
        "err_cat_num_neg": lambda: r.categorical(mx.zeros((3, 4)), num_samples=-1, key=k()),
        "err_gumbel_int": lambda: r.gumbel(dtype=mx.int32, key=k()),
        "err_laplace_int": lambda: r.laplace(dtype=mx.int32, key=k()),
        "err_trunc_int": lambda: r.truncated_normal(0, 1, dtype=mx.int32, key=k()),
        "err_bernoulli_int": lambda: r.bernoulli(2, key=k()),
        "err_perm_axis": lambda: r.permutation(mx.zeros((3,)), axis=1, key=k()),
        "err_key_neg": lambda: r.key(-1),
        "err_seed_neg": lambda: r.seed(-1),
    }
    yield from errors.items()
