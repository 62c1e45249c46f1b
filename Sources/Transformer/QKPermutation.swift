// llama.cpp's converter reorders the rows of each attention head of W_q and W_k so that RoPE can rotate
// neighbouring pairs (x0,x1), (x2,x3), …; Hugging Face rotates halves (x_i, x_{i+Dh/2}). Lazarus keeps the
// Hugging Face layout everywhere, so GGUF Q/K weights are un-permuted on load.
//
// The converter views a head's Dh rows as [2, Dh/2] and transposes to [Dh/2, 2]: its row 2i + j is the
// original row j·Dh/2 + i. Un-permuting reads it back the other way.
import Kernels

public enum QKPermutation {
    /// Rows in llama.cpp's order → rows in Hugging Face's order. w: [heads·Dh, in].
    public static func toHuggingFace(_ w: Matrix, heads: Int) -> Matrix { permute(w, heads: heads, toLlamaCpp: false) }

    /// Hugging Face's order → llama.cpp's order (what the converter does); used to write GGUF files in tests.
    public static func toLlamaCpp(_ w: Matrix, heads: Int) -> Matrix { permute(w, heads: heads, toLlamaCpp: true) }

    /// For quantised rows, which move whole: entry r of the result is the llama.cpp row that becomes Hugging Face row r.
    public static func huggingFaceRowOrder(rows: Int, heads: Int) -> [Int] {
        precondition(heads > 0 && rows % heads == 0 && (rows / heads) % 2 == 0, "QKPermutation: \(rows) rows for \(heads) heads")
        let dh = rows / heads, half = dh / 2
        var order = [Int](repeating: 0, count: rows)
        for h in 0..<heads { for i in 0..<half { for j in 0..<2 { order[h * dh + j * half + i] = h * dh + 2 * i + j } } }
        return order
    }

    /// llama.cpp's row 2i + j of a head is Hugging Face's row j·Dh/2 + i; the two directions swap source and target.
    private static func permute(_ w: Matrix, heads: Int, toLlamaCpp: Bool) -> Matrix {
        precondition(heads > 0 && w.rows % heads == 0 && (w.rows / heads) % 2 == 0, "QKPermutation: \(w.rows) rows for \(heads) heads")
        let dh = w.rows / heads, half = dh / 2
        var out = Matrix(rows: w.rows, cols: w.cols)
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let llamaCpp = h * dh + 2 * i + j, huggingFace = h * dh + j * half + i
                    Elementwise.copyRows(w, from: toLlamaCpp ? huggingFace : llamaCpp, count: 1, into: &out.values,
                                         at: toLlamaCpp ? llamaCpp : huggingFace)
                }
            }
        }
        return out
    }
}
