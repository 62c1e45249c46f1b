// MXFP4 (ggml type 39, GPT-OSS's expert weights) beside the other block types: 32 values a 17-byte block
// { u8 e; u8 qs[16] }, byte j's low nibble value j and its high nibble value j + 16; a nibble indexes the doubled
// E2M1 table kvalues_mxfp4 and the E8M0 byte scales it by 2^(e − 127) / 2 (ggml_e8m0_to_fp32_half, bit by bit).
// Kept in its own file so the dispatch of quant_kernels.c only forwards type 39 here.
//
// Every path computes the same Float32 weight values as ModelFiles' MXFP4Blocks (d · kvalue: d a power of two
// and kvalue an integer of at most 12, so the product is exact unless it overflows, and then it is inf on
// every path alike) and dots them with float activations; the paths differ in the order of the sums only:
// scalar one sum in order, AVX2 two 8-lane accumulators, AVX-512 (on the two VNNI paths, which have AVX-512F)
// two 16-lane accumulators. So |y_path − y_scalar| ≤ 2·γ_k·Σ|w·x| (γ_k = k·u/(1 − k·u), u = 2^-24), the bound
// Tests/KernelsTests holds them to. MXFP4 has no integer activation path: the VNNI paths' int16/int8
// activations would add their quantisation error for no gain in exactness, and their scratch is unused here.
#include "CQuantKernels.h"

#include <immintrin.h>
#include <string.h>

// The scalar reference must not fuse a·b + c (as in quant_kernels.c).
#pragma clang fp contract(off)

static const float kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

// 2^(e − 127) / 2 as ggml_e8m0_to_fp32_half computes it: e < 2 gives the subnormals 0x00200000 << e.
static inline __attribute__((always_inline)) float e8m0_half(uint8_t e) {
    uint32_t bits = e < 2 ? (uint32_t)0x00200000u << e : (uint32_t)(e - 1) << 23;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline __attribute__((always_inline)) void mxfp4_values(const uint8_t *block, float *w) {
    float d = e8m0_half(block[0]);
    for (int j = 0; j < 16; j++) {
        uint8_t q = block[1 + j];
        w[j] = d * kvalues_mxfp4[q & 0xF];
        w[j + 16] = d * kvalues_mxfp4[q >> 4];
    }
}

static int mxfp4_shape_ok(size_t row_bytes, int k) {
    return k > 0 && k % 32 == 0 && row_bytes == (size_t)(k / 32) * 17;
}

void lq_mxfp4_block_values(const uint8_t *block, float *w) { mxfp4_values(block, w); }

// Dequantising and the scalar product go through quant_kernels.c's one driver for every block type, which
// decodes MXFP4 blocks with lq_mxfp4_block_values.
int lq_mxfp4_dequantize_rows(const void *w, size_t row_bytes, int k, int row_begin, int row_end, float *out) {
    return lq_dequantize_rows(LQ_TYPE_MXFP4, w, row_bytes, k, row_begin, row_end, out);
}

#define MXFP4_AVX2_TARGET __attribute__((target("avx2,fma")))
#define MXFP4_AVX512_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))

// The 32 int8 table values of a block, in value order (low nibbles are values 0-15, high nibbles 16-31).
static inline MXFP4_AVX2_TARGET __attribute__((always_inline)) __m256i mxfp4_codes_avx2(const uint8_t *qs) {
    const __m128i table = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
    __m128i v = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0x0F);
    __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(v, m));
    __m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(v, 4), m));
    return _mm256_set_m128i(hi, lo);
}

static inline MXFP4_AVX2_TARGET float mxfp4_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// Inlined with a constant row count, so the accumulators stay in registers.
static inline MXFP4_AVX2_TARGET __attribute__((always_inline)) void mxfp4_avx2_rows(const int nx, const uint8_t *w, size_t row_bytes, int k,
                                                                                   int row_begin, int row_end, const float *x, float *y, int ldy) {
    for (int o = row_begin; o < row_end; o++) {
        const uint8_t *row = w + (size_t)o * row_bytes;
        __m256 acc[LQ_MAX_BATCH], acc2[LQ_MAX_BATCH];
        for (int r = 0; r < nx; r++) acc[r] = acc2[r] = _mm256_setzero_ps();
        for (int b = 0; b < k / 32; b++) {
            const uint8_t *blk = row + (size_t)b * 17;
            __m256 d = _mm256_set1_ps(e8m0_half(blk[0]));
            __m256i c = mxfp4_codes_avx2(blk + 1);
            __m128i lo = _mm256_castsi256_si128(c), hi = _mm256_extracti128_si256(c, 1);
            // d · kvalue: the exact Float32 values the scalar path decodes.
            __m256 w0 = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)));
            __m256 w1 = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))));
            __m256 w2 = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)));
            __m256 w3 = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))));
            for (int r = 0; r < nx; r++) {
                const float *xr = x + (size_t)r * k + 32 * b;
                __m256 a = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xr), acc[r]);
                __m256 e = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xr + 8), acc2[r]);
                acc[r] = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xr + 16), a);
                acc2[r] = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xr + 24), e);
            }
        }
        for (int r = 0; r < nx; r++) y[(size_t)r * ldy + o] = mxfp4_hsum8(_mm256_add_ps(acc[r], acc2[r]));
    }
}

static inline MXFP4_AVX512_TARGET __attribute__((always_inline)) void mxfp4_avx512_rows(const int nx, const uint8_t *w, size_t row_bytes, int k,
                                                                                       int row_begin, int row_end, const float *x, float *y, int ldy) {
    for (int o = row_begin; o < row_end; o++) {
        const uint8_t *row = w + (size_t)o * row_bytes;
        __m512 acc[LQ_MAX_BATCH], acc2[LQ_MAX_BATCH];
        for (int r = 0; r < nx; r++) acc[r] = acc2[r] = _mm512_setzero_ps();
        for (int b = 0; b < k / 32; b++) {
            const uint8_t *blk = row + (size_t)b * 17;
            __m512 d = _mm512_set1_ps(e8m0_half(blk[0]));
            __m256i c = mxfp4_codes_avx2(blk + 1);
            __m512 w0 = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(c))));
            __m512 w1 = _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(c, 1))));
            for (int r = 0; r < nx; r++) {
                const float *xr = x + (size_t)r * k + 32 * b;
                acc[r] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xr), acc[r]);
                acc2[r] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xr + 16), acc2[r]);
            }
        }
        for (int r = 0; r < nx; r++) y[(size_t)r * ldy + o] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r], acc2[r]));
    }
}

#define MXFP4_SPECIALISE_NX(F, ...) \
    switch (nx) { \
    case 1: F(1, __VA_ARGS__); break; case 2: F(2, __VA_ARGS__); break; \
    case 3: F(3, __VA_ARGS__); break; case 4: F(4, __VA_ARGS__); break; \
    case 5: F(5, __VA_ARGS__); break; case 6: F(6, __VA_ARGS__); break; \
    case 7: F(7, __VA_ARGS__); break; default: F(8, __VA_ARGS__); break; \
    }

static MXFP4_AVX2_TARGET void mxfp4_avx2(const uint8_t *w, size_t row_bytes, int k, int row_begin, int row_end,
                                         const float *x, int nx, float *y, int ldy) {
    MXFP4_SPECIALISE_NX(mxfp4_avx2_rows, w, row_bytes, k, row_begin, row_end, x, y, ldy)
}

static MXFP4_AVX512_TARGET void mxfp4_avx512(const uint8_t *w, size_t row_bytes, int k, int row_begin, int row_end,
                                             const float *x, int nx, float *y, int ldy) {
    MXFP4_SPECIALISE_NX(mxfp4_avx512_rows, w, row_bytes, k, row_begin, row_end, x, y, ldy)
}

int lq_mxfp4_matmul_rows(int path, const void *w, size_t row_bytes, int k, int row_begin, int row_end,
                         const float *x, int nx, float *y, int ldy) {
    if (!mxfp4_shape_ok(row_bytes, k)) return 0;
    if (nx <= 0 || nx > LQ_MAX_BATCH || row_begin < 0 || row_end < row_begin || !lq_path_supported(path)) return 0;
    const uint8_t *wb = (const uint8_t *)w;
    switch (path) {
    case LQ_PATH_SCALAR: return lq_matmul_rows(LQ_PATH_SCALAR, LQ_TYPE_MXFP4, w, row_bytes, k, row_begin, row_end, x, nx, NULL, y, ldy);
    case LQ_PATH_AVX2: mxfp4_avx2(wb, row_bytes, k, row_begin, row_end, x, nx, y, ldy); return 1;
    case LQ_PATH_AVX512VNNI: case LQ_PATH_AVX512VNNI_INT8:
        mxfp4_avx512(wb, row_bytes, k, row_begin, row_end, x, nx, y, ldy);
        return 1;
    }
    return 0;
}
