// llama.cpp's converter reorders the rows of each attention head of W_q and W_k so that RoPE can rotate
// neighbouring pairs (x0,x1), (x2,x3), …; Hugging Face rotates halves (x_i, x_{i+Dh/2}). Lazarus keeps the
// Hugging Face layout everywhere, so GGUF Q/K weights are un-permuted on load.
//
// The converter views a head's Dh rows as [2, Dh/2] and transposes to [Dh/2, 2]: its row 2i + j is the
// original row j·Dh/2 + i. Un-permuting reads it back the other way.
import Kernels

public enum QKPermutation {
    /// Rows in llama.cpp's order → rows in Hugging Face's order. w: [heads·Dh, in].
    public static func toHuggingFace(_ w: Matrix, heads: Int) -> Matrix {
        precondition(heads > 0 && w.rows % heads == 0 && (w.rows / heads) % 2 == 0, "QKPermutation: \(w.rows) rows for \(heads) heads")
        let dh = w.rows / heads, half = dh / 2
        var out = Matrix(rows: w.rows, cols: w.cols)
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let src = h * dh + 2 * i + j
                    let dst = h * dh + j * half + i
                    Elementwise.copyRows(w, from: src, count: 1, into: &out.values, at: dst)
                }
            }
        }
        return out
    }

    /// Hugging Face's order → llama.cpp's order (what the converter does); used to write GGUF files in tests.
    public static func toLlamaCpp(_ w: Matrix, heads: Int) -> Matrix {
        precondition(heads > 0 && w.rows % heads == 0 && (w.rows / heads) % 2 == 0, "QKPermutation: \(w.rows) rows for \(heads) heads")
        let dh = w.rows / heads, half = dh / 2
        var out = Matrix(rows: w.rows, cols: w.cols)
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    Elementwise.copyRows(w, from: h * dh + j * half + i, count: 1, into: &out.values, at: h * dh + 2 * i + j)
                }
            }
        }
        return out
    }
}
