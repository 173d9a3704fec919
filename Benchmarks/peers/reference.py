"""shared/REFERENCE.md in numpy: targets, the VP SDE, the exact mixture score, the metrics, and
how a peer reports a run. Every peer script imports this, so all of them (and SDEKit) measure
the same workload with the same constants, grid and update rule."""
import json
import math
import sys
import time

import numpy as np

BETA_MIN, BETA_MAX, T, EPS = 0.1, 20.0, 1.0, 1e-3


def target(name):
    """(means K×d, component std) of a REFERENCE target."""
    if name == "gmm2d8":
        k = np.arange(8)
        return np.stack([4 * np.cos(2 * np.pi * k / 8), 4 * np.sin(2 * np.pi * k / 8)], axis=1), 0.5
    if name == "gmm64d16":
        k = np.arange(16)[:, None]
        j = np.arange(64)[None, :]
        return 2 * np.sin(1.0 + 0.9 * k + 1.3 * j + 0.37 * k * j), 0.3
    raise SystemExit(f"unknown target {name!r}; known: gmm2d8, gmm64d16")


def beta(t):
    return BETA_MIN + t * (BETA_MAX - BETA_MIN)


def mean_coefficient(t):
    return math.exp(-0.25 * t * t * (BETA_MAX - BETA_MIN) - 0.5 * t * BETA_MIN)


def grid(steps):
    """t_i = T − i·h, h = (T − ε)/N, i = 0…N."""
    h = (T - EPS) / steps
    return [T - i * h for i in range(steps + 1)], h


def exact_score(x, t, means, std):
    """Σ_k r_k (aμ_k − x)/v with max-subtracted softmax responsibilities (equal weights)."""
    a = mean_coefficient(t)
    v = a * a * std * std + (1 - a * a)
    centres = a * means
    # ‖x − aμ‖² = ‖x‖² − 2 x·aμ + ‖aμ‖², the BLAS form numpy users write.
    d2 = (x * x).sum(1)[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)[None, :]
    logits = -d2 / (2 * v)
    logits -= logits.max(1, keepdims=True)
    r = np.exp(logits)
    r /= r.sum(1, keepdims=True)
    return (r @ centres - x) / v


def exact_samples(means, std, n, rng):
    k = rng.integers(0, len(means), n)
    return means[k] + std * rng.standard_normal((n, means.shape[1]))


def sliced_w2(x, y, rng, projections=128):
    n = min(len(x), len(y), 20_000)
    theta = rng.standard_normal((x.shape[1], projections))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    a = np.sort(x[:n] @ theta, axis=0)
    b = np.sort(y[:n] @ theta, axis=0)
    return float(np.sqrt(((a - b) ** 2).mean()))


def metrics(x, means, std, seed=0):
    """REFERENCE quality metrics: mean and covariance error, sliced W2 with its floor, mode
    occupancy (for every target: the fraction per nearest component centre)."""
    rng = np.random.default_rng(seed + 1000)
    m = means.mean(0)
    c = std * std * np.eye(means.shape[1]) + (means.T @ means) / len(means) - np.outer(m, m)
    n = min(len(x), 20_000)
    exact = exact_samples(means, std, n, rng)
    floor = sliced_w2(exact_samples(means, std, n, rng), exact, rng)
    nearest = ((x[:, None, :] - means[None, :, :]) ** 2).sum(2).argmin(1) if x.shape[1] <= 8 else \
        (-(2 * x @ means.T) + (means * means).sum(1)[None, :]).argmin(1)
    occupancy = np.bincount(nearest, minlength=len(means)) / len(x)
    return {
        "mean_err": float(np.linalg.norm(x.mean(0) - m)),
        "cov_err": float(np.linalg.norm(np.cov(x, rowvar=False) - c)),
        "sw2": sliced_w2(x, exact, rng),
        "sw2_floor": floor,
        "mode_occupancy_min": float(occupancy.min()),
        "mode_occupancy_max": float(occupancy.max()),
    }


def report(peer, workload, seconds, samples=None, steps=None, nfe=None, extra=None, means=None, std=None):
    """Prints one JSON line: what compare_peers.py reads."""
    out = {"peer": peer, "workload": workload, "seconds": seconds}
    if samples is not None and steps is not None:
        out["ns_per_sample_step"] = seconds / (samples * steps) * 1e9
    if nfe is not None:
        out["nfe"] = nfe
    if extra:
        out.update(extra)
    print(json.dumps(out))
    sys.stdout.flush()


# Each timing is the fastest of a few runs, for every peer and for SDEKit (compare_peers.py): on a
# shared machine a slower repeat measures the other processes (as timeit's documentation says),
# and single runs here moved by up to 40 %.
REPEATS = 3


def timed(function, repeats=REPEATS):
    """(the last run's value, the fastest run's seconds); `function` must redo all its work."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return value, best


def arguments():
    """workload and sample count from argv: `script.py W1 [N]`."""
    if len(sys.argv) < 2:
        raise SystemExit(f"usage: {sys.argv[0]} W1|W2|W3|W4 [samples]")
    return sys.argv[1], (int(sys.argv[2]) if len(sys.argv) > 2 else None)
