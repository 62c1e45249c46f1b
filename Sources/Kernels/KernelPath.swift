// Which code the quantised-weight kernels run (Sources/CQuantKernels): chosen by CPUID at run time, the
// best the CPU has unless a test forces one or $LAZARUS_KERNEL (a diagnostic, never needed for speed) names one.
import CQuantKernels

public enum KernelPath: Int32, Sendable, CaseIterable, CustomStringConvertible {
    /// The reference: each value decoded as ModelFiles' Dequantize decodes it, float activations, one sum in order.
    case scalar = 0
    /// AVX2 + FMA: the same Float32 weight values, eight sums at once (differs from scalar by summation order only).
    case avx2 = 1
    /// AVX-512 VNNI: activations quantised to int16 per 32-value block, integer dot products, scales in float.
    case avx512vnni = 2
    /// The same with int8 activations (ggml's scheme): faster, far less exact; never chosen unless forced.
    case avx512vnniInt8 = 3

    public var description: String { String(cString: lq_path_name(rawValue)) }

    public init?(name: String) {
        guard let p = KernelPath.allCases.first(where: { $0.description == name }) else { return nil }
        self = p
    }

    /// Whether this CPU (and its OS) can run the path.
    public var isSupported: Bool { lq_path_supported(rawValue) != 0 }

    /// The best path this CPU runs.
    public static var best: KernelPath { KernelPath(rawValue: lq_best_path()) ?? .scalar }

    /// What calls run when nothing is forced: $LAZARUS_KERNEL if set and runnable, else `best`.
    public static var defaultPath: KernelPath { KernelPath(rawValue: lq_default_path()) ?? .scalar }

    /// Why $LAZARUS_KERNEL was ignored, or nil.
    public static var environmentNote: String? {
        let s = String(cString: lq_env_note())
        return s.isEmpty ? nil : s
    }

    /// The path quantised products called on this thread run now.
    public static var current: KernelPath { KernelPath(rawValue: lq_current_path()) ?? .scalar }

    /// Forces `path` for products called on this thread (nil: back to the default), so tests comparing paths can run
    /// side by side; a product splits its rows over worker threads with the path it read here. Returns false when
    /// the CPU cannot run it.
    @discardableResult
    public static func force(_ path: KernelPath?) -> Bool { lq_force_path(path?.rawValue ?? -1) != 0 }
}
