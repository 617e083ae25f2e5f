/* A small thread pool for the kernels (internal to kernels/).
 * Size: MLXC_NUM_THREADS, default the CPUs this process may run on; the
 * calling thread is one of them.  Workers start lazily on first use. */
#ifndef MLXC_THREADS_H
#define MLXC_THREADS_H

#include <stdint.h>

/* fn(ctx, task, tid) is called once for every task in [0, n_tasks); tid in
 * [0, max_threads) names the thread running it (for per-thread scratch), at
 * most one task per tid at a time.  Returns when all tasks are done.  Which
 * thread runs which task varies, so a task must write only its own outputs.
 * Runs serially on the caller when n_tasks or max_threads is 1, when the pool
 * has one thread, when it is busy with another caller's job (nested or
 * concurrent calls) or when workers cannot be started. */
typedef void (*mlxc_task_fn)(void *ctx, int64_t task, int tid);
void mlxc_parallel_for(int64_t n_tasks, int max_threads, mlxc_task_fn fn, void *ctx);

/* the number of threads a parallel_for may use (caller included), >= 1 */
int mlxc_num_threads(void);

/* Tests/benchmarks: set that number (n <= 0: back to MLXC_NUM_THREADS or the
 * default).  Not to be called while a parallel_for runs. */
void mlxc_set_num_threads(int n);

/* Tests: the worker threads the pool has started so far (the caller excluded).
 * The process has one pool, so this is the same whichever extension asks. */
int mlxc_pool_workers(void);

#endif
