// Read bandwidth of this machine at working-set sizes around decode's (docs/performance.md): the time to sum
// a buffer already in memory, best of several passes, on 1 and 2 threads. A token of single-stream decode
// reads every weight once, so tokens/s ≤ bandwidth / bytes per token. Dev tool; nothing builds it.
//   cc -O2 -mavx512f -pthread tools/peer/read_bandwidth.c -o /tmp/read_bandwidth && /tmp/read_bandwidth
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct { const float *p; size_t n; float sum; } part;

// Four independent accumulators so the adds never wait on each other: the loop is bound by the loads.
static void *sum_part(void *arg) {
    part *a = arg;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i + 64 <= a->n; i += 64) {
        s0 = _mm512_add_ps(s0, _mm512_load_ps(a->p + i));
        s1 = _mm512_add_ps(s1, _mm512_load_ps(a->p + i + 16));
        s2 = _mm512_add_ps(s2, _mm512_load_ps(a->p + i + 32));
        s3 = _mm512_add_ps(s3, _mm512_load_ps(a->p + i + 48));
    }
    a->sum = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    return NULL;
}

int main(void) {
    const size_t sizes_mb[] = {16, 32, 66, 98, 256, 540};
    for (int threads = 1; threads <= 2; threads++) {
        for (size_t s = 0; s < sizeof sizes_mb / sizeof *sizes_mb; s++) {
            size_t bytes = sizes_mb[s] << 20, n = bytes / 4;
            float *p = aligned_alloc(64, bytes);
            for (size_t i = 0; i < n; i++) p[i] = (float)(i & 7);
            double best = 1e9;
            for (int r = 0; r < (sizes_mb[s] < 200 ? 30 : 8); r++) {
                pthread_t t[2];
                part a[2];
                double t0 = now();
                for (int k = 0; k < threads; k++) {
                    a[k] = (part){p + k * (n / threads), n / threads, 0};
                    pthread_create(&t[k], NULL, sum_part, &a[k]);
                }
                for (int k = 0; k < threads; k++) pthread_join(t[k], NULL);
                double dt = now() - t0;
                if (dt < best) best = dt;
            }
            printf("threads %d  %4zu MiB  %.1f GB/s\n", threads, sizes_mb[s], bytes / best / 1e9);
            free(p);
        }
    }
    return 0;
}
