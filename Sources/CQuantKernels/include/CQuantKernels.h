// Fused dequantise-and-dot kernels over ggml blocks kept as the GGUF file stores them (Q8_0, Q4_0, Q4_1,
// Q5_0, Q5_1, Q4_K, Q5_K, Q6_K). Paths in one binary, chosen at run time by CPUID: a scalar reference, AVX2+FMA (float
// activations), AVX-512 VNNI with activations quantised to int16 per 32-value block (the default where the CPU
// has it), and the same with int8 activations as ggml quantises them (faster, far less exact; never a default).
// Not a BLAS and not a quantiser of weights: weights come from the file; Kernels/QuantizedMatrix.swift checks them.
#ifndef LAZARUS_CQUANTKERNELS_H
#define LAZARUS_CQUANTKERNELS_H
#include <stddef.h>
#include <stdint.h>

#include "LazarusRowPool.h" // the row pool and the fused and tiled products built on these kernels
#include "LazarusSmallGemm.h" // packing-free Float32 products with few activation rows

/// The block types, numbered as ggml numbers them (GGMLType's raw values).
enum {
    LQ_TYPE_Q4_0 = 2,
    LQ_TYPE_Q4_1 = 3,
    LQ_TYPE_Q5_0 = 6,
    LQ_TYPE_Q5_1 = 7,
    LQ_TYPE_Q8_0 = 8,
    LQ_TYPE_Q4_K = 12,
    LQ_TYPE_Q5_K = 13,
    LQ_TYPE_Q6_K = 14,
    LQ_TYPE_MXFP4 = 39, // GPT-OSS's experts: mxfp4_kernels.c, float activations on every path
};

/// Kernel paths, lowest first.
enum {
    LQ_PATH_SCALAR = 0,
    LQ_PATH_AVX2 = 1,       // AVX2 + FMA, float activations
    LQ_PATH_AVX512VNNI = 2, // AVX-512 VNNI (VL/BW): vpdpwssd, int16 activations per 32-value block
    LQ_PATH_AVX512VNNI_INT8 = 3, // AVX-512 VNNI: vpdpbusd, int8 activations per 32-value block (ggml's scheme)
    LQ_PATH_COUNT = 4,
};

/// The most activation rows one fused call handles; more go through dequantise + sgemm (QuantizedMatrix.swift).
#define LQ_MAX_BATCH 8

/// Values and bytes of one block of `type`; 0 when the type has no kernel here.
int lq_block_values(int type);
int lq_block_bytes(int type);

/// 1 when this CPU (and its OS) can run `path`.
int lq_path_supported(int path);
/// The best path this CPU runs.
int lq_best_path(void);
/// The path calls use when not forced: $LAZARUS_KERNEL (a path's name) if set and runnable, else the best.
/// Read once; an unknown or unrunnable value is reported by lq_env_note().
int lq_default_path(void);
/// Why $LAZARUS_KERNEL was ignored, or "" when it was not.
const char *lq_env_note(void);
/// Forces a path for the calling thread (tests); a negative value goes back to the default. Returns 0 if not runnable.
int lq_force_path(int path);
/// The path calls on this thread run now (forced, else the default).
int lq_current_path(void);
/// "scalar", "avx2", "avx512vnni", "avx512vnni-int8".
const char *lq_path_name(int path);

/// Bytes of the scratch a path needs to prepare `nx` activation rows of `k` values (0 for the float paths).
size_t lq_activation_bytes(int path, int k, int nx);
/// Prepares the activations once per product (the VNNI paths quantise them to int16 or int8 per 32-value
/// block, with each block's scale and that scale times the block's sum). k must be a multiple of 32.
void lq_prepare_activations(int path, const float *x, int k, int nx, void *scratch);

/// y[r·ldy + o] = Σ_i W[o, i]·x[r·k + i] for output rows o in [row_begin, row_end) and r < nx ≤ LQ_MAX_BATCH.
/// W's row o is `row_bytes` bytes at w + o·row_bytes: k / block_values blocks of `type`.
/// `scratch` is what lq_prepare_activations filled for the same path, x, k and nx.
/// Returns 0 on an unknown type, an unrunnable path or a bad size (nothing written).
int lq_matmul_rows(int path, int type, const void *w, size_t row_bytes, int k, int row_begin, int row_end,
                   const float *x, int nx, const void *scratch, float *y, int ldy);

/// Dequantises rows [row_begin, row_end) into out (row-major, k values a row), exactly as ModelFiles' Dequantize.
int lq_dequantize_rows(int type, const void *w, size_t row_bytes, int k, int row_begin, int row_end, float *out);

/// MXFP4 (mxfp4_kernels.c); lq_matmul_rows and lq_dequantize_rows forward type 39 to these. The VNNI paths run
/// AVX-512F with float activations for it and need no scratch.
int lq_mxfp4_matmul_rows(int path, const void *w, size_t row_bytes, int k, int row_begin, int row_end,
                         const float *x, int nx, float *y, int ldy);
int lq_mxfp4_dequantize_rows(const void *w, size_t row_bytes, int k, int row_begin, int row_end, float *out);
/// One MXFP4 block's 32 Float32 values (the decoder the scalar driver in quant_kernels.c uses for type 39).
void lq_mxfp4_block_values(const uint8_t *block, float *w);

#endif
