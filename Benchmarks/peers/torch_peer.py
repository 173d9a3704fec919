"""W1 and W3 in PyTorch eager, float64, CPU, one thread."""
import math

import numpy as np
import torch

import reference as ref

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)


def score(x, t, centres_unit, std):
    a = ref.mean_coefficient(t)
    v = a * a * std * std + (1 - a * a)
    centres = a * centres_unit
    d2 = (x * x).sum(1, keepdim=True) - 2 * x @ centres.T + (centres * centres).sum(1)[None, :]
    r = torch.softmax(-d2 / (2 * v), dim=1)
    return (r @ centres - x) / v


def reverse_em(target, n, steps=1000, seed=0):
    means, std = ref.target(target)
    mu = torch.from_numpy(means)
    gen = torch.Generator().manual_seed(seed)
    times, h = ref.grid(steps)

    def run():
        x = torch.randn(n, means.shape[1], generator=gen)
        for t in times[:-1]:
            b = ref.beta(t)
            x = x - h * (-0.5 * b * x - b * score(x, t, mu, std)) + math.sqrt(b * h) * torch.randn(x.shape, generator=gen)
        return x

    x, seconds = ref.timed(run)
    ref.report("pytorch", "W1" if target == "gmm2d8" else "W3", seconds, samples=n, steps=steps, nfe=steps,
               extra=ref.metrics(x.numpy(), means, std))


def network(n=10_000, repeats=20):
    """W5: one evaluation of the REFERENCE MLP (2 + 32 → 128 → 128 → 128 → 2, SiLU), float32."""
    torch.set_default_dtype(torch.float32)
    widths = [34, 128, 128, 128, 2]
    layers = [torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:])]
    x = torch.randn(n, 34)

    def evaluate():
        h = x
        for i, layer in enumerate(layers):
            h = layer(h)
            if i < len(layers) - 1:
                h = torch.nn.functional.silu(h)
        return h

    with torch.no_grad():
        evaluate()
        _, seconds = ref.timed(lambda: [evaluate() for _ in range(repeats)])
    ref.report("pytorch", "W5", seconds / repeats, extra={"ns_per_row": seconds / repeats / n * 1e9})


if __name__ == "__main__":
    workload, n = ref.arguments()
    if workload == "W5":
        network(n or 10_000)
    elif workload == "W1":
        reverse_em("gmm2d8", n or 100_000)
    elif workload == "W3":
        reverse_em("gmm64d16", n or 10_000)
    else:
        raise SystemExit(f"pytorch peer: no {workload}")
