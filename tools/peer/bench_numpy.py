"""numpy's float32 matrix product at 1024³ and 2048³, the reference for `lazarus bench --only sgemm` (issue 11:
Lazarus's sgemm at least 0.8× numpy's bundled scipy-openblas on the same machine).

Runs C = A·Bᵀ with A, B [n, n] row-major float32 (what `lazarus bench` times: a linear layer's forward, one
sgemm with B transposed) and C = A·B, each the median of repetitions after a warm-up, with numpy's OpenBLAS on
`--threads` threads (2 by default, set before numpy loads). Prints JSON (and writes it with --output) with the
BLAS numpy loaded, its core, the CPU, OPENBLAS_CORETYPE as this process saw it and the load average.
Dev-only: /opt/lazarus-dev-venv/bin/python tools/peer/bench_numpy.py [--threads 2] [--repeats 7] [--output F]
"""
import argparse
import ctypes
import glob
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import cpu_model, emit  # noqa: E402


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--sizes", default="1024,2048")
    p.add_argument("--output")
    return p.parse_args()


def openblas_info(np):
    """Version string and core of the OpenBLAS numpy bundles (numpy.libs/libscipy_openblas64_*.so)."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "libscipy_openblas*.so"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for suffix in ("64_", ""):
            try:
                config = getattr(lib, f"scipy_openblas_get_config{suffix}")
                core = getattr(lib, f"scipy_openblas_get_corename{suffix}")
                threads = getattr(lib, f"scipy_openblas_get_num_threads{suffix}")
            except AttributeError:
                continue
            config.restype = core.restype = ctypes.c_char_p
            return {"blas_library": os.path.basename(path), "blas_config": config().decode(),
                    "blas_core": core().decode(), "blas_threads": threads()}
    return {"blas_library": "unknown"}


def median_seconds(body, repeats):
    body()  # warm-up: first-touch pages, thread start-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        body()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    args = parse()
    # Before numpy loads: OpenBLAS sizes its pool when the library initialises.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    import numpy as np

    rng = np.random.default_rng(1)
    result = {"numpy_version": np.__version__, "threads": args.threads, "repeats": args.repeats,
              "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"), "cpu_model": cpu_model(),
              "load_average_1m_before": os.getloadavg()[0]}
    result.update(openblas_info(np))
    for n in (int(s) for s in args.sizes.split(",")):
        a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        c = np.empty((n, n), dtype=np.float32)
        flop = 2.0 * n ** 3
        # b.T is a view: numpy hands it to sgemm as a transposed operand, no copy.
        result[f"sgemm_gflops_{n}"] = flop / median_seconds(lambda: np.matmul(a, b.T, out=c), args.repeats) / 1e9
        result[f"sgemm_nn_gflops_{n}"] = flop / median_seconds(lambda: np.matmul(a, b, out=c), args.repeats) / 1e9
    result["load_average_1m_after"] = os.getloadavg()[0]
    emit(result, args.output)


if __name__ == "__main__":
    main()
