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
/// order), AVX2 + FMA (8 lanes, one accumulator an output), AVX-512F on the VNNI paths (16 lanes). The product
/// is cut into lq_small_xwt_parts(k, n) parts (stretches of W's rows, fixed by the shape); a call computes parts
/// [first_part, end_part), so callers share them over their own workers (Matmul's, as its sgemm blocks).
/// Returns 0, writing nothing, when the path cannot run here or a size or part is out of range.
int lq_small_xwt(int path, const float *x, int m, int k, const float *w, int n, float *y, int ldy,
                 float alpha, int accumulate, int first_part, int end_part);
int lq_small_xwt_parts(int k, int n);

/// The input gradient of a linear layer: dx[i·k + c] (+)= Σ_j dy[i·n + j]·W[j·k + c], for dy [m, n] and
/// W [n, k] row-major, summed over j in order (one FMA a term on the SIMD paths, a rounded multiply and add on
/// scalar), then added to dx's values when accumulate (as sgemm's beta = 1). Parts are stretches of W's columns, lq_small_xw_parts(k).
int lq_small_xw(int path, const float *dy, int m, int n, const float *w, int k, float *dx, int accumulate,
                int first_part, int end_part);
int lq_small_xw_parts(int k);

#endif
