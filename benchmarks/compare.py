#!/usr/bin/env python3
"""Runs runner (Swift), the PyTorch peer and the numpy peer side by side and prints ratios.

Both ratio columns say how many times faster runner is (runner's rate ÷ the peer's, or
the peer's time ÷ runner's): runner ÷ PyTorch and runner ÷ numpy. Every side is
single-threaded unless a row says otherwise (OPENBLAS/OMP/MKL_NUM_THREADS=1 and
torch.set_num_threads(1) for the peers; runner-bench uses one thread unless --threads).
Runs are interleaved (runner, PyTorch, numpy, runner, …) so machine noise hits all alike,
and each figure is the median of the rounds. Usage (from the repository root, after
`swift build -c release`):

    python3 benchmarks/compare.py [--rounds 5] [--quick] [--markdown] [--only fc,conv,…]

PyTorch is optional: the PyTorch columns are measured with $TORCH_PYTHON (default: this
python) when `import torch` works there, and left empty otherwise (see
benchmarks/reference_torch.py for how to install it). The machine header (CPU model,
family/model, ISA extensions, the FMA-loop peak that runner-bench measures, versions) is
printed first, so a table in BENCHMARKS.md records what it was measured on.

Refuses to report when the release build lacks the CPU-targeting flag (runner-bench
checks a SIMD loop and exits non-zero).
"""
import argparse, json, os, platform, re, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, ".build/release/runner-bench")
RUNNER = os.path.join(ROOT, ".build/release/runner")
NUMPY = [sys.executable, os.path.join(ROOT, "benchmarks/reference_numpy.py")]
TORCH_PYTHON = os.environ.get("TORCH_PYTHON", sys.executable)
TORCH = [TORCH_PYTHON, os.path.join(ROOT, "benchmarks/reference_torch.py")]
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")

SGEMM = [  # (M, N, K, tA, tB): forward products and the backward-pass transposed ones
    (100, 100, 3072, 0, 0), (50, 50, 3072, 0, 0), (100, 100, 100, 0, 0), (500, 500, 3072, 0, 0),
    (3072, 100, 100, 1, 0), (100, 3072, 100, 0, 1), (3072, 50, 50, 1, 0), (3072, 500, 500, 1, 0), (500, 3072, 500, 0, 1),
]
NETS = [  # (hidden, batch, batchnorm, dropout, numpy target ratio); PyTorch target 1.5×
    ("100,100,100,100,100", 100, False, 0.0, 2.0),
    ("50,50,50,50,50,50", 50, True, 0.0, 3.0),
    ("100,100,100,100,100", 100, True, 0.5, 2.5),
    ("500,500,500,500", 100, False, 0.0, 1.5),
]
CONVS = [  # (C, H, W, F, K): the conv layers of the shipped convnets (cnn_overfit, cnn_best) and a 32-channel 3×3
    (3, 32, 32, 32, 7), (3, 32, 32, 64, 3), (32, 16, 16, 64, 3),
]
GROUPS = ["sgemm", "fc", "convnet", "conv", "threads", "sweep"]


class Row:
    """One measure: a command per side (None: not measured there) giving one number."""

    def __init__(self, group, label, unit, runner, torch=None, numpy=None, t_torch=None, t_numpy=None, higher=True):
        self.group, self.label, self.unit = group, label, unit
        self.cmds = {"runner": runner, "torch": torch, "numpy": numpy}
        self.targets = {"torch": t_torch, "numpy": t_numpy}
        self.higher = higher          # rate (higher is better) or time
        self.values = {"runner": [], "torch": [], "numpy": []}

    def median(self, side):
        v = self.values[side]
        return statistics.median(v) if v else None

    def ratio(self, side):
        """How many times faster runner is than `side` (None when either is missing)."""
        r, p = self.median("runner"), self.median(side)
        if r is None or p is None or r <= 0 or p <= 0:
            return None
        return r / p if self.higher else p / r


def run_json(cmd, env=ENV):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
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


def json_value(cmd, key):
    return lambda: run_json(cmd)[key]


def machine(simd_line, torch_version):
    """Markdown lines describing the machine: CPU, ISA extensions, FMA-loop peak, versions."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if ":" in line:
                    k, v = (s.strip() for s in line.split(":", 1))
                    info.setdefault(k, v)
    except OSError:
        pass
    flags = set(info.get("flags", info.get("Features", "")).split())
    isa = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
                       "avx512_vp2intersect", "amx_tile", "asimd", "sve") if f in flags]
    family, model = info.get("cpu family", "?"), info.get("model", "?")
    zen = {"23": "Zen/Zen 2", "25": "Zen 3/Zen 4", "26": "Zen 5"}.get(family, "") if "AMD" in info.get("vendor_id", "") else ""
    try:
        numpy_version = subprocess.run([sys.executable, "-c", "import numpy; print(numpy.__version__)"],
                                       capture_output=True, text=True).stdout.strip()
    except OSError:
        numpy_version = "?"
    swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    lines = [
        f"- CPU: {info.get('model name', platform.processor() or '?')} (vendor {info.get('vendor_id', '?')}, family {family}, "
        f"model {model}{', ' + zen if zen else ''}), {os.cpu_count()} logical cores, {platform.machine()}",
        f"- ISA extensions: {', '.join(isa) or 'none of the listed'}",
        f"- {simd_line} (runner-bench's SIMD16 FMA loop, one core)",
        f"- {swift[0] if swift else 'swift ?'}; Python {platform.python_version()}, numpy {numpy_version}, "
        f"PyTorch {torch_version or 'not installed (columns empty)'}",
    ]
    return lines


def build_rows(a, secs, have_torch):
    t = (lambda cmd: cmd) if have_torch else (lambda cmd: None)
    rows = []
    for (m, n, k, ta, tb) in SGEMM:
        spec = f"{m},{n},{k},{ta},{tb}"
        label = f"SGEMM {m}x{n}x{k}" + ("" if not (ta or tb) else f" ({'Aᵀ' if ta else 'A'}·{'Bᵀ' if tb else 'B'})")
        rows.append(Row("sgemm", label, "GFLOP/s", json_value([BENCH, "sgemm", spec, "--json", "--seconds", "0.3"], "gflops"),
                        numpy=json_value(NUMPY + ["--sgemm", spec, "--json"], "gflops"), t_numpy=0.9))
    for (hidden, batch, bn, dp, target) in NETS:
        extra = (["--batchnorm"] if bn else []) + (["--dropout", str(dp)] if dp else [])
        common = ["--hidden", hidden, "--batch", str(batch), "--seconds", secs, "--json"] + extra
        label = f"train fc[{hidden.split(',')[0]}]×{len(hidden.split(','))}" + (" + bn" if bn else "") + \
            (f" + dropout {dp}" if dp else "") + f", batch {batch}"
        rows.append(Row("fc", label, "samples/s", json_value([BENCH, "train"] + common, "samples_per_sec"),
                        torch=t(json_value(TORCH + ["--bench"] + common, "samples_per_sec")),
                        numpy=json_value(NUMPY + ["--bench"] + common, "samples_per_sec"), t_torch=1.5, t_numpy=target))
    conv = ["--convnet", "32,7,100", "--batch", "50", "--seconds", secs, "--json"]
    rows.append(Row("convnet", "three-layer convnet (32 7×7, hidden 100) training step, batch 50", "samples/s",
                    json_value([BENCH, "train"] + conv, "samples_per_sec"),
                    torch=t(json_value(TORCH + conv, "samples_per_sec")), t_torch=2.0))
    for (c, h, w, f, k) in CONVS:
        for batch in ([50] if a.quick else [50, 500]):
            shape = f"{c},{h},{w},{f},{k}"
            sec = "0.5" if a.quick else "1"
            rows.append(Row("conv", f"conv {c}×{h}×{w} → {f} {k}×{k}, batch {batch}, fwd+bwd", "ms",
                            json_value([BENCH, "conv", "--shape", shape, "--batch", str(batch), "--seconds", sec, "--json"], "ms"),
                            torch=t(json_value(TORCH + ["--conv", shape, "--batch", str(batch), "--seconds", sec, "--json"], "ms")),
                            t_torch=1.2, higher=False))
    # one cnn_best-shaped trial alone on two cores: runner's layers on 2 threads vs PyTorch's 2 threads
    best = ["--convnet", "64,3,500", "--batch", "500", "--seconds", secs, "--json"]
    two = Row("threads", "cnn_best convnet step, batch 500, 2 threads", "samples/s",
              json_value([BENCH, "train"] + best + ["--threads", "2"], "samples_per_sec"),
              torch=t(json_value(TORCH + best + ["--threads", "2"], "samples_per_sec")), t_torch=1.5)
    one = Row("threads", "cnn_best convnet step, batch 500: 2 threads ÷ 1 thread (runner)", "×",
              json_value([BENCH, "train"] + best + ["--threads", "2"], "samples_per_sec"),
              numpy=json_value([BENCH, "train"] + best, "samples_per_sec"), t_numpy=1.8)
    one.side_names = ("2 threads", "1 thread")
    rows += [two, one]
    return rows


def sweep_rows(a, have_torch, rows):
    """batchnorm_sweep: runner --jobs 2 / --jobs 1, the numpy loop, PyTorch with 2 worker processes."""
    sample = os.path.join(ROOT, "data/cifar10-sample")
    out = tempfile.mkdtemp(prefix="runner-bench-")
    cfg = os.path.join(out, "sweep.json")
    with open(os.path.join(ROOT, "configs/batchnorm_sweep.json")) as f:
        text = f.read()
    text = text.replace('"seed": 0,', f'"seed": 0, "output": {{"dir": "{out}"}},')
    with open(cfg, "w") as f:
        f.write(text)
    main = Row("sweep", "batchnorm_sweep (40 trials), runner --jobs 2 vs numpy loop / PyTorch 2 processes", "s",
               None, t_torch=4.0, t_numpy=5.0, higher=False)
    jobs = Row("sweep", "batchnorm_sweep: --jobs 2 ÷ --jobs 1 wall time (runner)", "s", None, t_numpy=1 / 0.55, higher=False)
    jobs.side_names = ("--jobs 2", "--jobs 1")
    mem = Row("sweep", "batchnorm_sweep peak memory, runner 2 jobs / PyTorch 2 processes (MiB)", "MiB", None, higher=False)
    for _ in range(1 if a.quick else 3):
        t, rss = timed([RUNNER, cfg, "--jobs", "2", "--fresh", "--quiet"])
        main.values["runner"].append(t); jobs.values["runner"].append(t); mem.values["runner"].append(rss)
        if have_torch:
            t, rss = timed(TORCH + ["--sweep", "--data", sample, "--workers", "2", "--json"])
            main.values["torch"].append(t); mem.values["torch"].append(rss)
        t, _ = timed(NUMPY + ["--sweep", "--data", sample, "--json"])
        main.values["numpy"].append(t)
        t, _ = timed([RUNNER, cfg, "--jobs", "1", "--fresh", "--quiet"])
        jobs.values["numpy"].append(t)
    shutil.rmtree(out, ignore_errors=True)
    rows += [main, jobs, mem]


def fmt(v):
    if v is None:
        return "–"
    return f"{v:.2f}" if v < 10 else (f"{v:.1f}" if v < 1000 else f"{v:.0f}")


def verdict(row):
    """Targets met, per peer with a target; '' when nothing to judge."""
    out = []
    for side, name in (("torch", "PyTorch"), ("numpy", "numpy")):
        target, r = row.targets[side], row.ratio(side)
        if target is None or r is None:
            continue
        out.append(("yes" if r >= target else f"NO ({name})"))
    if not out:
        return ""
    return "yes" if all(o == "yes" for o in out) else ", ".join(o for o in out if o != "yes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer rounds, shorter runs")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--only", help="comma-separated groups: " + ",".join(GROUPS))
    a = ap.parse_args()
    groups = GROUPS if not a.only else [g.strip() for g in a.only.split(",")]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        ap.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    rounds = 3 if a.quick else a.rounds
    secs = "1" if a.quick else "2"
    for b in (BENCH, RUNNER):
        if not os.path.exists(b):
            sys.exit(f"{b} missing: run `swift build -c release` first")
    chk = subprocess.run([BENCH, "check"], capture_output=True, text=True)
    if chk.returncode != 0:
        sys.exit(chk.stderr.strip())
    probe = subprocess.run([TORCH_PYTHON, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    torch_version = probe.stdout.strip() if probe.returncode == 0 else None
    header = machine(chk.stdout.strip(), torch_version)
    print("\n".join(header), flush=True)
    if not torch_version:
        print(f"(PyTorch not importable by {TORCH_PYTHON}: PyTorch columns skipped; set TORCH_PYTHON)", flush=True)

    rows = [r for r in build_rows(a, secs, torch_version is not None) if r.group in groups]
    for _ in range(rounds):
        for row in rows:                      # interleaved: runner, PyTorch, numpy, next row, … next round
            for side in ("runner", "torch", "numpy"):
                if row.cmds[side]:
                    row.values[side].append(row.cmds[side]())
    for row in rows:
        print(f"{row.label}: runner {fmt(row.median('runner'))}, PyTorch {fmt(row.median('torch'))}, "
              f"numpy {fmt(row.median('numpy'))} {row.unit}", flush=True)
    if "sweep" in groups:
        sweep_rows(a, torch_version is not None, rows)

    print()
    if a.markdown:
        print("| measure | unit | runner | PyTorch | numpy | runner ÷ PyTorch | runner ÷ numpy | target (÷ PyTorch, ÷ numpy) | met |")
        print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        rt, rn = row.ratio("torch"), row.ratio("numpy")
        targets = " , ".join("–" if row.targets[s] is None else f"≥ {row.targets[s]:.3g}×" for s in ("torch", "numpy"))
        names = getattr(row, "side_names", None)
        label = row.label + (f" [columns: {names[0]} / – / {names[1]}]" if names else "")
        cells = [label, row.unit, fmt(row.median("runner")), fmt(row.median("torch")), fmt(row.median("numpy")),
                 "–" if rt is None else f"{rt:.2f}×", "–" if rn is None else f"{rn:.2f}×", targets, verdict(row)]
        if a.markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(f"{cells[0]:75s} runner {cells[2]:>8s}  PyTorch {cells[3]:>8s}  numpy {cells[4]:>8s}  "
                  f"÷PyTorch {cells[5]:>7s}  ÷numpy {cells[6]:>7s}  {cells[8]}  [{row.unit}]")


if __name__ == "__main__":
    main()
