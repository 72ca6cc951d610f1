#!/usr/bin/env python3
"""Independent numpy reference ("benchmark peer") for the runner, from SPEC.md.

Implements, from the SPEC conventions only: affine, relu, batchnorm (train mode
with running statistics, test mode), inverted dropout (p = probability of
*dropping*), softmax loss, L2 regularisation, the fc net
``{affine -> [batchnorm] -> relu -> [dropout]} x k -> affine -> softmax``,
Adam, and the Solver (minibatches drawn with replacement, accuracy checks,
best-parameter tracking).  Training and benchmarks run in float32 throughout;
the gradient check runs in float64.

THREADING
---------
numpy's BLAS (OpenBLAS here) reads its thread count from the environment when
numpy is first imported.  This script therefore sets, *before importing
numpy*, defaults of "1" for OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
MKL_NUM_THREADS (os.environ.setdefault: a value the caller exported wins, so
`OPENBLAS_NUM_THREADS=1 python3 ...` is respected, as is any other value).
`--threads N` overrides all three with N.  The effective setting is printed
in every JSON result ("blas_threads").  Single-threaded is the default so the
numbers compare with a single-threaded Swift run.

MODES
-----
  --gradcheck   whole-net centered-difference gradient check in float64
                (max relative error per parameter; must be <= 1e-6 without
                batchnorm and <= 1e-4 with it); exits 1 on failure.
  --bench       Solver training steps (minibatch, forward, backward, adam)
                on random float32 data (4000 x 3072 standard normal, 10
                classes) for about --seconds after a warm-up (--warmup,
                default 0.5 s); prints samples/second.  Adam lr 1e-3,
                weight scale --weight-scale (default 5e-2).  As any sensible
                implementation would, the first affine layer's backward skips
                dx (the gradient w.r.t. the data is never used).
                e.g. --bench --hidden 100,100,100,100,100 --batch 100
                     [--batchnorm] [--dropout 0.5] --seconds 3 --json
  --sgemm M,N,K[,tA,tB]
                times np.dot(op(A), op(B)) in float32, op(A) M x K,
                op(B) K x N (tA/tB = 1/T means A/B are stored transposed and
                passed as a transposed view); prints median GFLOP/s.
  --sweep       the SPEC batchnorm_sweep experiment as a plain sequential
                loop: 1000 train / 1000 val rows (CIFAR-10 from --data DIR,
                else random data), fc [50]x6, adam 1e-3, 10 epochs, batch 50,
                20 log-spaced weight scales 1e-4..1, with and without
                batchnorm (40 trials); prints per-trial best val accuracy
                and the total wall seconds (data loading included).
  --json        print one JSON line per result instead of text.

Only numpy is used.
"""

import os
import sys


def _apply_thread_settings(argv):
    """Set BLAS thread env vars before numpy is imported (see THREADING)."""
    threads = None
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif a.startswith("--threads="):
            threads = a.split("=", 1)[1]
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    for name in names:
        if threads is not None:
            os.environ[name] = str(int(threads))
        else:
            os.environ.setdefault(name, "1")


_apply_thread_settings(sys.argv[1:])

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


# =============================================================================
# Layers.  Every forward returns (out, cache); every backward takes
# (dout, cache).  All arithmetic keeps the dtype of the inputs: scalars are
# Python floats (weak under numpy's NEP 50 promotion) or cast to x.dtype.
# =============================================================================

def affine_forward(x, w, b):
    """x (N, D) . w (D, M) + b (M)."""
    out = x.dot(w)
    out += b
    return out, (x, w)


def affine_backward(dout, cache, need_dx=True):
    """dx = dout . w^T, dw = x^T . dout, db = sum_N dout.

    need_dx=False skips dx (used for the first layer, whose input is data).
    """
    x, w = cache
    dx = dout.dot(w.T) if need_dx else None
    dw = x.T.dot(dout)
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """max(x, 0)."""
    out = np.maximum(x, 0)
    return out, out  # out > 0 exactly where x > 0


def relu_backward(dout, cache):
    """dout * [x > 0] (zero gradient at exactly 0)."""
    out = cache
    return dout * (out > 0)


def batchnorm_forward(x, gamma, beta, bn_param, train):
    """Per-feature batchnorm.  bn_param holds eps, momentum, running_mean/var.

    Train: batch mean and biased variance; running stats updated as
    running = momentum * running + (1 - momentum) * batch.
    Test: running stats, no update.
    """
    eps = bn_param["eps"]
    momentum = bn_param["momentum"]
    rm, rv = bn_param["running_mean"], bn_param["running_var"]
    if train:
        mu = x.mean(axis=0)
        xc = x - mu
        var = (xc * xc).mean(axis=0)  # biased variance
        inv_std = 1 / np.sqrt(var + eps)
        xhat = xc * inv_std
        out = gamma * xhat + beta
        rm *= momentum
        rm += (1 - momentum) * mu
        rv *= momentum
        rv += (1 - momentum) * var
        return out, (xhat, gamma, inv_std)
    xhat = (x - rm) / np.sqrt(rv + eps)
    return gamma * xhat + beta, None


def batchnorm_backward(dout, cache):
    """Closed form:
    dx = gamma / (N sqrt(var + eps)) * (N dout - sum dout - xhat * sum(dout xhat))
    dgamma = sum(dout xhat), dbeta = sum(dout).
    """
    xhat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = (gamma * inv_std / n) * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def dropout_forward(x, p, train, rng):
    """Inverted dropout, p = probability of dropping a unit.

    Train: mask = [u < 1 - p] / (1 - p), y = x * mask.  Test: identity.
    """
    if not train or p == 0:
        return x, None
    keep = 1.0 - p
    u = rng.random(x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64)
    mask = (u < keep).astype(x.dtype)
    mask *= x.dtype.type(1.0 / keep)
    return x * mask, mask


def dropout_backward(dout, cache):
    """dout * mask (identity when dropout was off)."""
    mask = cache
    return dout if mask is None else dout * mask


def softmax_loss(x, y):
    """Mean cross-entropy of scores x (N, C) for labels y (N).

    Returns (loss as Python float, dx = (softmax(x) - onehot(y)) / N).
    """
    n = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_z
    loss = -float(log_probs[np.arange(n), y].mean())
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    dx /= n
    return loss, dx


def l2_reg(weights, reg):
    """0.5 * reg * sum ||W||^2 over weight matrices (Python float)."""
    return 0.5 * reg * sum(float(np.vdot(w, w)) for w in weights)


# =============================================================================
# The fc net
# =============================================================================

class FullyConnectedNet:
    """{affine -> [batchnorm] -> relu -> [dropout]} x k -> affine -> softmax.

    Parameters in self.params: W1..W{k+1}, b1..b{k+1}, gamma1..gammak,
    beta1..betak (the latter only with batchnorm).
    """

    def __init__(self, hidden_dims, input_dim=3072, num_classes=10,
                 weight_scale=1e-2, batchnorm=False, dropout=0.0, reg=0.0,
                 dtype=np.float32, rng=None, bn_eps=1e-5, bn_momentum=0.9):
        rng = rng if rng is not None else np.random.default_rng(0)
        self.num_hidden = len(hidden_dims)
        self.batchnorm = batchnorm
        self.dropout = dropout
        self.reg = reg
        self.dtype = np.dtype(dtype)
        self.params = {}
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for i in range(len(dims) - 1):
            w = rng.standard_normal((dims[i], dims[i + 1]))  # float64 draw
            self.params[f"W{i + 1}"] = (weight_scale * w).astype(self.dtype)
            self.params[f"b{i + 1}"] = np.zeros(dims[i + 1], dtype=self.dtype)
        self.bn_params = []
        if batchnorm:
            for i, h in enumerate(hidden_dims):
                self.params[f"gamma{i + 1}"] = np.ones(h, dtype=self.dtype)
                self.params[f"beta{i + 1}"] = np.zeros(h, dtype=self.dtype)
                self.bn_params.append({
                    "eps": bn_eps, "momentum": bn_momentum,
                    "running_mean": np.zeros(h, dtype=self.dtype),
                    "running_var": np.zeros(h, dtype=self.dtype),
                })

    def weight_names(self):
        return [f"W{i + 1}" for i in range(self.num_hidden + 1)]

    def loss(self, X, y=None, rng=None):
        """Scores (test mode) when y is None, else (loss, grads) in train mode.

        rng: generator for dropout masks (train mode only).
        """
        train = y is not None
        p = self.params
        caches = []
        h = X
        for i in range(1, self.num_hidden + 1):
            h, c_aff = affine_forward(h, p[f"W{i}"], p[f"b{i}"])
            c_bn = None
            if self.batchnorm:
                h, c_bn = batchnorm_forward(h, p[f"gamma{i}"], p[f"beta{i}"],
                                            self.bn_params[i - 1], train)
            h, c_relu = relu_forward(h)
            h, c_drop = dropout_forward(h, self.dropout, train, rng)
            caches.append((c_aff, c_bn, c_relu, c_drop))
        last = self.num_hidden + 1
        scores, c_out = affine_forward(h, p[f"W{last}"], p[f"b{last}"])
        if not train:
            return scores

        loss, dscores = softmax_loss(scores, y)
        loss += l2_reg([p[n] for n in self.weight_names()], self.reg)

        grads = {}
        need_dx = self.num_hidden > 0
        dh, grads[f"W{last}"], grads[f"b{last}"] = affine_backward(dscores, c_out, need_dx)
        for i in range(self.num_hidden, 0, -1):
            c_aff, c_bn, c_relu, c_drop = caches[i - 1]
            dh = dropout_backward(dh, c_drop)
            dh = relu_backward(dh, c_relu)
            if self.batchnorm:
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward(dh, c_bn)
            # the first layer's input is the data: its dx is never needed
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, c_aff, need_dx=i > 1)
        if self.reg != 0:
            for n in self.weight_names():
                grads[n] += self.reg * p[n]
        return loss, grads


# =============================================================================
# Adam (per-parameter state) and the Solver
# =============================================================================

class Adam:
    """t += 1 first; m = b1 m + (1-b1) dw; v = b2 v + (1-b2) dw^2;
    w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    Updates w in place; keeps w's dtype.
    """

    def __init__(self, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.state = {}

    def update(self, name, w, dw):
        st = self.state.get(name)
        if st is None:
            st = {"t": 0, "m": np.zeros_like(w), "v": np.zeros_like(w),
                  "tmp": np.empty_like(w), "tmp2": np.empty_like(w)}
            self.state[name] = st
        b1, b2 = self.beta1, self.beta2
        st["t"] += 1
        t = st["t"]
        m, v, tmp, tmp2 = st["m"], st["v"], st["tmp"], st["tmp2"]
        # In-place ufuncs with scratch buffers: no large temporaries per step.
        # m = b1 * m + (1 - b1) * dw
        m *= b1
        np.multiply(dw, 1 - b1, out=tmp)
        m += tmp
        # v = b2 * v + (1 - b2) * dw^2
        v *= b2
        np.multiply(dw, dw, out=tmp)
        tmp *= 1 - b2
        v += tmp
        # denominator sqrt(v / (1 - b2^t)) + eps
        np.divide(v, 1 - b2 ** t, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.epsilon
        # w -= lr * (m / (1 - b1^t)) / denominator
        np.divide(m, 1 - b1 ** t, out=tmp2)
        tmp2 *= self.learning_rate
        tmp2 /= tmp
        w -= tmp2


class Solver:
    """SPEC section 5 training loop for one trial, all randomness from `rng`."""

    def __init__(self, model, data, rng, learning_rate=1e-3, batch_size=100,
                 num_epochs=10, lr_decay=1.0, num_train_samples=1000):
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.rng = rng
        self.optim = Adam(learning_rate=learning_rate)
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.lr_decay = lr_decay
        self.num_train_samples = num_train_samples
        self.loss_history, self.train_acc_history, self.val_acc_history = [], [], []
        self.best_val_acc, self.best_params = -1.0, None
        self.status = "ok"

    def step(self):
        """One iteration: minibatch with replacement, forward, backward, adam."""
        n = self.X_train.shape[0]
        idx = self.rng.integers(0, n, self.batch_size)
        loss, grads = self.model.loss(self.X_train[idx], self.y_train[idx], rng=self.rng)
        self.loss_history.append(loss)
        for name, w in self.model.params.items():
            self.optim.update(name, w, grads[name])
        return loss

    def check_accuracy(self, X, y, num_samples=None, chunk=500):
        """Test-mode accuracy; subsample num_samples rows (with replacement,
        as the course does) only when there are more rows than that."""
        n = X.shape[0]
        if num_samples is not None and n > num_samples:
            idx = self.rng.integers(0, n, num_samples)
            X, y = X[idx], y[idx]
            n = num_samples
        pred = np.empty(n, dtype=np.int64)
        for s in range(0, n, chunk):
            pred[s:s + chunk] = self.model.loss(X[s:s + chunk]).argmax(axis=1)
        return float((pred == y).mean())

    def _record_accuracy(self):
        tr = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        va = self.check_accuracy(self.X_val, self.y_val)
        self.train_acc_history.append(tr)
        self.val_acc_history.append(va)
        if va > self.best_val_acc:
            self.best_val_acc = va
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}

    def train(self):
        n = self.X_train.shape[0]
        per_epoch = max(n // self.batch_size, 1)
        total = self.num_epochs * per_epoch
        for it in range(total):
            loss = self.step()
            if not np.isfinite(loss):
                self.status = "diverged"
                break
            epoch_end = (it + 1) % per_epoch == 0
            if epoch_end:
                self.optim.learning_rate *= self.lr_decay
            if it == 0 or epoch_end or it == total - 1:
                self._record_accuracy()
        if self.best_params is not None:
            self.model.params.update(self.best_params)
        return self


# =============================================================================
# Data
# =============================================================================

RECORD = 3073  # 1 label byte + 3072 pixel bytes (3 x 32 x 32, channel-major)


def load_cifar_batch(path):
    """Read one CIFAR-10 binary batch -> (X uint8 (N, 3072), y int64 (N))."""
    if not os.path.isfile(path):
        sys.exit(f"error: CIFAR-10 file not found: {path}")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD != 0:
        sys.exit(f"error: {path}: size {raw.size} bytes is not a positive "
                 f"multiple of the {RECORD}-byte record")
    raw = raw.reshape(-1, RECORD)
    y = raw[:, 0].astype(np.int64)
    if y.max() > 9:
        sys.exit(f"error: {path}: label byte {y.max()} out of range 0..9")
    return raw[:, 1:], y


def sweep_data(data_dir, num_train=1000, num_val=1000, seed=0):
    """1000 train + next 1000 val rows of data_batch_1 (or random data),
    float32, minus the mean image of the train split."""
    if data_dir:
        X, y = load_cifar_batch(os.path.join(data_dir, "data_batch_1.bin"))
        if X.shape[0] < num_train + num_val:
            sys.exit(f"error: data_batch_1.bin has {X.shape[0]} rows, need {num_train + num_val}")
        X = X[:num_train + num_val].astype(np.float32)
        y = y[:num_train + num_val]
        source = os.path.join(data_dir, "data_batch_1.bin")
    else:
        rng = np.random.default_rng(seed)
        X = rng.integers(0, 256, (num_train + num_val, 3072)).astype(np.float32)
        y = rng.integers(0, 10, num_train + num_val)
        source = "random"
    mean = X[:num_train].mean(axis=0, dtype=np.float64).astype(np.float32)
    X -= mean
    return {"X_train": X[:num_train], "y_train": y[:num_train],
            "X_val": X[num_train:], "y_val": y[num_train:]}, source


# =============================================================================
# Modes
# =============================================================================

def rel_error(a, b, floor=1e-8):
    """max_i |a_i - b_i| / max(floor, |a_i| + |b_i|), elementwise.

    floor=1e-8 is the course's formula.  The gradient check uses a larger,
    net-wide floor (see run_gradcheck): entries whose gradient is tiny
    compared with the net's largest gradient (or exactly zero, as for an
    affine bias feeding batchnorm) are then judged by their absolute error
    relative to that scale, instead of by a ratio of finite-difference noise
    (about eps * loss / h ~ 1e-11) to a near-zero gradient.
    """
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))))


def numeric_gradient(f, x, h=1e-5):
    """Centered differences of scalar f() w.r.t. every entry of x (in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fp = f()
        x[i] = old - h
        fm = f()
        x[i] = old
        grad[i] = (fp - fm) / (2 * h)
    return grad


def run_gradcheck(args):
    """Whole-net gradient check in float64 for several configurations."""
    # Small net, weight scale ~ sqrt(2 / fan_in) so that activations and
    # gradients stay O(1) in every layer: tiny pre-activations would sit within
    # h of the relu kink and tiny gradients drown in finite-difference noise.
    N, D, H, C = 6, 15, [20, 30], 10
    ws = 0.3
    cases = [
        ("plain", dict(batchnorm=False, dropout=0.0, reg=0.0), 1e-6),
        ("reg3.14", dict(batchnorm=False, dropout=0.0, reg=3.14), 1e-6),
        ("dropout0.3", dict(batchnorm=False, dropout=0.3, reg=0.0), 1e-6),
        ("deep_reg0.7", dict(batchnorm=False, dropout=0.0, reg=0.7, hidden=[12, 10, 8, 6]), 1e-6),
        ("batchnorm", dict(batchnorm=True, dropout=0.0, reg=0.0), 1e-4),
        ("batchnorm_reg3.14", dict(batchnorm=True, dropout=0.0, reg=3.14), 1e-4),
        ("batchnorm_dropout0.3", dict(batchnorm=True, dropout=0.3, reg=0.1), 1e-4),
    ]
    ok = True
    results = []
    for name, cfg, tol in cases:
        data_rng = np.random.default_rng(231)
        X = data_rng.standard_normal((N, D))
        y = data_rng.integers(0, C, N)
        model = FullyConnectedNet(cfg.get("hidden", H), input_dim=D, num_classes=C,
                                  weight_scale=ws, batchnorm=cfg["batchnorm"],
                                  dropout=cfg["dropout"], reg=cfg["reg"],
                                  dtype=np.float64, rng=np.random.default_rng(1))

        # the same dropout mask on every evaluation: a freshly seeded generator
        def f():
            return model.loss(X, y, rng=np.random.default_rng(7))[0]

        _, grads = model.loss(X, y, rng=np.random.default_rng(7))
        nums = {pname: numeric_gradient(f, model.params[pname]) for pname in sorted(model.params)}
        # net-wide floor: 1e-3 x the largest |numeric| + |analytic| entry of the net
        scale = max(float(np.max(np.abs(nums[k]) + np.abs(grads[k]))) for k in nums)
        floor = 1e-3 * scale
        errs, raw = {}, {}
        for pname in nums:
            errs[pname] = rel_error(nums[pname], grads[pname], floor)
            raw[pname] = rel_error(nums[pname], grads[pname])  # course formula
        worst = max(errs.values())
        passed = worst <= tol
        ok &= passed
        results.append({"case": name, "max_rel_error": worst, "tolerance": tol,
                        "passed": passed, "floor": floor, "per_param": errs,
                        "per_param_floor_1e-8": raw})
        if not args.json:
            print(f"{name:22s} max rel error {worst:.3e}  (tol {tol:.0e}, "
                  f"floor {floor:.1e})  {'PASS' if passed else 'FAIL'}")
            for pname, e in errs.items():
                print(f"    {pname:8s} {e:.3e}   (floor 1e-8: {raw[pname]:.3e})")
    if args.json:
        print(json.dumps({"mode": "gradcheck", "passed": ok, "cases": results}))
    else:
        print("gradcheck", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


def net_name(hidden, batchnorm, dropout, batch):
    s = f"fc[{','.join(str(h) for h in hidden)}]"
    if batchnorm:
        s += "+batchnorm"
    if dropout:
        s += f"+dropout{dropout:g}"
    return s + f" batch{batch}"


def run_bench(args):
    """Timed Solver steps on random float32 data (4000 x 3072, 10 classes)."""
    hidden = [int(h) for h in args.hidden.split(",") if h]
    rng = np.random.default_rng(args.seed)
    X = rng.standard_normal((4000, 3072), dtype=np.float32)
    y = rng.integers(0, 10, 4000)
    model = FullyConnectedNet(hidden, 3072, 10, weight_scale=args.weight_scale,
                              batchnorm=args.batchnorm, dropout=args.dropout,
                              dtype=np.float32, rng=rng)
    data = {"X_train": X, "y_train": y, "X_val": X[:0], "y_val": y[:0]}
    solver = Solver(model, data, rng, learning_rate=1e-3, batch_size=args.batch)

    # warm-up (allocator, BLAS buffers, caches)
    t0 = time.perf_counter()
    warm = 0
    while warm < 5 or time.perf_counter() - t0 < args.warmup:
        solver.step()
        warm += 1
    # every parameter, gradient and state must still be float32
    _, grads = model.loss(X[:args.batch], y[:args.batch], rng=rng)
    for k in model.params:
        assert model.params[k].dtype == np.float32, k
        assert grads[k].dtype == np.float32, k
        assert solver.optim.state[k]["m"].dtype == np.float32, k
        assert solver.optim.state[k]["v"].dtype == np.float32, k
    for bp in model.bn_params:
        assert bp["running_mean"].dtype == bp["running_var"].dtype == np.float32
    assert model.loss(X[:args.batch]).dtype == np.float32

    steps = 0
    t0 = time.perf_counter()
    while True:
        solver.step()
        steps += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= args.seconds:
            break
    sps = steps * args.batch / elapsed
    name = net_name(hidden, args.batchnorm, args.dropout, args.batch)
    if args.json:
        print(json.dumps({"net": name, "samples_per_sec": sps, "steps": steps,
                          "batch": args.batch, "seconds": elapsed,
                          "final_loss": solver.loss_history[-1],
                          "blas_threads": os.environ["OPENBLAS_NUM_THREADS"]}))
    else:
        print(f"{name}: {sps:.1f} samples/s ({steps} steps in {elapsed:.2f} s, "
              f"loss {solver.loss_history[-1]:.3f}, "
              f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']})")
    return 0


def _flag(s):
    s = s.strip().lower()
    if s in ("1", "t", "true", "y", "yes"):
        return True
    if s in ("0", "n", "false", "no", ""):
        return False
    raise ValueError(f"bad transpose flag {s!r} (use 0/1, N/T)")


def run_sgemm(args):
    """Median GFLOP/s of np.dot float32: C (M, N) = op(A) (M, K) . op(B) (K, N)."""
    parts = args.sgemm.split(",")
    if len(parts) not in (3, 5):
        sys.exit("error: --sgemm expects M,N,K or M,N,K,tA,tB")
    M, N, K = (int(v) for v in parts[:3])
    tA, tB = (_flag(parts[3]), _flag(parts[4])) if len(parts) == 5 else (False, False)
    rng = np.random.default_rng(args.seed)
    A = rng.standard_normal((K, M) if tA else (M, K), dtype=np.float32)
    B = rng.standard_normal((N, K) if tB else (K, N), dtype=np.float32)
    a = A.T if tA else A  # transposed *views*: BLAS gets the transpose flag
    b = B.T if tB else B
    C = np.empty((M, N), dtype=np.float32)
    np.dot(a, b, out=C)
    assert C.dtype == np.float32

    flops = 2.0 * M * N * K
    # calibrate: repetitions so one run lasts >= ~50 ms
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            np.dot(a, b, out=C)
        dt = time.perf_counter() - t0
        if dt >= 0.05:
            break
        reps *= 2
    runs = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        for _ in range(reps):
            np.dot(a, b, out=C)
        runs.append((time.perf_counter() - t0) / reps)
    t = float(np.median(runs))
    gflops = flops / t / 1e9
    shape = f"{M},{N},{K},{'T' if tA else 'N'},{'T' if tB else 'N'}"
    if args.json:
        print(json.dumps({"sgemm": shape, "gflops": gflops, "seconds_per_call": t,
                          "runs": args.runs, "reps_per_run": reps,
                          "blas_threads": os.environ["OPENBLAS_NUM_THREADS"]}))
    else:
        print(f"sgemm {shape}: {gflops:.2f} GFLOP/s (median of {args.runs} runs "
              f"x {reps} calls, {t * 1e6:.1f} us/call, "
              f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']})")
    return 0


def run_sweep(args):
    """SPEC batchnorm_sweep, sequential: 20 weight scales x {bn, none}."""
    t_start = time.perf_counter()
    data, source = sweep_data(args.data, seed=args.seed)
    scales = np.logspace(-4, 0, num=20)
    trials = []
    trial_id = 0
    for ws in scales:
        for bn in (True, False):
            t0 = time.perf_counter()
            rng = np.random.default_rng([args.seed, trial_id])  # per-trial generator
            model = FullyConnectedNet([50] * 6, 3072, 10, weight_scale=float(ws),
                                      batchnorm=bn, dtype=np.float32, rng=rng)
            solver = Solver(model, data, rng, learning_rate=1e-3, batch_size=50,
                            num_epochs=10).train()
            row = {"trial": trial_id, "weight_scale": float(ws), "batchnorm": bn,
                   "status": solver.status,
                   "best_val_acc": solver.best_val_acc,
                   "final_train_acc": solver.train_acc_history[-1] if solver.train_acc_history else None,
                   "final_loss": solver.loss_history[-1],
                   "wall_seconds": time.perf_counter() - t0}
            trials.append(row)
            if not args.json:
                print(f"trial {trial_id:2d} ws {ws:.2e} bn {str(bn):5s} "
                      f"best val {solver.best_val_acc:.3f} "
                      f"train {row['final_train_acc']:.3f} "
                      f"loss {row['final_loss']:.3f} {solver.status} "
                      f"({row['wall_seconds']:.2f} s)")
            trial_id += 1
    wall = time.perf_counter() - t_start
    if args.json:
        print(json.dumps({"mode": "sweep", "data": source, "trials": len(trials),
                          "wall_seconds": wall,
                          "blas_threads": os.environ["OPENBLAS_NUM_THREADS"],
                          "results": trials}))
    else:
        print(f"sweep: {len(trials)} trials on {source}, total wall {wall:.2f} s "
              f"(OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']})")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--gradcheck", action="store_true", help="float64 whole-net gradient check")
    mode.add_argument("--bench", action="store_true", help="training-step throughput")
    mode.add_argument("--sgemm", metavar="M,N,K[,tA,tB]", help="time np.dot float32")
    mode.add_argument("--sweep", action="store_true", help="batchnorm weight-scale sweep")
    ap.add_argument("--hidden", default="100,100,100,100,100", help="hidden dims (bench)")
    ap.add_argument("--batch", type=int, default=100, help="batch size (bench)")
    ap.add_argument("--batchnorm", action="store_true", help="use batchnorm (bench)")
    ap.add_argument("--dropout", type=float, default=0.0, help="drop probability (bench)")
    ap.add_argument("--weight-scale", type=float, default=5e-2, help="init scale (bench)")
    ap.add_argument("--seconds", type=float, default=3.0, help="timed duration (bench)")
    ap.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds (bench)")
    ap.add_argument("--runs", type=int, default=9, help="timed runs (sgemm)")
    ap.add_argument("--data", metavar="DIR", help="CIFAR-10 binary folder (sweep)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, help="BLAS threads (default 1; set before numpy import)")
    ap.add_argument("--json", action="store_true", help="one JSON line per result")
    args = ap.parse_args()
    if not 0 <= args.dropout < 1:
        ap.error("--dropout must be in [0, 1)")

    if args.gradcheck:
        return run_gradcheck(args)
    if args.bench:
        return run_bench(args)
    if args.sgemm:
        return run_sgemm(args)
    return run_sweep(args)


if __name__ == "__main__":
    sys.exit(main())
