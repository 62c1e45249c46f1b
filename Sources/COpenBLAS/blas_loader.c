// The BLAS loader: finds and dlopens the BLAS on first use, checks the core OpenBLAS picked against the
// CPU's features, and sizes OpenBLAS's thread pool to the cores other processes leave free.
// Not a BLAS: every product goes to the loaded library. docs/performance.md says why this design.
#define _GNU_SOURCE
#include "COpenBLAS.h"

#include <cpuid.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

// MARK: CPU features

static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

int lazarus_cpu_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    // AVX needs the OS to save the YMM state (OSXSAVE and XCR0 bits 1-2); AVX-512 also opmask and ZMM (bits 5-7).
    if (!((c >> 27) & 1) || !((c >> 28) & 1)) return 0;
    unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0;
    int f = LAZARUS_CPU_AVX;
    if ((c >> 12) & 1) f |= LAZARUS_CPU_FMA;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        if ((b >> 5) & 1) f |= LAZARUS_CPU_AVX2;
        if ((xcr0 & 0xe6) == 0xe6) {
            if ((b >> 16) & 1) f |= LAZARUS_CPU_AVX512F;
            if ((b >> 17) & 1) f |= LAZARUS_CPU_AVX512DQ;
            if ((b >> 30) & 1) f |= LAZARUS_CPU_AVX512BW;
            if ((b >> 31) & 1) f |= LAZARUS_CPU_AVX512VL;
            if ((c >> 11) & 1) f |= LAZARUS_CPU_AVX512VNNI;
        }
    }
    return f;
}

int lazarus_level_of_features(int f) {
    const int skylakex = LAZARUS_CPU_AVX512F | LAZARUS_CPU_AVX512DQ | LAZARUS_CPU_AVX512BW | LAZARUS_CPU_AVX512VL;
    if ((f & skylakex) == skylakex) return LAZARUS_LEVEL_AVX512;
    if ((f & (LAZARUS_CPU_AVX2 | LAZARUS_CPU_FMA)) == (LAZARUS_CPU_AVX2 | LAZARUS_CPU_FMA)) return LAZARUS_LEVEL_AVX2;
    if (f & LAZARUS_CPU_AVX) return LAZARUS_LEVEL_AVX;
    return LAZARUS_LEVEL_GENERIC;
}

// OpenBLAS's x86-64 core names (driver/others/dynamic.c's corename table) by the widest vectors their sgemm uses.
static const struct { const char *name; int level; } core_levels[] = {
    {"Katmai", 0}, {"Coppermine", 0}, {"Northwood", 0}, {"Prescott", 0}, {"Banias", 0}, {"Atom", 0},
    {"Core2", 0}, {"Penryn", 0}, {"Dunnington", 0}, {"Nehalem", 0}, {"Opteron", 0}, {"Opteron_SSE3", 0},
    {"Barcelona", 0}, {"Nano", 0}, {"Bobcat", 0}, {"Generic", 0},
    {"Sandybridge", 1}, {"Bulldozer", 1}, {"Piledriver", 1}, {"Steamroller", 1}, {"Excavator", 1},
    {"Haswell", 2}, {"Zen", 2},
    {"SkylakeX", 3}, {"CooperLake", 3}, {"SapphireRapids", 3},
};

int lazarus_level_of_core(const char *core) {
    if (!core) return LAZARUS_LEVEL_UNKNOWN;
    for (size_t i = 0; i < sizeof core_levels / sizeof core_levels[0]; i++)
        if (strcasecmp(core, core_levels[i].name) == 0) return core_levels[i].level;
    return LAZARUS_LEVEL_UNKNOWN;
}

const char *lazarus_core_for_level(int level) {
    switch (level) {
    case LAZARUS_LEVEL_AVX512: return "SkylakeX";
    case LAZARUS_LEVEL_AVX2: return "Haswell";
    case LAZARUS_LEVEL_AVX: return "Sandybridge";
    default: return "Prescott";
    }
}

/// A core below AVX2-class kernels on a CPU that has them (or below AVX on an AVX CPU): the failure of
/// issue 11, OpenBLAS 0.3.21 calling a 2023 Xeon "Prescott". Haswell kernels on an AVX-512 CPU are not
/// flagged: OpenBLAS picks them on purpose for Zen, and they reach most of the AVX-512 figure.
static int is_generic_for(int core_level, int cpu_level) {
    if (core_level == LAZARUS_LEVEL_UNKNOWN) return 0;
    int wanted = cpu_level < LAZARUS_LEVEL_AVX2 ? cpu_level : LAZARUS_LEVEL_AVX2;
    return core_level < wanted;
}

// MARK: Cores other processes leave free

static int usable_cores_cached;

int lazarus_cpu_usable_cores(void) {
    if (usable_cores_cached > 0) return usable_cores_cached;
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    usable_cores_cached = n > 0 ? n : 1;
    return usable_cores_cached;
}

unsigned long long lazarus_busy_ticks(const unsigned long long v[8], int count_nice) {
    // user nice system idle iowait irq softirq steal: idle and iowait are the free time; steal is time
    // the hypervisor gave to another guest, which a thread here could not use either. Niced processes (other
    // engineers' builds at nice 15) get a few percent of a core against a nice-0 thread, so for a process at
    // normal priority their time is not taken from it; a niced process competes with them and counts it.
    return v[0] + (count_nice ? v[1] : 0) + v[2] + v[5] + v[6] + v[7];
}

/// Busy and total ticks summed over the CPUs this process may run on (per-CPU lines of /proc/stat, so
/// a machine with more cores than the affinity mask does not dilute the count).
static int read_cpu_ticks(unsigned long long *busy, unsigned long long *total) {
    errno = 0;
    int niceness = getpriority(PRIO_PROCESS, 0);
    int count_nice = !(niceness == -1 && errno != 0) && niceness > 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    cpu_set_t set;
    int have_mask = sched_getaffinity(0, sizeof set, &set) == 0;
    char line[512];
    unsigned long long b = 0, t = 0;
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        int cpu;
        unsigned long long v[8] = {0};
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9') continue;
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7]) < 5)
            continue;
        if (have_mask && (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set))) continue;
        b += lazarus_busy_ticks(v, count_nice);
        t += v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
        found = 1;
    }
    fclose(f);
    *busy = b;
    *total = t;
    return found;
}

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static atomic_flag sampling = ATOMIC_FLAG_INIT;
static _Atomic int free_cores_last = 0;
static _Atomic double others_busy_last = -1;
static double sample_wall, sample_self;
static unsigned long long sample_busy, sample_total;

int lazarus_cpu_free_cores(int interval_ms) {
    int usable = lazarus_cpu_usable_cores();
    double now = seconds(CLOCK_MONOTONIC);
    int last = atomic_load(&free_cores_last);
    if (last > 0 && now - sample_wall < interval_ms / 1000.0) return last;
    // One thread samples; the others keep the last value rather than wait.
    if (atomic_flag_test_and_set(&sampling)) return last > 0 ? last : usable;
    unsigned long long busy, total;
    double self = seconds(CLOCK_PROCESS_CPUTIME_ID);
    int result = last > 0 ? last : usable;
    if (read_cpu_ticks(&busy, &total)) {
        if (sample_wall > 0 && total > sample_total) {
            double tick = (double)sysconf(_SC_CLK_TCK);
            double wall = now - sample_wall;
            // Other processes' CPU time = all busy time on our CPUs minus our own, over the window, in cores.
            double others = ((double)(busy - sample_busy) / tick - (self - sample_self)) / wall;
            if (others < 0) others = 0;
            atomic_store(&others_busy_last, others);
            int taken = (int)(others + 0.5);
            result = usable - taken;
            if (result < 1) result = 1;
        }
        sample_wall = now;
        sample_self = self;
        sample_busy = busy;
        sample_total = total;
    }
    atomic_store(&free_cores_last, result);
    atomic_flag_clear(&sampling);
    return result;
}

double lazarus_cpu_others_busy(void) { return atomic_load(&others_busy_last); }

// MARK: Loading

typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*string_fn)(void);

static struct {
    void *handle;
    sgemm_fn sgemm;
    set_threads_fn set_threads;
    get_threads_fn get_threads;
    string_fn corename;
    string_fn config;
} blas;

static lazarus_blas_info info;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static _Atomic int thread_cap = 0;        // the most workers one product may use; 0 until the library loads

static void note(const char *fmt, const char *a, const char *b, const char *c) {
    size_t used = strlen(info.note);
    if (used + 2 >= sizeof info.note) return;
    if (used > 0) { info.note[used++] = ' '; info.note[used] = 0; }
    snprintf(info.note + used, sizeof info.note - used, fmt, a, b, c);
}

static void *symbol(void *h, const char *prefix, const char *name) {
    char full[128];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return dlsym(h, full);
}

/// dlopens `path` and resolves the five calls with the library's symbol prefix; 0 when any is missing.
static int open_blas(const char *path, const char *prefix) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) return 0;
    blas.sgemm = (sgemm_fn)symbol(h, prefix, "cblas_sgemm");
    blas.set_threads = (set_threads_fn)symbol(h, prefix, "openblas_set_num_threads");
    blas.get_threads = (get_threads_fn)symbol(h, prefix, "openblas_get_num_threads");
    blas.corename = (string_fn)symbol(h, prefix, "openblas_get_corename");
    blas.config = (string_fn)symbol(h, prefix, "openblas_get_config");
    if (!blas.sgemm || !blas.set_threads || !blas.get_threads || !blas.corename || !blas.config) {
        dlclose(h);
        return 0;
    }
    blas.handle = h;
    return 1;
}

static void close_blas(void) {
    if (blas.handle) dlclose(blas.handle);
    memset(&blas, 0, sizeof blas);
}

static int current_core_level(void) { return lazarus_level_of_core(blas.corename()); }

/// scipy-openblas32 as scripts/bootstrap.sh installs it: .lazarus-deps/ in the package folder, found by walking
/// up from the running executable (.build/release/lazarus, or the test bundle beside it).
static int find_scipy_openblas(char *out, size_t size) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 0;
    exe[n] = 0;
    for (char *slash = strrchr(exe, '/'); slash; slash = strrchr(exe, '/')) {
        *slash = 0;
        snprintf(out, size, "%s/.lazarus-deps/scipy-openblas32/lib/libscipy_openblas.so", exe[0] ? exe : "");
        if (access(out, R_OK) == 0) return 1;
    }
    return 0;
}

/// Opens one candidate; if its own choice of core is generic for this CPU, reopens it with OPENBLAS_CORETYPE
/// set to the core the CPU can run (OpenBLAS reads it when the library loads), then puts the variable back.
/// Returns 1 with the library open and a non-generic core, 0 with nothing open.
static int open_checked(const char *path, const char *prefix, int kind) {
    if (!open_blas(path, prefix)) return 0;
    char chosen[64];
    snprintf(chosen, sizeof chosen, "%s", blas.corename());
    if (!is_generic_for(current_core_level(), info.cpu_level)) {
        info.kind = kind;
        return 1;
    }
    close_blas();
    const char *forced = lazarus_core_for_level(info.cpu_level);
    char *saved = getenv("OPENBLAS_CORETYPE");
    char saved_copy[64] = {0};
    if (saved) snprintf(saved_copy, sizeof saved_copy, "%s", saved);
    setenv("OPENBLAS_CORETYPE", forced, 1);
    int opened = open_blas(path, prefix);
    if (saved) setenv("OPENBLAS_CORETYPE", saved_copy, 1); else unsetenv("OPENBLAS_CORETYPE");
    if (!opened) return 0;
    if (is_generic_for(current_core_level(), info.cpu_level)) {
        close_blas();
        note("%s chose the generic core %s and kept it when asked for %s.", path, chosen, forced);
        return 0;
    }
    note("%s chose the generic core %s for this CPU; reloaded with OPENBLAS_CORETYPE=%s.", path, chosen, forced);
    info.kind = kind;
    info.corrected = 1;
    return 1;
}

/// Entries of /proc/self/task: this process's threads (0 when it cannot be read).
static int count_own_threads(void) {
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return 0;
    int n = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks))) if (entry->d_name[0] != '.') n++;
    closedir(tasks);
    return n;
}

static void load_blas(void) {
    info.cpu_features = lazarus_cpu_features();
    info.cpu_level = lazarus_level_of_features(info.cpu_features);
    const char *cpu_name = lazarus_core_for_level(info.cpu_level);

    // A user's OPENBLAS_CORETYPE that names generic kernels for this CPU is the failure this loader exists to
    // prevent; it is set aside while the library loads (and restored after), and the report says so.
    char *asked = getenv("OPENBLAS_CORETYPE");
    char asked_copy[64] = {0};
    int set_aside = 0;
    if (asked) {
        snprintf(asked_copy, sizeof asked_copy, "%s", asked);
        if (is_generic_for(lazarus_level_of_core(asked_copy), info.cpu_level)) {
            unsetenv("OPENBLAS_CORETYPE");
            set_aside = 1;
            info.corrected = 1;
            note("OPENBLAS_CORETYPE=%s asks for generic kernels on a CPU that runs %s ones; ignored.", asked_copy, cpu_name, "");
        }
    }

    // OpenBLAS starts its thread pool while it loads (one thread a core beyond the caller's), and each new thread
    // busy-waits for work for 2^28 cycles (~0.1 s) before it sleeps. Lazarus never gives that pool work (see
    // below), so the spinning only took a core from Lazarus's own workers: the first 0.1 s of every process ran
    // two workers on one core (a 1024^3 sgemm, the bench's first figure, at 240 GFLOP/s on two cores against
    // 440-480 once the pool slept; docs/performance.md). Asking for one thread while the library loads starts
    // no pool at all. The user's own request (OPENBLAS_NUM_THREADS, then GOTO_NUM_THREADS, then
    // OMP_NUM_THREADS, as OpenBLAS reads them) still sets the cap on Lazarus's workers.
    int requested = 0;
    const char *thread_variables[] = {"OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"};
    for (int v = 0; v < 3 && requested <= 0; v++) {
        const char *value = getenv(thread_variables[v]);
        if (value) requested = atoi(value);
    }
    char *saved_threads = getenv("OPENBLAS_NUM_THREADS");
    char saved_threads_copy[32] = {0};
    if (saved_threads) snprintf(saved_threads_copy, sizeof saved_threads_copy, "%s", saved_threads);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    int threads_before = count_own_threads();

    char path[PATH_MAX];
    int ok = 0;
    // LAZARUS_BLAS=system skips scipy-openblas32: a diagnostic switch (and the tests' way to run the fallback),
    // never needed for speed.
    const char *which = getenv("LAZARUS_BLAS");
    int system_only = which && strcmp(which, "system") == 0;
    if (system_only) note("LAZARUS_BLAS=system: scipy-openblas32 not looked for.", "", "", "");
    else if (find_scipy_openblas(path, sizeof path)) ok = open_checked(path, "scipy_", LAZARUS_BLAS_SCIPY_OPENBLAS);
    if (!ok) {
        if (!system_only && (info.note[0] == 0 || strstr(info.note, "OPENBLAS_CORETYPE=") == info.note))
            note("scipy-openblas32 not found in .lazarus-deps/ (scripts/bootstrap.sh installs it); using the system OpenBLAS.", "", "", "");
        snprintf(path, sizeof path, "%s", "libopenblas.so.0");
        ok = open_checked(path, "", LAZARUS_BLAS_SYSTEM_OPENBLAS);
    }
    if (!ok) {
        // Nothing better exists: run what there is, and say so on every start rather than be silently slow.
        const char *fallback = !system_only && find_scipy_openblas(path, sizeof path) ? "scipy_" : "";
        if (!*fallback) snprintf(path, sizeof path, "%s", "libopenblas.so.0");
        if (!open_blas(path, fallback)) {
            fprintf(stderr, "lazarus: no BLAS could be loaded (looked for .lazarus-deps/scipy-openblas32 and libopenblas.so.0): "
                            "run scripts/bootstrap.sh\n");
            abort();
        }
        info.kind = *fallback ? LAZARUS_BLAS_SCIPY_OPENBLAS : LAZARUS_BLAS_SYSTEM_OPENBLAS;
        info.generic_on_capable = 1;
    }
    if (set_aside) setenv("OPENBLAS_CORETYPE", asked_copy, 1);
    if (saved_threads) setenv("OPENBLAS_NUM_THREADS", saved_threads_copy, 1); else unsetenv("OPENBLAS_NUM_THREADS");
    int threads_after = count_own_threads();
    info.pool_threads = threads_before > 0 && threads_after > threads_before ? threads_after - threads_before : 0;

    Dl_info where;
    if (dladdr((void *)blas.sgemm, &where) && where.dli_fname) snprintf(info.path, sizeof info.path, "%s", where.dli_fname);
    else snprintf(info.path, sizeof info.path, "%s", path);
    snprintf(info.config, sizeof info.config, "%s", blas.config());
    snprintf(info.core, sizeof info.core, "%s", blas.corename());
    info.core_level = current_core_level();
    // The thread count a user asked OpenBLAS for, else the usable cores, is the cap: a user who asked for one
    // thread keeps one.
    atomic_store(&thread_cap, requested > 0 ? requested : lazarus_cpu_usable_cores());
    // OpenBLAS itself runs one thread from here on: Lazarus splits each product into blocks fixed by its
    // shape (Matmul.swift) and runs the blocks on its own workers. On some cores (Haswell's sgemm among
    // them) OpenBLAS's threaded split changes the rounding with the thread count, so a result depended on
    // how many cores other processes left free; and its pool spun on a descheduled peer at every call.
    blas.set_threads(1);
    if (info.generic_on_capable)
        fprintf(stderr, "lazarus: WARNING: the BLAS (%s, %s) runs its generic %s kernels on a CPU that supports %s ones; "
                        "sgemm is several times slower than it should be. Run scripts/bootstrap.sh to install scipy-openblas32.\n",
                info.path, info.config, info.core, cpu_name);
    else if (info.corrected)
        fprintf(stderr, "lazarus: BLAS: %s (now core %s)\n", info.note, info.core);
}

const lazarus_blas_info *lazarus_blas_info_get(void) {
    pthread_once(&load_once, load_blas);
    return &info;
}

// MARK: Calls

void lazarus_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                   const float *b, int ldb, float beta, float *c, int ldc) {
    pthread_once(&load_once, load_blas);
    // CBLAS enums: CblasRowMajor 101, CblasNoTrans 111, CblasTrans 112.
    blas.sgemm(101, trans_a ? 112 : 111, trans_b ? 112 : 111, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void lazarus_blas_set_threads(int n) {
    pthread_once(&load_once, load_blas);
    atomic_store(&thread_cap, n > 0 ? n : 1);
}

int lazarus_blas_get_threads(void) {
    pthread_once(&load_once, load_blas);
    return atomic_load(&thread_cap);
}
