"""W7: log-likelihood of 10,000 exact gmm2d8 samples by the probability-flow ODE of the VP SDE
(shared/REFERENCE.md), rtol = atol = 1e-5 from ε = 1e-3 to T = 1, the whole batch as one system:

- SciPy RK45 as score_sde does it (`likelihood.py`: the state [x, Δ] flattened into one vector,
  dΔ/dt = the divergence of the drift, estimated with one Rademacher probe per sample drawn once for
  the whole solve), the probe's Jacobian-vector product written out in numpy since the Hessian of
  the mixture's log-density has a closed form; and the same solve with the exact trace;
- diffrax Dopri5 with a PID controller and the exact trace from jax.jacfwd, vmapped over samples.

log p_ε(x) = log p_T(z) + Δ(T), z = x(T). The error is against the closed form p_ε (components
N(a(ε)μ_k, (a(ε)²s² + s(ε)²)I)), with the exact p_T as the prior so that it measures the solver and
the estimator; score_sde's N(0, I) prior would add the `prior_gap` reported beside it (about
1e-4 nats). Timing: fastest of three runs, compile time excluded (JAX).

Usage: likelihood_peer.py W7 [samples]   (prints one JSON line per run)"""
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
import diffrax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

import reference as ref  # noqa: E402

jax.config.update("jax_enable_x64", True)
TOLERANCE = 1e-5


def mixture_log_density(x, t, means, std):
    """log p_t(x) of the VP marginal of an equal-weight isotropic mixture."""
    a = ref.mean_coefficient(t)
    v = a * a * std * std + 1 - a * a
    d2 = ((x[:, None, :] - a * means[None]) ** 2).sum(2)
    logits = -d2 / (2 * v)
    top = logits.max(1, keepdims=True)
    d = x.shape[1]
    return (top[:, 0] + np.log(np.exp(logits - top).mean(1)) - 0.5 * d * np.log(2 * np.pi * v))


def score_terms(x, t, means, std):
    """(score, u_k = (aμ_k − x)/v, responsibilities, v) at time t."""
    a = ref.mean_coefficient(t)
    v = a * a * std * std + 1 - a * a
    u = (a * means[None] - x[:, None, :]) / v
    logits = -(u * u).sum(2) * v / 2
    logits -= logits.max(1, keepdims=True)
    r = np.exp(logits)
    r /= r.sum(1, keepdims=True)
    return (r[:, :, None] * u).sum(1), u, r, v


def drift_and_divergence(x, t, means, std, probe=None):
    """The PF-ODE drift f = −½β(x + score) and its divergence: exact (probe None) or the
    Hutchinson estimate εᵀ(∂f/∂x)ε, with ∇²log p = Σ r_k(u_k u_kᵀ − I/v) − score scoreᵀ."""
    b = ref.beta(t)
    score, u, r, v = score_terms(x, t, means, std)
    drift = -0.5 * b * (x + score)
    if probe is None:
        trace = -x.shape[1] / v + (r * (u * u).sum(2)).sum(1) - (score * score).sum(1)
        return drift, -0.5 * b * (x.shape[1] + trace)
    projections = (u * probe[:, None, :]).sum(2)
    hessian_probe = -probe / v + (r[:, :, None] * u * projections[:, :, None]).sum(1) - score * (score * probe).sum(1, keepdims=True)
    return drift, -0.5 * b * ((probe * probe).sum(1) + (probe * hessian_probe).sum(1))


def errors(estimate, exact):
    e = estimate - exact
    return {"mean_abs_error": float(np.abs(e).mean()), "rms_error": float(np.sqrt((e * e).mean())),
            "bias": float(e.mean()), "max_abs_error": float(np.abs(e).max())}


def samples(n, seed=0):
    means, std = ref.target("gmm2d8")
    return ref.exact_samples(means, std, n, np.random.default_rng(seed)), means, std


def scipy_likelihood(n=10_000, divergence="hutchinson", seed=0):
    x0, means, std = samples(n, seed)
    probe = np.random.default_rng(seed + 1).choice([-1.0, 1.0], size=x0.shape) if divergence == "hutchinson" else None
    evaluations = [0]

    def field(t, state):
        evaluations[0] += 1
        drift, div = drift_and_divergence(state[:2 * n].reshape(n, 2), t, means, std, probe)
        return np.concatenate([drift.ravel(), div])

    def solve():
        evaluations[0] = 0
        return solve_ivp(field, (ref.EPS, ref.T), np.concatenate([x0.ravel(), np.zeros(n)]), method="RK45",
                         rtol=TOLERANCE, atol=TOLERANCE)

    solution, seconds = ref.timed(solve)
    end = solution.y[:, -1]
    z, delta = end[:2 * n].reshape(n, 2), end[2 * n:]
    exact = mixture_log_density(x0, ref.EPS, means, std)
    estimate = mixture_log_density(z, ref.T, means, std) + delta
    gaussian_prior = -0.5 * (z * z).sum(1) - np.log(2 * np.pi)
    nfe = evaluations[0]
    ref.report("scipy", "W7", seconds, nfe=nfe,
               extra={"solver": f"RK45 {divergence}", "ns_per_sample_evaluation": seconds / (n * nfe) * 1e9,
                      "prior_gap": float(np.abs(gaussian_prior - mixture_log_density(z, ref.T, means, std)).mean()),
                      **errors(estimate, exact)})


def diffrax_likelihood(n=10_000, seed=0):
    x0_np, means, std = samples(n, seed)
    mu = jnp.asarray(means)

    def drift(t, x):
        b = ref.BETA_MIN + t * (ref.BETA_MAX - ref.BETA_MIN)
        a = jnp.exp(-0.25 * t * t * (ref.BETA_MAX - ref.BETA_MIN) - 0.5 * t * ref.BETA_MIN)
        v = a * a * std * std + 1 - a * a
        centres = a * mu
        d2 = (x * x).sum(-1, keepdims=True) - 2 * x @ centres.T + (centres * centres).sum(-1)
        r = jax.nn.softmax(-d2 / (2 * v), axis=-1)
        return -0.5 * b * (x + (r @ centres - x) / v)

    def field(t, state, args):
        x, _ = state
        jacobians = jax.vmap(jax.jacfwd(lambda row: drift(t, row[None, :])[0]))(x)
        return drift(t, x), jnp.trace(jacobians, axis1=1, axis2=2)

    def solve():
        return diffrax.diffeqsolve(diffrax.ODETerm(field), diffrax.Dopri5(), ref.EPS, ref.T, None,
                                   (jnp.asarray(x0_np), jnp.zeros(n)),
                                   stepsize_controller=diffrax.PIDController(rtol=TOLERANCE, atol=TOLERANCE),
                                   max_steps=100_000)

    run = jax.jit(solve)
    jax.block_until_ready(run())
    solution, seconds = ref.timed(lambda: jax.block_until_ready(run()))
    z, delta = (np.asarray(part[-1]) for part in solution.ys)
    nfe = int(solution.stats["num_steps"]) * 6 + 1  # Dopri5: six new evaluations per step (FSAL)
    exact = mixture_log_density(x0_np, ref.EPS, means, std)
    estimate = mixture_log_density(z, ref.T, means, std) + delta
    ref.report("diffrax", "W7", seconds, nfe=nfe,
               extra={"solver": "Dopri5 exact trace (jacfwd)", "ns_per_sample_evaluation": seconds / (n * nfe) * 1e9,
                      "steps": int(solution.stats["num_steps"]), "rejected": int(solution.stats["num_rejected_steps"]),
                      **errors(estimate, exact)})


if __name__ == "__main__":
    workload, n = ref.arguments()
    if workload != "W7":
        raise SystemExit(f"likelihood peer: no {workload}")
    scipy_likelihood(n or 10_000, "hutchinson")
    scipy_likelihood(n or 10_000, "exact")
    diffrax_likelihood(n or 10_000)
