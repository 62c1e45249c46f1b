#!/usr/bin/env bash
# Lazarus's sgemm beside numpy's (issue 11: at least 0.8x numpy's bundled scipy-openblas at 1024^3 and 2048^3),
# back to back at the caller's priority, under three settings of OPENBLAS_CORETYPE: unset (a user's shell),
# Haswell (this machine's dev shell sets it) and Prescott (the generic-kernel failure of issue 11, simulated:
# numpy runs the SSE3 kernels it is told to; Lazarus sets a generic request aside and says so).
# ROUNDS rounds per setting, Lazarus and numpy alternating; the load average is recorded beside every run and
# the ratio is of the medians. Run it at normal priority when the machine is quietest.
# Usage: tools/peer/sgemm_vs_numpy.sh [OUTPUT.json] [ROUNDS, default 3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
binary="${LAZARUS_BINARY:-$root/.build/release/lazarus}"
python="${PEER_PYTHON:-/opt/lazarus-dev-venv/bin/python}"
output="${1:-}"
rounds="${2:-3}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for setting in unset Haswell Prescott; do
    for round in $(seq "$rounds"); do
        for who in lazarus numpy; do
            out="$scratch/$setting.$round.$who"
            cut -d' ' -f1 /proc/loadavg > "$out.load"
            if [ "$setting" = unset ]; then env=(env -u OPENBLAS_CORETYPE); else env=(env OPENBLAS_CORETYPE="$setting"); fi
            if [ "$who" = lazarus ]; then
                "${env[@]}" "$binary" bench --only sgemm --json > "$out.json" 2> "$out.err"
            else
                "${env[@]}" "$python" "$root/tools/peer/bench_numpy.py" --threads 2 > "$out.json" 2> "$out.err"
            fi
            cut -d' ' -f1 /proc/loadavg >> "$out.load"
        done
        echo "$setting round $round done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
    done
done

python3 - "$scratch" "$rounds" "$output" <<'PY'
import datetime, json, statistics, sys
scratch, rounds, output = sys.argv[1], int(sys.argv[2]), sys.argv[3]
result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"), "rounds": rounds, "settings": {}}
for setting in ["unset", "Haswell", "Prescott"]:
    runs = {"lazarus": [], "numpy": []}
    for r in range(1, rounds + 1):
        for who in runs:
            base = f"{scratch}/{setting}.{r}.{who}"
            figures = json.load(open(base + ".json"))
            before, after = (float(x) for x in open(base + ".load").read().split())
            stderr = open(base + ".err").read().strip()
            keep = {k: figures.get(k) for k in ["sgemm_gflops_1024", "sgemm_gflops_2048", "blas_core", "blas_version",
                                                "blas_config", "blas_note", "blas_library", "threads"] if k in figures}
            runs[who].append({**keep, "load_average_1m": [before, after], "stderr": stderr[-400:]})
    summary = {}
    for n in (1024, 2048):
        key = f"sgemm_gflops_{n}"
        lz = statistics.median(x[key] for x in runs["lazarus"])
        npy = statistics.median(x[key] for x in runs["numpy"])
        summary[key] = {"lazarus_median": lz, "numpy_median": npy, "ratio": lz / npy, "target_met": lz / npy >= 0.8}
        print(f"OPENBLAS_CORETYPE={setting}: {n}^3 Lazarus {lz:.1f}, numpy {npy:.1f} GFLOP/s: {lz / npy:.2f}x "
              f"(Lazarus core {runs['lazarus'][0].get('blas_core')}, numpy core {runs['numpy'][0].get('blas_core')})",
              file=sys.stderr)
    result["settings"][setting] = {"runs": runs, "summary": summary}
text = json.dumps(result, indent=2)
print(text)
if output:
    with open(output, "w") as f: f.write(text + "\n")
PY
