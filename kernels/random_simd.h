/* The vector body of kernels/random.c, included once per SIMD level after the
 * level's operations are defined:
 *   W lanes; VU (W uint32) with vu_set vu_add vu_xor vu_rotl vu_iota vu_store;
 *   VF (W float32) with vf_set vf_add vf_mul vf_fma vf_min vf_abs
 *   vf_gt_sel vf_store, vu_to_vf (unsigned, round to nearest), vf_floor_i32
 *   (0x80000000 when out of range), vi_min vi_max (int32), v_logf (the C library's logf
 *   for positive normal inputs), SFX(name) and KFN.
 * Every lane computes what the scalar code in random.c computes for its element,
 * bit for bit. */

/* 20 rounds of threefry-2x32 on W counter pairs (see tf2x32 in random.c) */
#define TF_ROUND(r) do { x0 = vu_add(x0, x1); x1 = vu_rotl(x1, r); x1 = vu_xor(x1, x0); } while (0)
#define TF_INJECT(a, b, i) do { x0 = vu_add(x0, a); x1 = vu_add(x1, vu_add(b, vu_set(i))); } while (0)

FN void SFX(tf_vec)(VU *c0, VU *c1, VU K0, VU K1, VU K2)
{
    VU x0 = vu_add(*c0, K0), x1 = vu_add(*c1, K1);
    TF_ROUND(13); TF_ROUND(15); TF_ROUND(26); TF_ROUND(6);  TF_INJECT(K1, K2, 1);
    TF_ROUND(17); TF_ROUND(29); TF_ROUND(16); TF_ROUND(24); TF_INJECT(K2, K0, 2);
    TF_ROUND(13); TF_ROUND(15); TF_ROUND(26); TF_ROUND(6);  TF_INJECT(K0, K1, 3);
    TF_ROUND(17); TF_ROUND(29); TF_ROUND(16); TF_ROUND(24); TF_INJECT(K1, K2, 4);
    TF_ROUND(13); TF_ROUND(15); TF_ROUND(26); TF_ROUND(6);  TF_INJECT(K2, K0, 5);
    *c0 = x0;
    *c1 = x1;
}

/* MLX's bits -> [0, 1): min(float(w) / 2^32, 1 - 2^-24) */
FN VF SFX(u01_vec)(VU w)
{
    return vf_min(vf_mul(vu_to_vf(w), vf_set(0x1p-32f)), vf_set(U01_MAX));
}

FN VF SFX(poly_vec)(VF t, const float *c, int n)
{
    VF p = vf_set(c[0]);
    for (int i = 1; i < n; i++) p = vf_fma(p, t, vf_set(c[i]));
    return p;
}

/* MLX's erfinv of s (|s| < 1, so 1 - s^2 is a positive normal float) */
FN VF SFX(erfinv_vec)(VF s)
{
    VF t = v_logf(vf_fma(s, vf_sub(vf_set(0.0f), s), vf_set(1.0f)));
    VF pl = SFX(poly_vec)(t, ERFINV_L, 9), pr = SFX(poly_vec)(t, ERFINV_R, 10);
    return vf_mul(s, vf_gt_sel(vf_abs(t), vf_set(6.125f), pl, pr));
}

FN void SFX(emit_vec)(const rand_job *J, uint32_t *o, VU w)
{
    switch (J->mode) {
    case MLXC_RANDOM_BITS:
        vu_store(o, w);
        return;
    case MLXC_RANDOM_UNIFORM:
        vf_store((float *)o, SFX(u01_vec)(w));
        return;
    case MLXC_RANDOM_RANDINT: {
        VF x = vf_add(vf_mul(vf_set(J->range), SFX(u01_vec)(w)), vf_set(J->low));
        VU v = vi_min(vf_floor_i32(x), vu_set((uint32_t)J->ihigh));
        vu_store(o, vi_max(v, vu_set((uint32_t)J->ilow)));
        return;
    }
    default: {
        VF s = vf_add(vf_mul(vf_set(2.0f), SFX(u01_vec)(w)), vf_set(NORMAL_LO));
        VF e = SFX(erfinv_vec)(s);
        if (J->mode == MLXC_RANDOM_NORMAL) e = vf_mul(vf_set(SQRT2F), e);
        vf_store((float *)o, e);
        return;
    }
    }
}

/* elements [a, b) of the first half of a key's block and their partners at +off */
KFN void SFX(rand_block)(const rand_job *J, uint32_t *o, uint32_t k0, uint32_t k1,
                         int64_t a, int64_t b, int64_t off)
{
    VU K0 = vu_set(k0), K1 = vu_set(k1), K2 = vu_set(k0 ^ k1 ^ TF_PARITY);
    VU OFF = vu_set((uint32_t)off);
    int64_t j = a;
    for (; j + W <= b; j += W) {
        VU c0 = vu_iota((uint32_t)j), c1 = vu_add(c0, OFF);
        SFX(tf_vec)(&c0, &c1, K0, K1, K2);
        SFX(emit_vec)(J, o + j, c0);
        SFX(emit_vec)(J, o + j + off, c1);
    }
    rand_block_scalar(J, o, k0, k1, j, b, off);
}
