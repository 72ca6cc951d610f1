#!/usr/bin/env python3
"""Generate reference fixtures for the optimizers of SPEC.md section 4.

This is an independent float64 numpy implementation of the update rules
(sgd, sgd_momentum, nesterov, rmsprop, adam, adagrad, adamw).  For every case it
starts from the same 12-value weight array ``w0``, applies 5 updates with 5
fixed gradient arrays ``dw`` and records the weights after every step.

``w0`` and the ``dw`` are drawn from ``np.random.RandomState(0)`` (``w0`` first,
then the 5 gradients, each ``randn(12)``) and are written into the fixture, so
the Swift tests never need numpy's generator.

Output: Tests/RunnerLayersTests/Fixtures/optimizers.json (relative to the
package root).  Run from anywhere:

    python3 scripts/optimizer_fixtures.py

Floats are written with Python's ``repr`` (shortest string that round-trips
exactly to the same float64, at most 17 significant digits), so parsing them
back gives bit-identical doubles.

Learning-rate decay case: SPEC applies ``lr_decay`` at the end of each epoch.
Here the "epoch" boundary is simply after step 2: steps 1..2 use ``lr``,
steps 3..5 use ``lr * 0.5``.  The fixture records the learning rate used at
every step (``learning_rates``) so the test does not have to re-derive it.
The optimizer state (velocity etc.) is NOT touched by the decay.

Decoupled weight decay (``weight_decay`` = wd; sgd, sgd_momentum, nesterov and
adamw): every step first scales the weights, ``w = w * (1 - lr * wd)`` (as
PyTorch's AdamW: ``p.mul_(1 - lr * wd)``), then applies the rule's update with
the unchanged gradient.  adamw is adam after that scaling; its default wd is
0.01 (PyTorch's), 0 for the others.
"""

import json
import os
import sys

import numpy as np

NUM_VALUES = 12
NUM_STEPS = 5

# SPEC section 4 defaults, except learning_rate which is 1e-2 for every case
# in this fixture (including adam, whose SPEC default is 1e-3).
DEFAULTS = {
    "learning_rate": 1e-2,
    "momentum": 0.9,
    "decay_rate": 0.99,
    "beta1": 0.9,
    "beta2": 0.999,
    "epsilon": 1e-8,
    "weight_decay": 0.0,
}

# Defaults that differ per optimizer.
OWN_DEFAULTS = {"adamw": {"weight_decay": 1e-2}}

# The hyper-parameters each optimizer actually reads.
USED = {
    "sgd": ["learning_rate", "weight_decay"],
    "sgd_momentum": ["learning_rate", "momentum", "weight_decay"],
    "nesterov": ["learning_rate", "momentum", "weight_decay"],
    "rmsprop": ["learning_rate", "decay_rate", "epsilon"],
    "adam": ["learning_rate", "beta1", "beta2", "epsilon"],
    "adagrad": ["learning_rate", "epsilon"],
    "adamw": ["learning_rate", "beta1", "beta2", "epsilon", "weight_decay"],
}


# --------------------------------------------------------------------------
# Update rules.  Each takes (w, dw, lr, hp, state) and returns the new w;
# `state` is a dict holding the per-parameter optimizer state, updated in place.
# All arithmetic is float64.
# --------------------------------------------------------------------------

def sgd_step(w, dw, lr, hp, state):
    # w -= lr * dw
    return w - lr * dw


def sgd_momentum_step(w, dw, lr, hp, state):
    # v = momentum * v - lr * dw ; w += v
    v = state.get("v", np.zeros_like(w))
    v = hp["momentum"] * v - lr * dw
    state["v"] = v
    return w + v


def nesterov_step(w, dw, lr, hp, state):
    # v_prev = v ; v = momentum * v - lr * dw ; w += v + momentum * (v - v_prev)
    v_prev = state.get("v", np.zeros_like(w))
    v = hp["momentum"] * v_prev - lr * dw
    state["v"] = v
    return w + v + hp["momentum"] * (v - v_prev)


def rmsprop_step(w, dw, lr, hp, state):
    # s = decay * s + (1 - decay) * dw^2 ; w -= lr * dw / (sqrt(s) + eps)
    s = state.get("s", np.zeros_like(w))
    s = hp["decay_rate"] * s + (1.0 - hp["decay_rate"]) * dw * dw
    state["s"] = s
    return w - lr * dw / (np.sqrt(s) + hp["epsilon"])


def adam_step(w, dw, lr, hp, state):
    # t += 1 first, then
    # m = b1*m + (1-b1)*dw ; v = b2*v + (1-b2)*dw^2
    # mhat = m / (1 - b1^t) ; vhat = v / (1 - b2^t)
    # w -= lr * mhat / (sqrt(vhat) + eps)
    b1, b2 = hp["beta1"], hp["beta2"]
    t = state.get("t", 0) + 1
    m = state.get("m", np.zeros_like(w))
    v = state.get("v", np.zeros_like(w))
    m = b1 * m + (1.0 - b1) * dw
    v = b2 * v + (1.0 - b2) * dw * dw
    state["t"], state["m"], state["v"] = t, m, v
    m_hat = m / (1.0 - b1 ** t)
    v_hat = v / (1.0 - b2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + hp["epsilon"])


def adagrad_step(w, dw, lr, hp, state):
    # cache += dw^2 ; w -= lr * dw / (sqrt(cache) + eps)
    cache = state.get("cache", np.zeros_like(w))
    cache = cache + dw * dw
    state["cache"] = cache
    return w - lr * dw / (np.sqrt(cache) + hp["epsilon"])


STEP = {
    "sgd": sgd_step,
    "sgd_momentum": sgd_momentum_step,
    "nesterov": nesterov_step,
    "rmsprop": rmsprop_step,
    "adam": adam_step,
    "adagrad": adagrad_step,
    "adamw": adam_step,   # after the decoupled decay, see run_case
}


def make_inputs():
    """w0 (12,) then dw (5, 12), all from RandomState(0)."""
    rs = np.random.RandomState(0)
    w0 = rs.randn(NUM_VALUES)
    dws = [rs.randn(NUM_VALUES) for _ in range(NUM_STEPS)]
    return w0, dws


def run_case(name, optimizer, overrides, w0, dws, lr_decay=None):
    """Run NUM_STEPS updates; lr_decay = (factor, after_step) or None."""
    hp = {k: OWN_DEFAULTS.get(optimizer, {}).get(k, DEFAULTS[k]) for k in USED[optimizer]}
    for k, v in overrides.items():
        if k not in hp:
            raise ValueError(f"{name}: {optimizer} does not use {k}")
        hp[k] = v

    lr = hp["learning_rate"]
    state = {}
    w = w0.copy()
    expected, lrs = [], []
    for step, dw in enumerate(dws, start=1):
        lrs.append(lr)
        wd = hp.get("weight_decay", 0.0)
        if wd != 0.0:
            w = w * (1.0 - lr * wd)   # decoupled weight decay, before the update
        w = STEP[optimizer](w, dw, lr, hp, state)
        expected.append(w.tolist())
        if lr_decay is not None and step == lr_decay[1]:
            lr = lr * lr_decay[0]

    case = {
        "name": name,
        "optimizer": optimizer,
        "hyperparameters": hp,
        "lr_decay": None,
        "learning_rates": lrs,
        "w0": w0.tolist(),
        "dw": [d.tolist() for d in dws],
        "expected": expected,
    }
    if lr_decay is not None:
        case["lr_decay"] = {"factor": lr_decay[0], "applied_after_steps": [lr_decay[1]]}
    return case


def build_fixture():
    w0, dws = make_inputs()
    cases = [
        run_case("sgd", "sgd", {}, w0, dws),
        run_case("sgd_momentum", "sgd_momentum", {}, w0, dws),
        run_case("sgd_momentum_m0.5", "sgd_momentum", {"momentum": 0.5}, w0, dws),
        run_case("nesterov", "nesterov", {}, w0, dws),
        run_case("rmsprop", "rmsprop", {}, w0, dws),
        run_case("adam", "adam", {}, w0, dws),
        run_case("adam_lr1e-3_b0.8_0.95_eps1e-6", "adam",
                 {"learning_rate": 1e-3, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6},
                 w0, dws),
        run_case("adagrad", "adagrad", {}, w0, dws),
        run_case("sgd_momentum_lr_decay0.5_after_step2", "sgd_momentum", {}, w0, dws,
                 lr_decay=(0.5, 2)),
        run_case("adamw", "adamw", {}, w0, dws),
        run_case("adamw_lr1e-3_wd0.1", "adamw", {"learning_rate": 1e-3, "weight_decay": 0.1}, w0, dws),
        run_case("adamw_wd0.5_lr_decay0.5_after_step2", "adamw", {"weight_decay": 0.5}, w0, dws, lr_decay=(0.5, 2)),
        run_case("sgd_wd0.2", "sgd", {"weight_decay": 0.2}, w0, dws),
        run_case("sgd_momentum_wd0.1", "sgd_momentum", {"weight_decay": 0.1}, w0, dws),
        run_case("nesterov_wd0.1", "nesterov", {"weight_decay": 0.1}, w0, dws),
    ]
    return {
        "description": (
            "Optimizer reference values (SPEC section 4), float64. Each case starts "
            "from w0, applies dw[0..4] in order; expected[i] is w after step i+1. "
            "learning_rates[i] is the learning rate used at step i+1 (lr_decay "
            "multiplies it after the listed steps; optimizer state is unaffected). "
            "adam increments t before use. weight_decay (decoupled): w = w*(1 - lr*wd) "
            "before each update."
        ),
        "generator": "scripts/optimizer_fixtures.py (numpy RandomState(0): w0 = randn(12), then dw_k = randn(12) for k = 1..5)",
        "dtype": "float64",
        "num_steps": NUM_STEPS,
        "cases": cases,
    }


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "Tests", "RunnerLayersTests", "Fixtures", "optimizers.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    fixture = build_fixture()
    # json writes floats with repr(): shortest exact round-trip form (<= 17 digits).
    text = json.dumps(fixture, indent=1, allow_nan=False)
    with open(out, "w") as f:
        f.write(text + "\n")
    print(f"wrote {out} ({len(fixture['cases'])} cases)", file=sys.stderr)


if __name__ == "__main__":
    main()
