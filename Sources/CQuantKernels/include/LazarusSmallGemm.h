// Float32 products with few activation rows and a large frozen weight, without packing (small_gemm.c).
//
// At 49–64 rows (a LoRA step's batch) OpenBLAS copies the whole weight into its panel layout on every call;
// on a 1B model that copy was 40% of a training step. These kernels read W as it is stored, once per call.
//
// Every output element is computed by the same sequence of operations whatever tile, block or thread it falls
// in, so the result depends on the path alone — never on the worker count or timing.
#ifndef LAZARUS_SMALL_GEMM_H
#define LAZARUS_SMALL_GEMM_H

/// The forward of a linear layer: y[i·ldy + j] = alpha·(x[i]·W[j]) (+ y[i·ldy + j] when accumulate), for
/// x [m, k] and W [n, k] row-major. Paths as CQuantKernels': scalar (one rounded multiply and add a term, in
/// order), AVX2 + FMA (8 lanes, one accumulator an output), AVX-512F on the VNNI paths (16 lanes). The work is
/// shared over up to `workers` threads (the row pool) in blocks of W's rows fixed by the shape.
/// Returns 0, writing nothing, when the path cannot run here or a size is out of range.
int lq_small_xwt(int path, const float *x, int m, int k, const float *w, int n, float *y, int ldy,
                 float alpha, int accumulate, int workers);

/// The input gradient of a linear layer: dx[i·k + c] (+)= Σ_j dy[i·n + j]·W[j·k + c], for dy [m, n] and
/// W [n, k] row-major, summed over j in order (one FMA a term on the SIMD paths, a rounded multiply and add on
/// scalar), starting from dx's values when accumulate. Work shared in blocks of W's columns fixed by the shape.
int lq_small_xw(int path, const float *dy, int m, int n, const float *w, int k, float *dx, int accumulate, int workers);

#endif
