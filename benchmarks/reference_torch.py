#!/usr/bin/env python3
"""PyTorch peer for the runner benchmarks: the same rows as runner-bench, in PyTorch eager.

Optional: the benchmark runs without it. Install the CPU build of PyTorch, e.g.

    python3 -m venv --system-site-packages .venv-torch
    .venv-torch/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    (or a CPU wheel from PyPI / a local wheel folder: pip install "torch==2.13.0+cpu")

and point the comparison at it: `TORCH_PYTHON=.venv-torch/bin/python benchmarks/run.sh`.
(`pip install torch` from PyPI on Linux pulls the CUDA build, several GB.)

THREADING: one thread unless `--threads N` (torch.set_num_threads and the OpenMP/MKL
environment, set before torch is imported), so the numbers compare with one runner thread.

MODES (each prints one JSON line with --json)
  --bench    fc training steps (random minibatch with replacement from 4000 x 3072 standard
             normal float32 data, forward, cross-entropy, backward, Adam lr 1e-3), the same
             nets as runner-bench train: --hidden 100,100 --batch 100 [--batchnorm]
             [--dropout P]; times the default Adam (foreach) and the fused Adam one after
             the other and reports both and the best (samples/s).
  --convnet F,S,H   the three-layer convnet (conv F SxS "same" -> relu -> 2x2 max pool ->
             affine H -> relu -> affine 10) on 3x32x32 inputs, same steps (samples/s).
  --conv C,H,W,F,K  one "same" conv layer C x H x W -> F KxK with input gradient: median
             forward and backward milliseconds at --batch.
  --sweep    the batchnorm_sweep experiment (40 trials: fc [50]x6, 1000 train / 1000 val
             rows, Adam 1e-3, 10 epochs, batch 50, weight scales 1e-4..1 with and without
             batchnorm) over --workers processes of one thread each; data from --data DIR
             (CIFAR-10 binary), loaded and centred as reference_numpy.py does; wall seconds.
"""

import os
import sys


def _threads(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


THREADS = _threads(sys.argv[1:])
for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = str(THREADS)

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

try:
    import torch  # noqa: E402
    from torch import nn  # noqa: E402
except ImportError:
    print("PyTorch is not installed for " + sys.executable + " (see the header of this file)", file=sys.stderr)
    sys.exit(3)

torch.set_num_threads(THREADS)


def fc_net(hidden, batchnorm, dropout, weight_scale):
    layers, d = [], 3072
    for h in hidden:
        layers.append(nn.Linear(d, h))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h, momentum=0.1, eps=1e-5))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        d = h
    layers.append(nn.Linear(d, 10))
    net = nn.Sequential(*layers)
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, weight_scale)
                m.bias.zero_()
    return net


def convnet(filters, size, hidden):
    return nn.Sequential(
        nn.Conv2d(3, filters, size, padding=(size - 1) // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(filters * 16 * 16, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def steps_per_second(make_net, shape, batch, seconds, fused):
    """Samples/s of Solver-like steps: minibatch with replacement, forward, loss, backward, Adam."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn((4000,) + shape, generator=g)
    y = torch.randint(0, 10, (4000,), generator=g)
    net = make_net()
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, fused=fused)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        idx = torch.randint(0, 4000, (batch,), generator=g)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x[idx]), y[idx])
        loss.backward()
        opt.step()

    t0 = time.perf_counter()
    warm = 0
    while warm < 5 or time.perf_counter() - t0 < 0.5:
        step()
        warm += 1
    steps, t0 = 0, time.perf_counter()
    while True:
        step()
        steps += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            break
    return steps * batch / elapsed


def run_training(args, name, make_net, shape):
    default = steps_per_second(make_net, shape, args.batch, args.seconds, fused=False)
    fused = steps_per_second(make_net, shape, args.batch, args.seconds, fused=True)
    out = {"net": name, "samples_per_sec": max(default, fused), "default_adam": default,
           "fused_adam": fused, "threads": THREADS, "torch": torch.__version__}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{name}: {out['samples_per_sec']:.0f} samples/s (default Adam {default:.0f}, fused {fused:.0f}), "
              f"{THREADS} thread(s), torch {torch.__version__}")
    return 0


def run_conv(args):
    c, h, w, f, k = (int(v) for v in args.conv.split(","))
    torch.manual_seed(42)
    layer = nn.Conv2d(c, f, k, padding=(k - 1) // 2)
    x = torch.randn(args.batch, c, h, w, requires_grad=True)
    dout = torch.randn(args.batch, f, h, w)

    def median(body):
        body()
        times, start = [], time.perf_counter()
        while time.perf_counter() - start < args.seconds or len(times) < 3:
            t = time.perf_counter()
            body()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    fwd = median(lambda: layer(x))

    def fwd_bwd():
        x.grad = None
        layer.weight.grad = None
        layer.bias.grad = None
        layer(x).backward(dout)

    total = median(fwd_bwd)
    out = {"layer": f"conv {c}x{h}x{w} -> {f} {k}x{k} batch {args.batch}", "ms": total * 1e3,
           "forward_ms": fwd * 1e3, "backward_ms": (total - fwd) * 1e3, "threads": THREADS}
    print(json.dumps(out) if args.json else
          f"{out['layer']}, {THREADS} thread(s): fwd+bwd {out['ms']:.2f} ms (fwd {out['forward_ms']:.2f})")
    return 0


# ----------------------------------------------------------------------------- sweep

def _sweep_trial(job):
    """One batchnorm_sweep trial in a worker process (one thread)."""
    torch.set_num_threads(1)
    trial, ws, bn, xtr, ytr, xva, yva = job
    g = torch.Generator().manual_seed(trial)
    net = fc_net([50] * 6, bn, 0.0, ws)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    n, batch, epochs = xtr.shape[0], 50, 10
    per_epoch = max(n // batch, 1)
    best = 0.0

    def accuracy(x, y):
        net.eval()
        with torch.no_grad():
            acc = (net(x).argmax(1) == y).float().mean().item()
        net.train()
        return acc

    for it in range(epochs * per_epoch):
        idx = torch.randint(0, n, (batch,), generator=g)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()
        if it == 0 or (it + 1) % per_epoch == 0:
            sub = torch.randint(0, n, (min(n, 1000),), generator=g)
            accuracy(xtr[sub], ytr[sub])
            best = max(best, accuracy(xva, yva))
    return trial, best


def run_sweep(args):
    import numpy as np
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from reference_numpy import sweep_data  # the same rows and centring as the numpy peer
    import multiprocessing as mp

    t0 = time.perf_counter()
    data, source = sweep_data(args.data, seed=args.seed)
    xtr = torch.from_numpy(np.ascontiguousarray(data["X_train"], dtype=np.float32))
    ytr = torch.from_numpy(np.asarray(data["y_train"], dtype=np.int64))
    xva = torch.from_numpy(np.ascontiguousarray(data["X_val"], dtype=np.float32))
    yva = torch.from_numpy(np.asarray(data["y_val"], dtype=np.int64))
    scales = np.logspace(-4, 0, num=20)
    jobs = []
    for i, ws in enumerate(scales):
        for j, bn in enumerate((True, False)):
            jobs.append((2 * i + j, float(ws), bn, xtr, ytr, xva, yva))
    with mp.get_context("fork").Pool(args.workers) as pool:
        results = pool.map(_sweep_trial, jobs, chunksize=1)
    wall = time.perf_counter() - t0
    out = {"mode": "sweep", "data": source, "trials": len(results), "workers": args.workers,
           "wall_seconds": wall, "best_val_acc": [b for _, b in sorted(results)]}
    print(json.dumps(out) if args.json else
          f"sweep: {len(results)} trials on {source}, {args.workers} worker processes, wall {wall:.2f} s")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--bench", action="store_true", help="fc training steps")
    mode.add_argument("--convnet", metavar="F,S,H", help="three-layer convnet training steps")
    mode.add_argument("--conv", metavar="C,H,W,F,K", help="one conv layer, fwd+bwd")
    mode.add_argument("--sweep", action="store_true", help="batchnorm_sweep over worker processes")
    ap.add_argument("--hidden", default="100,100,100,100,100")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--batchnorm", action="store_true")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--weight-scale", type=float, default=5e-2)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (sweep)")
    ap.add_argument("--data", metavar="DIR")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.bench:
        hidden = [int(h) for h in args.hidden.split(",") if h]
        name = f"fc[{','.join(map(str, hidden))}]" + ("+batchnorm" if args.batchnorm else "") + \
            (f"+dropout{args.dropout:g}" if args.dropout else "") + f" batch{args.batch}"
        return run_training(args, name, lambda: fc_net(hidden, args.batchnorm, args.dropout, args.weight_scale), (3072,))
    if args.convnet:
        f, s, h = (int(v) for v in args.convnet.split(","))
        return run_training(args, f"convnet[{f} {s}x{s}, hidden {h}] batch{args.batch}", lambda: convnet(f, s, h), (3, 32, 32))
    if args.conv:
        return run_conv(args)
    return run_sweep(args)


if __name__ == "__main__":
    sys.exit(main())
