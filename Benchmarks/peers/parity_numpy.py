"""The samplers of k-diffusion and diffusers that SDEKit's parity tests compare against (issue 21),
rewritten in plain numpy float64 from PARITY_NOTES.md: the executable form of the equations the
Swift side implements. `parity.py` checks every committed fixture against these functions (to
1e-12 for the float64 references), so a difference between these lines and the packages shows up
there. Needs numpy only: `python parity_numpy.py` checks the committed fixtures without PyTorch.

Conventions: `denoise(x, sigma)` (EDM) and `velocity(x, sigma)` (flow) take the noise level;
`epsilon(x, i)` (DDPM chain) is the model at the i-th timestep of the grid, since it needs the
integer timestep; x is an N × d array."""
import json
import math
import os

import numpy as np

# ---------------------------------------------------------------------------------------------
# The exact gmm2d8 model (shared/REFERENCE.md)

K = np.arange(8)
MEANS = np.stack([4 * np.cos(2 * np.pi * K / 8), 4 * np.sin(2 * np.pi * K / 8)], axis=1)
COMPONENT_STD = 0.5


def posterior_mean(x, a, s):
    """E[x₀ | x_t = x] for x_t = a·x₀ + s·n and x₀ ~ gmm2d8: components N(aμ_k, v I) with
    v = a²s_k² + s², responsibilities by a max-subtracted softmax, each component's posterior mean
    (a s_k² x + s² μ_k)/v."""
    v = a * a * COMPONENT_STD ** 2 + s * s
    difference = x[:, None, :] - a * MEANS[None, :, :]
    logits = -(difference * difference).sum(2) / (2 * v)
    logits -= logits.max(1, keepdims=True)
    r = np.exp(logits)
    r /= r.sum(1, keepdims=True)
    return (a * COMPONENT_STD ** 2 * x + s * s * (r @ MEANS)) / v


def edm_denoiser(x, sigma):
    """D(x; σ) = E[x₀ | x₀ + σn = x]."""
    return posterior_mean(x, 1.0, sigma)


def ddpm_alpha_bars(steps=1000, beta_start=1e-4, beta_end=0.02):
    """ᾱ_i = ∏_{j ≤ i}(1 − β_j), β_i = β_start + (β_end − β_start)·i/(N − 1) in float64, the
    product taken in order: the same numbers as SDEKit's DDPMSchedule.linear()."""
    betas = beta_start + (beta_end - beta_start) * np.arange(steps, dtype=np.float64) / (steps - 1)
    return np.cumprod(1 - betas)


def ddpm_epsilon(x, alpha_bar):
    """ε̂ = (x − √ᾱ·E[x₀|x])/√(1 − ᾱ) at the chain's float64 ᾱ of the model's timestep."""
    a, s = math.sqrt(alpha_bar), math.sqrt(1 - alpha_bar)
    return (x - a * posterior_mean(x, a, s)) / s


def flow_velocity(x, t):
    """v = (x − E[x₀|x_t])/t for x_t = (1 − t)x₀ + t·n."""
    return (x - posterior_mean(x, 1 - t, t)) / t


# ---------------------------------------------------------------------------------------------
# Grids


def torch_linspace(start, end, steps):
    """torch.linspace on the CPU (checked equal for steps = 10 and 20): the first half counted up
    from `start`, the second half down from `end`."""
    step = (end - start) / (steps - 1)
    i = np.arange(steps)
    return np.where(i < steps // 2, start + step * i, end - step * (steps - 1 - i))


def karras_sigmas(n, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    """k-diffusion get_sigmas_karras (float64 default dtype), σ = 0 appended: n + 1 values. The power
    is libm's pow, as PyTorch's (numpy's vectorised ** differs from it in the last bit)."""
    ramp = torch_linspace(0.0, 1.0, n)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return np.array([math.pow(base, rho) for base in hi + ramp * (lo - hi)] + [0.0])


def multistep_timesteps(spacing, n, train=1000):
    """DPMSolverMultistepScheduler / UniPCMultistepScheduler.set_timesteps: n integer timesteps,
    high to low (λ_min_clipped = −inf, steps_offset = 0)."""
    if spacing == "linspace":
        return np.linspace(0, train - 1, n + 1).round()[::-1][:-1].astype(np.int64)
    if spacing == "leading":
        return (np.arange(0, n + 1) * (train // (n + 1))).round()[::-1][:-1].astype(np.int64)
    if spacing == "trailing":
        return np.arange(train, 0, -train / n).round().astype(np.int64) - 1
    raise ValueError(spacing)


def ddim_timesteps(spacing, n, train=1000):
    """DDIMScheduler.set_timesteps (steps_offset = 0)."""
    if spacing == "linspace":
        return np.linspace(0, train - 1, n).round()[::-1].astype(np.int64)
    if spacing == "leading":
        return (np.arange(0, n) * (train // n)).round()[::-1].astype(np.int64)
    if spacing == "trailing":
        return np.round(np.arange(train, 0, -train / n)).astype(np.int64) - 1
    raise ValueError(spacing)


def vp_sigmas(alpha_bars, timesteps, final="zero"):
    """σ_i = √((1 − ᾱ_τi)/ᾱ_τi) at the timesteps, then 0 (final_sigmas_type = "zero") or σ at
    timestep 0 ("sigma_min")."""
    ab = alpha_bars[timesteps]
    last = 0.0 if final == "zero" else ((1 - alpha_bars[0]) / alpha_bars[0]) ** 0.5
    return np.append(((1 - ab) / ab) ** 0.5, last)


def shifted(t, shift):
    return shift * t / (1 + (shift - 1) * t)


def flow_sigmas(n, shift, train=1000, float32=True):
    """FlowMatchEuler/HeunDiscreteScheduler: σ_min = shift(1/train) as the constructor computes it
    (float32 by default), then n values σ_i = shift(linspace(train, train·σ_min, n)_i / train)
    (shifted a second time; float64, rounded to float32 by default), then 0."""
    dtype = np.float32 if float32 else np.float64
    lowest = np.asarray(1, dtype) / np.asarray(train, dtype)
    sigma_min = float(np.asarray(shift, dtype) * lowest / (1 + (np.asarray(shift, dtype) - 1) * lowest))
    t = np.linspace(1.0 * train, sigma_min * train, n) / train
    return np.append(shifted(t, shift).astype(dtype).astype(np.float64), 0.0)


# ---------------------------------------------------------------------------------------------
# k-diffusion (t = −log σ; α = 1 on the EDM process, so λ = t)


def euler(denoise, x, sigmas):
    for i in range(len(sigmas) - 1):
        d = (x - denoise(x, sigmas[i])) / sigmas[i]
        x = x + d * (sigmas[i + 1] - sigmas[i])
    return x


def heun(denoise, x, sigmas):
    for i in range(len(sigmas) - 1):
        d = (x - denoise(x, sigmas[i])) / sigmas[i]
        dt = sigmas[i + 1] - sigmas[i]
        if sigmas[i + 1] == 0:
            x = x + d * dt
        else:
            x2 = x + d * dt
            d2 = (x2 - denoise(x2, sigmas[i + 1])) / sigmas[i + 1]
            x = x + (d + d2) / 2 * dt
    return x


def dpmpp_2m(denoise, x, sigmas):
    old = None
    for i in range(len(sigmas) - 1):
        den = denoise(x, sigmas[i])
        t, t_next = -math.log(sigmas[i]), (-math.log(sigmas[i + 1]) if sigmas[i + 1] > 0 else math.inf)
        h = t_next - t
        if old is None or sigmas[i + 1] == 0:
            x = (sigmas[i + 1] / sigmas[i]) * x - math.expm1(-h) * den
        else:
            r = (t - -math.log(sigmas[i - 1])) / h
            x = (sigmas[i + 1] / sigmas[i]) * x - math.expm1(-h) * ((1 + 1 / (2 * r)) * den - (1 / (2 * r)) * old)
        old = den
    return x


def dpmpp_3m(denoise, x, sigmas):
    """sample_dpmpp_3m_sde with η = 0."""
    den1 = den2 = h1 = h2 = None
    for i in range(len(sigmas) - 1):
        den = denoise(x, sigmas[i])
        if sigmas[i + 1] == 0:
            x = den
        else:
            h = math.log(sigmas[i]) - math.log(sigmas[i + 1])
            x = math.exp(-h) * x - math.expm1(-h) * den
            phi2 = math.expm1(-h) / h + 1
            if h2 is not None:
                r0, r1 = h1 / h, h2 / h
                d1_0, d1_1 = (den - den1) / r0, (den1 - den2) / r1
                d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1)
                d2 = (d1_0 - d1_1) / (r0 + r1)
                x = x + phi2 * d1 - (phi2 / h - 0.5) * d2
            elif h1 is not None:
                x = x + phi2 * (den - den1) / (h1 / h)
        den1, den2 = den, den1
        h1, h2 = h, h1  # at the final step h is the previous step's (k-diffusion does not recompute it)
    return x


def ancestral_step(sigma_from, sigma_to, eta=1.0):
    """(σ_down, σ_up): σ_up = min(σ_to, η·√(σ_to²(σ_from² − σ_to²)/σ_from²)), σ_down = √(σ_to² − σ_up²)."""
    up = min(sigma_to, eta * (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5)
    return (sigma_to ** 2 - up ** 2) ** 0.5, up


def euler_ancestral(denoise, x, sigmas, noise, eta=1.0):
    """noise[i] is the N(0, I) draw added in step i (σ_i → σ_{i+1} > 0)."""
    for i in range(len(sigmas) - 1):
        den = denoise(x, sigmas[i])
        down, up = ancestral_step(sigmas[i], sigmas[i + 1], eta)
        x = x + (x - den) / sigmas[i] * (down - sigmas[i])
        if sigmas[i + 1] > 0:
            x = x + noise[i] * up
    return x


def dpmpp_2s_ancestral(denoise, x, sigmas, noise, eta=1.0):
    """The second evaluation is at σ_s = e^{−s}, s the midpoint of −log σ_i and −log σ_down."""
    for i in range(len(sigmas) - 1):
        den = denoise(x, sigmas[i])
        down, up = ancestral_step(sigmas[i], sigmas[i + 1], eta)
        if down == 0:
            x = x + (x - den) / sigmas[i] * (down - sigmas[i])
        else:
            t, t_next = -math.log(sigmas[i]), -math.log(down)
            h = t_next - t
            s = t + 0.5 * h
            x2 = (math.exp(-s) / math.exp(-t)) * x - math.expm1(-0.5 * h) * den
            den2 = denoise(x2, math.exp(-s))
            x = (math.exp(-t_next) / math.exp(-t)) * x - math.expm1(-h) * den2
        if sigmas[i + 1] > 0:
            x = x + noise[i] * up
    return x


def dpmpp_2m_sde(denoise, x, sigmas, noise, solver_type="midpoint", eta=1.0):
    old = h_last = None
    for i in range(len(sigmas) - 1):
        den = denoise(x, sigmas[i])
        if sigmas[i + 1] == 0:
            x = den
        else:
            h = math.log(sigmas[i]) - math.log(sigmas[i + 1])
            eta_h = eta * h
            x = sigmas[i + 1] / sigmas[i] * math.exp(-eta_h) * x - math.expm1(-h - eta_h) * den
            if old is not None:
                r = h_last / h
                if solver_type == "heun":
                    x = x + (-math.expm1(-h - eta_h) / (-h - eta_h) + 1) * (1 / r) * (den - old)
                else:
                    x = x + 0.5 * -math.expm1(-h - eta_h) * (1 / r) * (den - old)
            if eta:
                x = x + noise[i] * sigmas[i + 1] * math.sqrt(-math.expm1(-2 * eta_h))
            h_last = h
        old = den
    return x


# ---------------------------------------------------------------------------------------------
# diffusers on the DDPM chain (σ = √((1 − ᾱ)/ᾱ), α_t = 1/√(σ² + 1), s_t = σ·α_t, λ = log α_t − log s_t;
# σ = 0 gives α = 1, s = 0, λ = +∞ and the step returns the data prediction)


def vp_coefficients(sigma):
    alpha = 1 / math.sqrt(sigma * sigma + 1)
    s = sigma * alpha
    return alpha, s, (math.log(alpha) - math.log(s) if s > 0 else math.inf)


def dpmsolver_multistep(epsilon, x, sigmas, order=2, lower_order_final=True, final_zero=True):
    """DPMSolverMultistepScheduler, algorithm_type dpmsolver++, solver_type midpoint, orders 1–2.
    epsilon(x, i) is the model at the i-th timestep."""
    n = len(sigmas) - 1
    previous = None
    for i in range(n):
        alpha_s, s_s, lambda_s = vp_coefficients(sigmas[i])
        m = (x - s_s * epsilon(x, i)) / alpha_s
        alpha_t, s_t, lambda_t = vp_coefficients(sigmas[i + 1])
        h = lambda_t - lambda_s
        last = i == n - 1 and ((lower_order_final and n < 15) or final_zero)
        if sigmas[i + 1] == 0:
            x_next = m  # (s_t/s_s)·x − α_t(e^{−∞} − 1)·m with s_t = 0, α_t = 1
        elif order == 1 or previous is None or last:
            x_next = (s_t / s_s) * x - (alpha_t * math.expm1(-h)) * m
        else:
            r0 = (lambda_s - vp_coefficients(sigmas[i - 1])[2]) / h
            d1 = (1.0 / r0) * (m - previous)
            x_next = (s_t / s_s) * x - (alpha_t * math.expm1(-h)) * m - 0.5 * (alpha_t * math.expm1(-h)) * d1
        previous, x = m, x_next
    return x


def unipc_coefficients(rks, hh, order, variant):
    """R (order × order, row k = r^k) and b (b_k = (k+1)!·φ_{k+1}(hh)/B(h)) of UniPC, hh = −h."""
    h_phi_1 = math.expm1(hh)
    h_phi_k = h_phi_1 / hh - 1
    b_h = hh if variant == "bh1" else math.expm1(hh)
    R, b, factorial = [], [], 1
    for k in range(1, order + 1):
        R.append(np.power(rks, k - 1))
        b.append(h_phi_k * factorial / b_h)
        factorial *= k + 1
        h_phi_k = h_phi_k / hh - 1 / factorial
    return np.array(R), np.array(b), h_phi_1, b_h


def unipc(epsilon, x, sigmas, order=2, variant="bh2", corrector=True, lower_order_final=True):
    """UniPCMultistepScheduler with predict_x0 = True (data prediction, UniPC's default), solver_type
    bh1|bh2, the UniC corrector on every step but the first (disable_corrector = [])."""
    n = len(sigmas) - 1
    coeff = [vp_coefficients(s) for s in sigmas]  # (α, s, λ) per grid point
    models, last_sample, previous_order, warm = [], None, None, 0
    for i in range(n):
        m = (x - coeff[i][1] * epsilon(x, i)) / coeff[i][0]
        if corrector and i > 0:
            x = unipc_step(last_sample, models, coeff, i - 1, i, previous_order, variant, model_t=m)
        models = (models + [m])[-order:]
        this_order = min(order, n - i) if lower_order_final else order
        this_order = min(this_order, warm + 1)
        last_sample = x
        x = unipc_step(x, models, coeff, i, i + 1, this_order, variant)
        previous_order = this_order
        warm = min(warm + 1, order)
    return x


def unipc_step(x, models, coeff, s0, t, order, variant, model_t=None):
    """From grid point s0 (model models[-1] = m0 there; models[-1 − k] at grid point s0 − k) to grid
    point t. Predictor (model_t None): x_t = (s_t/s_s0)x − α_t h φ₁ m0 − α_t B(h) Σ ρ_k D_k, ρ = ½ for
    order 2, R[:−1,:−1]⁻¹b[:−1] above. Corrector: the same with Σ over the order − 1 older points and
    ρ_last·(model_t − m0), ρ = R⁻¹b (½ for order 1)."""
    alpha_t, s_t, lambda_t = coeff[t]
    alpha_s0, s_s0, lambda_s0 = coeff[s0]
    m0 = models[-1]
    if s_t == 0:
        return m0  # σ = 0: the order-1 step (lower_order_final) returns the data prediction
    h = lambda_t - lambda_s0
    rks, d1s = [], []
    for k in range(1, order):
        rk = (coeff[s0 - k][2] - lambda_s0) / h
        rks.append(rk)
        d1s.append((models[-1 - k] - m0) / rk)
    rks.append(1.0)
    R, b, h_phi_1, b_h = unipc_coefficients(np.array(rks), -h, order, variant)
    x_t = s_t / s_s0 * x - alpha_t * h_phi_1 * m0
    if model_t is None:
        if not d1s:
            return x_t
        rhos = np.array([0.5]) if order == 2 else np.linalg.solve(R[:-1, :-1], b[:-1])
        return x_t - alpha_t * b_h * sum(r * d for r, d in zip(rhos, d1s))
    rhos = np.array([0.5]) if order == 1 else np.linalg.solve(R, b)
    correction = sum((r * d for r, d in zip(rhos[:-1], d1s)), np.zeros_like(x)) + rhos[-1] * (model_t - m0)
    return x_t - alpha_t * b_h * correction


def ddim(epsilon, x, timesteps, alpha_bars, n, train=1000):
    """DDIMScheduler, η = 0, clip_sample = False, set_alpha_to_one = True: from timestep τ to
    τ − train // n (not to the next timestep in the list), ᾱ = 1 below 0."""
    for i, tau in enumerate(timesteps):
        previous = tau - train // n
        ab, ab_prev = alpha_bars[tau], (alpha_bars[previous] if previous >= 0 else 1.0)
        eps = epsilon(x, i)
        x0 = (x - (1 - ab) ** 0.5 * eps) / ab ** 0.5
        x = ab_prev ** 0.5 * x0 + (1 - ab_prev) ** 0.5 * eps
    return x


def flow_euler(velocity, x, sigmas):
    for i in range(len(sigmas) - 1):
        x = x + (sigmas[i + 1] - sigmas[i]) * velocity(x, sigmas[i])
    return x


def flow_heun(velocity, x, sigmas):
    """The corrector evaluates at the Euler point and σ_{i+1}; the last step (to σ = 0) is Euler only."""
    for i in range(len(sigmas) - 1):
        v = velocity(x, sigmas[i])
        dt = sigmas[i + 1] - sigmas[i]
        if sigmas[i + 1] == 0:
            x = x + dt * v
        else:
            x2 = x + dt * v
            x = x + dt * 0.5 * (v + velocity(x2, sigmas[i + 1]))
    return x


# ---------------------------------------------------------------------------------------------
# Checking the committed fixtures (numpy only)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "SamplersTests",
                        "Fixtures", "parity")
EDM_FUNCTIONS = {
    "sample_euler": lambda d, x, s, z, o: euler(d, x, s),
    "sample_heun": lambda d, x, s, z, o: heun(d, x, s),
    "sample_dpmpp_2m": lambda d, x, s, z, o: dpmpp_2m(d, x, s),
    "sample_dpmpp_3m_sde": lambda d, x, s, z, o: dpmpp_3m(d, x, s),
    "sample_euler_ancestral": lambda d, x, s, z, o: euler_ancestral(d, x, s, z, o["eta"]),
    "sample_dpmpp_2s_ancestral": lambda d, x, s, z, o: dpmpp_2s_ancestral(d, x, s, z, o["eta"]),
    "sample_dpmpp_2m_sde": lambda d, x, s, z, o: dpmpp_2m_sde(d, x, s, z, o["solver_type"], o["eta"]),
}


def reproduce(family, case, initial, noise):
    """parity_numpy's output for one fixture case, from the case's own settings."""
    x, options, n = np.array(initial), case["options"], case["steps"]
    if family == "edm":
        sigmas = karras_sigmas(n)
        assert sigmas.tolist() == case["sigmas"], case["name"]
        z = np.array(noise[case["noise"]]) if case["noise"] else None
        return EDM_FUNCTIONS[case["reference"].split(".")[-1]](edm_denoiser, x, sigmas, z, options)
    if family == "flow":
        sigmas = flow_sigmas(n, options["shift"], float32=False)
        assert sigmas.tolist() == case["sigmas_float64"], case["name"]
        return (flow_euler if case["reference"].endswith("EulerDiscreteScheduler") else flow_heun)(flow_velocity, x, sigmas)
    alpha_bars = ddpm_alpha_bars()
    ddim_case = case["reference"].endswith("DDIMScheduler")
    timesteps = (ddim_timesteps if ddim_case else multistep_timesteps)(options["timestep_spacing"], n)
    assert timesteps.tolist() == case["timesteps"], case["name"]

    def epsilon(x, i):
        return ddpm_epsilon(x, alpha_bars[timesteps[i]])
    if ddim_case:
        return ddim(epsilon, x, timesteps, alpha_bars, n)
    sigmas = vp_sigmas(alpha_bars, timesteps, options["final_sigmas_type"])
    if case["reference"].endswith("DPMSolverMultistepScheduler"):
        return dpmsolver_multistep(epsilon, x, sigmas, order=options["solver_order"])
    return unipc(epsilon, x, sigmas, order=options["solver_order"], variant=options["solver_type"])


def check_fixtures(tolerance=1e-12):
    worst = 0.0
    for family in ["edm", "ddpm", "flow"]:
        with open(os.path.join(FIXTURES, f"{family}.json")) as f:
            fixture = json.load(f)
        for case in fixture["cases"]:
            reference = np.array(case["output_float64"] if "output_float64" in case else case["output"])
            mine = reproduce(family, case, fixture["initial"], fixture.get("noise"))
            error = float((np.linalg.norm(mine - reference, axis=1) / np.linalg.norm(reference, axis=1)).max())
            print(f"{case['name']:42s} {error:.1e}")
            if not error <= tolerance:
                raise SystemExit(f"{case['name']}: numpy is {error:.1e} from the fixture (> {tolerance:.0e})")
            worst = max(worst, error)
    print(f"all cases within {worst:.1e} of the fixtures (float64 references)")


if __name__ == "__main__":
    check_fixtures()
