/* The interface between the fiber runtime (runtime.c) and compiled kernels (the
 * stand-in <metal_stdlib> and the thunks the pre-pass writes). Plain C, shared by both. */
#ifndef METAL_EMU_RT_H
#define METAL_EMU_RT_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#define EMU_MAX_THREADS 1024   /* Metal's largest threadgroup */
#define EMU_TG_LIMIT 32768     /* bytes of threadgroup memory per group */
#define EMU_MAX_BINDINGS 32    /* [[buffer(n)]] / [[threadgroup(n)]] indices */
#define EMU_SIMD_WIDTH 32
#define EMU_SLOT 64            /* bytes a lane may contribute to one SIMD collective */

/* One emulated GPU thread: its ids, where it waits, and its fiber. */
typedef struct emu_thread {
    uint32_t tpig[3];      /* thread_position_in_grid */
    uint32_t tpitg[3];     /* thread_position_in_threadgroup */
    uint32_t tid;          /* thread_index_in_threadgroup */
    uint32_t lane, simd;   /* thread_index_in_simdgroup, simdgroup_index_in_threadgroup */
    uint32_t tg_cursor;    /* next free byte of the threadgroup arena for its declarations */
    int state;             /* EMU_RUNNABLE / EMU_BARRIER / EMU_SIMD / EMU_DONE / EMU_YIELD */
    int line;              /* .metal line of the barrier or collective it waits at */
    const char *file;
    void *sp;              /* saved stack pointer (x86-64 switch) or ucontext */
} emu_thread;

/* The group being run and the dispatch it belongs to. */
typedef struct emu_group {
    uint32_t tgpig[3];     /* threadgroup_position_in_grid */
    uint32_t tptg[3];      /* threads_per_threadgroup (actual: smaller in a partial last group) */
    uint32_t dtptg[3];     /* dispatch_threads_per_threadgroup (as requested) */
    uint32_t tgpg[3];      /* threadgroups_per_grid */
    uint32_t tpg[3];       /* threads_per_grid */
    uint32_t nthreads, nsimd;
    uint32_t tg_dyn_end;   /* bytes of [[threadgroup(n)]] memory at the arena's start */
    uint32_t tg_high;      /* largest arena end any thread reached (for poisoning) */
    unsigned char *arena;
    uint32_t tg_off[EMU_MAX_BINDINGS];
    void *buffers[EMU_MAX_BINDINGS];
    int fibered;           /* threads run as fibers (collectives allowed) */
    int strict_shuffle;    /* reading an inactive lane is an error (else poison) */
} emu_group;

extern emu_thread *emu_cur;
extern emu_group emu_g;

/* Abort the dispatch with a message naming the .metal line; never returns. */
__attribute__((noreturn, format(printf, 3, 4)))
void emu_fail(const char *file, int line, const char *fmt, ...);
/* A threadgroup declaration of `size` bytes: the same address for every thread of the group. */
void *emu_tg_alloc(uint32_t size, uint32_t align, int line, const char *file);
void emu_barrier(int line, const char *file);
/* SIMD collectives: write your value to emu_simd_slot(), then emu_simd_sync() waits until every
 * live lane of the simdgroup arrives at the same call site and returns the 32 slots (EMU_SLOT
 * bytes each) with the mask of the lanes that took part. */
void *emu_simd_slot(void);
const unsigned char *emu_simd_sync(int line, const char *file, uint32_t *active);
/* Called before every atomic operation: with emu_set_atomic_yield(1) the thread yields there, so
 * other threads interleave between its atomics (off by default: atomics cost nothing extra). */
void emu_atomic_point(void);

#ifdef __cplusplus
}
#endif
#endif
