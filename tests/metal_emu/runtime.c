/* Fiber runtime of the emulated Metal device: runs a compiled kernel over a grid with Metal's
 * execution model. Each threadgroup's threads are cooperative fibers that run until a barrier or
 * a SIMD collective; the scheduler resumes them phase by phase in a chosen lane order and checks
 * the rules a GPU does not (barrier divergence, early returns, inactive lanes, limits).
 * Kernels without collectives run threads as plain calls (no switch per thread). */
#define _GNU_SOURCE
#include "emu_rt.h"
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

enum { EMU_RUNNABLE, EMU_BARRIER, EMU_SIMD, EMU_DONE, EMU_YIELD };
enum { ORDER_FORWARD, ORDER_REVERSE, ORDER_SHUFFLE };

emu_thread *emu_cur;
emu_group emu_g;

/* ------------------------------------------------------------------ context switch -- */
#if defined(__x86_64__) && !defined(METAL_EMU_UCONTEXT)
/* emu_switch(save, to): save callee-saved registers on this stack, store its pointer in *save,
 * continue on the stack `to` (made by emu_switch or by fiber_prepare). MXCSR and the x87
 * control word are not switched: no kernel changes them. */
void emu_switch(void **save, void *to);
__asm__(
    ".text\n.globl emu_switch\n.type emu_switch,@function\nemu_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n  movq %rsi, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n  ret\n"
    ".size emu_switch,.-emu_switch\n");
#define EMU_FAST_SWITCH 1
static void *fiber_prepare(void *stack_top, void (*fn)(void)) {
    uint64_t *sp = (uint64_t *)((uintptr_t)stack_top & ~(uintptr_t)15);
    *--sp = 0;                     /* fake return address of fn: entered as if called */
    *--sp = (uint64_t)(uintptr_t)fn;
    for (int i = 0; i < 6; i++) *--sp = 0;  /* rbp rbx r12..r15 */
    return sp;
}
#define SWITCH(save, to) emu_switch((save), (to))
#else
/* Portable fallback: ucontext (about 15x slower per switch; fine for correctness). */
typedef struct { ucontext_t uc; } emu_uctx;
static void *fiber_prepare_uc(emu_uctx *c, void *stack_lo, size_t size, void (*fn)(void)) {
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = stack_lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, fn, 0);
    return c;
}
static void uc_switch(void **save, void *to) {
    /* *save already points at the caller's emu_uctx */
    swapcontext(&((emu_uctx *)*save)->uc, &((emu_uctx *)to)->uc);
}
#define SWITCH(save, to) uc_switch((save), (to))
#endif

/* ------------------------------------------------------------------ state -- */
#define STACK_SIZE (256u << 10)
#define GUARD (4096u)
static unsigned char *stacks;          /* fiber stacks: the threads', the driver's, a scheduler's */
static emu_thread threads[EMU_MAX_THREADS];
static void *main_sp, *driver_sp;      /* the caller of emu_dispatch, and the driver fiber */
#ifndef EMU_FAST_SWITCH
static emu_uctx thread_uc[EMU_MAX_THREADS], driver_uc;
#endif
static unsigned char arena[EMU_TG_LIMIT + 64] __attribute__((aligned(64)));
static unsigned char simd_slots[EMU_MAX_THREADS / EMU_SIMD_WIDTH][2][EMU_SIMD_WIDTH][EMU_SLOT]
    __attribute__((aligned(64)));
static uint32_t simd_gen[EMU_MAX_THREADS / EMU_SIMD_WIDTH];
static uint32_t simd_mask[EMU_MAX_THREADS / EMU_SIMD_WIDTH];
/* bookkeeping of the group being run, so that a phase's end costs O(simdgroups), not O(n) */
static uint32_t n_barrier, n_simd, n_done, n_yield;
static int k_atomic_yield;             /* emu_set_atomic_yield: atomics end the thread's phase */
static uint32_t simd_wait[EMU_MAX_THREADS / EMU_SIMD_WIDTH], simd_live[EMU_MAX_THREADS / EMU_SIMD_WIDTH];
static int bar_line, bar_mismatch;
static const char *bar_file;
static char errbuf[2048];
static int failed;

/* the dispatch being run */
static void (*k_entry)(void);
static int k_order;
static uint64_t k_seed;
static uint32_t k_tg[3], k_ngroups[3], k_gridthreads[3];
static uint64_t phase_count;

const char *emu_last_error(void) { return errbuf; }

__attribute__((unused)) static unsigned char *stack_top(int i) {
    return stacks + (size_t)(i + 1) * (STACK_SIZE + GUARD);
}
__attribute__((unused)) static unsigned char *stack_lo(int i) { return stacks + (size_t)i * (STACK_SIZE + GUARD) + GUARD; }

static int ensure_stacks(void) {
    if (stacks) return 0;
    size_t total = (size_t)(EMU_MAX_THREADS + 2) * (STACK_SIZE + GUARD);
    void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) return -1;
    stacks = p;
    for (int i = 0; i < EMU_MAX_THREADS + 2; i++)  /* a guard page under each stack: overflow faults */
        mprotect(stacks + (size_t)i * (STACK_SIZE + GUARD), GUARD, PROT_NONE);
    return 0;
}

static void thread_desc(char *out, size_t n, const emu_thread *t) {
    snprintf(out, n, "thread (%u,%u,%u) of threadgroup (%u,%u,%u)", t->tpitg[0], t->tpitg[1],
             t->tpitg[2], emu_g.tgpig[0], emu_g.tgpig[1], emu_g.tgpig[2]);
}

/* Leave the dispatch: back to emu_dispatch's caller, never to resume this fiber. */
__attribute__((noreturn)) static void bail(void) {
    failed = 1;
    void *dummy;
#ifndef EMU_FAST_SWITCH
    static emu_uctx dead;
    dummy = &dead;
#endif
    SWITCH(&dummy, main_sp);
    abort();
}

void emu_fail(const char *file, int line, const char *fmt, ...) {
    char msg[1024], who[128] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (emu_cur) thread_desc(who, sizeof who, emu_cur);
    if (file && who[0])
        snprintf(errbuf, sizeof errbuf, "%s:%d: %s (%s)", file, line, msg, who);
    else if (file)
        snprintf(errbuf, sizeof errbuf, "%s:%d: %s", file, line, msg);
    else
        snprintf(errbuf, sizeof errbuf, "%s", msg);
    bail();
}

/* ------------------------------------------------------------------ threadgroup memory -- */
void *emu_tg_alloc(uint32_t size, uint32_t align, int line, const char *file) {
    emu_thread *t = emu_cur;
    uint32_t off = (t->tg_cursor + align - 1) & ~(align - 1);
    uint64_t end = (uint64_t)off + size;
    if (end > EMU_TG_LIMIT)
        emu_fail(file, line,
                 "threadgroup memory exceeds 32 KiB: this declaration of %u bytes ends at byte %llu "
                 "(%u bytes of [[threadgroup(n)]] buffers before it)",
                 size, (unsigned long long)end, emu_g.tg_dyn_end);
    t->tg_cursor = (uint32_t)end;
    if (end > emu_g.tg_high) {
        /* first touch of these bytes in this group: poison them (NaN for floats) */
        memset(emu_g.arena + emu_g.tg_high, 0xFF, end - emu_g.tg_high);
        emu_g.tg_high = (uint32_t)end;
    }
    return emu_g.arena + off;
}

/* ------------------------------------------------------------------ collectives -- */
static void adopt(void);
/* a collective in a thread running directly: adopt it first (then it waits as a fiber) */
static inline void ensure_fiber(void) {
    if (!emu_g.fibered) adopt();
}

static void yield_to_driver(emu_thread *t) {
    SWITCH(&t->sp, driver_sp);
}

void emu_barrier(int line, const char *file) {
    emu_thread *t = emu_cur;
    ensure_fiber();
    t = emu_cur;
    t->state = EMU_BARRIER;
    t->line = line;
    t->file = file;
    if (n_barrier++ == 0) { bar_line = line; bar_file = file; }
    else if (line != bar_line || file != bar_file) bar_mismatch = 1;
    yield_to_driver(t);
}

/* Before every atomic operation, when enabled: the thread stops here until the next phase, so
 * the other threads of its group (in the phase's lane order) run between two atomics of one
 * thread: a read-modify-write split into a load and a store loses updates, as on hardware. */
void emu_atomic_point(void) {
    if (!k_atomic_yield) return;
    ensure_fiber();
    emu_thread *t = emu_cur;
    t->state = EMU_YIELD;
    n_yield++;
    yield_to_driver(t);
}

void emu_set_atomic_yield(int on) { k_atomic_yield = on; }

void *emu_simd_slot(void) {
    ensure_fiber();
    emu_thread *t = emu_cur;
    return simd_slots[t->simd][simd_gen[t->simd] & 1][t->lane];
}

const unsigned char *emu_simd_sync(int line, const char *file, uint32_t *active) {
    emu_thread *t = emu_cur;
    ensure_fiber();
    t = emu_cur;
    const unsigned char *slots = &simd_slots[t->simd][simd_gen[t->simd] & 1][0][0];
    t->state = EMU_SIMD;
    t->line = line;
    t->file = file;
    n_simd++;
    simd_wait[t->simd]++;
    yield_to_driver(t);
    *active = simd_mask[t->simd];
    return slots;
}

/* ------------------------------------------------------------------ scheduling -- */
static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* order[0..n) := 0..n-1 forward, reversed, or shuffled from (seed, salt) */
static void make_order(uint32_t *order, uint32_t n, uint64_t salt) {
    for (uint32_t i = 0; i < n; i++) order[i] = k_order == ORDER_REVERSE ? n - 1 - i : i;
    if (k_order == ORDER_SHUFFLE) {
        uint64_t s = k_seed * 0x2545F4914F6CDD1Dull ^ salt;
        for (uint32_t i = n; i > 1; i--) {
            uint32_t j = (uint32_t)(splitmix(&s) % i);
            uint32_t tmp = order[i - 1]; order[i - 1] = order[j]; order[j] = tmp;
        }
    }
}

static void set_ids(emu_thread *t, uint32_t tid) {
    uint32_t ax = emu_g.tptg[0], ay = emu_g.tptg[1];
    t->tid = tid;
    t->tpitg[0] = tid % ax;
    t->tpitg[1] = (tid / ax) % ay;
    t->tpitg[2] = tid / (ax * ay);
    for (int d = 0; d < 3; d++) t->tpig[d] = emu_g.tgpig[d] * k_tg[d] + t->tpitg[d];
    t->lane = tid % EMU_SIMD_WIDTH;
    t->simd = tid / EMU_SIMD_WIDTH;
    t->tg_cursor = emu_g.tg_dyn_end;
    t->state = EMU_RUNNABLE;
}

static void fiber_main(void) {
    emu_thread *t = emu_cur;
    k_entry();
    t->state = EMU_DONE;
    n_done++;
    simd_live[t->simd]--;
    SWITCH(&t->sp, driver_sp);
    abort();
}

static void start_fiber(uint32_t i) {
#ifdef EMU_FAST_SWITCH
    threads[i].sp = fiber_prepare(stack_top((int)i), fiber_main);
#else
    threads[i].sp = fiber_prepare_uc(&thread_uc[i], stack_lo((int)i), STACK_SIZE, fiber_main);
#endif
}

/* The lanes of simdgroup s that are alive all wait at one collective: let them through. */
static int resolve_simd(void) {
    int progress = 0;
    for (uint32_t s = 0; s < emu_g.nsimd; s++) {
        if (!simd_wait[s] || simd_wait[s] != simd_live[s]) continue;
        uint32_t lo = s * EMU_SIMD_WIDTH, hi = lo + EMU_SIMD_WIDTH;
        if (hi > emu_g.nthreads) hi = emu_g.nthreads;
        int line = -1, same = 1;
        const char *file = NULL;
        uint32_t mask = 0;
        for (uint32_t i = lo; i < hi; i++) {
            emu_thread *t = &threads[i];
            if (t->state == EMU_DONE) continue;
            mask |= 1u << (i - lo);
            if (line < 0) { line = t->line; file = t->file; }
            else if (t->line != line || t->file != file) same = 0;
        }
        if (!same) continue;  /* split between call sites: resolve_barrier reports it */
        simd_mask[s] = mask;
        simd_gen[s]++;
        for (uint32_t i = lo; i < hi; i++)
            if (threads[i].state == EMU_SIMD) threads[i].state = EMU_RUNNABLE;
        n_simd -= simd_wait[s];
        simd_wait[s] = 0;
        progress = 1;
    }
    return progress;
}

/* Nothing can run and no simdgroup can proceed: either a barrier releases, or it is an error. */
static void resolve_barrier(void) {
    emu_thread *first_b = NULL, *first_s = NULL, *done = NULL, *other_b = NULL;
    uint32_t nb = 0;
    char a[128], b[128];
    for (uint32_t i = 0; i < emu_g.nthreads; i++) {
        emu_thread *t = &threads[i];
        if (t->state == EMU_BARRIER) {
            nb++;
            if (!first_b) first_b = t;
            else if (!other_b && (t->line != first_b->line || t->file != first_b->file)) other_b = t;
        } else if (t->state == EMU_SIMD) {
            if (!first_s) first_s = t;
        } else if (t->state == EMU_DONE) {
            if (!done) done = t;
        }
    }
    emu_cur = NULL;
    if (first_s) {
        /* a simdgroup whose lanes are split between call sites */
        uint32_t s = first_s->simd, lo = s * EMU_SIMD_WIDTH;
        emu_thread *odd = NULL;
        for (uint32_t i = lo; i < lo + EMU_SIMD_WIDTH && i < emu_g.nthreads; i++) {
            emu_thread *t = &threads[i];
            if (t->state != EMU_DONE &&
                (t->state != EMU_SIMD || t->line != first_s->line || t->file != first_s->file)) {
                odd = t;
                break;
            }
        }
        thread_desc(a, sizeof a, first_s);
        if (odd) {
            thread_desc(b, sizeof b, odd);
            emu_fail(first_s->file, first_s->line,
                     "SIMD collective in divergent control flow: simdgroup %u is split — %s waits "
                     "here while %s waits at %s %s:%d",
                     s, a, b, odd->state == EMU_BARRIER ? "a threadgroup_barrier" : "a SIMD collective",
                     odd->file, odd->line);
        }
        emu_fail(first_s->file, first_s->line, "SIMD collective cannot proceed (%s)", a);
    }
    if (!first_b) return;  /* everyone is done */
    if (other_b) {
        thread_desc(a, sizeof a, first_b);
        thread_desc(b, sizeof b, other_b);
        emu_fail(first_b->file, first_b->line,
                 "threadgroup_barrier divergence: %s waits here, %s waits at a different barrier "
                 "%s:%d", a, b, other_b->file, other_b->line);
    }
    if (done) {
        thread_desc(a, sizeof a, done);
        emu_fail(first_b->file, first_b->line,
                 "threadgroup_barrier reached by %u of %u threads: %s returned before it (a "
                 "return before a barrier, or a barrier in divergent control flow)",
                 nb, emu_g.nthreads, a);
    }
    for (uint32_t i = 0; i < emu_g.nthreads; i++) threads[i].state = EMU_RUNNABLE;
}

static uint32_t order_buf[EMU_MAX_THREADS];

/* Phases of the group until every thread has returned. The first phase may be in progress
 * already (a thread adopted from the direct path): `first_from` is where it resumes in the
 * current order. */
static void fibered_phases(uint32_t first_from) {
    uint32_t n = emu_g.nthreads;
    for (int phase = 0;; phase++) {
        /* one phase: every runnable thread runs until it waits or returns, in lane order */
        uint32_t from = phase == 0 ? first_from : 0;
        if (k_order != ORDER_FORWARD && !(phase == 0 && first_from))
            make_order(order_buf, n, ++phase_count);
        for (uint32_t k = from; k < n; k++) {
            emu_thread *t = &threads[k_order == ORDER_FORWARD ? k : order_buf[k]];
            if (t->state != EMU_RUNNABLE) continue;
            emu_cur = t;
            SWITCH(&driver_sp, t->sp);
        }
        if (n_yield) {  /* threads stopped before an atomic run on in the next phase */
            for (uint32_t i = 0; i < n; i++)
                if (threads[i].state == EMU_YIELD) threads[i].state = EMU_RUNNABLE;
            n_yield = 0;
            if (n_simd) resolve_simd();
            continue;
        }
        if (n_simd && resolve_simd()) continue;
        if (n_done == n) break;
        if (!n_simd && !n_done && n_barrier == n && !bar_mismatch) {
            for (uint32_t i = 0; i < n; i++) threads[i].state = EMU_RUNNABLE;
            n_barrier = 0;
            continue;
        }
        resolve_barrier();  /* reports what went wrong */
        n_barrier = 0;
        bar_mismatch = 0;
    }
}

static void reset_counters(void) {
    uint32_t n = emu_g.nthreads;
    n_barrier = n_simd = n_done = n_yield = 0;
    bar_mismatch = 0;
    for (uint32_t s = 0; s < emu_g.nsimd; s++) {
        simd_gen[s] = 0;
        simd_wait[s] = 0;
        simd_live[s] = s + 1 < emu_g.nsimd ? EMU_SIMD_WIDTH : n - s * EMU_SIMD_WIDTH;
    }
}

static void run_group_fibered(void) {
    uint32_t n = emu_g.nthreads;
    for (uint32_t i = 0; i < n; i++) {
        set_ids(&threads[i], i);
        start_fiber(i);
    }
    reset_counters();
    fibered_phases(0);
}

/* The direct path runs threads as plain calls on the driver's stack, in lane order. Until a
 * thread reaches a barrier or a collective, that is exactly what the fibered schedule does
 * (each thread runs to its end in phase 0). When one does, it is adopted: it becomes that
 * thread's fiber (its stack is the driver's), the threads before it in the order are done,
 * the rest get fresh fibers, and a new scheduler fiber continues the dispatch. */
static emu_thread direct_thread;
static uint32_t direct_pos;      /* position in the lane order of the thread running directly */
static uint64_t group_pos;       /* position in the group order of the group being run */
static void *sched_stack_sp;
#ifndef EMU_FAST_SWITCH
static emu_uctx sched_uc;
#endif
static void continue_dispatch(uint64_t from);

static void sched_main(void) {
    fibered_phases(direct_pos + 1);
    continue_dispatch(group_pos + 1);
}

static void adopt(void) {
    uint32_t n = emu_g.nthreads, me = direct_thread.tid;
    emu_g.fibered = 1;
    reset_counters();
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = k_order == ORDER_FORWARD ? k : order_buf[k];
        if (k < direct_pos) {  /* ran to its end already */
            set_ids(&threads[i], i);
            threads[i].state = EMU_DONE;
            n_done++;
            simd_live[threads[i].simd]--;
        } else if (i != me) {
            set_ids(&threads[i], i);
            start_fiber(i);
        }
    }
    threads[me] = direct_thread;
#ifdef EMU_FAST_SWITCH
    driver_sp = fiber_prepare(stack_top(EMU_MAX_THREADS + 1), sched_main);
#else
    threads[me].sp = &thread_uc[me];
    driver_sp = fiber_prepare_uc(&sched_uc, stack_lo(EMU_MAX_THREADS + 1), STACK_SIZE, sched_main);
#endif
    (void)sched_stack_sp;
    emu_cur = &threads[me];
}

/* the adopted thread returned: into run_group_direct, on the old driver stack */
__attribute__((noreturn)) static void adopted_thread_done(void) {
    emu_thread *t = emu_cur;
    t->state = EMU_DONE;
    n_done++;
    simd_live[t->simd]--;
    SWITCH(&t->sp, driver_sp);
    abort();
}

static void run_group_direct(void) {
    uint32_t n = emu_g.nthreads;
    emu_thread *t = &direct_thread;
    if (k_order == ORDER_FORWARD) {
        /* ids step without divisions (this loop is the cost of a barrier-free kernel) */
        uint32_t ax = emu_g.tptg[0], ay = emu_g.tptg[1], az = emu_g.tptg[2], tid = 0;
        uint32_t bx = emu_g.tgpig[0] * k_tg[0], by = emu_g.tgpig[1] * k_tg[1],
                 bz = emu_g.tgpig[2] * k_tg[2];
        for (uint32_t z = 0; z < az; z++)
            for (uint32_t y = 0; y < ay; y++)
                for (uint32_t x = 0; x < ax; x++, tid++) {
                    t->tid = tid;
                    t->tpitg[0] = x; t->tpitg[1] = y; t->tpitg[2] = z;
                    t->tpig[0] = bx + x; t->tpig[1] = by + y; t->tpig[2] = bz + z;
                    t->lane = tid % EMU_SIMD_WIDTH;
                    t->simd = tid / EMU_SIMD_WIDTH;
                    t->tg_cursor = emu_g.tg_dyn_end;
                    t->state = EMU_RUNNABLE;
                    direct_pos = tid;
                    emu_cur = t;
                    k_entry();
                    if (emu_g.fibered) adopted_thread_done();
                }
        (void)n;
    } else {
        make_order(order_buf, n, ++phase_count);
        for (uint32_t k = 0; k < n; k++) {
            set_ids(t, order_buf[k]);
            direct_pos = k;
            emu_cur = t;
            k_entry();
            if (emu_g.fibered) adopted_thread_done();
        }
    }
}

static void run_group(uint64_t g) {
    uint64_t gx = k_ngroups[0], gy = k_ngroups[1];
    emu_g.tgpig[0] = (uint32_t)(g % gx);
    emu_g.tgpig[1] = (uint32_t)((g / gx) % gy);
    emu_g.tgpig[2] = (uint32_t)(g / (gx * gy));
    uint32_t n = 1;
    for (int d = 0; d < 3; d++) {
        uint32_t start = emu_g.tgpig[d] * k_tg[d];
        uint32_t left = k_gridthreads[d] - start;  /* non-uniform: the last group may be partial */
        emu_g.tptg[d] = left < k_tg[d] ? left : k_tg[d];
        n *= emu_g.tptg[d];
    }
    emu_g.nthreads = n;
    emu_g.nsimd = (n + EMU_SIMD_WIDTH - 1) / EMU_SIMD_WIDTH;
    /* poison the threadgroup memory used so far (0xFF bytes: NaN floats, -1 ints) */
    memset(emu_g.arena, 0xFF, emu_g.tg_high);
    if (emu_g.fibered) run_group_fibered();
    else run_group_direct();
}

static uint64_t k_total_groups, k_group_slots, k_ga, k_gc;

/* groups in order: position i of [0, k_group_slots) is group group_at(i), or none (>= total) */
static inline uint64_t group_at(uint64_t i) {
    if (k_order == ORDER_FORWARD) return i;
    if (k_order == ORDER_REVERSE) return k_total_groups - 1 - i;
    /* a seeded permutation without a table: an affine map mod a power of two, skipping values
     * out of range (cycle walking) */
    return (k_ga * i + k_gc) & (k_group_slots - 1);
}

static void continue_dispatch(uint64_t from) {
    for (uint64_t i = from; i < k_group_slots; i++) {
        uint64_t g = group_at(i);
        if (g >= k_total_groups) continue;
        group_pos = i;
        run_group(g);
    }
    emu_cur = NULL;
    void *dummy;
#ifndef EMU_FAST_SWITCH
    static emu_uctx done_uc;
    dummy = &done_uc;
#endif
    SWITCH(&dummy, main_sp);
    abort();
}

static void driver_main(void) {
    uint64_t n = k_total_groups;
    k_group_slots = n;
    if (k_order == ORDER_SHUFFLE) {
        uint64_t m = 1;
        while (m < n) m <<= 1;
        uint64_t s = k_seed ^ 0xA5A5A5A5ull;
        k_ga = (splitmix(&s) << 2) | 1;
        k_gc = splitmix(&s);
        k_group_slots = m;
    }
    continue_dispatch(0);
}

/* ------------------------------------------------------------------ faults -- */
/* A kernel's bad access (SIGSEGV/SIGBUS), integer division by zero (SIGFPE) or fiber stack
 * overflow becomes an error of the dispatch instead of killing the process. */
static sigjmp_buf fault_jb;
static volatile sig_atomic_t in_kernel;
static volatile int fault_sig;
static void *volatile fault_addr;
static volatile uintptr_t fault_pc;
static struct sigaction old_act[3];
static const int fault_sigs[3] = {SIGSEGV, SIGBUS, SIGFPE};
static unsigned char altstack_mem[64 << 10];

static void fault_handler(int sig, siginfo_t *si, void *ucv) {
    if (!in_kernel) {  /* not ours: let the previous handler have it */
        for (int i = 0; i < 3; i++)
            if (fault_sigs[i] == sig) sigaction(sig, &old_act[i], NULL);
        raise(sig);
        return;
    }
    in_kernel = 0;
    fault_sig = sig;
    fault_addr = si->si_addr;
#if defined(__x86_64__)
    fault_pc = (uintptr_t)((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    fault_pc = (uintptr_t)((ucontext_t *)ucv)->uc_mcontext.pc;
#else
    (void)ucv;
    fault_pc = 0;
#endif
    siglongjmp(fault_jb, 1);
}

static char fault_lib[4096];
static uintptr_t fault_off;
/* where the last fault happened: the shared object and the offset in it (for addr2line) */
const char *emu_fault_location(uint64_t *offset) {
    *offset = fault_off;
    return fault_lib[0] ? fault_lib : NULL;
}

static int last_was_fault;
/* the faulting address of the last dispatch, if it ended in a fault */
void *emu_fault_address(void) { return last_was_fault ? fault_addr : NULL; }

static void describe_fault(void) {
    char who[128] = "";
    if (emu_cur) thread_desc(who, sizeof who, emu_cur);
    Dl_info info;
    fault_lib[0] = 0;
    fault_off = 0;
    if (fault_pc && dladdr((void *)fault_pc, &info) && info.dli_fname) {
        snprintf(fault_lib, sizeof fault_lib, "%s", info.dli_fname);
        fault_off = fault_pc - (uintptr_t)info.dli_fbase;
    }
    const char *what = fault_sig == SIGFPE ? "arithmetic fault (integer division by zero?)"
                       : fault_sig == SIGBUS ? "bus error (misaligned or unmapped access)"
                                             : "invalid memory access";
    uintptr_t a = (uintptr_t)fault_addr, st = (uintptr_t)stacks;
    int overflow = st && a >= st && a < st + (size_t)(EMU_MAX_THREADS + 2) * (STACK_SIZE + GUARD) &&
                   (a - st) % (STACK_SIZE + GUARD) < GUARD;
    snprintf(errbuf, sizeof errbuf, "%s at address %p%s (%s)", what, fault_addr,
             overflow ? ": a fiber stack overflowed (a large local array?)" : "", who);
}

/* Run `entry` over the grid. mode_groups: grid counts threadgroups (dispatchThreadgroups), else
 * threads (dispatchThreads, partial last groups). Returns 0, or -1 with emu_last_error() set. */
int emu_dispatch(void (*entry)(void), int fibered, const uint32_t grid[3], const uint32_t tg[3],
                 int mode_groups, void *const buffers[EMU_MAX_BINDINGS],
                 const uint32_t tg_sizes[EMU_MAX_BINDINGS], int order, uint64_t seed,
                 int strict_shuffle) {
    errbuf[0] = 0;
    failed = 0;
    last_was_fault = 0;
    fault_lib[0] = 0;
    uint64_t nthreads_tg = (uint64_t)tg[0] * tg[1] * tg[2];
    if (tg[0] == 0 || tg[1] == 0 || tg[2] == 0) {
        snprintf(errbuf, sizeof errbuf, "threadgroup size (%u,%u,%u) has a zero dimension", tg[0],
                 tg[1], tg[2]);
        return -1;
    }
    if (nthreads_tg > EMU_MAX_THREADS) {
        snprintf(errbuf, sizeof errbuf,
                 "threadgroup size (%u,%u,%u) = %llu threads exceeds the limit of %d", tg[0], tg[1],
                 tg[2], (unsigned long long)nthreads_tg, EMU_MAX_THREADS);
        return -1;
    }
    uint32_t off = 0;
    for (int i = 0; i < EMU_MAX_BINDINGS; i++) {
        emu_g.tg_off[i] = off;
        if (tg_sizes[i]) {
            if (tg_sizes[i] % 16) {
                snprintf(errbuf, sizeof errbuf,
                         "threadgroup_memory[%d] = %u bytes is not a multiple of 16 (Metal's "
                         "setThreadgroupMemoryLength rule)", i, tg_sizes[i]);
                return -1;
            }
            off += tg_sizes[i];
        }
    }
    if (off > EMU_TG_LIMIT) {
        snprintf(errbuf, sizeof errbuf,
                 "threadgroup memory of %u bytes ([[threadgroup(n)]] buffers) exceeds 32 KiB", off);
        return -1;
    }
    if (ensure_stacks()) {
        snprintf(errbuf, sizeof errbuf, "cannot map fiber stacks");
        return -1;
    }
    uint64_t total = 1;
    for (int d = 0; d < 3; d++) {
        k_tg[d] = tg[d];
        if (mode_groups) {
            k_ngroups[d] = grid[d];
            k_gridthreads[d] = grid[d] * tg[d];
        } else {
            k_ngroups[d] = (grid[d] + tg[d] - 1) / tg[d];
            k_gridthreads[d] = grid[d];
        }
        emu_g.dtptg[d] = tg[d];
        emu_g.tgpg[d] = k_ngroups[d];
        emu_g.tpg[d] = k_gridthreads[d];
        total *= k_ngroups[d];
    }
    if (total == 0) return 0;
    memcpy(emu_g.buffers, buffers, sizeof emu_g.buffers);
    emu_g.arena = arena;
    emu_g.tg_dyn_end = off;
    emu_g.tg_high = off;
    emu_g.fibered = fibered;
    emu_g.strict_shuffle = strict_shuffle;
    k_entry = entry;
    k_order = order;
    k_seed = seed;
    k_total_groups = total;
    phase_count = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    stack_t ss = {.ss_sp = altstack_mem, .ss_size = sizeof altstack_mem, .ss_flags = 0}, old_ss;
    sigaltstack(&ss, &old_ss);
    for (int i = 0; i < 3; i++) sigaction(fault_sigs[i], &sa, &old_act[i]);
    if (sigsetjmp(fault_jb, 1) == 0) {
        in_kernel = 1;
#ifdef EMU_FAST_SWITCH
        driver_sp = fiber_prepare(stack_top(EMU_MAX_THREADS), driver_main);
        SWITCH(&main_sp, driver_sp);
#else
        static emu_uctx main_ctx;
        main_sp = &main_ctx;
        driver_sp = fiber_prepare_uc(&driver_uc, stack_lo(EMU_MAX_THREADS), STACK_SIZE, driver_main);
        SWITCH(&main_sp, driver_sp);
#endif
    } else {
        describe_fault();
        last_was_fault = 1;
        failed = 1;
    }
    in_kernel = 0;
    for (int i = 0; i < 3; i++) sigaction(fault_sigs[i], &old_act[i], NULL);
    sigaltstack(&old_ss, NULL);
    emu_cur = NULL;
    return failed ? -1 : 0;
}

/* Measure one fiber switch pair (for the report): n round trips driver <-> a fiber. */
static uint64_t bench_left;
static void bench_fiber(void) {
    for (;;) {
        emu_thread *t = &threads[0];
        SWITCH(&t->sp, driver_sp);
    }
}
void emu_bench_switch(uint64_t n) {
    if (ensure_stacks()) return;
#ifdef EMU_FAST_SWITCH
    threads[0].sp = fiber_prepare(stack_top(0), bench_fiber);
#else
    threads[0].sp = fiber_prepare_uc(&thread_uc[0], stack_lo(0), STACK_SIZE, bench_fiber);
    driver_sp = &driver_uc;
#endif
    for (bench_left = n; bench_left; bench_left--) SWITCH(&driver_sp, threads[0].sp);
}
