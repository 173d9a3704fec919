"""W1 and W2 with diffrax (float64, CPU, compile time excluded): the reverse VP SDE with its
Euler (Euler–Maruyama) solver on an UnsafeBrownianPath, and the probability-flow ODE with Dopri5
and a PID controller at rtol = atol = 1e-5, the whole batch as one system."""
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
import diffrax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import reference as ref  # noqa: E402
from jax_peer import score  # noqa: E402

jax.config.update("jax_enable_x64", True)


def coefficients(t):
    b = ref.BETA_MIN + t * (ref.BETA_MAX - ref.BETA_MIN)
    a = jnp.exp(-0.25 * t * t * (ref.BETA_MAX - ref.BETA_MIN) - 0.5 * t * ref.BETA_MIN)
    return b, a


def reverse_em(n, steps=1000, seed=0):
    means, std = ref.target("gmm2d8")
    mu = jnp.asarray(means)
    _, h = ref.grid(steps)

    def drift(t, x, args):
        b, a = coefficients(t)
        return -0.5 * b * x - b * score(x, a, mu, std)

    def diffusion(t, x, args):
        b, _ = coefficients(t)
        return jnp.sqrt(b) * jnp.ones_like(x)

    @jax.jit
    def run(key):
        k1, k2 = jax.random.split(key)
        x0 = jax.random.normal(k1, (n, 2))
        bm = diffrax.UnsafeBrownianPath(shape=(n, 2), key=k2)
        terms = diffrax.MultiTerm(diffrax.ODETerm(drift), diffrax.WeaklyDiagonalControlTerm(diffusion, bm)
                                  if hasattr(diffrax, "WeaklyDiagonalControlTerm") else
                                  diffrax.ControlTerm(lambda t, x, args: jax.vmap(jnp.diag)(diffusion(t, x, args)), bm))
        return diffrax.diffeqsolve(terms, diffrax.Euler(), ref.T, ref.EPS, -h, x0, max_steps=steps + 2,
                                    adjoint=diffrax.DirectAdjoint()).ys[-1]

    run(jax.random.PRNGKey(seed + 1)).block_until_ready()
    x, seconds = ref.timed(lambda: run(jax.random.PRNGKey(seed)).block_until_ready())
    ref.report("diffrax", "W1", seconds, samples=n, steps=steps, nfe=steps, extra=ref.metrics(np.asarray(x), means, std))


def probability_flow(n, seed=0):
    means, std = ref.target("gmm2d8")
    mu = jnp.asarray(means)
    x0 = jnp.asarray(np.random.default_rng(seed).standard_normal((n, 2)))

    def field(t, x, args):
        b, a = coefficients(t)
        return -0.5 * b * x - 0.5 * b * score(x, a, mu, std)

    def solve(rtol):
        return diffrax.diffeqsolve(diffrax.ODETerm(field), diffrax.Dopri5(), ref.T, ref.EPS, None, x0,
                                   stepsize_controller=diffrax.PIDController(rtol=rtol, atol=rtol), max_steps=100_000)

    run = jax.jit(lambda: solve(1e-5))
    run().ys.block_until_ready()
    solution, seconds = ref.timed(lambda: jax.block_until_ready(run()))
    nfe = int(solution.stats["num_steps"]) * 6 + 1  # Dopri5: six new evaluations per step (FSAL)
    tight = jax.jit(lambda: solve(1e-12))().ys[-1]
    x = np.asarray(solution.ys[-1])
    error = float(np.sqrt(((x - np.asarray(tight)) ** 2).sum(1).mean()))
    ref.report("diffrax", "W2", seconds, nfe=nfe,
               extra={"solver": "Dopri5", "ns_per_sample_evaluation": seconds / (n * nfe) * 1e9,
                      "error_vs_tight": error, **ref.metrics(x, means, std)})


if __name__ == "__main__":
    workload, n = ref.arguments()
    if workload == "W1":
        reverse_em(n or 100_000)
    elif workload == "W2":
        probability_flow(n or 10_000)
    else:
        raise SystemExit(f"diffrax peer: no {workload}")
