/* Float32 vector math, written once over a small set of vector operations and
 * compiled per SIMD level: vmath_avx2.c and vmath_avx512.c define the types
 * and operations listed below, then include this file.  Polynomial
 * coefficients come from kernels/tools/fit_vmath.py (near-minimax fits with
 * float32-rounded coefficients).
 *
 * Maximum error in ulp against a float64 reference, measured over ALL 2^32
 * float32 inputs (tests/c/test_vmath.c --exhaustive, AVX-512; AVX2 gives the
 * same bits), and in parentheses the bound the tests enforce (vmath.c):
 *   exp 0.981 (2)  expm1 1.439 (2)  log 0.923 (2)   log1p 1.523 (2)  log2 1.094 (2)
 *   sin 1.486 (4)  cos 1.489 (4)    tan 3.350 (4)   tanh 2.419 (4)   sigmoid 2.481 (4)
 *   erf 0.905 (4)  erfinv 2.681 (4) pow 0.501 (2; 1M sampled pairs + specials)
 *
 * Required from the including file:
 *   VF VI VM  float / int32 vectors and a lane mask;  VW lanes
 *   VD        a float64 vector of VW/2 lanes (pow)
 *   FN        attributes of a helper (static inline, always inlined, target)
 *   KFN       attributes of an exported kernel (target)
 *   SFX(name) name with the level suffix
 *   float ops  vset vadd vsub vmul vdiv vsqrt vfma(a,b,c)=a*b+c vfnma(a,b,c)=c-a*b
 *              vmin vmax (x86 semantics: the second operand if either is NaN)
 *              vrint (nearest even) vabs vand vor vxor vload vstore
 *              vload_n vstore_n (first n < VW lanes; other lanes read as 0)
 *   int ops    viset viadd visub vislli visrai vimin vimax viand
 *              vcvt_if (int -> float) vcvtt_fi (float -> int, truncating)
 *              vbits_fi / vbits_if (reinterpret)
 *   masks      vlt vle veq vunord(a) vmor vmand vsel(m, if_true, if_false)
 *              vmbits(m) (bit i = lane i)
 *   table      vtab8(c0..c6) a VF holding 7 constants, vperm(table, VI idx)
 *   double     vdset vdadd vdsub vdmul vddiv vdfma vdrint vdmin vdmax
 *              vd_lo(VF) vd_hi(VF) (widen half the lanes) vf_join(VD lo, VD hi)
 *              vdbits_i / vdbits_d (reinterpret as int64) vdi_add vdi_sub
 *              vdi_slli vdi_srli vdiset
 */

#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693147182464599609375f        /* float(ln 2) */
#define LN2_LO -1.90465429995776820e-09f       /* ln 2 - LN2_HI */
#define SIGN_MASK (-0.0f)

/* c0 + c1 x + ... evaluated by Horner with fma */
#define H2(x, c0, c1) vfma(x, vset(c1), vset(c0))
#define H3(x, c0, c1, c2) vfma(x, H2(x, c1, c2), vset(c0))
#define H4(x, c0, c1, c2, c3) vfma(x, H3(x, c1, c2, c3), vset(c0))
#define H5(x, c0, c1, c2, c3, c4) vfma(x, H4(x, c1, c2, c3, c4), vset(c0))
#define H6(x, c0, c1, c2, c3, c4, c5) vfma(x, H5(x, c1, c2, c3, c4, c5), vset(c0))
#define H8(x, c0, c1, c2, c3, c4, c5, c6, c7) \
    vfma(x, vfma(x, H6(x, c2, c3, c4, c5, c6, c7), vset(c1)), vset(c0))
#define H9(x, c0, c1, c2, c3, c4, c5, c6, c7, c8) \
    vfma(x, H8(x, c1, c2, c3, c4, c5, c6, c7, c8), vset(c0))
#define H10(x, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9) \
    vfma(x, H9(x, c1, c2, c3, c4, c5, c6, c7, c8, c9), vset(c0))
#define H11(x, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) \
    vfma(x, H10(x, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10), vset(c0))

/* clamp keeping NaN (min/max return their second operand on NaN) */
FN VF vclamp(VF x, float lo, float hi) { return vmax(vset(lo), vmin(vset(hi), x)); }
/* 2^k for integer k in [-126, 127] */
FN VF vpow2i(VI k) { return vbits_if(vislli(viadd(k, viset(127)), 23)); }
FN VF vsignbit(VF x) { return vand(x, vset(SIGN_MASK)); }

/* ------------------------------------------------------------ exp family */
/* e^r - 1 for |r| <= ln2/2 (+1e-3): r + r^2 P(r), relative error 2^-31 */
FN VF expm1_poly(VF r)
{
    VF p = H6(r, 0.5f, 0.1666666567325592f, 0.04166649281978607f, 0.008333543315529823f,
              0.0013932385481894016f, 0.00019764440366998315f);
    return vfma(vmul(r, r), p, r);
}

/* x = k ln2 + r, |r| <= ln2/2; two-step Cody-Waite: with fma, x - k*LN2_HI is
 * exact for |k| <= 2^8, so r carries only the rounding of the second step */
FN VF exp_reduce(VF x, VF *k)
{
    *k = vrint(vmul(x, vset(LOG2E)));
    VF r = vfnma(*k, vset(LN2_HI), x);
    return vfnma(*k, vset(LN2_LO), r);
}

FN VF v_exp(VF x)
{
    /* beyond the clamp the result is 0 or inf anyway; k stays in [-150, 128] */
    x = vclamp(x, -104.0f, 89.0f);
    VF k;
    VF r = exp_reduce(x, &k);
    VF p = vadd(vset(1.0f), expm1_poly(r));
    /* 2^k as two factors so that subnormal results (k < -126) are rounded
     * once, by the last multiply, and 2^128 overflows there */
    VI ki = vcvtt_fi(k);
    VI k1 = visrai(ki, 1);
    return vmul(vmul(p, vpow2i(k1)), vpow2i(visub(ki, k1)));
}

FN VF v_expm1(VF x)
{
    /* below -30 the result rounds to -1; above 89 it overflows */
    VF xc = vclamp(x, -30.0f, 89.0f);
    VF k;
    VF r = exp_reduce(xc, &k);
    VF q = expm1_poly(r);
    /* 2^k (1 + q) - 1 = 2^k q + (2^k - 1): exact 2^k - 1 for k <= 24, and for
     * k = 0 the result is q itself (full relative accuracy near 0) */
    VI ki = vcvtt_fi(k);
    VI kc = vimin(ki, viset(127));
    VF s = vpow2i(kc);
    VF y = vfma(s, q, vsub(s, vset(1.0f)));
    y = vsel(vlt(vset(127.5f), k), vmul(y, vset(2.0f)), y);   /* k = 128 */
    /* expm1 has the sign of x: gives -0 for -0 */
    return vor(y, vsignbit(x));
}

/* ------------------------------------------------------------ log family */
/* log(1+f) - f for f in [sqrt(2)/2 - 1, sqrt(2) - 1]: f^2 P(f), rel. error 2^-27 */
FN VF log1p_tail(VF f)
{
    VF p = H9(f, -0.5f, 0.3333333134651184f, -0.2500081956386566f, 0.2000124305486679f,
              -0.1662341207265854f, 0.14201541244983673f, -0.13159531354904175f,
              0.12762464582920074f, -0.0763697400689125f);
    return vmul(vmul(f, f), p);
}

/* x > 0 finite (other lanes: garbage) -> x = 2^e m, m in [sqrt(2)/2, sqrt(2));
 * returns f = m - 1 (exact) and e as float */
FN VF log_reduce(VF x, VF *e)
{
    VM sub = vlt(x, vset(1.17549435e-38f));        /* subnormal: scale by 2^23 */
    VF xs = vsel(sub, vmul(x, vset(8388608.0f)), x);
    VI bits = vbits_fi(xs);
    VI t = visub(bits, viset(0x3f3504f3));         /* float bits of sqrt(2)/2 */
    VI ei = visrai(t, 23);
    VF m = vbits_if(visub(bits, vislli(ei, 23)));
    *e = vsub(vcvt_if(ei), vsel(sub, vset(23.0f), vset(0.0f)));
    return vsub(m, vset(1.0f));
}

/* log's special inputs: 0 -> -inf, < 0 -> NaN, +inf -> +inf, NaN -> NaN */
FN VF log_special(VF x, VF y)
{
    y = vsel(veq(x, vset(0.0f)), vset(-INFINITY), y);
    y = vsel(vlt(x, vset(0.0f)), vset(NAN), y);
    y = vsel(veq(x, vset(INFINITY)), x, y);
    return vsel(vunord(x), x, y);
}

FN VF v_log(VF x)
{
    VF e, f = log_reduce(x, &e);
    VF lo = vfma(e, vset(LN2_LO), log1p_tail(f));
    VF y = vfma(e, vset(LN2_HI), vadd(f, lo));
    return log_special(x, y);
}

FN VF v_log2(VF x)
{
    VF e, f = log_reduce(x, &e);
    /* (f + tail) / ln2 with 1/ln2 split in two so that f * hi is exact in fma */
    const float inv_hi = 1.44269502162933349609375f, inv_lo = 1.925963033500011e-08f;
    VF lo = vfma(f, vset(inv_lo), vmul(log1p_tail(f), vset(LOG2E)));
    VF y = vadd(e, vfma(f, vset(inv_hi), lo));
    return log_special(x, y);
}

FN VF v_log1p(VF x)
{
    /* u = 1 + x rounded; 1 + x = u + d exactly with d = x - (u - 1) (u - 1 is
     * exact for u < 2^24; beyond, d = 0 in float and does not matter) */
    VF u = vadd(vset(1.0f), x);
    VF d = vsub(x, vsub(u, vset(1.0f)));
    VF e, f = log_reduce(u, &e);
    /* 1 + x = 2^e (m + d 2^-e): fold the correction into f */
    VI ei = vcvtt_fi(e);
    VF sc = vpow2i(visub(viset(0), vimin(ei, viset(100))));
    f = vfma(d, sc, f);
    VF lo = vfma(e, vset(LN2_LO), log1p_tail(f));
    VF y = vfma(e, vset(LN2_HI), vadd(f, lo));
    y = log_special(u, y);
    y = vsel(veq(x, vset(INFINITY)), x, y);   /* u - 1 = inf: d is NaN */
    return vor(y, vsignbit(x));               /* log1p(-0) = -0 */
}

/* --------------------------------------------------------- trigonometric */
/* pi/2 in three floats; with fma x - k*PIO2_1 is exact for the |x| handled */
#define PIO2_1 1.57079637050628662109375f
#define PIO2_2 -4.371138828673793e-08f
#define PIO2_3 -1.7151245100058819e-15f
/* beyond this |x| the lanes are recomputed in double by the caller (the
 * three-float reduction loses accuracy as k grows) */
#define TRIG_BIG 65536.0f

/* x = k pi/2 + r, |r| <= pi/4; returns r and k as an int */
FN VF trig_reduce(VF x, VI *k)
{
    VF kf = vrint(vmul(x, vset(0.636619772367581343f)));
    VF r = vfnma(kf, vset(PIO2_1), x);
    r = vfnma(kf, vset(PIO2_2), r);
    r = vfnma(kf, vset(PIO2_3), r);
    *k = vcvtt_fi(kf);
    return r;
}

/* sin r, |r| <= pi/4: r + r^3 S(r^2), rel. error 2^-32 */
FN VF sin_poly(VF r)
{
    VF r2 = vmul(r, r);
    VF s = H4(r2, -0.1666666716337204f, 0.008333379402756691f, -0.00019853076082654297f,
              2.832744939951226e-06f);
    return vfma(vmul(r, r2), s, r);
}
/* cos r, |r| <= pi/4: 1 + r^2 C(r^2), rel. error 2^-33 */
FN VF cos_poly(VF r)
{
    VF r2 = vmul(r, r);
    VF c = H4(r2, -0.5f, 0.04166664555668831f, -0.0013887309469282627f,
              2.4432329155388288e-05f);
    return vfma(r2, c, vset(1.0f));
}

/* sin of quadrant q + r: q&1 picks cos, q&2 flips the sign */
FN VF trig_pick(VI q, VF s, VF c)
{
    VM odd = veq(vcvt_if(viand(q, viset(1))), vset(1.0f));
    VF y = vsel(odd, c, s);
    return vxor(y, vbits_if(vislli(viand(q, viset(2)), 30)));
}

FN VF v_sin(VF x)
{
    VI k;
    VF r = trig_reduce(x, &k);
    VF y = trig_pick(k, sin_poly(r), cos_poly(r));
    return vsel(veq(x, vset(0.0f)), x, y);    /* sin(-0) = -0 */
}

FN VF v_cos(VF x)
{
    VI k;
    VF r = trig_reduce(x, &k);
    return trig_pick(viadd(k, viset(1)), sin_poly(r), cos_poly(r));
}

FN VF v_tan(VF x)
{
    VI k;
    VF r = trig_reduce(x, &k);
    VF s = sin_poly(r), c = cos_poly(r);
    VM odd = veq(vcvt_if(viand(k, viset(1))), vset(1.0f));
    /* even quadrant: sin/cos; odd: -cos/sin */
    VF y = vdiv(vsel(odd, vxor(c, vset(SIGN_MASK)), s), vsel(odd, s, c));
    return vsel(veq(x, vset(0.0f)), x, y);
}

/* ------------------------------------------------------------ hyperbolic */
FN VF v_tanh(VF x)
{
    /* tanh a = expm1(2a) / (expm1(2a) + 2): no cancellation near 0; beyond
     * |x| = 9.5 the quotient rounds to 1 (and expm1 stays finite) */
    VF a = vclamp(vabs(x), 0.0f, 9.5f);
    VF t = v_expm1(vadd(a, a));
    VF y = vdiv(t, vadd(t, vset(2.0f)));
    return vor(y, vsignbit(x));
}

FN VF v_sigmoid(VF x)
{
    /* 1 / (1 + exp(-x)) as MLX defines it (0 once exp(-x) overflows) */
    VF e = v_exp(vxor(x, vset(SIGN_MASK)));
    return vdiv(vset(1.0f), vadd(vset(1.0f), e));
}

/* ---------------------------------------------------------------- erf */
/* erf pieces: Q_j(t) ~ erfc(1 + j/2 + t), |t| <= 1/4, degree 8 (abs. error <= 2^-29) */
#define ERF_TAB_0 vtab8(0.15729920566082f, 0.0338948518037796f, 0.004677734803408384f, 0.00040695202187635005f, 2.2090496713644825e-05f, 7.430983828271565e-07f, 1.5417262133610166e-08f)
#define ERF_TAB_1 vtab8(-0.41510748863220215f, -0.11893028765916824f, -0.02066698484122753f, -0.002178284339606762f, -0.00013925305393058807f, -5.399418569140835e-06f, -1.2698131968136295e-07f)
#define ERF_TAB_2 vtab8(0.41510817408561707f, 0.1783962994813919f, 0.041334059089422226f, 0.005445708986371756f, 0.00041775923455134034f, 1.8897984773502685e-05f, 5.079268703411799e-07f)
#define ERF_TAB_3 vtab8(-0.13837045431137085f, -0.138752281665802f, -0.048223044723272324f, -0.008350066840648651f, -0.0007891011191532016f, -4.229726255289279e-05f, -1.3123701592121506e-06f)
#define ERF_TAB_4 vtab8(-0.0692359134554863f, 0.04452986270189285f, 0.03443809598684311f, 0.008622460998594761f, 0.0010443917708471417f, 6.77189018460922e-05f, 2.4552614377171267e-06f)
#define ERF_TAB_5 vtab8(0.06922730058431625f, 0.0148801039904356f, -0.013086222112178802f, -0.006118777208030224f, -0.0010164915584027767f, -8.201515447581187e-05f, -3.521739472489571e-06f)
#define ERF_TAB_6 vtab8(-0.0033604861237108707f, -0.017562944442033768f, -0.0002882183762267232f, 0.002797115594148636f, 0.000738241826184094f, 7.76988745201379e-05f, 4.0473159970133565e-06f)
#define ERF_TAB_7 vtab8(-0.015449843369424343f, 0.004480754490941763f, 0.0033520986326038837f, -0.0005093852523714304f, -0.0003921508905477822f, -6.035174737917259e-05f, -4.063229880557628e-06f)
#define ERF_TAB_8 vtab8(-0.00487009109929204f, -0.01172323152422905f, -0.002905354369431734f, -0.00025932167773135006f, 0.0001318414870183915f, 3.503002881188877e-05f, 3.0962241908127908e-06f)
/* erfinv x = x P(w - 2.5) for w < 5, rel. error 2^-24.6 */
#define ERFINV_C0 1.5014094114303589f
#define ERFINV_C1 0.24664027988910675f
#define ERFINV_C2 -0.004177768249064684f
#define ERFINV_C3 -0.0012527552898973227f
#define ERFINV_C4 0.00021879504492972046f
#define ERFINV_C5 -4.941951374348719e-06f
#define ERFINV_C6 -3.6493690913630417e-06f
#define ERFINV_C7 4.590175990415446e-07f
#define ERFINV_C8 5.4848744213131795e-08f
#define ERFINV_C9 -8.119066308154288e-09f
#define ERFINV_C10 -1.8777854826623752e-09f
/* erfinv x = x P(sqrt(w) - 3) for 5 <= w <= 16.9, rel. error 2^-26.3 */
#define ERFINV_T0 2.832976818084717f
#define ERFINV_T1 1.001675009727478f
#define ERFINV_T2 0.009444826282560825f
#define ERFINV_T3 -0.0076378108933568f
#define ERFINV_T4 0.00568957207724452f
#define ERFINV_T5 -0.0035965703427791595f
#define ERFINV_T6 0.0014793636510148644f
#define ERFINV_T7 -5.548464469029568e-05f
#define ERFINV_T8 -0.00030519740539602935f
#define ERFINV_T9 0.00011325884406687692f
FN VF v_erf(VF x)
{
    VF a = vabs(x);
    /* |x| < 3/4: x + x P(x^2), rel. error 2^-29 */
    VF a2 = vmul(a, a);
    VF ps = H6(a2, 0.12837916612625122f, -0.3761261999607086f, 0.11283379048109055f,
               -0.026834335178136826f, 0.005113156512379646f, -0.0006737572839483619f);
    VF ys = vfma(a, ps, a);
    /* 3/4 <= |x| < 4.25: seven pieces of width 1/2 around c = 1 + j/2,
     * erf(c + t) = 1 - Q_j(t); coefficients picked per lane from a table */
    VI j = vcvtt_fi(vmul(vsub(a, vset(0.75f)), vset(2.0f)));
    j = vimax(vimin(j, viset(6)), viset(0));
    VF t = vsub(a, vfma(vcvt_if(j), vset(0.5f), vset(1.0f)));
#define ERF_C(k) vperm(ERF_TAB_##k, j)
    VF q = ERF_C(8);
    q = vfma(q, t, ERF_C(7));
    q = vfma(q, t, ERF_C(6));
    q = vfma(q, t, ERF_C(5));
    q = vfma(q, t, ERF_C(4));
    q = vfma(q, t, ERF_C(3));
    q = vfma(q, t, ERF_C(2));
    q = vfma(q, t, ERF_C(1));
    q = vfma(q, t, ERF_C(0));
#undef ERF_C
    VF y = vsel(vlt(a, vset(0.75f)), ys, vsub(vset(1.0f), q));
    /* erf rounds to 1 from 3.919 on; also takes inf */
    y = vsel(vle(vset(3.9375f), a), vset(1.0f), y);
    return vor(y, vsignbit(x));
}

/* -------------------------------------------------------------- erfinv */
/* Giles' shape (w = -log(1 - x^2); w < 5: poly in w - 2.5, else poly in
 * sqrt(w) - 3) with polynomials refitted in kernels/tools/fit_vmath.py */
FN VF v_erfinv(VF x)
{
    VF a = vabs(x);
    VF one = vset(1.0f);
    /* 1 - a is exact for a >= 1/2, so w keeps its accuracy near |x| = 1 */
    VF w = vxor(v_log(vmul(vsub(one, a), vadd(one, a))), vset(SIGN_MASK));
    VF tc = vsub(w, vset(2.5f));
    VF p = H11(tc, ERFINV_C0, ERFINV_C1, ERFINV_C2, ERFINV_C3, ERFINV_C4, ERFINV_C5,
               ERFINV_C6, ERFINV_C7, ERFINV_C8, ERFINV_C9, ERFINV_C10);
    VM tail = vle(vset(5.0f), w);
    if (vmbits(tail)) {   /* |x| > 0.9966: rare, skip when no lane needs it */
        VF tt = vsub(vsqrt(w), vset(3.0f));
        VF pt = H10(tt, ERFINV_T0, ERFINV_T1, ERFINV_T2, ERFINV_T3, ERFINV_T4, ERFINV_T5,
                    ERFINV_T6, ERFINV_T7, ERFINV_T8, ERFINV_T9);
        p = vsel(tail, pt, p);
    }
    VF y = vmul(a, p);
    y = vsel(veq(a, one), vset(INFINITY), y);
    y = vsel(vlt(one, a), vset(NAN), y);
    y = vsel(vunord(x), x, y);
    return vor(y, vsignbit(x));
}

/* ---------------------------------------------------------------- pow */
/* Computed in float64: log2 x to ~2^-45 relative, y log2 x, then 2^t to
 * ~2^-45, rounded once to float32; so |error| <= 0.5 ulp + ~2^-20 ulp.
 * Lanes with x <= 0, x or y not finite are left to libm's powf by the caller. */
FN VD vd_pow_pos(VD x, VD y)
{
    /* x = 2^e m, m in [sqrt(2)/2, sqrt(2)); u keeps the shift positive so a
     * logical shift works (float inputs have exponents >= -149) */
    VD bits = x;
    VD u = vdi_add(vdi_sub(bits, vdiset(0x3fe6a09e667f3bcdLL)), vdiset(0x4000000000000000LL));
    VD eb = vdi_srli(u, 52);                           /* e + 1024 */
    VD m = vdi_sub(bits, vdi_slli(vdi_sub(eb, vdiset(1024)), 52));
    /* e as a double: 2^52 + eb read back as a float64, minus the offsets */
    VD e = vdsub(vdi_add(eb, vdiset(0x4330000000000000LL)), vdset(4503599627370496.0 + 1024.0));
    /* log m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: Taylor to s^15 */
    VD s = vddiv(vdsub(m, vdset(1.0)), vdadd(m, vdset(1.0)));
    VD s2 = vdmul(s, s);
    VD p = vdfma(s2, vdset(2.0 / 15), vdset(2.0 / 13));
    p = vdfma(s2, p, vdset(2.0 / 11));
    p = vdfma(s2, p, vdset(2.0 / 9));
    p = vdfma(s2, p, vdset(2.0 / 7));
    p = vdfma(s2, p, vdset(2.0 / 5));
    p = vdfma(s2, p, vdset(2.0 / 3));
    VD lnm = vdfma(vdmul(s, s2), p, vdadd(s, s));
    VD l2 = vdfma(lnm, vdset(1.4426950408889634), e);
    /* t = y log2 x, clamped (the float result is 0 / inf beyond) */
    VD t = vdmax(vdset(-160.0), vdmin(vdset(130.0), vdmul(y, l2)));
    VD k = vdrint(t);
    VD f = vdmul(vdsub(t, k), vdset(0.6931471805599453));   /* |f| <= ln2/2 */
    /* e^f: Taylor to f^11, relative error < 2^-45 */
    VD q = vdfma(f, vdset(1.0 / 39916800), vdset(1.0 / 3628800));
    q = vdfma(f, q, vdset(1.0 / 362880));
    q = vdfma(f, q, vdset(1.0 / 40320));
    q = vdfma(f, q, vdset(1.0 / 5040));
    q = vdfma(f, q, vdset(1.0 / 720));
    q = vdfma(f, q, vdset(1.0 / 120));
    q = vdfma(f, q, vdset(1.0 / 24));
    q = vdfma(f, q, vdset(1.0 / 6));
    q = vdfma(f, q, vdset(0.5));
    q = vdfma(f, q, vdset(1.0));
    q = vdfma(f, q, vdset(1.0));
    /* 2^k from k's integer bits (k + 1.5 * 2^52 holds k in its low bits) */
    VD kb = vdi_add(vdadd(k, vdset(6755399441055744.0)), vdiset(1023));
    return vdmul(q, vdi_slli(kb, 52));
}

/* -------------------------------------------------------------- kernels */
/* VMATH_ALGORITHMS_ONLY: the including file wants the inline algorithms alone
 * (the mx.fast kernels); the exported kernels are compiled by vmath_<isa>.c. */
#ifndef VMATH_ALGORITHMS_ONLY
#define VM_KERNEL(name, vfun)                                                       \
KFN void SFX(mlxc_vm_##name##_f32)(float *out, const float *in, int64_t n)          \
{                                                                                   \
    int64_t i = 0;                                                                  \
    for (; i + VW <= n; i += VW) vstore(out + i, vfun(vload(in + i)));              \
    if (i < n) vstore_n(out + i, vfun(vload_n(in + i, n - i)), n - i);              \
}

VM_KERNEL(exp, v_exp)
VM_KERNEL(expm1, v_expm1)
VM_KERNEL(log, v_log)
VM_KERNEL(log1p, v_log1p)
VM_KERNEL(log2, v_log2)
VM_KERNEL(tanh, v_tanh)
VM_KERNEL(sigmoid, v_sigmoid)
VM_KERNEL(erf, v_erf)
VM_KERNEL(erfinv, v_erfinv)

/* trigonometric: lanes with |x| > TRIG_BIG (and +-inf) go through double libm,
 * whose argument reduction is exact; the rounding to float is then <= 0.5 ulp
 * plus the double error */
#define VM_TRIG_KERNEL(name, vfun, dfun)                                            \
KFN void SFX(mlxc_vm_##name##_f32)(float *out, const float *in, int64_t n)          \
{                                                                                   \
    for (int64_t i = 0; i < n; i += VW) {                                           \
        int64_t m = n - i < VW ? n - i : VW;                                        \
        VF x = m == VW ? vload(in + i) : vload_n(in + i, m);                        \
        VF y = vfun(x);                                                             \
        unsigned big = vmbits(vlt(vset(TRIG_BIG), vabs(x)));                        \
        if (big) {       /* patched before the store: out may be in */              \
            float xb[VW], yb[VW];                                                   \
            vstore(xb, x);                                                          \
            vstore(yb, y);                                                          \
            while (big) {                                                           \
                int l = __builtin_ctz(big);                                         \
                big &= big - 1;                                                     \
                yb[l] = (float)dfun((double)xb[l]);                                 \
            }                                                                       \
            y = vload(yb);                                                          \
        }                                                                           \
        if (m == VW) vstore(out + i, y); else vstore_n(out + i, y, m);              \
    }                                                                               \
}
VM_TRIG_KERNEL(sin, v_sin, sin)
VM_TRIG_KERNEL(cos, v_cos, cos)
VM_TRIG_KERNEL(tan, v_tan, tan)

KFN void SFX(mlxc_vm_pow_f32)(float *out, const float *a, int64_t sa, const float *b,
                              int64_t sb, int64_t n)
{
    for (int64_t i = 0; i < n; i += VW) {
        int64_t m = n - i < VW ? n - i : VW;
        VF x = sa == 0 ? vset(a[0]) : m == VW ? vload(a + i) : vload_n(a + i, m);
        VF y = sb == 0 ? vset(b[0]) : m == VW ? vload(b + i) : vload_n(b + i, m);
        VD lo = vd_pow_pos(vd_lo(x), vd_lo(y));
        VD hi = vd_pow_pos(vd_hi(x), vd_hi(y));
        VF r = vf_join(lo, hi);
        /* the vector path covers x > 0 finite, y finite; the other lanes are
         * patched before the store (out may be a or b) */
        VM ok = vmand(vmand(vlt(vset(0.0f), x), vlt(x, vset(INFINITY))),
                      vlt(vabs(y), vset(INFINITY)));
        unsigned bad = ~vmbits(ok) & ((1u << m) - 1u);
        if (bad) {
            float xb[VW], yb[VW], rb[VW];
            vstore(xb, x);
            vstore(yb, y);
            vstore(rb, r);
            while (bad) {
                int l = __builtin_ctz(bad);
                bad &= bad - 1;
                rb[l] = powf(xb[l], yb[l]);
            }
            r = vload(rb);
        }
        if (m == VW) vstore(out + i, r); else vstore_n(out + i, r, m);
    }
}
#endif  /* VMATH_ALGORITHMS_ONLY */
