"""W4 with torchsde: GBM, 10,000 paths, dt = 2⁻¹⁰, Euler–Maruyama and SRK (its strong order 1.5
scheme for diagonal noise), one Brownian path per sample, error against the exact solution."""
import math

import torch
import torchsde

import reference as ref

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
MU, SIGMA, X0 = 1.01, 0.87, 0.5


class GBM(torch.nn.Module):
    noise_type = "diagonal"
    sde_type = "ito"

    def f(self, t, y):
        return MU * y

    def g(self, t, y):
        return SIGMA * y


def run(paths=10_000, level=10, seed=0):
    steps = 2 ** level
    y0 = torch.full((paths, 1), X0)
    for method in ["euler", "srk"]:
        def solve():
            # A new Brownian path each run: a BrownianInterval caches what it was asked for, and a
            # repeat on the same one would skip drawing the path.
            bm = torchsde.BrownianInterval(t0=0.0, t1=1.0, size=(paths, 1), entropy=seed,
                                           levy_area_approximation="space-time" if method == "srk" else "none")
            return torchsde.sdeint(GBM(), y0, torch.tensor([0.0, 1.0]), bm=bm, method=method, dt=1.0 / steps), bm

        (ys, bm), seconds = ref.timed(solve)
        w = bm(0.0, 1.0)
        exact = X0 * torch.exp((MU - 0.5 * SIGMA * SIGMA) + SIGMA * w)
        error = float((ys[-1] - exact).abs().mean())
        ref.report("torchsde", "W4", seconds, samples=paths, steps=steps,
                   extra={"solver": "euler-maruyama" if method == "euler" else "sriw1", "strong_error": error})


if __name__ == "__main__":
    workload, n = ref.arguments()
    if workload != "W4":
        raise SystemExit(f"torchsde peer: no {workload}")
    run(n or 10_000)
