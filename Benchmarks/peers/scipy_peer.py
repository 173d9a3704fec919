"""W2 with SciPy: the probability-flow ODE of the VP SDE for gmm2d8, the whole batch as one
system (as score_sde does), RK45 at rtol = atol = 1e-5 from T to ε. The achieved error is
measured against DOP853 at 1e-12 from the same prior samples."""
import numpy as np
from scipy.integrate import solve_ivp

import reference as ref


def probability_flow(n=10_000, seed=0):
    means, std = ref.target("gmm2d8")
    x0 = np.random.default_rng(seed).standard_normal((n, 2))
    evaluations = [0]

    def field(t, y):
        evaluations[0] += 1
        x = y.reshape(n, 2)
        b = ref.beta(t)
        return (-0.5 * b * x - 0.5 * b * ref.exact_score(x, t, means, std)).ravel()

    def solve():
        evaluations[0] = 0
        return solve_ivp(field, (ref.T, ref.EPS), x0.ravel(), method="RK45", rtol=1e-5, atol=1e-5)

    solution, seconds = ref.timed(solve)
    nfe = evaluations[0]
    tight = solve_ivp(field, (ref.T, ref.EPS), x0.ravel(), method="DOP853", rtol=1e-12, atol=1e-12)
    x = solution.y[:, -1].reshape(n, 2)
    error = float(np.sqrt(((x - tight.y[:, -1].reshape(n, 2)) ** 2).sum(1).mean()))
    ref.report("scipy", "W2", seconds, nfe=nfe,
               extra={"solver": "RK45", "ns_per_sample_evaluation": seconds / (n * nfe) * 1e9,
                      "error_vs_tight": error, **ref.metrics(x, means, std)})


if __name__ == "__main__":
    workload, n = ref.arguments()
    if workload != "W2":
        raise SystemExit(f"scipy peer: no {workload}")
    probability_flow(n or 10_000)
