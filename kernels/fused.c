/* mlxc_fused: elementwise programs run tile by tile (see mlxc_fused.h). */
#include "internal.h"
#include "mlxc_fused.h"
#include "mlxc_threads.h"
#include "mlxc_cpu.h"

/* Elements per tile: a register of 8-byte elements takes 16 KiB, so the few
 * registers a chain keeps live stay in L1/L2.  Tasks of the thread pool are
 * TASK_TILES tiles; programs smaller than PAR_MIN elements run on the caller. */
#define TILE 2048
#define SLOT_BYTES (TILE * 8)
#define TASK_TILES 8
#define PAR_MIN (1 << 15)

enum { IN_SCALAR = 0, IN_CONTIG, IN_GATHER };

typedef struct {
    int ninstr, nregs, ninputs, noutputs, ndim, nslots;
    const mlxc_fused_instr *code;
    const mlxc_rowop *ops;
    const int *reg_dtype;
    const char *const *in_data;
    const int64_t *const *in_strides;
    char *const *out_data;
    const int *out_reg;
    const int64_t *shape;
    const int *in_kind;
    const char *scalar;        /* per register: one element per tile */
    const int *slot;           /* per register: scratch slot, or -1 */
    const int *out_of;         /* per register: output written in place, or -1 */
    int64_t total, ntiles;
    int *failed;               /* set when a thread's scratch could not be allocated */
} fz_job;

static int nsrc(int kind) { return kind == MLXC_FK_SELECT ? 3 : kind == MLXC_FK_BINARY ? 2 : 1; }

static int resolve(const mlxc_fused_instr *in, int dtype_out, mlxc_rowop *r)
{
    switch (in->kind) {
    case MLXC_FK_UNARY: return mlxc_unary_rowop(in->op, in->dtype, r);
    case MLXC_FK_BINARY: return mlxc_binary_rowop(in->op, in->dtype, r);
    case MLXC_FK_SELECT: return mlxc_select_rowop(in->dtype, r);
    case MLXC_FK_CAST: return mlxc_cast_rowop(in->dtype, dtype_out, r);
    default: return MLXC_ERR_UNSUPPORTED;
    }
}

int mlxc_fused_supported(int kind, int op, int dtype, int dtype_out)
{
    mlxc_fused_instr in = {kind, op, dtype, 0, {0, 0, 0}};
    mlxc_rowop r;
    return resolve(&in, dtype_out, &r) == MLXC_OK;
}

/* n elements of a strided input from linear (row-major) position t0, packed */
static void gather(char *dst, const char *base, const int64_t *st, int ndim,
                   const int64_t *shape, int64_t t0, int64_t n, size_t z)
{
    int64_t idx[MLXC_MAXD], off = 0, rem = t0;
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = rem % shape[d];
        rem /= shape[d];
        off += idx[d] * st[d];
    }
    int last = ndim - 1;
    int64_t s = st[last];
    while (n > 0) {
        int64_t run = shape[last] - idx[last];
        if (run > n) run = n;
        const char *p = base + off * (int64_t)z;
        switch (z) {
        case 1: for (int64_t i = 0; i < run; i++) ((uint8_t *)dst)[i] = ((const uint8_t *)p)[i * s]; break;
        case 2: for (int64_t i = 0; i < run; i++) ((uint16_t *)dst)[i] = ((const uint16_t *)p)[i * s]; break;
        case 4: for (int64_t i = 0; i < run; i++) ((uint32_t *)dst)[i] = ((const uint32_t *)p)[i * s]; break;
        default: for (int64_t i = 0; i < run; i++) ((uint64_t *)dst)[i] = ((const uint64_t *)p)[i * s]; break;
        }
        dst += run * (int64_t)z;
        n -= run;
        off += run * s;
        idx[last] += run;
        for (int d = last; d > 0 && idx[d] == shape[d]; d--) {
            off -= shape[d] * st[d];
            idx[d] = 0;
            idx[d - 1]++;
            off += st[d - 1];
        }
    }
}

/* the value of register r over the tile (n elements) into out (contiguous) */
static void store(char *out, const char *v, int scalar, int64_t n, size_t z)
{
    if (!scalar) {
        memcpy(out, v, (size_t)n * z);
        return;
    }
    for (int64_t i = 0; i < n; i++) memcpy(out + i * (int64_t)z, v, z);
}

/* scratch: per thread, grown on demand and kept (a program's slots plus its
 * per-register pointer tables) */
static _Thread_local char *tls_raw;
static _Thread_local size_t tls_cap;

static char *scratch(size_t bytes)
{
    if (bytes > tls_cap) {
        free(tls_raw);
        tls_cap = 0;
        size_t cap = (bytes + 4095) & ~(size_t)4095;
        tls_raw = malloc(cap + 64);
        if (!tls_raw) return NULL;
        tls_cap = cap;
    }
    return (char *)(((uintptr_t)tls_raw + 63) & ~(uintptr_t)63);
}

static void run_tiles(const fz_job *J, int64_t first, int64_t last)
{
    size_t table = (size_t)J->nregs * (sizeof(const char *) + sizeof(int64_t));
    table = (table + 63) & ~(size_t)63;
    char *buf = scratch(table + (size_t)J->nslots * SLOT_BYTES);
    if (!buf) {
        __atomic_store_n(J->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    const char **ptr = (const char **)buf;
    int64_t *str = (int64_t *)(buf + (size_t)J->nregs * sizeof(const char *));
    char *slots = buf + table;
    for (int64_t t = first; t < last; t++) {
        int64_t t0 = t * TILE, n = J->total - t0 < TILE ? J->total - t0 : TILE;
        for (int k = 0; k < J->ninputs; k++) {
            size_t z = mlxc_itemsize(J->reg_dtype[k]);
            switch (J->in_kind[k]) {
            case IN_SCALAR: ptr[k] = J->in_data[k]; str[k] = 0; break;
            case IN_CONTIG: ptr[k] = J->in_data[k] + t0 * (int64_t)z; str[k] = 1; break;
            default: {
                char *dst = slots + (size_t)J->slot[k] * SLOT_BYTES;
                gather(dst, J->in_data[k], J->in_strides[k], J->ndim, J->shape, t0, n, z);
                ptr[k] = dst;
                str[k] = 1;
            }
            }
        }
        for (int i = 0; i < J->ninstr; i++) {
            const mlxc_fused_instr *in = &J->code[i];
            int d = in->dst, sc = J->scalar[d];
            char *out;
            if (J->out_of[d] >= 0 && !sc)
                out = J->out_data[J->out_of[d]] + t0 * (int64_t)mlxc_itemsize(J->reg_dtype[d]);
            else
                out = slots + (size_t)J->slot[d] * SLOT_BYTES;
            const void *src[3] = {NULL, NULL, NULL};
            int64_t s[3] = {0, 0, 0};
            for (int k = 0; k < nsrc(in->kind); k++) {
                src[k] = ptr[in->src[k]];
                s[k] = str[in->src[k]];
            }
            J->ops[i].run(&J->ops[i], out, src, s, sc ? 1 : n);
            ptr[d] = out;
            str[d] = sc ? 0 : 1;
        }
        for (int k = 0; k < J->noutputs; k++) {
            int r = J->out_reg[k];
            size_t z = mlxc_itemsize(J->reg_dtype[r]);
            char *dst = J->out_data[k] + t0 * (int64_t)z;
            if (ptr[r] != dst) store(dst, ptr[r], str[r] == 0, n, z);
        }
    }
}

static void fz_task(void *ctx, int64_t task, int tid)
{
    (void)tid;
    const fz_job *J = ctx;
    int64_t first = task * TASK_TILES;
    int64_t last = first + TASK_TILES < J->ntiles ? first + TASK_TILES : J->ntiles;
    run_tiles(J, first, last);
}

/* What one call needs besides the data: the resolved kernels and the scratch plan
 * for one SIMD level and one pattern of input kinds.  Kept in the caller's cache. */
struct mlxc_fused_plan {
    int isa, ninputs, nregs, ninstr, one, nslots;
    mlxc_rowop *ops;
    int *slot, *out_of, *in_kind;
    char *scalar;
};

static void plan_free(struct mlxc_fused_plan *p)
{
    if (p) {
        free(p->ops);
        free(p);
    }
}

void mlxc_fused_cache_clear(mlxc_fused_cache *cache)
{
    plan_free(__atomic_exchange_n(&cache->plan, NULL, __ATOMIC_ACQ_REL));
}

static int plan_matches(const struct mlxc_fused_plan *p, int isa, int one, const int *in_kind,
                        int ninputs)
{
    if (!p || p->isa != isa || p->one != one || p->ninputs != ninputs) return 0;
    for (int k = 0; k < ninputs; k++)
        if (p->in_kind[k] != in_kind[k]) return 0;
    return 1;
}

static struct mlxc_fused_plan *plan_new(int ninstr, const mlxc_fused_instr *code, int nregs,
                                        const int *reg_dtype, int ninputs, const int *kinds,
                                        int noutputs, const int *out_reg, int one, int isa,
                                        int *status)
{
    size_t nr = (size_t)nregs;
    struct mlxc_fused_plan *p = calloc(1, sizeof *p);
    char *mem = malloc((size_t)ninstr * sizeof(mlxc_rowop) + nr * (3 * sizeof(int) + 1) +
                       (nr + 1) * sizeof(int) + 64);
    if (!p || !mem) {
        free(p);
        free(mem);
        *status = MLXC_ERR_NOMEM;
        return NULL;
    }
    p->isa = isa;
    p->ninputs = ninputs;
    p->nregs = nregs;
    p->ninstr = ninstr;
    p->one = one;
    p->ops = (mlxc_rowop *)mem;
    p->slot = (int *)(p->ops + ninstr);
    p->out_of = p->slot + nr;
    p->in_kind = p->out_of + nr;           /* nr entries (ninputs used) */
    int *freelist = p->in_kind + nr;       /* nr + 1 entries */
    p->scalar = (char *)(freelist + nr + 1);
    int *lastuse = freelist;               /* reused: lastuse first, then the free list */
    int st = MLXC_OK;
    for (int i = 0; i < ninstr && st == MLXC_OK; i++)
        st = resolve(&code[i], reg_dtype[code[i].dst], &p->ops[i]);
    if (st != MLXC_OK) {
        plan_free(p);
        *status = st;
        return NULL;
    }
    for (int k = 0; k < ninputs; k++) {
        p->in_kind[k] = kinds[k];
        p->scalar[k] = (char)(kinds[k] == IN_SCALAR || one);
    }
    for (int r = 0; r < nregs; r++) {
        p->slot[r] = -1;
        p->out_of[r] = -1;
    }
    for (int i = 0; i < ninstr; i++) {
        int sc = 1;
        for (int k = 0; k < nsrc(code[i].kind); k++) sc &= p->scalar[code[i].src[k]];
        p->scalar[code[i].dst] = (char)sc;
    }
    for (int k = 0; k < noutputs; k++)
        if (out_reg[k] >= ninputs && p->out_of[out_reg[k]] < 0) p->out_of[out_reg[k]] = k;
    /* the instruction that reads each register last (ninstr: an output, read at the end) */
    int *last = malloc(nr * sizeof(int));
    if (!last) {
        plan_free(p);
        *status = MLXC_ERR_NOMEM;
        return NULL;
    }
    (void)lastuse;
    for (int r = 0; r < nregs; r++) last[r] = -1;
    for (int i = 0; i < ninstr; i++)
        for (int k = 0; k < nsrc(code[i].kind); k++) last[code[i].src[k]] = i;
    for (int k = 0; k < noutputs; k++) last[out_reg[k]] = ninstr;
    /* scratch slots: gathered inputs first, then each register not written straight
     * into an output; a slot is free again after its register's last read */
    int nslots = 0, nfree = 0;
    for (int k = 0; k < ninputs; k++)
        if (kinds[k] == IN_GATHER) p->slot[k] = nslots++;
    for (int i = 0; i < ninstr; i++) {
        int d = code[i].dst;
        if (!(p->out_of[d] >= 0 && !p->scalar[d]))
            p->slot[d] = nfree ? freelist[--nfree] : nslots++;
        for (int k = 0; k < nsrc(code[i].kind); k++) {
            int r = code[i].src[k];
            if (last[r] == i && p->slot[r] >= 0) {
                int dup = 0;
                for (int j = 0; j < k; j++) dup |= code[i].src[j] == r;
                if (!dup) freelist[nfree++] = p->slot[r];
            }
        }
    }
    free(last);
    p->nslots = nslots;
    return p;
}

int mlxc_fused(int ninstr, const mlxc_fused_instr *code, int nregs, const int *reg_dtype,
               int ninputs, const void *const *in_data, const int64_t *const *in_strides,
               int noutputs, void *const *out_data, const int *out_reg,
               int ndim, const int64_t *shape, mlxc_fused_cache *cache)
{
    if (ndim < 1 || ndim > MLXC_MAXD || ninputs > nregs || ninstr + ninputs > nregs ||
        ninputs > 4096)
        return MLXC_ERR_UNSUPPORTED;
    int64_t total = 1;
    for (int d = 0; d < ndim; d++) total *= shape[d];
    if (total == 0) return MLXC_OK;
    /* inputs: one element, contiguous, or gathered per tile */
    int kinds_small[64];
    int *kinds = ninputs <= 64 ? kinds_small : malloc((size_t)ninputs * sizeof(int));
    if (!kinds) return MLXC_ERR_NOMEM;
    for (int k = 0; k < ninputs; k++) {
        const int64_t *s = in_strides[k];
        int zero = 1, contig = 1;
        int64_t want = 1;
        for (int d = ndim - 1; d >= 0; d--) {
            if (shape[d] != 1) {
                if (s[d] != 0) zero = 0;
                if (s[d] != want) contig = 0;
            }
            want *= shape[d];
        }
        kinds[k] = zero ? IN_SCALAR : contig ? IN_CONTIG : IN_GATHER;
    }
    int isa = mlxc_isa_pick(mlxc_levels_unary), one = total == 1, st = MLXC_OK;
    struct mlxc_fused_plan *p = cache ? __atomic_exchange_n(&cache->plan, NULL, __ATOMIC_ACQ_REL)
                                      : NULL;
    if (!plan_matches(p, isa, one, kinds, ninputs)) {
        plan_free(p);
        p = plan_new(ninstr, code, nregs, reg_dtype, ninputs, kinds, noutputs, out_reg, one,
                     isa, &st);
    }
    if (kinds != kinds_small) free(kinds);
    if (!p) return st;
    int failed = 0;
    fz_job J = {ninstr, nregs, ninputs, noutputs, ndim, p->nslots, code, p->ops, reg_dtype,
                (const char *const *)in_data, in_strides, (char *const *)out_data, out_reg,
                shape, p->in_kind, p->scalar, p->slot, p->out_of, total,
                (total + TILE - 1) / TILE, &failed};
    size_t need = ((size_t)nregs * (sizeof(const char *) + sizeof(int64_t)) + 63) / 64 * 64 +
                  (size_t)p->nslots * SLOT_BYTES;
    if (!scratch(need)) {
        st = MLXC_ERR_NOMEM;
    } else {
        int64_t ntasks = (J.ntiles + TASK_TILES - 1) / TASK_TILES;
        if (total < PAR_MIN || ntasks == 1)
            run_tiles(&J, 0, J.ntiles);
        else
            mlxc_parallel_for(ntasks, mlxc_num_threads(), fz_task, &J);
        if (failed) st = MLXC_ERR_NOMEM;
    }
    /* back into the cache (another thread may have put one there meanwhile) */
    if (cache) plan_free(__atomic_exchange_n(&cache->plan, p, __ATOMIC_ACQ_REL));
    else plan_free(p);
    return st;
}
