"""W6 with k-diffusion and diffusers (PyTorch eager, float64, CPU, one thread): gmm2d8's exact
denoiser, 20 steps, 100,000 samples. k-diffusion's sample_dpmpp_2m and sample_heun on the EDM
process with the Karras grid (σ_min 0.002, σ_max 80, ρ 7, σ = 0 appended), and diffusers'
DPMSolverMultistepScheduler (dpmsolver++, order 2, final σ 0, linspace spacing) on the DDPM chain
with the ε-model. The model is the same closed form as parity.py's, written in torch for a whole
batch. Each timing is the fastest of three runs (reference.timed), the prior draw included.

Usage: samplers_peer.py W6 [samples]; prints one JSON line per run (reference.report), with
ns_per_sample and ns_per_sample_evaluation. `fast_samplers(n)` is the same as a function."""
import torch

import reference as ref

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

STEPS = 20
EDM_SIGMA_MIN, EDM_SIGMA_MAX, EDM_RHO = 0.002, 80.0, 7.0


def posterior_mean(x, a, s, means, std):
    """E[x₀ | a·x₀ + s·n = x] for an equal-weight isotropic mixture (BLAS form of ‖x − aμ_k‖²)."""
    v = a * a * std * std + s * s
    centres = a * means
    d2 = (x * x).sum(1, keepdim=True) - 2 * x @ centres.T + (centres * centres).sum(1)[None, :]
    r = torch.softmax(-d2 / (2 * v), dim=1)
    return (a * std * std * x + s * s * (r @ means)) / v


def run_k_diffusion(n, function, means, std, seed=0):
    import parity
    sampling = parity.k_diffusion_sampling()
    sigmas = sampling.get_sigmas_karras(STEPS, EDM_SIGMA_MIN, EDM_SIGMA_MAX, rho=EDM_RHO)
    gen = torch.Generator().manual_seed(seed)
    calls = [0]

    def model(x, sigma, **_):
        calls[0] += 1
        return posterior_mean(x, 1.0, float(sigma[0]), means, std)

    def run():
        calls[0] = 0
        x = EDM_SIGMA_MAX * torch.randn(n, 2, generator=gen)
        return getattr(sampling, function)(model, x, sigmas, disable=True)
    return ref.timed(run), calls[0]


def run_diffusers(n, means, std, seed=0):
    from diffusers import DPMSolverMultistepScheduler
    import parity_numpy as pn
    alpha_bars = torch.from_numpy(pn.ddpm_alpha_bars())
    gen = torch.Generator().manual_seed(seed)
    scheduler = DPMSolverMultistepScheduler(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02,
                                            beta_schedule="linear", solver_order=2, algorithm_type="dpmsolver++",
                                            solver_type="midpoint", final_sigmas_type="zero",
                                            prediction_type="epsilon", timestep_spacing="linspace")
    calls = [0]

    def epsilon(x, t):
        calls[0] += 1
        ab = float(alpha_bars[int(t)])
        a, s = ab ** 0.5, (1 - ab) ** 0.5
        return (x - a * posterior_mean(x, a, s, means, std)) / s

    def run():
        calls[0] = 0
        scheduler.set_timesteps(STEPS)
        x = torch.randn(n, 2, generator=gen)
        for t in scheduler.timesteps:
            x = scheduler.step(epsilon(x, t), t, x).prev_sample
        return x
    return ref.timed(run), calls[0]


def fast_samplers(n=100_000):
    """W6's three peer runs, each reported as one JSON line."""
    means_np, std = ref.target("gmm2d8")
    means = torch.from_numpy(means_np)
    runs = [("k-diffusion", "dpm-solver++-2m", "edm karras", lambda: run_k_diffusion(n, "sample_dpmpp_2m", means, std)),
            ("k-diffusion", "edm-heun", "edm karras", lambda: run_k_diffusion(n, "sample_heun", means, std)),
            ("diffusers", "dpm-solver++-2m", "ddpm linspace", lambda: run_diffusers(n, means, std))]
    for peer, solver, grid, run in runs:
        (x, seconds), nfe = run()
        ref.report(peer, "W6", seconds, nfe=nfe,
                   extra={"solver": solver, "grid": grid, "steps": STEPS, "samples": n,
                          "ns_per_sample": seconds / n * 1e9, "ns_per_sample_evaluation": seconds / (n * nfe) * 1e9,
                          **ref.metrics(x.numpy(), means_np, std)})


if __name__ == "__main__":
    workload, n = ref.arguments()
    if workload != "W6":
        raise SystemExit(f"samplers peer: no {workload}")
    fast_samplers(n or 100_000)
