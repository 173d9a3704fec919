"""W1 and W3 in JAX, jit-compiled, float64, CPU (compile time excluded: one warm-up run)."""
import math
import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import reference as ref  # noqa: E402

jax.config.update("jax_enable_x64", True)


def score(x, a, centres_unit, std):
    v = a * a * std * std + (1 - a * a)
    centres = a * centres_unit
    d2 = (x * x).sum(1, keepdims=True) - 2 * x @ centres.T + (centres * centres).sum(1)[None, :]
    r = jax.nn.softmax(-d2 / (2 * v), axis=1)
    return (r @ centres - x) / v


def reverse_em(target, n, steps=1000, seed=0):
    means, std = ref.target(target)
    mu = jnp.asarray(means)
    times, h = ref.grid(steps)
    ts = jnp.asarray(times[:-1])
    d = means.shape[1]

    @jax.jit
    def run(key):
        key, first = jax.random.split(key)
        x = jax.random.normal(first, (n, d))

        def body(i, state):
            x, key = state
            key, sub = jax.random.split(key)
            t = ts[i]
            b = ref.BETA_MIN + t * (ref.BETA_MAX - ref.BETA_MIN)
            a = jnp.exp(-0.25 * t * t * (ref.BETA_MAX - ref.BETA_MIN) - 0.5 * t * ref.BETA_MIN)
            x = x - h * (-0.5 * b * x - b * score(x, a, mu, std)) + jnp.sqrt(b * h) * jax.random.normal(sub, x.shape)
            return x, key

        return jax.lax.fori_loop(0, steps, body, (x, key))[0]

    run(jax.random.PRNGKey(seed + 1)).block_until_ready()
    x, seconds = ref.timed(lambda: run(jax.random.PRNGKey(seed)).block_until_ready())
    ref.report("jax", "W1" if target == "gmm2d8" else "W3", seconds, samples=n, steps=steps, nfe=steps,
               extra=ref.metrics(np.asarray(x), means, std))


def network(n=10_000, repeats=20):
    """W5: one evaluation of the REFERENCE MLP (2 + 32 → 128 → 128 → 128 → 2, SiLU), float32, jit."""
    widths = [34, 128, 128, 128, 2]
    keys = jax.random.split(jax.random.PRNGKey(0), 2 * len(widths))
    params = [(jax.random.normal(keys[2 * i], (b, a), dtype=jnp.float32) / np.sqrt(a),
               jnp.zeros(b, dtype=jnp.float32)) for i, (a, b) in enumerate(zip(widths, widths[1:]))]
    x = jax.random.normal(keys[-1], (n, 34), dtype=jnp.float32)

    @jax.jit
    def evaluate(x):
        h = x
        for i, (w, b) in enumerate(params):
            h = h @ w.T + b
            if i < len(params) - 1:
                h = jax.nn.silu(h)
        return h

    evaluate(x).block_until_ready()
    _, seconds = ref.timed(lambda: [evaluate(x).block_until_ready() for _ in range(repeats)])
    ref.report("jax", "W5", seconds / repeats, extra={"ns_per_row": seconds / repeats / n * 1e9})


if __name__ == "__main__":
    workload, n = ref.arguments()
    if workload == "W5":
        network(n or 10_000)
    elif workload == "W1":
        reverse_em("gmm2d8", n or 100_000)
    elif workload == "W3":
        reverse_em("gmm64d16", n or 10_000)
    else:
        raise SystemExit(f"jax peer: no {workload}")
