// The BLAS Lazarus runs, chosen at run time (Sources/COpenBLAS/blas_loader.c): PyPI's scipy-openblas32 from
// .lazarus-deps/, else the system's libopenblas, checked against what CPUID says the CPU can do.
// Not a CBLAS header: only the calls Kernels makes, row-major, behind one loader.
#ifndef LAZARUS_COPENBLAS_H
#define LAZARUS_COPENBLAS_H

/// CPU features Lazarus reads from CPUID (and XGETBV: the OS must save the wide registers too).
enum {
    LAZARUS_CPU_AVX = 1 << 0,
    LAZARUS_CPU_FMA = 1 << 1,
    LAZARUS_CPU_AVX2 = 1 << 2,
    LAZARUS_CPU_AVX512F = 1 << 3,
    LAZARUS_CPU_AVX512BW = 1 << 4,
    LAZARUS_CPU_AVX512DQ = 1 << 5,
    LAZARUS_CPU_AVX512VL = 1 << 6,
    LAZARUS_CPU_AVX512VNNI = 1 << 7,
};

/// Kernel classes, lowest first: what a BLAS core name or a CPU's features amount to for sgemm.
enum {
    LAZARUS_LEVEL_UNKNOWN = -1,
    LAZARUS_LEVEL_GENERIC = 0, // SSE2/SSE3 kernels (Katmai, Prescott, Core2, Nehalem, Barcelona, ...)
    LAZARUS_LEVEL_AVX = 1,     // Sandybridge, Bulldozer
    LAZARUS_LEVEL_AVX2 = 2,    // Haswell, Zen, Piledriver-class FMA kernels excluded
    LAZARUS_LEVEL_AVX512 = 3,  // SkylakeX, CooperLake, SapphireRapids
};

/// Which library was loaded.
enum {
    LAZARUS_BLAS_NONE = 0,
    LAZARUS_BLAS_SCIPY_OPENBLAS = 1, // libscipy_openblas.so, symbols prefixed scipy_
    LAZARUS_BLAS_SYSTEM_OPENBLAS = 2, // libopenblas.so.0 (Debian's libopenblas0)
};

typedef struct {
    int kind;               // LAZARUS_BLAS_*
    char path[1024];        // the file dlopen took
    char config[256];       // openblas_get_config(): "OpenBLAS 0.3.34 DYNAMIC_ARCH ..."
    char core[64];          // openblas_get_corename() after any correction
    int core_level;         // LAZARUS_LEVEL_* of `core`
    int cpu_features;       // LAZARUS_CPU_* bits
    int cpu_level;          // LAZARUS_LEVEL_* the CPU supports
    int corrected;          // 1 when Lazarus overrode OPENBLAS_CORETYPE or reloaded with a better core
    int generic_on_capable; // 1 when the core still runs below the CPU's class (warned on stderr)
    char note[768];         // what was done and why, empty when nothing was
    int pool_threads;       // threads the library started while it loaded (its idle pool; Lazarus asks for none)
} lazarus_blas_info;

/// Loads the BLAS on first call (thread-safe); later calls return the same record.
const lazarus_blas_info *lazarus_blas_info_get(void);

/// Row-major C = alpha·op(A)·op(B) + beta·C; trans_a / trans_b are 0 or 1.
void lazarus_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc);

/// The most workers one product may use (Matmul splits it; OpenBLAS itself always runs one thread). Starts at
/// the thread count the user asked OpenBLAS for (OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS, OMP_NUM_THREADS), else
/// the usable cores.
void lazarus_blas_set_threads(int n);
int lazarus_blas_get_threads(void);

/// CPU features, from CPUID on the running machine (no BLAS load).
int lazarus_cpu_features(void);
/// The kernel class of a features bitmask, and of an OpenBLAS core name (case-insensitive; UNKNOWN if not listed).
int lazarus_level_of_features(int features);
int lazarus_level_of_core(const char *core);
/// The OpenBLAS core Lazarus asks for when the library's own choice is generic: SkylakeX, Haswell or Sandybridge.
const char *lazarus_core_for_level(int level);

/// Cores this process may use (its affinity mask).
int lazarus_cpu_usable_cores(void);
/// Usable cores minus those other processes kept busy over the last sampling window (at least 1). Samples
/// /proc/stat and this process's own CPU time at most every `interval_ms`; between samples returns the last value.
int lazarus_cpu_free_cores(int interval_ms);
/// The CPU time other processes used over the last window, in cores (for reports; -1 before two samples).
double lazarus_cpu_others_busy(void);
/// Busy ticks of one /proc/stat cpu line (user nice system idle iowait irq softirq steal). Niced time counts as
/// busy only when `count_nice` (this process is niced itself): a nice-0 process takes the CPU from niced ones.
unsigned long long lazarus_busy_ticks(const unsigned long long ticks[8], int count_nice);

#endif
