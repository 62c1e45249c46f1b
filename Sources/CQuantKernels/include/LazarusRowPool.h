// Row-split products for decode and small batches: several weight matrices that share one input (q/k/v,
// gate/up, or one matrix alone) multiplied in a single hand-off to a persistent helper thread, instead of one
// thread-pool dispatch per matrix. Float32 and quantised-block weights alike (CQuantKernels.h).
//
// The helper spins for a short bounded time between products, then sleeps on a condition variable; the caller
// works through the chunks itself, so a helper that another process keeps off its core costs only the chunk it
// has already claimed, never the product.
#ifndef LAZARUS_ROW_POOL_H
#define LAZARUS_ROW_POOL_H
#include <stddef.h>

/// A part's `type` for float32 weights (rows of k floats; row_bytes must be 4·k).
#define LQ_TYPE_F32 0

/// One weight matrix of a fused product: y[r·ldy + o] = Σ_i W[o, i]·x[r·k + i] for its `rows` output rows o.
typedef struct {
    int type;            // LQ_TYPE_F32 or a CQuantKernels block type
    const void *w;       // rows × row_bytes bytes
    size_t row_bytes;
    int rows;
    float *y;
    int ldy;
} lq_linear_part;

/// Float32 rows: y[r·ldy + o] = W[o]·x[r] for o in [row_begin, row_end), r < nx ≤ LQ_MAX_BATCH. Paths as
/// CQuantKernels' (scalar: one sum in order; avx2: 8 lanes, 4 accumulators; the VNNI paths: AVX-512F, 16 lanes).
/// Each output is one row's dot product, so how rows are split over threads never changes a result.
int lq_f32_rows(int path, const float *w, int k, int row_begin, int row_end, const float *x, int nx, float *y, int ldy);

/// Every part's product with the same activations x [nx, k] (nx ≤ LQ_MAX_BATCH), the rows of all parts split
/// over up to `workers` threads (the caller and workers − 1 helpers) in chunks claimed one at a time.
/// `scratch` is lq_prepare_activations's for `path`, x, k and nx when a quantised part runs a VNNI path (else NULL).
/// Returns 0, writing nothing, when a part's size or type does not fit or the path cannot run here.
int lq_linear_parallel(int path, const lq_linear_part *parts, int nparts, int k, const float *x, int nx,
                       const void *scratch, int workers);

/// More activation rows than the fused kernels take (prefill): W's rows in tiles, each decoded to Float32 (exactly
/// as lq_dequantize_rows, with the path's SIMD decoder) into a buffer of the thread's own and multiplied by sgemm
/// into y's columns; the tiles are shared out over up to `workers` threads. Tile boundaries depend on the shape
/// alone, so the split over threads changes no result. y[r·ldy + o] for r < m, o < n.
int lq_tiled_matmul(int path, int type, const void *w, size_t row_bytes, int k, int n, const float *x, int m,
                    float *y, int ldy, int workers);

/// lq_dequantize_rows on a path: the same Float32 values, by the AVX2 decoder where the path has AVX2.
int lq_dequantize_rows_path(int path, int type, const void *w, size_t row_bytes, int k, int row_begin, int row_end, float *out);

/// Runs fn(ctx, i) for i in [0, count) on up to `workers` threads (the caller included). Calls that find the
/// pool busy (another thread's product) run inline. fn must not call back into the pool.
void lq_pool_run(int count, int workers, void (*fn)(void *ctx, int index), void *ctx);

#endif
