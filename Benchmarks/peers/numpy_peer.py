"""W1, W3 and W4 in numpy, float64, as shared/REFERENCE.md defines them."""
import math

import numpy as np

import reference as ref


def reverse_em(target, n, steps=1000, seed=0):
    means, std = ref.target(target)
    rng = np.random.default_rng(seed)
    times, h = ref.grid(steps)

    def run():
        x = rng.standard_normal((n, means.shape[1]))
        for t in times[:-1]:
            b = ref.beta(t)
            drift = -0.5 * b * x - b * ref.exact_score(x, t, means, std)
            x = x - h * drift + math.sqrt(b * h) * rng.standard_normal(x.shape)
        return x

    x, seconds = ref.timed(run)
    ref.report("numpy", "W1" if target == "gmm2d8" else "W3", seconds, samples=n, steps=steps, nfe=steps,
               extra=ref.metrics(x, means, std))


def gbm(paths=10_000, level=10, seed=0):
    mu, sigma, x0 = 1.01, 0.87, 0.5
    steps = 2 ** level
    dt = 1.0 / steps
    rng = np.random.default_rng(seed)

    def run():
        x = np.full(paths, x0)
        w = np.zeros(paths)
        for _ in range(steps):
            dw = math.sqrt(dt) * rng.standard_normal(paths)
            x = x + mu * x * dt + sigma * x * dw
            w += dw
        return x, w

    (x, w), seconds = ref.timed(run)
    exact = x0 * np.exp((mu - 0.5 * sigma * sigma) + sigma * w)
    ref.report("numpy", "W4", seconds, samples=paths, steps=steps,
               extra={"solver": "euler-maruyama", "strong_error": float(np.abs(x - exact).mean())})


if __name__ == "__main__":
    workload, n = ref.arguments()
    if workload == "W1":
        reverse_em("gmm2d8", n or 100_000)
    elif workload == "W3":
        reverse_em("gmm64d16", n or 10_000)
    elif workload == "W4":
        gbm(n or 10_000)
    else:
        raise SystemExit(f"numpy peer: no {workload}")
