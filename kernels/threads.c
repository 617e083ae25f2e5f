/* Thread pool behind mlxc_parallel_for.  One job at a time: a caller that
 * finds the pool busy runs its tasks itself, so nested and concurrent calls
 * never wait on each other.  Tasks are handed out by an atomic counter; the
 * caller works too and then waits until every worker left the job. */
#define _GNU_SOURCE
#include <stdlib.h>
#include "mlxc_threads.h"

#define MAX_THREADS 256

static int default_threads(void);

static int configured;          /* 0: not read yet */

int mlxc_num_threads(void)
{
    int n = __atomic_load_n(&configured, __ATOMIC_RELAXED);
    if (n == 0) {
        n = default_threads();
        const char *s = getenv("MLXC_NUM_THREADS");
        if (s && *s) {
            char *end;
            long v = strtol(s, &end, 10);
            if (*end == 0 && v >= 1) n = v > MAX_THREADS ? MAX_THREADS : (int)v;
        }
        __atomic_store_n(&configured, n, __ATOMIC_RELAXED);
    }
    return n;
}

void mlxc_set_num_threads(int n)
{
    __atomic_store_n(&configured, n <= 0 ? 0 : n > MAX_THREADS ? MAX_THREADS : n,
                     __ATOMIC_RELAXED);
}

static void run_serial(int64_t n_tasks, mlxc_task_fn fn, void *ctx)
{
    for (int64_t t = 0; t < n_tasks; t++) fn(ctx, t, 0);
}

#if defined(_WIN32) || !(defined(__GNUC__) || defined(__clang__))
/* no pthreads here: everything runs on the caller */
static int default_threads(void) { return 1; }
void mlxc_parallel_for(int64_t n_tasks, int max_threads, mlxc_task_fn fn, void *ctx)
{
    (void)max_threads;
    run_serial(n_tasks, fn, ctx);
}
int mlxc_pool_workers(void) { return 0; }
#else
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

static int default_threads(void)
{
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n >= 1) return n > MAX_THREADS ? MAX_THREADS : n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static int busy;                 /* a job owns the pool (atomic) */
static int nworkers;             /* workers started; worker i has tid i + 1 */
static uint64_t generation;      /* bumped for every job (under mu; read atomically) */
static int active;               /* workers not yet finished with the job (atomic) */
/* the current job; written before generation is bumped under mu */
static mlxc_task_fn job_fn;
static void *job_ctx;
static int64_t job_n, job_next;  /* job_next: atomic task counter */
static int job_threads;
static uint64_t start_gen[MAX_THREADS];  /* generation when worker tid was started */

static void work(int tid)
{
    int64_t t;
    while ((t = __atomic_fetch_add(&job_next, 1, __ATOMIC_RELAXED)) < job_n)
        job_fn(job_ctx, t, tid);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spin this many rounds before sleeping on a condition variable: waking a
 * sleeping thread costs tens of microseconds, a whole small GEMM's worth. */
#define SPIN 2000

static void *worker(void *arg)
{
    int tid = (int)(intptr_t)arg;
    pthread_mutex_lock(&mu);
    /* not `generation`: the job that started this worker may already be posted */
    uint64_t seen = start_gen[tid];
    pthread_mutex_unlock(&mu);
    for (;;) {
        for (int i = 0; i < SPIN && __atomic_load_n(&generation, __ATOMIC_ACQUIRE) == seen; i++)
            cpu_relax();
        pthread_mutex_lock(&mu);
        while (generation == seen) pthread_cond_wait(&wake, &mu);
        seen = generation;
        int part = tid < job_threads;
        pthread_mutex_unlock(&mu);
        if (part) {
            work(tid);
            if (__atomic_sub_fetch(&active, 1, __ATOMIC_ACQ_REL) == 0) {
                pthread_mutex_lock(&mu);
                pthread_cond_signal(&done);
                pthread_mutex_unlock(&mu);
            }
        }
    }
    return NULL;
}

/* start workers up to tid n-1; returns how many threads (caller included) exist */
static int ensure_workers(int n)
{
    while (nworkers + 1 < n) {
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        start_gen[nworkers + 1] = generation;
        int err = pthread_create(&th, &at, worker, (void *)(intptr_t)(nworkers + 1));
        pthread_attr_destroy(&at);
        if (err) break;
        nworkers++;
    }
    return nworkers + 1;
}

int mlxc_pool_workers(void)
{
    return __atomic_load_n(&nworkers, __ATOMIC_RELAXED);
}

/* a forked child has no workers: start from scratch */
static void after_fork_child(void)
{
    pthread_mutex_init(&mu, NULL);
    pthread_cond_init(&wake, NULL);
    pthread_cond_init(&done, NULL);
    nworkers = 0;
    busy = 0;
    active = 0;
}
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static void install_fork_handler(void) { pthread_atfork(NULL, NULL, after_fork_child); }

void mlxc_parallel_for(int64_t n_tasks, int max_threads, mlxc_task_fn fn, void *ctx)
{
    if (n_tasks <= 0) return;
    int nt = mlxc_num_threads();
    if (nt > max_threads) nt = max_threads;
    if (nt > n_tasks) nt = (int)n_tasks;
    if (nt <= 1 || __atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {
        run_serial(n_tasks, fn, ctx);
        return;
    }
    pthread_once(&fork_once, install_fork_handler);
    pthread_mutex_lock(&mu);
    int have = ensure_workers(nt);
    if (nt > have) nt = have;
    job_fn = fn;
    job_ctx = ctx;
    job_n = n_tasks;
    job_next = 0;
    job_threads = nt;
    __atomic_store_n(&active, nt - 1, __ATOMIC_RELAXED);
    __atomic_store_n(&generation, generation + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&mu);
    work(0);
    for (int i = 0; i < SPIN && __atomic_load_n(&active, __ATOMIC_ACQUIRE) > 0; i++)
        cpu_relax();
    pthread_mutex_lock(&mu);
    while (__atomic_load_n(&active, __ATOMIC_ACQUIRE) > 0) pthread_cond_wait(&done, &mu);
    pthread_mutex_unlock(&mu);
    __atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}
#endif
