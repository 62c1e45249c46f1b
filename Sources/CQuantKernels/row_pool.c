// The persistent helper pool and the fused row-split products (LazarusRowPool.h says what and why).
//
// Decode multiplies one activation row by ~200 small matrices a token; handing each to a thread pool cost
// more than the arithmetic (tens of microseconds a dispatch on this VM, against a few for a 576-wide matrix).
// Here a product is one job: the caller posts it, the helper (spinning briefly after its last job, so it is
// usually awake) joins, and both claim chunks of rows from one counter until none is left.
//
// A job's control word is generation (32 bits) | closed (1 bit) | helpers inside (15 bits). A helper enters
// by incrementing "inside" while the job is open; the caller closes the job when it finds no chunk left and
// waits only for helpers already inside (each finishing a chunk it holds). A helper that wakes late finds the
// job closed and stays out, so a descheduled helper never holds up a product it did not join.
#define _GNU_SOURCE
#include "CQuantKernels.h"
#include "LazarusRowPool.h"

#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

// The scalar reference is one rounded multiply and one rounded add a term, in order (no fused a·b + c).
#pragma clang fp contract(off)

int lazarus_cpu_usable_cores(void); // COpenBLAS/blas_loader.c
void lazarus_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc); // COpenBLAS/blas_loader.c

// MARK: Float32 rows

#define F32_AVX2_TARGET __attribute__((target("avx2,fma")))
#define F32_AVX512_TARGET __attribute__((target("avx2,fma,avx512f")))

static void f32_scalar(const float *w, int k, int row_begin, int row_end, const float *x, int nx, float *y, int ldy) {
    for (int o = row_begin; o < row_end; o++) {
        const float *wr = w + (size_t)o * k;
        for (int r = 0; r < nx; r++) {
            const float *xr = x + (size_t)r * k;
            float a = 0;
            for (int i = 0; i < k; i++) a += wr[i] * xr[i];
            y[(size_t)r * ldy + o] = a;
        }
    }
}

static inline F32_AVX2_TARGET float hsum8_f32(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// One weight row and one activation row at a time, in four accumulators (FMA latency is 4 cycles, so one chain
// would stall); the AVX-512 version below is the same loop at sixteen lanes.
static F32_AVX2_TARGET void f32_avx2(const float *w, int k, int row_begin, int row_end, const float *x, int nx, float *y, int ldy) {
    const int k8 = k & ~7;
    for (int o = row_begin; o < row_end; o++) {
        const float *wr = w + (size_t)o * k;
        for (int r = 0; r < nx; r++) {
            const float *xr = x + (size_t)r * k;
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i + 32 <= k8; i += 32) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i), _mm256_loadu_ps(xr + i), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i + 8), _mm256_loadu_ps(xr + i + 8), a1);
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i + 16), _mm256_loadu_ps(xr + i + 16), a2);
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i + 24), _mm256_loadu_ps(xr + i + 24), a3);
            }
            for (; i < k8; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wr + i), _mm256_loadu_ps(xr + i), a0);
            float s = hsum8_f32(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
            for (; i < k; i++) s += wr[i] * xr[i];
            y[(size_t)r * ldy + o] = s;
        }
    }
}

static F32_AVX512_TARGET void f32_avx512(const float *w, int k, int row_begin, int row_end, const float *x, int nx, float *y, int ldy) {
    const int k16 = k & ~15;
    for (int o = row_begin; o < row_end; o++) {
        const float *wr = w + (size_t)o * k;
        for (int r = 0; r < nx; r++) {
            const float *xr = x + (size_t)r * k;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i + 64 <= k16; i += 64) {
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i), _mm512_loadu_ps(xr + i), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i + 16), _mm512_loadu_ps(xr + i + 16), a1);
                a2 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i + 32), _mm512_loadu_ps(xr + i + 32), a2);
                a3 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i + 48), _mm512_loadu_ps(xr + i + 48), a3);
            }
            for (; i < k16; i += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(wr + i), _mm512_loadu_ps(xr + i), a0);
            float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
            for (; i < k; i++) s += wr[i] * xr[i];
            y[(size_t)r * ldy + o] = s;
        }
    }
}

int lq_f32_rows(int path, const float *w, int k, int row_begin, int row_end, const float *x, int nx, float *y, int ldy) {
    if (k <= 0 || nx <= 0 || nx > LQ_MAX_BATCH || row_begin < 0 || row_end < row_begin || !lq_path_supported(path)) return 0;
    switch (path) {
    case LQ_PATH_SCALAR: f32_scalar(w, k, row_begin, row_end, x, nx, y, ldy); return 1;
    case LQ_PATH_AVX2: f32_avx2(w, k, row_begin, row_end, x, nx, y, ldy); return 1;
    case LQ_PATH_AVX512VNNI: case LQ_PATH_AVX512VNNI_INT8: f32_avx512(w, k, row_begin, row_end, x, nx, y, ldy); return 1;
    }
    return 0;
}

// MARK: The pool

#define MAX_HELPERS 15
#define INSIDE_MASK 0x7fffu
#define CLOSED_BIT 0x8000u
// How long a helper spins for the next job before it sleeps: decode posts one every few microseconds within
// a token and one or two hundred microseconds apart between tokens; waking a sleeping thread costs tens.
#define SPIN_SECONDS 250e-6
// How long the caller spins for a helper inside the job before it sleeps on the condition variable.
#define CALLER_SPIN_SECONDS 50e-6

static struct {
    pthread_mutex_t owner; // held by the thread whose job is posted
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    _Atomic uint64_t ctl;
    _Atomic int next;
    _Atomic int sleeping;
    _Atomic int caller_waiting;
    int helpers;
    _Atomic int max_inside;
    int count;
    void (*fn)(void *, int);
    void *ctx;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static inline uint32_t ctl_gen(uint64_t c) { return (uint32_t)(c >> 32); }
static inline uint32_t ctl_inside(uint64_t c) { return (uint32_t)c & INSIDE_MASK; }
static inline int ctl_closed(uint64_t c) { return ((uint32_t)c & CLOSED_BIT) != 0; }

static double monotonic(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
}

static void run_chunks(void) {
    int i;
    while ((i = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed)) < pool.count) pool.fn(pool.ctx, i);
}

static void *helper_main(void *arg) {
    (void)arg;
    // Named so that top -H and perf tell it from the caller (both would be "lazarus").
    pthread_setname_np(pthread_self(), "lazarus-rows");
    uint32_t seen = ctl_gen(atomic_load(&pool.ctl));
    for (;;) {
        uint64_t c = atomic_load(&pool.ctl);
        if (ctl_gen(c) == seen) {
            double until = monotonic() + SPIN_SECONDS;
            for (int n = 1; ctl_gen(c = atomic_load_explicit(&pool.ctl, memory_order_acquire)) == seen; n++) {
                cpu_relax();
                if ((n & 63) == 0 && monotonic() > until) break;
            }
            if (ctl_gen(c) == seen) {
                pthread_mutex_lock(&pool.mu);
                atomic_fetch_add(&pool.sleeping, 1);
                while (ctl_gen(c = atomic_load(&pool.ctl)) == seen) pthread_cond_wait(&pool.wake, &pool.mu);
                atomic_fetch_sub(&pool.sleeping, 1);
                pthread_mutex_unlock(&pool.mu);
            }
        }
        seen = ctl_gen(c);
        int joined = 0;
        while (ctl_gen(c) == seen && !ctl_closed(c) && (int)ctl_inside(c) < pool.max_inside) {
            if (atomic_compare_exchange_weak(&pool.ctl, &c, c + 1)) { joined = 1; break; }
        }
        if (!joined) continue;
        // Inside an open job: its fields stay fixed until this helper leaves.
        run_chunks();
        uint64_t after = atomic_fetch_sub(&pool.ctl, 1) - 1;
        if (ctl_inside(after) == 0 && ctl_closed(after) && atomic_load(&pool.caller_waiting)) {
            pthread_mutex_lock(&pool.mu);
            pthread_cond_broadcast(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

// Called with pool.owner held.
static void start_helpers(int wanted) {
    if (wanted > MAX_HELPERS) wanted = MAX_HELPERS;
    while (pool.helpers < wanted) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 << 10);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&t, &attr, helper_main, NULL);
        pthread_attr_destroy(&attr);
        if (failed) break;
        pool.helpers++;
    }
}

void lq_pool_run(int count, int workers, void (*fn)(void *, int), void *ctx) {
    if (count <= 0) return;
    int usable = lazarus_cpu_usable_cores();
    if (workers > usable) workers = usable;
    if (workers > MAX_HELPERS + 1) workers = MAX_HELPERS + 1;
    if (workers <= 1 || count == 1 || pthread_mutex_trylock(&pool.owner) != 0) {
        for (int i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    start_helpers(workers - 1);
    if (pool.helpers == 0) {
        pthread_mutex_unlock(&pool.owner);
        for (int i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    pool.fn = fn;
    pool.ctx = ctx;
    pool.count = count;
    pool.max_inside = workers - 1;
    atomic_store(&pool.next, 0);
    // The previous job is closed with nobody inside, so only the generation changes.
    uint64_t c = atomic_load(&pool.ctl);
    atomic_store(&pool.ctl, (uint64_t)(ctl_gen(c) + 1) << 32);
    if (atomic_load(&pool.sleeping)) {
        pthread_mutex_lock(&pool.mu);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.mu);
    }
    run_chunks();
    c = atomic_load(&pool.ctl);
    while (!atomic_compare_exchange_weak(&pool.ctl, &c, c | CLOSED_BIT)) {}
    c |= CLOSED_BIT;
    if (ctl_inside(c) != 0) {
        double until = monotonic() + CALLER_SPIN_SECONDS;
        for (int n = 1; ctl_inside(c = atomic_load_explicit(&pool.ctl, memory_order_acquire)) != 0; n++) {
            cpu_relax();
            if ((n & 63) == 0 && monotonic() > until) break;
        }
        if (ctl_inside(c) != 0) {
            pthread_mutex_lock(&pool.mu);
            atomic_store(&pool.caller_waiting, 1);
            while (ctl_inside(atomic_load(&pool.ctl)) != 0) pthread_cond_wait(&pool.done, &pool.mu);
            atomic_store(&pool.caller_waiting, 0);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    pthread_mutex_unlock(&pool.owner);
}

// MARK: Fused products

#define MAX_PARTS 8

typedef struct {
    int path, k, nx, nparts, chunk_rows;
    const lq_linear_part *parts;
    int first_chunk[MAX_PARTS + 1]; // chunk index where each part starts
    const float *x;
    const void *scratch;
} linear_job;

static void linear_chunk(void *ctx, int index) {
    const linear_job *j = ctx;
    int p = 0;
    while (index >= j->first_chunk[p + 1]) p++;
    const lq_linear_part *part = &j->parts[p];
    int begin = (index - j->first_chunk[p]) * j->chunk_rows;
    int end = begin + j->chunk_rows < part->rows ? begin + j->chunk_rows : part->rows;
    if (part->type == LQ_TYPE_F32) {
        lq_f32_rows(j->path, part->w, j->k, begin, end, j->x, j->nx, part->y, part->ldy);
    } else {
        lq_matmul_rows(j->path, part->type, part->w, part->row_bytes, j->k, begin, end, j->x, j->nx, j->scratch, part->y, part->ldy);
    }
}

int lq_linear_parallel(int path, const lq_linear_part *parts, int nparts, int k, const float *x, int nx,
                       const void *scratch, int workers) {
    if (nparts <= 0 || nparts > MAX_PARTS || k <= 0 || nx <= 0 || nx > LQ_MAX_BATCH || !lq_path_supported(path)) return 0;
    int vnni = path == LQ_PATH_AVX512VNNI || path == LQ_PATH_AVX512VNNI_INT8;
    long total_rows = 0;
    for (int p = 0; p < nparts; p++) {
        const lq_linear_part *part = &parts[p];
        if (part->rows <= 0 || !part->w || !part->y || part->ldy < part->rows) return 0;
        if (part->type == LQ_TYPE_F32) {
            if (part->row_bytes != (size_t)k * 4) return 0;
        } else {
            int bv = lq_block_values(part->type);
            if (bv == 0 || k % bv != 0 || part->row_bytes != (size_t)(k / bv) * (size_t)lq_block_bytes(part->type)) return 0;
            if (vnni && !scratch) return 0;
        }
        total_rows += part->rows;
    }
    linear_job job = {path, k, nx, nparts, 0, parts, {0}, x, scratch};
    // About 64k weight values a chunk (a few microseconds), at least four chunks a worker so a worker that
    // starts late still finds work, and a multiple of 16 rows.
    int rows = 65536 / k;
    long balanced = (total_rows + 4L * workers - 1) / (4L * (workers > 0 ? workers : 1));
    if (rows > balanced) rows = (int)balanced;
    rows = (rows + 15) / 16 * 16;
    if (rows < 16) rows = 16;
    job.chunk_rows = rows;
    for (int p = 0; p < nparts; p++) job.first_chunk[p + 1] = job.first_chunk[p] + (parts[p].rows + rows - 1) / rows;
    lq_pool_run(job.first_chunk[nparts], workers, linear_chunk, &job);
    return 1;
}

// MARK: Tiled products (prefill)

typedef struct {
    int path, type, k, n, m, tile_rows, ldy;
    const uint8_t *w;
    size_t row_bytes;
    const float *x;
    float *y;
} tiled_job;

// Each thread's tile buffer, kept for its life (about 1 MB): a prefill makes ~200 tiled products.
static _Thread_local float *tile_buffer;
static _Thread_local size_t tile_capacity;

static void tiled_chunk(void *ctx, int index) {
    const tiled_job *j = ctx;
    int start = index * j->tile_rows;
    int count = j->n - start < j->tile_rows ? j->n - start : j->tile_rows;
    size_t need = (size_t)j->tile_rows * j->k;
    if (tile_capacity < need) {
        free(tile_buffer);
        tile_buffer = malloc(need * sizeof(float));
        tile_capacity = tile_buffer ? need : 0;
    }
    if (!tile_buffer) abort(); // out of memory for one tile: nothing sensible to return through a pool chunk
    lq_dequantize_rows_path(j->path, j->type, j->w, j->row_bytes, j->k, start, start + count, tile_buffer);
    lazarus_sgemm(0, 1, j->m, count, j->k, 1.0f, j->x, j->k, tile_buffer, j->k, 0.0f, j->y + start, j->ldy);
}

int lq_tiled_matmul(int path, int type, const void *w, size_t row_bytes, int k, int n, const float *x, int m,
                    float *y, int ldy, int workers) {
    int bv = lq_block_values(type);
    if (bv == 0 || k <= 0 || k % bv != 0 || row_bytes != (size_t)(k / bv) * (size_t)lq_block_bytes(type)) return 0;
    if (n <= 0 || m <= 0 || ldy < n || !lq_path_supported(path)) return 0;
    // About 1 MB of decoded weights a tile (stays in L2 for sgemm), an even number of tiles when there are few
    // (two cores share them evenly), rows a multiple of 16 (sgemm's register tiles).
    long values = (long)n * k;
    int tiles = (int)((values + (1L << 18) - 1) >> 18);
    if (tiles < 2) tiles = 2;
    if (tiles < 8 && (tiles & 1)) tiles++;
    int rows = (n + tiles - 1) / tiles;
    rows = (rows + 15) / 16 * 16;
    if (rows > n) rows = n;
    tiled_job job = {path, type, k, n, m, rows, ldy, w, row_bytes, x, y};
    lq_pool_run((n + rows - 1) / rows, workers, tiled_chunk, &job);
    return 1;
}
