// Packing-free Float32 products for few activation rows (LazarusSmallGemm.h says what and why).
//
// Forward y = x·Wᵀ: a register tile of a few W rows × a few x rows, one vector accumulator per output along k,
// reduced across lanes at the end. The work is cut into chunks of W rows (about 128 KB each, so a chunk stays
// in L2 while every x row passes over it): W comes from memory once per call, x from cache.
//
// Backward dx = dy·W: the axpy form, dy[i, j] broadcast against a strip of W's row j, the strip's sums kept in
// registers over a chunk of j. The work is cut into blocks of W's columns (independent outputs); within one, W's
// rows are taken in chunks small enough to stay in L2 while every dy row passes over them, the partial sums
// parked in a buffer between chunks (a float stored and reloaded exactly, so the chunking changes no bit).
#include "CQuantKernels.h"
#include "LazarusSmallGemm.h"

#include <immintrin.h>
#include <stddef.h>
#include <stdlib.h>

// The scalar reference is one rounded multiply and one rounded add a term, in order (no fused a·b + c).
#pragma clang fp contract(off)

#define SG_AVX2 __attribute__((target("avx2,fma")))
#define SG_AVX512 __attribute__((target("avx2,fma,avx512f")))
#define SG_INLINE static inline __attribute__((always_inline))
// The tiles' loops over their constant sizes, unrolled so the accumulators live in registers: SwiftPM builds C at
// -O2, where clang otherwise left the backward's on the stack (a third of the speed).
#define SG_UNROLL _Pragma("clang loop unroll(full)")

// MARK: Forward

// The most W rows a forward chunk takes (the AVX-512 path parks 6 × 16 floats an output row on its stack).
#define FWD_MAX_CHUNK 96

typedef struct {
    int path, m, k, n, ldy, accumulate, chunk_rows;
    float alpha;
    const float *x, *w;
    float *y;
} fwd_job;

SG_INLINE void fwd_store(const fwd_job *j, int i, int o, float s) {
    float *dst = j->y + (size_t)i * j->ldy + o;
    float v = j->alpha * s;
    *dst = j->accumulate ? *dst + v : v;
}

static void fwd_scalar(const fwd_job *j, int begin, int end) {
    for (int o = begin; o < end; o++) {
        const float *wr = j->w + (size_t)o * j->k;
        for (int i = 0; i < j->m; i++) {
            const float *xr = j->x + (size_t)i * j->k;
            float s = 0;
            for (int c = 0; c < j->k; c++) s += wr[c] * xr[c];
            fwd_store(j, i, o, s);
        }
    }
}

static inline SG_AVX2 float sg_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline SG_AVX2 __m256i sg_mask8(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// TW W rows × TX x rows; TW and TX are constants at each call, so the accumulators live in registers.
// One accumulator per output, the same k order in every tile: the edge tiles give the same bits as full ones.
SG_INLINE SG_AVX2 void fwd_avx2_tile(const fwd_job *j, int o, int i, const int TW, const int TX) {
    const int k = j->k, k8 = k & ~7;
    const float *wr = j->w + (size_t)o * k, *xr = j->x + (size_t)i * k;
    __m256 acc[3][4];
    SG_UNROLL for (int a = 0; a < TW; a++) SG_UNROLL for (int b = 0; b < TX; b++) acc[a][b] = _mm256_setzero_ps();
    for (int c = 0; c < k8; c += 8) {
        __m256 wv[3];
        SG_UNROLL for (int a = 0; a < TW; a++) wv[a] = _mm256_loadu_ps(wr + (size_t)a * k + c);
        SG_UNROLL for (int b = 0; b < TX; b++) {
            __m256 xv = _mm256_loadu_ps(xr + (size_t)b * k + c);
            SG_UNROLL for (int a = 0; a < TW; a++) acc[a][b] = _mm256_fmadd_ps(wv[a], xv, acc[a][b]);
        }
    }
    if (k8 < k) {
        __m256i mask = sg_mask8(k - k8);
        __m256 wv[3];
        SG_UNROLL for (int a = 0; a < TW; a++) wv[a] = _mm256_maskload_ps(wr + (size_t)a * k + k8, mask);
        SG_UNROLL for (int b = 0; b < TX; b++) {
            __m256 xv = _mm256_maskload_ps(xr + (size_t)b * k + k8, mask);
            SG_UNROLL for (int a = 0; a < TW; a++) acc[a][b] = _mm256_fmadd_ps(wv[a], xv, acc[a][b]);
        }
    }
    SG_UNROLL for (int a = 0; a < TW; a++) SG_UNROLL for (int b = 0; b < TX; b++) fwd_store(j, i + b, o + a, sg_hsum8(acc[a][b]));
}

static SG_AVX2 void fwd_avx2(const fwd_job *j, int begin, int end) {
    int i = 0;
    for (; i + 4 <= j->m; i += 4) {
        int o = begin;
        for (; o + 3 <= end; o += 3) fwd_avx2_tile(j, o, i, 3, 4);
        for (; o < end; o++) fwd_avx2_tile(j, o, i, 1, 4);
    }
    for (; i < j->m; i++) {
        int o = begin;
        for (; o + 3 <= end; o += 3) fwd_avx2_tile(j, o, i, 3, 1);
        for (; o < end; o++) fwd_avx2_tile(j, o, i, 1, 1);
    }
}

// The AVX-512 tile: 4 W rows × 6 x rows over k's stretch [c0, c1) (c1 a multiple of 16, or k for the last).
// Its accumulators start at zero on the first stretch, else from `park`, and are reduced into y on the last,
// else parked: a lane's sum runs over the same k in the same order whatever the stretches, and a float parked
// and reloaded is exact, so the stretches change no bit.
SG_INLINE SG_AVX512 void fwd_avx512_tile(const fwd_job *j, int o, int i, int c0, int c1, float *park,
                                         const int TW, const int TX) {
    const int k = j->k, end16 = c0 + ((c1 - c0) & ~15);
    const float *wr = j->w + (size_t)o * k, *xr = j->x + (size_t)i * k;
    __m512 acc[4][6];
    SG_UNROLL for (int a = 0; a < TW; a++)
        SG_UNROLL for (int b = 0; b < TX; b++) acc[a][b] = c0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(park + 16 * (6 * a + b));
    // The tail's masked loads in the same loop, so the accumulators stay in registers (a separate tail after it
    // made clang keep the array on the stack, storing every accumulator every step).
    for (int c = c0; c < c1; c += 16) {
        __mmask16 mask = c < end16 ? (__mmask16)0xffff : (__mmask16)((1u << (c1 - end16)) - 1);
        __m512 wv[4];
        SG_UNROLL for (int a = 0; a < TW; a++) wv[a] = _mm512_maskz_loadu_ps(mask, wr + (size_t)a * k + c);
        SG_UNROLL for (int b = 0; b < TX; b++) {
            __m512 xv = _mm512_maskz_loadu_ps(mask, xr + (size_t)b * k + c);
            SG_UNROLL for (int a = 0; a < TW; a++) acc[a][b] = _mm512_fmadd_ps(wv[a], xv, acc[a][b]);
        }
    }
    if (c1 == k) {
        SG_UNROLL for (int a = 0; a < TW; a++) SG_UNROLL for (int b = 0; b < TX; b++) fwd_store(j, i + b, o + a, _mm512_reduce_add_ps(acc[a][b]));
    } else {
        SG_UNROLL for (int a = 0; a < TW; a++) SG_UNROLL for (int b = 0; b < TX; b++) _mm512_storeu_ps(park + 16 * (6 * a + b), acc[a][b]);
    }
}

// The full 4 × 6 tile written out: with the accumulators in an array clang kept them on the stack, storing
// all 24 every step (half the speed). The same operations, in the same order, as fwd_avx512_tile(…, 4, 6).
#define SG_EACH_X(M) M(0) M(1) M(2) M(3) M(4) M(5)
#define SG_EACH_W(M, b) M(0, b) M(1, b) M(2, b) M(3, b)
#define SG_DECLARE(a, b) __m512 acc##a##b = c0 == 0 ? _mm512_setzero_ps() : _mm512_loadu_ps(park + 16 * (6 * a + b));
#define SG_DECLARE_X(b) SG_EACH_W(SG_DECLARE, b)
#define SG_FMA(a, b) acc##a##b = _mm512_fmadd_ps(w##a, xv##b, acc##a##b);
#define SG_EACH_W4(M) M(0) M(1) M(2) M(3)
#define SG_PREFETCH(a) _mm_prefetch((const char *)(wr + (size_t)a * k + c + 512), _MM_HINT_T0);
#define SG_STEP_FULL_X(b) { __m512 xv##b = _mm512_loadu_ps(xr + (size_t)b * k + c); SG_EACH_W(SG_FMA, b) }
#define SG_STEP_X(b) { __m512 xv##b = _mm512_maskz_loadu_ps(mask, xr + (size_t)b * k + c); SG_EACH_W(SG_FMA, b) }
#define SG_FINISH(a, b) if (c1 == k) fwd_store(j, i + b, o + a, _mm512_reduce_add_ps(acc##a##b)); \
                        else _mm512_storeu_ps(park + 16 * (6 * a + b), acc##a##b);
#define SG_FINISH_X(b) SG_EACH_W(SG_FINISH, b)

static SG_AVX512 void fwd_avx512_4x6(const fwd_job *j, int o, int i, int c0, int c1, float *park) {
    const int k = j->k, end16 = c0 + ((c1 - c0) & ~15);
    const float *wr = j->w + (size_t)o * k, *xr = j->x + (size_t)i * k;
    SG_EACH_X(SG_DECLARE_X)
    // Plain loads for the full steps (masked ones cost more), the tail's masked loads after them.
    for (int c = c0; c < end16; c += 16) {
        // The first x tile meets these W rows coming from memory: fetch them ahead (2 KB a row), so the chunk's
        // one pass over memory overlaps the arithmetic instead of stalling it.
        if (i == 0) SG_EACH_W4(SG_PREFETCH)
        __m512 w0 = _mm512_loadu_ps(wr + c), w1 = _mm512_loadu_ps(wr + (size_t)k + c);
        __m512 w2 = _mm512_loadu_ps(wr + 2 * (size_t)k + c), w3 = _mm512_loadu_ps(wr + 3 * (size_t)k + c);
        SG_EACH_X(SG_STEP_FULL_X)
    }
    if (end16 < c1) {
        int c = end16;
        __mmask16 mask = (__mmask16)((1u << (c1 - end16)) - 1);
        __m512 w0 = _mm512_maskz_loadu_ps(mask, wr + c), w1 = _mm512_maskz_loadu_ps(mask, wr + (size_t)k + c);
        __m512 w2 = _mm512_maskz_loadu_ps(mask, wr + 2 * (size_t)k + c), w3 = _mm512_maskz_loadu_ps(mask, wr + 3 * (size_t)k + c);
        SG_EACH_X(SG_STEP_X)
    }
    SG_EACH_X(SG_FINISH_X)
}

// One x tile of `rows` ≤ 6 rows against W rows [o, o + tw), tw 4 or 1, one case per size so each is a
// register tile of its own; a 1-row W remainder goes output by output.
static SG_AVX512 void fwd_avx512_any(const fwd_job *j, int o, int i, int rows, int tw, int c0, int c1, float *park) {
    if (tw == 4) {
        switch (rows) {
        case 6: fwd_avx512_4x6(j, o, i, c0, c1, park); return;
        case 5: fwd_avx512_tile(j, o, i, c0, c1, park, 4, 5); return;
        case 4: fwd_avx512_tile(j, o, i, c0, c1, park, 4, 4); return;
        case 3: fwd_avx512_tile(j, o, i, c0, c1, park, 4, 3); return;
        case 2: fwd_avx512_tile(j, o, i, c0, c1, park, 4, 2); return;
        case 1: fwd_avx512_tile(j, o, i, c0, c1, park, 4, 1); return;
        }
    }
    for (int b = 0; b < rows; b++) fwd_avx512_tile(j, o, i + b, c0, c1, park + 16 * b, 1, 1);
}

// k's stretch for the AVX-512 forward: an x tile's stretch (6 × 512 floats, 12 KB) and a W tile's (8 KB) stay
// in L1 while the chunk's W rows come from L2. Without it each step missed L1 (x tile and W tile 80 KB at k = 2048).
#define FWD_STRETCH 512

static SG_AVX512 void fwd_avx512(const fwd_job *j, int begin, int end) {
    // Parked accumulators of one x tile against the chunk's W rows: 16 floats an output.
    float park[FWD_MAX_CHUNK * 6 * 16] __attribute__((aligned(64)));
    for (int i = 0; i < j->m; i += 6) {
        int rows = j->m - i < 6 ? j->m - i : 6;
        for (int c0 = 0; c0 < j->k; c0 += FWD_STRETCH) {
            int c1 = c0 + FWD_STRETCH < j->k ? c0 + FWD_STRETCH : j->k;
            int o = begin;
            for (; o + 4 <= end; o += 4) fwd_avx512_any(j, o, i, rows, 4, c0, c1, park + (o - begin) * 6 * 16);
            for (; o < end; o++) fwd_avx512_any(j, o, i, rows, 1, c0, c1, park + (o - begin) * 6 * 16);
        }
    }
}

static void fwd_chunk(const fwd_job *j, int index) {
    int begin = index * j->chunk_rows;
    int end = begin + j->chunk_rows < j->n ? begin + j->chunk_rows : j->n;
    switch (j->path) {
    case LQ_PATH_SCALAR: fwd_scalar(j, begin, end); break;
    case LQ_PATH_AVX2: fwd_avx2(j, begin, end); break;
    default: fwd_avx512(j, begin, end); break;
    }
}

// About 128 KB of W a part (a multiple of 12 rows: the AVX2 tile's 3 and the AVX-512 tile's 4), from the shape
// alone; several parts a worker so one on a shared core does less.
static int fwd_part_rows(int k) {
    int rows = (int)((32768L + k - 1) / k);
    rows = (rows + 11) / 12 * 12;
    return rows > FWD_MAX_CHUNK ? FWD_MAX_CHUNK : rows;
}

int lq_small_xwt_parts(int k, int n) { return k > 0 && n > 0 ? (n + fwd_part_rows(k) - 1) / fwd_part_rows(k) : 0; }

int lq_small_xwt(int path, const float *x, int m, int k, const float *w, int n, float *y, int ldy,
                 float alpha, int accumulate, int first_part, int end_part) {
    if (m <= 0 || k <= 0 || n <= 0 || ldy < n || path < 0 || path >= LQ_PATH_COUNT || !lq_path_supported(path)) return 0;
    if (first_part < 0 || end_part < first_part || end_part > lq_small_xwt_parts(k, n)) return 0;
    fwd_job job = {path, m, k, n, ldy, accumulate != 0, fwd_part_rows(k), alpha, x, w, y};
    for (int part = first_part; part < end_part; part++) fwd_chunk(&job, part);
    return 1;
}

// MARK: Backward (input gradient)

typedef struct {
    int path, m, n, k, accumulate, block_cols, chunk_rows;
    const float *dy, *w;
    float *dx;
} bwd_job;

static void bwd_scalar(const bwd_job *j, int c0, int c1) {
    for (int i = 0; i < j->m; i++) {
        float *d = j->dx + (size_t)i * j->k;
        for (int c = c0; c < c1; c++) {
            float s = 0;
            for (int r = 0; r < j->n; r++) s += j->dy[(size_t)i * j->n + r] * j->w[(size_t)r * j->k + c];
            d[c] = j->accumulate ? d[c] + s : s;
        }
    }
}

// TM dy rows × TS vectors of W's columns [c, c + 8·TS), the last vector masked to `tail` lanes (8 = full).
// Each output lane's sum runs over r in order, one FMA a term, whichever tile it sits in.
SG_INLINE SG_AVX2 void bwd_avx2_tile(const bwd_job *j, int i, int c, int r0, int r1, float *park, const int TM,
                                     const int TS, int tail) {
    const int k = j->k, first = r0 == 0, last = r1 == j->n;
    __m256i mask = sg_mask8(tail);
    __m256 acc[4][3];
    SG_UNROLL for (int a = 0; a < TM; a++) {
        float *p = park + (size_t)(i + a) * j->block_cols;
        SG_UNROLL for (int s = 0; s < TS; s++) {
            if (first) acc[a][s] = _mm256_setzero_ps();
            else acc[a][s] = s == TS - 1 ? _mm256_maskload_ps(p + 8 * s, mask) : _mm256_loadu_ps(p + 8 * s);
        }
    }
    for (int r = r0; r < r1; r++) {
        const float *wr = j->w + (size_t)r * k + c;
        __m256 wv[3];
        SG_UNROLL for (int s = 0; s < TS; s++) wv[s] = s == TS - 1 ? _mm256_maskload_ps(wr + 8 * s, mask) : _mm256_loadu_ps(wr + 8 * s);
        SG_UNROLL for (int a = 0; a < TM; a++) {
            __m256 g = _mm256_broadcast_ss(j->dy + (size_t)(i + a) * j->n + r);
            SG_UNROLL for (int s = 0; s < TS; s++) acc[a][s] = _mm256_fmadd_ps(g, wv[s], acc[a][s]);
        }
    }
    SG_UNROLL for (int a = 0; a < TM; a++) {
        float *d = last ? j->dx + (size_t)(i + a) * k + c : park + (size_t)(i + a) * j->block_cols;
        SG_UNROLL for (int s = 0; s < TS; s++) {
            __m256 v = acc[a][s];
            if (last && j->accumulate) v = _mm256_add_ps(s == TS - 1 ? _mm256_maskload_ps(d + 8 * s, mask) : _mm256_loadu_ps(d + 8 * s), v);
            if (s == TS - 1) _mm256_maskstore_ps(d + 8 * s, mask, v);
            else _mm256_storeu_ps(d + 8 * s, v);
        }
    }
}

static SG_AVX2 void bwd_avx2_rows(const bwd_job *j, int i, int rows, int c0, int c1, int r0, int r1, float *park) {
    int c = c0;
    for (; c + 24 <= c1; c += 24) {
        if (rows == 4) bwd_avx2_tile(j, i, c, r0, r1, park + (c - c0), 4, 3, 8);
        else for (int a = 0; a < rows; a++) bwd_avx2_tile(j, i + a, c, r0, r1, park + (c - c0), 1, 3, 8);
    }
    for (; c < c1; c += 8) {
        int tail = c1 - c < 8 ? c1 - c : 8;
        if (rows == 4) bwd_avx2_tile(j, i, c, r0, r1, park + (c - c0), 4, 1, tail);
        else for (int a = 0; a < rows; a++) bwd_avx2_tile(j, i + a, c, r0, r1, park + (c - c0), 1, 1, tail);
    }
}

SG_INLINE SG_AVX512 void bwd_avx512_tile(const bwd_job *j, int i, int c, int r0, int r1, float *park, const int TM,
                                         const int TS, int tail) {
    const int k = j->k, first = r0 == 0, last = r1 == j->n;
    __mmask16 mask = (__mmask16)((1u << tail) - 1);
    __m512 acc[6][4];
    SG_UNROLL for (int a = 0; a < TM; a++) {
        float *p = park + (size_t)(i + a) * j->block_cols;
        SG_UNROLL for (int s = 0; s < TS; s++) {
            if (first) acc[a][s] = _mm512_setzero_ps();
            else acc[a][s] = s == TS - 1 ? _mm512_maskz_loadu_ps(mask, p + 16 * s) : _mm512_loadu_ps(p + 16 * s);
        }
    }
    for (int r = r0; r < r1; r++) {
        const float *wr = j->w + (size_t)r * k + c;
        __m512 wv[4];
        SG_UNROLL for (int s = 0; s < TS; s++) wv[s] = s == TS - 1 ? _mm512_maskz_loadu_ps(mask, wr + 16 * s) : _mm512_loadu_ps(wr + 16 * s);
        SG_UNROLL for (int a = 0; a < TM; a++) {
            __m512 g = _mm512_set1_ps(j->dy[(size_t)(i + a) * j->n + r]);
            SG_UNROLL for (int s = 0; s < TS; s++) acc[a][s] = _mm512_fmadd_ps(g, wv[s], acc[a][s]);
        }
    }
    SG_UNROLL for (int a = 0; a < TM; a++) {
        float *d = last ? j->dx + (size_t)(i + a) * k + c : park + (size_t)(i + a) * j->block_cols;
        SG_UNROLL for (int s = 0; s < TS; s++) {
            __m512 v = acc[a][s];
            if (last && j->accumulate) v = _mm512_add_ps(s == TS - 1 ? _mm512_maskz_loadu_ps(mask, d + 16 * s) : _mm512_loadu_ps(d + 16 * s), v);
            if (s == TS - 1) _mm512_mask_storeu_ps(d + 16 * s, mask, v);
            else _mm512_storeu_ps(d + 16 * s, v);
        }
    }
}

static SG_AVX512 void bwd_avx512_rows(const bwd_job *j, int i, int rows, int c0, int c1, int r0, int r1, float *park) {
    int c = c0;
    for (; c + 64 <= c1; c += 64) {
        switch (rows) {
        case 6: bwd_avx512_tile(j, i, c, r0, r1, park + (c - c0), 6, 4, 16); break;
        case 5: bwd_avx512_tile(j, i, c, r0, r1, park + (c - c0), 5, 4, 16); break;
        case 4: bwd_avx512_tile(j, i, c, r0, r1, park + (c - c0), 4, 4, 16); break;
        case 3: bwd_avx512_tile(j, i, c, r0, r1, park + (c - c0), 3, 4, 16); break;
        case 2: bwd_avx512_tile(j, i, c, r0, r1, park + (c - c0), 2, 4, 16); break;
        default: bwd_avx512_tile(j, i, c, r0, r1, park + (c - c0), 1, 4, 16); break;
        }
    }
    for (; c < c1; c += 16) {
        int tail = c1 - c < 16 ? c1 - c : 16;
        if (rows == 6) bwd_avx512_tile(j, i, c, r0, r1, park + (c - c0), 6, 1, tail);
        else for (int a = 0; a < rows; a++) bwd_avx512_tile(j, i + a, c, r0, r1, park + (c - c0), 1, 1, tail);
    }
}

// Each thread's parking buffer for the backward's partial sums, kept for its life (m × 192 floats).
static _Thread_local float *park_buffer;
static _Thread_local size_t park_capacity;

static void bwd_chunk(const bwd_job *j, int index) {
    int c0 = index * j->block_cols;
    int c1 = c0 + j->block_cols < j->k ? c0 + j->block_cols : j->k;
    if (j->path == LQ_PATH_SCALAR) { bwd_scalar(j, c0, c1); return; }
    int tile = j->path == LQ_PATH_AVX2 ? 4 : 6;
    // Sums are parked between chunks of W's rows in a buffer of the thread's own (m × the block's columns), so dx
    // is written once, its old value added to the finished sum as sgemm's beta = 1 adds it.
    float *park = NULL;
    if (j->n > j->chunk_rows) {
        size_t need = (size_t)j->m * j->block_cols;
        if (park_capacity < need) {
            free(park_buffer);
            park_buffer = malloc(need * sizeof(float));
            park_capacity = park_buffer ? need : 0;
        }
        if (!park_buffer) abort(); // out of memory for one block's sums: nothing sensible to return from a part
        park = park_buffer;
    }
    // W's block [r0, r1) × [c0, c1) stays in L2 while every dy row passes over it.
    for (int r0 = 0; r0 < j->n; r0 += j->chunk_rows) {
        int r1 = r0 + j->chunk_rows < j->n ? r0 + j->chunk_rows : j->n;
        for (int i = 0; i < j->m; i += tile) {
            int rows = j->m - i < tile ? j->m - i : tile;
            if (j->path == LQ_PATH_AVX2) bwd_avx2_rows(j, i, rows, c0, c1, r0, r1, park);
            else bwd_avx512_rows(j, i, rows, c0, c1, r0, r1, park);
        }
    }
}

// Blocks of 192 columns (a multiple of the AVX2 strip's 24 and the AVX-512 strip's 64 when k allows), W's rows
// in chunks of about 192 KB of the block.
static int bwd_part_cols(int k) { return k < 192 ? k : 192; }

int lq_small_xw_parts(int k) { return k > 0 ? (k + bwd_part_cols(k) - 1) / bwd_part_cols(k) : 0; }

int lq_small_xw(int path, const float *dy, int m, int n, const float *w, int k, float *dx, int accumulate,
                int first_part, int end_part) {
    if (m <= 0 || k <= 0 || n <= 0 || path < 0 || path >= LQ_PATH_COUNT || !lq_path_supported(path)) return 0;
    if (first_part < 0 || end_part < first_part || end_part > lq_small_xw_parts(k)) return 0;
    int cols = bwd_part_cols(k);
    bwd_job job = {path, m, n, k, accumulate != 0, cols, (int)((49152L + cols - 1) / cols), dy, w, dx};
    for (int part = first_part; part < end_part; part++) bwd_chunk(&job, part);
    return 1;
}
