/* mlxc_fused: elementwise programs run tile by tile (see mlxc_fused.h). */
#include <string.h>
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
    const int *chain;          /* per instruction (find_chains) */
    int isa;
    int stream;                /* outputs streamed out of scratch (use_stream) */
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

/* Outputs of at least STREAM_BYTES are written with non-temporal stores (as the
 * binary kernels' large outputs): a tile is computed into scratch, then streamed out,
 * so the output's lines are never read from memory first (half the write traffic). */
#define STREAM_BYTES (16 << 20)
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_STREAM 1
__attribute__((target("avx2"))) static void copy_stream(char *dst, const char *src, size_t n)
{
    size_t i = (32 - ((uintptr_t)dst & 31)) & 31;
    if (i > n) i = n;
    memcpy(dst, src, i);
    for (; i + 32 <= n; i += 32)
        _mm256_stream_si256((__m256i *)(dst + i), _mm256_loadu_si256((const __m256i *)(src + i)));
    memcpy(dst + i, src + i, n - i);
}
static void stream_fence(void) { _mm_sfence(); }
#else
#define HAVE_STREAM 0
static void copy_stream(char *dst, const char *src, size_t n) { memcpy(dst, src, n); }
static void stream_fence(void) {}
#endif

/* may outputs of this many bytes be streamed (SIMD level AVX2 or above)? */
static int use_stream(int64_t bytes, int isa)
{
    return HAVE_STREAM && bytes >= STREAM_BYTES && isa >= MLXC_ISA_AVX2;
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

/* ------------------------------------------------------------------ chains */
/* Runs of float add / sub / mul / div instructions, each reading the one before,
 * whose intermediates nobody else reads, run as one pass (fused_chain.c). */
#define CHAIN_MAX 16

static int64_t chain_runs;       /* chain passes run, for the tests (mlxc_fused_chain_runs) */
int64_t mlxc_fused_chain_runs(void) { return __atomic_load_n(&chain_runs, __ATOMIC_RELAXED); }

/* *runs counts the passes of one task, added to chain_runs once at its end (an
 * atomic add per pass would share one cache line between the threads) */
static void run_chain(int dtype, int isa, void *out, const void *a, int64_t sa,
                      const mlxc_chain_step *steps, int len, int64_t n, int how, int64_t *runs)
{
    mlxc_chain_kernel(dtype, isa)(out, a, sa, steps, len, n, how);
    ++*runs;
}

static void count_runs(int64_t runs)
{
    if (runs) __atomic_fetch_add(&chain_runs, runs, __ATOMIC_RELAXED);
}

static int chain_op(const mlxc_fused_instr *in, int dtype)
{
    return in->dtype == dtype &&
           ((in->kind == MLXC_FK_BINARY && mlxc_chain_op_ok(in->op, dtype)) ||
            (in->kind == MLXC_FK_UNARY && mlxc_chain_unary_ok(in->op, dtype)));
}

/* chain[i]: how many instructions from i run as one chain (1: alone; 0: inside a
 * chain); chain[ninstr + j]: 1 when instruction j inside a chain must also store its
 * value (a tee: the register is read again after the next instruction, or is an
 * output).  last[r]: the instruction reading register r last (ninstr: an output);
 * ok[r]: r may be a chain's destination (the runner's own conditions).  sum: a row
 * sum (MLXC_FK_REDUCE) of a chain's last value may end the chain (row programs with
 * rows of <= MLXC_SUM_LEAF elements): it is then the chain's last instruction, and
 * the value it sums is stored only if read again (a tee). */
static void find_chains(int ninstr, const mlxc_fused_instr *code, const int *last,
                        const char *ok, int sum, int *chain)
{
    int *tee = chain + ninstr;
    for (int i = 0; i < ninstr;) {
        int len = 1;
        tee[i] = 0;
        if (chain_op(&code[i], code[i].dtype) && ok[code[i].dst]) {
            while (i + len < ninstr && len < CHAIN_MAX) {
                const mlxc_fused_instr *nx = &code[i + len];
                int d = code[i + len - 1].dst;
                if (sum && nx->kind == MLXC_FK_REDUCE && nx->op == MLXC_RSUM &&
                    nx->dtype == code[i].dtype && nx->src[0] == d) {
                    tee[i + len - 1] = last[d] != i + len;
                    tee[i + len++] = 0;
                    break;
                }
                if (!chain_op(nx, code[i].dtype) || !ok[nx->dst] ||
                    (nx->src[0] != d && (nx->kind == MLXC_FK_UNARY || nx->src[1] != d)))
                    break;
                tee[i + len - 1] = last[d] != i + len;
                tee[i + len++] = 0;
            }
        }
        chain[i] = len;
        for (int k = 1; k < len; k++) chain[i + k] = 0;
        i += len;
    }
}

/* a chain ending in a row sum */
static int chain_sums(const mlxc_fused_instr *code, int i, int len)
{
    return code[i + len - 1].kind == MLXC_FK_REDUCE;
}

/* When the outputs are streamed (use_stream), a chain whose last value is a FULL
 * output (full[k]) that no later instruction reads stores it straight into the
 * output with non-temporal stores: chain[2 * ninstr + i] = 1 + that output for the
 * chain starting at i, else 0. */
static void stream_chains(int ninstr, const mlxc_fused_instr *code, int *chain, int noutputs,
                          const int *out_reg, const char *full)
{
    int *nt = chain + 2 * ninstr;
    for (int i = 0; i < ninstr; i++) nt[i] = 0;
    for (int i = 0; i < ninstr; i += chain[i]) {
        int len = chain[i], e = code[i + len - 1].dst, read = 0;
        if (len < 2 || chain_sums(code, i, len)) continue;
        for (int j = i + len; j < ninstr && !read; j++)
            for (int k = 0; k < nsrc(code[j].kind); k++) read |= code[j].src[k] == e;
        for (int k = 0; k < noutputs && !read && !nt[i]; k++)
            if (out_reg[k] == e && full[k]) nt[i] = 1 + k;
    }
}

/* the step of instruction in whose running value is register d (-1: the first
 * instruction, whose src[0] is the running value); *other: the register it reads
 * besides, or -1 (it reads the running value twice) */
static mlxc_chain_step chain_step(const mlxc_fused_instr *in, int d, int *other)
{
    mlxc_chain_step s = {in->op, 0, NULL, 0, NULL, in->kind == MLXC_FK_UNARY};
    if (s.unary) {
        *other = -1;
        return s;
    }
    int acc = d < 0 ? in->src[0] : d;
    int o = in->src[0] == acc ? in->src[1] : in->src[0];
    s.swap = in->src[0] != acc;
    *other = o == acc ? -1 : o;
    return s;
}

/* Scratch slots for the registers the instructions write: slot[d] for each
 * destination that needs one (need[d]), a slot free again after its register's last
 * read (last[]).  A chain writes only its last destination and its tees, and its operands stay
 * live until it ends: it reads them all while it writes (a ROW operand read as a
 * broadcast must not share a slot with the output).  slot[] holds -1 or the slots
 * already given (nslots of them); returns the number of slots, -1 without memory. */
static int assign_slots(int ninstr, const mlxc_fused_instr *code, const int *chain,
                        const int *last, const char *need, int nregs, int *slot, int nslots)
{
    int *freed = malloc(((size_t)nregs + 1) * sizeof(int)), nfree = 0;
    if (!freed) return -1;
    const int *tee = chain + ninstr;
    for (int i = 0; i < ninstr;) {
        int len = chain[i] > 1 ? chain[i] : 1, e = code[i + len - 1].dst;
        for (int j = i; j < i + len; j++) {          /* the chain's stored values */
            int d = code[j].dst;
            if ((d == e || tee[j]) && need[d]) slot[d] = nfree ? freed[--nfree] : nslots++;
        }
        for (int j = i; j < i + len; j++)
            for (int k = 0; k < nsrc(code[j].kind); k++) {
                int r = code[j].src[k], dup = 0;
                if (r == e || slot[r] < 0 || last[r] < i || last[r] >= i + len) continue;
                for (int jj = i; jj <= j; jj++)
                    for (int kk = 0; kk < (jj < j ? nsrc(code[jj].kind) : k); kk++)
                        dup |= code[jj].src[kk] == r;
                if (!dup) freed[nfree++] = slot[r];
            }
        i += len;
    }
    free(freed);
    return nslots;
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
    int64_t runs = 0;
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
            if (J->chain[i] > 1) {
                int len = J->chain[i], e = J->code[i + len - 1].dst;
                int nt = J->chain[2 * J->ninstr + i], how = MLXC_CHAIN_STORE;
                size_t ze = mlxc_itemsize(J->reg_dtype[e]);
                char *out = J->out_of[e] >= 0 ? J->out_data[J->out_of[e]] + t0 * (int64_t)ze
                          : slots + (size_t)J->slot[e] * SLOT_BYTES;
                if (nt && J->stream) {
                    out = J->out_data[nt - 1] + t0 * (int64_t)ze;
                    how = MLXC_CHAIN_STREAM;
                }
                mlxc_chain_step steps[CHAIN_MAX];
                for (int k = 0; k < len; k++) {
                    int o;
                    steps[k] = chain_step(&J->code[i + k], k ? J->code[i + k - 1].dst : -1, &o);
                    if (o >= 0) {
                        steps[k].p = ptr[o];
                        steps[k].s = str[o];
                    }
                    if (J->chain[J->ninstr + i + k]) {      /* a tee */
                        int t = J->code[i + k].dst;
                        char *tp = J->out_of[t] >= 0
                            ? J->out_data[J->out_of[t]] + t0 * (int64_t)mlxc_itemsize(J->reg_dtype[t])
                            : slots + (size_t)J->slot[t] * SLOT_BYTES;
                        steps[k].tee = tp;
                        ptr[t] = tp;
                        str[t] = 1;
                    }
                }
                run_chain(in->dtype, J->isa, out, ptr[in->src[0]], str[in->src[0]], steps, len, n,
                          how, &runs);
                ptr[e] = out;
                str[e] = 1;
                i += len - 1;
                continue;
            }
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
            if (ptr[r] == dst) continue;
            if (J->stream && str[r] != 0) copy_stream(dst, ptr[r], (size_t)n * z);
            else store(dst, ptr[r], str[r] == 0, n, z);
        }
    }
    if (J->stream) stream_fence();    /* the streamed lines before the pool's handoff */
    count_runs(runs);
}

/* the tiles [*first, *last) of task `task` out of ntiles */
static void task_tiles(int64_t task, int64_t ntiles, int64_t *first, int64_t *last)
{
    *first = task * TASK_TILES;
    *last = *first + TASK_TILES < ntiles ? *first + TASK_TILES : ntiles;
}

static void fz_task(void *ctx, int64_t task, int tid)
{
    (void)tid;
    const fz_job *J = ctx;
    int64_t first, last;
    task_tiles(task, J->ntiles, &first, &last);
    run_tiles(J, first, last);
}

/* What one call needs besides the data: the resolved kernels and the scratch plan
 * for one SIMD level and one pattern of input kinds.  Kept in the caller's cache. */
struct mlxc_fused_plan {
    int isa, ninputs, nregs, ninstr, one, stream, nslots;
    mlxc_rowop *ops;
    int *chain;
    int *slot, *out_of, *in_kind;
    char *scalar;
};

static void plan_free(struct mlxc_fused_plan *p)
{
    if (p) {
        free(p->ops);
        free(p->chain);
        free(p);
    }
}

void mlxc_fused_cache_clear(mlxc_fused_cache *cache)
{
    plan_free(__atomic_exchange_n(&cache->plan, NULL, __ATOMIC_ACQ_REL));
}

static int plan_matches(const struct mlxc_fused_plan *p, int isa, int one, int stream,
                        const int *in_kind, int ninputs)
{
    if (!p || p->isa != isa || p->one != one || p->stream != stream || p->ninputs != ninputs)
        return 0;
    for (int k = 0; k < ninputs; k++)
        if (p->in_kind[k] != in_kind[k]) return 0;
    return 1;
}

static struct mlxc_fused_plan *plan_new(int ninstr, const mlxc_fused_instr *code, int nregs,
                                        const int *reg_dtype, int ninputs, const int *kinds,
                                        int noutputs, const int *out_reg, int one, int stream,
                                        int isa, int *status)
{
    size_t nr = (size_t)nregs;
    struct mlxc_fused_plan *p = calloc(1, sizeof *p);
    char *mem = malloc((size_t)ninstr * sizeof(mlxc_rowop) + nr * (3 * sizeof(int) + 1) + 64);
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
    p->stream = stream;
    p->ops = (mlxc_rowop *)mem;
    p->slot = (int *)(p->ops + ninstr);
    p->out_of = p->slot + nr;
    p->in_kind = p->out_of + nr;           /* nr entries (ninputs used) */
    p->scalar = (char *)(p->in_kind + nr);
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
    for (int k = 0; k < noutputs && !stream; k++)
        if (out_reg[k] >= ninputs && p->out_of[out_reg[k]] < 0) p->out_of[out_reg[k]] = k;
    /* the instruction that reads each register last (ninstr: an output, read at the end) */
    int *last = malloc(nr * sizeof(int));
    if (!last) {
        plan_free(p);
        *status = MLXC_ERR_NOMEM;
        return NULL;
    }
    for (int r = 0; r < nregs; r++) last[r] = -1;
    for (int i = 0; i < ninstr; i++)
        for (int k = 0; k < nsrc(code[i].kind); k++) last[code[i].src[k]] = i;
    for (int k = 0; k < noutputs; k++) last[out_reg[k]] = ninstr;
    /* scratch slots: gathered inputs first, then each register not written straight
     * into an output; a slot is free again after its register's last read */
    p->chain = malloc(3 * (size_t)ninstr * sizeof(int) + (nr > (size_t)noutputs ? nr : (size_t)noutputs));
    if (!p->chain) {
        free(last);
        plan_free(p);
        *status = MLXC_ERR_NOMEM;
        return NULL;
    }
    char *flag = (char *)(p->chain + 3 * ninstr);
    for (int r = 0; r < nregs; r++) flag[r] = !p->scalar[r];    /* a chain may write it */
    find_chains(ninstr, code, last, flag, 0, p->chain);
    for (int k = 0; k < noutputs; k++) flag[k] = !p->scalar[out_reg[k]];
    stream_chains(ninstr, code, p->chain, noutputs, out_reg, flag);
    int nslots = 0;
    for (int k = 0; k < ninputs; k++)
        if (kinds[k] == IN_GATHER) p->slot[k] = nslots++;
    for (int r = 0; r < nregs; r++) flag[r] = !(p->out_of[r] >= 0 && !p->scalar[r]);  /* needs a slot */
    nslots = assign_slots(ninstr, code, p->chain, last, flag, nregs, p->slot, nslots);
    free(last);
    if (nslots < 0) {
        plan_free(p);
        *status = MLXC_ERR_NOMEM;
        return NULL;
    }
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
    int64_t out_bytes = 0;
    for (int k = 0; k < noutputs; k++) out_bytes += total * (int64_t)mlxc_itemsize(reg_dtype[out_reg[k]]);
    int stream = use_stream(out_bytes, isa);
    struct mlxc_fused_plan *p = cache ? __atomic_exchange_n(&cache->plan, NULL, __ATOMIC_ACQ_REL)
                                      : NULL;
    if (!plan_matches(p, isa, one, stream, kinds, ninputs)) {
        plan_free(p);
        p = plan_new(ninstr, code, nregs, reg_dtype, ninputs, kinds, noutputs, out_reg, one,
                     stream, isa, &st);
    }
    if (kinds != kinds_small) free(kinds);
    if (!p) return st;
    int failed = 0;
    fz_job J = {ninstr, nregs, ninputs, noutputs, ndim, p->nslots, code, p->ops, reg_dtype,
                (const char *const *)in_data, in_strides, (char *const *)out_data, out_reg,
                shape, p->in_kind, p->scalar, p->slot, p->out_of, total,
                (total + TILE - 1) / TILE, p->chain, isa, stream, &failed};
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

/* ------------------------------------------------------------ row programs */
/* Elements of FULL registers per block of rows (rows = ROW_TILE / L, at least 1);
 * every scratch slot holds one block. */
#define ROW_TILE 4096

typedef struct {
    int ninstr, nregs, ninputs, noutputs, ndim, a0, nslots;
    const mlxc_fused_instr *code;
    const mlxc_rowop *ops;
    const int *reg_dtype, *reg_level, *in_kind, *slot, *out_reg, *out_level, *out_of;
    const char *const *in_data;
    const int64_t *const *in_strides;
    char *const *out_data;
    const int64_t *shape;
    int64_t nrows, L, R, ntiles;
    size_t slot_bytes;
    const int *chain;          /* per instruction (find_chains) */
    int isa;
    int stream;                /* FULL outputs streamed out of scratch (use_stream) */
    int *failed;
} fr_job;

/* where register r of a block starting at row r0 lives in an output, if it is
 * written there directly: FULL and ROW registers whose output has their level */
static char *fr_direct(const fr_job *J, int r, int64_t r0)
{
    int k = J->out_of[r];
    if (k < 0) return NULL;
    size_t z = mlxc_itemsize(J->reg_dtype[r]);
    if (J->reg_level[r] == MLXC_FL_FULL) return J->out_data[k] + r0 * J->L * (int64_t)z;
    if (J->reg_level[r] == MLXC_FL_ROW) return J->out_data[k] + r0 * (int64_t)z;
    return NULL;
}

/* output k for rows r0 .. r0+n-1 from register data v of level lv */
static void fr_store(const fr_job *J, int k, const char *v, int lv, int64_t r0, int64_t n)
{
    int r = J->out_reg[k], ol = J->out_level[k];
    size_t z = mlxc_itemsize(J->reg_dtype[r]);
    int64_t L = J->L;
    char *dst = J->out_data[k];
    if (ol == MLXC_FL_SCALAR || ol == MLXC_FL_COL) {
        if (r0 != 0) return;                       /* the same for every block */
        store(dst, v, lv == MLXC_FL_SCALAR, ol == MLXC_FL_COL ? L : 1, z);
        return;
    }
    if (ol == MLXC_FL_ROW) {
        if (dst + r0 * (int64_t)z != v) store(dst + r0 * (int64_t)z, v, lv == MLXC_FL_SCALAR, n, z);
        return;
    }
    dst += r0 * L * (int64_t)z;
    if (dst == v) return;
    for (int64_t i = 0; i < n; i++) {
        char *row = dst + i * L * (int64_t)z;
        switch (lv) {
        case MLXC_FL_FULL:
            if (J->stream) copy_stream(row, v + i * L * (int64_t)z, (size_t)L * z);
            else memcpy(row, v + i * L * (int64_t)z, (size_t)L * z);
            break;
        case MLXC_FL_COL: memcpy(row, v, (size_t)L * z); break;
        case MLXC_FL_ROW: store(row, v + i * (int64_t)z, 1, L, z); break;
        default: store(row, v, 1, L, z); break;
        }
    }
}

/* register reg as an operand of a FULL computation over row r of the block (or over
 * the whole block when !perrow: then reg is FULL or SCALAR): pointer and stride */
static void fr_operand(const fr_job *J, const char *const *ptr, int reg, int64_t r,
                       const void **p, int64_t *s)
{
    int lv = J->reg_level[reg];
    size_t z = mlxc_itemsize(J->reg_dtype[reg]);
    switch (lv) {
    case MLXC_FL_FULL: *p = ptr[reg] + r * J->L * (int64_t)z; *s = 1; break;
    case MLXC_FL_COL: *p = ptr[reg]; *s = 1; break;
    case MLXC_FL_ROW: *p = ptr[reg] + r * (int64_t)z; *s = 0; break;
    default: *p = ptr[reg]; *s = 0; break;
    }
}

/* instructions i .. i+len-1 (a chain of FULL registers, maybe ending in a row sum into
 * a ROW register) over the block of n rows; how: the final values' MLXC_CHAIN_* */
static void fr_chain(const fr_job *J, const char *const *ptr, int i, int len, char *out,
                     int64_t n, int how, int64_t *runs)
{
    const mlxc_fused_instr *code = J->code;
    int perrow = how == MLXC_CHAIN_SUM, other[CHAIN_MAX];
    int nst = how == MLXC_CHAIN_SUM ? len - 1 : len;
    char *tee[CHAIN_MAX];
    mlxc_chain_step steps[CHAIN_MAX];
    for (int k = 0; k < nst; k++) {
        steps[k] = chain_step(&code[i + k], k ? code[i + k - 1].dst : -1, &other[k]);
        tee[k] = J->chain[J->ninstr + i + k] ? (char *)ptr[code[i + k].dst] : NULL;
        int lv = other[k] >= 0 ? J->reg_level[other[k]] : MLXC_FL_FULL;
        perrow |= lv == MLXC_FL_ROW || lv == MLXC_FL_COL;
    }
    int a = code[i].src[0];
    perrow |= J->reg_level[a] == MLXC_FL_ROW || J->reg_level[a] == MLXC_FL_COL;
    int64_t rows = perrow ? n : 1, cnt = perrow ? J->L : n * J->L;
    size_t zd = mlxc_itemsize(code[i].dtype);
    int64_t ostep = how == MLXC_CHAIN_SUM ? (int64_t)zd : J->L * (int64_t)zd;
    for (int64_t r = 0; r < rows; r++) {
        const void *pa;
        int64_t sa;
        fr_operand(J, ptr, a, r, &pa, &sa);
        for (int k = 0; k < nst; k++) {
            if (other[k] >= 0) fr_operand(J, ptr, other[k], r, &steps[k].p, &steps[k].s);
            if (tee[k]) steps[k].tee = tee[k] + r * J->L * (int64_t)zd;
        }
        run_chain(code[i].dtype, J->isa, out + r * ostep, pa, sa, steps, nst, cnt, how, runs);
    }
}

static void fr_tiles(const fr_job *J, int64_t first, int64_t last)
{
    size_t table = ((size_t)J->nregs * sizeof(const char *) + 63) & ~(size_t)63;
    char *buf = scratch(table + (size_t)J->nslots * J->slot_bytes);
    if (!buf) {
        __atomic_store_n(J->failed, MLXC_ERR_NOMEM, __ATOMIC_RELAXED);
        return;
    }
    const char **ptr = (const char **)buf;
    char *slots = buf + table;
    int64_t L = J->L, runs = 0;
    for (int64_t t = first; t < last; t++) {
        int64_t r0 = t * J->R, n = J->nrows - r0 < J->R ? J->nrows - r0 : J->R;
        for (int k = 0; k < J->ninputs; k++) {
            size_t z = mlxc_itemsize(J->reg_dtype[k]);
            const char *base = J->in_data[k];
            const int64_t *st = J->in_strides[k];
            char *dst = slots + (size_t)J->slot[k] * J->slot_bytes;
            switch (J->reg_level[k]) {
            case MLXC_FL_SCALAR: ptr[k] = base; break;
            case MLXC_FL_ROW:
                if (J->in_kind[k] == IN_CONTIG) ptr[k] = base + r0 * (int64_t)z;
                else { gather(dst, base, st, J->a0, J->shape, r0, n, z); ptr[k] = dst; }
                break;
            case MLXC_FL_COL:
                if (J->in_kind[k] == IN_CONTIG) ptr[k] = base;
                else {
                    gather(dst, base, st + J->a0, J->ndim - J->a0, J->shape + J->a0, 0, L, z);
                    ptr[k] = dst;
                }
                break;
            default:
                if (J->in_kind[k] == IN_CONTIG) ptr[k] = base + r0 * L * (int64_t)z;
                else { gather(dst, base, st, J->ndim, J->shape, r0 * L, n * L, z); ptr[k] = dst; }
            }
        }
        for (int i = 0; i < J->ninstr; i++) {
            const mlxc_fused_instr *in = &J->code[i];
            int d = in->dst, dl = J->reg_level[d];
            if (J->chain[i] > 1) {
                int len = J->chain[i], e = J->code[i + len - 1].dst, nt = J->chain[2 * J->ninstr + i];
                int how = chain_sums(J->code, i, len) ? MLXC_CHAIN_SUM : MLXC_CHAIN_STORE;
                for (int k = 0; k < len - 1; k++)          /* the tees' places */
                    if (J->chain[J->ninstr + i + k]) {
                        int t = J->code[i + k].dst;
                        char *tp = fr_direct(J, t, r0);
                        ptr[t] = tp ? tp : slots + (size_t)J->slot[t] * J->slot_bytes;
                    }
                char *out = fr_direct(J, e, r0);
                if (!out) out = slots + (size_t)J->slot[e] * J->slot_bytes;
                if (nt && J->stream) {     /* straight into the output, past the caches */
                    out = J->out_data[nt - 1] + r0 * L * (int64_t)mlxc_itemsize(J->reg_dtype[e]);
                    how = MLXC_CHAIN_STREAM;
                }
                fr_chain(J, ptr, i, len, out, n, how, &runs);
                ptr[e] = out;
                i += len - 1;
                continue;
            }
            char *out = fr_direct(J, d, r0);
            if (!out) out = slots + (size_t)J->slot[d] * J->slot_bytes;
            ptr[d] = out;
            if (in->kind == MLXC_FK_REDUCE) {
                int64_t shp[2] = {n, L}, str[2] = {L, 1};
                int st = mlxc_reduce(in->op, in->dtype, out, ptr[in->src[0]], 2, shp, str, 1);
                if (st != MLXC_OK) {
                    __atomic_store_n(J->failed, st, __ATOMIC_RELAXED);
                    return;
                }
                continue;
            }
            const mlxc_rowop *op = &J->ops[i];
            int ns = nsrc(in->kind), perrow = 0;
            const void *src[3] = {NULL, NULL, NULL};
            int64_t s[3] = {0, 0, 0};
            for (int k = 0; k < ns; k++) {
                int sl = J->reg_level[in->src[k]];
                src[k] = ptr[in->src[k]];
                s[k] = sl == dl;
                perrow |= dl == MLXC_FL_FULL && (sl == MLXC_FL_ROW || sl == MLXC_FL_COL);
            }
            int64_t cnt = dl == MLXC_FL_FULL ? n * L : dl == MLXC_FL_ROW ? n
                        : dl == MLXC_FL_COL ? L : 1;
            if (!perrow) {
                op->run(op, out, src, s, cnt);
                continue;
            }
            /* FULL from ROW / COL sources: row by row, a ROW source one value per row */
            size_t zd = mlxc_itemsize(J->reg_dtype[d]);
            for (int64_t r = 0; r < n; r++) {
                const void *rs[3] = {NULL, NULL, NULL};
                int64_t ss[3] = {0, 0, 0};
                for (int k = 0; k < ns; k++) fr_operand(J, ptr, in->src[k], r, &rs[k], &ss[k]);
                op->run(op, out + r * L * (int64_t)zd, rs, ss, L);
            }
        }
        for (int k = 0; k < J->noutputs; k++) {
            int r = J->out_reg[k];
            fr_store(J, k, ptr[r], J->reg_level[r], r0, n);
        }
    }
    if (J->stream) stream_fence();    /* the streamed lines before the pool's handoff */
    count_runs(runs);
}

static void fr_task(void *ctx, int64_t task, int tid)
{
    (void)tid;
    const fr_job *J = ctx;
    int64_t first, last;
    task_tiles(task, J->ntiles, &first, &last);
    fr_tiles(J, first, last);
}

/* is input k contiguous over the dims of its level (rows, a row, or the domain)? */
static int fr_contig(const int64_t *st, const int64_t *shape, int lo, int hi)
{
    int64_t want = 1;
    for (int d = hi - 1; d >= lo; d--) {
        if (shape[d] != 1 && st[d] != want) return 0;
        want *= shape[d];
    }
    return 1;
}

static int rows_run(int ninstr, const mlxc_fused_instr *code, int nregs, const int *reg_dtype,
                    const int *reg_level, int ninputs, const void *const *in_data,
                    const int64_t *const *in_strides, int noutputs, void *const *out_data,
                    const int *out_reg, const int *out_level, int ndim, const int64_t *shape,
                    int a0);

/* A FULL value made by one arithmetic instruction from values every block has at hand
 * (inputs and ROW / COL / SCALAR registers) and read by several instructions: each
 * later reader that can chain gets its own copy, computed right before it, so the
 * value joins that reader's chain instead of being stored for it (a layer norm's
 * x - mu, read by the variance's square and by the epilogue: one store and reload
 * of a block less).  A copy is the same IEEE op on the same operands: the same bits.
 * cand[r]: the instruction making r when r is such a value, else -1. */
static int remat_reader(const mlxc_fused_instr *in, int dtype, const int *reg_level)
{
    return chain_op(in, dtype) && reg_level[in->dst] == MLXC_FL_FULL;
}

/* does operand k of instruction j get a copy of its candidate (a chaining reader after
 * the first reader; a register read twice is copied once, at its first operand)?
 * Marks the register seen after its last operand in j. */
static int remat_here(const mlxc_fused_instr *code, int j, int k, int nregs, const int *cand,
                      char *seen, const int *reg_level)
{
    int d = code[j].src[k], ns = nsrc(code[j].kind);
    if (d < 0 || d >= nregs || cand[d] < 0) return 0;
    int copy = seen[d] && remat_reader(&code[j], code[cand[d]].dtype, reg_level) &&
               !(k == 1 && code[j].src[0] == d);
    if (k == ns - 1 || code[j].src[k + 1] != d) seen[d] = 1;
    return copy;
}

int mlxc_fused_rows(int ninstr, const mlxc_fused_instr *code, int nregs, const int *reg_dtype,
                    const int *reg_level, int ninputs, const void *const *in_data,
                    const int64_t *const *in_strides, int noutputs, void *const *out_data,
                    const int *out_reg, const int *out_level, int ndim, const int64_t *shape,
                    int a0)
{
    if (ninputs < 0 || ninstr < 0 || ninstr + ninputs > nregs)
        return MLXC_ERR_UNSUPPORTED;
    int *cand = malloc(((size_t)nregs + 1) * sizeof(int));
    if (!cand) return MLXC_ERR_NOMEM;
    for (int r = 0; r < nregs; r++) cand[r] = -1;
    for (int i = 0; i < ninstr; i++) {
        const mlxc_fused_instr *in = &code[i];
        int ok = in->kind == MLXC_FK_BINARY && in->dst >= ninputs && in->dst < nregs &&
                 remat_reader(in, in->dtype, reg_level);
        for (int k = 0; k < 2 && ok; k++)
            ok = in->src[k] >= 0 && in->src[k] < nregs &&
                 (in->src[k] < ninputs || reg_level[in->src[k]] != MLXC_FL_FULL);
        for (int k = 0; k < noutputs && ok; k++) ok = out_reg[k] != in->dst;
        if (ok) cand[in->dst] = i;
    }
    /* copies: one per (later chaining reader, candidate it reads) */
    int extra = 0;
    char *seen = calloc((size_t)nregs + 1, 1);
    if (!seen) { free(cand); return MLXC_ERR_NOMEM; }
    for (int j = 0; j < ninstr; j++)
        for (int k = 0; k < nsrc(code[j].kind); k++)
            extra += remat_here(code, j, k, nregs, cand, seen, reg_level);
    if (!extra) {
        free(seen);
        free(cand);
        return rows_run(ninstr, code, nregs, reg_dtype, reg_level, ninputs, in_data, in_strides,
                        noutputs, out_data, out_reg, out_level, ndim, shape, a0);
    }
    mlxc_fused_instr *c2 = malloc(((size_t)ninstr + extra) * sizeof(*c2));
    int *rd = malloc(2 * ((size_t)nregs + extra) * sizeof(int));
    if (!c2 || !rd) {
        free(c2); free(rd); free(seen); free(cand);
        return MLXC_ERR_NOMEM;
    }
    int *rl = rd + nregs + extra, n2 = 0, nr2 = nregs;
    memcpy(rd, reg_dtype, (size_t)nregs * sizeof(int));
    memcpy(rl, reg_level, (size_t)nregs * sizeof(int));
    memset(seen, 0, (size_t)nregs);
    for (int j = 0; j < ninstr; j++) {
        mlxc_fused_instr in = code[j];
        for (int k = 0; k < nsrc(in.kind); k++) {
            int d = code[j].src[k];
            if (remat_here(code, j, k, nregs, cand, seen, reg_level)) {
                mlxc_fused_instr cp = code[cand[d]];
                cp.dst = nr2;
                rd[nr2] = reg_dtype[d];
                rl[nr2] = reg_level[d];
                c2[n2++] = cp;
                for (int kk = k; kk < nsrc(in.kind); kk++)   /* d * d: both operands */
                    if (code[j].src[kk] == d) in.src[kk] = nr2;
                nr2++;
            }
        }
        c2[n2++] = in;
    }
    int st = rows_run(n2, c2, nr2, rd, rl, ninputs, in_data, in_strides, noutputs, out_data,
                      out_reg, out_level, ndim, shape, a0);
    free(c2); free(rd); free(seen); free(cand);
    return st;
}

static int rows_run(int ninstr, const mlxc_fused_instr *code, int nregs, const int *reg_dtype,
                    const int *reg_level, int ninputs, const void *const *in_data,
                    const int64_t *const *in_strides, int noutputs, void *const *out_data,
                    const int *out_reg, const int *out_level, int ndim, const int64_t *shape,
                    int a0)
{
    if (ndim < 1 || ndim > MLXC_MAXD || a0 < 0 || a0 >= ndim || ninputs > nregs ||
        ninstr + ninputs > nregs)
        return MLXC_ERR_UNSUPPORTED;
    int64_t nrows = 1, L = 1;
    for (int d = 0; d < ndim; d++) {
        if (d < a0) nrows *= shape[d];
        else L *= shape[d];
    }
    if (nrows == 0 || L == 0) return MLXC_ERR_UNSUPPORTED;   /* the caller reduces empties */
    if (L > MLXC_FUSED_ROW_MAX) return MLXC_ERR_UNSUPPORTED;
    size_t nr = (size_t)nregs;
    int *ints = malloc((4 * nr + 1) * sizeof(int));
    mlxc_rowop *ops = malloc(((size_t)ninstr + 1) * sizeof(mlxc_rowop));
    if (!ints || !ops) {
        free(ints);
        free(ops);
        return MLXC_ERR_NOMEM;
    }
    int *slot = ints, *out_of = ints + nr, *kind = ints + 2 * nr, *last = ints + 3 * nr;
    int st = MLXC_OK;
    for (int i = 0; i < ninstr && st == MLXC_OK; i++)
        if (code[i].kind != MLXC_FK_REDUCE)
            st = resolve(&code[i], reg_dtype[code[i].dst], &ops[i]);
    for (int r = 0; r < nregs; r++) {
        slot[r] = -1;
        out_of[r] = -1;
        last[r] = -1;
    }
    /* outputs written in place: a register of the output's level, FULL or ROW (FULL
     * ones are streamed out of scratch instead when the outputs are large) */
    int64_t full_bytes = 0;
    for (int k = 0; k < noutputs; k++)
        if (out_level[k] == MLXC_FL_FULL)
            full_bytes += nrows * L * (int64_t)mlxc_itemsize(reg_dtype[out_reg[k]]);
    int isa = mlxc_isa_pick(mlxc_levels_unary);
    int stream = use_stream(full_bytes, isa);
    for (int k = 0; k < noutputs; k++) {
        int r = out_reg[k];
        if (r >= ninputs && out_of[r] < 0 && out_level[k] == reg_level[r] &&
            (reg_level[r] == MLXC_FL_ROW || (reg_level[r] == MLXC_FL_FULL && !stream)))
            out_of[r] = k;
    }
    int nslots = 0;
    for (int k = 0; k < ninputs; k++) {
        int lv = reg_level[k];
        int c = lv == MLXC_FL_SCALAR ? 1
              : lv == MLXC_FL_ROW ? fr_contig(in_strides[k], shape, 0, a0)
              : lv == MLXC_FL_COL ? fr_contig(in_strides[k], shape, a0, ndim)
              : fr_contig(in_strides[k], shape, 0, ndim);
        kind[k] = c ? IN_CONTIG : IN_GATHER;
        if (!c) slot[k] = nslots++;
    }
    /* a scratch slot for every other register, free again after its last read */
    for (int i = 0; i < ninstr; i++)
        for (int k = 0; k < nsrc(code[i].kind); k++) last[code[i].src[k]] = i;
    for (int k = 0; k < noutputs; k++) last[out_reg[k]] = ninstr;
    /* chains: of FULL registers only (the ROW work is a few values per row) */
    int *chain = malloc(3 * (size_t)ninstr * sizeof(int) + (nr > (size_t)noutputs ? nr : (size_t)noutputs));
    if (!chain) st = MLXC_ERR_NOMEM;
    if (st == MLXC_OK) {
        char *flag = (char *)(chain + 3 * ninstr);
        for (int r = 0; r < nregs; r++) flag[r] = reg_level[r] == MLXC_FL_FULL;
        find_chains(ninstr, code, last, flag, L <= MLXC_SUM_LEAF, chain);
        for (int k = 0; k < noutputs; k++)
            flag[k] = out_level[k] == MLXC_FL_FULL && reg_level[out_reg[k]] == MLXC_FL_FULL;
        stream_chains(ninstr, code, chain, noutputs, out_reg, flag);
        for (int r = 0; r < nregs; r++) flag[r] = out_of[r] < 0;      /* needs a slot */
        nslots = assign_slots(ninstr, code, chain, last, flag, nregs, slot, nslots);
        if (nslots < 0) st = MLXC_ERR_NOMEM;
    }
    if (st == MLXC_OK) {
        int64_t R = L >= ROW_TILE ? 1 : ROW_TILE / L;
        if (R > nrows) R = nrows;
        int failed = 0;
        fr_job J = {ninstr, nregs, ninputs, noutputs, ndim, a0, nslots, code, ops, reg_dtype,
                    reg_level, kind, slot, out_reg, out_level, out_of,
                    (const char *const *)in_data, in_strides, (char *const *)out_data, shape,
                    nrows, L, R, (nrows + R - 1) / R, (size_t)(R * L * 8 + 63) & ~(size_t)63,
                    chain, isa, stream, &failed};
        size_t need = ((nr * sizeof(const char *) + 63) & ~(size_t)63) + (size_t)nslots * J.slot_bytes;
        if (!scratch(need)) {
            st = MLXC_ERR_NOMEM;
        } else {
            int64_t ntasks = (J.ntiles + TASK_TILES - 1) / TASK_TILES;
            if (nrows * L < PAR_MIN || ntasks == 1)
                fr_tiles(&J, 0, J.ntiles);
            else
                mlxc_parallel_for(ntasks, mlxc_num_threads(), fr_task, &J);
            if (failed) st = failed;
        }
    }
    free(chain);
    free(ints);
    free(ops);
    return st;
}
