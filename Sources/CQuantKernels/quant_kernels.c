// Fused dequantise-and-dot over ggml blocks, four paths in one binary (each function carries its own
// __attribute__((target)), so a baseline x86-64 build holds the AVX2 and AVX-512 code and runs it only
// where CPUID says it can). Block layouts are ggml-common.h's, read field by field from bytes.
//
// Every type is reduced, per 32-value block (a K-quant sub-block, or half a Q6_K group), to the same
// form: 32 unsigned bytes u, an integer offset and per-16-value scales s (and for Q4_1, Q5_1, Q4_K, Q5_K a bias),
// with value_i = s·(u_i − offset) [+ bias]. The float paths turn that into exactly the Float32 values
// ModelFiles' Dequantize gives (same operations, same order) and dot them with float activations; the
// VNNI paths quantise each 32-value block of the activations (int16: vpdpwssd on u − offset; int8: vpdpbusd
// on u, as ggml does), sum in int32 exactly, and apply the scales in float once per block.
#include "CQuantKernels.h"

#include <cpuid.h>
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

// The scalar reference must not fuse a·b + c: its values are Dequantize's, rounded after each operation.
#pragma clang fp contract(off)

int lazarus_cpu_features(void); // COpenBLAS/blas_loader.c
enum { CPU_FMA = 1 << 1, CPU_AVX2 = 1 << 2, CPU_AVX512F = 1 << 3, CPU_AVX512BW = 1 << 4, CPU_AVX512VL = 1 << 6, CPU_AVX512VNNI = 1 << 7 };

// MARK: Geometry

int lq_block_values(int type) {
    switch (type) {
    case LQ_TYPE_Q4_0: case LQ_TYPE_Q4_1: case LQ_TYPE_Q5_0: case LQ_TYPE_Q5_1: case LQ_TYPE_Q8_0: return 32;
    case LQ_TYPE_Q4_K: case LQ_TYPE_Q5_K: case LQ_TYPE_Q6_K: return 256;
    case LQ_TYPE_MXFP4: return 32;
    default: return 0;
    }
}

int lq_block_bytes(int type) {
    switch (type) {
    case LQ_TYPE_Q4_0: return 2 + 16;
    case LQ_TYPE_Q4_1: return 2 + 2 + 16;
    case LQ_TYPE_Q5_0: return 2 + 4 + 16;
    case LQ_TYPE_Q5_1: return 2 + 2 + 4 + 16;
    case LQ_TYPE_Q8_0: return 2 + 32;
    case LQ_TYPE_Q4_K: return 2 + 2 + 12 + 128;
    case LQ_TYPE_Q5_K: return 2 + 2 + 12 + 32 + 128;
    case LQ_TYPE_Q6_K: return 128 + 64 + 16 + 2;
    case LQ_TYPE_MXFP4: return 1 + 16;
    default: return 0;
    }
}

// MARK: Path selection

// CPUID traps to the hypervisor on a virtual machine (microseconds a call): read it once.
static int cpu_features(void) {
    static int cached = -1;
    int f = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
    if (f < 0) {
        f = lazarus_cpu_features();
        unsigned a, b, c, d;
        // F16C (CPUID.1:ECX bit 29): on every AVX2 CPU made, but the SIMD paths use it, so it is checked.
        if (!__get_cpuid(1, &a, &b, &c, &d) || !((c >> 29) & 1)) f &= ~(CPU_AVX2 | CPU_AVX512VNNI);
        __atomic_store_n(&cached, f, __ATOMIC_RELEASE);
    }
    return f;
}

int lq_path_supported(int path) {
    int f = cpu_features();
    switch (path) {
    case LQ_PATH_SCALAR: return 1;
    case LQ_PATH_AVX2: return (f & (CPU_AVX2 | CPU_FMA)) == (CPU_AVX2 | CPU_FMA);
    case LQ_PATH_AVX512VNNI: case LQ_PATH_AVX512VNNI_INT8: {
        int need = CPU_AVX2 | CPU_FMA | CPU_AVX512F | CPU_AVX512BW | CPU_AVX512VL | CPU_AVX512VNNI;
        return (f & need) == need;
    }
    default: return 0;
    }
}

// int8 activations are never the default: on the default model they move log-probabilities by up to 0.8
// where int16 ones move them by thousandths (docs/performance.md).
int lq_best_path(void) {
    if (lq_path_supported(LQ_PATH_AVX512VNNI)) return LQ_PATH_AVX512VNNI;
    if (lq_path_supported(LQ_PATH_AVX2)) return LQ_PATH_AVX2;
    return LQ_PATH_SCALAR;
}

const char *lq_path_name(int path) {
    switch (path) {
    case LQ_PATH_SCALAR: return "scalar";
    case LQ_PATH_AVX2: return "avx2";
    case LQ_PATH_AVX512VNNI: return "avx512vnni";
    case LQ_PATH_AVX512VNNI_INT8: return "avx512vnni-int8";
    default: return "unknown";
    }
}

static int default_path = -1;
static char env_note[256];
// Per thread, so tests that force different paths can run side by side (a product reads the path once, on
// the calling thread, and hands it to the worker threads it splits the rows over).
static _Thread_local int forced_path = -1;

int lq_default_path(void) {
    int p = __atomic_load_n(&default_path, __ATOMIC_ACQUIRE);
    if (p >= 0) return p;
    // Computing it twice on a race gives the same answer, so no lock is needed.
    p = lq_best_path();
    const char *env = getenv("LAZARUS_KERNEL");
    if (env && *env) {
        int asked = -1;
        for (int i = 0; i < LQ_PATH_COUNT; i++) if (strcmp(env, lq_path_name(i)) == 0) asked = i;
        if (asked < 0) {
            snprintf(env_note, sizeof env_note, "LAZARUS_KERNEL=%.60s is not scalar, avx2, avx512vnni or avx512vnni-int8; ignored", env);
        } else if (!lq_path_supported(asked)) {
            snprintf(env_note, sizeof env_note, "LAZARUS_KERNEL=%s: this CPU cannot run it; ignored", env);
        } else {
            p = asked;
        }
    }
    __atomic_store_n(&default_path, p, __ATOMIC_RELEASE);
    return p;
}

const char *lq_env_note(void) { lq_default_path(); return env_note; }

int lq_force_path(int path) {
    if (path < 0) { forced_path = -1; return 1; }
    if (!lq_path_supported(path)) return 0;
    forced_path = path;
    return 1;
}

int lq_current_path(void) {
    return forced_path >= 0 ? forced_path : lq_default_path();
}

// MARK: Field readers (little-endian bytes, never a struct cast)

static inline __attribute__((always_inline)) float half_to_float(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ffu, bits;
    float f;
    if (exponent == 0) {
        f = (float)mantissa * (1.0f / 16777216.0f); // subnormal: mantissa · 2^-24, exact in float
        return sign ? -f : f;
    }
    if (exponent == 31) bits = sign | 0x7f800000u | (mantissa << 13);
    else bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint32_t load_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

// Q4_K's 6-bit scale and min of sub-block j (KQuantBlocks.swift explains the packing).
static inline __attribute__((always_inline)) void q4k_scale_min(const uint8_t *scales, int j, int *sc, int *mn) {
    if (j < 4) { *sc = scales[j] & 63; *mn = scales[j + 4] & 63; return; }
    int packed = scales[j + 4];
    *sc = (packed & 0xF) | ((scales[j - 4] >> 6) << 4);
    *mn = (packed >> 4) | ((scales[j] >> 6) << 4);
}

// One 32-value block's scales in the common form, and where its bytes are; both unpackers start from it.
typedef struct {
    const uint8_t *p; // the block (legacy types) or the super-block (K-quants)
    int sub;          // K-quants: which 32-value part of the super-block
    int offset;
    float s0, s1;     // scale of values 0-15 and 16-31
    float bias;       // added after the scale (Q4_1, Q5_1: m; Q4_K, Q5_K: −dmin·min)
    int has_bias;
} block_head;

// The header decoding, written once and instantiated twice: with the portable half-float reader (scalar)
// and with F16C's conversion (the SIMD paths; every AVX2 CPU has F16C). Both give the same exact Float32.
#define BLOCK_HEADER_BODY(HALF) \
    h->has_bias = 0; h->bias = 0; h->sub = 0; \
    switch (type) { \
    case LQ_TYPE_Q8_0: h->p = row + (size_t)b * 34; h->s0 = h->s1 = HALF(h->p); h->offset = 128; break; \
    case LQ_TYPE_Q4_0: h->p = row + (size_t)b * 18; h->s0 = h->s1 = HALF(h->p); h->offset = 8; break; \
    case LQ_TYPE_Q4_1: \
        h->p = row + (size_t)b * 20; h->s0 = h->s1 = HALF(h->p); h->offset = 0; \
        h->bias = HALF(h->p + 2); h->has_bias = 1; \
        break; \
    case LQ_TYPE_Q5_0: h->p = row + (size_t)b * 22; h->s0 = h->s1 = HALF(h->p); h->offset = 16; break; \
    case LQ_TYPE_Q5_1: \
        h->p = row + (size_t)b * 24; h->s0 = h->s1 = HALF(h->p); h->offset = 0; \
        h->bias = HALF(h->p + 2); h->has_bias = 1; \
        break; \
    case LQ_TYPE_Q4_K: case LQ_TYPE_Q5_K: { \
        int sc, mn; \
        h->p = row + (size_t)(b / 8) * (type == LQ_TYPE_Q4_K ? 144 : 176); h->sub = b % 8; \
        q4k_scale_min(h->p + 4, h->sub, &sc, &mn); \
        h->s0 = h->s1 = HALF(h->p) * (float)sc; \
        h->bias = -(HALF(h->p + 2) * (float)mn); h->has_bias = 1; h->offset = 0; \
        break; \
    } \
    case LQ_TYPE_Q6_K: { \
        /* Sub-block i: half i/4 of the super-block, and within it the quarter t = i%4 (values 32t..32t+31). */ \
        h->p = row + (size_t)(b / 8) * 210; h->sub = b % 8; \
        int half = h->sub / 4, t = h->sub % 4; \
        const int8_t *sc = (const int8_t *)(h->p + 192 + 8 * half); \
        float d = HALF(h->p + 208); \
        h->s0 = d * (float)sc[2 * t]; h->s1 = d * (float)sc[2 * t + 1]; h->offset = 32; \
        break; \
    } \
    }

static inline __attribute__((always_inline)) void block_header(int type, const uint8_t *row, int b, block_head *h) {
    BLOCK_HEADER_BODY(half_to_float)
}

// The 32 unsigned values u of block b, byte by byte.
static inline __attribute__((always_inline)) void unpack_scalar(int type, const block_head *h, uint8_t *u) {
    const uint8_t *p = h->p;
    switch (type) {
    case LQ_TYPE_Q8_0: for (int j = 0; j < 32; j++) u[j] = (uint8_t)(p[2 + j] ^ 0x80); break;
    case LQ_TYPE_Q4_0: case LQ_TYPE_Q4_1: {
        const uint8_t *qs = p + (type == LQ_TYPE_Q4_1 ? 4 : 2);
        for (int j = 0; j < 16; j++) { u[j] = qs[j] & 0xF; u[j + 16] = qs[j] >> 4; }
        break;
    }
    case LQ_TYPE_Q5_0: case LQ_TYPE_Q5_1: {
        // Bit j of the little-endian u32 qh is value j's fifth bit.
        const uint8_t *qh = p + (type == LQ_TYPE_Q5_1 ? 4 : 2), *qs = qh + 4;
        uint32_t bits = load_u32(qh);
        for (int j = 0; j < 16; j++) {
            u[j] = (uint8_t)((qs[j] & 0xF) | (((bits >> j) & 1) << 4));
            u[j + 16] = (uint8_t)((qs[j] >> 4) | (((bits >> (j + 16)) & 1) << 4));
        }
        break;
    }
    case LQ_TYPE_Q4_K: case LQ_TYPE_Q5_K: {
        // Q5_K: value l of sub-block j takes bit j of qh[l] as its fifth bit.
        int q5 = type == LQ_TYPE_Q5_K;
        const uint8_t *qs = p + (q5 ? 48 : 16) + 32 * (h->sub / 2), *qh = p + 16;
        for (int l = 0; l < 32; l++) {
            int nib = (h->sub & 1) ? qs[l] >> 4 : qs[l] & 0xF;
            u[l] = (uint8_t)(q5 ? nib | (((qh[l] >> h->sub) & 1) << 4) : nib);
        }
        break;
    }
    case LQ_TYPE_Q6_K: {
        int half = h->sub / 4, t = h->sub % 4;
        const uint8_t *ql = p + 64 * half + 32 * (t & 1), *qh = p + 128 + 32 * half;
        for (int l = 0; l < 32; l++) {
            int nib = (t >> 1) ? ql[l] >> 4 : ql[l] & 0xF;
            u[l] = (uint8_t)(nib | (((qh[l] >> (2 * t)) & 3) << 4));
        }
        break;
    }
    }
}

// The Float32 values, as Dequantize computes them: s·(u − offset) [+ bias], rounded after each step.
static inline __attribute__((always_inline)) void values_scalar(int type, const uint8_t *row, int b, float *w) {
    if (type == LQ_TYPE_MXFP4) { lq_mxfp4_block_values(row + (size_t)b * 17, w); return; }
    block_head h;
    uint8_t u[32];
    block_header(type, row, b, &h);
    unpack_scalar(type, &h, u);
    for (int l = 0; l < 32; l++) {
        float v = (l < 16 ? h.s0 : h.s1) * (float)((int)u[l] - h.offset);
        w[l] = h.has_bias ? v + h.bias : v;
    }
}

int lq_dequantize_rows(int type, const void *w, size_t row_bytes, int k, int row_begin, int row_end, float *out) {
    int bv = lq_block_values(type);
    if (bv == 0 || k <= 0 || k % bv != 0 || row_bytes != (size_t)(k / bv) * (size_t)lq_block_bytes(type)) return 0;
    if (row_begin < 0 || row_end < row_begin) return 0;
    for (int o = row_begin; o < row_end; o++) {
        const uint8_t *row = (const uint8_t *)w + (size_t)o * row_bytes;
        float *y = out + (size_t)(o - row_begin) * k;
        for (int b = 0; b < k / 32; b++) values_scalar(type, row, b, y + 32 * b);
    }
    return 1;
}

static void matmul_scalar(int type, const uint8_t *w, size_t row_bytes, int k, int row_begin, int row_end,
                          const float *x, int nx, float *y, int ldy) {
    float wv[32];
    for (int o = row_begin; o < row_end; o++) {
        const uint8_t *row = w + (size_t)o * row_bytes;
        float acc[LQ_MAX_BATCH] = {0};
        for (int b = 0; b < k / 32; b++) {
            values_scalar(type, row, b, wv);
            for (int r = 0; r < nx; r++) {
                const float *xr = x + (size_t)r * k + 32 * b;
                float a = acc[r];
                for (int l = 0; l < 32; l++) a += wv[l] * xr[l];
                acc[r] = a;
            }
        }
        for (int r = 0; r < nx; r++) y[(size_t)r * ldy + o] = acc[r];
    }
}

// MARK: AVX2 unpacking (shared by the AVX2 and VNNI paths: both targets include AVX2)

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define VNNI_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

static inline AVX2_TARGET __attribute__((always_inline)) float half_f16c(const uint8_t *p) {
    return _cvtsh_ss((unsigned short)(p[0] | (p[1] << 8)));
}

static inline AVX2_TARGET __attribute__((always_inline)) void block_header_f16c(int type, const uint8_t *row, int b, block_head *h) {
    BLOCK_HEADER_BODY(half_f16c)
}

static inline AVX2_TARGET __m256i nibbles16(const uint8_t *qs) {
    __m128i v = _mm_loadu_si128((const __m128i *)qs);
    __m128i m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

// Byte i of the result is 0x10 when bit i of bits is set, else 0.
static inline AVX2_TARGET __m256i fifth_bits(uint32_t bits) {
    __m256i v = _mm256_set1_epi32((int)bits);
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    v = _mm256_and_si256(_mm256_shuffle_epi8(v, pick), bit);
    return _mm256_and_si256(_mm256_cmpeq_epi8(v, bit), _mm256_set1_epi8(0x10));
}

// The 32 unsigned values u of block b in one register.
static inline AVX2_TARGET __attribute__((always_inline)) __m256i unpack_avx2(int type, const block_head *h) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    const uint8_t *p = h->p;
    switch (type) {
    case LQ_TYPE_Q8_0: return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(p + 2)), _mm256_set1_epi8((char)0x80));
    case LQ_TYPE_Q4_0: return nibbles16(p + 2);
    case LQ_TYPE_Q4_1: return nibbles16(p + 4);
    case LQ_TYPE_Q5_0: return _mm256_or_si256(nibbles16(p + 6), fifth_bits(load_u32(p + 2)));
    case LQ_TYPE_Q5_1: return _mm256_or_si256(nibbles16(p + 8), fifth_bits(load_u32(p + 4)));
    case LQ_TYPE_Q4_K: case LQ_TYPE_Q5_K: {
        int q5 = type == LQ_TYPE_Q5_K;
        __m256i v = _mm256_loadu_si256((const __m256i *)(p + (q5 ? 48 : 16) + 32 * (h->sub / 2)));
        __m256i nib = (h->sub & 1) ? _mm256_and_si256(_mm256_srli_epi16(v, 4), low4) : _mm256_and_si256(v, low4);
        if (!q5) return nib;
        __m256i qh = _mm256_loadu_si256((const __m256i *)(p + 16));
        __m256i bit = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(h->sub)), _mm256_set1_epi8(1));
        return _mm256_or_si256(nib, _mm256_slli_epi16(bit, 4));
    }
    case LQ_TYPE_Q6_K: {
        int half = h->sub / 4, t = h->sub % 4;
        __m256i ql = _mm256_loadu_si256((const __m256i *)(p + 64 * half + 32 * (t & 1)));
        __m256i qh = _mm256_loadu_si256((const __m256i *)(p + 128 + 32 * half));
        __m256i nib = (t >> 1) ? _mm256_and_si256(_mm256_srli_epi16(ql, 4), low4) : _mm256_and_si256(ql, low4);
        __m256i hi = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * t)), _mm256_set1_epi8(3));
        return _mm256_or_si256(nib, _mm256_slli_epi16(hi, 4));
    }
    }
    return _mm256_setzero_si256();
}

static inline AVX2_TARGET float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// MARK: AVX2 path: the block's exact Float32 values, FMA with float activations.

static inline AVX2_TARGET __m256 values8(__m128i bytes8, int offset, float s, float bias, int has_bias) {
    __m256 q = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(bytes8), _mm256_set1_epi32(offset)));
    __m256 v = _mm256_mul_ps(_mm256_set1_ps(s), q);
    return has_bias ? _mm256_add_ps(v, _mm256_set1_ps(bias)) : v;
}

// Inlined with a constant type and row count (see SPECIALISE below), so the switch folds away and the
// accumulators stay in registers.
static inline AVX2_TARGET __attribute__((always_inline)) void avx2_rows(const int type, const int nx, const uint8_t *w, size_t row_bytes,
                                                                       int k, int row_begin, int row_end, const float *x, float *y, int ldy) {
    for (int o = row_begin; o < row_end; o++) {
        const uint8_t *row = w + (size_t)o * row_bytes;
        // Two accumulators a row: one chain of four dependent FMAs a block would wait on their latency.
        __m256 acc[LQ_MAX_BATCH], acc2[LQ_MAX_BATCH];
        for (int r = 0; r < nx; r++) acc[r] = acc2[r] = _mm256_setzero_ps();
        block_head blk;
        for (int b = 0; b < k / 32; b++) {
            block_header_f16c(type, row, b, &blk);
            __m256i u = unpack_avx2(type, &blk);
            __m128i lo = _mm256_castsi256_si128(u), hi = _mm256_extracti128_si256(u, 1);
            __m256 w0 = values8(lo, blk.offset, blk.s0, blk.bias, blk.has_bias);
            __m256 w1 = values8(_mm_srli_si128(lo, 8), blk.offset, blk.s0, blk.bias, blk.has_bias);
            __m256 w2 = values8(hi, blk.offset, blk.s1, blk.bias, blk.has_bias);
            __m256 w3 = values8(_mm_srli_si128(hi, 8), blk.offset, blk.s1, blk.bias, blk.has_bias);
            for (int r = 0; r < nx; r++) {
                const float *xr = x + (size_t)r * k + 32 * b;
                __m256 a = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xr), acc[r]);
                __m256 c = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xr + 8), acc2[r]);
                acc[r] = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xr + 16), a);
                acc2[r] = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xr + 24), c);
            }
        }
        for (int r = 0; r < nx; r++) y[(size_t)r * ldy + o] = hsum8(_mm256_add_ps(acc[r], acc2[r]));
    }
}

// The same Float32 values as values_scalar (one rounded multiply, then one rounded add), eight at a time: prefill
// decodes whole tiles of weights for sgemm, and the scalar decoder was a third of native prefill's time.
static inline AVX2_TARGET __attribute__((always_inline)) void dequantize_avx2_rows(const int type, const uint8_t *w, size_t row_bytes,
                                                                                  int k, int row_begin, int row_end, float *out) {
    for (int o = row_begin; o < row_end; o++) {
        const uint8_t *row = w + (size_t)o * row_bytes;
        float *y = out + (size_t)(o - row_begin) * k;
        block_head blk;
        for (int b = 0; b < k / 32; b++) {
            block_header_f16c(type, row, b, &blk);
            __m256i u = unpack_avx2(type, &blk);
            __m128i lo = _mm256_castsi256_si128(u), hi = _mm256_extracti128_si256(u, 1);
            _mm256_storeu_ps(y + 32 * b, values8(lo, blk.offset, blk.s0, blk.bias, blk.has_bias));
            _mm256_storeu_ps(y + 32 * b + 8, values8(_mm_srli_si128(lo, 8), blk.offset, blk.s0, blk.bias, blk.has_bias));
            _mm256_storeu_ps(y + 32 * b + 16, values8(hi, blk.offset, blk.s1, blk.bias, blk.has_bias));
            _mm256_storeu_ps(y + 32 * b + 24, values8(_mm_srli_si128(hi, 8), blk.offset, blk.s1, blk.bias, blk.has_bias));
        }
    }
}

static AVX2_TARGET void dequantize_avx2(int type, const uint8_t *w, size_t row_bytes, int k, int row_begin, int row_end, float *out) {
    switch (type) {
    case LQ_TYPE_Q4_0: dequantize_avx2_rows(LQ_TYPE_Q4_0, w, row_bytes, k, row_begin, row_end, out); break;
    case LQ_TYPE_Q4_1: dequantize_avx2_rows(LQ_TYPE_Q4_1, w, row_bytes, k, row_begin, row_end, out); break;
    case LQ_TYPE_Q5_0: dequantize_avx2_rows(LQ_TYPE_Q5_0, w, row_bytes, k, row_begin, row_end, out); break;
    case LQ_TYPE_Q5_1: dequantize_avx2_rows(LQ_TYPE_Q5_1, w, row_bytes, k, row_begin, row_end, out); break;
    case LQ_TYPE_Q8_0: dequantize_avx2_rows(LQ_TYPE_Q8_0, w, row_bytes, k, row_begin, row_end, out); break;
    case LQ_TYPE_Q4_K: dequantize_avx2_rows(LQ_TYPE_Q4_K, w, row_bytes, k, row_begin, row_end, out); break;
    case LQ_TYPE_Q5_K: dequantize_avx2_rows(LQ_TYPE_Q5_K, w, row_bytes, k, row_begin, row_end, out); break;
    case LQ_TYPE_Q6_K: dequantize_avx2_rows(LQ_TYPE_Q6_K, w, row_bytes, k, row_begin, row_end, out); break;
    }
}

int lq_dequantize_rows_path(int path, int type, const void *w, size_t row_bytes, int k, int row_begin, int row_end, float *out) {
    // MXFP4 has one decoder (its values are exact in Float32, so a SIMD one would give the same bits).
    if (path == LQ_PATH_SCALAR || type == LQ_TYPE_MXFP4 || !lq_path_supported(path)) return lq_dequantize_rows(type, w, row_bytes, k, row_begin, row_end, out);
    int bv = lq_block_values(type);
    if (bv == 0 || k <= 0 || k % bv != 0 || row_bytes != (size_t)(k / bv) * (size_t)lq_block_bytes(type)) return 0;
    dequantize_avx2(type, (const uint8_t *)w, row_bytes, k, row_begin, row_end, out);
    return 1;
}

// MARK: VNNI paths: quantised activations, integer dot products in int32.

// Scratch layout for nx rows of k values: the quantised values q[nx·k] (int16 or int8), then float d[nx·k/32]
// (each block's scale), then float ds[nx·k/32] (d times the block's sum of q, what a bias multiplies; as
// ggml's block_q8_1 keeps it).
static int act_levels(int path) { return path == LQ_PATH_AVX512VNNI ? 32767 : 127; }
static size_t act_q_bytes(int path, int k, int nx) {
    return ((size_t)nx * k * (path == LQ_PATH_AVX512VNNI ? 2 : 1) + 63) & ~(size_t)63;
}

size_t lq_activation_bytes(int path, int k, int nx) {
    if ((path != LQ_PATH_AVX512VNNI && path != LQ_PATH_AVX512VNNI_INT8) || k <= 0 || nx <= 0) return 0;
    return act_q_bytes(path, k, nx) + (size_t)nx * (k / 32) * 8;
}

// Only the VNNI paths quantise, so this is compiled for their CPUs (roundf becomes inline vector code there,
// where a baseline build calls libm for each value).
static VNNI_TARGET void quantize_activations(int path, const float *x, int k, int nx, void *scratch) {
    const int levels = act_levels(path);
    int16_t *q16 = (int16_t *)scratch;
    int8_t *q8 = (int8_t *)scratch;
    float *d = (float *)((uint8_t *)scratch + act_q_bytes(path, k, nx));
    float *ds = d + (size_t)nx * (k / 32);
    for (int r = 0; r < nx; r++) {
        for (int b = 0; b < k / 32; b++) {
            const float *xb = x + (size_t)r * k + 32 * b;
            float amax = 0;
            for (int l = 0; l < 32; l++) amax = fmaxf(amax, fabsf(xb[l]));
            float scale = amax / (float)levels, inverse = scale != 0 ? 1.0f / scale : 0.0f;
            int s = 0;
            size_t at = (size_t)r * k + 32 * b;
            if (levels == 127) {
                for (int l = 0; l < 32; l++) {
                    float v = fminf(fmaxf(roundf(xb[l] * inverse), -127.0f), 127.0f);
                    q8[at + l] = (int8_t)v;
                    s += (int)v;
                }
            } else {
                for (int l = 0; l < 32; l++) {
                    float v = fminf(fmaxf(roundf(xb[l] * inverse), -32767.0f), 32767.0f);
                    q16[at + l] = (int16_t)v;
                    s += (int)v;
                }
            }
            d[(size_t)r * (k / 32) + b] = scale;
            ds[(size_t)r * (k / 32) + b] = scale * (float)s;
        }
    }
}

void lq_prepare_activations(int path, const float *x, int k, int nx, void *scratch) {
    if ((path != LQ_PATH_AVX512VNNI && path != LQ_PATH_AVX512VNNI_INT8) || !lq_path_supported(path) || k <= 0 || nx <= 0) return;
    quantize_activations(path, x, k, nx, scratch);
}

// int8 activations: u8 × s8 with vpdpbusd, the offset taken off by a second vpdpbusd of offset × x.
static inline VNNI_TARGET __attribute__((always_inline)) void vnni8_rows(const int type, const int nx, const uint8_t *w,
                                                                        size_t row_bytes, int k, int row_begin, int row_end,
                                                                        const void *scratch, float *y, int ldy) {
    const float *d = (const float *)((const uint8_t *)scratch + act_q_bytes(LQ_PATH_AVX512VNNI_INT8, k, nx));
    const float *ds = d + (size_t)nx * (k / 32);
    const int nb = k / 32;
    for (int o = row_begin; o < row_end; o++) {
        const uint8_t *row = w + (size_t)o * row_bytes;
        __m256 acc[LQ_MAX_BATCH];
        float biasAcc[LQ_MAX_BATCH];
        for (int r = 0; r < nx; r++) { acc[r] = _mm256_setzero_ps(); biasAcc[r] = 0; }
        block_head blk;
        for (int b = 0; b < nb; b++) {
            block_header_f16c(type, row, b, &blk);
            const __m256i u = unpack_avx2(type, &blk), off = _mm256_set1_epi8((char)blk.offset);
            const __m256 scales = _mm256_set_m128(_mm_set1_ps(blk.s1), _mm_set1_ps(blk.s0));
            for (int r = 0; r < nx; r++) {
                float dx = d[(size_t)r * nb + b];
                __m256i xq = _mm256_loadu_si256((const __m256i *)((const int8_t *)scratch + (size_t)r * k + 32 * b));
                __m256i lanes = _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, xq);
                if (blk.offset) lanes = _mm256_sub_epi32(lanes, _mm256_dpbusd_epi32(_mm256_setzero_si256(), off, xq));
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lanes), _mm256_mul_ps(scales, _mm256_set1_ps(dx)), acc[r]);
                if (blk.has_bias) biasAcc[r] += blk.bias * ds[(size_t)r * nb + b];
            }
        }
        for (int r = 0; r < nx; r++) y[(size_t)r * ldy + o] = hsum8(acc[r]) + biasAcc[r];
    }
}

// Q4_0, Q4_1 and Q8_0 blocks as the fused loop reads them, in fewer instructions than block_header_f16c and
// unpack_avx2 (decode is bound by this loop's instruction count): Q4_1's scale and bias are adjacent halves,
// converted together; Q8_0's int8 values are widened as they are (what u − 128 gives); the nibbles are widened to
// int16 first and split after (low nibbles values 0-15, high ones 16-31, nibbles16's order). Same values exactly.
static inline VNNI_TARGET __attribute__((always_inline)) int has_fast_block(const int type) {
    return type == LQ_TYPE_Q4_0 || type == LQ_TYPE_Q4_1 || type == LQ_TYPE_Q8_0;
}

static inline VNNI_TARGET __attribute__((always_inline)) __m512i fast_block16(const int type, const uint8_t *row, int b,
                                                                             float *scale, float *bias) {
    if (type == LQ_TYPE_Q8_0) {
        const uint8_t *p = row + (size_t)b * 34;
        *scale = half_f16c(p);
        *bias = 0;
        return _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(p + 2)));
    }
    const uint8_t *p = row + (size_t)b * (type == LQ_TYPE_Q4_1 ? 20 : 18);
    if (type == LQ_TYPE_Q4_1) {
        const __m128 both = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(p)));
        *scale = _mm_cvtss_f32(both);
        *bias = _mm_cvtss_f32(_mm_movehdup_ps(both));
    } else {
        *scale = half_f16c(p);
        *bias = 0;
    }
    const __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(p + (type == LQ_TYPE_Q4_1 ? 4 : 2))));
    __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(v, _mm256_set1_epi16(0x0F))),
                                   _mm256_srli_epi16(v, 4), 1);
    if (type == LQ_TYPE_Q4_0) w = _mm512_sub_epi16(w, _mm512_set1_epi16(8));
    return w;
}

// The int16 path as decode runs it: one block's 32 weights widened to int16 in one 512-bit register, one vpdpwssd
// a block and activation row (each lane sums two products below 2^24, so it converts to float exactly; lanes 0-7
// are values 0-15 and lanes 8-15 values 16-31, which is how Q6_K's two scales apply), then one FMA with the
// block's scale. Blocks alternate between two accumulators and two bias sums, so consecutive blocks do not
// wait on each other's FMA or add (decode is bound by this loop's instruction count, not by memory).
static inline VNNI_TARGET __attribute__((always_inline)) void vnni16_block(const int type, const int nx, const uint8_t *row, int b,
                                                                          int k, const void *scratch, const float *d,
                                                                          const float *ds, __m512 *acc, float *bias) {
    const int nb = k / 32;
    block_head blk;
    __m512i wv;
    if (has_fast_block(type)) {
        wv = fast_block16(type, row, b, &blk.s0, &blk.bias);
        blk.s1 = blk.s0;
        blk.has_bias = type == LQ_TYPE_Q4_1;
    } else {
        block_header_f16c(type, row, b, &blk);
        wv = _mm512_cvtepu8_epi16(unpack_avx2(type, &blk));
        if (blk.offset) wv = _mm512_sub_epi16(wv, _mm512_set1_epi16((short)blk.offset));
    }
    for (int r = 0; r < nx; r++) {
        const int16_t *xr = (const int16_t *)scratch + (size_t)r * k + 32 * b;
        const float dx = d[(size_t)r * nb + b];
        __m512i lanes = _mm512_dpwssd_epi32(_mm512_setzero_si512(), wv, _mm512_loadu_si512((const void *)xr));
        __m512 scale = _mm512_set1_ps(blk.s0 * dx);
        if (type == LQ_TYPE_Q6_K) {
            scale = _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(scale), _mm256_castps_pd(_mm256_set1_ps(blk.s1 * dx)), 1));
        }
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lanes), scale, acc[r]);
        if (blk.has_bias) bias[r] += blk.bias * ds[(size_t)r * nb + b];
    }
}

static inline VNNI_TARGET __attribute__((always_inline)) void vnni16_rows(const int type, const int nx, const uint8_t *w,
                                                                         size_t row_bytes, int k, int row_begin, int row_end,
                                                                         const void *scratch, float *y, int ldy) {
    const float *d = (const float *)((const uint8_t *)scratch + act_q_bytes(LQ_PATH_AVX512VNNI, k, nx));
    const float *ds = d + (size_t)nx * (k / 32);
    const int nb = k / 32;
    for (int o = row_begin; o < row_end; o++) {
        const uint8_t *row = w + (size_t)o * row_bytes;
        __m512 acc0[LQ_MAX_BATCH], acc1[LQ_MAX_BATCH];
        float bias0[LQ_MAX_BATCH], bias1[LQ_MAX_BATCH];
        for (int r = 0; r < nx; r++) { acc0[r] = acc1[r] = _mm512_setzero_ps(); bias0[r] = bias1[r] = 0; }
        int b = 0;
        for (; b + 2 <= nb; b += 2) {
            vnni16_block(type, nx, row, b, k, scratch, d, ds, acc0, bias0);
            vnni16_block(type, nx, row, b + 1, k, scratch, d, ds, acc1, bias1);
        }
        if (b < nb) vnni16_block(type, nx, row, b, k, scratch, d, ds, acc0, bias0);
        for (int r = 0; r < nx; r++) y[(size_t)r * ldy + o] = _mm512_reduce_add_ps(_mm512_add_ps(acc0[r], acc1[r])) + (bias0[r] + bias1[r]);
    }
}

// One instance per (type, row count): a switch over both at the top, constants below it.
#define SPECIALISE_NX(F, T, ...) \
    switch (nx) { \
    case 1: F(T, 1, __VA_ARGS__); break; case 2: F(T, 2, __VA_ARGS__); break; \
    case 3: F(T, 3, __VA_ARGS__); break; case 4: F(T, 4, __VA_ARGS__); break; \
    case 5: F(T, 5, __VA_ARGS__); break; case 6: F(T, 6, __VA_ARGS__); break; \
    case 7: F(T, 7, __VA_ARGS__); break; default: F(T, 8, __VA_ARGS__); break; \
    }
#define SPECIALISE(F, ...) \
    switch (type) { \
    case LQ_TYPE_Q4_0: SPECIALISE_NX(F, LQ_TYPE_Q4_0, __VA_ARGS__) break; \
    case LQ_TYPE_Q4_1: SPECIALISE_NX(F, LQ_TYPE_Q4_1, __VA_ARGS__) break; \
    case LQ_TYPE_Q5_0: SPECIALISE_NX(F, LQ_TYPE_Q5_0, __VA_ARGS__) break; \
    case LQ_TYPE_Q5_1: SPECIALISE_NX(F, LQ_TYPE_Q5_1, __VA_ARGS__) break; \
    case LQ_TYPE_Q5_K: SPECIALISE_NX(F, LQ_TYPE_Q5_K, __VA_ARGS__) break; \
    case LQ_TYPE_Q8_0: SPECIALISE_NX(F, LQ_TYPE_Q8_0, __VA_ARGS__) break; \
    case LQ_TYPE_Q4_K: SPECIALISE_NX(F, LQ_TYPE_Q4_K, __VA_ARGS__) break; \
    case LQ_TYPE_Q6_K: SPECIALISE_NX(F, LQ_TYPE_Q6_K, __VA_ARGS__) break; \
    }

static AVX2_TARGET void matmul_avx2(int type, const uint8_t *w, size_t row_bytes, int k, int row_begin, int row_end,
                                    const float *x, int nx, float *y, int ldy) {
    SPECIALISE(avx2_rows, w, row_bytes, k, row_begin, row_end, x, y, ldy)
}

static VNNI_TARGET void matmul_vnni16(int type, const uint8_t *w, size_t row_bytes, int k, int row_begin, int row_end,
                                      const void *scratch, int nx, float *y, int ldy) {
    SPECIALISE(vnni16_rows, w, row_bytes, k, row_begin, row_end, scratch, y, ldy)
}

static VNNI_TARGET void matmul_vnni8(int type, const uint8_t *w, size_t row_bytes, int k, int row_begin, int row_end,
                                     const void *scratch, int nx, float *y, int ldy) {
    SPECIALISE(vnni8_rows, w, row_bytes, k, row_begin, row_end, scratch, y, ldy)
}

int lq_matmul_rows(int path, int type, const void *w, size_t row_bytes, int k, int row_begin, int row_end,
                   const float *x, int nx, const void *scratch, float *y, int ldy) {
    // MXFP4's SIMD paths are its own (mxfp4_kernels.c); its scalar path is the shared one below.
    if (type == LQ_TYPE_MXFP4 && path != LQ_PATH_SCALAR) return lq_mxfp4_matmul_rows(path, w, row_bytes, k, row_begin, row_end, x, nx, y, ldy);
    int bv = lq_block_values(type);
    if (bv == 0 || k <= 0 || k % bv != 0 || row_bytes != (size_t)(k / bv) * (size_t)lq_block_bytes(type)) return 0;
    if (nx <= 0 || nx > LQ_MAX_BATCH || row_begin < 0 || row_end < row_begin || !lq_path_supported(path)) return 0;
    switch (path) {
    case LQ_PATH_SCALAR: matmul_scalar(type, w, row_bytes, k, row_begin, row_end, x, nx, y, ldy); return 1;
    case LQ_PATH_AVX2: matmul_avx2(type, w, row_bytes, k, row_begin, row_end, x, nx, y, ldy); return 1;
    case LQ_PATH_AVX512VNNI:
        if (!scratch) return 0;
        matmul_vnni16(type, w, row_bytes, k, row_begin, row_end, scratch, nx, y, ldy);
        return 1;
    case LQ_PATH_AVX512VNNI_INT8:
        if (!scratch) return 0;
        matmul_vnni8(type, w, row_bytes, k, row_begin, row_end, scratch, nx, y, ldy);
        return 1;
    }
    return 0;
}
