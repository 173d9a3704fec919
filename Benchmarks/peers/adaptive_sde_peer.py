"""W8: adaptive SDE solves with diffrax (float64, CPU, one thread, compile time excluded), each path
its own solve (vmapped, so each path chooses its own steps) on its own VirtualBrownianTree with
space-time Lévy area, PID step-size control (diffrax's advice for SDEs: pcoeff 0.1, icoeff 0.3),
rtol = atol swept so that a table can pick the runs with strong error ≈ 1e-3 and 1e-4:

- geometric Brownian motion (REFERENCE W4: dX = μX dt + σX dW, Itô, μ = 1.01, σ = 0.87, X₀ = 0.5,
  T = 1), solved in its Stratonovich form dX = (μ − σ²/2)X dt + σX∘dW with SPaRK and Heun (diffrax's
  adaptive SDE solvers); the error is against the exact X_T = X₀exp((μ − σ²/2)T + σW_T) on the
  same Brownian path;
- the double well dX = (X − X³)dt + 0.5 dW, X₀ = 0.5, T = 1 (SDEKit's `double-well`, additive noise,
  Itô = Stratonovich), SPaRK and Heun; no closed form, so the error is against ShARK (strong order
  1.5 for additive noise) with 2¹⁰ fixed steps on the same tree (1.6e-6 from 2¹³ steps over 100
  paths, far below the errors measured).

Strong error: mean over paths of |X_T − reference|. Reported per run: evaluations per path (drift
and diffusion evaluated together; SPaRK 3 per step, Heun 2, rejected steps included), mean and
largest steps per path, and ns per path. Under vmap every path waits for the one needing most
steps (steps_max), and each step queries the tree (2¹⁸ resolution) from the root: on this machine
one path-step costs 10–40 µs, so the tight tolerances take minutes per run at 10,000 paths; runs
slower than a minute are timed once instead of the best of three. The whole sweep took 17 min at
1,000 paths (load average 7 from other sessions); 10,000 paths, REFERENCE's size, takes hours.

Usage: adaptive_sde_peer.py W8 [paths]   (prints one JSON line per run)"""
import os
import sys

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
import diffrax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import reference as ref  # noqa: E402

jax.config.update("jax_enable_x64", True)

MU, SIGMA, X0_GBM = 1.01, 0.87, 0.5
WELL_SIGMA, X0_WELL = 0.5, 0.5
T = 1.0
# The tree resolves the path to 2⁻¹⁸, below every step the solves take.
TREE_TOLERANCE = 2.0 ** -18
# rtol = atol per (problem, solver): the ones around strong errors 1e-3 and 1e-4 (measured on 100
# paths: GBM Heun 1e-3 → 5e-4, 1e-4 → 5e-5, SPaRK 1e-5 → 1.5e-3; double well SPaRK 1e-3 → 9e-4,
# 1e-4 → 2.4e-4, Heun 1e-4 → 1.1e-3).
TOLERANCES = {("gbm", "SPaRK"): [1e-3, 1e-4, 1e-5], ("gbm", "Heun"): [3e-3, 1e-3, 3e-4, 1e-4],
              ("double-well", "SPaRK"): [1e-3, 1e-4, 3e-5, 1e-5], ("double-well", "Heun"): [1e-4, 3e-5, 1e-5]}
EVALUATIONS_PER_STEP = {"SPaRK": 3, "Heun": 2}
REFERENCE_STEPS = 2 ** 10

PROBLEMS = {
    "gbm": (lambda t, y, args: (MU - 0.5 * SIGMA * SIGMA) * y, lambda t, y, args: SIGMA * y, X0_GBM),
    "double-well": (lambda t, y, args: y - y ** 3, lambda t, y, args: WELL_SIGMA * jnp.ones_like(y), X0_WELL),
}


def brownian(key):
    return diffrax.VirtualBrownianTree(0.0, T, tol=TREE_TOLERANCE, shape=(), key=key,
                                       levy_area=diffrax.SpaceTimeLevyArea)


def one_path(problem, solver, controller, dt0, key):
    drift, diffusion, x0 = PROBLEMS[problem]
    bm = brownian(key)
    terms = diffrax.MultiTerm(diffrax.ODETerm(drift), diffrax.ControlTerm(diffusion, bm))
    solution = diffrax.diffeqsolve(terms, solver, 0.0, T, dt0, jnp.asarray(x0), stepsize_controller=controller,
                                   max_steps=2 ** 18, saveat=diffrax.SaveAt(t1=True))
    return solution.ys[-1], solution.stats["num_steps"], bm.evaluate(0.0, T)


def reference_values(problem, keys):
    """Exact X_T for GBM; ShARK with 2¹⁰ steps on the same tree for the double well."""
    if problem == "gbm":
        w = jax.jit(jax.vmap(lambda key: brownian(key).evaluate(0.0, T)))(keys)
        return np.asarray(X0_GBM * jnp.exp((MU - 0.5 * SIGMA * SIGMA) * T + SIGMA * w))
    run = jax.jit(jax.vmap(lambda key: one_path(problem, diffrax.ShARK(), diffrax.ConstantStepSize(),
                                                T / REFERENCE_STEPS, key)[0]))
    return np.asarray(run(keys))


def adaptive(paths=10_000, seed=0):
    keys = jax.random.split(jax.random.PRNGKey(seed), paths)
    for problem in PROBLEMS:
        reference = reference_values(problem, keys)
        for name, solver in [("SPaRK", diffrax.SPaRK()), ("Heun", diffrax.Heun())]:
            for tolerance in TOLERANCES[problem, name]:
                controller = diffrax.PIDController(rtol=tolerance, atol=tolerance, pcoeff=0.1, icoeff=0.3)
                run = jax.jit(jax.vmap(lambda key: one_path(problem, solver, controller, 2.0 ** -6, key)))
                run = run.lower(keys).compile()
                print(f"running {problem} {name} tolerance {tolerance:g} …", file=sys.stderr, flush=True)
                (x, steps, _), seconds = ref.timed(lambda: jax.block_until_ready(run(keys)), repeats=1)
                if seconds < 60:
                    (x, steps, _), seconds = ref.timed(lambda: jax.block_until_ready(run(keys)))
                steps = np.asarray(steps)
                evaluations = float(steps.mean()) * EVALUATIONS_PER_STEP[name]
                ref.report("diffrax", "W8", seconds, nfe=evaluations,
                           extra={"problem": problem, "solver": name, "tolerance": tolerance, "paths": paths,
                                  "strong_error": float(np.abs(np.asarray(x) - reference).mean()),
                                  "steps_mean": float(steps.mean()), "steps_max": int(steps.max()),
                                  "ns_per_path": seconds / paths * 1e9})


if __name__ == "__main__":
    workload, n = ref.arguments()
    if workload != "W8":
        raise SystemExit(f"adaptive SDE peer: no {workload}")
    adaptive(n or 10_000)
