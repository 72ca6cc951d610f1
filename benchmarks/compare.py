#!/usr/bin/env python3
"""Runs runner (Swift) and the numpy reference side by side and prints ratios.

Both sides are single-threaded unless a row says otherwise (OPENBLAS_NUM_THREADS=1 for
numpy; runner's kernels are single-threaded per trial). Runs are interleaved
(swift, numpy, swift, numpy, ...) so machine noise hits both alike, and medians are
reported. Usage (from the repository root, after `swift build -c release`):

    python3 benchmarks/compare.py [--rounds 5] [--quick] [--markdown]

Refuses to report when the release build lacks the CPU-targeting flag (runner-bench
checks a SIMD loop and exits non-zero).
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, ".build/release/runner-bench")
RUNNER = os.path.join(ROOT, ".build/release/runner")
NUMPY = [sys.executable, os.path.join(ROOT, "benchmarks/reference_numpy.py")]
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

SGEMM = [  # (M, N, K, tA, tB): forward products and the backward-pass transposed ones
    (100, 100, 3072, 0, 0), (50, 50, 3072, 0, 0), (100, 100, 100, 0, 0), (500, 500, 3072, 0, 0),
    (3072, 100, 100, 1, 0), (100, 3072, 100, 0, 1), (3072, 50, 50, 1, 0), (3072, 500, 500, 1, 0), (500, 3072, 500, 0, 1),
]
NETS = [  # (hidden, batch, batchnorm, dropout, target ratio)
    ("100,100,100,100,100", 100, False, 0.0, 2.0),
    ("50,50,50,50,50,50", 50, True, 0.0, 3.0),
    ("100,100,100,100,100", 100, True, 0.5, 2.5),
    ("500,500,500,500", 100, False, 0.0, 1.5),
]


def run_json(cmd):
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(cmd, cwd=ROOT):
    """Wall seconds and peak RSS (MiB, from /usr/bin/time) of a command."""
    tf = tempfile.NamedTemporaryFile(delete=False)
    tf.close()
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd, env=ENV, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    with open(tf.name) as f:
        rss = int(f.read().strip().splitlines()[-1]) / 1024
    os.unlink(tf.name)
    return dt, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer rounds, shorter runs")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    rounds = 3 if a.quick else a.rounds
    secs = "1" if a.quick else "2"
    for b in (BENCH, RUNNER):
        if not os.path.exists(b):
            sys.exit(f"{b} missing: run `swift build -c release` first")
    chk = subprocess.run([BENCH, "check"], capture_output=True, text=True)
    if chk.returncode != 0:
        sys.exit(chk.stderr.strip())
    print(chk.stdout.strip())
    rows = []  # (measure, runner, numpy, ratio, target, unit)

    for (m, n, k, ta, tb) in SGEMM:
        spec = f"{m},{n},{k},{ta},{tb}"
        sw, npv = [], []
        for _ in range(rounds):
            sw.append(run_json([BENCH, "sgemm", spec, "--json", "--seconds", "0.3"])["gflops"])
            npv.append(run_json(NUMPY + ["--sgemm", spec, "--json"])["gflops"])
        s, p = statistics.median(sw), statistics.median(npv)
        label = f"SGEMM {m}x{n}x{k}" + ("" if not (ta or tb) else f" ({'Aᵀ' if ta else 'A'}·{'Bᵀ' if tb else 'B'})")
        rows.append((label, s, p, s / p, 0.9, "GFLOP/s"))
        print(f"{label}: runner {s:.1f}, numpy {p:.1f} GFLOP/s", flush=True)

    for (hidden, batch, bn, dp, target) in NETS:
        sw, npv = [], []
        extra = (["--batchnorm"] if bn else []) + (["--dropout", str(dp)] if dp else [])
        for _ in range(rounds):
            sw.append(run_json([BENCH, "train", "--hidden", hidden, "--batch", str(batch), "--seconds", secs, "--json"] + extra)["samples_per_sec"])
            npv.append(run_json(NUMPY + ["--bench", "--hidden", hidden, "--batch", str(batch), "--seconds", secs, "--json"] + extra)["samples_per_sec"])
        s, p = statistics.median(sw), statistics.median(npv)
        label = f"train fc[{hidden.split(',')[0]}]x{len(hidden.split(','))}" + (" +bn" if bn else "") + (f" +dropout {dp}" if dp else "") + f", batch {batch}"
        rows.append((label, s, p, s / p, target, "samples/s"))
        print(f"{label}: runner {s:.0f}, numpy {p:.0f} samples/s", flush=True)

    # Whole sweep: runner (2 jobs, then 1 job) vs the same 40 trials as a sequential numpy loop.
    sample = os.path.join(ROOT, "data/cifar10-sample")
    out = tempfile.mkdtemp(prefix="runner-bench-")
    cfg = os.path.join(out, "sweep.json")
    with open(os.path.join(ROOT, "configs/batchnorm_sweep.json")) as f:
        text = f.read()
    text = text.replace('"seed": 0,', f'"seed": 0, "output": {{"dir": "{out}"}},')
    with open(cfg, "w") as f:
        f.write(text)
    sweep_rounds = 1 if a.quick else 3
    j2, j1, npw, mem = [], [], [], []
    for _ in range(sweep_rounds):
        t, rss = timed([RUNNER, cfg, "--jobs", "2", "--fresh", "--quiet"]); j2.append(t); mem.append(rss)
        t, _ = timed(NUMPY + ["--sweep", "--data", sample, "--json"]); npw.append(t)
        t, _ = timed([RUNNER, cfg, "--jobs", "1", "--fresh", "--quiet"]); j1.append(t)
    s2, s1, p = statistics.median(j2), statistics.median(j1), statistics.median(npw)
    rows.append(("batchnorm_sweep (40 trials): runner --jobs 2 vs numpy loop", s2, p, p / s2, 5.0, "s (ratio = numpy/runner)"))
    rows.append(("batchnorm_sweep: --jobs 2 vs --jobs 1 wall time", s2, s1, s2 / s1, 0.55, "s (ratio = jobs2/jobs1, lower is better)"))
    rows.append(("batchnorm_sweep peak memory (runner, 2 jobs)", statistics.median(mem), float("nan"), float("nan"), float("nan"), "MiB"))
    shutil.rmtree(out, ignore_errors=True)

    print()
    if a.markdown:
        print("| measure | runner | numpy | ratio | target | met |\n|---|---|---|---|---|---|")
    for (label, s, p, r, target, unit) in rows:
        lower_better = "lower" in unit
        met = "" if r != r else ("yes" if (r <= target if lower_better else r >= target) else "NO")
        if a.markdown:
            fmt = lambda v: "" if v != v else (f"{v:.1f}" if v < 1000 else f"{v:.0f}")
            print(f"| {label} | {fmt(s)} | {fmt(p)} | {'' if r != r else f'{r:.2f}×'} | {'' if target != target else ('≤ ' if lower_better else '≥ ') + f'{target}×'} | {met} |")
        else:
            print(f"{label:60s} runner {s:10.1f}  numpy {p:10.1f}  ratio {r:6.2f}  target {target}  {met}  [{unit}]")


if __name__ == "__main__":
    main()
